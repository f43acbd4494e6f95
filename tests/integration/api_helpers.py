"""Shared helpers for the gatewayd API tests (tests/integration/test_api_*.py).

A test gets a running gatewayd, a fake Telegram (fake_http.FakeHTTP) that answers getMe
per token, and one admin key of a tenant through the ``api`` fixture:

    def test_x(api):
        bot = api.new_bot()                       # registers a bot (getMe scripted OK)
        r = api.post("/v1/messages", {"chat_id": 1, "text": "hi", "bot_id": bot["id"]})
        assert r.status_code == 202

``gw_world(env, **overrides)`` starts the same world with extra configuration (e.g. a low
``[gatewayd] key_burst``). Every answer is a ``requests.Response``; ``problem(r, status,
type, field)`` checks an RFC 9457 answer and returns its body.
"""

import itertools
import json
import re
import secrets
import threading
import time

import pytest
import requests

from fake_http import FakeHTTP, Reply  # noqa: F401 (re-exported)

PROBLEM_BASE = "https://tgm.dev/problems/"
TIMEOUT = 10

_tg_ids = itertools.count(700000001)


def new_token(tg_id=None):
    """A bot token of Telegram's shape: <digits>:<35 characters>."""
    tg_id = tg_id if tg_id is not None else next(_tg_ids)
    return f"{tg_id}:AA{secrets.token_urlsafe(26)[:33]}"


class FakeTelegram:
    """A FakeHTTP whose getMe answers per token (OK by default, or what was set)."""

    def __init__(self):
        self.http = FakeHTTP().start()
        self.answers = {}  # token -> Reply
        self.http.route("/bot*/getMe", self._getme)

    def _getme(self, req):
        token = req.path[len("/bot"):-len("/getMe")]
        if token in self.answers:
            return self.answers[token]
        tg_id = int(token.split(":")[0])
        return Reply.tg_ok({"id": tg_id, "is_bot": True, "first_name": f"Bot {tg_id}",
                            "username": f"bot{tg_id}_bot"})

    @property
    def url(self):
        return self.http.url

    def getme_calls(self, token=None):
        calls = self.http.requests_for("/bot*/getMe")
        return [r for r in calls if token is None or r.path == f"/bot{token}/getMe"]

    def stop(self):
        self.http.stop()


class Api:
    """An HTTP client for gatewayd with one API key (or none)."""

    def __init__(self, world, key):
        self.world = world
        self.key = key
        self.session = requests.Session()

    @property
    def base(self):
        return self.world.base

    def headers(self, extra=None, auth=True):
        h = {}
        if auth and self.key is not None:
            h["Authorization"] = f"Bearer {self.key}"
        h.update(extra or {})
        return h

    def request(self, method, path, body=None, headers=None, auth=True, data=None,
                params=None):
        h = self.headers(headers, auth)
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base + path, data=data, headers=h,
                                    params=params, timeout=TIMEOUT)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- shortcuts

    def new_bot(self, token=None, **fields):
        """Register a bot (getMe answers OK unless scripted); its JSON (201 asserted)."""
        token = token or new_token()
        r = self.post("/v1/bots", {"token": token, **fields})
        assert r.status_code == 201, r.text
        bot = r.json()
        bot["token"] = token
        return bot

    def send(self, body, headers=None, path="/v1/messages"):
        return self.post(path, body, headers=headers)

    def send_ok(self, body, headers=None):
        r = self.send(body, headers)
        assert r.status_code == 202, r.text
        return r.json()

    def new_key(self, scope, name=None):
        body = {"scope": scope}
        if name is not None:
            body["name"] = name
        r = self.post("/v1/keys", body)
        assert r.status_code == 201, r.text
        return r.json()

    def as_key(self, key):
        return Api(self.world, key)


class World:
    """gatewayd on a test's database with a fake Telegram; tenants made by tgmctl."""

    def __init__(self, env, overrides=None, start=True):
        self.env = env
        self.tg = FakeTelegram()
        settings = {("telegram", "api_url"): self.tg.url}
        settings.update(overrides or {})
        self.conf = env.write_config(settings)
        env.conf = self.conf
        self.base = env.http()
        self.daemon = env.daemon("gatewayd", conf=self.conf) if start else None
        self._shared = {}

    def tenant_key(self, tenant, scope="admin"):
        """A new key of tenant (created if new) made by tgmctl: the key text."""
        r = self.env.tgmctl("key", "create", "--tenant", tenant, "--create-tenant",
                            "--scope", scope)
        assert r.returncode == 0, r.stderr
        key = r.stdout.strip()
        assert key.startswith("tgmk_") and len(key) == 45, key
        return key

    def api(self, tenant="acme", scope="admin"):
        """An Api with a new key of tenant (and scope)."""
        return Api(self, self.tenant_key(tenant, scope))

    def shared_api(self, tenant="acme", scope="admin"):
        """One Api per tenant and scope for the world's life (for tables of cases)."""
        if (tenant, scope) not in self._shared:
            self._shared[tenant, scope] = self.api(tenant, scope)
        return self._shared[tenant, scope]

    def anonymous(self):
        return Api(self, None)

    def query(self, sql, args=None):
        return self.env.query(sql, args)

    def one(self, sql, args=None):
        rows = self.query(sql, args)
        assert len(rows) == 1, rows
        return rows[0]

    def tenant_id(self, name):
        return self.one("SELECT id FROM tenants WHERE name = %s", (name,))[0]

    def close(self):
        self.tg.stop()


def gw_world(env, overrides=None):
    return World(env, overrides)


# The key bucket of a shared world must not get in the way of the tests that share it.
NO_KEY_LIMIT = {("gatewayd", "key_rate"): "1000000", ("gatewayd", "key_burst"): "1000000"}


@pytest.fixture(scope="module")
def mworld(pg, tmp_path_factory):
    """One world shared by a module's tests (for tables of cases: one gatewayd, many
    requests); audited like tgm_env when the module is done."""
    from conftest import TgmEnv
    env = TgmEnv(pg, tmp_path_factory.mktemp("api"))
    w = None
    try:
        w = World(env, NO_KEY_LIMIT)
        yield w
        w.close()
        problems = env.finish()
        if problems:
            pytest.fail("daemon audit failed:\n" + "\n".join(problems), pytrace=False)
    finally:
        if w is not None:
            w.close()
        if any(d.running() for d in env.daemons):
            env.finish()
        env.destroy()


@pytest.fixture
def world(tgm_env):
    w = World(tgm_env)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def api(world):
    """An admin key of tenant "acme" on a running gatewayd."""
    return world.api("acme", "admin")


# ---------------------------------------------------------------- assertions

def problem(r, status, type_=None, field=None, detail=None):
    """Assert r is an RFC 9457 problem with that status (and type, field, detail part);
    its body."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers.get("Content-Type", "").startswith("application/problem+json"), \
        r.headers.get("Content-Type")
    body = r.json()
    assert body["status"] == status, body
    assert body["type"].startswith(PROBLEM_BASE), body
    assert isinstance(body.get("title"), str) and body["title"], body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if type_ is not None:
        assert body["type"] == PROBLEM_BASE + type_, body
    if field is not None:
        assert body.get("field") == field, body
    if detail is not None:
        assert detail in body["detail"], body
    return body


def msg(chat_id=1001, text="hello", **kw):
    return {"chat_id": chat_id, "text": text, **kw}


def message_row(world, mid):
    """The messages row of id as a dict (None when absent)."""
    cols = ("id", "tenant_id", "bot_id", "chat", "method", "params", "priority", "status",
            "not_before", "expires_at", "idempotency_key", "callback_url", "metadata",
            "created_at", "sent_at")
    rows = world.query(f"SELECT {', '.join(cols)} FROM messages WHERE id = %s", (mid,))
    return dict(zip(cols, rows[0])) if rows else None


def events_of(api, mid):
    """[(status, detail)] of a message's transitions as GET /v1/messages/{id} shows them,
    in order (200 asserted)."""
    r = api.get(f"/v1/messages/{mid}")
    assert r.status_code == 200, r.text
    return [(e["status"], e["detail"]) for e in r.json()["events"]]


def parallel(n, fn):
    """Run fn(i) in n threads started together; the results in order of i."""
    results = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(5)
            results[i] = fn(i)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


# ---------------------------------------------------------------- a bot's admins

def add_admin(env, bot_id, user_id, role="owner"):
    """Make Telegram user user_id an admin (role) of bot bot_id through the API, as a
    deployment gives a bot its first owner (docs/admins.md): PUT
    /v1/bots/{id}/admins/{user_id} with an admin key of the bot's tenant (made by tgmctl
    once per env and tenant), on the env's gatewayd, started here when none runs. The
    admin's JSON."""
    if not any(d.name == "gatewayd" and d.running() for d in env.daemons):
        env.daemon("gatewayd")
    keys = env.__dict__.setdefault("_admin_keys", {})
    tenant = env.query("SELECT t.name FROM bots b JOIN tenants t ON t.id = b.tenant_id"
                       " WHERE b.id = %s", (bot_id,))[0][0]
    if tenant not in keys:
        r = env.tgmctl("key", "create", "--tenant", tenant, "--scope", "admin")
        assert r.returncode == 0, r.stderr
        keys[tenant] = r.stdout.strip()
    r = requests.put(f"{env.http()}/v1/bots/{bot_id}/admins/{user_id}", json={"role": role},
                     headers={"Authorization": f"Bearer {keys[tenant]}"}, timeout=TIMEOUT)
    assert r.status_code in (200, 201), r.text
    return r.json()


def metric(text, name, **labels):
    """The value of one sample of a Prometheus text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    rx = re.compile(rf"^{re.escape(name)}" + (rf"\{{{re.escape(want)}\}}" if labels else "")
                    + r" (\S+)$", re.M)
    m = rx.search(text)
    return float(m.group(1)) if m else 0.0


def choices(world):
    """gatewayd's bot choices so far, by where they were made (memory, database), and
    its reads of the bots' load (gatewayd/choice.c), from /metrics."""
    t = requests.get(world.base + "/metrics", timeout=TIMEOUT).text
    return {"memory": metric(t, "tgm_gatewayd_bot_choices_total", where="memory"),
            "database": metric(t, "tgm_gatewayd_bot_choices_total", where="database"),
            "reads": metric(t, "tgm_gatewayd_bot_load_reads_total")}


def wait_load_read(world, timeout=15):
    """Until gatewayd has read the bots' load twice more (it does once a second while
    choices are asked for): what is in the database now is in its memory."""
    want = choices(world)["reads"] + 2
    deadline = time.monotonic() + timeout
    while choices(world)["reads"] < want:
        assert time.monotonic() < deadline, "gatewayd did not read the bots' load"
        time.sleep(0.05)
