"""Prometheus metrics of every daemon, checked with Prometheus's own promtool (Debian
package prometheus): the text passes `promtool check metrics` (every family has HELP and
TYPE), the named families exist, and they move with the work done.

gatewayd serves /metrics and /healthz on its API listener; senderd serves them on
[senderd] metrics_listen, an address of its own (common/metrics.c).
"""

import re
import shutil
import subprocess

import pytest
import requests

from api_helpers import api, world, msg  # noqa: F401 (fixtures)
from api_helpers import metric as sample
from conftest import free_port
from test_senderd import SenderWorld, tg  # noqa: F401 (the fake Telegram fixture)


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: install the Debian package prometheus"
                    " (scripts/deps.sh test)", pytrace=False)
    return path


def check_metrics(text):
    """promtool check metrics on text: fails the test with promtool's complaints."""
    r = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, f"promtool check metrics:\n{r.stdout}{r.stderr}\n---\n{text}"


def families(text):
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def test_gatewayd_metrics_pass_promtool(world, api):
    bot = api.new_bot()
    api.send_ok(msg(bot_id=bot["id"], text="hello"))
    t = requests.get(world.base + "/metrics", timeout=10).text
    check_metrics(t)
    assert {"tgm_gatewayd_http_requests_total", "tgm_gatewayd_accept_seconds",
            "tgm_gatewayd_messages_accepted_total", "tgm_queue_depth"} <= families(t)
    assert sample(t, "tgm_gatewayd_messages_accepted_total") == 1


def test_senderd_metrics_and_healthz_on_their_own_address(tgm_env, tg):
    sw = SenderWorld(tgm_env, tg)
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = sw.new_bot()
        sw.senderd(metrics_listen=f"127.0.0.1:{port}")
        r = requests.get(base + "/healthz", timeout=10)
        assert r.status_code == 200 and r.json()["database"] == "ok"
        before = requests.get(base + "/metrics", timeout=10)
        assert before.headers["Content-Type"].startswith("text/plain")
        check_metrics(before.text)
        assert {"tgm_senderd_sends_total", "tgm_senderd_telegram_429_total",
                "tgm_senderd_lanes", "tgm_senderd_inflight",
                "tgm_senderd_round_trip_probes_total",
                "tgm_senderd_callbacks_inflight"} <= families(before.text)
        sent = sample(before.text, "tgm_senderd_sends_total", outcome="sent")

        ids = sw.add(bot, [3101, 3102])
        sw.wait_status(ids, ("sent",), timeout=20)
        after = requests.get(base + "/metrics", timeout=10).text
        check_metrics(after)
        assert sample(after, "tgm_senderd_sends_total", outcome="sent") == sent + 2
        assert sample(after, "tgm_senderd_lanes") >= 1
        # the round trip the lanes' caps are sized by: not known before the first sends
        # (flight.c), then a fake's on this machine
        assert "tgm_senderd_round_trip_base_seconds" not in families(before.text)
        assert 0 <= sample(after, "tgm_senderd_round_trip_base_seconds") < 1
        # the listener counts its own requests too
        assert sample(after, "tgm_senderd_metrics_http_requests_total", route="/metrics",
                      code="2xx") >= 1
        r = requests.get(base + "/nope", timeout=10)
        assert r.status_code == 404
        assert r.headers["Content-Type"] == "application/problem+json"
    finally:
        sw.stop_all()


def test_webhookd_and_billingd_metrics_on_their_own_addresses(tgm_env, tg):
    """webhookd's updates by route and answer (here an update for an unknown bot, a 4xx)
    and billingd's Stripe calls, lanes and calls in flight, each on metrics_listen."""
    wport, bport = free_port(), free_port()
    conf = tgm_env.write_config({
        ("telegram", "api_url"): tg.url, ("telegram", "timeout"): "5",
        ("webhookd", "public_url"): "https://tgm.example.org/hooks",
        ("webhookd", "metrics_listen"): f"127.0.0.1:{wport}",
        ("billingd", "metrics_listen"): f"127.0.0.1:{bport}"}, name="metrics.conf")
    tgm_env.daemon("webhookd", conf=conf)
    tgm_env.daemon("billingd", conf=conf)
    wbase, bbase = f"http://127.0.0.1:{wport}", f"http://127.0.0.1:{bport}"
    for base in (wbase, bbase):
        r = requests.get(base + "/healthz", timeout=10)
        assert r.status_code == 200 and r.json()["database"] == "ok"

    total = "tgm_webhookd_http_requests_total"
    before = requests.get(wbase + "/metrics", timeout=10).text
    check_metrics(before)
    assert {total, "tgm_webhookd_bots", "tgm_webhookd_polls", "tgm_webhookd_inflight",
            "tgm_webhookd_processing"} <= families(before)
    refused = sample(before, total, route="/telegram/{bot_id}", code="4xx")
    r = requests.post(f"{tgm_env.http('webhookd')}/telegram/999999",
                      json={"update_id": 1, "message": {"text": "x"}}, timeout=10)
    assert r.status_code == 404
    after = requests.get(wbase + "/metrics", timeout=10).text
    check_metrics(after)
    assert sample(after, total, route="/telegram/{bot_id}", code="4xx") == refused + 1

    t = requests.get(bbase + "/metrics", timeout=10).text
    check_metrics(t)
    assert {"tgm_billingd_stripe_calls_total", "tgm_billingd_update_lanes",
            "tgm_billingd_steps_running", "tgm_billingd_http_inflight"} <= families(t)
    assert sample(t, "tgm_billingd_stripe_calls_total", outcome="ok") == 0
    t = requests.get(bbase + "/metrics", timeout=10).text
    assert sample(t, "tgm_billingd_metrics_http_requests_total", route="/metrics",
                  code="2xx") >= 1
