"""gatewayd accepting messages: POST /v1/messages (202 only after COMMIT), validation
by Telegram's rules (validate.c), media types and bodies, the choice of bot, and
Idempotency-Key (also under concurrent duplicates).
"""

import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import REPO, c_string, plan_nodes, wait_for
from fake_telegram import FakeTelegram
from api_helpers import (World, api, choices, events_of, message_row, msg,  # noqa: F401
                         mworld, parallel, problem, wait_load_read, world)

EMOJI = "\U0001F600"  # 4 bytes in UTF-8, 2 UTF-16 code units


@pytest.fixture(scope="module")
def macme(mworld):
    """(admin Api of tenant "acme", its bot) on the module's shared gatewayd."""
    admin = mworld.shared_api("acme")
    return admin, admin.new_bot()


# ------------------------------------------------------------ accept

def test_accept_commits_before_202(world, api):
    bot = api.new_bot()
    conn = world.env.connect()  # one connection, opened before: no caching between reads
    try:
        for i in range(30):
            r = api.send(msg(chat_id=1000 + i, text=f"hello {i}", bot_id=bot["id"]))
            with conn.cursor() as cur:  # right when the 202 is read
                cur.execute("SELECT m.status, m.bot_id, m.chat FROM messages m WHERE m.id = %s",
                            (r.json().get("id"),))
                rows = cur.fetchall()
            assert r.status_code == 202, r.text
            assert rows == [("queued", bot["id"], str(1000 + i))], (i, rows)
    finally:
        conn.close()


def test_accept_answer_and_row(world, api):
    bot = api.new_bot()
    body = {"chat_id": -1001234567890, "text": "<b>hi</b>", "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "1"}]]},
            "disable_notification": True, "protect_content": False, "message_thread_id": 7,
            "bot_id": bot["id"], "priority": "high", "ttl_seconds": 60,
            "callback_url": "https://example.com/hook", "metadata": {"order": 42}}
    r = api.send(body)
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"] == "application/json"
    got = r.json()
    assert set(got) == {"id", "status", "bot_id"}
    assert got["status"] == "queued" and got["bot_id"] == bot["id"]
    assert r.headers["Location"] == f"/v1/messages/{got['id']}"
    assert "Idempotent-Replayed" not in r.headers

    row = message_row(world, got["id"])
    assert row["tenant_id"] == world.tenant_id("acme") and row["bot_id"] == bot["id"]
    assert row["chat"] == "-1001234567890" and row["method"] == "sendMessage"
    assert row["params"] == {"chat_id": -1001234567890, "text": "<b>hi</b>",
                             "parse_mode": "HTML", "reply_markup": body["reply_markup"],
                             "disable_notification": True, "protect_content": False,
                             "message_thread_id": 7}
    assert row["priority"] == 0 and row["status"] == "queued"
    assert row["expires_at"] - row["not_before"] == timedelta(seconds=60)
    assert row["callback_url"] == "https://example.com/hook"
    assert row["metadata"] == {"order": 42} and row["idempotency_key"] is None
    assert abs(row["not_before"] - row["created_at"]) < timedelta(seconds=1)
    assert events_of(api, got["id"]) == [("queued", None)]


def test_accept_after_its_connection_was_lost(world, api):
    """The accept statement is prepared per connection: after the connection is lost,
    the new one prepares it again, and every outcome still comes out right."""
    bot = api.new_bot()
    theirs = world.api("globex").new_bot()
    assert api.send_ok(msg(bot_id=bot["id"], text="before"))["status"] == "queued"
    env = world.env
    start = len(world.daemon.log())
    killed = env.pg.query("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = %s AND application_name = 'gatewayd-accept'",
                          (env.db,))
    assert killed, "no accept connection found"
    deadline = time.monotonic() + 10
    while True:  # 503 while the connection is remade
        r = api.send(msg(bot_id=bot["id"], text="after"))
        if r.status_code == 202 or time.monotonic() > deadline:
            break
        assert r.status_code == 503, r.text
        time.sleep(0.1)
    assert r.status_code == 202, r.text
    r = api.post("/v1/messages/batch", {"messages": [
        msg(bot_id=bot["id"], text="one"), msg(bot_id=theirs["id"], text="foreign"),
        msg(bot_id=bot["id"], text="two")]})
    assert [x["code"] for x in r.json()["results"]] == [202, 404, 202], r.text
    log = world.daemon.log()[start:]
    assert "database connection lost" in log and "PREPARE" not in log
    texts = [t for (t,) in world.query("SELECT params->>'text' FROM messages ORDER BY id")]
    assert texts == ["before", "after", "one", "two"]


def test_accept_media_channel_and_schedule(world, api):
    bot = api.new_bot()
    r = api.send({"chat_id": "@My_Channel", "photo": "https://example.com/a.jpg",
                  "caption": "c" * 1024, "bot_id": bot["id"], "priority": "bulk",
                  "send_at": 2000000000})
    assert r.status_code == 202, r.text
    row = message_row(world, r.json()["id"])
    assert row["method"] == "sendPhoto" and row["chat"] == "@my_channel"
    assert row["params"] == {"chat_id": "@My_Channel", "photo": "https://example.com/a.jpg",
                             "caption": "c" * 1024}
    assert row["priority"] == 2
    assert row["not_before"] == datetime.fromtimestamp(2000000000, timezone.utc)
    assert row["expires_at"] is None

    r = api.send({"chat_id": "42", "document": "BQACAgIAAxkBAAIB", "bot_id": bot["id"],
                  "send_at": "2030-02-28T23:30:00+02:00", "ttl_seconds": 2592000,
                  "priority": "normal"})
    assert r.status_code == 202, r.text
    row = message_row(world, r.json()["id"])
    assert row["method"] == "sendDocument" and row["chat"] == "42"
    assert row["params"] == {"chat_id": 42, "document": "BQACAgIAAxkBAAIB"}
    assert row["not_before"] == datetime(2030, 2, 28, 21, 30, tzinfo=timezone.utc)
    assert row["expires_at"] == row["not_before"] + timedelta(days=30)
    assert row["priority"] == 1


# ------------------------------------------------------------ validation

TOO_LONG = "a" * 4097
# (changes to a good message, field) -> 422 invalid_field naming the field
INVALID = [
    ({"chat_id": None}, "chat_id"),
    ({"chat_id": 0}, "chat_id"),
    ({"chat_id": 2 ** 53}, "chat_id"),
    ({"chat_id": -(2 ** 53)}, "chat_id"),
    ({"chat_id": 2 ** 63}, "chat_id"),
    ({"chat_id": 1.5}, "chat_id"),
    ({"chat_id": True}, "chat_id"),
    ({"chat_id": [1]}, "chat_id"),
    ({"chat_id": "abc"}, "chat_id"),
    ({"chat_id": "12x"}, "chat_id"),
    ({"chat_id": " 12"}, "chat_id"),
    ({"chat_id": "@abc"}, "chat_id"),
    ({"chat_id": "@" + "a" * 33}, "chat_id"),
    ({"chat_id": "@bad-name"}, "chat_id"),
    ({"chat_id": "9007199254740992"}, "chat_id"),
    ({"text": ""}, "text"),
    ({"text": " \n\t "}, "text"),
    ({"text": TOO_LONG}, "text"),
    ({"text": EMOJI * 2048 + "a"}, "text"),
    ({"text": "é" * 4097}, "text"),
    ({"text": 5}, "text"),
    ({"text": None}, "text"),
    ({"photo": "https://example.com/a.jpg"}, "photo"),
    ({"caption": "c"}, "caption"),
    ({"text": None, "photo": "p", "caption": "c" * 1025}, "caption"),
    ({"text": None, "photo": "p", "caption": EMOJI * 512 + "c"}, "caption"),
    ({"text": None, "document": "d", "caption": 7}, "caption"),
    ({"text": None, "photo": ""}, "photo"),
    ({"text": None, "photo": "http://"}, "photo"),
    ({"text": None, "photo": "httpx://example.com/a.jpg"}, "photo"),
    ({"text": None, "document": "https://"}, "document"),
    ({"text": None, "document": "https://e.com/" + "a" * 2048}, "document"),
    ({"parse_mode": "markdown"}, "parse_mode"),
    ({"parse_mode": "HTML5"}, "parse_mode"),
    ({"parse_mode": 1}, "parse_mode"),
    ({"reply_markup": "[]"}, "reply_markup"),
    ({"reply_markup": [1]}, "reply_markup"),
    ({"disable_notification": "yes"}, "disable_notification"),
    ({"protect_content": 1}, "protect_content"),
    ({"message_thread_id": 0}, "message_thread_id"),
    ({"message_thread_id": "5"}, "message_thread_id"),
    ({"message_thread_id": 2 ** 31}, "message_thread_id"),
    ({"priority": "urgent"}, "priority"),
    ({"priority": 0}, "priority"),
    ({"send_at": "2026-02-30T10:00:00Z"}, "send_at"),
    ({"send_at": "2027-02-29T10:00:00Z"}, "send_at"),
    ({"send_at": "2026-13-01T00:00:00Z"}, "send_at"),
    ({"send_at": "2026-04-31T00:00:00Z"}, "send_at"),
    ({"send_at": "2026-01-01T24:00:00Z"}, "send_at"),
    ({"send_at": "2026-01-01T12:60:00Z"}, "send_at"),
    ({"send_at": "2026-01-01T12:00:60Z"}, "send_at"),
    ({"send_at": "2026-01-01T12:00:00"}, "send_at"),
    ({"send_at": "2026-01-01T12:00:00+25:00"}, "send_at"),
    ({"send_at": "2026-01-01T12:00:00Zjunk"}, "send_at"),
    ({"send_at": "2026-01-01"}, "send_at"),
    ({"send_at": "1969-12-31T23:59:59Z"}, "send_at"),
    ({"send_at": "tomorrow"}, "send_at"),
    ({"send_at": ""}, "send_at"),
    ({"send_at": -1}, "send_at"),
    ({"send_at": 253402300800}, "send_at"),
    ({"send_at": 1.5e9}, "send_at"),
    ({"send_at": True}, "send_at"),
    ({"ttl_seconds": 0}, "ttl_seconds"),
    ({"ttl_seconds": -5}, "ttl_seconds"),
    ({"ttl_seconds": 2592001}, "ttl_seconds"),
    ({"ttl_seconds": "60"}, "ttl_seconds"),
    ({"ttl_seconds": 1.5}, "ttl_seconds"),
    ({"callback_url": "ftp://example.com/x"}, "callback_url"),
    ({"callback_url": "example.com/hook"}, "callback_url"),
    ({"callback_url": "https://"}, "callback_url"),
    ({"callback_url": 5}, "callback_url"),
    ({"callback_url": "https://e.com/" + "a" * 2048}, "callback_url"),
    ({"metadata": "x"}, "metadata"),
    ({"metadata": [1, 2]}, "metadata"),
    ({"metadata": {"k": "v" * 4100}}, "metadata"),
    ({"bot_id": 0}, "bot_id"),
    ({"bot_id": -1}, "bot_id"),
    ({"bot_id": "1"}, "bot_id"),
    ({"bot_id": 1.0}, "bot_id"),
    ({"idempotency_key": ""}, "idempotency_key"),
    ({"idempotency_key": "k" * 256}, "idempotency_key"),
    ({"idempotency_key": 5}, "idempotency_key"),
]


def apply(base, changes):
    out = dict(base)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("changes, field", INVALID,
                         ids=[f"{f}-{i}" for i, (_, f) in enumerate(INVALID)])
def test_invalid_field(mworld, macme, changes, field):
    admin, bot = macme
    before = mworld.query("SELECT count(*) FROM messages")[0][0]
    body = apply(msg(bot_id=bot["id"]), changes)
    if "bot_id" in changes:
        body["bot_id"] = changes["bot_id"]
    problem(admin.send(body), 422, "invalid_field", field)
    assert mworld.query("SELECT count(*) FROM messages")[0][0] == before


@pytest.mark.parametrize("extra", ["txt", "chatId", "bot", "token", "Text"])
def test_unknown_field(mworld, macme, extra):
    admin, bot = macme
    body = problem(admin.send({**msg(bot_id=bot["id"]), extra: 1}), 422, "unknown_field",
                   extra)
    assert extra in body["detail"]


VALID = [
    {"chat_id": 2 ** 53 - 1},
    {"chat_id": -(2 ** 53 - 1)},
    {"chat_id": "-1001234567890"},
    {"chat_id": "@abcde"},
    {"chat_id": "@" + "a" * 32},
    {"text": "a" * 4096},
    {"text": EMOJI * 2048},
    {"text": "é" * 4096},
    {"text": "\u4e2d" * 4096},
    {"text": None, "photo": "AgACAgIAAxkBAAI", "caption": EMOJI * 512},
    {"text": None, "document": "http://e.com/f.pdf", "caption": ""},
    {"parse_mode": "MarkdownV2"}, {"parse_mode": "Markdown"},
    {"send_at": "2028-02-29T10:00:00Z"},
    {"send_at": "2026-12-31T23:59:59.123456+05:30"},
    {"send_at": "2026-06-01t08:00:00z"},
    {"send_at": 0},
    {"send_at": 253402300799},
    {"ttl_seconds": 1},
    {"message_thread_id": 2 ** 31 - 1},
    {"metadata": {"k": "v" * 4000}},
    {"reply_markup": None, "metadata": None, "callback_url": None, "send_at": None},
]


@pytest.mark.parametrize("changes", VALID, ids=[str(i) for i in range(len(VALID))])
def test_valid_edges(mworld, macme, changes):
    admin, bot = macme
    r = admin.send(apply(msg(bot_id=bot["id"]), changes))
    assert r.status_code == 202, r.text
    assert message_row(mworld, r.json()["id"])["status"] == "queued"


# Times a validator may let through but PostgreSQL's timestamptz input refuses; each
# must be answered 422 (or accepted, correctly), never reach the commit and fail it.
PG_REFUSES = [
    "2026-+1-+1T+1:+2:+3Z",                       # sscanf's %2d takes signs ...
    "2026- 1- 1T 1: 2: 3Z",                       # ... and leading blanks
    "2026-01-01T00:00:00+-1:00",                  # a sign after the sign
    "2026-01-01T00:00:00." + "0" * 200 + "Z",     # longer than PostgreSQL reads (MAXDATELEN)
    "2026-01-01T00:00:00+16:00",                  # RFC 3339 allows it; PostgreSQL: +-15:59
    "2026-01-01T00:00:00-23:59",
]


@pytest.mark.parametrize("send_at", PG_REFUSES, ids=range(len(PG_REFUSES)))
def test_send_at_postgres_refuses_is_not_503(mworld, macme, send_at):
    admin, bot = macme
    r = admin.send(msg(bot_id=bot["id"], send_at=send_at))
    assert r.status_code in (202, 422), r.text
    if r.status_code == 422:
        problem(r, 422, "invalid_field", "send_at")


@pytest.mark.parametrize("param", ["since", "until"])
@pytest.mark.parametrize("value", PG_REFUSES[3:], ids=range(3))
def test_time_filters_postgres_refuses_are_not_503(mworld, macme, param, value):
    admin, _ = macme
    for path, name in (("/v1/messages", param), ("/v1/stats", {"since": "from",
                                                               "until": "to"}[param])):
        r = admin.get(path, params={name: value})
        assert r.status_code in (200, 422), (path, r.text)
        if r.status_code == 422:
            problem(r, 422, "invalid_parameter", name)


@pytest.mark.parametrize("send_at", PG_REFUSES, ids=range(len(PG_REFUSES)))
def test_one_bad_send_at_does_not_fail_the_others(mworld, macme, send_at):
    """A message PostgreSQL refuses must not take the other messages of the same group
    commit down with it."""
    admin, bot = macme
    r = admin.post("/v1/messages/batch", {"messages": [
        msg(bot_id=bot["id"], text="good"),
        msg(bot_id=bot["id"], send_at=send_at),
    ]})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["code"] == 202, first
    assert second["code"] in (202, 422), second


@pytest.mark.parametrize("where", ["text", "caption", "metadata", "reply_markup key",
                                   "callback_url"])
def test_lone_surrogate_is_refused_not_503(mworld, macme, where):
    """A lone low surrogate (JSON "\\udc00") cannot be UTF-8: refuse the request (400) or
    the item (422); never let it reach the group commit, where PostgreSQL refuses the
    bytes ED B0 80 and every message committed with it fails (503)."""
    api, bot = macme
    bad = {"text": '{"chat_id": 1, "bot_id": %d, "text": "a\\udc00"}',
           "caption": '{"chat_id": 1, "bot_id": %d, "photo": "p", "caption": "a\\udc00"}',
           "metadata": '{"chat_id": 1, "bot_id": %d, "text": "t", "metadata": {"k":'
                       ' "\\udc00"}}',
           "reply_markup key": '{"chat_id": 1, "bot_id": %d, "text": "t", "reply_markup":'
                               ' {"\\udc00": 1}}',
           "callback_url": '{"chat_id": 1, "bot_id": %d, "text": "t", "callback_url":'
                           ' "https://e.com/\\udc00"}'}[where] % bot["id"]
    good = json.dumps(msg(bot_id=bot["id"], text=f"good {where}"))
    r = api.post("/v1/messages", data=bad, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    problem(r, r.status_code)
    r = api.post("/v1/messages/batch", data=f'{{"messages": [{good}, {bad}]}}',
                 headers={"Content-Type": "application/json"})
    if r.status_code == 200:
        assert [x["code"] for x in r.json()["results"]] == [202, 422], r.json()
        want = 1
    else:
        problem(r, 400, "invalid_json")
        want = 0
    assert mworld.query("SELECT count(*) FROM messages WHERE params->>'text' = %s",
                        (f"good {where}",)) == [(want,)]


# ------------------------------------------------------------ bodies and media types

def test_media_type_and_json(mworld, macme):
    admin, bot = macme
    good = json.dumps(msg(bot_id=bot["id"]))
    before = mworld.query("SELECT count(*) FROM messages")[0][0]
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                  "application/problem+json", "json", None):
        h = {} if ctype is None else {"Content-Type": ctype}
        if ctype is None:
            r = requests.post(mworld.base + "/v1/messages", data=good.encode(),
                              headers={"Authorization": f"Bearer {admin.key}"}, timeout=10)
        else:
            r = admin.post("/v1/messages", data=good, headers=h)
        problem(r, 415, "unsupported_media_type")
    for text, why in [('{"chat_id": 1, "text": ', None), ("[1, 2]", "object"),
                      ('"text"', "object"), ("42", "object"), ("null", "object"),
                      ('{"chat_id": 1, /* c */ "text": "x"}', "comments"),
                      ('{"chat_id": 1, "text": "x"} {}', None),
                      ('{"a":' * 17 + "1" + "}" * 17, "deeper"),
                      ("{\"chat_id\": 1, \"text\": \"\xff\"}", None)]:
        data = text.encode("latin-1") if "\xff" in text else text
        body = problem(admin.post("/v1/messages", data=data,
                                  headers={"Content-Type": "application/json"}),
                       400, "invalid_json")
        if why:
            assert why in body["detail"], body
    problem(admin.post("/v1/messages", data=""), 400, "invalid_json")
    for ctype in ("application/json; charset=utf-8", "Application/JSON"):
        r = admin.post("/v1/messages", data=good, headers={"Content-Type": ctype})
        assert r.status_code == 202, (ctype, r.text)
    assert mworld.query("SELECT count(*) FROM messages")[0][0] == before + 2


@pytest.fixture
def small_world(tgm_env):
    w = World(tgm_env, {("gatewayd", "max_body"): "2048"})
    yield w
    w.close()


def test_body_over_max_body_is_413(small_world):
    admin = small_world.api("acme")
    bot = admin.new_bot()
    ok = admin.send(msg(bot_id=bot["id"], text="a" * 1800))
    assert ok.status_code == 202, ok.text
    r = admin.send(msg(bot_id=bot["id"], text="a" * 2100))
    assert r.status_code == 413, r.text
    r = admin.post("/v1/messages/batch", {"messages": [msg(bot_id=bot["id"])] * 100})
    assert r.status_code == 413, r.text
    assert small_world.query("SELECT count(*) FROM messages") == [(1,)]
    assert admin.get("/v1/bots").status_code == 200  # still serving


def test_413_is_a_problem_document(small_world):
    """Issue 3: every error is application/problem+json, 413 included (evhttp answers
    its own text/html page before the route is reached)."""
    admin = small_world.api("acme")
    problem(admin.send(msg(text="a" * 3000)), 413)


# ------------------------------------------------------------ bots of other tenants

def test_bot_of_another_tenant_is_404(world, api):
    mine = api.new_bot()
    other = world.api("globex")
    theirs = other.new_bot()
    for path, body in [("/v1/messages", msg(bot_id=theirs["id"])),
                       ("/v1/messages", msg(bot_id=999999)),
                       (f"/api/send/{theirs['id']}", msg()),
                       ("/api/send/999999", msg()),
                       ("/api/send/0", msg()), ("/api/send/abc", msg())]:
        problem(api.post(path, body), 404, "bot_not_found", "bot_id")
    assert world.query("SELECT count(*) FROM messages") == [(0,)]
    assert api.send(msg(bot_id=mine["id"])).status_code == 202


def test_bot_of_another_tenant_with_idempotency_key_is_404(world, api):
    """With an Idempotency-Key the row that did not insert is looked up as a replay;
    none is found and the outcome stays pending -> 503 instead of 404."""
    api.new_bot()
    theirs = world.api("globex").new_bot()
    problem(api.send(msg(bot_id=theirs["id"]), headers={"Idempotency-Key": "k-404"}),
            404, "bot_not_found", "bot_id")


# ------------------------------------------------------------ choosing the bot

def test_bot_choice(world, api):
    # no bot at all
    problem(api.send(msg(chat_id=555)), 422, "no_bot_for_chat", "bot_id")
    a = api.new_bot()
    # one bot: it is chosen for any chat
    r = api.send(msg(chat_id=555))
    assert r.status_code == 202 and r.json()["bot_id"] == a["id"]
    assert message_row(world, r.json()["id"])["bot_id"] == a["id"]
    b = api.new_bot()
    # two bots: the one that has messaged the chat before
    api.send_ok(msg(chat_id=777, bot_id=b["id"]))
    for _ in range(2):
        assert api.send_ok(msg(chat_id=777))["bot_id"] == b["id"]
        assert api.send_ok(msg(chat_id=555))["bot_id"] == a["id"]
    # ... or the one the chat has talked to (chats table), by id or by @username
    world.query("INSERT INTO chats (bot_id, chat_id, username) VALUES (%s, 888, NULL),"
                " (%s, -100777, 'News_Room')", (b["id"], b["id"]))
    assert api.send_ok(msg(chat_id=888))["bot_id"] == b["id"]
    assert api.send_ok(msg(chat_id="@news_room"))["bot_id"] == b["id"]
    # nobody knows this chat
    problem(api.send(msg(chat_id=999)), 422, "no_bot_for_chat", "bot_id")
    problem(api.send(msg(chat_id="@unknown_chan")), 422, "no_bot_for_chat", "bot_id")
    # a blocked chat does not count
    world.query("INSERT INTO chats (bot_id, chat_id, blocked_at) VALUES (%s, 1234, now())",
                (a["id"],))
    problem(api.send(msg(chat_id=1234)), 422, "no_bot_for_chat", "bot_id")
    # nor a bot that sent to the chat before the chat blocked it
    api.send_ok(msg(chat_id=1235, bot_id=b["id"]))
    world.query("INSERT INTO chats (bot_id, chat_id, blocked_at) VALUES (%s, 1235, now())",
                (b["id"],))
    problem(api.send(msg(chat_id=1235)), 422, "no_bot_for_chat", "bot_id")
    world.query("UPDATE chats SET blocked_at = NULL WHERE bot_id = %s AND chat_id = 1235",
                (b["id"],))  # unblocked (webhookd's my_chat_member): it counts again
    assert api.send_ok(msg(chat_id=1235))["bot_id"] == b["id"]
    # bots of other tenants never count, even if they messaged the chat
    other = world.api("globex")
    c = other.new_bot()
    other.send_ok(msg(chat_id=4242, bot_id=c["id"]))
    problem(api.send(msg(chat_id=4242)), 422, "no_bot_for_chat", "bot_id")
    # a batch chooses per item
    r = api.post("/v1/messages/batch", {"messages": [msg(chat_id=777), msg(chat_id=999),
                                                     msg(chat_id=555)]})
    res = r.json()["results"]
    assert [x["code"] for x in res] == [202, 422, 202]
    assert res[0]["bot_id"] == b["id"] and res[2]["bot_id"] == a["id"]
    assert res[1]["error"]["type"].endswith("/no_bot_for_chat")
    assert res[1]["error"]["field"] == "bot_id"
    # with one bot deleted, the remaining one is the only bot: it takes every chat
    assert api.delete(f"/v1/bots/{b['id']}").status_code == 200
    assert api.send_ok(msg(chat_id=999))["bot_id"] == a["id"]


def c_macro(relpath, name):
    """the text of the string macro `name` of a C header (its literals joined)"""
    src = (REPO / relpath).read_text()
    body = re.search(r"#define " + name + r" \\\n(.*?[^\\])\n", src, re.S).group(1)
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def test_bot_choice_reads_a_chats_blocks_by_key(world, api):
    """a bot that sent to a chat counts unless the chat blocked it since: the lookup of
    a chat's bots (gatewayd/lookup.c, prepared, generic plan) reads that block by key in
    the partial index of blocked chats, not every blocked chat (1,000 of 10,000 here)"""
    bot = api.new_bot()
    world.query("INSERT INTO chats (bot_id, chat_id, blocked_at) SELECT %s, 600000 + g,"
                " CASE WHEN g %% 10 = 0 THEN now() END FROM generate_series(1, 10000) g",
                (bot["id"],))
    world.query("INSERT INTO bot_chats (chat, bot_id) SELECT (600000 + g)::text, %s"
                " FROM generate_series(1, 10000) g", (bot["id"],))
    world.query("ANALYZE chats; ANALYZE bot_chats")
    sql = c_string("gatewayd/lookup.c", "lookup_sql",
                   {"GW_CHOICE_REACH_SQL": c_macro("gatewayd/choice.h", "GW_CHOICE_REACH_SQL")})
    conn = world.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute("PREPARE lookup AS " + sql)
            cur.execute("EXPLAIN (FORMAT JSON) EXECUTE lookup('{1}', %s, '{600010}')",
                        ([world.tenant_id("acme")],))
            nodes = list(plan_nodes(cur.fetchone()[0][0]["Plan"]))
    finally:
        conn.close()
    chats = [n for n in nodes if n.get("Relation Name") == "chats"]
    assert chats and not [n for n in chats if n["Node Type"] == "Seq Scan"], chats
    assert "chats_blocked_text" in {n.get("Index Name") for n in chats}, chats


def test_bot_choice_looks_up_a_chat_once_for_many_messages(world, api):
    """messages to one chat that memory does not know yet, in one lookup (a broadcast's
    group to a channel, naming no bot): the chat's bots are read once, not once a
    message; a message to another chat gets its own row"""
    bot = api.new_bot()
    world.query("INSERT INTO bot_chats (chat, bot_id) VALUES ('600010', %s), ('600011', %s)",
                (bot["id"], bot["id"]))
    sql = c_string("gatewayd/lookup.c", "lookup_sql",
                   {"GW_CHOICE_REACH_SQL": c_macro("gatewayd/choice.h", "GW_CHOICE_REACH_SQL")})
    tenant = world.tenant_id("acme")
    args = (list(range(41)), [tenant] * 41, ["600010"] * 40 + ["600011"])
    conn = world.env.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("PREPARE lookup AS " + sql)
            cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lookup(%s, %s, %s)", args)
            nodes = list(plan_nodes(cur.fetchone()[0][0]["Plan"]))
            cur.execute("EXECUTE lookup(%s, %s, %s)", args)
            rows = sorted(cur.fetchall())
    finally:
        conn.close()
    reads = [n for n in nodes if n.get("Relation Name") == "bot_chats"]
    assert reads and max(n["Actual Loops"] for n in reads) == 2, reads
    assert rows == [(0, [bot["id"]]), (40, [bot["id"]])], rows


def test_bot_choice_by_queue_then_free_rate(world, api):
    """Among the bots that may reach a chat: enabled first, then the queue that drains
    soonest at the bot's rate (depth / per_second, read from the counters, so a cancel
    counts at once), then the most rate free over the last 10 s, then the lowest id."""
    a, b = api.new_bot(), api.new_bot()
    for bot in (a, b):  # both have sent to the chat: depth 1 each
        api.send_ok(msg(chat_id=31337, bot_id=bot["id"]))
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == a["id"]  # a tie: the lower id
    # a is now 2 deep, b 1: b drains sooner
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == b["id"]
    extra = [api.send_ok(msg(chat_id=5000 + i, bot_id=b["id"]))["id"] for i in range(6)]
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == a["id"]  # b 8 deep, a 2
    # at 100/s b's 8 drain in 0.08 s, a's 3 at 30/s in 0.1 s
    assert api.patch(f"/v1/bots/{b['id']}", {"settings": {"per_second": 100}}).status_code == 200
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == b["id"]
    # canceled messages leave the queue at once: b back to 3 deep at 30/s against a's 3
    assert api.patch(f"/v1/bots/{b['id']}", {"settings": {"per_second": 30}}).status_code == 200
    for mid in extra:
        assert api.post(f"/v1/messages/{mid}/cancel").status_code == 200
    assert world.one("SELECT sum(n) FROM bot_status_counts WHERE bot_id = %s"
                     " AND status IN ('queued', 'retrying', 'sending')", (b["id"],))[0] == 3
    # the same depth at the same rate: the bot with the more of its rate free (a sent 200
    # in the last 10 s, 20/s of its 30)
    world.query("INSERT INTO bot_done_seconds (bot_id, status, t, shard, n)"
                " VALUES (%s, 'sent', date_trunc('second', now()), 63, 200)", (a["id"],))
    wait_load_read(world)  # written behind gatewayd's back: read within a second
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == b["id"]
    # a disabled bot is taken only when no enabled one may reach the chat
    assert api.patch(f"/v1/bots/{b['id']}", {"enabled": False}).status_code == 200
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == a["id"]
    assert api.patch(f"/v1/bots/{a['id']}", {"enabled": False}).status_code == 200
    assert world.query("SELECT bot_id, sum(n) FROM bot_status_counts WHERE bot_id IN (%s, %s)"
                       " AND status = 'queued' GROUP BY 1 ORDER BY 1",
                       (a["id"], b["id"])) == [(a["id"], 4), (b["id"], 4)]
    assert api.send_ok(msg(chat_id=31337))["bot_id"] == b["id"]  # both disabled: b is freer


def test_bot_choice_in_memory(world, api):
    """Once gatewayd has read the bots' load, it chooses in memory for a chat whose bots
    it has learned, by the same rule, counting the messages it accepts at once; what it
    cannot know (a chat not seen, a change made since its last read) goes to the
    database. Another tenant's bot never counts, in memory either."""
    a, b = api.new_bot(), api.new_bot()
    for bot in (a, b):
        api.send_ok(msg(chat_id=4100, bot_id=bot["id"]))
    # nothing read yet: the database chooses, and gatewayd learns the chat's bots
    assert api.send_ok(msg(chat_id=4100))["bot_id"] == a["id"]  # a tie: a 2, b 1
    assert choices(world)["database"] >= 1
    wait_load_read(world)
    other = world.api("globex")
    theirs = other.new_bot()
    other.send_ok(msg(chat_id=4100, bot_id=theirs["id"]))
    wait_load_read(world)
    before = choices(world)
    # b drains sooner (1 against 2), then a tie (the lower id), then b again
    picks = [api.send_ok(msg(chat_id=4100))["bot_id"] for _ in range(3)]
    assert picks == [b["id"], a["id"], b["id"]]
    # six named b (other chats) count at once: b 9 deep against a 3
    for i in range(6):
        api.send_ok(msg(chat_id=5100 + i, bot_id=b["id"]))
    r = api.post("/v1/messages/batch", {"messages": [msg(chat_id=4100)] * 7})
    got = [x["bot_id"] for x in r.json()["results"]]
    # a batch counts each item for the next: a to 9, then the tie to the lower id
    assert got == [a["id"]] * 7, got
    assert api.send_ok(msg(chat_id=4100))["bot_id"] == b["id"]  # a 10 against b 9
    after = choices(world)
    assert after["memory"] == before["memory"] + 11
    assert after["database"] == before["database"]
    # the queues gatewayd counted are the database's
    depth = dict(world.query("SELECT bot_id, sum(n) FROM bot_status_counts WHERE bot_id IN"
                             " (%s, %s) AND status = 'queued' GROUP BY 1", (a["id"], b["id"])))
    assert depth == {a["id"]: 10, b["id"]: 10}
    # a chat memory has not seen, which only b reaches: its bots are looked up before
    # the INSERT, and memory chooses
    api.send_ok(msg(chat_id=4300, bot_id=b["id"]))
    seen = choices(world)
    assert [api.send_ok(msg(chat_id=4300))["bot_id"] for _ in range(2)] == [b["id"]] * 2
    assert choices(world)["memory"] == seen["memory"] + 2
    assert choices(world)["database"] == seen["database"]
    after = choices(world)
    # a chat gatewayd has not seen: the database (here: no bot may reach it)
    problem(api.send(msg(chat_id=4199)), 422, "no_bot_for_chat", "bot_id")
    assert choices(world)["database"] == after["database"] + 1
    # a bot deleted here: the database chooses until the next read, then memory again,
    # never the deleted bot
    assert api.delete(f"/v1/bots/{a['id']}").status_code == 200
    assert api.send_ok(msg(chat_id=4100))["bot_id"] == b["id"]
    wait_load_read(world)
    mem = choices(world)["memory"]
    assert api.send_ok(msg(chat_id=4100))["bot_id"] == b["id"]
    assert choices(world)["memory"] == mem + 1


def test_bot_choice_forgets_a_chat_that_blocked_the_chosen_bot(tgm_env):
    """A chat that blocks the bot chosen for it (Telegram's 403, heard by senderd) is
    forgotten by gatewayd's memory at once: the chat's bots are looked up again for its
    next message, and the blocked bot is not among them, rather than chosen again for
    the 10 s memory keeps a chat's bots."""
    with FakeTelegram() as tg:
        w = World(tgm_env, {("telegram", "api_url"): tg.url})
        try:
            w.env.daemon("senderd", conf=w.conf)
            api = w.api("acme")
            a, b = api.new_bot(), api.new_bot()
            for bot in (a, b):
                api.send_ok(msg(chat_id=4800, bot_id=bot["id"]))
            wait_for(lambda: len(tg.sends(chat=4800)) == 2, 10, what="both bots' sends")
            api.send_ok(msg(chat_id=4801, bot_id=a["id"]))
            api.send_ok(msg(chat_id=4801))  # a choice asked: gatewayd reads the bots' load
            wait_load_read(w)
            tg.blocked(chat=4800, times=1)
            first = api.send_ok(msg(chat_id=4800))
            gone = first["bot_id"]
            wait_for(lambda: message_row(w, first["id"])["status"] == "failed", 10,
                     what="the first message failed")
            wait_load_read(w)  # what the database holds now is in memory too
            second = api.send_ok(msg(chat_id=4800))
            assert second["bot_id"] != gone, (gone, second)
            wait_for(lambda: message_row(w, second["id"])["status"] == "sent", 10,
                     what="the second message sent")
        finally:
            w.close()


def test_bot_choice_never_queues_for_a_bot_deleted_elsewhere(world, api):
    """A bot deleted behind this gatewayd's back (by another instance) may still be in
    its memory for up to a second: a message chosen for it is never queued for the
    deleted bot; it goes again at once, the database choosing, and the other bot takes
    it (a batch's other items keep their own outcome and order)."""
    a, b = api.new_bot(), api.new_bot()
    api.send_ok(msg(chat_id=4500, bot_id=a["id"]))
    for _ in range(2):
        api.send_ok(msg(chat_id=4500, bot_id=b["id"]))
    assert api.send_ok(msg(chat_id=4500))["bot_id"] == a["id"]  # a 1 against b 2
    wait_load_read(world)
    world.query("UPDATE bots SET deleted_at = now() WHERE id = %s", (a["id"],))
    # memory still ranks a first (a 2, b 2: the lower id), unless its next read came in
    # between: either way b takes it
    assert api.send_ok(msg(chat_id=4500))["bot_id"] == b["id"]
    r = api.post("/v1/messages/batch", {"messages": [
        msg(chat_id=4500), msg(chat_id=4600, bot_id=b["id"]), msg(chat_id=4500)]})
    assert [(x["code"], x["bot_id"]) for x in r.json()["results"]] == [(202, b["id"])] * 3
    wait_load_read(world)
    assert api.send_ok(msg(chat_id=4500))["bot_id"] == b["id"]
    assert world.one("SELECT count(*) FROM messages WHERE bot_id = %s", (a["id"],))[0] == 2
    print([ln for d in world.env.daemons for ln in d.lines() if "chooses again" in str(ln)])


# ------------------------------------------------------------ idempotency

def test_idempotent_replay_and_conflict(world, api):
    bot = api.new_bot()
    body = msg(bot_id=bot["id"], text="pay 10")
    h = {"Idempotency-Key": "order-1"}
    first = api.send(body, headers=h)
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    mid = first.json()["id"]
    # the same request, formatted differently: the first answer again
    again = api.post("/v1/messages", data=json.dumps(body, indent=3),
                     headers={**h, "Content-Type": "application/json"})
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == f"/v1/messages/{mid}"
    # the same JSON with its keys in another order and other whitespace: a replay too
    reordered = "{\n" + ",\t".join(f" {json.dumps(k)} :{json.dumps(v)}"
                                     for k, v in reversed(list(body.items()))) + "}"
    assert list(json.loads(reordered)) != list(body) and len(body) > 1
    again = api.post("/v1/messages", data=reordered,
                     headers={**h, "Content-Type": "application/json"})
    assert again.status_code == 202, again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    # a replay after the message moved on still answers (with the same id)
    world.query("UPDATE messages SET status = 'sent', sent_at = now() WHERE id = %s", (mid,))
    assert api.send(body, headers=h).json()["id"] == mid

    # same key, another request: 422, as the IETF idempotency-key draft says
    r = api.send(msg(bot_id=bot["id"], text="pay 20"), headers=h)
    problem(r, 422, "idempotency_conflict", "Idempotency-Key")
    assert r.reason == "Unprocessable Content"  # libevent alone says "Client Error"
    row = message_row(world, mid)
    assert row["idempotency_key"] == "order-1"
    assert world.query("SELECT count(*) FROM messages") == [(1,)]
    stored = world.one("SELECT encode(request_hash, 'hex') FROM messages")[0]
    assert len(stored) == 64

    # the key in the body works the same way
    r1 = api.send({**body, "idempotency_key": "order-2"})
    r2 = api.send({**body, "idempotency_key": "order-2"})
    assert r1.json()["id"] == r2.json()["id"] != mid
    assert r2.headers.get("Idempotent-Replayed") == "true"

    # keys are per tenant
    other = world.api("globex")
    ob = other.new_bot()
    r = other.send(msg(bot_id=ob["id"], text="pay 10"), headers=h)
    assert r.status_code == 202 and "Idempotent-Replayed" not in r.headers
    assert r.json()["id"] not in (mid, r1.json()["id"])

    # a bad header
    for bad in ("", "k" * 256):
        problem(api.send(body, headers={"Idempotency-Key": bad}), 400, "invalid_header",
                "Idempotency-Key")
    r = api.send(msg(bot_id=bot["id"], text="x"), headers={"Idempotency-Key": "k" * 255})
    assert r.status_code == 202
    assert world.query("SELECT count(*) FROM messages") == [(4,)]


def test_replay_answers_the_stored_bot(world, api):
    """A replay says which bot the message is queued on: the stored one, not the one of
    the repeated request (here the same body posted to /api/send/{other bot})."""
    a = api.new_bot()
    b = api.new_bot()
    h = {"Idempotency-Key": "same"}
    first = api.post(f"/api/send/{a['id']}", msg(), headers=h)
    assert first.status_code == 202 and first.json()["bot_id"] == a["id"]
    second = api.post(f"/api/send/{b['id']}", msg(), headers=h)
    stored = message_row(world, first.json()["id"])["bot_id"]
    assert stored == a["id"]
    if second.status_code == 202:
        assert second.json()["bot_id"] == stored, second.json()
    else:
        problem(second, 422, "idempotency_conflict")


def test_concurrent_duplicates(world, api):
    bot = api.new_bot()
    body = json.dumps(msg(bot_id=bot["id"], text="once"))
    url = world.base + "/v1/messages"
    h = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json",
         "Idempotency-Key": "dup-1"}

    for round_ in range(2):
        def post(i):
            r = requests.post(url, data=body, headers=h, timeout=20)
            return r.status_code, r.json().get("id"), r.headers.get("Idempotent-Replayed")
        got = parallel(20, post)
        assert {g[0] for g in got} == {202}, got
        assert len({g[1] for g in got}) == 1, got
        fresh = [g for g in got if g[2] is None]
        assert len(fresh) == (1 if round_ == 0 else 0), got
        assert all(g[2] == "true" for g in got if g[2] is not None)
        assert world.query("SELECT id FROM messages") == [(got[0][1],)]
        assert events_of(api, got[0][1]) == [("queued", None)]


def test_concurrent_duplicates_with_different_keys(world, api):
    """20 keys x 3 copies each, all at once: 20 rows, each key's answers share an id."""
    bot = api.new_bot()
    url = world.base + "/v1/messages"

    def post(i):
        k = i % 20
        r = requests.post(url, data=json.dumps(msg(bot_id=bot["id"], text=f"t{k}")),
                          headers={"Authorization": f"Bearer {api.key}",
                                   "Content-Type": "application/json",
                                   "Idempotency-Key": f"key-{k}"}, timeout=20)
        return k, r.status_code, r.json().get("id")
    got = parallel(60, post)
    assert {g[1] for g in got} == {202}
    by_key = {}
    for k, _, mid in got:
        by_key.setdefault(k, set()).add(mid)
    assert all(len(v) == 1 for v in by_key.values()), by_key
    rows = dict(world.query("SELECT idempotency_key, id FROM messages"))
    assert len(rows) == 20
    assert {f"key-{k}": v.pop() for k, v in by_key.items()} == rows


# ------------------------------------------------------------ batch

def test_batch_mixing_named_and_chosen_bots(world, api):
    """A group with messages that name their bot and messages that do not is one
    statement with the choice (a group that names every bot skips it): each item gets
    its own outcome, in request order, and a foreign or deleted bot is refused either way."""
    a, b = api.new_bot(), api.new_bot()
    gone = api.new_bot()
    assert api.delete(f"/v1/bots/{gone['id']}").status_code == 200
    theirs = world.api("globex").new_bot()
    api.send_ok(msg(chat_id=777, bot_id=b["id"]))  # b knows chat 777
    items = [msg(chat_id=777), msg(chat_id=555, bot_id=a["id"]), msg(chat_id=999),
             msg(bot_id=theirs["id"]), msg(chat_id=777, bot_id=a["id"]),
             msg(bot_id=gone["id"]), msg(chat_id=777)]
    res = api.post("/v1/messages/batch", {"messages": items}).json()["results"]
    assert [x["code"] for x in res] == [202, 202, 422, 404, 202, 404, 202]
    assert [res[i]["bot_id"] for i in (0, 1, 4, 6)] == [b["id"], a["id"], a["id"], b["id"]]
    assert res[2]["error"]["type"].endswith("/no_bot_for_chat")
    assert res[3]["error"]["type"].endswith("/bot_not_found")
    assert res[5]["error"]["type"].endswith("/bot_not_found")
    ids = [res[i]["id"] for i in (0, 1, 4, 6)]
    assert ids == sorted(ids)
    assert world.query("SELECT id, bot_id FROM messages WHERE id = ANY(%s) ORDER BY id",
                       (ids,)) == list(zip(ids, [b["id"], a["id"], a["id"], b["id"]]))


def test_batch_partial_acceptance(world, api):
    bot = api.new_bot()
    theirs = world.api("globex").new_bot()
    items = [
        msg(bot_id=bot["id"], text="one"),
        msg(bot_id=bot["id"], text=""),
        msg(bot_id=theirs["id"], text="foreign"),
        msg(bot_id=bot["id"], text="two", chat_id="@some_channel"),
        {**msg(bot_id=bot["id"]), "colour": "red"},
        "not an object",
        msg(bot_id=bot["id"], text="three", priority="high"),
        msg(bot_id=bot["id"], chat_id=0),
    ]
    t0 = time.monotonic()
    r = api.post("/v1/messages/batch", {"messages": items})
    assert time.monotonic() - t0 < 5
    assert r.status_code == 200, r.text
    out = r.json()
    res = out["results"]
    assert [x["index"] for x in res] == list(range(len(items)))
    assert [x["code"] for x in res] == [202, 422, 404, 202, 422, 422, 202, 422]
    assert (out["accepted"], out["rejected"]) == (3, 5)
    errors = {i: res[i]["error"] for i in (1, 2, 4, 5, 7)}
    assert errors[1]["field"] == "text" and errors[1]["type"].endswith("/invalid_field")
    assert errors[2]["field"] == "bot_id" and errors[2]["type"].endswith("/bot_not_found")
    assert errors[4]["field"] == "colour" and errors[4]["type"].endswith("/unknown_field")
    assert errors[7]["field"] == "chat_id"
    for e in errors.values():
        assert e["detail"]
    good = [res[i] for i in (0, 3, 6)]
    assert all(g["status"] == "queued" and g["bot_id"] == bot["id"] for g in good)
    ids = [g["id"] for g in good]
    assert ids == sorted(ids)  # accepted in request order
    rows = world.query("SELECT id, params->>'text', status FROM messages ORDER BY id")
    assert rows == [(ids[0], "one", "queued"), (ids[1], "two", "queued"),
                    (ids[2], "three", "queued")]
    for i in ids:
        assert events_of(api, i) == [("queued", None)]

    # every item refused: still 200, nothing stored
    r = api.post("/v1/messages/batch", {"messages": [msg(text=""), msg(chat_id="x")]})
    assert r.status_code == 200 and r.json()["accepted"] == 0
    assert [x["code"] for x in r.json()["results"]] == [422, 422]
    assert world.query("SELECT count(*) FROM messages") == [(3,)]


def test_batch_sizes(world, api):
    bot = api.new_bot()
    for body in ({"messages": []}, {"messages": [msg(bot_id=bot["id"])] * 1001},
                 {"messages": "x"}, {"messages": {"0": msg()}}, {}):
        problem(api.post("/v1/messages/batch", body), 422, "invalid_field", "messages")
    assert world.query("SELECT count(*) FROM messages") == [(0,)]
    r = api.post("/v1/messages/batch",
                 {"messages": [msg(chat_id=1 + i, bot_id=bot["id"], text=f"n{i}")
                               for i in range(1000)]})
    assert r.status_code == 200, r.text[:500]
    res = r.json()["results"]
    assert len(res) == 1000 and r.json()["accepted"] == 1000
    ids = [x["id"] for x in res]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    assert world.query("SELECT count(*), min(id), max(id) FROM messages") == \
        [(1000, ids[0], ids[-1])]
    for i in (ids[0], ids[417], ids[-1]):
        assert events_of(api, i) == [("queued", None)]
    assert world.one("SELECT params->>'text' FROM messages WHERE id = %s", (ids[417],)) == \
        ("n417",)


def test_batch_idempotency_key(world, api):
    bot = api.new_bot()
    items = [msg(bot_id=bot["id"], text="a"), msg(text=""), msg(bot_id=bot["id"], text="c")]
    h = {"Idempotency-Key": "batch-7"}
    r1 = api.post("/v1/messages/batch", {"messages": items}, headers=h)
    assert r1.status_code == 200, r1.text
    assert [x["code"] for x in r1.json()["results"]] == [202, 422, 202]
    r2 = api.post("/v1/messages/batch", {"messages": items}, headers=h)
    assert r2.status_code == 200, r2.text
    a, b = r1.json()["results"], r2.json()["results"]
    assert [x.get("id") for x in a] == [x.get("id") for x in b]
    assert [x.get("replayed") for x in b] == [True, None, True]
    assert [x.get("replayed") for x in a] == [None, None, None]
    assert world.query("SELECT idempotency_key FROM messages ORDER BY id") == \
        [("batch-7\x1f0",), ("batch-7\x1f2",)]
    # the same key with a changed item: that item conflicts, the others replay
    items[2] = msg(bot_id=bot["id"], text="changed")
    r3 = api.post("/v1/messages/batch", {"messages": items}, headers=h)
    res = r3.json()["results"]
    assert [x["code"] for x in res] == [202, 422, 422]
    assert res[0]["id"] == a[0]["id"] and res[0]["replayed"] is True
    assert res[2]["error"]["type"].endswith("/idempotency_conflict")
    assert world.query("SELECT count(*) FROM messages") == [(2,)]


def test_batch_keys_do_not_collide_with_client_keys(mworld, macme):
    """A batch's Idempotency-Key K is stored as "K:<index>" per item. That must not
    capture a key the client chooses itself: a later single request with the key "K:0"
    (and another body) is a new message, not a 409 for a request never made."""
    admin, bot = macme
    r = admin.post("/v1/messages/batch", {"messages": [msg(bot_id=bot["id"], text="b0")]},
                   headers={"Idempotency-Key": "nightly"})
    assert r.json()["results"][0]["code"] == 202
    r = admin.send(msg(bot_id=bot["id"], text="something else"),
                   headers={"Idempotency-Key": "nightly:0"})
    assert r.status_code == 202, r.text
    assert "Idempotent-Replayed" not in r.headers
