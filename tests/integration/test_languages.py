"""Languages (issue 17, docs/texts.md): a user is spoken to in their Telegram
language_code when the catalog speaks it, else in the bot's language (setting
language), else English; a bot's own texts (settings.texts, set through
PUT /v1/bots/{id}/texts/{lang}/{name}) win over the catalog. webhookd's replies and
billingd's notices both follow it, through senderd to the fake Telegram.
"""

import requests

from conftest import wait_for
from test_billingd import BillingWorld, st  # noqa: F401 (a fixture)
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd_stripe import stripe_node  # noqa: F401 (a fixture)

RU, DE, EN = 42, 43, 44
ADMIN = -1007001


class LangWorld(BillingWorld):
    """BillingWorld whose users carry a language_code"""

    def speak(self, bot, text, user, lang):
        upd = self.message(text, user=user)
        upd["message"]["from"]["language_code"] = lang
        assert self.post(bot, upd).status_code == 200

    def heard(self, bot, user):
        """the texts the fake Telegram got for user, in order"""
        return [c.params.get("text", "") for c in self.tg.calls(token=bot.token, chat=user)
                if c.method == "sendMessage"]

    def wait_heard(self, bot, user, n, timeout=40, last=None):
        """n messages to user heard, the last of them starting with last (if given)"""
        def heard():
            t = self.heard(bot, user)
            return t if len(t) >= n and (last is None or any(x.startswith(last) for x in t)) \
                else None
        return wait_for(heard, timeout, what=f"{n} messages to {user}")


def world(tgm_env, tg, st):
    w = LangWorld(tgm_env, tg, st)
    return w


class Api:
    """gatewayd (started on the world's configuration) with an admin key of acme"""

    def __init__(self, w, conf):
        w.env.daemon("gatewayd", conf=conf)
        r = w.env.tgmctl("key", "create", "--tenant", "acme", "--scope", "admin")
        assert r.returncode == 0, r.stderr
        self.base = w.env.http()
        self.h = {"Authorization": f"Bearer {r.stdout.strip()}"}

    def __getattr__(self, method):
        return lambda path, **kw: requests.request(method.upper(), self.base + path,
                                                   headers=self.h, timeout=10, **kw)


def notices(w, bot, user):
    """billingd's notices, recorded as the SQL functions record them"""
    w.query("SELECT bd_notice(%s, %s, 'paid', '{\"credits\": 5, \"pass_seconds\": 0,"
            " \"balance\": 7, \"pass_until\": null}')", (bot.id, user))
    w.query("SELECT bd_notice(%s, %s, 'low_balance', '{\"credits\": 2}')", (bot.id, user))
    w.query("SELECT bd_notice(%s, %s, 'refund', '{\"amount\": 500, \"currency\": \"usd\","
            " \"taken\": 5, \"owed\": 3, \"balance\": 0}')", (bot.id, user))
    w.query("SELECT bd_notice(%s, %s, 'payment_refused', '{}')", (bot.id, user))


def test_a_russian_user_hears_russian_a_german_one_the_bots_language(tgm_env, tg, st):
    w = world(tgm_env, tg, st)
    bot = w.new_bot(free_credits=3, low_balance=2, charge_messages=True, admin_chat_id=ADMIN,
                    cost_text=1, chat_per_second=30)
    w.start()
    w.senderd()
    for user, lang in ((RU, "ru"), (DE, "de"), (EN, "en-GB")):
        w.speak(bot, "/start", user, lang)
        w.speak(bot, "/balance", user, lang)
        w.speak(bot, "one", user, lang)
        w.speak(bot, "two", user, lang)     # 1 left: the low-balance warning
        w.speak(bot, "three", user, lang)
        w.speak(bot, "four", user, lang)    # none left: not relayed
        w.speak(bot, "/nosuch", user, lang)
    w.wait_processed(bot, 21)
    for user in (RU, DE, EN):
        notices(w, bot, user)
    ru = w.wait_heard(bot, RU, 9, last="❌")
    assert ru[0].startswith("Добро пожаловать!") and "3 бесплатных кредита" in ru[0], ru[0]
    assert ru[1].startswith("Кредиты: 3/3"), ru[1]
    assert any(t.startswith("⚠️ У вас мало кредитов: осталось 1 кредит.") for t in ru), ru
    assert any(t.startswith("У вас закончились кредиты") for t in ru), ru
    assert any(t.startswith("Неизвестная команда. Команды:\n/start - начать сначала")
               for t in ru), [t for t in ru if "озврат" in t]
    assert any(t.startswith("✅ Оплата получена: 5 кредитов.\nВаш баланс: 7 кредитов.")
               for t in ru), [t for t in ru if "озврат" in t]
    assert any("Сделан возврат 5.00 USD: списано 5 кредитов. 3 кредита уже потрачены" in t
               for t in ru), [t for t in ru if "озврат" in t]
    assert any(t.startswith("❌ Платёж не прошёл") for t in ru), ru
    # German is not in the catalog: the bot's language, English here
    de = w.wait_heard(bot, DE, 9, last="❌")
    en = w.wait_heard(bot, EN, 9, last="❌")
    assert de[0].startswith("Welcome!") and "3 free credits" in de[0]
    assert sorted(de) == sorted(en)
    assert any(t.startswith("✅ Payment received: 5 credits.") for t in de), de
    # the buttons too
    buy = [c.params for c in w.tg.calls(token=bot.token, chat=RU, method="sendMessage")
           if c.params.get("text", "").startswith("У вас закончились")][0]
    assert buy["reply_markup"]["inline_keyboard"][0][0]["text"] == "Купить кредиты"
    # the admins hear the bot's language (English), whatever the user's
    card = [c.params["text"] for c in w.tg.calls(token=bot.token, chat=ADMIN,
                                                  method="sendMessage")]
    assert any("Credits:" in t and "Tier:" in t for t in card), card


def test_the_bots_language_and_own_texts(tgm_env, tg, st):
    """a bot whose language is Russian speaks Russian to a German user; a text of its own,
    set through the API, wins over the catalog in its language only"""
    w = world(tgm_env, tg, st)
    bot = w.new_bot(language="ru", free_credits=2)
    w.start()
    w.senderd()
    api = Api(w, w.conf())
    base = f"/v1/bots/{bot.id}/texts"
    r = api.put(f"{base}/ru/welcome", json={"text": "Привет от бота!"})
    assert r.status_code == 200, r.text
    assert r.json() == {"lang": "ru", "name": "welcome", "text": "Привет от бота!"}
    r = api.put(f"{base}/en/welcome", json={"text": "Hi from the bot!"})
    assert r.status_code == 200, r.text
    listed = api.get(f"{base}?lang=ru").json()
    assert listed["lang"] == "ru"
    row = [t for t in listed["texts"] if t["name"] == "welcome"][0]
    assert row == {"name": "welcome", "catalog": "Добро пожаловать! Пишите сюда, и мы вам"
                   " ответим.", "own": "Привет от бота!"}
    assert all(t["own"] is None for t in listed["texts"] if t["name"] != "welcome")
    # bad input: a clear 422, nothing changed
    assert api.put(f"{base}/ru/no_such_text", json={"text": "x"}).status_code == 422
    assert api.put(f"{base}/RU/welcome", json={"text": "x"}).status_code == 422
    assert api.put(f"{base}/ru/welcome", json={"text": ""}).status_code == 422
    assert api.put(f"{base}/ru/welcome", json={"text": 5}).status_code == 422
    assert api.put(f"/v1/bots/999999/texts/ru/welcome", json={"text": "x"}).status_code == 404
    assert api.get(f"{base}?lang=<b>").status_code == 422
    r = api.patch(f"/v1/bots/{bot.id}", json={"settings": {"texts": {"ru": {"nope": "x"}}}})
    assert r.status_code == 422 and "nope" in r.json()["detail"]
    # webhookd reloads the bot on the change
    wait_for(lambda: w.one("SELECT settings->'texts'->'ru'->>'welcome' FROM bots"
                           " WHERE id = %s", (bot.id,))[0], 5, what="stored")
    w.speak(bot, "/start", DE, "de")
    w.speak(bot, "/start", RU, "ru")
    w.speak(bot, "/start", EN, "en")
    de = w.wait_heard(bot, DE, 1)
    ru = w.wait_heard(bot, RU, 1)
    en = w.wait_heard(bot, EN, 1)
    assert de[0].startswith("Привет от бота!") and "2 бесплатных кредита" in de[0], de
    assert ru[0].startswith("Привет от бота!"), ru
    assert en[0].startswith("Hi from the bot!") and "2 free credits" in en[0], en
    # taken away: the catalog again
    assert api.delete(f"{base}/ru/welcome").status_code == 200
    w.speak(bot, "/help", RU, "ru")
    assert w.wait_heard(bot, RU, 2)[1].startswith("Команды:")
