"""The happy path against software nobody here wrote: telegram-test-api (npm), a Bot API
emulator. gatewayd registers the bot with its getMe, senderd delivers through it, and
the emulator's own history shows the messages, in order, with the ids senderd stored.
It fails naming the package when Node or the npm package is missing (`make check` installs both).
"""

import os
import pathlib
import signal
import subprocess
import time

import pytest
import requests

from conftest import free_port, require_npm, wait_for

TESTS = pathlib.Path(__file__).resolve().parent.parent
TOKEN = "5555501:AAtelegramtestapitelegramtestapi01234"


@pytest.fixture
def emulator():
    require_npm("telegram-test-api")
    port = free_port()
    proc = subprocess.Popen(["npm", "run", "-s", "fake-telegram"], cwd=TESTS,
                            env={**os.environ, "PORT": str(port)}, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.post(f"{url}/bot{TOKEN}/getMe", timeout=1).ok
        except requests.RequestException:
            return False
    try:
        wait_for(up, 20, what="telegram-test-api to listen")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


def history(url):
    r = requests.post(f"{url}/getUpdatesHistory", json={"token": TOKEN}, timeout=5)
    r.raise_for_status()
    return r.json()["result"]


def test_messages_reach_telegram_test_api(tgm_env, emulator):
    conf = tgm_env.write_config({("telegram", "api_url"): emulator},
                                name="emulator.conf")
    tgm_env.daemon("gatewayd", conf=conf)
    tgm_env.daemon("senderd", conf=conf, args=["--instance", "1"])
    key = tgm_env.tgmctl("key", "create", "--tenant", "acme", "--create-tenant", "--scope",
                         "admin").stdout.strip()
    api = tgm_env.http("gatewayd")
    h = {"Authorization": f"Bearer {key}"}
    r = requests.post(f"{api}/v1/bots", json={"token": TOKEN}, headers=h, timeout=10)
    assert r.status_code == 201, r.text
    bot = r.json()
    ids = []
    for i in range(3):
        r = requests.post(f"{api}/v1/messages", headers=h, timeout=10,
                          json={"chat_id": 4201, "text": f"hello {i}", "bot_id": bot["id"]})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])

    def all_sent():
        rows = tgm_env.query("SELECT id, status, telegram_message_id FROM messages"
                             " WHERE id = ANY(%s) ORDER BY id", (ids,))
        return rows if all(s == "sent" for _, s, _ in rows) else None
    rows = wait_for(all_sent, 15, what="the messages to be sent")
    got = [u for u in history(emulator) if u.get("message", {}).get("chat_id") == 4201]
    assert [u["message"]["text"] for u in got] == ["hello 0", "hello 1", "hello 2"]
    assert [m for _, _, m in rows] == [u["messageId"] for u in got]
