"""fake_http - a scriptable, fault-injecting HTTP/1.1 server for tgm's tests.

It stands in for the Telegram Bot API (or any HTTP peer) in integration tests. It
runs in a thread of the test process on a free 127.0.0.1 port, answers each path
from a script of replies, and records every request it reads. Standard library
only (http.server.ThreadingHTTPServer); keep-alive connections are honoured.

Use::

    from fake_http import FakeHTTP, Reply

    with FakeHTTP() as srv:                      # started; stopped on exit
        srv.script("/bot1:T/sendMessage",        # answered in order; the last repeats
                   Reply.tg_error(429, "Too Many Requests: retry after 3", retry_after=3),
                   Reply.tg_ok({"message_id": 7}))
        srv.script("*/getMe", Reply.tg_ok({"id": 1}))     # fnmatch pattern on the path
        srv.route("/echo", lambda req: Reply(200, {"got": req.json}))  # computed reply
        ...  # point the program at srv.url ("http://127.0.0.1:PORT")
        req = srv.wait_for(1)[0]                 # Request(method, path, body, ...)
        assert req.json["chat_id"] == 42

Reply(status=200, body=None, headers=None, delay=0.0, action=None, content_type=None)
    body: dict/list -> JSON (application/json); str -> UTF-8 text (text/html unless
    content_type says otherwise); bytes -> as is; None -> empty.
    delay: seconds to wait after reading the request before acting.
    action: None answers; "close" closes the connection without answering (FIN);
    "reset" aborts it (RST); "hang" never answers (the connection is closed when the
    server stops). "close_after" answers, then closes the connection; "close_silently"
    does too without saying so (no Connection: close, as a server's idle timeout would).
    Helpers: Reply.tg_ok(result), Reply.tg_error(code, description, retry_after=None,
    migrate_to_chat_id=None), Reply.html(status, text), Reply.close(delay),
    Reply.hang().

FakeHTTP(host="127.0.0.1", port=0)
    start() / stop() (or a with block); url; port.
    script(path_or_pattern, *replies, repeat_last=True): replace the script of a path.
        Replies are used one per request; when they run out the last one repeats
        (repeat_last=False falls back to `default` instead). Exact paths win over
        patterns; patterns are tried in the order they were added.
    route(path_or_pattern, fn): fn(Request) -> Reply, for every matching request.
    default: the Reply for unscripted paths (Telegram's 404 "Not Found").
    requests: a copy of every Request so far, in arrival order.
    requests_for(path_or_pattern): those whose path matches.
    wait_for(n, path_or_pattern=None, timeout=5.0): block until n (matching)
        requests arrived; returns them; AssertionError on timeout.
    clear(): forget recorded requests (scripts stay).
    connections: how many TCP connections were accepted so far.

Request fields: method, path, query (dict of lists), headers (list of (name, value)),
body (bytes), json (parsed body or None), time (time.monotonic() when the whole
request had arrived), client ((host, port)), conn (connection number, 1-based),
reply (the Reply chosen). header(name) -> the first value or None.

free_port() -> a 127.0.0.1 port nothing listens on (to test "connection refused").

Run alone for manual tests: python3 fake_http.py [PORT] answers {"ok":true} to
everything and prints each request.
"""

import fnmatch
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeHTTP", "FakeUpstream", "Reply", "Request", "free_port"]


class Reply:
    """One scripted answer (or fault); see the module docstring."""

    ACTIONS = (None, "close", "reset", "hang", "close_after", "close_silently")

    def __init__(self, status=200, body=None, headers=None, delay=0.0, action=None,
                 content_type=None):
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.delay = delay
        self.action = action
        self.content_type = content_type

    def __repr__(self):
        return (f"Reply({self.status}, action={self.action}, delay={self.delay}, "
                f"body={self.body!r:.60})")

    def encode(self):
        """(content type, body bytes)"""
        if isinstance(self.body, (dict, list)):
            return (self.content_type or "application/json",
                    json.dumps(self.body).encode())
        if isinstance(self.body, str):
            return self.content_type or "text/html; charset=utf-8", self.body.encode()
        if isinstance(self.body, bytes):
            return self.content_type or "application/octet-stream", self.body
        return self.content_type, b""

    @classmethod
    def tg_ok(cls, result=True, **kw):
        """{"ok":true,"result":...} with status 200"""
        return cls(200, {"ok": True, "result": result}, **kw)

    @classmethod
    def tg_error(cls, code, description, retry_after=None, migrate_to_chat_id=None, **kw):
        """A Bot API error; a 429 with retry_after also gets the Retry-After header,
        as telegram-bot-api sends it (docs/telegram.md section 2)."""
        body = {"ok": False, "error_code": code, "description": description}
        params = {}
        if retry_after is not None:
            params["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            params["migrate_to_chat_id"] = migrate_to_chat_id
        if params:
            body["parameters"] = params
        headers = dict(kw.pop("headers", {}) or {})
        if code == 429 and retry_after is not None:
            headers.setdefault("Retry-After", str(retry_after))
        return cls(code, body, headers=headers, **kw)

    @classmethod
    def html(cls, status, text=None, **kw):
        """A non-JSON page, like a proxy's 502"""
        text = text or (f"<html><head><title>{status}</title></head><body>"
                        f"<center><h1>{status}</h1></center><hr><center>nginx</center>"
                        "</body></html>\n")
        return cls(status, text, **kw)

    @classmethod
    def close(cls, delay=0.0):
        """Read the request, then close the connection without a word"""
        return cls(0, action="close", delay=delay)

    @classmethod
    def hang(cls):
        """Read the request and never answer"""
        return cls(0, action="hang")


class Request:
    """One request as the server read it."""

    def __init__(self, method, target, headers, body, client, conn):
        url = urllib.parse.urlsplit(target)
        self.method = method
        self.path = url.path
        self.query = urllib.parse.parse_qs(url.query)
        self.headers = headers
        self.body = body
        self.client = client
        self.conn = conn
        self.time = time.monotonic()
        self.reply = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def __repr__(self):
        return f"Request({self.method} {self.path} conn={self.conn} body={self.body[:60]!r})"


def _matches(pattern, path):
    return pattern == path or fnmatch.fnmatchcase(path, pattern)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "fake_http/1"

    def setup(self):
        super().setup()
        self.fake = self.server.fake
        self.conn_no = self.fake._connected(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.fake._disconnected(self.connection)

    def log_message(self, fmt, *args):  # quiet; kept for debugging
        self.fake.log.append(fmt % args)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _serve(self):
        body = self._read_body()
        if len(body) < int(self.headers.get("Content-Length") or 0):
            self.close_connection = True  # cut short (the client died): no request
            return
        req = Request(self.command, self.path, list(self.headers.items()), body,
                      self.client_address, self.conn_no)
        reply = self.fake._choose(req)
        req.reply = reply
        self.fake._record(req)
        if reply.delay and self.fake._stopping.wait(reply.delay):
            reply = Reply.close()  # stopping: do not answer
        if reply.action == "hang":
            self.fake._stopping.wait()
            reply = Reply.close()
        if reply.action in ("close", "reset"):
            self._drop(reply.action == "reset")
            return
        try:
            self._answer(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _answer(self, reply):
        ctype, data = reply.encode()
        self.send_response(reply.status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if reply.action == "close_after":
            self.send_header("Connection", "close")
        if reply.action in ("close_after", "close_silently"):
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _drop(self, reset):
        self.close_connection = True
        try:
            if reset:  # close now, before socketserver's shutdown(SHUT_WR) sends a FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        """A client that goes away (a killed daemon) is no error of the server's."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class FakeHTTP:
    """The server; see the module docstring for the API."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self._want_port = port
        self.default = Reply.tg_error(404, "Not Found")
        self.log = []
        self.connections = 0
        self._lock = threading.Condition()
        self._scripts = {}   # path or pattern -> [replies, index, repeat_last]
        self._routes = {}    # path or pattern -> fn
        self._requests = []
        self._open = set()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None

    # --- life cycle ---------------------------------------------------------------

    def start(self):
        self._server = _Server((self.host, self._want_port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake_http:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop accepting, wake delayed and hanging replies, close every connection."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            conns = list(self._open)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    # --- scripting ----------------------------------------------------------------

    def script(self, path, *replies, repeat_last=True):
        if not replies:
            raise ValueError("script() needs at least one Reply")
        with self._lock:
            self._scripts[path] = [list(replies), 0, repeat_last]
        return self

    def route(self, path, fn):
        with self._lock:
            self._routes[path] = fn
        return self

    def _choose(self, req):
        with self._lock:
            fn = self._find(self._routes, req.path)
            if fn is None:
                script = self._find(self._scripts, req.path)
        if fn is not None:
            return fn(req)
        if script is None:
            return self.default
        with self._lock:
            replies, i, repeat_last = script
            if i < len(replies):
                script[1] += 1
                return replies[i]
            return replies[-1] if repeat_last else self.default

    @staticmethod
    def _find(table, path):
        if path in table:
            return table[path]
        for pattern, value in table.items():
            if _matches(pattern, path):
                return value
        return None

    # --- recording ----------------------------------------------------------------

    def _record(self, req):
        with self._lock:
            self._requests.append(req)
            self._lock.notify_all()

    def _connected(self, sock):
        with self._lock:
            self._open.add(sock)
            self.connections += 1
            return self.connections

    def _disconnected(self, sock):
        with self._lock:
            self._open.discard(sock)

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def requests_for(self, path):
        return [r for r in self.requests if _matches(path, r.path)]

    def wait_for(self, n, path=None, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self._requests if path is None or _matches(path, r.path)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake_http: {len(got)} of {n} requests "
                                         f"after {timeout}s: {got}")
                self._lock.wait(left)

    def clear(self):
        with self._lock:
            self._requests.clear()


def free_port():
    """A 127.0.0.1 TCP port that nothing listens on (connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _main(argv):
    port = int(argv[1]) if len(argv) > 1 else 0
    srv = FakeHTTP(port=port)
    srv.default = Reply.tg_ok()
    srv.route("*", lambda req: (print(req.method, req.path, req.body[:200], flush=True),
                                Reply.tg_ok())[1])
    with srv:
        print(f"fake_http listening on {srv.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main(sys.argv)


class FakeUpstream:
    """The life cycle every fake upstream built on a FakeHTTP at self.http shares:
    start() (returns the fake), stop(), use as a context manager, and its url."""

    def start(self):
        self.http.start()
        return self

    def stop(self):
        self.http.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return self.http.url
