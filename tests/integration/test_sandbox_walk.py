"""
test_sandbox_walk.py - the sandbox worked from the dashboard, in Chromium (issues 14, 16).

`make run SANDBOX=1` is started as test_sandbox.py starts it (scripts/run.sh, its banner).
Two users write to the sandbox bot first (/start), so it has an audience. Then, through
tests/browser/dashboard.mjs:

- an agent (made with `tgmctl user create --role agent`) logs in on the Inbox and makes a
  tag; user 42 writes at the sandbox Telegram and the conversation appears without a
  reload; the agent opens it, replies (its state turns sent live, and user 42 has it at
  the sandbox Telegram), tags it, adds a note and closes it;
- the owner logs in with the account the banner prints, chooses a new password, sees the
  Overview live (the sandbox bot, the four daemons), makes a keyword auto-reply on the
  Bots page, and user 43 asking with that word gets its answer at the sandbox Telegram,
  shown in the conversation as the rule's firing; then makes a campaign to the bot's
  users, previews, starts and follows it to done, and downloads its report, whose rows
  are the bot's users, each with the message id the sandbox Telegram gave their copy.

Screenshots land in build/screenshots/ (sandbox-agent-*.png, sandbox-owner-*.png), as
test_dashboard.py's do; docs/dashboard-inbox.png and docs/dashboard-campaign.png are
copies of two of them.
"""
import csv
import io
import re
import shutil
import subprocess
from types import SimpleNamespace

import requests

from conftest import TGM_BIN, short_tmpdir
from test_dashboard import browser
from test_sandbox import running_sandbox

AGENT, AGENT_PW = "agent@localhost", "agent walks the sandbox"
NEW_OWNER_PW = "the owner's own secret"


def banner_fields(banner):
    """What the banner prints: the API, the owner account, the admin key, the sandbox
    Telegram and the bot."""
    dash = re.search(r"Dashboard\s+(\S+)/\s+log in as (\S+), password (\S+)", banner)
    key = re.search(r"Admin key\s+(\S+)", banner)
    tg = re.search(r"Telegram is simulated at (\S+) \(SANDBOX=1\); bot (\d+) is ready", banner)
    assert dash and key and tg, f"the banner lacks a line the walk needs:\n{banner}"
    return SimpleNamespace(base=dash[1], email=dash[2], password=dash[3], key=key[1],
                           tg=tg[1], bot=int(tg[2]))


def say(s, user, text):
    """User `user` writes `text` to the sandbox bot; the sandbox Telegram's answer."""
    r = requests.post(f"{s.tg}/sandbox/say", json={"user_id": user, "text": text}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def chat(s, user):
    """What the bots sent to user `user` at the sandbox Telegram."""
    r = requests.get(f"{s.tg}/sandbox/chat/{user}", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def api(s, path):
    """GET path with the banner's admin key: the JSON answer."""
    r = requests.get(s.base + path, headers={"Authorization": f"Bearer {s.key}"}, timeout=10)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


def conversation_of(s, user):
    """The sandbox bot's conversation with user `user`, through the API."""
    convs = api(s, f"/v1/conversations?bot_id={s.bot}&limit=100")["conversations"]
    mine = [c for c in convs if c["contact"]["user_id"] == user]
    assert len(mine) == 1, convs
    return mine[0]


def only_login_probe(failed):
    """The browser's failed requests, less the page asking who is logged in before the login."""
    return [f for f in failed if not f.endswith("/v1/session 401")]


def agent_works_a_conversation(s, tmp_path):
    text = "Hello, my order #17 has not arrived"
    reply = "Sorry about that! It left today; you will have it tomorrow."
    note = "called the courier"
    out = browser(s, "sandbox-agent", tmp_path, email=AGENT, password=AGENT_PW, tg=s.tg,
                  user=42, text=text, reply=reply, tag="delivery", note=note)
    assert out["pageErrors"] == [] and out["dialogs"] == [], out
    assert only_login_probe(out["failed"]) == [], out["failed"]
    assert out["said"]["you_wrote"] == text, out["said"]
    assert out["before"] == 2, "the two users who wrote /start have a conversation each"
    assert out["noReload"] is True and text in out["listed"], out
    assert out["shownText"] == text
    assert out["firstStatus"] in ("queued", "sending", "sent"), out
    assert out["received"].count(reply) == 1, out["received"]
    assert [t.rstrip("×") for t in out["tags"]] == ["delivery"], out["tags"]  # × removes it
    assert out["state"] == "closed", out
    timeline = out["timeline"]
    assert f"in: {text}" in timeline and f"out: {reply}" in timeline, timeline
    assert f"note: {note}" in timeline, timeline
    assert timeline[-1].startswith("event: ") and "set it closed" in timeline[-1], timeline
    for name in ("inbox", "conversation"):
        assert (tmp_path / "screenshots" / f"sandbox-agent-{name}.png").stat().st_size > 1000

    # the same, through the API and at the sandbox Telegram
    conv = conversation_of(s, 42)
    assert conv["state"] == "closed" and [t["name"] for t in conv["tags"]] == ["delivery"]
    items = api(s, f"/v1/conversations/{conv['id']}/timeline")["items"]
    sent = [i for i in items if i["direction"] == "out" and i["text"] == reply]
    assert len(sent) == 1 and sent[0]["status"] == "sent", items
    assert sent[0]["source"] == "inbox" and sent[0]["account_email"] == AGENT, sent
    assert [i["text"] for i in items if i["type"] == "note"] == [note]
    assert [i["account_email"] for i in items if i.get("event") == "state_closed"] == [AGENT]
    delivered = [m for m in chat(s, 42) if m["text"] == reply]
    assert len(delivered) == 1 and delivered[0]["message_id"] == sent[0]["telegram_message_id"]


def owner_runs_autoreply_and_campaign(s, tmp_path):
    answer = "Our prices start at $5, {first_name}."
    broadcast = "Hi {first_name} ({username}), the spring sale is on!"
    out = browser(s, "sandbox-owner", tmp_path, email=s.email, password=s.password,
                  fresh=NEW_OWNER_PW, tg=s.tg, bot=s.bot, keyword="price", answer=answer,
                  asker=43, question="What is the price of 100 credits?",
                  campaign="spring sale", broadcast=broadcast)
    assert out["pageErrors"] == [] and out["dialogs"] == [], out
    assert only_login_probe(out["failed"]) == [], out["failed"]
    assert out["noReload"] is True, out

    # the Overview, live: the sandbox bot and the four daemons' heartbeats
    assert len(out["bots"]) == 1 and out["bots"][0].startswith("sandbox"), out["bots"]
    assert sorted(d.split(" ")[0] for d in out["daemons"]) == \
        ["billingd", "gatewayd", "senderd", "webhookd"], out["daemons"]

    # the auto-reply: made on the page, answering at the sandbox Telegram, in the timeline
    rules = api(s, f"/v1/bots/{s.bot}/autoreplies")["autoreplies"]
    assert [(r["kind"], r["match"], r["pattern"], r["text"]) for r in rules] == \
        [("keyword", "contains", "price", answer)], rules
    assert len(out["rules"]) == 1 and "price" in out["rules"][0], out["rules"]
    assert [m["text"] for m in out["asked"]["bot_replied"]] == \
        ["Our prices start at $5, Sandbox."], out["asked"]
    assert f"auto-reply (rule {rules[0]['id']})" in out["firing"], out["firing"]
    assert "Our prices start at $5, Sandbox." in out["firing"], out["firing"]
    items = api(s, f"/v1/conversations/{conversation_of(s, 43)['id']}/timeline")["items"]
    fired = [i for i in items if i["direction"] == "out" and i.get("autoreply")]
    assert [(i["autoreply"], i["status"]) for i in fired] == [(rules[0]["id"], "sent")], items

    # the campaign: every user of the bot, each reached once, the report row by row
    users = api(s, f"/v1/bots/{s.bot}/users?limit=100")["users"]
    ids = sorted(u["user_id"] for u in users)
    assert ids == [42, 43, 44, 45], users
    assert out["previewed"] == len(ids), out
    assert out["counts"]["sent"] == len(ids) and out["counts"]["failed"] == 0, out["counts"]
    (listed,) = api(s, "/v1/campaigns")["campaigns"]
    campaign = api(s, f"/v1/campaigns/{listed['id']}")  # the list shows stored states only
    assert campaign["name"] == "spring sale" and campaign["state"] == "done", campaign
    assert campaign["progress"]["sent"] == len(ids), campaign
    assert out["reportName"] == f"campaign-{campaign['id']}.csv"
    assert len(out["listed"]) == 1 and "\tdone\t" in out["listed"][0], out["listed"]
    for name in ("overview", "autoreplies", "campaign", "report"):
        assert (tmp_path / "screenshots" / f"sandbox-owner-{name}.png").stat().st_size > 1000
    rows = list(csv.DictReader(io.StringIO(out["report"])))
    assert sorted(int(r["user_id"]) for r in rows) == ids, out["report"]
    for r in rows:
        assert r["status"] == "sent" and r["bot_id"] == str(s.bot), r
        text = f"Hi Sandbox (user{r['user_id']}), the spring sale is on!"
        got = [m for m in chat(s, r["user_id"]) if m["text"] == text]
        assert len(got) == 1, (r, chat(s, r["user_id"]))
        assert str(got[0]["message_id"]) == r["telegram_message_id"], (r, got)


def test_the_sandbox_worked_from_the_dashboard():
    # not pytest's tmp_path (see test_sandbox.py)
    tmp_path = short_tmpdir("tgm-walk-")
    with running_sandbox(tmp_path) as (banner, port):
        s = banner_fields(banner)
        assert s.base == f"http://127.0.0.1:{port}"
        made = subprocess.run([str(TGM_BIN / "tgmctl"), "-c", str(tmp_path / "var/tgm.conf"),
                               "user", "create", "--tenant", "default", "--email", AGENT,
                               "--role", "agent", "--password-stdin"],
                              input=AGENT_PW + "\n", capture_output=True, text=True, timeout=30)
        assert made.returncode == 0, made.stderr
        for user in (44, 45):
            assert say(s, user, "/start")["bot_replied"], f"user {user} got no welcome"
        agent_works_a_conversation(s, tmp_path)
        owner_runs_autoreply_and_campaign(s, tmp_path)
    shutil.rmtree(tmp_path, ignore_errors=True)
