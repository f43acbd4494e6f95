# lib.sh - what every bench script shares, sourced after `set -euo pipefail` from the
# repository's root: bench_setup makes the script's work directory and its own
# PostgreSQL, and removes both (with the processes listed in $pids) at exit; small
# helpers for ports, fields of wrk's lines, medians, SQL, waiting for a listener and
# PostgreSQL's CPU time.

# bench_setup NAME [fast] - $work (/tmp/tgm-bench-NAME.*), $pids, and a PostgreSQL there
# whose URL is $url: durable like production (fsync, synchronous commit), or with
# pg.sh's defaults when "fast" (read benches, where commits are not measured);
# TGM_BENCH_PG_EXTRA adds server options to the durable one, e.g. "-c
# shared_preload_libraries=auto_explain ..." to see where PostgreSQL's time goes;
# with PGSS set (see bench_pgss) it loads pg_stat_statements, counting nested statements
bench_setup() {
	work=$(mktemp -d "/tmp/tgm-bench-$1.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
	if [ -n "${PGSS:-}" ]; then
		local ss="-c shared_preload_libraries=pg_stat_statements"
		TGM_BENCH_PG_EXTRA="$ss -c pg_stat_statements.track=all ${TGM_BENCH_PG_EXTRA:-}"
	fi
	if [ "${2:-}" = fast ]; then
		sh scripts/pg.sh start "$work/pg" >/dev/null
	else
		TGM_PG_OPTIONS="-c fsync=on -c synchronous_commit=on ${TGM_BENCH_PG_EXTRA:-}" sh scripts/pg.sh start "$work/pg" >/dev/null
	fi
	url=$(sh scripts/pg.sh url "$work/pg")
}

# bench_conf PORT - $work/tgm.conf for $url, with gatewayd on 127.0.0.1:PORT and its
# ZeroMQ endpoints in $work/run (log level warning); the lines on stdin go after, in
# [gatewayd] until they open a section of their own. Needs $bin (tgmctl).
bench_conf() {
	{
		cat <<CONF
[database]
url = "$url"
[security]
secret_key = $("$bin/tgmctl" secret-key)
[log]
level = warning
[gatewayd]
listen = 127.0.0.1:$1
doorbell = ipc://$work/run/gatewayd-doorbell
status = ipc://$work/run/gatewayd-status
CONF
		cat
	} > "$work/tgm.conf"
}

# bench_conf_sender GW_PORT TG_PORT - bench_conf for gatewayd on GW_PORT and a senderd
# sending to the fake Telegram on TG_PORT, without limits of its own on the API key
bench_conf_sender() {
	bench_conf "$1" <<CONF
key_rate = 1000000
key_burst = 1000000
[telegram]
api_url = http://127.0.0.1:$2
[senderd]
doorbells = ipc://$work/run/gatewayd-doorbell
statuses = ipc://$work/run/gatewayd-status
claim_batch = 1000
max_inflight = 64
CONF
}

# bench_sender_env TG_PORT [DELAY_MS] - for the senderd A/B scripts: the fake Telegram on
# TG_PORT (answering after DELAY_MS), $work/tgm.conf from bench_conf_sender, the schema,
# gatewayd on $gw_port (chosen here) and an admin key in $admin
bench_sender_env() {
	local b
	for b in fakeserver curl_loop; do
		[ -x "$root/build/obj/bench/$b" ] || { echo "bench: build/obj/bench/$b is missing" \
			"(make build/obj/bench/$b; make bench builds it)"; exit 1; }
	done
	gw_port=$(free_port)
	"$root/build/obj/bench/fakeserver" "$1" telegram ${2:+"$2"} & pids+=($!)
	bench_conf_sender "$gw_port" "$1"
	"$bin/tgmctl" -c "$work/tgm.conf" migrate >/dev/null
	"$bin/gatewayd" -c "$work/tgm.conf" 2>"$work/gatewayd.log" & pids+=($!)
	wait_http "http://127.0.0.1:$gw_port/healthz"
	admin=$("$bin/tgmctl" -c "$work/tgm.conf" key create --tenant bench --create-tenant \
		--scope admin 2>/dev/null)
}

# bench_sender_bots N GW_PORT KEY - N bots named sender-bench (1,000/s, 30/s a chat),
# made through gatewayd on GW_PORT with the admin KEY
bench_sender_bots() {
	local i
	for i in $(seq "$1"); do
		curl -sf -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$2/v1/bots" -d "{\"token\":\"$((100000 + i)):AAbenchbenchbenchbenchbenchbenchbench$i\",\"name\":\"sender-bench\",
			\"settings\":{\"per_second\":1000,\"chat_per_second\":30}}" >/dev/null ||
			{ echo "bench: bot registration failed"; exit 1; }
	done
}

# bench_sender_chats URL N - each sender-bench bot's users as a live bot has them in chats:
# the 20,000 the drain sends to (0-19999, none blocked) and N - 20,000 others, a tenth of
# them blocked, so a claim that read a bot's chats (or its blocked ones) per message shows
bench_sender_chats() {
	psql -qAt "$1" -c "INSERT INTO chats (bot_id, chat_id, blocked_at, blocked_reason)
		SELECT b.id, g, CASE WHEN g >= 20000 AND g % 10 = 0 THEN now() END,
		       CASE WHEN g >= 20000 AND g % 10 = 0 THEN 'Forbidden: bot was blocked by the user' END
		FROM bots b, generate_series(0, greatest($2, 20000) - 1) g WHERE b.name = 'sender-bench'
		ON CONFLICT DO NOTHING" >/dev/null
	psql -qAt "$1" -c "ANALYZE chats" >/dev/null
}

# bench_sender_backlog N NBOTS - N messages queued over the NBOTS sender-bench bots, to
# 20,000 chats, after a VACUUM ANALYZE of messages (statistics taken with nothing queued,
# as a live system has them)
bench_sender_backlog() {
	psql -qAt "$url" -c "VACUUM ANALYZE messages" >/dev/null
	psql -qAt "$url" -c "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT b.tenant_id, b.id, (g % 20000)::text,
		       jsonb_build_object('chat_id', g % 20000, 'text', 'bench ' || g)
		FROM generate_series(1, $1) g
		JOIN LATERAL (SELECT id, tenant_id FROM bots WHERE name = 'sender-bench'
		              ORDER BY id OFFSET g % $2 LIMIT 1) b ON true" >/dev/null
}

# bench_many_bots GW_PORT KEY - section 4's 1,000 bots named many (30/s each), made
# through gatewayd on GW_PORT with the admin KEY
bench_many_bots() {
	local i
	for i in $(seq 1000); do
		curl -sf -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$1/v1/bots" -d "{\"token\":\"$((200000 + i)):AAmanybotsmanybotsmanybotsmanybots$i\",\"name\":\"many\",
			\"settings\":{\"per_second\":30}}" >/dev/null || { echo "bench: bot $i failed"; exit 1; }
	done
}

# bench_many_backlog N - N messages queued over the many bots, to 50,000 chats, then a
# VACUUM ANALYZE of messages
bench_many_backlog() {
	psql -qAt "$url" -c "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT b.tenant_id, b.id, (g % 50000)::text,
		       jsonb_build_object('chat_id', g % 50000, 'text', 'deep queue ' || g)
		FROM generate_series(0, $1 - 1) g
		JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY id) - 1 AS k FROM bots
		      WHERE name = 'many') b ON b.k = g % 1000" >/dev/null
	psql -qAt "$url" -c "VACUUM ANALYZE messages" >/dev/null
}

# bench_sender_open - how many messages of the sender-bench bots are still open (queued,
# retrying or sending), from the counters the triggers keep: a drain's poll of messages
# itself read every row of the table twice a second, PostgreSQL CPU taken from the drain
# it measures (90 ms a poll with 300,000 rows)
bench_sender_open() {
	psql -qAt "$url" -c "SELECT coalesce(sum(n), 0) FROM bot_status_counts
		WHERE status IN ('queued', 'retrying', 'sending')
		AND bot_id IN (SELECT id FROM bots WHERE name = 'sender-bench')"
}

# bench_sender_end - when the sender-bench bots' last message was sent (epoch seconds):
# the end of a drain, exact, where the poll that saw it found it up to its interval late
bench_sender_end() {
	psql -qAt "$url" -c "SELECT extract(epoch FROM max(sent_at)) FROM messages
		WHERE status = 'sent' AND bot_id IN (SELECT id FROM bots WHERE name = 'sender-bench')"
}

# bench_cleanup - at exit: stop the processes in $pids and PostgreSQL, remove $work
bench_cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	sh scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}

# need_wrk - wrk is installed, or stop saying which package
need_wrk() {
	command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 1; }
}

# free_port - a TCP port free on 127.0.0.1 now
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# field NAME - the value of NAME=... in a "BENCH ..." line on stdin
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

# median [FORMAT] - the median of the numbers on stdin, with their range
median() { sort -n | awk -v f="${1:-%.2f}" '{ v[NR] = $1 } END {
	printf f " (range " f "-" f ")", v[int((NR + 1) / 2)], v[1], v[NR] }'; }

# sql ARGS - psql on the bench database, quiet, stopping at the first error
sql() { psql -qAt "$url" -v ON_ERROR_STOP=1 "$@"; }

# wait_http URL - until something answers at URL (10 s), or stop
wait_http() {
	for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
	echo "bench: nothing answers at $1"; exit 1
}

# bench_wrk_cpu SECS LUA CONNS URL -> wrk's "BENCH ..." line, with wrk's own CPU a request
# (client_us): what a CPU ceiling counts besides the server
bench_wrk_cpu() {
	local TIMEFORMAT='%3U %3S' t
	t=$({ time wrk -t2 -c"$3" -d"$1s" --latency -s "$2" "$4" \
		> "$work/wrk.out" 2>"$work/wrk.err"; } 2>&1)
	grep '^BENCH' "$work/wrk.out" | awk -v t="$t" '{ split(t, c, " ");
		for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) n = substr($i, 10);
		printf "%s client_us=%.1f\n", $0, (n > 0 ? (c[1] + c[2]) * 1e6 / n : 0) }'
}

# bench_ceiling FILE GOAL WHAT... - from rows of "baseline rate _ _ cpu_a cpu_b" (us a
# request), the CPU ceiling (every core busy at cpu_a + cpu_b a request) as a ratio to the
# baseline and the rate's share of it; then the CPU a request that would reach GOAL x the
# baseline at that share (cpu_a + cpu_b scaled by rate / (GOAL x baseline)); medians with
# ranges; WHAT says which CPU the two columns are
bench_ceiling() {
	local f=$1 goal=$2
	shift 2
	echo "$(awk -v c="$(nproc)" '{ printf "%.3f\n", c * 1e6 / ($5 + $6) / $1 }' "$f" |
		median) x the bare server ($(nproc) cores over $*); the rate is $(awk \
		-v c="$(nproc)" '{ printf "%.2f\n", $2 * ($5 + $6) / (c * 1e6) }' "$f" | median)" \
		"of it (below 1: waits, not CPU); $goal x at that share needs $(awk -v g="$goal" \
		'{ printf "%.1f\n", ($5 + $6) * $2 / (g * $1) }' "$f" | median %.0f) us a request" \
		"in all, against $(awk '{ print $5 + $6 }' "$f" | median %.0f) us today"
}

# bench_pgss reset | bench_pgss FILE N - with PGSS set, forget pg_stat_statements' counts,
# or write to FILE the statements that took most of PostgreSQL's time since, with each
# one's share of N messages (us_msg, wal_msg); without PGSS, nothing
bench_pgss() {
	[ -n "${PGSS:-}" ] || return 0
	if [ "$1" = reset ]; then
		sql -c "SET client_min_messages = warning" \
			-c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
			-c "SELECT pg_stat_statements_reset()" >/dev/null
		return
	fi
	psql -qA "$url" -c "SELECT toplevel AS top, calls, rows,
		round(total_exec_time::numeric) AS ms,
		round((total_exec_time * 1000 / $2)::numeric, 1) AS us_msg,
		round(wal_records::numeric / $2, 1) AS wal_msg,
		left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25" > "$1"
}

# bench_pg_ticks - CPU time so far of every PostgreSQL process of $work's cluster, in
# clock ticks
bench_pg_ticks() {
	local pm
	pm=$(head -n1 "$work/pg/data/postmaster.pid")
	for p in "$pm" $(ps -o pid= --ppid "$pm"); do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ s += $1 } END { print s }'
}
