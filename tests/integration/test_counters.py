"""The counters of sql/009_counters.sql (issue 12) stay exact as messages move.

gatewayd reads queue depths, bot health, stats and its bot choice from tables kept by
statement triggers instead of counting the messages table. Here messages go every way
through the real daemons (accepted by gatewayd, sent, failed, retried after a 429 and a
5xx, expired by senderd against the fake Telegram; canceled through the API; canceled
by deleting their bot) and after each step every counter table is compared with a count
made afresh from messages and message_events.
"""

import time
from datetime import datetime, timedelta, timezone

from api_helpers import api, msg, world  # noqa: F401 (fixtures)
from conftest import wait_for
from fake_telegram import FakeTelegram

FINAL = ("sent", "failed", "expired", "canceled")

# each check: the rows where the kept figure and the fresh count differ
CHECKS = {
    "bot_status_counts": """
        SELECT * FROM (SELECT bot_id, status, sum(n) AS n FROM bot_status_counts
                       GROUP BY 1, 2) k
        FULL JOIN (SELECT bot_id, status, count(*) AS n FROM messages GROUP BY 1, 2) c
        USING (bot_id, status) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_minutes": """
        SELECT * FROM (SELECT bot_id, t, status, sum(n) AS n FROM bot_minutes
                       GROUP BY 1, 2, 3) k
        FULL JOIN (SELECT bot_id, date_trunc('minute', created_at) AS t, status,
                          count(*) AS n FROM messages GROUP BY 1, 2, 3) c
        USING (bot_id, t, status) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_hours": """
        SELECT * FROM (SELECT bot_id, t, status, sum(n) AS n FROM bot_hours
                       GROUP BY 1, 2, 3) k
        FULL JOIN (SELECT bot_id, date_trunc('hour', created_at) AS t, status,
                          count(*) AS n FROM messages GROUP BY 1, 2, 3) c
        USING (bot_id, t, status) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_done_seconds": """
        SELECT * FROM (SELECT bot_id, status, t, sum(n) AS n FROM bot_done_seconds
                       GROUP BY 1, 2, 3) k
        FULL JOIN (SELECT bot_id, status, date_trunc('second', CASE WHEN status = 'sent'
                          THEN sent_at ELSE updated_at END) AS t, count(*) AS n
                   FROM messages WHERE status IN ('sent', 'failed') GROUP BY 1, 2, 3) c
        USING (bot_id, status, t) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_latency": """
        SELECT * FROM (SELECT bot_id, t, ms, sum(n) AS n FROM bot_latency GROUP BY 1, 2, 3) k
        FULL JOIN (SELECT bot_id, date_trunc('hour', created_at) AS t,
                          latency_bin(greatest(extract(epoch FROM sent_at - created_at)
                                               * 1000, 0)) AS ms, count(*) AS n
                   FROM messages WHERE status = 'sent' GROUP BY 1, 2, 3) c
        USING (bot_id, t, ms) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_flood_minutes": """
        SELECT * FROM (SELECT bot_id, t, sum(n) AS n FROM bot_flood_minutes GROUP BY 1, 2) k
        FULL JOIN (SELECT m.bot_id, date_trunc('minute', m.created_at) AS t, count(*) AS n
                   FROM message_events e JOIN messages m ON m.id = e.message_id
                   WHERE e.detail LIKE '429%%' GROUP BY 1, 2) c
        USING (bot_id, t) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_inbound_hours": """
        SELECT * FROM (SELECT bot_id, t, sum(n) AS n FROM bot_inbound_hours GROUP BY 1, 2) k
        FULL JOIN (SELECT bot_id, date_trunc('hour', received_at) AS t, count(*) AS n
                   FROM tg_updates WHERE kind NOT LIKE 'tgm\\_%%' GROUP BY 1, 2) c
        USING (bot_id, t) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_debit_hours": """
        SELECT * FROM (SELECT bot_id, t, sum(credits) AS n FROM bot_debit_hours
                       GROUP BY 1, 2) k
        FULL JOIN (SELECT bot_id, date_trunc('hour', at) AS t, -sum(credits) AS n
                   FROM ledger WHERE kind = 'debit' GROUP BY 1, 2) c
        USING (bot_id, t) WHERE coalesce(k.n, 0) <> coalesce(c.n, 0)""",
    "bot_chats": """
        SELECT DISTINCT chat, bot_id FROM messages
        EXCEPT SELECT chat, bot_id FROM bot_chats""",
    # the latest error of each bot (any of them where several share the latest time)
    "bot_last_error": """
        SELECT c.bot_id FROM (SELECT bot_id, max(updated_at) AS at FROM messages
                              WHERE last_error IS NOT NULL GROUP BY 1) c
        LEFT JOIN bot_last_error k USING (bot_id)
        WHERE k.error IS NULL OR NOT EXISTS (SELECT 1 FROM messages m
            WHERE m.bot_id = c.bot_id AND m.updated_at = c.at AND m.last_error = k.error)""",
}


def assert_exact(world, when):
    for name, sql in CHECKS.items():
        assert world.query(sql) == [], f"{name} differs from a fresh count {when}"


def future(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def senderd(world, tg):
    conf = world.env.write_config({
        ("telegram", "api_url"): tg.url, ("telegram", "timeout"): "5",
        ("senderd", "lease_seconds"): "3", ("senderd", "sweep_interval"): "1",
        ("senderd", "retry_base_ms"): "100", ("senderd", "retry_cap_s"): "1",
        ("senderd", "max_attempts"): "5", ("senderd", "ambiguous"): "retry"},
        name="senderd.conf")
    return world.env.daemon("senderd", conf=conf, args=["--instance", "counters"])


def statuses(world, ids):
    return dict(world.query("SELECT id, status FROM messages WHERE id = ANY(%s)", (ids,)))


def test_counters_stay_exact_through_every_transition(world, api):
    a = api.new_bot(settings={"per_second": 100, "chat_per_second": 30})
    b = api.new_bot()
    assert_exact(world, "with no messages")

    sent = [api.send_ok(msg(bot_id=a["id"], chat_id=5001, text=f"s{i}"))["id"]
            for i in range(5)]
    flood = api.send_ok(msg(bot_id=a["id"], chat_id=5002, text="flood"))["id"]
    retried = api.send_ok(msg(bot_id=a["id"], chat_id=5003, text="5xx"))["id"]
    failed = api.send_ok(msg(bot_id=a["id"], chat_id=5004, text="blocked"))["id"]
    expired = api.send_ok(msg(bot_id=a["id"], chat_id=5005, text="late",
                              ttl_seconds=1))["id"]
    canceled = api.send_ok(msg(bot_id=a["id"], chat_id=5006, text="cancel me",
                               send_at=future(3600)))["id"]
    chosen = api.send_ok(msg(chat_id=5001, text="chosen"))  # a knows 5001, b does not
    assert chosen["bot_id"] == a["id"]
    of_b = [api.send_ok(msg(bot_id=b["id"], chat_id=6000 + i, text=f"b{i}"))["id"]
            for i in range(3)]
    assert_exact(world, "after accepting")
    depth = {x["id"]: x["queue_depth"] for x in api.get("/v1/bots").json()["bots"]}
    assert depth == {a["id"]: 11, b["id"]: 3}

    assert api.post(f"/v1/messages/{canceled}/cancel").status_code == 200
    assert api.delete(f"/v1/bots/{b['id']}").json()["canceled_messages"] == 3
    assert_exact(world, "after canceling and deleting a bot")

    tg = FakeTelegram().start()  # senderd's Telegram, with faults
    tg.flood(retry_after=1, times=1, chat=5002)
    tg.server_error(times=1, chat=5003)
    tg.blocked(chat=5004)
    time.sleep(1.5)  # the ttl of `expired` runs out before any senderd sees it
    try:
        d = senderd(world, tg)
        ids = sent + [flood, retried, failed, expired, canceled, chosen["id"]] + of_b
        wait_for(lambda: all(s in FINAL for s in statuses(world, ids).values()), 30,
                 interval=0.2, what="every message final")
        st = statuses(world, ids)
        assert [st[i] for i in (flood, retried, failed, expired, canceled)] == \
            ["sent", "sent", "failed", "expired", "canceled"]
        d.stop()
    finally:
        tg.stop()
    assert_exact(world, "after senderd sent, failed, retried and expired")

    # and gatewayd's answers come from them
    ha = api.get(f"/v1/bots/{a['id']}").json()
    assert (ha["queue_depth"], ha["sent_last_hour"], ha["failed_last_hour"],
            ha["sent_last_minute"]) == (0, 8, 1, 8)
    t = api.get("/v1/stats").json()["total"]
    assert (t["accepted"], t["sent"], t["failed"], t["expired"], t["canceled"],
            t["rate_limited"], t["queue_depth"]) == (14, 8, 1, 1, 4, 1, 0)

    # rows moved by hand (an operator's UPDATE, a DELETE) are counted too
    world.query("UPDATE messages SET created_at = created_at - interval '3 hours',"
                " status = 'queued', sent_at = NULL WHERE id = %s", (sent[0],))
    world.query("DELETE FROM message_events WHERE message_id = %s", (canceled,))
    world.query("DELETE FROM callbacks WHERE message_id = %s", (canceled,))
    world.query("DELETE FROM messages WHERE id = %s", (canceled,))
    assert_exact(world, "after an UPDATE and a DELETE by hand")

    # compacting (gatewayd's janitor does it every minute) changes no figure
    world.query("UPDATE messages SET created_at = created_at - interval '1 hour',"
                " sent_at = sent_at - interval '10 minutes' WHERE id = ANY(%s)", (sent[1:],))
    world.query("SELECT bot_counters_compact()")
    assert_exact(world, "after compacting")
    assert world.query("SELECT count(*) FROM bot_minutes WHERE shard <> 0"
                       " AND t < now() - interval '2 minutes'") == [(0,)]
