"""gatewayd bots: POST /v1/bots (getMe against a fake Telegram, the token sealed),
GET /v1/bots with health, GET/PATCH/DELETE /v1/bots/{id} (a deleted bot's queued
messages are canceled, each with an event).
"""

import hashlib

import pytest
import yaml

from api_helpers import (Reply, api, events_of, msg, mworld, new_token, problem,  # noqa: F401
                         world)
from conftest import REPO

BOT_FIELDS = {"id", "telegram_id", "username", "name", "enabled", "disabled_reason",
              "settings", "created_at", "queue_depth", "sent_last_hour", "failed_last_hour",
              "sent_last_minute", "last_error"}
# every bot setting (common/botset.c) with its default, as GET shows them
DEFAULTS = {"per_second": 30, "chat_per_second": 1, "group_per_minute": 20,
            "paid_broadcast": False, "updates": "auto",
            "commands": "start help balance buy billing history autorecharge",
            "welcome": "Welcome! Write here and we will answer you.", "help": "",
            "free_credits": 0, "low_balance": 0, "admin_chat_id": 0,
            "topic_name": "{first_name} @{username} #{user_id}", "charge_messages": False,
            "cost_text": 1, "cost_photo": 2, "cost_video": 3, "cost_voice": 2,
            "cost_document": 2, "cost_sticker": 1, "cost_other": 1,
            "no_credit_text": "You have no credits left. Buy more to keep writing:",
            "flood_per_minute": 30, "tutorial": False, "tutorial_bonus": 0,
            "welcome_back_days": 30, "tier_by": "spend", "tier_regular": 20, "tier_vip": 200,
            "pass_warning_hours": 24, "balance_after_message": False, "language": "en",
            "texts": {}}


def bot_row(world, bot_id):
    cols = ("id", "tenant_id", "telegram_id", "username", "name", "token_sealed",
            "token_hash", "enabled", "disabled_reason", "settings", "deleted_at")
    rows = world.query(f"SELECT {', '.join(cols)} FROM bots WHERE id = %s", (bot_id,))
    return dict(zip(cols, rows[0])) if rows else None


def test_sql_reads_the_same_defaults(world):
    """tgmctl migrate writes common/botset.c's defaults into bot_setting_defaults: SQL
    (bd_setting, senderd's lane load, gatewayd's stats) reads them, never a literal."""
    rows = dict(world.query("SELECT key, value FROM bot_setting_defaults"))
    assert rows == DEFAULTS
    tenant = world.query("INSERT INTO tenants (name) VALUES ('defaults') RETURNING id")[0][0]
    bid = world.query("INSERT INTO bots (tenant_id, telegram_id, token_sealed, token_hash,"
                      " settings) VALUES (%s, 777001, 'x', 'x', '{\"low_balance\": 5}')"
                      " RETURNING id", (tenant,))[0][0]
    assert world.query("SELECT bd_setting(%s, 'low_balance', NULL),"
                       " bd_setting(%s, 'per_second', NULL)", (bid, bid)) == [("5", "30")]


# ------------------------------------------------------------ register

def test_register(world, api):
    token = new_token(5550001)
    r = api.post("/v1/bots", {"token": token, "name": "Support",
                              "settings": {"per_second": 10, "paid_broadcast": True}})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"] == "application/json"
    bot = r.json()
    assert set(bot) == BOT_FIELDS, bot
    assert isinstance(bot["id"], int) and bot["id"] > 0
    assert bot["telegram_id"] == 5550001 and bot["username"] == "bot5550001_bot"
    assert bot["name"] == "Support" and bot["enabled"] is True
    assert bot["settings"] == {**DEFAULTS, "per_second": 10, "paid_broadcast": True}
    assert (bot["queue_depth"], bot["sent_last_hour"], bot["failed_last_hour"],
            bot["last_error"]) == (0, 0, 0, None)
    assert token not in r.text

    calls = world.tg.getme_calls(token)
    assert len(calls) == 1 and calls[0].method in ("POST", "GET")

    row = bot_row(world, bot["id"])
    assert row["tenant_id"] == world.tenant_id("acme")
    assert row["token_sealed"].startswith("v1.") and token not in row["token_sealed"]
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert row["settings"] == {"per_second": 10, "paid_broadcast": True}
    dump = world.query("SELECT row_to_json(b)::text FROM bots b")[0][0]
    assert token not in dump and token.split(":")[1] not in dump
    assert token.split(":")[1] not in world.daemon.log()

    # without a name: Telegram's first_name
    other = api.new_bot(new_token(5550002))
    assert other["name"] == "Bot 5550002" and other["settings"] == DEFAULTS


@pytest.mark.parametrize("token", [
    None, "", "abc", 12345, "123456", "123456:", ":" + "A" * 35, "0123:" + "A" * 35,
    "12a4:" + "A" * 35, "1" * 21 + ":" + "A" * 35, "123:" + "A" * 29, "123:" + "A" * 81,
    "123:" + "A" * 34 + "!", "123:" + "A" * 17 + " " + "A" * 17, "123:AAA/../" + "A" * 30,
])
def test_register_bad_token_shape(mworld, token):
    admin = mworld.shared_api("acme")
    before = len(mworld.tg.getme_calls())
    body = {} if token is None else {"token": token}
    problem(admin.post("/v1/bots", body), 422, "invalid_field", "token")
    assert len(mworld.tg.getme_calls()) == before  # Telegram was not asked
    assert mworld.query("SELECT count(*) FROM bots WHERE tenant_id = %s",
                        (mworld.tenant_id("acme"),)) == [(0,)]


@pytest.mark.parametrize("settings", [
    "fast", [1], {"nope": 1}, {"per_second": 0}, {"per_second": 1001}, {"per_second": 1.5},
    {"per_second": "10"}, {"chat_per_second": 0}, {"chat_per_second": 31},
    {"group_per_minute": 0}, {"group_per_minute": 601}, {"paid_broadcast": "yes"},
    {"paid_broadcast": 1}, {"enabled": True},
])
def test_register_bad_settings(mworld, settings):
    admin = mworld.shared_api("acme")
    before = len(mworld.tg.getme_calls())
    problem(admin.post("/v1/bots", {"token": new_token(), "settings": settings}), 422,
            "invalid_field", "settings")
    assert len(mworld.tg.getme_calls()) == before


@pytest.mark.parametrize("settings, detail", [
    ({"updates": "sometimes"},
     "settings.updates must be one of auto, webhook, polling, off"),
    ({"updates": "Polling"}, "settings.updates must be one of"),
    ({"updates": 1}, "settings.updates must be one of"),
    ({"welcome": "w" * 4097}, "settings.welcome must be a string of at most 4096 bytes"),
    ({"topic_name": "\u00e9" * 65}, "settings.topic_name must be a string of at most 128"),
    ({"commands": 5}, "settings.commands must be a string"),
    ({"help": None}, "settings.help must be a string"),
    ({"admin_chat_id": 5}, "settings.admin_chat_id must be an integer from -999999999999999 to 0"),
    ({"admin_chat_id": "-100123"}, "settings.admin_chat_id must be an integer"),
    ({"free_credits": -1}, "settings.free_credits must be an integer from 0 to 1000000"),
    ({"cost_photo": 1.5}, "settings.cost_photo must be an integer"),
    ({"charge_messages": "true"}, "settings.charge_messages must be true or false"),
    ({"per_second": 0}, "settings.per_second must be an integer from 1 to 1000"),
    ({"welcome": "Hi", "nope": 1}, "settings.nope is not a setting"),
    ("fast", "settings must be an object"),
])
def test_register_bad_settings_named(mworld, settings, detail):
    admin = mworld.shared_api("acme")
    before = len(mworld.tg.getme_calls())
    problem(admin.post("/v1/bots", {"token": new_token(), "settings": settings}), 422,
            "invalid_field", "settings", detail)
    assert len(mworld.tg.getme_calls()) == before


def test_register_new_settings(world, api):
    given = {"updates": "polling", "welcome": "Bienvenue \u00e0 bord \U0001F680",
             "admin_chat_id": -1001234567890, "help": "", "charge_messages": True,
             "cost_video": 0, "topic_name": "\u00e9" * 64, "commands": "start help"}
    bot = api.new_bot(settings=given)
    assert bot["settings"] == {**DEFAULTS, **given}
    assert bot_row(world, bot["id"])["settings"] == given  # only what was given is stored
    got = api.get(f"/v1/bots/{bot['id']}").json()
    assert got["settings"] == {**DEFAULTS, **given}
    listed = api.get("/v1/bots").json()["bots"]
    assert [b["settings"] for b in listed] == [{**DEFAULTS, **given}]


def test_defaults_shown(world, api):
    bot = api.new_bot()
    assert bot["settings"] == DEFAULTS
    assert bot_row(world, bot["id"])["settings"] == {}
    assert api.get(f"/v1/bots/{bot['id']}").json()["settings"] == DEFAULTS
    assert api.get("/v1/bots").json()["bots"][0]["settings"] == DEFAULTS
    # a key stored by other means (not through the API) still wins over its default
    world.query("UPDATE bots SET settings = '{\"low_balance\": 5}' WHERE id = %s",
                (bot["id"],))
    assert api.get(f"/v1/bots/{bot['id']}").json()["settings"] == {**DEFAULTS,
                                                                  "low_balance": 5}


def test_openapi_documents_every_setting():
    """docs/openapi.yaml's BotSettings: the keys and defaults gatewayd shows."""
    spec = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    props = spec["components"]["schemas"]["BotSettings"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == DEFAULTS
    required = spec["components"]["schemas"]["Bot"]["properties"]["settings"]["required"]
    assert set(required) == set(DEFAULTS)


def test_patch_new_settings(world, api):
    bid = api.new_bot(settings={"welcome": "Hello"})["id"]
    r = api.patch(f"/v1/bots/{bid}", {"settings": {"updates": "off", "admin_chat_id": -100777}})
    assert r.status_code == 200, r.text
    want = {**DEFAULTS, "welcome": "Hello", "updates": "off", "admin_chat_id": -100777}
    assert r.json()["settings"] == want
    assert api.get(f"/v1/bots/{bid}").json()["settings"] == want
    before = bot_row(world, bid)
    for settings, detail in [
        ({"updates": "webhooks"}, "settings.updates must be one of auto, webhook, polling, off"),
        ({"no_credit_text": "n" * 4097}, "settings.no_credit_text must be a string of at most"),
        ({"low_balance": True}, "settings.low_balance must be an integer from 0 to 1000000"),
        ({"paid_broadcast": "no"}, "settings.paid_broadcast must be true or false"),
    ]:
        problem(api.patch(f"/v1/bots/{bid}", {"settings": settings}), 422, "invalid_field",
                "settings", detail)
    assert bot_row(world, bid) == before


def test_register_bad_name(mworld):
    admin = mworld.shared_api("acme")
    for name in (5, "n" * 201, ["x"]):
        problem(admin.post("/v1/bots", {"token": new_token(), "name": name}), 422,
                "invalid_field", "name")


def test_register_refused_by_telegram(world, api):
    token = new_token()
    world.tg.answers[token] = Reply.tg_error(401, "Unauthorized")
    body = problem(api.post("/v1/bots", {"token": token}), 422, "invalid_token", "token")
    assert "Unauthorized" in body["detail"] and "Telegram" in body["detail"]
    assert token not in body["detail"]
    assert len(world.tg.getme_calls(token)) == 1
    # a 404 (Telegram's answer to a token it does not know) is a refusal too
    token2 = new_token()
    world.tg.answers[token2] = Reply.tg_error(404, "Not Found")
    body = problem(api.post("/v1/bots", {"token": token2}), 422, "invalid_token", "token")
    assert "Not Found" in body["detail"]
    assert world.query("SELECT count(*) FROM bots") == [(0,)]


def test_register_telegram_unreachable(world, api):
    for reply in (Reply.close(), Reply.html(502), Reply.tg_error(500, "Internal Server Error")):
        token = new_token()
        world.tg.answers[token] = reply
        body = problem(api.post("/v1/bots", {"token": token}), 502, "telegram_unreachable")
        assert token not in body["detail"] and token.split(":")[1] not in body["detail"]
    assert world.query("SELECT count(*) FROM bots") == [(0,)]


def test_register_telegram_port_closed(tgm_env):
    from api_helpers import World
    from fake_http import free_port
    w = World(tgm_env, {("telegram", "api_url"): f"http://127.0.0.1:{free_port()}"})
    try:
        admin = w.api("acme")
        problem(admin.post("/v1/bots", {"token": new_token()}), 502, "telegram_unreachable")
        assert w.query("SELECT count(*) FROM bots") == [(0,)]
    finally:
        w.close()


def test_register_same_token_twice(world, api):
    bot = api.new_bot()
    problem(api.post("/v1/bots", {"token": bot["token"]}), 409, "bot_exists", "token")
    # another tenant cannot take the same bot either
    other = world.api("globex")
    problem(other.post("/v1/bots", {"token": bot["token"]}), 409, "bot_exists", "token")
    assert world.query("SELECT count(*) FROM bots") == [(1,)]
    # once deleted, the token may be registered again (a new bot)
    assert api.delete(f"/v1/bots/{bot['id']}").status_code == 200
    again = api.new_bot(bot["token"])
    assert again["id"] != bot["id"]


# ------------------------------------------------------------ list, get

def test_list_with_health(world, api):
    a = api.new_bot()
    b = api.new_bot()
    ids = [api.send_ok(msg(bot_id=a["id"], text=f"m{i}"))["id"] for i in range(4)]
    world.query("UPDATE messages SET status = 'sent', sent_at = now(), telegram_message_id = 9"
                " WHERE id = %s", (ids[0],))
    world.query("UPDATE messages SET status = 'failed', last_error = 'Forbidden: bot was"
                " blocked by the user', updated_at = now() WHERE id = %s", (ids[1],))
    world.query("UPDATE messages SET status = 'retrying' WHERE id = %s", (ids[2],))
    r = api.get("/v1/bots")
    assert r.status_code == 200, r.text
    bots = r.json()["bots"]
    assert [x["id"] for x in bots] == [a["id"], b["id"]]
    for x in bots:
        assert set(x) == BOT_FIELDS
    ha, hb = bots
    assert (ha["queue_depth"], ha["sent_last_hour"], ha["failed_last_hour"],
            ha["sent_last_minute"]) == (2, 1, 1, 1)
    assert ha["last_error"] == "Forbidden: bot was blocked by the user"
    assert (hb["queue_depth"], hb["sent_last_hour"], hb["failed_last_hour"],
            hb["sent_last_minute"], hb["last_error"]) == (0, 0, 0, 0, None)
    assert a["token"] not in r.text and b["token"] not in r.text

    one = api.get(f"/v1/bots/{a['id']}")
    assert one.status_code == 200 and one.json() == ha
    for bad in ("999999", "0", "-1", "abc", "1.0"):
        problem(api.get(f"/v1/bots/{bad}"), 404, "bot_not_found")


# ------------------------------------------------------------ update

def test_patch(world, api):
    bot = api.new_bot()
    bid = bot["id"]
    r = api.patch(f"/v1/bots/{bid}", {"settings": {"per_second": 5, "paid_broadcast": True}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {**DEFAULTS, "per_second": 5, "paid_broadcast": True}
    r = api.patch(f"/v1/bots/{bid}", {"settings": {"chat_per_second": 30}, "name": "Renamed"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed"
    row = bot_row(world, bid)
    assert row["settings"] == {"per_second": 5, "paid_broadcast": True, "chat_per_second": 30}
    assert row["name"] == "Renamed"

    r = api.patch(f"/v1/bots/{bid}", {"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert bot_row(world, bid)["enabled"] is False
    world.query("UPDATE bots SET disabled_reason = 'token revoked' WHERE id = %s", (bid,))
    r = api.patch(f"/v1/bots/{bid}", {"enabled": True})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None
    row = bot_row(world, bid)
    assert row["enabled"] is True and row["disabled_reason"] is None
    # an empty object changes nothing
    r = api.patch(f"/v1/bots/{bid}", {})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"

    before = bot_row(world, bid)
    for body, type_, field in [
        ({"settings": {"nope": 1}}, "invalid_field", "settings"),
        ({"settings": {"chat_per_second": 0}}, "invalid_field", "settings"),
        ({"settings": {"per_second": 1001}}, "invalid_field", "settings"),
        ({"settings": {"group_per_minute": 601}}, "invalid_field", "settings"),
        ({"settings": {"paid_broadcast": "no"}}, "invalid_field", "settings"),
        ({"settings": "x"}, "invalid_field", "settings"),
        ({"enabled": "yes"}, "invalid_field", "enabled"),
        ({"enabled": 0}, "invalid_field", "enabled"),
        ({"name": 5}, "invalid_field", "name"),
        ({"token": new_token()}, "unknown_field", "token"),
        ({"enabled": True, "username": "x"}, "unknown_field", "username"),
    ]:
        problem(api.patch(f"/v1/bots/{bid}", body), 422, type_, field)
    assert bot_row(world, bid) == before

    problem(api.patch(f"/v1/bots/{bid}", data="enabled=false",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}),
            415, "unsupported_media_type")
    problem(api.patch(f"/v1/bots/{bid}", data='{"enabled": fals',
                      headers={"Content-Type": "application/json"}), 400, "invalid_json")
    problem(api.patch("/v1/bots/999999", {"enabled": False}), 404, "bot_not_found")
    assert bot_row(world, bid) == before


# ------------------------------------------------------------ delete

def test_delete_cancels_queued_messages(world, api):
    bot = api.new_bot()
    keep = api.new_bot()
    bid = bot["id"]
    ids = [api.send_ok(msg(bot_id=bid, text=f"m{i}"))["id"] for i in range(4)]
    other = api.send_ok(msg(bot_id=keep["id"]))["id"]
    world.query("UPDATE messages SET status = 'retrying' WHERE id = %s", (ids[1],))
    world.query("UPDATE messages SET status = 'sent', sent_at = now() WHERE id = %s", (ids[2],))
    world.query("UPDATE messages SET status = 'failed' WHERE id = %s", (ids[3],))

    r = api.delete(f"/v1/bots/{bid}")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": bid, "deleted": True, "canceled_messages": 2}
    status = dict(world.query("SELECT id, status FROM messages"))
    assert [status[i] for i in ids] == ["canceled", "canceled", "sent", "failed"]
    assert status[other] == "queued"
    for i in ids[:2]:
        assert events_of(api, i)[-1] == ("canceled", "bot deleted")
    assert events_of(api, ids[2]) == [("queued", None)]
    row = bot_row(world, bid)
    assert row["deleted_at"] is not None and row["enabled"] is False

    problem(api.get(f"/v1/bots/{bid}"), 404, "bot_not_found")
    problem(api.patch(f"/v1/bots/{bid}", {"enabled": True}), 404, "bot_not_found")
    problem(api.delete(f"/v1/bots/{bid}"), 404, "bot_not_found")
    assert [b["id"] for b in api.get("/v1/bots").json()["bots"]] == [keep["id"]]
    problem(api.send(msg(bot_id=bid)), 404, "bot_not_found", "bot_id")
    got = api.get(f"/v1/messages/{ids[0]}").json()
    assert got["status"] == "canceled"
    assert [e["status"] for e in got["events"]] == ["queued", "canceled"]
    for bad in ("999999", "abc"):
        problem(api.delete(f"/v1/bots/{bad}"), 404, "bot_not_found")
