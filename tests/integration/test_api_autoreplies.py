"""gatewayd's auto-reply rules (issue 16): GET, POST /v1/bots/{id}/autoreplies, PATCH and
DELETE /v1/bots/{id}/autoreplies/{rule_id}, POST /v1/bots/{id}/autoreplies/order. Bodies
are checked (a bounded regular expression, a time zone PostgreSQL knows, each kind's
fields) and nothing is stored when they are refused; viewers read, admins write;
another tenant's bot is a 404. A change reaches webhookd (NOTIFY tgm_autoreplies).
"""

import pytest

from api_helpers import api, problem, world  # noqa: F401 (fixtures)
from conftest import wait_for

KEYWORD = {"kind": "keyword", "match": "contains", "pattern": "price", "text": "See /buy"}
HOURS = {"kind": "hours", "time_zone": "Europe/Berlin", "opens": "09:00", "closes": "17:30",
         "text": "We are away; back at 9."}
GREETING = {"kind": "greeting", "text": "Hello, nice to meet you!"}


def path(bot, rule=None):
    return f"/v1/bots/{bot['id']}/autoreplies" + (f"/{rule}" if rule else "")


def stored(world, bot):
    return world.query("SELECT count(*) FROM autoreplies WHERE bot_id = %s", (bot["id"],))[0][0]


def test_create_list_change_delete(api, world):
    bot = api.new_bot()
    made = []
    for body in (KEYWORD, HOURS, GREETING):
        r = api.post(path(bot), body)
        assert r.status_code == 201, r.text
        made.append(r.json())
    k, h, g = made
    assert k["kind"] == "keyword" and k["match"] == "contains" and k["pattern"] == "price"
    assert k["window_seconds"] == 60 and k["enabled"] is True and k["time_zone"] is None
    assert h["days"] == [1, 2, 3, 4, 5] and h["opens"] == "09:00" and h["closes"] == "17:30"
    assert h["window_seconds"] == 3600 and h["match"] is None
    assert g["window_seconds"] == 3600
    assert [m["position"] for m in made] == [1, 2, 3]
    listed = api.get(path(bot)).json()["autoreplies"]
    assert [x["id"] for x in listed] == [k["id"], h["id"], g["id"]]
    r = api.patch(path(bot, k["id"]), {"match": "regex", "pattern": "^pri(ce|x)$",
                                       "window_seconds": 120, "enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["pattern"] == "^pri(ce|x)$" and r.json()["enabled"] is False
    r = api.patch(path(bot, h["id"]), {"days": [6, 7], "time_zone": "Asia/Tokyo"})
    assert r.json()["days"] == [6, 7] and r.json()["time_zone"] == "Asia/Tokyo"
    r = api.delete(path(bot, g["id"]))
    assert r.status_code == 200 and r.json()["id"] == g["id"]
    assert [x["id"] for x in api.get(path(bot)).json()["autoreplies"]] == [k["id"], h["id"]]
    problem(api.delete(path(bot, g["id"])), 404, "rule_not_found")


def test_reorder(api):
    bot = api.new_bot()
    ids = [api.post(path(bot), dict(KEYWORD, pattern=f"p{i}")).json()["id"] for i in range(3)]
    r = api.post(path(bot) + "/order", {"order": [ids[2], ids[0], ids[1]]})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["autoreplies"]] == [ids[2], ids[0], ids[1]]
    for bad in ([ids[0], ids[1]], ids + [ids[0]], [ids[0], ids[1], 999999]):
        problem(api.post(path(bot) + "/order", {"order": bad}), 422, "invalid_field", "order")
    problem(api.post(path(bot) + "/order", {"order": "x"}), 422, "invalid_field", "order")
    assert [x["id"] for x in api.get(path(bot)).json()["autoreplies"]] == [ids[2], ids[0], ids[1]]


@pytest.mark.parametrize("body, field, detail", [
    (dict(KEYWORD, match="regex", pattern="(unclosed"), "pattern",
     "not a valid extended regular expression"),
    (dict(KEYWORD, match="regex", pattern="(a)\\1"), "pattern", "back-references"),
    (dict(KEYWORD, match="regex", pattern="a{1,500}"), "pattern", "at most 20"),
    (dict(KEYWORD, match="regex", pattern="x" * 201), "pattern", "1 to 200 bytes"),
    (dict(KEYWORD, match="regex", pattern="a+" + "+" * 30), "pattern", "cannot follow another"),
    (dict(KEYWORD, match="regex", pattern="(" * 12 + "a+" + ")+" * 12), "pattern",
     "repeated group cannot hold"),
    (dict(KEYWORD, match="regex", pattern="(abcdefghij){20}" * 5), "pattern", "too big"),
    (dict(KEYWORD, match="fuzzy"), "match", "exact, contains or regex"),
    (dict(HOURS, time_zone="Mars/Olympus"), "time_zone", "IANA time zone"),
    (dict(HOURS, time_zone="Europe/Berlin; DROP"), "time_zone", "IANA time zone"),
    (dict(HOURS, opens="25:00"), "opens", "HH:MM"),
    (dict(HOURS, days=[0, 1]), "days", "1 (Monday) to 7"),
    (dict(HOURS, days=[1, 1]), "days", "distinct"),
    ({k: v for k, v in HOURS.items() if k != "closes"}, "closes", "needs time_zone"),
    (dict(GREETING, pattern="x"), "pattern", "for keyword rules"),
    (dict(GREETING, text="   "), "text", "not only spaces"),
    (dict(GREETING, window_seconds=5), "window_seconds", "10 to 2592000"),
    (dict(GREETING, kind="other"), "kind", "keyword, hours or greeting"),
    ({"text": "x"}, "kind", "kind is needed"),
    (dict(GREETING, colour="red"), "colour", "a rule has"),
])
def test_bad_rules_are_refused_and_nothing_stored(api, world, body, field, detail):
    bot = api.new_bot()
    problem(api.post(path(bot), body), 422, None, field, detail)
    assert stored(world, bot) == 0


def test_bad_changes_are_refused_and_nothing_changes(api, world):
    bot = api.new_bot()
    k = api.post(path(bot), KEYWORD).json()
    h = api.post(path(bot), HOURS).json()
    problem(api.patch(path(bot, k["id"]), {"match": "regex", "pattern": "a**{"}), 422,
            "invalid_field", "pattern")
    problem(api.patch(path(bot, k["id"]), {"pattern": "x"}), 422, "invalid_field", "match")
    problem(api.patch(path(bot, k["id"]), {"kind": "greeting"}), 422, "invalid_field", "kind")
    problem(api.patch(path(bot, k["id"]), {"time_zone": "UTC"}), 422, "invalid_field")
    problem(api.patch(path(bot, h["id"]), {"time_zone": "Nowhere/Atall"}), 422,
            "invalid_field", "time_zone")
    assert api.get(path(bot)).json()["autoreplies"] == [k, h]


def test_a_bot_has_at_most_100_rules(api, world):
    bot = api.new_bot()
    world.query("INSERT INTO autoreplies (bot_id, position, kind, text, window_seconds)"
                " SELECT %s, g, 'greeting', 'hi', 3600 FROM generate_series(1, 99) g",
                (bot["id"],))
    assert api.post(path(bot), GREETING).status_code == 201
    problem(api.post(path(bot), GREETING), 422, "invalid_field", "kind", "at most 100 rules")
    assert stored(world, bot) == 100


def test_roles_viewer_reads_admin_writes(world, api):
    bot = api.new_bot()
    rule = api.post(path(bot), KEYWORD).json()
    reader = world.api("acme", "read")
    assert reader.get(path(bot)).json()["autoreplies"] == [rule]
    problem(reader.post(path(bot), GREETING), 403)
    problem(reader.patch(path(bot, rule["id"]), {"enabled": False}), 403)
    problem(reader.delete(path(bot, rule["id"])), 403)
    problem(reader.post(path(bot) + "/order", {"order": [rule["id"]]}), 403)
    assert stored(world, bot) == 1


def test_another_tenants_bot_is_not_found(world, api):
    bot = api.new_bot()
    rule = api.post(path(bot), KEYWORD).json()
    other = world.api("globex", "admin")
    problem(other.get(path(bot)), 404, "bot_not_found")
    problem(other.post(path(bot), GREETING), 404, "bot_not_found")
    problem(other.patch(path(bot, rule["id"]), {"text": "mine now"}), 404, "bot_not_found")
    problem(other.delete(path(bot, rule["id"])), 404, "bot_not_found")
    problem(other.post(path(bot) + "/order", {"order": [rule["id"]]}), 404, "bot_not_found")
    mine = other.new_bot()  # a rule id of another bot is no rule of this one
    problem(other.patch(path(mine, rule["id"]), {"text": "x"}), 404, "rule_not_found")
    assert api.get(path(bot)).json()["autoreplies"] == [rule]


def test_changes_are_announced_to_webhookd(world, api):
    bot = api.new_bot()
    conn = world.env.connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("LISTEN tgm_autoreplies")
    rule = api.post(path(bot), KEYWORD).json()
    api.patch(path(bot, rule["id"]), {"text": "changed"})
    api.delete(path(bot, rule["id"]))

    def heard():
        conn.poll()
        return len(conn.notifies) >= 3 and conn.notifies
    got = wait_for(heard, 10, what="three announcements")
    assert {n.payload for n in got} == {str(bot["id"])}
    conn.close()
