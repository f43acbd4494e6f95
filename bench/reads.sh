#!/usr/bin/env bash
# reads.sh - part of `make bench`: gatewayd's read routes on a big table, and the cost
# of choosing the bot. Its own PostgreSQL and gatewayd; nothing here is a test, it
# prints numbers.
#  1. Seeds TGM_BENCH_READS_MESSAGES (default 1,000,000) messages over 10 bots, a day of
#     traffic, a third sent (bench/seed.sql), then times every read route: p50 and p95
#     over TGM_BENCH_CALLS calls (default 20) each; goal p95 < 50 ms. Set
#     TGM_BENCH_READS_MESSAGES=10000000 for the big case.
#  2. POST /v1/messages without bot_id (gatewayd chooses) against naming one bot, and
#     against naming per message the next of the chat's candidate bots in turn (the
#     spread the choice makes, without the choice: other index ranges, counter rows and
#     bot rows), with 200 and with 1,000 bots and TGM_BENCH_QUEUED (default 1,000,000)
#     queued messages, in TGM_BENCH_ROUNDS rounds (default 3) alternating; goal:
#     choosing >= 0.9 of each.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_SECONDS (wrk seconds, default 10),
# TGM_BENCH_CHOOSE=0 (the read routes only).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
nmsg=${TGM_BENCH_READS_MESSAGES:-1000000}
calls=${TGM_BENCH_CALLS:-20}
queued=${TGM_BENCH_QUEUED:-1000000}
rounds=${TGM_BENCH_ROUNDS:-3}
choose=${TGM_BENCH_CHOOSE:-1}
need_wrk

bench_setup reads
port=$(free_port)
bench_conf "$port" <<CONF
key_rate = 1000000
key_burst = 1000000
CONF
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
key() { "$bin/tgmctl" -c "$work/tgm.conf" key create --tenant "$1" --create-tenant --scope admin 2>/dev/null; }
reads_key=$(key reads)
c200_key=$(key choose200)
c1000_key=$(key choose1000)

echo "== seeding $nmsg messages over 10 bots (a day, a third sent)$([ "$choose" = 1 ] &&
	echo "; $queued queued over 1000 bots and $((queued / 5)) over 200")"
t0=$SECONDS
if [ "$choose" = 1 ]; then
	sql -v tenant=choose1000 -v nbots=1000 -v nmsg="$queued" -v kind=queued -f bench/seed.sql
	sql -v tenant=choose200 -v nbots=200 -v nmsg="$((queued / 5))" -v kind=queued -f bench/seed.sql
fi
sql -v tenant=reads -v nbots=10 -v nmsg="$nmsg" -v kind=day -f bench/seed.sql
sql -c "VACUUM ANALYZE" >/dev/null
echo "   seeded in $((SECONDS - t0)) s"

"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done

# --- 1. read routes -----------------------------------------------------------------
bot=$(sql -c "SELECT min(b.id) FROM bots b JOIN tenants t ON t.id = b.tenant_id WHERE t.name = 'reads'")
msg=$(sql -c "SELECT max(id) FROM messages WHERE bot_id = $bot")
chat=$(sql -c "SELECT chat FROM messages WHERE id = $msg")
# time_route PATH -> "p50 p95" in ms over $calls calls (after one warm-up call)
time_route() {
	local auth=(-H "Authorization: Bearer $reads_key")
	curl -s -o /dev/null "${auth[@]}" "http://127.0.0.1:$port$1"
	for i in $(seq "$calls"); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "${auth[@]}" "http://127.0.0.1:$port$1"
	done | sort -k2 -n | awk '$1 != 200 { bad++ } { t[NR] = $2 * 1000 } END {
		printf "%8.1f %8.1f%s", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.999)],
		bad ? sprintf("  (%d answers not 200)", bad) : "" }'
}
echo "== read routes with $(sql -c "SELECT count(*) FROM messages WHERE tenant_id =
	(SELECT id FROM tenants WHERE name = 'reads')") messages over 10 bots, $calls calls each (goal p95 < 50 ms)"
printf "%-52s %8s %8s\n" route p50_ms p95_ms
for route in /v1/bots "/v1/bots/$bot" /v1/stats "/v1/stats?bucket=day" \
	"/v1/stats?bot_id=$bot&bucket=minute" /metrics "/v1/messages?chat_id=$chat" \
	/v1/messages "/v1/messages?bot_id=$bot" "/v1/messages?status=sent" "/v1/messages/$msg" \
	/v1/alerts; do
	printf "%-52s %s\n" "GET $route" "$(time_route "$route")"
done

# --- 2. choosing the bot ------------------------------------------------------------
# wrk_rate KEY BOT [SPREAD] -> msg/s (BOT empty: gatewayd chooses; SPREAD: a file of
# "chat bot bot ..." lines, each message naming the next of its chat's bots)
wrk_rate() {
	TGM_BENCH_KEY=$1 TGM_BENCH_BOT=$2 TGM_BENCH_CHATS=5000 TGM_BENCH_SPREAD=${3:-} \
		wrk -t2 -c32 -d"${secs}s" -s bench/post.lua "http://127.0.0.1:$port" |
		grep '^BENCH' | tee -a "$work/wrk.log" | field rps
}
# ratio_line WHAT COLUMN -> the median and range of chosen / COLUMN of $work/rates
ratio_line() {
	awk -v c="$2" '{ printf "%.3f\n", $3 / $c }' "$work/rates" | sort -n |
		awk -v what="$1" '{ r[NR] = $1 } END {
		printf "%s: %.2f (median; range %.2f-%.2f); goal >= 0.90\n", what,
		       r[int((NR + 1) / 2)], r[1], r[NR] }'
}
[ "$choose" = 1 ] || exit 0
for case in 200 1000; do
	k=$c200_key
	[ "$case" = 1000 ] && k=$c1000_key
	b=$(sql -c "SELECT min(b.id) FROM bots b JOIN tenants t ON t.id = b.tenant_id
		WHERE t.name = 'choose$case'")
	# the bots that may reach each chat: those the choice picks from (bench/seed.sql's
	# queued messages made each chat known to 3 bots)
	sql -c "SELECT r.chat, string_agg(r.bot_id::text, ' ' ORDER BY r.bot_id) FROM bot_chats r
		JOIN bots b ON b.id = r.bot_id JOIN tenants t ON t.id = b.tenant_id
		WHERE t.name = 'choose$case' GROUP BY r.chat" | tr '|' ' ' > "$work/spread$case"
	echo "== POST /v1/messages choosing among $case bots ($(sql -c "SELECT count(*) FROM messages m
		JOIN bots b ON b.id = m.bot_id JOIN tenants t ON t.id = b.tenant_id
		WHERE t.name = 'choose$case'") queued) vs naming one bot, and vs naming the chat's" \
		"bots in turn (spread), 32 connections, $rounds rounds of ${secs}s"
	: > "$work/rates"
	for r in $(seq "$rounds"); do
		named=$(wrk_rate "$k" "$b")
		spread=$(wrk_rate "$k" "$b" "$work/spread$case")
		chosen=$(wrk_rate "$k" "")
		echo "   round $r: named $named msg/s, spread $spread msg/s, chosen $chosen msg/s"
		echo "$named $spread $chosen" >> "$work/rates"
	done
	echo "   choices so far by where: $(curl -sf "http://127.0.0.1:$port/metrics" |
		sed -n 's/^tgm_gatewayd_bot_choices_total{where="\(.*\)"} /\1 /p' | paste -sd ' ')"
	ratio_line "choosing among $case bots, x the named rate (one bot)" 1
	ratio_line "choosing among $case bots, x the spread named rate (the same bots, no choice)" 2
done
grep -q 'errors=[1-9]' "$work/wrk.log" && echo "note: some requests failed: $(grep 'errors=[1-9]' "$work/wrk.log" | head -n1)"
exit 0
