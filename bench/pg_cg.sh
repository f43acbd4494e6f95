#!/usr/bin/env bash
# pg_cg.sh VARIANT... - PostgreSQL's instructions for one of gatewayd's accept groups, for
# before/after work on the accept statement, its triggers and the indexes of messages,
# where this machine's timings swing more than the change. VARIANT is `base` (the schema
# as migrated) or an SQL file run after the migration (an index dropped, a trigger
# function replaced). Each variant gets its own database in one cluster: migrated, its
# SQL run, a tenant, a bot and a key made, warmed with 200 groups. Then the cluster
# stops and each database is run by a single-user backend under valgrind's callgrind,
# which counts instructions whatever else the machine does: gatewayd's statement for
# groups naming their bot (taken from gatewayd/accept.c through the C preprocessor) is
# prepared with a generic plan, as gatewayd does, and executed for 10 and then 60 groups
# of TGM_BENCH_GROUP (30) messages to random chats (the same ones for every variant);
# the difference of the two runs over 50 is one group's count, without the backend's
# start. One "CG" line per variant, with its ratio to the first. The run of 60 is left
# in /tmp/pg_cg.<n>.out (callgrind_annotate --inclusive=yes reads it). fsync is off:
# the count is the CPU's work, not the disk's. Needs valgrind (apt-get install
# valgrind) and a C compiler. Nothing here is a test: it prints numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
root=$PWD
bin=${TGM_BIN:-$root/bin}
size=${TGM_BENCH_GROUP:-30}
few=10 many=60
[ $# -gt 0 ] || { echo "usage: bench/pg_cg.sh base|SQL_FILE..."; exit 2; }
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)"; exit 1; }
for v in "$@"; do
	[ "$v" = base ] || [ -r "$v" ] || { echo "bench: no SQL file $v"; exit 2; }
done
bench_setup pg-cg fast
chmod 777 "$work" # the single-user backends below write their counts here
setfacl -m u:postgres:rwx "$work" 2>/dev/null || true # pg.sh gave postgres --x
# shellcheck disable=SC2046 # the flags are words
${CC:-cc} -E -I. -Ibuild/gen -D_GNU_SOURCE $(pkg-config --cflags libpq libevent yajl) \
	gatewayd/accept.c | python3 bench/pg_cg.py extract insert_named_sql > "$work/accept.sql"
i=0
for v in "$@"; do
	i=$((i + 1))
	sql -c "CREATE DATABASE v$i" >/dev/null
	u=${url/\/tgm\?//v$i?}
	printf '[database]\nurl = "%s"\n[security]\nsecret_key = %s\n' "$u" \
		"$("$bin/tgmctl" secret-key)" > "$work/tgm$i.conf"
	"$bin/tgmctl" -c "$work/tgm$i.conf" migrate >/dev/null
	[ "$v" = base ] || psql -qAt "$u" -v ON_ERROR_STOP=1 -f "$v" >/dev/null
	"$bin/tgmctl" -c "$work/tgm$i.conf" key create --tenant bench --create-tenant \
		--scope send >/dev/null 2>&1
	read -r tenant key < <(psql -qAt -F ' ' "$u" -c "SELECT t.id, k.id FROM tenants t
		JOIN api_keys k ON k.tenant_id = t.id WHERE t.name = 'bench'")
	bot=$(psql -qAt "$u" -c "INSERT INTO bots (tenant_id, telegram_id, username,
		token_sealed, token_hash) VALUES ($tenant, 1, 'benchbot', 'v1.unused', '\\x00')
		RETURNING id")
	for n in 200 $few $many; do
		python3 bench/pg_cg.py script "$work/accept.sql" "$n" "$size" "$tenant" "$bot" \
			"$key" "$n" > "$work/run$i.$n.sql"
	done
	# a statement that fails counts only its failure: every variant must accept its groups
	psql -qAt "$u" -v ON_ERROR_STOP=1 -f "$work/run$i.200.sql" >/dev/null
	got=$(psql -qAt "$u" -c "SELECT count(*) FROM messages")
	[ "$got" = $((200 * size)) ] || { echo "bench: $v accepted $got of $((200 * size))"; exit 1; }
done
sh scripts/pg.sh stop "$work/pg" >/dev/null
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(runuser -u postgres --)
pgbin=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)} # as scripts/pg.sh
# count DATABASE N - instructions of a single-user backend running N groups
count() {
	(cd / && "${as_pg[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.$1.$2" \
		"$pgbin/postgres" --single -D "$work/pg/data" -c fsync=off "v$1" \
		< "$work/run$1.$2.sql" > "$work/out.$1.$2" 2> "$work/err.$1.$2") || { tail -n 5 "$work/err.$1.$2" >&2; exit 1; }
	if grep -q ERROR "$work/out.$1.$2" "$work/err.$1.$2"; then
		echo "bench: variant $1 failed:" >&2; grep -m3 ERROR "$work/out.$1.$2" "$work/err.$1.$2" >&2
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
	awk -v v="$v" -v per="$per" -v first="$first" -v n="$size" 'BEGIN {
		printf "CG variant=%s instructions_a_group=%d a_message=%d ratio=%.3f\n",
			v, per, per / n, per / first }'
done
