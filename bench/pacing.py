"""pacing.py - `make bench`'s pacing case: the strict fake Telegram of the tests
(429 past a bot's or a chat's limit, counted at arrival) behind a steady 100 ms round
trip (50 ms each way). It writes its URL to argv[1], waits for the sends of two bots
(tokens in argv[2], argv[3]: many chats, one chat), prints the rates achieved as a
share of the limits and the 429s, and exits.

Usage: pacing.py URLFILE BOT_TOKEN CHAT_TOKEN N_BOT N_CHAT PER_SECOND
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from fake_telegram import FakeTelegram  # noqa: E402


def main(urlfile, bot_token, chat_token, n_bot, n_chat, limit):
    n_bot, n_chat, limit = int(n_bot), int(n_chat), int(limit)
    tg = FakeTelegram().start()
    tg.network(up=0.05, down=0.05).strict(per_second=limit, chat_per_second=1)
    with open(urlfile + ".tmp", "w") as f:
        f.write(tg.url)
    os.rename(urlfile + ".tmp", urlfile)
    ok = lambda tok: sorted(c.time for c in tg.sends(token=tok) if c.answer == "ok")  # noqa
    while len(ok(bot_token)) < n_bot or len(ok(chat_token)) < n_chat:
        tg.wait_sends(len(tg.sends()) + 1, timeout=120)
    b, c = ok(bot_token), ok(chat_token)
    bot_rate = (n_bot - limit) / (b[-1] - b[limit - 1])
    chat_rate = (n_chat - 1) / (c[-1] - c[0])
    print(f"pacing at 100 ms: bot {bot_rate / limit:.3f} of its limit, one chat"
          f" {chat_rate:.3f} msg/s (goal >= 0.97 each); 429s: {len(tg.strict_floods())}"
          " (goal 0)")
    tg.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
