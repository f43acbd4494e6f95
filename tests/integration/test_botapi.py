"""gatewayd's Bot-API-compatible endpoint /bot<token>/<method>: a registered, enabled
bot's token is known by its hash; any other token gets Telegram's own 401 answer, and
no token reaches the log.
"""

import json
import shutil
import subprocess

import requests

from api_helpers import api, new_token, world  # noqa: F401
from conftest import REPO
from fake_http import Reply

UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
SWITCHED_OFF = {"ok": False, "error_code": 403, "description": "Forbidden: the Bot API"
                " endpoint is switched off for this bot's tenant in tgm"}


def call(world, token, method, **kw):
    return requests.post(f"{world.base}/bot{token}/{method}", timeout=10, **kw)


def test_unknown_token_is_unauthorized(world, api):
    api.new_bot(new_token(5560001))
    stranger = new_token(5560002)
    for how in ({"json": {"chat_id": 1, "text": "hi"}},
                {"data": {"chat_id": "1", "text": "hi"}}, {}):
        r = call(world, stranger, "sendMessage", **how)
        assert r.status_code == 401, r.text
        assert r.json() == UNAUTHORIZED
        assert r.headers["Content-Type"] == "application/json"
    r = requests.get(f"{world.base}/bot{stranger}/getMe", timeout=10)
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    # a malformed token and an over-long one are strangers too
    for bad in ("x", "1:" + "A" * 120):
        r = call(world, bad, "getMe")
        assert r.status_code in (401, 404), r.text
        if r.status_code == 401:
            assert r.json() == UNAUTHORIZED
    assert stranger.split(":")[1] not in world.daemon.log()


def test_disabled_or_deleted_bot_is_unauthorized(world, api):
    token = new_token(5560003)
    bot = api.new_bot(token)
    r = call(world, token, "getMe")
    assert r.status_code == 200 and r.json()["ok"] is True, r.text

    assert api.patch(f"/v1/bots/{bot['id']}", {"enabled": False}).status_code == 200
    r = call(world, token, "getMe")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)

    assert api.patch(f"/v1/bots/{bot['id']}", {"enabled": True}).status_code == 200
    assert api.delete(f"/v1/bots/{bot['id']}").status_code in (200, 204)
    r = call(world, token, "getMe")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert token.split(":")[1] not in world.daemon.log()


def test_other_methods_pass_through(world, api):
    token = new_token(5560004)
    api.new_bot(token)
    seen = []

    def get_chat(req):
        seen.append(req)
        return Reply.tg_ok({"id": 42, "type": "private", "first_name": "Ann"})

    def answer_cb(req):
        seen.append(req)
        return Reply.tg_error(400, "Bad Request: query is too old and response timeout "
                              "expired or query ID is invalid")

    world.tg.http.route("/bot*/getChat", get_chat)
    world.tg.http.route("/bot*/answerCallbackQuery", answer_cb)

    r = call(world, token, "getChat", json={"chat_id": 42})
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "result": {"id": 42, "type": "private",
                                               "first_name": "Ann"}}
    assert seen[-1].path == f"/bot{token}/getChat"
    assert seen[-1].body == b'{"chat_id": 42}'
    assert seen[-1].header("Content-Type") == "application/json"

    r = requests.get(f"{world.base}/bot{token}/getChat?chat_id=43", timeout=10)
    assert r.status_code == 200 and seen[-1].query == {"chat_id": ["43"]}

    r = call(world, token, "answerCallbackQuery", data={"callback_query_id": "7"})
    assert r.status_code == 400
    assert r.json()["error_code"] == 400 and "query is too old" in r.json()["description"]
    assert seen[-1].body == b"callback_query_id=7"
    assert token.split(":")[1] not in world.daemon.log()


def test_own_methods_not_passed_through(world, api):
    token = new_token(5560005)
    api.new_bot(token)
    r = call(world, token, "getUpdates", json={"offset": 1})
    assert (r.status_code, r.json()) == (200, {"ok": True, "result": []})
    r = call(world, token, "getWebhookInfo")
    assert r.status_code == 200 and r.json()["result"]["url"] == "", r.text
    assert not [c for c in world.tg.http.requests_for("/bot*/getUpdates")]
    assert not [c for c in world.tg.http.requests_for("/bot*/getWebhookInfo")]


def test_switched_off_per_tenant(world, api):
    """PATCH /v1/tenant {"botapi_enabled": false}: the tenant's tokens get a 403 in
    Telegram's shape that says why (a developer is not left guessing at a 401)."""
    token = new_token(5560006)
    api.new_bot(token)
    assert api.get("/v1/tenant").json()["botapi_enabled"] is True
    r = api.patch("/v1/tenant", {"botapi_enabled": False})
    assert r.status_code == 200 and r.json()["botapi_enabled"] is False, r.text
    for method, body in (("getChat", {"chat_id": 1}), ("getUpdates", {}),
                         ("sendMessage", {"chat_id": 1, "text": "hi"})):
        r = call(world, token, method, json=body)
        assert (r.status_code, r.json()) == (403, SWITCHED_OFF), r.text
    assert not world.tg.http.requests_for("/bot*/getChat")
    r = api.patch("/v1/tenant", {"botapi_enabled": "no"})
    assert r.status_code == 422 and r.json()["field"] == "botapi_enabled", r.text
    r = api.patch("/v1/tenant", {"botapi_enabled": True})
    assert r.status_code == 200 and r.json()["webhook_url"] is None, r.text
    r = call(world, token, "getMe")
    assert r.status_code == 200 and r.json()["ok"] is True, r.text


def grammy(script, *args):
    """Run a node script of tests/botapi with grammY; its one line of JSON output."""
    assert shutil.which("node"), "node is needed (Debian package nodejs)"
    assert (REPO / "tests" / "node_modules" / "grammy").is_dir(), \
        "grammy is needed: npm ci --prefix tests"
    out = subprocess.run(["node", str(REPO / "tests" / "botapi" / script), *args],
                         cwd=REPO / "tests", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_grammy_getme_through_gatewayd(world, api):
    token = new_token(5560007)
    api.new_bot(token)
    got = grammy("getme.mjs", world.base, token)
    assert got["ok"] is True and got["result"]["id"] == 5560007
    assert got["result"]["username"] == "bot5560007_bot"
    got = grammy("getme.mjs", world.base, new_token(5560008))
    assert got == {"ok": False, "error_code": 401, "description": "Unauthorized"}
