"""gatewayd reading back: GET /v1/messages/{id} with events, GET /v1/messages filtered
and paged by cursor, cancel; tenant isolation; /v1/stats; the brief's /api aliases;
/metrics; routing (404/405); and durability of every 202 under SIGKILL.
"""

import json
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from api_helpers import (api, metric, events_of, message_row, msg, mworld, parallel, problem,  # noqa: F401
                         world)

MESSAGE_FIELDS = {"id", "bot_id", "chat_id", "method", "status", "priority", "attempts",
                  "telegram_message_id", "last_error", "created_at", "updated_at", "send_at",
                  "expires_at", "sent_at", "callback_url", "metadata", "text"}


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ------------------------------------------------------------ one message

def test_get_message_with_events(world, api):
    bot = api.new_bot()
    body = msg(chat_id=4242, text="hi", bot_id=bot["id"], priority="bulk", ttl_seconds=300,
               callback_url="https://example.com/cb", metadata={"a": [1, 2]})
    mid = api.send_ok(body)["id"]
    r = api.get(f"/v1/messages/{mid}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    m = r.json()
    assert set(m) == MESSAGE_FIELDS | {"params", "events"}
    assert (m["id"], m["bot_id"], str(m["chat_id"]), m["method"], m["status"],
            m["priority"], m["attempts"]) == (mid, bot["id"], "4242", "sendMessage",
                                              "queued", "bulk", 0)
    assert m["telegram_message_id"] is None and m["last_error"] is None
    assert m["sent_at"] is None and m["expires_at"]
    assert m["callback_url"] == "https://example.com/cb" and m["metadata"] == {"a": [1, 2]}
    assert m["params"] == {"chat_id": 4242, "text": "hi"}
    assert [(e["status"], e["detail"]) for e in m["events"]] == [("queued", None)]
    assert m["events"][0]["at"] == m["created_at"]

    # what senderd would record: attempts, the Telegram id, more events
    world.query("UPDATE messages SET status = 'sent', attempts = 2, telegram_message_id = 77,"
                " sent_at = now(), last_error = 'Too Many Requests: retry after 1'"
                " WHERE id = %s", (mid,))
    world.query("INSERT INTO message_events (message_id, status, detail) VALUES"
                " (%s, 'sending', NULL), (%s, 'retrying', '429 retry after 1'),"
                " (%s, 'sent', NULL)", (mid, mid, mid))
    m = api.get(f"/v1/messages/{mid}").json()
    assert (m["status"], m["attempts"], m["telegram_message_id"]) == ("sent", 2, 77)
    assert m["sent_at"] and m["last_error"].startswith("Too Many Requests")
    assert [e["status"] for e in m["events"]] == ["queued", "sending", "retrying", "sent"]
    assert m["events"][2]["detail"] == "429 retry after 1"
    assert m["events"][0]["at"] == m["created_at"]

    for bad in ("999999", "0", "-3", "abc", "1e3", "9" * 30):
        problem(api.get(f"/v1/messages/{bad}"), 404, "message_not_found")


def test_events_of_earlier_acceptances_and_given_back(world, api):
    """An acceptance made before the first transition came from created_at left an event
    row 'queued' at created_at: it shows once. A later 'queued' (a message given back by
    senderd) shows as it is."""
    bot = api.new_bot()
    mid = api.send_ok(msg(bot_id=bot["id"]))["id"]
    world.query("INSERT INTO message_events (message_id, status, at)"
                " SELECT id, 'queued', created_at FROM messages WHERE id = %s", (mid,))
    world.query("INSERT INTO message_events (message_id, status, detail) VALUES"
                " (%s, 'sending', NULL), (%s, 'queued', 'given back')", (mid, mid))
    m = api.get(f"/v1/messages/{mid}").json()
    assert [(e["status"], e["detail"]) for e in m["events"]] == \
        [("queued", None), ("sending", None), ("queued", "given back")]
    assert m["events"][0]["at"] == m["created_at"] != m["events"][2]["at"]


# ------------------------------------------------------------ cancel

def test_cancel(world, api):
    bot = api.new_bot()
    ids = [api.send_ok(msg(bot_id=bot["id"], text=f"c{i}"))["id"] for i in range(4)]
    r = api.post(f"/v1/messages/{ids[0]}/cancel")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": ids[0], "status": "canceled"}
    assert message_row(world, ids[0])["status"] == "canceled"
    assert events_of(api, ids[0]) == [("queued", None),
                                        ("canceled", "canceled through the API")]
    got = api.get(f"/v1/messages/{ids[0]}").json()
    assert got["status"] == "canceled"
    assert [e["status"] for e in got["events"]] == ["queued", "canceled"]

    # again: 200, and no second event
    r = api.post(f"/v1/messages/{ids[0]}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "canceled"
    assert len(events_of(api, ids[0])) == 2

    # a retrying message can still be canceled; with a JSON body too
    world.query("UPDATE messages SET status = 'retrying' WHERE id = %s", (ids[1],))
    assert api.post(f"/v1/messages/{ids[1]}/cancel", {}).status_code == 200
    assert message_row(world, ids[1])["status"] == "canceled"

    # too late
    for mid, st in ((ids[2], "sent"), (ids[3], "sending")):
        world.query("UPDATE messages SET status = %s WHERE id = %s", (st, mid))
        body = problem(api.post(f"/v1/messages/{mid}/cancel"), 409, "not_cancelable")
        assert st in body["detail"]
        assert message_row(world, mid)["status"] == st
        assert events_of(api, mid) == [("queued", None)]
    for st in ("failed", "expired"):
        world.query("UPDATE messages SET status = %s WHERE id = %s", (st, ids[2]))
        problem(api.post(f"/v1/messages/{ids[2]}/cancel"), 409, "not_cancelable")
    for bad in ("999999", "abc", "0"):
        problem(api.post(f"/v1/messages/{bad}/cancel"), 404, "message_not_found")


# ------------------------------------------------------------ the list

@pytest.fixture
def listed(world, api):
    """25 messages of bot a to chat 1 and 5 of bot b to chat 2 (ids ascending)."""
    a = api.new_bot()
    b = api.new_bot()
    r = api.post("/v1/messages/batch", {"messages":
                 [msg(chat_id=1, bot_id=a["id"], text=f"a{i}") for i in range(25)] +
                 [msg(chat_id=2, bot_id=b["id"], text=f"b{i}") for i in range(5)]})
    ids = [x["id"] for x in r.json()["results"]]
    assert len(ids) == 30
    return a, b, ids[:25], ids[25:]


def page_all(api, params, limit):
    pages, cursor = [], None
    for _ in range(50):
        q = dict(params, limit=limit)
        if cursor:
            q["after"] = cursor
        r = api.get("/v1/messages", params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"messages", "next_cursor"}
        pages.append([m["id"] for m in body["messages"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str) and cursor
    raise AssertionError("paging did not end")


def test_list_cursor_paging(world, api, listed):
    a, b, a_ids, b_ids = listed
    pages = page_all(api, {"bot_id": a["id"]}, 10)
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [i for p in pages for i in p]
    assert flat == sorted(a_ids, reverse=True)  # newest first, no duplicates, no gaps
    # everything of the tenant, default limit (50): one page
    r = api.get("/v1/messages").json()
    assert [m["id"] for m in r["messages"]] == sorted(a_ids + b_ids, reverse=True)
    assert r["next_cursor"] is None
    for m in r["messages"]:
        assert set(m) == MESSAGE_FIELDS
    # pages of 7 over all 30: 7,7,7,7,2
    pages = page_all(api, {}, 7)
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    assert [i for p in pages for i in p] == sorted(a_ids + b_ids, reverse=True)
    # messages accepted while paging do not disturb the pages already walked
    first = api.get("/v1/messages", params={"limit": 10}).json()
    api.send_ok(msg(chat_id=1, bot_id=a["id"]))
    second = api.get("/v1/messages", params={"limit": 10, "after": first["next_cursor"]})
    ids2 = [m["id"] for m in second.json()["messages"]]
    assert not set(ids2) & {m["id"] for m in first["messages"]}
    assert max(ids2) < min(m["id"] for m in first["messages"])


def test_list_filters(world, api, listed):
    a, b, a_ids, b_ids = listed

    def get(**q):
        return [m["id"] for m in api.get("/v1/messages", params=q).json()["messages"]]
    assert get(bot_id=b["id"]) == sorted(b_ids, reverse=True)
    assert get(chat_id="2") == sorted(b_ids, reverse=True)
    assert get(chat_id="1", limit=1000) == sorted(a_ids, reverse=True)
    assert get(chat_id="3") == []
    assert get(bot_id=b["id"], chat_id="1") == []
    world.query("UPDATE messages SET status = 'sent', sent_at = now() WHERE id = ANY(%s)",
                (a_ids[:3],))
    world.query("UPDATE messages SET status = 'failed' WHERE id = %s", (b_ids[0],))
    assert get(status="sent") == sorted(a_ids[:3], reverse=True)
    assert get(status="failed", bot_id=b["id"]) == [b_ids[0]]
    assert get(status="queued", bot_id=a["id"]) == sorted(a_ids[3:], reverse=True)
    assert get(status="expired") == []
    # time: move some messages into the past
    now = datetime.now(timezone.utc)
    world.query("UPDATE messages SET created_at = now() - interval '3 days' WHERE id = ANY(%s)",
                (a_ids[:5],))
    world.query("UPDATE messages SET created_at = now() - interval '1 day' WHERE id = ANY(%s)",
                (a_ids[5:10],))
    two_days = iso(now - timedelta(days=2))
    half_day = iso(now - timedelta(hours=12))
    assert get(until=two_days) == sorted(a_ids[:5], reverse=True)
    assert get(since=two_days, until=half_day) == sorted(a_ids[5:10], reverse=True)
    assert get(since=half_day, bot_id=a["id"], limit=100) == sorted(a_ids[10:], reverse=True)
    assert get(since=(now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
               until=(now - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%S-00:00")) == \
        sorted(a_ids[5:10], reverse=True)
    # paging inside a filter
    pages = page_all(api, {"bot_id": a["id"], "since": two_days}, 10)
    if pages[-1] == []:  # a full last page may still carry a cursor (to an empty page)
        pages.pop()
    assert [len(p) for p in pages] == [10, 10]
    assert [i for p in pages for i in p] == sorted(a_ids[5:], reverse=True)


def test_stats_ranges_count_partial_hours_from_minutes_once(world, api):
    """Whole hours come from the hour counters, the partial hours at each end from the
    minute counters: over ranges starting and ending anywhere (on an hour, inside one,
    inside the same hour, a minute's bucket), the totals are those of the messages whose
    minute of creation is in the range, none counted twice."""
    bot = api.new_bot()
    ids = [api.send_ok(msg(bot_id=bot["id"], text=f"s{i}"))["id"] for i in range(48)]
    q = world.query
    q("UPDATE messages SET created_at = created_at - (array_position(%s::bigint[], id) - 1)"
      " * interval '9 minutes 13 seconds' WHERE id = ANY(%s)", (ids, ids))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    hour = now.replace(minute=0, second=0)
    ranges = [(now - timedelta(hours=7), now), (hour - timedelta(hours=5), hour),
              (hour - timedelta(hours=5, minutes=-17), now - timedelta(minutes=71)),
              (hour - timedelta(hours=3, minutes=41), hour - timedelta(hours=3, minutes=2)),
              (hour - timedelta(hours=2, minutes=50), hour - timedelta(hours=1, minutes=10))]
    for lo, hi in ranges:
        want = q("SELECT count(*) FROM messages WHERE id = ANY(%s) AND date_trunc('minute',"
                 " created_at) >= date_trunc('minute', %s::timestamptz)"
                 " AND date_trunc('minute', created_at) < %s", (ids, lo, hi))[0][0]
        for bucket in ("minute", "hour", "day"):
            s = api.get("/v1/stats", params={"from": iso(lo), "to": iso(hi), "bucket": bucket,
                                             "bot_id": bot["id"]}).json()
            assert s["total"]["accepted"] == want, (lo, hi, bucket)
            assert sum(x["accepted"] for x in s["series"]) == want, (lo, hi, bucket)


@pytest.mark.parametrize("param, value", [
    ("bot_id", "abc"), ("bot_id", "0"), ("bot_id", "-1"), ("bot_id", "1.5"),
    ("bot_id", "99999999999999999999"),
    ("status", "bogus"), ("status", "QUEUED"), ("status", ""),
    ("since", "2026-02-30T00:00:00Z"), ("since", "yesterday"), ("since", "2026-01-01"),
    ("until", "2026-01-01T25:00:00Z"), ("until", "1700000000"),
    ("limit", "0"), ("limit", "1001"), ("limit", "-1"), ("limit", "ten"),
    ("after", "abc"), ("after", "0"), ("after", "-5"),
    # gw_query copies into a fixed buffer: an over-long value must not be cut to a valid one
    ("after", "0" * 30 + "5x"), ("limit", "0" * 14 + "5x"),
])
def test_list_bad_filters(mworld, param, value):
    admin = mworld.shared_api("acme")
    problem(admin.get("/v1/messages", params={param: value}), 422, "invalid_parameter", param)


def test_list_limit_edges(world, api, listed):
    assert len(api.get("/v1/messages", params={"limit": 1}).json()["messages"]) == 1
    assert len(api.get("/v1/messages", params={"limit": 1000}).json()["messages"]) == 30


def test_list_chat_filter_takes_the_username_as_given(world, api):
    """POST takes chat_id "@News_Room" (stored lower-cased as the chat key); the list
    filter with the same chat_id must find it."""
    bot = api.new_bot()
    mid = api.send_ok(msg(chat_id="@News_Room", bot_id=bot["id"]))["id"]
    got = api.get("/v1/messages", params={"chat_id": "@News_Room"}).json()["messages"]
    assert [m["id"] for m in got] == [mid]


# ------------------------------------------------------------ tenant isolation

def test_tenant_isolation(world, api):
    mine = api.new_bot()
    my_msg = api.send_ok(msg(chat_id=10, bot_id=mine["id"]))["id"]
    other = world.api("globex")
    theirs = other.new_bot()
    their_msgs = [other.send_ok(msg(chat_id=20, bot_id=theirs["id"], text=f"t{i}"))["id"]
                  for i in range(3)]
    world.query("UPDATE messages SET status = 'sent', sent_at = now() WHERE id = %s",
                (their_msgs[0],))
    reader = api.as_key(api.new_key("read")["key"])

    for who in (api, reader):
        problem(who.get(f"/v1/bots/{theirs['id']}"), 404, "bot_not_found")
        problem(who.get(f"/v1/messages/{their_msgs[1]}"), 404, "message_not_found")
        problem(who.get(f"/api/status/{their_msgs[1]}"), 404, "message_not_found")
        assert [b["id"] for b in who.get("/v1/bots").json()["bots"]] == [mine["id"]]
        assert [b["id"] for b in who.get("/api/bots").json()["bots"]] == [mine["id"]]
        assert [m["id"] for m in who.get("/v1/messages").json()["messages"]] == [my_msg]
        assert who.get("/v1/messages", params={"bot_id": theirs["id"]}).json() == \
            {"messages": [], "next_cursor": None}
        assert who.get("/v1/messages", params={"chat_id": "20"}).json()["messages"] == []
        stats = who.get("/v1/stats").json()
        assert stats["total"]["accepted"] == 1 and stats["total"]["sent"] == 0
        assert [b["bot_id"] for b in stats["bots"]] == [mine["id"]]
        s = who.get("/v1/stats", params={"bot_id": theirs["id"]}).json()
        assert s["bots"] == [] and s["total"]["accepted"] == 0
    problem(api.patch(f"/v1/bots/{theirs['id']}", {"enabled": False}), 404, "bot_not_found")
    problem(api.delete(f"/v1/bots/{theirs['id']}"), 404, "bot_not_found")
    problem(api.post(f"/v1/messages/{their_msgs[1]}/cancel"), 404, "message_not_found")
    keys = api.get("/v1/keys").json()["keys"]
    tid = world.tenant_id("acme")
    assert {k["id"] for k in keys} == {r[0] for r in world.query(
        "SELECT id FROM api_keys WHERE tenant_id = %s", (tid,))}
    # the other tenant's rows are untouched
    assert world.query("SELECT enabled, deleted_at FROM bots WHERE id = %s",
                       (theirs["id"],)) == [(True, None)]
    assert world.query("SELECT status FROM messages WHERE id = %s", (their_msgs[1],)) == \
        [("queued",)]
    # and they see only theirs
    assert [m["id"] for m in other.get("/v1/messages").json()["messages"]] == \
        sorted(their_msgs, reverse=True)
    assert other.get("/v1/stats").json()["total"]["accepted"] == 3


# ------------------------------------------------------------ stats

def test_stats(world, api):
    a = api.new_bot()
    b = api.new_bot()
    am = [api.send_ok(msg(bot_id=a["id"], text=f"a{i}"))["id"] for i in range(4)]
    bm = [api.send_ok(msg(bot_id=b["id"], text=f"b{i}"))["id"] for i in range(2)]
    q = world.query
    q("UPDATE messages SET status = 'sent', sent_at = created_at + interval '100 ms'"
      " WHERE id = %s", (am[0],))
    q("UPDATE messages SET status = 'sent', sent_at = created_at + interval '300 ms'"
      " WHERE id = %s", (am[1],))
    q("UPDATE messages SET status = 'failed', last_error = 'Bad Request: chat not found'"
      " WHERE id = %s", (am[2],))
    q("INSERT INTO message_events (message_id, status, detail) VALUES"
      " (%s, 'retrying', '429 Too Many Requests: retry after 2')", (am[1],))
    q("UPDATE messages SET status = 'expired' WHERE id = %s", (bm[0],))
    assert api.post(f"/v1/messages/{bm[1]}/cancel").status_code == 200

    r = api.get("/v1/stats")
    assert r.status_code == 200, r.text
    s = r.json()
    assert set(s) == {"from", "to", "bucket", "total", "bots", "series"}
    assert s["bucket"] == "hour"
    t = s["total"]
    assert (t["accepted"], t["sent"], t["failed"], t["expired"], t["canceled"],
            t["rate_limited"], t["queue_depth"]) == (6, 2, 1, 1, 1, 1, 1)
    assert t["success_rate"] == 0.5
    assert t["latency_ms"] == {"p50": 200.0, "p95": 290.0, "p99": 298.0}
    sa, sb = s["bots"]
    assert (sa["bot_id"], sa["accepted"], sa["sent"], sa["failed"], sa["queue_depth"],
            sa["rate_limited"]) == (a["id"], 4, 2, 1, 1, 1)
    assert sa["success_rate"] == round(2 / 3, 4)
    assert sa["rate_limit_usage"] == round(2 / 60 / 30, 4)
    assert (sb["bot_id"], sb["accepted"], sb["sent"], sb["expired"], sb["canceled"],
            sb["queue_depth"], sb["success_rate"]) == (b["id"], 2, 0, 1, 1, 0, 0)
    assert sb["latency_ms"] == {"p50": None, "p95": None, "p99": None}
    assert sum(x["accepted"] for x in s["series"]) == 6
    assert sum(x["sent"] for x in s["series"]) == 2

    # one bot
    s = api.get("/v1/stats", params={"bot_id": b["id"]}).json()
    assert [x["bot_id"] for x in s["bots"]] == [b["id"]] and s["total"]["accepted"] == 2
    # buckets: minute and day; two hours apart make two hourly buckets
    q("UPDATE messages SET created_at = created_at - interval '2 hours' WHERE id = %s", (am[3],))
    s = api.get("/v1/stats", params={"bucket": "hour"}).json()
    assert len(s["series"]) == 2 and [x["accepted"] for x in s["series"]] == [1, 5]
    ts = [datetime.fromisoformat(x["t"]) for x in s["series"]]
    assert all(t.minute == 0 and t.second == 0 for t in ts)
    s = api.get("/v1/stats", params={"bucket": "day"}).json()
    assert sum(x["accepted"] for x in s["series"]) == 6 and s["bucket"] == "day"
    s = api.get("/v1/stats", params={"bucket": "minute"}).json()
    assert sum(x["accepted"] for x in s["series"]) == 6
    # a range that holds nothing
    s = api.get("/v1/stats", params={"from": "2001-01-01T00:00:00Z",
                                     "to": "2001-01-02T00:00:00Z"}).json()
    assert s["total"]["accepted"] == 0 and s["total"]["success_rate"] is None
    assert s["series"] == [] and s["total"]["queue_depth"] == 1
    assert datetime.fromisoformat(s["from"]) == datetime(2001, 1, 1, tzinfo=timezone.utc)
    # a range that holds only the older message
    now = datetime.now(timezone.utc)
    s = api.get("/v1/stats", params={"from": iso(now - timedelta(hours=3)),
                                     "to": iso(now - timedelta(hours=1))}).json()
    assert s["total"]["accepted"] == 1


@pytest.mark.parametrize("param, value", [
    ("bucket", "week"), ("bucket", "Hour"), ("bucket", ""),
    ("from", "2026-02-30T00:00:00Z"), ("from", "last week"), ("from", "2026-01-01"),
    ("to", "2026-01-01T00:00:61Z"), ("to", "1700000000"),
    ("bot_id", "x"), ("bot_id", "0"), ("bot_id", "-2"),
])
def test_stats_bad_parameters(mworld, param, value):
    admin = mworld.shared_api("acme")
    for path in ("/v1/stats", "/api/stats"):
        problem(admin.get(path, params={param: value}), 422, "invalid_parameter", param)


# ------------------------------------------------------------ the brief's aliases

def test_aliases(world, api):
    bot = api.new_bot()
    # POST /api/bots == POST /v1/bots
    r = api.post("/api/bots", {"token": "4242:" + "B" * 35, "name": "alias"})
    assert r.status_code == 201, r.text
    b2 = r.json()
    assert b2["telegram_id"] == 4242 and b2["name"] == "alias"
    problem(api.post("/api/bots", {"token": "bad"}), 422, "invalid_field", "token")
    problem(api.post("/api/bots", {"token": "4242:" + "B" * 35}), 409, "bot_exists")
    # GET /api/bots == GET /v1/bots
    assert api.get("/api/bots").json() == api.get("/v1/bots").json()
    assert [x["id"] for x in api.get("/api/bots").json()["bots"]] == [bot["id"], b2["id"]]

    # POST /api/send (bot in the body) and /api/send/{bot_id}
    r = api.post("/api/send", msg(bot_id=bot["id"], text="via /api/send"))
    assert r.status_code == 202, r.text
    m1 = r.json()
    assert m1["status"] == "queued" and m1["bot_id"] == bot["id"]
    assert r.headers["Location"] == f"/v1/messages/{m1['id']}"
    r = api.post(f"/api/send/{b2['id']}", msg(text="via path"))
    assert r.status_code == 202, r.text
    m2 = r.json()
    assert m2["bot_id"] == b2["id"]
    assert message_row(world, m2["id"])["bot_id"] == b2["id"]
    assert api.post(f"/api/send/{b2['id']}", msg(bot_id=b2["id"])).status_code == 202
    problem(api.post(f"/api/send/{b2['id']}", msg(bot_id=bot["id"])), 422, "invalid_field",
            "bot_id")
    problem(api.post("/api/send", msg(text="")), 422, "invalid_field", "text")
    problem(api.post("/api/send", data="x", headers={"Content-Type": "text/plain"}), 415)
    # idempotency works there as well
    h = {"Idempotency-Key": "alias-1"}
    r1 = api.post("/api/send", msg(bot_id=bot["id"], text="once"), headers=h)
    r2 = api.post("/api/send", msg(bot_id=bot["id"], text="once"), headers=h)
    assert r1.json()["id"] == r2.json()["id"] and r2.headers["Idempotent-Replayed"] == "true"

    # GET /api/status/{id} == GET /v1/messages/{id}
    for mid in (m1["id"], m2["id"]):
        a, v = api.get(f"/api/status/{mid}"), api.get(f"/v1/messages/{mid}")
        assert a.status_code == v.status_code == 200
        assert a.json() == v.json()
    problem(api.get("/api/status/999999"), 404, "message_not_found")

    # GET /api/stats == GET /v1/stats for the same range
    rng = {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "bucket": "day"}
    a, v = api.get("/api/stats", params=rng), api.get("/v1/stats", params=rng)
    assert a.status_code == v.status_code == 200
    assert a.json() == v.json() and a.json()["total"]["accepted"] == 4

    # the same scopes
    reader = api.as_key(api.new_key("read")["key"])
    problem(reader.post("/api/send", msg(bot_id=bot["id"])), 403, "forbidden")
    problem(reader.post("/api/bots", {"token": "4243:" + "B" * 35}), 403, "forbidden")
    assert reader.get(f"/api/status/{m1['id']}").status_code == 200
    problem(world.anonymous().post("/api/send", msg(bot_id=bot["id"])), 401, "unauthorized")


# ------------------------------------------------------------ /metrics

def test_metrics(world, api):
    bot = api.new_bot()
    for i in range(5):
        api.send_ok(msg(bot_id=bot["id"], text=f"m{i}"))
    api.post("/v1/messages/batch", {"messages": [msg(bot_id=bot["id"])] * 3})
    problem(api.send(msg(text="")), 422)
    problem(world.anonymous().get("/v1/bots"), 401)
    api.get(f"/v1/bots/{bot['id']}")
    r = requests.get(world.base + "/metrics", timeout=10)  # no key needed
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    t = r.text
    total = "tgm_gatewayd_http_requests_total"
    assert metric(t, total, route="/v1/messages", code="2xx") == 5
    assert metric(t, total, route="/v1/messages", code="4xx") == 1
    assert metric(t, total, route="/v1/messages/batch", code="2xx") == 1
    assert metric(t, total, route="/v1/bots", code="2xx") == 1
    assert metric(t, total, route="/v1/bots", code="4xx") == 1
    assert metric(t, total, route="/v1/bots/{id}", code="2xx") == 1
    # the accept histogram: one observation per accepted request (5 + the batch)
    assert "# TYPE tgm_gatewayd_accept_seconds histogram" in t
    buckets = re.findall(r'^tgm_gatewayd_accept_seconds_bucket\{le="([^"]+)"\} (\d+)$', t, re.M)
    assert len(buckets) == 16 and buckets[-1][0] == "+Inf"
    counts = [int(c) for _, c in buckets]
    assert counts == sorted(counts) and counts[-1] == 6
    les = [float(le) for le, _ in buckets[:-1]]
    assert les == sorted(les) and les[0] == 0.00025
    assert metric(t, "tgm_gatewayd_accept_seconds_count") == 6
    assert 0 < metric(t, "tgm_gatewayd_accept_seconds_sum") < 6 * 5
    assert metric(t, "tgm_gatewayd_messages_accepted_total") == 8
    assert metric(t, "tgm_queue_depth", bot=str(bot["id"]), status="queued") == 8


# ------------------------------------------------------------ routing

def test_unknown_paths_and_methods(world, api):
    anon = world.anonymous()
    for path in ("/v1", "/v1/", "/v2/messages", "/v1/bots/", "/v1/bots/1/x",
                 "/v1/messages/1/cancel/x", "/api", "/api/send/1/2", "/V1/bots",
                 "/v1/keys/1/x", "/v1/bots/" + "9" * 200):
        for who in (anon, api):
            problem(who.get(path), 404, "not_found")
    for method, path, allow in [
        ("DELETE", "/v1/messages", "GET, POST"), ("PUT", "/v1/messages", "GET, POST"),
        ("PUT", "/v1/bots/1", "GET, PATCH, DELETE"), ("POST", "/v1/bots/1",
                                                      "GET, PATCH, DELETE"),
        ("GET", "/v1/messages/1/cancel", "POST"), ("POST", "/v1/stats", "GET"),
        ("PATCH", "/v1/keys", "GET, POST"), ("GET", "/v1/keys/1", "DELETE"),
        ("GET", "/api/send", "POST"), ("GET", "/api/send/1", "POST"),
        ("DELETE", "/api/status/1", "GET"), ("DELETE", "/api/bots", "GET, POST"),
        ("POST", "/metrics", "GET"), ("DELETE", "/v1/messages/batch", "GET, POST"),
        ("OPTIONS", "/v1/bots", "GET, POST"),
    ]:
        for who in (anon, api):
            r = who.request(method, path)
            problem(r, 405, "method_not_allowed")
            assert [m.strip() for m in r.headers["Allow"].split(",")] == allow.split(", "), \
                (method, path, r.headers["Allow"])
    assert world.query("SELECT count(*) FROM messages") == [(0,)]


def test_openapi_lists_every_route(world):
    r = requests.get(world.base + "/v1/openapi.yaml", timeout=10)
    assert r.status_code == 200 and "yaml" in r.headers["Content-Type"]
    for path in ("/v1/keys", "/v1/keys/{id}", "/v1/bots", "/v1/bots/{id}", "/v1/messages",
                 "/v1/messages/batch", "/v1/messages/{id}", "/v1/messages/{id}/cancel",
                 "/v1/stats", "/api/send", "/api/send/{bot_id}", "/api/status/{id}",
                 "/api/stats", "/api/bots", "/healthz", "/metrics"):
        assert re.search(rf"^\s+{re.escape(path)}:", r.text, re.M), path


# ------------------------------------------------------------ durability

def test_every_202_survives_sigkill(world, api):
    bot = api.new_bot()
    url = world.base + "/v1/messages"
    h = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    total, clients = 200, 8
    lock = threading.Lock()
    accepted = []
    killed = threading.Event()

    def client(c):
        s = requests.Session()
        got = []
        for i in range(c, total, clients):
            r = s.post(url, data=json.dumps(msg(chat_id=1 + i, text=f"durable {i}",
                                                 bot_id=bot["id"])), headers=h, timeout=20)
            assert r.status_code == 202, r.text
            with lock:
                accepted.append(r.json()["id"])
                if len(accepted) == total:
                    world.daemon.kill()  # right after the last 202
                    killed.set()
            got.append(r.json()["id"])
        return got

    parallel(clients, client)
    assert killed.is_set() and not world.daemon.running()
    assert len(set(accepted)) == total
    rows = world.query("SELECT m.id, m.status, m.params->>'text'"
                       " FROM messages m WHERE m.id = ANY(%s)", (accepted,))
    assert len(rows) == total
    assert all(st == "queued" for _, st, _ in rows)
    assert sorted(int(t.split()[1]) for _, _, t in rows) == list(range(total))


def test_sigkill_under_load(world, api):
    """Kill while requests are in flight: every 202 that arrived is in the database;
    requests cut off may or may not be (they were never acknowledged)."""
    bot = api.new_bot()
    url = world.base + "/v1/messages"
    h = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    lock = threading.Lock()
    accepted = []

    def client(c):
        s = requests.Session()
        for i in range(10000):
            try:
                r = s.post(url, data=json.dumps(msg(chat_id=1 + c, text=f"{c}-{i}",
                                                     bot_id=bot["id"])), headers=h, timeout=20)
            except requests.RequestException:
                return
            if r.status_code != 202:
                return
            with lock:
                accepted.append(r.json()["id"])
                if len(accepted) == 150:
                    world.daemon.kill()

    parallel(8, client)
    assert len(accepted) >= 150
    found = {r[0] for r in world.query("SELECT id FROM messages WHERE id = ANY(%s)",
                                       (accepted,))}
    assert found == set(accepted)
