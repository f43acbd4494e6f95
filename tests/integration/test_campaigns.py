"""Broadcasts (issue 16): /v1/campaigns through a real gatewayd and senderd against
fake_telegram. A campaign's audience (bot users seeded in SQL) is previewed with its
message rendered, started into queued bulk messages, paced by senderd, paused, resumed,
canceled and retried without losing or duplicating a message (each checked against the
fake's own log), reported per recipient as CSV, saved as a preset, and may gift credits
once per user through the ledger. The pace at scale is test_campaigns_pace.py's.
"""

import csv
import io
import json

import psycopg2.errors
import pytest
import requests

from api_helpers import parallel
from conftest import wait_for
from test_events import Stream
from test_senderd import FINAL, api_bot, gateway, sw, tg  # noqa: F401 (fixtures)

TIMEOUT = 10


class Campaigns:
    """gatewayd's campaign API for one admin key, and the test's bots and users."""

    def __init__(self, sw, base, headers):
        self.sw = sw
        self.base = base
        self.h = headers

    def req(self, method, path, body=None, **kw):
        return requests.request(method, self.base + path, json=body, headers=self.h,
                                timeout=TIMEOUT, **kw)

    def create(self, body, status=201):
        r = self.req("POST", "/v1/campaigns", body)
        assert r.status_code == status, r.text
        return r.json()

    def action(self, cid, what, status=200):
        r = self.req("POST", f"/v1/campaigns/{cid}/{what}")
        assert r.status_code == status, r.text
        return r.json()

    def get(self, cid):
        r = self.req("GET", f"/v1/campaigns/{cid}")
        assert r.status_code == 200, r.text
        return r.json()

    def report(self, cid):
        r = self.req("GET", f"/v1/campaigns/{cid}/report.csv")
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(r.text)))

    def wait_done(self, cid, timeout=60):
        def done():
            c = self.get(cid)
            return c if c["state"] in ("done", "canceled") and \
                c["progress"]["sending"] == 0 and (c["state"] == "canceled" or
                                                    c["progress"]["queued"] == 0) else None
        try:
            return wait_for(done, timeout, interval=0.2, what=f"campaign {cid} to finish")
        except BaseException:
            print("campaign:", self.get(cid))
            raise

    def messages(self, cid):
        """{(bot_id, user_id): (message_id, status)} of a campaign, from the database"""
        rows = self.sw.query(
            "SELECT r.bot_id, r.user_id, m.id, m.status FROM campaign_recipients r"
            " JOIN messages m ON m.id = r.message_id WHERE r.campaign_id = %s", (cid,))
        return {(b, u): (m, s) for b, u, m, s in rows}


def seed_users(sw, bot, users):
    """bot_users rows: users is [(user_id, first_name, language_code, credits), ...]"""
    sw.query("INSERT INTO bot_users (bot_id, user_id, first_name, language_code, credits)"
             " SELECT %s, u, f, l, c FROM unnest(%s::bigint[], %s::text[], %s::text[],"
             " %s::bigint[]) AS t(u, f, l, c)",
             (bot.id, [u[0] for u in users], [u[1] for u in users], [u[2] for u in users],
              [u[3] for u in users]))


def seed_many(sw, bot, first, n):
    """n plain users of bot, ids first .. first + n - 1"""
    sw.query("INSERT INTO bot_users (bot_id, user_id, first_name, language_code)"
             " SELECT %s, g, 'U' || g, 'en' FROM generate_series(%s::bigint, %s) g",
             (bot.id, first, first + n - 1))
    return list(range(first, first + n))


@pytest.fixture
def world(sw, tg, tgm_env):
    conf = sw.config(sweep_interval=1)
    base, h = gateway(sw, tgm_env, conf)
    w = Campaigns(sw, base, h)
    w.conf = conf
    w.senderd = sw.senderd(conf)
    return w


def token_bot(bots):
    return {b.token: b.id for b in bots}


def test_preview_start_and_report(world, sw, tg):
    """Two bots; the audience filters by language and leaves out banned and blocked users;
    a person both bots know is reached once, by the first bot; names are escaped for the
    parse mode; every recipient gets exactly one message at priority bulk, and the report
    says what the fake's log says."""
    a = api_bot(world.base, world.h, per_second=50)
    b = api_bot(world.base, world.h, per_second=50)
    seed_users(sw, a, [(1, "<Ann>", "en", 7), (2, "Bob", "en-GB", 0), (3, "Ivan", "ru", 0),
                       (4, "Banned", "en", 0), (5, "Blocker", "en", 0), (9, "Both", "en", 1)])
    seed_users(sw, b, [(9, "Both", "en", 2), (10, "Cy", "EN", 3), (11, "Dee", None, 0)])
    sw.query("UPDATE bot_users SET banned_at = now() WHERE bot_id = %s AND user_id = 4",
             (a.id,))
    sw.query("INSERT INTO chats (bot_id, chat_id, blocked_at, blocked_reason)"
             " VALUES (%s, 5, now(), 'Forbidden: bot was blocked by the user')", (a.id,))
    c = world.create({
        "name": "spring", "bot_ids": [a.id, b.id], "audience": {"languages": ["en"]},
        "message": {"text": "Hi <b>{first_name}</b>, {credits} credits", "parse_mode": "HTML",
                    "reply_markup": {"inline_keyboard": [[{"text": "Shop",
                                                            "url": "https://x.test/"}]]}}})
    assert c["state"] == "draft" and c["bot_ids"] == [a.id, b.id]
    r = world.req("GET", f"/v1/campaigns/{c['id']}/preview", params={"limit": 2})
    assert r.status_code == 200, r.text
    pv = r.json()
    assert pv["recipients"] == 4, pv  # 1, 2, 9 (bot a), 10 (bot b)
    assert {x["bot_id"]: x["recipients"] for x in pv["bots"]} == {a.id: 3, b.id: 1}
    assert [x["user_id"] for x in pv["first"]] == [1, 2]
    assert pv["first"][0]["params"]["text"] == "Hi <b>&lt;Ann&gt;</b>, 7 credits"
    assert pv["first"][0]["params"]["chat_id"] == 1
    stream = Stream(world.base + "/v1/events", world.h)
    c = world.action(c["id"], "start")
    assert c["recipients"] == 4 and c["state"] in ("running", "done")
    world.action(c["id"], "start", status=409)
    c = world.wait_done(c["id"])
    assert c["state"] == "done" and c["progress"]["sent"] == 4, c
    for _ in range(4):  # the progress, live: each message's events name the campaign
        stream.next(lambda e: e.get("event") == "message" and e["json"]["status"] == "sent"
                    and e["json"]["campaign_id"] == c["id"],
                    what="a sent message of the campaign")
    stream.close()
    want = {(a.token, "1"), (a.token, "2"), (a.token, "9"), (b.token, "10")}
    got = [(x.token, x.chat_id) for x in tg.sends()]
    assert sorted(got) == sorted(want), got
    assert {x.text for x in tg.sends(chat=9)} == {"Hi <b>Both</b>, 1 credits"}
    assert sw.query("SELECT DISTINCT priority, method FROM messages") == [(2, "sendMessage")]
    sent = {x.chat_id: x for x in tg.sends()}
    assert sent["1"].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Shop"
    rows = world.report(c["id"])
    assert {(int(x["bot_id"]), x["user_id"], x["status"]) for x in rows} == \
        {(a.id, "1", "sent"), (a.id, "2", "sent"), (a.id, "9", "sent"), (b.id, "10", "sent")}
    assert all(x["telegram_message_id"] and x["sent_at"] for x in rows)
    r = world.req("GET", "/v1/campaigns")
    assert [x["id"] for x in r.json()["campaigns"]] == [c["id"]]


def test_refusals_and_tenant_isolation(world, sw, tg, tgm_env):
    a = api_bot(world.base, world.h)
    seed_many(sw, a, 100, 3)
    bad = [
        ({"bot_ids": [a.id], "message": {"text": "x"}, "colour": 1}, 422, "colour"),
        ({"bot_ids": [], "message": {"text": "x"}}, 422, "bot_ids"),
        ({"bot_ids": [a.id, a.id], "message": {"text": "x"}}, 422, "bot_ids"),
        ({"bot_ids": [a.id]}, 422, "message"),
        ({"bot_ids": [a.id], "message": {"text": ""}}, 422, "message.text"),
        ({"bot_ids": [a.id], "message": {"text": "x", "chat_id": 5}}, 422, "chat_id"),
        ({"bot_ids": [a.id], "message": {"text": "x", "parse_mode": "BB"}}, 422,
         "message.parse_mode"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "audience": {"tags": ["vip"]}}, 422,
         "tags"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "audience": {"exclude_tags": []}}, 422,
         "exclude_tags"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "audience": {"tags": [3, 3]}}, 422,
         "tags"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "audience": {"age": 3}}, 422, "age"),
        ({"bot_ids": [a.id], "message": {"text": "x"},
          "audience": {"last_seen_after": "yesterday"}}, 422, "last_seen_after"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "gift": 0}, 422, "gift"),
        ({"bot_ids": [a.id], "message": {"text": "x"}, "start_at": "soon"}, 422, "start_at"),
        ({"bot_ids": [a.id + 1000], "message": {"text": "x"}}, 404, "bot_ids"),
        ({"preset_id": 999}, 404, "preset_id"),
    ]
    for body, status, field in bad:
        r = world.req("POST", "/v1/campaigns", body)
        assert r.status_code == status, (body, r.text)
        assert r.json().get("field") == field, (body, r.text)
    c = world.create({"bot_ids": [a.id], "message": {"text": "x"}})
    world.action(c["id"], "pause", status=409)
    world.action(c["id"], "resume", status=409)
    world.action(c["id"], "retry", status=409)
    other = tgm_env.tgmctl("key", "create", "--tenant", "other", "--create-tenant",
                           "--scope", "admin").stdout.strip()
    them = Campaigns(sw, world.base, {"Authorization": f"Bearer {other}"})
    for method, path in (("GET", ""), ("GET", "/preview"), ("GET", "/report.csv"),
                         ("POST", "/start"), ("POST", "/cancel"), ("POST", "/retry")):
        r = them.req(method, f"/v1/campaigns/{c['id']}{path}")
        assert r.status_code == 404, (path, r.text)
    assert them.req("GET", "/v1/campaigns").json()["campaigns"] == []
    r = them.req("POST", "/v1/campaigns", {"bot_ids": [a.id], "message": {"text": "x"}})
    assert r.status_code == 404 and r.json()["field"] == "bot_ids", r.text
    read = tgm_env.tgmctl("key", "create", "--tenant", "acme", "--scope", "read").stdout.strip()
    r = requests.post(f"{world.base}/v1/campaigns/{c['id']}/start", timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 403, r.text
    world.action(c["id"], "cancel")
    world.action(c["id"], "cancel", status=409)
    assert tg.sends() == []


def test_pause_resume_and_cancel_lose_and_duplicate_nothing(world, sw, tg):
    """Paused half-way, only messages a lane had claimed already go out; resumed, every
    held one goes once. Canceled half-way, none of the rest goes, and each is canceled."""
    a = api_bot(world.base, world.h, per_second=40)
    users = seed_many(sw, a, 1000, 240)
    c = world.create({"bot_ids": [a.id], "message": {"text": "news {user_id}"}})
    world.action(c["id"], "start")
    tg.wait_sends(60, timeout=30)
    p = world.action(c["id"], "pause")
    assert p["state"] == "paused", p
    msgs = world.messages(c["id"])
    held = {k for k, (m, s) in msgs.items() if s == "queued"}
    assert len(held) > 60, len(held)
    wait_for(lambda: world.get(c["id"])["progress"]["sending"] == 0, 20,
             what="the claimed messages to go out")
    sent_in_pause = {int(x.chat_id) for x in tg.sends()}
    assert not {u for _, u in held} & sent_in_pause, "a held message went out"
    assert world.get(c["id"])["progress"]["held"] == len(held)
    world.action(c["id"], "resume")
    done = world.wait_done(c["id"])
    assert done["progress"]["sent"] == len(users), done
    counts = tg.count_by(lambda x: int(x.chat_id))
    assert sorted(counts) == users and set(counts.values()) == {1}, "lost or duplicated"

    # cancel half-way
    b = api_bot(world.base, world.h, per_second=40)
    users_b = seed_many(sw, b, 5000, 200)
    c2 = world.create({"bot_ids": [b.id], "message": {"text": "later"}})
    world.action(c2["id"], "start")
    tg.wait_sends(40, token=b.token, timeout=30)
    x = world.action(c2["id"], "cancel")
    assert x["state"] == "canceled"
    wait_for(lambda: world.get(c2["id"])["progress"]["sending"] == 0, 20,
             what="the claimed messages to go out")
    final = world.get(c2["id"])["progress"]
    assert final["queued"] == 0 and final["canceled"] > 0
    assert final["sent"] + final["canceled"] == len(users_b), final
    sent = tg.count_by(lambda x: int(x.chat_id), tg.sends(token=b.token))
    assert set(sent.values()) == {1} and len(sent) == final["sent"], final
    statuses = world.messages(c2["id"])
    assert {u for (_, u), (_, s) in statuses.items() if s == "sent"} == set(sent)
    ev = sw.query("SELECT count(*) FROM message_events e JOIN campaign_recipients r"
                  " ON r.message_id = e.message_id WHERE r.campaign_id = %s"
                  " AND e.status = 'canceled' AND e.detail = 'campaign canceled'", (c2["id"],))
    assert ev[0][0] == final["canceled"]


def test_scheduled_start_and_high_priority_first(world, sw, tg):
    """start_at ahead: nothing goes before it; a reply at high priority overtakes a
    running campaign's backlog, also to a user whose campaign message still waits."""
    a = api_bot(world.base, world.h, per_second=10)
    users = seed_many(sw, a, 200, 60)
    at = sw.one("SELECT to_char((now() + interval '2 seconds') AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")[0]
    c = world.create({"bot_ids": [a.id], "message": {"text": "c"}, "start_at": at})
    c = world.action(c["id"], "start")
    assert c["state"] == "scheduled", c
    tg.wait_sends(15, timeout=30)
    r = requests.post(world.base + "/v1/messages", json={
        "chat_id": users[-1], "text": "reply", "bot_id": a.id, "priority": "high"},
        headers=world.h, timeout=TIMEOUT)
    assert r.status_code == 202, r.text
    left = {str(u) for (_, u), (_, s) in world.messages(c["id"]).items() if s == "queued"}
    assert str(users[-1]) in left
    sw.wait_status([r.json()["id"]], ("sent",), timeout=20)
    world.wait_done(c["id"])
    order = [(x.chat_id, x.text) for x in tg.sends()]
    at_reply = order.index((str(users[-1]), "reply"))
    before = [chat for chat, _ in order[:at_reply] if chat in left]
    # only those a lane had claimed when it came (a second of sends at most) go first
    assert len(before) <= 10 and len(left) - len(before) >= 20, (len(left), len(before))
    assert order.index((str(users[-1]), "c")) > at_reply
    for sent_at, not_before in sw.query(
            "SELECT sent_at, not_before FROM messages WHERE metadata->>'campaign_id' = %s",
            (str(c["id"]),)):
        assert sent_at >= not_before


def test_retry_sends_again_to_those_that_failed(world, sw, tg):
    """Failed recipients (a refusal; blocked users stay out) are sent again by a retry
    campaign; the report tells the reason of each failure."""
    a = api_bot(world.base, world.h, per_second=50)
    users = seed_many(sw, a, 300, 20)
    tg.bad_request("Bad Request: message is too long", times=1, chat=303)
    tg.bad_request("Bad Request: message is too long", times=1, chat=304)
    tg.blocked(chat=305)
    c = world.create({"bot_ids": [a.id], "message": {"text": "hello"}})
    world.action(c["id"], "start")
    c = world.wait_done(c["id"])
    pr = c["progress"]
    assert (pr["sent"], pr["failed"], pr["blocked"]) == (17, 3, 1), pr
    reasons = {x["reason"]: x["count"] for x in pr["failed_by_reason"]}
    assert sum(reasons.values()) == 3 and any("too long" in k for k in reasons), reasons
    rows = {int(x["user_id"]): x for x in world.report(c["id"])}
    assert rows[303]["status"] == "failed" and "too long" in rows[303]["last_error"]
    assert rows[305]["status"] == "failed"
    r = world.action(c["id"], "retry", status=201)
    assert r["retry_of"] == c["id"] and r["state"] == "draft"
    pv = world.req("GET", f"/v1/campaigns/{r['id']}/preview").json()
    assert [x["user_id"] for x in pv["first"]] == [303, 304], pv
    world.action(r["id"], "start")
    done = world.wait_done(r["id"])
    assert done["progress"]["sent"] == 2, done
    counts = tg.count_by(lambda x: int(x.chat_id))
    assert counts[303] == 2 and counts[304] == 2 and counts[305] == 1
    assert all(counts[u] == 1 for u in users if u not in (303, 304, 305))


def test_gift_once_per_user_with_the_catalogs_message(world, sw, tg):
    """A gift without a message of its own: each recipient is credited once through the
    ledger (keyed by the campaign) and told so in the catalog's words, with its balance;
    a retry of the campaign does not gift again."""
    a = api_bot(world.base, world.h, per_second=50)
    seed_users(sw, a, [(71, "A", "en", 10), (72, "B", "en", 0), (73, "C", "ru", 5)])
    tg.bad_request("Bad Request: message is too long", times=1, chat=72)
    c = world.create({"bot_ids": [a.id], "gift": 5, "audience": {"languages": ["en"]}})
    assert "5 credits" in c["message"]["text"], c
    world.action(c["id"], "start")
    c = world.wait_done(c["id"])
    assert c["progress"]["gifted"] == 2 and c["progress"]["failed"] == 1, c
    credits = dict(sw.query("SELECT user_id, credits FROM bot_users WHERE bot_id = %s",
                            (a.id,)))
    assert credits == {71: 15, 72: 5, 73: 5}
    texts = {int(x.chat_id): x.text for x in tg.sends() if x.answer == "ok"}
    assert texts[71] == "🎁 You received a gift of 5 credits. Your balance: 15 credits.", texts
    r = world.action(c["id"], "retry", status=201)
    world.action(r["id"], "start")
    world.wait_done(r["id"])
    assert dict(sw.query("SELECT user_id, credits FROM bot_users WHERE bot_id = %s",
                         (a.id,))) == credits
    keys = sw.query("SELECT user_id, key, kind, credits FROM ledger WHERE bot_id = %s"
                    " ORDER BY user_id", (a.id,))
    assert keys == [(71, f"campaign:{c['id']}:71", "gift", 5),
                    (72, f"campaign:{c['id']}:72", "gift", 5)], keys
    rows = {int(x["user_id"]): x for x in world.report(r["id"])}
    assert rows[72]["status"] == "sent" and rows[72]["balance"] == "5"


def test_a_gifts_catalog_message_is_in_each_recipients_language(world, sw, tg):
    """A gift without a message of its own tells each recipient in their language_code
    when the catalog speaks it (or the bot has texts of its own in it), else in the bot's
    language, else in English, the bot's own text first; the preview shows the same, and
    nothing of the other languages reaches Telegram."""
    a = api_bot(world.base, world.h, per_second=50,
                texts={"de": {"campaign_gift": "🎁 {gift} Kredite geschenkt: {credits}."}})
    b = api_bot(world.base, world.h, per_second=50, language="ru")
    seed_users(sw, a, [(91, "A", "ru", 1), (92, "B", "en", 2), (93, "C", "de", 0),
                       (94, "D", "ru-RU", 0), (96, "F", None, 0)])
    seed_users(sw, b, [(95, "E", "de", 0)])
    c = world.create({"bot_ids": [a.id, b.id], "gift": 3})
    assert c["message"] == {"text": "🎁 You received a gift of 3 credits. Your balance:"
                            " {credits} credits."}, c
    pv = world.req("GET", f"/v1/campaigns/{c['id']}/preview", params={"limit": 6}).json()
    shown = {x["user_id"]: x["params"] for x in pv["first"]}
    ru = "🎁 Вам подарено кредитов: 3. Ваш баланс в кредитах: {}."
    en = "🎁 You received a gift of 3 credits. Your balance: {} credits."
    assert shown[91] == {"chat_id": 91, "text": ru.format(4)}, shown
    assert shown[92] == {"chat_id": 92, "text": en.format(5)}, shown
    world.action(c["id"], "start")
    c = world.wait_done(c["id"])
    assert c["progress"]["sent"] == 6 and c["progress"]["gifted"] == 6, c
    sent = {int(x.chat_id): x for x in tg.sends() if x.answer == "ok"}
    texts = {u: x.text for u, x in sent.items()}
    assert texts == {91: ru.format(4), 92: en.format(5), 93: "🎁 3 Kredite geschenkt: 3.",
                     94: ru.format(3), 96: en.format(3), 95: ru.format(3)}, texts
    assert all("tgm_texts" not in x.params for x in sent.values())
    # a preset's gift without a message keeps every language too
    r = world.req("POST", "/v1/campaign-presets", {"name": "gift", "bot_ids": [a.id],
                                                    "gift": 2})
    assert r.status_code == 201, r.text
    c = world.create({"preset_id": r.json()["id"]})
    pv = world.req("GET", f"/v1/campaigns/{c['id']}/preview", params={"limit": 6}).json()
    shown = {x["user_id"]: x["params"]["text"] for x in pv["first"]}
    assert shown[91] == "🎁 Вам подарено кредитов: 2. Ваш баланс в кредитах: 6.", shown


def test_audience_by_the_inboxs_tags(world, sw, tg, tgm_env):
    """tags keeps the users whose conversation with the bot has one of them, exclude_tags
    leaves out those whose has any; a person two bots know is reached by the first bot
    whose conversation qualifies; another tenant's tag matches no one. The preview counts
    what a start then materialises."""
    a = api_bot(world.base, world.h)
    b = api_bot(world.base, world.h)
    seed_many(sw, a, 1, 5)
    seed_many(sw, b, 5, 2)

    def tag(name):
        r = world.req("POST", "/v1/tags", {"name": name})
        assert r.status_code == 201, r.text
        return r.json()["id"]
    vip, spam, late = tag("vip"), tag("spam"), tag("late")
    tenant = sw.one("SELECT tenant_id FROM bots WHERE id = %s", (a.id,))[0]
    sw.query("INSERT INTO tenants (name) SELECT 'them' WHERE NOT EXISTS"
             " (SELECT 1 FROM tenants WHERE name = 'them')")
    theirs = sw.one("INSERT INTO tags (tenant_id, name) SELECT id, 'vip' FROM tenants"
                    " WHERE name = 'them' RETURNING id")[0]
    tagged = {(a, 1): [vip], (a, 2): [vip, spam], (a, 3): [spam], (a, 4): [late],
              (a, 5): [], (b, 5): [vip], (b, 6): [theirs]}
    for (bot, user), tags in tagged.items():
        conv = sw.one("INSERT INTO conversations (tenant_id, bot_id, chat_id)"
                      " VALUES (%s, %s, %s) RETURNING id", (tenant, bot.id, user))[0]
        for t in tags:
            sw.query("INSERT INTO conversation_tags VALUES (%s, %s)", (conv, t))

    def audience(**f):
        c = world.create({"bot_ids": [a.id, b.id], "audience": f, "message": {"text": "x"}})
        r = world.req("GET", f"/v1/campaigns/{c['id']}/preview", params={"limit": 10})
        assert r.status_code == 200, r.text
        return c["id"], sorted((x["bot_id"], x["user_id"]) for x in r.json()["first"]), \
            r.json()["recipients"]

    assert audience(tags=[vip])[1:] == ([(a.id, 1), (a.id, 2), (b.id, 5)], 3)
    assert audience(tags=[vip, late])[2] == 4
    assert audience(exclude_tags=[spam])[1:] == (
        [(a.id, 1), (a.id, 4), (a.id, 5), (b.id, 6)], 4)
    assert audience(tags=[vip], exclude_tags=[spam])[1:] == ([(a.id, 1), (b.id, 5)], 2)
    assert audience(tags=[theirs])[2] == 0  # another tenant's tag: no one
    assert audience(exclude_tags=[theirs])[2] == 6
    cid, first, n = audience(tags=[vip, late], exclude_tags=[spam])
    assert n == 3
    started = world.action(cid, "start")
    assert started["recipients"] == 3
    assert sorted(world.messages(cid)) == [(a.id, 1), (a.id, 4), (b.id, 5)]


def test_presets(world, sw, tg):
    a = api_bot(world.base, world.h, per_second=50)
    seed_many(sw, a, 400, 3)
    r = world.req("POST", "/v1/campaign-presets", {
        "name": "weekly", "bot_ids": [a.id], "audience": {"balance_max": 0},
        "message": {"text": "weekly news"}})
    assert r.status_code == 201, r.text
    preset = r.json()
    assert world.req("POST", "/v1/campaign-presets", {"bot_ids": [a.id]}).status_code == 422
    r = world.req("GET", "/v1/campaign-presets")
    assert [x["id"] for x in r.json()] == [preset["id"]]
    c = world.create({"preset_id": preset["id"], "name": "this week"})
    assert c["name"] == "this week" and c["audience"] == {"balance_max": 0}
    assert c["message"] == {"text": "weekly news"} and c["bot_ids"] == [a.id]
    world.action(c["id"], "start")
    assert world.wait_done(c["id"])["progress"]["sent"] == 3
    assert world.req("DELETE", f"/v1/campaign-presets/{preset['id']}").status_code == 204
    assert world.req("DELETE", f"/v1/campaign-presets/{preset['id']}").status_code == 404
    assert json.loads(world.req("GET", "/v1/campaign-presets").text) == []


def test_photo_campaign_and_concurrent_starts(world, sw, tg):
    """A photo by URL with a caption holding variables (MarkdownV2: a name's specials
    escaped); five starts at once: one starts it, the others are told its state, and
    each user gets the photo once."""
    a = api_bot(world.base, world.h, per_second=50)
    seed_users(sw, a, [(81, "Ann_B.", "en", 3), (82, "Cy", "en", 4)])
    c = world.create({"bot_ids": [a.id], "message": {
        "photo": "https://img.example/{user_id}.png", "caption": "*{first_name}*: {credits}",
        "parse_mode": "MarkdownV2"}})
    results = parallel(5, lambda i: world.req("POST", f"/v1/campaigns/{c['id']}/start"))
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]
    assert all("is running" in r.json()["detail"] for r in results if r.status_code == 409)
    world.wait_done(c["id"])
    sends = {x.chat_id: x for x in tg.sends()}
    assert sorted(sends) == ["81", "82"] and len(tg.sends()) == 2
    assert sends["81"].method == "sendPhoto"
    assert sends["81"].params["caption"] == "*Ann\\_B\\.*: 3"
    assert sends["82"].params["photo"] == "https://img.example/82.png"


def test_a_draft_changes_and_is_deleted(world, sw, tg, tgm_env):
    """PATCH changes a draft's fields (null clears the gift and start_at), checked like a
    new one's; a started campaign neither changes nor is deleted; DELETE removes a draft."""
    a = api_bot(world.base, world.h, per_second=50)
    b = api_bot(world.base, world.h, per_second=50)
    seed_many(sw, a, 600, 2)
    seed_many(sw, b, 700, 3)
    c = world.create({"bot_ids": [a.id], "message": {"text": "v1"}, "gift": 3,
                      "start_at": "2030-01-01T00:00:00Z"})
    r = world.req("PATCH", f"/v1/campaigns/{c['id']}", {
        "name": "v2", "bot_ids": [b.id], "message": {"text": "v2 {first_name}"},
        "gift": None, "start_at": None, "audience": {"balance_max": 0}})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["name"], d["bot_ids"], d["gift"], d["start_at"]) == ("v2", [b.id], None, None)
    assert d["message"] == {"text": "v2 {first_name}"} and d["audience"] == {"balance_max": 0}
    for body, status, field in (({"preset_id": 1}, 422, "preset_id"),
                                ({"message": {"text": ""}}, 422, "message.text"),
                                ({"bot_ids": [a.id + 1000]}, 404, "bot_ids")):
        r = world.req("PATCH", f"/v1/campaigns/{c['id']}", body)
        assert r.status_code == status and r.json().get("field") == field, r.text
    pv = world.req("GET", f"/v1/campaigns/{c['id']}/preview").json()
    assert pv["recipients"] == 3 and pv["first"][0]["params"]["text"] == "v2 U700"
    world.action(c["id"], "start")
    world.wait_done(c["id"])
    assert sorted(int(x.chat_id) for x in tg.sends(token=b.token)) == [700, 701, 702]
    assert world.req("PATCH", f"/v1/campaigns/{c['id']}", {"name": "x"}).status_code == 409
    assert world.req("DELETE", f"/v1/campaigns/{c['id']}").status_code == 409
    draft = world.create({"bot_ids": [a.id], "message": {"text": "never"}})
    assert world.req("DELETE", f"/v1/campaigns/{draft['id']}").status_code == 204
    assert world.req("GET", f"/v1/campaigns/{draft['id']}").status_code == 404
    assert world.req("DELETE", f"/v1/campaigns/{draft['id']}").status_code == 404


def test_a_big_gift_is_granted_in_batches(world, sw, tg):
    """2,500 users: the start grants the gift 1,000 users a transaction (so ledger_apply's
    advisory locks never fill PostgreSQL's lock table), each once, then queues them all;
    while its gift is being granted the draft neither changes nor is deleted."""
    a = api_bot(world.base, world.h, per_second=1000, chat_per_second=30)
    users = seed_many(sw, a, 20_000, 2500)
    c = world.create({"bot_ids": [a.id], "gift": 2})
    sw.query("SELECT campaign_gift(%s, %s, 'test', 1000)", (c["id"], sw.tenant_id))
    assert world.req("PATCH", f"/v1/campaigns/{c['id']}", {"name": "x"}).status_code == 409
    r = world.req("DELETE", f"/v1/campaigns/{c['id']}")
    assert r.status_code == 409 and "starting" in r.json()["detail"], r.text
    c = world.action(c["id"], "start")
    assert c["recipients"] == 2500
    rows = sw.query("SELECT count(*), count(DISTINCT user_id), sum(credits) FROM ledger"
                    " WHERE bot_id = %s AND key LIKE %s", (a.id, f"campaign:{c['id']}:%"))
    assert rows == [(2500, 2500, 5000)], rows
    assert sw.query("SELECT count(*) FROM bot_users WHERE bot_id = %s AND credits = 2",
                    (a.id,)) == [(len(users),)]
    done = world.wait_done(c["id"], timeout=120)
    assert done["progress"]["sent"] == 2500 and done["progress"]["gifted"] == 2500, done


def test_messages_given_back_during_a_pause_stay_held(world, sw, tg):
    """Paused while a lane holds claimed messages, then senderd stops (SIGTERM: it gives
    back what it had not sent): those are held with the rest, and a new senderd sends
    none of them until the resume; then each user gets the message once."""
    a = api_bot(world.base, world.h, per_second=10)
    users = seed_many(sw, a, 900, 100)
    c = world.create({"bot_ids": [a.id], "message": {"text": "held?"}})
    world.action(c["id"], "start")
    tg.wait_sends(15, timeout=30)
    world.action(c["id"], "pause")
    world.senderd.stop()
    sent = {int(x.chat_id) for x in tg.sends()}
    msgs = world.messages(c["id"])
    assert {s for _, s in msgs.values()} <= {"sent", "queued"}, msgs
    assert world.get(c["id"])["progress"]["held"] == len(users) - len(sent)
    d = sw.senderd(world.conf)
    d.wait_log(rf"bot={a.id} lane started", timeout=20)
    r = requests.post(world.base + "/v1/messages", json={
        "chat_id": 55555, "text": "control", "bot_id": a.id, "priority": "high"},
        headers=world.h, timeout=TIMEOUT)
    sw.wait_status([r.json()["id"]], ("sent",), timeout=20)
    assert {int(x.chat_id) for x in tg.sends() if x.text == "held?"} == sent, \
        "a held message went out during the pause"
    world.action(c["id"], "resume")
    world.wait_done(c["id"])
    counts = tg.count_by(lambda x: int(x.chat_id), [x for x in tg.sends() if x.text == "held?"])
    assert sorted(counts) == users and set(counts.values()) == {1}


def test_the_database_keeps_recipients_and_messages_to_what_they_name(world, sw, tg):
    """The checks that replaced per-row foreign keys (sql/040_campaign_checks.sql,
    sql/046_messages_bot_check.sql): a recipient of no campaign is refused, a campaign
    with recipients is neither deleted nor renumbered, a message's tenant must be its
    bot's, and a bot with messages is neither deleted nor moved (bad input: a clear
    error, and nothing written)."""
    a = api_bot(world.base, world.h, per_second=50)
    seed_many(sw, a, 800, 2)
    c = world.create({"bot_ids": [a.id], "message": {"text": "kept"}})
    world.action(c["id"], "start")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        sw.query("INSERT INTO campaign_recipients (campaign_id, bot_id, user_id)"
                 " VALUES (%s, %s, 900), (%s, %s, 901)", (c["id"], a.id, c["id"] + 999, a.id))
    for sql in ("DELETE FROM campaigns WHERE id = %s",
                "UPDATE campaigns SET id = DEFAULT WHERE id = %s",
                "UPDATE campaign_recipients SET campaign_id = campaign_id + 999"
                " WHERE campaign_id = %s"):
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            sw.query(sql, (c["id"],))
    assert sw.query("SELECT count(*) FROM campaign_recipients WHERE campaign_id = %s",
                    (c["id"],)) == [(2,)]
    other = sw.one("INSERT INTO tenants (name) VALUES ('other') RETURNING id")[0]
    before = sw.one("SELECT count(*) FROM messages")[0]
    tenant = sw.one("SELECT tenant_id FROM bots WHERE id = %s", (a.id,))[0]
    # sql/046: checked once per statement; one bad row of many refuses them all
    for sql, args in (("INSERT INTO messages (tenant_id, bot_id, chat, params)"
                       " VALUES (%s, %s, '1', '{}')", (other, a.id)),
                      ("INSERT INTO messages (tenant_id, bot_id, chat, params)"
                       " VALUES (%s, %s, '1', '{}'), (%s, %s, '2', '{}')",
                       (tenant, a.id, tenant, a.id + 999)),
                      ("UPDATE messages SET tenant_id = %s WHERE id = (SELECT min(id)"
                       " FROM messages WHERE bot_id = %s)", (other, a.id)),
                      ("UPDATE bots SET tenant_id = %s WHERE id = %s", (other, a.id)),
                      ("DELETE FROM bots WHERE id = %s", (a.id,))):
        with pytest.raises(psycopg2.errors.ForeignKeyViolation):
            sw.query(sql, args)
    assert sw.one("SELECT count(*) FROM messages")[0] == before
    assert sw.one("SELECT tenant_id FROM bots WHERE id = %s", (a.id,))[0] == tenant
    # a bot without messages may still go
    spare = sw.one("INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,"
                   " token_hash) VALUES (%s, 77, 'spare', 'v1.x', '\\x01') RETURNING id",
                   (tenant,))[0]
    sw.query("UPDATE bots SET tenant_id = %s WHERE id = %s", (other, spare))
    sw.query("DELETE FROM bots WHERE id = %s", (spare,))
    draft = world.create({"bot_ids": [a.id], "message": {"text": "never"}})
    assert world.req("DELETE", f"/v1/campaigns/{draft['id']}").status_code == 204
