"""The Bot API endpoint's receiving half (issue 15): getUpdates on /bot<token>/getUpdates
is answered from the updates webhookd stored, with Telegram's semantics (offset
confirms for good, limit, allowed_updates remembered, timeout long-polls and wakes on a
new update), while tgm keeps the webhook at Telegram and its own processing.

The world: webhookd (its webhook intake, to which the tests post updates as Telegram
would) and gatewayd on one configuration, the fake Telegram of fake_telegram.py, bots
written into PostgreSQL. Real clients: requests, grammY's bot.start() (tests/botapi/
poll.mjs) and python-telegram-bot.
"""

import json
import re
import select
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import REPO, SANITIZER_ENV, wait_for
from test_http_answers import Reader
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd import World


class UpdatesWorld(World):
    """webhookd's World, plus gatewayd on the same configuration."""

    def start(self, gatewayd=None, gatewayd_env=None, **webhookd):
        conf = self.conf(**webhookd)
        if gatewayd:
            text = conf.read_text() + "\n[gatewayd]\n" + "".join(
                f"{k} = {v}\n" for k, v in gatewayd.items())
            conf.write_text(text)
        self.webhookd_proc = self.env.daemon("webhookd", conf=conf)
        self.gatewayd_proc = self.env.daemon("gatewayd", conf=conf, env=gatewayd_env)
        self.base = self.env.http()

    def call(self, bot, method, timeout=60, **kw):
        return requests.post(f"{self.base}/bot{bot.token}/{method}", timeout=timeout, **kw)

    def get_updates(self, bot, **params):
        r = self.call(bot, "getUpdates", json=params)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["ok"] is True, got
        return got["result"]

    def waiting(self):
        text = requests.get(f"{self.base}/metrics", timeout=10).text
        m = re.search(r"^tgm_gatewayd_botapi_polls_waiting (\d+)$", text, re.M)
        assert m, "tgm_gatewayd_botapi_polls_waiting is missing from /metrics"
        return int(m.group(1))

    def wait_waiting(self, n):
        wait_for(lambda: self.waiting() == n, 15, what=f"{n} long polls waiting")

    def deliver(self, bot, update):
        r = self.post(bot, update)
        assert r.status_code == 200, r.text
        return update


@pytest.fixture
def w(tgm_env, tg):  # noqa: F811
    return UpdatesWorld(tgm_env, tg)


def ids(updates):
    return [u["update_id"] for u in updates]


def poll_in_thread(w, bot, **params):
    """getUpdates in a thread: (thread, box) where box gets the requests.Response"""
    box = {}

    def run():
        box["r"] = w.call(bot, "getUpdates", json=params)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def test_offset_confirms_for_good_limit_and_allowed_updates(w):
    bot = w.new_bot()
    w.start()
    first = w.deliver(bot, w.message("one", user=501))
    second = w.deliver(bot, w.message("two", user=502))
    press = w.deliver(bot, w.update("callback_query", id="cb1", data="x",
                                    **{"from": {"id": 501, "is_bot": False,
                                                "first_name": "Ada"}}))
    member = w.deliver(bot, w.update("chat_member", date=1, chat={"id": -5, "type": "group"}))
    got = w.get_updates(bot)
    assert got == [first, second, press]  # the stored objects; chat_member is opt-in
    assert w.get_updates(bot, limit=1) == [first]
    assert w.get_updates(bot, offset=second["update_id"], limit=1) == [second]
    # the confirmation is kept: the first never comes back, with no offset given
    assert ids(w.get_updates(bot)) == ids([second, press])
    assert ids(w.get_updates(bot, allowed_updates=["chat_member"])) == ids([member])
    assert ids(w.get_updates(bot)) == ids([member])  # remembered
    assert ids(w.get_updates(bot, allowed_updates=[])) == ids([second, press])
    # a form body, as some clients send it; a negative offset keeps the last ones
    r = w.call(bot, "getUpdates", data={"offset": "-1", "allowed_updates": '["message"]'})
    assert r.status_code == 200 and ids(r.json()["result"]) == ids([second]), r.text
    assert ids(w.get_updates(bot, allowed_updates=[])) == ids([second, press])
    assert w.get_updates(bot, offset=press["update_id"] + 1) == []
    # tgm's own processing went on: both messages were processed as usual
    w.wait_processed(bot, 4)
    # another bot sees none of it; an unknown token is Telegram's 401
    other = w.new_bot()
    assert w.get_updates(other) == []
    r = requests.post(f"{w.base}/bot1:nope/getUpdates", timeout=10)
    assert r.status_code == 401 and r.json() == {"ok": False, "error_code": 401,
                                                 "description": "Unauthorized"}


def test_a_long_poll_wakes_on_a_new_update(w):
    bot = w.new_bot()
    w.start()
    t, box = poll_in_thread(w, bot, timeout=30)
    w.wait_waiting(1)
    update = w.deliver(bot, w.message("wake up", user=511))
    t.join(60)
    r = box["r"]
    assert r.status_code == 200 and r.json() == {"ok": True, "result": [update]}, r.text
    w.wait_waiting(0)
    # nothing new: the timeout runs out and the answer is empty
    assert w.get_updates(bot, offset=update["update_id"] + 1, timeout=1) == []


def raw_poll(w, bot, timeout):
    """a socket that has sent getUpdates with this timeout (its answer waits)"""
    host, port = w.base.split("//")[1].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=30)
    body = json.dumps({"timeout": timeout}).encode()
    s.sendall(f"POST /bot{bot.token}/getUpdates HTTP/1.1\r\nHost: tgm\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
              .encode() + body)
    return s


def test_a_waiting_poll_reads_little_ahead_and_survives_a_half_close(w):
    """While a long poll waits, gatewayd keeps reading its connection (common/http.c:
    fewer epoll_ctl calls a request), but no more than 64 KB ahead: a
    client that streams 64 MB meanwhile gets no more in than the sockets' buffers and
    that, and its poll is still answered. A client that closes its sending side after
    its request (waiting for the answer, as some do) gets its answer too."""
    bot = w.new_bot()
    w.start()
    rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{w.gatewayd_proc.pid}/status")
                        .read()).group(1))
    s = raw_poll(w, bot, 3)
    s.setblocking(False)
    sent, junk, deadline = 0, b"x" * 65536, time.monotonic() + 2
    while sent < 64 << 20 and time.monotonic() < deadline:
        try:
            sent += s.send(junk)
        except BlockingIOError:
            time.sleep(0.01)
    grown = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{w.gatewayd_proc.pid}/status")
                          .read()).group(1)) - rss
    assert sent < 32 << 20, f"gatewayd took {sent} bytes ahead of a waiting answer"
    assert grown < 16 << 10, f"gatewayd grew {grown} KB reading ahead"
    s.setblocking(True)
    status, _, doc = Reader(s).answer()
    assert status == 200 and doc == {"ok": True, "result": []}, doc
    s.close()
    s = raw_poll(w, bot, 1)
    s.shutdown(socket.SHUT_WR)
    status, _, doc = Reader(s).answer()
    assert status == 200 and doc == {"ok": True, "result": []}, doc
    s.close()
    assert w.get_updates(bot) == []  # and gatewayd serves on


def notified(conn, timeout):
    """the payloads of NOTIFY tgm_updates that conn (LISTENing) gets within timeout"""
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        select.select([conn], [], [], 0.1)
        conn.poll()
        got += [n.payload for n in conn.notifies]
        conn.notifies.clear()
    return got


def watch_locks(w, bot):
    """the sessions holding bot's watch (botapi_watch.sql: advisory key 7485, hash)"""
    return w.query("SELECT a.application_name, l.mode FROM pg_locks l"
                   " JOIN pg_stat_activity a ON a.pid = l.pid"
                   " WHERE l.locktype = 'advisory' AND l.classid = 7485"
                   " AND l.objid::int = hashint8(%s::bigint)", (bot.id,))


def test_updates_are_told_only_for_the_bots_a_gatewayd_watches(w):
    """A NOTIFY costs every storing transaction a database-wide lock: a bot that no
    getUpdates poll waits for is not told; a waiting poll holds its bot's watch."""
    watched, unwatched = w.new_bot(), w.new_bot()
    w.start()
    listen = w.env.connect()
    try:
        listen.cursor().execute("LISTEN tgm_updates")
        # a poll that may not wait (timeout 0) takes no watch
        assert w.get_updates(unwatched) == []
        w.deliver(unwatched, w.message("nobody polls", user=521))
        w.wait_processed(unwatched, 1)
        assert notified(listen, 1) == []
        assert watch_locks(w, unwatched) == []
        t, box = poll_in_thread(w, watched, timeout=30)
        w.wait_waiting(1)
        assert watch_locks(w, watched) == [("gatewayd-updates", "ShareLock")]
        update = w.deliver(watched, w.message("someone polls", user=522))
        t.join(60)
        assert box["r"].json() == {"ok": True, "result": [update]}, box["r"].text
        assert notified(listen, 1) == [str(watched.id)]
        # the watch outlives its poll, for the bot's next one
        assert watch_locks(w, watched) == [("gatewayd-updates", "ShareLock")]
        w.deliver(unwatched, w.message("still nobody", user=521))
        w.wait_processed(unwatched, 2)
        assert notified(listen, 1) == []
    finally:
        listen.close()


def store_uncommitted(w, bot, update, chat):
    """A connection whose open transaction has stored update (of chat) for bot: a
    storing transaction that found the bot unwatched, until the test commits it."""
    store = w.env.connect()
    store.autocommit = False
    store.cursor().execute(
        "INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)"
        " VALUES (%s, %s, %s, 'message', %s)",
        (bot.id, update["update_id"], chat, json.dumps(update)))
    return store


def test_a_poll_that_starts_while_an_update_is_being_stored_gets_it(w):
    """The update's transaction found the bot unwatched, so it will not tell it: the
    poll's watch waits for that COMMIT, and its first read then sees the update."""
    bot = w.new_bot()
    w.start()
    update = w.message("stored meanwhile", user=531)
    store = store_uncommitted(w, bot, update, 531)
    try:
        t, box = poll_in_thread(w, bot, timeout=20)
        time.sleep(1)
        assert "r" not in box  # its watch waits for the COMMIT
        store.commit()
        started = time.monotonic()
        t.join(30)
        assert box["r"].json() == {"ok": True, "result": [update]}, box["r"].text
        assert time.monotonic() - started < 10  # not the timeout's empty answer
    finally:
        store.close()


def test_a_second_poll_ends_one_still_waiting_for_its_watch(w):
    """A first poll whose watch waits behind a storing transaction is still a waiting
    poll: a second getUpdates of the bot ends it with 409, and the second gets the
    update once it is committed."""
    bot = w.new_bot()
    w.start()
    update = w.message("stored meanwhile", user=532)
    store = store_uncommitted(w, bot, update, 532)
    try:
        first, box1 = poll_in_thread(w, bot, timeout=20)
        time.sleep(1)
        assert "r" not in box1  # its watch waits for the COMMIT
        second, box2 = poll_in_thread(w, bot, timeout=20)
        first.join(10)
        assert box1["r"].status_code == 409, box1["r"].text
        assert box1["r"].json()["description"].startswith("Conflict"), box1["r"].text
        assert "r" not in box2
        store.commit()
        second.join(30)
        assert box2["r"].json() == {"ok": True, "result": [update]}, box2["r"].text
    finally:
        store.close()


def test_a_draining_gatewayd_answers_its_waiting_polls(w):
    bot = w.new_bot()
    w.start()
    t, box = poll_in_thread(w, bot, timeout=30)
    w.wait_waiting(1)
    w.gatewayd_proc.stop()  # SIGTERM: a clean exit, well before the poll's timeout
    t.join(30)
    assert box["r"].status_code == 200 and box["r"].json() == {"ok": True, "result": []}


def test_a_second_poll_ends_the_first_with_409_and_the_cap_holds(w):
    bot, other = w.new_bot(), w.new_bot()
    w.start(gatewayd={"botapi_max_polls": 1})
    t, box = poll_in_thread(w, bot, timeout=30)
    w.wait_waiting(1)
    # the cap: a second waiting poll (another bot) is told to come back
    r = w.call(other, "getUpdates", json={"timeout": 30})
    assert r.status_code == 429, r.text
    assert r.json() == {"ok": False, "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1}}
    # a poll without timeout never waits, so the cap does not apply
    assert w.get_updates(other) == []
    # as at Telegram, a new getUpdates of the same bot ends the waiting one
    t2, box2 = poll_in_thread(w, bot, timeout=30)
    t.join(30)
    assert box["r"].status_code == 409, box["r"].text
    assert box["r"].json()["description"].startswith("Conflict: terminated by other")
    w.wait_waiting(1)
    update = w.deliver(bot, w.message("for the second", user=521))
    t2.join(60)
    assert box2["r"].json() == {"ok": True, "result": [update]}


def test_webhook_info_and_delete_webhook_drop_pending(w):
    bot = w.new_bot()
    w.start()
    w.deliver(bot, w.message("a", user=531))
    last = w.deliver(bot, w.message("b", user=531))
    r = w.call(bot, "getWebhookInfo")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "result": {"url": "", "has_custom_certificate": False,
                                               "pending_update_count": 2}}
    r = w.call(bot, "deleteWebhook", json={"drop_pending_updates": True})
    assert r.json() == {"ok": True, "result": True,
                        "description": "Webhook is already deleted"}, r.text
    assert w.call(bot, "getWebhookInfo").json()["result"]["pending_update_count"] == 0
    assert w.get_updates(bot) == []
    newer = w.deliver(bot, w.message("c", user=531))
    assert newer["update_id"] > last["update_id"]
    assert w.get_updates(bot) == [newer]


def test_grammy_bot_start_receives_an_update(w):
    assert shutil.which("node"), "node is needed (Debian package nodejs)"
    assert (REPO / "tests" / "node_modules" / "grammy").is_dir(), \
        "grammy is needed: npm ci --prefix tests"
    bot = w.new_bot()
    w.start()
    proc = subprocess.Popen(["node", str(REPO / "tests" / "botapi" / "poll.mjs"), w.base,
                             bot.token], cwd=REPO / "tests", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline()) == {"started": True}
        w.wait_waiting(1)
        update = w.deliver(bot, w.message("hello grammY", user=541))
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"update_id": update["update_id"],
                                                         "text": "hello grammY"}
    # grammY confirmed it on stopping: it is not given again
    assert w.get_updates(bot) == []


def test_python_telegram_bot_receives_once(w):
    try:
        import telegram
    except ImportError:
        raise AssertionError("python-telegram-bot is needed (Debian package "
                             "python3-python-telegram-bot)")
    bot = w.new_bot()
    w.start()
    update = w.deliver(bot, w.message("hello PTB", user=551))
    ptb = telegram.Bot(bot.token, base_url=f"{w.base}/bot")
    got = ptb.get_updates(timeout=5)
    assert [(u.update_id, u.message.text) for u in got] == [(update["update_id"],
                                                             "hello PTB")]
    assert ptb.get_updates(offset=got[-1].update_id + 1, timeout=0) == []


# -- the bot's own webhook: setWebhook, forwarding, getWebhookInfo, deleteWebhook -----

class Hook:
    """A webhook of a bot's own: records each POST (secret header, body) and answers
    the statuses queued in fail_next first, then 200."""

    def __init__(self):
        import http.server

        hook = self
        self.got = []
        self.fail_next = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    status = hook.fail_next.pop(0) if hook.fail_next else 200
                    hook.got.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                                     json.loads(body), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        with self.lock:
            return [(s, u) for s, u, status in self.got if status == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def info(w, bot):
    r = w.call(bot, "getWebhookInfo")
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_set_webhook_forwards_in_order_retries_and_delete_stops(w, hook):
    bot = w.new_bot()
    w.start(forward_private="allow")
    early = w.deliver(bot, w.message("before the webhook", user=561))
    r = w.call(bot, "setWebhook", json={"url": hook.url, "secret_token": "s3cret_-X"})
    assert r.json() == {"ok": True, "result": True, "description": "Webhook was set"}, r.text
    wait_for(lambda: len(hook.delivered()) == 1, 15, what="the pending update forwarded")
    assert hook.delivered() == [("s3cret_-X", early)]
    got = wait_for(lambda: (i := info(w, bot))["pending_update_count"] == 0 and i, 15,
                   what="the forwarded update confirmed")
    assert got["url"] == hook.url and "last_error_date" not in got, got
    # getUpdates is Telegram's 409 while a webhook is set
    r = w.call(bot, "getUpdates")
    assert r.status_code == 409 and r.json()["description"].startswith(
        "Conflict: can't use getUpdates method while webhook is active"), r.text
    # the webhook fails twice: the error is told, the update goes again, order is kept
    hook.fail_next = [500, 502]
    first = w.deliver(bot, w.message("one", user=562))
    second = w.deliver(bot, w.message("two", user=562))
    wait_for(lambda: len(hook.delivered()) == 3, 30, what="forwarded after the retries")
    assert [u for _, u in hook.delivered()] == [early, first, second]
    got = wait_for(lambda: (i := info(w, bot))["pending_update_count"] == 0 and i, 15,
                   what="the forwarded updates confirmed")
    assert got["last_error_message"] == "Wrong response from the webhook: 502", got
    assert got["last_error_date"] > 0
    # deleteWebhook stops forwarding; getUpdates then gives what came after
    r = w.call(bot, "deleteWebhook")
    assert r.json()["description"] == "Webhook was deleted", r.text
    after = w.deliver(bot, w.message("after", user=563))
    assert w.get_updates(bot) == [after]
    assert len(hook.got) == 5
    assert info(w, bot) == {"url": "", "has_custom_certificate": False,
                            "pending_update_count": 1}
    # a bad secret or URL is Telegram's 400
    r = w.call(bot, "setWebhook", json={"url": hook.url, "secret_token": "no spaces"})
    assert r.status_code == 400 and "unallowed characters" in r.json()["description"]
    r = w.call(bot, "setWebhook", json={"url": "ftp://x"})
    assert r.status_code == 400 and "HTTPS URL" in r.json()["description"]


def test_private_webhooks_are_refused_unless_allowed(w, hook):
    bot = w.new_bot()
    w.start()
    r = w.call(bot, "setWebhook", json={"url": hook.url, "drop_pending_updates": True})
    assert r.status_code == 200, r.text
    w.deliver(bot, w.message("to a private address", user=571))
    got = wait_for(lambda: info(w, bot).get("last_error_message") and info(w, bot), 15,
                   what="the refusal told")
    assert "refused" in got["last_error_message"] and got["pending_update_count"] == 1, got
    assert hook.got == []
    w.query("UPDATE tenants SET callback_allow_private = true WHERE id = %s", (w.tenant_id,))
    wait_for(lambda: len(hook.delivered()) == 1, 90, what="forwarded once allowed")


def test_grammy_webhook_callback_receives_forwarded_updates(w):
    assert shutil.which("node"), "node is needed (Debian package nodejs)"
    bot = w.new_bot()
    w.start(forward_private="allow")
    proc = subprocess.Popen(["node", str(REPO / "tests" / "botapi" / "webhook.mjs"), w.base,
                             bot.token, "grammy_secret", "2"], cwd=REPO / "tests",
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        assert info(w, bot)["url"] == url
        one = w.deliver(bot, w.message("hello webhook", user=581))
        two = w.deliver(bot, w.message("and again", user=581))
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert [json.loads(line) for line in out.strip().splitlines()] == [
        {"update_id": one["update_id"], "text": "hello webhook"},
        {"update_id": two["update_id"], "text": "and again"}]
    wait_for(lambda: info(w, bot)["pending_update_count"] == 0, 15, what="both confirmed")


# -- file downloads: /file/bot<token>/<path> streamed -------------------------------

def peak_rss_kb(proc):
    for line in open(f"/proc/{proc.proc.pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("VmHWM missing from /proc/<pid>/status")


def test_file_downloads_are_streamed_not_held(w, tg):  # noqa: F811
    import hashlib
    import os
    bot = w.new_bot()
    # under ASan, freed memory waits in a quarantine (256 MB): keep it small here, so
    # the peak shows what gatewayd holds, not what it let go
    w.start(gatewayd_env={"ASAN_OPTIONS": SANITIZER_ENV["ASAN_OPTIONS"] +
                          ":quarantine_size_mb=1"})
    big = os.urandom(24 * 1024 * 1024)  # more than a buffered answer may hold (4 MiB)
    tg.add_file(bot.token, "documents/file_7.bin", big)
    tg.add_file(bot.token, "file_8.txt", b"small one")
    before = peak_rss_kb(w.gatewayd_proc)
    r = requests.get(f"{w.base}/file/bot{bot.token}/documents/file_7.bin", stream=True,
                     timeout=60)
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(big))
    digest, n = hashlib.sha256(), 0
    for chunk in r.iter_content(64 * 1024):
        digest.update(chunk)
        n += len(chunk)
    assert n == len(big) and digest.digest() == hashlib.sha256(big).digest()
    grew = peak_rss_kb(w.gatewayd_proc) - before
    assert grew < 12 * 1024, f"gatewayd's peak memory grew by {grew} KiB"
    r = requests.get(f"{w.base}/file/bot{bot.token}/file_8.txt", timeout=10)
    assert r.status_code == 200 and r.content == b"small one"
    # Telegram's error passes through whole; an unknown token is Telegram's 401
    r = requests.get(f"{w.base}/file/bot{bot.token}/documents/nope.bin", timeout=10)
    assert (r.status_code, r.json()) == (404, {"ok": False, "error_code": 404,
                                               "description": "Not Found"})
    r = requests.get(f"{w.base}/file/bot1:nope/file_8.txt", timeout=10)
    assert r.status_code == 401, r.text
    # a client that hangs up mid-download leaves gatewayd serving
    r = requests.get(f"{w.base}/file/bot{bot.token}/documents/file_7.bin", stream=True,
                     timeout=60)
    next(r.iter_content(64 * 1024))
    r.close()
    r = requests.get(f"{w.base}/file/bot{bot.token}/file_8.txt", timeout=10)
    assert r.status_code == 200 and r.content == b"small one"
    assert bot.token.split(":")[1] not in w.gatewayd_proc.log()
