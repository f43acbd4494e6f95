"""The inbox's API (issue 16, conversations): /v1/conversations with its filters,
search (a whole word, a part of a word, a contact name) and paging; a conversation's
timeline with inbound and outbound messages and their delivery state; state,
assignee, pin, snooze and read; notes; tags; quick replies; a reply through the queue
at high priority that reaches the user; roles (a viewer reads, an agent works) and
tenant isolation on every route.

Real webhookd, gatewayd and senderd against the fake Telegram; updates go through
webhookd's intake like Telegram's.
"""

import csv
import io
import json

import pytest

from api_helpers import Api, problem
from fake_http import Reply
from conftest import wait_for
from test_accounts import login, new_account
from test_events import Stream
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import World


class Inbox(World):
    """webhookd's World plus gatewayd and senderd on the same database, and API keys."""

    def start(self):
        conf = self.conf()
        self.env.conf = conf
        self.webhookd_proc = self.env.daemon("webhookd", conf=conf)
        self.env.daemon("gatewayd", conf=conf)
        self.base = self.env.http()
        return self

    def key(self, tenant="acme", scope="admin"):
        r = self.env.tgmctl("key", "create", "--tenant", tenant, "--create-tenant",
                            "--scope", scope)
        assert r.returncode == 0, r.stderr
        return Api(self, r.stdout.strip())

    def say(self, bot, text, user=42, **extra):
        """a message of user to bot, processed; the message's id"""
        u = self.message(text, user=user, **extra)
        n = len(self.stored(bot))
        assert self.post(bot, u).status_code == 200
        self.wait_processed(bot, n + 1)
        return u["message"]["message_id"]

    def conv(self, api, bot, chat=42):
        r = api.get("/v1/conversations", params={"bot_id": bot.id})
        assert r.status_code == 200, r.text
        return next(c for c in r.json()["conversations"] if c["chat_id"] == chat)


@pytest.fixture
def w(tgm_env, tg):
    return Inbox(tgm_env, tg).start()


def named(w, user, first):
    """a message whose sender has another first name"""
    u = w.message("hello", user=user)
    u["message"]["from"]["first_name"] = first
    u["message"]["from"]["username"] = first.lower()
    return u


def test_list_filters_search_and_paging(w):
    api = w.key()
    bot, other = w.new_bot(), w.new_bot()
    w.say(bot, "my parcel never arrived")
    w.post(bot, named(w, 43, "Grace"))
    w.wait_processed(bot, 2)
    w.say(other, "refund please", user=44)
    r = api.get("/v1/conversations")
    assert r.status_code == 200, r.text
    convs = r.json()["conversations"]
    assert [c["chat_id"] for c in convs] == [44, 43, 42]  # newest activity first
    c = convs[2]
    assert c["contact"]["first_name"] == "Ada" and c["contact"]["username"] == "ada"
    assert (c["state"], c["unread"], c["pinned"], c["assignee_id"]) == ("open", 1, False, None)
    assert c["last_text"] == "my parcel never arrived" and c["tags"] == []
    assert r.json()["next_cursor"] is None

    def ids(**params):
        r = api.get("/v1/conversations", params=params)
        assert r.status_code == 200, r.text
        return [c["chat_id"] for c in r.json()["conversations"]]
    assert ids(bot_id=other.id) == [44]
    assert ids(q="parcel") == [42]          # a whole word
    assert ids(q="arriv") == [42]           # a part of a word
    assert ids(q="PARC") == [42]
    assert ids(q="grace") == [43]           # a contact name
    assert ids(q="100%") == []
    assert ids(unread="false") == []
    assert ids(state="closed") == []
    page = api.get("/v1/conversations", params={"limit": 2}).json()
    assert [c["chat_id"] for c in page["conversations"]] == [44, 43]
    rest = api.get("/v1/conversations", params={"limit": 2, "after": page["next_cursor"]})
    assert [c["chat_id"] for c in rest.json()["conversations"]] == [42]
    assert rest.json()["next_cursor"] is None
    for params, field in (({"state": "gone"}, "state"), ({"q": "x"}, "q"),
                          ({"after": "1"}, "after"), ({"since": "yesterday"}, "since"),
                          ({"assignee": "me"}, "assignee"), ({"unread": "yes"}, "unread"),
                          ({"limit": "0"}, "limit")):
        problem(api.get("/v1/conversations", params=params), 422, "invalid_parameter", field)


def test_reply_reaches_the_user_and_the_timeline_shows_it(w):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    mid = w.say(bot, "<b>where</b> is my order?")
    conv = w.conv(api, bot)
    r = api.post(f"/v1/conversations/{conv['id']}/messages",
                 {"text": "On its way!", "reply_to_message_id": mid})
    assert r.status_code == 202, r.text
    out = r.json()["id"]
    row = w.one("SELECT priority, params, metadata->>'source' FROM messages WHERE id = %s",
                (out,))
    assert row[0] == 0 and row[2] == "inbox"
    assert row[1]["reply_parameters"]["message_id"] == mid
    wait_for(lambda: w.tg.calls(token=bot.token, method="sendMessage"), 20,
             what="the reply sent to Telegram")
    call = w.tg.calls(token=bot.token, method="sendMessage")[-1]
    assert call.params["chat_id"] == 42 and call.params["text"] == "On its way!"

    def timeline():
        r = api.get(f"/v1/conversations/{conv['id']}/timeline")
        assert r.status_code == 200, r.text
        return r.json()["items"]
    items = wait_for(lambda: (lambda t: t if t[0].get("status") == "sent" else None)(
        timeline()), 20, what="the reply sent in the timeline")
    assert [(i["type"], i["direction"]) for i in items] == [
        ("message", "out"), ("message", "in"), ("event", None)]
    assert items[0]["text"] == "On its way!" and items[0]["reply_to"] == mid
    assert items[0]["source"] == "inbox"
    assert items[1]["text"] == "<b>where</b> is my order?"
    assert items[2]["event"] == "joined"
    # an app's message to the chat through the API shows too
    assert api.post("/v1/messages", {"bot_id": bot.id, "chat_id": 42,
                                     "text": "from the app"}).status_code == 202
    assert timeline()[0]["text"] == "from the app"
    page = api.get(f"/v1/conversations/{conv['id']}/timeline", params={"limit": 2}).json()
    older = api.get(f"/v1/conversations/{conv['id']}/timeline",
                    params={"limit": 2, "after": page["next_cursor"]}).json()
    assert [i["text"] for i in page["items"] + older["items"]] == [
        "from the app", "On its way!", "<b>where</b> is my order?", None]
    assert w.conv(api, bot)["unread"] == 0  # a reply reads the conversation


def test_state_assignee_pin_snooze_read_and_notes(w):
    api = w.key()
    bot = w.new_bot()
    agent = new_account(w, "agent@example.com", "agent")
    viewer = new_account(w, "viewer@example.com", "viewer")
    w.say(bot, "hi")
    cid = w.conv(api, bot)["id"]
    path = f"/v1/conversations/{cid}"
    r = api.patch(path, {"state": "pending", "assignee_id": agent, "pinned": True})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["assignee_id"], r.json()["pinned"]) == (
        "pending", agent, True)
    problem(api.patch(path, {"assignee_id": viewer + 1000}), 422, "invalid_field",
            "assignee_id")
    problem(api.patch(path, {"state": "snoozed"}), 422, "invalid_field", "snoozed_until")
    problem(api.patch(path, {"state": "done"}), 422, "invalid_field", "state")
    problem(api.patch(path, {"colour": "red"}), 422, "unknown_field", "colour")
    r = api.patch(path, {"state": "snoozed", "snoozed_until": "2099-01-01T00:00:00Z"})
    assert r.json()["state"] == "snoozed" and r.json()["snoozed_until"].startswith("2099")
    r = api.get("/v1/conversations", params={"assignee": agent, "state": "snoozed",
                                             "pinned": "true", "unread": "true"})
    assert [c["id"] for c in r.json()["conversations"]] == [cid]
    assert api.get("/v1/conversations", params={"assignee": "none"}).json()[
        "conversations"] == []
    r = api.post(f"{path}/read")
    assert r.status_code == 200 and r.json()["unread"] == 0
    # an agent's session works it; a note carries the agent
    dash = login(w, "agent@example.com")
    r = dash.post(f"{path}/notes", {"text": "VIP customer"})
    assert r.status_code == 201, r.text
    assert (r.json()["type"], r.json()["account_email"]) == ("note", "agent@example.com")
    assert dash.request("PATCH", path, {"state": "closed"}).json()["state"] == "closed"
    assert [c["id"] for c in dash.get("/v1/conversations?assignee=me")
            .json()["conversations"]] == [cid]
    events = [(i["event"], i["account_email"]) for i in
              dash.get(f"{path}/timeline").json()["items"] if i["type"] == "event"]
    assert events == [("state_closed", "agent@example.com"), ("state_snoozed", None),
                      ("assigned", None), ("state_pending", None), ("joined", None)]
    r = dash.get("/v1/agents")
    assert [a["email"] for a in r.json()["agents"]] == ["agent@example.com"]
    # a viewer reads, and is refused work
    view = login(w, "viewer@example.com")
    assert view.get(path).status_code == 200
    assert view.get(f"{path}/timeline").status_code == 200
    for method, sub, body in (("PATCH", "", {"state": "open"}), ("POST", "/read", None),
                              ("POST", "/notes", {"text": "x"}),
                              ("POST", "/messages", {"text": "x"}),
                              ("POST", "/tags", {"tag_id": 1})):
        problem(view.request(method, path + sub, body), 403, "forbidden")


def test_tags_and_quick_replies(w):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    w.say(bot, "hi")
    cid = w.conv(api, bot)["id"]
    r = api.post("/v1/tags", {"name": "VIP", "color": "#FF0000"})
    assert r.status_code == 201, r.text
    vip = r.json()
    assert vip["color"] == "#ff0000"
    problem(api.post("/v1/tags", {"name": "vip"}), 409, "tag_exists", "name")
    problem(api.post("/v1/tags", {"name": "x", "color": "red"}), 422, "invalid_field", "color")
    late = api.post("/v1/tags", {"name": "late"}).json()
    assert api.patch(f"/v1/tags/{late['id']}", {"color": "#00aa00"}).json()["color"] == "#00aa00"
    r = api.post(f"/v1/conversations/{cid}/tags", {"tag_id": vip["id"]})
    assert r.status_code == 200 and [t["name"] for t in r.json()["tags"]] == ["VIP"]
    r = api.post(f"/v1/conversations/{cid}/tags", {"tag_id": late["id"]})
    assert [t["name"] for t in r.json()["tags"]] == ["late", "VIP"]
    r = api.get("/v1/conversations", params={"tag_id": late["id"]})
    assert [c["id"] for c in r.json()["conversations"]] == [cid]
    r = api.delete(f"/v1/conversations/{cid}/tags/{late['id']}")
    assert [t["name"] for t in r.json()["tags"]] == ["VIP"]
    assert api.delete(f"/v1/tags/{vip['id']}").status_code == 200
    assert api.get(f"/v1/conversations/{cid}").json()["tags"] == []
    assert [t["name"] for t in api.get("/v1/tags").json()["tags"]] == ["late"]

    r = api.post("/v1/quick-replies", {"category": "greetings", "title": "Hello",
                                       "text": "Hello {first_name} (@{username}), {x}!"})
    assert r.status_code == 201, r.text
    qr = r.json()
    problem(api.post("/v1/quick-replies", {"title": "no text"}), 422, "invalid_field", "text")
    r = api.post(f"/v1/conversations/{cid}/messages", {"quick_reply_id": qr["id"]})
    assert r.status_code == 202, r.text
    assert r.json()["text"] == "Hello Ada (@ada), {x}!"
    problem(api.post(f"/v1/conversations/{cid}/messages", {}), 422, "invalid_field", "text")
    problem(api.post(f"/v1/conversations/{cid}/messages", {"quick_reply_id": 999999}),
            422, "invalid_field", "quick_reply_id")
    r = api.get("/v1/quick-replies", params={"category": "greetings"})
    assert [(q["title"], q["uses"]) for q in r.json()["quick_replies"]] == [("Hello", 1)]
    assert api.patch(f"/v1/quick-replies/{qr['id']}", {"title": "Hi"}).json()["title"] == "Hi"
    assert api.delete(f"/v1/quick-replies/{qr['id']}").status_code == 200
    problem(api.delete(f"/v1/quick-replies/{qr['id']}"), 404, "quick_reply_not_found")


def test_another_tenants_ids_are_404_and_its_data_unseen(w):
    api = w.key()
    bot = w.new_bot()
    w.say(bot, "secret words")
    cid = w.conv(api, bot)["id"]
    tag = api.post("/v1/tags", {"name": "mine"}).json()["id"]
    qr = api.post("/v1/quick-replies", {"title": "t", "text": "x"}).json()["id"]
    them = w.key("globex")
    assert them.get("/v1/conversations").json()["conversations"] == []
    assert them.get("/v1/conversations", params={"q": "secret"}).json()["conversations"] == []
    assert them.get("/v1/tags").json()["tags"] == []
    assert them.get("/v1/quick-replies").json()["quick_replies"] == []
    c = f"/v1/conversations/{cid}"
    for method, path, body, slug in (
            ("GET", c, None, "conversation_not_found"),
            ("PATCH", c, {"pinned": True}, "conversation_not_found"),
            ("POST", c + "/read", None, "conversation_not_found"),
            ("GET", c + "/timeline", None, "conversation_not_found"),
            ("POST", c + "/notes", {"text": "x"}, "conversation_not_found"),
            ("POST", c + "/messages", {"text": "x"}, "conversation_not_found"),
            ("POST", c + "/tags", {"tag_id": tag}, "conversation_not_found"),
            ("DELETE", f"{c}/tags/{tag}", None, "conversation_not_found"),
            ("PATCH", f"/v1/tags/{tag}", {"name": "theirs"}, "tag_not_found"),
            ("DELETE", f"/v1/tags/{tag}", None, "tag_not_found"),
            ("PATCH", f"/v1/quick-replies/{qr}", {"title": "x"}, "quick_reply_not_found"),
            ("DELETE", f"/v1/quick-replies/{qr}", None, "quick_reply_not_found")):
        problem(them.request(method, path, body), 404, slug)
    # the tenant-wide reads see nothing of ours
    new_account(w, "agent@example.com", "agent")
    assert api.post(f"{c}/messages", {"text": "ours"}).status_code == 202
    assert [a["email"] for a in api.get("/v1/agents").json()["agents"]] == ["agent@example.com"]
    assert them.get("/v1/agents").json()["agents"] == []
    assert len(api.get("/v1/stats/agents").json()["agents"]) == 1
    assert them.get("/v1/stats/agents").json()["agents"] == []
    assert them.get("/v1/exports/conversation-messages.csv").text.count("\n") == 1
    assert them.get("/v1/exports/contacts.csv").text.count("\n") == 1
    # their tag on our conversation, our tag on theirs
    theirs = them.post("/v1/tags", {"name": "theirs"}).json()["id"]
    problem(api.post(c + "/tags", {"tag_id": theirs}), 404, "tag_not_found")
    assert w.query("SELECT count(*) FROM messages")[0][0] == 1  # ours only
    assert api.get(c).json()["tags"] == []


def test_search_gives_the_same_rows_for_common_and_rare_words(w):
    """Past a thousand conversations, a search checks the newest ones one by one (250,
    then 1,000 when those held a quarter of a page) and falls back to the indexes when
    they hold too few matches: all ways page alike."""
    api = w.key()
    bot = w.new_bot()
    w.query("INSERT INTO conversations (tenant_id, bot_id, chat_id, last_activity_at)"
            " SELECT %s, %s, g, now() - g * interval '1 minute'"
            " FROM generate_series(1, 1500) g", (w.tenant_id, bot.id))
    w.query("INSERT INTO conversation_items (conversation_id, tenant_id, kind, text)"
            " SELECT id, tenant_id, 'message', 'common words here'"
            " || CASE WHEN chat_id % 300 = 7 THEN ' rarething' ELSE '' END"
            " || CASE WHEN chat_id % 10 = 3 THEN ' medthing' ELSE '' END"
            " FROM conversations")

    def chats(q, limit):
        out, after = [], None
        while True:
            params = {"q": q, "limit": limit, **({"after": after} if after else {})}
            r = api.get("/v1/conversations", params=params)
            assert r.status_code == 200, r.text
            out += [c["chat_id"] for c in r.json()["conversations"]]
            after = r.json()["next_cursor"]
            if after is None:
                return out
    assert chats("rarething", 2) == [7, 307, 607, 907, 1207]   # the indexes
    assert chats("arethin", 50) == [7, 307, 607, 907, 1207]    # a part of a word
    assert chats("medthing", 50) == list(range(3, 1501, 10))   # the long walk
    common = chats("common words", 200)                        # one by one
    assert common == list(range(1, 1501))


def test_response_times_per_conversation_and_per_agent(w):
    """Responses are people's messages (inbox replies, topic answers) after unanswered
    messages of the user; an app's message is no response; times from the first
    unanswered message."""
    api = w.key()
    bot = w.new_bot()
    agent = new_account(w, "agent@example.com", "agent")
    cid = w.one("INSERT INTO conversations (tenant_id, bot_id, chat_id) VALUES (%s, %s, 42)"
                " RETURNING id", (w.tenant_id, bot.id))[0]
    t0 = "2026-01-01T10:00:00Z"
    for secs in (0, 10, 100):
        w.query("INSERT INTO conversation_items (conversation_id, tenant_id, kind, text, at)"
                " VALUES (%s, %s, 'message', 'q', %s::timestamptz + %s * interval '1 s')",
                (cid, w.tenant_id, t0, secs))
    for secs, meta in ((60, {"source": "inbox", "account": agent}), (110, None),
                       (130, {"source": "webhookd", "bridge": "user"}),
                       (200, {"source": "inbox", "account": agent})):
        w.query("INSERT INTO messages (tenant_id, bot_id, chat, params, metadata, created_at)"
                " VALUES (%s, %s, '42', '{}', %s, %s::timestamptz + %s * interval '1 s')",
                (w.tenant_id, bot.id, json.dumps(meta) if meta else None, t0, secs))
    r = api.get(f"/v1/conversations/{cid}/stats")
    assert r.status_code == 200, r.text
    assert r.json() == {"conversation_id": cid, "messages_in": 3, "messages_out": 4,
                        "responses": 2, "first_response_seconds": 60,
                        "average_response_seconds": 45}
    w.query("UPDATE conversations SET last_activity_at = '2026-01-01T10:05:00Z'")
    r = api.get("/v1/stats/agents", params={"from": "2026-01-01T00:00:00Z",
                                            "to": "2026-01-02T00:00:00Z"})
    assert r.status_code == 200, r.text
    got = {a["email"]: (a["responses"], a["conversations"], a["average_response_seconds"],
                        a["first_responses"]) for a in r.json()["agents"]}
    assert got == {"agent@example.com": (1, 1, 60, 1), None: (1, 1, 30, 0)}
    problem(api.get("/v1/stats/agents", params={"from": "soon"}), 422, "invalid_parameter",
            "from")
    problem(w.key("globex").get(f"/v1/conversations/{cid}/stats"), 404,
            "conversation_not_found")


def test_contacts_and_message_history_export_as_csv(w):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    u = w.message("=1+1, \"quoted\"")
    u["message"]["from"]["first_name"] = "=HYPERLINK()"
    assert w.post(bot, u).status_code == 200
    w.wait_processed(bot, 1)
    conv = w.conv(api, bot)
    vip = api.post("/v1/tags", {"name": "VIP"}).json()
    api.post(f"/v1/conversations/{conv['id']}/tags", {"tag_id": vip["id"]})
    assert api.post(f"/v1/conversations/{conv['id']}/messages",
                    {"text": "answer"}).status_code == 202
    # more than a batch of conversations, made in SQL
    w.query("INSERT INTO conversations (tenant_id, bot_id, chat_id)"
            " SELECT %s, %s, 1000 + g FROM generate_series(1, 1200) g", (w.tenant_id, bot.id))
    r = api.get("/v1/exports/contacts.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:4] == ["conversation_id", "bot_id", "user_id", "first_name"]
    assert len(rows) == 1 + 1201
    assert rows[1][2:9] == ["42", "'=HYPERLINK()", "", "ada", "open", "", "VIP"]
    tagged = api.get("/v1/exports/contacts.csv", params={"tag_id": vip["id"]}).text
    assert len(list(csv.reader(io.StringIO(tagged)))) == 2
    r = api.get("/v1/exports/conversation-messages.csv",
                params={"since": "2020-01-01T00:00:00Z"})
    rows = list(csv.reader(io.StringIO(r.text)))
    assert [(x[0], x[5]) for x in rows[1:]] == [("in", "'=1+1, \"quoted\""), ("out", "answer")]
    assert api.get("/v1/exports/conversation-messages.csv",
                   params={"until": "2020-01-01T00:00:00Z"}).text.count("\n") == 1
    problem(api.get("/v1/exports/conversation-messages.csv", params={"since": "x"}), 422,
            "invalid_parameter", "since")
    assert w.key("globex").get("/v1/exports/contacts.csv").text.count("\n") == 1


def test_a_new_message_is_a_conversation_event_of_its_tenant_only(w):
    api = w.key()
    bot = w.new_bot()
    w.say(bot, "first")
    cid = w.conv(api, bot)["id"]
    ours = Stream(w.base + "/v1/events", {"Authorization": f"Bearer {api.key}"})
    theirs = Stream(w.base + "/v1/events", {"Authorization": f"Bearer {w.key('globex').key}"})
    try:
        assert ours.status == 200 and theirs.status == 200
        ours.next(lambda e: e.get("event") == "daemons", what="the stream up")
        theirs.next(lambda e: e.get("event") == "daemons", what="the stream up")
        w.say(bot, "second")
        ev = ours.next(lambda e: e.get("event") == "conversation", what="a conversation event")
        assert ev["json"]["conversation_id"] == cid
        item = w.one("SELECT max(id) FROM conversation_items")[0]
        assert ev["json"]["item_id"] == item
        # the other tenant's stream goes on (heartbeats change) without it
        for _ in range(2):
            e = theirs.next(lambda e: e.get("event") in ("daemons", "conversation"))
            assert e["event"] == "daemons", e
    finally:
        ours.close()
        theirs.close()


def test_a_users_photo_is_streamed_from_telegram_for_the_tenant_only(w):
    api = w.key()
    bot = w.new_bot()
    w.say(bot, None, caption="look", photo=[{"file_id": "AgAD-small", "width": 1, "height": 1},
                                            {"file_id": "AgAD-big", "width": 9, "height": 9}])
    w.say(bot, "no file here")
    cid = w.conv(api, bot)["id"]
    items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
    photo = next(i for i in items if i.get("media_kind") == "photo")
    plain = next(i for i in items if i.get("text") == "no file here")
    data = bytes(range(256)) * 40
    w.tg.rule("file", Reply.tg_ok({"file_id": "AgAD-big", "file_unique_id": "u",
                                   "file_path": "photos/file_7.jpg"}),
              token=bot.token, method="getFile")
    w.tg.add_file(bot.token, "photos/file_7.jpg", data)
    r = api.get(f"/v1/conversations/{cid}/items/{photo['id']}/media")
    assert r.status_code == 200, r.text
    assert r.content == data
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    call = w.tg.calls(token=bot.token, method="getFile")[-1]
    assert call.request.query["file_id"] == ["AgAD-big"]  # the biggest size
    problem(api.get(f"/v1/conversations/{cid}/items/{plain['id']}/media"), 404,
            "media_not_found")
    problem(w.key("globex").get(f"/v1/conversations/{cid}/items/{photo['id']}/media"), 404,
            "media_not_found")
    # the file is cached now (test_inbox_media.py); without it, Telegram's error is a 502
    wait_for(lambda: w.query("SELECT 1 FROM media_cache"), 10, what="the file cached")
    w.query("DELETE FROM media_cache")
    w.tg.clear_rules()
    w.tg.rule("gone", Reply.tg_error(400, "Bad Request: wrong file_id"), method="getFile")
    problem(api.get(f"/v1/conversations/{cid}/items/{photo['id']}/media"), 502,
            "telegram_unreachable")


def test_a_file_from_the_browser_is_sent_as_an_upload(w):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    mid = w.say(bot, "send me the invoice")
    cid = w.conv(api, bot)["id"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    r = api.session.post(f"{w.base}/v1/conversations/{cid}/media",
                         headers={"Authorization": f"Bearer {api.key}"}, timeout=10,
                         files={"file": ("invoice.png", png, "image/png")},
                         data={"caption": "Here <b>it</b> is", "reply_to_message_id": str(mid)})
    assert r.status_code == 202, r.text
    assert r.json()["method"] == "sendPhoto"
    sent = wait_for(lambda: w.tg.calls(token=bot.token, method="sendPhoto"), 20,
                    what="the upload sent")
    assert sent[0].files["photo"] == ("invoice.png", png)
    assert sent[0].params["caption"] == "Here <b>it</b> is"
    items = api.get(f"/v1/conversations/{cid}/timeline").json()["items"]
    assert (items[0]["method"], items[0]["text"], items[0]["reply_to"]) == (
        "sendPhoto", "Here <b>it</b> is", mid)
    doc = api.session.post(f"{w.base}/v1/conversations/{cid}/media", timeout=10,
                           headers={"Authorization": f"Bearer {api.key}"},
                           files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert doc.json()["method"] == "sendDocument"
    problem(api.post(f"/v1/conversations/{cid}/media", {"text": "no file"}), 415,
            "unsupported_media_type")
    problem(api.session.post(f"{w.base}/v1/conversations/{cid}/media", timeout=10,
                             headers={"Authorization": f"Bearer {api.key}"},
                             data={"caption": "x"}, files={"other": ("x", b"x")}),
            422, "invalid_field", "file")
    problem(w.key("globex").session.post(
        f"{w.base}/v1/conversations/{cid}/media", timeout=10,
        headers={"Authorization": f"Bearer {w.key('globex').key}"},
        files={"file": ("a.pdf", b"%PDF", "application/pdf")}), 404, "conversation_not_found")
