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
# posted one at a time at a moderate rate, against the fake that answers at once, in
# TGM_BENCH_ROUNDS rounds (the first one finds cold caches): each round's p50 and p99,
# then their medians and ranges
bench_sd_latency() {
	local n=${TGM_BENCH_LATENCY_MESSAGES:-2000} rounds=${TGM_BENCH_ROUNDS:-3} bot r out
	bot=$(sd_q "SELECT min(id) FROM bots WHERE name = 'sender-bench'")
	out="$work/latency"
	: > "$out"
	echo
	echo "== accept-to-sent latency: $n messages posted to gatewayd at about 250/s, $rounds rounds"
	for r in $(seq "$rounds"); do
		sd_latency_round "$bot" "$n" | tee -a "$out"
	done
	echo "accept-to-sent over $rounds rounds: p50 $(field p50 < "$out" | median %.1f) ms (goal < 5)," \
		"p99 $(field p99 < "$out" | median %.1f) ms (goal < 50)"
}

# sd_latency_round BOT N - one round of bench_sd_latency: a line "round p50=... p99=... max=..."
sd_latency_round() {
	local first
	first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	/usr/bin/python3 - "$gw_port" "$TGM_BENCH_KEY" "$1" "$2" <<'PY'
import http.client, json, sys, time
port, key, bot, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
due = time.monotonic()
for i in range(n):
    c.request("POST", "/v1/messages", json.dumps({"bot_id": bot, "chat_id": 500000 + i,
              "text": "latency"}), h)
    r = c.getresponse(); r.read()
    if r.status != 202:
        sys.exit(f"bench: POST answered {r.status}")
    # 4 ms after the last one was due, never sooner than now: a slow answer delays the
    # next post but is not made up for by posting back to back
    due = max(due + 1 / 250.0, time.monotonic())
    time.sleep(max(due - time.monotonic(), 0))
PY
	sd_wait_sent "id > $first" "$sd_pid"
	sd_q "SELECT 'round p50=' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1)
		|| ' p99=' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1)
		|| ' max=' || round(max(ms)::numeric, 1) || ' (ms)'
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

# bench_sd_few - a bot's queue held behind a few chats (TGM_BENCH_FEW messages, default
# 30,000, to 3 chats: each chat's next one waits for the last), then 200 messages to new
# chats posted to gatewayd at about 50/s: how soon they go, and what PostgreSQL spends
# meanwhile (each claim read every held message before 050, and a lane whose messages
# are held claims after every send); the backlog is canceled after
bench_sd_few() {
	local n=${TGM_BENCH_FEW:-30000} bot first p0 p1 t0 t1
	bot=$(sd_q "SELECT min(id) FROM bots WHERE name = 'sender-bench'")
	echo
	echo "== accept-to-sent latency: 200 messages to new chats behind $n queued to 3 chats"
	sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT tenant_id, id, (610001 + g % 3)::text,
		       jsonb_build_object('chat_id', 610001 + g % 3, 'text', 'few ' || g)
		FROM bots, generate_series(1, $n) g WHERE id = $bot" >/dev/null
	sd_q "ANALYZE messages" >/dev/null
	first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	p0=$(bench_pg_ticks)
	t0=$(date +%s.%N)
	/usr/bin/python3 - "$gw_port" "$TGM_BENCH_KEY" "$bot" <<'PY'
import http.client, json, sys, time
port, key, bot = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
for i in range(200):
    c.request("POST", "/v1/messages", json.dumps({"bot_id": bot, "chat_id": 620000 + i,
              "text": "few"}), h)
    r = c.getresponse(); r.read()
    if r.status != 202:
        sys.exit(f"bench: POST answered {r.status}")
    time.sleep(0.02)
PY
	sd_wait_sent "id > $first" "$sd_pid"
	t1=$(date +%s.%N)
	p1=$(bench_pg_ticks)
	sd_q "SELECT 'behind a few chats: p50 ' || round(percentile_cont(0.5) WITHIN GROUP
		(ORDER BY ms)::numeric, 1) || ' ms, max ' || round(max(ms)::numeric, 1) || ' ms'
		FROM (SELECT extract(epoch FROM sent_at - created_at) * 1000 AS ms FROM messages
		      WHERE id > $first AND status = 'sent') x"
	awk -v p="$((p1 - p0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN {
		printf "PostgreSQL meanwhile: %.2f cores (%.1f s of CPU in %.1f s)\n",
			p / hz / (b - a), p / hz, b - a }'
	sd_q "UPDATE messages SET status = 'canceled' WHERE bot_id = $bot
		AND chat IN ('610001', '610002', '610003') AND status IN ('queued', 'retrying')" >/dev/null
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

# sd_far_conf MAX_INFLIGHT - stop the last senderd; a fake Telegram answering after 100 ms
# and $work/far.conf pointing at it with [senderd] max_inflight = MAX_INFLIGHT
sd_far_conf() {
	local far_port
	kill "$sd_pid" 2>/dev/null; wait "$sd_pid" 2>/dev/null || true
	far_port=$(free_port)
	"$root/build/obj/bench/fakeserver" "$far_port" telegram 100 & pids+=($!)
	sed -e "s|^api_url = .*|api_url = http://127.0.0.1:$far_port|" \
		-e "s|^max_inflight = .*|max_inflight = $1|" "$work/tgm.conf" > "$work/far.conf"
}

# sd_far_drain NAME CHAT0 PER - PER messages to each bot named NAME (to chats CHAT0 + i),
# drained by a senderd on $work/far.conf (instance NAME); sets first (the id before them)
# and t0 (senderd's start)
sd_far_drain() {
	first=$(sd_q "SELECT coalesce(max(id), 0) FROM messages")
	sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params)
		SELECT b.tenant_id, b.id, ($2 + g)::text,
		       jsonb_build_object('chat_id', $2 + g, 'text', '$1 ' || g)
		FROM generate_series(0, $3 - 1) g CROSS JOIN bots b WHERE b.name = '$1'" >/dev/null
	t0=$(date +%s.%N)
	"$bin/senderd" -c "$work/far.conf" --instance "$1" 2>"$work/senderd-$1.log" & sd_pid=$!
	pids+=($sd_pid)
	sd_wait_sent "id > $first" "$sd_pid"
}

# bench_sd_far - 100 bots x 30 messages (30/s each: about 3,000 msg/s ideal) against a
# fake Telegram that answers after 100 ms: what the in-flight caps allow far away
bench_sd_far() {
	local nbots=100 per=30 first t0 t1
	sd_far_conf 32
	echo
	echo "== senderd, $nbots bots x $per messages (30/s each), Telegram answering after 100 ms"
	for i in $(seq $nbots); do
		curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$gw_port/v1/bots" -d "{\"token\":\"$((300000 + i)):AAfarfarfarfarfarfarfarfarfarfarfar$i\",\"name\":\"far\"}" \
			>/dev/null || { echo "bench: bot $i failed"; exit 1; }
	done
	sd_far_drain far 800000 "$per"
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

# bench_sd_fast - one bot allowed 1,000 messages a second, 3,000 of them, against a fake
# Telegram that answers after 100 ms: it needs 100 requests in flight, which the lane
# sizes from the round trip (senderd/flight.c) under the default max_inflight (256)
bench_sd_fast() {
	local n=3000 first t0
	sd_far_conf 256
	echo
	echo "== senderd, one bot allowed 1000/s, $n messages, Telegram answering after 100 ms"
	curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
		"http://127.0.0.1:$gw_port/v1/bots" -d '{"token":"399999:AAfastfastfastfastfastfastfastfastfas","name":"fast","settings":{"per_second":1000}}' \
		>/dev/null || { echo "bench: the fast bot failed"; exit 1; }
	sd_far_drain fast 900000 "$n"
	sd_q "SELECT count(*) || ' sent: ' || round(count(*) / extract(epoch FROM max(sent_at) - min(sent_at)))
		|| ' msg/s between the first and the last send = '
		|| round(count(*) / extract(epoch FROM max(sent_at) - min(sent_at)) / 1000, 2)
		|| ' of the limit (goal >= 0.9; 32 in flight would allow 0.32)'
		FROM messages WHERE id > $first AND status = 'sent'"
}

# bench_sd_pacing_round R CASE - one round of a pacing case (bench/pacing.py says
# which): two new bots registered through gatewayd, their messages (a campaign through
# the API for "campaign"), a senderd of their own against the strict fake; its line
bench_sd_pacing_round() {
	local r=$1 case=$2 urlf="$work/pacing-$1-$2.url" limit=30 n1 n2 pp ids=() t i cid
	local tokens=() users=${TGM_BENCH_PACING_USERS:-2500} settings=""
	kill "$sd_pid" 2>/dev/null || true # the last one stays for the next section to stop
	wait "$sd_pid" 2>/dev/null || true
	if [ "$case" = campaign ]; then
		limit=100 n1=$users n2=$users settings=',"settings":{"per_second":100}'
	else
		n1=${TGM_BENCH_PACING_MESSAGES:-300} n2=12
	fi
	for i in 1 2; do
		tokens+=("$((400000 + r * 100 + ${#case} * 10 + i)):AApacingpacingpacingpacingpacingpaci$i")
	done
	/usr/bin/python3 bench/pacing.py "$urlf" "$case" "$limit" "${tokens[0]}" "$n1" \
		"${tokens[1]}" "$n2" & pp=$!
	pids+=($pp)
	while [ ! -s "$urlf" ]; do sleep 0.1; done
	for t in "${tokens[@]}"; do
		ids+=("$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$gw_port/v1/bots" -d "{\"token\":\"$t\",\"name\":\"pacing\"$settings}" |
			sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p')")
		[ -n "${ids[-1]}" ] || { echo "bench: pacing bot failed"; exit 1; }
	done
	if [ "$case" = campaign ]; then
		sd_q "INSERT INTO bot_users (bot_id, user_id, first_name, language_code)
			SELECT b, 10000000 * k + g, 'U' || g, 'en'
			FROM (VALUES (${ids[0]}, 1), (${ids[1]}, 2)) v(b, k), generate_series(1, $users) g" >/dev/null
		cid=$(curl -sf -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
			"http://127.0.0.1:$gw_port/v1/campaigns" \
			-d "{\"bot_ids\":[${ids[0]},${ids[1]}],\"message\":{\"text\":\"sale {user_id}\"}}" |
			sed -n 's/^{"id" *: *\([0-9]*\).*/\1/p')
		curl -sf -X POST -H "Authorization: Bearer $admin" \
			"http://127.0.0.1:$gw_port/v1/campaigns/$cid/start" >/dev/null ||
			{ echo "bench: campaign start failed"; exit 1; }
	else
		sd_q "INSERT INTO messages (tenant_id, bot_id, chat, params)
			SELECT b.tenant_id, b.id, c::text, jsonb_build_object('chat_id', c, 'text', 'pace')
			FROM bots b, LATERAL (SELECT 900000 + CASE WHEN b.id = ${ids[0]} THEN g % 40 ELSE 99 END AS c, g
			         FROM generate_series(1, CASE WHEN b.id = ${ids[0]} THEN $n1 ELSE $n2 END) g) x
			WHERE b.id IN (${ids[0]}, ${ids[1]}) ORDER BY g" >/dev/null
	fi
	sed "s|^api_url = .*|api_url = $(cat "$urlf")|" "$work/tgm.conf" > "$work/pacing.conf"
	"$bin/senderd" -c "$work/pacing.conf" --instance "pacing-$r-$case" \
		2>"$work/senderd-pacing-$r-$case.log" & sd_pid=$!
	pids+=($sd_pid)
	wait "$pp"
}

# bench_sd_pacing - what a lane keeps of Telegram's limits against the strict fake of the
# tests (429 past a bot's or a chat's limit, counted at arrival), TGM_BENCH_ROUNDS rounds
# of each case: a bot at 30/s over 40 chats and a chat at 1/s behind a steady 100 ms round
# trip and a jittery one (50-250 ms each way); a campaign to 5,000 users over two bots at
# 100/s each, no delay. Zero 429s in each; the rates' medians and ranges.
bench_sd_pacing() {
	local rounds=${TGM_BENCH_ROUNDS:-3} r c out="$work/pacing"
	echo
	echo "== pacing against the strict fake, $rounds rounds: a bot at 30/s over 40 chats and a" \
		"chat at 1/s, 100 ms round trip (steady) or 50-250 ms each way (jittery); a campaign" \
		"to $((2 * ${TGM_BENCH_PACING_USERS:-2500})) users over two bots at 100/s each"
	: > "$out"
	for r in $(seq "$rounds"); do
		for c in steady jittery campaign; do
			bench_sd_pacing_round "$r" "$c" > "$out.round"
			cat "$out.round"
			cat "$out.round" >> "$out"
		done
	done
	# pick CASE FIELD - the values of FIELD in CASE's lines
	pick() { sed -n "s/^PACING case=$1 .*$2=\([0-9.]*\).*/\1/p" "$out"; }
	floods() { pick "$1" floods | awk '{ n += $1 } END { print n + 0 }'; }
	echo "pacing, steady 100 ms: bot $(pick steady bot | median %.3f) of its limit, one chat" \
		"$(pick steady other | median %.3f) msg/s (goal >= 0.97 each); 429s: $(floods steady) (goal 0)"
	echo "pacing, jittery 50-250 ms each way: bot $(pick jittery bot | median %.3f), one chat" \
		"$(pick jittery other | median %.3f) msg/s (no rate goal); 429s: $(floods jittery) (goal 0)"
	echo "campaign, two bots at 100/s: each bot $( (pick campaign bot; pick campaign other) |
		median %.3f) of its limit (goal >= 0.95); 429s: $(floods campaign) (goal 0)"
}
