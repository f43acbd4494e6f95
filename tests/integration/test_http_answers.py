"""How gatewayd's answers reach the connection (common/http.c).

An answer given after a query (most of them: every accepted message waits for its
COMMIT) is written to the socket at once and evhttp is told at once that it went, not on
the loop's next turn. These tests hold what a connection must still get, on raw sockets:
pipelined requests answered in order, Connection: close kept, an answer larger than the
socket takes at once written whole, a body larger than the 64 KB read ahead of a waiting
answer read whole once the answer goes, and a client that leaves before its answer
costing nothing but its own request.
"""
import json
import socket
import struct
import time

from api_helpers import api, msg, world  # noqa: F401 (fixtures)


def connect(world, rcvbuf=None):
    host, port = world.base.split("//")[1].rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # before connect, so the window offered stays small
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(15)
    s.connect((host, int(port)))
    return s


def post(key, path, body, extra=""):
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: tgm\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"{extra}\r\n").encode() + data


class Reader:
    """HTTP/1.1 answers with a Content-Length, read one by one from a socket."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def fill(self):
        chunk = self.s.recv(65536)
        assert chunk, "the connection closed before a whole answer came"
        self.buf += chunk

    def answer(self):
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in
                   (line.split(":", 1) for line in lines[1:])}
        n = int(headers["content-length"])
        while len(self.buf) < n:
            self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, json.loads(body)


def test_pipelined_requests_are_answered_in_order(world, api):
    """Five messages sent in one write, each a request waiting for its COMMIT: five
    answers, in the order asked, each for its own message."""
    bot = api.new_bot()
    texts = [f"pipelined {i}" for i in range(5)]
    with connect(world) as s:
        s.sendall(b"".join(post(api.key, "/v1/messages", msg(bot_id=bot["id"], text=t))
                           for t in texts))
        r = Reader(s)
        answers = [r.answer() for _ in texts]
    assert [a[0] for a in answers] == [202] * 5, answers
    for (_, _, doc), text in zip(answers, texts):
        assert api.get(f"/v1/messages/{doc['id']}").json()["params"]["text"] == text


def test_connection_close_after_a_waiting_answer(world, api):
    """A request that says Connection: close gets its answer, then the close; the next
    connection is served."""
    bot = api.new_bot()
    with connect(world) as s:
        s.sendall(post(api.key, "/v1/messages", msg(bot_id=bot["id"]), "Connection: close\r\n"))
        r = Reader(s)
        status, headers, doc = r.answer()
        assert status == 202 and doc["id"] > 0, doc
        assert headers.get("connection", "").lower() == "close", headers
        assert s.recv(1) == b"", "the connection stayed open"
    assert api.send_ok(msg(bot_id=bot["id"]))["id"] > doc["id"]


def test_an_answer_larger_than_the_socket_takes_is_written_whole(world, api):
    """A batch of 1,000 answered to a client that offers a small window and reads late:
    the socket takes part of the answer, the rest follows as the client reads, whole and
    in order; a second request on the same connection is answered after it."""
    bot = api.new_bot()
    items = [msg(bot_id=bot["id"], text=f"item {i} " + "x" * 50) for i in range(1000)]
    with connect(world, rcvbuf=4096) as s:
        s.sendall(post(api.key, "/v1/messages/batch", {"messages": items}))
        time.sleep(1)  # the answer waits in gatewayd, partly written
        s.sendall(post(api.key, "/v1/messages", msg(bot_id=bot["id"], text="after")))
        r = Reader(s)
        status, _, doc = r.answer()
        assert status == 200, doc
        results = doc["results"]
        assert [x["index"] for x in results] == list(range(1000)), results[:3]
        assert all(x["code"] == 202 for x in results), results[:3]
        status, _, after = r.answer()
    assert status == 202 and after["id"] > max(x["id"] for x in results), after
    n = world.one("SELECT count(*) FROM messages WHERE bot_id = %s", (bot["id"],))[0]
    assert n == 1001


def test_bodies_over_the_read_ahead_follow_any_answer(world, api):
    """While an answer waits, gatewayd reads at most 64 KB ahead on its connection
    (common/http.c, keep_reading); once the answer starts, the limit goes. On one
    connection, pipelined and then one by one: an answer given at once (a 400 for a body
    that is no JSON), an answer that waits for its COMMIT, each followed by a batch of
    about 300 KB: every request is answered, and every message kept."""
    bot = api.new_bot()
    host = world.base.split("//")[1]
    bad = (f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {api.key}"
           "\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n{").encode()

    def batch(tag):
        return post(api.key, "/v1/messages/batch", {"messages": [
            msg(bot_id=bot["id"], text=f"{tag} {i} " + "y" * 1500) for i in range(200)]})

    requests = [bad, batch("after a 400"),
                post(api.key, "/v1/messages", msg(bot_id=bot["id"], text="waits")),
                batch("after a 202")]
    assert all(len(b) > 300_000 for b in requests[1::2])
    with connect(world) as s:
        r = Reader(s)
        s.sendall(b"".join(requests))
        pipelined = [r.answer()[0] for _ in requests]
        one_by_one = []
        for b in requests:
            s.sendall(b)
            one_by_one.append(r.answer()[0])
    assert pipelined == one_by_one == [400, 200, 202, 200], (pipelined, one_by_one)
    n = world.one("SELECT count(*) FROM messages WHERE bot_id = %s", (bot["id"],))[0]
    assert n == 2 * (200 + 1 + 200)


def test_a_client_gone_before_its_answer_costs_only_its_request(world, api):
    """Clients that send a message and leave at once (closing, or resetting the
    connection) before their answer: gatewayd goes on serving the others; each such
    message was either kept or not, never kept twice."""
    bot = api.new_bot()
    for i in range(20):
        s = connect(world)
        s.sendall(post(api.key, "/v1/messages", msg(bot_id=bot["id"], text=f"gone {i}")))
        if i % 2:  # a reset: SO_LINGER with no time
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    kept = api.send_ok(msg(bot_id=bot["id"], text="still served"))
    rows = world.query("SELECT params->>'text' FROM messages WHERE bot_id = %s", (bot["id"],))
    texts = [t for (t,) in rows]
    assert "still served" in texts and kept["id"] > 0
    assert len(texts) == len(set(texts)) and len(texts) <= 21, texts
