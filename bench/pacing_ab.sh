#!/usr/bin/env bash
# pacing_ab.sh ROUNDS BIN_DIR... - 2b's pacing cases alone (bench_sd_pacing_round of
# bench/senderd.sh: steady, jittery, campaign against the strict fake), run by each
# BIN_DIR's senderd in turn, alternating in every round. One "PACING" line per case and
# variant (pacing.py's, with variant= added), then each variant's medians. Environment:
# TGM_BENCH_PACING_CASES (default "steady jittery campaign"). Nothing here is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
rounds=$1; shift
variants=("$@")
cases=${TGM_BENCH_PACING_CASES:-steady jittery campaign}
bench_setup pacing-ab
tg_port=$(free_port)
bench_sender_env "$tg_port"
. bench/senderd.sh
sd_pid="" # none yet (kill 0 would signal this whole group)
out="$work/pacing-ab"
: > "$out"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
k=0
for r in $(seq "$rounds"); do
	for v in "${variants[@]}"; do
		k=$((k + 1)) # a round number of its own: the bots' tokens are made from it
		for c in $cases; do
			bin=$v
			bench_sd_pacing_round "$k" "$c" > "$out.round"
			sed "s|^PACING |PACING variant=$v |" "$out.round" | tee -a "$out"
		done
	done
done
[ -z "$sd_pid" ] || kill "$sd_pid" 2>/dev/null || true
for v in "${variants[@]}"; do
	for c in $cases; do
		pick() { sed -n "s|^PACING variant=$v case=$c .*$1=\([0-9.]*\).*|\1|p" "$out"; }
		echo "$v $c: bot $(pick bot | median %.3f), other $(pick other | median %.3f)," \
			"429s $(pick floods | awk '{ n += $1 } END { print n + 0 }')"
	done
done
