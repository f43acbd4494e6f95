"""The inbox (issue 16, conversations): webhookd writes every update of a private chat
into its conversation's timeline (messages with text, caption, media and the message
they answer, edits in place, blocked and unblocked events), once however often the
update is processed; groups make no conversation.

Updates go through webhookd's real intake (fake Telegram, test_webhookd.World); the
conversations are read from PostgreSQL here, through the API in test_inbox_api.py.
"""

import pytest

from conftest import wait_for
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import World


@pytest.fixture
def w(tgm_env, tg):
    return World(tgm_env, tg)


def items(w, bot, chat=42):
    return w.query(
        "SELECT i.kind, i.telegram_message_id, i.reply_to, i.text, i.media_kind, i.file_id,"
        " i.event, i.edits FROM conversation_items i JOIN conversations c"
        " ON c.id = i.conversation_id WHERE c.bot_id = %s AND c.chat_id = %s ORDER BY i.id",
        (bot.id, chat))


def conversation(w, bot, chat=42):
    rows = w.query("SELECT state, unread, contact, last_text, tenant_id FROM conversations"
                   " WHERE bot_id = %s AND chat_id = %s", (bot.id, chat))
    return rows[0] if rows else None


def member(w, status, user=42):
    return w.update("my_chat_member", chat={"id": user, "type": "private"}, date=1,
                    **{"from": {"id": user, "is_bot": False, "first_name": "Ada"}},
                    old_chat_member={"status": "member", "user": {"id": 1}},
                    new_chat_member={"status": status, "user": {"id": 1}})


def test_messages_media_replies_and_edits_land_in_the_conversation(w):
    bot = w.new_bot()
    w.webhookd()
    first = w.message("hello <b>there</b>")
    mid = first["message"]["message_id"]
    w.post(bot, first)
    w.post(bot, w.message(None, caption="a cat", reply_to_message={"message_id": mid},
                          photo=[{"file_id": "small", "width": 1, "height": 1},
                                 {"file_id": "big", "width": 9, "height": 9}]))
    w.post(bot, w.message(None, voice={"file_id": "v1", "duration": 2}))
    edit = dict(first["message"], text="hello again", edit_date=2)
    w.post(bot, w.update("edited_message", **edit))
    w.wait_processed(bot, 4)
    got = items(w, bot)
    assert got[0][0] == "event" and got[0][6] == "joined"
    assert got[1:] == [
        ("message", mid, None, "hello again", None, None, None, 1),
        ("message", got[2][1], mid, "a cat", "photo", "big", None, 0),
        ("message", got[3][1], None, None, "voice", "v1", None, 0),
    ]
    state, unread, contact, last_text, tenant = conversation(w, bot)
    assert (state, unread, contact, tenant) == ("open", 3, "Ada @ada", w.tenant_id)
    assert last_text is None  # the voice message was the last one


def test_blocked_and_unblocked_are_events(w):
    bot = w.new_bot()
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.post(bot, member(w, "kicked"))
    w.post(bot, member(w, "member"))
    w.wait_processed(bot, 3)
    assert [(k, e) for k, _, _, _, _, _, e, _ in items(w, bot)] == [
        ("event", "joined"), ("message", None), ("event", "blocked"), ("event", "unblocked")]


def test_groups_make_no_conversation(w):
    bot = w.new_bot()
    w.webhookd()
    w.post(bot, w.message("hi all", chat=-100, chat_type="group"))
    w.wait_processed(bot, 1)
    assert w.query("SELECT count(*) FROM conversations")[0][0] == 0


def test_an_update_processed_again_is_recorded_once(w):
    bot = w.new_bot()
    w.webhookd()
    w.post(bot, w.message("once"))
    w.wait_processed(bot, 1)
    seq = w.one("SELECT seq FROM tg_updates WHERE bot_id = %s", (bot.id,))[0]
    # as if webhookd had crashed before wh_finish committed
    w.query("UPDATE tg_updates SET processed_at = NULL, outcome = NULL, claimed_until = NULL"
            " WHERE seq = %s", (seq,))
    w.post(bot, w.message("twice"))
    w.wait_processed(bot, 2)
    assert [i[3] for i in items(w, bot)] == [None, "once", "twice"]
    assert conversation(w, bot)[1] == 2


def test_a_closed_conversation_reopens_on_a_new_message(w):
    bot = w.new_bot()
    w.webhookd()
    w.post(bot, w.message("hi"))
    w.wait_processed(bot, 1)
    w.query("UPDATE conversations SET state = 'closed', unread = 0")
    w.post(bot, w.message("again"))
    w.wait_processed(bot, 2)
    wait_for(lambda: conversation(w, bot)[0] == "open", 5, what="reopened")
    assert conversation(w, bot)[1] == 1
