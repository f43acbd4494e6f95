#!/usr/bin/env bash
# coldload.sh - part of `make bench`: each dashboard page from a cold load in Chromium, on
# a big tenant. Its own PostgreSQL and gatewayd; nothing here is a test, it prints numbers.
# Seeds the dashboard bench's tenant (bench/seed.sql with TGM_BENCH_COLDLOAD_MESSAGES,
# default 1,000,000, messages over 10 bots, then bench/dashboard_seed.sql: 100,000 bot
# users, 10,000 payments, 200,000 updates, 100,000 debits) and an inbox of
# TGM_BENCH_COLDLOAD_CONVERSATIONS (default 10,000) conversations with ten messages each
# (bench/inbox_seed.sql), logs an owner in, then bench/coldload.mjs opens every page in a
# fresh browser context TGM_BENCH_COLDLOAD_ROUNDS times (default 5): milliseconds from
# the navigation's start until the page shows its data, median and range; goal < 1 s.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_COLDLOAD_MESSAGES,
# TGM_BENCH_COLDLOAD_CONVERSATIONS, TGM_BENCH_COLDLOAD_ROUNDS.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
nmsg=${TGM_BENCH_COLDLOAD_MESSAGES:-1000000}
nconv=${TGM_BENCH_COLDLOAD_CONVERSATIONS:-10000}
rounds=${TGM_BENCH_COLDLOAD_ROUNDS:-5}

[ -x /usr/bin/chromium ] || { echo "bench: /usr/bin/chromium is missing (apt-get install chromium)"; exit 1; }
[ -d tests/node_modules/playwright-core ] ||
	{ echo "bench: tests/node_modules/playwright-core is missing (npm ci --prefix tests)"; exit 1; }

bench_setup coldload fast
port=$(free_port)
bench_conf "$port" </dev/null
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
"$bin/tgmctl" -c "$work/tgm.conf" key create --tenant dash --create-tenant --scope admin >/dev/null 2>&1
password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$password" | "$bin/tgmctl" -c "$work/tgm.conf" user create --tenant dash \
	--email owner@bench --role owner --password-stdin >/dev/null 2>&1

echo "== seeding $nmsg messages, 100,000 bot users, 10,000 payments, 200,000 updates," \
	"100,000 debits and $nconv conversations"
t0=$SECONDS
sql -v tenant=dash -v nbots=10 -v nmsg="$nmsg" -v kind=day -f bench/seed.sql
sql -f bench/dashboard_seed.sql
sql -v tenant=dash -v nconv="$nconv" -v nitems="$((nconv * 10))" -f bench/inbox_seed.sql >/dev/null
sql -c "VACUUM ANALYZE" >/dev/null
echo "   seeded in $((SECONDS - t0)) s"

"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
wait_http "http://127.0.0.1:$port/healthz"
cookie=$(curl -s -D - -o /dev/null -H "Origin: http://127.0.0.1:$port" -H 'Content-Type: application/json' \
	-d "{\"email\":\"owner@bench\",\"password\":\"$password\"}" "http://127.0.0.1:$port/v1/session" |
	sed -n 's/^[Ss]et-[Cc]ookie: tgm_session=\([^;]*\);.*/\1/p')
[ -n "$cookie" ] || { echo "bench: the owner's login failed"; exit 1; }

echo "== the dashboard from a cold load, each page in a fresh Chromium context, $rounds rounds" \
	"(goal: usable < 1000 ms)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/coldload.mjs "http://127.0.0.1:$port" "$cookie" "$rounds"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
