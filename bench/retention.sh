#!/usr/bin/env bash
# retention.sh - part of `make bench`: gatewayd's durable accept rate (POST /v1/messages,
# 202 after COMMIT) on a database holding TGM_BENCH_RETENTION_MESSAGES (default
# 10,000,000) stored messages with their events (bench/history.sql: 30 days of sent
# messages, so the partitioned messages table has a full first partition) against the
# same on an empty database. One PostgreSQL cluster holds both databases, each with its
# own gatewayd; TGM_BENCH_ROUNDS rounds (default 3) measure both, each first in every
# other round, and the median ratio is printed; goal >= 0.90. The history is written with fsync off (it is not what
# is measured), then PostgreSQL restarts durable (fsync, synchronous commit) for the
# rounds. Nothing here is a test: it prints numbers.
#
# Environment: TGM_BIN (default bin/), TGM_BENCH_SECONDS (wrk seconds, default 10),
# TGM_BENCH_CONNS (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
conns=${TGM_BENCH_CONNS:-64}
nmsg=${TGM_BENCH_RETENTION_MESSAGES:-10000000}
rounds=${TGM_BENCH_ROUNDS:-3}
need_wrk

export TGM_PG_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
bench_setup retention fast
unset TGM_PG_OPTIONS
secret=$("$bin/tgmctl" secret-key)

# setup NAME - a database NAME, migrated, with a tenant "bench", its send key and a bot;
# $work/NAME.conf (its gatewayd's port is chosen when it starts), .url, .key, .bot
setup() {
	local name=$1 db_url=${url/\/tgm\?/\/$1?}
	[ "$name" = tgm ] || sql -c "CREATE DATABASE $name"
	echo "$db_url" > "$work/$name.url"
	printf '[database]\nurl = "%s"\n[security]\nsecret_key = %s\n[log]\nlevel = warning\n' \
		"$db_url" "$secret" > "$work/$name.conf"
	"$bin/tgmctl" -c "$work/$name.conf" migrate >/dev/null
	"$bin/tgmctl" -c "$work/$name.conf" key create --tenant bench --create-tenant \
		--scope send 2>/dev/null > "$work/$name.key"
	psql -qAt "$db_url" -c "INSERT INTO bots (tenant_id, telegram_id, username, token_sealed,
		token_hash) SELECT id, 1, 'benchbot', 'v1.unused', '\\x00' FROM tenants
		WHERE name = 'bench' RETURNING id" > "$work/$name.bot"
}
setup tgm
setup stored

echo "== storing $nmsg messages with their events (bench/history.sql)"
t0=$SECONDS
stored=$(cat "$work/stored.url")
psql -qAt "$stored" -v ON_ERROR_STOP=1 -v tenant=bench -v nmsg="$nmsg" -f bench/history.sql \
	>/dev/null
psql -qAt "$stored" -c "VACUUM ANALYZE" >/dev/null
echo "   stored in $((SECONDS - t0)) s: $(psql -qAt "$stored" -c \
	"SELECT pg_size_pretty(pg_database_size(current_database()))"), partitions" \
	"$(psql -qAt "$stored" -c "SELECT string_agg(name, ' ') FROM messages_partitions('messages')")"
sh scripts/pg.sh stop "$work/pg" >/dev/null
TGM_PG_OPTIONS="-c fsync=on -c synchronous_commit=on" sh scripts/pg.sh start "$work/pg" >/dev/null

# start NAME - its gatewayd, on a port free now
start() {
	local port
	port=$(free_port)
	echo "$port" > "$work/$1.port"
	printf '[gatewayd]\nlisten = 127.0.0.1:%s\ndoorbell = ipc://%s/run/%s-doorbell\n'`
		`'status = ipc://%s/run/%s-status\nkey_rate = 1000000\nkey_burst = 1000000\n' \
		"$port" "$work" "$1" "$work" "$1" >> "$work/$1.conf"
	"$bin/gatewayd" -c "$work/$1.conf" 2>"$work/$1.log" & pids+=($!)
	wait_http "http://127.0.0.1:$port/healthz" || { cat "$work/$1.log"; exit 1; }
}
start tgm
start stored

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
	if [ $((r % 2)) = 1 ]; then # each goes first in every other round
		empty=$(rate tgm)
		full=$(rate stored)
	else
		full=$(rate stored)
		empty=$(rate tgm)
	fi
	echo "   round $r: empty $(echo "$empty" | field rps) msg/s (p99 $(echo "$empty" |
		field p99_ms) ms), stored $(echo "$full" | field rps) msg/s (p99 $(echo "$full" |
		field p99_ms) ms)"
	echo "$(echo "$full" | field rps) $(echo "$empty" | field rps)" |
		awk '{ printf "%.3f\n", $1 / $2 }' >> "$work/ratios"
	if echo "$empty $full" | grep -q 'errors=[1-9]'; then echo "   note: some requests failed"; fi
done
echo "accept rate with $nmsg messages stored: $(median < "$work/ratios") x the empty" \
	"database (median of $rounds rounds); goal >= 0.90"
exit 0
