"""The dashboard's Inbox page in a real browser (issue 16): Chromium through
playwright-core (tests/browser/dashboard.mjs, scenario "inbox") against webhookd,
gatewayd and senderd with the fake Telegram. A user's message with HTML in it is shown
as text; an agent sends a quick reply and a file (they turn sent live), sets state, assignee,
a tag and a note; a new message of the user appears without a reload; search finds it.
"""

from test_accounts import PASSWORD, new_account
from test_dashboard import XSS, browser
from test_inbox_api import w  # noqa: F401 (a fixture)
from test_senderd import needs_cryptography, tg  # noqa: F401 (fixtures)


def test_an_agent_works_a_conversation_in_the_inbox_page(w, tmp_path):
    api = w.key()
    bot = w.new_bot()
    w.senderd()
    new_account(w, "agent@example.com", "agent")
    u = w.message(XSS)
    u["message"]["from"]["first_name"] = XSS
    assert w.post(bot, u).status_code == 200
    w.wait_processed(bot, 1)
    qr = api.post("/v1/quick-replies", {"title": "Greet", "text": "Hi {first_name}!"}).json()
    tag = api.post("/v1/tags", {"name": "VIP", "color": "#aa0000"}).json()
    later = w.message("second message, live")
    out = browser(w, "inbox", tmp_path, email="agent@example.com", password=PASSWORD,
                  quick=qr["title"], tag=tag["name"], note="call back tomorrow",
                  intake=w.url(bot), secret=w.secret(bot), update=later, search="live")
    assert out["shownText"] == XSS, "the user's text is shown as text"
    assert out["listName"] == XSS
    assert out["filled"] == f"Hi {XSS}!"
    assert out["stats"].startswith("1 in · 0 out"), out["stats"]  # shown on opening
    assert out["imgs"] == 0 and out["dialogs"] == [] and out["pageErrors"] == []
    assert out["noReload"] and out["intake"] == 200
    assert len(out["agentRows"]) == 1 and "agent@example.com" in out["agentRows"][0]
    assert out["state"] == "pending" and out["found"] == 1
    sends = w.tg.calls(token=bot.token, method="sendMessage")
    assert [s.params["text"] for s in sends] == [f"Hi {XSS}!"]
    photo = w.tg.calls(token=bot.token, method="sendPhoto")  # the file from the browser
    assert [(p.params["caption"], p.files["photo"][0]) for p in photo] == [("the file", "a.png")]
    conv = w.conv(api, bot)
    assert conv["state"] == "pending" and [t["name"] for t in conv["tags"]] == ["VIP"]
    agent = w.one("SELECT id FROM accounts WHERE email = 'agent@example.com'")[0]
    assert conv["assignee_id"] == agent
    items = api.get(f"/v1/conversations/{conv['id']}/timeline").json()["items"]
    assert [i["type"] for i in items if i["type"] == "note"] == ["note"]
    # the one refusal: the page asking who is logged in before the login
    assert [f for f in out["failed"] if not f.endswith("/v1/session 401")] == []
