"""The admin menu in Telegram (issue 17, docs/admin-centre.md): /admin sends one menu
message and every press edits it in place (editMessageText in the outbound queue);
every category is reachable; a member of the admin group who is not on the bot's admin
list is refused everywhere, hand-crafted buttons included, and so are buttons about
another bot's objects or malformed; gifts, takes, bans, settings and refunds are in the
audit log; a refund from the menu returns the money at the fake Stripe (or Telegram's
refundStarPayment) and takes the credits back once, however often it is pressed.
"""

import time

import pytest

from conftest import wait_for
from fake_stripe import FakeStripe
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd import ADMIN, World

OWNER, STRANGER, USER = 7, 8, 42
MENU = 900  # the menu message's id, as Telegram would have given it

CATEGORIES = ["c", "d", "a", "u", "p", "b", "bc", "g", "s", "y", "q", "f"]


class MenuWorld(World):
    """webhookd with Stripe configured, a bot with an admin group, its owner on the
    admin list, and a user who wrote to it."""

    def __init__(self, env, tg, st):
        super().__init__(env, tg)
        self.st = st
        self.n = 0

    def conf(self, **webhookd):
        settings = {("telegram", "api_url"): self.tg.url, ("telegram", "timeout"): "5",
                    ("webhookd", "public_url"): "https://tgm.example.org/hooks",
                    ("stripe", "api_url"): self.st.url,
                    ("stripe", "secret_key"): "sk_test_menu"}
        return self.env.write_config(settings, name=f"webhookd-{next(self._confs)}.conf")

    def start(self, **settings):
        self.bot = self.new_bot(admin_chat_id=ADMIN, admins={OWNER: "owner"}, **settings)
        self.webhookd()
        self.send(self.message("hello", user=USER))
        return self.bot

    def send(self, update, bot=None):
        bot = bot or self.bot
        self.post(bot, update)
        self.n += 1
        self.wait_processed(bot, self.n)

    def group(self, text, user=OWNER, **extra):
        body = {"message_id": next(self._update_ids), "date": int(time.time()),
                "from": {"id": user, "is_bot": False, "first_name": "Admin"},
                "chat": {"id": ADMIN, "type": "supergroup", "title": "Support",
                         "is_forum": True}, "text": text, **extra}
        self.send(self.update("message", **body))

    def press(self, data, user=OWNER, msg=MENU, chat=ADMIN):
        """a press on a button; once processed, and its answer (the toast, a direct call
        that may end after the update is marked processed) has reached Telegram"""
        answered = len(self.toasts())
        self.send(self.update("callback_query", id=f"q{next(self._update_ids)}", data=data,
                              chat_instance="1",
                              **{"from": {"id": user, "is_bot": False, "first_name": "A"}},
                              message={"message_id": msg, "date": 1,
                                       "chat": {"id": chat, "type": "supergroup"}}))
        wait_for(lambda: len(self.toasts()) > answered, 10, what=f"the answer to {data}")

    def reply(self, text, user=OWNER, msg=MENU):
        self.group(text, user=user, reply_to_message={
            "message_id": msg, "date": 1, "chat": {"id": ADMIN, "type": "supergroup"},
            "from": {"id": self.bot.tg_id, "is_bot": True, "first_name": "Bot"}})

    def menus(self):
        return [(r[1], r[2]) for r in self.replies(self.bot, chat=ADMIN)
                if r[1] in ("sendMessage", "editMessageText")]

    def last(self):
        method, params = self.menus()[-1]
        return params

    def toasts(self):
        return [c.params.get("text") for c in self.tg.calls(token=self.bot.token,
                                                            method="answerCallbackQuery")]

    def audit(self):
        return [r[0] for r in self.query("SELECT action FROM audit_log WHERE bot_id = %s"
                                         " AND source = 'telegram' ORDER BY id", (self.bot.id,))]


def buttons(params):
    return [b.get("callback_data") or b.get("url")
            for row in params["reply_markup"]["inline_keyboard"] for b in row]


@pytest.fixture
def st():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def m(tgm_env, tg, st):
    return MenuWorld(tgm_env, tg, st)


def test_admin_sends_one_menu_and_every_press_edits_it(m):
    m.start()
    m.group("/admin")
    method, home = m.menus()[-1]
    assert method == "sendMessage" and "reply_markup" in home
    assert buttons(home) == [f"m1:{c}:0:0" for c in CATEGORIES]
    assert all(len(b) <= 64 for b in buttons(home))
    before = len(m.menus())
    for c in CATEGORIES:
        m.press(f"m1:{c}:0:0")
        method, params = m.menus()[-1]
        assert method == "editMessageText" and params["message_id"] == MENU, c
        assert "m1:h:0:0" in buttons(params), f"{c} has no Back"
    assert len(m.menus()) == before + 12
    assert "This button is out of date: send /admin again." not in m.toasts()
    assert m.query("SELECT count(*) FROM messages WHERE bot_id = %s AND chat = %s"
                   " AND method = 'sendMessage'", (m.bot.id, str(ADMIN)))[0][0] == 1


def test_a_member_not_on_the_admin_list_is_refused_everywhere(m):
    m.start()
    m.group("/admin", user=STRANGER)
    assert "Not allowed" in m.last()["text"] and "reply_markup" not in m.last()
    for cmd in ("/users ada", "/dashboard", "/system", "/products"):
        m.group(cmd, user=STRANGER)
    crafted = [f"m1:{c}:0:0" for c in CATEGORIES]
    crafted += ["m1:pa:1:0", "m1:qd:1:0", f"m1:ub:{USER}:0", f"m1:ug:{USER}:0", "m1:rx:1:0", "m1:sv:0:1"]
    for data in crafted:
        m.press(data, user=STRANGER)
    assert not [p for meth, p in m.menus() if meth == "editMessageText"]
    assert m.toasts().count("Not allowed") == len(crafted)
    assert m.one("SELECT banned_at FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (m.bot.id, USER))[0] is None
    assert m.audit() == []
    # a reply to a prompt by a stranger does nothing either
    m.press(f"m1:ug:{USER}:0")
    m.reply("100", user=STRANGER)
    assert m.query("SELECT count(*) FROM ledger WHERE bot_id = %s", (m.bot.id,))[0][0] == 0


def test_crafted_buttons_for_other_bots_pages_or_chats_are_refused_cleanly(m):
    m.start()
    other = m.new_bot()
    m.query("INSERT INTO bot_users (bot_id, user_id, first_name) VALUES (%s, 99, 'Eve')",
            (other.id,))
    pay = m.one("INSERT INTO payments (bot_id, user_id, kind, status, amount, currency,"
                " credits, payment_intent_id, paid_at) VALUES (%s, 99, 'checkout', 'paid',"
                " 500, 'usd', 10, 'pi_other', now()) RETURNING id", (other.id,))[0]
    for data in ("m1:up:99:0", f"m1:bp:{pay}:0", f"m1:rx:{pay}:0", "m1:ub:99:0"):
        m.press(data)
        assert "Nothing here" in m.last()["text"], data
    assert m.st.refunds == []
    assert m.one("SELECT banned_at FROM bot_users WHERE bot_id = %s AND user_id = 99",
                 (other.id,))[0] is None
    m.press("m1:u:5000:0")  # a page far past the end
    assert "m1:h:0:0" in buttons(m.last())
    n = len(m.menus())
    for data in ("m1:zz:0:0", "m1:up:-1:0", "m1:up:1:0:9", "m1:up:+1:0", "m1:UP:1:0",
                 "m1:up:" + "1" * 70 + ":0"):
        m.press(data)
    m.press("m1:d:0:0", chat=-100999)  # a menu button in a chat not the bot's
    assert m.toasts()[-7:] == ["This button is out of date: send /admin again."] * 7
    for data in ("x" * 70, "m2:up:1:0"):  # not the menu's: the other buttons' business
        m.press(data)
    assert len(m.menus()) == n


def test_users_search_card_gift_take_ban_all_audited(m):
    m.start()
    m.group("/users ada")
    assert f"m1:up:{USER}:0" in buttons(m.last())
    m.press(f"m1:up:{USER}:0")
    card = m.last()
    assert "ID: 42" in card["text"] and "Balance: 0 credits" in card["text"]
    assert {f"m1:ug:{USER}:0", f"m1:ut:{USER}:0", f"m1:ub:{USER}:0"} <= set(buttons(card))
    m.press(f"m1:ug:{USER}:0")
    assert "number of credits" in m.last()["text"]
    m.reply("15")
    assert "Gift sent" in m.last()["text"] and "Balance: 15 credits" in m.last()["text"]
    assert m.last()["message_id"] == MENU
    assert "15 credits" in m.replies(m.bot, chat=USER)[-1][2]["text"]
    m.press(f"m1:ut:{USER}:0")
    m.reply("500")
    assert "fewer credits" in m.last()["text"]
    m.reply("5")
    assert "Balance: 10 credits" in m.last()["text"]
    m.press(f"m1:ub:{USER}:0")
    assert "Banned" in m.last()["text"] and f"m1:uu:{USER}:0" in buttons(m.last())
    m.press(f"m1:uu:{USER}:0")
    assert m.one("SELECT credits, banned_at FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (m.bot.id, USER)) == (10, None)
    assert m.audit() == ["gift", "take", "ban", "unban"]
    assert m.one("SELECT source, actor, target FROM audit_log WHERE bot_id = %s"
                 " AND action = 'gift'", (m.bot.id,)) == ("telegram", str(OWNER), str(USER))


def test_settings_toggles_and_values_are_checked_and_audited(m):
    m.start()
    m.press("m1:s:0:0")
    assert "m1:sv:0:1" in buttons(m.last())  # charge_messages: off, its button sets it on
    m.press("m1:sv:0:1")
    m.press("m1:sv:0:1")  # pressed twice: set once, to the same value
    assert "charge_messages: on" in str(m.last()["reply_markup"])
    m.press("m1:sv:2:0")  # cost_text
    assert "cost_text is now" in m.last()["text"]
    m.reply("lots")
    assert "cost_text" in m.last()["text"] and "must" in m.last()["text"]
    m.reply("3")
    settings = m.one("SELECT settings FROM bots WHERE id = %s", (m.bot.id,))[0]
    assert settings["charge_messages"] is True and settings["cost_text"] == 3
    assert m.audit() == ["setting", "setting", "setting"]
    m.press("m1:sv:99:0")
    assert "Nothing here" in m.last()["text"]


def test_dashboard_and_system(m):
    m.start()
    m.group("/dashboard")
    text = m.last()["text"]
    assert "New users: 1 today" in text and "Active users: 1 today" in text
    assert "Queue: " in text
    m.group("/system")
    text = m.last()["text"]
    assert "webhookd" in text and "Last WAL archive" in text
    paid(m, payment_intent_id="pi_test_csv")
    m.press("m1:a:0:0")
    assert "New users: 1 in 7 days" in m.last()["text"] and "m1:ax:0:0" in buttons(m.last())
    m.press("m1:ax:0:0")
    doc = wait_for(lambda: m.tg.calls(token=m.bot.token, method="sendDocument"), 5,
                   what="the CSV")[0]
    assert doc.params["chat_id"] == str(ADMIN)
    name, data = doc.files["document"]
    lines = data.decode().splitlines()
    assert name.endswith("-30-days.csv") and len(lines) == 31
    assert lines[0] == "day,new_users,last_seen_users,payments,revenue_minor,currency"
    assert lines[-1].endswith(",1,1,1,500,usd")
    assert "CSV sent" in m.toasts()[-1]


def paid(m, kind="checkout", credits=10, amount=500, currency="usd", **ids):
    m.query("SELECT ledger_apply(%s, %s, %s, 'grant', %s)",
            (m.bot.id, USER, f"grant:test:{time.time()}", credits))
    cols = ", ".join(ids)
    vals = ", ".join(["%s"] * len(ids))
    return m.one(f"INSERT INTO payments (bot_id, user_id, kind, status, amount, currency,"
                 f" credits, paid_at, {cols}) VALUES (%s, %s, %s, 'paid', %s, %s, %s, now(),"
                 f" {vals}) RETURNING id",
                 (m.bot.id, USER, kind, amount, currency, credits, *ids.values()))[0]


def test_a_refund_from_the_menu_returns_money_and_takes_credits_once(m):
    m.start()
    pay = paid(m, payment_intent_id="pi_test_menu")
    m.press("m1:b:0:0")
    assert f"m1:bp:{pay}:0" in buttons(m.last())
    m.press(f"m1:bp:{pay}:0")
    assert f"m1:br:{pay}:0" in buttons(m.last())
    m.press(f"m1:br:{pay}:0")
    assert "Refund payment" in m.last()["text"] and f"m1:rx:{pay}:0" in buttons(m.last())
    m.press(f"m1:rx:{pay}:0")
    m.press(f"m1:rx:{pay}:0")  # pressed twice
    calls = m.st.calls("POST", "/v1/refunds")
    assert len(calls) == 1 and calls[0].form["payment_intent"] == "pi_test_menu"
    assert calls[0].header("Idempotency-Key") == f"tgm-refund-{pay}"
    assert len(m.st.refunds) == 1
    assert m.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (m.bot.id, USER))[0] == 0
    assert m.query("SELECT credits FROM ledger WHERE bot_id = %s AND kind = 'refund'",
                   (m.bot.id,)) == [(-10,)]
    assert m.one("SELECT refunded_amount, refunded_credits FROM payments WHERE id = %s",
                 (pay,)) == (500, 10)
    assert m.toasts()[-2:] == ["Refunded", "Already refunded"]
    assert m.audit() == ["refund"]
    assert f"m1:br:{pay}:0" not in buttons(m.last())


def test_a_stars_refund_calls_refund_star_payment_once(m):
    m.start()
    pay = paid(m, kind="stars", amount=50, currency="XTR", telegram_charge_id="tch_1")
    m.press(f"m1:rx:{pay}:0")
    m.press(f"m1:rx:{pay}:0")
    calls = wait_for(lambda: m.tg.calls(token=m.bot.token, method="refundStarPayment"), 5,
                     what="refundStarPayment")
    assert [c.params for c in calls] == [{"user_id": USER,
                                          "telegram_payment_charge_id": "tch_1"}]
    assert m.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (m.bot.id, USER))[0] == 0
    assert m.audit() == ["refund"]


def test_a_refused_refund_changes_nothing(m):
    m.start()
    from fake_http import Reply
    m.st.fail("/v1/refunds", Reply(402, {"error": {"type": "card_error",
                                                   "message": "insufficient funds"}}))
    pay = paid(m, payment_intent_id="pi_test_refused")
    m.press(f"m1:rx:{pay}:0")
    assert m.toasts()[-1] == "The refund was refused: nothing changed"
    assert m.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (m.bot.id, USER))[0] == 10
    assert m.audit() == []


def test_products_conversations_quick_replies_and_search(m):
    m.start()
    m.press("m1:p:0:0")
    m.press("m1:pn:0:0")
    m.reply("Starter pack 0 10")
    assert "label price credits" in m.last()["text"]
    m.reply("Starter pack 500 10")
    prod = m.one("SELECT id, label, price, credits, active FROM products WHERE bot_id = %s",
                 (m.bot.id,))
    assert prod[1:] == ("Starter pack", 500, 10, True)
    assert f"m1:pa:{prod[0]}:0" in buttons(m.last())
    m.press(f"m1:pa:{prod[0]}:0")
    m.press(f"m1:pe:{prod[0]}:0")
    m.reply("900")
    assert m.one("SELECT price, active FROM products WHERE id = %s", (prod[0],)) == (900, False)
    assert "9.00 USD" in m.last()["text"]
    m.press("m1:c:0:0")
    assert "1 unread" in m.last()["text"] and "not answered yet" in m.last()["text"]
    m.press("m1:qa:0:0")
    m.reply("Hours: We open at nine.")
    qr = m.one("SELECT id, title, text FROM quick_replies")
    assert qr[1:] == ("Hours", "We open at nine.")
    m.press(f"m1:qd:{qr[0]}:0")
    assert m.query("SELECT count(*) FROM quick_replies")[0][0] == 0
    m.press("m1:fm:0:0")
    m.reply("hello")
    assert f"m1:up:{USER}:0" in buttons(m.last())
    assert m.audit() == ["product_new", "product_change", "product_change",
                         "quick_reply_add", "quick_reply_delete"]


def test_broadcast_and_mass_gift_through_the_campaign_engine(m):
    m.start()
    m.send(m.message("hi", user=43))
    m.press("m1:bc:0:0")
    m.press("m1:bn:0:0")
    m.reply("News for you, {first_name}!")
    cid = m.one("SELECT id FROM campaigns WHERE state = 'draft'")[0]
    assert "reaches 2 users" in m.last()["text"] and f"m1:bs:{cid}:0" in buttons(m.last())
    m.query("UPDATE bot_users SET last_seen_at = now() - interval '30 days'"
            " WHERE bot_id = %s AND user_id = 43", (m.bot.id,))
    m.press(f"m1:ba:{cid}:1")
    assert "reaches 1 users" in m.last()["text"]
    m.press(f"m1:bs:{cid}:0")
    m.press(f"m1:bs:{cid}:0")  # twice: started once
    assert m.one("SELECT state, recipients FROM campaigns WHERE id = %s", (cid,)) == (
        "running", 1)
    sent = [r for r in m.replies(m.bot, chat=USER) if "News for you" in r[2].get("text", "")]
    assert len(sent) == 1 and sent[0][2]["text"] == "News for you, Ada!"
    assert "Sent: 0, waiting: 1" in m.last()["text"]
    m.press("m1:g:0:0")
    m.press("m1:gn:0:0")
    m.reply("lots of credits")
    assert "credits each user gets" in m.last()["text"]
    m.reply("5 A present for you")
    gid = m.one("SELECT id FROM campaigns WHERE gift = 5")[0]
    m.press(f"m1:bs:{gid}:0")
    assert m.query("SELECT user_id, credits FROM ledger WHERE bot_id = %s AND kind = 'gift'"
                   " ORDER BY user_id", (m.bot.id,)) == [(USER, 5), (43, 5)]
    m.press("m1:g:0:0")
    assert f"m1:bv:{gid}:0" in buttons(m.last()) and f"m1:bv:{cid}:0" not in buttons(m.last())
    assert m.audit() == ["campaign_draft", "broadcast", "campaign_draft", "mass_gift"]
    other = m.new_bot()
    oc = m.one("INSERT INTO campaigns (tenant_id, bot_ids, message, method, params)"
               " VALUES (%s, ARRAY[%s::bigint], '{}', 'sendMessage', '{\"text\": \"x\"}')"
               " RETURNING id", (m.tenant_id, other.id))[0]
    m.press(f"m1:bs:{oc}:0")
    assert "Nothing here" in m.last()["text"]
    assert m.one("SELECT state FROM campaigns WHERE id = %s", (oc,))[0] == "draft"


def test_the_docs_roles_are_the_codes():
    """docs/admin-centre.md's table names, for each category, the role of its view in
    webhookd/menu.c's table."""
    import pathlib
    import re
    repo = pathlib.Path(__file__).resolve().parents[2]
    roles = dict(re.findall(r'\{ "([a-z]+)", WH_ROLE_([A-Z]+),', (repo / "webhookd/menu.c")
                            .read_text()))
    rows = re.findall(r"^\| (\d+) \| [^|]+ \| [^|]+ \| (\w+)", (repo / "docs/admin-centre.md")
                      .read_text(), re.M)
    assert len(rows) == 12
    for n, role in rows:
        assert roles[CATEGORIES[int(n) - 1]] == role.upper(), n


def test_the_menu_in_a_private_chat(m):
    m.start()
    m.send(m.message("/admin", user=OWNER))
    home = [r for r in m.replies(m.bot, chat=OWNER) if r[1] == "sendMessage"][-1][2]
    assert buttons(home)[0] == "m1:c:0:0"
    m.press(f"m1:ug:{USER}:0", chat=OWNER)
    m.send(m.message("7", user=OWNER, reply_to_message={
        "message_id": MENU, "date": 1, "chat": {"id": OWNER, "type": "private"},
        "from": {"id": m.bot.tg_id, "is_bot": True, "first_name": "Bot"}}))
    edit = [r for r in m.replies(m.bot, chat=OWNER) if r[1] == "editMessageText"][-1][2]
    assert edit["message_id"] == MENU and "Balance: 7 credits" in edit["text"]
    m.send(m.message("/admin", user=STRANGER))
    assert "Not allowed" in m.replies(m.bot, chat=STRANGER)[-1][2]["text"]
    m.press("m1:d:0:0", user=STRANGER, chat=STRANGER)
    m.press("m1:d:0:0", user=STRANGER, chat=OWNER)  # someone else's private menu
    assert m.toasts()[-2:] == ["Not allowed", "This button is out of date: send /admin again."]
    # a user's reply to the bot that answers no prompt is their message as before
    m.send(m.message("thanks", user=USER, reply_to_message={
        "message_id": 5, "date": 1, "chat": {"id": USER, "type": "private"},
        "from": {"id": m.bot.tg_id, "is_bot": True, "first_name": "Bot"}}))
    assert m.stored(m.bot)[-1][2] != "admin menu"
    assert m.query("SELECT count(*) FROM messages WHERE bot_id = %s AND method = 'copyMessage'"
                   " AND chat = %s", (m.bot.id, str(ADMIN)))[0][0] == 2


def test_a_gift_from_the_menu_is_told_in_the_users_language(m):
    """The admin's menu speaks the admin's language; the user gifted hears of it in theirs,
    with their balance."""
    m.start()
    m.query("UPDATE bot_users SET language_code = 'ru', credits = 4 WHERE bot_id = %s"
            " AND user_id = %s", (m.bot.id, USER))
    m.group("/users ada")
    m.press(f"m1:ug:{USER}:0")
    m.reply("15")
    assert "Gift sent" in m.last()["text"] and "Balance: 19 credits" in m.last()["text"]
    told = m.replies(m.bot, chat=USER)[-1][2]["text"]
    assert told == "🎁 Вам подарок. Баланс: 19 кредитов.", told


def test_the_menu_speaks_the_admins_language(m):
    """An admin whose Telegram speaks Russian gets the menu in Russian; the others in the
    bot's language (English here)."""
    m.start()
    body = {"message_id": 900, "date": int(time.time()), "text": "/admin",
            "from": {"id": OWNER, "is_bot": False, "first_name": "Admin",
                     "language_code": "ru"},
            "chat": {"id": ADMIN, "type": "supergroup", "title": "Support", "is_forum": True}}
    m.send(m.update("message", **body))
    assert m.last()["text"].startswith("🛠 Центр управления @"), m.last()["text"]
    m.group("/admin")
    assert m.last()["text"].startswith("🛠 Admin centre of @"), m.last()["text"]
