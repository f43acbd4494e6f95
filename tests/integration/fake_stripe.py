"""fake_stripe - a small stateful Stripe API for billingd's tests, on fake_http.

stripe-stateful-mock lacks Checkout Sessions, PaymentIntents and the Billing Portal
(docs/stripe.md section 10), so this fake serves what billingd calls, the way Stripe does:
form-encoded requests with bracketed keys, ``Authorization: Bearer sk_test_...``
(anything else: 401), JSON answers, Stripe's error object, and idempotency (the same
Idempotency-Key with the same parameters replays the first answer, with
``Idempotent-Replayed: true``; other parameters: 400 ``idempotency_error``)::

    from fake_stripe import FakeStripe

    with FakeStripe() as st:                        # started; stopped on exit
        ...                                         # [stripe] api_url = st.url
        st.sessions["cs_test_1"]["params"]          # what billingd sent (flat form keys)
        st.calls("POST", "/v1/checkout/sessions")   # every Request, with .form
        st.intent_outcome = "card_declined"         # next PaymentIntents: succeeds,
                                                    # card_declined, authentication_required
        st.fail("/v1/checkout/sessions", Reply(500, {...}), times=1)   # faults first
        st.pay("cs_test_1")                         # paid at Stripe (what GET shows)
        st.delay = 1.0                              # every answer a second late
        ev = st.completed("cs_test_1")              # a checkout.session.completed event
        ev = st.event("charge.refunded", st.charge(pi, amount=500, refunded=200))

Routes: POST/GET ``/v1/customers[/id]``, POST/GET ``/v1/checkout/sessions[/id]``,
POST ``/v1/payment_intents``, POST ``/v1/refunds`` (``st.refunds``),
POST ``/v1/billing_portal/sessions``. Anything else
answers 404 like Stripe (``No such route``). Events are only built here; tests sign
and post them to webhookd themselves, in whatever order and as often as they like.
"""

import itertools
import threading
import time
import urllib.parse

from fake_http import FakeHTTP, FakeUpstream, Reply

__all__ = ["FakeStripe"]

_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}_test_{int(time.time() * 1000) % 10 ** 9}{next(_ids):05d}"


def error(status, type_, message, **fields):
    return Reply(status, {"error": {"type": type_, "message": message, **fields}})


class FakeStripe(FakeUpstream):
    """The fake; see the module docstring."""

    def __init__(self):
        self.http = FakeHTTP()
        self.http.route("*", self._handle)
        self.http.default = error(404, "invalid_request_error", "No such route")
        self._lock = threading.RLock()
        self.customers = {}   # id -> object
        self.sessions = {}    # id -> {"object": {...}, "params": {...}}
        self.intents = {}     # id -> object
        self.portals = []     # objects
        self.refunds = []     # objects (POST /v1/refunds; a second one for a PaymentIntent: 400)
        self._idem = {}       # (method, path, key) -> (params, Reply)
        self._faults = []     # [pattern, Reply, times left]
        self.intent_outcome = "succeeds"
        self.delay = 0.0      # seconds every answer waits (a slow Stripe)

    # --- the record ---------------------------------------------------------------

    def calls(self, method=None, path=None):
        out = []
        for r in self.http.requests:
            if (method is None or r.method == method) and (path is None or r.path == path):
                r.form = dict(urllib.parse.parse_qsl(r.body.decode(), keep_blank_values=True))
                out.append(r)
        return out

    def fail(self, path, reply, times=1):
        """answer requests whose path starts with path with reply (an error, a delay,
        Reply(0, action="hang"), ...), times times, before anything else"""
        with self._lock:
            self._faults.append([path, reply, times])

    # --- serving ------------------------------------------------------------------

    def _handle(self, req):
        auth = req.header("Authorization") or ""
        if not auth.startswith("Bearer sk_test_"):
            return error(401, "invalid_request_error", "Invalid API Key provided")
        form = dict(urllib.parse.parse_qsl(req.body.decode(), keep_blank_values=True))
        key = req.header("Idempotency-Key")
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            for f in self._faults:
                if f[2] > 0 and urllib.parse.unquote(req.path).startswith(f[0]):
                    f[2] -= 1
                    return f[1]
            if req.method == "POST" and key:
                seen = self._idem.get((req.method, req.path, key))
                if seen is not None:
                    if seen[0] != form:
                        return error(400, "idempotency_error", "Keys for idempotent requests"
                                     " can only be used with the same parameters they were"
                                     " first used with.")
                    r = seen[1]
                    return Reply(r.status, r.body, headers={"Idempotent-Replayed": "true"})
            reply = self._route(req, form)
            if req.method == "POST" and key and reply.status not in (401, 429):
                self._idem[(req.method, req.path, key)] = (form, reply)
            return reply

    def _route(self, req, form):
        parts = req.path.strip("/").split("/")
        if req.method == "POST" and req.path == "/v1/customers":
            return Reply(200, self._customer(form))
        if req.method == "GET" and parts[:2] == ["v1", "customers"] and len(parts) == 3:
            c = self.customers.get(parts[2])
            return Reply(200, c) if c else error(404, "invalid_request_error",
                                                 f"No such customer: '{parts[2]}'",
                                                 code="resource_missing")
        if req.method == "POST" and req.path == "/v1/checkout/sessions":
            return self._session(form)
        if req.method == "GET" and parts[:3] == ["v1", "checkout", "sessions"]:
            s = self.sessions.get(parts[3]) if len(parts) == 4 else None
            return Reply(200, s["object"]) if s else error(
                404, "invalid_request_error", "No such checkout.session",
                code="resource_missing")
        if req.method == "POST" and req.path == "/v1/payment_intents":
            return self._intent(form)
        if req.method == "POST" and req.path == "/v1/refunds":
            return self._refund(form)
        if req.method == "POST" and req.path == "/v1/billing_portal/sessions":
            if form.get("customer") not in self.customers:
                return error(400, "invalid_request_error", "No such customer",
                             code="resource_missing", param="customer")
            p = {"id": new_id("bps"), "object": "billing_portal.session",
                 "customer": form["customer"], "return_url": form.get("return_url"),
                 "url": f"https://billing.stripe.test/p/session/{new_id('x')}"}
            self.portals.append(p)
            return Reply(200, p)
        return error(404, "invalid_request_error", f"No such route: {req.path}")

    @staticmethod
    def metadata(form, prefix="metadata"):
        out = {}
        for k, v in form.items():
            if k.startswith(prefix + "[") and k.endswith("]") and "][" not in k[len(prefix):]:
                out[k[len(prefix) + 1:-1]] = v
        return out

    def _customer(self, form):
        c = {"id": new_id("cus"), "object": "customer", "name": form.get("name"),
             "email": form.get("email"), "description": form.get("description"),
             "metadata": self.metadata(form), "livemode": False}
        self.customers[c["id"]] = c
        return c

    def _session(self, form):
        if form.get("mode") not in ("payment", "setup", "subscription"):
            return error(400, "invalid_request_error", "Missing required param: mode.",
                         param="mode")
        if not form.get("success_url"):
            return error(400, "invalid_request_error", "Missing required param: success_url.",
                         param="success_url")
        amount = int(form.get("line_items[0][price_data][unit_amount]") or 0)
        sid = new_id("cs")
        s = {"id": sid, "object": "checkout.session", "mode": form["mode"],
             "url": f"https://checkout.stripe.test/c/pay/{sid}",
             "client_reference_id": form.get("client_reference_id"),
             "customer": form.get("customer"), "metadata": self.metadata(form),
             "amount_total": amount,
             "currency": form.get("line_items[0][price_data][currency]", "usd"),
             "payment_status": "unpaid", "status": "open", "payment_intent": None,
             "livemode": False}
        self.sessions[sid] = {"object": s, "params": form}
        return Reply(200, s)

    def _refund(self, form):
        pi = form.get("payment_intent")
        if not pi:
            return error(400, "invalid_request_error", "Missing required param: payment_intent.",
                         param="payment_intent")
        if any(r["payment_intent"] == pi for r in self.refunds):
            return error(400, "invalid_request_error", f"Charge for {pi} has already been"
                         " refunded.", code="charge_already_refunded")
        known = self.intents.get(pi, {})
        r = {"id": new_id("re"), "object": "refund", "payment_intent": pi,
             "amount": int(form.get("amount") or known.get("amount") or 0),
             "currency": known.get("currency", "usd"), "status": "succeeded",
             "metadata": self.metadata(form)}
        self.refunds.append(r)
        return Reply(200, r)

    def _intent(self, form):
        pi = {"id": new_id("pi"), "object": "payment_intent",
              "amount": int(form.get("amount", 0)), "currency": form.get("currency"),
              "customer": form.get("customer"), "payment_method": form.get("payment_method"),
              "metadata": self.metadata(form), "livemode": False}
        self.intents[pi["id"]] = {"object": pi, "params": form}
        outcome = self.intent_outcome
        if outcome == "succeeds":
            pi.update(status="succeeded", amount_received=pi["amount"],
                      latest_charge=new_id("ch"))
            return Reply(200, pi)
        pi.update(status="requires_payment_method", amount_received=0)
        if outcome == "authentication_required":
            return error(402, "card_error", "This card requires authentication.",
                         code="authentication_required", payment_intent=pi,
                         payment_method={"id": form.get("payment_method")})
        return error(402, "card_error", "Your card has insufficient funds.",
                     code="card_declined", decline_code="insufficient_funds",
                     payment_intent=pi, charge=new_id("ch"))

    # --- events -------------------------------------------------------------------

    @staticmethod
    def event(type_, obj, evt_id=None, created=None):
        return {"id": evt_id or new_id("evt"), "object": "event",
                "api_version": "2026-10-28.endive",
                "created": created or int(time.time()), "livemode": False,
                "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
                "type": type_, "data": {"object": obj}}

    def pay(self, session_id, payment_status="paid"):
        """the session's object as Stripe has it once the customer paid (a PaymentIntent
        is made for it)"""
        with self._lock:
            s = self.sessions[session_id]["object"]
            if s["payment_intent"] is None:
                s["payment_intent"] = new_id("pi")
            s.update(status="complete", payment_status=payment_status)
            return dict(s)

    def completed(self, session_id, payment_status="paid", type_="checkout.session.completed"):
        return self.event(type_, self.pay(session_id, payment_status))

    @staticmethod
    def charge(pi, amount, refunded, currency="usd"):
        return {"id": "ch_for_" + pi, "object": "charge", "payment_intent": pi,
                "amount": amount, "amount_refunded": refunded, "refunded": refunded >= amount,
                "currency": currency}

    @staticmethod
    def dispute(pi, amount, currency="usd", reason="fraudulent"):
        return {"id": new_id("dp"), "object": "dispute", "charge": "ch_for_" + pi,
                "payment_intent": pi, "amount": amount, "currency": currency,
                "reason": reason, "status": "needs_response"}

    @staticmethod
    def card(customer, pm=None, brand="visa", last4="4242"):
        return {"id": pm or new_id("pm"), "object": "payment_method", "customer": customer,
                "type": "card", "card": {"brand": brand, "last4": last4}}
