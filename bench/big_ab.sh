#!/usr/bin/env bash
# big_ab.sh ROUNDS BIN_DIR[:SQL_FILE]... - section 4 of bench/run.sh in small, for before/after work
# on senderd with many bots: 1,000 bots at 30/s (as section 4 makes them) and a backlog of
# TGM_BENCH_BIG_MESSAGES (default 300,000) to 50,000 chats, drained by each BIN_DIR's
# senderd in turn, alternating in every round (each drain leaves the table bigger, so a
# drain tends to be slower than the one before it: run both orders). One "RUN" line per
# drain: seconds, rate, senderd's and PostgreSQL's CPU per message, senderd's peak memory.
# PERF=FILE records the first drain's senderd for 8 s, 5 s after its start; PGSS=FILE and
# BIN_DIR:SQL_FILE as in sd_ab.sh. Nothing here is a test: it prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
rounds=$1; shift
variants=("$@")
n=${TGM_BENCH_BIG_MESSAGES:-300000}
bench_setup big-ab
tg_port=$(free_port)
bench_sender_env "$tg_port"
bench_many_bots "$gw_port" "$admin"
open_n() {
	psql -qAt "$url" -c "SELECT coalesce(sum(n), 0) FROM bot_status_counts
		WHERE status IN ('queued', 'retrying', 'sending')"
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	i=0
	for arg in "${variants[@]}"; do
		v=${arg%%:*} i=$((i + 1))
		[ "$v" = "$arg" ] || sql -f "${arg#*:}" >/dev/null
		bench_many_backlog "$n"
		bench_pgss reset
		p0=$(bench_pg_ticks)
		t0=$(date +%s.%N)
		"$v/tgmctl" -c "$work/tgm.conf" migrate >/dev/null # its own build's SQL functions
		"$v/senderd" -c "$work/tgm.conf" --instance big 2>"$work/senderd.log" & sd_pid=$!
		pids+=($sd_pid)
		if [ -n "${PERF:-}" ] && [ "$r" = 1 ] && [ "$i" = 1 ]; then
			sleep 5
			perf record -F 1500 -g -p "$sd_pid" -o "$PERF" -- sleep 8 >/dev/null 2>&1
		fi
		while [ "$(open_n)" -gt 0 ]; do
			sleep 1
			kill -0 "$sd_pid" 2>/dev/null || { echo "senderd died"; tail "$work/senderd.log"; exit 1; }
		done
		t1=$(date +%s.%N)
		p1=$(bench_pg_ticks)
		bench_pgss "${PGSS:-}.$r.$i" "$n"
		ticks=$(awk '{ print $14 + $15 }' "/proc/$sd_pid/stat")
		rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sd_pid/status")
		kill "$sd_pid"; wait "$sd_pid" || true
		psql -qAt "$url" -c "UPDATE messages SET status = 'canceled' WHERE status = 'sent'" >/dev/null
		awk -v v="$arg" -v n="$n" -v t0="$t0" -v t1="$t1" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" \
			-v rss="$rss" -v pg="$((p1 - p0))" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
			printf "RUN variant=%s secs=%.1f rate=%.0f cpu_us=%.1f pg_us=%.1f rss_mib=%.1f load=%s\n",
				v, t1 - t0, n / (t1 - t0), ticks / hz * 1e6 / n, pg / hz * 1e6 / n, rss / 1024, load }'
	done
done
