"""GET /v1/stats/activity: traffic by weekday and hour, active bot users, revenue and
credits spent per day, for a bot or all of the tenant's, read from real PostgreSQL rows.
"""

from datetime import datetime, timezone

import pytest

from api_helpers import api, msg, mworld, problem, world  # noqa: F401

MON_10 = "2026-11-30T10:15:00Z"  # a Monday
TUE_23 = "2026-12-01T23:59:00Z"  # a Tuesday


def test_activity(world, api):
    a = api.new_bot()
    b = api.new_bot()
    q = world.query
    ids = [api.send_ok(msg(bot_id=a["id"], text=f"a{i}"))["id"] for i in range(3)]
    api.send_ok(msg(bot_id=b["id"], text="b"))
    # the counters follow created_at: move two of a's messages to Monday 10:00 UTC
    q("UPDATE messages SET created_at = %s WHERE id = ANY(%s)", (MON_10, ids[:2]))
    for i, (bot, at) in enumerate([(a, MON_10), (a, MON_10), (b, TUE_23)]):
        q("INSERT INTO tg_updates (bot_id, update_id, kind, payload, received_at)"
          " VALUES (%s, %s, 'message', '{}', %s)", (bot["id"], 100 + i, at))
    q("INSERT INTO bot_users (bot_id, user_id, first_name, last_seen_at) VALUES"
      " (%s, 1, '<b>x</b>', '2026-12-02T12:00:00Z'), (%s, 2, 'y', '2026-11-28T12:00:00Z'),"
      " (%s, 3, 'z', '2026-11-10T12:00:00Z'), (%s, 4, 'w', '2026-10-01T00:00:00Z')",
      (a["id"], a["id"], b["id"], b["id"]))
    q("INSERT INTO payments (bot_id, user_id, kind, status, amount, currency, credits,"
      " refunded_amount, paid_at) VALUES"
      " (%s, 1, 'checkout', 'paid', 500, 'eur', 50, 200, '2026-12-01T09:00:00Z'),"
      " (%s, 2, 'checkout', 'paid', 300, 'eur', 30, 0, '2026-12-01T18:00:00Z'),"
      " (%s, 2, 'checkout', 'failed', 900, 'eur', 90, 0, NULL),"
      " (%s, 3, 'stars', 'paid', 25, 'XTR', 10, 0, '2026-11-30T01:00:00Z')",
      (a["id"], a["id"], a["id"], b["id"]))
    q("INSERT INTO ledger (bot_id, user_id, key, kind, requested, credits, balance, at)"
      " VALUES (%s, 1, 'd1', 'debit', -1, -1, 49, '2026-12-01T10:00:00Z'),"
      " (%s, 1, 'd2', 'debit', -2, -2, 47, '2026-12-01T11:00:00Z'),"
      " (%s, 1, 'g1', 'grant', 50, 50, 50, '2026-12-01T09:00:00Z'),"
      " (%s, 3, 'd3', 'debit', -4, -4, 6, '2026-11-30T02:00:00Z')",
      (a["id"], a["id"], a["id"], b["id"]))

    rng = {"from": "2026-11-30T00:00:00Z", "to": "2026-12-03T00:00:00Z"}
    r = api.get("/v1/stats/activity", params=rng)
    assert r.status_code == 200, r.text
    s = r.json()
    assert set(s) == {"from", "to", "heatmap", "active_users", "revenue", "credits_spent"}
    assert datetime.fromisoformat(s["to"]) == datetime(2026, 12, 3, tzinfo=timezone.utc)
    assert s["heatmap"] == [{"dow": 1, "hour": 10, "inbound": 2, "outbound": 2},
                            {"dow": 2, "hour": 23, "inbound": 1, "outbound": 0}]
    assert s["active_users"] == {"day": 1, "week": 2, "month": 3}
    assert s["revenue"] == [
        {"day": "2026-11-30", "currency": "XTR", "payments": 1, "amount": 25, "refunded": 0,
         "net": 25},
        {"day": "2026-12-01", "currency": "eur", "payments": 2, "amount": 800,
         "refunded": 200, "net": 600}]
    assert s["credits_spent"] == [{"day": "2026-11-30", "credits": 4},
                                  {"day": "2026-12-01", "credits": 3}]

    # one bot
    s = api.get("/v1/stats/activity", params={**rng, "bot_id": a["id"]}).json()
    assert s["heatmap"] == [{"dow": 1, "hour": 10, "inbound": 2, "outbound": 2}]
    assert s["active_users"] == {"day": 1, "week": 2, "month": 2}
    assert [x["currency"] for x in s["revenue"]] == ["eur"]
    assert s["credits_spent"] == [{"day": "2026-12-01", "credits": 3}]
    # the default range is the last 7 days (to the hour of the oldest)
    s = api.get("/v1/stats/activity").json()
    recent = q("SELECT count(*) FROM messages WHERE created_at >="
               " date_trunc('hour', now() - interval '7 days')")[0][0]
    assert recent >= 2 and sum(x["outbound"] for x in s["heatmap"]) == recent
    # a range that holds nothing
    s = api.get("/v1/stats/activity", params={"from": "2001-01-01T00:00:00Z",
                                              "to": "2001-01-02T00:00:00Z"}).json()
    assert (s["heatmap"], s["revenue"], s["credits_spent"]) == ([], [], [])
    assert s["active_users"] == {"day": 0, "week": 0, "month": 0}


def test_activity_is_the_tenants_own(world):
    mine, theirs = world.api("acme"), world.api("globex")
    bot = theirs.new_bot()
    theirs.send_ok(msg(bot_id=bot["id"], text="x"))
    s = mine.get("/v1/stats/activity").json()
    assert s["heatmap"] == []
    s = mine.get("/v1/stats/activity", params={"bot_id": bot["id"]}).json()
    assert s["heatmap"] == []
    assert sum(x["outbound"] for x in theirs.get("/v1/stats/activity").json()["heatmap"]) >= 1


@pytest.mark.parametrize("param, value", [
    ("from", "2026-02-30T00:00:00Z"), ("to", "1700000000"), ("bot_id", "x"), ("bot_id", "0"),
])
def test_activity_bad_parameters(mworld, param, value):
    admin = mworld.shared_api("acme")
    problem(admin.get("/v1/stats/activity", params={param: value}), 422, "invalid_parameter",
            param)


def test_active_users_up_to_now_come_from_the_janitors_count(world, api):
    """A range ending now reads bot_active_users (refreshed every minute by gatewayd's
    janitor) while the count is fresh for every bot of the range; else it counts."""
    a = api.new_bot()
    q = world.query
    q("INSERT INTO bot_users (bot_id, user_id, first_name, last_seen_at) VALUES"
      " (%s, 1, 'a', now() - interval '1 hour'), (%s, 2, 'b', now() - interval '3 days'),"
      " (%s, 3, 'c', now() - interval '20 days'), (%s, 4, 'd', now() - interval '40 days')",
      (a["id"],) * 4)

    def active():
        r = api.get("/v1/stats/activity", params={"bot_id": a["id"]})
        assert r.status_code == 200, r.text
        return r.json()["active_users"]

    assert active() == {"day": 1, "week": 2, "month": 3}  # no count yet: counted now
    q("SELECT bot_active_refresh()")
    q("INSERT INTO bot_users (bot_id, user_id, first_name, last_seen_at)"
      " VALUES (%s, 5, 'e', now() - interval '2 hours')", (a["id"],))
    assert active() == {"day": 1, "week": 2, "month": 3}  # the janitor's count
    q("UPDATE bot_active_users SET at = now() - interval '5 minutes'")
    assert active() == {"day": 2, "week": 3, "month": 4}  # stale: counted again
    q("SELECT bot_active_refresh()")
    assert active() == {"day": 2, "week": 3, "month": 4}
