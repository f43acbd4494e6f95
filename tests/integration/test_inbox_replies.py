"""The inbox's replies, more of them (issue 16): an Idempotency-Key on a text reply
and on a file reply works as on POST /v1/messages (the same key twice sends once and
answers the same; with another request, or another conversation, a 422); an agent's
file from the browser goes into the user's forum topic too, its caption marked with the
agent's name; closing or reopening from the topic is an event of the timeline (none
when it changes nothing).

Real webhookd, gatewayd and senderd against the fake Telegram.
"""

import pytest
import requests

from api_helpers import problem
from conftest import wait_for
from test_accounts import login, new_account
from test_inbox_api import Inbox
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import ADMIN, admin_message


@pytest.fixture
def w(tgm_env, tg):
    return Inbox(tgm_env, tg).start()


def upload(api, cid, files, data=None, key=None):
    h = {"Authorization": f"Bearer {api.key}"}
    if key:
        h["Idempotency-Key"] = key
    return api.session.post(f"{api.base}/v1/conversations/{cid}/media", headers=h,
                            files=files, data=data or {}, timeout=10)


def test_a_text_reply_with_an_idempotency_key_is_sent_once(w):
    api = w.key()
    bot = w.new_bot()
    w.say(bot, "hello?")
    w.say(bot, "hi", user=43)
    cid = w.conv(api, bot)["id"]
    other = w.conv(api, bot, chat=43)["id"]
    key = {"Idempotency-Key": "reply-1"}
    first = api.post(f"/v1/conversations/{cid}/messages", {"text": "On its way"}, headers=key)
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = api.post(f"/v1/conversations/{cid}/messages", {"text": "On its way"}, headers=key)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert w.one("SELECT count(*) FROM messages WHERE chat = '42'")[0] == 1
    # the same key with another text, or to another conversation: a conflict, nothing sent
    problem(api.post(f"/v1/conversations/{cid}/messages", {"text": "Other"}, headers=key),
            422, "idempotency_conflict", "Idempotency-Key")
    problem(api.post(f"/v1/conversations/{other}/messages", {"text": "On its way"},
                     headers=key), 422, "idempotency_conflict", "Idempotency-Key")
    # the key space is POST /v1/messages's: a key used there conflicts here
    assert api.post("/v1/messages", {"bot_id": bot.id, "chat_id": 42, "text": "app"},
                    headers={"Idempotency-Key": "app-1"}).status_code == 202
    problem(api.post(f"/v1/conversations/{cid}/messages", {"text": "app"},
                     headers={"Idempotency-Key": "app-1"}), 422, "idempotency_conflict")
    # a quick reply counts its use once
    qr = api.post("/v1/quick-replies", {"title": "hi", "text": "Hi {first_name}"}).json()
    for _ in range(2):
        r = api.post(f"/v1/conversations/{cid}/messages", {"quick_reply_id": qr["id"]},
                     headers={"Idempotency-Key": "qr-1"})
        assert r.status_code == 202 and r.json()["text"] == "Hi Ada", r.text
    assert w.one("SELECT uses FROM quick_replies WHERE id = %s", (qr["id"],))[0] == 1
    # another tenant's same key is its own
    problem(w.key("globex").post(f"/v1/conversations/{cid}/messages", {"text": "x"},
                                 headers=key), 404, "conversation_not_found")
    w.senderd()
    wait_for(lambda: len(w.tg.calls(token=bot.token, method="sendMessage")) == 3, 20,
             what="three replies sent")
    assert sorted(c.params["text"] for c in w.tg.calls(token=bot.token, method="sendMessage")) \
        == ["Hi Ada", "On its way", "app"]


def test_a_file_reply_with_an_idempotency_key_is_sent_once(w):
    api = w.key()
    bot = w.new_bot()
    w.say(bot, "invoice?")
    cid = w.conv(api, bot)["id"]
    pdf = b"%PDF-1.4 " + bytes(range(256))
    first = upload(api, cid, {"file": ("a.pdf", pdf, "application/pdf")}, {"caption": "here"},
                   key="file-1")
    assert first.status_code == 202, first.text
    again = upload(api, cid, {"file": ("a.pdf", pdf, "application/pdf")}, {"caption": "here"},
                   key="file-1")
    assert again.status_code == 202 and again.json() == first.json(), again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert w.one("SELECT count(*) FROM botapi_files")[0] == 1
    problem(upload(api, cid, {"file": ("a.pdf", pdf + b"x", "application/pdf")},
                   {"caption": "here"}, key="file-1"), 422, "idempotency_conflict")
    w.senderd()
    wait_for(lambda: w.tg.calls(token=bot.token, method="sendDocument"), 20, what="the file")
    assert len(w.tg.calls(token=bot.token, method="sendDocument")) == 1


def test_a_file_reply_goes_into_the_topic_marked_with_the_agent(w):
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.senderd()
    new_account(w, "agent@example.com", "agent")
    w.say(bot, "photo please")
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    cid = w.conv(api, bot)["id"]
    dash = login(w, "agent@example.com")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    r = requests.post(f"{w.base}/v1/conversations/{cid}/media", timeout=10,
                      headers={"Cookie": f"tgm_session={dash.cookie}", "Origin": w.base},
                      files={"file": ("p.png", png, "image/png")},
                      data={"caption": "<b>your</b> photo"})
    assert r.status_code == 202, r.text
    sent = wait_for(lambda: (lambda c: c if len(c) == 2 else None)(
        w.tg.calls(token=bot.token, method="sendPhoto")), 20, what="the photo twice")
    to_user = next(c for c in sent if int(c.params["chat_id"]) == 42)
    in_topic = next(c for c in sent if int(c.params["chat_id"]) == ADMIN)
    assert to_user.files["photo"] == in_topic.files["photo"] == ("p.png", png)
    assert to_user.params["caption"] == "<b>your</b> photo"
    assert "message_thread_id" not in to_user.params
    assert int(in_topic.params["message_thread_id"]) == thread  # multipart: text
    assert in_topic.params["caption"] == "💬 agent@example.com (inbox):\n<b>your</b> photo"
    # without a caption, with an API key: marked as the API's
    r = upload(api, cid, {"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 202, r.text
    docs = wait_for(lambda: (lambda c: c if len(c) == 2 else None)(
        w.tg.calls(token=bot.token, method="sendDocument")), 20, what="the document twice")
    topic_doc = next(c for c in docs if int(c.params["chat_id"]) == ADMIN)
    assert topic_doc.params["caption"] == "💬 API (inbox)"
    assert "caption" not in next(c for c in docs if int(c.params["chat_id"]) == 42).params
    # the timeline shows the user's copy only
    items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
    assert [i.get("method") for i in items if i["direction"] == "out"] == [
        "sendDocument", "sendPhoto"]


def test_the_topic_copy_speaks_the_bot_language_and_its_own_texts(w):
    """The copy of an agent's reply in the user's topic is said as webhookd says
    everything else there: in the bot's language, the bot's own texts first."""
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.query("UPDATE bots SET settings = settings || '{\"language\": \"ru\", \"texts\":"
            " {\"ru\": {\"inbox_api_agent\": \"\u0411\u043e\u0442\"}}}' WHERE id = %s",
            (bot.id,))
    w.senderd()
    w.say(bot, "hello?")
    cid = w.conv(api, bot)["id"]
    assert api.post(f"/v1/conversations/{cid}/messages", {"text": "<i>hi</i>"}).status_code \
        == 202
    r = upload(api, cid, {"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 202, r.text
    texts = wait_for(lambda: [c.params.get("text") for c in
                              w.tg.calls(token=bot.token, method="sendMessage")
                              if int(c.params["chat_id"]) == ADMIN
                              and "\u0432\u0445\u043e\u0434\u044f\u0449\u0438\u0435"
                              in c.params.get("text", "")], 20, what="the copy in Russian")
    assert texts == ["\U0001F4AC \u0411\u043e\u0442 (\u0432\u0445\u043e\u0434\u044f"
                     "\u0449\u0438\u0435):\n<i>hi</i>"]
    doc = wait_for(lambda: [c for c in w.tg.calls(token=bot.token, method="sendDocument")
                            if int(c.params["chat_id"]) == ADMIN], 20, what="the file copy")
    assert doc[0].params["caption"] == ("\U0001F4AC \u0411\u043e\u0442 (\u0432\u0445"
                                        "\u043e\u0434\u044f\u0449\u0438\u0435)")


def test_closing_and_reopening_in_the_topic_are_timeline_events(w):
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    w.say(bot, "hello?")
    thread = w.one("SELECT thread_id FROM topics WHERE bot_id = %s", (bot.id,))[0]
    cid = w.conv(api, bot)["id"]

    def events():
        items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
        return [i["event"] for i in reversed(items) if i["type"] == "event"]

    w.post(bot, admin_message(w, "/close", thread))
    w.wait_processed(bot, 2)
    w.post(bot, admin_message(w, "/close", thread))  # closed already: no event
    w.wait_processed(bot, 3)
    w.post(bot, admin_message(w, None, thread, forum_topic_reopened={}))
    w.wait_processed(bot, 4)
    w.post(bot, admin_message(w, None, thread, forum_topic_closed={}))
    w.wait_processed(bot, 5)
    w.post(bot, admin_message(w, "/reopen", thread))
    w.wait_processed(bot, 6)
    assert events() == ["joined", "topic_closed", "topic_reopened", "topic_closed",
                        "topic_reopened"]
    item = api.get(f"/v1/conversations/{cid}/timeline").json()["items"][0]
    assert item["account_id"] is None
    # the inbox's own close is an event by the caller, as before
    assert api.patch(f"/v1/conversations/{cid}", {"state": "closed"}).status_code == 200
    assert events()[-1] == "state_closed"
