"""fake_telegram - a fault-injecting Telegram Bot API for senderd's tests, on fake_http.

It answers ``/bot<token>/<method>`` like the Bot API: ``getMe`` with the bot's id (the
digits before the colon of its token), ``sendMessage``, ``sendPhoto``, ``sendDocument``,
``copyMessage`` (and any other ``send*``) with ``{"ok":true,"result":{"message_id":N,
"chat":{"id":...},...}}``, N counting up from 1 across the whole fake. Every request is
recorded as a :class:`Call` with the fake's own arrival time (``time.monotonic()`` when
the whole request had been read). Files put with ``add_file(token, path, data)`` are
served at ``/file/bot<token>/<path>`` (any other path there: Telegram's 404).

Faults are rules, tried in the order they were added; the first rule that matches a
request (token, chat, method) and has answers left decides the answer, else the request
succeeds::

    from fake_telegram import FakeTelegram

    with FakeTelegram() as tg:                  # started; stopped on exit
        tg.flood(retry_after=2, chat=42)        # the next request to chat 42: a 429
        tg.server_error(times=3, token=tok)     # three 500s for that bot
        tg.blocked(chat=7)                      # 403 bot was blocked, forever
        tg.chat_not_found(chat=8)
        tg.migrate(chat=-100, to=-100200)       # 400 with migrate_to_chat_id
        tg.unauthorized(token=tok)              # 401 Unauthorized, forever
        tg.slow(2.0, chat=9, times=1)           # answers OK after 2 s
        tg.drop(chat=10, times=1)               # reads the request, closes the connection
        tg.hang(chat=11, times=1)               # reads the request, never answers
        ...                                     # point senderd's [telegram] api_url at tg.url
        calls = tg.wait_sends(5)                # Call(token, method, chat_id, text, time...)

``times=None`` means forever; rules also match on ``text=`` and ``method=``. An
``api_url`` with a path (``tg.url + "/A"``) is accepted: ``call.prefix`` is then "/A",
which tells apart two senderd instances configured with different prefixes.
Forum topics: ``createForumTopic`` answers a ForumTopic (thread ids count up from 1001);
``tg.delete_topic(chat, thread)`` makes later sends into that topic answer 400
``message thread not found``, as Telegram does once an admin deleted it.
``tg.calls(...)``/``tg.sends(...)`` filter the record by token, chat, method;
``tg.count_by(key)`` counts sends per key (e.g. the message id the tests put in the text).
``max_in_window(times, w)`` and ``min_gap(times)`` check rates from the arrival times.

A network and Telegram's own limits, for pacing tests::

    tg.network(up=(0.05, 0.25), down=(0.05, 0.25))  # each way drawn per request (s)
    tg.strict(per_second=30, chat_per_second=1)     # 429 past either, like Telegram

    tg.serial(0.005)                                # one request at a time, 5 ms each

``up`` delays the arrival (``Call.time`` is when the request "reached" the fake),
``down`` the answer. ``serial`` makes a saturated Telegram: requests wait their turn
behind those that came before, and ``Call.waiting`` is how many were at the fake,
unanswered, when the request came (itself included). ``strict`` counts arrivals of sends per token and per (token,
chat) in sliding one-second windows and answers 429 (``Call.answer`` "strict") to a
send that would exceed one; ``tg.strict_floods()`` lists those.
"""

import collections
import copy
import email.parser
import email.policy
import itertools
import random
import threading
import time
import urllib.parse

from fake_http import FakeHTTP, FakeUpstream, Reply

__all__ = ["FakeTelegram", "Call", "Rule"]

SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "copyMessage")
# methods whose result is True rather than a Message
TRUE_METHODS = ("sendChatAction", "setMessageReaction", "refundStarPayment")


def chat_key(value):
    """A chat id as the fake compares them: "123", "-100", "@name" (str), None if absent."""
    if value is None:
        return None
    return str(value)


def form_params(request):
    """a form or multipart/form-data body's fields ({name: str}) and files ({name:
    (filename, bytes)})"""
    ctype = request.header("Content-Type") or ""
    if ctype.startswith("application/x-www-form-urlencoded"):
        q = urllib.parse.parse_qs(request.body.decode(), keep_blank_values=True)
        return {k: v[-1] for k, v in q.items()}, {}
    if not ctype.startswith("multipart/form-data"):
        return {}, {}
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + request.body)
    fields, files = {}, {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = (part.get_filename(), data)
        else:
            fields[name] = data.decode()
    return fields, files


class Call:
    """One request to the fake Bot API."""

    __slots__ = ("token", "method", "params", "chat_id", "text", "time", "answer",
                 "request", "prefix", "files", "waiting")

    def __init__(self, token, method, params, when, request, prefix=""):
        self.prefix = prefix  # the path before /bot<token>/ (which api_url was used)
        self.token = token
        self.method = method
        self.params, self.files = params if isinstance(params, dict) else {}, {}
        if not self.params and request is not None and request.body:
            self.params, self.files = form_params(request)
        self.chat_id = chat_key(self.params.get("chat_id"))
        self.text = self.params.get("text") or self.params.get("caption")
        self.time = when
        self.answer = None  # the rule's kind ("ok", "flood", ...)
        self.request = request
        self.waiting = None  # with serial(): requests at the fake when it came

    def __repr__(self):
        return (f"Call({self.method} chat={self.chat_id} text={self.text!r:.40} "
                f"t={self.time:.3f} answer={self.answer})")


class Rule:
    """Answer matching requests with reply (a Reply or fn(call) -> Reply), `times` times
    (None: forever)."""

    def __init__(self, kind, reply, token=None, chat=None, method=None, times=None,
                 text=None):
        self.kind = kind
        self.reply = reply
        self.token = token
        self.chat = chat_key(chat)
        self.method = method
        self.text = text
        self.left = times
        self.used = 0

    def matches(self, call):
        if self.left is not None and self.left <= 0:
            return False
        if self.token is not None and call.token != self.token:
            return False
        if self.chat is not None and call.chat_id != self.chat:
            return False
        if self.method is not None and call.method != self.method:
            return False
        if self.text is not None and call.text != self.text:
            return False
        return True

    def take(self, call):
        if self.left is not None:
            self.left -= 1
        self.used += 1
        return self.reply(call) if callable(self.reply) else self.reply


class FakeTelegram(FakeUpstream):
    """The fake; see the module docstring."""

    def __init__(self, delay=0.0):
        self.http = FakeHTTP()
        self.http.route("*", self._handle)
        self._threads = itertools.count(1001)
        self._deleted_topics = set()
        self._files = {}        # (token, path) -> bytes, for /file/bot<token>/<path>
        self.delay = delay      # added to every successful answer
        self._lock = threading.Condition()
        self._rules = []
        self._calls = []
        self._ids = itertools.count(1)
        self._up = self._down = None
        self._strict = None     # (per_second, chat_per_second, window)
        self._arrivals = {}     # token or (token, chat) -> deque of arrival times
        self._random = random.Random(12)
        self._serial = None     # seconds a request takes, one at a time (serial())
        self._serial_lock = threading.Lock()
        self._waiting = 0       # requests at the fake not answered yet (serial())

    # --- network and limits -------------------------------------------------------

    def network(self, up=None, down=None):
        """delay each request's arrival by up and its answer by down: seconds, or a
        (low, high) range drawn uniformly for each request"""
        self._up, self._down = up, down
        return self

    def serial(self, service):
        """serve one request at a time, each taking `service` seconds: a saturated
        Telegram, where requests queue"""
        self._serial = service
        return self

    def strict(self, per_second=30, chat_per_second=1, window=1.0):
        """answer 429 to a send past per_second per token or chat_per_second per chat
        within any window (arrival times)"""
        self._strict = (per_second, chat_per_second, window)
        return self

    def strict_floods(self):
        return [c for c in self.sends() if c.answer == "strict"]

    def _draw(self, way):
        if way is None:
            return 0.0
        if isinstance(way, (int, float)):
            return float(way)
        with self._lock:
            return self._random.uniform(*way)

    def _over_limit(self, call):
        """count call's arrival in the strict windows; True if it exceeds one (caller
        holds the lock)"""
        if self._strict is None or call.method not in SEND_METHODS and \
                not call.method.startswith("send"):
            return False
        per_bot, per_chat, window = self._strict
        over = False
        for key, limit in ((call.token, per_bot), ((call.token, call.chat_id), per_chat)):
            q = self._arrivals.setdefault(key, collections.deque())
            while q and q[0] <= call.time - window:
                q.popleft()
            over = over or len(q) >= limit
        if not over:
            self._arrivals[call.token].append(call.time)
            self._arrivals[(call.token, call.chat_id)].append(call.time)
        return over

    # --- rules --------------------------------------------------------------------

    def rule(self, kind, reply, token=None, chat=None, method=None, times=None, text=None):
        """answer requests that match (token, chat, method, text: None is any) with reply
        (a Reply, or fn(call) -> Reply), `times` times (None: forever)"""
        r = Rule(kind, reply, token, chat, method, times, text)
        with self._lock:
            self._rules.append(r)
        return r

    def clear_rules(self):
        with self._lock:
            self._rules.clear()

    def flood(self, retry_after, times=1, **match):
        """429 Too Many Requests with parameters.retry_after (and Retry-After)"""
        return self.rule("flood", Reply.tg_error(
            429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after),
            times=times, **match)

    def server_error(self, code=500, times=1, **match):
        return self.rule("5xx", Reply.tg_error(code, "Internal Server Error"), times=times,
                         **match)

    def blocked(self, times=None, **match):
        return self.rule("blocked", Reply.tg_error(
            403, "Forbidden: bot was blocked by the user"), times=times, **match)

    def chat_not_found(self, times=None, **match):
        return self.rule("not_found", Reply.tg_error(400, "Bad Request: chat not found"),
                         times=times, **match)

    def bad_request(self, description="Bad Request: message is too long", times=None,
                    **match):
        return self.rule("bad_request", Reply.tg_error(400, description), times=times,
                         **match)

    def migrate(self, to, times=None, **match):
        return self.rule("migrate", Reply.tg_error(
            400, "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id=to), times=times, **match)

    def unauthorized(self, times=None, **match):
        return self.rule("401", Reply.tg_error(401, "Unauthorized"), times=times, **match)

    def slow(self, delay, times=1, **match):
        """answer OK, after delay seconds"""
        return self.rule("slow", lambda call: self._ok(call, delay), times=times, **match)

    def hang(self, times=1, **match):
        """read the request and never answer (until the fake stops)"""
        return self.rule("hang", Reply.hang(), times=times, **match)

    def drop(self, times=1, delay=0.0, **match):
        """read the request, then close the connection without an answer"""
        return self.rule("drop", Reply.close(delay), times=times, **match)

    # --- answering ----------------------------------------------------------------

    def delete_topic(self, chat, thread):
        """The forum topic is gone: sends into it answer 400 message thread not found."""
        with self._lock:
            self._deleted_topics.add((chat_key(chat), int(thread)))

    def _topic_reply(self, call):
        """createForumTopic's ForumTopic; a send into a deleted topic's error; else None"""
        if call.method == "createForumTopic":
            thread = next(self._threads)
            return Reply.tg_ok({"message_thread_id": thread, "name": call.params.get("name"),
                                "icon_color": 7322096})
        thread = call.params.get("message_thread_id") if isinstance(call.params, dict) else None
        if thread is not None and (chat_key(call.chat_id), int(thread)) in self._deleted_topics:
            return Reply.tg_error(400, "Bad Request: message thread not found")
        return None

    def _ok(self, call, delay=0.0):
        topic = self._topic_reply(call)
        if topic is not None:
            return topic
        if call.method in TRUE_METHODS:
            return Reply.tg_ok(True, delay=delay)
        if call.method == "getMe":
            tg_id = int(call.token.split(":")[0]) if call.token.split(":")[0].isdigit() else 1
            return Reply.tg_ok({"id": tg_id, "is_bot": True, "first_name": f"Bot {tg_id}",
                                "username": f"bot{tg_id}_bot"}, delay=delay)
        mid = next(self._ids)
        chat = call.params.get("chat_id")
        result = {"message_id": mid, "date": int(time.time()),
                  "chat": {"id": chat, "type": "group" if str(chat).startswith("-")
                           else "channel" if str(chat).startswith("@") else "private"}}
        if call.text is not None:
            result["text"] = call.text
        return Reply.tg_ok(result, delay=delay or self.delay)

    def _handle(self, req):
        if req.path.startswith("/file/bot"):
            return self._file(req)
        at = req.path.find("/bot")
        if at < 0:
            return Reply.tg_error(404, "Not Found")
        token, _, method = req.path[at + len("/bot"):].partition("/")
        up, down = self._draw(self._up), self._draw(self._down)
        if up and self.http._stopping.wait(up):
            return Reply.close()
        when = time.monotonic() if up else req.time
        call = Call(token, method, req.json, when, req, prefix=req.path[:at])
        if self._serial is not None:
            self._serve_in_turn(call)
        with self._lock:
            self._calls.append(call)
            if self._over_limit(call):
                call.answer = "strict"
                self._lock.notify_all()
                return Reply.tg_error(429, "Too Many Requests: retry after 1",
                                      retry_after=1, delay=down)
            rule = next((r for r in self._rules if r.matches(call)), None)
            reply = rule.take(call) if rule else None
            call.answer = rule.kind if rule else "ok"
            self._lock.notify_all()
        if reply is None:
            return self._ok(call, down)
        if down and not reply.delay:
            reply = copy.copy(reply)
            reply.delay = down
        return reply

    def _serve_in_turn(self, call):
        """serial(): wait for the requests before call, then take its service time"""
        with self._lock:
            self._waiting += 1
            call.waiting = self._waiting
        with self._serial_lock:
            time.sleep(self._serial)
        with self._lock:
            self._waiting -= 1

    def _file(self, req):
        """GET /file/bot<token>/<path>: a file put with add_file, else Telegram's 404"""
        token, _, path = req.path[len("/file/bot"):].partition("/")
        with self._lock:
            data = self._files.get((token, path))
        if data is None:
            return Reply.tg_error(404, "Not Found")
        return Reply(200, data, content_type="application/octet-stream")

    def add_file(self, token, path, data):
        """serve data (bytes) at /file/bot<token>/<path>"""
        with self._lock:
            self._files[(token, path)] = data

    # --- the record ---------------------------------------------------------------

    def calls(self, token=None, chat=None, method=None, sends_only=False):
        chat = chat_key(chat)
        with self._lock:
            out = list(self._calls)
        return [c for c in out
                if (token is None or c.token == token)
                and (chat is None or c.chat_id == chat)
                and (method is None or c.method == method)
                and (not sends_only or c.method != "getMe")]

    def sends(self, token=None, chat=None, method=None):
        """every request but getMe"""
        return self.calls(token, chat, method, sends_only=True)

    def wait_sends(self, n, timeout=10.0, token=None, chat=None, what=None):
        """block until n sends (matching) arrived; them; AssertionError on timeout"""
        deadline = time.monotonic() + timeout
        while True:
            got = self.sends(token, chat)
            if len(got) >= n:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"fake_telegram: {len(got)} of {n} sends"
                                     f"{' (' + what + ')' if what else ''} after {timeout}s:"
                                     f" {got[-5:]}")
            with self._lock:
                self._lock.wait(min(left, 0.1))

    def count_by(self, key, calls=None):
        """{key(call): how many sends}"""
        counts = {}
        for c in self.sends() if calls is None else calls:
            k = key(c)
            counts[k] = counts.get(k, 0) + 1
        return counts

    def clear(self):
        with self._lock:
            self._calls.clear()
        self.http.clear()


# ------------------------------------------------------------------ timing checks

def max_in_window(times, window):
    """The largest number of times within any half-open window [t, t + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def min_gap(times):
    """The smallest distance between two consecutive times (inf for fewer than two)."""
    times = sorted(times)
    return min((b - a for a, b in zip(times, times[1:])), default=float("inf"))
