"""
test_sandbox.py - `make run SANDBOX=1` the way a newcomer tries it.

scripts/run.sh runs with TGM_SANDBOX=1 (what `make run SANDBOX=1` sets) in a folder of its
own; the test waits for the banner, takes the six `$ curl` lines it prints and runs them
with a shell, as pasted into a terminal: the message sent through the API reaches user 42,
user 42's /start gets the bot's reply, the message's history shows it sent, user 42's
/buy100 gets a Checkout link from the sandbox Stripe, and paying there grants the credits
(the bot says so, and /balance shows them), and user 1, the bot's owner in Telegram, gets
its list of admins from /admins. Then SIGTERM stops it all and run.sh exits 0.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import REPO, TGM_BIN, free_port, short_tmpdir

START_TIMEOUT = 240   # a new PostgreSQL cluster, migrations, four daemons, node
STOP_TIMEOUT = 90


def four_free_ports():
    """A port p with p to p+3 free (gatewayd, webhookd, the sandbox Telegram and Stripe)."""
    for _ in range(100):
        port = free_port()
        ok = True
        for p in (port + 1, port + 2, port + 3):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
        if ok:
            return port
    pytest.fail("no four free ports in a row")


def wait_banner(log, proc):
    """The banner's text once run.sh has printed it whole."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        m = re.search(r"^=+\n(.*?Try these,.*?)^=+$", text, re.S | re.M)
        if m:
            return m.group(1)
        if proc.poll() is not None:
            pytest.fail(f"run.sh exited with {proc.returncode} before its banner:\n{text}")
        time.sleep(0.5)
    pytest.fail(f"no sandbox banner within {START_TIMEOUT} s:\n{log.read_text()}")


def paste(command):
    """Run one pasted line with a shell; its output."""
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, f"{command}\nexit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@contextlib.contextmanager
def running_sandbox(tmp_path):
    """scripts/run.sh with TGM_SANDBOX=1 in tmp_path (var/ and run.log there): yields its
    banner and gatewayd's port once printed; then SIGTERM, and run.sh must exit 0."""
    for program, package in (("node", "nodejs"), ("curl", "curl")):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is missing: apt-get install {package}", pytrace=False)
    port = four_free_ports()
    log = tmp_path / "run.log"
    env = {**os.environ, "TGM_SANDBOX": "1", "TGM_PORT": str(port), "TGM_BIN": str(TGM_BIN),
           "TGM_VAR": str(tmp_path / "var")}
    with open(log, "w") as out:
        proc = subprocess.Popen(["bash", str(REPO / "scripts/run.sh")], env=env, cwd=REPO,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield wait_banner(log, proc), port
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            rc = proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            pytest.fail(f"run.sh did not stop within {STOP_TIMEOUT} s:\n{log.read_text()}")
    assert rc == 0, f"run.sh exited {rc}:\n{log.read_text()}"
    assert "run.sh: stopped" in log.read_text()


def test_sandbox_banner_lines_work():
    # not pytest's tmp_path: another pytest starting on this machine chmods its parent to
    # 0700, which takes back the postgres user's pass through (pg.sh's ACL)
    tmp_path = short_tmpdir("tgm-sandbox-")
    with running_sandbox(tmp_path) as (banner, port):
        lines = [line.split("$ ", 1)[1] for line in banner.splitlines()
                 if line.lstrip().startswith("$ curl")]
        assert len(lines) == 6, f"the banner should show six curl lines:\n{banner}"

        # 1. a message through the API, then what user 42 received
        sent = paste(lines[0])
        assert '"status":"queued"' in sent, sent
        received = json.loads(sent[sent.index("}") + 1:])
        assert [m["text"] for m in received] == ["Hello from tgm"], sent
        # the same with the text edited, as a newcomer would, to user 44: the wait still
        # ends when the message is there (a message holding the text), not after 30 s
        edited = "Hello from tgm, <b>edited</b> & sent"
        started = time.monotonic()
        sent = paste(lines[0].replace('"Hello from tgm"', json.dumps(edited))
                     .replace('"chat_id":42', '"chat_id":44').replace("/chat/42", "/chat/44"))
        received = json.loads(sent[sent.index("}") + 1:])
        assert [m["text"] for m in received] == [edited], sent
        assert time.monotonic() - started < 20, "wait_for waited for its 30 s"

        # 2. user 42 writes /start; the bot answers
        said = json.loads(paste(lines[1]))
        assert said["you_wrote"] == "/start"
        assert said["bot_replied"] and said["bot_replied"][0]["text"], said

        # 3. the history of the last message sent to user 42
        # (senderd records "sent" just after Telegram took it: paste again until it has)
        deadline = time.monotonic() + 60
        history = json.loads(paste(lines[2]))
        while history["status"] != "sent" and time.monotonic() < deadline:
            time.sleep(0.5)
            history = json.loads(paste(lines[2]))
        assert history["status"] == "sent", history
        assert [e["status"] for e in history["events"]][-1] == "sent", history

        # 4. user 42 writes /buy100: a Checkout link, opening the sandbox Stripe's page
        bought = json.loads(paste(lines[3]))
        links = [b["url"] for m in bought["bot_replied"] for b in m.get("buttons", [])
                 if "url" in b]
        assert len(links) == 1 and "/sandbox/checkout/cs_" in links[0], bought
        page = requests.get(links[0], timeout=10)
        assert page.status_code == 200 and "5.00 USD" in page.text, page.text

        # 5. paying: the signed event reaches webhookd, billingd grants, the bot says so
        paid = json.loads(paste(lines[4]))
        assert paid["webhook_status"] == 200, paid
        assert any("100" in m["text"] for m in paid["bot_replied"]), paid
        said = json.loads(paste(lines[1].replace('"/start"', '"/balance"')))
        assert re.search(r"\b100\b", said["bot_replied"][0]["text"]), said   # the balance

        # 6. user 1, the sandbox bot's owner in Telegram, lists its admins
        admins = json.loads(paste(lines[5]))
        assert "\n1 owner" in admins["bot_replied"][0]["text"], admins

        # the dashboard: the owner account the banner prints logs in
        m = re.search(r"log in as (\S+), password (\S+)", banner)
        assert m, f"the banner should show the dashboard's owner account:\n{banner}"
        api = f"http://127.0.0.1:{port}"
        r = requests.post(f"{api}/v1/session", json={"email": m[1], "password": m[2]},
                          headers={"Origin": api}, timeout=10)
        assert r.status_code in (200, 201), r.text
        assert "HttpOnly" in r.headers.get("Set-Cookie", ""), r.headers
    shutil.rmtree(tmp_path, ignore_errors=True)
