"""GET /v1/alerts against real PostgreSQL rows: a bot disabled by Telegram, due messages
that no senderd lane holds, overdue delivery callbacks, stale daemon heartbeats; each
tenant sees only its own bots and callbacks.
"""

from api_helpers import api, msg, world  # noqa: F401


def kinds(api):
    r = api.get("/v1/alerts")
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def test_alerts(world, api):
    q = world.query
    other = world.api("globex")
    assert [a for a in kinds(api) if a["kind"] != "daemon_stale"] == []
    off = api.new_bot()
    busy = api.new_bot()
    q("UPDATE bots SET enabled = false, disabled_reason = 'Forbidden: <b>gone</b>'"
      " WHERE id = %s", (off["id"],))
    operator_off = api.new_bot()
    assert api.patch(f"/v1/bots/{operator_off['id']}", {"enabled": False}).status_code == 200
    m = api.send_ok(msg(bot_id=busy["id"], text="waiting"))
    # just accepted: a lane has ten seconds to take it
    assert [a["kind"] for a in kinds(api)] == ["bot_disabled"]
    q("UPDATE messages SET not_before = now() - interval '1 minute' WHERE id = %s", (m["id"],))
    q("INSERT INTO callbacks (message_id, tenant_id, url, payload, next_attempt_at) VALUES"
      " (%s, %s, 'http://app.invalid/cb', '{}', now() - interval '5 minutes'),"
      " (%s, %s, 'http://app.invalid/cb', '{}', now() - interval '2 minutes'),"
      " (%s, %s, 'http://app.invalid/cb', '{}', now())",
      (m["id"], world.tenant_id("acme"), m["id"], world.tenant_id("acme"),
       m["id"], world.tenant_id("acme")))
    q("INSERT INTO daemons (name, instance, host, pid, version, seen_at) VALUES"
      " ('senderd', 'b', 'h1', 1, 'v', now() - interval '5 minutes')")
    q("INSERT INTO daemons (name, instance, host, pid, version, seen_at, stopped_at) VALUES"
      " ('senderd', 'c', 'h1', 2, 'v', now() - interval '5 minutes', now())")
    a = kinds(api)
    assert [x["kind"] for x in a] == ["bot_disabled", "lane_not_held", "callback_backlog",
                                      "daemon_stale"], a
    assert a[0] == {"kind": "bot_disabled", "bot_id": off["id"], "bot": off["name"],
                    "reason": "Forbidden: <b>gone</b>"}
    assert (a[1]["bot_id"], a[1]["queued"], a[1]["owner"], a[1]["expires_at"]) == \
        (busy["id"], 1, None, None)
    assert a[2]["pending"] == 2 and a[2]["oldest_due_at"]
    assert (a[3]["name"], a[3]["instance"], a[3]["host"]) == ("senderd", "b", "h1")
    # another tenant: only the daemons, which everybody shares
    assert [x["kind"] for x in kinds(other)] == ["daemon_stale"]
    # a lane held: no alert; a lease run out: the alert names its last owner
    q("INSERT INTO bot_leases (bot_id, owner, expires_at) VALUES (%s, 'h1/a', now() + interval"
      " '1 minute')", (busy["id"],))
    assert "lane_not_held" not in [x["kind"] for x in kinds(api)]
    q("UPDATE bot_leases SET expires_at = now() - interval '1 minute'")
    lane = [x for x in kinds(api) if x["kind"] == "lane_not_held"]
    assert lane[0]["owner"] == "h1/a"
    # all fixed: none
    q("UPDATE messages SET status = 'canceled' WHERE id = %s", (m["id"],))
    q("UPDATE callbacks SET status = 'delivered'")
    q("UPDATE daemons SET seen_at = now()")
    q("UPDATE bots SET enabled = true, disabled_reason = NULL")
    assert kinds(api) == []


def test_alerts_need_a_key(world):
    assert world.anonymous().get("/v1/alerts").status_code == 401
    assert world.api("acme", "read").get("/v1/alerts").status_code == 200
