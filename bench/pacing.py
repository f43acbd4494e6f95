"""pacing.py - one round of `make bench`'s pacing cases: the strict fake Telegram of the
tests (429 past a bot's or a chat's limit, counted at arrival, by its own clock) behind a
network. It writes its URL to URLFILE, waits until each of the two bots (TOKEN1, TOKEN2)
has had N1 and N2 sends answered ok, prints one line of figures and exits.

Cases (CASE):
  steady    50 ms each way (a 100 ms round trip); TOKEN1 sends to many chats (the
            bot's LIMIT binds), TOKEN2 to one chat (1 a second binds)
  jittery   50-250 ms each way, drawn for each request and way; the same two bots
  campaign  no delay; two bots sending a campaign, each at LIMIT a second

The line: "PACING case=... bot=<TOKEN1's rate / LIMIT> other=<TOKEN2's: msg/s to its
chat, or its rate / LIMIT for a campaign> floods=<429s>". A bot's rate is measured as
test_senderd.py's: after its first LIMIT sends, the rest over their span.

Usage: pacing.py URLFILE CASE LIMIT TOKEN1 N1 TOKEN2 N2
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from fake_telegram import FakeTelegram  # noqa: E402

NETWORK = {"steady": (0.05, 0.05), "jittery": ((0.05, 0.25), (0.05, 0.25)),
           "campaign": (None, None)}


def share(times, limit):
    """a bot's rate as a share of its limit: after its first `limit` sends"""
    return (len(times) - limit) / (times[-1] - times[limit - 1]) / limit


def main(urlfile, case, limit, token1, n1, token2, n2):
    limit, n1, n2 = int(limit), int(n1), int(n2)
    tg = FakeTelegram().start()
    up, down = NETWORK[case]
    tg.network(up=up, down=down).strict(per_second=limit, chat_per_second=1)
    with open(urlfile + ".tmp", "w") as f:
        f.write(tg.url)
    os.rename(urlfile + ".tmp", urlfile)
    ok = lambda tok: sorted(c.time for c in tg.sends(token=tok) if c.answer == "ok")  # noqa
    while len(ok(token1)) < n1 or len(ok(token2)) < n2:
        tg.wait_sends(len(tg.sends()) + 1, timeout=300)
    one, two = ok(token1), ok(token2)
    other = share(two, limit) if case == "campaign" else (len(two) - 1) / (two[-1] - two[0])
    print(f"PACING case={case} bot={share(one, limit):.3f} other={other:.3f}"
          f" floods={len(tg.strict_floods())}", flush=True)
    tg.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
