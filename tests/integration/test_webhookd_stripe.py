"""Stripe webhook intake: POST /stripe on webhookd (webhookd/stripe.c, common/stripe_sig.c).

Payloads are signed by the official client library (stripe-node's
webhooks.generateTestHeaderString, from tests/node_modules), so the verification is
checked against Stripe's own code, not against ours. The contract: a bad or missing
signature is 400 bad_signature and nothing is stored; a verified event is committed
once by its id before the 200 (the same event again answers duplicate:true) and
announced to billingd on the billing queue; malformed JSON 400 malformed_json, an
object that is not an event 400 invalid_event, no secret configured 503
stripe_not_configured, a body over [webhookd] max_body 413, a database error 503.
Skipped with a reason when Node or the npm package is missing (CI installs both).
"""

import hashlib
import hmac
import json
import pathlib
import signal
import subprocess
import threading
import time

import pytest
import requests
import zmq

from conftest import require_npm, wait_for

TESTS = pathlib.Path(__file__).resolve().parent.parent
SECRET = "whsec_tgm_integration_0123456789abcdef"
PROBLEM = "https://tgm.dev/problems/"

SIGNER = r"""
const stripe = require("stripe")("sk_test_x");
let input = "";
process.stdin.on("data", (c) => { input += c; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((o) => stripe.webhooks.generateTestHeaderString(o));
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module", autouse=True)
def stripe_node():
    require_npm("stripe")


def sign_many(items):
    """Stripe-Signature headers made by stripe-node, one per dict of
    generateTestHeaderString options (payload, secret, timestamp, scheme)."""
    r = subprocess.run(["node", "-e", SIGNER], cwd=TESTS, input=json.dumps(items),
                       capture_output=True, text=True, timeout=60, check=True)
    return json.loads(r.stdout)


def sign(payload, secret=SECRET, timestamp=None, scheme=None):
    opts = {"payload": payload, "secret": secret,
            "timestamp": int(time.time()) if timestamp is None else timestamp}
    if scheme:
        opts["scheme"] = scheme
    return sign_many([opts])[0]


def sign_bytes(body, secret=SECRET, timestamp=None):
    """The same header by Python's hmac, for bodies that are not UTF-8 text."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def event(evt_id, type_="checkout.session.completed", livemode=False, created=1700000000):
    """A Stripe event as Stripe sends it (pretty-printed, LF, no trailing newline)."""
    return json.dumps({
        "id": evt_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": {
            "id": "cs_test_" + evt_id[4:], "object": "checkout.session",
            "client_reference_id": "tg_42", "payment_status": "paid", "mode": "payment",
            "amount_total": 500, "currency": "usd",
            "metadata": {"package": "credits_100", "note": "caf\u00e9 \u2615"}}},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }, indent=2, ensure_ascii=False)


def post(env, body, header=None, timeout=10):
    """POST body (str or bytes) to webhookd's /stripe with header as Stripe-Signature."""
    h = {"Content-Type": "application/json; charset=utf-8"}
    if header is not None:
        h["Stripe-Signature"] = header
    data = body.encode() if isinstance(body, str) else body
    return requests.post(env.http("webhookd") + "/stripe", data=data, headers=h,
                         timeout=timeout)


def problem(r, status, slug):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["type"] == PROBLEM + slug, doc
    assert doc["status"] == status
    return doc


def stored(env):
    return env.query("SELECT id FROM stripe_events ORDER BY id")


def next_second():
    """A wall-clock second a little ahead: sign for it, then post at_second(it)."""
    return int(time.time()) + 2


def at_second(second):
    """Sleep to the start of second: a request sent now reaches the daemon within that
    second, so the tolerance edges (299 in, 301 out) are exact, not flaky."""
    time.sleep(max(0.0, second - time.time()))


def webhookd(env, secret=SECRET, **overrides):
    conf = {("stripe", "webhook_secret"): secret}
    conf.update({tuple(k.split(".")): v for k, v in overrides.items()})
    env.write_config(overrides=conf)
    return env.daemon("webhookd")


@pytest.fixture
def billing(tgm_env):
    """A PULL socket bound where billingd would be: what webhookd pushes to billingd."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    tgm_env.rundir.mkdir(parents=True, exist_ok=True)
    sock.bind(tgm_env.endpoint("billingd-work"))
    yield sock
    sock.close(linger=0)
    ctx.term()


def received(sock, timeout=5.0):
    """The (topic, json) messages that came on sock within timeout of the last one."""
    out = []
    while sock.poll(int(timeout * 1000)):
        topic, payload = sock.recv_multipart()
        out.append((topic.decode(), json.loads(payload)))
        timeout = 0.5
    return out


# ------------------------------------------------------------------------ accepted

def test_event_stored_once_and_announced(tgm_env, billing):
    webhookd(tgm_env)
    body = event("evt_once_1")
    answers = [post(tgm_env, body, sign(body)) for _ in range(10)]
    assert [r.status_code for r in answers] == [200] * 10, answers[0].text
    assert answers[0].headers["Content-Type"] == "application/json"
    assert answers[0].json() == {"received": True, "duplicate": False}
    assert all(r.json() == {"received": True, "duplicate": True} for r in answers[1:])
    rows = tgm_env.query(
        "SELECT id, type, object_id, livemode, extract(epoch FROM created)::bigint,"
        " payload, processed_at FROM stripe_events")
    assert rows == [("evt_once_1", "checkout.session.completed", "cs_test_once_1", False,
                     1700000000, json.loads(body), None)]
    # one wake-up for billingd: the duplicates are already stored and announced
    assert received(billing) == [("stripe", {"id": "evt_once_1"})]


def test_committed_before_the_answer(tgm_env):
    """Every 200 means the row is visible to any other connection already."""
    webhookd(tgm_env)
    for i in range(20):
        body = event(f"evt_commit_{i}", livemode=True, created=1800000000 + i)
        assert post(tgm_env, body, sign(body)).status_code == 200
        assert tgm_env.query("SELECT livemode, extract(epoch FROM created)::bigint"
                             " FROM stripe_events WHERE id = %s",
                             (f"evt_commit_{i}",)) == [(True, 1800000000 + i)]


def test_concurrent_duplicates(tgm_env):
    webhookd(tgm_env)
    body = event("evt_race_1")
    header = sign(body)
    start = threading.Barrier(16)
    answers = []

    def deliver():
        start.wait()
        r = post(tgm_env, body, header)
        answers.append((r.status_code, r.json()))

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 16
    assert all(code == 200 for code, _ in answers), answers
    assert sorted(doc["duplicate"] for _, doc in answers) == [False] + [True] * 15
    assert stored(tgm_env) == [("evt_race_1",)]


def test_rotation_two_secrets(tgm_env):
    old, new = "whsec_rotation_old_000", "whsec_rotation_new_111"
    webhookd(tgm_env, secret=f"{old} {new}")
    a, b, c = event("evt_rot_a"), event("evt_rot_b"), event("evt_rot_c")
    now = int(time.time())
    ha, hb, hc_other, hc_new = sign_many([
        {"payload": a, "secret": old, "timestamp": now},
        {"payload": b, "secret": new, "timestamp": now},
        {"payload": c, "secret": "whsec_not_ours", "timestamp": now},
        {"payload": c, "secret": new, "timestamp": now}])
    assert post(tgm_env, a, ha).status_code == 200
    assert post(tgm_env, b, hb).status_code == 200
    # Stripe sends one v1 per active secret: any of them may be ours
    both = hc_other + "," + hc_new.split(",", 1)[1]
    assert both.count("v1=") == 2
    assert post(tgm_env, c, both).status_code == 200
    assert stored(tgm_env) == [("evt_rot_a",), ("evt_rot_b",), ("evt_rot_c",)]
    # a signature by neither secret
    d = event("evt_rot_d")
    problem(post(tgm_env, d, sign(d, secret="whsec_not_ours")), 400, "bad_signature")


def test_tolerance_edges_accepted(tgm_env):
    webhookd(tgm_env)
    now = next_second()
    past, future = event("evt_edge_past"), event("evt_edge_future")
    hp, hf = sign_many([{"payload": past, "secret": SECRET, "timestamp": now - 299},
                        {"payload": future, "secret": SECRET, "timestamp": now + 299}])
    at_second(now)
    assert post(tgm_env, past, hp).status_code == 200
    assert post(tgm_env, future, hf).status_code == 200
    assert stored(tgm_env) == [("evt_edge_future",), ("evt_edge_past",)]


def test_custom_tolerance(tgm_env):
    webhookd(tgm_env, **{"stripe.webhook_tolerance": "3600"})
    body = event("evt_tol_1")
    assert post(tgm_env, body, sign(body, timestamp=int(time.time()) - 1800)).status_code == 200
    late = event("evt_tol_2")
    doc = problem(post(tgm_env, late, sign(late, timestamp=int(time.time()) - 7200)),
                  400, "bad_signature")
    assert "tolerance of 3600 s" in doc["detail"]


# ------------------------------------------------------------------------ refused

def _forged(body, now):
    good = sign(body, timestamp=now)
    return good.split(",v1=")[0] + ",v1=" + "0" * 64


REFUSALS = {
    # name: (header maker (body, now) -> header or None, words of the detail)
    "forged": (_forged, "no v1 signature matches"),
    "wrong_secret": (lambda b, now: sign(b, secret="whsec_someone_else", timestamp=now),
                     "no v1 signature matches"),
    "secret_without_prefix": (lambda b, now: sign(b, secret=SECRET[len("whsec_"):],
                                                  timestamp=now),
                              "no v1 signature matches"),
    "missing_header": (lambda b, now: None, "no Stripe-Signature header"),
    "empty_header": (lambda b, now: "", "no Stripe-Signature header"),
    "v0_only": (lambda b, now: sign(b, timestamp=now, scheme="v0"), "no v1 signature"),
    "missing_timestamp": (lambda b, now: sign(b, timestamp=now).split(",", 1)[1],
                          "no timestamp"),
    "stale": (lambda b, now: sign(b, timestamp=now - 301), "301 s in the past"),
    "future": (lambda b, now: sign(b, timestamp=now + 301), "301 s in the future"),
    "other_body": (lambda b, now: sign(b.replace("500", "5000"), timestamp=now),
                   "no v1 signature matches"),
    "trailing_space": (lambda b, now: sign(b + " ", timestamp=now),
                       "no v1 signature matches"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_signature_refused_nothing_stored(tgm_env, billing, case):
    d = webhookd(tgm_env)
    make, words = REFUSALS[case]
    body = event(f"evt_bad_{case}")
    now = next_second()
    header = make(body, now)
    if case == "v0_only":
        assert "v0=" in header and "v1=" not in header
    at_second(now)
    doc = problem(post(tgm_env, body, header), 400, "bad_signature")
    assert words in doc["detail"], doc
    assert SECRET not in doc["detail"]
    assert stored(tgm_env) == []
    assert received(billing, timeout=0.3) == []
    d.wait_log(r"<4>.*stripe: refused an event")


def test_secret_configured_without_prefix(tgm_env):
    """An operator who pasted the secret without whsec_ is told so in the log (the
    whole whsec_ string is the key); Stripe still gets a plain 400."""
    d = webhookd(tgm_env, secret=SECRET[len("whsec_"):])
    body = event("evt_noprefix_1")
    doc = problem(post(tgm_env, body, sign(body)), 400, "bad_signature")
    assert "whsec_" not in doc["detail"]
    d.wait_log(r"<4>.*does not start with whsec_")
    assert stored(tgm_env) == []


MALFORMED = [
    b'{"id": "evt_broken_1", "type": "x"',
    b"",
    b"not json",
    b'{"id": "evt_two", "type": "x"}{"id": "evt_three", "type": "x"}',
    b'{"id": "evt_comment", /* no */ "type": "x"}',
    b'{"id": "evt_latin1", "type": "caf\xe9"}',
    b'{"id": "evt_nul", "type": "x"}\x00',
    b'{"id": "evt_nul_escape", "type": "x", "note": "a\\u0000b"}',
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_json_with_valid_signature(tgm_env, body):
    webhookd(tgm_env)
    try:
        header = sign(body.decode("utf-8"))
    except UnicodeDecodeError:  # node signs strings: raw bytes get Python's hmac
        header = sign_bytes(body)
    doc = problem(post(tgm_env, body, header), 400, "malformed_json")
    assert doc["detail"], doc
    assert stored(tgm_env) == []


INVALID = {
    "array": ('[{"id": "evt_array", "type": "x"}]', None),
    "string": ('"evt_string"', None),
    "no_id": ('{"type": "checkout.session.completed"}', "id"),
    "number_id": ('{"id": 42, "type": "checkout.session.completed"}', "id"),
    "not_evt": ('{"id": "cs_test_1", "type": "checkout.session.completed"}', "id"),
    "space_in_id": ('{"id": "evt_bad id", "type": "checkout.session.completed"}', "id"),
    "long_id": ('{"id": "evt_' + "x" * 300 + '", "type": "checkout.session.completed"}', "id"),
    "no_type": ('{"id": "evt_no_type"}', "type"),
    "empty_type": ('{"id": "evt_empty_type", "type": ""}', "type"),
    # JSON that yajl takes (it pairs a high surrogate with any escape that follows)
    # but PostgreSQL's jsonb refuses (SQLSTATE class 22): the event cannot be stored,
    # and a retry would not change that
    "lone_surrogate": ('{"id": "evt_surrogate", "type": "x", "n": "\\ud800"}', None),
    "bad_pair": ('{"id": "evt_pair", "type": "x", "n": "\\ud800\\u0041"}', None),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_event(tgm_env, case):
    body, field = INVALID[case]
    webhookd(tgm_env)
    doc = problem(post(tgm_env, body, sign(body)), 400, "invalid_event")
    assert doc.get("field") == field, doc
    assert stored(tgm_env) == []


def test_not_configured(tgm_env):
    webhookd(tgm_env, secret="")
    body = event("evt_unconfigured_1")
    doc = problem(post(tgm_env, body, sign(body)), 503, "stripe_not_configured")
    assert "webhook_secret" in doc["detail"]
    assert stored(tgm_env) == []


def test_oversized_body(tgm_env):
    webhookd(tgm_env, **{"webhookd.max_body": "1024"})
    small = event("evt_size_ok")
    assert len(small.encode()) <= 1024
    assert post(tgm_env, small, sign(small)).status_code == 200
    big = json.dumps({"id": "evt_size_big", "type": "x", "pad": "p" * 1500})
    problem(post(tgm_env, big, sign(big)), 413, "content_too_large")
    assert stored(tgm_env) == [("evt_size_ok",)]


def test_only_post(tgm_env):
    webhookd(tgm_env)
    r = requests.get(tgm_env.http("webhookd") + "/stripe", timeout=5)
    assert r.status_code == 405


# ------------------------------------------------------------------------ database

def test_database_error_is_503_and_the_retry_stores(tgm_env):
    d = webhookd(tgm_env)
    tgm_env.query("ALTER TABLE stripe_events RENAME TO stripe_events_away")
    body = event("evt_db_1")
    problem(post(tgm_env, body, sign(body)), 503, "database_unavailable")
    d.wait_log(r"<4>.*stripe: could not store evt_db_1")
    tgm_env.query("ALTER TABLE stripe_events_away RENAME TO stripe_events")
    # Stripe's retry: a new timestamp and signature
    r = post(tgm_env, body, sign(body))
    assert r.status_code == 200 and r.json()["duplicate"] is False
    assert stored(tgm_env) == [("evt_db_1",)]


def test_drain_waits_for_the_store(tgm_env):
    """SIGTERM while an INSERT waits on a lock: the event is still committed and
    answered 200 before webhookd exits."""
    d = webhookd(tgm_env)
    body = event("evt_drain_1")
    header = sign(body)
    conn = tgm_env.connect()
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("LOCK TABLE stripe_events IN EXCLUSIVE MODE")
    answer = {}

    def deliver():
        r = post(tgm_env, body, header, timeout=30)
        answer["r"] = (r.status_code, r.json())

    t = threading.Thread(target=deliver)
    t.start()
    wait_for(lambda: tgm_env.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE 'INSERT INTO stripe_events%%'"), 10, what="the INSERT to wait")
    d.send(signal.SIGTERM)
    time.sleep(0.5)
    assert d.running()  # still draining: the store is in flight
    conn.rollback()
    conn.close()
    t.join(30)
    assert answer["r"] == (200, {"received": True, "duplicate": False})
    assert d.wait() == 0
    assert stored(tgm_env) == [("evt_drain_1",)]
