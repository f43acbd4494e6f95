#!/usr/bin/env bash
# sd_ab.sh ROUNDS BIN_DIR[:SQL_FILE]... - section 2 of bench/run.sh alone (no section 1
# before it), for before/after work on senderd: the same backlog over 10 bots at the fast
# fake Telegram, drained by each BIN_DIR's senderd in turn, alternating in every round, with
# bench/curl_loop's rate and CPU per request measured at the start of each round. One
# "RUN" line per drain: rate, its ratio to the loop, CPU per message (and its ratio),
# PostgreSQL's CPU per message (pg_us: every process of the cluster, the drain's polls too),
# peak memory, load average. Environment: TGM_BENCH_MESSAGES (default 50000),
# TGM_BENCH_CHATS (each bot's chats, default 100000: bench_sender_chats in lib.sh),
# PERF=FILE to `perf record` each variant's drain in round 1 (FILE.<dir name>; PERFOPT,
# default "-F 2000 -g"), SYSCALLS=1 to count every drain's system calls (perf stat on
# raw_syscalls:sys_enter; printed per message), PGSS=FILE to write each drain's busiest
# statements to FILE.<round>.<variant's place> (bench_pgss in lib.sh). A variant given as
# BIN_DIR:SQL_FILE runs that file before its backlog is queued (a schema or function
# tried on the same build: migrate leaves a function alone while its file is unchanged).
# Nothing here is a test: it prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
rounds=$1; shift
variants=("$@")
nmsg=${TGM_BENCH_MESSAGES:-50000}
nbots=10
bench_setup sd-ab
tg_port=$(free_port)
bench_sender_env "$tg_port"
bench_sender_bots "$nbots" "$gw_port" "$admin"
bench_sender_chats "$url" "${TGM_BENCH_CHATS:-100000}"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

for r in $(seq "$rounds"); do
	ceiling=$("$root/build/obj/bench/curl_loop" "http://127.0.0.1:$tg_port/botX/sendMessage" 32 5)
	echo "round $r curl_loop $ceiling"
	i=0
	for arg in "${variants[@]}"; do
		v=${arg%%:*} i=$((i + 1))
		[ "$v" = "$arg" ] || sql -f "${arg#*:}" >/dev/null
		bench_sender_backlog "$nmsg" "$nbots"
		bench_pgss reset
		p0=$(bench_pg_ticks)
		t0=$(date +%s.%N)
		"$v/tgmctl" -c "$work/tgm.conf" migrate >/dev/null # its own build's SQL functions
		"$v/senderd" -c "$work/tgm.conf" --instance bench 2>"$work/senderd.log" & sd_pid=$!
		pids+=($sd_pid)
		if [ -n "${PERF:-}" ] && [ "$r" = 1 ]; then
			sleep 0.5
			perf record ${PERFOPT:--F 2000 -g} -p "$sd_pid" -o "$PERF.$(basename "$(dirname "$v")")" 2>/dev/null & perf_pid=$!
		fi
		if [ -n "${SYSCALLS:-}" ]; then
			perf stat -x, -e raw_syscalls:sys_enter -p "$sd_pid" -o "$work/syscalls" 2>/dev/null & stat_pid=$!
		fi
		left=$nmsg
		while [ "$left" -gt 0 ]; do
			sleep 0.5
			left=$(bench_sender_open)
			kill -0 "$sd_pid" 2>/dev/null || { echo "senderd died"; tail "$work/senderd.log"; exit 1; }
		done
		p1=$(bench_pg_ticks)
		bench_pgss "${PGSS:-}.$r.$i" "$nmsg"
		if [ -n "${PERF:-}" ] && [ "$r" = 1 ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
		calls=0
		if [ -n "${SYSCALLS:-}" ]; then
			kill -INT "$stat_pid"; wait "$stat_pid" || true
			calls=$(awk -F, '/raw_syscalls/ { print $1 }' "$work/syscalls")
		fi
		ticks=$(awk '{ print $14 + $15 }' "/proc/$sd_pid/stat")
		rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sd_pid/status")
		kill "$sd_pid"; wait "$sd_pid" || true
		sent=$(psql -qAt "$url" -c "SELECT count(*) FROM messages WHERE status = 'sent'")
		t1=$(bench_sender_end)
		psql -qAt "$url" -c "UPDATE messages SET status = 'canceled' WHERE status = 'sent'" >/dev/null
		awk -v v="$arg" -v n="$sent" -v t0="$t0" -v t1="$t1" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" \
			-v rss="$rss" -v c="$(echo "$ceiling" | field rps)" -v cu="$(echo "$ceiling" | field cpu_us)" \
			-v calls="$calls" -v load="$(cut -d' ' -f1 /proc/loadavg)" -v pg="$((p1 - p0))" 'BEGIN {
			r = n / (t1 - t0);
			printf "RUN variant=%s sent=%d secs=%.1f rate=%.0f ratio=%.3f cpu_us=%.1f cpu_ratio=%.2f pg_us=%.1f rss_mib=%.1f load=%s%s\n",
				v, n, t1 - t0, r, r / c, ticks / hz * 1e6 / n, ticks / hz * 1e6 / n / cu, pg / hz * 1e6 / n, rss / 1024, load,
				(calls > 0 ? sprintf(" syscalls_per_msg=%.1f", calls / n) : "") }'
	done
done
