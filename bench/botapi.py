"""botapi.py - `make bench`'s Bot API endpoint section (issue 15):

1. pass-through: the latency gatewayd adds to a call it passes to Telegram (getMe),
   against the same call straight at the fast fake (bench/fakeserver), one keep-alive
   connection each, rounds alternating; p50 and p99 (goal: under 1 ms added at p50);
2. a plain grammY loop (tests/botapi/loop.mjs: no throttler, no auto-retry) of 600
   sendMessage calls to 600 chats, and 60 calls to one chat, through gatewayd and
   senderd, against the same loops pointed straight at the strict fake Telegram of the
   tests (429 past 30 a second per bot and 1 a second per chat): the rate achieved (sends
   Telegram accepted, over the span of their arrivals) and the 429s the bot saw.

Usage: botapi.py WORK CONF BIN ADMIN_KEY FAKE_PORT GW_PORT TOKEN
  (CONF: the bench's tgm.conf; TOKEN: a bot registered with gatewayd, its getMe at
  the fast fake on FAKE_PORT; ADMIN_KEY: an admin key of the bench tenant)
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from fake_telegram import FakeTelegram  # noqa: E402

CALLS = int(os.environ.get("TGM_BENCH_BOTAPI_CALLS", "2000"))


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def timings(port, path, n):
    """n sequential GETs of path on one keep-alive connection: seconds each"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        out.append(time.perf_counter() - t0)
        assert r.status == 200, r.status
    c.close()
    return out


def pass_through(fake_port, gw_port, token):
    path = f"/bot{token}/getMe"
    timings(gw_port, path, 200)  # warm both
    timings(fake_port, path, 200)
    direct, through = [], []
    for _ in range(4):
        direct += timings(fake_port, path, CALLS // 4)
        through += timings(gw_port, path, CALLS // 4)
    d50, d99 = percentile(direct, 0.5) * 1e3, percentile(direct, 0.99) * 1e3
    t50, t99 = percentile(through, 0.5) * 1e3, percentile(through, 0.99) * 1e3
    print(f"pass-through getMe, {len(direct)} calls each: straight at the fake p50 {d50:.3f}"
          f" ms p99 {d99:.3f} ms; through gatewayd p50 {t50:.3f} ms p99 {t99:.3f} ms;"
          f" added p50 {t50 - d50:.3f} ms (goal < 1) p99 {t99 - d99:.3f} ms")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def own_conf(work, conf, api_url, port):
    """the bench's configuration with its own listener, ZeroMQ endpoints and api_url"""
    text = open(conf).read()
    text = text.replace("gatewayd-doorbell", "botapi-doorbell")
    text = text.replace("gatewayd-status", "botapi-status")
    text = re.sub(r"(?m)^listen = .*$", f"listen = 127.0.0.1:{port}", text, count=1)
    text = re.sub(r"(?m)^api_url = .*$", f"api_url = {api_url}", text)
    path = os.path.join(work, "botapi.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def request(port, method, path, body=None, key=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def loop(api_root, token, n, first, same=False):
    args = ["node", os.path.join(ROOT, "tests", "botapi", "loop.mjs"), api_root, token,
            str(n), str(first), "bench"] + (["same"] if same else [])
    out = subprocess.run(args, cwd=os.path.join(ROOT, "tests"), capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        sys.exit(f"bench: loop.mjs failed: {out.stderr[-500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rate(tg, token):
    """sends Telegram accepted for token, per second over the span of their arrivals"""
    ok = sorted(c.time for c in tg.sends(token=token) if c.answer == "ok")
    return (len(ok) - 1) / (ok[-1] - ok[0]) if len(ok) > 1 else 0.0, len(ok)


def loops(work, conf, binary, key):
    tg = FakeTelegram().start()
    tg.strict(per_second=30, chat_per_second=1)
    port = free_port()
    myconf = own_conf(work, conf, tg.url, port)
    logs = [open(os.path.join(work, f"botapi-{d}.log"), "w") for d in ("gatewayd", "senderd")]
    procs = [subprocess.Popen([os.path.join(binary, "gatewayd"), "-c", myconf],
                              stderr=logs[0]),
             subprocess.Popen([os.path.join(binary, "senderd"), "-c", myconf,
                               "--instance", "botapi"], stderr=logs[1])]
    try:
        for _ in range(100):
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        tokens = {}
        for i, name in enumerate(("tgm600", "direct600", "tgm60", "direct60")):
            tokens[name] = f"{510001 + i}:AAbotapibenchbotapibenchbotapibe{i:03d}"
            if name.startswith("tgm"):
                st, body = request(port, "POST", "/v1/bots", {"token": tokens[name],
                                                               "name": "botapi-bench"}, key)
                assert st == 201, body
        root = f"http://127.0.0.1:{port}"
        for label, n, same in (("600 sendMessage to 600 chats", 600, False),
                               ("60 sendMessage to one chat", 60, True)):
            kind = "600" if n == 600 else "60"
            limit = 30.0 if n == 600 else 1.0
            via = loop(root, tokens["tgm" + kind], n, 700000, same)
            via_rate, _ = rate(tg, tokens["tgm" + kind])
            direct = loop(tg.url, tokens["direct" + kind], n, 800000, same)
            direct_ok = len([c for c in tg.sends(token=tokens["direct" + kind])
                             if c.answer == "ok"])
            direct_rate = direct_ok / max(direct["seconds"], 1.0)
            print(f"grammY loop, {label}: through tgm {via['ok']} ok, {via['flood']} 429s,"
                  f" {via_rate:.2f} msg/s = {via_rate / limit:.3f} of the limit in"
                  f" {via['seconds']:.1f} s (goal >= 0.95, 0 429s); straight at the fake"
                  f" {direct['ok']} ok, {direct['flood']} 429s in {direct['seconds']:.1f} s:"
                  f" {direct_ok} delivered = {direct_rate:.2f} msg/s ="
                  f" {direct_rate / limit:.3f} of the limit (a bot that does not retry)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        tg.stop()


def main(work, conf, binary, key, fake_port, gw_port, token):
    pass_through(int(fake_port), int(gw_port), token)
    loops(work, conf, binary, key)


if __name__ == "__main__":
    main(*sys.argv[1:])
