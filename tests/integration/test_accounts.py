"""Dashboard accounts and sessions (issue 14): `tgmctl user`, POST/GET/DELETE
/v1/session, the session cookie as a credential with the account's role as its scope,
Origin checks, login limits and locks, idle expiry, revocation, and /v1/accounts.

Passwords are PBKDF2-SHA256 with a salt per password; sessions are kept as the SHA-256
of their cookie. Nothing here needs a browser: the cookie is sent by hand.
"""

import hashlib
import json
import re
import subprocess

import pytest
import requests

from api_helpers import TIMEOUT, problem, world  # noqa: F401 (fixtures)
from conftest import audit, binary, child_env

PASSWORD = "correct horse battery"


def tgmctl_in(env, *args, stdin=None):
    """tgmctl -c conf args with text on stdin (audited); CompletedProcess."""
    env.ensure_db()
    r = subprocess.run([binary("tgmctl"), "-c", env.conf, *args], input=stdin, text=True,
                       capture_output=True, env=child_env(), timeout=60)
    audit(r.stderr, f"tgmctl {args}")
    return r


def new_account(world, email, role, tenant="acme", password=PASSWORD):
    r = tgmctl_in(world.env, "user", "create", "--tenant", tenant, "--email", email,
                  "--role", role, "--password-stdin", "--create-tenant", stdin=password + "\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", "a password given on stdin is not printed"
    assert world.one("SELECT must_change_password FROM accounts WHERE email = %s",
                     (email,)) == (False,), "the operator chose it"
    return world.one("SELECT id FROM accounts WHERE email = %s", (email,))[0]


class Dash:
    """A dashboard client: the session cookie and the page's Origin, sent by hand."""

    def __init__(self, world, cookie=None):
        self.world = world
        self.cookie = cookie

    def request(self, method, path, body=None, origin=True, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = f"tgm_session={self.cookie}"
        if origin is True:
            h["Origin"] = self.world.base
        elif origin:
            h["Origin"] = origin
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        return requests.request(method, self.world.base + path, data=data, headers=h,
                                timeout=TIMEOUT)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


def login_response(world, email, password=PASSWORD, headers=None):
    return Dash(world).post("/v1/session", {"email": email, "password": password},
                            headers=headers)


def login(world, email, password=PASSWORD):
    r = login_response(world, email, password)
    assert r.status_code == 200, r.text
    m = re.match(r"tgm_session=(tgms_[A-Za-z0-9]{40});", r.headers["Set-Cookie"])
    assert m, r.headers["Set-Cookie"]
    return Dash(world, m.group(1))


# ------------------------------------------------------------------ tgmctl user

def test_tgmctl_user_create_prints_a_password_once(world):
    r = world.env.tgmctl("user", "create", "--tenant", "acme", "--email", "ann@example.com",
                         "--role", "owner", "--create-tenant")
    assert r.returncode == 0, r.stderr
    password = r.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9]{20}", password), r.stdout
    assert "shown only now" in r.stderr

    stored, must_change = world.one("SELECT password_hash, must_change_password FROM accounts"
                                    " WHERE email = 'ann@example.com'")
    assert stored.startswith("pbkdf2-sha256$210000$") and password not in stored
    assert must_change is True  # made here: changed at the first login

    listed = world.env.tgmctl("user", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"acme\s+ann@example.com\s+owner\s+-\s+active", listed.stdout), \
        listed.stdout
    assert password not in listed.stdout

    me = login(world, "ann@example.com", password).get("/v1/session")
    assert me.status_code == 200, me.text
    assert me.json()["account"]["role"] == "owner"
    assert me.json()["account"]["must_change_password"] is True


def test_tgmctl_user_create_refuses_an_unknown_tenant(world):
    """Like key create: a tenant that does not exist (a typo) is refused unless
    --create-tenant is given, and nothing is made."""
    r = tgmctl_in(world.env, "user", "create", "--tenant", "acmee", "--email", "a@b.c",
                  "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 1, r.stderr
    assert 'no tenant "acmee"' in r.stderr and "--create-tenant" in r.stderr, r.stderr
    assert world.query("SELECT count(*) FROM tenants WHERE name = 'acmee'") == [(0,)]
    assert world.query("SELECT count(*) FROM accounts") == [(0,)]


def test_tgmctl_user_bad_input_changes_nothing(world):
    env = world.env
    cases = [
        (["--tenant", "acme", "--email", "a@b.c", "--role", "boss"], 2, "--role must be"),
        (["--tenant", "acme", "--email", "nobody", "--role", "viewer"], 2, "--email must"),
        (["--email", "a@b.c", "--role", "viewer"], 2, "usage: tgmctl user create"),
        (["--tenant", "acme", "--email", "a@b.c", "--role"], 2, "--role needs a value"),
    ]
    for args, status, says in cases:
        r = env.tgmctl("user", "create", *args)
        assert r.returncode == status and says in r.stderr, (args, r.stderr)
    r = tgmctl_in(env, "user", "create", "--tenant", "acme", "--email", "a@b.c", "--role",
                  "viewer", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "at least 10 characters" in r.stderr, r.stderr
    r = tgmctl_in(env, "user", "create", "--tenant", "acme", "--email", "a@b.c", "--role",
                  "viewer", "--password-stdin", stdin="")
    assert r.returncode == 1 and "no password on stdin" in r.stderr, r.stderr
    assert world.query("SELECT count(*) FROM accounts") == [(0,)]

    new_account(world, "a@b.c", "viewer")
    r = tgmctl_in(world.env, "user", "create", "--tenant", "acme", "--email", "A@B.C",
                  "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "cannot create the account" in r.stderr, r.stderr
    r = env.tgmctl("user", "disable", "nobody@example.com")
    assert r.returncode == 1 and "no account with email" in r.stderr, r.stderr


def test_tgmctl_disable_and_reset_end_sessions(world):
    new_account(world, "owner@example.com", "owner")
    new_account(world, "bob@example.com", "admin")
    bob = login(world, "bob@example.com")
    assert bob.get("/v1/keys").status_code == 200

    r = tgmctl_in(world.env, "user", "reset-password", "bob@example.com")
    assert r.returncode == 0, r.stderr
    fresh = r.stdout.strip()
    problem(bob.get("/v1/keys"), 401, "session_expired")
    problem(login_response(world, "bob@example.com"), 401, "invalid_credentials")
    bob = login(world, "bob@example.com", fresh)

    r = world.env.tgmctl("user", "disable", "bob@example.com")
    assert r.returncode == 0, r.stderr
    problem(bob.get("/v1/keys"), 401, "session_expired")
    problem(login_response(world, "bob@example.com", fresh), 401, "invalid_credentials")
    listed = world.env.tgmctl("user", "list").stdout
    assert re.search(r"bob@example.com\s+admin\s+\S+ \S+\s+disabled", listed), listed


# ------------------------------------------------------------------ login and session

def test_login_sets_a_strict_cookie_kept_hashed(world):
    new_account(world, "ann@example.com", "admin")
    r = login_response(world, "ANN@example.com")
    assert r.status_code == 200, r.text
    cookie = r.headers["Set-Cookie"]
    token = re.match(r"tgm_session=([^;]+);", cookie).group(1)
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert attrs == {"path", "httponly", "samesite"}, cookie
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    assert r.headers["Cache-Control"] == "no-store"
    assert r.json()["account"]["email"] == "ann@example.com"
    assert r.json()["account"]["role"] == "admin"

    stored = world.one("SELECT hash FROM sessions")[0]
    assert bytes(stored) == hashlib.sha256(token.encode()).digest()

    r = login_response(world, "ann@example.com", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 200 and "; Secure" in r.headers["Set-Cookie"], r.headers


def test_session_is_a_credential_until_logout(world):
    new_account(world, "ann@example.com", "admin")
    key = world.tenant_key("acme")
    dash = login(world, "ann@example.com")
    made = dash.post("/v1/keys", {"scope": "read", "name": "from the dashboard"})
    assert made.status_code == 201, made.text
    ids = [k["id"] for k in dash.get("/v1/keys").json()["keys"]]
    assert made.json()["id"] in ids and len(ids) == 2

    me = dash.get("/v1/session").json()
    assert me["kind"] == "session" and me["idle_timeout_s"] == 12 * 3600
    r = requests.get(world.base + "/v1/session", headers={"Authorization": f"Bearer {key}"},
                     timeout=TIMEOUT)
    assert r.json()["kind"] == "key" and r.json()["scope"] == "admin"

    r = dash.request("DELETE", "/v1/session")
    assert r.status_code == 204, r.text
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    assert world.one("SELECT revoked_at IS NOT NULL FROM sessions")[0] is True
    problem(dash.get("/v1/keys"), 401, "session_expired")
    # a key is not a session: nothing to log out
    r = requests.delete(world.base + "/v1/session",
                        headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT)
    problem(r, 400, "not_a_session")


def test_idle_session_expires(world):
    new_account(world, "ann@example.com", "viewer")
    dash = login(world, "ann@example.com")
    assert dash.get("/v1/bots").status_code == 200
    world.query("UPDATE sessions SET last_seen_at = now() - interval '12 hours 1 minute'")
    r = dash.get("/v1/bots")
    problem(r, 401, "session_expired")
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    # a made-up cookie is the same
    problem(Dash(world, "tgms_" + "x" * 40).get("/v1/bots"), 401, "session_expired")
    problem(Dash(world, "nonsense").get("/v1/bots"), 401, "unauthorized")


def test_wrong_passwords_lock_the_account(world):
    new_account(world, "ann@example.com", "viewer")
    for _ in range(4):
        problem(login_response(world, "ann@example.com", "wrong password"), 401,
                "invalid_credentials", detail="the email or the password is wrong")
    r = login_response(world, "ann@example.com", "wrong password")
    body = problem(r, 403, "account_locked")
    assert "locked" in body["detail"] and r.headers["Retry-After"] == "900"
    r = login_response(world, "ann@example.com")  # the right password, still locked
    problem(r, 403, "account_locked")
    assert 0 < int(r.headers["Retry-After"]) <= 900
    assert world.query("SELECT count(*) FROM sessions") == [(0,)]
    listed = world.env.tgmctl("user", "list").stdout
    assert "locked" in listed, listed

    world.query("UPDATE accounts SET locked_until = now() - interval '1 second'")
    login(world, "ann@example.com")


def test_failures_from_one_address_are_refused(world):
    new_account(world, "ann@example.com", "viewer")
    for i in range(10):
        problem(login_response(world, f"nobody{i}@example.com"), 401, "invalid_credentials")
    r = login_response(world, "ann@example.com")
    problem(r, 429, "rate_limited")
    assert 0 < int(r.headers["Retry-After"]) <= 300


def test_login_bad_input(world):
    d = Dash(world)
    problem(d.post("/v1/session", {"password": PASSWORD}), 422, "invalid_field", "email")
    problem(d.post("/v1/session", {"email": "a@b.c", "password": 5}), 422, "invalid_field",
            "password")
    problem(d.post("/v1/session", {"email": "a@b.c", "password": "x" * 600}), 422,
            "invalid_field", "password")
    problem(d.post("/v1/session", {"email": "a@b.c", "password": PASSWORD},
                   origin="https://evil.example"), 403, "foreign_origin")


# ------------------------------------------------------------------ roles and Origin

ROLE_CASES = [
    # (role, method, path, body, allowed)
    ("viewer", "GET", "/v1/bots", None, True),
    ("viewer", "GET", "/v1/stats", None, True),
    ("viewer", "POST", "/v1/keys", {"scope": "read"}, False),
    ("viewer", "POST", "/v1/messages/999999/cancel", None, False),
    ("viewer", "GET", "/v1/accounts", None, False),
    ("agent", "POST", "/v1/messages/999999/cancel", None, True),
    ("agent", "POST", "/v1/keys", {"scope": "read"}, False),
    ("agent", "GET", "/v1/tenant", None, False),
    ("admin", "POST", "/v1/keys", {"scope": "read"}, True),
    ("admin", "GET", "/v1/tenant", None, True),
    ("admin", "GET", "/v1/accounts", None, False),
    ("owner", "GET", "/v1/accounts", None, True),
    ("owner", "POST", "/v1/keys", {"scope": "read"}, True),
]


def test_roles_are_enforced_by_the_server(world):
    sessions = {}
    for role in ("viewer", "agent", "admin", "owner"):
        new_account(world, f"{role}@example.com", role)
        sessions[role] = login(world, f"{role}@example.com")
    for role, method, path, body, allowed in ROLE_CASES:
        r = sessions[role].request(method, path, body)
        if allowed:
            assert r.status_code != 403 and r.status_code < 500, (role, path, r.text)
        else:
            body = problem(r, 403, "forbidden")
            assert "role" in body["detail"], body
    # an admin API key is no owner
    key = world.tenant_key("acme")
    r = requests.get(world.base + "/v1/accounts", headers={"Authorization": f"Bearer {key}"},
                     timeout=TIMEOUT)
    problem(r, 403, "forbidden", detail="owner role")


def test_state_changes_with_a_session_need_our_origin(world):
    new_account(world, "ann@example.com", "admin")
    dash = login(world, "ann@example.com")
    for origin in ("https://evil.example", None, "null", world.base + ".evil.example"):
        r = dash.post("/v1/keys", {"scope": "read"}, origin=origin or False)
        problem(r, 403, "foreign_origin", "Origin")
    assert dash.get("/v1/keys", origin="https://evil.example").status_code == 200
    assert dash.post("/v1/keys", {"scope": "read"}).status_code == 201
    assert world.query("SELECT count(*) FROM api_keys") == [(1,)]
    # API keys are not cookies: an app sends no Origin, or any
    key = world.tenant_key("acme")
    r = requests.post(world.base + "/v1/keys", json={"scope": "read"},
                      headers={"Authorization": f"Bearer {key}",
                               "Origin": "https://evil.example"}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------ /v1/accounts

def test_owner_manages_accounts(world):
    new_account(world, "owner@example.com", "owner")
    new_account(world, "other@example.com", "owner", tenant="globex")
    owner = login(world, "owner@example.com")

    r = owner.post("/v1/accounts", {"email": "amy@example.com", "role": "agent"})
    assert r.status_code == 201, r.text
    amy = r.json()
    assert amy["role"] == "agent" and amy["must_change_password"] is True
    assert re.fullmatch(r"[A-Za-z0-9]{20}", amy["password"]), amy
    amy_dash = login(world, "amy@example.com", amy["password"])

    r = owner.post("/v1/accounts", {"email": "AMY@example.com", "role": "viewer",
                                    "password": PASSWORD})
    problem(r, 409, "account_exists", "email")
    problem(owner.post("/v1/accounts", {"email": "x@y.z", "role": "boss"}), 422,
            "invalid_field", "role")
    problem(owner.post("/v1/accounts", {"email": "x@y.z", "role": "viewer",
                                        "password": "short"}), 422, "invalid_field",
            "password")
    problem(owner.post("/v1/accounts", {"email": "nobody", "role": "viewer"}), 422,
            "invalid_field", "email")

    listed = owner.get("/v1/accounts").json()["accounts"]
    assert [a["email"] for a in listed] == ["owner@example.com", "amy@example.com"]
    assert all("password" not in a and "password_hash" not in a for a in listed)

    # a role change ends amy's sessions; so does disabling
    r = owner.request("PATCH", f"/v1/accounts/{amy['id']}", {"role": "viewer"})
    assert r.status_code == 200 and r.json()["role"] == "viewer", r.text
    problem(amy_dash.get("/v1/bots"), 401, "session_expired")
    amy_dash = login(world, "amy@example.com", amy["password"])
    r = owner.request("PATCH", f"/v1/accounts/{amy['id']}", {"disabled": True})
    assert r.status_code == 200 and r.json()["disabled_at"], r.text
    problem(amy_dash.get("/v1/bots"), 401, "session_expired")
    problem(login_response(world, "amy@example.com", amy["password"]), 401,
            "invalid_credentials")

    # a new password, shown once
    r = owner.post(f"/v1/accounts/{amy['id']}/password")
    assert r.status_code == 200, r.text
    r = owner.request("PATCH", f"/v1/accounts/{amy['id']}", {"disabled": False})
    assert r.status_code == 200 and r.json()["disabled_at"] is None
    fresh = owner.post(f"/v1/accounts/{amy['id']}/password", {"password": PASSWORD})
    assert fresh.status_code == 200 and "password" not in fresh.json(), fresh.text
    login(world, "amy@example.com", PASSWORD)

    # the last owner stays; another tenant's account is not found
    me = owner.get("/v1/session").json()["account"]["id"]
    problem(owner.request("PATCH", f"/v1/accounts/{me}", {"role": "admin"}), 409,
            "last_owner")
    other = world.one("SELECT id FROM accounts WHERE email = 'other@example.com'")[0]
    problem(owner.request("PATCH", f"/v1/accounts/{other}", {"disabled": True}), 404,
            "account_not_found")
    problem(owner.post(f"/v1/accounts/{other}/password"), 404, "account_not_found")
    assert world.one("SELECT disabled_at FROM accounts WHERE id = %s", (other,))[0] is None


def test_change_own_password(world):
    r = world.env.tgmctl("user", "create", "--tenant", "acme", "--email", "ann@example.com",
                         "--role", "agent", "--create-tenant")
    first = r.stdout.strip()
    dash = login(world, "ann@example.com", first)
    other = login(world, "ann@example.com", first)
    assert dash.get("/v1/session").json()["account"]["must_change_password"] is True
    problem(dash.get("/v1/bots"), 403, "password_change_required")
    problem(dash.post("/v1/messages/1/cancel"), 403, "password_change_required")

    problem(dash.post("/v1/session/password", {"password": "wrong one!!",
                                                "new_password": PASSWORD}),
            422, "invalid_field", "password")
    problem(dash.post("/v1/session/password", {"password": first, "new_password": "short"}),
            422, "invalid_field", "new_password")
    problem(dash.post("/v1/session/password", {"password": first, "new_password": first}),
            422, "invalid_field", "new_password")
    problem(dash.post("/v1/session/password", {"password": first, "new_password": PASSWORD},
                      origin="https://evil.example"), 403, "foreign_origin")

    r = dash.post("/v1/session/password", {"password": first, "new_password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["account"]["must_change_password"] is False
    fresh = re.match(r"tgm_session=(tgms_[A-Za-z0-9]{40});", r.headers["Set-Cookie"]).group(1)
    problem(dash.get("/v1/session"), 401, "session_expired")   # the old cookie ended
    problem(other.get("/v1/session"), 401, "session_expired")  # and the other sessions
    assert Dash(world, fresh).get("/v1/session").status_code == 200
    assert Dash(world, fresh).get("/v1/bots").status_code == 200
    problem(login_response(world, "ann@example.com", first), 401, "invalid_credentials")
    login(world, "ann@example.com", PASSWORD)

    key = world.tenant_key("acme")
    r = requests.post(world.base + "/v1/session/password", json={"password": "x",
                      "new_password": PASSWORD}, headers={"Authorization": f"Bearer {key}"},
                      timeout=TIMEOUT)
    problem(r, 400, "not_a_session")
