"""GET /v1/events (issue 14): Server-Sent Events of the caller's tenant with message
transitions (ids from message_events, resumable with Last-Event-ID), queue depth per bot
each second, bot health changes, daemon heartbeats and a keepalive comment, for API keys
and dashboard sessions alike; real gatewayd and senderd against fake_telegram.
"""

import json
import queue
import socket
import threading
import time

import pytest
import requests

from api_helpers import World
from conftest import wait_for
from fake_telegram import FakeTelegram
from test_accounts import login, new_account


class Stream:
    """An SSE client on a thread: events as dicts {id, event, data, comment} in a queue."""

    def __init__(self, url, headers):
        self.events = queue.Queue()
        self.seen = []
        self.resp = requests.get(url, headers={"Accept": "text/event-stream", **headers},
                                 stream=True, timeout=(5, 60))
        self.status = self.resp.status_code
        self.headers = self.resp.headers
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        ev = {}
        try:
            for raw in self.resp.iter_lines(decode_unicode=True, chunk_size=1):
                if raw == "":
                    if ev:
                        self.events.put(ev)
                    ev = {}
                elif raw.startswith(":"):
                    self.events.put({"comment": raw[1:].strip()})
                else:
                    field, _, value = raw.partition(":")
                    ev[field] = value[1:] if value.startswith(" ") else value
        except Exception:  # noqa: BLE001 - the connection closed under us
            pass
        self.ended.set()

    def next(self, pred, timeout=20, what="an event"):
        """The first event (after those already taken) for which pred is true."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {what} within {timeout}s; saw {self.seen[-20:]}",
                            pytrace=False)
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if "data" in ev and ev.get("event") != "retry":
                ev["json"] = json.loads(ev["data"])
            self.seen.append(ev)
            if pred(ev):
                return ev

    def message(self, mid, status, **kw):
        return self.next(lambda e: e.get("event") == "message"
                         and e["json"]["message_id"] == mid and e["json"]["status"] == status,
                         what=f"message {mid} {status}", **kw)

    def close(self):
        self.resp.close()


@pytest.fixture
def live(tgm_env):
    """gatewayd and senderd against fake_telegram; an admin key of acme."""
    with FakeTelegram() as tg:
        w = World(tgm_env, {("telegram", "api_url"): tg.url})
        w.env.daemon("senderd", conf=w.conf)
        w.tg = tg
        w.admin = w.api("acme")
        streams = []

        def stream(key=None, cookie=None, headers=None):
            h = dict(headers or {})
            if key:
                h["Authorization"] = f"Bearer {key}"
            if cookie:
                h["Cookie"] = f"tgm_session={cookie}"
            s = Stream(w.base + "/v1/events", h)
            streams.append(s)
            return s
        w.stream = stream
        try:
            yield w
        finally:
            for s in streams:
                s.close()
            w.close()


def send(world, bot, text="hello", chat=1001):
    r = world.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": chat, "text": text})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_transitions_queue_and_daemons_stream(live):
    bot = live.admin.new_bot()
    s = live.stream(key=live.admin.key)
    assert s.status == 200 and s.headers["Content-Type"] == "text/event-stream", s.headers
    assert s.headers["Cache-Control"] == "no-store"
    queued = s.next(lambda e: e.get("event") == "queue", what="a queue event")
    assert "id" not in queued
    assert [b["bot_id"] for b in queued["json"]["bots"]] == [bot["id"]]
    assert set(queued["json"]["bots"][0]) == {"bot_id", "enabled", "queued", "sending"}
    daemons = s.next(lambda e: e.get("event") == "daemons", what="a daemons event")
    names = {d["name"] for d in daemons["json"]}
    assert {"gatewayd", "senderd"} <= names, daemons
    assert all(d["version"] and d["seen_at"] for d in daemons["json"])

    mid = send(live, bot, "stream me")
    sending = s.message(mid, "sending")
    sent = s.message(mid, "sent")
    assert int(sending["id"]) < int(sent["id"])
    assert sent["json"]["bot_id"] == bot["id"] and sent["json"]["chat"] == "1001"
    # the id is the message_events row's
    row = live.one("SELECT status FROM message_events WHERE id = %s", (int(sent["id"]),))
    assert row == ("sent",)



def test_queue_event_counts_the_bots_waiting_messages(live):
    """The once-a-second queue event gives each bot's waiting messages (from the depth
    counters): three scheduled an hour ahead, then two once one is canceled."""
    bot = live.admin.new_bot()
    later = int(time.time()) + 3600
    ids = []
    for i in range(3):
        r = live.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 2000 + i,
                                             "text": "later", "send_at": later})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    s = live.stream(key=live.admin.key)

    def depth(n):
        return lambda e: (e.get("event") == "queue"
                          and e["json"]["bots"] == [{"bot_id": bot["id"], "enabled": True,
                                                     "queued": n, "sending": 0}])
    s.next(depth(3), what="a queue event with 3 queued")
    r = live.admin.post(f"/v1/messages/{ids[0]}/cancel", {})
    assert r.status_code == 200, r.text
    s.next(depth(2), what="a queue event with 2 queued")

def test_last_event_id_resumes_from_the_database(live):
    bot = live.admin.new_bot()
    s = live.stream(key=live.admin.key)
    first = send(live, bot, "one")
    seen = s.message(first, "sent")
    s.close()

    second = send(live, bot, "two")
    live.tg.wait_sends(2)
    wait_for(lambda: live.query("SELECT status FROM messages WHERE id = %s", (second,))
             == [("sent",)], 20, what="the second message sent")
    again = live.stream(key=live.admin.key, headers={"Last-Event-ID": seen["id"]})
    got = again.message(second, "sending")
    again.message(second, "sent")
    ids = [int(e["id"]) for e in again.seen if e.get("event") == "message"]
    assert all(i > int(seen["id"]) for i in ids), ids
    assert first not in [e["json"]["message_id"] for e in again.seen
                         if e.get("event") == "message"]
    assert int(got["id"]) > int(seen["id"])

    # too far back, or nonsense: a reset event, then live
    old = live.stream(key=live.admin.key, headers={"Last-Event-ID": "99999999"})
    old.next(lambda e: e.get("event") == "reset", what="a reset event")
    third = send(live, bot, "three")
    old.message(third, "sent")


def test_a_new_client_joins_the_live_stream_from_now(live):
    """A client without Last-Event-ID that opens while another is live joins at the live
    cursor: it gets what happens next, the daemons at once, and nothing from before."""
    bot = live.admin.new_bot()
    first = live.stream(key=live.admin.key)
    before = send(live, bot, "before")
    first.message(before, "sent")
    late = live.stream(key=live.admin.key)
    late.next(lambda e: e.get("event") == "daemons", what="a daemons event")
    after = send(live, bot, "after")
    late.message(after, "sending")
    late.message(after, "sent")
    first.message(after, "sent")
    assert before not in [e["json"]["message_id"] for e in late.seen
                          if e.get("event") == "message"]


def test_a_tenant_sees_only_its_own(live):
    bot = live.admin.new_bot()
    other = live.api("globex", "read")
    s = live.stream(key=other.key)
    mine = live.stream(key=live.admin.key)
    mid = send(live, bot)
    mine.message(mid, "sent")
    time.sleep(1.5)  # the other stream had a tick to show it
    leaked = []
    while not s.events.empty():
        ev = s.events.get()
        if ev.get("event") in ("message", "queue", "bot"):
            leaked.append(ev)
    assert leaked == [], leaked


def test_bot_health_change_and_sessions(live):
    bot = live.admin.new_bot()
    new_account(live, "viewer@example.com", "viewer")
    dash = login(live, "viewer@example.com")
    s = live.stream(cookie=dash.cookie)
    assert s.status == 200
    s.next(lambda e: e.get("event") == "queue", what="a queue event")
    live.query("UPDATE bots SET enabled = false, disabled_reason = 'test' WHERE id = %s",
               (bot["id"],))
    ev = s.next(lambda e: e.get("event") == "bot", what="a bot event")
    assert ev["json"] == {"bot_id": bot["id"], "enabled": False, "disabled_reason": "test"}


def test_refused_without_credentials(live):
    s = live.stream()
    assert s.status == 401
    s = live.stream(cookie="tgms_" + "x" * 40)
    assert s.status == 401


def test_keepalive_comment(live):
    s = live.stream(key=live.admin.key)
    ev = s.next(lambda e: e.get("comment") == "keepalive", timeout=30, what="a keepalive")
    assert ev


def test_a_quiet_client_keeps_its_stream_past_the_connection_timeout(live):
    """A stream's client sends nothing after its request. The servers' 60 s timeout on
    reading a connection ended every stream after a minute; a stream now lasts, and its
    connection closes when it ends (Connection: close) rather than idling on without a
    timeout."""
    bot = live.admin.new_bot()
    s = live.stream(key=live.admin.key)
    assert s.headers.get("Connection", "").lower() == "close", s.headers
    s.next(lambda e: e.get("event") == "daemons", what="a daemons event")
    assert not s.ended.wait(70), "the stream ended while its client was quiet"
    s.message(send(live, bot, "after a minute"), "sent")


def test_drain_ends_streams(live):
    s = live.stream(key=live.admin.key)
    s.next(lambda e: e.get("event") == "daemons", what="a daemons event")
    live.daemon.stop()
    assert s.ended.wait(15), "the stream did not end when gatewayd stopped"


def seed_events(world, bot, n, detail_len):
    """n sent messages of bot, each with a 'sent' event of a long detail; the last id."""
    tenant = world.tenant_id("acme")
    world.query(
        "WITH m AS (INSERT INTO messages (tenant_id, bot_id, chat, params, status)"
        " SELECT %s, %s, '1', '{}', 'sent' FROM generate_series(1, %s) RETURNING id)"
        " INSERT INTO message_events (message_id, status, detail)"
        " SELECT id, 'sent', repeat('x', %s) FROM m ORDER BY id", (tenant, bot["id"], n, detail_len))
    return world.one("SELECT max(id) FROM message_events")[0]


def raw_stream(world, key, last_id, rcvbuf=None):
    """A socket that asked for /v1/events from last_id (small receive buffer if given)."""
    host, port = world.base[len("http://"):].split(":")
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, int(port)))
    s.sendall((f"GET /v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Authorization: Bearer {key}\r\nLast-Event-ID: {last_id}\r\n\r\n").encode())
    return s


def test_slow_client_is_dropped_fast_one_is_not(live):
    bot = live.admin.new_bot()
    top = seed_events(live, bot, 4000, 3000)  # 12 MB of backfill
    first = top - 3999

    slow = raw_stream(live, live.admin.key, first - 1, rcvbuf=4096)  # never read
    live.daemon.wait_log(r"events: dropping a slow client", timeout=60)
    # gatewayd goes on serving, and a client that reads gets every event
    assert live.admin.get("/v1/bots").status_code == 200
    fast = raw_stream(live, live.admin.key, first - 1)
    fast.settimeout(30)
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += fast.recv(1 << 16)
    head, raw = raw.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding: chunked" in head, head
    # the chunks decoded as they come (each whole, its size exact), kept fast enough
    # not to be dropped as slow: a bytearray read from an offset, not copied
    buf, pos, tail, ids = bytearray(raw), 0, b"", []
    while len(ids) < 4000:
        while (eol := buf.find(b"\r\n", pos)) >= 0:
            n = int(buf[pos:eol], 16)
            assert n > 0, f"the stream ended after {len(ids)} events (dropped as slow?)"
            if len(buf) < eol + n + 4:
                break
            assert buf[eol + 2 + n:eol + 4 + n] == b"\r\n", bytes(buf[eol:eol + 16])
            frames = (tail + bytes(buf[eol + 2:eol + 2 + n])).split(b"\n\n")
            tail = frames.pop()
            ids += [int(f.split(b"\n")[0][4:]) for f in frames if f.startswith(b"id: ")]
            pos = eol + n + 4
        del buf[:pos]
        pos = 0
        if len(ids) < 4000:
            chunk = fast.recv(1 << 20)
            assert chunk, f"the stream ended after {len(ids)} events"
            buf += chunk
    assert ids == list(range(first, top + 1))
    slow.close()
    fast.close()


def test_an_http_1_0_client_gets_the_stream_unchunked(live):
    """HTTP/1.0 has no chunks: the stream's bytes come as they are, until it closes."""
    host, port = live.base[len("http://"):].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall((f"GET /v1/events HTTP/1.0\r\nAuthorization: Bearer {live.admin.key}"
               "\r\n\r\n").encode())
    s.settimeout(20)
    raw = b""
    while b"event: daemons" not in raw:
        chunk = s.recv(1 << 16)
        assert chunk, raw
        raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0], head
    assert b"chunked" not in head, head
    assert body.startswith(b"retry: 2000\n\n"), body[:80]
    assert b"event: daemons\ndata: [" in body, body[:200]
    fields = {line.split(b":")[0] for line in body.split(b"\n")[:-1] if line}
    assert fields <= {b"retry", b"event", b"data", b"id", b""}, fields  # no chunk sizes
    s.close()
