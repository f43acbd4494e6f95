"""The function files of sql/functions/ (docs/HACKING.md "How to change a SQL function"):
each holds the current text of one function, `tgmctl migrate` re-applies them all and
records their checksums in schema_functions, and a daemon refuses a database whose
recorded checksums are not its build's.
"""

import hashlib
import re

from conftest import DAEMONS, REPO

FUNCTIONS = REPO / "sql" / "functions"
CHANGED = ("CREATE OR REPLACE FUNCTION bd_setting(p_bot bigint, p_key text, p_default text)"
           " RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'old'::text $$")
CURRENT = "SELECT bd_setting(0, 'no such key', 'default')"  # the file's text answers "default"


def files():
    """{name: text} of every function file."""
    return {p.stem: p.read_text() for p in sorted(FUNCTIONS.glob("*.sql"))}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def refused(d, who):
    """The one error line of a daemon that refused to start."""
    rc = d.wait()
    lines = d.lines()
    assert rc == 1, f"{who}: exit status {rc}, log:\n{d.log()}"
    assert len(lines) == 1 and lines[0].startswith("<3>"), f"{who}:\n{d.log()}"
    assert not d.notified("READY=1"), f"{who}: READY=1 sent by a failed start"
    return lines[0]


def test_every_function_has_its_file(tgm_env):
    """Each function of the schema has sql/functions/NAME.sql, whose body is the one the
    database runs, and migrate recorded the SHA-256 of each file."""
    texts = files()
    rows = tgm_env.query(
        "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d"
        "   WHERE d.objid = p.oid AND d.deptype = 'e') ORDER BY 1")
    assert sorted(name for name, _ in rows) == sorted(texts), "functions without a file"
    for name, src in rows:
        assert src in texts[name], f"{name}: the database runs another text than its file"
        assert texts[name].startswith(f"-- {name}.sql - "), f"{name}.sql: no job comment"
        assert f"CREATE OR REPLACE FUNCTION {name}(" in texts[name]
    recorded = dict(tgm_env.query("SELECT name, checksum FROM schema_functions"))
    assert recorded == {n: sha256(t) for n, t in texts.items()}, "a stale build? run make"


def test_migrations_hold_no_newer_function_text():
    """Since sql/functions/ (015), a function's text lives in its file alone: a later
    migration that created or replaced one would be undone by the file, applied after it.
    (The migrations before 015 keep their first texts; the files may have moved on.)"""
    texts = files()
    statement = re.compile(r"^CREATE (?:OR REPLACE )?FUNCTION (\w+)\(", re.M)
    migrations = sorted((REPO / "sql").glob("[0-9][0-9][0-9]_*.sql"))
    dropped = {name for path in migrations for name in re.findall(
        r"^DROP FUNCTION (?:IF EXISTS )?(\w+)\(", path.read_text(), re.M)}
    for path in migrations:
        for name in statement.findall(path.read_text()):
            assert name in texts or name in dropped, \
                f"{path.name} creates {name}, which has no function file"
            assert int(path.name[:3]) < 15, \
                f"{path.name} creates {name}: put its text in sql/functions/{name}.sql"


def test_migrate_applies_a_changed_function(tgm_env):
    """The build's bd_setting.sql is newer than the database's (simulated: an older text
    and an older checksum): the daemons refuse to start and status says why; migrate
    applies the file, records its checksum and reports it alone."""
    tgm_env.query(CHANGED)
    tgm_env.query("UPDATE schema_functions SET checksum = 'older' WHERE name = 'bd_setting'")
    for name in DAEMONS:
        line = refused(tgm_env.daemon(name, wait_ready=False), name)
        assert "database functions differ from this build (bd_setting)" in line, line
        assert "tgmctl migrate" in line
    r = tgm_env.tgmctl("status")
    assert r.returncode == 1 and "differ from this build (bd_setting)" in r.stdout, r.stdout

    triggers = tgm_env.query("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")
    r = tgm_env.tgmctl("migrate")
    assert r.returncode == 0, r.stderr
    assert [ln for ln in r.stdout.splitlines() if "function" in ln] == \
        ["updated function bd_setting"], r.stdout
    assert tgm_env.query(CURRENT) == [("default",)]
    assert tgm_env.query("SELECT checksum FROM schema_functions WHERE name = 'bd_setting'") \
        == [(sha256(files()["bd_setting"]),)]
    # CREATE OR REPLACE keeps the triggers that call the functions
    assert tgm_env.query("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal") == triggers
    tgm_env.daemon("billingd").stop()


def test_migrate_restores_a_function_altered_by_hand(tgm_env):
    """Every migrate runs every file: a function changed behind its back is put back,
    silently (its file did not change)."""
    tgm_env.query(CHANGED)
    r = tgm_env.tgmctl("migrate")
    assert r.returncode == 0, r.stderr
    assert "function" not in r.stdout, r.stdout
    assert tgm_env.query(CURRENT) == [("default",)]


def test_missing_checksums_are_refused(tgm_env):
    """A database migrated by a build from before the function files (none recorded)."""
    tgm_env.query("DELETE FROM schema_functions")
    line = refused(tgm_env.daemon("gatewayd", wait_ready=False), "gatewayd")
    assert re.search(r"differ from this build \(\w+ and \d+ more\)", line), line
    r = tgm_env.tgmctl("migrate")
    assert r.returncode == 0, r.stderr
    assert sum(ln.startswith("updated function ") for ln in r.stdout.splitlines()) \
        == len(files())
    tgm_env.daemon("gatewayd").stop()


def test_a_newer_database_keeps_its_functions(tgm_env):
    """A database a newer build migrated: its functions are that build's. An older
    tgmctl migrate leaves them, and older daemons start (as with its tables)."""
    tgm_env.query("INSERT INTO schema_migrations (version, name, checksum)"
                  " VALUES (999, '999_future', 'x')")
    tgm_env.query(CHANGED)
    tgm_env.query("UPDATE schema_functions SET checksum = 'newer' WHERE name = 'bd_setting'")
    r = tgm_env.tgmctl("migrate")
    assert r.returncode == 0, r.stderr
    assert "functions left as they are" in r.stdout, r.stdout
    assert tgm_env.query(CURRENT) == [("old",)]
    tgm_env.daemon("billingd").stop()
