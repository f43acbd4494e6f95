#!/usr/bin/env bash
# retention.sh - part of `make bench`: gatewayd's durable accept rate (POST /v1/messages,
# 202 after COMMIT) on a database holding TGM_BENCH_RETENTION_MESSAGES (default
# 10,000,000) stored messages with their events (bench/history.sql: 30 days of sent
# messages, so the partitioned messages table has a full first partition) against the
# same on an empty database. One PostgreSQL cluster holds both databases, each with its
# own gatewayd; TGM_BENCH_ROUNDS rounds (default 3) alternate the two, and the median
# ratio is printed; goal >= 0.90. Nothing here is a test: it prints numbers.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_SECONDS (wrk seconds, default 10),
# TGM_BENCH_CONNS (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
conns=${TGM_BENCH_CONNS:-64}
nmsg=${TGM_BENCH_RETENTION_MESSAGES:-10000000}
rounds=${TGM_BENCH_ROUNDS:-3}
work=$(mktemp -d /tmp/tgm-bench-retention.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	sh scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

TGM_PG_OPTIONS="-c fsync=on -c synchronous_commit=on -c max_wal_size=4GB" \
	sh scripts/pg.sh start "$work/pg" >/dev/null
base_url=$(sh scripts/pg.sh url "$work/pg")
secret=$("$bin/tgmctl" secret-key)

# setup NAME -> a database NAME, migrated, with a tenant "bench", its send key and a bot;
# a config $work/NAME.conf for a gatewayd on port $work/NAME.port; prints nothing
setup() {
	local name=$1 url port
	url=${base_url/\/tgm\?/\/$name?}
	port=$(free_port)
	[ "$name" = tgm ] || psql -qAt "$base_url" -c "CREATE DATABASE $name" >/dev/null
	cat > "$work/$name.conf" <<CONF
[database]
url = "$url"
[security]
secret_key = $secret
[log]
level = warning
[gatewayd]
listen = 127.0.0.1:$port
doorbell = ipc://$work/run/$name-doorbell
status = ipc://$work/run/$name-status
key_rate = 1000000
key_burst = 1000000
CONF
	echo "$port" > "$work/$name.port"
	"$bin/tgmctl" -c "$work/$name.conf" migrate >/dev/null
	"$bin/tgmctl" -c "$work/$name.conf" key create --tenant bench --create-tenant \
		--scope send 2>/dev/null > "$work/$name.key"
	psql -qAt "$url" -c "INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,
		token_hash) SELECT id, 1, 'benchbot', 'v1.unused', '\\x00' FROM tenants
		WHERE name = 'bench' RETURNING id" > "$work/$name.bot"
	echo "$url" > "$work/$name.url"
}
setup tgm
setup stored

echo "== storing $nmsg messages with their events (bench/history.sql)"
t0=$SECONDS
psql -qAt "$(cat "$work/stored.url")" -v ON_ERROR_STOP=1 -v tenant=bench -v nmsg="$nmsg" \
	-f bench/history.sql >/dev/null
psql -qAt "$(cat "$work/stored.url")" -c "VACUUM ANALYZE" >/dev/null
echo "   stored in $((SECONDS - t0)) s: $(psql -qAt "$(cat "$work/stored.url")" -c \
	"SELECT pg_size_pretty(pg_database_size(current_database()))"), partitions" \
	"$(psql -qAt "$(cat "$work/stored.url")" -c "SELECT string_agg(name, ' ')
	FROM messages_partitions('messages')")"

for name in tgm stored; do
	"$bin/gatewayd" -c "$work/$name.conf" 2>"$work/$name.log" & pids+=($!)
done
for name in tgm stored; do
	for i in $(seq 50); do
		curl -sf "http://127.0.0.1:$(cat "$work/$name.port")/healthz" >/dev/null && break
		sleep 0.1
	done
done

# rate NAME -> one "BENCH ..." line of wrk on that database's gatewayd
rate() {
	TGM_BENCH_KEY=$(cat "$work/$1.key") TGM_BENCH_BOT=$(cat "$work/$1.bot") \
		wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/post.lua \
		"http://127.0.0.1:$(cat "$work/$1.port")" | grep '^BENCH'
}
echo "== POST /v1/messages on the empty database, then on the one with $nmsg stored," \
	"$conns connections, $rounds rounds of ${secs}s"
: > "$work/ratios"
for r in $(seq "$rounds"); do
	empty=$(rate tgm)
	full=$(rate stored)
	echo "   round $r: empty $(echo "$empty" | field rps) msg/s (p99 $(echo "$empty" |
		field p99_ms) ms), stored $(echo "$full" | field rps) msg/s (p99 $(echo "$full" |
		field p99_ms) ms)"
	echo "$(echo "$full" | field rps) $(echo "$empty" | field rps)" |
		awk '{ printf "%.3f\n", $1 / $2 }' >> "$work/ratios"
	echo "$empty $full" | grep -q 'errors=[1-9]' && echo "   note: some requests failed"
done
sort -n "$work/ratios" | awk -v n="$nmsg" '{ r[NR] = $1 } END {
	printf "accept rate with %d messages stored: %.2f x the empty database (median; range" \
	       " %.2f-%.2f); goal >= 0.90\n", n, r[int((NR + 1) / 2)], r[1], r[NR] }'
exit 0
