"""Delivery callbacks (senderd/callback.c) and the tenant routes (gatewayd/tenant.c).

A message with a callback_url (or whose tenant has a webhook_url) gets a POST on its
final state, signed the Standard Webhooks way; the signature is checked here with
Python's own hmac, an implementation independent of tgm's, and, where the secret is
rotated, with the standardwebhooks npm package (the Standard Webhooks reference library).
A failing app is retried on [senderd] callback_schedule; a slow app never holds up
Telegram sending; failed callbacks are listed and redelivered through the API.
"""

import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest

from conftest import REPO, binary, c_string, plan_nodes, require_npm, wait_for
from fake_http import FakeHTTP, Reply
from api_helpers import api, world  # noqa: F401 (fixtures)
from test_senderd import SenderWorld, tg  # noqa: F401 (the fake Telegram fixture)

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef01234567").decode()


@pytest.fixture
def app():
    with FakeHTTP() as srv:
        srv.script("/hook", Reply(200, {"ok": True}))
        yield srv


@pytest.fixture
def sw(tgm_env, tg):
    world = SenderWorld(tgm_env, tg)
    # the fake app listens on 127.0.0.1: this tenant may call back to private addresses
    world.query("UPDATE tenants SET webhook_secret = %s, callback_allow_private = true"
                " WHERE id = %s", (SECRET, world.tenant_id))
    yield world
    world.stop_all()


def tgm_version():
    """The version the binaries were built as ("senderd VERSION" from senderd -V)."""
    out = subprocess.run([binary("senderd"), "-V"], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "senderd" and out[1], out
    return out[1]


def verify(req):
    """The Standard Webhooks signature of req, checked against SECRET."""
    msg_id, ts = req.header("webhook-id"), req.header("webhook-timestamp")
    key = base64.b64decode(SECRET[len("whsec_"):])
    signed = f"{msg_id}.{ts}.".encode() + req.body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    sigs = [s.split(",", 1)[1] for s in req.header("webhook-signature").split()]
    assert want in sigs, (req.header("webhook-signature"), want)
    assert abs(int(ts) - time.time()) < 60
    return json.loads(req.body)


def test_sent_message_calls_back_signed(sw, tg, app):
    bot = sw.new_bot()
    mid = sw.add(bot, [4242], extra={})[0]
    sw.query("UPDATE messages SET callback_url = %s, metadata = '{\"order\": 7}'"
             " WHERE id = %s", (app.url + "/hook", mid))
    sw.senderd()
    req = app.wait_for(1, "/hook", timeout=10)[0]
    body = verify(req)
    assert body["type"] == "message.sent"
    assert body["data"]["id"] == mid and body["data"]["status"] == "sent"
    assert body["data"]["telegram_message_id"] == sw.row(mid)["telegram_message_id"]
    assert body["data"]["metadata"] == {"order": 7}
    assert req.header("webhook-id").startswith("cb_")
    version = tgm_version()
    assert req.header("user-agent") == f"tgm/{version}"
    rows = sw.query("SELECT status, attempts FROM callbacks WHERE message_id = %s", (mid,))
    deadline = time.monotonic() + 5
    while rows != [("delivered", 1)] and time.monotonic() < deadline:
        time.sleep(0.1)
        rows = sw.query("SELECT status, attempts FROM callbacks WHERE message_id = %s", (mid,))
    assert rows == [("delivered", 1)]


def test_failed_message_calls_back_and_failing_app_is_retried(sw, tg, app):
    app.script("/hook", Reply(500, "oops"), Reply(503, "busy"), Reply(200, {"ok": True}))
    tg.blocked(chat=5151)
    bot = sw.new_bot()
    mid = sw.add(bot, [5151])[0]
    sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (app.url + "/hook", mid))
    sw.senderd(callback_schedule="0.1s 0.2s")
    reqs = app.wait_for(3, "/hook", timeout=15)
    bodies = [verify(r) for r in reqs]
    assert {b["type"] for b in bodies} == {"message.failed"}
    assert len({r.header("webhook-id") for r in reqs}) == 1  # the same event, retried
    assert "blocked" in bodies[0]["data"]["detail"]
    wait = time.monotonic() + 5
    while time.monotonic() < wait:
        row = sw.one("SELECT status, attempts FROM callbacks WHERE message_id = %s", (mid,))
        if row[0] == "delivered":
            break
        time.sleep(0.1)
    assert tuple(row) == ("delivered", 3)


def test_tenant_webhook_url_is_used_without_callback_url(sw, tg, app):
    sw.query("UPDATE tenants SET webhook_url = %s WHERE id = %s",
             (app.url + "/hook", sw.tenant_id))
    bot = sw.new_bot()
    mid = sw.add(bot, [6161])[0]
    sw.senderd()
    body = verify(app.wait_for(1, "/hook", timeout=10)[0])
    assert body["data"]["id"] == mid


def test_no_callback_without_a_url(sw, tg, app):
    bot = sw.new_bot()
    mid = sw.add(bot, [7171])[0]
    sw.senderd()
    sw.wait_status([mid], ("sent",), timeout=10)
    time.sleep(0.5)
    assert app.requests_for("/hook") == []
    assert sw.query("SELECT count(*) FROM callbacks") == [(0,)]


def test_slow_app_does_not_slow_telegram(sw, tg, app):
    app.script("/hook", Reply(200, {"ok": True}, delay=3.0))
    bot = sw.new_bot(per_second=30, chat_per_second=30)
    ids = sw.add(bot, list(range(8100, 8120)))
    sw.query("UPDATE messages SET callback_url = %s WHERE id = ANY(%s)",
             (app.url + "/hook", ids))
    t0 = time.monotonic()
    sw.senderd()
    sw.wait_status(ids, ("sent",), timeout=10)
    assert time.monotonic() - t0 < 3.0, "Telegram sending waited for the callbacks"


# ------------------------------------------- private destinations (SSRF) are refused

def test_private_destinations_refused_unless_allowed(sw, tg, app):
    """Without the tenant's callback_allow_private, a callback to a loopback, private or
    link-local address is refused at connect time, also when a name resolves to one
    (localhost): the app gets nothing, the last error says why, and the final failure is
    a warning in senderd's log. The install-wide callback_private = allow lets it through."""
    sw.query("UPDATE tenants SET callback_allow_private = false WHERE id = %s",
             (sw.tenant_id,))
    bot = sw.new_bot()
    port = app.url.rsplit(":", 1)[1]
    urls = [app.url + "/hook", f"http://localhost:{port}/hook", f"http://[::1]:{port}/hook",
            "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data",
            "http://[fe80::1]/hook", "http://192.168.1.1/hook", "http://0.0.0.0/hook"]
    ids = sw.add(bot, list(range(9700, 9700 + len(urls))))
    for mid, url in zip(ids, urls):
        sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (url, mid))
    d = sw.senderd(callback_schedule="")   # one attempt, no retry

    def all_failed():
        rows = sw.query("SELECT status, last_error FROM callbacks WHERE message_id = ANY(%s)",
                        (ids,))
        return len(rows) == len(ids) and all(r[0] == "failed" for r in rows) and rows
    rows = wait_for(all_failed, 15, what="the callbacks to fail")
    errors = [r[1] for r in rows]
    assert all("refused" in e and "private" in e for e in errors), errors
    assert app.requests_for("/hook") == []
    # <4>: logged as a warning (the sd-daemon level prefix)
    d.wait_log(r"<4>[^\n]*callback=\d+ failed for good after 1 attempts: refused")
    d.stop()

    # the whole install allows them: the same kind of callback goes through
    mid = sw.add(bot, [9799])[0]
    sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (app.url + "/hook", mid))
    sw.senderd(callback_private="allow")
    body = verify(app.wait_for(1, "/hook", timeout=10)[0])
    assert body["data"]["id"] == mid


# --------------------------------------------------------------- GET/PATCH /v1/tenant

def test_tenant_routes(api):
    r = api.get("/v1/tenant")
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["webhook_secret"].startswith("whsec_") and t["webhook_url"] is None
    assert base64.b64decode(t["webhook_secret"][6:])  # base64 after the prefix
    r = api.patch("/v1/tenant", {"webhook_url": "https://app.example/hook"})
    assert r.status_code == 200 and r.json()["webhook_url"] == "https://app.example/hook"
    assert r.json()["webhook_secret"] == t["webhook_secret"]  # stable
    for bad in ({"webhook_url": "ftp://x"}, {"webhook_url": 5}, {}, {"other": 1}):
        r = api.patch("/v1/tenant", bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["Content-Type"].startswith("application/problem+json")
    assert api.patch("/v1/tenant", {"webhook_url": None}).json()["webhook_url"] is None


def test_canceled_messages_call_back(sw, tg, app, tgm_env):
    """Canceled through the API, or because the bot was deleted: a callback each."""
    import requests
    bot = sw.new_bot()
    ids = sw.add(bot, [9901, 9902])
    sw.query("UPDATE messages SET callback_url = %s, not_before = now() + interval '1 hour'"
             " WHERE id = ANY(%s)", (app.url + "/hook", ids))
    tgm_env.daemon("gatewayd")
    key = tgm_env.tgmctl("key", "create", "--tenant", "acme", "--create-tenant", "--scope",
                         "admin").stdout.strip()
    h = {"Authorization": f"Bearer {key}"}
    base = tgm_env.http("gatewayd")
    r = requests.post(f"{base}/v1/messages/{ids[0]}/cancel", headers=h, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.delete(f"{base}/v1/bots/{bot.id}", headers=h, timeout=10)
    assert r.status_code == 200 and r.json()["canceled_messages"] == 1, r.text
    sw.senderd()
    bodies = [verify(q) for q in app.wait_for(2, "/hook", timeout=10)]
    got = {b["data"]["id"]: (b["type"], b["data"]["detail"]) for b in bodies}
    assert got == {ids[0]: ("message.canceled", "canceled through the API"),
                   ids[1]: ("message.canceled", "bot deleted")}


# ----------------------------------------- secret rotation, failed callbacks, redelivery

def sw_verify(items):
    """[(secret, request)] checked by the standardwebhooks package: [(ok, payload|error)]"""
    require_npm("standardwebhooks")
    lines = "".join(json.dumps({"secret": sec, "body": req.body.decode(), "headers": {
        h: req.header(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")}})
        + "\n" for sec, req in items)
    r = subprocess.run(["node", str(REPO / "tests/webhooks/verify.mjs")], input=lines,
                       capture_output=True, text=True, timeout=60, cwd=REPO / "tests")
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    return [(o["ok"], o.get("payload", o.get("error"))) for o in out]


@pytest.fixture
def admin(sw, tgm_env):
    """requests to gatewayd with an admin key of sw's tenant: (post, get)"""
    import requests
    tgm_env.daemon("gatewayd")
    name = sw.one("SELECT name FROM tenants WHERE id = %s", (sw.tenant_id,))[0]
    key = tgm_env.tgmctl("key", "create", "--tenant", name, "--scope", "admin").stdout.strip()
    h = {"Authorization": f"Bearer {key}"}
    base = tgm_env.http("gatewayd")
    return (lambda path, body=None: requests.post(base + path, json=body, headers=h,
                                                  timeout=10),
            lambda path: requests.get(base + path, headers=h, timeout=10))


def test_a_rotated_secret_keeps_signing_beside_the_new_one(sw, tg, app, admin):
    """POST /v1/tenant/secret: callbacks carry the new secret's signature and the old
    one's while keep_previous_seconds lasts, so an app verifying with either (here with
    the standardwebhooks package) accepts them; with 0 the old one stops at once."""
    post, get = admin
    r = post("/v1/tenant/secret", {"keep_previous_seconds": 3600})
    assert r.status_code == 200, r.text
    new = r.json()["webhook_secret"]
    assert new != SECRET and r.json()["webhook_secret_previous_until"], r.json()
    bot = sw.new_bot()
    mid = sw.add(bot, [9501])[0]
    sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (app.url + "/hook", mid))
    sw.senderd()
    req = app.wait_for(1, "/hook", timeout=10)[0]
    assert len(req.header("webhook-signature").split()) == 2, req.header("webhook-signature")
    other = "whsec_" + base64.b64encode(b"x" * 24).decode()
    got = sw_verify([(new, req), (SECRET, req), (other, req)])
    assert [ok for ok, _ in got] == [True, True, False], got
    assert got[0][1]["data"]["id"] == mid

    r = post("/v1/tenant/secret", {"keep_previous_seconds": 0})
    assert r.status_code == 200 and r.json()["webhook_secret_previous_until"] is None, r.text
    newer = r.json()["webhook_secret"]
    mid = sw.add(bot, [9502])[0]
    sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (app.url + "/hook", mid))
    req = app.wait_for(2, "/hook", timeout=10)[1]
    assert [ok for ok, _ in sw_verify([(newer, req), (new, req)])] == [True, False]
    for bad in ({"keep_previous_seconds": -1}, {"keep_previous_seconds": 604801},
                {"keep_previous_seconds": "1"}, {"other": 1}):
        r = post("/v1/tenant/secret", bad)
        assert r.status_code == 422, (bad, r.text)
    assert get("/v1/tenant").json()["webhook_secret"] == newer, "a refused rotation changes nothing"


def test_failed_callbacks_are_listed_and_redelivered(sw, tg, app, admin, tgm_env):
    """A callback the app refused until the schedule ran out is failed; GET /v1/callbacks
    lists it, POST /v1/callbacks/{id}/redeliver sends it again (the same webhook-id), and
    another tenant can neither see nor redeliver it."""
    import requests
    post, get = admin
    app.script("/hook", Reply(500, "down"), Reply(500, "down"), Reply(200, {"ok": True}))
    bot = sw.new_bot()
    mid = sw.add(bot, [9601])[0]
    sw.query("UPDATE messages SET callback_url = %s WHERE id = %s", (app.url + "/hook", mid))
    sw.senderd(callback_schedule="0.1s")      # two attempts, then failed
    rows = wait_for(lambda: sw.query("SELECT id FROM callbacks WHERE message_id = %s"
                                     " AND status = 'failed'", (mid,)), 15,
                    what="the callback to fail")
    cid = rows[0][0]
    page = get("/v1/callbacks?status=failed").json()
    assert [c["id"] for c in page["callbacks"]] == [cid], page
    c = page["callbacks"][0]
    assert c["attempts"] == 2 and c["last_error"] == "HTTP 500" and c["message_id"] == mid
    assert c["payload"]["type"] == "message.sent"
    assert get(f"/v1/callbacks?message_id={mid}").json()["callbacks"][0]["id"] == cid
    assert get("/v1/callbacks?status=delivered").json()["callbacks"] == []
    for bad in ("status=lost", "message_id=x", "limit=0"):
        r = get(f"/v1/callbacks?{bad}")
        assert r.status_code == 422, (bad, r.text)

    key = tgm_env.tgmctl("key", "create", "--tenant", "stranger", "--create-tenant",
                         "--scope", "admin").stdout.strip()
    h = {"Authorization": f"Bearer {key}"}
    base = tgm_env.http("gatewayd")
    assert requests.get(f"{base}/v1/callbacks", headers=h, timeout=10).json()["callbacks"] == []
    r = requests.post(f"{base}/v1/callbacks/{cid}/redeliver", headers=h, timeout=10)
    assert r.status_code == 404 and r.json()["type"].endswith("/callback_not_found"), r.text
    assert post("/v1/callbacks/nope/redeliver").status_code == 404

    r = post(f"/v1/callbacks/{cid}/redeliver")
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    reqs = app.wait_for(3, "/hook", timeout=10)
    assert len({q.header("webhook-id") for q in reqs}) == 1
    verify(reqs[2])
    wait_for(lambda: sw.one("SELECT status FROM callbacks WHERE id = %s", (cid,))[0]
             == "delivered", 10, what="the redelivered callback to be delivered")


def callback_claim_plan(sw, sql):
    """the generic plan of senderd's callback claim (sql, $1 the batch), as prepared on a
    connection that forces generic plans, like senderd's: its nodes"""
    conn = sw.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute("PREPARE cbclaim(int) AS " + sql)
            cur.execute("EXPLAIN (FORMAT JSON) EXECUTE cbclaim(32)")
            return list(plan_nodes(cur.fetchone()[0][0]["Plan"]))
    finally:
        conn.close()


def test_the_callback_claim_reads_its_rows_by_key_in_a_generic_plan(sw):
    """the callback lane claims every second with a prepared statement, planned once for
    any batch: with 5,000 messages and as many callbacks behind it (delivered), its plan
    reads callbacks, tenants and messages by key, never a whole table"""
    bot = sw.new_bot()
    ids = sw.add(bot, [str(900000 + i) for i in range(5000)], status="sent")
    sw.query("INSERT INTO callbacks (message_id, tenant_id, url, payload, status)"
             " SELECT id, %s, 'http://127.0.0.1:1/hook', '{}', 'delivered'"
             " FROM unnest(%s::bigint[]) id", (sw.tenant_id, ids))
    sw.query("ANALYZE callbacks")
    sw.query("ANALYZE messages")
    part = sw.one("SELECT tableoid::regclass::text FROM messages WHERE id = %s", (ids[0],))[0]
    nodes = callback_claim_plan(sw, c_string("senderd/callback.c", "claim_sql"))
    assert not [n for n in nodes if n["Node Type"] in ("Hash Join", "Hash")], nodes
    # (an empty partition of messages may be scanned whole: it is empty)
    whole = {n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"}
    assert not whole & {"callbacks", "tenants", part}, whole
    scanned = {n.get("Relation Name") for n in nodes if "Index" in n["Node Type"]}
    assert {"callbacks", "tenants"} <= scanned and any(
        r and r.startswith("messages") for r in scanned), scanned
