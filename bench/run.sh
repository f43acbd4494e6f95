#!/usr/bin/env bash
# run.sh - `make bench`: the gateway's durable accept rate against a bare libevent
# server that answers 202 without work, both loaded by wrk from loopback in the same
# run, and the ratio of the two. Nothing here is a test: it prints numbers.
#
# Environment: TGM_BENCH_SECONDS (default 10), TGM_BENCH_CONNS (default 64),
# TGM_BIN (default bin/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
conns=${TGM_BENCH_CONNS:-64}
work=$(mktemp -d /tmp/tgm-bench.XXXXXX)
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

# bench_wrk CONNS PORT -> one "BENCH ..." line
bench_wrk() {
	wrk -t2 -c"$1" -d"${secs}s" --latency -s bench/post.lua "http://127.0.0.1:$2" | grep '^BENCH'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

echo "== PostgreSQL and gatewayd"
TGM_PG_OPTIONS="-c fsync=on -c synchronous_commit=on" sh scripts/pg.sh start "$work/pg" >/dev/null
url=$(sh scripts/pg.sh url "$work/pg")
gw_port=$(free_port)
cat > "$work/tgm.conf" <<CONF
[database]
url = "$url"
[security]
secret_key = $("$bin/tgmctl" secret-key)
[log]
level = warning
[gatewayd]
listen = 127.0.0.1:$gw_port
doorbell = ipc://$work/run/gatewayd-doorbell
status = ipc://$work/run/gatewayd-status
key_rate = 1000000
key_burst = 1000000
CONF
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
export TGM_BENCH_KEY=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --scope send 2>/dev/null)
psql -qAt "$url" -c "INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)
	SELECT id, 1, 'benchbot', 'v1.unused', '\\x00' FROM tenants WHERE name = 'bench'" >/dev/null
export TGM_BENCH_BOT=$(psql -qAt "$url" -c "SELECT max(id) FROM bots")
"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)

base_port=$(free_port)
"$root/build/obj/bench/bare202" "$base_port" & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$gw_port/healthz" >/dev/null && break
	sleep 0.1
done

echo "== bare libevent server answering 202 (baseline), ${conns} connections, ${secs}s"
bare=$(bench_wrk "$conns" "$base_port")
echo "$bare"
echo "== gatewayd POST /v1/messages, durable (202 after COMMIT), ${conns} connections, ${secs}s"
gw=$(bench_wrk "$conns" "$gw_port")
echo "$gw"
light=$((conns / 8 > 0 ? conns / 8 : 1))
echo "== gatewayd at lighter load, ${light} connections"
gwl=$(bench_wrk "$light" "$gw_port")
echo "$gwl"
rows=$(psql -qAt "$url" -c "SELECT count(*) FROM messages")
echo "== result"
echo "rows committed: $rows"
awk -v b="$(echo "$bare" | field rps)" -v g="$(echo "$gw" | field rps)" \
	'BEGIN { printf "accept rate: %.0f msg/s = %.2f x the bare server (%.0f req/s); goal >= 0.33\n", g, g / b, b }'
echo "p99 at full load: $(echo "$gw" | field p99_ms) ms; at ${light} connections: $(echo "$gwl" | field p99_ms) ms (goal < 20)"
