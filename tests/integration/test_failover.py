"""PostgreSQL failover under load: a primary and a synchronous streaming replica (two
throwaway clusters), the daemons on a libpq multi-host URL with
target_session_attrs=read-write; the primary dies under a steady send load, the replica
is promoted, and the daemons find it by themselves.

Every message gatewayd answered 202 (the client retries 503s and broken connections with
the same Idempotency-Key, as an app should) is sent to the fake Telegram exactly once.
"""
import json
import threading
import time

import pytest
import requests

from conftest import Postgres, binary, child_env, wait_for
from test_senderd import tg  # noqa: F401 (the fake Telegram fixture)

import subprocess

LOAD_SECONDS = 4     # of steady sends before the failover, and again after it


class Member(Postgres):
    """A cluster of the pair: the primary (initdb) or the replica (pg_basebackup -R)."""

    OPTS = ("-c listen_addresses='' -c fsync=off -c full_page_writes=off"
            " -c max_connections=100 -c log_min_messages=warning -c wal_level=replica"
            " -c max_wal_senders=4 -c hot_standby=on")

    def __init__(self, extra=""):
        super().__init__()
        self.extra = extra

    def start(self):
        if not (self.data / "PG_VERSION").exists():
            self._run_owner(self.bindir / "initdb", "-D", self.data, "-U", "tgm",
                            "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale")
        opts = f"-k {self.sockdir} -p {self.port} {self.OPTS} {self.extra}"
        self._run_owner(self.bindir / "pg_ctl", "-D", self.data, "-l", self.logfile, "-w",
                        "-t", "60", "-s", "-o", opts, "start")
        self.started = True

    def copy_of(self, primary):
        """Make this cluster a streaming replica of primary (before start)."""
        self._run_owner(self.bindir / "pg_basebackup", "-D", self.data, "-R", "-X", "stream",
                        "--no-sync", "--checkpoint=fast", "-d",
                        f"host={primary.sockdir} port={primary.port} user=tgm")

    def promote(self):
        self._run_owner(self.bindir / "pg_ctl", "-D", self.data, "-w", "-t", "60", "-s",
                        "promote")


@pytest.fixture
def pair():
    primary = Member("-c synchronous_commit=on")
    replica = Member()
    try:
        primary.start()
        primary.execute_admin("CREATE DATABASE tgm")
        replica.copy_of(primary)
        replica.start()
        # synchronous only now: with no standby yet, a commit would wait for ever
        primary.execute_admin("ALTER SYSTEM SET synchronous_standby_names = '*'")
        primary.execute_admin("SELECT pg_reload_conf()")
        wait_for(lambda: primary.query("postgres", "SELECT sync_state FROM"
                                       " pg_stat_replication") == [("sync",)],
                 30, what="the replica to stream synchronously")
        yield primary, replica
    finally:
        replica.destroy()
        primary.destroy()


class Sender(threading.Thread):
    """An app sending steadily: each message under its own Idempotency-Key, retried on a
    503 or a broken connection until it gets its 202 (or 201)."""

    def __init__(self, base, key, bot):
        super().__init__(daemon=True)
        self.base, self.bot = base, bot
        self.h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.accepted = {}        # text -> message id
        self.retried = 0
        self.stopping = threading.Event()

    def send(self, n):
        text = f"failover {n}"
        body = json.dumps({"bot_id": self.bot, "chat_id": 1000 + n % 50, "text": text})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = requests.post(self.base + "/v1/messages", data=body, timeout=10,
                                  headers={**self.h, "Idempotency-Key": f"fo-{n}"})
                if r.status_code in (200, 201, 202):
                    self.accepted[text] = r.json()["id"]
                    return
                assert r.status_code == 503, r.text
            except requests.RequestException:
                pass
            self.retried += 1
            time.sleep(0.1)
        raise AssertionError(f"message {n} was never accepted")

    def run(self):
        n = 0
        while not self.stopping.is_set():
            self.send(n)
            n += 1
            time.sleep(0.01)


def test_promoting_the_replica_under_load_loses_and_repeats_nothing(tgm_env, tg, pair):
    primary, replica = pair
    url = (f"postgresql:///tgm?host={primary.sockdir},{replica.sockdir}"
           f"&port={primary.port},{replica.port}&user=tgm&target_session_attrs=read-write"
           "&connect_timeout=2")
    conf = tgm_env.write_config({("database", "url"): url,
                                 ("telegram", "api_url"): tg.url,
                                 ("senderd", "sweep_interval"): "1"})
    run = subprocess.run([binary("tgmctl"), "-c", conf, "migrate"], capture_output=True,
                         text=True, env=child_env(), timeout=120)
    assert run.returncode == 0, run.stderr
    key = subprocess.run([binary("tgmctl"), "-c", conf, "key", "create", "--tenant", "fo",
                          "--create-tenant", "--scope", "admin"], capture_output=True,
                         text=True, env=child_env(), timeout=60, check=True).stdout.strip()
    gw = tgm_env.daemon("gatewayd", conf=conf)
    sd = tgm_env.daemon("senderd", conf=conf, args=["--instance", "fo"])
    base = tgm_env.http("gatewayd")
    r = requests.post(base + "/v1/bots", timeout=20, json={"token": "777001:FAILOVERfailover"
                      "FAILOVERfailover1", "name": "fo", "settings": {"per_second": 200,
                                                            "chat_per_second": 30}},
                      headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    app = Sender(base, key, r.json()["id"])
    app.start()
    try:
        time.sleep(LOAD_SECONDS)
        before = len(app.accepted)
        primary.stop("immediate")          # the primary dies
        replica.promote()                  # and the replica takes over
        wait_for(lambda: len(app.accepted) > before + 20, 60,
                 what="gatewayd to accept again on the promoted replica")
        time.sleep(LOAD_SECONDS)
    finally:
        app.stopping.set()
        app.join(90)
    accepted = dict(app.accepted)
    assert app.retried > 0, "the failover should have been felt by the app"

    def all_sent():
        rows = replica.query("tgm", "SELECT count(*) FROM messages WHERE id = ANY(%s)"
                             " AND status = 'sent'", (list(accepted.values()),))
        return rows[0][0] == len(accepted)
    try:
        wait_for(all_sent, 60, what=f"the {len(accepted)} accepted messages to be sent")
    except BaseException:
        print("statuses:", replica.query("tgm", "SELECT status, count(*) FROM messages"
                                         " WHERE id = ANY(%s) GROUP BY 1",
                                         (list(accepted.values()),)))
        print("leases:", replica.query("tgm", "SELECT * FROM bot_leases"))
        print("senderd:", "\n".join(line for line in sd.log().splitlines()
                                     if not line.startswith("<7>"))[-6000:])
        raise
    counts = tg.count_by(lambda c: c.text)
    twice = {t: n for t, n in counts.items() if t in accepted and n != 1}
    missing = [t for t in accepted if t not in counts]
    assert not missing, f"{len(missing)} accepted messages never reached Telegram: {missing[:5]}"
    assert not twice, f"sent more than once: {twice}"
    gw.stop()
    sd.stop()
