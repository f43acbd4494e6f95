#!/usr/bin/env bash
# campaigns.sh - part of `make bench`: a campaign of TGM_BENCH_CAMPAIGN_USERS (default
# 100,000) recipients over two bots, through gatewayd on its own PostgreSQL: how long
# making it, previewing it, starting it (its audience materialised into queued messages,
# one statement), reading its progress, pausing, resuming, canceling and streaming its
# report take. Goal: accepted and materialised in under 10 s. Then a gift campaign to
# TGM_BENCH_CAMPAIGN_GIFTS (default 10,000) of them: one ledger_apply per user. No
# senderd runs: the messages stay queued. Nothing here is a test: it prints numbers.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_CAMPAIGN_USERS, TGM_BENCH_CAMPAIGN_GIFTS.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
nusers=${TGM_BENCH_CAMPAIGN_USERS:-100000}
ngifts=${TGM_BENCH_CAMPAIGN_GIFTS:-10000}

bench_setup campaigns
port=$(free_port)
bench_conf "$port" </dev/null
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
key=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --create-tenant --scope admin)

echo "== a campaign to $nusers users of two bots"
sql -v n="$nusers" <<'SQL'
INSERT INTO bots (tenant_id, telegram_id, username, name, token_sealed, token_hash)
SELECT t.id, 910000000 + i, 'campaign' || i, 'campaign', 'v1.unused',
       decode(md5('campaign:' || i), 'hex')
FROM tenants t, generate_series(1, 2) i WHERE t.name = 'bench';
INSERT INTO bot_users (bot_id, user_id, first_name, language_code, credits, last_seen_at)
SELECT b.id, 1000000 + g, 'User ' || g, CASE WHEN g % 10 = 0 THEN 'ru' ELSE 'en' END, g % 50,
       now() - (g % 90) * interval '1 day'
FROM generate_series(1, :n) g
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM bots) b ON b.k = g % 2;
VACUUM ANALYZE;
SQL
bots=$(sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM bots")

"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
	sleep 0.1
done

# call METHOD PATH [BODY] -> "<ms> <status>", the answer in $work/out
call() {
	curl -s -o "$work/out" -w '%{time_total} %{http_code}\n' -X "$1" \
		-H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		${3:+-d "$3"} "http://127.0.0.1:$port$2" |
		awk '{ printf "%8.1f ms  %s", $1 * 1000, $2 }'
}
show() { printf '   %-34s %s\n' "$1" "$2"; }
# pg_cpu - the CPU time (ms) the cluster's live processes have used so far: on a shared
# machine a start's wall time swings by a third, the server's CPU much less (a process
# that ends meanwhile makes cat fail: not an error here)
pg_cpu() {
	local pm
	pm=$(head -1 "$work/pg/data/postmaster.pid")
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" '
		{ pid = $1; sub(/^.*\) /, "") } pid == pm || $2 == pm { t += $12 + $13 }
		END { printf "%d", t * 1000 / hz }'
}

show "POST /v1/campaigns" "$(call POST /v1/campaigns "{\"bot_ids\":[$bots],
	\"audience\":{\"languages\":[\"en\"]},
	\"message\":{\"text\":\"Hi {first_name}, you have {credits} credits\"}}")"
id=$(sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p' "$work/out")
show "GET  preview" "$(call GET "/v1/campaigns/$id/preview")"
c0=$(pg_cpu)
t0=$(date +%s.%N)
show "POST start (materialise)" "$(call POST "/v1/campaigns/$id/start")"
t1=$(date +%s.%N)
c1=$(pg_cpu)
queued=$(sql -c "SELECT count(*) FROM messages WHERE status = 'queued'")
echo "   $queued messages queued; made and started in $(echo "$t1 - $t0" | bc) s (goal < 10 s);" \
	"PostgreSQL's CPU $((c1 - c0)) ms, load average $(cut -d' ' -f1 /proc/loadavg)"
show "GET  /v1/campaigns/$id (progress)" "$(call GET "/v1/campaigns/$id")"
show "POST pause" "$(call POST "/v1/campaigns/$id/pause")"
show "POST resume" "$(call POST "/v1/campaigns/$id/resume")"
show "GET  report.csv" "$(call GET "/v1/campaigns/$id/report.csv") ($(wc -l < "$work/out") lines)"
show "POST cancel" "$(call POST "/v1/campaigns/$id/cancel")"

echo "== a gift of 5 credits to $ngifts of them"
show "POST /v1/campaigns (gift)" "$(call POST /v1/campaigns "{\"bot_ids\":[$bots],
	\"gift\":5,\"audience\":{\"balance_max\":$((ngifts * 50 / nusers - 1))}}")"
id=$(sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p' "$work/out")
show "POST start (ledger, messages)" "$(call POST "/v1/campaigns/$id/start")"
echo "   $(sql -c "SELECT count(*) FROM ledger WHERE key LIKE 'campaign:$id:%'") gifts in the ledger"

