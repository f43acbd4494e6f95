#!/usr/bin/env bash
# dashboard.sh - part of `make bench`: the API answers behind every dashboard page on a
# big tenant. Its own PostgreSQL and gatewayd; nothing here is a test, it prints numbers.
# Seeds TGM_BENCH_DASHBOARD_MESSAGES (default 1,000,000) messages over 10 bots (a day,
# bench/seed.sql), 100,000 bot users, 10,000 payments (a tenth refunded, 1 % disputed),
# 200,000 inbound updates and 100,000 credit debits over a week, all with
# generate_series in PostgreSQL; then times each page's routes: p50 and p95 over
# TGM_BENCH_CALLS calls (default 20) each; goal p95 < 50 ms.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_DASHBOARD_MESSAGES, TGM_BENCH_CALLS.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
nmsg=${TGM_BENCH_DASHBOARD_MESSAGES:-1000000}
calls=${TGM_BENCH_CALLS:-20}

bench_setup dash fast
port=$(free_port)
bench_conf "$port" <<CONF
key_rate = 1000000
key_burst = 1000000
CONF
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
key=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant dash --create-tenant --scope admin 2>/dev/null)

echo "== seeding $nmsg messages, 100,000 bot users, 10,000 payments, 200,000 updates and" \
	"100,000 debits over 10 bots"
t0=$SECONDS
sql -v tenant=dash -v nbots=10 -v nmsg="$nmsg" -v kind=day -f bench/seed.sql
sql -f bench/dashboard_seed.sql
sql -c "VACUUM ANALYZE" >/dev/null
echo "   seeded in $((SECONDS - t0)) s"

"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done

# the steady state: the janitor's count of active users (sql/032), made at start and every
# minute, is in place, as a dashboard finds it on a gatewayd running for a minute or more
for i in $(seq 100); do
	[ "$(sql -c "SELECT count(*) = (SELECT count(*) FROM bots) FROM bot_active_users
		WHERE at > now() - interval '1 minute'")" = t ] && break
	sleep 0.1
done
bot=$(sql -c "SELECT min(id) FROM bots")
# time_route PATH -> "p50 p95" in ms over $calls calls (after one warm-up call)
time_route() {
	local auth=(-H "Authorization: Bearer $key")
	curl -s -o /dev/null "${auth[@]}" "http://127.0.0.1:$port$1"
	for i in $(seq "$calls"); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "${auth[@]}" "http://127.0.0.1:$port$1"
	done | sort -k2 -n | awk '$1 != 200 { bad++ } { t[NR] = $2 * 1000 } END {
		printf "%8.1f %8.1f%s", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.999)],
		bad ? sprintf("  (%d answers not 200)", bad) : "" }'
}
week=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)
month=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
echo "== the dashboard's API answers, $calls calls each (goal p95 < 50 ms)"
printf "%-12s %-58s %8s %8s\n" page route p50_ms p95_ms
while read -r page route; do
	printf "%-12s %-58s %s\n" "$page" "GET $route" "$(time_route "$route")"
done <<ROUTES
overview /v1/bots
overview /v1/alerts
messages /v1/messages?limit=50
messages /v1/messages?bot_id=$bot&status=failed&limit=50
keys /v1/keys
bots /v1/bot-settings
analytics /v1/stats?bucket=hour
analytics /v1/stats?from=$month&bucket=day
analytics /v1/stats/activity?from=$week
analytics /v1/stats/activity?from=$month
analytics /v1/stats/activity?from=$month&bot_id=$bot
billing /v1/bots/$bot/products
billing /v1/bots/$bot/users?limit=100
billing /v1/bots/$bot/payments?limit=100
system /v1/system
ROUTES
