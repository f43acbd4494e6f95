# senderd.sh - senderd's latency, scheduling and far-Telegram cases for `make bench`,
# sourced by run.sh after its senderd section (it uses run.sh's variables: url, bin,
# work, root, admin, gw_port, tg_port, sd_pid, pids). Each function prints its
# figures and goals; nothing here is a test.

# sd_q SQL - one value from the bench database
sd_q() { psql -qAt "$url" -c "$1"; }

# sd_wait_sent WHERE - until no message matching WHERE is left unsent (or senderd died)
sd_wait_sent() {
	local left=1 pid=$2
	while [ "$left" -gt 0 ]; do
		sleep 0.2
		left=$(sd_q "SELECT count(*) FROM messages WHERE $1 AND status NOT IN ('sent', 'failed', 'canceled')")
		kill -0 "$pid" 2>/dev/null || { echo "bench: senderd died"; exit 1; }
	done
}

# bench_sd_latency - accept-to-sent (gatewayd's accept to the recorded sent) of messages
# posted one at a time at a moderate rate, against the fake that answers at once
bench_sd_latency() {
	local n=${TGM_BENCH_LATENCY_MESSAGES:-2000} bot
	bot=$(sd_q "SELECT min(id) FROM bots WHERE name = 'sender-bench'")
	echo
	echo "== accept-to-sent latency: $n messages posted to gatewayd at about 250/s"
	local first; first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	/usr/bin/python3 - "$gw_port" "$TGM_BENCH_KEY" "$bot" "$n" <<'PY'
import http.client, json, sys, time
port, key, bot, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
t0 = time.monotonic()
for i in range(n):
    c.request("POST", "/v1/messages", json.dumps({"bot_id": bot, "chat_id": 500000 + i,
              "text": "latency"}), h)
    r = c.getresponse(); r.read()
    if r.status != 202:
        sys.exit(f"bench: POST answered {r.status}")
    ahead = t0 + (i + 1) / 250.0 - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
PY
	sd_wait_sent "id > $first" "$sd_pid"
	sd_q "SELECT 'accept-to-sent: p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
		|| ' ms (goal < 5), p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
		|| ' ms (goal < 50), max ' || round(max(ms)::numeric, 1) || ' ms'
		FROM (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM messages
		      WHERE id > $first AND status = 'sent') x"
}

# bench_sd_history - accept-to-sent of messages to chats with a long history (10,000 sent
# messages each): a claim asks whether an earlier message of the chat is still open, and
# that must cost the same whatever the chat's past (it walked the whole past before 020)
bench_sd_history() {
	local chats=${TGM_BENCH_HISTORY_CHATS:-20} past=${TGM_BENCH_HISTORY:-10000} bot first
	bot=$(sd_q "SELECT min(id) FROM bots WHERE name = 'sender-bench'")
	echo
	echo "== accept-to-sent latency: $chats messages to $chats chats with $past sent messages each"
	sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params, status, sent_at)
		SELECT tenant_id, id, (800000 + g % $chats)::text, '{}', 'sent', now()
		FROM bots, generate_series(1, $chats * $past) g WHERE id = $bot" >/dev/null
	sd_q "ANALYZE messages" >/dev/null
	first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	for i in $(seq 0 $((chats - 1))); do
		curl -sf -o /dev/null -H "Authorization: Bearer $TGM_BENCH_KEY" \
			-H 'Content-Type: application/json' "http://127.0.0.1:$gw_port/v1/messages" \
			-d "{\"bot_id\":$bot,\"chat_id\":$((800000 + i)),\"text\":\"history\"}" ||
			{ echo "bench: POST failed"; exit 1; }
	done
	sd_wait_sent "id > $first" "$sd_pid"
	sd_q "SELECT 'accept-to-sent with history: p50 ' || round(percentile_cont(0.5) WITHIN GROUP
		(ORDER BY ms)::numeric, 1) || ' ms (goal < 5), max ' || round(max(ms)::numeric, 1) || ' ms'
		FROM (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM messages
		      WHERE id > $first AND status = 'sent') x"
}

# bench_sd_scheduled - a batch with send_at ahead (no doorbell: the lanes learn the due
# time from a claim), then the same batch queued for now: how late, how fast it drains
bench_sd_scheduled() {
	local n=${TGM_BENCH_SCHEDULED:-10000} ahead=${TGM_BENCH_SCHEDULED_AHEAD:-20} first
	for when in "now() + interval '$ahead seconds'" "now()"; do
		echo
		echo "== $n messages over 10 bots with not_before = $when (by SQL: no doorbell)"
		first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
		sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params, not_before)
			SELECT b.tenant_id, b.id, (700000 + g)::text,
			       jsonb_build_object('chat_id', 700000 + g, 'text', 'scheduled ' || g), $when
			FROM generate_series(1, $n) g
			JOIN LATERAL (SELECT id, tenant_id FROM bots WHERE name = 'sender-bench'
			              ORDER BY id OFFSET g % 10 LIMIT 1) b ON true" >/dev/null
		sd_wait_sent "id > $first" "$sd_pid"
		sd_q "SELECT 'late after not_before: first ' || round(min(ms)::numeric) || ' ms (goal < 100), median '
			|| round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) || ' ms, last '
			|| round(max(ms)::numeric) || ' ms; drain (first to last send) '
			|| round(max(ms)::numeric - min(ms)::numeric) || ' ms; early: ' || count(*) FILTER (WHERE ms < 0)
			FROM (SELECT extract(epoch FROM sent_at - not_before) * 1000 AS ms FROM messages
			      WHERE id > $first AND status = 'sent') x"
	done
}

# bench_sd_far - 100 bots x 30 messages (30/s each: about 3,000 msg/s ideal) against a
# fake Telegram that answers after 100 ms: what the in-flight caps allow far away
bench_sd_far() {
	local far_port nbots=100 per=30 first t0 t1
	kill "$sd_pid" 2>/dev/null; wait "$sd_pid" 2>/dev/null || true
	far_port=$(free_port)
	"$root/build/obj/bench/fakeserver" "$far_port" telegram 100 & pids+=($!)
	sed -e "s|^api_url = .*|api_url = http://127.0.0.1:$far_port|" \
		-e "s|^max_inflight = .*|max_inflight = 32|" "$work/tgm.conf" > "$work/far.conf"
	echo
	echo "== senderd, $nbots bots x $per messages (30/s each), Telegram answering after 100 ms"
	for i in $(seq $nbots); do
		curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$gw_port/v1/bots" -d "{\"token\":\"$((300000 + i)):AAfarfarfarfarfarfarfarfarfarfarfar$i\",\"name\":\"far\"}" \
			>/dev/null || { echo "bench: bot $i failed"; exit 1; }
	done
	first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT b.tenant_id, b.id, (800000 + g)::text,
		       jsonb_build_object('chat_id', 800000 + g, 'text', 'far ' || g)
		FROM generate_series(0, $per - 1) g CROSS JOIN bots b WHERE b.name = 'far'" >/dev/null
	t0=$(date +%s.%N)
	"$bin/senderd" -c "$work/far.conf" --instance far 2>"$work/senderd-far.log" & sd_pid=$!
	pids+=($sd_pid)
	sd_wait_sent "id > $first" "$sd_pid"
	t1=$(date +%s.%N)
	sd_q "SELECT count(*) || ' sent: ' || round(count(*) / extract(epoch FROM max(sent_at) - min(sent_at)))
		|| ' msg/s between the first and the last send (ideal about 3000)'
		FROM messages WHERE id > $first AND status = 'sent'"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "all sent %.1f s after senderd started\n", b - a }'
	# where the time goes, per bot, from senderd's start: its first claim (the lease round,
	# the bot's load and recovery before it), its first and last recorded send
	sd_q "WITH b AS (SELECT m.bot_id,
		  min(e.at) FILTER (WHERE e.status = 'sending') AS claim,
		  min(m.sent_at) AS first, max(m.sent_at) AS last
		FROM messages m JOIN message_events e ON e.message_id = m.id
		WHERE m.id > $first GROUP BY m.bot_id),
		s AS (SELECT extract(epoch FROM claim) - $t0 AS claim, extract(epoch FROM first) - $t0
		  AS first, extract(epoch FROM last) - $t0 AS last FROM b)
		SELECT 'per bot, s after senderd started: first claim ' || round(min(claim)::numeric, 2)
		|| '-' || round(max(claim)::numeric, 2) || ' (median ' || round(percentile_cont(0.5)
		WITHIN GROUP (ORDER BY claim)::numeric, 2) || '); first send recorded ' ||
		round(min(first)::numeric, 2) || '-' || round(max(first)::numeric, 2) || '; last '
		|| round(min(last)::numeric, 2) || '-' || round(max(last)::numeric, 2) FROM s"
}

# bench_sd_pacing - the rate a lane keeps of Telegram's limits 100 ms away, against the
# strict fake of the tests (bench/pacing.py), with zero 429s
bench_sd_pacing() {
	local n_bot=${TGM_BENCH_PACING_MESSAGES:-300} n_chat=12 urlf="$work/pacing.url" pp
	local tb="400001:AApacingpacingpacingpacingpacingpaci1" tc="400002:AApacingpacingpacingpacingpacingpaci2"
	kill "$sd_pid" 2>/dev/null; wait "$sd_pid" 2>/dev/null || true
	echo
	echo "== pacing: a bot at 30/s over 40 chats and a chat at 1/s, strict fake, 100 ms round trip"
	/usr/bin/python3 bench/pacing.py "$urlf" "$tb" "$tc" "$n_bot" "$n_chat" 30 & pp=$!
	while [ ! -s "$urlf" ]; do sleep 0.1; done
	for t in "$tb" "$tc"; do
		curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$gw_port/v1/bots" -d "{\"token\":\"$t\",\"name\":\"pacing\"}" \
			>/dev/null || { echo "bench: pacing bot failed"; exit 1; }
	done
	sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT b.tenant_id, b.id, c::text, jsonb_build_object('chat_id', c, 'text', 'pace')
		FROM bots b, LATERAL (SELECT b.id = (SELECT min(id) FROM bots WHERE name = 'pacing') AS many) m,
		LATERAL (SELECT 900000 + CASE WHEN m.many THEN g % 40 ELSE 99 END AS c, g
		         FROM generate_series(1, CASE WHEN m.many THEN $n_bot ELSE $n_chat END) g) x
		WHERE b.name = 'pacing' ORDER BY g" >/dev/null
	sed "s|^api_url = .*|api_url = $(cat "$urlf")|" "$work/tgm.conf" > "$work/pacing.conf"
	"$bin/senderd" -c "$work/pacing.conf" --instance pacing 2>"$work/senderd-pacing.log" & sd_pid=$!
	pids+=($sd_pid)
	wait "$pp"
}
