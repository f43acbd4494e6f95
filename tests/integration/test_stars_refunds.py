"""Telegram Stars refunds both ways, and the time pass warning (docs/billing.md): a bot
owner's POST /v1/bots/{id}/payments/{payment_id}/refund calls refundStarPayment at the
fake Telegram and takes the credits back once; Telegram's refunded_payment update does
the same, once, whichever comes first; billingd warns of a pass's end once a pass.
Real gatewayd, webhookd, billingd and PostgreSQL.
"""

import requests

from conftest import wait_for
from test_billingd import USER, BillingWorld, st  # noqa: F401 (a fixture)
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd_stripe import stripe_node  # noqa: F401 (a fixture)


class Api:
    """gatewayd (on the world's configuration) with an admin key of acme"""

    def __init__(self, w):
        w.env.daemon("gatewayd", conf=w.conf())
        r = w.env.tgmctl("key", "create", "--tenant", "acme", "--scope", "admin")
        assert r.returncode == 0, r.stderr
        self.base = w.env.http()
        self.h = {"Authorization": f"Bearer {r.stdout.strip()}"}

    def post(self, path):
        return requests.post(self.base + path, headers=self.h, timeout=20)


def paid_in_stars(w, bot, charge, credits=10, stars=50):
    """a Stars payment of a product, granted: its payment id"""
    pid = w.product(bot, credits, 500, stars=stars)
    paid = {"currency": "XTR", "total_amount": stars, "invoice_payload": f"tgm:{pid}:{USER}",
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": ""}
    w.post(bot, w.message(None, successful_payment=paid))
    wait_for(lambda: w.query("SELECT 1 FROM payments WHERE telegram_charge_id = %s AND"
                             " status = 'paid'", (charge,)), 15, what="the Stars grant")
    return w.one("SELECT id FROM payments WHERE telegram_charge_id = %s", (charge,))[0]


def refunded_update(w, charge, stars=50):
    return w.message(None, refunded_payment={
        "currency": "XTR", "total_amount": stars, "invoice_payload": "tgm:1:42",
        "telegram_payment_charge_id": charge})


def test_a_refund_through_the_api_takes_the_credits_back_once(tgm_env, tg, st):
    w = BillingWorld(tgm_env, tg, st).start()
    bot = w.new_bot()
    api = Api(w)
    w.say(bot, "/start")
    pay = paid_in_stars(w, bot, "tgch_r1")
    assert w.credits(bot) == 10
    w.query("SELECT ledger_apply(%s, %s, 'test:spend', 'debit', -4)", (bot.id, USER))
    r = api.post(f"/v1/bots/{bot.id}/payments/{pay}/refund")
    assert r.status_code == 200, r.text
    assert r.json() == {"payment_id": pay, "outcome": "refunded: 6 credits taken, 4 owed",
                        "taken": 6, "owed": 4}
    (call,) = w.tg.calls(token=bot.token, method="refundStarPayment")
    assert call.params == {"user_id": USER, "telegram_payment_charge_id": "tgch_r1"}
    assert w.credits(bot) == 0
    # pressed twice, and Telegram's own update after it: nothing more is taken
    r = api.post(f"/v1/bots/{bot.id}/payments/{pay}/refund")
    assert r.status_code == 200 and r.json()["taken"] == 0, r.text
    w.post(bot, refunded_update(w, "tgch_r1"))
    w.billing_done(bot, 2)  # the payment and the refunded_payment
    assert w.query("SELECT key, credits FROM ledger WHERE bot_id = %s AND kind = 'refund'",
                   (bot.id,)) == [("tg:refund:tgch_r1", -6)]
    assert w.one("SELECT refunded_amount, refunded_credits, owed FROM payments WHERE id = %s",
                 (pay,)) == (50, 10, 4)
    told = wait_for(lambda: [t for t in w.texts(bot) if t.startswith("↩️")], 10,
                    what="the refund notice")
    assert len(told) == 1 and "50 ⭐" in told[0], told


def test_a_refunded_payment_update_takes_the_credits_back_once(tgm_env, tg, st):
    w = BillingWorld(tgm_env, tg, st).start()
    bot = w.new_bot()
    w.say(bot, "/start")
    pay = paid_in_stars(w, bot, "tgch_r2", credits=7)
    for _ in range(2):
        w.post(bot, refunded_update(w, "tgch_r2"))
    w.post(bot, refunded_update(w, "tgch_unknown"))
    w.billing_done(bot, 4)
    assert w.credits(bot) == 0
    assert w.query("SELECT key, credits FROM ledger WHERE bot_id = %s AND kind = 'refund'",
                   (bot.id,)) == [("tg:refund:tgch_r2", -7)]
    outcomes = [r[0] for r in w.query("SELECT billing_outcome FROM tg_updates WHERE bot_id = %s"
                                      " AND payload->'message' ? 'refunded_payment' ORDER BY seq",
                                      (bot.id,))]
    assert outcomes == ["stars refunded: refunded: 7 credits taken, 0 owed",
                        "stars refunded: ignored: already refunded",
                        "stars refunded: ignored: no such Stars payment"]
    assert w.one("SELECT refunded_credits FROM payments WHERE id = %s", (pay,))[0] == 7


def test_refund_refusals(tgm_env, tg, st):
    """another tenant's or a card payment, a bad id, Telegram's refusal: nothing taken"""
    w = BillingWorld(tgm_env, tg, st).start()
    bot = w.new_bot()
    api = Api(w)
    w.say(bot, "/start")
    pay = paid_in_stars(w, bot, "tgch_r3")
    card = w.one("INSERT INTO payments (bot_id, user_id, kind, status, amount, currency,"
                 " credits) VALUES (%s, %s, 'checkout', 'paid', 500, 'usd', 10) RETURNING id",
                 (bot.id, USER))[0]
    r = api.post(f"/v1/bots/{bot.id}/payments/{card}/refund")
    assert r.status_code == 422 and r.json()["type"].endswith("not_refundable")
    assert api.post(f"/v1/bots/{bot.id}/payments/999999/refund").status_code == 404
    assert api.post(f"/v1/bots/{bot.id}/payments/abc/refund").status_code == 404
    assert api.post(f"/v1/bots/999999/payments/{pay}/refund").status_code == 404
    r = w.env.tgmctl("key", "create", "--tenant", "other", "--create-tenant", "--scope", "admin")
    assert r.returncode == 0, r.stderr
    r = requests.post(api.base + f"/v1/bots/{bot.id}/payments/{pay}/refund", timeout=20,
                      headers={"Authorization": f"Bearer {r.stdout.strip()}"})
    assert r.status_code == 404, "another tenant's key does not reach this bot's payment"
    w.tg.bad_request("Bad Request: CHARGE_NOT_FOUND", method="refundStarPayment")
    r = api.post(f"/v1/bots/{bot.id}/payments/{pay}/refund")
    assert r.status_code == 502 and "CHARGE_NOT_FOUND" in r.json()["detail"], r.text
    assert w.credits(bot) == 10
    assert not w.query("SELECT 1 FROM ledger WHERE kind = 'refund'")


def test_a_pass_is_warned_of_once_before_it_ends(tgm_env, tg, st):
    w = BillingWorld(tgm_env, tg, st).start()
    bot = w.new_bot(pass_warning_hours=24)
    quiet = w.new_bot(pass_warning_hours=0)
    for b in (bot, quiet):
        w.say(b, "/start")
    w.wait_processed(bot, 1)
    w.wait_processed(quiet, 1)
    # bought long ago: ends in 5 hours
    for b in (bot, quiet):
        w.query("SELECT ledger_apply(%s, %s, 'test:pass', 'pass', 0, 86400 * 3)", (b.id, USER))
        w.query("UPDATE ledger SET at = now() - interval '3 days' WHERE key = 'test:pass'")
        w.query("UPDATE bot_users SET pass_until = now() + interval '5 hours'"
                " WHERE bot_id = %s", (b.id,))
        w.query("UPDATE ledger SET pass_until = (SELECT pass_until FROM bot_users WHERE"
                " bot_id = %s) WHERE bot_id = %s AND key = 'test:pass'", (b.id, b.id))
    told = wait_for(lambda: [t for t in w.texts(bot) if t.startswith("⏳ Your time pass")], 10,
                    what="the pass warning")
    assert told[0].startswith("⏳ Your time pass ends in 5 hours, at "), told
    # once a pass; a pass bought inside the window is not warned of
    w.query("SELECT ledger_apply(%s, %s, 'test:pass2', 'pass', 0, 3600)", (bot.id, USER))
    import time
    time.sleep(3)
    assert len([t for t in w.texts(bot) if t.startswith("⏳")]) == 1
    assert not [t for t in w.texts(quiet) if t.startswith("⏳")]
