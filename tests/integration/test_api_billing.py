"""gatewayd's billing admin API: a bot's products (GET, POST, PATCH, DELETE), its users
with their balances (list, one with its ledger), admin credits through ledger_apply under
a required Idempotency-Key (replayed, concurrent, refused take-aways), and its payments
with refunds and disputes; tenant isolation and scopes on every route.

Users, payments and disputes are inserted with SQL: webhookd and billingd make them in
real life. Credits are only ever given through ledger_apply, so every balance is the sum
of its ledger entries.
"""

import pytest

from api_helpers import api, mworld, parallel, problem, world  # noqa: F401

PRODUCT_FIELDS = {"id", "bot_id", "label", "credits", "pass_seconds", "price", "currency",
                  "stripe_price_id", "stars_price", "active", "created_at"}
USER_FIELDS = {"user_id", "first_name", "last_name", "username", "language_code", "credits",
               "pass_until", "pass_active", "owed", "spent", "messages", "banned",
               "banned_at", "first_seen_at", "last_seen_at"}
ENTRY_FIELDS = {"id", "key", "kind", "requested", "credits", "owed", "pass_until", "balance",
                "amount", "currency", "reason", "at"}
PAYMENT_FIELDS = {"id", "user_id", "product_id", "kind", "status", "amount", "currency",
                  "credits", "pass_seconds", "refunded_amount", "refunded_credits", "owed",
                  "checkout_session_id", "payment_intent_id", "telegram_charge_id",
                  "failure", "created_at", "paid_at", "updated_at", "disputes"}

PACK = {"label": "100 credits", "credits": 100, "price": 500}


# ------------------------------------------------------------ helpers

def add_user(w, bot_id, user_id, credits=0, username=None, first_name="Ann", **cols):
    """A bot_users row; its credits given through ledger_apply, as in real life."""
    names = ["bot_id", "user_id", "first_name", "username", *cols]
    values = [bot_id, user_id, first_name, username, *cols.values()]
    w.query(f"INSERT INTO bot_users ({', '.join(names)})"
            f" VALUES ({', '.join(['%s'] * len(names))})", values)
    if credits:
        grant(w, bot_id, user_id, credits, f"test:seed:{user_id}")


def grant(w, bot_id, user_id, credits, key, kind="grant"):
    return w.one("SELECT entry_id, refused FROM ledger_apply(%s, %s, %s, %s, %s)",
                 (bot_id, user_id, key, kind, credits))


def ledger(w, bot_id, user_id):
    """[(kind, requested, credits, balance, key, reason)] of a user, oldest first."""
    return w.query("SELECT kind, requested, credits, balance, key, reason FROM ledger"
                   " WHERE bot_id = %s AND user_id = %s ORDER BY id", (bot_id, user_id))


def balance(w, bot_id, user_id):
    return w.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = %s",
                 (bot_id, user_id))[0]


def assert_books_balance(w):
    """Every balance is the sum of its ledger entries, and the last entry's balance."""
    bad = w.query("SELECT u.bot_id, u.user_id, u.credits, coalesce(sum(l.credits), 0)"
                  " FROM bot_users u LEFT JOIN ledger l USING (bot_id, user_id)"
                  " GROUP BY 1, 2, 3 HAVING u.credits <> coalesce(sum(l.credits), 0)")
    assert bad == []


def credit(a, bot_id, user_id, credits, reason="goodwill", key="k1", **kw):
    headers = {} if key is None else {"Idempotency-Key": key}
    return a.post(f"/v1/bots/{bot_id}/users/{user_id}/credits",
                  {"credits": credits, "reason": reason}, headers=headers, **kw)


def add_payment(w, bot_id, user_id, **cols):
    row = {"kind": "checkout", "status": "paid", "amount": 500, "currency": "usd",
           "credits": 100, **cols}
    names = ["bot_id", "user_id", *row]
    return w.one(f"INSERT INTO payments ({', '.join(names)})"
                 f" VALUES ({', '.join(['%s'] * len(names))}) RETURNING id",
                 [bot_id, user_id, *row.values()])[0]


def add_dispute(w, payment_id, dispute_id, status="needs_response"):
    w.query("INSERT INTO disputes (id, payment_id, bot_id, user_id, charge_id, amount,"
            " currency, reason, status, payload)"
            " SELECT %s, id, bot_id, user_id, 'ch_1', amount, currency, 'fraudulent', %s,"
            " '{}' FROM payments WHERE id = %s", (dispute_id, status, payment_id))


@pytest.fixture
def bot(api):
    return api.new_bot()


@pytest.fixture(scope="module")
def mbot(mworld):
    return mworld.shared_api("acme").new_bot()


# ------------------------------------------------------------ products

def test_products_create_list_update_delete(world, api, bot):
    base = f"/v1/bots/{bot['id']}/products"
    assert api.get(base).json() == {"products": []}

    r = api.post(base, {**PACK, "currency": "eur", "stripe_price_id": "price_1AbC",
                        "stars_price": 250})
    assert r.status_code == 201, r.text
    pack = r.json()
    assert set(pack) == PRODUCT_FIELDS
    assert {k: pack[k] for k in PRODUCT_FIELDS - {"id", "created_at"}} == {
        "bot_id": bot["id"], "label": "100 credits", "credits": 100, "pass_seconds": 0,
        "price": 500, "currency": "eur", "stripe_price_id": "price_1AbC", "stars_price": 250,
        "active": True}

    # a time pass, with the defaults: usd, active, no Stripe price, not for Stars
    week = api.post(base, {"label": "Week pass", "pass_seconds": 7 * 86400,
                           "price": 900}).json()
    assert (week["credits"], week["pass_seconds"], week["currency"], week["active"],
            week["stripe_price_id"], week["stars_price"]) == (0, 604800, "usd", True,
                                                              None, None)
    assert [p["id"] for p in api.get(base).json()["products"]] == [pack["id"], week["id"]]

    # PATCH: only what is given; null clears stripe_price_id and stars_price
    r = api.patch(f"{base}/{pack['id']}", {"price": 450, "label": "100 credits \u2b50",
                                           "stripe_price_id": None})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["price"], got["label"], got["stripe_price_id"], got["stars_price"],
            got["credits"], got["currency"]) == (450, "100 credits \u2b50", None, 250, 100,
                                                 "eur")
    got = api.patch(f"{base}/{pack['id']}", {"stars_price": None, "credits": 0,
                                             "pass_seconds": 3600}).json()
    assert (got["stars_price"], got["credits"], got["pass_seconds"]) == (None, 0, 3600)
    assert api.patch(f"{base}/{pack['id']}", {}).json() == got

    # DELETE only takes it off sale: payments refer to products
    r = api.delete(f"{base}/{week['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == {**week, "active": False}
    assert api.delete(f"{base}/{week['id']}").status_code == 200  # again: fine
    listed = api.get(base).json()["products"]
    assert [(p["id"], p["active"]) for p in listed] == [(pack["id"], True),
                                                        (week["id"], False)]
    assert api.patch(f"{base}/{week['id']}", {"active": True}).json()["active"] is True
    assert world.query("SELECT count(*) FROM products") == [(2,)]


@pytest.mark.parametrize("body, field", [
    ({}, "label"),
    ({"credits": 10, "price": 100}, "label"),
    ({**PACK, "label": ""}, "label"),
    ({**PACK, "label": "   "}, "label"),
    ({**PACK, "label": "x" * 65}, "label"),
    ({**PACK, "label": 5}, "label"),
    ({**PACK, "label": None}, "label"),
    ({"label": "p", "credits": 10}, "price"),
    ({**PACK, "price": 0}, "price"),
    ({**PACK, "price": -5}, "price"),
    ({**PACK, "price": 1.5}, "price"),
    ({**PACK, "price": "500"}, "price"),
    ({**PACK, "price": 100000000}, "price"),
    ({**PACK, "price": None}, "price"),
    ({"label": "p", "price": 100}, "credits"),
    ({"label": "p", "price": 100, "credits": 0, "pass_seconds": 0}, "credits"),
    ({**PACK, "credits": -1}, "credits"),
    ({**PACK, "credits": 10 ** 10}, "credits"),
    ({**PACK, "credits": None}, "credits"),
    ({**PACK, "pass_seconds": -1}, "pass_seconds"),
    ({**PACK, "pass_seconds": "1d"}, "pass_seconds"),
    ({**PACK, "currency": "USD"}, "currency"),
    ({**PACK, "currency": "us"}, "currency"),
    ({**PACK, "currency": "usdt"}, "currency"),
    ({**PACK, "currency": "u$d"}, "currency"),
    ({**PACK, "currency": None}, "currency"),
    ({**PACK, "stripe_price_id": ""}, "stripe_price_id"),
    ({**PACK, "stripe_price_id": "price 1"}, "stripe_price_id"),
    ({**PACK, "stripe_price_id": "price_1&x=y"}, "stripe_price_id"),
    ({**PACK, "stripe_price_id": 12}, "stripe_price_id"),
    ({**PACK, "stars_price": 0}, "stars_price"),
    ({**PACK, "stars_price": "50"}, "stars_price"),
    ({**PACK, "active": "yes"}, "active"),
    ({**PACK, "active": None}, "active"),
])
def test_product_invalid(mworld, mbot, body, field):
    admin = mworld.shared_api("acme")
    before = mworld.query("SELECT count(*) FROM products")
    problem(admin.post(f"/v1/bots/{mbot['id']}/products", body), 422, "invalid_field", field)
    assert mworld.query("SELECT count(*) FROM products") == before


def test_product_unknown_field_and_edges(mworld, mbot):
    admin = mworld.shared_api("acme")
    base = f"/v1/bots/{mbot['id']}/products"
    problem(admin.post(base, {**PACK, "bot_id": 1}), 422, "unknown_field", "bot_id")
    problem(admin.post(base, {**PACK, "Label": "x"}), 422, "unknown_field", "Label")
    # the limits themselves are fine: 64 characters (not bytes), the top price
    r = admin.post(base, {**PACK, "label": "\u00e9" * 64, "price": 99999999,
                          "credits": 10 ** 9, "pass_seconds": 315360000,
                          "stars_price": 1000000, "stripe_price_id": "p" * 255})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    problem(admin.patch(f"{base}/{pid}", {"id": 3}), 422, "unknown_field", "id")
    problem(admin.patch(f"{base}/{pid}", {"price": 0}), 422, "invalid_field", "price")
    problem(admin.patch(f"{base}/{pid}", {"label": None}), 422, "invalid_field", "label")
    # a change that would leave neither credits nor time
    problem(admin.patch(f"{base}/{pid}", {"credits": 0, "pass_seconds": 0}), 422,
            "invalid_field", "credits")
    assert admin.patch(f"{base}/{pid}", {"credits": 0}).json()["pass_seconds"] == 315360000
    problem(admin.patch(f"{base}/{pid}", {"pass_seconds": 0}), 422, "invalid_field",
            "credits")
    row = mworld.one("SELECT credits, pass_seconds, price FROM products WHERE id = %s", (pid,))
    assert row == (0, 315360000, 99999999)


def test_product_not_found(mworld, mbot):
    admin = mworld.shared_api("acme")
    base = f"/v1/bots/{mbot['id']}/products"
    for pid in ("999999", "0", "-1", "abc", "1.5"):
        problem(admin.patch(f"{base}/{pid}", {"price": 5}), 404, "product_not_found")
        problem(admin.delete(f"{base}/{pid}"), 404, "product_not_found")
    # a product of another bot of the same tenant is not this bot's
    other = admin.new_bot()
    theirs = admin.post(f"/v1/bots/{other['id']}/products", PACK).json()
    problem(admin.patch(f"{base}/{theirs['id']}", {"price": 5}), 404, "product_not_found")
    problem(admin.delete(f"{base}/{theirs['id']}"), 404, "product_not_found")
    assert mworld.one("SELECT price, active FROM products WHERE id = %s",
                      (theirs["id"],)) == (500, True)
    for bad in ("999999", "0", "x"):
        problem(admin.get(f"/v1/bots/{bad}/products"), 404, "bot_not_found")
        problem(admin.post(f"/v1/bots/{bad}/products", PACK), 404, "bot_not_found")
        problem(admin.patch(f"/v1/bots/{bad}/products/{theirs['id']}", {"price": 5}), 404,
                "bot_not_found")


# ------------------------------------------------------------ users

def test_users_list_and_paging(world, api, bot):
    b = bot["id"]
    base = f"/v1/bots/{b}/users"
    assert api.get(base).json() == {"users": [], "next_cursor": None}
    add_user(world, b, 30, credits=5, username="Carol", first_name="Carol", messages=7)
    add_user(world, b, 10, credits=20, username="alice", last_name="A", language_code="en")
    add_user(world, b, 20, username=None, first_name="Bob")
    add_user(world, b, 40, username="alina", banned_at="2026-01-01T00:00:00Z",
             pass_until="2099-01-01T00:00:00Z")

    users = api.get(base).json()
    assert users["next_cursor"] is None
    assert [u["user_id"] for u in users["users"]] == [10, 20, 30, 40]
    assert all(set(u) == USER_FIELDS for u in users["users"])
    alice, bob, carol, alina = users["users"]
    assert (alice["credits"], alice["username"], alice["last_name"], alice["language_code"],
            alice["banned"], alice["pass_active"]) == (20, "alice", "A", "en", False, False)
    assert (bob["username"], bob["first_name"], bob["credits"]) == (None, "Bob", 0)
    assert (carol["messages"], carol["spent"], carol["owed"]) == (7, 0, 0)
    assert alina["banned"] is True and alina["banned_at"].startswith("2026-01-01")
    assert alina["pass_active"] is True and alina["pass_until"].startswith("2099-01-01")

    # paging by user id
    page = api.get(base, params={"limit": 3}).json()
    assert [u["user_id"] for u in page["users"]] == [10, 20, 30]
    assert page["next_cursor"] == "30"
    page = api.get(base, params={"limit": 3, "after": page["next_cursor"]}).json()
    assert ([u["user_id"] for u in page["users"]], page["next_cursor"]) == ([40], None)
    page = api.get(base, params={"limit": 2, "after": 20}).json()
    assert ([u["user_id"] for u in page["users"]], page["next_cursor"]) == ([30, 40], None)

    # q: a username prefix (any case, @ ignored) or a user id
    def q(value):
        return [u["user_id"] for u in api.get(base, params={"q": value}).json()["users"]]
    assert q("al") == [10, 40]
    assert q("@AL") == [10, 40]
    assert q("ali") == [10, 40] and q("alic") == [10]
    assert q("carol") == [30] and q("car") == [30]
    assert q("20") == [20]
    assert q("zed") == [] and q("2") == [] and q("%") == [] and q("_lice") == []


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "x"}, "limit"),
    ({"after": 0}, "after"), ({"after": "-3"}, "after"), ({"after": "abc"}, "after"),
    ({"q": ""}, "q"), ({"q": "x" * 65}, "q"), ("q=%FF", "q"), ("q=a%C3", "q"),
])
def test_users_list_invalid(mworld, mbot, params, field):
    admin = mworld.shared_api("acme")
    problem(admin.get(f"/v1/bots/{mbot['id']}/users", params=params), 422,
            "invalid_parameter", field)


def test_user_with_ledger(world, api, bot):
    b = bot["id"]
    add_user(world, b, 77, credits=100, username="dan")
    for i in range(25):
        grant(world, b, 77, -1, f"test:debit:{i}", kind="debit")
    r = api.get(f"/v1/bots/{b}/users/77")
    assert r.status_code == 200, r.text
    user = r.json()
    assert set(user) == USER_FIELDS | {"ledger"}
    assert (user["credits"], user["spent"], user["username"]) == (75, 25, "dan")
    entries = user["ledger"]
    assert len(entries) == 20 and all(set(e) == ENTRY_FIELDS for e in entries)
    assert [e["key"] for e in entries] == [f"test:debit:{i}" for i in range(24, 4, -1)]
    assert entries[0]["balance"] == 75 and entries[0]["kind"] == "debit"
    assert entries[0]["credits"] == -1 and entries[0]["requested"] == -1

    problem(api.get(f"/v1/bots/{b}/users/78"), 404, "user_not_found")
    problem(api.get(f"/v1/bots/{b}/users/abc"), 404, "user_not_found")
    problem(api.get(f"/v1/bots/{b}/users/0"), 404, "user_not_found")
    problem(api.get(f"/v1/bots/999999/users/77"), 404, "bot_not_found")
    # the same user id under another bot of the tenant is another user
    other = api.new_bot()
    problem(api.get(f"/v1/bots/{other['id']}/users/77"), 404, "user_not_found")


# ------------------------------------------------------------ admin credits

def test_credit_gift_take_and_replay(world, api, bot):
    b = bot["id"]
    add_user(world, b, 5, credits=10)
    tid = world.tenant_id("acme")

    r = credit(api, b, 5, 50, "sorry for the outage", key="gift-1")
    assert r.status_code == 200, r.text
    assert "Idempotent-Replayed" not in r.headers
    body = r.json()
    assert set(body) == {"user_id", "entry", "balance"}
    entry = body["entry"]
    assert set(entry) == ENTRY_FIELDS
    assert (body["user_id"], body["balance"]) == (5, 60)
    assert (entry["kind"], entry["requested"], entry["credits"], entry["balance"],
            entry["reason"], entry["key"]) == ("gift", 50, 50, 60, "sorry for the outage",
                                               f"admin:{tid}:gift-1")

    # the same request again: the same entry, nothing written
    again = credit(api, b, 5, 50, "sorry for the outage", key="gift-1")
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert len(ledger(world, b, 5)) == 2 and balance(world, b, 5) == 60

    # a take-away is an adjustment
    r = credit(api, b, 5, -25, "abuse", key="take-1")
    assert r.status_code == 200, r.text
    assert (r.json()["entry"]["kind"], r.json()["entry"]["credits"],
            r.json()["balance"]) == ("adjust", -25, 35)
    # a replay of the gift later answers the same entry, with the balance of now
    later = credit(api, b, 5, 50, "sorry for the outage", key="gift-1")
    assert later.json()["entry"] == entry and later.json()["balance"] == 35

    # beyond the balance: refused whole, nothing written, the key still free
    r = problem(credit(api, b, 5, -36, "too much", key="take-2"), 409,
                "insufficient_credits", "credits")
    assert balance(world, b, 5) == 35 and len(ledger(world, b, 5)) == 3
    r = credit(api, b, 5, -35, "all of it", key="take-2")
    assert r.status_code == 200 and r.json()["balance"] == 0
    problem(credit(api, b, 5, -1, "below zero", key="take-3"), 409, "insufficient_credits")
    assert [(k, c, bal) for k, _, c, bal, _, _ in ledger(world, b, 5)] == [
        ("grant", 10, 10), ("gift", 50, 60), ("adjust", -25, 35), ("adjust", -35, 0)]
    assert_books_balance(world)

    # GET shows the entries, newest first
    user = api.get(f"/v1/bots/{b}/users/5").json()
    assert [e["reason"] for e in user["ledger"]] == ["all of it", "abuse",
                                                     "sorry for the outage", None]


def test_credit_key_reused_for_another_request(world, api, bot):
    b = bot["id"]
    add_user(world, b, 1, credits=10)
    add_user(world, b, 2, credits=10)
    assert credit(api, b, 1, 5, "x", key="k").status_code == 200
    for r in (credit(api, b, 1, 6, "x", key="k"), credit(api, b, 1, 5, "y", key="k"),
              credit(api, b, 2, 5, "x", key="k")):
        problem(r, 422, "idempotency_conflict", "Idempotency-Key")
    assert (balance(world, b, 1), balance(world, b, 2)) == (15, 10)
    assert world.query("SELECT count(*) FROM ledger WHERE key LIKE 'admin:%'") == [(1,)]
    # keys are the tenant's: another tenant's same key is another entry
    other = world.api("globex")
    theirs = other.new_bot()
    add_user(world, theirs["id"], 1)
    r = credit(other, theirs["id"], 1, 5, "x", key="k")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    # and a key is per bot: the same key on another bot of the tenant is a new entry
    mine = api.new_bot()
    add_user(world, mine["id"], 1)
    r = credit(api, mine["id"], 1, 5, "x", key="k")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_credit_concurrent_same_key(world, api, bot):
    b = bot["id"]
    add_user(world, b, 9, credits=1)
    keys = [api.as_key(world.tenant_key("acme")) for _ in range(8)]
    results = parallel(8, lambda i: credit(keys[i], b, 9, 40, "promo", key="promo-9"))
    assert [r.status_code for r in results] == [200] * 8, [r.text for r in results]
    assert len({r.json()["entry"]["id"] for r in results}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in results) == 1
    assert balance(world, b, 9) == 41
    assert world.query("SELECT count(*) FROM ledger WHERE key LIKE 'admin:%%promo-9'") == \
        [(1,)]
    assert_books_balance(world)


def test_credit_concurrent_take_aways_never_go_negative(world, api, bot):
    b = bot["id"]
    add_user(world, b, 3, credits=100)
    keys = [api.as_key(world.tenant_key("acme")) for _ in range(10)]
    results = parallel(10, lambda i: credit(keys[i], b, 3, -30, "race", key=f"race-{i}"))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 3 + [409] * 7, [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            problem(r, 409, "insufficient_credits")
    assert balance(world, b, 3) == 10
    assert_books_balance(world)


def test_credit_needs_an_idempotency_key(world, api, bot):
    add_user(world, bot["id"], 4, credits=10)
    problem(credit(api, bot["id"], 4, 5, key=None), 400, "invalid_header", "Idempotency-Key")
    problem(credit(api, bot["id"], 4, 5, key=""), 400, "invalid_header", "Idempotency-Key")
    problem(credit(api, bot["id"], 4, 5, key="k" * 256), 400, "invalid_header",
            "Idempotency-Key")
    problem(credit(api, bot["id"], 4, 5, key=b"\xff\xfe"), 400, "invalid_header",
            "Idempotency-Key")
    assert credit(api, bot["id"], 4, 5, key="k" * 255).status_code == 200
    assert len(ledger(world, bot["id"], 4)) == 2


@pytest.mark.parametrize("body, slug, field", [
    ({"reason": "x"}, "invalid_field", "credits"),
    ({"credits": 0, "reason": "x"}, "invalid_field", "credits"),
    ({"credits": 1.5, "reason": "x"}, "invalid_field", "credits"),
    ({"credits": "5", "reason": "x"}, "invalid_field", "credits"),
    ({"credits": None, "reason": "x"}, "invalid_field", "credits"),
    ({"credits": 10 ** 12 + 1, "reason": "x"}, "invalid_field", "credits"),
    ({"credits": -(10 ** 12) - 1, "reason": "x"}, "invalid_field", "credits"),
    ({"credits": 5}, "invalid_field", "reason"),
    ({"credits": 5, "reason": ""}, "invalid_field", "reason"),
    ({"credits": 5, "reason": "r" * 201}, "invalid_field", "reason"),
    ({"credits": 5, "reason": 7}, "invalid_field", "reason"),
    ({"credits": 5, "reason": "x", "kind": "grant"}, "unknown_field", "kind"),
    ({}, "invalid_field", "credits"),
])
def test_credit_invalid(mworld, mbot, body, slug, field):
    admin = mworld.shared_api("acme")
    before = mworld.query("SELECT count(*) FROM ledger")
    r = admin.post(f"/v1/bots/{mbot['id']}/users/1/credits", body,
                   headers={"Idempotency-Key": "inv"})
    problem(r, 422, slug, field)
    assert mworld.query("SELECT count(*) FROM ledger") == before


def test_credit_reason_counts_characters(world, api, bot):
    add_user(world, bot["id"], 8)
    r = credit(api, bot["id"], 8, 1, "\u00e9" * 200, key="accents")
    assert r.status_code == 200, r.text
    assert r.json()["entry"]["reason"] == "\u00e9" * 200


def test_credit_unknown_user_or_bot(world, api, bot):
    problem(credit(api, bot["id"], 12345, 5), 404, "user_not_found")
    problem(credit(api, bot["id"], "abc", 5), 404, "user_not_found")
    problem(credit(api, 999999, 1, 5), 404, "bot_not_found")
    assert world.query("SELECT count(*) FROM ledger") == [(0,)]


# ------------------------------------------------------------ payments

def test_payments_with_refunds_and_disputes(world, api, bot):
    b = bot["id"]
    base = f"/v1/bots/{b}/payments"
    assert api.get(base).json() == {"payments": [], "next_cursor": None}
    add_user(world, b, 1)
    add_user(world, b, 2)
    pack = api.post(f"/v1/bots/{b}/products", PACK).json()
    p1 = add_payment(world, b, 1, product_id=pack["id"], checkout_session_id="cs_1",
                     payment_intent_id="pi_1", paid_at="2026-11-01T10:00:00Z")
    p2 = add_payment(world, b, 1, status="open", checkout_session_id="cs_2")
    p3 = add_payment(world, b, 2, kind="stars", amount=250, currency="XTR",
                     telegram_charge_id="tg_1", refunded_amount=250, refunded_credits=100,
                     owed=40)
    p4 = add_payment(world, b, 2, kind="recharge", status="failed",
                     payment_intent_id="pi_4", failure="card_declined")
    add_dispute(world, p1, "dp_1")
    add_dispute(world, p1, "dp_2", status="won")

    page = api.get(base).json()
    assert page["next_cursor"] is None
    assert [p["id"] for p in page["payments"]] == [p4, p3, p2, p1]
    assert all(set(p) == PAYMENT_FIELDS for p in page["payments"])
    by_id = {p["id"]: p for p in page["payments"]}
    first = by_id[p1]
    assert (first["user_id"], first["product_id"], first["kind"], first["status"],
            first["amount"], first["currency"], first["credits"], first["checkout_session_id"],
            first["payment_intent_id"]) == (1, pack["id"], "checkout", "paid", 500, "usd",
                                            100, "cs_1", "pi_1")
    assert first["paid_at"].startswith("2026-11-01T10:00:00")
    assert [(d["id"], d["status"], d["reason"], d["amount"]) for d in first["disputes"]] == [
        ("dp_1", "needs_response", "fraudulent", 500), ("dp_2", "won", "fraudulent", 500)]
    assert (by_id[p3]["refunded_amount"], by_id[p3]["refunded_credits"], by_id[p3]["owed"],
            by_id[p3]["telegram_charge_id"], by_id[p3]["disputes"]) == (250, 100, 40, "tg_1", [])
    assert (by_id[p4]["failure"], by_id[p4]["paid_at"]) == ("card_declined", None)

    def ids(**params):
        return [p["id"] for p in api.get(base, params=params).json()["payments"]]
    assert ids(status="paid") == [p3, p1]
    assert ids(status="open") == [p2]
    assert ids(status="expired") == []
    assert ids(user_id=2) == [p4, p3]
    assert ids(refunded="true") == [p3]
    assert ids(refunded="false") == [p4, p2, p1]
    assert ids(disputed="true") == [p1]
    assert ids(disputed="false", user_id=1) == [p2]
    page = api.get(base, params={"limit": 3}).json()
    assert ([p["id"] for p in page["payments"]], page["next_cursor"]) == ([p4, p3, p2],
                                                                          str(p2))
    page = api.get(base, params={"limit": 3, "after": page["next_cursor"]}).json()
    assert ([p["id"] for p in page["payments"]], page["next_cursor"]) == ([p1], None)
    # another bot's payments are not listed
    other = api.new_bot()
    add_user(world, other["id"], 1)
    add_payment(world, other["id"], 1)
    assert ids() == [p4, p3, p2, p1]


@pytest.mark.parametrize("params, field", [
    ({"status": "refunded"}, "status"), ({"status": "PAID"}, "status"),
    ({"user_id": 0}, "user_id"), ({"user_id": "x"}, "user_id"),
    ({"refunded": "yes"}, "refunded"), ({"disputed": "1"}, "disputed"),
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"after": "x"}, "after"),
])
def test_payments_invalid(mworld, mbot, params, field):
    admin = mworld.shared_api("acme")
    problem(admin.get(f"/v1/bots/{mbot['id']}/payments", params=params), 422,
            "invalid_parameter", field)


# ------------------------------------------------------------ tenants and scopes

def routes(bot_id, product_id, user_id):
    b = f"/v1/bots/{bot_id}"
    return [
        ("GET", f"{b}/products", None),
        ("POST", f"{b}/products", PACK),
        ("PATCH", f"{b}/products/{product_id}", {"price": 1}),
        ("DELETE", f"{b}/products/{product_id}", None),
        ("GET", f"{b}/users", None),
        ("GET", f"{b}/users/{user_id}", None),
        ("POST", f"{b}/users/{user_id}/credits", {"credits": 5, "reason": "x"}),
        ("GET", f"{b}/payments", None),
    ]


def snapshot(w):
    return (w.query("SELECT * FROM products ORDER BY id"),
            w.query("SELECT bot_id, user_id, credits FROM bot_users ORDER BY 1, 2"),
            w.query("SELECT id FROM ledger ORDER BY id"))


def test_tenant_isolation(world, api, bot):
    b = bot["id"]
    pack = api.post(f"/v1/bots/{b}/products", PACK).json()
    add_user(world, b, 6, credits=10)
    add_payment(world, b, 6)
    before = snapshot(world)
    other = world.api("globex")
    other.new_bot()  # they have a bot of their own
    for method, path, body in routes(b, pack["id"], 6):
        r = other.request(method, path, body, headers={"Idempotency-Key": "steal"})
        problem(r, 404, "bot_not_found")
    assert snapshot(world) == before
    # a deleted bot is gone for its own tenant too
    assert api.delete(f"/v1/bots/{b}").status_code == 200
    for method, path, body in routes(b, pack["id"], 6):
        r = api.request(method, path, body, headers={"Idempotency-Key": "late"})
        problem(r, 404, "bot_not_found")
    assert snapshot(world) == before


def test_scopes(world, api, bot):
    b = bot["id"]
    pack = api.post(f"/v1/bots/{b}/products", PACK).json()
    add_user(world, b, 6, credits=10)
    before = snapshot(world)
    for scope in ("read", "send"):
        key = world.api("acme", scope)
        for method, path, body in routes(b, pack["id"], 6):
            r = key.request(method, path, body, headers={"Idempotency-Key": "s"})
            if method == "GET":
                assert r.status_code == 200, f"{scope} {method} {path}: {r.text}"
            else:
                problem(r, 403, "forbidden")
    assert snapshot(world) == before
