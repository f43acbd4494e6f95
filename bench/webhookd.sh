#!/usr/bin/env bash
# webhookd.sh - part of `make bench`: webhookd's intake and processing of Telegram updates.
# Its own PostgreSQL, gatewayd (to register the bot) and webhookd; nothing here is a test,
# it prints numbers.
#  1. The bare libevent server (bench/fakeserver, mode 202) and webhookd's
#     POST /telegram/<bot> under the same wrk load of /start updates, each from a new user,
#     in TGM_BENCH_ROUNDS rounds (default 3) alternating: the intake rate (an update
#     answered 200 only after its COMMIT) as a ratio of the bare server; goal >= 0.5;
#     once with processing running, once with it held.
#  2. Processing: TGM_BENCH_BACKLOG (default 20,000) /start updates from new users, stored
#     while webhookd is stopped, are processed (the user recorded, free credits granted,
#     the welcome queued), timed from webhookd's start to the last one's processed_at;
#     in rounds alternating one instance and two; goal >= 2,000 updates per second for
#     one, more for two.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_SECONDS (wrk seconds, default 10),
# TGM_BENCH_CONNS (wrk connections, default 32), TGM_BENCH_ROUNDS, TGM_BENCH_BACKLOG,
# TGM_BENCH_INTAKE=0 (processing only).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
rounds=${TGM_BENCH_ROUNDS:-3}
conns=${TGM_BENCH_CONNS:-32}
backlog=${TGM_BENCH_BACKLOG:-20000}
need_wrk

bench_setup webhookd
gw_port=$(free_port) wh_port=$(free_port) wh2_port=$(free_port) tg_port=$(free_port)
bare_port=$(free_port)

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

bench_conf "$gw_port" <<CONF
[telegram]
api_url = http://127.0.0.1:$tg_port
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

# intake_rounds LABEL - TGM_BENCH_ROUNDS rounds, the bare server and webhookd alternating;
# each round's ids are new (TGM_BENCH_ROUND); the median ratio and p99 as one line
intake_rounds() {
	: > "$work/ratios"
	for r in $(seq "$rounds"); do
		export TGM_BENCH_ROUND=$(( ++intake_round ))
		b=$(bench_wrk_cpu "$secs" bench/intake.lua "$conns" "http://127.0.0.1:$bare_port")
		t0=$(($(bench_pg_ticks) + $(awk '{ print $14 + $15 }' "/proc/$wh_pid/stat")))
		w=$(bench_wrk_cpu "$secs" bench/intake.lua "$conns" "http://127.0.0.1:$wh_port")
		t1=$(($(bench_pg_ticks) + $(awk '{ print $14 + $15 }' "/proc/$wh_pid/stat")))
		echo "bare    $b"
		echo "webhookd $w"
		echo "$(echo "$b" | field rps) $(echo "$w" | field rps) $(echo "$w" | field p99_ms)" \
			"$(echo "$w" | field errors) $(echo "$w" | field client_us)" \
			"$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$(echo "$w" | field requests)" \
			'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')" >> "$work/ratios"
	done
	echo "intake, $1: $(awk '{ print $2 }' "$work/ratios" | median %.0f) updates/s =" \
		"$(awk '{ printf "%.3f\n", $2 / $1 }' "$work/ratios" | median) x the bare server" \
		"($(awk '{ print $1 }' "$work/ratios" | median %.0f) req/s), median of $rounds rounds; goal >= 0.5;" \
		"p99 $(awk '{ print $3 }' "$work/ratios" | median) ms; non-200 answers:" \
		"$(awk '{ s += $4 } END { print s }' "$work/ratios")" >> "$work/intake"
	# the most this CPU an update allows: every core busy with webhookd, PostgreSQL and wrk
	echo "  CPU ceiling: $(bench_ceiling "$work/ratios" 0.5 "webhookd's and PostgreSQL's CPU an" \
		"update, $(awk '{ print $6 }' "$work/ratios" | median %.0f) us, and wrk's, $(awk \
		'{ print $5 }' "$work/ratios" | median %.0f)")" >> "$work/intake"
}

# 1. intake with processing running (each stored /start then costs PostgreSQL about ten
# times its store, on the same 2 cores), then with processing held by a lock on bot_users
# (the store path alone: what webhookd takes in while its processing is behind)
if [ "${TGM_BENCH_INTAKE:-1}" != 0 ]; then
	echo "== webhookd intake: /start updates from new users, $conns connections, ${secs}s, $rounds rounds"
	intake_round=0
	: > "$work/intake"
	intake_rounds "processing running"
	PGAPPNAME=bench-hold psql -qAt "$url" -c "BEGIN; LOCK bot_users; SELECT pg_sleep(3600)" \
		>/dev/null 2>&1 &
	pids+=($!)
	intake_rounds "processing held"
	sql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'bench-hold'" >/dev/null
	echo "== result"
	echo "updates stored: $(sql -c "SELECT count(*) FROM tg_updates WHERE bot_id = $bot")"
	cat "$work/intake"
fi

# 2. processing: a backlog of /start updates from new users, stored as intake stores them
# (webhookd stopped), then processed from webhookd's start to the last one's processed_at;
# alternating rounds of one instance and of two (the second on ports of its own)
echo
echo "== webhookd processing: $backlog /start updates from new users, from webhookd's start," \
	"$rounds rounds of 1 and of 2 instances alternating"
sed -e "s/^listen = .*/listen = 127.0.0.1:$wh2_port/" \
	-e "s|webhookd-doorbell|webhookd2-doorbell|" "$work/tgm.conf" > "$work/tgm2.conf"
wh_pids=()
stop_webhookd() {
	for p in "${wh_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	wh_pids=()
}
stop_webhookd
kill "$wh_pid" 2>/dev/null || true; wait "$wh_pid" 2>/dev/null || true
sql -c "UPDATE tg_updates SET processed_at = coalesce(processed_at, now()) WHERE bot_id = $bot" >/dev/null
sql -c "VACUUM tg_updates" >/dev/null # the claim's index holds no dead entries from intake
: > "$work/proc1"; : > "$work/proc2"
for r in $(seq "$rounds"); do
	for inst in 1 2; do
		base=$(( 1000000000 + (r * 2 + inst) * 10000000 ))
		# statistics as a live system mostly has them: taken with nothing queued
		sql -c "ANALYZE tg_updates" >/dev/null
		sql -c "INSERT INTO tg_updates (bot_id, update_id, chat_id, kind, payload)
			SELECT $bot, $base + i, $base + i, 'message', jsonb_build_object('update_id', $base + i,
			 'message', jsonb_build_object('message_id', 1, 'date', 1, 'text', '/start',
			 'from', jsonb_build_object('id', $base + i, 'is_bot', false, 'first_name', 'Bench'),
			 'chat', jsonb_build_object('id', $base + i, 'type', 'private', 'first_name', 'Bench')))
			FROM generate_series(1, $backlog) i" >/dev/null
		sql -c "CHECKPOINT" >/dev/null
		t0=$(date +%s.%N)
		for k in $(seq "$inst"); do
			c=$work/tgm.conf
			[ "$k" = 2 ] && c=$work/tgm2.conf
			"$bin/webhookd" -c "$c" 2>>"$work/webhookd.log" & wh_pids+=($!)
			pids+=($!)
		done
		# an existence check once a second (the time is the last processed_at, not when
		# this loop notices): counting what is left every 0.2 s took up to a quarter of
		# PostgreSQL's CPU from the processing it measures, and a psql (with its backend)
		# every 0.2 s a tenth of the machine
		while [ "$(sql -c "SELECT EXISTS (SELECT 1 FROM tg_updates WHERE processed_at IS NULL)")" = t ]; do
			for p in "${wh_pids[@]}"; do
				kill -0 "$p" 2>/dev/null || { echo "bench: webhookd died"; tail "$work/webhookd.log"; exit 1; }
			done
			sleep 1
		done
		t1=$(sql -c "SELECT extract(epoch FROM max(processed_at)) FROM tg_updates WHERE bot_id = $bot
			AND update_id > $base")
		stop_webhookd
		rate=$(awk -v n="$backlog" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", n / (t1 - t0) }')
		echo "round $r, $inst instance(s): $backlog updates in $(awk -v t0="$t0" -v t1="$t1" \
			'BEGIN { printf "%.2f", t1 - t0 }') s = $rate updates/s"
		echo "$rate" >> "$work/proc$inst"
	done
done
echo "== result"
echo "processing, 1 instance: $(median %.0f < "$work/proc1") updates/s, median of $rounds rounds; goal >= 2000"
echo "processing, 2 instances: $(median %.0f < "$work/proc2") updates/s; goal: more than 1 instance"
echo "outcomes: $(sql -c "SELECT string_agg(coalesce(outcome, '-') || ' ' || n, ', ') FROM
	(SELECT outcome, count(*) n FROM tg_updates WHERE bot_id = $bot AND update_id >= 1000000000
	 GROUP BY 1 ORDER BY 2 DESC LIMIT 3) x")"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
