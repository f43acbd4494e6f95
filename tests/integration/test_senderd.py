"""senderd against a fault-injecting fake Telegram (issue 4): lanes, limits, answers,
status, shutdown and crashes.

Every timing claim is checked from the fake's own arrival times (fake_telegram.Call.time,
time.monotonic() in this process: the same clock as senderd's CLOCK_MONOTONIC) and every
outcome from the database. Bots and messages are written straight into PostgreSQL: a
bot's token is sealed here like common/crypto.c does (AES-256-GCM, "v1." + base64(nonce
|| ciphertext || tag), associated data "bot:<telegram_id>:token"); a message's text is
"m<id>", so each request at the fake names the message it carries.

Messages written by SQL ring no doorbell: a lane finds them when it starts (its first
claim), on a sweep (sweep_interval), or when one of its transitions commits.

Limits are small so that the file runs in about three minutes (a group's per-minute limit
is checked over a few seconds: its first group_per_minute go, the next one waits). The
SIGKILL backlog is 10,000 messages (about 20 s against this Python fake, which answers
some 700 requests a second); TGM_TEST_SENDERD_BACKLOG sets another size.
"""

import base64
import hashlib
import itertools
import json
import os
import re
import secrets
import signal
import socket
import threading
import time

import pytest
import requests

from conftest import REPO, c_string, function_plan, plan_nodes, wait_for
from fake_telegram import FakeTelegram, max_in_window, min_gap

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # python3-cryptography is a test dependency (apt)
    AESGCM = None



@pytest.fixture(autouse=True)
def needs_cryptography():
    """Fail (never skip) when python3-cryptography is missing."""
    if AESGCM is None:
        pytest.fail("python3-cryptography is missing (sh scripts/deps.sh test)", pytrace=False)


FINAL = ("sent", "failed", "expired", "canceled")

# A test's base senderd settings; tests override what they are about.
BASE_SENDERD = {
    "lease_seconds": 3,
    "sweep_interval": 1,
    "retry_base_ms": 100,
    "retry_cap_s": 2,
    "max_attempts": 5,
    "max_retry_after": 30,
    "drain_timeout": 10,
    "ambiguous": "retry",
}

_tg_ids = itertools.count(810000001)


def seal(key_hex, plain, aad):
    """common/crypto.c's tgm_seal in Python"""
    nonce = os.urandom(12)
    box = AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, plain.encode(), aad.encode())
    return "v1." + base64.b64encode(nonce + box).decode()


def msg_id(call):
    """the message id a request carries (its text is "m<id>")"""
    text = call.text or ""
    return int(text[1:]) if text.startswith("m") and text[1:].isdigit() else None


class Bot:
    def __init__(self, id_, token, tg_id):
        self.id = id_
        self.token = token
        self.tg_id = tg_id

    def __repr__(self):
        return f"Bot({self.id})"


class SenderWorld:
    """A test's database (tenant, bots, messages), its fake Telegram and its senderds."""

    def __init__(self, env, tg):
        self.env = env
        self.tg = tg
        self.senderds = []
        self._instances = itertools.count(1)
        self._confs = itertools.count(1)
        self.tenant_id = self.one("INSERT INTO tenants (name) VALUES ('acme') RETURNING id")[0]

    # -- database

    def query(self, sql, args=None):
        return self.env.query(sql, args)

    def one(self, sql, args=None):
        rows = self.query(sql, args)
        assert len(rows) == 1, rows
        return rows[0]

    def new_bot(self, **settings):
        tg_id = next(_tg_ids)
        token = f"{tg_id}:AA{secrets.token_urlsafe(26)[:33]}"
        sealed = seal(self.env.secret_key, token, f"bot:{tg_id}:token")
        bot_id = self.one(
            "INSERT INTO bots (tenant_id, telegram_id, username, name, token_sealed,"
            " token_hash, settings) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb) RETURNING id",
            (self.tenant_id, tg_id, f"bot{tg_id}_bot", f"Bot {tg_id}", sealed,
             hashlib.sha256(token.encode()).digest(), json.dumps(settings)))[0]
        return Bot(bot_id, token, tg_id)

    def add(self, bot, chats, priority=1, method="sendMessage", extra=None, ttl=None,
            status="queued"):
        """One message per entry of chats (in order, ids ascending); their ids."""
        text_key = "caption" if method in ("sendPhoto", "sendDocument") else "text"
        rows = self.query(
            "WITH n AS (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, c, o"
            "  FROM unnest(%s::text[]) WITH ORDINALITY AS u(c, o)),"
            " ins AS (INSERT INTO messages (id, tenant_id, bot_id, chat, method, params,"
            "  priority, status, expires_at) OVERRIDING SYSTEM VALUE"
            "  SELECT id, %s, %s, c, %s, jsonb_build_object('chat_id', CASE WHEN c ~ '^-?[0-9]+$'"
            "   THEN to_jsonb(c::bigint) ELSE to_jsonb(c) END, %s, 'm' || id) || %s::jsonb,"
            "   %s, %s, CASE WHEN %s::float8 IS NOT NULL"
            "   THEN now() + make_interval(secs => %s::float8) END"
            "  FROM n ORDER BY o RETURNING id),"
            " ev AS (INSERT INTO message_events (message_id, status)"
            "  SELECT id, %s FROM ins WHERE %s <> 'queued')"
            " SELECT id FROM ins ORDER BY id",
            ([str(c) for c in chats], self.tenant_id, bot.id, method, text_key,
             json.dumps(extra or {}), priority, status, ttl, ttl, status, status))
        return [r[0] for r in rows]

    def statuses(self, ids):
        rows = self.query("SELECT id, status FROM messages WHERE id = ANY(%s)", (list(ids),))
        return dict(rows)

    def row(self, mid):
        cols = ("id", "chat", "status", "attempts", "telegram_message_id", "last_error",
                "sent_at", "params", "not_before")
        r = self.one(f"SELECT {', '.join(cols)} FROM messages WHERE id = %s", (mid,))
        return dict(zip(cols, r))

    def events(self, mid):
        """[(status, detail)] as GET /v1/messages/{id} shows them: the acceptance
        (the row itself, like gatewayd's) first, then the event rows."""
        return [("queued", None)] + [tuple(r) for r in self.query(
            "SELECT status, detail FROM message_events WHERE message_id = %s ORDER BY id",
            (mid,))]

    def wait_status(self, ids, statuses=FINAL, timeout=20, what=None):
        ids = list(ids)

        def done():
            st = self.statuses(ids)
            return st if all(st.get(i) in statuses for i in ids) else None
        try:
            return wait_for(done, timeout, interval=0.1, what=what or f"{len(ids)} messages "
                            f"to reach {statuses}")
        except BaseException:
            st = self.statuses(ids)
            left = {i: s for i, s in st.items() if s not in statuses}
            print(f"not there yet: {dict(list(left.items())[:20])}")
            raise

    def leases(self):
        return dict(self.query("SELECT bot_id, owner FROM bot_leases"))

    # -- configuration and daemons

    def config(self, prefix="", timeout=5, **senderd):
        settings = {("telegram", "api_url"): self.tg.url + prefix,
                    ("telegram", "timeout"): str(timeout)}
        for k, v in {**BASE_SENDERD, **senderd}.items():
            settings[("senderd", k)] = str(v)
        return self.env.write_config(settings, name=f"senderd-{next(self._confs)}.conf")

    def senderd(self, conf=None, instance=None, **senderd):
        conf = conf or self.config(**senderd)
        instance = instance or str(next(self._instances))
        d = self.env.daemon("senderd", conf=conf, args=["--instance", instance])
        self.senderds.append(d)
        return d

    def stop_all(self):
        for d in self.senderds:
            if d.running():
                d.stop()


@pytest.fixture
def tg():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def sw(tgm_env, tg):
    world = SenderWorld(tgm_env, tg)
    yield world
    world.stop_all()  # before the fake goes away


def sends_of(tg, ids):
    """{message id: [Call, ...]} for the given ids"""
    want = set(ids)
    out = {i: [] for i in ids}
    for c in tg.sends():
        m = msg_id(c)
        if m in want:
            out[m].append(c)
    return out


# ------------------------------------------------------------------ happy path

def test_happy_path_sent_with_message_id_and_events(sw, tg):
    bot = sw.new_bot()
    text_id = sw.add(bot, [1001])[0]
    photo_id = sw.add(bot, [1002], method="sendPhoto", extra={"photo": "https://x/y.png"})[0]
    copy_id = sw.add(bot, [1003], method="copyMessage",
                     extra={"from_chat_id": 5, "message_id": 9})[0]
    doc_id = sw.add(bot, ["-1001234"], method="sendDocument", extra={"document": "f"})[0]
    ids = [text_id, photo_id, copy_id, doc_id]
    sw.senderd()
    st = sw.wait_status(ids, timeout=10)
    assert set(st.values()) == {"sent"}, st

    by_id = sends_of(tg, ids)
    for mid, method in zip(ids, ("sendMessage", "sendPhoto", "copyMessage", "sendDocument")):
        calls = by_id[mid]
        assert len(calls) == 1, (mid, calls)
        call = calls[0]
        assert call.method == method
        assert call.token == bot.token
        assert call.request.method == "POST"
        assert call.request.header("Content-Type").startswith("application/json")
        row = sw.row(mid)
        assert call.params == row["params"]
        # Telegram's message_id is stored: the fake numbers its answers
        answered = json.loads(call.request.reply.encode()[1])["result"]["message_id"]
        assert row["telegram_message_id"] == answered
        assert row["sent_at"] is not None and row["attempts"] == 1
        assert [s for s, _ in sw.events(mid)] == ["queued", "sending", "sent"]
    assert tg.sends(chat="-1001234")[0].params["document"] == "f"


def test_paid_broadcast_adds_allow_paid_broadcast(sw, tg):
    bot = sw.new_bot(paid_broadcast=True, per_second=1000)
    mid = sw.add(bot, [77])[0]
    sw.senderd()
    sw.wait_status([mid], ("sent",), timeout=10)
    call = sends_of(tg, [mid])[mid][0]
    assert call.params.get("allow_paid_broadcast") is True
    assert call.params["chat_id"] == 77 and call.text == f"m{mid}"


# ------------------------------------------------------------------ rates

def test_bot_rate_limit_and_achieved_rate(sw, tg):
    """per_second=20 over 100 messages to 100 chats: no 1-second window at the fake holds
    more than 20, and the backlog goes at >= 90% of the limit."""
    limit, n = 20, 100
    bot = sw.new_bot(per_second=limit)
    ids = sw.add(bot, range(5001, 5001 + n))
    sw.senderd()
    sw.wait_status(ids, ("sent",), timeout=20)
    calls = sorted(tg.sends(), key=lambda c: c.time)
    times = [c.time for c in calls]
    assert len(times) == n
    worst = max_in_window(times, 1.0)
    if worst > limit:  # show the crowded second: arrival times, connection, new or reused
        first_on_conn = {}
        for c in calls:
            first_on_conn.setdefault(c.request.conn, c)
        for i, c in enumerate(calls):
            if sum(1 for t in times if c.time - 1.0 < t <= c.time) == worst:
                window = [x for x in calls if c.time - 1.0 < x.time <= c.time]
                print(f"{worst} requests arrived within 1 s ({tg.http.connections} "
                      f"connections in all):")
                for x in window:
                    print(f"  {x.time - times[0]:7.3f}s conn {x.request.conn}"
                          f"{' (new)' if first_on_conn[x.request.conn] is x else ''}")
                break
    span = times[-1] - times[limit - 1]
    # after its first `limit` sends (a burst, or spread over the first window: the
    # lane paces), a sender that keeps the limit exactly needs (n - limit) / limit
    # seconds for the rest: (n - limit) / span is the achieved rate
    achieved = (n - limit) / span
    print(f"bot rate: worst 1-s window {worst}/{limit}, span {span:.3f}s, "
          f"achieved {achieved:.2f}/s ({achieved / limit:.0%})")
    assert worst <= limit, f"a 1-second window at the fake holds {worst} > {limit} sends"
    # a stall guard, not a speed goal (the share of the limit is make bench's, section
    # 2b): a loaded machine's pauses took it to 0.8 here, a stalled lane to nothing
    assert achieved >= 0.5 * limit, f"achieved {achieved:.2f}/s < 50% of {limit}/s"


def test_private_chat_one_per_second_in_order(sw, tg):
    bot = sw.new_bot(per_second=30, chat_per_second=1)
    chats = [601, 602, 603]
    ids = sw.add(bot, chats * 4)  # interleaved: 601, 602, 603, 601, ...
    sw.senderd()
    sw.wait_status(ids, ("sent",), timeout=20)
    for chat in chats:
        calls = tg.sends(chat=chat)
        assert len(calls) == 4
        gap = min_gap([c.time for c in calls])
        print(f"chat {chat}: smallest gap {gap:.3f}s")
        assert gap >= 1.0, f"chat {chat} got two messages {gap:.3f}s apart"
        got = [msg_id(c) for c in calls]
        assert got == sorted(got), f"chat {chat} order: {got}"


def test_chat_limits_hold_while_a_lane_learns_many_chats(sw, tg):
    """A lane's table of chats grows as it meets more of them (256 buckets at first,
    doubled at twice as many chats): three chats met first keep their gap of a second
    while 1,200 others arrive between their messages."""
    bot = sw.new_bot(per_second=1000, chat_per_second=1)
    chats = [701, 702, 703]
    others = [str(100000 + i) for i in range(1200)]
    ids = sw.add(bot, chats + others[:600] + chats + others[600:] + chats)
    sw.senderd()
    sw.wait_status(ids, ("sent",), timeout=60)
    assert len(sw.one("SELECT array_agg(DISTINCT chat) FROM messages WHERE bot_id = %s",
                      (bot.id,))[0]) == 1203
    for chat in chats:
        calls = tg.sends(chat=chat)
        assert len(calls) == 3
        gap = min_gap([c.time for c in calls])
        assert gap >= 1.0, f"chat {chat} got two messages {gap:.3f}s apart"


def test_group_per_minute(sw, tg):
    """group_per_minute=3 with chat_per_second high: a group gets 3 at once, then nothing
    for the rest of its minute; a private chat of the same bot is not held up."""
    bot = sw.new_bot(per_second=30, chat_per_second=30, group_per_minute=3)
    g1 = sw.add(bot, [-4001] * 5)
    g2 = sw.add(bot, ["-1004002"] * 4)
    private = sw.add(bot, [4003] * 3)
    d = sw.senderd()
    t0 = time.monotonic()
    tg.wait_sends(3, chat=-4001, timeout=10)
    tg.wait_sends(3, chat=-1004002, timeout=10)
    sw.wait_status(private, ("sent",), timeout=10)
    time.sleep(max(0.0, t0 + 4.0 - time.monotonic()))
    for chat, ids in ((-4001, g1), (-1004002, g2)):
        calls = tg.sends(chat=chat)
        assert len(calls) == 3, f"group {chat}: {len(calls)} sends within ~4 s (limit 3/min)"
        assert max_in_window([c.time for c in calls], 60.0) <= 3
        assert [msg_id(c) for c in calls] == ids[:3], "a group's first three, in order"
        st = sw.statuses(ids)
        assert [st[i] for i in ids[:3]] == ["sent"] * 3
        assert all(st[i] in ("queued", "sending") for i in ids[3:]), st
    assert d.running()


def test_high_priority_overtakes_bulk_backlog(sw, tg):
    """The first sends are the high ones (inserted after the bulk); high messages that
    come during a bulk backlog jump ahead of it."""
    limit = 5
    bot = sw.new_bot(per_second=limit)
    bulk = sw.add(bot, range(7001, 7031), priority=2)
    normal = sw.add(bot, [7101, 7102], priority=1)
    high = sw.add(bot, [7201, 7202, 7203], priority=0)
    sw.senderd(sweep_interval=1)
    first = [msg_id(c) for c in tg.wait_sends(limit, timeout=10)[:limit]]
    # one burst: they go out together, so their arrival order is free
    assert sorted(first) == sorted(high + normal), f"first {limit} sends: {first}"

    tg.wait_sends(limit + 10, timeout=10)
    late_high = sw.add(bot, [7301, 7302], priority=0)
    t_insert = time.monotonic()
    sw.wait_status(late_high, ("sent",), timeout=10)
    sw.wait_status(bulk, ("sent",), timeout=20)
    order = [msg_id(c) for c in tg.sends()]
    last_high = max(order.index(i) for i in late_high)
    bulk_after = [i for i in order[last_high + 1:] if i in bulk]
    high_times = [c.time for c in tg.sends() if msg_id(c) in late_high]
    print(f"late high sent {max(high_times) - t_insert:.2f}s after insert;"
          f" {len(bulk_after)} older bulk messages went after them")
    assert len(bulk_after) >= 10, f"high did not overtake the bulk backlog: {order}"


def test_chat_order_holds_with_a_retry_in_the_middle(sw, tg):
    bot = sw.new_bot(per_second=30, chat_per_second=10)
    ids = sw.add(bot, [909] * 5)
    tg.server_error(502, times=1, text=f"m{ids[1]}")
    sw.senderd(retry_base_ms=100)
    sw.wait_status(ids, ("sent",), timeout=15)
    seq = [(msg_id(c), c.answer) for c in tg.sends(chat=909)]
    assert seq == [(ids[0], "ok"), (ids[1], "5xx"), (ids[1], "ok"), (ids[2], "ok"),
                   (ids[3], "ok"), (ids[4], "ok")], seq


# ------------------------------------------------------------------ answers: 429

def test_retry_after_is_obeyed(sw, tg):
    """429 retry_after=2: the next request to that chat comes no earlier than 2 s after the
    429 and no later than 2.5 s. sweep_interval is high: a sweep must not be what brings
    the retry (that would be 'a lost doorbell costs latency')."""
    bot = sw.new_bot(per_second=30, chat_per_second=10)
    mid = sw.add(bot, [4242])[0]
    other = sw.add(bot, [4243] * 3)
    tg.flood(retry_after=2, times=1, chat=4242)
    sw.senderd(sweep_interval=60)
    first = tg.wait_sends(1, chat=4242, timeout=10)[0]
    assert first.answer == "flood"
    sw.wait_status(other, ("sent",), timeout=10)  # the other chat is not held up
    try:
        second = tg.wait_sends(2, chat=4242, timeout=2.5 + 5)[1]
    except AssertionError:
        pytest.fail("no retry within 7.5 s of a 429 with retry_after=2 (status "
                    f"{sw.row(mid)['status']}, not_before {sw.row(mid)['not_before']})")
    slack = second.time - first.time - 2.0
    print(f"429 retry_after=2: next attempt {slack * 1000:+.0f} ms after the wait")
    assert slack >= 0, f"retried {-slack:.3f}s before retry_after ran out"
    assert slack <= 0.5, f"retried {slack:.3f}s after retry_after ran out"
    sw.wait_status([mid], ("sent",), timeout=5)
    assert [s for s, _ in sw.events(mid)] == ["queued", "sending", "retrying", "sending",
                                              "sent"]


def test_each_retry_comes_on_time_when_several_are_pending(sw, tg):
    """Two retries of one lane fall due at different times (chat A's 429 says 2 s; chat
    B's, met later, says 3 s): each must come when it is due, not the later one on the
    next sweep (sweep_interval 60)."""
    bot = sw.new_bot(per_second=30, chat_per_second=30)
    a = sw.add(bot, [9401])[0]
    b1, b2 = sw.add(bot, [9402, 9402])
    tg.flood(retry_after=2, times=1, chat=9401)
    tg.slow(1.5, times=1, text=f"m{b1}")  # b2 leaves ~1.5 s after a's 429: no bot-wide wait
    tg.flood(retry_after=3, times=1, text=f"m{b2}")
    sw.senderd(sweep_interval=60)
    sw.wait_status([a], ("sent",), timeout=10)
    try:
        sw.wait_status([b2], ("sent",), timeout=8)
    except BaseException:
        print(f"b2 calls: {tg.sends(chat=9402)}; row {sw.row(b2)}")
        raise
    for mid, wait in ((a, 2.0), (b2, 3.0)):
        calls = sends_of(tg, [mid])[mid]
        assert [c.answer for c in calls] == ["flood", "ok"], calls
        slack = calls[1].time - calls[0].time - wait
        print(f"message {mid}: retried {slack * 1000:+.0f} ms after its retry_after")
        assert 0 <= slack <= 0.5, slack


def test_retry_after_above_cap_fails_as_flood_wait(sw, tg):
    bot = sw.new_bot()
    mid = sw.add(bot, [4300])[0]
    tg.flood(retry_after=120, times=None, chat=4300)
    sw.senderd(max_retry_after=10)
    sw.wait_status([mid], timeout=10)
    row = sw.row(mid)
    assert row["status"] == "failed"
    assert "flood_wait" in row["last_error"], row
    assert len(tg.sends(chat=4300)) == 1


# ------------------------------------------------------------------ answers: 5xx

def test_5xx_then_ok_is_sent_after_backoff(sw, tg):
    bot = sw.new_bot()
    mid = sw.add(bot, [5500])[0]
    tg.server_error(500, times=1, chat=5500)
    tg.server_error(503, times=1, chat=5500)
    base = 200
    sw.senderd(retry_base_ms=base, sweep_interval=1)
    sw.wait_status([mid], ("sent",), timeout=15)
    calls = tg.sends(chat=5500)
    assert [c.answer for c in calls] == ["5xx", "5xx", "ok"]
    gaps = [b.time - a.time for a, b in zip(calls, calls[1:])]
    print(f"5xx backoff gaps: {[round(g, 3) for g in gaps]}")
    # backoff(attempt k) = base * 2^(k-1) * jitter in [0.5, 1.5)
    assert gaps[0] >= base / 1000 * 0.5 and gaps[1] >= 2 * base / 1000 * 0.5, gaps
    row = sw.row(mid)
    assert row["attempts"] == 3 and row["telegram_message_id"] is not None
    assert [s for s, _ in sw.events(mid)] == ["queued", "sending", "retrying", "sending",
                                              "retrying", "sending", "sent"]


def test_5xx_retry_comes_on_time_without_a_sweep(sw, tg):
    """A backoff of ~200 ms must not turn into a sweep_interval (60 s) wait."""
    bot = sw.new_bot(chat_per_second=30)  # the chat's own gap is not what is measured
    mid = sw.add(bot, [5600])[0]
    tg.server_error(500, times=1, chat=5600)
    sw.senderd(retry_base_ms=200, sweep_interval=60)
    first = tg.wait_sends(1, chat=5600, timeout=10)[0]
    try:
        second = tg.wait_sends(2, chat=5600, timeout=5)[1]
    except AssertionError:
        pytest.fail(f"a 5xx with a 200 ms backoff was not retried within 5 s "
                    f"(row {sw.row(mid)})")
    assert second.time - first.time <= 0.3 + 0.5


def test_5xx_forever_fails_after_max_attempts(sw, tg):
    bot = sw.new_bot()
    mid = sw.add(bot, [5700])[0]
    tg.server_error(500, times=None, chat=5700)
    sw.senderd(retry_base_ms=50, max_attempts=3, sweep_interval=1)
    sw.wait_status([mid], timeout=15)
    row = sw.row(mid)
    assert row["status"] == "failed", row
    assert row["attempts"] == 3
    assert "after 3 attempts" in row["last_error"], row
    assert len(tg.sends(chat=5700)) == 3


def test_send_failure_line_carries_bot_and_msg(sw, tg):
    """A send that fails is logged with bot= and msg= as key=value, so grepping the log
    for a message's id finds why it failed."""
    bot = sw.new_bot()
    mid = sw.add(bot, [5750])[0]
    tg.bad_request("Bad Request: message is too long", chat=5750)
    d = sw.senderd()
    sw.wait_status([mid], timeout=10)
    assert sw.row(mid)["status"] == "failed"
    line = d.wait_log(rf"(?m)^.*\bbot={bot.id} msg={mid} failed: 400: .*$", timeout=10).group(0)
    assert "message is too long" in line, line


# ------------------------------------------------------------------ answers: chat gone

@pytest.mark.parametrize("kind", ["blocked", "chat_not_found"])
def test_chat_gone_marks_chat_blocked(sw, tg, kind):
    bot = sw.new_bot()
    getattr(tg, kind)(chat=7700)
    mid = sw.add(bot, [7700])[0]
    sw.senderd()
    sw.wait_status([mid], timeout=10)
    row = sw.row(mid)
    assert row["status"] == "failed"
    assert ("blocked" if kind == "blocked" else "chat not found") in row["last_error"]
    blocked = wait_for(lambda: sw.query(
        "SELECT blocked_at, blocked_reason, type FROM chats WHERE bot_id = %s AND chat_id"
        " = 7700 AND blocked_at IS NOT NULL", (bot.id,)), 5, what="the chat marked blocked")
    assert blocked[0][2] == "private"

    later = sw.add(bot, [7700])[0]
    sw.wait_status([later], timeout=10)
    row = sw.row(later)
    assert row["status"] == "failed" and "blocked" in row["last_error"], row
    assert len(tg.sends(chat=7700)) == 1, "a message to a blocked chat reached Telegram"


def test_blocked_chat_fails_queued_successor_without_request(sw, tg):
    """Two messages to a chat are queued together; the first meets 403: the second must
    fail at once without a request (the block is known before the second is claimed)."""
    bot = sw.new_bot(chat_per_second=30)
    tg.blocked(chat=7800)
    ids = sw.add(bot, [7800] * 3)
    sw.senderd()
    sw.wait_status(ids, timeout=10)
    st = sw.statuses(ids)
    assert set(st.values()) == {"failed"}, st
    seen = [msg_id(c) for c in tg.sends(chat=7800)]
    assert seen == [ids[0]], f"requests reached Telegram for a blocked chat: {seen}"


# ------------------------------------------------------------------ answers: migrate, 401

def test_migrated_group_is_resent_to_the_new_chat(sw, tg):
    bot = sw.new_bot(chat_per_second=30)
    tg.migrate(to=-1009988, chat=-9988)
    ids = sw.add(bot, [-9988, -9988])
    sw.senderd(drain_timeout=2)
    st = sw.wait_status(ids, timeout=10)
    assert set(st.values()) == {"sent"}, st
    old = tg.sends(chat=-9988)
    new = tg.sends(chat=-1009988)
    assert [msg_id(c) for c in old] == [ids[0]], old
    assert [msg_id(c) for c in new] == ids, new
    for mid in ids:
        row = sw.row(mid)
        assert row["chat"] == "-1009988" and row["params"]["chat_id"] == -1009988, row


def test_migrated_chat_is_remembered(sw, tg):
    """After a migration, a later message to the old chat id goes to the new one without
    another round trip to the old id (issue 4: "remember the new chat id")."""
    bot = sw.new_bot(chat_per_second=30)
    tg.migrate(to=-1007788, chat=-7788)
    first = sw.add(bot, [-7788])[0]
    sw.senderd(drain_timeout=2)
    sw.wait_status([first], ("sent",), timeout=10)
    later = sw.add(bot, [-7788])[0]
    sw.wait_status([later], ("sent",), timeout=10)
    assert [msg_id(c) for c in tg.sends(chat=-7788)] == [first], tg.sends()
    assert [msg_id(c) for c in tg.sends(chat=-1007788)] == [first, later], tg.sends()


def test_401_disables_bot_and_keeps_messages_queued(sw, tg):
    bot = sw.new_bot(per_second=30)
    good = sw.new_bot(per_second=30)
    tg.unauthorized(token=bot.token)
    ids = sw.add(bot, range(8001, 8011))
    good_ids = sw.add(good, range(8101, 8104))
    sw.senderd(sweep_interval=1)
    wait_for(lambda: sw.one("SELECT NOT enabled FROM bots WHERE id = %s", (bot.id,))[0], 10,
             what="the bot disabled")
    enabled, reason = sw.one("SELECT enabled, disabled_reason FROM bots WHERE id = %s",
                             (bot.id,))
    assert not enabled and reason and "401" in reason, reason
    sw.wait_status(good_ids, ("sent",), timeout=10)
    wait_for(lambda: bot.id not in sw.leases(), 5, what="the dead bot's lease released")
    n = len(tg.sends(token=bot.token))
    time.sleep(2.5)  # two sweeps and two lease rounds
    assert len(tg.sends(token=bot.token)) == n, "requests after the token was refused"
    assert n <= 10
    st = sw.statuses(ids)
    assert set(st.values()) == {"queued"}, st


# ------------------------------------------------------------------ ttl, cancel

def test_expired_and_canceled_are_never_sent(sw, tg):
    bot = sw.new_bot()
    expired = sw.add(bot, [9001], ttl=-1)[0]
    canceled = sw.add(bot, [9002], status="canceled")[0]
    control = sw.add(bot, [9003], ttl=600)[0]
    sw.senderd()
    sw.wait_status([control], ("sent",), timeout=10)
    sw.wait_status([expired], timeout=5)
    assert sw.row(expired)["status"] == "expired"
    assert sw.row(canceled)["status"] == "canceled"
    assert [msg_id(c) for c in tg.sends()] == [control]
    assert sw.events(expired)[-1][0] == "expired"


def test_ttl_is_checked_when_the_message_goes_out(sw, tg):
    """A message claimed in time but held by the lane (here: the whole bot waits out
    429s met by two chats at once) must not go out once its ttl has passed."""
    bot = sw.new_bot(per_second=2, chat_per_second=30)
    tg.flood(retry_after=4, times=1, chat=9201)
    tg.flood(retry_after=4, times=1, chat=9202)
    a, b = sw.add(bot, [9201, 9202])
    z = sw.add(bot, [9203], ttl=2)[0]
    t0 = time.monotonic()
    sw.senderd(sweep_interval=1)
    sw.wait_status([a, b, z], timeout=15)
    floods = [c for c in tg.sends() if c.answer == "flood"]
    assert len(floods) == 2
    z_calls = tg.sends(chat=9203)
    if z_calls:
        late = z_calls[0].time - t0
        assert not z_calls, (f"message {z} went out {late:.1f}s after it was queued with "
                             f"ttl_seconds=2 (status {sw.row(z)['status']})")
    assert sw.row(z)["status"] == "expired"


# ------------------------------------------------------------------ ambiguous outcomes

@pytest.mark.parametrize("fault", ["slow", "drop"])
@pytest.mark.parametrize("policy", ["fail", "retry"])
def test_ambiguous_outcome_policy(sw, tg, policy, fault):
    """A request that reached Telegram without an answer (timeout, connection closed):
    [senderd] ambiguous=fail marks it failed, =retry sends it again."""
    bot = sw.new_bot()
    if fault == "slow":
        tg.slow(2.5, times=1, chat=9100)
    else:
        tg.drop(times=1, chat=9100)
    mid = sw.add(bot, [9100])[0]
    sw.senderd(sw.config(timeout=1, ambiguous=policy, retry_base_ms=100, sweep_interval=1))
    sw.wait_status([mid], timeout=15)
    row = sw.row(mid)
    calls = tg.sends(chat=9100)
    if policy == "fail":
        assert row["status"] == "failed", row
        assert "ambiguous" in row["last_error"], row
        assert len(calls) == 1
    else:
        assert row["status"] == "sent", row
        assert len(calls) == 2 and calls[1].answer == "ok"
        assert any("ambiguous" in (d or "") for s, d in sw.events(mid) if s == "retrying")


# ------------------------------------------------------------------ delivery callbacks

def test_delivery_callbacks_signed_and_retried(sw, tg):
    """A message with a callback_url gets a signed POST (Standard Webhooks) on its final
    state; an app that answers 500 gets it again, with the same webhook-id."""
    import hmac
    from fake_http import FakeHTTP, Reply

    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    sw.query("UPDATE tenants SET webhook_secret = %s, callback_allow_private = true"
             " WHERE id = %s", (secret, sw.tenant_id))  # the app is on 127.0.0.1
    bot = sw.new_bot()
    tg.blocked(chat=9602)
    with FakeHTTP() as app:
        app.script("/hook/sent", Reply(500, {"error": "busy"}), Reply(200, {"ok": True}))
        app.script("/hook/failed", Reply(204))
        sent, failed = sw.add(bot, [9601, 9602])
        sw.query("UPDATE messages SET callback_url = %s || '/hook/' || CASE WHEN id = %s"
                 " THEN 'sent' ELSE 'failed' END WHERE id IN (%s, %s)",
                 (app.url, sent, sent, failed))
        sw.senderd(retry_base_ms=100)
        got = app.wait_for(3, timeout=15)
        assert [r.path for r in got].count("/hook/sent") == 2, got
        key = base64.b64decode(secret[len("whsec_"):])
        for r in got:
            wid, ts = r.header("webhook-id"), r.header("webhook-timestamp")
            sig = r.header("webhook-signature")
            assert wid and ts and sig and sig.startswith("v1,"), r.headers
            want = base64.b64encode(hmac.new(key, f"{wid}.{ts}.".encode() + r.body,
                                             hashlib.sha256).digest()).decode()
            assert sig[3:] == want, "webhook-signature does not verify"
            assert abs(int(ts) - time.time()) < 30
        first, second = [r for r in got if r.path == "/hook/sent"]
        assert first.header("webhook-id") == second.header("webhook-id")
        body = second.json
        assert body["type"] == "message.sent", body
        assert body["data"]["id"] == sent and body["data"]["status"] == "sent"
        assert body["data"]["telegram_message_id"] == sw.row(sent)["telegram_message_id"]
        fbody = [r for r in got if r.path == "/hook/failed"][0].json
        assert fbody["type"] == "message.failed" and fbody["data"]["id"] == failed
        wait_for(lambda: sw.query("SELECT status, attempts FROM callbacks WHERE message_id"
                                  " = %s AND status = 'delivered'", (sent,)), 5,
                 what="the callback marked delivered")
        assert sw.query("SELECT attempts FROM callbacks WHERE message_id = %s",
                        (sent,)) == [(2,)]


# ------------------------------------------------------------------ doorbell and sweep

def doorbell_world(sw, tgm_env):
    """gatewayd and a senderd with sweep_interval 60 (a lane wakes on a doorbell or a
    commit, not a sweep), a bot registered through gatewayd, its lane's first claim over:
    (base URL, headers, bot id, the senderd)"""
    conf = sw.config(sweep_interval=60)
    base, h = gateway(sw, tgm_env, conf)
    bot_id = api_bot(base, h).id
    d = sw.senderd(conf)
    d.wait_log(rf"bot={bot_id} lane started", timeout=10)
    time.sleep(1.0)  # the lane's first claim is over; ZeroMQ subscriptions are in place
    return base, h, bot_id, d


def test_doorbell_wakes_the_lane(sw, tg, tgm_env):
    """A message accepted by gatewayd is sent at once (well under sweep_interval = 60)."""
    base, h, bot_id, _ = doorbell_world(sw, tgm_env)
    latencies = []
    for i in range(3):
        t0 = time.monotonic()
        r = requests.post(base + "/v1/messages", json={"chat_id": 3100 + i, "text": "hi",
                                                       "bot_id": bot_id},
                          headers=h, timeout=10)
        assert r.status_code == 202, r.text
        mid = r.json()["id"]
        call = tg.wait_sends(1, chat=3100 + i, timeout=10)[0]
        latencies.append(call.time - t0)
        sw.wait_status([mid], ("sent",), timeout=5)
    print(f"doorbell latencies: {[round(x, 3) for x in latencies]}")
    assert max(latencies) < 1.0, latencies


def test_a_commit_claims_again_only_when_a_message_was_held(sw, tg, tgm_env):
    """A commit of a lane's transitions wakes it only if its last claim passed over a due
    message (LANE_HELD): one message at a time through gatewayd costs one claim each, not
    one more that finds nothing after each send is recorded."""
    base, h, bot_id, d = doorbell_world(sw, tgm_env)
    start = len(d.log())
    for i in range(5):
        r = requests.post(base + "/v1/messages", json={"chat_id": 3150 + i, "text": "hi",
                                                       "bot_id": bot_id},
                          headers=h, timeout=10)
        assert r.status_code == 202, r.text
        sw.wait_status([r.json()["id"]], ("sent",), timeout=5)
        time.sleep(0.2)  # a claim woken by the commit would have run by now
    claims = re.findall(rf"bot={bot_id} claimed (\d+) of", d.log()[start:])
    assert claims == ["1"] * 5, claims


def test_a_backlog_is_claimed_half_a_buffer_at_a_time(sw, tg):
    """A bot at 100 a second keeps up to 100 claimed messages. While its backlog lasts it
    claims again once half of them are gone, not whenever a few were sent: each claim
    is a statement, and each group of transitions it brings a record, for the database.
    (A commit during a claim still wakes the lane for one more: it may have freed a
    message that claim passed over.)"""
    bot = sw.new_bot(per_second=100)
    ids = sw.add(bot, [3170 + i for i in range(600)])
    d = sw.senderd(sweep_interval=60)
    sw.wait_status(ids, ("sent",), timeout=30)
    claims = [int(n) for n in re.findall(rf"bot={bot.id} claimed (\d+) of", d.log())]
    print(f"claims: {claims}")
    assert sum(claims) == 600
    assert sum(n for n in claims if n >= 50) >= 400, claims  # not 1 or 2 at a time
    assert len(claims) <= 60, claims


def test_a_chats_next_message_goes_when_its_predecessor_is_recorded(sw, tg):
    """Messages queued behind an earlier one of their chat are claimed when it is recorded,
    not on the next sweep (sweep_interval 60): the claim that passed over them marks the
    lane, and the record's commit wakes it."""
    bot = sw.new_bot(per_second=30, chat_per_second=30)
    ids = sw.add(bot, [3160] * 5)
    t0 = time.monotonic()
    sw.senderd(sweep_interval=60)
    sw.wait_status(ids, ("sent",), timeout=10)
    calls = tg.sends(chat=3160)
    assert [msg_id(c) for c in calls] == ids
    print(f"5 in a row to one chat: {calls[-1].time - t0:.2f}s")
    assert calls[-1].time - t0 < 5


def test_sweep_finds_messages_without_doorbell(sw, tg):
    bot = sw.new_bot()
    d = sw.senderd(sweep_interval=2)
    d.wait_log(rf"bot={bot.id} lane started", timeout=10)
    time.sleep(0.5)
    mid = sw.add(bot, [3200])[0]
    t0 = time.monotonic()
    call = tg.wait_sends(1, chat=3200, timeout=2 + 2)[0]
    print(f"sweep latency {call.time - t0:.2f}s (sweep_interval 2)")
    assert call.time - t0 <= 2 + 0.5
    sw.wait_status([mid], ("sent",), timeout=5)


# ------------------------------------------------------------------ bot changes

def gateway(sw, env, conf):
    """gatewayd on conf (which the senderds share: same ZeroMQ endpoints) and an admin key
    of the world's tenant: (base URL, headers)"""
    env.conf = conf
    env.daemon("gatewayd", conf=conf)
    key = env.tgmctl("key", "create", "--tenant", "acme", "--create-tenant", "--scope",
                     "admin").stdout.strip()
    return env.http(), {"Authorization": f"Bearer {key}"}


def api_bot(base, headers, **settings):
    """a bot registered through gatewayd (getMe at the fake): Bot"""
    tg_id = next(_tg_ids)
    token = f"{tg_id}:AA{secrets.token_urlsafe(26)[:33]}"
    body = {"token": token, **({"settings": settings} if settings else {})}
    r = requests.post(base + "/v1/bots", json=body, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    return Bot(r.json()["id"], token, tg_id)


@pytest.mark.parametrize("how", ["api", "sql"])
def test_settings_change_reaches_a_running_lane(sw, tg, tgm_env, how):
    """Raising a bot's per_second takes effect on its running lane within a few seconds:
    through gatewayd (PATCH /v1/bots/{id}, which rings the lane), and also when the row
    changes without a doorbell (an UPDATE, or a doorbell lost: the sweep must catch it)."""
    conf = sw.config(sweep_interval=1)
    if how == "api":
        base, headers = gateway(sw, tgm_env, conf)
        bot = api_bot(base, headers, per_second=2, chat_per_second=30)
    else:
        bot = sw.new_bot(per_second=2, chat_per_second=30)
    ids = sw.add(bot, range(9701, 9741))
    d = sw.senderd(conf)
    tg.wait_sends(4, timeout=10)
    if how == "api":
        r = requests.patch(f"{base}/v1/bots/{bot.id}", json={"settings": {"per_second": 40}},
                           headers=headers, timeout=10)
        assert r.status_code == 200, r.text
    else:
        sw.query("UPDATE bots SET settings = settings || '{\"per_second\": 40}',"
                 " updated_at = now() WHERE id = %s", (bot.id,))
    t0 = time.monotonic()
    try:
        sw.wait_status(ids, ("sent",), timeout=8)
    except BaseException:
        n = len(tg.sends())
        print(f"{n} of {len(ids)} sent {time.monotonic() - t0:.1f}s after per_second went "
              f"2 -> 40; the last second: {max_in_window([c.time for c in tg.sends()], 1.0)}")
        raise
    assert d.running()


def test_deleted_bot_leaves_nothing_queued(sw, tg):
    """Deleting a bot (gatewayd's DELETE /v1/bots/{id}: deleted, disabled, its queued and
    retrying messages canceled) while its lane holds claimed messages: those must not
    come back as 'queued' for a bot that no longer exists (nothing would ever send them)."""
    bot = sw.new_bot(per_second=1, chat_per_second=30)
    ids = sw.add(bot, range(9801, 9821))
    sw.senderd(sweep_interval=1)
    tg.wait_sends(2, timeout=10)
    sw.query("WITH b AS (UPDATE bots SET deleted_at = now(), enabled = false, updated_at ="
             "  now() WHERE id = %s RETURNING id),"
             " c AS (UPDATE messages SET status = 'canceled', updated_at = now()"
             "  WHERE bot_id IN (SELECT id FROM b) AND status IN ('queued', 'retrying')"
             "  RETURNING id)"
             " INSERT INTO message_events (message_id, status, detail)"
             " SELECT id, 'canceled', 'bot deleted' FROM c", (bot.id,))
    wait_for(lambda: bot.id not in sw.leases(), 5, what="the deleted bot's lease released")
    time.sleep(0.5)
    st = sw.statuses(ids)
    left = sorted(i for i, v in st.items() if v not in FINAL)
    print(f"after the delete: { {v: list(st.values()).count(v) for v in set(st.values())} }")
    assert not left, f"messages of the deleted bot left unfinished: " \
                     f"{ {i: st[i] for i in left} }"


def test_a_new_instance_gets_a_share_of_the_bots(sw, tg):
    """Instance a holds every bot (it ran alone); instance b starts: within a few lease
    rounds b holds some, so that adding an instance (or restarting one after a crash
    moved its bots away) spreads the work."""
    bots = [sw.new_bot() for _ in range(4)]
    sw.senderd(sw.config(prefix="/A"), instance="a")
    wait_for(lambda: len(sw.leases()) == 4, 10, what="instance a to hold every bot")
    sw.senderd(sw.config(prefix="/B"), instance="b")
    try:
        wait_for(lambda: len(set(sw.leases().values())) == 2, 8,
                 what="instance b to hold some bots")
    except BaseException:
        print(f"leases: {sw.leases()}")
        raise
    ids = []
    for i, bot in enumerate(bots):
        ids += sw.add(bot, [9900 + i])
    sw.wait_status(ids, ("sent",), timeout=10)
    assert {c.prefix for c in tg.sends()} == {"/A", "/B"}


# ------------------------------------------------------------------ leases and crashes

def owners_by_bot(tg, tokens):
    """{token: [prefix of each send, in arrival order]}"""
    out = {t: [] for t in tokens}
    for c in tg.sends():
        if c.token in out:
            out[c.token].append(c.prefix)
    return out


def heartbeat_rows(sw, *instances):
    """senderd heartbeats for instances, as if they were running already: each of them
    counts in the others' fair share from the first lease round (the daemons' own
    heartbeats update these rows: same name, instance and host)."""
    for inst in instances:
        sw.query("INSERT INTO daemons (name, instance, host, pid, version)"
                 " VALUES ('senderd', %s, %s, 0, 'test')", (inst, socket.gethostname()))


def test_two_instances_send_each_message_exactly_once(sw, tg):
    """Two instances share four bots (each holds some): every message goes exactly once,
    and every bot's sends come from one instance."""
    bots = [sw.new_bot(per_second=50) for _ in range(4)]
    heartbeat_rows(sw, "a", "b")
    ids = []
    for i, bot in enumerate(bots):
        ids += sw.add(bot, range(20000 + 100 * i, 20000 + 100 * i + 50))
    a = sw.senderd(sw.config(prefix="/A"), instance="a")
    b = sw.senderd(sw.config(prefix="/B"), instance="b")
    holders = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            holders.append(sw.leases())
            time.sleep(0.1)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        sw.wait_status(ids, ("sent",), timeout=30)
    finally:
        stop.set()
        t.join(5)
    counts = sw.tg.count_by(msg_id)
    dup = {m: n for m, n in counts.items() if n != 1}
    assert not dup, f"messages not sent exactly once: {dup}"
    assert set(counts) == set(ids)
    for token, prefixes in owners_by_bot(tg, [b_.token for b_ in bots]).items():
        assert len(set(prefixes)) == 1, f"two instances sent for one bot: {prefixes}"
    owners = {o for h in holders for o in h.values()}
    for bot in bots:  # one holder per bot all along: no lease moved between the two
        held_by = {h[bot.id] for h in holders if bot.id in h}
        assert len(held_by) == 1, f"bot {bot.id} changed hands: {held_by}"
    per_instance = {p: sum(1 for c in tg.sends() if c.prefix == p) for p in ("/A", "/B")}
    print(f"lease holders seen: {owners}; sends per instance: {per_instance}")
    assert all(per_instance.values()), f"one instance did all the work: {per_instance}"
    a.stop()
    b.stop()
    assert sw.leases() == {}


def test_sigkill_instance_bots_taken_over_within_lease(sw, tg):
    """One of two instances holds every bot and is killed: the other takes every bot over
    within lease_seconds (plus one renewal round) and finishes the backlog."""
    lease = 3
    bots = [sw.new_bot(per_second=10) for _ in range(4)]
    a = sw.senderd(sw.config(prefix="/A", lease_seconds=lease), instance="a")
    wait_for(lambda: len(sw.leases()) == 4, 10, what="instance a to hold every bot")
    b = sw.senderd(sw.config(prefix="/B", lease_seconds=lease), instance="b")
    ids = []
    for i, bot in enumerate(bots):
        ids += sw.add(bot, range(30000 + 100 * i, 30000 + 100 * i + 40))
    tg.wait_sends(20, timeout=10)
    a.kill()
    t_kill = time.monotonic()
    time.sleep(0.3)
    sending = {r[0] for r in sw.query("SELECT id FROM messages WHERE status = 'sending'")}
    deadline = lease + lease / 3 + 1.5
    try:
        wait_for(lambda: all(any(c.prefix == "/B" and c.time > t_kill
                                 for c in tg.sends(token=bot.token)) for bot in bots),
                 deadline, what="instance b to send for every bot")
    except BaseException:
        taken = {bot.id: min((c.time - t_kill for c in tg.sends(token=bot.token)
                              if c.prefix == "/B"), default=None) for bot in bots}
        print(f"takeover times after the kill (s): {taken}; leases {sw.leases()}")
        raise
    sw.wait_status(ids, ("sent",), timeout=20)
    counts = tg.count_by(msg_id)
    dups = {m for m, n in counts.items() if n > 1}
    assert set(counts) >= set(ids)
    assert dups <= sending, f"duplicates outside the messages in 'sending' at the kill: " \
                            f"{dups - sending}"
    assert set(sw.leases().values()) == {sw.leases()[bots[0].id]}
    b.stop()


def test_sigterm_mid_backlog(sw, tg):
    bot = sw.new_bot(per_second=20)
    ids = sw.add(bot, range(40000, 40100))
    d = sw.senderd()
    tg.wait_sends(25, timeout=10)
    t0 = time.monotonic()
    d.stop(signal.SIGTERM)  # asserts exit status 0
    print(f"SIGTERM to exit: {time.monotonic() - t0:.2f}s")
    st = sw.statuses(ids)
    assert "sending" not in st.values(), {i: s for i, s in st.items() if s == "sending"}
    assert sw.leases() == {}
    n_sent = sum(1 for s in st.values() if s == "sent")
    assert n_sent < len(ids), "the backlog was finished before SIGTERM: make it longer"
    assert set(st.values()) <= {"sent", "queued"}, st
    sent_at_stop = len(tg.sends())
    assert sent_at_stop == n_sent, (sent_at_stop, n_sent)
    sw.senderd()
    sw.wait_status(ids, ("sent",), timeout=20)
    counts = tg.count_by(msg_id)
    assert all(counts.get(i) == 1 for i in ids), {i: counts.get(i) for i in ids
                                                  if counts.get(i) != 1}


def test_sigterm_with_slow_requests_keeps_the_bot_until_done(sw, tg):
    """SIGTERM while slow requests are in flight, another instance running: the stopping
    instance still owns the bot until its requests are answered, so the other one must
    not send those messages again (two senders for one bot, duplicates)."""
    bot = sw.new_bot(per_second=30)
    ids = sw.add(bot, [9301, 9302, 9303])
    tg.slow(6.0, times=3, token=bot.token)
    conf_a = sw.config(prefix="/A", lease_seconds=3, drain_timeout=15, timeout=10)
    a = sw.senderd(conf_a, instance="a")
    tg.wait_sends(3, timeout=10)
    a.send(signal.SIGTERM)
    t_term = time.monotonic()
    sw.senderd(sw.config(prefix="/B", lease_seconds=3, timeout=10), instance="b")
    assert a.wait(20) == 0
    t_exit = time.monotonic()
    sw.wait_status(ids, timeout=20)
    counts = tg.count_by(msg_id)
    by_b = [c for c in tg.sends() if c.prefix == "/B"]
    print(f"a exited {t_exit - t_term:.1f}s after SIGTERM; b's first send for the bot at "
          f"{(by_b[0].time - t_term) if by_b else None}s; counts {counts}")
    assert not [c for c in by_b if c.time < t_exit], \
        "instance b sent for the bot while instance a still had its requests in flight"
    assert all(counts.get(i) == 1 for i in ids), counts
    assert set(sw.statuses(ids).values()) == {"sent"}


def test_sigterm_with_a_request_outliving_drain_timeout(sw, tg):
    """A request that hangs past drain_timeout: senderd still stops cleanly (status 0, no
    sanitizer report) and the message is not lost: the next senderd resolves it."""
    bot = sw.new_bot()
    tg.hang(times=1, chat=9500)
    mid = sw.add(bot, [9500])[0]
    conf = sw.config(timeout=30, drain_timeout=2)
    d = sw.senderd(conf)
    tg.wait_sends(1, timeout=10)
    t0 = time.monotonic()
    d.stop(signal.SIGTERM)
    print(f"stopped {time.monotonic() - t0:.1f}s after SIGTERM with a hung request; "
          f"status {sw.row(mid)['status']}")
    assert time.monotonic() - t0 < 2 + 3
    assert sw.leases() == {}
    sw.senderd(conf)
    sw.wait_status([mid], timeout=10)
    assert sw.row(mid)["status"] == "sent", sw.events(mid)


BIG_BACKLOG = int(os.environ.get("TGM_TEST_SENDERD_BACKLOG", "10000"))


def test_sigkill_mid_backlog_loses_nothing(sw, tg):
    """SIGKILL in the middle of a large backlog, then a new senderd: every message ends
    final, none is lost, and the only duplicates are messages in 'sending' at the kill."""
    n = BIG_BACKLOG
    bot = sw.new_bot(per_second=1000)
    ids = sw.add(bot, range(1_000_000, 1_000_000 + n))
    conf = sw.config(claim_batch=500, max_inflight=32, lease_seconds=3)
    d = sw.senderd(conf)
    t0 = time.monotonic()
    tg.wait_sends(n // 3, timeout=60)
    d.kill()
    t_kill = time.monotonic()
    time.sleep(0.5)  # let a commit that was already on its way land
    sending = {r[0] for r in sw.query("SELECT id FROM messages WHERE status = 'sending'")}
    before = len(tg.sends())
    sw.senderd(conf)
    sw.wait_status(ids, FINAL, timeout=60)
    t_end = time.monotonic()
    st = sw.statuses(ids)
    assert set(st.values()) == {"sent"}, {s: sum(1 for v in st.values() if v == s)
                                          for s in set(st.values())}
    counts = tg.count_by(msg_id)
    lost = [i for i in ids if i not in counts]
    dups = {m for m, c in counts.items() if c > 1}
    print(f"{n} messages: {before} sends before the kill at {t_kill - t0:.1f}s, "
          f"{len(sending)} in 'sending' at the kill, {len(dups)} sent twice; "
          f"all final {t_end - t0:.1f}s after the start; "
          f"{tg.http.connections} connections to the fake")
    assert not lost, f"{len(lost)} messages never reached Telegram"
    assert dups <= sending, f"duplicates outside 'sending' at the kill: {dups - sending}"


def test_sigkill_with_ambiguous_fail_does_not_fail_unsent_messages(sw, tg):
    """ambiguous=fail is for sends whose outcome is unknown. Messages a killed senderd had
    only claimed (in its lane's memory, waiting for the rate limit) never reached Telegram:
    the next owner must not mark them failed as 'ambiguous'."""
    bot = sw.new_bot(per_second=5)
    ids = sw.add(bot, range(50000, 50030))
    conf = sw.config(ambiguous="fail")
    d = sw.senderd(conf)
    tg.wait_sends(5, timeout=10)
    time.sleep(0.2)
    d.kill()
    time.sleep(0.3)
    sending = {r[0] for r in sw.query("SELECT id FROM messages WHERE status = 'sending'")}
    sw.senderd(conf)
    sw.wait_status(ids, timeout=30)
    seen = set(tg.count_by(msg_id))
    st = sw.statuses(ids)
    never_tried = sorted(i for i in ids if st[i] == "failed" and i not in seen)
    print(f"{len(sending)} in 'sending' at the kill; failed without ever reaching "
          f"Telegram: {len(never_tried)}")
    assert not never_tried, (f"{len(never_tried)} messages that never reached Telegram were "
                             f"failed as ambiguous: {never_tried}")


def test_bots_started_together_keep_their_own_messages_in_order(sw, tg):
    """Twelve bots taken in one lease round start together (their loads, recoveries and
    claims go in one statement per connection): each message goes once, with its own
    bot's token, each chat's in order, and what a previous owner left in 'sending' goes
    again."""
    bots = [sw.new_bot(per_second=50) for _ in range(12)]
    ids, left = {}, {}
    for i, bot in enumerate(bots):
        left[bot.id] = sw.add(bot, [30000 + 100 * i], status="sending")
        ids[bot.id] = sw.add(bot, [30000 + 100 * i + c % 3 for c in range(9)])
    everything = [m for b in bots for m in left[b.id] + ids[b.id]]
    sw.senderd(sw.config(claim_connections=2))
    sw.wait_status(everything, ("sent",), timeout=30)
    counts = tg.count_by(msg_id)
    assert {m: n for m, n in counts.items() if n != 1} == {}, "a message went twice"
    assert set(counts) == set(everything)
    for i, bot in enumerate(bots):
        mine = set(left[bot.id] + ids[bot.id])
        calls = [c for c in tg.sends() if msg_id(c) in mine]
        assert {c.token for c in calls} == {bot.token}, f"bot {bot.id} sent with another token"
        for chat in range(30000 + 100 * i, 30000 + 100 * i + 3):
            order = [msg_id(c) for c in calls if str(c.chat_id) == str(chat)]
            assert order == sorted(order), f"chat {chat} out of order: {order}"
        assert any("ambiguous" in (d or "") for s, d in sw.events(left[bot.id][0])
                   if s == "retrying"), f"bot {bot.id}'s row in 'sending' was not recovered"


def test_a_bot_that_cannot_load_keeps_only_its_own_lane_down(sw, tg):
    """One bot's settings do not cast (its start fails): the bots starting with it on the
    same connection start one at a time and send; its messages stay queued."""
    bots = [sw.new_bot(per_second=50) for _ in range(4)]
    bad = sw.new_bot(per_second="fast")
    ids = [m for i, b in enumerate(bots) for m in sw.add(b, range(31000 + 10 * i, 31003 + 10 * i))]
    stuck = sw.add(bad, [31100])
    d = sw.senderd(sw.config(claim_connections=1))
    sw.wait_status(ids, ("sent",), timeout=30)
    time.sleep(0.5)
    assert sw.statuses(stuck) == {stuck[0]: "queued"}
    assert f"bot={bad.id} cannot start its lane" in d.log()
    assert not tg.sends(token=bad.token)


def test_lane_resumes_after_a_slow_lease_renewal(sw, tg):
    """A lease renewal that is late (the database stalls for a moment) pauses the lanes; when
    it comes back they must go on at once, not on the next sweep (sweep_interval 60)."""
    bot = sw.new_bot(per_second=10)
    ids = sw.add(bot, range(60000, 60060))
    d = sw.senderd(lease_seconds=3, sweep_interval=60)
    tg.wait_sends(10, timeout=10)
    conn = sw.env.connect()
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE bot_leases IN EXCLUSIVE MODE")
        time.sleep(3.0)
    conn.commit()  # the renewal goes through now
    t_unlock = time.monotonic()
    conn.close()
    n_unlock = len(tg.sends())
    try:
        tg.wait_sends(n_unlock + 1, timeout=5)
    except AssertionError:
        pytest.fail(f"no send within 5 s after the lease renewal came back "
                    f"({n_unlock} of {len(ids)} sent; sweep_interval 60)")
    resumed = [c.time for c in tg.sends()][n_unlock] - t_unlock
    print(f"lanes resumed {resumed:.2f}s after the renewal came back")
    assert resumed < 2.0
    sw.wait_status(ids, ("sent",), timeout=20)
    assert d.running()


def hold_lock(sw, sql, seconds):
    """Run sql (a LOCK) in a transaction of its own and keep it for seconds."""
    conn = sw.env.connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            time.sleep(seconds)
        conn.commit()
    finally:
        conn.close()


def test_a_renewal_later_than_the_lease_recovers(sw, tg):
    """Issue 10: the lease round is held back past lease_seconds (a lock on bot_leases),
    so by the time it runs every lease of ours has expired. It must renew them, not offer
    them to itself again as expired (one statement touching a row twice fails as a whole,
    round after round, and delivery stops for good), and every message goes out once."""
    lease = 3  # the least the configuration allows
    bots = [sw.new_bot(per_second=20) for _ in range(3)]
    ids = [i for b in bots for i in sw.add(b, range(70000, 70120))]
    d = sw.senderd(lease_seconds=lease, sweep_interval=60)
    tg.wait_sends(20, timeout=10)
    hold_lock(sw, "LOCK TABLE bot_leases IN EXCLUSIVE MODE", lease * 2.5)
    n_unlock = len(tg.sends())
    sw.wait_status(ids, ("sent",), timeout=8 * lease + 10,
                   what="every message sent after the late renewal")
    per_msg = sends_of(tg, ids)
    twice = {m: len(c) for m, c in per_msg.items() if len(c) != 1}
    print(f"{n_unlock} sent before the lock went; sends per message off one: {twice}")
    assert not twice, f"messages not sent exactly once: {twice}"
    assert set(sw.leases()) == {b.id for b in bots}
    assert d.running()
    assert "lease renewal failed" not in d.log()


def test_a_claim_whose_answer_is_lost_is_resolved(sw, tg, tgm_env, pg_proxy):
    """The database connection breaks after a claim committed but before its answer came
    back (as in a failover): the rows it claimed are in 'sending', unknown to the lane.
    Once the lane holds nothing they go back to the queue and each message is sent once
    (they used to wait in 'sending' until the bot's lease changed hands: for ever with
    one senderd). No sweep: the lane's connection is idle until gatewayd's doorbell
    makes it claim, so the one query whose answer is lost is that claim."""
    conf = sw.config(sweep_interval=3600)
    base, h = gateway(sw, tgm_env, conf)
    bot = api_bot(base, h, per_second=50)
    # senderd alone reaches the database through the proxy
    proxied_conf = tgm_env.write_config(text=conf.read_text().replace(
        f'url = "{tgm_env.url}"', f'url = "{pg_proxy.url(tgm_env.db)}"', 1),
        name="senderd-proxied.conf")
    assert pg_proxy.url(tgm_env.db) in proxied_conf.read_text()
    d = sw.senderd(conf=proxied_conf)
    d.wait_log(rf"bot={bot.id} lane started", timeout=10)
    time.sleep(1.0)  # the lane's first claim is over; ZeroMQ subscriptions are in place
    ids = sw.add(bot, range(71000, 71010))  # with the bell, fewer than a first claim takes
    pg_proxy.mute()                    # the server works, its answers are lost
    r = requests.post(base + "/v1/messages", json={"chat_id": 71010, "text": "bell",
                                                   "bot_id": bot.id}, headers=h, timeout=10)
    assert r.status_code == 202, r.text
    ids.append(r.json()["id"])
    wait_for(lambda: sw.one("SELECT count(*) FROM messages WHERE id = ANY(%s)"
                            " AND status = 'sending'", (ids,))[0] == len(ids), 20,
             what="the claim committed (its answer lost)")
    assert not tg.sends()
    pg_proxy.unmute()
    pg_proxy.cut()                     # and the connection breaks
    sw.wait_status(ids, ("sent",), timeout=30, what="the lost claim's messages sent")
    twice = {m: len(c) for m, c in sends_of(tg, ids[:-1]).items() if len(c) != 1}
    assert not twice, f"messages not sent exactly once: {twice}"
    assert len(tg.sends()) == len(ids)
    d.wait_log(r"11 messages of a lost claim sent back to the queue")


def test_the_renewal_never_waits_behind_claims(sw, tg):
    """Issue 10: while the lanes' claims are stuck (messages locked), the lease rounds go
    on at their own pace on their own connection: no lease expires meanwhile."""
    lease = 3
    bot = sw.new_bot(per_second=20)
    ids = sw.add(bot, range(71000, 71060))
    d = sw.senderd(lease_seconds=lease, sweep_interval=60)
    tg.wait_sends(5, timeout=10)
    lapsed = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            lapsed.extend(sw.query("SELECT bot_id FROM bot_leases WHERE expires_at < now()"))
            time.sleep(0.1)
    t = threading.Thread(target=watch)
    t.start()
    try:
        hold_lock(sw, "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE", lease * 2.5)
    finally:
        stop.set()
        t.join()
    assert not lapsed, f"leases expired while the claims waited: {lapsed[:5]}"
    sw.wait_status(ids, ("sent",), timeout=20)
    assert d.running()


def test_a_poison_transition_fails_alone(sw, tg):
    """Issue 13: one transition that fails for good (here a CHECK the operator added
    refuses one message's 'sent') must not hold up the others: its group is recorded
    again one by one, the bad one is dropped with an error line naming it, and every
    other message, and every later one, is recorded sent."""
    bot = sw.new_bot(per_second=50)
    ids = sw.add(bot, range(72000, 72040))
    poison = ids[7]
    sw.query(f"ALTER TABLE messages ADD CONSTRAINT poison CHECK (id <> {poison}"
             f" OR status <> 'sent') NOT VALID")
    d = sw.senderd(sweep_interval=1)
    others = [i for i in ids if i != poison]
    sw.wait_status(others, ("sent",), timeout=20)
    assert sw.statuses([poison]) == {poison: "sending"}
    assert len(sends_of(tg, [poison])[poison]) == 1
    log = d.log()
    assert f"msg={poison} transition to sent failed and is dropped" in log, log[-2000:]
    later = sw.add(bot, range(72100, 72110))
    sw.wait_status(later, ("sent",), timeout=20)
    sw.query("ALTER TABLE messages DROP CONSTRAINT poison")


def claim_sql(bot_id, n):
    """senderd's claim statement as senderd/claim.c sends it, for one lane: bot_id's, n
    at most"""
    text = c_string("senderd/claim.c", "claim_sql")
    return text.replace("$1", f"'{{{bot_id}}}'").replace("$2", f"'{{{n}}}'").replace(
        "$3", "'{}'")


def due_plan(sw, bot_id, n):
    """the plan of sd_due's query (sql/functions/sd_due.sql, the claim's candidates) as
    the database holds it, for one lane (bot_id's, n at most), under the function's own
    settings"""
    return function_plan(sw.env, "sd_due", {"bot_ids": f"'{{{bot_id}}}'::bigint[]",
                                            "ns": f"'{{{n}}}'::int[]",
                                            "afters": "'{}'::text[]"})


def test_the_claim_checks_chat_order_per_message_after_an_empty_queue(sw):
    """statistics taken while the queue was empty (a quiet system's usual state) made the
    chat check a nested loop over the bot's whole queue for every candidate: 215 s for
    one claim over 50,000 queued. It is a subplan keyed by the candidate's chat and id.
    And the candidates were read whole and sorted (0.28 s a claim over 50,000): they are
    read in the due index's order, the partitions merged, so a claim stops at n."""
    bot = sw.new_bot()
    sw.query("ANALYZE messages")
    sw.add(bot, [str(700000 + i % 300) for i in range(3000)])
    nodes = due_plan(sw, bot.id, 100)
    assert not [n for n in nodes if n.get("Join Type") in ("Anti", "Semi")], nodes
    # the one sort is of the few chats' heads, below the walk (the test after next)
    sorts = [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]
    assert not [n for s in sorts for n in plan_nodes(s)
                if n.get("Index Name", "").startswith("messages_due")], sorts
    due = [n for n in nodes if n.get("Index Name", "").startswith("messages_due")]
    assert due, nodes
    # the chat checks (the few chats' walk also reads this index, by chat alone)
    checks = [n for n in nodes if n.get("Index Name", "").startswith("messages_chat_open")
              and "id <" in n.get("Index Cond", "")]
    assert checks, nodes
    for n in checks:
        cond = n.get("Index Cond", "")
        assert "chat = m" in cond and "id < m" in cond, cond


def due_walk(sw, bot_id, n, after=None):
    """sd_due's (id, chat) rows for one lane asking for n, its last walk chat by chat
    having stopped at after, on a connection of its own (autocommit: the rows it locks
    are free again when it returns); and where this walk stopped (None: no walk)"""
    conn = sw.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, chat FROM sd_due(%s::bigint[], %s::int[], %s::text[])",
                        ([bot_id], [n], [after]))
            rows = cur.fetchall()
    finally:
        conn.close()
    walked = [c for i, c in rows if i is None]
    assert len(walked) <= 1, rows
    return [r for r in rows if r[0] is not None], walked[0] if walked else None


def due_once(sw, bot_id, n):
    """due_walk's rows, from the first chat"""
    return due_walk(sw, bot_id, n)[0]


def test_a_claim_behind_a_few_chats_backlog_reads_a_bounded_window(sw):
    """3,000 messages queued to 3 chats (a bot posting to its channels), then one to
    each of 50 new chats: the claim walked all 3,000 held messages to find the heads
    (about 130 ms a claim over 30,000). It reads at most 4n + 64 of the due messages
    (plus as many to find where that window ends), and finds the new chats' heads chat by
    chat. Every row it returns is the first open message of its chat."""
    bot = sw.new_bot()
    busy = ["-1001", "-1002", "-1003"]
    sw.add(bot, busy * 1000)
    fresh = sw.add(bot, [str(800000 + i) for i in range(50)])
    sw.query("ANALYZE messages")
    n = 16
    nodes = function_plan(sw.env, "sd_due",
                          {"bot_ids": f"'{{{bot.id}}}'::bigint[]", "ns": f"'{{{n}}}'::int[]",
                           "afters": "'{}'::text[]"}, analyze=True)
    due = [x for x in nodes if x.get("Index Name", "").startswith("messages_due")]
    assert due, nodes
    read = sum(x["Actual Rows"] * x["Actual Loops"] + x.get("Rows Removed by Filter", 0)
               for x in due)
    assert read <= 2 * (4 * n + 64 + 1), (read, due)
    heads = {c: i for i, c in sw.query(
        "SELECT DISTINCT ON (chat) id, chat FROM messages WHERE bot_id = %s"
        " ORDER BY chat, id", (bot.id,))}
    for _ in range(10):
        rows = due_once(sw, bot.id, n)
        assert len(rows) == n, rows
        assert all(heads[c] == i for i, c in rows), rows
        assert {c for _, c in rows} >= set(busy), rows
        assert {i for i, _ in rows} & set(fresh), rows


def test_a_claim_behind_a_few_chats_backlog_keeps_priority_order(sw):
    """behind the busy chats' backlog, a high message to a busy chat is claimed first
    (nothing of its priority is open before it), and a normal one to a new chat before
    any bulk one"""
    bot = sw.new_bot()
    sw.add(bot, ["-1001", "-1002"] * 500, priority=2)
    sw.add(bot, [str(900000 + i) for i in range(20)], priority=2)
    normal = sw.add(bot, ["900100"])[0]
    high = sw.add(bot, ["-1001"], priority=0)[0]
    sw.query("ANALYZE messages")
    rows = due_once(sw, bot.id, 4)
    assert [i for i, _ in rows][:2] == [high, normal], rows
    assert len(rows) == 4, rows


def held_groups(sw, bot, held, fresh):
    """held groups' 2 messages each, the first waiting for a retry a minute away (a 5xx
    storm at those groups), then one message to each of fresh other groups; the fresh
    ones' ids"""
    first = sw.add(bot, [f"-100100000{i:04d}" for i in range(held)])
    sw.query("UPDATE messages SET status = 'retrying', not_before = now() + interval '1 min'"
             " WHERE id = ANY(%s)", (first,))
    sw.add(bot, [f"-100100000{i:04d}" for i in range(held)])
    return sw.add(bot, [f"-100900000{i:04d}" for i in range(fresh)])


def test_a_claim_behind_held_chats_goes_on_where_its_last_walk_stopped(sw):
    """200 groups whose first message waits for a retry and a second behind it, then 50
    more groups: the window is all held messages, and the walk chat by chat found no
    head in the first 4n + 64 groups. It started at a random string of digits, after
    every '-100...' id, so it went back to the first chat each time: the 50 groups were
    never reached until the retries fell due. Each walk now goes on where the last one
    stopped and wraps round, so all 50 are claimed within a few claims (each claim's
    rows sent, as the lane would)."""
    bot = sw.new_bot()
    fresh = set(held_groups(sw, bot, 200, 50))
    sw.query("ANALYZE messages")
    n, after, got, walks = 16, None, set(), []
    for _ in range(10):
        rows, after = due_walk(sw, bot.id, n, after)
        walks.append(after)
        assert {i for i, _ in rows} <= fresh, rows
        got |= {i for i, _ in rows}
        sw.query("UPDATE messages SET status = 'sent', sent_at = now()"
                 " WHERE id = ANY(%s)", ([i for i, _ in rows],))
        if got == fresh:
            break
    assert got == fresh, (len(got), walks)
    assert len(walks) <= 6, walks


def test_a_lane_behind_held_chats_reaches_the_others(sw, tg):
    """the same through senderd: the lane passes where its last walk stopped, so the 50
    groups behind 300 held ones are sent while the held ones wait for their retry"""
    bot = sw.new_bot(per_second=30)
    fresh = held_groups(sw, bot, 300, 50)
    sw.senderd(sweep_interval=60)
    sw.wait_status(fresh, ("sent",), timeout=30)
    assert sw.one("SELECT count(*) FROM messages WHERE bot_id = %s AND status = 'sent'",
                  (bot.id,))[0] == len(fresh)


def test_recording_finds_its_messages_by_id_after_statistics_of_an_idle_bot(sw, tg):
    """statistics taken while nothing was in flight made senderd's record statement read
    messages_sending as if empty: it hashed every message in flight to record a group
    (5,000 read to record 16). It finds its messages by id alone, and still touches only
    messages in 'sending' (a second record of the same group changes nothing)."""
    bot = sw.new_bot()
    sw.add(bot, [str(700000 + i) for i in range(5000)], status="sent")
    sw.query("ANALYZE messages")
    ids = sw.add(bot, [str(900000 + i) for i in range(5000)], status="sending")
    n = 16
    arr = "'{" + ",".join(map(str, ids[:n])) + "}'"
    stmt = c_string("senderd/record.c", "transition_sql").replace("$1", arr)
    for k, fill in (("$2", f"array_fill('sent'::text, ARRAY[{n}])"),
                    ("$3", f"array_fill(NULL::text, ARRAY[{n}])"),
                    ("$4", f"array_fill(NULL::bigint, ARRAY[{n}])"),
                    ("$5", f"array_fill(NULL::bigint, ARRAY[{n}])")):
        stmt = stmt.replace(k, fill)
    nodes = list(plan_nodes(sw.one("EXPLAIN (FORMAT JSON) " + stmt)[0][0]["Plan"]))
    scans = [n for n in nodes if n.get("Relation Name") == "messages_p0"
             and n["Node Type"] != "ModifyTable"]  # where the rows are (the others empty)
    assert scans and {n.get("Index Name") for n in scans} == {"messages_p0_pkey"}, scans
    assert sw.one(stmt)[0] == 0  # no callback URL: no callbacks
    assert sw.one(stmt)[0] == 0
    assert sw.one("SELECT count(*) FROM message_events WHERE message_id = ANY(%s)"
                  " AND status = 'sent'", (ids[:n],))[0] == n
    assert sw.one("SELECT count(*) FROM messages WHERE status = 'sending' AND bot_id = %s",
                  (bot.id,))[0] == len(ids) - n


def test_a_cancel_finds_its_message_by_id_after_statistics_of_an_empty_queue(sw, tg):
    """with statistics taken while nothing was queued, "status IN ('queued', 'retrying')"
    let the planner find the one message a cancel names in a partial index of waiting
    messages, walking the whole backlog (gatewayd/status.c and botsend.c): each finds it
    by its id, and still cancels only a message that waits"""
    bot = sw.new_bot()
    sw.add(bot, [str(700000 + i) for i in range(5000)], status="sent")
    sw.query("ANALYZE messages")
    ids = sw.add(bot, [str(900000 + i) for i in range(20000)])
    tenant = sw.one("SELECT tenant_id FROM messages WHERE id = %s", (ids[0],))[0]
    for src, mid, extra in (("gatewayd/status.c", ids[5], str(tenant)),
                            ("gatewayd/botsend.c", ids[6], "'canceled by test'")):
        h = (REPO / "gatewayd" / "gatewayd.h").read_text()
        still = re.search(r'#define GW_STILL_QUEUED \\\n\s*"(.*)"', h).group(1)
        stmt = c_string(src, "cancel_sql", {"GW_STILL_QUEUED": still})
        stmt = stmt.replace("$1", str(mid)).replace("$2", extra)
        nodes = list(plan_nodes(sw.one("EXPLAIN (FORMAT JSON) " + stmt)[0][0]["Plan"]))
        scans = [n for n in nodes if n.get("Relation Name") == "messages_p0"
                 and n["Node Type"] != "ModifyTable"]
        keyed = {"messages_p0_pkey", "messages_tenant_created_p0"}  # (id), (tenant_id, id)
        assert scans and {n.get("Index Name") for n in scans} <= keyed, (src, scans)
        sw.one(stmt)
        assert sw.row(mid)["status"] == "canceled", src
        sw.one(stmt)  # a second time: no longer waiting, nothing changes
        assert sw.one("SELECT count(*) FROM message_events WHERE message_id = %s"
                      " AND status = 'canceled'", (mid,))[0] == 1, src


def test_the_claim_looks_up_a_blocked_or_moved_chat_by_its_key(sw, tg):
    """a message keeps its chat as text; the claim's lookups of a blocked chat and of a
    moved group read, per message, every blocked chat of the bot and every chat of the
    table (10,000 blocked of 200,000 chats: 2.5 ms a message). A moved group is read
    from the partial index of moved chats by the chat's text; a blocked chat by its key
    (bot_id, chat_id), one row at a time (by its text, a generic plan made each lookup a bitmap
    scan); both still find what they look for."""
    bot = sw.new_bot()
    sw.query("INSERT INTO chats (bot_id, chat_id, blocked_at, blocked_reason, migrated_to)"
             " SELECT %s, 800000 + g, CASE WHEN g %% 10 = 0 THEN now() END, CASE WHEN"
             " g %% 10 = 0 THEN 'Forbidden: bot was blocked by the user' END,"
             " CASE WHEN g %% 100 = 1 THEN -1009000000 - g END"
             " FROM generate_series(1, 2000) g", (bot.id,))
    sw.query("ANALYZE chats")
    ids = sw.add(bot, [800010, 800001, 800002])
    nodes = list(plan_nodes(sw.one("EXPLAIN (FORMAT JSON) " + claim_sql(bot.id, 10))[0][0]["Plan"]))
    assert not [n for n in nodes if n.get("Relation Name") == "chats"
                and n["Node Type"] == "Seq Scan"], nodes
    used = {n["Index Name"] for n in nodes if n.get("Index Name", "").startswith("chats")}
    keyed = {"chats_pkey", "chats_blocked"}  # (bot_id, chat_id): all, or the blocked
    assert "chats_migrated_text" in used and used - {"chats_migrated_text"} <= keyed, used
    assert not [n for n in nodes if n["Node Type"].startswith("Bitmap")
                and n.get("Index Name") in keyed], nodes
    # and the claimed rows themselves by id (told to expect 50 rows from sd_due, the
    # UPDATE hashed a scan of the whole of a small messages table)
    assert not [n for n in nodes if n.get("Relation Name") == "messages_p0"
                and n["Node Type"] == "Seq Scan"], nodes
    sw.senderd()
    st = sw.wait_status(ids)
    assert st == {ids[0]: "failed", ids[1]: "sent", ids[2]: "sent"}, st
    assert sw.row(ids[0])["last_error"].startswith("chat blocked"), sw.row(ids[0])
    assert sw.row(ids[1])["chat"] == str(-1009000001), sw.row(ids[1])


def test_the_record_looks_messages_up_by_id_on_a_generic_plan(sw):
    """the record statement is prepared (senderd/record.c): planned once for any group,
    on a generic plan. Its transitions come from sd_transitions, estimated at one row,
    so the plan looks each message up by id even while the statistics call messages
    small; as unnest of the array parameters (guessed at 10 rows) the UPDATE read the
    whole of a small table once a group, and more as it grew."""
    bot = sw.new_bot()
    sw.add(bot, [str(900000 + i % 50) for i in range(1500)], status="sent")
    sw.query("ANALYZE messages")  # a small table, nothing in 'sending'
    ids = sw.add(bot, ["900001", "900002", "900003", "900004"], status="sending")
    conn = sw.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute("PREPARE rec AS " + c_string("senderd/record.c", "transition_sql"))
            cur.execute("EXPLAIN (FORMAT JSON) EXECUTE rec(%s, '{sent}', '{NULL}', '{7}',"
                        " '{0}')", ([ids[3]],))
            nodes = list(plan_nodes(cur.fetchone()[0][0]["Plan"]))
    finally:
        conn.close()
    scans = {(n["Relation Name"], n["Node Type"]) for n in nodes
             if n.get("Relation Name", "").startswith("messages") and "Scan" in n["Node Type"]}
    # the partition that holds them (the others are empty: any scan of them is free)
    assert {kind for rel, kind in scans if rel == "messages_p0"} == {"Index Scan"}, scans
    # and no join of the group's rows with themselves: estimated at one row, such a join
    # became a nested loop, n x n rows compared (61 ms for a group of 500)
    assert not [n for n in nodes if "Join Filter" in n], nodes



def test_the_claims_held_check_looks_rows_up_by_bot(sw):
    """the claim says whether it passed over due messages (LANE_HELD). On a generic plan,
    with statistics taken while nothing was queued, that check written as EXISTS became
    a hashed subplan of every bot's due rows, read whole at every claim; every read of
    the partition holding the messages must go through an index by key"""
    bot = sw.new_bot()
    sw.add(bot, [str(910000 + i % 50) for i in range(1500)], status="sent")
    sw.query("ANALYZE messages")
    sw.add(bot, ["910001"] * 3)
    conn = sw.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute("PREPARE claim AS " + c_string("senderd/claim.c", "claim_sql"))
            cur.execute("EXPLAIN (FORMAT JSON) EXECUTE claim(%s, '{1}', '{}')", ([bot.id],))
            nodes = list(plan_nodes(cur.fetchone()[0][0]["Plan"]))
    finally:
        conn.close()
    reads = [n for n in nodes if n.get("Relation Name") == "messages_p0"]
    assert len(reads) >= 3, nodes  # the UPDATE's, the next due row's, the held check's
    for n in reads:
        assert "Index" in n["Node Type"] and "Index Cond" in n, n


def test_an_event_names_a_message_and_a_message_keeps_its_events(sw):
    """sql/049: the foreign key from message_events to messages became a check once per
    statement (with its other half on messages). An event of no message is refused, one
    bad row of many refuses them all, an event is not moved to no message; a message
    with events is neither deleted nor renumbered; without its events it may be deleted
    (bad input: a clear error, and nothing written)."""
    import psycopg2.errors
    bot = sw.new_bot()
    ids = sw.add(bot, ["920001", "920002"], status="sent")  # each with its event
    events = sw.one("SELECT count(*) FROM message_events")[0]
    for sql, args in (("INSERT INTO message_events (message_id, status) VALUES (%s, 'sent')",
                       (ids[1] + 1000000,)),
                      ("INSERT INTO message_events (message_id, status)"
                       " VALUES (%s, 'sent'), (%s, 'sent')", (ids[0], ids[1] + 1000000)),
                      ("UPDATE message_events SET message_id = message_id + 1000000"
                       " WHERE message_id = %s", (ids[0],)),
                      ("DELETE FROM messages WHERE id = %s", (ids[0],)),
                      ("UPDATE messages SET id = DEFAULT WHERE id = %s", (ids[0],))):
        with pytest.raises(psycopg2.errors.ForeignKeyViolation) as e:
            sw.query(sql, args)
        assert e.value.diag.constraint_name == "message_events_message", e.value
    assert sw.one("SELECT count(*) FROM message_events")[0] == events
    assert sw.query("SELECT id FROM messages WHERE id = ANY(%s) ORDER BY id", (ids,)) == \
        [(ids[0],), (ids[1],)]
    sw.query("INSERT INTO message_events (message_id, status) VALUES (%s, 'sent')", (ids[0],))
    sw.query("DELETE FROM message_events WHERE message_id = %s", (ids[1],))
    sw.query("DELETE FROM messages WHERE id = %s", (ids[1],))
    assert sw.query("SELECT id FROM messages WHERE id = ANY(%s)", (ids,)) == [(ids[0],)]
