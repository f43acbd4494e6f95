"""Auto-replies (issue 16): a bot's rules in order (keyword exact, contains or a bounded
regular expression; office hours in a time zone with an away message; a first-contact
greeting) answer a user's private message at most once per rule per user per window,
through the queue at high priority, each firing recorded; commands keep their own
answers; two bots cannot loop. Flood protection: above flood_per_minute a user's
messages are stored but neither relayed nor answered, and the admin group is told once
per episode.

Rules are written straight into PostgreSQL here (with the NOTIFY gatewayd sends);
test_api_autoreplies.py drives the API.
"""

import datetime
import time
import zoneinfo

import pytest
import requests

from conftest import free_port, wait_for
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)
from test_webhookd import ADMIN, World, copies

HIGH = 0


@pytest.fixture
def w(tgm_env, tg):
    return World(tgm_env, tg)


def rule(w, bot, kind, text, window=None, **f):
    """A rule at the end of the bot's list, announced to webhookd as gatewayd does."""
    window = window or (60 if kind == "keyword" else 3600)
    rid = w.one(
        "INSERT INTO autoreplies (bot_id, position, kind, match, pattern, time_zone, days,"
        " opens, closes, text, window_seconds) SELECT %s, coalesce(max(position), 0) + 1,"
        " %s, %s, %s, %s, %s, %s, %s, %s, %s FROM autoreplies WHERE bot_id = %s RETURNING id",
        (bot.id, kind, f.get("match"), f.get("pattern"), f.get("time_zone"), f.get("days"),
         f.get("opens"), f.get("closes"), text, window, bot.id))[0]
    w.query("SELECT pg_notify('tgm_autoreplies', %s)", (str(bot.id),))
    return rid


def answers(w, bot, chat=42):
    """The auto-replies queued to chat: (text, priority)."""
    return [(r[2]["text"], r[3]) for r in w.replies(bot, chat=chat)
            if r[1] == "sendMessage" and r[2]["text"].startswith("AR:")]


def firings(w, bot):
    return w.query("SELECT f.rule_id, f.user_id, m.params->>'text', m.metadata->>'autoreply'"
                   " FROM autoreply_firings f JOIN messages m ON m.id = f.message_id"
                   " WHERE f.bot_id = %s ORDER BY f.id", (bot.id,))


def say(w, bot, *texts, user=42, date=None):
    """Post each text as a message from user and wait until all are processed."""
    before = len(w.stored(bot))
    for t in texts:
        m = w.message(t, user=user)
        if date is not None:
            m["message"]["date"] = date
        assert w.post(bot, m).status_code == 200
    return w.wait_processed(bot, before + len(texts))


def closed_hours(tz):
    """Office hours of tz that are closed now (two hours, twelve hours from now)."""
    local = datetime.datetime.now(zoneinfo.ZoneInfo(tz)) + datetime.timedelta(hours=12)
    return {"time_zone": tz, "days": [1, 2, 3, 4, 5, 6, 7],
            "opens": local.strftime("%H:00"),
            "closes": (local + datetime.timedelta(hours=2)).strftime("%H:00")}


def test_keywords_exact_contains_and_regex(w):
    bot = w.new_bot()
    r1 = rule(w, bot, "keyword", "AR: prices", match="exact", pattern="price")
    r2 = rule(w, bot, "keyword", "AR: refunds", match="contains", pattern="refund")
    r3 = rule(w, bot, "keyword", "AR: order", match="regex", pattern="^order +#?[0-9]{2,8}$")
    w.webhookd()
    say(w, bot, "the price?", "  PRICE\n", "can I get a Refund please", "Order #1234",
        "order #1", "hello")
    assert answers(w, bot) == [("AR: prices", HIGH), ("AR: refunds", HIGH), ("AR: order", HIGH)]
    got = firings(w, bot)
    assert [(f[0], f[1], f[2]) for f in got] == [(r1, 42, "AR: prices"), (r2, 42, "AR: refunds"),
                                                 (r3, 42, "AR: order")]
    assert [int(f[3]) for f in got] == [r1, r2, r3]  # the message says which rule sent it


def test_commands_keep_their_answers(w):
    bot = w.new_bot()
    rule(w, bot, "keyword", "AR: help", match="contains", pattern="help")
    rule(w, bot, "greeting", "AR: hello")
    w.webhookd()
    say(w, bot, "/help", "/start")
    texts = [r[2]["text"] for r in w.replies(bot, chat=42)]
    assert len(texts) == 2 and texts[0].startswith("Commands:") and texts[1].startswith("Welcome")
    assert firings(w, bot) == []


def test_first_matching_rule_in_order_answers_once_per_window(w):
    bot = w.new_bot()
    first = rule(w, bot, "keyword", "AR: first", match="contains", pattern="ship")
    rule(w, bot, "keyword", "AR: second", match="contains", pattern="shipping")
    w.webhookd()
    say(w, bot, "shipping?")
    say(w, bot, "shipping??")  # the first is in its window: the next candidate answers
    say(w, bot, "shipping???")  # both in their windows: nothing
    assert [a[0] for a in answers(w, bot)] == ["AR: first", "AR: second"]
    say(w, bot, "shipping!", user=43)  # another user has windows of their own
    assert [a[0] for a in answers(w, bot, chat=43)] == ["AR: first"]
    w.query("UPDATE autoreply_firings SET fired_at = fired_at - interval '61 seconds'"
            " WHERE rule_id = %s AND user_id = 42", (first,))
    say(w, bot, "shipping again")
    assert [a[0] for a in answers(w, bot)] == ["AR: first", "AR: second", "AR: first"]


def test_greeting_answers_the_first_message_only(w):
    bot = w.new_bot()
    rule(w, bot, "greeting", "AR: welcome, new friend")
    w.webhookd()
    say(w, bot, "hi there", "anyone?")
    assert [a[0] for a in answers(w, bot)] == ["AR: welcome, new friend"]
    say(w, bot, "/start", user=44)
    say(w, bot, "hello", user=44)  # their first message was a command: no greeting
    assert answers(w, bot, chat=44) == []


def test_greeting_and_away_texts_are_made_for_the_user(w):
    bot = w.new_bot()
    rule(w, bot, "greeting", "AR: hi {first_name} {last_name}(@{username}), {bot_name} here."
         " {name}/{user_id}/{other}")
    rule(w, bot, "hours", "AR: sorry {first_name}, we are closed", **closed_hours("UTC"))
    w.webhookd()

    def from_ada(text):
        u = w.message(text)
        u["message"]["from"].update(first_name="<b>Ada</b>", last_name="Love{username}")
        return u
    w.post(bot, from_ada("hello"))
    w.wait_processed(bot, 1)
    bob = w.message("hello", user=45)
    del bob["message"]["from"]["username"]
    bob["message"]["from"]["first_name"] = "Bob"
    w.post(bot, bob)
    w.wait_processed(bot, 2)
    name = f"Bot {bot.tg_id}"
    # the values as they are (the text has no parse mode), never read for variables
    assert [a[0] for a in answers(w, bot)] == [
        f"AR: hi <b>Ada</b> Love{{username}}(@ada), {name} here."
        " <b>Ada</b> Love{username}/42/{other}"]
    assert [a[0] for a in answers(w, bot, chat=45)] == [
        f"AR: hi Bob (@), {name} here. Bob/45/{{other}}"]
    w.post(bot, from_ada("anyone?"))  # greeted already: the away text, made for her
    w.wait_processed(bot, 3)
    assert answers(w, bot)[-1][0] == "AR: sorry <b>Ada</b>, we are closed"
    assert firings(w, bot)[-1][2] == "AR: sorry <b>Ada</b>, we are closed"


def utf16_units(s):
    return len(s.encode("utf-16-le")) // 2


def test_a_text_long_names_make_too_long_is_cut_to_what_telegram_takes(w):
    """A rule's text is at most 4,096 characters, but its variables can make it longer:
    the answer is cut to 4,096 UTF-16 units on a character boundary, never refused."""
    bot = w.new_bot()
    rule(w, bot, "greeting", "AR: " + "a" * 4080 + " {name}")  # 4,085 units before {name}
    w.webhookd()
    u = w.message("hello")
    u["message"]["from"].update(first_name="\u00e9" * 5, last_name="\U0001F600" * 32)
    w.post(bot, u)
    w.wait_processed(bot, 1)
    text = answers(w, bot)[0][0]
    assert utf16_units(text) == 4095  # the next emoji (two units) would pass 4,096
    assert text.endswith("a \u00e9\u00e9\u00e9\u00e9\u00e9 \U0001F600\U0001F600")


def test_office_hours_follow_the_time_zone(w):
    now_tokyo = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo"))
    around = {"days": [1, 2, 3, 4, 5, 6, 7],
              "opens": (now_tokyo - datetime.timedelta(hours=1)).strftime("%H:%M"),
              "closes": (now_tokyo + datetime.timedelta(hours=1)).strftime("%H:%M")}
    tokyo, new_york = w.new_bot(), w.new_bot()
    rule(w, tokyo, "hours", "AR: away (Tokyo)", time_zone="Asia/Tokyo", **around)
    rule(w, new_york, "hours", "AR: away (New York)", time_zone="America/New_York", **around)
    w.webhookd()
    say(w, tokyo, "hello")
    say(w, new_york, "hello")
    assert answers(w, tokyo) == []  # open now in Tokyo
    assert answers(w, new_york) == [("AR: away (New York)", HIGH)]  # 13-14 hours behind
    say(w, new_york, "still there?")  # once per window
    assert len(answers(w, new_york)) == 1


def test_office_hours_days_and_nights(w):
    """ar_open on fixed instants: weekdays, a time zone, hours past midnight."""
    def is_open(days, opens, closes, at, tz="Europe/Berlin"):
        return w.one("SELECT ar_open(%s, %s::smallint[], %s::time, %s::time,"
                     " %s::timestamptz)", (tz, days, opens, closes, at))[0]
    weekdays = [1, 2, 3, 4, 5]
    # Monday 7 December 2026; Berlin is UTC+1 in winter
    assert not is_open(weekdays, "09:00", "17:00", "2026-12-07 07:30Z")  # 08:30 there
    assert is_open(weekdays, "09:00", "17:00", "2026-12-07 08:30Z")  # 09:30 there
    assert not is_open(weekdays, "09:00", "17:00", "2026-12-07 16:30Z")  # 17:30 there
    assert not is_open(weekdays, "09:00", "17:00", "2026-12-05 10:00Z")  # Saturday
    assert not is_open(weekdays, "09:00", "17:00", "2026-12-07 08:30Z", tz="UTC")  # 08:30
    assert is_open([5], "22:00", "06:00", "2026-12-05 02:00Z")  # Friday night, Saturday 3:00
    assert not is_open([5], "22:00", "06:00", "2026-12-06 02:00Z")  # Saturday night
    assert is_open([7], "00:00", "00:00", "2026-12-06 22:30Z")  # all of Sunday


def test_two_bots_answering_each_other_do_not_loop(w):
    """Each bot's away message reaches the other as a user's message (is_bot false, the
    worst case): each answers once in its window, and the exchange stops."""
    a, b = w.new_bot(), w.new_bot()
    rule(w, a, "hours", "AR: A is away", **closed_hours("UTC"))
    rule(w, b, "hours", "AR: B is away", **closed_hours("UTC"))
    w.webhookd()
    say(w, a, "hello A", user=b.tg_id)
    relayed = {a.id: 0, b.id: 0}
    for _ in range(6):  # relay every new answer of one bot to the other
        for src, dst in ((a, b), (b, a)):
            new = answers(w, src, chat=dst.tg_id)[relayed[src.id]:]
            relayed[src.id] += len(new)
            for text, _ in new:
                say(w, dst, text, user=src.tg_id)
    assert answers(w, a, chat=b.tg_id) == [("AR: A is away", HIGH)]
    assert answers(w, b, chat=a.tg_id) == [("AR: B is away", HIGH)]


def test_own_echo_and_bots_get_no_answer(w):
    bot = w.new_bot()
    rule(w, bot, "keyword", "AR: away", match="contains", pattern="away")
    w.webhookd()
    say(w, bot, "are you away?", "AR: away", "AR: away", "AR: away")  # its own text echoed
    assert answers(w, bot) == [("AR: away", HIGH)]
    m = w.message("away?", user=555)
    m["message"]["from"]["is_bot"] = True  # a bot writing: never answered
    w.post(bot, m)
    w.wait_processed(bot, 5)
    assert answers(w, bot, chat=555) == []


def test_rule_changes_reach_webhookd(w):
    bot = w.new_bot()
    rid = rule(w, bot, "keyword", "AR: one", match="exact", pattern="x")
    w.webhookd()
    say(w, bot, "x")
    w.query("UPDATE autoreplies SET text = 'AR: two', pattern = 'y' WHERE id = %s", (rid,))
    w.query("SELECT pg_notify('tgm_autoreplies', %s)", (str(bot.id),))
    say(w, bot, "y", user=43)
    w.query("UPDATE autoreplies SET enabled = false WHERE id = %s", (rid,))
    w.query("SELECT pg_notify('tgm_autoreplies', %s)", (str(bot.id),))
    say(w, bot, "y", user=44)
    assert answers(w, bot) == [("AR: one", HIGH)]
    assert answers(w, bot, chat=43) == [("AR: two", HIGH)]
    assert answers(w, bot, chat=44) == []


def test_flood_is_stored_not_relayed_nor_answered_and_admins_told_once(w):
    bot = w.new_bot(admin_chat_id=ADMIN, flood_per_minute=3)
    rule(w, bot, "keyword", "AR: got it", match="contains", pattern="spam", window=10)
    port = free_port()
    w.webhookd(metrics_listen=f"127.0.0.1:{port}")
    t = int(time.time())
    rows = say(w, bot, *[f"spam {i}" for i in range(6)], date=t)
    assert len(rows) == 6  # all stored
    assert [r[2] for r in rows[3:]] == ["flood: stored, neither relayed nor answered"] * 3
    assert len(copies(w, bot, ADMIN)) == 3  # the first three relayed
    assert len(answers(w, bot)) == 1
    told = [r[2]["text"] for r in w.replies(bot, chat=ADMIN) if r[1] == "sendMessage"
            and "messages a minute" in r[2]["text"]]
    assert told == ["⚠️ Ada (#42) writes more than 3 messages a minute: their messages are"
                    " stored but neither relayed nor answered until they slow down."]
    say(w, bot, "spam later", date=t + 30)  # the same window and episode
    say(w, bot, *[f"calm {i}" for i in range(3)], date=t + 61)  # a new window: relayed
    assert len(copies(w, bot, ADMIN)) == 6
    say(w, bot, "spam again", date=t + 62)  # over the rate, but the same episode
    say(w, bot, *[f"new {i}" for i in range(4)], date=t + 700)  # a new episode
    told = [r for r in w.replies(bot, chat=ADMIN) if "messages a minute" in r[2].get("text", "")]
    assert len(told) == 2
    assert len(copies(w, bot, ADMIN)) == 9
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert "tgm_webhookd_autoreplies_total 1\n" in metrics
    assert "tgm_webhookd_flood_held_total 6\n" in metrics  # 3 + 1 + 1 + 1


def test_flood_check_is_off_at_zero(w):
    bot = w.new_bot(flood_per_minute=0)
    w.webhookd()
    rows = say(w, bot, *[f"m{i}" for i in range(40)])
    assert not any(r[2].startswith("flood") for r in rows)
    assert w.query("SELECT count(*) FROM autoreply_flood")[0][0] == 0


def test_replies_of_a_replayed_update_are_queued_once(w):
    """An update processed again (its wh_finish lost) finds its firing: nothing twice."""
    bot = w.new_bot()
    rule(w, bot, "greeting", "AR: hi")
    w.webhookd()
    say(w, bot, "hello")
    w.query("UPDATE tg_updates SET processed_at = NULL, outcome = NULL WHERE bot_id = %s",
            (bot.id,))
    wait_for(lambda: w.one("SELECT count(*) FROM tg_updates WHERE bot_id = %s"
                           " AND processed_at IS NOT NULL", (bot.id,))[0] == 1, 10,
             what="processed again")
    assert answers(w, bot) == [("AR: hi", HIGH)]
    assert len(firings(w, bot)) == 1
