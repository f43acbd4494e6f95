"""
stripe.py - the sandbox Stripe of `make run SANDBOX=1`: the tests' fake Stripe, plus a
checkout page and a "pay" button that post the signed event to webhookd, as Stripe would.

    python3 scripts/sandbox/stripe.py PORT WEBHOOK_URL WEBHOOK_SECRET TELEGRAM_URL

billingd talks to it as to api.stripe.com (any key starting sk_test_). What it adds to
tests/integration/fake_stripe.py:

    GET  /sandbox/checkout/<cs_id>   the page a Checkout link opens: the amount, a Pay button
    POST /sandbox/pay[/<cs_id>]      pay that session (default: the newest open one), sign
                                     checkout.session.completed with WEBHOOK_SECRET, POST it
                                     to WEBHOOK_URL, then wait (30 s at most) for what the
                                     bot sends the buyer (read from the sandbox Telegram)

Standard library only; it stops on SIGTERM or SIGINT.
"""
import hashlib
import hmac
import html
import json
import os
import signal
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from fake_http import Reply  # noqa: E402
from fake_stripe import FakeStripe  # noqa: E402


class SandboxStripe(FakeStripe):
    """FakeStripe whose Checkout links open a local page with a Pay button."""

    def __init__(self, port, webhook, secret, telegram):
        super().__init__()
        self.http._want_port = port
        self.webhook, self.secret, self.telegram = webhook, secret, telegram

    def _handle(self, req):
        path = req.path.split("?", 1)[0]
        if req.method == "GET" and path.startswith("/sandbox/checkout/"):
            return self._page(path.rsplit("/", 1)[1])
        if req.method == "POST" and (path == "/sandbox/pay" or path.startswith("/sandbox/pay/")):
            return self._pay(path[len("/sandbox/pay/"):] if path != "/sandbox/pay" else None)
        return super()._handle(req)

    def _session(self, form):
        reply = super()._session(form)
        if reply.status == 200:
            reply.body["url"] = f"{self.url}/sandbox/checkout/{reply.body['id']}"
        return reply

    def _page(self, sid):
        s = self.sessions.get(sid)
        if s is None:
            return Reply.html(404, "<p>No such checkout session.</p>")
        o = s["object"]
        amount = f"{o['amount_total'] / 100:.2f} {o['currency'].upper()}"
        return Reply.html(200, f"""<!doctype html><meta charset="utf-8">
<title>Sandbox checkout</title><h1>Sandbox Stripe</h1>
<p>{html.escape(amount)} &middot; session <code>{html.escape(sid)}</code> &middot;
{html.escape(o['payment_status'])}</p>
<form method="post" action="/sandbox/pay/{html.escape(sid)}"><button>Pay</button></form>""")

    def _pay(self, sid):
        with self._lock:
            if sid is None:
                open_ = [k for k, v in self.sessions.items() if v["object"]["status"] == "open"]
                sid = open_[-1] if open_ else None
            if sid not in self.sessions:
                return Reply(404, {"error": "no open checkout session: write /buy to the bot first"})
            params = self.sessions[sid]["params"]
        chat = params.get("client_reference_id", "").rpartition(":")[2]   # "bot:user"
        before = self._chat(chat)
        event = self.completed(sid)
        status = self._post(event)
        replies = self._wait_new(chat, len(before)) if status == 200 else []
        return Reply(200, {"paid": sid, "webhook_status": status, "bot_replied": replies})

    def _post(self, event):
        body = json.dumps(event).encode()
        t = int(time.time())
        v1 = hmac.new(self.secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.webhook, data=body, method="POST", headers={
            "Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={v1}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    def _chat(self, chat):
        if not chat.lstrip("-").isdigit():
            return []
        try:
            with urllib.request.urlopen(f"{self.telegram}/sandbox/chat/{chat}", timeout=5) as r:
                return json.load(r)
        except (OSError, ValueError):
            return []

    def _wait_new(self, chat, seen):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = self._chat(chat)
            if len(now) > seen:
                return now[seen:]
            time.sleep(0.2)
        return []


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: stripe.py PORT WEBHOOK_URL WEBHOOK_SECRET TELEGRAM_URL")
    st = SandboxStripe(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]).start()
    print(f"sandbox Stripe listening on {st.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    st.stop()


if __name__ == "__main__":
    main()
