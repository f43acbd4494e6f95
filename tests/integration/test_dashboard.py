"""The dashboard in a real browser (issue 14): Debian's chromium, headless, driven by
playwright-core (tests/browser/dashboard.mjs) against gatewayd and senderd with
fake_telegram. Screenshots of every page are kept under build/screenshots/ (and the
test's tmp directory).

Also the static serving: the dashboard at /, its files under /ui/, and their headers.
"""

import json
import os
import re
import shutil
import subprocess

import pytest
import requests

from api_helpers import World, msg
from conftest import REPO, wait_for
from fake_telegram import FakeTelegram
from test_accounts import PASSWORD, login, new_account

DRIVER = REPO / "tests" / "browser" / "dashboard.mjs"
CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "build" / "screenshots"
XSS = "<img src=x onerror=alert(1)>"


def browser(world, scenario, tmp_path, **config):
    """Run one scenario of the driver; its findings (a dict)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/deps.sh test)",
                    pytrace=False)
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: apt-get install nodejs", pytrace=False)
    if not (REPO / "tests" / "node_modules" / "playwright-core").is_dir():
        pytest.fail("tests/node_modules/playwright-core is missing: npm ci --prefix tests",
                    pytrace=False)
    shots = tmp_path / "screenshots"
    shots.mkdir(exist_ok=True)
    cfg = {"base": world.base, "shots": str(shots), **config}
    r = subprocess.run([node, str(DRIVER), scenario, json.dumps(cfg)], capture_output=True,
                       text=True, timeout=180, cwd=DRIVER.parent)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for png in shots.glob("*.png"):
        shutil.copy(png, SHOTS / png.name)
    assert r.returncode == 0, f"browser scenario {scenario} failed:\n{r.stderr[-4000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def site(tgm_env):
    """gatewayd and senderd against fake_telegram; an owner and a viewer account."""
    with FakeTelegram() as tg:
        w = World(tgm_env, {("telegram", "api_url"): tg.url})
        w.env.daemon("senderd", conf=w.conf)
        w.tg = tg
        w.admin = w.api("acme")
        new_account(w, "owner@example.com", "owner")
        new_account(w, "viewer@example.com", "viewer")
        # as if they had chosen their passwords already (test_first_login does it)
        w.query("UPDATE accounts SET must_change_password = false")
        try:
            yield w
        finally:
            w.close()


def test_static_files_and_headers(site):
    r = requests.get(site.base + "/", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert '<script type="module" src="/ui/app.js">' in r.text
    assert not re.search(r"<script>|<script [^>]*>[^<]", r.text), "no inline script"
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css"),
                       ("dom.js", "text/javascript")):
        f = requests.get(f"{site.base}/ui/{name}", timeout=10)
        assert f.status_code == 200 and f.headers["Content-Type"].startswith(kind), name
        assert f.content == (REPO / "dashboard" / name).read_bytes()
        assert f.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(site.base + "/ui/nothing.js", timeout=10).status_code == 404
    assert requests.get(site.base + "/ui/index.html", timeout=10).status_code == 404
    # uPlot is npm's, unchanged, with its licence
    vendored = REPO / "tests" / "node_modules" / "uplot"
    assert (REPO / "dashboard" / "uPlot.esm.js").read_bytes() == \
        (vendored / "dist" / "uPlot.esm.js").read_bytes()
    lic = requests.get(site.base + "/ui/uPlot-LICENSE.txt", timeout=10)
    assert lic.status_code == 200 and lic.content == (vendored / "LICENSE").read_bytes()
    assert lic.headers["Content-Type"].startswith("text/plain")
    # no file of the dashboard writes HTML from strings
    for f in (REPO / "dashboard").glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write",
                             f.read_text()), f


def test_send_from_the_dashboard_turns_sent_live(site, tmp_path):
    bot = site.admin.new_bot()
    off = site.admin.new_bot()
    site.query("UPDATE bots SET enabled = false, disabled_reason = 'Unauthorized'"
               " WHERE id = %s", (off["id"],))
    out = browser(site, "send", tmp_path, email="owner@example.com", password=PASSWORD,
                  chat=4242, text=XSS)
    assert out["noReload"] is True
    assert out["shownText"] == XSS, "the text is shown as text"
    assert out["imgs"] == 0 and out["dialogs"] == [], out
    assert out["pageErrors"] == [], out
    assert "sent" in out["history"], out
    assert out["charted"] == 1, "the chart shows the message sent"
    assert out["alerts"] == [f"{off['name']} is disabled: Unauthorized"], out["alerts"]
    assert "sent" in out["legend"] and "failed" in out["legend"]
    row = site.one("SELECT bot_id, chat, status, params->>'text' FROM messages WHERE id = %s",
                   (out["id"],))
    assert row == (bot["id"], "4242", "sent", XSS)
    sends = site.tg.sends(chat=4242)
    assert [s.text for s in sends] == [XSS]
    for page in ("login", "overview", "messages", "keys", "bots", "analytics", "system"):
        assert (tmp_path / "screenshots" / f"send-{page}.png").stat().st_size > 1000


def test_a_bot_disabled_by_telegram_raises_an_alert_live(site, tmp_path):
    bot = site.admin.new_bot(name="<b>Shop</b>")
    site.tg.unauthorized(token=bot["token"])
    out = browser(site, "alerts", tmp_path, email="owner@example.com", password=PASSWORD,
                  bot=bot["id"], chat=77)
    assert out["before"] == [], "no alert while all is well"
    assert out["sent"] == 202 and out["noReload"] is True, out
    reason, = site.one("SELECT disabled_reason FROM bots WHERE id = %s", (bot["id"],))
    assert reason.startswith("token refused by Telegram"), reason
    assert out["alerts"] == [f"<b>Shop</b> is disabled: {reason}"], out["alerts"]
    assert out["markup"] == 0, "the bot's name is shown as text"
    assert out["pageErrors"] == [] and out["dialogs"] == [], out
    assert (tmp_path / "screenshots" / "alerts-overview.png").stat().st_size > 1000


def test_a_campaign_from_the_dashboard_runs_live(site, tmp_path):
    """The Campaigns page: a draft from the form (bot, language, text with a variable and a
    button), its preview with each user's text rendered (a name with markup shown as
    text), started, and followed live to done; the fake got one message per user."""
    bot = site.admin.new_bot()
    site.query("INSERT INTO bot_users (bot_id, user_id, first_name, language_code)"
               " VALUES (%s, 501, %s, 'en'), (%s, 502, 'Bo', 'en'), (%s, 503, 'Ru', 'ru')",
               (bot["id"], XSS, bot["id"], bot["id"]))
    out = browser(site, "campaign", tmp_path, email="owner@example.com", password=PASSWORD,
                  bot=bot["id"], text="Hi {first_name}!")
    assert out["previewed"] == 2, out
    assert out["rendered"] == [f"Hi {XSS}!", "Hi Bo!"], out["rendered"]
    assert out["sent"] == 2 and out["noReload"] is True, out
    assert out["imgs"] == 0 and out["dialogs"] == [] and out["pageErrors"] == [], out
    assert out["report"].endswith("/report.csv") and out["rows"] == 1, out
    sends = site.tg.sends()
    assert sorted((s.chat_id, s.text) for s in sends) == [("501", f"Hi {XSS}!"),
                                                          ("502", "Hi Bo!")]
    assert sends[0].params["reply_markup"]["inline_keyboard"][0][0]["url"] == \
        "https://shop.example/"
    for name in ("campaign-draft", "campaigns"):
        assert (tmp_path / "screenshots" / f"campaign-{name}.png").stat().st_size > 1000


def test_viewer_is_refused_a_key(site, tmp_path):
    before = site.query("SELECT count(*) FROM api_keys")
    out = browser(site, "viewer", tmp_path, email="viewer@example.com", password=PASSWORD)
    assert "role" in out["toastText"], out
    assert out["direct"]["status"] == 403, out
    assert out["direct"]["body"]["type"].endswith("/forbidden")
    assert out["secret"] == 0
    assert site.query("SELECT count(*) FROM api_keys") == before


def test_foreign_origin_is_refused(site):
    dash = login(site, "owner@example.com")
    r = dash.post("/v1/keys", {"scope": "read"}, origin="https://evil.example")
    assert r.status_code == 403 and r.json()["type"].endswith("/foreign_origin")
    r = dash.post("/v1/keys", {"scope": "read"})
    assert r.status_code == 201, r.text


def test_expired_session_goes_to_login(site, tmp_path):
    dash = login(site, "owner@example.com")
    site.query("UPDATE sessions SET last_seen_at = now() - interval '13 hours'")
    out = browser(site, "expired", tmp_path, cookie=dash.cookie)
    assert out["hash"].startswith("#/login"), out
    assert out["nav"] is False


def test_phone_viewport_has_no_horizontal_scroll(site, tmp_path):
    bot = site.admin.new_bot()
    r = site.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 1, "text": "x" * 300})
    assert r.status_code == 202, r.text
    out = browser(site, "phone", tmp_path, email="owner@example.com", password=PASSWORD)
    for page, w in out["widths"].items():
        assert w["scroll"] <= w["client"] <= 375, (page, w)


# ------------------------------------------------------------ the API routes pages need

def test_bot_settings_table(site):
    r = site.admin.get("/v1/bot-settings")
    assert r.status_code == 200, r.text
    table = {s["name"]: s for s in r.json()["settings"]}
    assert table["per_second"] == {"name": "per_second", "type": "integer", "min": 1,
                                   "max": 1000, "default": "30",
                                   "help": "messages per second for the whole bot"}
    assert table["updates"]["type"] == "choice"
    assert table["updates"]["choices"] == ["auto", "webhook", "polling", "off"]
    assert table["paid_broadcast"]["type"] == "boolean"
    assert table["welcome"]["type"] == "string" and table["welcome"]["max_length"] == 4096
    viewer = login(site, "viewer@example.com")
    assert viewer.get("/v1/bot-settings").json() == r.json()


def test_resend_a_failed_message(site):
    bot = site.admin.new_bot()
    site.tg.blocked(chat=7)
    r = site.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 7, "text": "again"})
    assert r.status_code == 202, r.text
    first = r.json()["id"]
    wait_for(lambda: site.query("SELECT status FROM messages WHERE id = %s", (first,))
             == [("failed",)], 20, what="the message failed")

    viewer = login(site, "viewer@example.com")
    r = viewer.post(f"/v1/messages/{first}/resend")
    assert r.status_code == 403 and r.json()["type"].endswith("/forbidden"), r.text
    r = site.admin.post(f"/v1/messages/{first}/resend")
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["resend_of"] == first and again["status"] == "queued"
    assert again["bot_id"] == bot["id"] and again["id"] != first
    row = site.one("SELECT chat, params->>'text' FROM messages WHERE id = %s", (again["id"],))
    assert row == ("7", "again")
    assert site.one("SELECT status FROM messages WHERE id = %s", (first,)) == ("failed",)

    other = site.api("globex")
    r = other.post(f"/v1/messages/{first}/resend")
    assert r.status_code == 404 and r.json()["type"].endswith("/message_not_found")
    ok = site.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 8, "text": "ok"})
    mid = ok.json()["id"]
    wait_for(lambda: site.query("SELECT status FROM messages WHERE id = %s", (mid,))
             == [("sent",)], 20, what="the message sent")
    r = site.admin.post(f"/v1/messages/{mid}/resend")
    assert r.status_code == 409 and r.json()["type"].endswith("/not_resendable"), r.text
    assert "sent" in r.json()["detail"]
    r = site.admin.post("/v1/messages/99999999/resend")
    assert r.status_code == 404

    # the System page's data names the failure and the lane
    s = site.admin.get("/v1/system").json()
    assert [e["message_id"] for e in s["recent_errors"]][-1] == first
    assert s["schema_version"] >= 10 and s["database_size_bytes"] > 0
    assert [lane["bot_id"] for lane in s["lanes"]] == [bot["id"]]
    assert s["lanes"][0]["owner"] and s["lanes"][0]["held"] is True
    assert {d["name"] for d in s["daemons"]} >= {"gatewayd", "senderd"}
    assert viewer.get("/v1/system").status_code == 403


def test_add_a_bot_and_edit_its_settings(site, tmp_path):
    from api_helpers import new_token
    token = new_token()
    out = browser(site, "bots", tmp_path, email="owner@example.com", password=PASSWORD,
                  token=token)
    r = site.admin.get("/v1/bot-settings").json()["settings"]
    # texts (an object) has its own route, GET/PUT /v1/bots/{id}/texts, not a field
    assert out["fields"] == len([x for x in r if x["type"] != "object"]), \
        "one field per setting of the table"
    enabled, settings = site.one("SELECT enabled, settings FROM bots")
    assert enabled is False
    assert settings["per_second"] == 25 and settings["updates"] == "off"
    assert set(settings) == {"per_second", "updates"}, "only the changed settings are stored"


def test_first_login_chooses_a_password(site, tmp_path):
    new_account(site, "new@example.com", "agent")
    site.query("UPDATE accounts SET must_change_password = true"
               " WHERE email = 'new@example.com'")  # as if made by tgmctl without stdin
    out = browser(site, "first", tmp_path, email="new@example.com", password=PASSWORD,
                  fresh="a brand new secret")
    assert out["h1"] == "Overview"
    assert site.one("SELECT must_change_password FROM accounts"
                    " WHERE email = 'new@example.com'") == (False,)
    login(site, "new@example.com", "a brand new secret")


def test_billing_page_makes_a_product(site, tmp_path):
    bot = site.admin.new_bot()
    # a payment partly refunded and disputed, and a failed one (as billingd records them)
    site.query("INSERT INTO bot_users (bot_id, user_id) VALUES (%s, 7)", (bot["id"],))
    (paid,), = site.query(
        "INSERT INTO payments (bot_id, user_id, kind, status, amount, currency, credits,"
        " refunded_amount, refunded_credits, owed, paid_at) VALUES"
        " (%s, 7, 'checkout', 'paid', 1000, 'eur', 100, 400, 40, 5, now()) RETURNING id",
        (bot["id"],))
    site.query("INSERT INTO payments (bot_id, user_id, kind, status, amount, currency, failure)"
               " VALUES (%s, 7, 'recharge', 'failed', 500, 'eur', 'card_declined')",
               (bot["id"],))
    site.query("INSERT INTO disputes (id, payment_id, bot_id, user_id, amount, currency, reason,"
               " status, payload) VALUES ('dp_1', %s, %s, 7, 600, 'eur', %s,"
               " 'needs_response', '{}')", (paid, bot["id"], XSS))
    out = browser(site, "billing", tmp_path, email="owner@example.com", password=PASSWORD,
                  label="Starter <b>pack</b>")
    assert out["rows"] == 1
    failed, disputed = out["payments"]
    assert "failed: card_declined" in failed and "5.00 EUR" in failed, failed
    assert "10.00 EUR" in disputed and "4.00 EUR (40 credits, 5 owed)" in disputed, disputed
    assert f"needs_response · 6.00 EUR · {XSS}" in disputed, disputed
    assert out["disputed"] == 1 and out["imgs"] == 0, out
    row = site.one("SELECT bot_id, label, credits, price, currency, active FROM products")
    assert row == (bot["id"], "Starter <b>pack</b>", 100, 500, "usd", False)


def test_messages_export_streams_csv(site):
    import csv
    import io
    bot = site.admin.new_bot()
    tenant = site.tenant_id("acme")
    site.query("INSERT INTO messages (tenant_id, bot_id, chat, params, status)"
               " SELECT %s, %s, '-100' || g, jsonb_build_object('text', 'row ' || g),"
               " CASE WHEN g %% 2 = 0 THEN 'sent' ELSE 'failed' END"
               " FROM generate_series(1, 2500) g", (tenant, bot["id"]))
    odd = site.admin.post("/v1/messages", {"bot_id": bot["id"], "chat_id": 5,
                                           "text": '=SUM(A1), "quoted"\nline'})
    assert odd.status_code == 202
    r = requests.get(site.base + "/v1/exports/messages.csv", stream=True, timeout=30,
                     headers={"Authorization": f"Bearer {site.admin.key}"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert r.headers.get("Transfer-Encoding") == "chunked"
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0] == ["id", "bot_id", "chat", "method", "status", "attempts", "text",
                       "created_at", "sent_at", "last_error"]
    ids = [int(x[0]) for x in rows[1:]]
    assert len(ids) == 2501 and ids == sorted(ids, reverse=True)
    first = rows[1]
    assert int(first[0]) == odd.json()["id"] and first[6] == '\'=SUM(A1), "quoted"\nline'
    assert rows[-1][2] == "-1001" and rows[-1][6] == "row 1"  # a chat id is not a formula

    r = requests.get(site.base + "/v1/exports/messages.csv?status=failed", timeout=30,
                     headers={"Authorization": f"Bearer {site.admin.key}"})
    assert len(r.text.splitlines()) == 1 + 1250
    r = requests.get(site.base + "/v1/exports/messages.csv?bot_id=x", timeout=30,
                     headers={"Authorization": f"Bearer {site.admin.key}"})
    assert r.status_code == 422
    other = site.api("globex", "read")
    r = requests.get(site.base + "/v1/exports/messages.csv", timeout=30,
                     headers={"Authorization": f"Bearer {other.key}"})
    assert r.text.splitlines()[1:] == []

    # a client that leaves halfway ends its export; gatewayd goes on
    r = requests.get(site.base + "/v1/exports/messages.csv", stream=True, timeout=30,
                     headers={"Authorization": f"Bearer {site.admin.key}"})
    next(r.iter_content(1000))
    r.close()
    assert site.admin.get("/v1/bots").status_code == 200


DAY_AN_HOUR_AGO = "SELECT to_char((now() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def test_analytics_page_heatmaps_users_revenue_and_csv(site, tmp_path):
    bot = site.admin.new_bot()
    for i in range(2):
        site.admin.send_ok(msg(bot_id=bot["id"], text=f"m{i}"))
    q = site.query
    q("INSERT INTO tg_updates (bot_id, update_id, kind, payload, received_at) SELECT %s, g,"
      " 'message', '{}', now() - interval '1 hour' FROM generate_series(1, 3) g", (bot["id"],))
    q("INSERT INTO bot_users (bot_id, user_id, first_name, last_seen_at) VALUES"
      " (%s, 1, %s, now()), (%s, 2, 'y', now() - interval '3 days')",
      (bot["id"], XSS, bot["id"]))
    q("INSERT INTO payments (bot_id, user_id, kind, status, amount, currency, credits,"
      " refunded_amount, paid_at) VALUES (%s, 1, 'checkout', 'paid', 500, %s, 50, 100,"
      " now() - interval '1 hour')", (bot["id"], XSS))
    q("INSERT INTO ledger (bot_id, user_id, key, kind, requested, credits, balance, at)"
      " VALUES (%s, 1, 'd1', 'debit', -3, -3, 47, now() - interval '1 hour')", (bot["id"],))
    (dow, hour), = q("SELECT extract(isodow FROM t)::int, extract(hour FROM t)::int FROM"
                     " (SELECT (now() - interval '1 hour') AT TIME ZONE 'UTC' AS t) x")
    (odow, ohour), = q("SELECT extract(isodow FROM t)::int, extract(hour FROM t)::int FROM"
                       " (SELECT created_at AT TIME ZONE 'UTC' AS t FROM messages LIMIT 1) x")
    out = browser(site, "analytics", tmp_path, email="owner@example.com", password=PASSWORD,
                  credits=3)
    assert out["botOptions"] == ["", str(bot["id"])], "all bots, then each bot"
    assert out["heatIn"] == [[dow, hour, 3]]
    assert out["heatOut"] == [[odow, ohour, 2]]
    assert out["users"] == ["1", "2", "2"]
    assert len(out["revenue"]) == 1 and XSS in out["revenue"][0], out["revenue"]
    assert out["imgs"] == 0, "the currency is shown as text"
    assert out["credits"] == 3
    csvs = out["csvs"]
    assert csvs["a-heat-csv"].splitlines() == [
        "weekday,hour,inbound,outbound",
        *sorted({f"{dow},{hour},3,0", f"{odow},{ohour},0,2"} if (dow, hour) != (odow, ohour)
                else {f"{dow},{hour},3,2"}, key=lambda s: tuple(map(int, s.split(",")[:2])))]
    assert csvs["a-users-csv"].splitlines()[1].endswith(",1,2,2")
    assert csvs["a-revenue-csv"].splitlines()[1].endswith(f",{XSS},1,500,100,400")
    assert csvs["a-credits-csv"].splitlines()[1:] == [
        f"{q(DAY_AN_HOUR_AGO)[0][0]},3"]
    assert csvs["a-csv"].splitlines()[0] == "t,accepted,sent,failed"
    assert (tmp_path / "screenshots" / "analytics-analytics.png").stat().st_size > 1000



def test_bots_page_manages_auto_replies(site, tmp_path):
    bot = site.admin.new_bot()
    out = browser(site, "autoreplies", tmp_path, email="owner@example.com", password=PASSWORD,
                  text=XSS, manage=True)
    assert "not a valid extended regular expression" in out["refused"], out
    assert len(out["rows"]) == 2 and out["imgs"] == 0, out
    assert XSS in out["rows"][0] and "off" in out["rows"][0], out
    assert "Hello!" in out["rows"][1], out
    rules = site.query("SELECT kind, pattern, text, enabled, position FROM autoreplies"
                       " WHERE bot_id = %s ORDER BY position", (bot["id"],))
    assert rules == [("keyword", "^price$", XSS, False, 1), ("greeting", None, "Hello!", True, 2)]
    seen = browser(site, "autoreplies", tmp_path, email="viewer@example.com",
                   password=PASSWORD, manage=False)
    assert seen == {"rows": 2, "forms": 0, "buttons": 0}


def test_bots_page_manages_admins_and_shows_the_audit_log(site, tmp_path):
    bot = site.admin.new_bot(name=XSS)
    r = site.admin.post(f"/v1/bots/{bot['id']}/products", {"label": XSS, "credits": 1,
                                                          "price": 100})
    assert r.status_code == 201, r.text
    out = browser(site, "admins", tmp_path, email="owner@example.com", password=PASSWORD,
                  manage=True)
    assert out["heading"] == f"Admins of {XSS}" and out["imgs"] == 0, out
    assert "user_id must be a Telegram user id" in out["refused"], out
    assert len(out["admins"]) == 1 and "1234" in out["admins"][0] and "owner" in out["admins"][0]
    assert [row.split("\t")[3] for row in out["dashboard"]] == ["admin.remove", "admin.set",
                                                                "admin.set"], out
    assert "dashboard: owner@example.com" in out["dashboard"][0], out
    created = next(row for row in out["api"] if "product.create" in row)
    assert XSS in created and bot["name"] == XSS and XSS in created.split("\t")[2], created
    assert site.query("SELECT user_id, role, added_by LIKE 'dashboard:%%' FROM bot_admins") == [
        (1234, "owner", True)]
    seen = browser(site, "admins", tmp_path, email="viewer@example.com", password=PASSWORD,
                   manage=False)
    assert seen == {"admins": 0, "audit": 0}
