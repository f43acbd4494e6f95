"""webhookd's Telegram side (issue 5): setWebhook registration with a secret token,
the webhook intake (secret checked, update stored once before the 200), processing
in order per chat from the database, users and chats recorded, blocked marks and
group migrations, bot commands, long polling, and a crash between storing and
processing.

Bots are written straight into PostgreSQL (token sealed as common/crypto.c does); the
fake Telegram (fake_telegram.py) answers the direct calls (setWebhook, deleteWebhook,
answerCallbackQuery); replies are checked in the outbound queue (messages), where
senderd would take them.
"""

import hashlib
import json
import threading
import time

import pytest
import requests
import zmq

from api_helpers import add_admin
from conftest import free_port, wait_for
from test_senderd import SenderWorld, needs_cryptography, seal, tg  # noqa: F401 (fixtures)
from test_telegram_test_api import emulator  # noqa: F401 (a fixture)


PUBLIC = "https://tgm.example.org/hooks"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class World(SenderWorld):
    """SenderWorld's database helpers, plus webhookd and updates."""

    def __init__(self, env, tg):
        super().__init__(env, tg)
        self._update_ids = iter(range(1000, 10 ** 9))
        self.webhookd_proc = None

    def conf(self, **webhookd):
        settings = {("telegram", "api_url"): self.tg.url, ("telegram", "timeout"): "5",
                    ("webhookd", "public_url"): PUBLIC}
        for k, v in webhookd.items():
            settings[("webhookd", k)] = str(v)
        return self.env.write_config(settings, name=f"webhookd-{next(self._confs)}.conf")

    def webhookd(self, **webhookd):
        self.webhookd_proc = self.env.daemon("webhookd", conf=self.conf(**webhookd))
        return self.webhookd_proc

    def url(self, bot):
        return f"{self.env.http('webhookd')}/telegram/{bot.id}"

    def new_bot(self, admins=None, **settings):
        """A bot (SenderWorld.new_bot); one with an admin group gets its admins through the
        API (add_admin): admins {user id: role}, by default ADMIN_USER as its owner, {}
        for none."""
        bot = super().new_bot(**settings)
        if admins is None:
            admins = {ADMIN_USER: "owner"} if "admin_chat_id" in settings else {}
        for user, role in admins.items():
            add_admin(self.env, bot.id, user, role)
        return bot

    def secret(self, bot):
        """the secret_token webhookd gave Telegram for bot (from the fake's record)"""
        calls = wait_for(lambda: self.tg.calls(token=bot.token, method="setWebhook"), 10,
                         what="setWebhook")
        return calls[-1].params["secret_token"]

    def post(self, bot, update, secret=None, **kw):
        secret = self.secret(bot) if secret is None else secret
        headers = {SECRET_HEADER: secret} if secret else {}
        data = update if isinstance(update, (bytes, str)) else json.dumps(update)
        return requests.post(self.url(bot), data=data, timeout=10,
                             headers={"Content-Type": "application/json", **headers}, **kw)

    def update(self, kind="message", **body):
        return {"update_id": next(self._update_ids), kind: body}

    def message(self, text, user=42, chat=None, chat_type="private", **extra):
        chat = user if chat is None else chat
        body = {"message_id": next(self._update_ids), "date": int(time.time()),
                "from": {"id": user, "is_bot": False, "first_name": "Ada",
                         "username": "ada"},
                "chat": {"id": chat, "type": chat_type, "first_name": "Ada"}, **extra}
        if text is not None:
            body["text"] = text
        return self.update("message", **body)

    def stored(self, bot):
        return self.query("SELECT update_id, processed_at IS NOT NULL, outcome FROM tg_updates"
                          " WHERE bot_id = %s ORDER BY seq", (bot.id,))

    def wait_processed(self, bot, n, timeout=10):
        def done():
            rows = self.stored(bot)
            return rows if len(rows) >= n and all(r[1] for r in rows) else None
        return wait_for(done, timeout, what=f"{n} updates of bot {bot.id} processed")

    def replies(self, bot, chat=None):
        rows = self.query("SELECT chat, method, params, priority FROM messages"
                          " WHERE bot_id = %s ORDER BY id", (bot.id,))
        return [r for r in rows if chat is None or r[0] == str(chat)]


@pytest.fixture
def w(tgm_env, tg):
    return World(tgm_env, tg)


# -- registration ------------------------------------------------------------------

def test_webhook_registered_with_a_random_secret(w):
    bot = w.new_bot()
    w.webhookd()
    secret = w.secret(bot)
    call = w.tg.calls(token=bot.token, method="setWebhook")[-1]
    assert call.params["url"] == f"{PUBLIC}/telegram/{bot.id}"
    assert 1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
    assert "message" in call.params["allowed_updates"]
    assert "callback_query" in call.params["allowed_updates"]
    wait_for(lambda: w.one("SELECT intake FROM bots WHERE id = %s", (bot.id,))[0] == "webhook",
             5, what="bots.intake = webhook")
    stored = w.one("SELECT webhook_secret FROM bots WHERE id = %s", (bot.id,))[0]
    assert stored.startswith("v1.") and secret not in stored  # sealed, never in clear


def test_the_secret_survives_a_restart(w):
    bot = w.new_bot()
    d = w.webhookd()
    first = w.secret(bot)
    d.stop()
    w.tg.clear()
    w.webhookd()
    assert w.secret(bot) == first  # registered again on start, same secret
    assert w.post(bot, w.message("/help")).status_code == 200


def test_disabling_or_deleting_a_bot_deletes_its_webhook(w):
    bot = w.new_bot()
    w.webhookd()
    w.secret(bot)
    w.query("UPDATE bots SET enabled = false WHERE id = %s", (bot.id,))
    wait_for(lambda: w.tg.calls(token=bot.token, method="deleteWebhook"), 10,
             what="deleteWebhook")
    wait_for(lambda: w.one("SELECT intake FROM bots WHERE id = %s", (bot.id,))[0] is None, 5,
             what="bots.intake cleared")
    w.tg.clear()
    w.query("UPDATE bots SET enabled = true WHERE id = %s", (bot.id,))
    wait_for(lambda: w.tg.calls(token=bot.token, method="setWebhook"), 20,
             what="setWebhook again")
    w.query("UPDATE bots SET deleted_at = now(), enabled = false WHERE id = %s", (bot.id,))
    wait_for(lambda: w.tg.calls(token=bot.token, method="deleteWebhook"), 20,
             what="deleteWebhook for the deleted bot")
    assert w.post(bot, w.message("/help"), secret="x").status_code == 404


def test_a_failed_registration_is_retried(w):
    bot = w.new_bot()
    w.tg.server_error(code=500, times=2, token=bot.token, method="setWebhook")
    w.webhookd()
    wait_for(lambda: len(w.tg.calls(token=bot.token, method="setWebhook")) >= 3, 15,
             what="setWebhook retried")
    wait_for(lambda: w.one("SELECT intake, intake_error FROM bots WHERE id = %s",
                           (bot.id,)) == ("webhook", None), 5, what="intake set, error cleared")


def test_webhook_mode_without_a_public_url_says_why(w):
    bot = w.new_bot(updates="webhook")
    w.webhookd(public_url="")
    wait_for(lambda: "public_url" in (w.one("SELECT intake_error FROM bots WHERE id = %s",
                                            (bot.id,))[0] or ""), 10, what="intake_error")
    time.sleep(0.5)
    assert w.tg.calls(token=bot.token, method="setWebhook") == []


# -- intake --------------------------------------------------------------------------

def test_missing_or_wrong_secret_is_refused_and_nothing_stored(w):
    bot = w.new_bot()
    w.webhookd()
    good = w.secret(bot)
    upd = w.message("/start")
    for secret in ("", "x" * len(good), good[:-1], good + "x", good.lower()):
        if secret == good:
            continue
        r = w.post(bot, upd, secret=secret) if secret else requests.post(
            w.url(bot), json=upd, timeout=5)
        assert r.status_code == 401, (secret, r.text)
        assert r.headers["Content-Type"].startswith("application/problem+json")
    other = w.new_bot()
    assert w.post(other, upd, secret=good).status_code in (401, 404)
    assert w.stored(bot) == []


def test_bad_bodies_get_clear_4xx(w):
    bot = w.new_bot()
    w.webhookd(max_body=4096)
    cases = [(b"{not json", 400, "malformed_json"), (b"[1,2]", 400, "invalid_update"),
             (json.dumps({"message": {}}), 400, "invalid_update"),
             (json.dumps({"update_id": -1}), 400, "invalid_update"),
             (json.dumps({"update_id": "7"}), 400, "invalid_update"),
             (json.dumps({"update_id": 1, "message": {"text": "x" * 9000}}), 413, None)]
    for body, code, slug in cases:
        r = w.post(bot, body)
        assert r.status_code == code, (body[:40], r.status_code, r.text)
        if slug:
            assert r.json()["type"].endswith("/" + slug)
    r = requests.post(f"{w.env.http('webhookd')}/telegram/999999", json=w.message("/x"),
                      headers={SECRET_HEADER: w.secret(bot)}, timeout=5)
    assert r.status_code == 404
    r = requests.post(f"{w.env.http('webhookd')}/telegram/abc", json={}, timeout=5)
    assert r.status_code == 404
    assert w.stored(bot) == []


def test_the_same_update_ten_times_is_processed_once(w):
    bot = w.new_bot(free_credits=5)
    w.webhookd()
    upd = w.message("/start")
    answers = [w.post(bot, upd).json() for _ in range(10)]
    assert answers[0] == {"ok": True}
    assert all(a.get("duplicate") for a in answers[1:])
    w.wait_processed(bot, 1)
    assert len(w.stored(bot)) == 1
    assert len(w.replies(bot)) == 1
    assert w.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = 42",
                 (bot.id,))[0] == 5


def test_concurrent_duplicates_store_one(w):
    bot = w.new_bot()
    w.webhookd()
    secret = w.secret(bot)
    upd = w.message("/help")
    codes = []

    def send():
        codes.append(w.post(bot, upd, secret=secret).status_code)
    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 8
    w.wait_processed(bot, 1)
    assert len(w.stored(bot)) == 1 and len(w.replies(bot)) == 1


def test_updates_arriving_together_are_stored_together_in_each_chats_order(w):
    """Concurrent deliveries are grouped into one COMMIT; one that PostgreSQL refuses
    for good (here a trigger the test installs) fails alone, and the rest are stored."""
    bot = w.new_bot()
    w.webhookd()
    secret = w.secret(bot)
    sent, codes, lock = {}, [], threading.Lock()

    def chat(user):
        for i in range(3):
            upd = w.message(f"/help {i}", user=user)
            code = w.post(bot, upd, secret=secret).status_code
            with lock:
                codes.append(code)
                sent.setdefault(user, []).append(upd["update_id"])
    bad = w.message("refused", user=999)
    w.query("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.update_id = {bad['update_id']} THEN RAISE EXCEPTION 'refused'"
            " USING ERRCODE = '22023'; END IF; RETURN NEW; END $$")
    w.query("CREATE TRIGGER refuse BEFORE INSERT ON tg_updates FOR EACH ROW"
            " EXECUTE FUNCTION refuse()")
    bad_code = []
    threads = [threading.Thread(target=chat, args=(100 + u,)) for u in range(30)]
    threads.append(threading.Thread(target=lambda: bad_code.append(
        w.post(bot, json.dumps(bad).replace("\\\\ud800", "\\ud800"), secret=secret).status_code)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 90
    assert bad_code[0] == 503  # stored by no statement: Telegram may send it again
    rows = w.query("SELECT update_id, chat_id FROM tg_updates WHERE bot_id = %s ORDER BY seq",
                   (bot.id,))
    assert len(rows) == 90 and bad["update_id"] not in [r[0] for r in rows]
    for user, ids in sent.items():
        assert [r[0] for r in rows if r[1] == user] == ids
    w.wait_processed(bot, 90)


def test_a_chats_next_update_waits_for_the_group_in_flight(w):
    """Groups go out on several connections at once, but a chat's update that arrives
    while an earlier one of its chat is in a group in flight waits for that COMMIT, so
    seq keeps the chat's order (the first group is held by a trigger the test installs)."""
    bot = w.new_bot()
    w.webhookd()
    secret = w.secret(bot)
    w.query("CREATE SEQUENCE hold_once")  # not transactional: holds nobody else
    w.query("CREATE FUNCTION hold_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF nextval('hold_once') = 1 THEN PERFORM pg_sleep(2); END IF;"
            " RETURN NULL; END $$")
    w.query("CREATE TRIGGER hold_once BEFORE INSERT ON tg_updates FOR EACH STATEMENT"
            " EXECUTE FUNCTION hold_once()")
    first, second = w.message("/help", user=55), w.message("/balance", user=55)
    codes = []
    a = threading.Thread(target=lambda: codes.append(w.post(bot, first, secret=secret).status_code))
    a.start()
    for _ in range(100):  # the first group is in flight, held
        if w.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")[0][0]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the first group never reached the trigger")
    codes.append(w.post(bot, second, secret=secret).status_code)
    a.join()
    assert codes == [200, 200]
    rows = w.query("SELECT update_id FROM tg_updates WHERE bot_id = %s ORDER BY seq", (bot.id,))
    assert [r[0] for r in rows] == [first["update_id"], second["update_id"]]
    w.wait_processed(bot, 2)


def test_a_chats_updates_are_processed_in_order(w):
    bot = w.new_bot()
    w.webhookd()
    secret = w.secret(bot)
    texts = ["/help", "/balance"] * 10
    for t in texts:
        assert w.post(bot, w.message(t, user=77), secret=secret).status_code == 200
    w.wait_processed(bot, len(texts))
    replies = [r[2]["text"] for r in w.replies(bot, chat=77)]
    assert len(replies) == len(texts)
    for asked, got in zip(texts, replies):
        assert got.startswith("Commands:" if asked == "/help" else "Credits:"), (asked, got)


def test_an_update_that_always_fails_gives_up_and_its_chat_goes_on(w):
    bot = w.new_bot()
    w.webhookd()
    bad = w.message("/help", user=43)
    bad["message"]["from"]["id"] = "not a number"  # wh_record's cast fails every time
    w.post(bot, bad)
    w.post(bot, w.message("/help", user=43))
    rows = w.wait_processed(bot, 2, timeout=40)
    assert rows[0][2] == "failed: gave up after 5 attempts"
    assert w.one("SELECT attempts FROM tg_updates WHERE update_id = %s",
                 (bad["update_id"],))[0] == 6
    assert [r[1] for r in w.replies(bot, chat=43)] == ["sendMessage"]


# -- users, chats, commands ----------------------------------------------------------

def test_start_welcomes_and_gives_free_credits_once(w):
    bot = w.new_bot(free_credits=20, welcome="Hello there!")
    w.webhookd()
    w.post(bot, w.message("/start"))
    w.post(bot, w.message("/start"))
    w.wait_processed(bot, 2)
    first, second = w.replies(bot, chat=42)
    assert first[1] == "sendMessage" and first[3] == 0  # high priority
    assert first[2]["text"].startswith("Hello there!") and "20 free credits" in first[2]["text"]
    assert first[2]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "buy"
    assert "free credits" not in second[2]["text"]
    assert w.query("SELECT kind, credits, balance FROM ledger WHERE bot_id = %s",
                   (bot.id,)) == [("free", 20, 20)]
    user = w.one("SELECT first_name, username, credits FROM bot_users WHERE bot_id = %s",
                 (bot.id,))
    assert user == ("Ada", "ada", 20)


def test_texts_come_from_the_catalog_or_the_bots_own_setting(w):
    """common/text.c's English texts, and a bot's own welcome, reach Telegram."""
    own = w.new_bot(welcome="Bienvenue \u00e0 bord \U0001F680")
    plain = w.new_bot()
    w.webhookd()
    w.senderd()
    for bot in (own, plain):
        w.post(bot, w.message("/start"))
        w.post(bot, w.message("/nosuchcommand"))

    def texts(bot):
        return [c.params["text"] for c in w.tg.calls(token=bot.token, method="sendMessage",
                                                      chat=42)]
    for bot in (own, plain):
        wait_for(lambda: len(texts(bot)) == 2, 20, what="the two answers")
    assert sorted(texts(own))[0] == "Bienvenue \u00e0 bord \U0001F680"
    assert sorted(texts(plain)) == ["Unknown command. Commands:\n/start - start over\n"
                                    "/help - this list\n/balance - your credits and time pass"
                                    "\n/buy - buy credits or a time pass (/buy10 buys 10"
                                    " credits)\n/billing - your payment details\n/history -"
                                    " your last purchases and spending\n/autorecharge - top"
                                    " up automatically: /autorecharge on <credits> <below>,"
                                    " off", "Welcome! Write here and we will answer you."]


def test_balance_shows_a_progress_bar_and_a_low_balance_alert(w):
    bot = w.new_bot(free_credits=100, low_balance=80)
    w.webhookd()
    w.post(bot, w.message("/start"))
    w.wait_processed(bot, 1)
    w.query("SELECT ledger_apply(%s, 42, 'test:spend', 'debit', -25)", (bot.id,))
    w.post(bot, w.message("/balance"))
    w.wait_processed(bot, 2)
    text = w.replies(bot, chat=42)[-1][2]["text"]
    assert text.startswith("Credits: 75/100 [████████░░] 75%"), text
    assert "low" in text


def test_help_lists_the_commands_that_are_on_and_unknown_ones_get_help(w):
    bot = w.new_bot(commands="start help balance")
    w.webhookd()
    for t in ("/help", "/frobnicate", "/buy"):
        w.post(bot, w.message(t))
    w.wait_processed(bot, 3)
    helptext, unknown, buy = [r[2]["text"] for r in w.replies(bot, chat=42)]
    assert "/balance" in helptext and "/buy" not in helptext
    assert unknown.startswith("Unknown command.") and buy.startswith("Unknown command.")


def test_purchase_commands_go_to_billingd(w):
    bot = w.new_bot()
    w.webhookd()
    for t in ("/buy", "/buy10", "/billing", "/history", "/autorecharge off",
              "/start paid_12"):
        w.post(bot, w.message(t))
    w.wait_processed(bot, 6)
    rows = w.query("SELECT outcome, billing_at IS NOT NULL FROM tg_updates WHERE bot_id = %s"
                   " ORDER BY seq", (bot.id,))
    assert [r[0] for r in rows] == ["to billingd: /buy", "to billingd: /buy10",
                                    "to billingd: /billing", "to billingd: /history",
                                    "to billingd: /autorecharge", "to billingd: /start paid_"]
    assert all(r[1] for r in rows)


def test_a_button_press_is_answered_at_once(w):
    bot = w.new_bot()
    w.webhookd()
    upd = w.update("callback_query", id="cbq1", data="buy", chat_instance="1",
                   **{"from": {"id": 42, "is_bot": False, "first_name": "Ada"}},
                   message={"message_id": 5, "date": 1, "chat": {"id": 42, "type": "private"}})
    assert w.post(bot, upd).status_code == 200
    call = wait_for(lambda: w.tg.calls(token=bot.token, method="answerCallbackQuery"), 10,
                    what="answerCallbackQuery")[0]
    assert call.params["callback_query_id"] == "cbq1"
    w.wait_processed(bot, 1)


def test_blocked_marks_follow_my_chat_member_and_start(w):
    bot = w.new_bot()
    w.webhookd()
    member = {"chat": {"id": 42, "type": "private"}, "date": 1,
              "from": {"id": 42, "is_bot": False, "first_name": "Ada"},
              "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True}},
              "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True}}}
    w.post(bot, w.update("my_chat_member", **member))
    w.wait_processed(bot, 1)
    assert w.one("SELECT blocked_at IS NOT NULL FROM chats WHERE bot_id = %s AND chat_id = 42",
                 (bot.id,))[0]
    w.post(bot, w.message("/start"))
    w.wait_processed(bot, 2)
    assert w.one("SELECT blocked_at FROM chats WHERE bot_id = %s AND chat_id = 42",
                 (bot.id,))[0] is None


def test_a_block_is_told_to_gatewayd_for_its_bot_choice(w):
    """a user who blocks the bot, or a group that removes it: webhookd says "chat.gone"
    on the status stream, as senderd does on Telegram's 403, so that gatewayd's choice
    forgets the chat at once; a user who comes back says nothing there"""
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    try:
        w.env.rundir.mkdir(parents=True, exist_ok=True)
        sub.bind(w.env.endpoint("gatewayd-status"))
        sub.setsockopt(zmq.SUBSCRIBE, b"chat.gone")
        bot = w.new_bot()
        w.webhookd()
        # a bound SUB takes a connection and sends its subscription only when it is
        # used (as gatewayd's event loop does at once): until then the PUB drops all
        sub.poll(1000)
        for chat, kind, status in ((42, "private", "kicked"), (-5001, "group", "left"),
                                   (43, "private", "member")):
            member = {"chat": {"id": chat, "type": kind}, "date": 1,
                      "from": {"id": 42, "is_bot": False, "first_name": "Ada"},
                      "old_chat_member": {"status": "member",
                                          "user": {"id": 1, "is_bot": True}},
                      "new_chat_member": {"status": status,
                                          "user": {"id": 1, "is_bot": True}}}
            w.post(bot, w.update("my_chat_member", **member))
        w.wait_processed(bot, 3)
        got = []
        while sub.poll(2000):
            topic, payload = sub.recv_multipart()
            got.append((topic.decode(), json.loads(payload)))
        assert sorted(got, key=str) == [("chat.gone", {"bot_id": bot.id, "chat": "-5001"}),
                                        ("chat.gone", {"bot_id": bot.id, "chat": "42"})], got
    finally:
        sub.close(linger=0)
        ctx.term()


def test_a_group_that_moved_to_a_supergroup_is_followed(w):
    bot = w.new_bot()
    w.webhookd()
    w.post(bot, w.message(None, user=42, chat=-4001, chat_type="group",
                          migrate_to_chat_id=-1004001))
    w.wait_processed(bot, 1)
    assert w.one("SELECT migrated_to FROM chats WHERE bot_id = %s AND chat_id = -4001",
                 (bot.id,))[0] == -1004001


# -- crashes -------------------------------------------------------------------------

def test_updates_stored_before_a_kill_are_processed_after_restart(w):
    bot = w.new_bot()
    d = w.webhookd()
    secret = w.secret(bot)
    n = 300
    for i in range(n):
        assert w.post(bot, w.message("/help", user=1000 + i % 7), secret=secret).ok
    d.kill()  # SIGKILL right after the last 200
    pending = w.one("SELECT count(*) FROM tg_updates WHERE bot_id = %s AND processed_at IS NULL",
                    (bot.id,))[0]
    w.webhookd()
    w.wait_processed(bot, n, timeout=90)  # a claim left by the killed one runs out first
    assert len(w.replies(bot)) == n, f"{pending} were pending at the kill"


# -- long polling against telegram-test-api -------------------------------------------

TTA_TOKEN = "5555502:AAtelegramtestapipollingpolling01234"


def test_long_polling_against_telegram_test_api(w, emulator):
    tg_id = int(TTA_TOKEN.split(":")[0])
    sealed = seal(w.env.secret_key, TTA_TOKEN, f"bot:{tg_id}:token")
    bot_id = w.one("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,"
                   " token_hash, settings) VALUES (%s, %s, 'TestNameBot', %s, %s,"
                   " '{\"updates\": \"polling\"}') RETURNING id",
                   (w.tenant_id, tg_id, sealed, hashlib.sha256(TTA_TOKEN.encode()).digest()))[0]
    conf = w.env.write_config({("telegram", "api_url"): emulator, ("telegram", "timeout"): "5",
                               ("webhookd", "poll_timeout"): "1"}, name="poll.conf")
    w.env.daemon("webhookd", conf=conf)
    who = {"botToken": TTA_TOKEN, "from": {"id": 4242, "first_name": "Bo", "is_bot": False},
           "chat": {"id": 4242, "type": "private", "first_name": "Bo"}, "date": 1700000000}
    r = requests.post(f"{emulator}/sendCommand", timeout=5, json={
        **who, "text": "/start", "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]})
    assert r.ok
    requests.post(f"{emulator}/sendMessage", json={**who, "text": "hello"}, timeout=5)

    def processed():
        rows = w.query("SELECT kind, outcome FROM tg_updates WHERE bot_id = %s AND"
                       " processed_at IS NOT NULL ORDER BY seq", (bot_id,))
        return rows if len(rows) == 2 else None
    rows = wait_for(processed, 20, what="polled updates processed")
    assert rows[0] == ("message", "command /start")
    assert w.one("SELECT intake, poll_offset > 0 FROM bots WHERE id = %s", (bot_id,)) == (
        "polling", True)
    assert w.query("SELECT chat, method FROM messages WHERE bot_id = %s", (bot_id,)) == [
        ("4242", "sendMessage")]


def test_two_webhookds_poll_a_bot_one_at_a_time(w, emulator):
    """Two webhookd instances and a polling bot: one polls it (its advisory lock is the
    lease), the other waits; SIGKILL the one polling, and the other takes the bot over
    within seconds and processes what the user writes next."""
    tg_id = int(TTA_TOKEN.split(":")[0])
    sealed = seal(w.env.secret_key, TTA_TOKEN, f"bot:{tg_id}:token")
    bot_id = w.one("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,"
                   " token_hash, settings) VALUES (%s, %s, 'TestNameBot', %s, %s,"
                   " '{\"updates\": \"polling\"}') RETURNING id",
                   (w.tenant_id, tg_id, sealed, hashlib.sha256(TTA_TOKEN.encode()).digest()))[0]
    base = {("telegram", "api_url"): emulator, ("telegram", "timeout"): "5",
            ("webhookd", "poll_timeout"): "1"}
    first = w.env.daemon("webhookd", conf=w.env.write_config(base, name="poll1.conf"))
    first.wait_log(rf"bot={bot_id}: this webhookd polls it now")
    second = w.env.daemon("webhookd", conf=w.env.write_config({
        **base, ("webhookd", "listen"): f"127.0.0.1:{free_port()}",
        ("webhookd", "doorbell"): f"ipc://{w.env.rundir}/webhookd2-doorbell"},
        name="poll2.conf"))
    second.wait_log(rf"bot={bot_id}: another webhookd polls it; this one waits")
    who = {"botToken": TTA_TOKEN, "from": {"id": 4343, "first_name": "Al", "is_bot": False},
           "chat": {"id": 4343, "type": "private", "first_name": "Al"}, "date": 1700000000}

    def say(text):
        assert requests.post(f"{emulator}/sendMessage", json={**who, "text": text},
                             timeout=5).ok

    def processed(n):
        return lambda: w.one("SELECT count(*) FROM tg_updates WHERE bot_id = %s AND"
                             " processed_at IS NOT NULL", (bot_id,))[0] >= n
    say("one")
    wait_for(processed(1), 20, what="the first update processed")
    assert "polls it now" not in second.log()
    first.kill()
    second.wait_log(rf"bot={bot_id}: this webhookd polls it now", timeout=15)
    say("two")
    wait_for(processed(2), 20, what="the update written after the kill processed")
    assert w.one("SELECT count(*) FROM tg_updates WHERE bot_id = %s", (bot_id,))[0] == 2


# -- conversations in forum topics ----------------------------------------------------

ADMIN = -1005001
ADMIN_USER = 7  # the admin of admin_message, the bots' owner (World.new_bot)


def copies(w, bot, chat):
    return [r[2] for r in w.replies(bot, chat=chat) if r[1] == "copyMessage"]


def admin_message(w, text, thread, user=ADMIN_USER, **extra):
    body = {"message_id": next(w._update_ids), "date": int(time.time()),
            "from": {"id": user, "is_bot": False, "first_name": "Admin"},
            "chat": {"id": ADMIN, "type": "supergroup", "title": "Support", "is_forum": True},
            "message_thread_id": thread, "is_topic_message": True, **extra}
    if text is not None:
        body["text"] = text
    return w.update("message", **body)


def test_a_first_message_opens_a_topic_with_a_pinned_card(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    first = w.message("hello")
    w.post(bot, first)
    w.post(bot, w.message(None, photo=[{"file_id": "AgAD", "file_unique_id": "u",
                                         "width": 1, "height": 1}]))
    w.wait_processed(bot, 2)
    created = w.tg.calls(token=bot.token, method="createForumTopic")
    assert len(created) == 1
    assert created[0].params == {"chat_id": ADMIN, "name": "Ada @ada #42"}
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s AND user_id = 42",
                   (bot.id,))[0]
    card = wait_for(lambda: w.tg.calls(token=bot.token, method="sendMessage"), 5,
                    what="the info card")[0]
    assert card.params["message_thread_id"] == thread and "ID: 42" in card.params["text"]
    buttons = [b["callback_data"] for b in card.params["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["info:42", "gift:42", "ban:42"]
    wait_for(lambda: w.tg.calls(token=bot.token, method="pinChatMessage"), 5, what="the pin")
    got = copies(w, bot, ADMIN)
    assert [(c["message_thread_id"], c["from_chat_id"]) for c in got] == [(thread, 42)] * 2
    assert got[0]["message_id"] == first["message"]["message_id"]


def test_racing_first_messages_open_one_topic(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    secret = w.secret(bot)
    w.tg.slow(0.5, method="createForumTopic")
    threads = [threading.Thread(target=w.post, args=(bot, w.message(f"m{i}")),
                                kwargs={"secret": secret}) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.wait_processed(bot, 6)
    assert len(w.tg.calls(token=bot.token, method="createForumTopic")) == 1
    assert len(copies(w, bot, ADMIN)) == 6


def test_admins_answer_in_the_topic_and_service_messages_stay(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    answer = admin_message(w, "Hello Ada, how can we help?", thread)
    w.post(bot, answer)
    w.post(bot, admin_message(w, None, thread, pinned_message={"message_id": 1, "date": 1,
                                                                "chat": {"id": ADMIN}}))
    w.post(bot, admin_message(w, "in another topic", thread + 50))
    w.post(bot, admin_message(w, "outside topics", None))
    w.wait_processed(bot, 5)
    back = copies(w, bot, 42)
    assert back == [{"chat_id": 42, "from_chat_id": ADMIN,
                     "message_id": answer["message"]["message_id"]}]


def test_admin_commands_in_a_topic(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    for text in ("/info", "/gift 15", "/ban"):
        w.post(bot, admin_message(w, text, thread))
    w.wait_processed(bot, 4)
    said = [r[2]["text"] for r in w.replies(bot, chat=ADMIN) if r[1] == "sendMessage"]
    assert "ID: 42" in said[0] and "Gift sent. Balance: 15" in said[1] and "banned" in said[2]
    assert "15 credits" in w.replies(bot, chat=42)[-1][2]["text"]
    w.post(bot, w.message("let me in"))
    w.wait_processed(bot, 5)
    assert w.stored(bot)[-1][2] == "ignored: the user is banned"
    for text in ("/unban", "/close", "/reopen", "/frob"):
        w.post(bot, admin_message(w, text, thread))
    w.wait_processed(bot, 9)
    assert w.one("SELECT banned_at FROM bot_users WHERE bot_id = %s", (bot.id,))[0] is None
    wait_for(lambda: w.tg.calls(token=bot.token, method="reopenForumTopic"), 5, what="reopen")
    assert w.tg.calls(token=bot.token, method="closeForumTopic")[0].params == {
        "chat_id": ADMIN, "message_thread_id": thread}
    assert w.query("SELECT kind, credits FROM ledger WHERE bot_id = %s", (bot.id,)) == [
        ("gift", 15)]


def test_the_cards_buttons(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    for i, data in enumerate(("info:42", "ban:42")):
        w.post(bot, w.update("callback_query", id=f"c{i}", data=data, chat_instance="1",
                             **{"from": {"id": 7, "is_bot": False, "first_name": "Admin"}},
                             message={"message_id": 3, "date": 1, "message_thread_id": thread,
                                      "chat": {"id": ADMIN, "type": "supergroup"}}))
    w.wait_processed(bot, 3)
    assert w.one("SELECT banned_at IS NOT NULL FROM bot_users WHERE bot_id = %s", (bot.id,))[0]
    wait_for(lambda: len(w.tg.calls(token=bot.token, method="answerCallbackQuery")) == 2, 5,
             what="both buttons answered")


def test_messages_cost_credits_and_without_them_are_not_relayed(w):
    bot = w.new_bot(admin_chat_id=ADMIN, charge_messages=True, free_credits=3, cost_text=1,
                    cost_photo=2, low_balance=2)
    w.webhookd()
    w.post(bot, w.message("/start"))
    msgs = [w.message("one"), w.message("two"), w.message("three")]
    for m in msgs:
        w.post(bot, m)
    w.post(bot, msgs[0])  # a redelivery is not charged again
    w.wait_processed(bot, 4)
    assert len(copies(w, bot, ADMIN)) == 3
    assert w.one("SELECT credits FROM bot_users WHERE bot_id = %s", (bot.id,))[0] == 0
    texts = [r[2]["text"] for r in w.replies(bot, chat=42)]
    assert sum("balance is low" in t for t in texts) == 1  # once per crossing
    w.post(bot, w.message("four"))
    w.wait_processed(bot, 5)
    notice = w.replies(bot, chat=42)[-1][2]
    assert notice["text"].startswith("You have no credits left")
    assert notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "buy"
    assert len(copies(w, bot, ADMIN)) == 3
    ledger = w.query("SELECT kind, credits FROM ledger WHERE bot_id = %s ORDER BY id", (bot.id,))
    assert ledger == [("free", 3), ("debit", -1), ("debit", -1), ("debit", -1)]
    w.query("SELECT ledger_apply(%s, 42, 'test:pass', 'pass', 0, 3600)", (bot.id,))
    w.post(bot, w.message("with a pass"))
    w.wait_processed(bot, 6)
    assert len(copies(w, bot, ADMIN)) == 4


def test_a_deleted_topic_is_made_again_and_the_message_resent(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.senderd()
    w.post(bot, w.message("first"))
    first_copy = wait_for(lambda: w.tg.calls(token=bot.token, method="copyMessage"), 15,
                          what="the first copy")[0]
    old = first_copy.params["message_thread_id"]
    w.tg.delete_topic(ADMIN, old)
    second = w.message("second")
    w.post(bot, second)

    def resent():
        return [c for c in w.tg.calls(token=bot.token, method="copyMessage")
                if c.params["message_id"] == second["message"]["message_id"]
                and c.params["message_thread_id"] != old]
    wait_for(resent, 20, what="the copy resent into a new topic")
    assert len(w.tg.calls(token=bot.token, method="createForumTopic")) == 2
    new = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    assert new != old and resent()[0].params["message_thread_id"] == new


def test_a_user_who_blocked_the_bot_is_reported_in_the_topic(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.senderd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    w.tg.blocked(chat=42)
    w.post(bot, admin_message(w, "are you there?", thread))

    def reported():
        return [c for c in w.tg.calls(token=bot.token, method="sendMessage", chat=ADMIN)
                if "blocked" in c.params.get("text", "")]
    wait_for(reported, 20, what="the report in the topic")
    assert reported()[0].params["message_thread_id"] == thread


def test_blocking_and_unblocking_is_told_in_the_topic(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    for status in ("kicked", "member"):
        w.post(bot, w.update("my_chat_member", chat={"id": 42, "type": "private"}, date=1,
                             **{"from": {"id": 42, "is_bot": False, "first_name": "Ada"}},
                             old_chat_member={"status": "member", "user": {"id": 1}},
                             new_chat_member={"status": status, "user": {"id": 1}}))
    w.wait_processed(bot, 3)
    said = [r[2] for r in w.replies(bot, chat=ADMIN) if r[1] == "sendMessage"]
    assert [s["text"] for s in said] == ["⚠️ The user blocked the bot.",
                                         "✅ The user unblocked the bot."]
    assert all(s["message_thread_id"] == thread for s in said)
