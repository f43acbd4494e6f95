"""The life of each daemon: start, READY=1, heartbeat, HTTP basics, reload, stop.

The contract is docs/CONTRACTS.md ("Daemon command line"); common/daemon.c implements
it once for all four daemons.
"""

import json
import re
import resource
import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from conftest import DAEMONS, READY_TIMEOUT, bug_reports, log_lines, wait_for

HTTP_DAEMONS = ("gatewayd", "webhookd")
HEARTBEAT_WAIT = 5


def heartbeat(env, name, pid=None):
    """The daemons row of name (and pid): a dict, or None."""
    rows = env.query("SELECT pid, instance, host, version, started_at, seen_at, stopped_at"
                     " FROM daemons WHERE name = %s", (name,))
    rows = [dict(zip(("pid", "instance", "host", "version", "started_at", "seen_at",
                      "stopped_at"), r)) for r in rows]
    rows = [r for r in rows if pid is None or r["pid"] == pid]
    return rows[0] if rows else None


def get(env, path, daemon="gatewayd", method="GET", **kw):
    return requests.request(method, env.http(daemon) + path, timeout=5, **kw)


# ------------------------------------------------------------ start, heartbeat, stop

@pytest.mark.parametrize("name", DAEMONS)
def test_start_heartbeat_stop(tgm_env, name):
    d = tgm_env.daemon(name, args=["--instance", "7"] if name == "senderd" else [])
    assert d.notified("READY=1")
    assert any(line.startswith("STATUS=") for n in d.notifications() for line in n.split("\n"))
    row = wait_for(lambda: heartbeat(tgm_env, name, d.pid), HEARTBEAT_WAIT,
                   what=f"{name}'s heartbeat row")
    assert row["stopped_at"] is None
    assert row["version"]
    if name == "senderd":
        assert row["instance"] == "7"
    assert d.running()

    d.stop()
    assert d.notified("STOPPING=1")
    notes = d.notifications()
    assert [i for i, n in enumerate(notes) if "READY=1" in n][0] < \
        [i for i, n in enumerate(notes) if "STOPPING=1" in n][0]
    row = heartbeat(tgm_env, name, d.pid)
    assert row["stopped_at"] is not None, f"{name}: stopped_at not set on a clean stop"
    assert "stopped" in d.log()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_signals(tgm_env, sig):
    d = tgm_env.daemon("billingd")
    d.stop(sig)
    assert d.notified("STOPPING=1")


def test_restart_reuses_heartbeat_row(tgm_env):
    first = tgm_env.daemon("billingd")
    first.stop()
    second = tgm_env.daemon("billingd")
    row = wait_for(lambda: heartbeat(tgm_env, "billingd", second.pid), HEARTBEAT_WAIT,
                   what="the new heartbeat")
    assert row["stopped_at"] is None
    assert len(tgm_env.query("SELECT 1 FROM daemons WHERE name = 'billingd'")) == 1
    second.stop()


def unix_connections(path):
    """How many connections the listening Unix socket at path has accepted (an accepted
    socket shows its listener's path in /proc/net/unix, a connecting one does not)."""
    with open("/proc/net/unix") as f:
        lines = [line.split() for line in f.read().splitlines()[1:]]
    return sum(1 for fields in lines if len(fields) >= 8 and fields[7] == str(path)) - 1


def test_all_four_together(tgm_env):
    """The suite as systemd starts it: the ZeroMQ endpoints meet, all stop cleanly."""
    ds = [tgm_env.daemon(name) for name in DAEMONS]
    for name in HTTP_DAEMONS:
        assert get(tgm_env, "/healthz", name).status_code == 200
    # senderd connects to every doorbell and status endpoint, webhookd to billingd's work
    endpoints = ["gatewayd-doorbell", "gatewayd-status", "webhookd-doorbell",
                 "billingd-doorbell", "billingd-status", "billingd-work"]
    wait_for(lambda: all(unix_connections(tgm_env.rundir / e) >= 1 for e in endpoints), 10,
             what="every ZeroMQ endpoint to have its peer (at first: " + ", ".join(
                 f"{e}={unix_connections(tgm_env.rundir / e)}" for e in endpoints) + ")")
    for d in reversed(ds):
        d.stop()


# ------------------------------------------------------------ HTTP basics

@pytest.mark.parametrize("name", HTTP_DAEMONS)
def test_healthz(tgm_env, name):
    tgm_env.daemon(name)
    r = get(tgm_env, "/healthz", name)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok", "database": "ok"}
    r = get(tgm_env, "/healthz", name, method="HEAD")
    assert r.status_code == 200
    assert r.content == b""


def raw_exchange(env, daemon, request):
    """Send request bytes as they are; (status, headers, body) of the answer, read until
    the daemon closes the connection."""
    host, port = env.http(daemon).removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split()[1]), lines[0], headers, body


BROKEN_REQUESTS = {
    "request line": (b"NONSENSE\r\n\r\n", 400),
    "header": (b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400),
    "content length": (b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
    "body over every limit": (b"POST /healthz HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 999999999\r\n\r\n", 413),
}


@pytest.mark.parametrize("case", BROKEN_REQUESTS)
@pytest.mark.parametrize("name", HTTP_DAEMONS)
def test_broken_requests_get_a_problem_document(tgm_env, name, case):
    """What libevent refuses before any route sees it still answers problem+json, with the
    reason phrase of its code, and the connection is closed after it."""
    request, status = BROKEN_REQUESTS[case]
    tgm_env.daemon(name)
    got, line, headers, body = raw_exchange(tgm_env, name, request)
    assert got == status, (line, body)
    assert line.endswith({400: "Bad Request", 413: "Content Too Large"}[status]), line
    assert headers["content-type"].startswith("application/problem+json"), headers
    assert headers["connection"].lower() == "close", headers
    problem = json.loads(body[:int(headers["content-length"])])
    assert problem["status"] == status and problem["title"] and problem["type"], problem
    assert b"<" not in body, body


@pytest.mark.parametrize("name", HTTP_DAEMONS)
def test_unknown_path_is_404_problem(tgm_env, name):
    tgm_env.daemon(name)
    r = get(tgm_env, "/no/such/path", name)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["type"].startswith("http")


@pytest.mark.parametrize("name", HTTP_DAEMONS)
def test_wrong_method_is_405_with_allow(tgm_env, name):
    tgm_env.daemon(name)
    r = get(tgm_env, "/healthz", name, method="POST", data=b"{}")
    assert r.status_code == 405
    assert r.headers["Content-Type"].startswith("application/problem+json")
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allow
    assert "POST" not in allow
    assert r.json()["status"] == 405


def metric(text, name, **labels):
    """The value of one sample in a Prometheus text exposition, or 0."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    rx = re.compile(rf"^{re.escape(name)}\{{{re.escape(want)}\}} (\S+)$", re.M)
    m = rx.search(text)
    return float(m.group(1)) if m else 0.0


def test_metrics_count_requests(tgm_env):
    tgm_env.daemon("gatewayd")
    before = get(tgm_env, "/metrics")
    assert before.status_code == 200
    assert before.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE tgm_gatewayd_http_requests_total counter" in before.text
    h0 = metric(before.text, "tgm_gatewayd_http_requests_total", route="/healthz", code="2xx")
    u0 = metric(before.text, "tgm_gatewayd_http_requests_total", route="unmatched", code="4xx")
    for _ in range(3):
        assert get(tgm_env, "/healthz").status_code == 200
    assert get(tgm_env, "/nope").status_code == 404
    after = get(tgm_env, "/metrics").text
    assert metric(after, "tgm_gatewayd_http_requests_total",
                  route="/healthz", code="2xx") == h0 + 3
    assert metric(after, "tgm_gatewayd_http_requests_total",
                  route="unmatched", code="4xx") == u0 + 1
    assert metric(after, "tgm_gatewayd_http_requests_total",
                  route="/metrics", code="2xx") >= 1


# ------------------------------------------------------------ reload

def test_reload_reloadable_key(tgm_env):
    """log.level changes on SIGHUP: a debug line (an API key looked up in the
    database) is not written at level info, and is once level = debug is reloaded."""
    unknown = {"Authorization": "Bearer tgmk_" + "a" * 40}
    debug_line = "api key not cached"
    conf = tgm_env.write_config({("log", "level"): "info"})
    d = tgm_env.daemon("gatewayd", conf=conf)
    # the line is written before the lookup, so before the answer
    assert get(tgm_env, "/v1/bots", headers=unknown).status_code == 401
    assert debug_line not in d.log(), "a debug line at level info"
    start = len(d.log())
    tgm_env.write_config({("log", "level"): "debug"})
    d.send(signal.SIGHUP)
    d.wait_log(r"configuration reloaded", start=start)
    assert "after a restart" not in d.log()[start:], "log.level is reloadable"
    assert get(tgm_env, "/v1/bots", headers=unknown).status_code == 401
    line = d.wait_log(rf"(?m)^<7>.*{debug_line}.*$", start=start, timeout=5).group(0)
    assert line, "no debug line after reloading level = debug"
    assert get(tgm_env, "/healthz").status_code == 200
    d.stop()


@pytest.mark.parametrize("name", DAEMONS)
def test_reload_tells_systemd(tgm_env, name):
    """SIGHUP: RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload wants), then
    READY=1 once the reload is over, also when the new file was refused."""
    d = tgm_env.daemon(name, args=["--instance", "r"] if name == "senderd" else [])
    for extra, says in (("", "configuration reloaded"),
                        ("\n[log]\nlevel = loud\n", "keeping the old configuration")):
        tgm_env.write_config(extra=extra)
        seen = len(d.notifications())
        start = len(d.log())
        d.send(signal.SIGHUP)
        d.wait_log(says, start=start)
        wait_for(lambda: any("READY=1" in n.splitlines() for n in d.notifications()[seen:]),
                 10, what="READY=1 after the reload")
        notes = [line for n in d.notifications()[seen:] for line in n.splitlines()]
        assert notes.index("RELOADING=1") < notes.index("READY=1"), notes
        assert any(re.fullmatch(r"MONOTONIC_USEC=\d+", line) for line in notes), notes
    tgm_env.write_config()
    d.stop()


def test_reload_unreloadable_key_warns(tgm_env):
    d = tgm_env.daemon("gatewayd")
    start = len(d.log())
    tgm_env.write_config({("gatewayd", "max_body"): "2048"})
    d.send(signal.SIGHUP)
    d.wait_log(r"configuration reloaded", start=start)
    warning = [line for line in log_lines(d.log()[start:]) if "gatewayd.max_body" in line]
    assert warning and warning[0].startswith("<4>"), d.log()
    assert "restart" in warning[0]
    d.stop()


@pytest.mark.parametrize("name", DAEMONS)
def test_reload_broken_file_keeps_old(tgm_env, name):
    d = tgm_env.daemon(name)
    start = len(d.log())
    tgm_env.write_config(extra="\n[log]\nlevel = loud\n")
    d.send(signal.SIGHUP)
    m = d.wait_log(r"(?m)^<3>.*keeping the old configuration.*$", start=start)
    assert "log.level" in m.group(0)
    assert "configuration reloaded" not in d.log()[start:]
    if name in HTTP_DAEMONS:
        r = get(tgm_env, "/healthz", name)
        assert r.status_code == 200
    # the file is good again: the next reload takes it
    tgm_env.write_config()
    d.send(signal.SIGHUP)
    d.wait_log(r"configuration reloaded", start=start)
    assert d.running()
    d.stop()


def test_reload_missing_file_keeps_old(tgm_env):
    d = tgm_env.daemon("webhookd")
    start = len(d.log())
    tgm_env.conf.unlink()
    d.send(signal.SIGHUP)
    d.wait_log(r"keeping the old configuration", start=start)
    assert get(tgm_env, "/healthz", "webhookd").status_code == 200
    d.stop()


# ------------------------------------------------------------ command line

# Each daemon gets the short options; the long spellings and the rarer mistakes are
# tried on one daemon each (the parser is common/daemon.c, shared by all four).
BAD_USAGE = [["--frobnicate"], ["-x"], ["-c"], ["stray-argument"]]


@pytest.mark.parametrize("i,name", list(enumerate(DAEMONS)), ids=DAEMONS)
def test_command_line(tgm_env, i, name):
    for opt in ["-h"] + (["--help"] if i == 0 else []):
        r = tgm_env.run(name, opt)
        assert r.returncode == 0, f"{opt}: {r.stderr}"
        assert r.stdout.startswith(f"usage: {name}")
        for o in ("-c", "--check-config", "--instance", "-V"):
            assert o in r.stdout
        assert r.stderr == ""
    for opt in ["-V"] + (["--version"] if i == 1 else []):
        r = tgm_env.run(name, opt)
        assert r.returncode == 0
        assert re.fullmatch(rf"{name} \S+\n", r.stdout), r.stdout
        assert r.stderr == ""
    for args in [BAD_USAGE[0], BAD_USAGE[1 + i % 3]]:
        r = tgm_env.run(name, *args)
        assert r.returncode == 2, f"{args}: exit {r.returncode} {r.stderr}"
        assert r.stdout == ""
        assert r.stderr.strip(), f"{args}: a usage error says something"


def test_verbose_flag_raises_level(tgm_env):
    conf = tgm_env.write_config({("log", "level"): "notice"})
    quiet = tgm_env.daemon("billingd", conf=conf)
    quiet.stop()
    assert not [line for line in quiet.lines() if line.startswith("<6>")], quiet.log()
    loud = tgm_env.daemon("billingd", conf=conf, args=["-v"])
    loud.stop()
    assert [line for line in loud.lines() if line.startswith("<6>")], "-v: one level more"


# ------------------------------------------------------------ database trouble

@pytest.mark.parametrize("name", HTTP_DAEMONS)
def test_survives_lost_database_connection(tgm_env, name):
    d = tgm_env.daemon(name)
    assert get(tgm_env, "/healthz", name).status_code == 200
    start = len(d.log())
    killed = tgm_env.pg.query(
        "postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND application_name = %s", (tgm_env.db, name))
    assert killed, f"no connection of {name} found"
    wait_for(lambda: get(tgm_env, "/healthz", name).status_code == 200, 10,
             interval=0.1, what=f"{name}'s /healthz to recover")
    assert d.running()
    assert "database connection lost" in d.log()[start:]
    r = get(tgm_env, "/healthz", name)
    assert r.json() == {"status": "ok", "database": "ok"}
    d.stop()


def test_healthz_503_while_database_is_gone(tgm_env):
    """Lock the daemon out (connections refused), see 503, let it back in, see 200."""
    d = tgm_env.daemon("gatewayd")
    db = tgm_env.db
    pg = tgm_env.pg
    wait_for(lambda: heartbeat(tgm_env, "gatewayd", d.pid), HEARTBEAT_WAIT,
             what="the heartbeat row")
    pg.execute_admin(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false')
    try:
        pg.query("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                 " WHERE datname = %s AND application_name = 'gatewayd'", (db,))
        seen = []  # (a requests.Response is false when its status is >= 400)
        wait_for(lambda: seen.append(get(tgm_env, "/healthz")) or
                 seen[-1].status_code == 503, 10, interval=0.1, what="/healthz to say 503")
        assert seen[-1].json()["status"] != "ok"
        assert seen[-1].json()["database"] != "ok"
    finally:
        pg.execute_admin(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true')
    wait_for(lambda: get(tgm_env, "/healthz").status_code == 200, 15, interval=0.1,
             what="/healthz to recover")
    d.stop()
    assert heartbeat(tgm_env, "gatewayd", d.pid)["stopped_at"], "stopped_at after recovery"


def test_healthz_503_when_database_hangs(tgm_env, pg_proxy):
    """A database that accepts connections but never answers (a stopped server, a lost
    network) must not hang /healthz: CONTRACTS.md promises 503 when it is unreachable.
    The daemon reaches PostgreSQL through a proxy that can cut and freeze."""
    conf = tgm_env.write_config({("database", "url"): pg_proxy.url(tgm_env.db),
                                 ("database", "connect_timeout"): "2"})
    d = tgm_env.daemon("gatewayd", conf=conf)
    assert get(tgm_env, "/healthz").status_code == 200
    pg_proxy.freeze()
    accepted = pg_proxy.accepted
    pg_proxy.cut()
    try:
        # wait until the daemon's new connection attempt is held by the frozen proxy
        wait_for(lambda: pg_proxy.accepted > accepted, 10, what="a reconnection attempt")
        t0 = time.monotonic()
        try:
            r = requests.get(tgm_env.http() + "/healthz", timeout=2 + 5)
        except requests.Timeout:
            r = None
        if r is None:
            pytest.fail(f"/healthz did not answer in {time.monotonic() - t0:.1f}s while the"
                        " database hangs (expected 503 within about connect_timeout = 2 s)",
                        pytrace=False)
        assert r.status_code == 503
    finally:
        pg_proxy.thaw()
    wait_for(lambda: get(tgm_env, "/healthz").status_code == 200, 15, interval=0.1,
             what="/healthz to recover")
    d.stop()


def test_watchdog(tgm_env):
    """WATCHDOG=1 every WATCHDOG_USEC/2, only when WATCHDOG_PID is unset or ours.
    The interval is measured over many pings (the daemon's timer sets the pace, the
    test's polling only blurs both ends), with bounds that refuse a ping every
    WATCHDOG_USEC or every quarter of it."""
    usec, pings = 400000, 10
    d = tgm_env.daemon("billingd", env={"WATCHDOG_USEC": str(usec)})

    def count():
        return sum("WATCHDOG=1" in n.split("\n") for n in d.notifications())

    n0 = wait_for(count, 5, interval=0.005, what="a first WATCHDOG=1")
    n0 = wait_for(lambda: count() > n0 and count(), 5, interval=0.005,
                  what="another WATCHDOG=1")  # t0 is at a ping, not long after one
    t0 = time.monotonic()
    wait_for(lambda: count() >= n0 + pings, 15, interval=0.005,
             what=f"{pings} more WATCHDOG=1")
    each = (time.monotonic() - t0) / pings
    d.stop()
    half = usec / 2 / 1e6
    assert 0.7 * half <= each <= 1.5 * half, \
        f"a WATCHDOG=1 every {each:.3f} s, not about WATCHDOG_USEC/2 = {half} s"
    other = tgm_env.daemon("billingd", env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    time.sleep(0.5)
    other.stop()
    assert not any("WATCHDOG=1" in n for n in other.notifications())


def test_second_sigterm_exits_at_once(tgm_env, pg_proxy):
    """A drain that waits (here for a query the frozen database never answers) is cut
    short by a second SIGTERM; requests still open at that moment are dropped cleanly."""
    import threading
    conf = tgm_env.write_config({("database", "url"): pg_proxy.url(tgm_env.db)})
    d = tgm_env.daemon("gatewayd", conf=conf)
    pg_proxy.freeze()
    accepted = pg_proxy.accepted
    pg_proxy.cut()
    wait_for(lambda: pg_proxy.accepted > accepted, 10, what="a reconnection attempt")
    results = []

    def ask():
        try:
            results.append(get(tgm_env, "/healthz").status_code)
        except requests.RequestException as e:
            results.append(type(e).__name__)

    asking = threading.Thread(target=ask)
    asking.start()
    try:
        time.sleep(0.3)  # the request waits for the database
        d.send(signal.SIGTERM)
        d.wait_notified("STOPPING=1", 5)
        time.sleep(0.3)
        assert d.running(), "the first SIGTERM drains: a query is pending"
        t0 = time.monotonic()
        d.send(signal.SIGTERM)
        rc = d.wait(15)
        took = time.monotonic() - t0
    finally:
        pg_proxy.thaw()
        asking.join(10)
    assert rc == 0, d.log()
    assert took < 5, f"the second SIGTERM took {took:.1f}s"
    assert "second stop signal" in d.log()


def ipc_listening(path):
    """Does something accept connections on the Unix socket at path?"""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_failed_second_gatewayd_leaves_first_endpoints(tgm_env):
    """A second gatewayd on the same configuration fails on its HTTP port (exit 1); it
    must not have taken the first one's ipc:// endpoints down with it."""
    first = tgm_env.daemon("gatewayd")
    endpoints = [tgm_env.rundir / "gatewayd-doorbell", tgm_env.rundir / "gatewayd-status"]
    assert all(ipc_listening(p) for p in endpoints)
    second = tgm_env.daemon("gatewayd", wait_ready=False)
    assert second.wait() == 1
    assert "in use" in second.log()
    dead = [p.name for p in endpoints if not ipc_listening(p)]
    assert not dead, f"the failed second gatewayd broke the first one's endpoints: {dead}"
    first.stop()


def test_second_billingd_refused(tgm_env):
    """Two billingd on the same endpoints: the second must refuse (a bind error), not
    silently take the work queue from the first."""
    first = tgm_env.daemon("billingd")
    second = tgm_env.daemon("billingd", wait_ready=False)
    wait_for(lambda: not second.running() or second.notified("READY=1"), READY_TIMEOUT,
             what="the second billingd to exit or start")
    started = second.notified("READY=1")
    if second.running():
        second.stop()
    else:
        second.wait()
    assert not started, "a second billingd started on endpoints that are in use"
    assert second.returncode == 1
    assert len(second.lines()) == 1 and second.lines()[0].startswith("<3>")
    assert ipc_listening(tgm_env.rundir / "billingd-work")
    first.stop()


def open_fds(pid):
    import os
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_no_fd_leak_over_requests(tgm_env):
    d = tgm_env.daemon("gatewayd")
    for _ in range(3):  # warm up (the database connection, libevent's first sockets)
        get(tgm_env, "/healthz")
    before = open_fds(d.pid)
    for i in range(40):
        get(tgm_env, ["/healthz", "/nope", "/metrics"][i % 3],
            headers={"Connection": "close"})
        get(tgm_env, "/healthz", method="POST", data=b"x" * 100)
    wait_for(lambda: open_fds(d.pid) <= before, 5,
             what=f"gatewayd's open files to return to {before}")
    d.stop()


def test_restart_after_sigkill(tgm_env):
    """A killed daemon leaves its ipc:// socket files and heartbeat behind; the next
    start takes them over."""
    first = tgm_env.daemon("gatewayd")
    wait_for(lambda: heartbeat(tgm_env, "gatewayd", first.pid), HEARTBEAT_WAIT,
             what="the heartbeat")
    first.kill()
    assert (tgm_env.rundir / "gatewayd-doorbell").exists()
    assert heartbeat(tgm_env, "gatewayd", first.pid)["stopped_at"] is None
    second = tgm_env.daemon("gatewayd")
    assert get(tgm_env, "/healthz").status_code == 200
    row = wait_for(lambda: heartbeat(tgm_env, "gatewayd", second.pid), HEARTBEAT_WAIT,
                   what="the new heartbeat")
    assert row["stopped_at"] is None
    second.stop()


def test_audit_recognises_bugs():
    """Negative control for the teardown audit (conftest.bug_reports)."""
    samples = {
        "<2>2026-01-01 00:00:00.000 BUG at x.c:1: impossible": "a <2> (bug) line",
        "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1":
            "an AddressSanitizer report",
        "==1==ERROR: LeakSanitizer: detected memory leaks": "a LeakSanitizer report",
        "common/x.c:3:5: runtime error: signed integer overflow":
            "an UndefinedBehaviorSanitizer report",
        "[err] http.c:3008: Assertion TAILQ_FIRST(&evcon->requests) == req failed":
            "a libevent fatal error",
    }
    for line, what in samples.items():
        found = bug_reports(f"<6>fine\n{line}\n<6>fine\n")
        assert (what, line) in found, line
    clean = "<3>an error\n<4>a warning\n<6>info mentioning <2> inside\n<7>debug"
    assert bug_reports(clean) == []


def test_a_daemon_raises_its_open_files_limit(tgm_env):
    """Started under a soft limit of 256 open files (a shell's ulimit, outside systemd's
    LimitNOFILE), gatewayd raises it to the hard limit: event streams and connections
    are bounded by memory, not by a default."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        d = tgm_env.daemon("gatewayd")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    line = next(x for x in Path(f"/proc/{d.pid}/limits").read_text().splitlines()
                if x.startswith("Max open files"))
    assert line.split()[3] == str(hard), line
