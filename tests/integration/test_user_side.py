"""The user side of issue 17 through real webhookd, senderd and PostgreSQL and the fake
Telegram: the typing indicator while an admin's answer is relayed and the reaction that
tells the admins it was delivered (docs/conversations.md), tiers on the info card and in
campaign audiences (docs/tiers.md), and the balance after each paid message.
"""

import re

from conftest import REPO, wait_for
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd import ADMIN, World, admin_message

USER = 42


def card(w, bot):
    """the info card's text, as the fake Telegram got it"""
    return wait_for(lambda: [c.params["text"] for c in w.tg.calls(
        token=bot.token, chat=ADMIN, method="sendMessage") if "ID: " in c.params.get("text", "")],
        10, what="the info card")[-1]


def test_typing_while_an_answer_is_relayed_and_a_reaction_once_delivered(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.senderd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    answer = admin_message(w, "Hello Ada!", thread)
    w.post(bot, answer)
    w.wait_processed(bot, 2)
    typing = wait_for(lambda: w.tg.calls(token=bot.token, method="sendChatAction"), 10,
                      what="sendChatAction")
    assert [c.params for c in typing] == [{"chat_id": USER, "action": "typing"}]
    copied = wait_for(lambda: w.tg.calls(token=bot.token, chat=USER, method="copyMessage"),
                      10, what="the copy to the user")
    assert copied[0].time >= typing[0].time
    react = wait_for(lambda: w.tg.calls(token=bot.token, method="setMessageReaction"), 15,
                     what="the reaction")
    assert react[0].params == {"chat_id": ADMIN, "message_id": answer["message"]["message_id"],
                               "reaction": [{"type": "emoji", "emoji": "👌"}]}
    # once: the copy is sent once, and nothing else reacts
    w.post(bot, w.message("thanks"))
    w.wait_processed(bot, 3)
    wait_for(lambda: len(w.tg.calls(token=bot.token, chat=ADMIN, method="copyMessage")) == 2,
             10, what="the second copy into the topic")
    assert len(w.tg.calls(token=bot.token, method="setMessageReaction")) == 1


def test_an_undelivered_answer_gets_no_reaction(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.webhookd()
    w.senderd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    tg.blocked(chat=USER, method="copyMessage")
    w.post(bot, admin_message(w, "Hello?", thread))
    wait_for(lambda: w.query("SELECT 1 FROM messages WHERE bot_id = %s AND chat = %s AND"
                             " status = 'failed'", (bot.id, str(USER))), 15, what="the failure")
    assert not w.tg.calls(token=bot.token, method="setMessageReaction")


def test_tiers_on_the_card_follow_the_bots_rules(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(admin_chat_id=ADMIN, tier_regular=5, tier_vip=10)
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    assert "\nTier: New\n" in card(w, bot)

    def tier():
        return w.one("SELECT bot_user_tier(%s, spent, messages) FROM bot_users WHERE bot_id = %s",
                     (bot.id, bot.id))[0]
    assert tier() == "new"
    w.query("UPDATE bot_users SET spent = 5 WHERE bot_id = %s", (bot.id,))
    assert tier() == "regular"
    w.query("UPDATE bot_users SET spent = 10 WHERE bot_id = %s", (bot.id,))
    assert tier() == "vip"
    w.post(bot, admin_message(w, "/info", thread))
    w.wait_processed(bot, 2)
    assert "\nTier: VIP\n" in w.replies(bot, chat=ADMIN)[-1][2]["text"]
    # by activity: one message is not Regular yet
    w.query("UPDATE bots SET settings = settings || '{\"tier_by\": \"messages\"}' WHERE id = %s",
            (bot.id,))
    assert tier() == "new"


def test_campaign_audience_by_tier(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(tier_regular=5, tier_vip=10)
    w.query("INSERT INTO bot_users (bot_id, user_id, first_name, spent) VALUES"
            " (%s, 1, 'a', 0), (%s, 2, 'b', 7), (%s, 3, 'c', 50)", (bot.id, bot.id, bot.id))

    def reached(tiers):
        return [r[0] for r in w.query(
            "SELECT user_id FROM campaign_audience(json_populate_record(NULL::campaigns,"
            " json_build_object('bot_ids', ARRAY[%s::bigint], 'audience', %s::jsonb)))"
            " ORDER BY 1",
            (bot.id, tiers))]
    assert reached('{"tiers": ["vip"]}') == [3]
    assert reached('{"tiers": ["new", "regular"]}') == [1, 2]
    assert reached('{}') == [1, 2, 3]


def test_the_balance_after_each_paid_message(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(admin_chat_id=ADMIN, charge_messages=True, free_credits=10, cost_text=2,
                    balance_after_message=True, low_balance=5)
    w.webhookd()
    w.post(bot, w.message("/start"))
    for text in ("one", "two", "three"):
        w.post(bot, w.message(text))
    w.wait_processed(bot, 4)
    texts = [r[2]["text"] for r in w.replies(bot, chat=USER)][1:]
    assert texts == ["Charged 2 credits. Balance: 8 credits.",
                     "Charged 2 credits. Balance: 6 credits.",
                     "⚠️ Your balance is low: 4 credits left. /buy to top up."]
    off = w.new_bot(admin_chat_id=ADMIN, charge_messages=True, free_credits=10)
    w.post(off, w.message("/start"))
    w.post(off, w.message("one"))
    w.wait_processed(off, 2)
    assert len(w.replies(off, chat=USER)) == 1  # the welcome only


def test_docs_tiers_table_matches_the_defaults(tgm_env):
    """docs/tiers.md's table copies common/botset.c's defaults"""
    rows = dict(tgm_env.query("SELECT key, value #>> '{}' FROM bot_setting_defaults"))
    doc = (REPO / "docs" / "tiers.md").read_text()
    table = dict(re.findall(r"^\| `(tier_[a-z]+)` \| `([^`]+)` \|", doc, re.M))
    assert table == {k: v for k, v in rows.items() if k.startswith("tier_")}


def press(w, bot, data, mid=77, user=USER):
    """a button pressed under the bot's message mid in the user's chat"""
    upd = w.update("callback_query", id=f"cb{next(w._update_ids)}", data=data,
                   chat_instance="1", **{"from": {"id": user, "is_bot": False,
                                                  "first_name": "Ada"}},
                   message={"message_id": mid, "date": 1,
                            "chat": {"id": user, "type": "private"}})
    assert w.post(bot, upd).status_code == 200


def test_the_tutorial_edits_one_message_and_grants_its_bonus_once(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(free_credits=3, tutorial=True, tutorial_bonus=5)
    w.webhookd()
    w.post(bot, w.message("/start"))
    w.wait_processed(bot, 1)
    welcome, offer = w.replies(bot, chat=USER)
    assert "3 free credits" in welcome[2]["text"]
    assert offer[2]["text"] == "Want a short tour? Three steps, and 5 credits at the end."
    assert [b["callback_data"] for b in offer[2]["reply_markup"]["inline_keyboard"][0]] == \
        ["tut:1", "tut:skip"]
    for n, data in enumerate(["tut:1", "tut:2", "tut:3", "tut:done", "tut:done"], start=2):
        press(w, bot, data)
        w.wait_processed(bot, n)
    edits = [r for r in w.replies(bot, chat=USER) if r[1] == "editMessageText"]
    assert [e[2]["message_id"] for e in edits] == [77] * 5  # one message, edited in place
    assert edits[0][2]["text"].startswith("1/3 · ")
    assert edits[0][2]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "tut:2"
    assert edits[2][2]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "tut:done"
    assert edits[3][2]["text"] == "🎉 That's all! You got 5 credits."
    assert "reply_markup" not in edits[3][2]
    assert edits[4][2]["text"] == "🎉 That's all! Write whenever you like."  # no bonus again
    assert w.query("SELECT key, kind, credits FROM ledger WHERE bot_id = %s ORDER BY id",
                   (bot.id,)) == [("free:42", "free", 3), ("tutorial:42", "gift", 5)]
    # a second /start offers nothing; a crafted button is answered and does nothing more
    w.post(bot, w.message("/start"))
    press(w, bot, "tut:9")
    w.wait_processed(bot, 8)
    assert len([r for r in w.replies(bot, chat=USER) if "tour" in r[2].get("text", "")]) == 1
    assert len(w.tg.calls(token=bot.token, method="answerCallbackQuery")) >= 6


def test_no_tutorial_unless_the_bot_has_it(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(free_credits=3)
    w.webhookd()
    w.post(bot, w.message("/start"))
    press(w, bot, "tut:skip")
    w.wait_processed(bot, 2)
    replies = w.replies(bot, chat=USER)
    assert len([r for r in replies if r[1] == "sendMessage"]) == 1
    assert replies[-1][2]["text"] == "OK! /help lists the commands."  # pressed anyway


def test_welcome_back_after_days_away_or_after_blocking(tgm_env, tg):
    w = World(tgm_env, tg)
    bot = w.new_bot(free_credits=3, welcome_back_days=30)
    w.webhookd()
    w.post(bot, w.message("/start"))
    w.post(bot, w.message("/start"))  # a day later: not away
    w.wait_processed(bot, 2)
    w.query("UPDATE bot_users SET last_seen_at = now() - interval '31 days' WHERE bot_id = %s",
            (bot.id,))
    w.post(bot, w.message("/start"))
    w.wait_processed(bot, 3)
    texts = [r[2]["text"] for r in w.replies(bot, chat=USER)]
    assert texts[1].startswith("Welcome!")
    assert texts[2] == "👋 Welcome back, Ada! Your balance: 3 credits."
    member = {"chat": {"id": USER, "type": "private"}, "date": 1,
              "from": {"id": USER, "is_bot": False, "first_name": "Ada"},
              "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True}},
              "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True}}}
    w.post(bot, w.update("my_chat_member", **member))
    back = dict(member, old_chat_member=member["new_chat_member"],
                new_chat_member=member["old_chat_member"])
    w.post(bot, w.update("my_chat_member", **back))
    w.post(bot, w.message("/start"))
    w.post(bot, w.message("/start"))  # the mark is spent
    w.wait_processed(bot, 7)
    texts = [r[2]["text"] for r in w.replies(bot, chat=USER)]
    assert texts[3] == "👋 Welcome back, Ada! Your balance: 3 credits."
    assert texts[4].startswith("Welcome!")
