"""senderd's pacing and latency (issue 12): what a message waits for besides its limits.

- a high-priority message to a new chat, accepted during a bulk backlog, goes out
  before the backlog's remaining messages (the lane's pace spreads the bot's limit over
  its window, and the claim takes it first);
- a scheduled message wakes its lane when it falls due, not on the next sweep;
- against a saturated Telegram (requests queue there), a lane keeps what its rate
  needs at the round trip of a request that does not queue, not its max_inflight;
- against a strict fake Telegram (429 past a bot's or a chat's limit, counted at
  arrival) behind a network that delays requests and answers, pacing from the send
  times never exceeds a limit: a steady 100 ms round trip and a jittery one.

Ordering and counts only: speed is measured by `make bench`.
"""

import time

import pytest
import requests

from test_senderd import api_bot, gateway, msg_id, sw, tg  # noqa: F401 (fixtures)


def test_high_priority_to_a_new_chat_overtakes_the_backlog(sw, tg, tgm_env):
    conf = sw.config(sweep_interval=60)
    base, h = gateway(sw, tgm_env, conf)
    bot = api_bot(base, h, per_second=10)
    backlog = sw.add(bot, [9000 + i % 40 for i in range(200)])
    d = sw.senderd(conf)
    d.wait_log(rf"bot={bot.id} lane started", timeout=10)
    tg.wait_sends(25, timeout=20)  # the backlog is going out at the bot's limit
    r = requests.post(base + "/v1/messages", json={
        "chat_id": 9999, "text": "reply", "bot_id": bot.id, "priority": "high"},
        headers=h, timeout=10)
    assert r.status_code == 202, r.text
    high = r.json()["id"]
    left = {i for i, s in sw.statuses(backlog).items() if s == "queued"}
    sw.wait_status([high], ("sent",), timeout=20)
    order = [c.text for c in tg.sends()]
    at = order.index("reply")
    before = [t for t in order[:at] if msg_id_text(t) in left]
    print(f"{len(left)} backlog messages were queued; {len(before)} of them went first")
    # only those already claimed or in flight when it came (a second of sends at most)
    assert len(before) <= 10, before
    assert len(left) - len(before) >= 100


def msg_id_text(text):
    return int(text[1:]) if text and text.startswith("m") and text[1:].isdigit() else None


def test_scheduled_message_wakes_its_lane_without_a_sweep(sw, tg, tgm_env):
    """send_at 2 s ahead, sweep_interval 60: sent when due (well before any sweep),
    none early; the lane learned the due time from the claim its doorbell started."""
    conf = sw.config(sweep_interval=60)
    base, h = gateway(sw, tgm_env, conf)
    bot = api_bot(base, h)
    d = sw.senderd(conf)
    d.wait_log(rf"bot={bot.id} lane started", timeout=10)
    time.sleep(1.0)  # the lane's first claim is over; ZeroMQ subscriptions are in place
    send_at = sw.one("SELECT to_char((now() + interval '2 seconds') AT TIME ZONE 'UTC',"
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")[0]
    ids = []
    for chat in (7700, 7701, 7702):
        r = requests.post(base + "/v1/messages", json={
            "chat_id": chat, "text": "later", "bot_id": bot.id, "send_at": send_at},
            headers=h, timeout=10)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    sw.wait_status(ids, ("sent",), timeout=30)
    for sent_at, not_before in sw.query(
            "SELECT sent_at, not_before FROM messages WHERE id = ANY(%s)", (ids,)):
        assert sent_at >= not_before


@pytest.mark.parametrize("net", ["steady", "jittery"])
def test_pacing_never_exceeds_telegrams_limits(sw, tg, net):
    """per_second 10 and chat 1/s against a fake that answers 429 past either"""
    if net == "steady":
        tg.network(up=0.05, down=0.05)
    else:
        tg.network(up=(0.05, 0.25), down=(0.05, 0.25))
    tg.strict(per_second=10, chat_per_second=1)
    bot = sw.new_bot(per_second=10)
    many = sw.add(bot, [8000 + i % 40 for i in range(80)])   # the bot's limit binds
    one = sw.add(bot, [8100] * 8)                            # the chat's limit binds
    sw.senderd(sweep_interval=1, max_inflight=32)
    sw.wait_status(many + one, ("sent",), timeout=60)
    floods = tg.strict_floods()
    times = sorted(c.time for c in tg.sends() if c.answer == "ok")
    chat = sorted(c.time for c in tg.sends(chat=8100) if c.answer == "ok")
    print(f"{net}: {len(times)} sent in {times[-1] - times[0]:.2f}s, one chat at"
          f" {(len(chat) - 1) / (chat[-1] - chat[0]):.3f}/s, {len(floods)} 429s")
    assert floods == [], floods[:5]


def test_a_lane_keeps_few_in_flight_when_telegram_is_saturated(sw, tg):
    """A fake that serves one request at a time, 5 ms each (200 a second), and a bot
    that may send 500 a second to as many chats: a fixed cap would keep max_inflight
    (64) requests queued there, each waiting 320 ms. The lane keeps what 500 a second
    needs at the round trip of a request that did not queue (senderd/flight.c), so
    the queue stays short, and every message is sent."""
    tg.serial(0.005)
    bot = sw.new_bot(per_second=500)
    # 15 s of sends: the last 300 come after a probe even if the first second's
    # judgement let a first base taken during the start's burst stand (flight.c)
    ids = sw.add(bot, [20000 + i for i in range(3000)])
    sw.senderd(sweep_interval=1, max_inflight=64)
    sw.wait_status(ids, ("sent",), timeout=90)
    calls = [c for c in tg.sends() if c.waiting is not None]
    early = max(c.waiting for c in calls[:40])
    late = max(c.waiting for c in calls[-300:])
    print(f"the fake's queue: up to {early} in the first 40 requests, {late} in the last 300")
    assert len(calls) == 3000
    assert early >= 12           # the start cap (32) queues there at first
    assert late <= 32, late      # not 64
