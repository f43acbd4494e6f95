"""common/httpc.c and common/telegram.c against fake_http.py, through tests/tools/tg_call.

Each test scripts the fake Bot API, runs the driver once (one tgm_tg_call, or a few in
a row on one client), and checks the line it prints: the class of docs/telegram.md section
4, the fields behind it, that the token never shows, and what the server received.
A driver built with ASan/UBSan is audited too: any sanitizer report fails the test.

The driver is $TGM_TOOLS/tg_call (default <repo>/build/obj/tools/tg_call); the tests
fail when it is missing (make tools).

Run: TGM_TOOLS=build/obj/tools /usr/bin/python3 -m pytest -q tests/integration/test_httpc.py
"""

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import require_file
from fake_http import FakeHTTP, Reply, free_port

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("TGM_TOOLS") or REPO / "build" / "obj" / "tools")
TG_CALL = TOOLS / "tg_call"

# Short enough that the logger's own redaction (digits:30+ characters) would miss it:
# the description must be scrubbed by telegram.c itself.
TOKEN = "123456:SeCrEtToKeN-abc_987"
SECRET = TOKEN.split(":", 1)[1]
METHOD_PATH = f"/bot{TOKEN}/sendMessage"
MESSAGE = {"chat_id": 42, "text": "héllo"}



@pytest.fixture(autouse=True)
def tg_call_built():
    """Fail (never skip) when the test tool is not built."""
    require_file(TG_CALL, "make tools; TGM_TOOLS names the directory of the test tools")


@pytest.fixture
def fake():
    with FakeHTTP() as srv:
        yield srv


def parse(line):
    """'class=X ok=0 ... desc=rest of line' -> dict (desc keeps its spaces)"""
    head, _, desc = line.partition(" desc=")
    out = dict(kv.split("=", 1) for kv in head.split())
    out["desc"] = desc
    return out


PROXY_VARS = ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY", "socks_proxy", "SOCKS_PROXY")


def tg_call(api_url, body=None, timeout_ms=3000, repeat=1, parallel=1, token=TOKEN, limit=30,
            pause_ms=0, usage=None, env=None):
    """Run the driver; the parsed lines (one per call, in the order they completed).
    usage: a dict to receive the driver's CPU seconds ("cpu"); env: variables to add to
    an environment without proxy variables."""
    body = json.dumps(MESSAGE) if body is None else body
    before = os.times()
    run_env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    run_env.update(env or {})
    p = subprocess.run([str(TG_CALL), api_url, token, "sendMessage", body, str(timeout_ms),
                        str(repeat), str(parallel), str(pause_ms)], capture_output=True,
                       text=True, timeout=limit, env=run_env)
    after = os.times()
    if usage is not None:
        usage["cpu"] = (after.children_user + after.children_system -
                        before.children_user - before.children_system)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.returncode == 0, f"rc={p.returncode} stderr={p.stderr}"
    lines = p.stdout.splitlines()
    assert len(lines) == repeat * parallel, p.stdout
    for line in lines:
        assert SECRET not in line, f"token leaked: {line}"
    assert SECRET not in p.stderr
    return [parse(line) for line in lines]


def one(api_url, **kw):
    return tg_call(api_url, **kw)[0]


# --- answers from the Bot API -------------------------------------------------------

ANSWERS = {
    "ok": (Reply.tg_ok({"message_id": 7}),
           dict(cls="OK", ok="1", code="200", retry_after="-1", transport="0")),
    "429 retry_after": (
        Reply.tg_error(429, "Too Many Requests: retry after 3", retry_after=3,
                       headers={"Retry-After": "9"}),  # the body's value wins
        dict(cls="FLOOD", code="429", retry_after="3")),
    "429 header only": (
        Reply(429, {"ok": False, "error_code": 429, "description": "Too Many Requests"},
              headers={"Retry-After": "7"}),
        dict(cls="FLOOD", code="429", retry_after="7")),
    "500": (Reply.tg_error(500, "Internal Server Error: restart"),
            dict(cls="RETRY", code="500", transport="0", ambiguous="0")),
    "502 html": (Reply.html(502),
                 dict(cls="RETRY", code="502", transport="1", ambiguous="0")),
    "503 retry-after date": (
        Reply.html(503, headers={"Retry-After": time.strftime(
            "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))}),
        dict(cls="RETRY", code="503")),
    "403 blocked": (Reply.tg_error(403, "Forbidden: bot was blocked by the user"),
                    dict(cls="CHAT_GONE", code="403")),
    "403 kicked": (Reply.tg_error(403, "Forbidden: bot was kicked from the group chat"),
                   dict(cls="CHAT_GONE", code="403")),
    "400 chat not found": (Reply.tg_error(400, "Bad Request: chat not found"),
                           dict(cls="CHAT_GONE", code="400")),
    "400 migrated": (
        Reply.tg_error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                       migrate_to_chat_id=-1001234567890123),
        dict(cls="MIGRATED", code="400", migrate="-1001234567890123")),
    "400 too long": (Reply.tg_error(400, "Bad Request: message is too long"),
                     dict(cls="BAD_REQUEST", code="400")),
    "401": (Reply.tg_error(401, "Unauthorized"), dict(cls="TOKEN_DEAD", code="401")),
    "404": (Reply.tg_error(404, "Not Found"), dict(cls="TOKEN_DEAD", code="404")),
    "200 not json": (Reply.html(200, "<html>hello</html>"),
                     dict(cls="AMBIGUOUS", code="200", transport="1", ambiguous="1")),
}


@pytest.mark.parametrize("name", list(ANSWERS))
def test_answer(fake, name):
    reply, want = ANSWERS[name]
    fake.script(METHOD_PATH, reply)
    got = one(fake.url)
    want = dict(want)
    assert got["class"] == want.pop("cls"), got
    for k, v in want.items():
        assert got[k] == v, (k, got)
    req = fake.wait_for(1)[0]
    assert req.method == "POST" and req.path == METHOD_PATH
    assert req.header("Content-Type") == "application/json"
    assert req.header("Expect") is None
    assert req.json == MESSAGE


@pytest.mark.parametrize("var", ["http_proxy", "all_proxy"])
def test_a_proxy_in_the_environment_is_used(fake, var):
    """libcurl takes a proxy from the environment; httpc tells its handles "no proxy"
    only when no such variable is set (it reads them once, not at every request). With
    one set, the request goes to the proxy, for a host only the proxy could reach."""
    fake.route("*", lambda req: Reply.tg_ok({"message_id": 9}))
    got = one("http://api.telegram.invalid", env={var: fake.url})
    assert got["class"] == "OK", got
    req = fake.wait_for(1)[0]  # the proxy: the host's name does not resolve
    assert req.header("Host") == "api.telegram.invalid", req.headers


def test_no_proxy_in_the_environment_is_honoured(fake):
    """A host in no_proxy goes direct even with a proxy set (the proxy here refuses)."""
    fake.script(METHOD_PATH, Reply.tg_ok({"message_id": 10}))
    got = one(fake.url, env={"http_proxy": f"http://127.0.0.1:{free_port()}",
                             "no_proxy": "127.0.0.1"})
    assert got["class"] == "OK", got


def test_retry_after_date(fake):
    # the date is made now: ANSWERS' was made when the module was imported
    fake.script(METHOD_PATH, Reply.html(503, headers={"Retry-After": time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))}))
    assert 100 <= int(one(fake.url)["retry_after"]) <= 120


def test_descriptions_kept(fake):
    fake.script(METHOD_PATH, Reply.tg_error(403, "Forbidden: bot was blocked by the user"))
    assert one(fake.url)["desc"] == "Forbidden: bot was blocked by the user"


def test_token_scrubbed_from_description(fake):
    fake.script(METHOD_PATH, Reply.tg_error(400, f"Bad Request: token {TOKEN} echoed",))
    got = one(fake.url)
    assert got["class"] == "BAD_REQUEST"
    assert got["desc"] == "Bad Request: token *** echoed"


def test_api_url_trailing_slash(fake):
    fake.script(METHOD_PATH, Reply.tg_ok())
    assert one(fake.url + "/")["class"] == "OK"
    assert fake.wait_for(1)[0].path == METHOD_PATH


# --- transport failures ---------------------------------------------------------------

def test_answer_head_time():
    """first_byte_ms is when the answer's status line came, not when the body did: a
    server that sends its head and holds the body 600 ms (as a Nagle delay would) gives
    a head time well before the end (senderd's pacing ends a round trip there)"""
    body = json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)

        def serve():
            conn, _ = lst.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next(v for k, _, v in (h.partition(b":") for h in
                                 head.split(b"\r\n")) if k.lower() == b"content-length"))
                while len(rest) < length:
                    rest += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body))
                time.sleep(0.6)
                conn.sendall(body)
                conn.recv(1)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        got = one(f"http://127.0.0.1:{lst.getsockname()[1]}")
        t.join(5)
    assert got["class"] == "OK", got
    assert int(got["head"]) >= 200, got


def test_connection_refused():
    got = one(f"http://127.0.0.1:{free_port()}")
    assert got["class"] == "RETRY" and got["ambiguous"] == "0" and got["transport"] == "1"
    assert got["code"] == "0" and got["head"] == "-1"
    assert "sendMessage" not in got["desc"]


def test_connect_timeout_is_safe_to_retry():
    """A listener whose accept queue is full drops our SYN: the connect times out."""
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(0)
        port = lst.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            time.sleep(0.1)
            got = one(f"http://127.0.0.1:{port}", timeout_ms=600)
        finally:
            for s in fillers:
                s.close()
    assert got["class"] == "RETRY" and got["ambiguous"] == "0", got


def test_slow_answer_is_ambiguous(fake):
    fake.script(METHOD_PATH, Reply(200, {"ok": True, "result": True}, delay=3))
    t = time.monotonic()
    got = one(fake.url, timeout_ms=500)
    assert time.monotonic() - t < 2.5
    assert got["class"] == "AMBIGUOUS" and got["ambiguous"] == "1", got
    assert "timed out" in got["desc"]
    assert fake.wait_for(1)[0].json == MESSAGE  # it did arrive


def test_closed_after_request_is_ambiguous(fake):
    fake.script(METHOD_PATH, Reply.close())
    got = one(fake.url)
    assert got["class"] == "AMBIGUOUS" and got["ambiguous"] == "1", got
    assert len(fake.requests) == 1


def test_reset_after_request_is_ambiguous(fake):
    fake.script(METHOD_PATH, Reply(0, action="reset"))
    got = one(fake.url)
    assert got["class"] == "AMBIGUOUS" and got["ambiguous"] == "1", got
    assert "reset" in got["desc"]


def test_partial_upload_is_safe_to_retry(tmp_path):
    """A peer that never reads: the body cannot leave whole, so the timeout is RETRY."""
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"chat_id": 1, "text": "x" * (16 << 20)}))
    with socket.socket() as lst:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lst.bind(("127.0.0.1", 0))
        lst.listen(8)  # the kernel accepts the connection; nobody reads it
        got = one(f"http://127.0.0.1:{lst.getsockname()[1]}", body=f"@{big}", timeout_ms=800)
    assert got["class"] == "RETRY" and got["ambiguous"] == "0", got


def test_small_and_large_requests_take_turns_on_reused_handles(fake, tmp_path):
    """Sends (small POSTs: libcurl's receive buffer is small for them, LEAN_BUFFER in
    httpc.c) and large requests (its default buffer) in turn on one client, each answered
    with 40 KiB: every handle is reused by the other kind (curl_easy_reset between), and
    every answer is read whole (under ASan, a buffer of the wrong size is an error)."""
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"chat_id": 1, "text": "hi"}))
    large = tmp_path / "large.json"
    large.write_text(json.dumps({"chat_id": 1, "text": "y" * (40 << 10)}))
    fake.script(METHOD_PATH, Reply.tg_ok({"message_id": 7, "text": "z" * (40 << 10)}))
    got = tg_call(fake.url, body=f"@{small},@{large},@{small},@{large},@{small}", repeat=5)
    assert [g["class"] for g in got] == ["OK"] * 5, got
    assert [len(r.json["text"]) for r in fake.wait_for(5)] == [2, 40 << 10] * 2 + [2]


def test_response_too_large(fake):
    fake.script(METHOD_PATH, Reply(200, b"x" * (5 << 20), content_type="application/json"))
    got = one(fake.url)
    assert got["transport"] == "1" and "larger than" in got["desc"], got
    assert got["class"] == "AMBIGUOUS"


# --- connections ----------------------------------------------------------------------

def test_keep_alive_reuses_the_connection(fake):
    fake.script(METHOD_PATH, Reply.tg_ok())
    got = tg_call(fake.url, repeat=3)
    assert [g["class"] for g in got] == ["OK"] * 3
    assert {r.conn for r in fake.wait_for(3)} == {1}
    assert fake.connections == 1


def test_server_closing_idle_connection(fake):
    """The server says Connection: close; the next call opens a new connection."""
    fake.script(METHOD_PATH, Reply(200, {"ok": True, "result": 1}, action="close_after"),
                Reply.tg_ok())
    got = tg_call(fake.url, repeat=2)
    assert [g["class"] for g in got] == ["OK", "OK"]
    assert [r.conn for r in fake.wait_for(2)] == [1, 2]


def test_idle_connection_closed_by_the_server(fake):
    """The server closes a kept-alive connection between two calls without a word (its
    idle timeout): the idle socket's watcher leaves the loop when the FIN comes (no busy
    loop on a readable socket nobody reads: the driver idles through the pause), and the
    next call goes on a new connection."""
    fake.script(METHOD_PATH, Reply(200, {"ok": True, "result": 1}, action="close_silently"),
                Reply.tg_ok())
    usage = {}
    got = tg_call(fake.url, repeat=2, pause_ms=2000, usage=usage)
    assert [g["class"] for g in got] == ["OK", "OK"]
    assert [r.conn for r in fake.wait_for(2)] == [1, 2]
    assert usage["cpu"] < 0.4, usage  # a busy loop spends the pause (0.6 s of 1.5 on a busy host)


@pytest.mark.parametrize("text", ["hello", "x" * 40000])
def test_no_silent_resend_on_reused_connection(fake, text):
    """libcurl resends a request whose reused connection died without an answer; the
    message may have been delivered, so httpc refuses: AMBIGUOUS, and one request only.
    Both ways of sending a body: a small one written with the head (refused by the
    pre-request check), a large one through the read callback (refused by the rewind)."""
    fake.script(METHOD_PATH, Reply.tg_ok(), Reply.close())
    got = tg_call(fake.url, repeat=2, body=json.dumps({"chat_id": 1, "text": text}))
    assert [g["class"] for g in got] == ["OK", "AMBIGUOUS"]
    assert got[1]["desc"] == "connection lost after the request was sent (not resent)"
    time.sleep(0.2)
    assert len(fake.requests) == 2, fake.requests
    assert fake.requests[1].json["text"] == text


def test_parallel_calls_share_two_connections(fake):
    """The driver's client allows 2 connections per host: 6 slow calls take 3 rounds."""
    fake.script(METHOD_PATH, Reply(200, {"ok": True, "result": True}, delay=0.3))
    t = time.monotonic()
    got = tg_call(fake.url, parallel=6)
    assert [g["class"] for g in got] == ["OK"] * 6
    assert time.monotonic() - t >= 0.85
    assert fake.connections == 2
    assert sorted(r.conn for r in fake.requests) == [1, 1, 1, 2, 2, 2]


def test_queued_call_times_out_unsent(fake):
    """Two calls hang on the two connections; the third, with a shorter timeout, never
    gets one and must time out on time (libcurl alone would let it wait for a free
    connection): RETRY, not AMBIGUOUS, and the server saw two requests."""
    fake.script(METHOD_PATH, Reply.hang())
    t = time.monotonic()
    with subprocess.Popen([str(TG_CALL), fake.url, TOKEN, "sendMessage",
                           json.dumps(MESSAGE), "2500,2500,500", "1", "3"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        first = parse(p.stdout.readline())
        waited = time.monotonic() - t
        rest = [parse(line) for line in p.stdout]
        err = p.stderr.read()
    assert p.returncode == 0 and "Sanitizer" not in err and "runtime error" not in err, err
    assert first["class"] == "RETRY" and first["ambiguous"] == "0", first
    assert "not sent" in first["desc"]
    assert 0.4 < waited < 1.5
    assert [g["class"] for g in rest] == ["AMBIGUOUS", "AMBIGUOUS"], rest
    assert len(fake.requests) == 2
