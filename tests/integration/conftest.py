"""The integration harness: real daemons, a real PostgreSQL, and an audit after each test.

Run:  TGM_BIN=/abs/path/bin /usr/bin/python3 -m pytest -q tests/integration
      (TGM_BIN defaults to the repository's bin/; use build/asan/bin for the ASan build)

What it provides (docs/style.md habit 14):

* ``pg`` (session): a throwaway PostgreSQL cluster in a temp directory, reachable only
  through its Unix socket (``listen_addresses=''``, ``fsync=off``, trust auth, superuser
  ``tgm``). As root, initdb and postgres run as the ``postgres`` user. A template
  database ``tgm_template`` is migrated once with ``tgmctl migrate`` (``pg.migrations``:
  what this build applied); ``pg.new_db()`` gives a copy of it (``CREATE DATABASE ...
  TEMPLATE``, made ahead by a background thread, so it costs a rename), and
  ``pg.new_db(None)`` an empty database. ``pg.url(db)`` is the libpq URL,
  ``pg.connect(db)`` a psycopg2 connection (autocommit), ``pg.query(db, sql, args)`` the
  rows. Do not connect to ``tgm_template``: nothing can copy it meanwhile.
* ``tgm_env`` (per test): a database (created on first use: ``env.db``, ``env.query``,
  ``env.daemon``, ``env.tgmctl``), a config file ``env.conf`` with a fresh secret key,
  every ZeroMQ endpoint under ``ipc://<short tmp>/run/``, free 127.0.0.1 ports for
  gatewayd and webhookd, ``[log] level = debug``. ``env.write_config(...)`` writes
  variants; ``env.daemon(name)`` starts a :class:`Daemon` and waits for ``READY=1``;
  ``env.run(name, *args)`` runs a binary to completion. At teardown every daemon still
  running is stopped (SIGTERM, exit status 0 expected) and every log is audited: a
  ``<2>`` line (a bug, see CONTRACTS.md), a libevent ``[err]``, or an AddressSanitizer,
  LeakSanitizer or UBSan (``runtime error:``) report fails the test, and so does a
  death by signal.
* ``tgmctl`` (per test): ``tgmctl(conf, *args)`` runs ``$TGM_BIN/tgmctl [-c conf] args``
  and returns the CompletedProcess (text), with the same audit of its stderr.
* ``pg_proxy`` (per test): a :class:`PgProxy` between a daemon and PostgreSQL that can
  cut connections and make the database hang (accept, never answer).

Child processes get a clean environment: no inherited ``TGM_*``, ``PG*``,
``NOTIFY_SOCKET``, ``WATCHDOG_*``, ``JOURNAL_STREAM`` or ``CREDENTIALS_DIRECTORY``, and
``ASAN_OPTIONS``/``UBSAN_OPTIONS`` that turn a leak at exit into exit status 86.
"""

import atexit
import itertools
import os
import pwd
import queue
import random
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

REPO = Path(__file__).resolve().parents[2]
TGM_BIN = Path(os.environ.get("TGM_BIN") or REPO / "bin").resolve()
DAEMONS = ("gatewayd", "senderd", "webhookd", "billingd")

# ASan binaries start and stop several times slower: be generous, these are only upper
# bounds (a healthy run never waits for them).
READY_TIMEOUT = float(os.environ.get("TGM_TEST_READY_TIMEOUT", "20"))
STOP_TIMEOUT = float(os.environ.get("TGM_TEST_STOP_TIMEOUT", "20"))
RUN_TIMEOUT = float(os.environ.get("TGM_TEST_RUN_TIMEOUT", "60"))

SANITIZER_EXIT = 86
SANITIZER_ENV = {
    "ASAN_OPTIONS": f"detect_leaks=1:abort_on_error=0:exitcode={SANITIZER_EXIT}"
                    ":halt_on_error=1:strict_string_checks=1"
                    ":detect_stack_use_after_return=1:check_initialization_order=1",
    "LSAN_OPTIONS": f"exitcode={SANITIZER_EXIT}",
    "UBSAN_OPTIONS": f"print_stacktrace=1:halt_on_error=1:exitcode={SANITIZER_EXIT}",
}

# What in a log means a bug, whatever the exit status (CONTRACTS.md, docs/style.md habit 5).
BUG_PATTERNS = [
    (re.compile(r"^<2>.*$", re.M), "a <2> (bug) line"),
    (re.compile(r"^\[err\] .*$", re.M), "a libevent fatal error"),
    (re.compile(r"^.*AddressSanitizer.*$", re.M), "an AddressSanitizer report"),
    (re.compile(r"^.*LeakSanitizer.*$", re.M), "a LeakSanitizer report"),
    (re.compile(r"^.*runtime error:.*$", re.M), "an UndefinedBehaviorSanitizer report"),
    (re.compile(r"^.*UndefinedBehaviorSanitizer.*$", re.M),
     "an UndefinedBehaviorSanitizer report"),
]

# Inherited variables that would change what a daemon does.
_SCRUB_PREFIXES = ("TGM_", "PG", "WATCHDOG_", "LISTEN_")
_SCRUB = {"NOTIFY_SOCKET", "JOURNAL_STREAM", "CREDENTIALS_DIRECTORY", "INVOCATION_ID",
          "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"}


def child_env(extra=None):
    """The environment for a tgm binary: scrubbed, sanitizer options, then extra."""
    env = {k: v for k, v in os.environ.items()
           if k not in _SCRUB and not k.startswith(_SCRUB_PREFIXES)}
    env.update(SANITIZER_ENV)
    env.setdefault("LC_ALL", "C.UTF-8")
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def bug_reports(text):
    """The lines of text that show a bug: [(what, line), ...]."""
    found = []
    for pattern, what in BUG_PATTERNS:
        found += [(what, m.group(0)) for m in pattern.finditer(text)]
    return found


def audit(text, who):
    """Fail when text (a log or a stderr) shows a bug."""
    found = bug_reports(text)
    if found:
        lines = "\n".join(f"  {what}: {line}" for what, line in found[:10])
        pytest.fail(f"{who} reported a bug:\n{lines}\n--- full output ---\n{text[-6000:]}",
                    pytrace=False)


def log_lines(text):
    """Non-empty lines of a daemon's stderr."""
    return [line for line in text.splitlines() if line.strip()]


def binary(name):
    path = TGM_BIN / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run make (or set TGM_BIN)", pytrace=False)
    return str(path)


_sanitized = []


def sanitized():
    """The daemons under test are the ASan + UBSan build (make check SANITIZE=1): two to
    three times slower, so a rate measured against Telegram's limits says nothing of the
    optimized build's. Tests still check everything else (no 429, nothing lost)."""
    if not _sanitized:
        _sanitized.append(b"__asan_init" in Path(binary("senderd")).read_bytes())
    return _sanitized[0]


def run_binary(name, args, env=None, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL):
    """Run $TGM_BIN/name args to completion; audit stderr; CompletedProcess (text)."""
    r = subprocess.run([binary(name), *map(str, args)], env=child_env(env), stdin=stdin,
                       capture_output=True, text=True, timeout=timeout)
    audit(r.stderr, f"{name} {' '.join(map(str, args))}")
    assert r.returncode != SANITIZER_EXIT, f"{name}: sanitizer exit status\n{r.stderr}"
    assert r.returncode >= 0, \
        f"{name} {args} died of signal {-r.returncode}\nstderr:\n{r.stderr}"
    return r


# ---------------------------------------------------------------- ports and paths

_ports_given = set()


# Below Linux's ephemeral range (32768-60999): a port the kernel picks for bind(0) is
# also one it may give an outgoing connection before the daemon binds it.
_PORT_RANGE = (20000, 32767)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now, never the same twice, outside
    the ephemeral range so that no outgoing connection takes it before it is bound."""
    for _ in range(1000):
        port = random.randint(*_PORT_RANGE)
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port")


def short_tmpdir(prefix):
    """A directory with a short path: Unix socket paths must fit in 107 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until it returns something true; return that or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)
        time.sleep(interval)


def c_string(relpath, name, macros=None):
    """the string constant `name` of the C file at relpath (from the repository's root),
    its literals joined and each macro of macros replaced by its text: a statement as the
    daemon sends it"""
    src = (REPO / relpath).read_text()
    body = re.search(r"static const char " + name + r"\[\] =(.*?);\n", src, re.S).group(1)
    for macro, text in (macros or {}).items():
        body = body.replace(macro, f'"{text}"')
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def plan_nodes(node):
    """every node of an EXPLAIN (FORMAT JSON) plan, depth first"""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)

def function_plan(env, name, args, own_settings=True, analyze=False):
    """the plan nodes of the query of function `name` (a plpgsql function's RETURN QUERY,
    or a LANGUAGE sql function's one statement) as the database holds it, each of its
    parameters replaced by the SQL text of args[param], under the function's own
    settings (SET ... on the function: it must have some when own_settings), on a
    connection of its own to env's database; when analyze, run too (autocommit: its
    row locks end with it), each node with its actual rows"""
    conn = env.connect()
    try:
        return _function_plan(conn, name, args, own_settings, analyze)
    finally:
        conn.close()


def _function_plan(conn, name, args, own_settings, analyze=False):
    """function_plan's work, on conn (whose settings it changes)"""
    with conn.cursor() as cur:
        cur.execute("SELECT prosrc, proconfig FROM pg_proc WHERE proname = %s", (name,))
        src, config = cur.fetchone()
        assert config or not own_settings, f"{name} runs with its own settings"
        found = re.search(r"RETURN QUERY(.*?);", src, re.S)
        query = found.group(1) if found else src.strip().rstrip(";")
        for param, text in args.items():
            query = re.sub(r"\b" + param + r"\b", text, query)
        for setting in config or []:
            setting_name, value = setting.split("=", 1)
            cur.execute(f"SET {setting_name} = {value}")
        cur.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) " + query)
        return list(plan_nodes(cur.fetchone()[0][0]["Plan"]))

# ---------------------------------------------------------------- test dependencies
# A test never skips for a missing dependency: it fails naming what to install
# (`make check` installs all of them: scripts/deps.sh test, npm ci --prefix tests).

TESTS_DIR = REPO / "tests"


def require_npm(package):
    """Fail unless Node.js and the npm package (tests/package.json) are installed."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is missing (Debian package nodejs; sh scripts/deps.sh test)",
                    pytrace=False)
    if not (TESTS_DIR / "node_modules" / package).is_dir():
        pytest.fail(f"the npm package {package} is missing (npm ci --prefix tests)",
                    pytrace=False)


def require_program(program, package):
    """Fail unless program is on PATH; package is the Debian package that has it."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is missing (Debian package {package}; "
                    "sh scripts/deps.sh test)", pytrace=False)
    return path


def require_file(path, how):
    """Fail unless path is an executable; how says what builds it."""
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing ({how})", pytrace=False)


# ---------------------------------------------------------------- PostgreSQL

def _pg_bindir():
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin")
                    if (p / "initdb").exists() and p.parent.name.isdigit()),
                   key=lambda p: int(p.parent.name))
    if not found:
        pytest.exit("no PostgreSQL server under /usr/lib/postgresql/*/bin", returncode=3)
    return found[-1]


class Postgres:
    """A private cluster: data and socket in one temp directory, stopped at the end."""

    def __init__(self):
        self.bindir = _pg_bindir()
        self.base = short_tmpdir("tgm-pg-")
        self.data = self.base / "data"
        self.sockdir = self.base / "sock"
        self.logfile = self.base / "postgres.log"
        self.port = free_port()  # only names the socket file: no TCP
        self.as_root = os.geteuid() == 0
        self.started = False
        self._seq = itertools.count(1)
        self.sockdir.mkdir()
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            for p in (self.base, self.sockdir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(self.base, 0o755)
        os.chmod(self.sockdir, 0o700)

    def _owner_cmd(self, *cmd):
        cmd = [str(c) for c in cmd]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def _run_owner(self, *cmd, timeout=120):
        r = subprocess.run(self._owner_cmd(*cmd), cwd="/", capture_output=True, text=True,
                           timeout=timeout, env=child_env())
        if r.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}{r.stderr}\n"
                               f"--- postgres.log ---\n{log[-3000:]}")
        return r

    def start(self):
        if not (self.data / "PG_VERSION").exists():
            self._run_owner(self.bindir / "initdb", "-D", self.data, "-U", "tgm",
                            "--auth=trust", "--no-sync", "-E", "UTF8", "--no-locale")
        opts = (f"-k {self.sockdir} -p {self.port} -c listen_addresses='' -c fsync=off"
                " -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
                " -c log_min_messages=warning")
        self._run_owner(self.bindir / "pg_ctl", "-D", self.data, "-l", self.logfile, "-w",
                        "-t", "60", "-s", "-o", opts, "start")
        self.started = True

    def stop(self, mode="fast"):
        if self.started:
            self._run_owner(self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w",
                            "-t", "60", "-s", "stop")
            self.started = False

    def destroy(self):
        try:
            self.stop()
        except Exception:
            try:
                self.stop("immediate")
            except Exception:
                pass
        shutil.rmtree(self.base, ignore_errors=True)

    # -- access

    def url(self, db):
        return f"postgresql:///{db}?host={self.sockdir}&port={self.port}&user=tgm"

    def connect(self, db="postgres"):
        conn = psycopg2.connect(host=str(self.sockdir), port=self.port, user="tgm",
                                dbname=db, application_name="pytest")
        conn.autocommit = True
        return conn

    def query(self, db, sql, args=None):
        """Run one statement on db; its rows (a list) or [] when it returns none."""
        conn = self.connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def execute_admin(self, sql):
        self.query("postgres", sql)

    def new_db(self, template="tgm_template"):
        """A fresh database: a copy of the migrated template, or empty if template=None.
        (Never connect to tgm_template itself: a copy cannot be made while you do.)"""
        name = self.db_name()
        if template == "tgm_template":
            self.take_db(name)
        else:
            self.create_db(name, template)
        return name

    # A thread keeps POOL_SIZE copies of the template ready and drops what tests are
    # done with, so that neither CREATE nor DROP DATABASE (each a checkpoint, 50-200 ms
    # on a busy machine) waits in a test's path.
    POOL_SIZE = 4

    def start_pool(self):
        self._pool = queue.Queue(maxsize=self.POOL_SIZE)
        self._drops = queue.Queue()
        self._pool_stop = threading.Event()
        self._pool_error = None
        self._pool_thread = threading.Thread(target=self._pool_loop, name="pg-pool",
                                             daemon=True)
        self._pool_thread.start()

    def stop_pool(self):
        if getattr(self, "_pool_thread", None) is not None:
            self._pool_stop.set()
            self._pool_thread.join(30)
            self._pool_thread = None

    def _pool_loop(self):
        failures = 0
        try:
            conn = self.connect("postgres")
            with conn.cursor() as cur:
                while not self._pool_stop.is_set():
                    try:
                        name = self._drops.get_nowait()
                        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                        continue
                    except queue.Empty:
                        pass
                    if self._pool.full():
                        self._pool_stop.wait(0.02)
                        continue
                    name = f"pool_{next(self._seq)}"
                    try:
                        cur.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY'
                                    ' TEMPLATE tgm_template')
                    except psycopg2.errors.ObjectInUse:
                        # someone is connected to the template: wait a little
                        failures += 1
                        if failures > 100:
                            raise
                        self._pool_stop.wait(0.1)
                        continue
                    failures = 0
                    self._pool.put(name)
            conn.close()
        except Exception as e:  # reported by the next take_db
            self._pool_error = e

    def take_db(self, name):
        """Create database name as a copy of the template (from the pool when it runs)."""
        if getattr(self, "_pool_thread", None) is None:
            self.create_db(name)
            return
        while True:
            if self._pool_error is not None:
                raise RuntimeError(f"database pool failed: {self._pool_error!r}")
            try:
                pooled = self._pool.get(timeout=0.5)
                break
            except queue.Empty:
                if not self._pool_thread.is_alive() and self._pool_error is None:
                    self.create_db(name)
                    return
        self.execute_admin(f'ALTER DATABASE "{pooled}" RENAME TO "{name}"')

    def db_name(self):
        """A database name not used yet in this session (not created)."""
        return f"t_{next(self._seq)}"

    def create_db(self, name, template="tgm_template"):
        # FILE_COPY: twice as fast as WAL_LOG for a small template with fsync=off
        tmpl = template or "template0"
        self.execute_admin(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY TEMPLATE "{tmpl}"')

    def drop_db(self, name, wait=False):
        """Drop a database: by the pool's thread (later) unless wait or no pool."""
        if wait or getattr(self, "_pool_thread", None) is None:
            self.execute_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            self._drops.put(name)

    def log(self):
        return self.logfile.read_text() if self.logfile.exists() else ""


@pytest.fixture(scope="session")
def pg(tmp_path_factory):
    """The session's PostgreSQL, with tgm_template migrated by this build's tgmctl."""
    server = Postgres()
    atexit.register(server.destroy)  # even when pytest itself is interrupted
    try:
        server.start()
        server.execute_admin("CREATE DATABASE tgm_template")
        conf = server.base / "template.conf"
        conf.write_text(f'[database]\nurl = "{server.url("tgm_template")}"\n')
        r = run_binary("tgmctl", ["-c", conf, "migrate"])
        assert r.returncode == 0, f"tgmctl migrate on the template failed:\n{r.stderr}"
        server.execute_admin("ALTER DATABASE tgm_template WITH IS_TEMPLATE true")
        # what this build's migrations are, read before the pool starts copying
        server.migrations = server.query(
            "tgm_template", "SELECT version, name FROM schema_migrations ORDER BY version")
        server.start_pool()
        yield server
    finally:
        server.stop_pool()
        server.destroy()
        atexit.unregister(server.destroy)


class PgProxy:
    """A fault injector in front of the session's PostgreSQL: a Unix-socket proxy.

    Daemons configured with ``proxy.url(db)`` reach the real server through it.
    ``cut()`` closes every connection (as a crashed server or a network reset would),
    ``freeze()`` makes new connections hang: accepted, never answered (a stopped or
    unreachable server), ``thaw()`` ends that (held connections are closed, new ones
    go through again). ``mute()`` drops what the server says while the clients' queries
    still reach it (a network that fails one way: work done, its answer lost);
    ``unmute()`` ends that. All traffic is handled by one thread; the methods return once
    that thread has done what they ask.
    """

    def __init__(self, pg):
        self.pg = pg
        self.dir = short_tmpdir("tgm-px-")
        self.path = self.dir / f".s.PGSQL.{pg.port}"
        self.target = str(pg.sockdir / f".s.PGSQL.{pg.port}")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(64)
        self.peer = {}      # socket -> the socket it forwards to
        self.held = []      # accepted while frozen
        self.upstreams = set()  # the sockets to the server
        self.frozen = False
        self.muted = False
        self.accepted = 0
        self._cmds = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="pg-proxy", daemon=True)
        self._thread.start()

    def url(self, db):
        return f"postgresql:///{db}?host={self.dir}&port={self.pg.port}&user=tgm"

    def _do(self, cmd):
        done = threading.Event()
        self._cmds.put((cmd, done))
        os.write(self._wake_w, b"x")
        if not done.wait(10):
            raise RuntimeError(f"pg proxy did not {cmd}")

    def cut(self):
        self._do("cut")

    def freeze(self):
        self._do("freeze")

    def thaw(self):
        self._do("thaw")

    def mute(self):
        self._do("mute")

    def unmute(self):
        self._do("unmute")

    def close(self):
        if self._thread.is_alive():
            self._do("stop")
            self._thread.join(5)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _close_all(self, socks):
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def _command(self, cmd):
        if cmd == "cut":
            self._close_all(list(self.peer))
            self.peer.clear()
            self.upstreams.clear()
        elif cmd == "freeze":
            self.frozen = True
        elif cmd in ("mute", "unmute"):
            self.muted = cmd == "mute"
        elif cmd == "thaw":
            self.frozen = False
            self._close_all(self.held)
            self.held = []
        elif cmd == "stop":
            self._close_all(list(self.peer) + self.held + [self.listener])
            self.peer.clear()
            return False
        return True

    def _accept(self):
        client, _ = self.listener.accept()
        self.accepted += 1
        if self.frozen:
            self.held.append(client)
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.target)
        except OSError:
            self._close_all([client, upstream])
            return
        self.peer[client], self.peer[upstream] = upstream, client
        self.upstreams.add(upstream)

    def _forward(self, s):
        other = self.peer.get(s)
        try:
            data = s.recv(65536)
            if data:
                if not (self.muted and s in self.upstreams):
                    other.sendall(data)
                return
        except OSError:
            pass
        self.peer.pop(s, None)
        self.peer.pop(other, None)
        self.upstreams.discard(s)
        self.upstreams.discard(other)
        self._close_all([s, other])

    def _loop(self):
        running = True
        while running:
            ready, _, _ = select.select([self.listener, self._wake_r, *self.peer], [], [], 1)
            for s in ready:
                if s is self._wake_r:
                    os.read(self._wake_r, 64)
                    while not self._cmds.empty():
                        cmd, done = self._cmds.get()
                        running = self._command(cmd) and running
                        done.set()
                    break  # the socket set may have changed
                if s is self.listener:
                    self._accept()
                elif s in self.peer:
                    self._forward(s)


@pytest.fixture
def pg_proxy(pg):
    """A PgProxy for one test."""
    proxy = PgProxy(pg)
    yield proxy
    proxy.close()


# ---------------------------------------------------------------- daemons

class Daemon:
    """One daemon process: its own notify socket, stderr in a log file."""

    def __init__(self, env, name, conf, args=(), extra_env=None):
        self.env = env
        self.name = name
        self.conf = conf
        self.args = [str(a) for a in args]
        self.extra_env = dict(extra_env or {})
        self.proc = None
        self.killed = False
        self.returncode = None
        n = next(env.seq)
        self.logfile = env.tmp / f"{name}-{n}.log"
        self.notify_path = env.rundir.parent / f"notify-{name}-{n}"
        self.sock = None
        self._notes = []

    @property
    def pid(self):
        return self.proc.pid

    def command(self):
        cmd = [binary(self.name)]
        if self.conf is not None:
            cmd += ["-c", str(self.conf)]
        return cmd + self.args

    def start(self, wait_ready=True, timeout=READY_TIMEOUT):
        """Start the process; with wait_ready, return once READY=1 came."""
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.notify_path))
        self.sock.setblocking(False)
        env = {"NOTIFY_SOCKET": str(self.notify_path), **self.extra_env}
        with open(self.logfile, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, env=child_env(env))
        self.started_at = time.monotonic()
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def _drain_socket(self):
        while self.sock is not None:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            self._notes.append(data.decode("utf-8", "replace"))

    def notifications(self):
        """Every datagram received on the notify socket so far, in order."""
        self._drain_socket()
        return list(self._notes)

    def notified(self, state):
        """True when a line `state` (e.g. READY=1) came on the notify socket."""
        return any(state in note.splitlines() for note in self.notifications())

    def wait_notified(self, state, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.notified(state):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{self.name}: no {state} within {timeout}s; notifications "
                            f"{self._notes}\n--- log ---\n{self.log()[-4000:]}",
                            pytrace=False)
            select.select([self.sock], [], [], min(left, 0.05))

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self.notified("READY=1"):
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                pytest.fail(f"{self.name} exited with status {rc} before READY=1\n"
                            f"--- log ---\n{self.log()[-4000:]}", pytrace=False)
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{self.name}: no READY=1 within {timeout}s\n"
                            f"--- log ---\n{self.log()[-4000:]}", pytrace=False)
            select.select([self.sock], [], [], min(left, 0.05))
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for the process to exit; its status, or fail after timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.killed = True
            pytest.fail(f"{self.name} did not exit within {timeout}s\n"
                        f"--- log ---\n{self.log()[-4000:]}", pytrace=False)
        return self.returncode

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """SIGTERM (or sig), then assert a clean exit (status 0) within timeout."""
        if self.running():
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        self._drain_socket()
        assert rc == 0, (f"{self.name} exited with status {rc} after {sig!r}\n"
                         f"--- log ---\n{self.log()[-4000:]}")
        return rc

    def kill(self):
        """SIGKILL, no questions asked (its exit status is not audited)."""
        self.killed = True
        if self.running():
            self.proc.kill()
        self.returncode = self.proc.wait()

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def lines(self):
        return log_lines(self.log())

    def wait_log(self, pattern, timeout=10, start=0):
        """Wait until the log (from offset start) matches the regex; the match."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()[start:]), timeout,
                        what=f"{self.name} to log /{pattern}/")

    def close(self):
        if self.sock is not None:
            self._drain_socket()
            self.sock.close()
            self.sock = None
        try:
            os.unlink(self.notify_path)
        except FileNotFoundError:
            pass


class TgmEnv:
    """One test's world: a database, a config, a runtime directory, its daemons."""

    def __init__(self, pg, tmp):
        self.pg = pg
        self.tmp = tmp
        self.short = short_tmpdir("tgm-t-")
        self.rundir = self.short / "run"  # ipc:// endpoints; the daemons mkdir it
        self.seq = itertools.count(1)
        self.daemons = []
        self._db = pg.db_name()  # created on first use (config-only tests need none)
        self._db_created = False
        self.url = pg.url(self._db)
        self.secret_key = secrets.token_hex(32)
        self.gatewayd_port = free_port()
        self.webhookd_port = free_port()
        self.conf = self.write_config()

    @property
    def db(self):
        """The test's database (a copy of the migrated template), created on first use."""
        self.ensure_db()
        return self._db

    def ensure_db(self):
        if not self._db_created:
            self.pg.take_db(self._db)
            self._db_created = True

    # -- configuration

    def endpoint(self, name):
        return f"ipc://{self.rundir}/{name}"

    def settings(self):
        """The base configuration: {section: {key: value}} (values unquoted)."""
        ep = self.endpoint
        return {
            "database": {"url": self.url, "connect_timeout": "5"},
            "log": {"level": "debug"},
            "security": {"secret_key": self.secret_key},
            # nothing may leave the machine: upstreams point at a closed local port
            "telegram": {"api_url": "http://127.0.0.1:9", "timeout": "5"},
            "stripe": {"api_url": "http://127.0.0.1:9"},
            "gatewayd": {"listen": f"127.0.0.1:{self.gatewayd_port}",
                         "doorbell": ep("gatewayd-doorbell"),
                         "status": ep("gatewayd-status")},
            "senderd": {"doorbells": " ".join(ep(n) for n in (
                            "gatewayd-doorbell", "webhookd-doorbell", "billingd-doorbell")),
                        "statuses": " ".join(ep(n) for n in (
                            "gatewayd-status", "billingd-status"))},
            "webhookd": {"listen": f"127.0.0.1:{self.webhookd_port}",
                         "doorbell": ep("webhookd-doorbell"),
                         "billing": ep("billingd-work"),
                         "statuses": ep("gatewayd-status")},
            "billingd": {"doorbell": ep("billingd-doorbell"),
                         "status": ep("billingd-status"),
                         "work": ep("billingd-work")},
        }

    def config_text(self, overrides=None, drop=(), extra=""):
        """The config file text. overrides: {(section, key): value}; drop: [(s, k)]."""
        cfg = self.settings()
        for (section, key), value in (overrides or {}).items():
            cfg.setdefault(section, {})[key] = value
        for section, key in drop:
            cfg.get(section, {}).pop(key, None)
        out = ["# written by tests/integration/conftest.py"]
        for section, keys in cfg.items():
            out.append(f"\n[{section}]")
            for key, value in keys.items():
                out.append(f'{key} = "{value}"')
        return "\n".join(out) + "\n" + extra

    def write_config(self, overrides=None, drop=(), extra="", name="tgm.conf", text=None):
        """Write a config file into the test's directory; its path."""
        path = self.tmp / name
        path.write_text(self.config_text(overrides, drop, extra) if text is None else text)
        return path

    # -- processes

    def daemon(self, name, conf=None, args=(), env=None, start=True, wait_ready=True,
               timeout=READY_TIMEOUT):
        """A Daemon for $TGM_BIN/name -c conf (the env's config by default)."""
        d = Daemon(self, name, self.conf if conf is None else conf, args, env)
        self.daemons.append(d)
        self.ensure_db()
        if start:
            d.start(wait_ready=wait_ready, timeout=timeout)
        return d

    def run(self, name, *args, env=None, timeout=RUN_TIMEOUT):
        """Run $TGM_BIN/name args to completion (audited); CompletedProcess.
        The database is not created for this: call ensure_db() when it must exist."""
        return run_binary(name, args, env=env, timeout=timeout)

    def tgmctl(self, *args, conf=None, env=None, timeout=RUN_TIMEOUT):
        """tgmctl -c conf (the env's config by default) args, on the test's database."""
        self.ensure_db()
        return run_binary("tgmctl", ["-c", self.conf if conf is None else conf, *args],
                          env=env, timeout=timeout)

    def query(self, sql, args=None):
        return self.pg.query(self.db, sql, args)

    def connect(self):
        return self.pg.connect(self.db)

    def http(self, daemon="gatewayd"):
        port = self.gatewayd_port if daemon == "gatewayd" else self.webhookd_port
        return f"http://127.0.0.1:{port}"

    # -- teardown

    def finish(self):
        """Stop what runs, audit every log; a list of problems (empty when clean)."""
        problems = []
        for d in self.daemons:
            if d.proc is None:
                d.close()
                continue
            if d.running():
                d.proc.send_signal(signal.SIGTERM)
                try:
                    d.returncode = d.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    d.proc.kill()
                    d.returncode = d.proc.wait()
                    problems.append(f"{d.name} (pid {d.pid}) ignored SIGTERM for "
                                    f"{STOP_TIMEOUT}s at teardown")
                    d.killed = True
                if not d.killed and d.returncode != 0:
                    problems.append(f"{d.name} (pid {d.pid}) exited with status "
                                    f"{d.returncode} at teardown")
            d.returncode = d.proc.returncode
            if not d.killed and d.returncode is not None and d.returncode < 0:
                problems.append(f"{d.name} (pid {d.pid}) died of signal {-d.returncode}")
            if d.returncode == SANITIZER_EXIT:
                problems.append(f"{d.name} (pid {d.pid}) exited with the sanitizer status")
            d.close()
            found = bug_reports(d.log())
            if found:
                problems.append(f"{d.name} (pid {d.pid}, log {d.logfile}) reported a bug:\n"
                                + "\n".join(f"  {what}: {line}" for what, line in found[:10]))
        if problems:  # show the logs of every daemon of the test
            problems += [f"--- {d.logfile} ---\n{d.log()[-3000:]}"
                         for d in self.daemons if d.proc is not None]
        return problems

    def destroy(self):
        shutil.rmtree(self.short, ignore_errors=True)
        if not self._db_created:
            return
        try:
            self.pg.drop_db(self._db)
        except psycopg2.Error:
            pass


@pytest.fixture
def tgm_env(pg, tmp_path):
    """A test's configuration, database and daemons; audited at teardown."""
    env = TgmEnv(pg, tmp_path)
    try:
        yield env
        problems = env.finish()
        if problems:
            pytest.fail("daemon audit failed:\n" + "\n".join(problems), pytrace=False)
    finally:
        if any(d.running() for d in env.daemons):  # the test itself raised
            env.finish()
        env.destroy()


@pytest.fixture
def tgmctl():
    """tgmctl(conf, *args, env=None) -> CompletedProcess; conf None means no -c."""
    def run(conf, *args, env=None, timeout=RUN_TIMEOUT):
        pre = ["-c", conf] if conf is not None else []
        return run_binary("tgmctl", [*pre, *args], env=env, timeout=timeout)
    return run


# ---------------------------------------------------------------- summary

def pytest_terminal_summary(terminalreporter):
    """End with a clear count of skipped tests and why (only who-runs-it skips are allowed)."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {}
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    why = "; ".join(f"{n} x {r}" for r, n in sorted(reasons.items()))
    terminalreporter.write_line(f"skipped: {len(skipped)}" + (f" ({why})" if why else ""))
