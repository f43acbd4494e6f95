"""Configuration errors: ONE clear line on stderr and exit status 1, never a crash.

Most cases run every daemon with --check-config (fast, no database); each class of
error is also tried once with a real start. The contract is docs/CONTRACTS.md
("Daemon command line", "Configuration"); the keys are common/config_keys.c.
"""

import os
import socket
import subprocess
import time

import pytest

from conftest import (DAEMONS, REPO, RUN_TIMEOUT, audit, binary, child_env, free_port,
                      log_lines, short_tmpdir, wait_for)

CONNECT_TIMEOUT = 2  # libpq's smallest connect_timeout


def one_error(r, who=""):
    """The single error line of a failed start; asserts exit 1 and nothing else."""
    lines = log_lines(r.stderr)
    assert r.returncode == 1, f"{who}: exit status {r.returncode}, stderr:\n{r.stderr}"
    assert len(lines) == 1, f"{who}: expected one error line, got:\n{r.stderr}"
    assert lines[0].startswith("<3>"), f"{who}: not an error line: {lines[0]!r}"
    assert r.stdout == "", f"{who}: unexpected stdout {r.stdout!r}"
    return lines[0]


def daemon_error(d, who=""):
    """Like one_error, for a Daemon started without waiting for READY=1."""
    rc = d.wait()
    lines = d.lines()
    assert rc == 1, f"{who}: exit status {rc}, log:\n{d.log()}"
    assert len(lines) == 1, f"{who}: expected one error line, got:\n{d.log()}"
    assert lines[0].startswith("<3>"), f"{who}: not an error line: {lines[0]!r}"
    assert not d.notified("READY=1"), f"{who}: READY=1 sent by a failed start"
    return lines[0]


def check_all(env, conf, expect, extra_env=None, daemons=DAEMONS):
    """--check-config on the daemons (at once): one line containing each of expect."""
    results = run_all([[binary(name), "-c", str(conf), "--check-config"] for name in daemons],
                      child_env(extra_env))
    for name, r in zip(daemons, results):
        audit(r.stderr, name)
        line = one_error(r, name)
        for text in expect:
            assert text in line, f"{name}: {text!r} not in {line!r}"


def run_all(commands, env):
    """Run the commands in parallel; their CompletedProcesses, in order."""
    procs = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for cmd in commands]
    results = []
    for cmd, p in zip(commands, procs):
        out, err = p.communicate(timeout=RUN_TIMEOUT)
        results.append(subprocess.CompletedProcess(cmd, p.returncode, out, err))
    return results


def line_of(text, needle):
    """1-based number of the last line of text containing needle (extra text is last)."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert found, f"{needle!r} not in the config"
    return found[-1]


# Each case: (id, overrides {(section, key): value}, extra text, texts the line must hold).
# "{conf}" and "{line}" are filled in: the file and the line of the marked text.
VALUE_CASES = [
    ("wrong-type", {("database", "connect_timeout"): "abc"}, "",
     ["{conf}:{line}:", "database.connect_timeout", "integer", "abc"]),
    ("below-range", {("database", "connect_timeout"): "0"}, "",
     ["{conf}:{line}:", "database.connect_timeout", "between 1 and 300"]),
    ("above-range", {("gatewayd", "max_body"): "999999999999"}, "",
     ["{conf}:{line}:", "gatewayd.max_body"]),
    ("int-trailing-junk", {("senderd", "sweep_interval"): "5s"}, "",
     ["{conf}:{line}:", "senderd.sweep_interval", "integer"]),
    ("bad-url", {("telegram", "api_url"): "ftp://api.telegram.org"}, "",
     ["{conf}:{line}:", "telegram.api_url", "URL"]),
    ("bad-listen", {("gatewayd", "listen"): "nonsense"}, "",
     ["{conf}:{line}:", "gatewayd.listen", "address:port"]),
    ("bad-listen-port", {("webhookd", "listen"): "127.0.0.1:70000"}, "",
     ["{conf}:{line}:", "webhookd.listen", "address:port"]),
    ("bad-endpoint", {("billingd", "work"): "udp://127.0.0.1:5555"}, "",
     ["{conf}:{line}:", "billingd.work", "endpoint"]),
    ("two-endpoints-for-one", {("gatewayd", "doorbell"): "ipc:///tmp/a ipc:///tmp/b"}, "",
     ["{conf}:{line}:", "gatewayd.doorbell", "endpoint"]),
    ("bad-endpoint-in-list", {("senderd", "doorbells"): "ipc:///tmp/a nonsense"}, "",
     ["{conf}:{line}:", "senderd.doorbells", "endpoints"]),
    ("bad-log-level", {("log", "level"): "loud"}, "",
     ["{conf}:{line}:", "log.level", "debug, info"]),
    ("bad-secret-key", {("security", "secret_key"): "xyz" * 20}, "",
     ["{conf}:{line}:", "security.secret_key", "64 hex"]),
    ("empty-not-allowed", {("gatewayd", "listen"): ""}, "",
     ["{conf}:{line}:", "gatewayd.listen", "empty"]),
]

SYNTAX_CASES = [
    ("unknown-key", "\n[gatewayd]\nlisen = 127.0.0.1:1\n", "lisen",
     ["{conf}:{line}:", 'unknown key "lisen"', "[gatewayd]"]),
    ("unknown-section", "\n[gateway]\nlisten = 127.0.0.1:1\n", "[gateway]",
     ["{conf}:{line}:", "unknown section", "gateway"]),
    ("key-outside-section", None, "stray", ["{conf}:{line}:", "stray"]),
    ("no-equals", "\n[log]\nlevel debug\n", "level debug", ["{conf}:{line}:", "key = value"]),
    ("malformed-section", "\n[log\nlevel = info\n", "[log", ["{conf}:{line}:", "section"]),
    ("unclosed-quote", '\n[log]\nlevel = "debug\n', 'level = "debug',
     ["{conf}:{line}:", "log.level", "quote"]),
    ("line-too-long", "\n[log]\nlevel = " + "x" * 5000 + "\n", "x" * 100,
     ["{conf}:{line}:", "too long"]),
]


def one_daemon_each(cases):
    """(daemon, case) pairs: the cases go round the daemons. The parser is shared
    (common/config.c), so each case on one daemon, all four over the table."""
    return [(DAEMONS[i % len(DAEMONS)], c) for i, c in enumerate(cases)]


@pytest.mark.parametrize("name,case", one_daemon_each(VALUE_CASES),
                         ids=[c[0] for c in VALUE_CASES])
def test_bad_value(tgm_env, name, case):
    _, overrides, extra, expect = case
    conf = tgm_env.write_config(overrides, extra=extra)
    (section, key), value = next(iter(overrides.items()))
    text = conf.read_text()
    line = line_of(text, f'{key} = "{value}"') if value else line_of(text, f'{key} = ""')
    check_all(tgm_env, conf, [e.format(conf=conf, line=line) for e in expect], daemons=[name])


@pytest.mark.parametrize("name,case", one_daemon_each(SYNTAX_CASES),
                         ids=[c[0] for c in SYNTAX_CASES])
def test_bad_syntax(tgm_env, name, case):
    _, extra, marker, expect = case
    if extra is None:  # a key before any [section]
        conf = tgm_env.write_config(text="stray = 1\n" + tgm_env.config_text())
    else:
        conf = tgm_env.write_config(extra=extra)
    line = line_of(conf.read_text(), marker)
    # the most common mistake is checked on every daemon
    daemons = DAEMONS if case[0] == "unknown-key" else [name]
    check_all(tgm_env, conf, [e.format(conf=conf, line=line) for e in expect], daemons=daemons)


def test_good_config_checks_silently(tgm_env):
    for name in DAEMONS:
        r = tgm_env.run(name, "-c", tgm_env.conf, "--check-config")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), name


def without_etc_tgm(command):
    """command with /etc/tgm hidden behind an empty tmpfs in a private mount namespace
    when this machine has one (an installed tgm), else command itself."""
    if not os.path.exists("/etc/tgm"):
        return command
    return ["unshare", "--mount", "--map-root-user", "sh", "-c",
            'mount -t tmpfs tgm-test /etc/tgm && exec "$@"', "sh", *command]


def test_missing_default_file_means_defaults(tgm_env):
    results = run_all([without_etc_tgm([binary(name), "--check-config"]) for name in DAEMONS],
                      child_env(None))
    for name, r in zip(DAEMONS, results):
        assert (r.returncode, r.stderr) == (0, ""), name


def test_missing_file(tgm_env):
    path = tgm_env.tmp / "no" / "such.conf"
    check_all(tgm_env, path, [str(path), "No such file"])


def test_directory_as_file(tgm_env):
    check_all(tgm_env, tgm_env.tmp, [str(tgm_env.tmp)])


def test_unreadable_file(tgm_env):
    """As root (who reads any file) the daemons run as nobody for this."""
    tgm_env.conf.chmod(0)
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    results = run_all([(as_nobody if os.geteuid() == 0 else []) +
                       [binary(name), "-c", str(tgm_env.conf), "--check-config"]
                       for name in DAEMONS], child_env(None))
    for name, r in zip(DAEMONS, results):
        line = one_error(r, name)
        assert str(tgm_env.conf) in line and "Permission denied" in line, (name, line)


def test_bad_environment_override(tgm_env):
    check_all(tgm_env, tgm_env.conf, ["TGM_GATEWAYD_LISTEN", "address:port"],
              extra_env={"TGM_GATEWAYD_LISTEN": "nonsense"})
    check_all(tgm_env, tgm_env.conf, ["TGM_DATABASE_CONNECT_TIMEOUT", "integer"],
              extra_env={"TGM_DATABASE_CONNECT_TIMEOUT": "soon"})


def test_environment_overrides_a_bad_file_value_only_if_file_is_valid(tgm_env):
    """The file is read before the environment: a bad file value stays an error."""
    conf = tgm_env.write_config({("log", "level"): "loud"})
    check_all(tgm_env, conf, [f"{conf}:", "log.level"], extra_env={"TGM_LOG_LEVEL": "info"})


# ------------------------------------------------------------ one real start per class

REAL_START_CASES = [
    ("unknown-key", "gatewayd", {}, "\n[senderd]\nsweep = 5\n", ['unknown key "sweep"']),
    ("unknown-section", "senderd", {}, "\n[nosuch]\n", ["unknown section"]),
    ("wrong-type", "webhookd", {("database", "connect_timeout"): "abc"}, "", ["integer"]),
    ("out-of-range", "billingd", {("stripe", "webhook_tolerance"): "0"}, "",
     ["stripe.webhook_tolerance"]),
    ("bad-url", "gatewayd", {("stripe", "api_url"): "api.stripe.com"}, "", ["stripe.api_url"]),
    ("bad-listen", "webhookd", {("webhookd", "listen"): "8081"}, "", ["webhookd.listen"]),
    ("bad-endpoint", "senderd", {("senderd", "statuses"): "ipc//x"}, "", ["senderd.statuses"]),
    ("bad-log-level", "billingd", {("log", "level"): "verbose"}, "", ["log.level"]),
    ("unclosed-quote", "gatewayd", {}, '\n[webhookd]\npublic_url = "https://x\n',
     ["webhookd.public_url", "quote"]),
]


@pytest.mark.parametrize("case", REAL_START_CASES, ids=[c[0] for c in REAL_START_CASES])
def test_real_start_refuses_bad_config(tgm_env, case):
    _, name, overrides, extra, expect = case
    conf = tgm_env.write_config(overrides, extra=extra)
    d = tgm_env.daemon(name, conf=conf, wait_ready=False)
    line = daemon_error(d, name)
    assert str(conf) in line
    for text in expect:
        assert text in line


def test_real_start_missing_file(tgm_env):
    d = tgm_env.daemon("gatewayd", conf=tgm_env.tmp / "missing.conf", wait_ready=False)
    assert "missing.conf" in daemon_error(d)


def test_real_start_bad_environment(tgm_env):
    d = tgm_env.daemon("gatewayd", env={"TGM_GATEWAYD_LISTEN": "nonsense"}, wait_ready=False)
    assert "TGM_GATEWAYD_LISTEN" in daemon_error(d)


# ------------------------------------------------------------ secret key and credentials

def credentials(env, files):
    """A credentials directory (as systemd's LoadCredential= makes) holding files."""
    d = env.tmp / "credentials"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return {"CREDENTIALS_DIRECTORY": str(d)}


def test_missing_secret_key_refused_at_start(tgm_env):
    conf = tgm_env.write_config(drop=[("security", "secret_key")])
    for name in DAEMONS:
        r = tgm_env.run(name, "-c", conf, "--check-config")
        assert r.returncode == 0, f"{name}: the key is checked at start, not by --check-config"
        d = tgm_env.daemon(name, conf=conf, wait_ready=False)
        assert "security.secret_key" in daemon_error(d, name)


def test_secret_key_from_credential(tgm_env):
    conf = tgm_env.write_config(drop=[("security", "secret_key")])
    creds = credentials(tgm_env, {"security.secret_key": tgm_env.secret_key + "\n"})
    r = tgm_env.run("billingd", "-c", conf, "--check-config", env=creds)
    assert (r.returncode, r.stderr) == (0, "")
    d = tgm_env.daemon("billingd", conf=conf, env=creds)
    d.stop()


def test_bad_credential_names_it(tgm_env):
    conf = tgm_env.write_config(drop=[("security", "secret_key")])
    creds = credentials(tgm_env, {"security.secret_key": tgm_env.secret_key[:63] + "\n"})
    check_all(tgm_env, conf, ["credential", "security.secret_key", "64 hex"], extra_env=creds)


def test_credential_only_for_secret_keys(tgm_env):
    """log.level is not secret: a credential file for it is ignored."""
    creds = credentials(tgm_env, {"log.level": "nonsense\n"})
    r = tgm_env.run("gatewayd", "-c", tgm_env.conf, "--check-config", env=creds)
    assert (r.returncode, r.stderr) == (0, "")


def test_credential_beats_file_and_environment_beats_both(tgm_env):
    tgm_env.ensure_db()
    bad_url = tgm_env.pg.url("no_such_database")
    conf = tgm_env.write_config({("database", "url"): bad_url})
    # the file names a missing database, the credential the right one: it starts
    creds = credentials(tgm_env, {"database.url": tgm_env.url + "\n"})
    tgm_env.daemon("billingd", conf=conf, env=creds).stop()
    # the credential names a missing database, the environment the right one: it starts
    creds = credentials(tgm_env, {"database.url": bad_url + "\n"})
    tgm_env.daemon("billingd", conf=conf, env={**creds, "TGM_DATABASE_URL": tgm_env.url}).stop()
    # and without the environment, the credential's missing database refuses the start
    d = tgm_env.daemon("billingd", conf=conf, env=creds, wait_ready=False)
    assert "no_such_database" in daemon_error(d)


def test_environment_beats_file(tgm_env):
    import requests
    port = free_port()
    d = tgm_env.daemon("gatewayd", env={"TGM_GATEWAYD_LISTEN": f"127.0.0.1:{port}"})
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{tgm_env.http()}/healthz", timeout=5)
    d.stop()


# ------------------------------------------------------------ database and sockets

def test_unreachable_database(tgm_env):
    """A socket directory with nothing listening and start_wait = 0: one line, exit 1, no
    waiting."""
    empty = short_tmpdir("tgm-nopg-")
    try:
        url = f"postgresql:///tgm?host={empty}&port=5432&user=tgm"
        conf = tgm_env.write_config({("database", "url"): url,
                                     ("database", "connect_timeout"): str(CONNECT_TIMEOUT),
                                     ("database", "start_wait"): "0"})
        for name in DAEMONS:
            d = tgm_env.daemon(name, conf=conf, wait_ready=False)
            t0 = time.monotonic()
            line = daemon_error(d, name)
            assert time.monotonic() - t0 < CONNECT_TIMEOUT + 1
            assert "database" in line
            assert any("STATUS=" in n for n in d.notifications()), \
                f"{name}: no STATUS= on a failed start"
    finally:
        empty.rmdir()


@pytest.mark.parametrize("name", DAEMONS)
def test_a_daemon_started_before_the_database_waits_for_it(tgm_env, name):
    """Started while PostgreSQL cannot be reached, a daemon retries (telling systemd why,
    and extending its start timeout) and becomes ready once the database appears; with
    the wait over, it fails as before."""
    tgm_env.ensure_db()
    later = short_tmpdir("tgm-later-")
    real = tgm_env.pg.sockdir / f".s.PGSQL.{tgm_env.pg.port}"
    try:
        url = f"postgresql:///{tgm_env.db}?host={later}&port={tgm_env.pg.port}&user=tgm"
        conf = tgm_env.write_config({("database", "url"): url,
                                     ("database", "start_wait"): "30"})
        d = tgm_env.daemon(name, conf=conf, wait_ready=False,
                           args=["--instance", "w"] if name == "senderd" else [])
        wait_for(lambda: any("STATUS=waiting for the database" in n and
                             "EXTEND_TIMEOUT_USEC=" in n for n in d.notifications()),
                 10, what="STATUS=waiting for the database")
        assert d.running() and not d.notified("READY=1")
        (later / real.name).symlink_to(real)    # PostgreSQL is there now
        d.wait_notified("READY=1", 20)
        assert any("the database is reachable" in line for line in log_lines(d.log())), d.log()
        d.stop()
    finally:
        for f in later.iterdir():
            f.unlink()
        later.rmdir()


def test_database_that_does_not_answer(tgm_env):
    """A server that accepts but never answers: given up after connect_timeout."""
    sockdir = short_tmpdir("tgm-mute-")
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        mute.bind(str(sockdir / ".s.PGSQL.5432"))
        mute.listen(16)
        url = f"postgresql:///tgm?host={sockdir}&port=5432&user=tgm"
        conf = tgm_env.write_config({("database", "url"): url,
                                     ("database", "connect_timeout"): str(CONNECT_TIMEOUT),
                                     ("database", "start_wait"): "0"})
        t0 = time.monotonic()
        d = tgm_env.daemon("gatewayd", conf=conf, wait_ready=False)
        line = daemon_error(d)
        took = time.monotonic() - t0
        assert "database" in line
        assert CONNECT_TIMEOUT - 0.5 < took < CONNECT_TIMEOUT + 5, f"took {took:.1f}s"
    finally:
        mute.close()
        for p in sockdir.iterdir():
            p.unlink()
        sockdir.rmdir()


def test_old_schema_refused(tgm_env, pg):
    empty = pg.new_db(template=None)
    try:
        conf = tgm_env.write_config({("database", "url"): pg.url(empty)})
        for name in DAEMONS:
            d = tgm_env.daemon(name, conf=conf, wait_ready=False)
            line = daemon_error(d, name)
            assert "schema is at version 0" in line
            assert "tgmctl migrate" in line
    finally:
        pg.drop_db(empty)


def test_a_missing_older_migration_is_refused(tgm_env):
    """A migration numbered below the newest applied one (added by a later release) that
    the database lacks: the daemons refuse to start and tgmctl status says which."""
    row = tgm_env.query("DELETE FROM schema_migrations WHERE version = 17"
                        " RETURNING version, name, checksum")[0]
    d = tgm_env.daemon("gatewayd", wait_ready=False)
    line = daemon_error(d, "gatewayd")
    assert "lacks migration 17 (017_callbacks_long)" in line and "tgmctl migrate" in line
    r = tgm_env.tgmctl("status")
    assert r.returncode == 1 and "lacks migration 17" in r.stdout, r.stdout
    tgm_env.query("INSERT INTO schema_migrations (version, name, checksum)"
                  " VALUES (%s, %s, %s)", row)    # as tgmctl migrate would have
    tgm_env.daemon("gatewayd").stop()


def test_newer_schema_accepted(tgm_env):
    """Migrations only add: a build older than the database still runs."""
    tgm_env.query("INSERT INTO schema_migrations (version, name, checksum)"
                  " VALUES (999, '999_future', 'x')")
    tgm_env.daemon("billingd").stop()


def test_secrets_never_logged(tgm_env):
    """A bad secret value is named, never shown; a URL's password never appears."""
    bad_key = "Z" * 64
    r = tgm_env.run("gatewayd", "-c", tgm_env.conf, "--check-config",
                    env={"TGM_SECURITY_SECRET_KEY": bad_key})
    assert "security.secret_key" in one_error(r) and bad_key not in r.stderr
    empty = short_tmpdir("tgm-nopg-")
    try:
        url = f"postgresql://tgm:hunter2secret@/tgm?host={empty}&port=5432"
        conf = tgm_env.write_config({("database", "url"): url, ("database", "start_wait"): "0"})
        d = tgm_env.daemon("billingd", conf=conf, wait_ready=False)
        daemon_error(d)
        assert "hunter2secret" not in d.log()
    finally:
        empty.rmdir()


@pytest.mark.parametrize("name", ["gatewayd", "webhookd"])
def test_port_in_use(tgm_env, name):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        conf = tgm_env.write_config({(name, "listen"): f"127.0.0.1:{port}"})
        d = tgm_env.daemon(name, conf=conf, wait_ready=False)
        line = daemon_error(d, name)
        assert f"127.0.0.1:{port}" in line
        assert "in use" in line


# ------------------------------------------------------------ tgmctl and the default file

def test_tgmctl_bad_config(tgm_env, tgmctl):
    conf = tgm_env.write_config(extra="\n[gatewayd]\nlisen = 1\n")
    r = tgmctl(conf, "status")
    assert r.returncode == 1
    lines = log_lines(r.stderr)
    assert len(lines) == 1 and 'unknown key "lisen"' in lines[0], r.stderr
    assert f"{conf}:" in lines[0]


def test_defaults_match_etc_tgm_conf(tgmctl):
    r = tgmctl(None, "config", "--defaults")
    assert r.returncode == 0 and r.stderr == ""
    etc = REPO / "etc" / "tgm.conf"
    if not etc.exists():
        pytest.fail("etc/tgm.conf is missing: make it with "
                    "`bin/tgmctl config --defaults > etc/tgm.conf`", pytrace=False)
    assert r.stdout == etc.read_text(), \
        "etc/tgm.conf differs from `tgmctl config --defaults`: regenerate it"


def test_defaults_file_is_a_valid_config(tgm_env, tgmctl):
    """What `config --defaults` prints parses (every daemon accepts it as is)."""
    text = tgmctl(None, "config", "--defaults").stdout
    conf = tgm_env.write_config(text=text, name="defaults.conf")
    for name in DAEMONS:
        r = tgm_env.run(name, "-c", conf, "--check-config")
        assert (r.returncode, r.stderr) == (0, ""), name
