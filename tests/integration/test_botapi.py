"""gatewayd's Bot-API-compatible endpoint /bot<token>/<method>: a registered, enabled
bot's token is known by its hash; any other token gets Telegram's own 401 answer, and
no token reaches the log.
"""

import requests

from api_helpers import api, new_token, world  # noqa: F401

UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


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
    r = call(world, token, "someMethodNotServedYet", json={})
    assert (r.status_code, r.json()) == (404, NOT_FOUND)

    assert api.patch(f"/v1/bots/{bot['id']}", {"enabled": False}).status_code == 200
    r = call(world, token, "getMe")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)

    assert api.patch(f"/v1/bots/{bot['id']}", {"enabled": True}).status_code == 200
    assert api.delete(f"/v1/bots/{bot['id']}").status_code in (200, 204)
    r = call(world, token, "getMe")
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED)
    assert token.split(":")[1] not in world.daemon.log()
