"""GET /v1/stats/heatmap (gatewayd/heatmap.c): outbound messages by weekday and hour of
creation in a time zone, for a bot or all, seen by their tenant only; bad parameters
are 422s.
"""

import datetime

from api_helpers import problem, world  # noqa: F401 (fixture)


def cells(api, **params):
    r = api.get("/v1/stats/heatmap", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_messages_by_weekday_and_hour(world):  # noqa: F811
    api = world.api("acme")
    one, two = api.new_bot(), api.new_bot()
    for bot, n in ((one, 3), (two, 2)):
        for i in range(n):
            api.send_ok({"bot_id": bot["id"], "chat_id": 100 + i, "text": "x"})
    world.query("UPDATE messages SET status = 'sent', sent_at = now() WHERE bot_id = %s"
                " AND chat = '100'", (one["id"],))
    rows = world.query("SELECT bot_id, status, created_at FROM messages")

    def expected(offset_h, bot=None):
        """the cells as counted here from the rows, in UTC + offset_h"""
        tz = datetime.timezone(datetime.timedelta(hours=offset_h))
        grid = {}
        for bot_id, status, created in rows:
            if bot is None or bot_id == bot:
                t = created.astimezone(tz)
                c = grid.setdefault((t.isoweekday(), t.hour), [0, 0])
                c[0] += 1
                c[1] += status == "sent"
        return [{"weekday": w, "hour": h, "accepted": a, "sent": n}
                for (w, h), (a, n) in sorted(grid.items())]

    got = cells(api)
    assert got["tz"] == "UTC" and got["from"] and got["to"]
    assert got["cells"] == expected(0) and sum(c["accepted"] for c in got["cells"]) == 5, got
    assert sum(c["sent"] for c in got["cells"]) == 1
    # in Tokyo (UTC+9, no summer time) the same messages sit nine hours later
    got = cells(api, tz="Asia/Tokyo", bot_id=two["id"])
    assert got["tz"] == "Asia/Tokyo"
    assert got["cells"] == expected(9, two["id"]), got
    assert sum(c["accepted"] for c in got["cells"]) == 2
    # a range without them, and another tenant: nothing
    assert cells(api, **{"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"}
                 )["cells"] == []
    other = world.api("globex", "read")
    assert cells(other)["cells"] == []
    assert cells(other, bot_id=one["id"])["cells"] == []


def test_bad_parameters(world):  # noqa: F811
    api = world.api("acme", "read")
    for params, field in (({"tz": "Mars/Olympus"}, "tz"), ({"tz": "x' OR 1=1"}, "tz"),
                          ({"from": "yesterday"}, "from"), ({"bot_id": "0"}, "bot_id"),
                          ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                           "from")):
        problem(api.get("/v1/stats/heatmap", params=params), 422, "invalid_parameter", field)
    assert world.anonymous().get("/v1/stats/heatmap").status_code == 401
