"""Who is an admin (issue 17, docs/admins.md): a bot's admins by Telegram user id and
role (owner, admin, agent), checked by webhookd before every command, reply and card
button of the admin group, hand-crafted callback data included; /admins for the owner;
the API's /v1/bots/{id}/admins and /v1/audit with tenant isolation and clear 422s; and
the audit log of every admin action, from Telegram, the API and the dashboard.

Real webhookd and gatewayd against the fake Telegram; updates go through webhookd's
intake like Telegram's.
"""

from pathlib import Path

import pytest

from api_helpers import problem
from conftest import wait_for
from test_accounts import login, new_account
from test_inbox_api import Inbox
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import ADMIN, ADMIN_USER, admin_message, copies

STRANGER, AGENT, HELPER = 99, 10, 11  # a member not on the list, an agent, an admin
USER = 42  # the bot's user whose topic the admins work in


@pytest.fixture
def w(tgm_env, tg, needs_cryptography):
    return Inbox(tgm_env, tg).start()


def topic(w, bot):
    """the user's topic, made by a first message of theirs"""
    w.say(bot, "hello", user=USER)
    return w.one("SELECT thread_id FROM topics WHERE bot_id = %s AND user_id = %s",
                 (bot.id, USER))[0]


def act(w, bot, update):
    """post an update to bot and wait until it is processed; its outcome"""
    n = len(w.stored(bot))
    assert w.post(bot, update).status_code == 200
    return w.wait_processed(bot, n + 1)[-1][2]


def button(w, data, thread, user, chat=ADMIN):
    """a press on a button with callback data (made by hand: anything goes)"""
    return w.update("callback_query", id=f"cb{data}{user}", data=data, chat_instance="1",
                    **{"from": {"id": user, "is_bot": False, "first_name": "Someone"}},
                    message={"message_id": 3, "date": 1, "message_thread_id": thread,
                             "chat": {"id": chat, "type": "supergroup"}})


def said(w, bot, chat=ADMIN):
    return [r[2] for r in w.replies(bot, chat=chat) if r[1] == "sendMessage"]


def toasts(w, bot):
    return [c.params.get("text") for c in w.tg.calls(token=bot.token,
                                                     method="answerCallbackQuery")]


def audit(w, bot, source=None):
    rows = w.query("SELECT source, actor, action, target, detail FROM audit_log"
                   " WHERE bot_id = %s AND (%s::text IS NULL OR source = %s) ORDER BY id",
                   (bot.id, source, source))
    return [(r[1], r[2], r[3]) for r in rows]


def test_a_member_not_on_the_list_is_refused_everything(w):
    bot = w.new_bot(admin_chat_id=ADMIN)  # its owner is ADMIN_USER, not STRANGER
    thread = topic(w, bot)
    for text in ("/info", "/ban", "/unban", "/gift 5", "/close", "/reopen", "/frob",
                 "please answer", "/admins", "/admins add 99 owner"):
        outcome = act(w, bot, admin_message(w, text, thread, user=STRANGER))
        assert outcome.startswith("refused: needs "), (text, outcome)
    refusals = [s for s in said(w, bot) if s["text"].startswith("⛔ Not allowed")]
    assert len(refusals) == 10
    assert all(s["message_thread_id"] == thread for s in refusals)
    # the card's buttons, and data made by hand, in the topic, another topic, elsewhere
    for data, where, chat in (("info:42", thread, ADMIN), ("gift:42", thread, ADMIN),
                              ("ban:42", thread, ADMIN), ("ban:42", thread + 7, ADMIN),
                              ("ban:1", thread, ADMIN), ("ban:42", None, STRANGER)):
        outcome = act(w, bot, button(w, data, where, STRANGER, chat))
        assert outcome.startswith("refused: needs "), (data, outcome)
    # each toast is a direct call that may end after its update is marked processed
    wait_for(lambda: len(toasts(w, bot)) >= 6, 10, what="a toast for each press")
    assert toasts(w, bot).count("Not allowed") == 6
    # nothing happened: no copy to the user, no ban, no gift, no topic closed, no admin
    assert copies(w, bot, USER) == []
    assert w.one("SELECT banned_at FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (bot.id, USER)) == (None,)
    assert w.query("SELECT * FROM ledger WHERE bot_id = %s", (bot.id,)) == []
    assert w.tg.calls(token=bot.token, method="closeForumTopic") == []
    assert w.query("SELECT user_id, role FROM bot_admins WHERE bot_id = %s",
                   (bot.id,)) == [(ADMIN_USER, "owner")]
    assert [a for a in audit(w, bot) if a[1] != "admin.set"] == []


def test_a_bot_without_admins_refuses_everyone_until_the_api_adds_an_owner(w):
    bot = w.new_bot(admin_chat_id=ADMIN, admins={})
    thread = topic(w, bot)
    assert act(w, bot, admin_message(w, "/info", thread)) == "refused: needs agent"
    api = w.key()
    r = api.request("PUT", f"/v1/bots/{bot.id}/admins/{ADMIN_USER}", {"role": "owner"})
    assert r.status_code == 201, r.text
    assert act(w, bot, admin_message(w, "/info", thread)) == "admin /info"


def test_each_role_does_what_it_may(w):
    bot = w.new_bot(admin_chat_id=ADMIN, admins={ADMIN_USER: "owner", AGENT: "agent",
                                                 HELPER: "admin"})
    thread = topic(w, bot)

    # an agent answers, looks, closes and reopens; bans, gifts and /admins are refused
    answer = admin_message(w, "How can we help?", thread, user=AGENT)
    assert act(w, bot, answer) == "relayed to the user"
    assert copies(w, bot, USER)[0]["message_id"] == answer["message"]["message_id"]
    for text, outcome in (("/info", "admin /info"), ("/close", "admin /close"),
                          ("/reopen", "admin /reopen"), ("/ban", "refused: needs admin"),
                          ("/unban", "refused: needs admin"), ("/gift 5", "refused: needs admin"),
                          ("/admins", "refused: needs owner")):
        assert act(w, bot, admin_message(w, text, thread, user=AGENT)) == outcome, text
    assert act(w, bot, button(w, "info:42", thread, AGENT)) == "admin /info"
    assert act(w, bot, button(w, "ban:42", thread, AGENT)) == "refused: needs admin"
    assert act(w, bot, button(w, "gift:42", thread, AGENT)) == "refused: needs admin"

    # an admin also bans, unbans and gifts; /admins is the owner's
    for text, outcome in (("/ban", "admin /ban"), ("/unban", "admin /unban"),
                          ("/gift 5", "admin /gift"), ("/admins", "refused: needs owner")):
        assert act(w, bot, admin_message(w, text, thread, user=HELPER)) == outcome, text
    assert act(w, bot, button(w, "ban:42", thread, HELPER)) == "admin /ban"
    assert w.query("SELECT kind, credits FROM ledger WHERE bot_id = %s", (bot.id,)) == [
        ("gift", 5)]

    # the owner manages the admins, in the group (outside topics) or in a private chat
    def owner(text, thread_id=None):
        return act(w, bot, admin_message(w, text, thread_id, user=ADMIN_USER))
    assert owner("/admins add 12 agent") == "admin /admins add"
    assert owner("/admins add 10 admin") == "admin /admins add"
    assert owner("/admins remove 11") == "admin /admins remove"
    assert owner("/admins remove 11") == "admin /admins remove: not an admin"
    assert owner("/admins remove 7") == "admin /admins remove: the last owner"
    assert owner("/admins add 7 agent") == "admin /admins add: the last owner"
    for bad in ("/admins add x1 agent", "/admins add 12", "/admins add 12 king",
                "/admins add -3 agent", "/admins frob", "/admins remove 12 agent"):
        assert owner(bad) == "admin /admins: usage", bad
    assert "Unknown role" in said(w, bot)[-4]["text"]
    assert owner("/admins") == "admin /admins"
    listing = said(w, bot)[-1]["text"]
    assert listing.splitlines()[1:4] == ["7 owner", "10 admin", "12 agent"]
    private = w.message("/admins", user=ADMIN_USER)
    assert act(w, bot, private) == "admin /admins"
    assert said(w, bot, chat=ADMIN_USER)[-1]["text"] == listing
    assert act(w, bot, w.message("/admins", user=43)) == "refused: needs owner"
    assert said(w, bot, chat=43)[-1]["text"].startswith("⛔ Not allowed")
    assert w.query("SELECT user_id, role FROM bot_admins WHERE bot_id = %s ORDER BY user_id",
                   (bot.id,)) == [(7, "owner"), (10, "admin"), (12, "agent")]


def test_every_admin_action_is_audited(w):
    bot = w.new_bot(admin_chat_id=ADMIN, admins={ADMIN_USER: "owner", HELPER: "admin"})
    thread = topic(w, bot)
    for text, user in (("/ban", HELPER), ("/unban", HELPER), ("/gift 3", HELPER),
                       ("/close", HELPER), ("/reopen", HELPER), ("/info", HELPER),
                       ("/admins add 12 agent", ADMIN_USER),
                       ("/admins remove 12", ADMIN_USER)):
        act(w, bot, admin_message(w, text, thread, user=user))
    act(w, bot, button(w, "ban:42", thread, HELPER))
    tg = [(action, target) for _, action, target in audit(w, bot, "telegram")]
    assert tg == [("user.ban", "42"), ("user.unban", "42"), ("user.gift", "42"),
                  ("topic.close", "42"), ("topic.reopen", "42"), ("admin.set", "12"),
                  ("admin.remove", "12"), ("user.ban", "42")]
    actors = [r[0] for r in audit(w, bot, "telegram")]
    assert actors == ["11"] * 5 + ["7", "7", "11"]

    # the API reads them back, newest first, filtered and paged
    api = w.key()
    r = api.get("/v1/audit", params={"bot_id": bot.id, "source": "telegram", "limit": 3})
    assert r.status_code == 200, r.text
    page = r.json()
    assert [e["action"] for e in page["audit"]] == ["user.ban", "admin.remove", "admin.set"]
    assert page["audit"][1]["detail"] == {"role": "agent"}
    older = api.get("/v1/audit", params={"bot_id": bot.id, "source": "telegram",
                                         "after": page["next_cursor"]}).json()
    assert [e["action"] for e in older["audit"]] == ["topic.reopen", "topic.close",
                                                     "user.gift", "user.unban", "user.ban"]
    assert older["audit"][2]["detail"] == {"credits": 3}
    assert older["next_cursor"] is None
    gifts = api.get("/v1/audit", params={"action": "user.gift"}).json()["audit"]
    assert [(e["actor"], e["target"], e["bot_id"]) for e in gifts] == [("11", "42", bot.id)]


def test_api_and_dashboard_changes_are_audited(w):
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    key_id = w.one("SELECT min(id) FROM api_keys")[0]  # api's (add_admin makes another)
    base = f"/v1/bots/{bot.id}"
    assert api.request("PUT", f"{base}/admins/555", {"role": "agent"}).status_code == 201
    assert api.request("PUT", f"{base}/admins/555", {"role": "admin"}).status_code == 200
    assert api.request("PUT", f"{base}/admins/555", {"role": "admin"}).status_code == 200
    admins = api.get(f"{base}/admins").json()["admins"]
    assert [(a["user_id"], a["role"]) for a in admins] == [(ADMIN_USER, "owner"), (555, "admin")]
    assert admins[1]["added_by"] == f"api:{key_id}"
    r = api.delete(f"{base}/admins/555")
    assert r.status_code == 200 and r.json()["role"] == "admin"
    problem(api.delete(f"{base}/admins/555"), 404, "admin_not_found")
    assert api.patch(base, {"settings": {"welcome": "Hi"}}).status_code == 200
    product = api.post(f"{base}/products", {"label": "10", "credits": 10, "price": 100}).json()
    assert api.patch(f"{base}/products/{product['id']}", {"price": 200}).status_code == 200
    assert api.delete(f"{base}/products/{product['id']}").status_code == 200
    w.say(bot, "hi", user=USER)
    r = api.post(f"{base}/users/{USER}/credits", {"credits": 4, "reason": "sorry"},
                 headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200, r.text
    api.post(f"{base}/users/{USER}/credits", {"credits": 4, "reason": "sorry"},
             headers={"Idempotency-Key": "k1"})  # a replay: audited once
    campaign = api.post("/v1/campaigns", {"bot_ids": [bot.id], "message": {"text": "news"},
                                          "gift": 2})
    assert campaign.status_code == 201, campaign.text
    cid = campaign.json()["id"]
    assert api.post(f"/v1/campaigns/{cid}/start").status_code == 200
    assert api.post(f"/v1/campaigns/{cid}/cancel").status_code == 200
    rows = w.query("SELECT source, actor, action, target FROM audit_log WHERE source = 'api'"
                   " ORDER BY id")
    actions = [r[2] for r in rows if r[1] == str(key_id)]
    # the same role again is no change: not audited; a replayed credit neither
    assert actions == ["admin.set", "admin.set", "admin.remove", "bot.update",
                       "product.create", "product.update", "product.deactivate",
                       "user.credit", "campaign.start", "campaign.gift", "campaign.cancel"]
    listed = api.get("/v1/audit", params={"source": "api", "action": "bot.update"}).json()
    assert listed["audit"][0]["detail"] == {"settings": {"welcome": "Hi"}}

    # the dashboard's changes are the dashboard's, with the account's email
    acc = new_account(w, "boss@example.com", "admin")
    dash = login(w, "boss@example.com")
    r = dash.request("PUT", f"{base}/admins/777", {"role": "agent"})
    assert r.status_code == 201, r.text
    entry = api.get("/v1/audit", params={"source": "dashboard"}).json()["audit"][0]
    assert (entry["actor"], entry["actor_name"], entry["action"], entry["target"]) == (
        str(acc), "boss@example.com", "admin.set", "777")


def test_another_tenant_can_neither_read_nor_change(w):
    bot = w.new_bot(admin_chat_id=ADMIN)
    them = w.key(tenant="other")
    base = f"/v1/bots/{bot.id}/admins"
    problem(them.get(base), 404, "bot_not_found")
    problem(them.request("PUT", f"{base}/5", {"role": "owner"}), 404, "bot_not_found")
    problem(them.delete(f"{base}/{ADMIN_USER}"), 404, "bot_not_found")
    problem(them.get("/v1/audit", params={"bot_id": bot.id}), 404, "bot_not_found")
    assert them.get("/v1/audit").json() == {"audit": [], "next_cursor": None}
    assert w.query("SELECT user_id FROM bot_admins WHERE bot_id = %s", (bot.id,)) == [
        (ADMIN_USER,)]
    # and a key of the bot's own tenant below admin scope cannot either
    reader = w.key(scope="read")
    problem(reader.get(base), 403, "forbidden")
    problem(reader.get("/v1/audit"), 403, "forbidden")


def test_bad_input_is_a_clear_422_and_changes_nothing(w):
    """a bad user id, role or filter is a 422 naming the field, as in the rest of the API"""
    api = w.key()
    bot = w.new_bot(admin_chat_id=ADMIN)
    base = f"/v1/bots/{bot.id}/admins"
    for user in ("abc", "-5", "0", "1e3", "99999999999999999999"):
        problem(api.request("PUT", f"{base}/{user}", {"role": "agent"}), 422,
                "invalid_field", "user_id")
        problem(api.delete(f"{base}/{user}"), 422, "invalid_field", "user_id")
    for body in ({"role": "king"}, {"role": "Owner"}, {}, {"role": 1},
                 {"role": "agent", "extra": 1}):
        r = problem(api.request("PUT", f"{base}/5", body), 422, "invalid_field", "role")
        assert "owner" in r["detail"] and "agent" in r["detail"]
    problem(api.request("PUT", f"{base}/5", data="{nope", headers={
        "Content-Type": "application/json"}), 400, "invalid_json")
    for params, field in (({"source": "fax"}, "source"), ({"bot_id": "abc"}, "bot_id"),
                          ({"action": "x" * 65}, "action")):
        problem(api.get("/v1/audit", params=params), 422, "invalid_parameter", field)
    problem(api.get("/v1/audit", params={"limit": 0}), 422, "invalid_parameter", "limit")
    problem(api.get("/v1/bots/999999/admins"), 404, "bot_not_found")
    assert w.query("SELECT user_id FROM bot_admins WHERE bot_id = %s", (bot.id,)) == [
        (ADMIN_USER,)]


# -- the roles table of docs/admins.md, row by row ---------------------------------------

ROLES = ["agent", "admin", "owner"]
BELOW = {"agent": None, "admin": "agent", "owner": "admin"}


def roles_table():
    """docs/admins.md's table of roles: [(action, needs)]"""
    text = (Path(__file__).resolve().parents[2] / "docs" / "admins.md").read_text()
    section = text.split("## Roles", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    return [(a.strip(), n.strip().strip("`")) for a, _, n in rows[1:]]


def row_update(w, action, thread, user):
    """the update that does the table's action as user"""
    if action.startswith("a reply"):
        return admin_message(w, "We are on it", thread, user=user)
    if action.startswith("the card's "):
        data = action.split()[2].lower() + f":{USER}"
        return button(w, data, thread, user)
    command = action.strip("`").replace(" N", " 1")
    return admin_message(w, command, None if command == "/admins" else thread, user=user)


def test_the_roles_table_is_what_webhookd_does(w):
    table = roles_table()
    assert len(table) == 11 and {n for _, n in table} == set(ROLES), table
    people = {role: 20 + i for i, role in enumerate(ROLES)}
    bot = w.new_bot(admin_chat_id=ADMIN, admins={ADMIN_USER: "owner", **{
        u: r for r, u in people.items()}})
    thread = topic(w, bot)
    for action, needs in table:
        below = BELOW[needs]
        refused = act(w, bot, row_update(w, action, thread, people[below] if below else 30))
        assert refused == f"refused: needs {needs}", (action, refused)
        allowed = act(w, bot, row_update(w, action, thread, people[needs]))
        assert not allowed.startswith("refused"), (action, allowed)
