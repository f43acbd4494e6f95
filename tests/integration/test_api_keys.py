"""gatewayd API keys: POST/GET/DELETE /v1/keys, scopes, revocation, the Authorization
header, and the per-key request rate (RateLimit-* headers, 429 with Retry-After).

Keys are "tgmk_" + 40 letters and digits; only their SHA-256 is stored (issue 3).
"""

import hashlib
import time

import pytest

from api_helpers import World, api, msg, mworld, problem, world  # noqa: F401 (fixtures)

WWW_AUTH = 'Bearer realm="tgm"'


def key_row(world, key_id):
    cols = ("id", "tenant_id", "name", "scope", "prefix", "hash", "created_at",
            "last_used_at", "revoked_at")
    rows = world.query(f"SELECT {', '.join(cols)} FROM api_keys WHERE id = %s", (key_id,))
    return dict(zip(cols, rows[0])) if rows else None


def unauthorized(r):
    body = problem(r, 401, "unauthorized")
    assert r.headers.get("WWW-Authenticate") == WWW_AUTH, r.headers
    assert "RateLimit-Limit" not in r.headers
    return body


# ------------------------------------------------------------ create, list, revoke

def test_create_list_revoke(world, api):
    r = api.post("/v1/keys", {"scope": "send", "name": "ci runner"})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    made = r.json()
    key = made["key"]
    assert key.startswith("tgmk_") and len(key) == 45 and key[5:].isalnum(), key
    assert made["scope"] == "send" and made["name"] == "ci runner"
    assert made["prefix"] == key[:12]
    assert made["revoked_at"] is None and made["last_used_at"] is None
    assert isinstance(made["id"], int) and made["created_at"]

    row = key_row(world, made["id"])
    assert row["tenant_id"] == world.tenant_id("acme")
    assert (row["scope"], row["name"], row["prefix"]) == ("send", "ci runner", key[:12])
    assert bytes(row["hash"]) == hashlib.sha256(key.encode()).digest()

    # the list: both keys of the tenant, by id, without the key text or its hash
    r = api.get("/v1/keys")
    assert r.status_code == 200, r.text
    keys = r.json()["keys"]
    assert [k["id"] for k in keys] == sorted(k["id"] for k in keys)
    assert made["id"] in [k["id"] for k in keys] and len(keys) == 2
    for k in keys:
        assert set(k) == {"id", "name", "scope", "prefix", "created_at", "last_used_at",
                          "revoked_at"}, k
    assert key not in r.text and api.key not in r.text

    # the new key works, and its use is recorded
    sender = api.as_key(key)
    assert sender.get("/v1/bots").status_code == 200
    assert key_row(world, made["id"])["last_used_at"] is not None

    # revoke: 200 with revoked_at; refused at once; a second DELETE changes nothing
    r = api.delete(f"/v1/keys/{made['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == made["id"] and r.json()["revoked_at"]
    unauthorized(sender.get("/v1/bots"))
    first = key_row(world, made["id"])["revoked_at"]
    assert first is not None
    r = api.delete(f"/v1/keys/{made['id']}")
    assert r.status_code == 200
    assert key_row(world, made["id"])["revoked_at"] == first
    listed = {k["id"]: k for k in api.get("/v1/keys").json()["keys"]}
    assert listed[made["id"]]["revoked_at"] is not None


def test_key_text_is_never_stored(world, api):
    made = api.new_key("read", "audit")
    key = made["key"]
    dump = world.query("SELECT string_agg(row_to_json(k)::text, ' ') FROM api_keys k")[0][0]
    assert key not in dump and key[12:] not in dump and api.key not in dump
    # nor anywhere else in the database's tables of the app, nor in the log
    for table in ("tenants", "bots", "messages", "message_events"):
        text = world.query(f"SELECT coalesce(string_agg(row_to_json(t)::text, ' '), '')"
                           f" FROM {table} t")[0][0]
        assert key not in text
    assert key not in world.daemon.log() and api.key not in world.daemon.log()


@pytest.mark.parametrize("body, field", [
    ({}, "scope"),
    ({"scope": "root"}, "scope"),
    ({"scope": "ADMIN"}, "scope"),
    ({"scope": 3}, "scope"),
    ({"scope": "read", "name": 7}, "name"),
    ({"scope": "read", "name": "n" * 201}, "name"),
])
def test_create_invalid(mworld, body, field):
    admin = mworld.shared_api("acme")
    before = mworld.query("SELECT count(*) FROM api_keys")[0][0]
    problem(admin.post("/v1/keys", body), 422, "invalid_field", field)
    assert mworld.query("SELECT count(*) FROM api_keys")[0][0] == before


def test_revoke_unknown_and_foreign_keys(world, api):
    other = world.api("globex")
    theirs = other.new_key("send")
    for path in ("/v1/keys/999999", "/v1/keys/0", "/v1/keys/abc", "/v1/keys/-1",
                 f"/v1/keys/{theirs['id']}"):
        problem(api.delete(path), 404, "key_not_found")
    assert key_row(world, theirs["id"])["revoked_at"] is None
    assert api.as_key(theirs["key"]).get("/v1/bots").status_code == 200
    assert theirs["id"] not in [k["id"] for k in api.get("/v1/keys").json()["keys"]]


# ------------------------------------------------------------ scopes

def test_read_scope(world, api):
    bot = api.new_bot()
    mid = api.send_ok(msg(bot_id=bot["id"]))["id"]
    reader = api.as_key(api.new_key("read")["key"])
    calls = len(world.tg.getme_calls())
    for method, path, body in [
        ("GET", "/v1/bots", None), ("GET", f"/v1/bots/{bot['id']}", None),
        ("GET", "/v1/messages", None), ("GET", f"/v1/messages/{mid}", None),
        ("GET", "/v1/stats", None), ("GET", f"/api/status/{mid}", None),
        ("GET", "/api/stats", None), ("GET", "/api/bots", None),
    ]:
        assert reader.request(method, path, body).status_code == 200, path
    for method, path, body, detail in [
        ("POST", "/v1/messages", msg(bot_id=bot["id"]), "send or admin"),
        ("POST", "/v1/messages/batch", {"messages": [msg(bot_id=bot["id"])]}, "send or admin"),
        ("POST", f"/v1/messages/{mid}/cancel", None, "send or admin"),
        ("POST", "/api/send", msg(bot_id=bot["id"]), "send or admin"),
        ("POST", f"/api/send/{bot['id']}", msg(), "send or admin"),
        ("POST", "/v1/keys", {"scope": "admin"}, "admin scope"),
        ("GET", "/v1/keys", None, "admin scope"),
        ("DELETE", "/v1/keys/1", None, "admin scope"),
        ("POST", "/v1/bots", {"token": "123456:" + "A" * 35}, "admin scope"),
        ("POST", "/api/bots", {"token": "123456:" + "A" * 35}, "admin scope"),
        ("PATCH", f"/v1/bots/{bot['id']}", {"enabled": False}, "admin scope"),
        ("DELETE", f"/v1/bots/{bot['id']}", None, "admin scope"),
    ]:
        problem(reader.request(method, path, body), 403, "forbidden", detail=detail)
    # nothing changed
    assert world.query("SELECT id, status FROM messages") == [(mid, "queued")]
    assert world.query("SELECT enabled, deleted_at FROM bots") == [(True, None)]
    assert world.query("SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL") == [(0,)]
    assert len(world.tg.getme_calls()) == calls


def test_send_scope(world, api):
    bot = api.new_bot()
    sender = api.as_key(api.new_key("send")["key"])
    m = sender.send_ok(msg(bot_id=bot["id"]))
    r = sender.post("/v1/messages/batch", {"messages": [msg(bot_id=bot["id"])]})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert sender.post(f"/v1/messages/{m['id']}/cancel").status_code == 200
    assert sender.get("/v1/bots").status_code == 200
    for method, path, body in [
        ("POST", "/v1/keys", {"scope": "send"}), ("GET", "/v1/keys", None),
        ("DELETE", "/v1/keys/1", None),
        ("POST", "/v1/bots", {"token": "123456:" + "A" * 35}),
        ("PATCH", f"/v1/bots/{bot['id']}", {"enabled": False}),
        ("DELETE", f"/v1/bots/{bot['id']}", None),
    ]:
        problem(sender.request(method, path, body), 403, "forbidden", detail="admin scope")
    assert world.query("SELECT count(*) FROM api_keys") == [(2,)]
    assert world.query("SELECT enabled, deleted_at FROM bots") == [(True, None)]


# ------------------------------------------------------------ revocation and Authorization

def test_revoked_key_is_refused_on_the_very_next_request(world, api):
    bot = api.new_bot()
    made = api.new_key("send")
    k = api.as_key(made["key"])
    assert k.get("/v1/bots").status_code == 200  # warm: the key is known (and cached)
    assert api.delete(f"/v1/keys/{made['id']}").status_code == 200
    unauthorized(k.send(msg(bot_id=bot["id"])))
    unauthorized(k.get("/v1/bots"))
    assert world.query("SELECT count(*) FROM messages") == [(0,)]
    # an admin may revoke its own key: the next request is refused
    me = world.one("SELECT id FROM api_keys WHERE scope = 'admin'")[0]
    assert api.delete(f"/v1/keys/{me}").status_code == 200
    unauthorized(api.get("/v1/keys"))


def test_key_revoked_elsewhere_is_refused_on_the_very_next_request(world, api):
    """A key revoked by tgmctl (or another gatewayd) is refused by the next request.
    gatewayd's key cache drops it only once the NOTIFY has been read, which races with
    that request: the loop (the same UPDATE as tgmctl key revoke, then at once a request)
    makes a lost race likely to show; tgmctl itself is used for the first round."""
    bot = api.new_bot()
    conn = world.env.connect()
    accepted = []
    try:
        for i in range(30):
            made = api.new_key("send")
            k = api.as_key(made["key"])
            assert k.get("/v1/bots").status_code == 200  # cached now
            if i == 0:
                r = world.env.tgmctl("key", "revoke", str(made["id"]))
                assert r.returncode == 0, r.stderr
            else:
                with conn.cursor() as cur:
                    cur.execute("UPDATE api_keys SET revoked_at = now()"
                                " WHERE id = %s AND revoked_at IS NULL", (made["id"],))
            r = k.send(msg(bot_id=bot["id"], text=f"after revocation {i}"))
            if r.status_code != 401:
                accepted.append((i, r.status_code, r.text))
    finally:
        conn.close()
    assert accepted == [], f"revoked keys accepted: {accepted}"
    assert world.query("SELECT count(*) FROM messages") == [(0,)]


def test_missing_or_malformed_authorization(world, api):
    bot = api.new_bot()
    anon = world.anonymous()
    unknown = "tgmk_" + "Z" * 40
    for header in [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token " + api.key,
                   "Bearer " + api.key[:-1], "Bearer " + api.key + "x",
                   "Bearer " + api.key.replace("tgmk_", "tgmx_"),
                   "Bearer " + api.key[:-1] + "!", "Bearer  " + api.key, "Bearer " + unknown,
                   api.key]:
        h = {} if header is None else {"Authorization": header}
        unauthorized(anon.get("/v1/bots", headers=h))
        unauthorized(anon.post("/v1/messages", msg(bot_id=bot["id"]), headers=h))
    assert world.query("SELECT count(*) FROM messages") == [(0,)]
    # the scheme is case-insensitive (RFC 9110 section 11.1)
    r = anon.get("/v1/bots", headers={"Authorization": "bearer " + api.key})
    assert r.status_code == 200, r.text
    assert api.key not in world.daemon.log()


# ------------------------------------------------------------ per-key request rate

@pytest.fixture
def slow_world(tgm_env):
    w = World(tgm_env, {("gatewayd", "key_rate"): "1", ("gatewayd", "key_burst"): "3"})
    yield w
    w.close()


def draft_fields(value):
    """'"key";q=3;w=3' -> ("key", {"q": 3, "w": 3}) (an RFC 8941 list of one item)"""
    name, *params = value.split(";")
    assert name.startswith('"') and name.endswith('"'), value
    return name.strip('"'), {k: int(v) for k, v in (p.split("=") for p in params)}


def rate_headers(r):
    """(limit, remaining, reset) from the IETF draft's RateLimit-Policy and RateLimit,
    checked against the older RateLimit-Limit/-Remaining/-Reset kept for one release"""
    old = tuple(int(r.headers[h]) for h in
                ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))
    policy, p = draft_fields(r.headers["RateLimit-Policy"])
    name, left = draft_fields(r.headers["RateLimit"])
    assert policy == name == "key"
    assert p["w"] >= 1 and (p["q"], left["r"], left["t"]) == old
    return old


def test_rate_limit_headers_and_429(slow_world):
    w = slow_world
    a = w.api("acme")
    b = w.api("acme", "read")  # another key of the same tenant: its own bucket
    got = [a.get("/v1/bots") for _ in range(3)]
    assert [r.status_code for r in got] == [200, 200, 200]
    assert [rate_headers(r)[:2] for r in got] == [(3, 2), (3, 1), (3, 0)]
    assert [r for r in got if "Retry-After" in r.headers] == []
    assert rate_headers(got[0])[2] == 1
    assert 2 <= rate_headers(got[2])[2] <= 3  # seconds until the bucket is full again

    r = a.post("/v1/messages", msg())
    body = problem(r, 429, "rate_limited")
    assert r.reason == "Too Many Requests"  # libevent alone says "Client Error"
    assert "Retry-After" in body["detail"]
    assert draft_fields(r.headers["RateLimit-Policy"])[1] == {"q": 3, "w": 3}
    limit, remaining, reset = rate_headers(r)
    assert (limit, remaining) == (3, 0) and reset == 1
    assert r.headers["Retry-After"] == "1"
    assert w.query("SELECT count(*) FROM messages") == [(0,)]

    assert b.get("/v1/bots").status_code == 200
    assert rate_headers(b.get("/v1/bots"))[:2] == (3, 1)

    time.sleep(1.1)  # rate 1/s: one more token
    r = a.get("/v1/bots")
    assert r.status_code == 200 and rate_headers(r)[1] == 0
    r = a.get("/v1/bots")
    problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1

    # refused requests do not take tokens: unauthenticated ones are not counted at all
    anon = w.anonymous()
    for _ in range(5):
        unauthorized(anon.get("/v1/bots", headers={"Authorization": "Bearer " + "tgmk_" +
                                                   "Q" * 40}))


def test_revocation_is_at_once_even_while_gatewayd_waits_on_the_database(world, api):
    """Keys are cached and evicted by NOTIFY on a connection of their own. On gatewayd's
    main connection, a busy moment there (here: waiting for a lock; in production: any
    slow query such as a large /v1/stats) held the notification back, and a key revoked
    by tgmctl (or by another gatewayd) kept working from the cache. Now the eviction is
    heard while a request waits on the lock, and the revoked key is refused."""
    import threading
    bot = api.new_bot()
    world.query("INSERT INTO chats (bot_id, chat_id) VALUES (%s, 1)", (bot["id"],))
    api.new_bot()  # two bots: choosing one for a chat reads the chats table
    made = api.new_key("send")
    k = api.as_key(made["key"])
    assert k.send(msg(bot_id=bot["id"], text="before")).status_code == 202  # now cached
    blocker = world.env.connect()
    blocker.autocommit = False
    done = {}
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE chats IN ACCESS EXCLUSIVE MODE")
        # a request whose query waits for the lock: the main connection is busy
        slow = threading.Thread(target=lambda: done.setdefault(
            "r", api.as_key(api.key).send(msg(chat_id=1, text="waits"))))
        slow.start()
        time.sleep(0.3)
        start = len(world.daemon.log())
        r = world.env.tgmctl("key", "revoke", str(made["id"]))
        assert r.returncode == 0, r.stderr
        # the NOTIFY reaches gatewayd's cache asynchronously: a request sent before it
        # is heard would be accepted from the cache, and wait behind the lock
        world.daemon.wait_log(rf"api key {made['id']} changed: out of the cache",
                              start=start)
        late = k.send(msg(bot_id=bot["id"], text="after revocation"))
    finally:
        blocker.rollback()
        blocker.close()
    slow.join(10)
    assert done["r"].status_code == 202
    unauthorized(late)
    assert world.query("SELECT count(*) FROM messages WHERE params->>'text' ="
                       " 'after revocation'") == [(0,)]
