#!/bin/sh
# scripts/deps.sh [build|run|sandbox|test] -- install the Debian packages tgm needs that are missing.
#
#   build  compiler and the -dev packages of the libraries tgm links
#   run    build + a PostgreSQL server (for `make run`)
#   sandbox run + Node.js, npm and Python for the simulated Telegram and Stripe
#          (`make run SANDBOX=1`)
#   test   run + what `make check` and `make bench` use (pytest and friends, wrk,
#          systemd-analyze, Chromium for the dashboard tests, Node.js for the fakes,
#          clang and libFuzzer for tests/fuzz, clang-format for make lint)
#
# Silent when nothing is missing. Otherwise it says what it installs and why, then runs
# `apt-get update` and `apt-get install -y --no-install-recommends` as root, or through
# sudo; with neither it prints the command to run and exits 1.
# Environment: TGM_DEPS_DRY_RUN=1 (only say what would be installed; exit 1 if anything
# is missing).
set -eu

usage() {
    echo "usage: $0 [build|run|sandbox|test]" >&2
    exit 2
}

set_name=${1:-build}
[ $# -le 1 ] || usage
case $set_name in
    build|run|sandbox|test) ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
esac

missing=""   # package names to install
reasons=""   # one "  package: why" line each

installed() {
    # dpkg-query prints e.g. "install ok installed"; anything else (or nothing) = missing
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    case $st in
        *" installed") return 0 ;;
        *) return 1 ;;
    esac
}

need() {  # need PACKAGE WHY
    if ! installed "$1"; then
        missing="$missing $1"
        reasons="$reasons
  $1: $2"
    fi
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: this is not a Debian-like system (no dpkg-query); install by hand:" >&2
    echo "  a C compiler, make, pkg-config, and the development files of libevent, libpq," >&2
    echo "  libcurl (OpenSSL), yajl, OpenSSL and ZeroMQ; PostgreSQL 15 to run." >&2
    exit 1
fi

# --- build -------------------------------------------------------------------------
need build-essential      "C compiler, make and libc headers (gcc also brings ASan/UBSan)"
need pkg-config           "finds the libraries' compiler and linker flags"
need libevent-dev         "HTTP servers and event loop of gatewayd and webhookd"
need libpq-dev            "PostgreSQL client library"
need libcurl4-openssl-dev "HTTPS client for the Telegram and Stripe APIs"
need libyajl-dev          "JSON parser and generator"
need libssl-dev           "hashes, HMAC (Stripe signatures) and AES for secrets at rest"
need libzmq3-dev          "ZeroMQ wiring between the daemons"

# --- run ---------------------------------------------------------------------------
if [ "$set_name" != build ]; then
    have_pg=""
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && have_pg=$d
    done
    if [ -z "$have_pg" ]; then
        # Debian 12 has postgresql-15; a later release has another major: take its default.
        if apt-cache show postgresql-15 >/dev/null 2>&1; then
            need postgresql-15 "PostgreSQL server for the local database (scripts/pg.sh)"
        else
            need postgresql "PostgreSQL server for the local database (scripts/pg.sh)"
        fi
    fi
    need util-linux       "runuser, setsid and flock used by scripts/pg.sh and scripts/run.sh"
    need curl             "scripts/run.sh asks gatewayd's /healthz before showing its banner"
    need acl              "setfacl lets scripts/pg.sh, as root, pass the postgres user through a private parent folder"
fi

# --- sandbox (and test) --------------------------------------------------------------
if [ "$set_name" = sandbox ] || [ "$set_name" = test ]; then
    need python3          "runs the sandbox Stripe (scripts/sandbox/stripe.py) and the tests"
    if ! command -v node >/dev/null 2>&1; then
        need nodejs       "runs the simulated Telegram and the test peers (tests/package.json)"
    fi
    if ! command -v npm >/dev/null 2>&1; then
        need npm          "installs tests/package.json"
    fi
fi

# --- test --------------------------------------------------------------------------
if [ "$set_name" = test ]; then
    need python3-pytest   "runs the integration tests (tests/integration)"
    need python3-cryptography "seals bot tokens in the senderd tests (AES-256-GCM)"
    need python3-psycopg2 "tests inspect the database"
    need python3-requests "tests call the HTTP APIs"
    need python3-python-telegram-bot "a real Bot API client in the Bot API endpoint's tests"
    need python3-yaml     "tests read docs/openapi.yaml"
    need python3-zmq      "tests listen to the daemons' ZeroMQ events"
    need systemd          "systemd-analyze verify checks the unit files"
    need wrk              "HTTP load generator for make bench"
    need prometheus       "promtool checks every daemon's /metrics (test_metrics.py)"
    need chromium         "headless browser for the dashboard tests (Playwright)"
    need fonts-dejavu-core "a font, so the dashboard's screenshots show text"
    need groff-base       "renders the man pages in tests/integration/test_docs.py"
    need pgbouncer        "tgm behind PgBouncer in transaction mode (test_pgbouncer.py)"
    need clang-format     "make lint checks the C layout against .clang-format (make format)"
    # gcc's sanitizer runtimes (libasan8, libubsan1, liblsan0) come with build-essential;
    # clang's (also for `make check SANITIZE=1 CC=clang`) come with libclang-rt-14-dev,
    # which on Debian 12 holds libFuzzer too (libfuzzer-14-dev is only the standalone
    # -lFuzzer archive, not needed for -fsanitize=fuzzer).
    need clang              "builds the libFuzzer targets of tests/fuzz (make fuzz, make check)"
    need libclang-rt-14-dev "libFuzzer and clang's AddressSanitizer/UBSan runtimes"
fi

[ -n "$missing" ] || exit 0

missing=${missing# }
echo "deps.sh: missing Debian packages for '$set_name':$reasons"

if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
    # no terminal to ask for a password on: fail rather than hang
    [ -t 0 ] || sudo="sudo -n"
else
    sudo="none"
fi

if [ "$sudo" = none ] || [ "${TGM_DEPS_DRY_RUN:-0}" = 1 ]; then
    echo "deps.sh: run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi

echo "deps.sh: installing them: ${sudo:+$sudo }apt-get install -y --no-install-recommends $missing"
aptlog=$(mktemp "${TMPDIR:-/tmp}/tgm-deps.XXXXXX")
trap 'rm -f "$aptlog"' EXIT
if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$aptlog" 2>&1; then
    cat "$aptlog" >&2
    echo "deps.sh: apt-get update failed" >&2
    exit 1
fi
# shellcheck disable=SC2086  # word splitting of $missing is wanted
if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
        >"$aptlog" 2>&1; then
    cat "$aptlog" >&2
    echo "deps.sh: apt-get install failed" >&2
    exit 1
fi
echo "deps.sh: installed: $missing"
