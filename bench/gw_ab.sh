#!/usr/bin/env bash
# gw_ab.sh ROUNDS BIN_DIR[:SQL_FILE]... - section 1 of bench/run.sh alone, for before/after
# work on gatewayd's accept path: in every round the bare libevent server answering 202, then
# each BIN_DIR's gatewayd in turn (started afresh on the same port and database), each
# under the same wrk load (POST /v1/messages, TGM_BENCH_CONNS connections, default 64,
# TGM_BENCH_SECONDS each, default 8). One "RUN" line per run: rate, its ratio to the
# bare server of the round, CPU per message of gatewayd and of gatewayd with PostgreSQL,
# p99, and with SYSCALLS=1 gatewayd's system calls per message (perf stat); PGSS=FILE
# writes each run's busiest statements to FILE.<round>.<variant's place> (bench_pgss in
# lib.sh), and a variant given as BIN_DIR:SQL_FILE runs that file before its run (as in
# sd_ab.sh). Nothing here is a test: it prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
rounds=$1; shift
variants=("$@")
secs=${TGM_BENCH_SECONDS:-8}
conns=${TGM_BENCH_CONNS:-64}
need_wrk
[ -x "$root/build/obj/bench/fakeserver" ] || { echo "bench: build/obj/bench/fakeserver is" \
	"missing (make build/obj/bench/fakeserver; make bench builds it)"; exit 1; }
bench_setup gw-ab
gw_port=$(free_port)
tg_port=$(free_port)
base_port=$(free_port)
"$root/build/obj/bench/fakeserver" "$tg_port" telegram & pids+=($!)
"$root/build/obj/bench/fakeserver" "$base_port" 202 & pids+=($!)
bench_conf_sender "$gw_port" "$tg_port"
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
export TGM_BENCH_KEY=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench \
	--create-tenant --scope send 2>/dev/null)
psql -qAt "$url" -c "INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)
	SELECT id, 1, 'benchbot', 'v1.unused', '\\x00' FROM tenants WHERE name = 'bench'" >/dev/null
export TGM_BENCH_BOT=$(psql -qAt "$url" -c "SELECT max(id) FROM bots")
hz=$(getconf CLK_TCK)
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

# ticks PID - its CPU time so far, in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run_wrk() {
	wrk -t2 -c"$conns" -d"${secs}s" --latency -s bench/post.lua "http://127.0.0.1:$1" | grep '^BENCH'
}

for r in $(seq "$rounds"); do
	bare=$(run_wrk "$base_port" | field rps)
	echo "round $r bare $bare req/s"
	i=0
	for arg in "${variants[@]}"; do
		v=${arg%%:*} i=$((i + 1))
		[ "$v" = "$arg" ] || sql -f "${arg#*:}" >/dev/null
		"$v/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & gw_pid=$!
		wait_http "http://127.0.0.1:$gw_port/healthz"
		bench_pgss reset
		pg0=$(bench_pg_ticks)
		g0=$(ticks "$gw_pid")
		if [ -n "${SYSCALLS:-}" ]; then
			perf stat -x, -e raw_syscalls:sys_enter -p "$gw_pid" -o "$work/syscalls" 2>/dev/null &
			stat_pid=$!
		fi
		out=$(run_wrk "$gw_port")
		calls=0
		if [ -n "${SYSCALLS:-}" ]; then
			kill -INT "$stat_pid"; wait "$stat_pid" || true
			calls=$(awk -F, '/raw_syscalls/ { print $1 }' "$work/syscalls")
		fi
		g1=$(ticks "$gw_pid")
		pg1=$(bench_pg_ticks)
		bench_pgss "${PGSS:-}.$r.$i" "$(echo "$out" | field requests)"
		kill "$gw_pid"; wait "$gw_pid" || true
		awk -v v="$arg" -v n="$(echo "$out" | field requests)" -v rps="$(echo "$out" | field rps)" \
			-v p99="$(echo "$out" | field p99_ms)" -v bare="$bare" -v g="$((g1 - g0))" \
			-v pg="$((pg1 - pg0))" -v hz="$hz" -v calls="$calls" \
			-v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
			printf "RUN variant=%s rate=%.0f ratio=%.3f gw_us=%.1f gw_pg_us=%.1f p99_ms=%s load=%s%s\n",
				v, rps, rps / bare, g * 1e6 / hz / n, (g + pg) * 1e6 / hz / n, p99, load,
				(calls > 0 ? sprintf(" syscalls_per_msg=%.1f", calls / n) : "") }'
	done
done
