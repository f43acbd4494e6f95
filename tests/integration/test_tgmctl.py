"""tgmctl: migrate, keys, status, secret-key, usage (docs/CONTRACTS.md "tgmctl").

Exit status: 0 done, 1 failed (one line on stderr), 2 bad usage.
"""

import hashlib
import re
import subprocess

import pytest

from conftest import REPO, TgmEnv, audit, binary, child_env, log_lines, run_binary

KEY_RE = re.compile(r"tgmk_[A-Za-z0-9]{40}")


@pytest.fixture(scope="module")
def built(pg):
    """The migrations this build of tgmctl knows: [(version, name)], as it applied them
    to the session's template (the sql/ files may be newer than the binaries)."""
    return pg.migrations


@pytest.fixture(scope="module")
def usage_env(pg, tmp_path_factory):
    """One database for the usage errors, which must change nothing in it."""
    env = TgmEnv(pg, tmp_path_factory.mktemp("usage"))
    yield env
    env.destroy()


@pytest.fixture
def empty_db(tgm_env):
    """An empty database (no schema) and a config pointing at it."""
    name = tgm_env.pg.new_db(template=None)
    conf = tgm_env.write_config({("database", "url"): tgm_env.pg.url(name)}, name="empty.conf")
    yield name, conf
    tgm_env.pg.drop_db(name)


def usage_error(r):
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    assert "usage" in r.stderr.lower(), r.stderr
    assert r.stdout == ""


def create_key(env, tenant="acme", scope="send", *more):
    r = env.tgmctl("key", "create", "--tenant", tenant, "--create-tenant", "--scope", scope,
                   *more)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"stdout must be the key alone: {r.stdout!r}"
    key = lines[0]
    assert len(key) == 45 and KEY_RE.fullmatch(key), key
    m = re.search(r"id=(\d+)", r.stderr)
    assert m, f"no id in {r.stderr!r}"
    return key, int(m.group(1)), r


# ------------------------------------------------------------ migrate

def test_migrate_empty_then_nothing(tgm_env, pg, tgmctl, empty_db, built):
    name, conf = empty_db
    assert built and built[0] == (1, "001_core")
    r = tgmctl(conf, "migrate")
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stdout.splitlines() if line.startswith("applied ")] == \
        [f"applied {m}" for _, m in built]
    assert f"schema at version {built[-1][0]} ({len(built)} migration" in r.stdout
    rows = pg.query(name, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert rows == built

    again = tgmctl(conf, "migrate")
    assert again.returncode == 0, again.stderr
    assert "applied " not in again.stdout
    assert "(0 migrations applied)" in again.stdout
    assert "warning" not in again.stdout
    assert len(pg.query(name, "SELECT 1 FROM schema_migrations")) == len(built)
    # the daemons accept the result
    tgm_env.daemon("billingd", conf=conf).stop()


def test_concurrent_migrate(tgm_env, pg, empty_db, built):
    """Four at once on an empty database: the advisory lock makes them take turns."""
    name, conf = empty_db
    procs = [subprocess.Popen([binary("tgmctl"), "-c", str(conf), "migrate"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=child_env()) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, outs):
        audit(err, "tgmctl migrate")
        assert p.returncode == 0, f"exit {p.returncode}: {err}"
    applied = sum(line.startswith("applied ") for out, _ in outs for line in out.splitlines())
    assert applied == len(built), [o for o, _ in outs]
    rows = pg.query(name, "SELECT version, count(*) FROM schema_migrations GROUP BY version"
                          " ORDER BY version")
    assert rows == [(v, 1) for v, _ in built]


def test_migrate_records_checksums(tgm_env, built):
    """The checksum is the SHA-256 of the sql/ file (a stale build fails this: make)."""
    rows = tgm_env.query("SELECT version, name, checksum FROM schema_migrations"
                         " ORDER BY version")
    assert [(v, n) for v, n, _ in rows] == built
    for version, name, checksum in rows:
        path = REPO / "sql" / f"{name}.sql"
        assert name[:3] == f"{version:03d}"
        assert checksum == hashlib.sha256(path.read_bytes()).hexdigest(), \
            f"{name}: stored checksum is not the SHA-256 of {path.name}"


def test_migrate_unreachable_database(tgm_env, tgmctl, tmp_path):
    conf = tgm_env.write_config(
        {("database", "url"): f"postgresql:///x?host={tmp_path}&port=1&user=tgm"},
        name="nodb.conf")
    r = tgmctl(conf, "migrate")
    assert r.returncode == 1
    lines = log_lines(r.stderr)
    assert len(lines) == 1 and "database" in lines[0], r.stderr


def test_migrate_takes_no_arguments(tgm_env):
    usage_error(tgm_env.tgmctl("migrate", "now"))


# ------------------------------------------------------------ keys

def test_key_create_stores_only_the_hash(tgm_env):
    key, key_id, r = create_key(tgm_env, "acme", "admin", "--name", "ci")
    assert key not in r.stderr
    rows = tgm_env.query("SELECT k.id, k.scope, k.name, k.prefix, encode(k.hash, 'hex'),"
                         " t.name FROM api_keys k JOIN tenants t ON t.id = k.tenant_id")
    assert len(rows) == 1
    rid, scope, label, prefix, hash_hex, tenant = rows[0]
    assert (rid, scope, label, tenant) == (key_id, "admin", "ci", "acme")
    assert hash_hex == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(prefix) and len(prefix) < len(key) - 20
    # the key's text, or its secret part, is in no column of any row
    secret = key[len(prefix):]
    for table in ("api_keys", "tenants"):
        dump = tgm_env.query(f"SELECT row_to_json(x)::text FROM {table} x")
        for (text,) in dump:
            assert key not in text and secret not in text, f"{table}: {text}"
    hexdump = tgm_env.query("SELECT encode(hash, 'hex') || encode(hash, 'escape')"
                            " FROM api_keys")[0][0]
    assert secret not in hexdump


def test_key_create_twice_same_tenant(tgm_env):
    k1, id1, _ = create_key(tgm_env, "acme", "send")
    k2, id2, _ = create_key(tgm_env, "acme", "read")
    assert k1 != k2 and id1 != id2
    assert tgm_env.query("SELECT count(*) FROM tenants")[0][0] == 1


def test_key_list_shows_prefix(tgm_env):
    key, key_id, _ = create_key(tgm_env, "acme", "read", "--name", "dash")
    r = tgm_env.tgmctl("key", "list")
    assert r.returncode == 0, r.stderr
    prefix = tgm_env.query("SELECT prefix FROM api_keys WHERE id = %s", (key_id,))[0][0]
    row = [line for line in r.stdout.splitlines() if line.split()[:1] == [str(key_id)]]
    assert row, r.stdout
    assert prefix in row[0] and "acme" in row[0] and "read" in row[0]
    assert "active" in row[0]
    assert key not in r.stdout and key[len(prefix):] not in r.stdout


def test_key_revoke(tgm_env):
    _, key_id, _ = create_key(tgm_env)
    r = tgm_env.tgmctl("key", "revoke", str(key_id))
    assert r.returncode == 0, r.stderr
    assert tgm_env.query("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = %s",
                         (key_id,)) == [(True,)]
    listed = tgm_env.tgmctl("key", "list").stdout
    assert [line for line in listed.splitlines()
            if line.split()[:1] == [str(key_id)] and "revoked" in line], listed
    again = tgm_env.tgmctl("key", "revoke", str(key_id))
    assert again.returncode == 1
    assert len(log_lines(again.stderr)) == 1, again.stderr
    missing = tgm_env.tgmctl("key", "revoke", "999999")
    assert missing.returncode == 1


@pytest.mark.parametrize("args", [
    ["key", "create", "--tenant", "acme", "--scope", "root"],
    ["key", "create", "--tenant", "acme"],
    ["key", "create", "--scope", "send"],
    ["key", "create", "--tenant", "", "--scope", "send"],
    ["key", "create", "--tenant", "acme", "--scope", "send", "--bogus", "x"],
    ["key", "create", "--tenant"],
    ["key", "frob"],
    ["key"],
    ["key", "list", "extra"],
    ["key", "revoke"],
    ["key", "revoke", "abc"],
    ["key", "revoke", "0"],
    ["key", "revoke", "1", "2"],
    ["frobnicate"],
    [],
    ["--bogus-option", "status"],
    ["status", "extra"],
    ["secret-key", "extra"],
    ["config"],
    ["config", "--nondefaults"],
], ids=lambda a: "_".join(a) or "nothing")
def test_bad_usage(usage_env, args):
    before = usage_env.query("SELECT count(*) FROM tenants, api_keys")
    usage_error(usage_env.tgmctl(*args))
    assert usage_env.query("SELECT count(*) FROM tenants, api_keys") == before


def test_key_create_unknown_tenant(tgm_env):
    """A tenant that does not exist is refused (a typo would make a new one) unless
    --create-tenant is given; an existing tenant needs no flag."""
    r = tgm_env.tgmctl("key", "create", "--tenant", "acmee", "--scope", "send")
    assert r.returncode == 1 and r.stdout == "", r.stdout
    assert 'no tenant "acmee"' in r.stderr and "--create-tenant" in r.stderr, r.stderr
    assert tgm_env.query("SELECT count(*) FROM tenants WHERE name = 'acmee'") == [(0,)]
    create_key(tgm_env, "acme")  # with --create-tenant
    r = tgm_env.tgmctl("key", "create", "--tenant", "acme", "--scope", "read")
    assert r.returncode == 0, r.stderr
    assert tgm_env.query("SELECT count(*) FROM api_keys k JOIN tenants t"
                         " ON t.id = k.tenant_id WHERE t.name = 'acme'") == [(2,)]


def test_key_create_tenant_name_too_long(tgm_env):
    r = tgm_env.tgmctl("key", "create", "--tenant", "x" * 300, "--create-tenant",
                       "--scope", "send")
    assert r.returncode == 1
    assert r.stdout == "", "no key printed when it was not stored"
    assert len(log_lines(r.stderr)) == 1, r.stderr


# ------------------------------------------------------------ status, secret-key, help

def test_status(tgm_env, built):
    gw = tgm_env.daemon("gatewayd")
    bd = tgm_env.daemon("billingd")
    r = tgm_env.tgmctl("status")
    assert r.returncode == 0, r.stderr
    v = built[-1][0]
    assert f"schema version {v} (this build needs {v})" in r.stdout
    lines = r.stdout.splitlines()
    for d in (gw, bd):
        mine = [line for line in lines if d.name in line and str(d.pid) in line]
        assert mine and "alive" in mine[0], r.stdout
    assert [line for line in lines if "gatewayd" in line and "/healthz" in line
            and "200" in line], r.stdout
    assert r.stdout.splitlines()[-1] == "state: ok", r.stdout
    bd.stop()
    r = tgm_env.tgmctl("status")
    assert [line for line in r.stdout.splitlines()
            if "billingd" in line and "stopped" in line], r.stdout
    # like `systemctl is-active`: a daemon that ran here and is down fails the status
    assert r.returncode == 1, r.stdout
    assert r.stdout.splitlines()[-1] == "state: 1 down", r.stdout
    gw.stop()


def test_status_database_down(tgmctl, tmp_path):
    """No database: status fails, saying why."""
    conf = tmp_path / "tgm.conf"
    conf.write_text("[database]\nurl = postgresql://127.0.0.1:1/tgm\nconnect_timeout = 2\n")
    r = tgmctl(str(conf), "status")
    assert r.returncode == 1, r.stdout
    assert "tgmctl:" in r.stderr, r.stderr


@pytest.mark.parametrize("cmd", [["migrate"], ["key"], ["key", "create"], ["key", "list"],
                                 ["key", "revoke"], ["status"], ["secret-key"], ["config"]])
@pytest.mark.parametrize("opt", ["--help", "-h"])
def test_command_help(tgmctl, cmd, opt):
    """Every subcommand has --help: its usage on stdout, exit 0, no database needed."""
    r = tgmctl(None, *cmd, opt)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: tgmctl {cmd[0]}"), r.stdout
    assert r.stderr == ""


def test_config_equals(tgm_env):
    """--config=FILE works like -c FILE."""
    tgm_env.ensure_db()
    r = run_binary("tgmctl", [f"--config={tgm_env.conf}", "key", "list"])
    assert r.returncode == 0, r.stderr
    r = run_binary("tgmctl", ["--config=/nonexistent/tgm.conf", "key", "list"])
    assert r.returncode == 1 and "/nonexistent/tgm.conf" in r.stderr, r.stderr


def test_status_old_schema(tgmctl, empty_db):
    _, conf = empty_db
    r = tgmctl(conf, "status")
    assert r.returncode == 1
    assert "schema version 0" in r.stdout, r.stdout
    assert "tgmctl migrate" in r.stdout


def test_secret_key(tgmctl):
    a = tgmctl(None, "secret-key")
    b = tgmctl(None, "secret-key")
    for r in (a, b):
        assert r.returncode == 0 and r.stderr == ""
        assert re.fullmatch(r"[0-9a-f]{64}\n", r.stdout), r.stdout
    assert a.stdout != b.stdout


@pytest.mark.parametrize("opt", ["--help", "-h"])
def test_help(tgmctl, opt):
    r = tgmctl(None, opt)
    assert r.returncode == 0
    assert r.stdout.startswith("usage: tgmctl")
    for cmd in ("migrate", "key create", "key list", "key revoke", "status", "secret-key",
                "config --defaults"):
        assert cmd in r.stdout


def test_version(tgmctl):
    r = tgmctl(None, "--version")
    assert r.returncode == 0 and re.fullmatch(r"tgmctl \S+\n", r.stdout)
