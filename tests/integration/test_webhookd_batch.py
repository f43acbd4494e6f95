"""webhookd processing many chats' updates at once (issue 12, webhookd/group.c): the
updates of a claim are recorded together and finished together, in one statement per
connection, yet each chat keeps its order, nothing is lost or done twice across a
SIGKILL in the middle of it, and an update that makes the shared statement fail does
not hold back the others (they go on one by one).

Updates are written straight into tg_updates while webhookd is stopped (as it stores
them), so that its first claims are full batches of many chats; replies are checked in
the outbound queue (messages), where senderd would take them.
"""

import json
import re

import psycopg2
import pytest

from conftest import REPO, c_string, function_plan, plan_nodes, wait_for
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import World


class Batch(World):
    """World, with updates stored directly, in order."""

    def store(self, bot, updates):
        """updates into tg_updates in their order (seq follows it); their update_ids"""
        for u in updates:
            kind = next(k for k in u if k != "update_id")
            body = u[kind]
            chat = body.get("chat", {}).get("id") if isinstance(body, dict) else None
            self.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
                       " VALUES (%s, %s, %s, %s, %s::jsonb)",
                       (bot.id, int(u["update_id"]), chat, kind, json.dumps(u)))

    def pending(self, bot):
        return self.one("SELECT count(*) FROM tg_updates WHERE bot_id = %s"
                        " AND processed_at IS NULL", (bot.id,))[0]

    def replies_by_update(self, bot):
        """{update_id: [reply texts]}, and each chat's replies' update_ids in queue order"""
        rows = self.query(
            "SELECT m.chat, u.update_id, m.params->>'text' FROM messages m"
            " JOIN tg_updates u ON u.seq = (m.metadata->>'update')::bigint"
            " WHERE m.bot_id = %s ORDER BY m.id", (bot.id,))
        by_update, by_chat = {}, {}
        for chat, update_id, text in rows:
            by_update.setdefault(update_id, []).append(text)
            by_chat.setdefault(chat, []).append(update_id)
        return by_update, by_chat


@pytest.fixture
def w(tgm_env, tg, needs_cryptography):
    return Batch(tgm_env, tg)


def mixed(w, chats, rounds):
    """rounds of updates over chats (users 5000...), each chat's in turn: /start, /help,
    a plain text, /balance, an edit of the text, and a group message, so that a claim
    holds many chats and many kinds. [(update, the reply's first word or None)]"""
    out = []
    for r in range(rounds):
        for c in range(chats):
            user = 5000 + c
            if r == 0:
                out.append((w.message("/start", user=user), "welcome"))
            out.append((w.message("/help", user=user), "Commands:"))
            text = w.message(f"hello {r}", user=user)
            out.append((text, None))
            out.append((w.message("/balance", user=user), "Credits:"))
            edit = dict(text["message"], text=f"hello {r}, edited")
            out.append((w.update("edited_message", **edit), None))
            out.append((w.message(f"in a group {r}", user=user, chat=-9000 - c,
                                  chat_type="group"), None))
    return out


def check_all_once_in_order(w, bot, expected):
    """every update processed once, each command answered once, in its chat's order"""
    by_update, by_chat = w.replies_by_update(bot)
    for u, first in expected:
        got = by_update.get(u["update_id"], [])
        if first is None:
            assert got == [], (u, got)
        elif first == "welcome":
            assert len(got) == 1, (u, got)
        else:
            assert len(got) == 1 and got[0].startswith(first), (u, got)
    order = {u["update_id"]: i for i, (u, _) in enumerate(expected)}
    for chat, ids in by_chat.items():
        assert ids == sorted(ids, key=order.get), f"chat {chat}: replies out of order"
    texts = sum(1 for u, first in expected if "message" in u and first is None
                and u["message"]["chat"]["type"] == "private")
    commands = sum(1 for _, first in expected if first is not None)
    assert w.one("SELECT count(*) FROM conversation_items i JOIN conversations c"
                 " ON c.id = i.conversation_id WHERE c.bot_id = %s AND i.kind = 'message'"
                 " AND c.chat_id BETWEEN 5000 AND 5999",
                 (bot.id,))[0] == texts + commands
    assert w.one("SELECT count(*) FROM conversation_items i JOIN conversations c"
                 " ON c.id = i.conversation_id WHERE c.bot_id = %s AND i.edits > 0",
                 (bot.id,))[0] == texts


def test_a_batch_of_many_chats_keeps_each_chats_order_and_loses_nothing(w):
    bot = w.new_bot(free_credits=5)
    expected = mixed(w, chats=12, rounds=4)
    w.store(bot, [u for u, _ in expected])
    d = w.webhookd()
    rows = w.wait_processed(bot, len(expected), timeout=90)
    assert not [r for r in rows if r[2].startswith("failed")], rows
    check_all_once_in_order(w, bot, expected)
    assert w.one("SELECT count(*), sum(credits) FROM ledger WHERE bot_id = %s",
                 (bot.id,)) == (12, 60)
    assert "together" not in d.log(), "a group statement failed"


def test_a_kill_in_the_middle_of_batches_loses_and_repeats_nothing(w):
    bot = w.new_bot(free_credits=5)
    expected = mixed(w, chats=40, rounds=5)
    w.store(bot, [u for u, _ in expected])
    total = len(expected)
    d = w.webhookd()
    wait_for(lambda: w.pending(bot) < total - 100, 60, what="some updates processed")
    d.kill()
    left = w.pending(bot)
    assert 0 < left < total, "the kill came too late to be in the middle"
    w.webhookd()  # the killed one's claims run out first (2 x timeout + 10 s)
    w.wait_processed(bot, total, timeout=120)
    check_all_once_in_order(w, bot, expected)
    # the free credits once per user, whatever was done twice
    assert w.one("SELECT count(*), sum(credits) FROM ledger WHERE bot_id = %s",
                 (bot.id,)) == (40, 200)
    assert w.one("SELECT count(*) FROM bot_users WHERE bot_id = %s AND credits <> 5",
                 (bot.id,))[0] == 0


def test_bad_updates_in_a_batch_do_not_hold_back_the_others(w):
    bot = w.new_bot()
    expected = mixed(w, chats=8, rounds=2)
    bad_record = w.message("/help", user=6001)
    bad_record["message"]["from"]["id"] = "not a number"  # wh_record's cast fails
    not_update = {"update_id": "777000111", "message": {"text": "a string update_id"}}
    bad_reply = w.message("/help", user=6002)  # its reply is refused by the queue
    w.query("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'refused for the test'; END $$")
    w.query("CREATE TRIGGER test_refuse BEFORE INSERT ON messages FOR EACH ROW"
            " WHEN (NEW.chat = '6002') EXECUTE FUNCTION test_refuse()")
    # the bad ones among the first claim's (each chat's head is claimed at once)
    updates = [u for u, _ in expected]
    updates[3:3] = [bad_record, not_update, bad_reply]
    w.store(bot, updates)
    d = w.webhookd()
    good = {u["update_id"] for u, _ in expected}

    def good_done():
        rows = w.query("SELECT update_id, processed_at IS NOT NULL FROM tg_updates"
                       " WHERE bot_id = %s", (bot.id,))
        return all(done for u, done in rows if u in good)
    wait_for(good_done, 60, what="the good updates processed")
    check_all_once_in_order(w, bot, expected)
    outcome = dict(w.query("SELECT update_id, outcome FROM tg_updates WHERE bot_id = %s",
                           (bot.id,)))
    assert outcome[777000111] == "ignored: not an Update"
    log = d.log()
    assert "recording" in log and "together" in log, log
    assert "finishing" in log and "together" in log, log
    # the bad record is retried alone until webhookd gives up, and its chat goes on;
    # the refused reply leaves its update unprocessed, to be claimed again
    wait_for(lambda: outcome_of(w, bad_record), 60, what="the bad record given up")
    assert outcome_of(w, bad_record) == "failed: gave up after 5 attempts"
    assert outcome_of(w, bad_reply) is None


def test_an_update_names_a_bot_and_a_bot_with_updates_stays(w):
    """sql/052: an update's bot is checked once per statement (a trigger, not a foreign
    key), so one bad row of a group refuses the whole statement, as the key did; a bot
    with updates is neither deleted nor renumbered; a bot without may go (bad input: a
    clear error, and nothing written)"""
    bot = w.new_bot()
    w.store(bot, [w.message("/start", user=7001)])
    seq = w.one("SELECT seq FROM tg_updates WHERE bot_id = %s", (bot.id,))[0]
    before = w.one("SELECT count(*) FROM tg_updates")[0]
    insert = ("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
              " VALUES (%s, 1, 1, 'message', '{}')")
    for sql, args in ((insert, (bot.id + 999,)),
                      (insert + ", (%s, 2, 2, 'message', '{}')", (bot.id, bot.id + 999)),
                      ("UPDATE tg_updates SET bot_id = %s WHERE seq = %s",
                       (bot.id + 999, seq)),
                      ("DELETE FROM bots WHERE id = %s", (bot.id,)),
                      ("UPDATE bots SET id = DEFAULT WHERE id = %s", (bot.id,))):
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            w.query(sql, args)
    assert w.one("SELECT count(*) FROM tg_updates")[0] == before
    assert w.one("SELECT bot_id FROM tg_updates WHERE seq = %s", (seq,))[0] == bot.id
    # many rows of one bot are one check; a bot without updates may still go
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
            " SELECT %s, 100 + i, i, 'message', '{}' FROM generate_series(1, 50) i",
            (bot.id,))
    assert w.one("SELECT count(*) FROM tg_updates")[0] == before + 50
    tenant = w.one("SELECT tenant_id FROM bots WHERE id = %s", (bot.id,))[0]
    spare = w.one("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,"
                  " token_hash) VALUES (%s, 78, 'spare', 'v1.x', '\\x02') RETURNING id",
                  (tenant,))[0]
    w.query("DELETE FROM bots WHERE id = %s", (spare,))


def outcome_of(w, update):
    return w.one("SELECT outcome FROM tg_updates WHERE update_id = %s",
                 (update["update_id"],))[0]


def claim_sql():
    """webhookd's claim statement as webhookd/process.c sends it ($1: 60 s)"""
    src = (REPO / "webhookd" / "process.c").read_text()
    n = re.search(r"#define CLAIM_N (\d+)", src).group(1)
    return c_string("webhookd/process.c", "claim_sql", {"TEXT(CLAIM_N)": n}).replace(
        "$1", "60").replace("$2", "0").replace("$3", "0")


def stale_backlog(w, n, chats):
    """a new bot with 20,000 updates as processing leaves them (each processed, its claim
    not yet run out), statistics taken then (nothing queued: a live system's usual
    state), and a backlog of n updates over that many chats after them"""
    bot = w.new_bot()
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload, processed_at,"
            " outcome, claimed_until, attempts) SELECT %s, i, i, 'message',"
            " jsonb_build_object('update_id', i), now(), 'command /start',"
            " now() + interval '60 s', 1 FROM generate_series(1, 20000) i", (bot.id,))
    w.query("ANALYZE tg_updates")
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
            " SELECT %s, 100000 + i, 100000 + i %% %s, 'message',"
            " jsonb_build_object('update_id', i) FROM generate_series(1, %s) i",
            (bot.id, chats, n))


def test_the_claim_walks_the_backlog_in_order_after_statistics_of_an_empty_queue(w):
    """statistics taken while nothing was queued (a live system's usual state), on a
    table of some history, made the planner read every unprocessed update and sort them
    for each claim (sql/functions/wh_due.sql), and once walk the whole backlog for every
    update claimed (sql/047): the claim reads index tg_updates_todo in seq order, unsorted,
    checks each update's chat in a subplan on tg_updates_pending keyed by its bot, chat
    and seq, and updates its rows by key"""
    stale_backlog(w, 3000, 500)
    nodes = function_plan(w.env, "wh_due", {"n": "64", "after_bot": "0", "after_chat": "0"})
    check = [n for n in nodes if n.get("Index Name") == "tg_updates_pending"
             and "seq < p" in n.get("Index Cond", "")]
    assert check, nodes
    cond = check[0].get("Index Cond", "")
    assert re.search(r"bot_id = p(_\d+)?\.bot_id", cond), cond
    assert re.search(r"chat_id = p(_\d+)?\.chat_id", cond), cond
    assert not [n for n in nodes if "Join" in n.get("Node Type", "")], nodes
    assert not [n for n in nodes if n.get("Node Type") == "Sort"], nodes
    outer = [n for n in nodes if n.get("Index Name") == "tg_updates_todo"]
    assert outer, nodes  # the claim itself reads tg_updates_todo, oldest first
    claim = list(plan_nodes(w.one("EXPLAIN (FORMAT JSON) " + claim_sql())[0][0]["Plan"]))
    assert not [n for n in claim if n.get("Node Type") == "Seq Scan"], claim
    assert [n for n in claim if n.get("Index Name") == "tg_updates_pkey"], claim


def test_a_claim_behind_a_few_busy_chats_reads_a_bounded_window(w):
    """3,000 updates waiting in 3 chats (a big group's messages while webhookd was down),
    then one in each of 50 new chats: the claim read every waiting update of the busy
    chats to find their oldest (20,000 in 2 chats: 73-95 ms a claim of 2, for each of
    the 10,000 claims). It reads at most 4n + 64 of them (plus as many to find where that
    window ends), then finds the other chats' oldest chat by chat; every update it
    returns is its chat's oldest."""
    bot = w.new_bot()
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
            " SELECT %s, i, -1000 - i %% 3, 'message', jsonb_build_object('update_id', i)"
            " FROM generate_series(1, 3000) i", (bot.id,))
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
            " SELECT %s, 10000 + i, 800000 + i, 'message', jsonb_build_object('update_id', i)"
            " FROM generate_series(1, 50) i", (bot.id,))
    w.query("ANALYZE tg_updates")
    n = 64
    nodes = function_plan(w.env, "wh_due", {"n": str(n), "after_bot": "0", "after_chat": "0"},
                          analyze=True)
    # what reads tg_updates_todo in seq order (not the lookup of the chats' oldest by
    # key): the window's bound and the walk, 4n + 65 rows each
    in_order = [x for x in nodes if x.get("Index Name") == "tg_updates_todo"
                and "ANY" not in x.get("Index Cond", "")]
    read = sum(x["Actual Rows"] * x["Actual Loops"] + x.get("Rows Removed by Filter", 0)
               for x in in_order)
    assert read <= 2 * (4 * n + 65), (read, in_order)
    oldest = {s for (s,) in w.query(
        "SELECT min(seq) FROM tg_updates WHERE bot_id = %s GROUP BY chat_id", (bot.id,))}
    for _ in range(5):
        got = [s for (s,) in w.query("SELECT seq FROM wh_due(%s, 0, 0)"
                                      " WHERE seq IS NOT NULL", (n,))]
        assert set(got) <= oldest and len(got) == len(set(got)), got
        assert len(got) > 3, got  # the busy chats' oldest, and new chats'


def postponed_chats(w, bot, chats):
    """2 updates in each of chats chats of bot (users 5000...), the first postponed an
    hour (its processing failed)"""
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload,"
            " claimed_until, attempts) SELECT %s, i, 5000 + i %% %s, 'message',"
            " jsonb_build_object('update_id', i), CASE WHEN i <= %s"
            " THEN now() + interval '1 hour' END, CASE WHEN i <= %s THEN 1 ELSE 0 END"
            " FROM generate_series(1, 2 * %s) i", (bot.id, chats, chats, chats, chats))


def test_a_claim_behind_postponed_chats_goes_on_where_its_last_walk_stopped(w):
    """a bot whose 500 users' updates keep failing (each chat's oldest postponed, another
    waiting behind it), then 50 users of another bot: the window is all the first bot's,
    and the walk chat by chat started at the chat of a random waiting update, mostly
    the first bot's, so the other bot's users waited while those kept failing. Each walk
    now goes on where the last one stopped and wraps round: all 50 are claimed within a
    few claims (each claim's updates processed, as webhookd would)."""
    stuck, other = w.new_bot(), w.new_bot()
    postponed_chats(w, stuck, 500)
    w.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
            " SELECT %s, i, 9000 + i, 'message', jsonb_build_object('update_id', i)"
            " FROM generate_series(1, 50) i", (other.id,))
    fresh = {s for (s,) in w.query("SELECT seq FROM tg_updates WHERE bot_id = %s",
                                   (other.id,))}
    w.query("ANALYZE tg_updates")
    n, after, got, walks = 16, (0, 0), set(), []
    for _ in range(10):
        rows = w.query("SELECT seq, bot_id, chat_id FROM wh_due(%s, %s, %s)", (n, *after))
        cursor = [(b, c) for s, b, c in rows if s is None]
        assert len(cursor) <= 1, rows
        after = cursor[0] if cursor and cursor[0][0] is not None else after
        walks.append(after)
        seqs = {s for s, _, _ in rows if s is not None}
        assert seqs <= fresh, rows
        got |= seqs
        w.query("UPDATE tg_updates SET processed_at = now(), outcome = 'test'"
                " WHERE seq = ANY(%s)", (list(seqs),))
        if got == fresh:
            break
    assert got == fresh, (len(got), walks)
    assert len(walks) <= 7, walks


def test_webhookd_behind_postponed_chats_reaches_the_others(w):
    """the same through webhookd: 2,000 chats of a bot whose updates keep failing, then
    50 users of another bot; webhookd passes where its last walk stopped and walks on
    while it finds nothing, so the 50 are processed while the others wait"""
    stuck, other = w.new_bot(), w.new_bot()
    postponed_chats(w, stuck, 2000)
    w.store(other, [w.message("hello", user=7000 + i) for i in range(50)])
    w.webhookd()
    w.wait_processed(other, 50, timeout=30)
    assert w.pending(stuck) == 4000


def test_finishing_finds_its_updates_by_key_after_statistics_of_an_empty_queue(w):
    """with the same statistics, "processed_at IS NULL" let the planner read the partial
    indexes of unprocessed updates as if empty: finishing 16 updates hashed a scan of the
    whole backlog (sql/functions/wh_finish_many.sql). Finishing (many or one) and giving a
    claim back now find their updates by key alone, and read no partial index"""
    stale_backlog(w, 20000, 20000)
    seqs = [s for (s,) in w.query("SELECT seq FROM tg_updates WHERE update_id > 100000"
                                   " ORDER BY seq LIMIT 16")]
    arr = "'{" + ",".join(map(str, seqs)) + "}'"
    plans = {
        "wh_finish_many": function_plan(w.env, "wh_finish_many", {
            "p_seqs": arr + "::bigint[]", "p_outcomes": "'{}'::text[]",
            "p_billing": "'{}'::boolean[]", "p_replies": "'[]'::jsonb"}, own_settings=False),
        "release": list(plan_nodes(w.one("EXPLAIN (FORMAT JSON) " + c_string(
            "webhookd/process.c", "release_sql").replace("$1", arr))[0][0]["Plan"])),
    }
    for what, nodes in plans.items():
        scans = [n for n in nodes if n.get("Relation Name") == "tg_updates"
                 and n.get("Node Type") != "ModifyTable"]
        assert scans and {n.get("Index Name") for n in scans} == {"tg_updates_pkey"}, \
            (what, scans)
    # and it still does what it did: each update once, a processed one left alone
    w.query("SELECT wh_finish_many(%s::bigint[], %s::text[], %s::boolean[], '[]'::jsonb)",
            (seqs[:2], ["done", "done"], [False, False]))
    w.query("SELECT wh_finish_many(%s::bigint[], %s::text[], %s::boolean[], '[]'::jsonb)",
            (seqs[:3], ["again", "again", "third"], [False, False, False]))
    assert w.one("SELECT wh_finish(%s, 'late', '[]'::jsonb)", (seqs[0],))[0] == 0
    assert w.one("SELECT wh_finish(%s, 'fourth', '[]'::jsonb)", (seqs[3],))[0] == 0
    assert w.query("SELECT outcome FROM tg_updates WHERE seq = ANY(%s) ORDER BY seq",
                   (seqs[:5],)) == [("done",), ("done",), ("third",), ("fourth",), (None,)]
