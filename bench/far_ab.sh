#!/usr/bin/env bash
# far_ab.sh ROUNDS BIN_DIR... - 2b's far case alone (bench_sd_far): 100 bots at 30/s each
# against a fake Telegram answering after 100 ms, drained by each BIN_DIR's senderd in
# turn, alternating in every round. One "FAR" line per drain. Environment:
# TGM_BENCH_FAR_PER (messages a bot, default 30), TGM_BENCH_FAR_DELAY (ms, default 100),
# TGM_BENCH_FAR_BOTS (100), TGM_BENCH_FAR_INFLIGHT ([senderd] max_inflight, 32 as in
# bench_sd_far), TGM_BENCH_FAR_LOG (senderd's log level, warning), TGM_BENCH_FAR_LOGS (a
# directory to keep each drain's senderd log in).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
rounds=$1; shift
variants=("$@")
per=${TGM_BENCH_FAR_PER:-30}
delay=${TGM_BENCH_FAR_DELAY:-100}
nbots=${TGM_BENCH_FAR_BOTS:-100}
bench_setup far-ab
far_port=$(free_port)
bench_sender_env "$far_port" "$delay"
# senderd reads these when it starts; gatewayd is not affected
sed -i -e "s|^max_inflight = .*|max_inflight = ${TGM_BENCH_FAR_INFLIGHT:-32}|" \
	-e "s|^level = .*|level = ${TGM_BENCH_FAR_LOG:-warning}|" "$work/tgm.conf"
logs=${TGM_BENCH_FAR_LOGS:-}
for i in $(seq $nbots); do
	curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
		"http://127.0.0.1:$gw_port/v1/bots" -d "{\"token\":\"$((300000 + i)):AAfarfarfarfarfarfarfarfarfarfarfar$i\",\"name\":\"far\"}" \
		>/dev/null || { echo "bench: bot $i failed"; exit 1; }
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
	for v in "${variants[@]}"; do
		sql -c "VACUUM ANALYZE messages" >/dev/null
		first=$(sql -c "SELECT coalesce(max(id), 0) FROM messages")
		sql -c "INSERT INTO messages (tenant_id, bot_id, chat, params)
			SELECT b.tenant_id, b.id, (800000 + g)::text,
			       jsonb_build_object('chat_id', 800000 + g, 'text', 'far ' || g)
			FROM generate_series(0, $per - 1) g CROSS JOIN bots b WHERE b.name = 'far'" >/dev/null
		t0=$(date +%s.%N)
		"$v/tgmctl" -c "$work/tgm.conf" migrate >/dev/null # its own build's SQL functions
		"$v/senderd" -c "$work/tgm.conf" --instance far 2>"$work/senderd.log" & sd_pid=$!
		pids+=($sd_pid)
		left=1
		while [ "$left" -gt 0 ]; do
			sleep 0.2
			left=$(sql -c "SELECT count(*) FROM messages WHERE id > $first AND status NOT IN ('sent', 'failed', 'canceled')")
			kill -0 "$sd_pid" 2>/dev/null || { echo "senderd died"; tail "$work/senderd.log"; exit 1; }
		done
		t1=$(date +%s.%N)
		ticks=$(awk '{ print $14 + $15 }' "/proc/$sd_pid/stat")
		kill "$sd_pid"; wait "$sd_pid" || true
		[ -z "$logs" ] || cp "$work/senderd.log" "$logs/senderd-$r-$(basename "$(dirname "$v")").log"
		line=$(sql -F' ' -c "WITH b AS (SELECT m.bot_id,
			  min(e.at) FILTER (WHERE e.status = 'sending') AS claim,
			  min(m.sent_at) AS first, max(m.sent_at) AS last
			FROM messages m JOIN message_events e ON e.message_id = m.id
			WHERE m.id > $first GROUP BY m.bot_id),
			s AS (SELECT extract(epoch FROM claim) - $t0 AS claim, extract(epoch FROM first) - $t0
			  AS first, extract(epoch FROM last) - $t0 AS last FROM b)
			SELECT (SELECT count(*) FROM messages WHERE id > $first AND status = 'sent'),
			 (SELECT round(count(*) / extract(epoch FROM max(sent_at) - min(sent_at))) FROM messages
			  WHERE id > $first AND status = 'sent'),
			 round(min(claim)::numeric, 2), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY claim)::numeric, 2),
			 round(max(claim)::numeric, 2), round(min(first)::numeric, 2), round(max(first)::numeric, 2),
			 round(min(last)::numeric, 2), round(max(last)::numeric, 2) FROM s")
		sql -c "UPDATE messages SET status = 'canceled' WHERE id > $first AND status = 'sent'" >/dev/null
		set -- $line
		awk -v v="$v" -v t0="$t0" -v t1="$t1" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" \
			-v load="$(cut -d' ' -f1 /proc/loadavg)" -v n="$1" -v rate="$2" -v c0="$3" -v cm="$4" \
			-v c1="$5" -v f0="$6" -v f1="$7" -v l0="$8" -v l1="$9" 'BEGIN {
			printf "FAR t0=%s variant=%s sent=%d wall=%.2f wallrate=%.0f rate=%d claim=%s/%s/%s first=%s-%s last=%s-%s cpu_us=%.1f load=%s\n",
				t0, v, n, t1 - t0, n / (t1 - t0), rate, c0, cm, c1, f0, f1, l0, l1, ticks / hz * 1e6 / n, load }'
	done
done
