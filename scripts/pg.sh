#!/bin/sh
# scripts/pg.sh -- a private PostgreSQL cluster in a directory, for `make run` and tests.
#
#   scripts/pg.sh start  DIR   initdb on first use, start if not running, create database tgm
#   scripts/pg.sh stop   DIR   fast shutdown (pg_ctl stop -m fast); fine when not running
#   scripts/pg.sh status DIR   exit 0 when running, 3 when not
#   scripts/pg.sh url    DIR   print the libpq URL of database tgm, e.g.
#                              postgresql:///tgm?host=/abs/DIR/sock&port=5432&user=tgm
#   scripts/pg.sh psql   DIR [ARGS...]   run psql on database tgm
#
# Layout: DIR/data (the cluster), DIR/sock (its Unix socket; no TCP: listen_addresses=''),
# DIR/postgres.log. The superuser is "tgm", authentication is trust: a cluster for one
# developer or one test run, reachable only through the socket directory (mode 0700).
# As root, the server runs as the "postgres" user (postgres refuses to run as root) and DIR
# is handed to that user; otherwise it runs as the invoking user.
#
# Environment: TGM_PG_PORT (default 5432; only names the socket file),
# TGM_PG_OPTIONS (extra server options, e.g. "-c fsync=off -c synchronous_commit=off"),
# PG_BINDIR (default: the highest /usr/lib/postgresql/*/bin).
set -eu

prog=pg.sh
die() { echo "$prog: $*" >&2; exit 1; }
usage() {
    echo "usage: $0 start|stop|status|url|psql DIR [psql arguments]" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
    start|stop|status|url) [ $# -eq 1 ] || usage ;;
    psql) ;;
    *) usage ;;
esac
[ -n "$1" ] || usage
dir=$(realpath -m -- "$1")
shift
port=${TGM_PG_PORT:-5432}
case $port in ''|*[!0-9]*) die "TGM_PG_PORT must be a number, not \"$port\"" ;; esac
case $dir in
    *\'*|*,*|*\\*) die "the directory name may not contain ' , or \\: $dir" ;;
esac

data=$dir/data
log=$dir/postgres.log

# The socket path must fit in sun_path (107 bytes). A deep DIR gets its socket under /tmp,
# named after DIR, so that every call computes the same place.
sock=$dir/sock
if [ $(( ${#sock} + 12 + ${#port} )) -gt 107 ]; then
    sock=/tmp/tgm-pg-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
fi

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/pg_ctl" ] || die "PG_BINDIR=$PG_BINDIR has no pg_ctl"
        echo "$PG_BINDIR"
        return
    fi
    best="" bestv=0
    for d in /usr/lib/postgresql/*/bin; do
        if [ ! -x "$d/pg_ctl" ] || [ ! -x "$d/initdb" ]; then continue; fi
        v=${d#/usr/lib/postgresql/}
        v=${v%/bin}
        case $v in ''|*[!0-9]*) continue ;; esac
        if [ "$v" -gt "$bestv" ]; then best=$d bestv=$v; fi
    done
    [ -n "$best" ] || die "no PostgreSQL server found under /usr/lib/postgresql/*/bin: run scripts/deps.sh run"
    echo "$best"
}

# URL-encode a path for the host= parameter (only when it holds unusual characters).
urlenc() {
    case $1 in
        *[!A-Za-z0-9/._~-]*) ;;
        *) printf '%s' "$1"; return ;;
    esac
    printf '%s' "$1" | od -An -v -tx1 | tr -s ' ' '\n' | while read -r h; do
        [ -n "$h" ] || continue
        # shellcheck disable=SC2059  # the format is an octal escape made here
        case $h in
            2d|2e|2f|3[0-9]|4[1-9a-f]|5[0-9a]|5f|6[1-9a-f]|7[0-9a]|7e) printf "\\$(printf '%03o' "0x$h")" ;;
            *) printf '%%%s' "$h" | tr a-f A-F ;;
        esac
    done
}

url() {
    printf 'postgresql:///tgm?host=%s&port=%s&user=tgm\n' "$(urlenc "$sock")" "$port"
}

if [ "$cmd" = url ]; then
    url
    exit 0
fi

bindir=$(find_bindir)

# Run a server-side command as the cluster's owner.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the \"postgres\" user: run scripts/deps.sh run"
    as_owner() { (cd / && runuser -u postgres -- "$@"); }
else
    as_owner() { "$@"; }
fi

running() {
    [ -f "$data/PG_VERSION" ] || return 1
    as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1
}

show_log() {
    if [ -f "$log" ]; then
        echo "$prog: last lines of $log:" >&2
        tail -n 15 "$log" >&2
    fi
}

# Root hands DIR to postgres; postgres must also be able to reach it.
prepare_dirs() {
    mkdir -p "$dir" "$sock"
    if [ "$(id -u)" = 0 ]; then
        owner=$(stat -c %U "$dir")
        if [ "$owner" != postgres ]; then
            chown -R postgres:postgres "$dir"
        fi
        chown postgres:postgres "$sock"
        # Every folder above DIR must let postgres pass (mktemp -d and pytest make 0700
        # ones): grant just that, to just postgres, with an ACL.
        p=$dir
        while [ "$p" != / ]; do
            p=$(dirname "$p")
            runuser -u postgres -- test -x "$p" 2>/dev/null && continue
            if command -v setfacl >/dev/null 2>&1 && setfacl -m u:postgres:x "$p" 2>/dev/null; then
                echo "$prog: let the postgres user pass through $p (setfacl -m u:postgres:x $p)" >&2
            else
                die "the postgres user cannot enter $p (mode $(stat -c %A "$p")), so it cannot use $dir: allow it (setfacl -m u:postgres:x $p, or chmod o+x $p) or put the cluster elsewhere"
            fi
        done
        runuser -u postgres -- test -w "$dir" 2>/dev/null || die "the postgres user cannot write to $dir"
    else
        owner=$(stat -c %u "$dir")
        [ "$owner" = "$(id -u)" ] || die "$dir belongs to $(stat -c %U "$dir") (made by a run as root?): use another directory, or: sudo chown -R $(id -un) $dir"
    fi
    chmod 0700 "$sock"
}

case $cmd in
start)
    prepare_dirs
    # One start at a time per cluster (the server must not inherit the lock: 9>&- below).
    exec 9>>"$dir/.lock"
    flock -w 120 9 || die "timed out waiting for another start of $dir"

    if [ ! -f "$data/PG_VERSION" ]; then
        # a half-made cluster from an interrupted initdb is ours to throw away
        rm -rf "$data"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
        if ! as_owner "$bindir/initdb" -D "$data" -U tgm --auth=trust --no-sync -E UTF8 \
                --no-locale >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            die "initdb failed in $data"
        fi
        echo "$prog: created a new PostgreSQL $(basename "$(dirname "$bindir")") cluster in $data" >&2
    fi

    if ! running; then
        if ! as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 -s \
                -o "-k '$sock' -p $port -c listen_addresses='' ${TGM_PG_OPTIONS:-}" \
                start >/dev/null 2>"$dir/pg_ctl.err" 9>&-; then
            cat "$dir/pg_ctl.err" >&2
            show_log
            die "PostgreSQL did not start in $data"
        fi
        rm -f "$dir/pg_ctl.err"
        echo "$prog: PostgreSQL running in $dir (socket $sock, log $log)" >&2
    fi

    psql="$bindir/psql"
    [ -x "$psql" ] || psql=psql
    if [ "$("$psql" -X -q -At -h "$sock" -p "$port" -U tgm -d postgres \
            -c "SELECT 1 FROM pg_database WHERE datname = 'tgm'")" != 1 ]; then
        "$psql" -X -q -h "$sock" -p "$port" -U tgm -d postgres -v ON_ERROR_STOP=1 \
            -c 'CREATE DATABASE tgm' >/dev/null || die "could not create database tgm"
    fi
    ;;
stop)
    if running; then
        as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 -s || {
            show_log
            die "PostgreSQL in $data did not stop"
        }
    fi
    ;;
status)
    running || exit 3
    ;;
psql)
    psql="$bindir/psql"
    [ -x "$psql" ] || psql=psql
    exec "$psql" -X "$(url)" "$@"
    ;;
esac
