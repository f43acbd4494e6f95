#!/usr/bin/env bash
# pg_cg.sh [--drain] VARIANT... - PostgreSQL's instructions for one of gatewayd's accept
# groups (or, with --drain, for a message sent by senderd: its claim and its record), for
# before/after work on those statements, their triggers and the indexes of messages, where
# this machine's timings swing more than the change. VARIANT is `base` (the schema as
# migrated), an SQL file run after the migration (an index dropped, a trigger function
# replaced) or, with --drain, proto-queue (below). Each variant gets its own database in
# one cluster: migrated, its SQL run, a tenant and a key made, and warmed. Then the
# cluster stops and each database is run by a single-user backend under valgrind's
# callgrind, which counts instructions whatever else the machine does, for a few and then
# for many steps; the difference of the two runs is the steps' count without the backend's
# start. One "CG" line per variant, with its ratio to the first. The run of many is left
# in /tmp/pg_cg.<n>.out (callgrind_annotate --inclusive=yes reads it). fsync is off: the
# count is the CPU's work, not the disk's. TGM_BENCH_CG_ONLY=FUNCTION counts only what
# runs inside that function of the backend (ExecuteQuery: the --drain's records alone).
# - The accept: gatewayd's statement for groups naming their bot (taken from
#   gatewayd/accept.c through the C preprocessor), prepared with a generic plan as
#   gatewayd does, executed for 10 and then 60 groups of TGM_BENCH_GROUP (30) messages
#   to random chats (the same ones for every variant), after 200 groups; a step is a group.
# - The drain: 10 bots with 5,000 messages queued each to random chats of 100,000 (as
#   make bench's section 2); a step is senderd's claim statement (senderd/claim.c, run
#   in a plpgsql function that passes the ids on, its plan generic and cached as
#   senderd's) asking TGM_BENCH_CLAIM (40) messages for each bot, then their
#   transitions to 'sent' in record statements (senderd/record.c) of TGM_BENCH_RECORD
#   (100); 2 and then 8 steps, after 3. TGM_BENCH_CG_ONLY=SPI_cursor_fetch counts the
#   claims alone. The variant proto-queue is bench/proto_queue.py's prototype (the open
#   messages in a table of their own: a claim's and a record's updates HOT), its schema
#   and its own claim and record statements.
# Needs valgrind (apt-get install valgrind) and a C compiler. Nothing here is a test: it
# prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
mode=accept
[ "${1:-}" != --drain ] || { mode=drain; shift; }
size=${TGM_BENCH_GROUP:-30}
few=10 many=60
[ $mode = accept ] || { size=$((10 * ${TGM_BENCH_CLAIM:-40})) few=2 many=8; }
[ $# -gt 0 ] || { echo "usage: bench/pg_cg.sh [--drain] base|proto-queue|SQL_FILE..."; exit 2; }
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)"; exit 1; }
for v in "$@"; do
	[ "$v" != proto-queue ] || [ $mode = drain ] ||
		{ echo "bench: proto-queue is a variant of --drain"; exit 2; }
	[ "$v" = base ] || [ "$v" = proto-queue ] || [ -r "$v" ] ||
		{ echo "bench: no SQL file $v"; exit 2; }
done
bench_setup pg-cg fast
chmod 777 "$work" # the single-user backends below write their counts here
setfacl -m u:postgres:rwx "$work" 2>/dev/null || true # pg.sh gave postgres --x
# cstring FILE NAME - the string constant NAME of a C file, preprocessed
cstring() {
	# shellcheck disable=SC2046 # the flags are words
	${CC:-cc} -E -I. -Ibuild/gen -D_GNU_SOURCE $(pkg-config --cflags libpq libevent yajl) \
		"$1" | python3 bench/pg_cg.py extract "$2"
}
cstring gatewayd/accept.c insert_named_sql > "$work/accept.sql"
if [ $mode = drain ]; then
	cstring senderd/claim.c claim_sql > "$work/claim.sql"
	cstring senderd/record.c transition_sql > "$work/record.sql"
	python3 bench/pg_cg.py claimfn "$work/claim.sql" > "$work/claimfn.sql"
fi
# proto-queue is asked for: its schema and statements (made only then, so that a change
# of senderd's statements that the prototype no longer fits stops only its own runs)
if [[ " $* " == *" proto-queue "* ]]; then
	mkdir "$work/proto"
	python3 bench/proto_queue.py "$work/proto" "$work/claim.sql" "$work/record.sql"
	python3 bench/pg_cg.py claimfn "$work/proto/claim.sql" > "$work/proto/claimfn.sql"
fi
# prepare_accept I URL TENANT KEY - variant I's bot and scripts; 200 groups accepted
prepare_accept() {
	local bot got
	bot=$(psql -qAt "$2" -c "INSERT INTO bots (tenant_id, telegram_id, username,
		token_sealed, token_hash) VALUES ($3, 1, 'benchbot', 'v1.unused', '\\x00')
		RETURNING id")
	for n in 200 $few $many; do
		python3 bench/pg_cg.py script "$work/accept.sql" "$n" "$size" "$3" "$bot" \
			"$4" "$n" > "$work/run$1.$n.sql"
	done
	# a statement that fails counts only its failure: every variant must accept its groups
	psql -qAt "$2" -v ON_ERROR_STOP=1 -f "$work/run$1.200.sql" >/dev/null
	got=$(psql -qAt "$2" -c "SELECT count(*) FROM messages")
	[ "$got" = $((200 * size)) ] || { echo "bench: $v accepted $got of $((200 * size))"; exit 1; }
}
# prepare_drain I URL TENANT KEY - variant I's bots, their backlog and scripts; 3 steps run
prepare_drain() {
	local bots got b st=$work
	[ "$v" != proto-queue ] || st=$work/proto
	bots=$(psql -qAt "$2" -c "INSERT INTO bots (tenant_id, telegram_id, username,
		token_sealed, token_hash) SELECT $3, g, 'benchbot' || g, 'v1.unused', int8send(g)
		FROM generate_series(1, 10) g RETURNING id" | paste -sd,)
	for b in ${bots//,/ }; do
		python3 bench/pg_cg.py script "$work/accept.sql" 10 500 "$3" "$b" "$4" "$b" 100000 \
			| psql -qAt "$2" -v ON_ERROR_STOP=1 >/dev/null
	done
	psql -qAt "$2" -v ON_ERROR_STOP=1 -f "$st/claimfn.sql" >/dev/null
	for n in 3 $few $many; do
		python3 bench/pg_cg.py drain "$st/record.sql" "$n" "$bots" \
			"${TGM_BENCH_CLAIM:-40}" "${TGM_BENCH_RECORD:-100}" > "$work/run$1.$n.sql"
	done
	psql -qAt "$2" -v ON_ERROR_STOP=1 -f "$work/run$1.3.sql" >/dev/null
	got=$(psql -qAt "$2" -c "SELECT count(*) FROM messages WHERE status = 'sent'")
	[ "$got" = $((3 * size)) ] || { echo "bench: $v sent $got of $((3 * size))"; exit 1; }
}
i=0
for v in "$@"; do
	i=$((i + 1))
	sql -c "CREATE DATABASE v$i" >/dev/null
	u=${url/\/tgm\?//v$i?}
	printf '[database]\nurl = "%s"\n[security]\nsecret_key = %s\n' "$u" \
		"$("$bin/tgmctl" secret-key)" > "$work/tgm$i.conf"
	"$bin/tgmctl" -c "$work/tgm$i.conf" migrate >/dev/null
	case $v in
	base) ;;
	proto-queue) psql -qAt "$u" -v ON_ERROR_STOP=1 -f "$work/proto/schema.sql" >/dev/null ;;
	*) psql -qAt "$u" -v ON_ERROR_STOP=1 -f "$v" >/dev/null ;;
	esac
	"$bin/tgmctl" -c "$work/tgm$i.conf" key create --tenant bench --create-tenant \
		--scope send >/dev/null 2>&1
	read -r tenant key < <(psql -qAt -F ' ' "$u" -c "SELECT t.id, k.id FROM tenants t
		JOIN api_keys k ON k.tenant_id = t.id WHERE t.name = 'bench'")
	prepare_$mode "$i" "$u" "$tenant" "$key"
done
sh scripts/pg.sh stop "$work/pg" >/dev/null
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(runuser -u postgres --)
pgbin=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)} # as scripts/pg.sh
# count DATABASE N - instructions of a single-user backend running N steps
count() {
	(cd / && "${as_pg[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1.$2" \
		${TGM_BENCH_CG_ONLY:+--toggle-collect="$TGM_BENCH_CG_ONLY"} \
		"$pgbin/postgres" --single -D "$work/pg/data" -c fsync=off "v$1" \
		< "$work/run$1.$2.sql" > "$work/out.$1.$2" 2> "$work/err.$1.$2") || { tail -n 5 "$work/err.$1.$2" >&2; exit 1; }
	if grep -q ERROR "$work/out.$1.$2" "$work/err.$1.$2"; then
		echo "bench: variant $1 failed:" >&2; grep -m3 ERROR "$work/out.$1.$2" "$work/err.$1.$2" >&2
		exit 1
	fi
	if [ $mode = drain ] && [ "$(grep -c "cg_claim = \"$size\"" "$work/out.$1.$2")" != "$2" ]; then
		echo "bench: variant $1 claimed fewer than $size a step:" >&2
		grep cg_claim "$work/out.$1.$2" >&2
		exit 1
	fi
	callgrind_annotate "$work/cg.$1.$2" | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
i=0 first=
for v in "$@"; do
	i=$((i + 1))
	a=$(count "$i" "$few")
	b=$(count "$i" "$many")
	cp "$work/cg.$i.$many" "/tmp/pg_cg.$i.out"
	per=$(((b - a) / (many - few)))
	first=${first:-$per}
	awk -v v="$v" -v per="$per" -v first="$first" -v n="$size" -v m=$mode 'BEGIN {
		printf "CG %s variant=%s instructions_a_%s=%d a_message=%d ratio=%.3f\n", m,
			v, m == "drain" ? "step" : "group", per, per / n, per / first }'
done
