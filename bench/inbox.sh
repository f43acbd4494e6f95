#!/usr/bin/env bash
# inbox.sh - part of `make bench`: the inbox's API on a big tenant. Its own PostgreSQL and
# gatewayd; nothing here is a test, it prints numbers. Seeds TGM_BENCH_INBOX_ITEMS
# (default 1,000,000) inbound messages in TGM_BENCH_INBOX_CONVERSATIONS (default 100,000)
# conversations over 10 bots, and a tenth as many outbound messages (bench/inbox_seed.sql);
# then times the inbox list with filters, searches (a common word, a part of a word, a
# contact name, tokens in 0.1 % and in one of the messages) and a timeline: p50 and
# p95 over TGM_BENCH_CALLS calls (default 20) each; goal p95 < 100 ms for the list and
# a search.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_INBOX_ITEMS,
# TGM_BENCH_INBOX_CONVERSATIONS, TGM_BENCH_CALLS.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
nitems=${TGM_BENCH_INBOX_ITEMS:-1000000}
nconv=${TGM_BENCH_INBOX_CONVERSATIONS:-100000}
calls=${TGM_BENCH_CALLS:-20}

bench_setup inbox fast
port=$(free_port)
bench_conf "$port" <<CONF
key_rate = 1000000
key_burst = 1000000
CONF
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
key=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant inbox --create-tenant --scope admin 2>/dev/null)

echo "== seeding $nitems inbound messages in $nconv conversations over 10 bots"
t0=$SECONDS
sql -v tenant=inbox -v nconv="$nconv" -v nitems="$nitems" -f bench/inbox_seed.sql
sql -c "VACUUM ANALYZE" >/dev/null
echo "   seeded in $((SECONDS - t0)) s"

"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "gatewayd did not start:"; cat "$work/gatewayd.log"; exit 1; }

bot=$(sql -c "SELECT min(id) FROM bots WHERE username LIKE 'inboxbot%'")
conv=$(sql -c "SELECT max(id) FROM conversations")
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
echo "== the inbox's API answers, $calls calls each (goal p95 < 100 ms for the list and a search)"
printf "%-64s %8s %8s\n" route p50_ms p95_ms
while read -r route; do
	printf "%-64s %s\n" "GET $route" "$(time_route "$route")"
done <<ROUTES
/v1/conversations
/v1/conversations?state=open&unread=true
/v1/conversations?bot_id=$bot&state=pending
/v1/conversations?pinned=true
/v1/conversations?q=refund
/v1/conversations?q=subscr
/v1/conversations?q=Name4242
/v1/conversations?q=tracking%20number
/v1/conversations?q=a1b
/v1/conversations?q=c81e728d
/v1/conversations?q=user99999
/v1/conversations?q=refund&bot_id=$bot&state=open
/v1/conversations/$conv
/v1/conversations/$conv/timeline
ROUTES
