#!/usr/bin/env bash
# webhookd.sh - part of `make bench`: webhookd's intake and processing of Telegram updates.
# Its own PostgreSQL, gatewayd (to register the bot) and webhookd; nothing here is a test,
# it prints numbers.
#  1. The bare libevent server (bench/fakeserver, mode 202) and webhookd's
#     POST /telegram/<bot> under the same wrk load of /start updates, each from a new user,
#     in TGM_BENCH_ROUNDS rounds (default 3) alternating: the intake rate (an update
#     answered 200 only after its COMMIT) as a ratio of the bare server; goal >= 0.5.
#  2. Processing: the updates stored in 1 are processed (/start: the user recorded, free
#     credits granted, the welcome queued), timed from webhookd's start to the last one;
#     goal >= 2,000 updates per second.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_SECONDS (wrk seconds, default 10),
# TGM_BENCH_CONNS (wrk connections, default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
rounds=${TGM_BENCH_ROUNDS:-3}
conns=${TGM_BENCH_CONNS:-32}
need_wrk

bench_setup webhookd
gw_port=$(free_port) wh_port=$(free_port) tg_port=$(free_port) bare_port=$(free_port)

# the fake Telegram: answers every method, and keeps the secret_token of setWebhook
/usr/bin/python3 - "$tg_port" "$work/secret" <<'PY' & pids+=($!)
import http.server, json, sys, urllib.parse
port, out = int(sys.argv[1]), sys.argv[2]
ME = {"id": 1, "is_bot": True, "first_name": "bench", "username": "bench_bot"}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type") or ""
        params = json.loads(body or b"{}") if "json" in ctype else \
            {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        method = self.path.rsplit("/", 1)[-1]
        if method == "setWebhook" and params.get("secret_token"):
            with open(out, "w") as f:
                f.write(params["secret_token"])
        res = ME if method == "getMe" else True
        data = json.dumps({"ok": True, "result": res}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
"$root/build/obj/bench/fakeserver" "$bare_port" 202 & pids+=($!)

cat > "$work/tgm.conf" <<CONF
[database]
url = "$url"
[security]
secret_key = $("$bin/tgmctl" secret-key)
[log]
level = warning
[telegram]
api_url = http://127.0.0.1:$tg_port
[gatewayd]
listen = 127.0.0.1:$gw_port
doorbell = ipc://$work/run/gatewayd-doorbell
status = ipc://$work/run/gatewayd-status
[webhookd]
listen = 127.0.0.1:$wh_port
public_url = https://bench.invalid
doorbell = ipc://$work/run/webhookd-doorbell
billing = ipc://$work/run/billingd-work
process_connections = ${TGM_BENCH_PROCESS_CONNECTIONS:-4}
CONF
mkdir -p "$work/run"
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
admin=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant wh --create-tenant --scope admin 2>/dev/null)
"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & gw_pid=$!
pids+=($gw_pid)
wait_http "http://127.0.0.1:$gw_port/healthz"
bot=$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
	"http://127.0.0.1:$gw_port/v1/bots" -d '{"token":"4242:AAbenchwebhookbenchwebhookbenchwebhook","name":"wh"}' |
	/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
kill "$gw_pid"

start_webhookd() {
	"$bin/webhookd" -c "$work/tgm.conf" 2>>"$work/webhookd.log" & wh_pid=$!
	pids+=($wh_pid)
	wait_http "http://127.0.0.1:$wh_port/healthz"
}
start_webhookd
for _ in $(seq 100); do [ -s "$work/secret" ] && break; sleep 0.1; done
[ -s "$work/secret" ] || { echo "bench: webhookd never registered the webhook"; exit 1; }
export TGM_BENCH_SECRET=$(cat "$work/secret") TGM_BENCH_BOT=$bot

echo "== webhookd intake: /start updates from new users, $conns connections, ${secs}s, $rounds rounds"
: > "$work/ratios"
for r in $(seq "$rounds"); do
	b=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/intake.lua "http://127.0.0.1:$bare_port" | grep '^BENCH')
	w=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/intake.lua "http://127.0.0.1:$wh_port" | grep '^BENCH')
	echo "bare    $b"
	echo "webhookd $w"
	echo "$(echo "$b" | field rps) $(echo "$w" | field rps) $(echo "$w" | field p99_ms) $(echo "$w" | field errors)" >> "$work/ratios"
done
stored=$(sql -c "SELECT count(*) FROM tg_updates WHERE bot_id = $bot")
echo "== result"
echo "updates stored: $stored; non-200 answers: $(awk '{ s += $4 } END { print s }' "$work/ratios")"
echo "intake rate: $(awk '{ print $2 }' "$work/ratios" | median %.0f) updates/s =" \
	"$(awk '{ printf "%.3f\n", $2 / $1 }' "$work/ratios" | median) x the bare server" \
	"($(awk '{ print $1 }' "$work/ratios" | median %.0f) req/s), median of $rounds rounds; goal >= 0.5"
echo "p99: $(awk '{ print $3 }' "$work/ratios" | median) ms"

# 2. processing: the backlog left by 1, from a fresh start
echo
echo "== webhookd processing: the stored updates, from webhookd's start"
kill "$wh_pid"; wait "$wh_pid" 2>/dev/null || true
left=$(sql -c "SELECT count(*) FROM tg_updates WHERE bot_id = $bot AND processed_at IS NULL")
t0=$(date +%s.%N)
start_webhookd
while :; do
	now=$(sql -c "SELECT count(*) FROM tg_updates WHERE bot_id = $bot AND processed_at IS NULL")
	[ "$now" -eq 0 ] && break
	kill -0 "$wh_pid" 2>/dev/null || { echo "bench: webhookd died"; tail "$work/webhookd.log"; exit 1; }
	sleep 0.5
done
t1=$(date +%s.%N)
awk -v n="$left" -v t0="$t0" -v t1="$t1" 'BEGIN {
	printf "processing: %d updates in %.1f s = %.0f updates/s; goal >= 2000\n", n, t1 - t0, n / (t1 - t0) }'
echo "outcomes: $(sql -c "SELECT string_agg(coalesce(outcome, '-') || ' ' || n, ', ') FROM
	(SELECT outcome, count(*) n FROM tg_updates WHERE bot_id = $bot GROUP BY 1 ORDER BY 2 DESC LIMIT 3) x")"
