"""GET /v1/alerts (gatewayd/alerts.c): a bot disabled because Telegram refused its token,
a lane no senderd holds, a callback backlog and a stale daemon heartbeat, each seen
through the API by its tenant only (daemons are shared: every tenant sees those).
"""

import pytest

from api_helpers import World
from conftest import wait_for
from fake_telegram import FakeTelegram


@pytest.fixture
def aw(tgm_env):
    """gatewayd (no senderd yet) against fake_telegram; tenants acme and globex."""
    with FakeTelegram() as tg:
        w = World(tgm_env, {("telegram", "api_url"): tg.url})
        w.tg = tg
        w.acme = w.api("acme", "read")
        w.admin = w.api("acme")
        w.globex = w.api("globex", "read")
        try:
            yield w
        finally:
            w.close()


def alerts(api):
    r = api.get("/v1/alerts")
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def kinds(api):
    return [(a["kind"], a["bot_id"]) for a in alerts(api)]


def test_all_well_is_no_alert(aw):
    aw.admin.new_bot()
    assert alerts(aw.acme) == []
    assert alerts(aw.globex) == []
    assert aw.anonymous().get("/v1/alerts").status_code == 401


def test_bot_disabled_by_telegram(aw):
    bot = aw.admin.new_bot(name="Shop <b>bot</b>")
    by_hand = aw.admin.new_bot()
    aw.tg.unauthorized(token=bot["token"])
    aw.env.daemon("senderd", conf=aw.conf)
    r = aw.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 5, "text": "hi"})
    assert r.status_code == 202, r.text
    r = aw.admin.patch(f"/v1/bots/{by_hand['id']}", {"enabled": False})
    assert r.status_code == 200, r.text
    wait_for(lambda: ("bot_disabled", bot["id"]) in kinds(aw.acme), 20, interval=0.2,
             what="the bot_disabled alert")
    got = alerts(aw.acme)
    assert [a["kind"] for a in got] == ["bot_disabled"], got
    a = got[0]
    assert a["detail"].startswith("Shop <b>bot</b> is disabled: token refused by Telegram"), a
    assert "401" in a["detail"] and a["since"], a
    assert alerts(aw.globex) == [], "another tenant sees none of it"
    # enabled again (a new token, say): the alert is gone
    aw.tg.clear_rules()
    r = aw.admin.patch(f"/v1/bots/{bot['id']}", {"enabled": True})
    assert r.status_code == 200, r.text
    wait_for(lambda: alerts(aw.acme) == [], 20, interval=0.2, what="no alert")


def test_lane_not_held(aw):
    bot = aw.admin.new_bot(name="Lane")
    idle = aw.admin.new_bot(name="Idle")
    for chat in (1, 2):
        r = aw.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": chat, "text": "x"})
        assert r.status_code == 202, r.text
    got = alerts(aw.acme)
    assert [(a["kind"], a["bot_id"]) for a in got] == [("lane_not_held", bot["id"])], got
    assert got[0]["detail"] == "Lane: 2 messages waiting and no senderd holds its lane"
    assert got[0]["since"]
    assert alerts(aw.globex) == []
    # a live lease: held; an expired one: not held, and named
    aw.query("INSERT INTO bot_leases (bot_id, owner, expires_at)"
             " VALUES (%s, 'senderd@a', now() + interval '1 minute')", (bot["id"],))
    assert alerts(aw.acme) == []
    aw.query("UPDATE bot_leases SET expires_at = now() - interval '1 minute'")
    got = alerts(aw.acme)
    assert got[0]["detail"] == ("Lane: 2 messages waiting and no senderd holds its lane"
                                " (the lease of senderd@a expired)"), got
    # a senderd takes the lanes and sends: no alert
    aw.env.daemon("senderd", conf=aw.conf)
    wait_for(lambda: alerts(aw.acme) == [], 20, interval=0.2,
             what="the lane held and the queue sent")
    assert idle["id"] not in [a["bot_id"] for a in alerts(aw.acme)]


def test_callback_backlog(aw):
    bot = aw.admin.new_bot()
    r = aw.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 1, "text": "x"})
    mid = r.json()["id"]
    assert aw.admin.post(f"/v1/messages/{mid}/cancel").status_code == 200  # no lane alert
    acme = aw.tenant_id("acme")

    def callback(status, due, created="now()"):
        aw.query("INSERT INTO callbacks (message_id, tenant_id, url, payload, status,"
                 f" next_attempt_at, created_at) VALUES (%s, %s, 'http://app', '{{}}', %s,"
                 f" {due}, {created})", (mid, acme, status))

    callback("pending", "now()")  # due now: not overdue
    callback("failed", "now() - interval '25 hours'", "now() - interval '26 hours'")  # old
    callback("delivered", "now() - interval '2 hours'")
    assert alerts(aw.acme) == []
    callback("failed", "now() - interval '1 hour'", "now() - interval '2 hours'")
    got = alerts(aw.acme)
    assert got == [{"kind": "callback_backlog", "bot_id": None, "since": got[0]["since"],
                    "detail": "1 callback failed in the last 24 hours"}], got
    callback("pending", "now() - interval '5 minutes'")
    callback("pending", "now() - interval '2 minutes'")
    callback("failed", "now() - interval '3 hours'")
    got = alerts(aw.acme)
    assert [a["detail"] for a in got] == [
        "2 callbacks failed in the last 24 hours;"
        " 2 callbacks are overdue by more than a minute"], got
    assert alerts(aw.globex) == []


def test_stale_daemon_seen_by_every_tenant(aw):
    aw.query("INSERT INTO daemons (name, instance, host, pid, version, seen_at)"
             " VALUES ('senderd', 'b', 'box1', 4242, '1', now() - interval '5 minutes'),"
             " ('billingd', '', 'box2', 4243, '1', now() - interval '30 seconds'),"
             " ('webhookd', '', 'box3', 4244, '1', now())")
    aw.query("INSERT INTO daemons (name, instance, host, pid, version, seen_at, stopped_at)"
             " VALUES ('senderd', 'c', 'box1', 4245, '1', now() - interval '1 hour', now())")
    for api in (aw.acme, aw.globex):
        got = alerts(api)
        assert [(a["kind"], a["bot_id"]) for a in got] == [("daemon_stale", None)] * 2, got
        details = sorted(a["detail"] for a in got)
        assert details[0].startswith("billingd on box2: no heartbeat for "), details
        assert details[1] == "senderd (b) on box1: no heartbeat for 5 min", details
