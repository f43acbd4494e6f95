#!/usr/bin/env bash
# run.sh - `make bench`, measurements each as a ratio of a baseline measured in the same
# run on this machine (absolute numbers move from run to run), the gatewayd one in
# TGM_BENCH_ROUNDS rounds (default 3; baseline and gatewayd alternating) with the median
# and range of the ratio:
#  1. gatewayd's durable accept rate (202 after COMMIT) against a bare libevent server
#     that answers 202 without work, both loaded by wrk from loopback;
#  1b. bench/sse.py: that accept rate with 1,000 clients on the event stream, against
#     the same without them;
#  2. senderd's send rate (status recorded) on a backlog, against a bare libcurl multi
#     loop, both sending to the same fast fake Telegram; and senderd's CPU per message.
#  2c. bench/botapi.py: the Bot API endpoint's pass-through latency and a grammY loop's
#     rate through tgm against the same loop straight at a fake enforcing Telegram's limits;
#  3. bench/reads.sh: gatewayd's read routes on a table of a million messages and the
#     cost of choosing the bot (see there).
#  3b. bench/webhookd.sh: webhookd's intake (against the bare server) and processing.
#  3c. bench/dashboard.sh: the API answers behind every dashboard page on a big tenant.
#  3d. bench/inbox.sh: the inbox list, searches and a timeline on a million messages.
#  3e. bench/campaigns.sh: a campaign of 100,000 recipients, started and run through.
#  3f. bench/retention.sh: the accept rate with 10 million messages stored against an
#      empty database.
#  3g. bench/coldload.sh: every dashboard page from a cold load in Chromium, on a big
#      tenant: how long until it shows its data.
# Nothing here is a test: it prints numbers.
#
# Environment: TGM_BENCH_SECONDS (default 10), TGM_BENCH_CONNS (default 64),
# TGM_BENCH_MESSAGES (default 50000), TGM_BENCH_ROUNDS (default 3), TGM_BENCH_BOTAPI=0 to
# leave out 2c, TGM_BENCH_READS=0 to leave out 3 (it seeds a million rows),
# TGM_BENCH_WEBHOOKD=0 to leave out 3b, TGM_BENCH_DASHBOARD=0 to leave out 3c,
# TGM_BENCH_INBOX=0 to leave out 3d, TGM_BENCH_CAMPAIGNS=0 to leave out 3e,
# TGM_BENCH_RETENTION=0 to leave out 3f (TGM_BENCH_RETENTION_MESSAGES, default 10000000),
# TGM_BENCH_COLDLOAD=0 to leave out 3g (TGM_BENCH_COLDLOAD_ROUNDS, default 5),
# TGM_BENCH_SSE=0 to leave out 1b (TGM_BENCH_SSE_CLIENTS, default 1000),
# TGM_BENCH_SD_CASES the cases of 2b to run (default "latency history few scheduled
# far fast pacing"; "" for none), TGM_BIN
# (default bin/); bench/reads.sh reads more
# (TGM_BENCH_READS_MESSAGES=10000000 for the big table).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
secs=${TGM_BENCH_SECONDS:-10}
conns=${TGM_BENCH_CONNS:-64}
need_wrk

# bench_wrk CONNS PORT -> one "BENCH ..." line, with wrk's own CPU a request (client_us)
bench_wrk() { bench_wrk_cpu "$secs" bench/post.lua "$1" "http://127.0.0.1:$2"; }

echo "== PostgreSQL and gatewayd"
bench_setup run
gw_port=$(free_port)
tg_port=$(free_port)
"$root/build/obj/bench/fakeserver" "$tg_port" telegram & pids+=($!)
tg_pid=$!
bench_conf_sender "$gw_port" "$tg_port"
"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
export TGM_BENCH_KEY=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --create-tenant --scope send 2>/dev/null)
psql -qAt "$url" -c "INSERT INTO bots (tenant_id, telegram_id, username, token_sealed, token_hash)
	SELECT id, 1, 'benchbot', 'v1.unused', '\\x00' FROM tenants WHERE name = 'bench'" >/dev/null
export TGM_BENCH_BOT=$(psql -qAt "$url" -c "SELECT max(id) FROM bots")
"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
gw_pid=$!
# cpu_ticks - CPU time so far of gatewayd and of every PostgreSQL process, in clock ticks
cpu_ticks() {
	local pm
	pm=$(head -n1 "$work/pg/data/postmaster.pid")
	for p in "$gw_pid" "$pm" $(ps -o pid= --ppid "$pm"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s }'
}

base_port=$(free_port)
"$root/build/obj/bench/fakeserver" "$base_port" 202 & pids+=($!)
for i in $(seq 50); do
	curl -sf "http://127.0.0.1:$gw_port/healthz" >/dev/null && break
	sleep 0.1
done

rounds=${TGM_BENCH_ROUNDS:-3}
light=$((conns / 8 > 0 ? conns / 8 : 1))
: > "$work/gw-ratios"
for r in $(seq "$rounds"); do
	echo "== round $r of $rounds: bare libevent server answering 202 (baseline), then gatewayd" \
		"POST /v1/messages durable (202 after COMMIT), ${conns} connections, ${secs}s each;" \
		"gatewayd at ${light} connections"
	bare=$(bench_wrk "$conns" "$base_port")
	echo "$bare"
	t0=$(cpu_ticks)
	g0=$(awk '{ print $14 + $15 }' "/proc/$gw_pid/stat")
	gw=$(bench_wrk "$conns" "$gw_port")
	t1=$(cpu_ticks)
	g1=$(awk '{ print $14 + $15 }' "/proc/$gw_pid/stat")
	echo "$gw"
	us=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$(echo "$gw" | field requests)" \
		'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
	gus=$(awk -v t="$((g1 - g0))" -v hz="$(getconf CLK_TCK)" -v n="$(echo "$gw" | field requests)" \
		'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
	echo "CPU per message (gatewayd and PostgreSQL): $us us, of it gatewayd $gus us;" \
		"wrk $(echo "$gw" | field client_us) us a request"
	gwl=$(bench_wrk "$light" "$gw_port")
	echo "$gwl"
	echo "$(echo "$bare" | field rps) $(echo "$gw" | field rps) $(echo "$gw" | field p99_ms)" \
		"$(echo "$gwl" | field p99_ms) $us $(echo "$gw" | field client_us)" >> "$work/gw-ratios"
done
rows=$(psql -qAt "$url" -c "SELECT count(*) FROM messages")
echo "== result"
echo "rows committed: $rows"
echo "accept rate: $(awk '{ print $2 }' "$work/gw-ratios" | median %.0f) msg/s =" \
	"$(awk '{ printf "%.3f\n", $2 / $1 }' "$work/gw-ratios" | median) x the bare server" \
	"($(awk '{ print $1 }' "$work/gw-ratios" | median %.0f) req/s), median of $rounds rounds; goal >= 0.5"
echo "p99 at full load: $(awk '{ print $3 }' "$work/gw-ratios" | median) ms; at ${light}" \
	"connections: $(awk '{ print $4 }' "$work/gw-ratios" | median) ms (goal < 20)"
echo "CPU per accepted message (gatewayd and PostgreSQL, at full load): $(awk '{ print $5 }' \
	"$work/gw-ratios" | median %.0f) us (compare between builds: it moves less with load than the rate)"
# the most this CPU a message allows: every core busy with gatewayd, PostgreSQL and wrk
echo "CPU ceiling: $(bench_ceiling "$work/gw-ratios" 0.5 "gatewayd's, PostgreSQL's and wrk's CPU" \
	"a message")"

# --- 1b. gatewayd's accept rate with 1,000 event-stream clients (bench/sse.py) ----------
if [ "${TGM_BENCH_SSE:-1}" != 0 ]; then
	nsse=${TGM_BENCH_SSE_CLIENTS:-1000}
	sse_key=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --scope read 2>/dev/null)
	: > "$work/sse-ratios"
	echo
	echo "== gatewayd POST /v1/messages without and with $nsse clients on GET /v1/events," \
		"$rounds rounds, the order alternating"
	# sse_round - one wrk run with the streams connected: its rate
	sse_round() {
		/usr/bin/python3 bench/sse.py "$gw_port" "$sse_key" "$nsse" > "$work/sse.out" &
		sse_pid=$!
		until grep -q connected "$work/sse.out"; do
			kill -0 "$sse_pid" 2>/dev/null || { echo "bench: bench/sse.py failed" >&2; exit 1; }
			sleep 0.2
		done
		bench_wrk "$conns" "$gw_port" | field rps
		kill "$sse_pid"; wait "$sse_pid" || { echo "bench: bench/sse.py failed" >&2; exit 1; }
	}
	# what the streams cost with no other load, which the load of the machine does not
	# blur as it does a rate: gatewayd's and the client's CPU over 5 s
	/usr/bin/python3 bench/sse.py "$gw_port" "$sse_key" "$nsse" > "$work/sse.out" &
	sse_pid=$!
	until grep -q connected "$work/sse.out"; do sleep 0.2; done
	sleep 2
	g0=$(awk '{ print $14 + $15 }' "/proc/$gw_pid/stat")
	c0=$(awk '{ print $14 + $15 }' "/proc/$sse_pid/stat")
	sleep 5
	echo "idle: gatewayd with $nsse streams open uses $(awk -v a="$g0" -v hz="$(getconf CLK_TCK)" \
		'{ printf "%.1f", ($14 + $15 - a) * 100 / hz / 5 }' "/proc/$gw_pid/stat") % of a core," \
		"bench/sse.py $(awk -v a="$c0" -v hz="$(getconf CLK_TCK)" \
		'{ printf "%.1f", ($14 + $15 - a) * 100 / hz / 5 }' "/proc/$sse_pid/stat") %"
	kill "$sse_pid"; wait "$sse_pid" || true
	# the order alternates: the table grows through the runs, so a fixed order would
	# bias the ratio
	for r in $(seq "$rounds"); do
		if [ $((r % 2)) = 1 ]; then
			quiet=$(bench_wrk "$conns" "$gw_port" | field rps)
			busy=$(sse_round)
		else
			busy=$(sse_round)
			quiet=$(bench_wrk "$conns" "$gw_port" | field rps)
		fi
		[ -n "$busy" ] || exit 1
		echo "without $quiet msg/s, with $nsse streams $busy msg/s ($(tail -1 "$work/sse.out"))"
		echo "$quiet $busy" >> "$work/sse-ratios"
	done
	echo "accept rate with $nsse event streams: $(awk '{ printf "%.3f\n", $2 / $1 }' \
		"$work/sse-ratios" | median) x without; goal >= 0.90"
fi

# --- 2. senderd --------------------------------------------------------------------
nmsg=${TGM_BENCH_MESSAGES:-50000}
nbots=10
echo
echo "== bare libcurl multi loop to the fake Telegram (ceiling), 32 in flight, ${secs}s"
ceiling=$("$root/build/obj/bench/curl_loop" "http://127.0.0.1:$tg_port/botX/sendMessage" 32 "$secs")
echo "$ceiling"
admin=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --create-tenant --scope admin 2>/dev/null)
bench_sender_bots "$nbots" "$gw_port" "$admin"
bench_sender_chats "$url" "${TGM_BENCH_CHATS:-100000}"
psql -qAt "$url" -c "UPDATE messages SET status = 'canceled' WHERE status = 'queued'" >/dev/null
# section 1 left hundreds of thousands of rows just canceled: vacuum them now, or the drain
# measures autovacuum and the checkpoints of that debt (353 msg/s after 450,000 of them,
# on a quiet machine) instead of senderd
bench_sender_backlog "$nmsg" "$nbots"
echo "== senderd on a backlog of $nmsg messages over $nbots bots (1000/s each allowed)"
t0=$(date +%s.%N)
pg0=$(bench_pg_ticks)
tg0=$(awk '{ print $14 + $15 }' "/proc/$tg_pid/stat")
"$bin/senderd" -c "$work/tgm.conf" --instance bench 2>"$work/senderd.log" & sd_pid=$!
pids+=($sd_pid)
left=$nmsg
while [ "$left" -gt 0 ]; do
	sleep 0.5
	left=$(bench_sender_open)
	if ! kill -0 "$sd_pid" 2>/dev/null; then echo "bench: senderd died"; tail "$work/senderd.log"; exit 1; fi
done
ticks=$(awk '{ print $14 + $15 }' "/proc/$sd_pid/stat")
pg1=$(bench_pg_ticks)
tg1=$(awk '{ print $14 + $15 }' "/proc/$tg_pid/stat")
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$sd_pid/status")
sent=$(psql -qAt "$url" -c "SELECT count(*) FROM messages WHERE status = 'sent'
	AND bot_id IN (SELECT id FROM bots WHERE name = 'sender-bench')")
t1=$(bench_sender_end)
sd_rate=$(awk -v n="$sent" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", n / (t1 - t0) }')
echo "== result"
awk -v n="$sent" -v t0="$t0" -v t1="$t1" -v c="$(echo "$ceiling" | field rps)" \
	-v ticks="$ticks" -v hz="$(getconf CLK_TCK)" -v rss="$rss" -v pg="$((pg1 - pg0))" \
	-v tg="$((tg1 - tg0))" -v cores="$(nproc)" -v cu="$(echo "$ceiling" | field cpu_us)" 'BEGIN {
	r = n / (t1 - t0); us = ticks / hz * 1e6 / n;
	all = (ticks + pg + tg) / hz * 1e6 / n;
	printf "senderd: %d sent in %.1f s = %.0f msg/s with status recorded = %.2f x the" \
	       " libcurl ceiling (%.0f req/s); goal >= 0.35 x (and >= 5000 msg/s)\n",
		n, t1 - t0, r, r / c, c
	printf "senderd CPU: %.0f us per message = %.2f x the bare libcurl loop'"'"'s %.0f us per" \
	       " request (its floor: senderd makes the same requests), goal <= 50 us; peak memory" \
	       " %.1f MiB\n", us, us / cu, cu, rss / 1024
	printf "CPU ceiling: %.2f x the libcurl ceiling (%d cores over senderd'"'"'s, PostgreSQL'"'"'s" \
	       " and the fake Telegram'"'"'s %.0f us a message: %.0f, %.0f and %.0f); the rate is" \
	       " %.2f of it (below 1: waits, not CPU)\n", cores * 1e6 / all / c, cores, all, us,
		pg / hz * 1e6 / n, tg / hz * 1e6 / n, r / (cores * 1e6 / all)
	need = all * r / (0.35 * c); left = need - us - tg / hz * 1e6 / n
	printf "0.35 x at that share needs %.0f us a message in all, against %.0f today: with" \
	       " senderd'"'"'s and the fake'"'"'s as they are, PostgreSQL would have %s\n", need,
		all, (left > 0 ? sprintf("%.0f us", left) : "nothing") }'

# --- 2b. senderd: accept-to-sent latency, scheduled messages, Telegram 100 ms away ----
. bench/senderd.sh
for case in ${TGM_BENCH_SD_CASES-latency history few scheduled far fast pacing}; do
	"bench_sd_$case"
done

# --- 2c. the Bot API endpoint: pass-through latency, grammY loops (bench/botapi.py) -----
if [ "${TGM_BENCH_BOTAPI:-1}" != 0 ]; then
	kill "$sd_pid" 2>/dev/null; wait "$sd_pid" 2>/dev/null || true
	echo
	echo "== Bot API endpoint: pass-through latency; grammY loops through tgm and straight" \
		"at the strict fake (30/s, 1/s a chat)"
	/usr/bin/python3 bench/botapi.py "$work" "$work/tgm.conf" "$bin" "$admin" "$tg_port" \
		"$gw_port" "100001:AAbenchbenchbenchbenchbenchbenchbench1"
fi

# --- 3. gatewayd's reads on a big table and the bot choice (bench/reads.sh, its own run)
if [ "${TGM_BENCH_READS:-1}" != 0 ]; then
	echo
	bash bench/reads.sh
fi

# --- 3b. webhookd's intake and processing (bench/webhookd.sh, its own run) ----------
if [ "${TGM_BENCH_WEBHOOKD:-1}" != 0 ]; then
	echo
	bash bench/webhookd.sh
fi

# --- 3c. the dashboard's API answers on a big tenant (bench/dashboard.sh, its own run) --
if [ "${TGM_BENCH_DASHBOARD:-1}" != 0 ]; then
	echo
	bash bench/dashboard.sh
fi

# --- 3d. the inbox's API on a million messages (bench/inbox.sh, its own run) ----------
if [ "${TGM_BENCH_INBOX:-1}" != 0 ]; then
	echo
	bash bench/inbox.sh
fi

# --- 3e. a campaign of 100,000 recipients (bench/campaigns.sh, its own run) -----------
if [ "${TGM_BENCH_CAMPAIGNS:-1}" != 0 ]; then
	echo
	bash bench/campaigns.sh
fi

# --- 3f. the accept rate with 10 million messages stored (bench/retention.sh, its own run)
if [ "${TGM_BENCH_RETENTION:-1}" != 0 ]; then
	echo
	bash bench/retention.sh
fi

# --- 3g. the dashboard's pages from a cold load in Chromium (bench/coldload.sh, its own run)
if [ "${TGM_BENCH_COLDLOAD:-1}" != 0 ]; then
	echo
	bash bench/coldload.sh
fi

# --- 4. senderd with many bots and a deep queue (TGM_BENCH_BIG=1) ---------------------
# The whole drain is watched: the send rate over all of it against the 10-bot rate above,
# memory sampled every few seconds (peak, and the first and last quarter's average, to see
# that it stays flat), and a stall named as one (no message sent for 15 s).
[ "${TGM_BENCH_BIG:-0}" = 1 ] || exit 0
kill "$sd_pid" 2>/dev/null; wait "$sd_pid" 2>/dev/null || true
nbig=${TGM_BENCH_BIG_MESSAGES:-1000000}
maxsecs=${TGM_BENCH_BIG_SECONDS:-900}
echo
echo "== senderd with 1000 bots and $nbig queued messages, the whole drain (at most ${maxsecs}s)"
bench_many_bots "$gw_port" "$admin"
bench_many_backlog "$nbig"
many_sent() {
	psql -qAt "$url" -c "SELECT count(*) FROM messages m JOIN bots b ON b.id = m.bot_id
		WHERE b.name = 'many' AND m.status = 'sent'"
}
t0=$(date +%s.%N)
"$bin/senderd" -c "$work/tgm.conf" --instance big 2>"$work/senderd-big.log" & big_pid=$!
pids+=($big_pid)
: > "$work/rss"
sent=0 last=0 last_t=$SECONDS start=$SECONDS stalled=""
while [ "$sent" -lt "$nbig" ] && [ $((SECONDS - start)) -lt "$maxsecs" ]; do
	sleep 5
	kill -0 "$big_pid" 2>/dev/null || { echo "bench: senderd died"; tail "$work/senderd-big.log"; exit 1; }
	awk '/VmRSS/ { print $2 }' "/proc/$big_pid/status" >> "$work/rss"
	sent=$(many_sent)
	if [ "$sent" -gt "$last" ]; then
		last=$sent last_t=$SECONDS
	elif [ $((SECONDS - last_t)) -ge 15 ]; then
		stalled="STALLED: no message sent for $((SECONDS - last_t)) s at $sent sent"
		break
	fi
	[ $(((SECONDS - start) % 30)) -lt 5 ] && echo "  $((SECONDS - start)) s: $sent sent, rss $(tail -n1 "$work/rss") KiB"
done
t1=$(date +%s.%N)
echo "== result"
[ -n "$stalled" ] && echo "senderd $stalled (log: $(grep -c . "$work/senderd-big.log") lines;" \
	"last: $(tail -n1 "$work/senderd-big.log"))"
awk -v n="$sent" -v want="$nbig" -v t0="$t0" -v t1="$t1" -v ten="$sd_rate" \
	-v lanes="$(psql -qAt "$url" -c "SELECT count(*) FROM bot_leases")" \
	-v hwm="$(awk '/VmHWM/ { print $2 }' "/proc/$big_pid/status")" \
	'{ rss[NR] = $1 } END {
	r = n / (t1 - t0); q = int(NR / 4); if (q < 1) q = 1
	for (i = 1; i <= q; i++) { a += rss[i]; z += rss[NR - q + i] }
	printf "senderd, 1000 bots: %d of %d sent in %.0f s = %.0f msg/s = %.2f x the 10-bot rate" \
	       " (%.0f msg/s); goal >= 0.75\n", n, want, t1 - t0, r, r / ten, ten
	printf "senderd memory over the drain: peak %.1f MiB (goal < 64), first quarter %.1f MiB," \
	       " last quarter %.1f MiB; %d lanes\n", hwm / 1024, a / q / 1024, z / q / 1024, lanes }' \
	"$work/rss"
