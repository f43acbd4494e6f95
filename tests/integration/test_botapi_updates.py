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
import shutil
import subprocess
import threading

import pytest
import requests

from conftest import REPO, wait_for
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd import World


class UpdatesWorld(World):
    """webhookd's World, plus gatewayd on the same configuration."""

    def start(self, **gatewayd):
        conf = self.conf()
        if gatewayd:
            text = conf.read_text() + "\n[gatewayd]\n" + "".join(
                f"{k} = {v}\n" for k, v in gatewayd.items())
            conf.write_text(text)
        self.webhookd_proc = self.env.daemon("webhookd", conf=conf)
        self.gatewayd_proc = self.env.daemon("gatewayd", conf=conf)
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


def test_a_second_poll_ends_the_first_with_409_and_the_cap_holds(w):
    bot, other = w.new_bot(), w.new_bot()
    w.start(botapi_max_polls=1)
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
