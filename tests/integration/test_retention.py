"""Retention (issue 18): messages and their events partitioned by ranges of message id
(sql/027_partitions.sql), the pruner in gatewayd (gatewayd/retention.c and
sql/functions/retention_step.sql) and the [retention] keys.

Partitions are made ahead (and a message whose id no partition holds yet still goes in,
to the default partition); old partitions are dropped whole, never a row newer than the
cut-off; a partition with an open message stays; the small tables lose their old rows in
batches; two gatewayds prune by turns of a lease, never both at once; bad [retention]
values are refused with a message naming the key. The migration itself is tested on a
database filled under the schema before it: every row kept, and the daemons work on it.
"""
import hashlib
import json
import re
import time
from pathlib import Path

import pytest
import requests

from api_helpers import World, new_token  # noqa: F401
from conftest import wait_for
from test_senderd import tg  # noqa: F401 (the fake Telegram fixture)

REPO = Path(__file__).resolve().parents[2]

FAST = {("retention", "interval"): "1", ("retention", "partition_size"): "1000"}


def parts(env, table="messages"):
    """[(name, lo, hi)] of table's range partitions, oldest first."""
    return env.query("SELECT name, lo, hi FROM messages_partitions(%s)", (table,))


def names(env, table="messages"):
    return [p[0] for p in parts(env, table)]


def tenant_and_bot(env, name="ret"):
    """A tenant and a bot of it, written straight into the database: (tenant, bot)."""
    t = env.query("INSERT INTO tenants (name) VALUES (%s) RETURNING id", (name,))[0][0]
    b = env.query("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)"
                  " VALUES (%s, %s, %s, 'v1.unused', %s) RETURNING id",
                  (t, 600000000 + t, f"ret{t}_bot", hashlib.sha256(name.encode()).digest()))[0][0]
    return t, b


def add_messages(env, tenant, bot, n, age, status="sent", events_age=None):
    """n messages created age ago (an interval), each with one event events_age ago
    (default: age); their ids, in order."""
    rows = env.query(
        "WITH m AS (INSERT INTO messages (tenant_id, bot_id, chat, params, status,"
        "  created_at, updated_at)"
        " SELECT %s, %s, (g %% 7)::text, jsonb_build_object('chat_id', g %% 7, 'text', 'r' || g),"
        "  %s, now() - %s::interval, now() - %s::interval"
        " FROM generate_series(1, %s) g ORDER BY g RETURNING id),"
        " e AS (INSERT INTO message_events (message_id, status, at)"
        "  SELECT id, %s, now() - %s::interval FROM m)"
        " SELECT id FROM m ORDER BY id",
        (tenant, bot, status, age, age, n, status, events_age or age))
    return [r[0] for r in rows]


def ahead(env, size=1000):
    return env.query("SELECT messages_ahead(%s)", (size,))[0][0]


# ------------------------------------------------------------ partitions ahead

def test_partitions_are_made_ahead_and_no_insert_lacks_one(tgm_env):
    """The migration leaves a partition ahead; gatewayd's pruner makes the next one when
    fewer than half a partition's ids are left; an id beyond every partition still goes in
    (the default partition), and the next partition starts after it."""
    env = tgm_env
    assert names(env) == ["messages_p0", "messages_p10000000"]
    assert names(env, "message_events") == ["message_events_p0", "message_events_p10000000"]
    env.query("SELECT setval('messages_id_seq', 19999600)")  # 400 ids left: under half
    w = World(env, FAST)
    try:
        api = w.api("acme")
        w.daemon.wait_log(r"retention: created messages_p20000000")
        assert names(env)[-1] == "messages_p20000000"
        assert parts(env)[-1][1:] == (20000000, 20001000)
        assert names(env, "message_events")[-1] == "message_events_p20000000"
        bot = api.new_bot()
        # an id far past every partition: accepted all the same, into the default one
        env.query("SELECT setval('messages_id_seq', 25000000)")
        r = api.send({"bot_id": bot["id"], "chat_id": 5, "text": "far"})
        assert r.status_code == 202, r.text
        mid = r.json()["id"]
        assert mid == 25000001
        assert env.query("SELECT tableoid::regclass::text FROM messages WHERE id = %s",
                         (mid,)) == [("messages_default",)]
        # the next run makes a partition after it, and new messages go there
        w.daemon.wait_log(r"retention: created messages_p25000002")
        r = api.send({"bot_id": bot["id"], "chat_id": 5, "text": "next"})
        assert r.status_code == 202, w.daemon.log()[-3000:]
        assert env.query("SELECT tableoid::regclass::text FROM messages WHERE id = %s",
                         (r.json()["id"],)) == [("messages_p25000002",)]
        assert env.query("SELECT count(*) FROM messages") == [(2,)]
    finally:
        w.close()


# ------------------------------------------------------------ dropping partitions

def test_pruner_drops_old_partitions_and_keeps_recent_rows(tgm_env):
    """Partitions of 1,000 ids: A (40 days old, one message still queued), B (20 days
    old), C (half 20 days old, half new), D (ahead, empty). With messages kept 30 days and
    events 10: A stays while its message is open, then goes with its events, callbacks
    and Bot API answers; B loses its events partition only; C and D stay whole. No row
    created after the cut-off is lost, and the empty first partitions go."""
    env = tgm_env
    t, b = tenant_and_bot(env)
    env.query("SELECT setval('messages_id_seq', 19999999)")
    assert ahead(env) == "messages_p20000000"
    a = add_messages(env, t, b, 999, "40 days")
    a += add_messages(env, t, b, 1, "40 days", status="queued")
    assert (a[0], a[-1]) == (20000000, 20000999)
    env.query("INSERT INTO callbacks (message_id, tenant_id, url, payload, status)"
              " SELECT id, %s, 'http://127.0.0.1:9/', '{}', 'delivered'"
              " FROM unnest(%s::bigint[]) id", (t, a[:5]))
    env.query("INSERT INTO botapi_answers (message_id, http_status, body) VALUES (%s, 200, '{}')",
              (a[7],))
    assert ahead(env) == "messages_p20001000"
    bb = add_messages(env, t, b, 1000, "20 days")
    assert ahead(env) == "messages_p20002000"
    c = add_messages(env, t, b, 500, "20 days") + add_messages(env, t, b, 500, "1 minute")
    assert ahead(env) == "messages_p20003000"
    assert c[-1] == 20002999 and bb[0] == 20001000
    recent = env.query("SELECT count(*), sum(id) FROM messages"
                       " WHERE created_at >= now() - interval '30 days'")[0]

    w = World(env, {**FAST, ("retention", "messages_days"): "30",
                    ("retention", "events_days"): "10", ("retention", "callbacks_days"): "0"})
    try:
        gw = w.daemon
        gw.wait_log(r"retention: dropped message_events_p20001000")
        # A's queued message keeps it, and everything before it went (empty, old)
        assert names(env) == ["messages_p20000000", "messages_p20001000",
                              "messages_p20002000", "messages_p20003000"]
        # A's events are older than 10 days too: they went, its messages wait
        assert names(env, "message_events") == ["message_events_p20002000",
                                                "message_events_p20003000"]
        env.query("UPDATE messages SET status = 'sent' WHERE id = %s", (a[-1],))
        gw.wait_log(r"retention: dropped messages_p20000000", timeout=15)
        assert names(env) == ["messages_p20001000", "messages_p20002000", "messages_p20003000"]
        assert names(env, "message_events") == ["message_events_p20002000",
                                                "message_events_p20003000"]
        assert re.search(r"retention: refs messages_p20000000", gw.log())
    finally:
        w.close()
    assert env.query("SELECT count(*) FROM messages WHERE id < 20001000") == [(0,)]
    assert env.query("SELECT count(*) FROM callbacks") == [(0,)]
    assert env.query("SELECT count(*) FROM botapi_answers") == [(0,)]
    assert env.query("SELECT count(*), min(id), max(id) FROM messages") == [(2000, 20001000,
                                                                             20002999)]
    # nothing newer than the cut-off lost; C's events all kept (its newest are recent)
    assert env.query("SELECT count(*), sum(id) FROM messages"
                     " WHERE created_at >= now() - interval '30 days'")[0] == recent
    assert env.query("SELECT count(*), min(message_id), max(message_id) FROM message_events") \
        == [(1000, 20002000, 20002999)]
    assert env.query("SELECT count(*) FROM messages_default") == [(0,)]


def test_a_campaign_keeps_its_progress_and_report_once_its_messages_are_pruned(tgm_env):
    """A campaign's recipients keep their message's outcome (status, attempts, Telegram's
    id, when sent, last error) when the pruner drops its partition: the progress, the
    report and "send again to those that failed" read the same after as before."""
    env = tgm_env
    t, b = tenant_and_bot(env, "keep")
    env.query("SELECT setval('messages_id_seq', 19999999)")
    assert ahead(env) == "messages_p20000000"
    ids = add_messages(env, t, b, 1000, "40 days")
    assert ahead(env) == "messages_p20001000"
    add_messages(env, t, b, 1, "1 minute")  # the sequence passes the partition's end
    env.query("UPDATE messages SET attempts = 1, telegram_message_id = id - 19999000,"
              " sent_at = created_at WHERE id = ANY(%s)", (ids[:2],))
    env.query("UPDATE messages SET status = 'failed', attempts = 3,"
              " last_error = 'Forbidden: bot was blocked by the user' WHERE id = %s", (ids[2],))
    c = env.query("INSERT INTO campaigns (tenant_id, bot_ids, message, method, params, state,"
                  " recipients, started_at) VALUES (%s, ARRAY[%s::bigint], '{\"text\":\"hi\"}',"
                  " 'sendMessage', '{\"text\":\"hi\"}', 'running', 3,"
                  " now() - interval '40 days') RETURNING id", (t, b))[0][0]
    env.query("INSERT INTO campaign_recipients (campaign_id, bot_id, user_id, message_id)"
              " SELECT %s, %s, 700 + i, id FROM unnest(%s::bigint[]) WITH ORDINALITY x(id, i)",
              (c, b, ids[:3]))
    w = World(env, {**FAST, ("retention", "messages_days"): "30",
                    ("retention", "events_days"): "30"})
    try:
        api = w.api("keep")

        def seen():
            got = api.get(f"/v1/campaigns/{c}")
            assert got.status_code == 200, got.text
            report = api.get(f"/v1/campaigns/{c}/report.csv")
            assert report.status_code == 200, report.text
            return got.json()["progress"], report.text.splitlines()
        before = seen()
        assert (before[0]["sent"], before[0]["failed"]) == (2, 1)
        assert before[0]["failed_by_reason"] == [
            {"reason": "Forbidden: bot was blocked by the user", "count": 1}]
        assert len(before[1]) == 4 and ",sent,1,1000," in before[1][1]
        w.daemon.wait_log(r"retention: dropped messages_p20000000", timeout=20)
        assert re.search(r"retention: outcomes messages_p20000000", w.daemon.log())
        assert env.query("SELECT count(*) FROM messages WHERE id = ANY(%s)", (ids[:3],)) \
            == [(0,)]
        assert seen() == before
        r = env.query("INSERT INTO campaigns (tenant_id, bot_ids, message, method, params,"
                      " retry_of) SELECT tenant_id, bot_ids, message, method, params, id"
                      " FROM campaigns WHERE id = %s RETURNING id", (c,))[0][0]
        env.query("INSERT INTO bot_users (bot_id, user_id) SELECT %s, 700 + i"
                  " FROM generate_series(1, 3) i", (b,))
        assert env.query("SELECT user_id FROM campaign_audience("
                         "(SELECT c FROM campaigns c WHERE id = %s))", (r,)) == [(703,)]
    finally:
        w.close()


def test_old_messages_of_the_default_partition_go_row_by_row(tgm_env):
    """Messages whose ids no partition held (no gatewayd ran while half a partition's ids
    were used up) are in the default partition: they go as a partition's do (old and
    final, their callbacks and events first), oldest id first, a batch a step (a step
    reads its batch by id, not the partition), and an open one keeps those after it until
    it is done. Young ones stay; the counters keep them all."""
    env = tgm_env
    t, b = tenant_and_bot(env, "dflt")
    env.query("SELECT setval('messages_id_seq', 25000000)")  # past every partition
    old = add_messages(env, t, b, 5, "40 days")
    held = add_messages(env, t, b, 1, "40 days", status="queued")
    after = add_messages(env, t, b, 3, "40 days", status="failed")
    young = add_messages(env, t, b, 2, "1 minute")
    assert env.query("SELECT count(*) FROM messages_default") == [(11,)]
    env.query("INSERT INTO callbacks (message_id, tenant_id, url, payload, status)"
              " SELECT id, %s, 'http://127.0.0.1:9/', '{}', 'delivered'"
              " FROM unnest(%s::bigint[]) id", (t, old[:2] + after[:1]))
    counted = "SELECT sum(n) FROM bot_status_counts WHERE bot_id = %s"
    before = env.query(counted, (b,))

    def default_ids():
        return [r[0] for r in env.query("SELECT id FROM messages_default ORDER BY id")]
    w = World(env, {**FAST, ("retention", "messages_days"): "30",
                    ("retention", "events_days"): "30", ("retention", "callbacks_days"): "0",
                    ("retention", "batch"): "2"})
    try:
        wait_for(lambda: default_ids() == held + after + young, 20, what="the old five gone")
        log = w.daemon.log()
        assert re.search(r"retention: refs messages_default", log), log[-3000:]
        assert len(re.findall(r"retention: deleted 2 messages_default", log)) == 2, log[-3000:]
        assert re.search(r"retention: deleted 1 messages_default", log), log[-3000:]
        assert env.query("SELECT count(*) FROM message_events WHERE message_id = ANY(%s)",
                         (old,)) == [(0,)]
        assert env.query("SELECT count(*) FROM callbacks") == [(1,)]
        assert env.query(counted, (b,)) == before
        env.query("UPDATE messages SET status = 'sent' WHERE id = %s", (held[0],))
        wait_for(lambda: default_ids() == young, 20, what="the held one and those after it")
        assert env.query("SELECT count(*) FROM callbacks") == [(0,)]
        assert env.query("SELECT count(*) FROM message_events WHERE message_id = ANY(%s)",
                         (young,)) == [(2,)]
        time.sleep(2)  # further runs: the young ones stay
        assert default_ids() == young
        assert env.query(counted, (b,)) == before
    finally:
        w.close()


# ------------------------------------------------------------ small tables

def test_small_tables_lose_old_rows_in_batches(tgm_env):
    """Each small table keeps what is young or still to be done; the rest goes, in
    batches of [retention] batch rows; an expired Idempotency-Key may be used again."""
    env = tgm_env
    t, b = tenant_and_bot(env, "small")
    [mid] = add_messages(env, t, b, 1, "1 hour")
    q = env.query
    q("INSERT INTO message_keys (tenant_id, idempotency_key, message_id, created_at)"
      " SELECT %s, 'old' || g, %s, now() - interval '3 hours' FROM generate_series(1, 5) g",
      (t, mid))
    q("INSERT INTO message_keys (tenant_id, idempotency_key, message_id) VALUES (%s, 'new', %s)",
      (t, mid))
    q("INSERT INTO tg_updates (bot_id, update_id, kind, payload, received_at, processed_at,"
      " billing_at, billing_done_at) VALUES"
      " (%(b)s, 1, 'message', '{}', now() - interval '40 days', now(), NULL, NULL),"
      " (%(b)s, 2, 'message', '{}', now() - interval '40 days', NULL, NULL, NULL),"
      " (%(b)s, 3, 'message', '{}', now() - interval '40 days', now(), now(), NULL),"
      " (%(b)s, 4, 'message', '{}', now() - interval '40 days', now(), now(), now()),"
      " (%(b)s, 5, 'message', '{}', now() - interval '1 day', now(), NULL, NULL)", {"b": b})
    q("INSERT INTO stripe_events (id, type, payload, received_at, processed_at) VALUES"
      " ('evt_old', 'x', '{}', now() - interval '500 days', now()),"
      " ('evt_todo', 'x', '{}', now() - interval '500 days', NULL),"
      " ('evt_new', 'x', '{}', now(), now())")
    q("INSERT INTO callbacks (message_id, tenant_id, url, payload, status, created_at) VALUES"
      " (%(m)s, %(t)s, 'http://x/', '{}', 'delivered', now() - interval '40 days'),"
      " (%(m)s, %(t)s, 'http://x/', '{}', 'failed', now() - interval '40 days'),"
      " (%(m)s, %(t)s, 'http://x/', '{}', 'pending', now() - interval '40 days'),"
      " (%(m)s, %(t)s, 'http://x/', '{}', 'delivered', now())", {"m": mid, "t": t})
    acct = q("INSERT INTO accounts (tenant_id, email, role, password_hash)"
             " VALUES (%s, 'a@example.com', 'owner', 'x') RETURNING id", (t,))[0][0]
    q("INSERT INTO sessions (account_id, hash, last_seen_at, revoked_at) VALUES"
      " (%(a)s, 'h1', now() - interval '40 days', NULL),"
      " (%(a)s, 'h2', now(), now() - interval '40 days'),"
      " (%(a)s, 'h3', now() - interval '40 days', now()),"
      " (%(a)s, 'h4', now(), NULL)", {"a": acct})
    conv = q("INSERT INTO conversations (tenant_id, bot_id, chat_id) VALUES (%s, %s, 1)"
             " RETURNING id", (t, b))[0][0]
    q("INSERT INTO conversation_items (conversation_id, tenant_id, kind, text, at)"
      " SELECT %s, %s, 'note', 'n' || g, now() - interval '400 days' + g * interval '1 day'"
      " FROM generate_series(1, 60) g", (conv, t))

    w = World(env, {**FAST, ("retention", "batch"): "2", ("retention", "idempotency_hours"): "1"})
    try:
        wait_for(lambda: q("SELECT count(*) FROM conversation_items") == [(25,)], 20,
                 what="the inbox's old items to go")
        w.daemon.wait_log(r"retention: deleted 2 idempotency")
        assert "deleted 3 " not in w.daemon.log()  # batches of 2 at most
    finally:
        w.close()
    assert q("SELECT idempotency_key FROM message_keys") == [("new",)]
    assert q("SELECT update_id FROM tg_updates ORDER BY 1") == [(2,), (3,), (5,)]
    assert q("SELECT id FROM stripe_events ORDER BY 1") == [("evt_new",), ("evt_todo",)]
    assert q("SELECT status FROM callbacks ORDER BY id") == [("pending",), ("delivered",)]
    assert q("SELECT hash FROM sessions ORDER BY id") == [(b"h3",), (b"h4",)] or \
        q("SELECT encode(hash, 'escape') FROM sessions ORDER BY id") == [("h3",), ("h4",)]
    assert q("SELECT count(*) FROM conversation_items WHERE at < now() - interval '365 days'") \
        == [(0,)]


def test_an_expired_idempotency_key_may_be_used_again(tgm_env):
    env = tgm_env
    w = World(env, {**FAST, ("retention", "idempotency_hours"): "1"})
    try:
        api = w.api("acme")
        bot = api.new_bot()
        body = {"bot_id": bot["id"], "chat_id": 9, "text": "once"}
        h = {"Idempotency-Key": "order-9"}
        first = api.send(body, headers=h)
        assert first.status_code == 202, first.text
        again = api.send(body, headers=h)
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        env.query("UPDATE message_keys SET created_at = now() - interval '2 hours'")
        wait_for(lambda: env.query("SELECT count(*) FROM message_keys") == [(0,)], 10,
                 what="the key to expire")
        later = api.send(body, headers=h)
        assert later.status_code == 202 and "Idempotent-Replayed" not in later.headers
        assert later.json()["id"] != first.json()["id"]
        assert env.query("SELECT message_id FROM message_keys") == [(later.json()["id"],)]
    finally:
        w.close()


# ------------------------------------------------------------ one pruner at a time

def test_two_gatewayds_prune_by_turns_never_together(tgm_env):
    """Two gatewayds on one database, both running the pruner every second: one holds the
    lease and does all the work, the other does nothing; when the holder stops it gives
    the lease back and the other takes over."""
    env = tgm_env
    t, b = tenant_and_bot(env, "two")
    [mid] = add_messages(env, t, b, 1, "1 minute")
    over = {**FAST, ("retention", "batch"): "1", ("retention", "idempotency_hours"): "1"}
    w = World(env, over)
    try:
        conf2 = env.write_config({**over, ("telegram", "api_url"): w.tg.url,
                                  ("gatewayd", "listen"): f"127.0.0.1:{env.webhookd_port}",
                                  ("gatewayd", "doorbell"): env.endpoint("gw2-doorbell"),
                                  ("gatewayd", "status"): env.endpoint("gw2-status")},
                                 name="gw2.conf")
        gw1 = w.daemon
        gw2 = env.daemon("gatewayd", conf=conf2, args=["--instance", "two"])

        def old_keys(prefix, n):
            env.query("INSERT INTO message_keys (tenant_id, idempotency_key, message_id,"
                      " created_at) SELECT %s, %s || g, %s, now() - interval '2 hours'"
                      " FROM generate_series(1, %s) g", (t, prefix, mid, n))
        old_keys("a", 30)
        wait_for(lambda: env.query("SELECT count(*) FROM message_keys") == [(0,)], 20,
                 what="the old keys to go")
        time.sleep(2)  # both have run again meanwhile
        acted = [d for d in (gw1, gw2) if "retention: deleted" in d.log()]
        assert len(acted) == 1, "exactly one gatewayd prunes"
        holder = acted[0]
        other = gw2 if holder is gw1 else gw1
        assert holder.log().count("retention: deleted 1 idempotency") == 30
        assert "another instance holds the pruner's lease" in other.log()
        owner = env.query("SELECT owner FROM retention_lease")[0][0]
        assert owner.endswith("/two") == (holder is gw2)
        # the holder stops: the lease is given back, and the other one takes over
        holder.stop()
        [(owner_now, released)] = env.query("SELECT owner, until = '-infinity'"
                                            " FROM retention_lease")
        assert released or owner_now != owner, (owner_now, released)  # given back (or taken)
        old_keys("b", 3)  # within 20 s, not the lease's 61: it was given back
        wait_for(lambda: env.query("SELECT count(*) FROM message_keys") == [(0,)], 20,
                 what="the other gatewayd to take over")
        assert other.log().count("retention: deleted 1 idempotency") == 3
    finally:
        w.close()


# ------------------------------------------------------------ configuration

@pytest.mark.parametrize("key,value,says", [
    ("messages_days", "-1", r"messages_days.*must be between 0 and 36500"),
    ("messages_days", "ninety", r"messages_days.*must be an integer"),
    ("events_days", "100", r"retention.events_days \(100\) must be 1 to retention.messages_days \(90\)"),
    ("events_days", "0", r"retention.events_days \(0\) must be 1 to retention.messages_days"),
    ("idempotency_hours", "0", r"idempotency_hours.*must be between 1 and 876000"),
    ("idempotency_hours", "2161", r"retention.idempotency_hours \(2161\) must be at most"),
    ("partition_size", "10", r"partition_size.*must be between 1000 and 1000000000"),
    ("interval", "0", r"interval.*must be between 1 and 86400"),
    ("batch", "1000000", r"batch.*must be between 1 and 100000"),
    ("kept", "1", r'unknown key "kept" in \[retention\]'),
])
def test_bad_retention_values_are_refused_clearly(tgm_env, key, value, says):
    conf = tgm_env.write_config({("retention", key): value}, name="bad.conf")
    r = tgm_env.run("gatewayd", "-c", str(conf), "--check-config")
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(says, r.stderr), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_good_retention_values_pass(tgm_env):
    conf = tgm_env.write_config({("retention", "messages_days"): "0",
                                 ("retention", "events_days"): "0",
                                 ("retention", "idempotency_hours"): "100000",
                                 ("retention", "inbox_days"): "0"}, name="good.conf")
    r = tgm_env.run("gatewayd", "-c", str(conf), "--check-config")
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------ the migration

def apply_before(conn, version):
    """Apply the migrations of sql/ numbered below version, as tgmctl does (each in a
    transaction, recorded with its checksum)."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                    " name text NOT NULL, checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())")
    for path in sorted((REPO / "sql").glob("[0-9][0-9][0-9]_*.sql")):
        v = int(path.name[:3])
        if v >= version:
            continue
        text = path.read_text()
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute(text)
            cur.execute("INSERT INTO schema_migrations (version, name, checksum)"
                        " VALUES (%s, %s, %s)", (v, path.stem,
                                                 hashlib.sha256(text.encode()).hexdigest()))
        conn.commit()
        conn.autocommit = True


ROW = ("SELECT md5(string_agg(t::text, ',' ORDER BY t.id)), count(*) FROM {} t")


def test_migration_keeps_every_row_and_the_daemons_work(tgm_env, tg):
    """A database at the schema before 027, with 20,000 messages (every status, some with
    idempotency keys, callbacks and Bot API answers) and their events, is migrated: every
    row of messages and message_events is the same (compared whole), the keys moved to
    message_keys and still answer replays, and gatewayd and senderd work on it: a message
    queued before the migration and one accepted after are both sent."""
    env = tgm_env
    db = env.pg.new_db(None)
    url = env.pg.url(db)
    conn = env.pg.connect(db)
    apply_before(conn, 27)
    q = lambda sql, args=None: env.pg.query(db, sql, args)  # noqa: E731
    conf = env.write_config({("database", "url"): url, ("telegram", "api_url"): tg.url,
                             ("senderd", "sweep_interval"): "1"}, name="mig.conf")
    t = q("INSERT INTO tenants (name) VALUES ('mig') RETURNING id")[0][0]
    # the bot gatewayd registers later sends the queued message; this one holds history
    b = q("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)"
          " VALUES (%s, 1, 'hist', 'v1.unused', '\\x01') RETURNING id", (t,))[0][0]
    q("INSERT INTO messages (tenant_id, bot_id, chat, params, status, idempotency_key,"
      " request_hash, created_at, sent_at)"
      " SELECT %s, %s, (g %% 100)::text, jsonb_build_object('chat_id', g %% 100, 'text', 'h' || g),"
      " (ARRAY['sent', 'failed', 'expired', 'canceled'])[1 + g %% 4],"
      " CASE WHEN g %% 10 = 0 THEN 'hk' || g END,"
      " CASE WHEN g %% 10 = 0 THEN sha256(g::text::bytea) END,"
      " now() - (20000 - g) * interval '1 second', now()"
      " FROM generate_series(1, 20000) g ORDER BY g", (t, b))
    q("INSERT INTO message_events (message_id, status, detail, at)"
      " SELECT id, s, 'd' || id, created_at FROM messages, unnest(ARRAY['sending', status]) s"
      " ORDER BY id")
    q("INSERT INTO callbacks (message_id, tenant_id, url, payload)"
      " SELECT id, %s, 'http://127.0.0.1:9/', '{}' FROM messages WHERE id %% 1000 = 0", (t,))
    q("INSERT INTO botapi_answers (message_id, http_status, body)"
      " SELECT id, 200, '{}' FROM messages WHERE id % 777 = 0")
    before = {tab: q(ROW.format(tab))[0] for tab in ("messages", "message_events")}
    keys_before = q("SELECT tenant_id, idempotency_key, id, request_hash FROM messages"
                    " WHERE idempotency_key IS NOT NULL ORDER BY 2")
    assert before["messages"][1] == 20000 and before["message_events"][1] == 40000

    r = env.tgmctl("migrate", conf=conf, timeout=300)
    assert r.returncode == 0, r.stderr
    conn.close()
    key = env.tgmctl("key", "create", "--tenant", "mig", "--scope", "admin", conf=conf)
    assert key.returncode == 0, key.stderr
    key = key.stdout.strip()
    after = {tab: q(ROW.format(tab))[0] for tab in ("messages", "message_events")}
    assert after == before
    assert q("SELECT tenant_id, idempotency_key, message_id, request_hash FROM message_keys"
             " ORDER BY 2") == keys_before
    assert q("SELECT count(*) FROM callbacks") == [(20,)]
    assert q("SELECT count(*) FROM messages_p0") == [(20000,)]
    assert q("SELECT relkind FROM pg_class WHERE relname = 'messages'") == [("p",)]
    assert q("SELECT last_value FROM messages_id_seq") == [(20000,)]
    # the indexes a claim reads are there, partitioned (sql/020_claim_indexes.sql)
    for idx in ("messages_due", "messages_chat_open", "messages_later", "messages_pkey"):
        assert q("SELECT c.relkind FROM pg_class c WHERE c.relname = %s", (idx,)) == [("I",)]

    gw = env.daemon("gatewayd", conf=conf)
    sd = env.daemon("senderd", conf=conf, args=["--instance", "mig"])
    base = env.http("gatewayd")
    auth = {"Authorization": f"Bearer {key}"}
    r = requests.post(base + "/v1/bots", timeout=20, headers=auth,
                      json={"token": "777002:MIGRATEmigrateMIGRATEmigrate12345", "name": "mig"})
    assert r.status_code == 201, r.text
    bot = r.json()["id"]
    # queued before the migration (as an old gatewayd would have), sent after it
    old = q("INSERT INTO messages (tenant_id, bot_id, chat, params)"
            " VALUES (%s, %s, '42', '{\"chat_id\": 42, \"text\": \"queued before\"}')"
            " RETURNING id", (t, bot))[0][0]
    r = requests.post(base + "/v1/messages", timeout=10, headers=auth,
                      json={"bot_id": bot, "chat_id": 42, "text": "accepted after"})
    assert r.status_code == 202, r.text
    new = r.json()["id"]
    assert new > old > 20000
    wait_for(lambda: q("SELECT count(*) FROM messages WHERE id IN (%s, %s) AND status = 'sent'",
                       (old, new)) == [(2,)], 30, what="both messages to be sent")
    assert sorted(c.text for c in tg.sends()) == ["accepted after", "queued before"]
    # an idempotency key of before the migration is still known: another request under
    # it is a conflict (the stored request hash is not this one's)
    r = requests.post(base + "/v1/messages", timeout=10,
                      headers={**auth, "Idempotency-Key": "hk10"},
                      json={"bot_id": bot, "chat_id": 42, "text": "not again"})
    assert r.status_code == 422 and r.json()["type"].endswith("idempotency_conflict"), r.text
    sd.stop()
    gw.stop()
