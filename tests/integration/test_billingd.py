"""billingd (issue 6): products, Stripe Checkout, Stripe events, refunds, disputes,
auto-recharge, Telegram Stars, and the ledger's arithmetic.

Real webhookd, billingd and PostgreSQL; a fake Stripe API (fake_stripe.py) and a fake
Telegram (fake_telegram.py). Users talk to the bot through webhookd (signed-secret
updates, as in test_webhookd.py); Stripe's events are built by the fake, signed by the
official stripe npm package (test_webhookd_stripe.sign_many) and POSTed to webhookd's
/stripe, in whatever order and as often as a test wants. What billingd tells users is
checked in the outbound queue (messages with metadata source billingd), where senderd
would take it.
"""

import json
import random
import threading
import time

import psycopg2
import pytest
import requests

from conftest import wait_for
from fake_http import Reply
from fake_stripe import FakeStripe
from test_senderd import tg  # noqa: F401 (a fixture)
from test_webhookd import World
from test_webhookd_stripe import SECRET, sign_many, stripe_node  # noqa: F401 (fixture)

USER = 42
ADMIN_CHAT = -1001234567890


class BillingWorld(World):
    """World with billingd, a fake Stripe and helpers for products and events."""

    def __init__(self, env, tg, st):
        super().__init__(env, tg)
        self.st = st
        self._updates = iter(range(500000, 10 ** 9))

    def conf(self, stripe_key="sk_test_tgm", stripe_timeout=5, **webhookd):
        settings = {("telegram", "api_url"): self.tg.url, ("telegram", "timeout"): "5",
                    ("webhookd", "public_url"): "https://tgm.example.org/hooks",
                    ("stripe", "api_url"): self.st.url, ("stripe", "secret_key"): stripe_key,
                    ("stripe", "webhook_secret"): SECRET,
                    ("stripe", "timeout"): str(stripe_timeout)}
        for k, v in webhookd.items():
            settings[("webhookd", k)] = str(v)
        return self.env.write_config(settings, name=f"billing-{next(self._confs)}.conf")

    def start(self, **kw):
        conf = self.conf(**kw)
        self.webhookd_proc = self.env.daemon("webhookd", conf=conf)
        self.billingd_proc = self.env.daemon("billingd", conf=conf)
        return self

    def product(self, bot, credits=10, price=500, currency="usd", pass_seconds=0,
                stars=None, label=None, active=True):
        return self.one("INSERT INTO products (bot_id, label, credits, pass_seconds, price,"
                        " currency, stars_price, active) VALUES (%s, %s, %s, %s, %s, %s, %s,"
                        " %s) RETURNING id",
                        (bot.id, label or f"{credits} credits", credits, pass_seconds, price,
                         currency, stars, active))[0]

    # -- Telegram side

    def say(self, bot, text, user=USER):
        r = self.post(bot, self.message(text, user=user))
        assert r.status_code == 200, r.text

    def press(self, bot, data, user=USER):
        upd = self.update("callback_query", id=f"cb{next(self._updates)}", data=data,
                          chat_instance="1",
                          **{"from": {"id": user, "is_bot": False, "first_name": "Ada"}},
                          message={"message_id": 5, "date": 1,
                                   "chat": {"id": user, "type": "private"}})
        assert self.post(bot, upd).status_code == 200

    def said(self, bot, chat=USER):
        """what billingd queued for chat: [(method, params)]"""
        return [(r[0], r[1]) for r in self.query(
            "SELECT method, params FROM messages WHERE bot_id = %s AND chat = %s"
            " AND metadata->>'source' = 'billingd' ORDER BY id", (bot.id, str(chat)))]

    def wait_said(self, bot, n, chat=USER, timeout=15):
        return wait_for(lambda: (lambda s: s if len(s) >= n else None)(self.said(bot, chat)),
                        timeout, what=f"{n} billingd messages to {chat}")

    def texts(self, bot, chat=USER):
        return [p.get("text", "") for m, p in self.said(bot, chat) if m == "sendMessage"]

    def told(self):
        """billingd said all it recorded: its notices are rendered and queued (the SQL
        functions record a notice with each change; billingd/notice.c queues it next)"""
        return self.one("SELECT count(*) = 0 FROM billing_outbox")[0]

    def billing_done(self, bot, n, timeout=15):
        def done():
            rows = self.query("SELECT billing_outcome FROM tg_updates WHERE bot_id = %s AND"
                              " billing_at IS NOT NULL AND billing_done_at IS NOT NULL"
                              " ORDER BY seq", (bot.id,))
            return rows if len(rows) >= n and self.told() else None
        return [r[0] for r in wait_for(done, timeout, what=f"{n} billing updates done")]

    def buy(self, bot, text="/buy10", n=1):
        """a purchase command; the Checkout Session made for it"""
        self.say(bot, text)
        self.billing_done(bot, n)
        rows = self.query("SELECT checkout_session_id FROM payments WHERE bot_id = %s AND"
                          " kind = 'checkout' ORDER BY id", (bot.id,))
        return rows[-1][0]

    def hand_over(self, bot, text, user=USER):
        """an update as webhookd hands it to billingd (processed, billing_at set)"""
        upd = self.message(text, user=user)
        self.query("INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload,"
                   " processed_at, outcome, billing_at) VALUES (%s, %s, %s, 'message', %s,"
                   " now(), 'test: handed over', now())",
                   (bot.id, upd["update_id"], user, json.dumps(upd)))

    def credits(self, bot, user=USER):
        return self.one("SELECT credits FROM bot_users WHERE bot_id = %s AND user_id = %s",
                        (bot.id, user))[0]

    # -- Stripe side

    def send(self, *events, expect=200):
        """sign events (each a dict) with stripe-node and POST them to /stripe in order"""
        bodies = [json.dumps(e, indent=2) for e in events]
        headers = sign_many([{"payload": b, "secret": SECRET, "timestamp": int(time.time())}
                             for b in bodies])
        for body, h in zip(bodies, headers):
            r = requests.post(self.env.http("webhookd") + "/stripe", data=body.encode(),
                              headers={"Stripe-Signature": h,
                                       "Content-Type": "application/json"}, timeout=10)
            assert r.status_code == expect, r.text
        return [e["id"] for e in events]

    def processed(self, ids, timeout=20):
        ids = list(dict.fromkeys(ids))

        def done():
            rows = dict(self.query("SELECT id, outcome FROM stripe_events WHERE id = ANY(%s)"
                                   " AND processed_at IS NOT NULL", (ids,)))
            return rows if len(rows) == len(ids) and self.told() else None
        return wait_for(done, timeout, what=f"stripe events {ids} processed")

    def grants(self, bot, user=USER):
        return self.query("SELECT key, kind, credits FROM ledger WHERE bot_id = %s AND"
                          " user_id = %s AND kind IN ('grant', 'pass') ORDER BY id",
                          (bot.id, user))

    def saved_card(self, bot, user=USER):
        """a customer with a saved card for user (as Checkout + payment_method.attached
        would leave it)"""
        self.say(bot, "/start", user=user)
        self.wait_processed(bot, len(self.stored(bot)))
        cus = self.st._customer({"metadata[tgm_user]": str(user)})["id"]
        self.query("INSERT INTO stripe_customers (bot_id, user_id, customer_id) VALUES"
                   " (%s, %s, %s)", (bot.id, user, cus))
        self.processed(self.send(self.st.event("payment_method.attached",
                                               self.st.card(cus, pm="pm_card_visa"))))
        return cus


PARITY = r"""
const Stripe = require("stripe");
const port = +process.argv[1];
const s = new Stripe("sk_test_parity", {host: "127.0.0.1", port, protocol: "http",
                                        maxNetworkRetries: 0});
(async () => {
  const out = {};
  const c = await s.customers.create({name: "Ada", metadata: {tgm_user: "42"}},
                                     {idempotencyKey: "k-cus"});
  const again = await s.customers.create({name: "Ada", metadata: {tgm_user: "42"}},
                                         {idempotencyKey: "k-cus"});
  out.customer = [c.id, again.id, c.metadata.tgm_user];
  try {
    await s.customers.create({name: "Bob"}, {idempotencyKey: "k-cus"});
  } catch (e) { out.mismatch = e.type; }
  const cs = await s.checkout.sessions.create({mode: "payment", customer: c.id,
    success_url: "https://t.me/x?start=paid_1", client_reference_id: "1:42",
    line_items: [{price_data: {currency: "usd", unit_amount: 500,
                               product_data: {name: "10 credits"}}, quantity: 1}],
    metadata: {tgm_bot: "1"}, payment_intent_data: {setup_future_usage: "off_session"}},
    {idempotencyKey: "k-cs"});
  out.session = [cs.object, cs.url.length > 0, cs.amount_total, cs.metadata.tgm_bot];
  out.retrieved = (await s.checkout.sessions.retrieve(cs.id)).id === cs.id;
  const pi = await s.paymentIntents.create({amount: 500, currency: "usd", customer: c.id,
    payment_method: "pm_1", off_session: true, confirm: true}, {idempotencyKey: "k-pi"});
  out.intent = [pi.status, pi.amount_received];
  const portal = await s.billingPortal.sessions.create({customer: c.id,
    return_url: "https://t.me/x"}, {idempotencyKey: "k-bp"});
  out.portal = portal.url.startsWith("https://");
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_fake_answers_stripe_node_like_stripe(st):
    """parity: Stripe's own client drives the fake through what billingd uses"""
    import subprocess
    from test_webhookd_stripe import TESTS
    r = subprocess.run(["node", "-e", PARITY, str(st.http.port)], cwd=TESTS,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    cus = out["customer"]
    assert cus[0] == cus[1] and cus[2] == "42" and out["mismatch"] == "StripeIdempotencyError"
    assert out["session"] == ["checkout.session", True, 500, "1"] and out["retrieved"]
    assert out["intent"] == ["succeeded", 500] and out["portal"]
    (sess,) = st.calls("POST", "/v1/checkout/sessions")
    assert sess.form["payment_intent_data[setup_future_usage]"] == "off_session"
    assert sess.form["line_items[0][price_data][product_data][name]"] == "10 credits"


@pytest.fixture
def st():
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture
def bw(tgm_env, tg, st):
    return BillingWorld(tgm_env, tg, st)


# -- products and purchases ----------------------------------------------------------

def test_buy_lists_active_products_as_buttons(bw):
    bot = bw.new_bot()
    p10 = bw.product(bot, 10, 500)
    p50 = bw.product(bot, 50, 2000, stars=100)
    bw.product(bot, 99, 9000, active=False)
    bw.start()
    bw.say(bot, "/buy")
    bw.press(bot, "buy")
    bw.billing_done(bot, 2)
    (m1, menu), (m2, again) = bw.said(bot)
    assert m1 == m2 == "sendMessage" and menu == again
    rows = menu["reply_markup"]["inline_keyboard"]
    assert [r[0]["callback_data"] for r in rows] == [f"buy:{p10}", f"buy:{p50}"]
    assert rows[0][0]["text"] == "10 credits – 5.00 USD"
    assert rows[1][0]["text"] == "50 credits – 20.00 USD or 100 ⭐"


def test_a_purchase_from_buy10_to_granted_credits(bw):
    bot = bw.new_bot()
    pid = bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot, "/buy10")
    link = bw.said(bot)[-1][1]
    button = link["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == bw.st.sessions[cs]["object"]["url"]
    assert bw.one("SELECT priority FROM messages WHERE bot_id = %s", (bot.id,))[0] == 0
    # what Stripe was asked
    (cust,) = bw.st.calls("POST", "/v1/customers")
    (sess,) = bw.st.calls("POST", "/v1/checkout/sessions")
    f = sess.form
    assert f["mode"] == "payment"
    assert f["customer"] in bw.st.customers
    assert f["client_reference_id"] == f"{bot.id}:{USER}"
    assert f["metadata[tgm_bot]"] == str(bot.id) and f["metadata[tgm_user]"] == str(USER)
    assert f["metadata[tgm_product]"] == str(pid)
    assert f["payment_intent_data[setup_future_usage]"] == "off_session"
    assert f["line_items[0][price_data][unit_amount]"] == "500"
    assert f["line_items[0][quantity]"] == "1"
    assert sess.header("Idempotency-Key").startswith("tgm-checkout-")
    assert cust.header("Idempotency-Key") == f"tgm-customer-{bot.id}-{USER}"
    assert sess.header("Authorization") == "Bearer sk_test_tgm"
    assert b"&metadata[tgm_bot]=" in sess.body  # brackets as stripe-node sends them
    # the user pays; Stripe says so
    bw.processed(bw.send(bw.st.completed(cs)))
    assert bw.credits(bot) == 10
    assert bw.grants(bot) == [(f"stripe:cs:{cs}", "grant", 10)]
    assert "Your balance: 10 credits." in bw.texts(bot)[-1]
    assert bw.one("SELECT status, amount, grant_key FROM payments WHERE"
                  " checkout_session_id = %s", (cs,)) == ("paid", 500, f"stripe:cs:{cs}")
    # a second purchase reuses the customer
    bw.buy(bot, "/buy10", n=2)
    assert len(bw.st.calls("POST", "/v1/customers")) == 1
    assert len(bw.st.calls("POST", "/v1/checkout/sessions")) == 2


def test_the_link_reaches_telegram_through_senderd_on_the_doorbell(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    bw.senderd(sweep_interval=3600)  # only a doorbell can wake its lane in time
    time.sleep(0.5)
    cs = bw.buy(bot)
    (send,) = bw.tg.wait_sends(1, token=bot.token, chat=USER)
    assert send.method == "sendMessage"
    assert send.params["reply_markup"]["inline_keyboard"][0][0]["url"].endswith(cs)
    bw.stop_all()


def test_a_slow_stripe_does_not_make_users_queue(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    bw.st.delay = 1.0  # a customer and a session: 2 s per purchase, 16 s in a row
    t0 = time.monotonic()
    for user in range(2001, 2009):
        bw.say(bot, "/buy10", user=user)
    bw.billing_done(bot, 8, timeout=30)
    assert time.monotonic() - t0 < 12
    assert len(bw.st.sessions) == 8 and len(bw.st.customers) == 8


def test_unknown_package_and_a_product_button(bw):
    bot = bw.new_bot()
    pid = bw.product(bot, 25, 1000)
    bw.start()
    bw.say(bot, "/buy7")
    bw.press(bot, f"buy:{pid}")
    bw.billing_done(bot, 2)
    texts = bw.texts(bot)
    assert texts[0].startswith("There is no such package")
    assert "25 credits for 10.00 USD" in texts[1]
    (sess,) = bw.st.calls("POST", "/v1/checkout/sessions")
    assert sess.form["metadata[tgm_product]"] == str(pid)


def test_a_time_pass_purchase(bw):
    bot = bw.new_bot()
    day = bw.product(bot, 0, 300, pass_seconds=86400, label="Day pass")
    bw.start()
    bw.press(bot, f"buy:{day}")
    bw.billing_done(bot, 1)
    assert "Day pass: 1 day of unlimited access for 3.00 USD." in bw.texts(bot)[-1]
    (cs,) = bw.st.sessions
    bw.processed(bw.send(bw.st.completed(cs)))
    assert bw.grants(bot) == [(f"stripe:cs:{cs}", "pass", 0)]
    left = bw.one("SELECT extract(epoch FROM pass_until - now()) FROM bot_users"
                  " WHERE bot_id = %s AND user_id = %s", (bot.id, USER))[0]
    assert 86000 < left <= 86400
    assert "Unlimited access until" in bw.texts(bot)[-1]


def test_stripe_refusing_tells_the_user_and_no_secret_is_logged(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500, stars=40)
    bw.start(stripe_key="sk_live_not_accepted_by_the_fake")
    bw.say(bot, "/buy10")
    bw.billing_done(bot, 1)
    (m1, note), (m2, invoice) = bw.said(bot)
    assert note["text"].startswith("Card payment is unavailable right now")
    assert m2 == "sendInvoice" and invoice["prices"][0]["amount"] == 40  # Stars still
    log = bw.billingd_proc.log()
    assert "stripe customer failed: HTTP 401" in log
    for d in (bw.billingd_proc, bw.webhookd_proc):
        assert "sk_live_not_accepted" not in d.log() and SECRET not in d.log()


def test_stripe_down_is_retried_with_the_same_key(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.st.fail("/v1/checkout/sessions",
               Reply(500, {"error": {"type": "api_error", "message": "boom"}}), times=1)
    bw.start()
    bw.say(bot, "/buy10")
    bw.billing_done(bot, 1, timeout=30)
    calls = bw.st.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2
    assert calls[0].header("Idempotency-Key") == calls[1].header("Idempotency-Key")
    assert len(bw.st.sessions) == 1
    assert "reply_markup" in bw.said(bot)[-1][1]


def test_a_stopping_billingd_gives_back_what_it_did_not_finish(bw):
    """SIGTERM while a purchase waits for Stripe, which then fails: the update's claim is
    given back at the stop, so the next billingd takes it at once (not after the 60 s
    lease) and the purchase completes, with the same idempotency key."""
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.st.fail("/v1/checkout/sessions",
               Reply(500, {"error": {"type": "api_error", "message": "boom"}}, delay=2),
               times=1)
    bw.start()
    bw.say(bot, "/buy10")
    wait_for(lambda: bw.st.calls("POST", "/v1/checkout/sessions"), 15,
             what="the Checkout Session call")
    bw.billingd_proc.stop()
    row = bw.one("SELECT billing_claimed_until, billing_done_at FROM tg_updates"
                 " WHERE bot_id = %s AND billing_at IS NOT NULL", (bot.id,))
    assert row == (None, None), row
    t0 = time.monotonic()
    bw.billingd_proc = bw.env.daemon("billingd", conf=bw.conf())
    bw.billing_done(bot, 1, timeout=20)
    assert time.monotonic() - t0 < 20
    calls = bw.st.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2 and calls[0].header("Idempotency-Key") == calls[1].header(
        "Idempotency-Key")
    assert "reply_markup" in bw.said(bot)[-1][1]


def test_back_from_checkout_before_or_after_the_webhook_grants_once(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    seq_of = "SELECT update_seq FROM payments WHERE checkout_session_id = %s"
    cs1 = bw.buy(bot)
    seq1 = bw.one(seq_of, (cs1,))[0]
    success = bw.st.sessions[cs1]["params"]["success_url"]
    assert success == f"https://t.me/bot{bot.tg_id}_bot?start=paid_{seq1}"
    # the user is back before the webhook
    bw.st.pay(cs1)
    bw.hand_over(bot, f"/start paid_{seq1}")
    bw.billing_done(bot, 2)
    assert bw.credits(bot) == 10 and "Payment received" in bw.texts(bot)[-1]
    (get,) = bw.st.calls("GET", f"/v1/checkout/sessions/{cs1}")
    assert get.header("Idempotency-Key") is None
    out = bw.processed(bw.send(bw.st.completed(cs1)))
    assert list(out.values()) == ["already granted"] and bw.credits(bot) == 10
    # the webhook before the user
    cs2 = bw.buy(bot, n=3)
    bw.processed(bw.send(bw.st.completed(cs2)))
    bw.hand_over(bot, f"/start paid_{bw.one(seq_of, (cs2,))[0]}")
    bw.billing_done(bot, 4)
    assert bw.texts(bot)[-1] == "✅ Your payment is confirmed. Your balance: 20 credits."
    # not paid yet; another user's payment; nonsense
    cs3 = bw.buy(bot, n=5)
    bw.hand_over(bot, f"/start paid_{bw.one(seq_of, (cs3,))[0]}")
    bw.hand_over(bot, f"/start paid_{seq1}", user=USER + 1)
    bw.hand_over(bot, "/start paid_x")
    outcomes = bw.billing_done(bot, 8)[-3:]
    assert outcomes == ["return: pending: payment_status unpaid", "return: no such payment",
                        "return: no such payment"]
    last = bw.texts(bot)[-2:]  # the other user's answer went to the other user
    assert sorted(t[:20] for t in last) == ["Welcome back! /balan", "⏳ Your payment is be"]
    assert len(bw.grants(bot)) == 2 and bw.credits(bot) == 20


# -- Stripe events -------------------------------------------------------------------

def test_the_same_event_ten_times_and_concurrently_grants_once(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    ev = bw.st.completed(cs)
    twin = dict(ev, id=ev["id"] + "b")  # Stripe may send two events for one change
    body = json.dumps(ev, indent=2)
    (header,) = sign_many([{"payload": body, "secret": SECRET}])
    barrier = threading.Barrier(10)
    codes = []

    def deliver():
        barrier.wait()
        codes.append(requests.post(bw.env.http("webhookd") + "/stripe", data=body.encode(),
                                   headers={"Stripe-Signature": header}, timeout=10)
                     .status_code)
    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 10
    bw.send(*[ev] * 10, twin)
    out = bw.processed([ev["id"], twin["id"]])
    assert sorted(out.values()) == ["already granted", "granted"]
    assert bw.credits(bot) == 10 and len(bw.grants(bot)) == 1
    assert sum("Payment received" in t for t in bw.texts(bot)) == 1


def test_events_in_any_order_grant_once(bw):
    """async payment: completed (unpaid) first, then the success, with unrelated
    events, a late refund announcement and repeats around it"""
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    unpaid = bw.st.completed(cs, payment_status="unpaid")
    pi = unpaid["data"]["object"]["payment_intent"]
    paid = bw.st.completed(cs, type_="checkout.session.async_payment_succeeded")
    late_completed = bw.st.completed(cs)
    intent = bw.st.event("payment_intent.succeeded", {
        "id": pi, "object": "payment_intent", "amount": 500, "currency": "usd",
        "metadata": {"tgm_bot": str(bot.id), "tgm_user": str(USER)}, "status": "succeeded"})
    refund = bw.st.event("charge.refunded", bw.st.charge(pi, 500, 100))
    ids = bw.send(refund, intent, unpaid)
    bw.processed(ids[1:])
    assert bw.credits(bot) == 0  # nothing paid yet; the refund waits for its payment
    ids += bw.send(paid, late_completed, unpaid)
    out = bw.processed(ids, timeout=30)
    assert out[paid["id"]] == "granted" and out[late_completed["id"]] == "already granted"
    assert out[unpaid["id"]].startswith("pending")
    assert out[refund["id"]].startswith("refunded: 2 credits")  # 100 of 500 cents
    assert bw.grants(bot) == [(f"stripe:cs:{cs}", "grant", 10)]
    assert bw.credits(bot) == 8


def test_events_stored_while_billingd_is_down_are_acted_on_after_restart(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    bw.billingd_proc.kill()
    ids = bw.send(bw.st.completed(cs))
    time.sleep(0.5)
    assert bw.query("SELECT processed_at FROM stripe_events") == [(None,)]
    bw.env.daemon("billingd", conf=bw.billingd_proc.conf)
    assert list(bw.processed(ids).values()) == ["granted"]
    assert bw.credits(bot) == 10


def test_async_payment_failed_tells_the_user(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    failed = bw.st.completed(cs, payment_status="unpaid",
                             type_="checkout.session.async_payment_failed")
    bw.processed(bw.send(failed, dict(failed, id=failed["id"] + "x")))
    assert sum("did not go through" in t for t in bw.texts(bot)) == 1
    assert bw.one("SELECT status FROM payments WHERE checkout_session_id = %s",
                  (cs,))[0] == "failed"
    assert bw.credits(bot) == 0


def test_payment_intent_failed_tells_the_user(bw):
    bot = bw.new_bot()
    bw.start()
    bw.say(bot, "/start")
    bw.wait_processed(bot, 1)
    pi = {"id": "pi_fail_1", "object": "payment_intent", "status": "requires_payment_method",
          "metadata": {"tgm_bot": str(bot.id), "tgm_user": str(USER)},
          "last_payment_error": {"code": "card_declined", "charge": "ch_1",
                                 "message": "Your card was declined."}}
    ev = bw.st.event("payment_intent.payment_failed", pi)
    bw.processed(bw.send(ev, dict(ev, id=ev["id"] + "x")))
    texts = bw.texts(bot)
    assert len(texts) == 1 and "Your card was declined." in texts[0]


def test_a_refund_after_credits_were_spent_records_what_is_owed(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    done = bw.st.completed(cs)
    pi = done["data"]["object"]["payment_intent"]
    bw.processed(bw.send(done))
    bw.query("SELECT ledger_apply(%s, %s, 'msg:1', 'debit', -7)", (bot.id, USER))
    partial = bw.st.event("charge.refunded", bw.st.charge(pi, 500, 200))
    full = bw.st.event("charge.refunded", bw.st.charge(pi, 500, 500))
    out = bw.processed(bw.send(full, partial, full))
    assert out[full["id"]] == "refunded: 3 credits taken, 7 owed"
    assert out[partial["id"]] == "ignored: refund already applied"
    assert bw.one("SELECT credits, owed FROM bot_users WHERE bot_id = %s AND user_id = %s",
                  (bot.id, USER)) == (0, 7)
    assert bw.one("SELECT refunded_amount, refunded_credits, owed FROM payments WHERE"
                  " checkout_session_id = %s", (cs,)) == (500, 10, 7)
    assert any("7 credits were already spent and are owed" in t for t in bw.texts(bot))


def test_a_dispute_alerts_the_admin_group_at_once(bw):
    bot = bw.new_bot(admin_chat_id=ADMIN_CHAT)
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    done = bw.st.completed(cs)
    pi = done["data"]["object"]["payment_intent"]
    dp = bw.st.event("charge.dispute.created", bw.st.dispute(pi, 500))
    out = bw.processed(bw.send(done, dp, dp))
    assert out[dp["id"]] == "dispute alerted"
    (alert,) = bw.said(bot, chat=ADMIN_CHAT)
    assert "Dispute opened: 5.00 USD" in alert[1]["text"] and "fraudulent" in alert[1]["text"]
    assert bw.one("SELECT count(*) FROM disputes WHERE alerted_at IS NOT NULL")[0] == 1


def test_a_saved_card_is_confirmed_once(bw):
    bot = bw.new_bot()
    bw.start()
    cus = bw.saved_card(bot)
    again = bw.st.event("payment_method.attached", bw.st.card(cus, pm="pm_card_visa"))
    bw.processed(bw.send(again))
    texts = bw.texts(bot)
    assert sum("visa •••• 4242 is saved" in t for t in texts) == 1
    assert bw.one("SELECT payment_method FROM stripe_customers WHERE customer_id = %s",
                  (cus,))[0] == "pm_card_visa"


# -- /billing, /history, /autorecharge ----------------------------------------------

def test_billing_history_and_autorecharge_commands(bw):
    bot = bw.new_bot()
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    bw.processed(bw.send(bw.st.completed(cs)))
    bw.query("SELECT ledger_apply(%s, %s, 'msg:1', 'debit', -3)", (bot.id, USER))
    for t in ("/billing", "/history", "/autorecharge on 10 5", "/autorecharge off",
              "/autorecharge on 7 5", "/autorecharge"):
        bw.say(bot, t)
    bw.billing_done(bot, 7)
    portal, history, on, off, nopkg, usage = [p for m, p in bw.said(bot)[-6:]]
    assert portal["reply_markup"]["inline_keyboard"][0][0]["url"].startswith(
        "https://billing.stripe.test/")
    (ps,) = bw.st.calls("POST", "/v1/billing_portal/sessions")
    assert ps.form["customer"] in bw.st.customers
    assert "+10 credits  5.00 USD" in history["text"] and "Spent: 3 credits" in history["text"]
    assert "Balance: 7 credits." in history["text"]
    assert on["text"].startswith("Auto-recharge is on: when your balance falls under 5")
    assert off["text"] == "Auto-recharge is off."
    assert nopkg["text"].startswith("There is no package of 7 credits")
    assert usage["text"].startswith("Usage: /autorecharge")


def autorecharge(bw, bot, outcome, lang=None):
    bw.product(bot, 10, 500)
    bw.start()
    bw.saved_card(bot)
    bw.query("SELECT ledger_apply(%s, %s, 'gift:1', 'gift', 8)", (bot.id, USER))
    bw.say(bot, "/autorecharge on 10 5")
    bw.billing_done(bot, 1)
    bw.query("UPDATE bot_users SET language_code = %s WHERE bot_id = %s AND user_id = %s",
             (lang, bot.id, USER))
    bw.st.intent_outcome = outcome
    for i in range(3):  # 8 -> 6 -> 4 (crosses 5: one attempt) -> 2 (no second)
        bw.query("SELECT ledger_apply(%s, %s, %s, 'debit', -2)", (bot.id, USER, f"msg:{i}"))
    wait_for(lambda: bw.query("SELECT status FROM recharges WHERE status <> 'pending'"), 20,
             what="the recharge carried out")
    time.sleep(1.5)
    (pi,) = bw.st.calls("POST", "/v1/payment_intents")
    f = pi.form
    assert (f["off_session"], f["confirm"], f["amount"], f["currency"]) == (
        "true", "true", "500", "usd")
    assert f["payment_method"] == "pm_card_visa" and f["metadata[tgm_kind]"] == "recharge"
    assert pi.header("Idempotency-Key").startswith("tgm-recharge-")
    return bw.one("SELECT status, detail FROM recharges")


def test_autorecharge_succeeds_once_per_crossing(bw):
    bot = bw.new_bot()
    assert autorecharge(bw, bot, "succeeds")[0] == "paid"
    assert bw.credits(bot) == 12
    assert sum("Payment received: 10 credits." in t for t in bw.texts(bot)) == 1
    (pi,) = bw.st.intents
    # the webhook about the same PaymentIntent grants nothing more
    obj = dict(bw.st.intents[pi]["object"])
    bw.processed(bw.send(bw.st.event("payment_intent.succeeded", obj)))
    assert bw.credits(bot) == 12
    # back over the threshold re-arms: the next crossing charges again
    bw.query("SELECT ledger_apply(%s, %s, 'msg:9', 'debit', -8)", (bot.id, USER))
    wait_for(lambda: len(bw.st.calls("POST", "/v1/payment_intents")) == 2, 20,
             what="a second recharge")


@pytest.mark.parametrize("outcome,lang,code,why", [
    ("card_declined", None, "recharge_why_declined {\"code\": \"insufficient_funds\"}",
     "could not charge your card: your card was declined (insufficient_funds). Pay here"),
    ("card_declined", "ru", "recharge_why_declined {\"code\": \"insufficient_funds\"}",
     "списать деньги с карты: карта отклонена (insufficient_funds). Оплатите здесь"),
    ("authentication_required", "en", "recharge_why_auth", "authentication required"),
    ("authentication_required", "ru-RU", "recharge_why_auth", "нужна аутентификация")])
def test_autorecharge_refused_sends_a_checkout_link(bw, outcome, lang, code, why):
    """the reason is recorded as a catalog name and worded in the user's language"""
    bot = bw.new_bot()
    status, detail = autorecharge(bw, bot, outcome, lang)
    assert status == "link" and detail == code
    last = bw.said(bot)[-1][1]
    assert why in last["text"], last["text"]
    url = last["reply_markup"]["inline_keyboard"][0][0]["url"]
    (cs,) = [s for s in bw.st.sessions.values() if s["object"]["url"] == url]
    assert cs["params"]["customer"] in bw.st.customers
    assert bw.credits(bot) == 2
    # paying through the link grants, like any Checkout
    bw.processed(bw.send(bw.st.completed(cs["object"]["id"])))
    assert bw.credits(bot) == 12


# -- Telegram Stars ------------------------------------------------------------------

def test_stars_purchase(bw):
    bot = bw.new_bot()
    pid = bw.product(bot, 10, 500, stars=50)
    bw.start(stripe_key="")  # Stars need no Stripe
    bw.say(bot, "/buy10")
    bw.billing_done(bot, 1)
    (method, inv), = bw.said(bot)
    assert method == "sendInvoice"
    assert (inv["currency"], inv["provider_token"], inv["prices"]) == (
        "XTR", "", [{"label": "10 credits", "amount": 50}])
    payload = inv["payload"]
    who = {"id": USER, "is_bot": False, "first_name": "Ada"}
    pcq = bw.update("pre_checkout_query", id="pcq1", currency="XTR", total_amount=50,
                    invoice_payload=payload, **{"from": who})
    bad = bw.update("pre_checkout_query", id="pcq2", currency="XTR", total_amount=1,
                    invoice_payload=payload, **{"from": who})
    t0 = time.monotonic()
    assert bw.post(bot, pcq).status_code == 200 and bw.post(bot, bad).status_code == 200
    answers = wait_for(lambda: (lambda c: c if len(c) == 2 else None)(
        bw.tg.calls(token=bot.token, method="answerPreCheckoutQuery")), 10,
        what="answerPreCheckoutQuery")
    assert time.monotonic() - t0 < 10
    by_id = {c.params["pre_checkout_query_id"]: c.params for c in answers}
    assert by_id["pcq1"]["ok"] is True
    assert by_id["pcq2"]["ok"] is False and by_id["pcq2"]["error_message"]
    paid = {"currency": "XTR", "total_amount": 50, "invoice_payload": payload,
            "telegram_payment_charge_id": "tgch_1", "provider_payment_charge_id": ""}
    for _ in range(2):  # the same payment in two updates
        r = bw.post(bot, bw.message(None, successful_payment=paid))
        assert r.status_code == 200
    bw.billing_done(bot, 5)
    assert bw.credits(bot) == 10
    assert bw.grants(bot) == [("tg:star:tgch_1", "grant", 10)]
    assert bw.one("SELECT product_id, telegram_charge_id, amount, currency FROM payments"
                  " WHERE kind = 'stars'") == (pid, "tgch_1", 50, "XTR")


def test_a_pre_checkout_query_is_answered_while_stripe_hangs(bw):
    bot = bw.new_bot()
    pid = bw.product(bot, 10, 500, stars=50)
    bw.st.fail("/v1/checkout/sessions", Reply(0, action="hang"), times=1)
    bw.start(stripe_timeout=30)
    bw.say(bot, "/buy10")
    wait_for(lambda: bw.st.calls("POST", "/v1/checkout/sessions"), 10, what="the hang")
    pcq = bw.update("pre_checkout_query", id="pcq9", currency="XTR", total_amount=50,
                    invoice_payload=f"tgm:{pid}:{USER}",
                    **{"from": {"id": USER, "is_bot": False, "first_name": "Ada"}})
    t0 = time.monotonic()
    assert bw.post(bot, pcq).status_code == 200
    (answer,) = wait_for(lambda: bw.tg.calls(token=bot.token, method="answerPreCheckoutQuery"),
                         10, what="answerPreCheckoutQuery")
    assert time.monotonic() - t0 < 5 and answer.params["ok"] is True


# -- the ledger ----------------------------------------------------------------------

def test_low_balance_warning_once_per_crossing_after_a_refund(bw):
    bot = bw.new_bot(low_balance=5)
    bw.product(bot, 10, 500)
    bw.start()
    cs = bw.buy(bot)
    done = bw.st.completed(cs)
    pi = done["data"]["object"]["payment_intent"]
    bw.processed(bw.send(done))
    bw.processed(bw.send(bw.st.event("charge.refunded", bw.st.charge(pi, 500, 300))))
    bw.processed(bw.send(bw.st.event("charge.refunded", bw.st.charge(pi, 500, 400))))
    warnings = [t for t in bw.texts(bot) if "balance is low" in t]
    assert bw.credits(bot) == 2 and len(warnings) == 1


def test_notices_are_told_in_order_and_an_unknown_one_is_dropped_alone(bw):
    """The SQL functions record notices (a name and its arguments); billingd renders
    them from the catalog and queues them, a chat's in the order recorded, those
    recorded while it was down too. A notice it does not know is dropped with a warning
    and holds up nothing."""
    bot = bw.new_bot()
    for name, args in (("paid", {"credits": 1, "pass_seconds": 0, "balance": 1}),
                       ("no_such_notice", {}), ("low_balance", {"credits": 1})):
        bw.query("SELECT bd_notice(%s, %s, %s, %s)", (bot.id, USER, name, json.dumps(args)))
    bw.start()
    said = bw.wait_said(bot, 2)
    assert [p["text"] for _, p in said] == [
        "✅ Payment received: 1 credit.\nYour balance: 1 credit.",
        "⚠️ Your balance is low: 1 credit left. /buy to top up."]
    wait_for(bw.told, 10, what="the outbox emptied")
    assert "no such notice: no_such_notice (dropped)" in bw.billingd_proc.log()
    assert len(bw.said(bot)) == 2


def test_a_debit_race_that_would_go_negative_is_refused(bw):
    bot = bw.new_bot()
    bw.start()
    bw.say(bot, "/start")
    bw.wait_processed(bot, 1)
    bw.query("SELECT ledger_apply(%s, %s, 'gift:1', 'gift', 10)", (bot.id, USER))
    results = []
    barrier = threading.Barrier(12)

    def debit(i):
        conn = bw.env.connect()
        barrier.wait()
        with conn.cursor() as cur:
            cur.execute("SELECT refused FROM ledger_apply(%s, %s, %s, 'debit', -3)",
                        (bot.id, USER, f"race:{i}"))
            results.append(cur.fetchone()[0])
        conn.close()
    threads = [threading.Thread(target=debit, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(False) == 3 and results.count(True) == 9
    assert bw.credits(bot) == 1


def test_randomized_grants_debits_and_refunds_balance(bw):
    """thousands of ledger_apply calls from many threads: every balance equals the sum
    of its entries, never negative, and what refunds could not take is owed"""
    bot = bw.new_bot()
    users = list(range(1001, 1011))
    bw.query("INSERT INTO bot_users (bot_id, user_id) SELECT %s, u FROM unnest(%s::bigint[])"
             " u", (bot.id, users))
    errors = []

    def worker(seed):
        rnd = random.Random(seed)
        conn = bw.env.connect()
        try:
            with conn.cursor() as cur:
                for i in range(300):
                    u = rnd.choice(users)
                    op = rnd.random()
                    # a tenth reuse a key of the user's (a redelivery: a no-op); keys are
                    # per purchase, so never shared between users (ledger_apply dedupes
                    # under the user's lock)
                    key = (f"r{seed}:{i}" if rnd.random() > 0.1
                           else f"dup:{u}:{rnd.randint(1, 20)}")
                    if op < 0.4:
                        cur.execute("SELECT * FROM ledger_apply(%s, %s, %s, 'grant', %s)",
                                    (bot.id, u, key, rnd.randint(1, 50)))
                    elif op < 0.85:
                        cur.execute("SELECT * FROM ledger_apply(%s, %s, %s, 'debit', %s)",
                                    (bot.id, u, key, -rnd.randint(1, 30)))
                    else:
                        cur.execute("SELECT * FROM ledger_apply(%s, %s, %s, 'refund', %s,"
                                    " 0, true)", (bot.id, u, key, -rnd.randint(1, 60)))
                    cur.fetchall()
        except psycopg2.Error as e:
            errors.append(e)
        finally:
            conn.close()
    threads = [threading.Thread(target=worker, args=(s,)) for s in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert bw.one("SELECT count(*) FROM ledger WHERE bot_id = %s", (bot.id,))[0] > 2000
    rows = bw.query(
        "SELECT u.user_id, u.credits, u.owed, coalesce(sum(l.credits), 0),"
        " coalesce(sum(l.owed), 0), coalesce(min(l.balance), 0),"
        " coalesce(-sum(l.credits) FILTER (WHERE l.kind = 'debit'), 0), u.spent"
        " FROM bot_users u LEFT JOIN ledger l USING (bot_id, user_id)"
        " WHERE u.bot_id = %s GROUP BY u.user_id, u.credits, u.owed, u.spent", (bot.id,))
    for user, credits, owed, total, total_owed, low, debits, spent in rows:
        assert credits == total and owed == total_owed, user
        assert credits >= 0 and low >= 0 and spent == debits, user
    last = bw.query("SELECT DISTINCT ON (user_id) user_id, balance FROM ledger"
                    " WHERE bot_id = %s ORDER BY user_id, id DESC", (bot.id,))
    balances = {r[0]: r[1] for r in rows}
    assert all(balances[user] == balance for user, balance in last)


def test_one_key_for_two_users_at_once_replays(bw):
    bot = bw.new_bot()
    bw.query("INSERT INTO bot_users (bot_id, user_id) VALUES (%s, 1), (%s, 2)",
             (bot.id, bot.id))
    errors = []
    for n in range(20):
        barrier = threading.Barrier(2)

        def apply(user):
            conn = bw.env.connect()
            barrier.wait()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM ledger_apply(%s, %s, %s, 'grant', 5)",
                                (bot.id, user, f"shared:{n}"))
            except psycopg2.Error as e:
                errors.append(type(e).__name__)
            finally:
                conn.close()
        threads = [threading.Thread(target=apply, args=(u,)) for u in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
