"""tgm behind PgBouncer (Debian's) in transaction pooling mode.

[database] url goes through PgBouncer, whose pool holds fewer server connections than
the daemons open, so consecutive transactions of one daemon connection land on different
server sessions; [database] session_url goes straight to PostgreSQL for what needs a
session (LISTEN, session advisory locks, migrations, tgmctl). Under a load of sends
and inbound updates through all four daemons, every message answered 202 is sent
exactly once, every update is processed and answered, a revoked key stops working at
once (gatewayd's key cache hears it by LISTEN), and PgBouncer's own counters show the
traffic went through it.
"""
import json
import os
import pwd
import subprocess
import threading

import psycopg2
import pytest
import requests

from conftest import child_env, free_port, require_program, short_tmpdir, wait_for
from test_senderd import tg  # noqa: F401 (the fake Telegram fixture)
from test_webhookd import PUBLIC, SECRET_HEADER, World

POOL_SIZE = 3     # server connections per (database, user): fewer than the daemons open
STEPS = 240       # sends, and as many inbound /help updates
# the daemons' connections (application_name) that may go through PgBouncer, and those
# that need a session of their own (LISTEN, session advisory locks)
POOLED = {"gatewayd-accept", "gatewayd-events", "senderd-claim", "senderd-lease",
          "senderd-record", "senderd-callback", "webhookd-process", "gatewayd-retention"}
SESSION = {"gatewayd", "gatewayd-auth", "gatewayd-updates", "gatewayd-summary", "senderd",
           "webhookd", "webhookd-forward", "webhookd-poll-locks", "webhookd-autoreplies",
           "billingd"}


class PgBouncer:
    """A private PgBouncer in front of one database of the test cluster, run as the
    cluster's owner (it refuses root), listening on a Unix socket only."""

    def __init__(self, pg, db):
        self.program = require_program("pgbouncer", "pgbouncer")
        self.pg, self.db = pg, db
        self.dir = short_tmpdir("tgm-pgb-")
        self.port = free_port()
        self.log = self.dir / "pgbouncer.log"
        self.proc = None
        (self.dir / "users.txt").write_text('"tgm" ""\n')
        (self.dir / "pgbouncer.ini").write_text(f"""
[databases]
{db} = host={pg.sockdir} port={pg.port} dbname={db} user=tgm

[pgbouncer]
listen_addr =
unix_socket_dir = {self.dir}
listen_port = {self.port}
auth_type = trust
auth_file = {self.dir}/users.txt
admin_users = tgm
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 500
logfile = {self.log}
pidfile = {self.dir}/pgbouncer.pid
""")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in [self.dir, *self.dir.iterdir()]:
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def start(self):
        cmd = [self.program, str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        self.proc = subprocess.Popen(cmd, cwd="/", env=child_env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: self.proc.poll() is not None
                 or (self.dir / f".s.PGSQL.{self.port}").exists(), 20,
                 what="PgBouncer's socket")
        assert self.proc.poll() is None, self.proc.stderr.read().decode()

    def url(self):
        return f"postgresql:///{self.db}?host={self.dir}&port={self.port}&user=tgm"

    def show(self, what):
        """SHOW what on the admin console: a list of dicts."""
        conn = psycopg2.connect(host=str(self.dir), port=self.port, user="tgm",
                                dbname="pgbouncer")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(f"SHOW {what}")
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            conn.close()

    def ours(self, what):
        return [r for r in self.show(what) if r["database"] == self.db]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def pgbouncer(tgm_env):
    b = PgBouncer(tgm_env.pg, tgm_env.db)
    b.start()
    yield b
    b.stop()


def load(w, key, bots, gw, wh, secrets, steps, sent, updates):
    """steps sends and /help updates over the bots, from 4 threads; what was accepted
    goes into sent (text -> message id) and updates ((bot id, update_id))."""
    h = {"Authorization": f"Bearer {key}"}
    lock = threading.Lock()

    def worker(first):
        for n in range(first, steps, 4):
            bot = bots[n % len(bots)]
            text = f"pooled {n}"
            r = requests.post(gw + "/v1/messages", headers={**h, "Idempotency-Key": text},
                              json={"bot_id": bot.id, "chat_id": 5000 + n % 30, "text": text},
                              timeout=20)
            assert r.status_code == 202, r.text
            message_id = r.json()["id"]
            with lock:
                u = w.update(message=w.message("/help", user=7000 + n % 20))
            r = requests.post(f"{wh}/telegram/{bot.id}", data=json.dumps(u), timeout=20,
                              headers={"Content-Type": "application/json",
                                       SECRET_HEADER: secrets[bot.id]})
            assert r.status_code == 200, r.text
            with lock:
                sent[text] = message_id
                updates.append((bot.id, u["update_id"]))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)


def test_the_daemons_run_behind_pgbouncer_in_transaction_mode(tgm_env, tg, pgbouncer):
    w = World(tgm_env, tg)
    bots = [w.new_bot(per_second=200, chat_per_second=30) for _ in range(3)]
    conf = tgm_env.write_config({("database", "url"): pgbouncer.url(),
                                 ("database", "session_url"): tgm_env.url,
                                 ("telegram", "api_url"): tg.url, ("telegram", "timeout"): "5",
                                 ("webhookd", "public_url"): PUBLIC}, name="pooled.conf")
    daemons = [tgm_env.daemon(name, conf=conf)
               for name in ("gatewayd", "senderd", "webhookd", "billingd")]
    key = tgm_env.tgmctl("key", "create", "--tenant", "acme", "--scope", "admin",
                         conf=conf).stdout.strip()
    secrets = {b.id: w.secret(b) for b in bots}
    gw, wh = tgm_env.http("gatewayd"), tgm_env.http("webhookd")

    sent, updates = {}, []
    load(w, key, bots, gw, wh, secrets, STEPS, sent, updates)
    assert len(sent) == STEPS and len(updates) == STEPS

    def all_sent():
        counts = tg.count_by(lambda c: c.text)
        return all(counts.get(t) == 1 for t in sent) and counts
    counts = wait_for(all_sent, 90, what=f"the {STEPS} accepted messages sent once each")
    assert not [t for t, n in counts.items() if t in sent and n != 1]

    def processed():
        rows = w.query("SELECT bot_id, update_id FROM tg_updates"
                       " WHERE processed_at IS NOT NULL")
        return {tuple(r) for r in rows} >= set(updates)
    wait_for(processed, 90, what="every accepted update processed")
    failed = w.query("SELECT count(*) FROM tg_updates WHERE outcome LIKE 'failed%%'")[0][0]
    assert failed == 0

    # what needs a session went straight to PostgreSQL, the rest through PgBouncer
    pooled = {c["application_name"] for c in pgbouncer.ours("CLIENTS")}
    assert pooled >= POOLED, pooled
    assert not pooled & SESSION, pooled & SESSION
    direct = {r[0] for r in w.query("SELECT application_name FROM pg_stat_activity"
                                    " WHERE datname = current_database()")}
    assert direct >= SESSION, direct
    # a revoked key is refused at once
    h = {"Authorization": f"Bearer {key}"}
    assert requests.get(gw + "/v1/bots", headers=h, timeout=10).status_code == 200
    w.query("UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL")
    wait_for(lambda: requests.get(gw + "/v1/bots", headers=h, timeout=10).status_code == 401,
             10, what="the revoked key refused")

    # the transactions went through PgBouncer, on no more server sessions than its pool
    stats = pgbouncer.ours("STATS")
    assert stats and stats[0]["total_xact_count"] >= 2 * STEPS, stats
    pools = pgbouncer.ours("POOLS")
    servers = sum(p["sv_active"] + p["sv_idle"] + p["sv_used"] + p["sv_tested"]
                  + p["sv_login"] for p in pools)
    clients = sum(p["cl_active"] + p["cl_waiting"] for p in pools)
    assert servers <= POOL_SIZE, pools
    assert clients > POOL_SIZE, f"only {clients} daemon connections went through PgBouncer"
    for d in daemons:
        d.stop()
    for d in daemons:
        assert "prepared statement" not in d.log(), d.name
