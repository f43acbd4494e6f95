"""The Bot API endpoint's sending methods (issue 15): a call to /bot<token>/sendMessage
(and the other sending and editing methods) becomes a tgm message at high priority,
paced and recorded by senderd, and the HTTP answer is Telegram's own, waited for.

The world: gatewayd and senderd on one configuration (the same ZeroMQ endpoints), the
fault-injecting fake Telegram of fake_telegram.py, bots registered through gatewayd.
Real clients: requests, and grammY (tests/botapi/*.mjs) pointed at gatewayd by apiRoot.
"""

import io
import json
import shutil
import subprocess
import threading

import requests

from conftest import REPO, wait_for
from test_senderd import BASE_SENDERD, api_bot, gateway, sw, tg  # noqa: F401 (fixtures)


def world(sw, env, gatewayd=None, **senderd):  # noqa: F811
    """gatewayd and one senderd on one configuration: (base URL, headers)"""
    settings = {("telegram", "api_url"): sw.tg.url, ("telegram", "timeout"): "5"}
    for k, v in {**BASE_SENDERD, **senderd}.items():
        settings[("senderd", k)] = str(v)
    for k, v in (gatewayd or {}).items():
        settings[("gatewayd", k)] = str(v)
    conf = env.write_config(settings, name="botapi-send.conf")
    base, headers = gateway(sw, env, conf)
    sw.senderd(conf)
    return base, headers


def call(base, token, method, timeout=30, **kw):
    return requests.post(f"{base}/bot{token}/{method}", timeout=timeout, **kw)


def row(sw, mid):
    return sw.one("SELECT status, priority, botapi, telegram_message_id, method, chat"
                  " FROM messages WHERE id = %s", (mid,))


def last_message(sw, bot):
    return sw.one("SELECT max(id) FROM messages WHERE bot_id = %s", (bot.id,))[0]


def grammy(script, *args, timeout=120):
    """Run a node script of tests/botapi with grammY; its last line of JSON output."""
    assert shutil.which("node"), "node is needed (Debian package nodejs)"
    assert (REPO / "tests" / "node_modules" / "grammy").is_dir(), \
        "grammy is needed: npm ci --prefix tests"
    out = subprocess.run(["node", str(REPO / "tests" / "botapi" / script), *map(str, args)],
                         cwd=REPO / "tests", capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_send_message_answers_telegrams_result(sw, tg, tgm_env):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    r = call(base, bot.token, "sendMessage", json={"chat_id": 4101, "text": "hello"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["ok"] is True and got["result"]["text"] == "hello"
    sends = tg.sends(token=bot.token)
    assert len(sends) == 1 and sends[0].text == "hello"
    assert got["result"]["message_id"] > 0
    mid = last_message(sw, bot)
    assert row(sw, mid) == ("sent", 0, True, got["result"]["message_id"], "sendMessage",
                            "4101")
    r = requests.get(f"{base}/v1/messages/{mid}", headers=headers, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "sent", r.text


def test_form_and_query_parameters(sw, tg, tgm_env):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    r = call(base, bot.token, "sendMessage", data={"chat_id": "4102", "text": "form"})
    assert r.status_code == 200 and r.json()["result"]["text"] == "form", r.text
    r = requests.get(f"{base}/bot{bot.token}/sendMessage?chat_id=4103&text=query",
                     timeout=30)
    assert r.status_code == 200 and r.json()["result"]["text"] == "query", r.text
    r = requests.post(f"{base}/bot{bot.token}/sendMessage?chat_id=4103", timeout=30,
                      json={"text": "both", "reply_markup": {"force_reply": True}})
    assert r.status_code == 200 and r.json()["result"]["text"] == "both", r.text
    r = call(base, bot.token, "editMessageText",
             json={"chat_id": 4103, "message_id": r.json()["result"]["message_id"],
                   "text": "edited"})
    assert r.status_code == 200 and r.json()["result"]["text"] == "edited", r.text
    calls = tg.calls(token=bot.token, sends_only=True)
    assert [c.text for c in calls] == ["form", "query", "both", "edited"]
    assert calls[2].params == {"chat_id": "4103", "text": "both",
                               "reply_markup": {"force_reply": True}}
    rows = sw.query("SELECT method, chat, priority, status FROM messages WHERE bot_id = %s"
                    " ORDER BY id", (bot.id,))
    assert rows == [("sendMessage", "4102", 0, "sent"), ("sendMessage", "4103", 0, "sent"),
                    ("sendMessage", "4103", 0, "sent"), ("editMessageText", "4103", 0, "sent")]
    r = call(base, bot.token, "sendMessage", data=b'{"chat_id": 1,',
             headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == 400, r.text
    assert r.json()["description"].startswith("Bad Request: ")
    r = call(base, bot.token, "sendMessage", json={"text": "no chat"})
    assert r.status_code == 400, r.text
    assert r.json() == {"ok": False, "error_code": 400,
                        "description": "Bad Request: chat_id is empty"}


def test_telegrams_error_comes_back_as_is(sw, tg, tgm_env):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    tg.bad_request("Bad Request: can't parse entities", token=bot.token)
    r = call(base, bot.token, "sendMessage", json={"chat_id": 4104, "text": "<b"})
    assert r.status_code == 400, r.text
    assert r.json() == {"ok": False, "error_code": 400,
                        "description": "Bad Request: can't parse entities"}
    assert row(sw, last_message(sw, bot))[0] == "failed"


def test_a_flood_is_retried_not_shown(sw, tg, tgm_env):
    """Telegram's 429 is tgm's to handle: the bot gets the send's real answer."""
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    tg.flood(retry_after=1, token=bot.token)
    r = call(base, bot.token, "sendMessage", json={"chat_id": 4105, "text": "later"})
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    assert [c.answer for c in tg.sends(token=bot.token)] == ["flood", "ok"]


def test_wait_runs_out_cancels_and_the_retry_sends_once(sw, tg, tgm_env):
    """A bot whose lane is held up (per_second=1, its chat busy for a few seconds) waits
    [gatewayd] botapi_wait (2 s here): it gets a 429 with retry_after, its message is
    canceled before it went out, and its own retry is the one Telegram gets."""
    base, headers = world(sw, tgm_env, gatewayd={"botapi_wait": 2})
    bot = api_bot(base, headers)
    tg.slow(4.0, chat=4107, times=1)
    first = {}
    t = threading.Thread(target=lambda: first.update(r=call(
        base, bot.token, "sendMessage", json={"chat_id": 4107, "text": "slow"})))
    t.start()
    tg.wait_sends(1, token=bot.token)
    # the chat is busy with "slow": "once" waits behind it and the wait runs out
    r = call(base, bot.token, "sendMessage", json={"chat_id": 4107, "text": "once"})
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error_code"] == 429 and body["parameters"]["retry_after"] > 0
    t.join()
    # the one in flight got its real answer, though it took longer than the wait
    assert first["r"].status_code == 200 and first["r"].json()["result"]["text"] == "slow"
    canceled = last_message(sw, bot)
    assert row(sw, canceled)[0] == "canceled"
    r = call(base, bot.token, "sendMessage", json={"chat_id": 4107, "text": "once"})
    assert r.status_code == 200, r.text
    wait_for(lambda: row(sw, last_message(sw, bot))[0] == "sent", 10)
    assert [c.text for c in tg.sends(token=bot.token)] == ["slow", "once"]
def test_multipart_upload_reaches_telegram(sw, tg, tgm_env):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    photo = bytes(range(256)) * 40
    r = call(base, bot.token, "sendPhoto", data={"chat_id": "4106", "caption": "pic"},
             files={"photo": ("p.jpg", photo, "image/jpeg")})
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True
    sent = tg.sends(token=bot.token)
    assert len(sent) == 1
    assert sent[0].params["caption"] == "pic" and sent[0].params["chat_id"] == "4106"
    assert sent[0].files["photo"] == ("p.jpg", photo)
    mid = last_message(sw, bot)
    assert row(sw, mid)[0] == "sent"
    # a file larger than [gatewayd] max_body (1 MiB) is taken on /bot routes only
    big = bytes(range(251)) * 12000
    r = call(base, bot.token, "sendDocument", data={"chat_id": "4106"},
             files={"document": ("big.bin", big, "application/octet-stream")})
    assert r.status_code == 200, r.text
    assert tg.sends(token=bot.token)[-1].files["document"] == ("big.bin", big)
    # the files are let go once their messages are done
    wait_for(lambda: sw.one("SELECT count(*) FROM botapi_files")[0] == 0, 30,
             what="the sent messages' files to be deleted")
    r = requests.post(f"{base}/v1/messages", headers=headers, timeout=30,
                      json={"chat_id": 1, "text": "x" * 3_000_000, "bot_id": bot.id})
    assert r.status_code == 413, r.text




# ------------------------------------------------------------------ grammY


def test_grammy_text_photo_media_group_and_error(sw, tg, tgm_env, tmp_path):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    refused = "refuse me"
    tg.bad_request("Bad Request: can't parse entities", text=refused)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 20)
    out = grammy("send.mjs", base, bot.token, 4201, photo, refused)
    assert out["text"]["text"] == "hello from grammY" and out["text"]["message_id"] > 0
    assert out["photo"]["message_id"] > out["text"]["message_id"]
    assert out["refused"] == {"ok": False, "error_code": 400,
                              "description": "Bad Request: can't parse entities"}
    calls = {c.method: c for c in tg.sends(token=bot.token)}
    assert list(calls["sendPhoto"].files.values()) == [("photo.jpg", photo.read_bytes())]
    assert calls["sendPhoto"].params["caption"] == "a photo"
    group = calls["sendMediaGroup"]
    assert sorted(f for f, _ in group.files.values()) == ["one.jpg", "two.jpg"]
    assert all(data == photo.read_bytes() for _, data in group.files.values())
    media = json.loads(group.params["media"])
    assert [m["media"].startswith("attach://") for m in media] == [True, True]
    rows = sw.query("SELECT method, status, priority FROM messages WHERE bot_id = %s"
                    " ORDER BY id", (bot.id,))
    assert rows == [("sendMessage", "sent", 0), ("sendPhoto", "sent", 0),
                    ("sendMediaGroup", "sent", 0), ("sendMessage", "failed", 0)]


def test_grammy_retries_after_the_wait_ran_out_and_sends_once(sw, tg, tgm_env):
    """The wait (2 s) runs out while the chat is busy: grammY sees 429 with retry_after,
    retries, and the fake gets the message exactly once."""
    base, headers = world(sw, tgm_env, gatewayd={"botapi_wait": 2})
    bot = api_bot(base, headers)
    tg.slow(4.0, chat=4202, times=1)
    first = threading.Thread(target=lambda: call(
        base, bot.token, "sendMessage", json={"chat_id": 4202, "text": "slow"}))
    first.start()
    tg.wait_sends(1, token=bot.token)
    out = grammy("retry.mjs", base, bot.token, 4202, "once", 1)
    first.join()
    assert out["met"] and all(m["error_code"] == 429 and m["retry_after"] > 0
                              for m in out["met"]), out
    assert out["result"]["text"] == "once"
    assert [c.text for c in tg.sends(token=bot.token)] == ["slow", "once"]
    statuses = sw.query("SELECT status FROM messages WHERE bot_id = %s ORDER BY id",
                        (bot.id,))
    assert [s for (s,) in statuses].count("sent") == 2
    assert [s for (s,) in statuses].count("canceled") == len(out["met"])


def test_grammy_loop_of_600_meets_no_429(sw, tg, tgm_env):
    """600 sendMessage calls to 600 chats at once, no throttler, no auto-retry, against a
    fake that answers 429 past 30 a second and 1 a chat: every call succeeds, the bot
    sees no 429, and each message reaches the fake once. (The rate is for bench/.)"""
    tg.strict(per_second=30, chat_per_second=1)
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    out = grammy("loop.mjs", base, bot.token, 600, 430000, timeout=300)
    assert (out["ok"], out["flood"], out["other"]) == (600, 0, 0), out
    ok = [c for c in tg.sends(token=bot.token) if c.answer == "ok"]
    assert sorted(int(c.chat_id) for c in ok) == list(range(430000, 430600))
    assert not tg.strict_floods()
    print(f"600 through tgm in {out['seconds']:.1f} s")


def test_gatewayd_stopping_answers_the_waiting_send(sw, tg, tgm_env):
    """SIGTERM while a send waits for Telegram: gatewayd drains, the bot gets the real
    answer, and gatewayd exits cleanly."""
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    tg.slow(2.0, chat=4301, times=1)
    got = {}
    t = threading.Thread(target=lambda: got.update(r=call(
        base, bot.token, "sendMessage", json={"chat_id": 4301, "text": "draining"})))
    t.start()
    tg.wait_sends(1, token=bot.token)
    gw = next(d for d in tgm_env.daemons if d.name == "gatewayd")
    gw.stop()
    t.join()
    assert got["r"].status_code == 200 and got["r"].json()["result"]["text"] == "draining"


# ------------------------------------------------------------------ other clients


def test_telegraf_sends_text_and_photo(sw, tg, tgm_env, tmp_path):
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    assert (REPO / "tests" / "node_modules" / "telegraf").is_dir(), \
        "telegraf is needed: npm ci --prefix tests"
    photo = tmp_path / "t.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"telegraf" * 500)
    out = grammy("telegraf.mjs", base, bot.token, 4401, photo)
    assert out["text"]["text"] == "hello from Telegraf"
    assert out["photo"]["message_id"] > out["text"]["message_id"]
    sent = {c.method: c for c in tg.sends(token=bot.token)}
    assert list(sent["sendPhoto"].files.values()) == [("t.jpg", photo.read_bytes())]
    assert sent["sendPhoto"].params["caption"] == "telegraf photo"


def test_python_telegram_bot_sends_text_and_photo(sw, tg, tgm_env):
    try:
        import telegram
    except ImportError:
        raise AssertionError("python-telegram-bot is needed (Debian package "
                             "python3-python-telegram-bot)")
    base, headers = world(sw, tgm_env)
    bot = api_bot(base, headers)
    ptb = telegram.Bot(bot.token, base_url=f"{base}/bot")
    msg = ptb.send_message(chat_id=4402, text="hello from PTB")
    assert msg.text == "hello from PTB" and msg.message_id > 0
    data = b"\x89PNG" + b"ptb" * 300
    pic = ptb.send_photo(chat_id=4402, photo=io.BytesIO(data), filename="p.png")
    assert pic.message_id > msg.message_id
    sent = {c.method: c for c in tg.sends(token=bot.token)}
    assert [d for _, d in sent["sendPhoto"].files.values()] == [data]
    assert sent["sendMessage"].text == "hello from PTB"
