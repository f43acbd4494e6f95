"""A campaign at scale (issue 16): 5,000 users across two bots, against a fake Telegram
that answers 429 above the limits (fake_telegram.strict: a bot's per_second, one message
a second per chat, counted at arrival).

- Run through: zero 429s, each bot near its limit (measured from the fake's own arrival
  times, as test_senderd.py's achieved rate is; see RATE_MIN), a reply at high priority
  overtakes the campaign, and the report says, message for message, what the fake's log
  says (who got it once, who was refused as blocked).
- Paused, resumed, senderd killed with SIGKILL and restarted, then canceled, each
  half-way through: every recipient ends sent or canceled, nothing is sent after the
  cancel but what was claimed, and a message reaches Telegram twice only if it was in
  'sending' at the kill (ambiguous = retry).

The users are seeded straight into bot_users; the campaign goes through gatewayd.
"""

import csv
import io

import requests

from conftest import sanitized, wait_for
from fake_telegram import max_in_window
from test_campaigns import Campaigns, seed_many
from test_senderd import api_bot, gateway, sw, tg  # noqa: F401 (fixtures)

LIMIT = 100        # each bot's per_second, and the fake's
PER_BOT = 2500     # users of each bot: 5,000 in all
# The issue asks for 0.95: `make bench` measures it (bench/senderd.sh, the campaign case:
# 0.97-0.98 at load 11-13 on 2 cores). senderd counts a send against the window until
# the first bytes of its answer (ratelimit.c); this Python fake holds half of its bodies
# 40 ms after their heads (Nagle against curl's delayed ACK), which cost 5 % while the
# whole answer counted. A loaded machine's pauses still lower the share (0.80-0.85 at
# load 15-24), so the floor here is a stall guard like test_senderd.py's, not a timing
# goal; the achieved share is printed.
RATE_MIN = 0.5


def start_world(sw, tg, tgm_env):
    tg.strict(per_second=LIMIT, chat_per_second=1)
    conf = sw.config(sweep_interval=1, max_inflight=32)
    base, h = gateway(sw, tgm_env, conf)
    w = Campaigns(sw, base, h)
    bots = [api_bot(base, h, per_second=LIMIT) for _ in range(2)]
    users = {b.id: seed_many(sw, b, 10_000_000 * (i + 1), PER_BOT) for i, b in enumerate(bots)}
    return w, conf, bots, users


def achieved_rate(times, limit):
    """test_senderd.py's measure: after the first `limit` sends, the rest over their span"""
    times = sorted(times)
    return (len(times) - limit) / (times[-1] - times[limit - 1])


def wait_open(sw, cid, timeout=180):
    """until none of the campaign's messages is open, looked up cheaply once a second
    (the test's own load stays off the lanes' way)"""
    wait_for(lambda: not sw.query(
        "SELECT 1 FROM campaign_recipients r JOIN messages m ON m.id = r.message_id"
        " WHERE r.campaign_id = %s AND m.status IN ('queued', 'retrying', 'sending')"
        " LIMIT 1", (cid,)), timeout, interval=1.0, what=f"campaign {cid} to finish")


def gaps(times):
    """the longest pauses between sends, for the log"""
    times = sorted(times)
    return sorted((b - a for a, b in zip(times, times[1:])), reverse=True)[:5]


def report_rows(w, cid):
    r = w.req("GET", f"/v1/campaigns/{cid}/report.csv", stream=True)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text)))


def test_five_thousand_users_two_bots_at_their_limits(sw, tg, tgm_env):
    w, conf, bots, users = start_world(sw, tg, tgm_env)
    blocked = {bots[0].id: users[bots[0].id][100:110], bots[1].id: users[bots[1].id][7:9]}
    for b in bots:
        for u in blocked[b.id]:
            tg.blocked(chat=u, token=b.token)
    c = w.create({"bot_ids": [b.id for b in bots], "message": {"text": "sale {user_id}"}})
    assert w.req("GET", f"/v1/campaigns/{c['id']}/preview").json()["recipients"] == 5000
    sw.senderd(conf)
    w.action(c["id"], "start")
    tg.wait_sends(1000, timeout=60)
    r = requests.post(w.base + "/v1/messages", json={
        "chat_id": 777, "text": "reply", "bot_id": bots[0].id, "priority": "high"},
        headers=w.h, timeout=10)
    assert r.status_code == 202, r.text
    wait_open(sw, c["id"])
    pr = w.get(c["id"])["progress"]
    assert (pr["sent"], pr["failed"], pr["blocked"]) == (4988, 12, 12), pr

    assert tg.strict_floods() == [], tg.strict_floods()[:5]
    for b in bots:
        times = [x.time for x in tg.sends(token=b.token)]
        rate = achieved_rate(times, LIMIT)
        worst = max_in_window(times, 1.0)
        print(f"bot {b.id}: {len(times)} sends, worst 1-s window {worst}/{LIMIT}, "
              f"achieved {rate:.2f}/s ({rate / LIMIT:.1%}), longest gaps"
              f" {[round(g, 3) for g in gaps(times)]}")
        t0 = min(times)
        hist = {}
        for t in times:
            hist[int(t - t0)] = hist.get(int(t - t0), 0) + 1
        print("per second:", [hist.get(i, 0) for i in range(max(hist) + 1)])
        assert worst <= LIMIT
        assert sanitized() or rate >= RATE_MIN * LIMIT, \
            f"bot {b.id} at {rate:.2f}/s < {RATE_MIN:.0%} of {LIMIT}/s"
    order = [x.text for x in tg.sends(token=bots[0].token)]
    assert order.index("reply") < len(order) - 1000, "the reply waited for the campaign"

    by_token = {b.token: b.id for b in bots}
    log = {}
    for x in tg.sends():
        if x.text != "reply":
            log.setdefault((by_token[x.token], int(x.chat_id)), []).append(x)
    rows = report_rows(w, c["id"])
    assert len(rows) == 5000
    for row in rows:
        key = (int(row["bot_id"]), int(row["user_id"]))
        calls = log.pop(key, [])
        assert len(calls) == 1, (row, calls)
        assert calls[0].text == f"sale {key[1]}"
        if row["status"] == "sent":
            assert calls[0].answer == "ok" and row["telegram_message_id"], row
        else:
            assert row["status"] == "failed" and calls[0].answer == "blocked", row
            assert key[1] in blocked[key[0]] and "blocked" in row["last_error"], row
    assert log == {}, f"sends the report does not list: {list(log)[:5]}"
    ids = [int(x["telegram_message_id"]) for x in rows if x["status"] == "sent"]
    assert len(set(ids)) == len(ids)


def test_pause_kill_and_cancel_half_way(sw, tg, tgm_env):
    w, conf, bots, users = start_world(sw, tg, tgm_env)
    c = w.create({"bot_ids": [b.id for b in bots], "message": {"text": "news {user_id}"}})
    d = sw.senderd(conf)
    w.action(c["id"], "start")

    tg.wait_sends(1000, timeout=60)
    w.action(c["id"], "pause")
    wait_for(lambda: w.get(c["id"])["progress"]["sending"] == 0, 20,
             what="the claimed messages to go out")
    msgs = w.messages(c["id"])
    held = {k for k, (_, s) in msgs.items() if s == "queued"}
    sent_before = len(tg.sends())
    assert held and all(s in ("queued", "sent") for _, s in msgs.values())
    assert w.get(c["id"])["progress"]["held"] == len(held)
    assert sent_before + len(held) == 5000
    w.action(c["id"], "resume")

    tg.wait_sends(2500, timeout=60)
    d.kill()
    sending = {m for m, s in w.messages(c["id"]).values() if s == "sending"}
    sw.senderd(conf)

    tg.wait_sends(3500, timeout=60)
    x = w.action(c["id"], "cancel")
    assert x["state"] == "canceled"
    wait_for(lambda: w.get(c["id"])["progress"]["sending"] == 0, 30,
             what="the claimed messages to go out")
    pr = w.get(c["id"])["progress"]
    print(f"{pr['sent']} sent, {pr['canceled']} canceled, {len(sending)} in 'sending' at"
          f" the kill")
    assert pr["sent"] + pr["canceled"] == 5000 and pr["canceled"] > 0, pr

    by_token = {b.token: b.id for b in bots}
    counts = tg.count_by(lambda x: (by_token[x.token], int(x.chat_id)))
    msgs = w.messages(c["id"])
    sent = {k for k, (_, s) in msgs.items() if s == "sent"}
    assert set(counts) == sent, "sent messages the fake did not see, or the other way"
    dups = {msgs[k][0] for k, n in counts.items() if n > 1}
    assert dups <= sending, f"sent twice outside 'sending' at the kill: {dups - sending}"
    assert tg.strict_floods() == []
