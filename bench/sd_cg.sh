#!/usr/bin/env bash
# sd_cg.sh MESSAGES BIN_DIR... - senderd's instructions per message, for before/after work
# on its CPU where this machine's timings swing more than the change: each BIN_DIR's
# senderd drains the same backlog (MESSAGES over 10 bots, as section 2 of bench/run.sh)
# under valgrind's callgrind, which counts the instructions it runs whatever else the
# machine does. One "CG" line per drain; its profile is left in /tmp/cg.<dir name>.out
# (callgrind_annotate reads it). The count includes senderd's start (a few percent at
# 6,000 messages) and moves a little with how the sends happened to group. Needs
# valgrind (apt-get install valgrind). Nothing here is a test: it prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
nmsg=$1; shift
nbots=10
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)"; exit 1; }
bench_setup sd-cg
tg_port=$(free_port)
bench_sender_env "$tg_port"
bench_sender_bots "$nbots" "$gw_port" "$admin"
bench_sender_chats "$url" "${TGM_BENCH_CHATS:-100000}"
for v in "$@"; do
	bench_sender_backlog "$nmsg" "$nbots"
	valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$v/senderd" \
		-c "$work/tgm.conf" --instance bench 2>"$work/senderd.log" & sd_pid=$!
	pids+=($sd_pid)
	left=$nmsg
	while [ "$left" -gt 0 ]; do
		sleep 1
		left=$(bench_sender_open)
		kill -0 "$sd_pid" 2>/dev/null || { echo "senderd died"; grep -v '^==' "$work/senderd.log" | tail -3; exit 1; }
	done
	kill "$sd_pid"; wait "$sd_pid" || true
	sent=$(psql -qAt "$url" -c "SELECT count(*) FROM messages WHERE status = 'sent'")
	psql -qAt "$url" -c "UPDATE messages SET status = 'canceled' WHERE status = 'sent'" >/dev/null
	ir=$(awk '/^summary:|^totals:/ { print $2; exit }' "$work/cg.out")
	echo "CG variant=$v sent=$sent instructions=$ir per_msg=$((ir / sent))"
	cp "$work/cg.out" "/tmp/cg.$(basename "$v").out"
done
