"""The inbox in step with the forum topics (issue 16): an agent's reply from the inbox
reaches the user and the user's topic (marked with the agent's name); an admin's answer
in the topic shows in the conversation's timeline; closing or reopening in either place
does the same in the other (the inbox queues closeForumTopic/reopenForumTopic; /close,
/reopen and the forum's own service messages close and reopen the conversation).

Real webhookd, gatewayd and senderd against the fake Telegram.
"""

import pytest

from conftest import wait_for
from test_accounts import login, new_account
from test_inbox_api import Inbox
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import ADMIN, admin_message


@pytest.fixture
def w(tgm_env, tg):
    return Inbox(tgm_env, tg).start()


def state(api, cid):
    return api.get(f"/v1/conversations/{cid}").json()["state"]


def test_replies_answers_and_closing_stay_in_step(w):
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.senderd()
    new_account(w, "agent@example.com", "agent")
    w.say(bot, "hello?")
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    cid = w.conv(api, bot)["id"]

    # an agent's reply: to the user, and into the topic with the agent's name
    dash = login(w, "agent@example.com")
    r = dash.post(f"/v1/conversations/{cid}/messages", {"text": "On its way"})
    assert r.status_code == 202, r.text
    to_user = wait_for(lambda: [c for c in w.tg.calls(token=bot.token, method="sendMessage")
                                if c.params.get("chat_id") == 42], 20, what="the reply")
    assert to_user[0].params["text"] == "On its way"
    in_topic = wait_for(lambda: [c for c in w.tg.calls(token=bot.token, method="sendMessage")
                                 if c.params.get("chat_id") == ADMIN
                                 and "On its way" in c.params.get("text", "")], 20,
                        what="the copy in the topic")
    assert in_topic[0].params["message_thread_id"] == thread
    assert in_topic[0].params["text"] == "💬 agent@example.com (inbox):\nOn its way"

    # an admin's answer in the topic: in the timeline, as a response
    w.post(bot, admin_message(w, "Admin here", thread))
    w.wait_processed(bot, 2)
    items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
    assert items[0]["direction"] == "out" and items[0]["source"] == "topic"
    assert api.get(f"/v1/conversations/{cid}/stats").json()["responses"] == 1

    # closed in the inbox: the topic closes
    assert dash.request("PATCH", f"/v1/conversations/{cid}", {"state": "closed"}) \
        .json()["state"] == "closed"
    closes = wait_for(lambda: w.tg.calls(token=bot.token, method="closeForumTopic"), 20,
                      what="closeForumTopic")
    assert closes[0].params["chat_id"] == ADMIN
    assert closes[0].params["message_thread_id"] == thread
    assert w.one("SELECT closed_at IS NOT NULL FROM topics WHERE bot_id = %s", (bot.id,))[0]
    # a change that leaves it closed queues nothing more
    dash.request("PATCH", f"/v1/conversations/{cid}", {"pinned": True})

    # reopened in the topic (/reopen): the conversation opens
    w.post(bot, admin_message(w, "/reopen", thread))
    w.wait_processed(bot, 3)
    assert state(api, cid) == "open"
    # closed in Telegram's own interface: the forum's service message closes it
    w.post(bot, admin_message(w, None, thread, forum_topic_closed={}))
    w.wait_processed(bot, 4)
    assert state(api, cid) == "closed"
    w.post(bot, admin_message(w, None, thread, forum_topic_reopened={}))
    w.wait_processed(bot, 5)
    assert state(api, cid) == "open"
    # reopened in the inbox after /close: reopenForumTopic
    w.post(bot, admin_message(w, "/close", thread))
    w.wait_processed(bot, 6)
    assert state(api, cid) == "closed"
    dash.request("PATCH", f"/v1/conversations/{cid}", {"state": "open"})
    wait_for(lambda: w.tg.calls(token=bot.token, method="reopenForumTopic"), 20,
             what="reopenForumTopic")
    assert len([c for c in w.tg.calls(token=bot.token, method="closeForumTopic")
                if c.params.get("message_thread_id") == thread]) == 2  # inbox, /close


def test_a_reply_without_a_topic_goes_to_the_user_only(w):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    w.say(bot, "hi")
    cid = w.conv(api, bot)["id"]
    assert api.post(f"/v1/conversations/{cid}/messages", {"text": "yes"}).status_code == 202
    wait_for(lambda: w.tg.calls(token=bot.token, method="sendMessage"), 20, what="the reply")
    assert api.patch(f"/v1/conversations/{cid}", {"state": "closed"}).status_code == 200
    assert w.query("SELECT chat FROM messages ORDER BY id") == [("42",)]
