#!/usr/bin/env bash
# scripts/run.sh -- what `make run` runs after building: the whole suite on this machine.
#
# Installs what is missing (scripts/deps.sh run), starts a private PostgreSQL in var/pg
# (scripts/pg.sh), writes var/tgm.conf and creates an admin key in var/admin.key on the
# first run, migrates the database, then runs gatewayd, senderd (instance 1), webhookd and
# billingd in the foreground, each output line prefixed with the daemon's name.
# Ctrl-C (or SIGTERM) stops the daemons with SIGTERM, then PostgreSQL, and exits 0; a
# second Ctrl-C makes the daemons exit at once. A daemon that exits on its own stops the
# rest and makes this script exit 1. The next run reuses var/: cluster, config, key, data.
#
# Environment: TGM_PORT (gatewayd's port, default 8080; webhookd gets the next one),
# TGM_BIN (the programs' folder, default bin/), TGM_STOP_TIMEOUT (seconds, default 30),
# TGM_VAR (the state folder, default var/), TGM_SANDBOX=1 (`make run SANDBOX=1`: Telegram is
# scripts/sandbox/telegram.js on the port after webhookd's, with a ready sandbox bot, and
# Stripe is scripts/sandbox/stripe.py on the port after that, with a product to buy), and
# every TGM_<SECTION>_<KEY> the daemons read themselves.
set -euo pipefail

prog=run.sh
# Messages must not stop the stopping: with `make run | tee log`, Ctrl-C kills tee too.
trap '' PIPE
say() { echo "$prog: $*" >&2 || true; }
die() { say "$*"; exit 1; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
bin=${TGM_BIN:-$root/bin}
var=${TGM_VAR:-$root/var}
conf=$var/tgm.conf
keyfile=$var/admin.key
stop_timeout=${TGM_STOP_TIMEOUT:-30}
daemons=(gatewayd senderd webhookd billingd)

port=${TGM_PORT:-8080}
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((port < 1 || port > 65532)); then
    die "TGM_PORT must be a port number below 65533, not \"$port\""
fi
hook_port=$((port + 1))
sandbox=${TGM_SANDBOX:-0}
[[ $sandbox == 0 || $sandbox == 1 ]] || die "SANDBOX must be 0 or 1, not \"$sandbox\""
tg_port=$((port + 2))
stripe_port=$((port + 3))
sandbox_token=1000001:SANDBOXsandboxSANDBOXsandboxSANDBOX0

# --- prerequisites ------------------------------------------------------------------
if ((sandbox)); then sh scripts/deps.sh sandbox; else sh scripts/deps.sh run; fi
for p in "${daemons[@]}" tgmctl; do
    [[ -x $bin/$p ]] || die "$bin/$p is missing: build it first (make run does)"
done

if ((sandbox)); then
    command -v node >/dev/null || die "node is missing: apt-get install nodejs (SANDBOX=1 needs it)"
    if [[ ! -d tests/node_modules/telegram-test-api ]]; then
        npm ci --prefix tests --no-audit --no-fund --loglevel=error ||
            die "npm ci --prefix tests failed (SANDBOX=1 needs telegram-test-api)"
    fi
    # the sandbox Telegram is started, watched and stopped like a daemon, first
    daemons=(telegram "${daemons[@]}")
    export TGM_TELEGRAM_API_URL=http://127.0.0.1:$tg_port
    # and Stripe too: the tests' fake, with a checkout page (scripts/sandbox/stripe.py)
    daemons=(stripe "${daemons[@]}")
    export TGM_STRIPE_API_URL=http://127.0.0.1:$stripe_port TGM_STRIPE_SECRET_KEY=sk_test_sandbox
    export TGM_STRIPE_WEBHOOK_SECRET=whsec_sandbox
fi

mkdir -p "$var"
# One `make run` per checkout: a second one would stop the first one's PostgreSQL.
exec 8>>"$var/run.lock"
flock -n 8 || die "another make run is using $var: stop it first (Ctrl-C in its terminal)"

# ZeroMQ ipc:// paths must fit in a Unix socket address (107 bytes) and, being listed
# space-separated, hold no blanks; otherwise they go to a private runtime folder.
rundir=$var/run
if ((${#rundir} > 80)) || [[ $rundir =~ [[:space:]] ]]; then
    rundir=${XDG_RUNTIME_DIR:-/tmp}/tgm-$(id -u)-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
fi
mkdir -p "$rundir"
chmod 0700 "$rundir"

# --- cleanup, whatever way this script ends ----------------------------------------
declare -A pid=()
pg_started=0
signals=0
# shellcheck disable=SC2317  # reached through trap
on_signal() { signals=$((signals + 1)); }
trap on_signal INT TERM HUP

alive() { [[ -n ${pid[$1]:-} ]] && kill -0 "${pid[$1]}" 2>/dev/null; }

stop_daemons() {
    local n t0 any sent=$signals
    for n in "${daemons[@]}"; do
        if alive "$n"; then kill -TERM "${pid[$n]}" 2>/dev/null || true; fi
    done
    t0=$SECONDS
    while :; do
        any=0
        for n in "${daemons[@]}"; do
            if alive "$n"; then any=1; fi
        done
        if ((any == 0)); then break; fi
        if ((signals > sent)); then
            # another Ctrl-C: the daemons' second SIGTERM means "exit at once"
            sent=$signals
            for n in "${daemons[@]}"; do
                if alive "$n"; then kill -TERM "${pid[$n]}" 2>/dev/null || true; fi
            done
        fi
        if ((SECONDS - t0 >= stop_timeout)); then
            for n in "${daemons[@]}"; do
                if alive "$n"; then
                    say "$n did not stop within ${stop_timeout}s: killing it"
                    kill -KILL "${pid[$n]}" 2>/dev/null || true
                fi
            done
            break
        fi
        sleep 0.1
    done
    for n in "${daemons[@]}"; do
        if [[ -n ${pid[$n]:-} ]]; then wait "${pid[$n]}" 2>/dev/null || true; fi
        unset "pid[$n]"
    done
    sleep 0.1 # let the last prefixed lines through
}

# shellcheck disable=SC2317  # reached through trap
cleanup() {
    local rc=$?
    stop_daemons
    if ((pg_started)); then
        pg_started=0
        sh scripts/pg.sh stop "$var/pg" 8>&- || rc=1
    fi
    exit "$rc"
}
trap cleanup EXIT

# --- database ------------------------------------------------------------------------
new_cluster=0
[[ -f $var/pg/data/PG_VERSION ]] || new_cluster=1
pg_started=1
sh scripts/pg.sh start "$var/pg" 8>&-
db_url=$(sh scripts/pg.sh url "$var/pg")

# --- configuration (first run only; edit it freely afterwards) ------------------------
if [[ ! -f $conf ]]; then
    secret=$("$bin/tgmctl" secret-key) || die "tgmctl secret-key failed"
    [[ $secret =~ ^[0-9a-fA-F]{64}$ ]] || die "tgmctl secret-key printed something else than 64 hex characters"
    ipc="ipc://$rundir"
    (
        umask 077
        cat >"$conf.tmp" <<EOF
# tgm configuration for \`make run\`, written by scripts/run.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ).
# Kept from run to run: edit it freely, or delete it to have a new one written.
# Every key, with its default and meaning: etc/tgm.conf (or: bin/tgmctl config --defaults).

[database]
url = "$db_url"

[log]
level = info

[security]
secret_key = $secret

[stripe]
# secret_key = sk_test_...
# webhook_secret = whsec_...

[gatewayd]
listen = 127.0.0.1:$port
doorbell = $ipc/gatewayd-doorbell
status = $ipc/gatewayd-status

[senderd]
doorbells = "$ipc/gatewayd-doorbell $ipc/webhookd-doorbell $ipc/billingd-doorbell"
statuses = "$ipc/gatewayd-status $ipc/billingd-status"

[webhookd]
listen = 127.0.0.1:$hook_port
# public_url = https://example.org    (where Telegram can reach webhookd)
doorbell = $ipc/webhookd-doorbell
billing = $ipc/billingd-work
statuses = $ipc/gatewayd-status

[billingd]
doorbell = $ipc/billingd-doorbell
status = $ipc/billingd-status
work = $ipc/billingd-work
EOF
    )
    mv "$conf.tmp" "$conf"
    say "wrote $conf"
else
    chmod 0600 "$conf"
    grep -qF "ipc://$rundir/" "$conf" ||
        say "note: $conf was written for another folder; delete it to have a new one written"
fi
# An explicit TGM_PORT wins over the file on later runs too.
if [[ -n ${TGM_PORT:-} ]]; then
    export TGM_GATEWAYD_LISTEN=127.0.0.1:$port TGM_WEBHOOKD_LISTEN=127.0.0.1:$hook_port
fi

"$bin/tgmctl" -c "$conf" migrate 8>&- || die "tgmctl migrate failed"

# --- admin key (first run, or a new database) -----------------------------------------
if [[ -s $keyfile ]] && ((new_cluster)); then
    mv -f "$keyfile" "$keyfile.old"
    say "the database is new, so the old admin key no longer works (kept in $keyfile.old): making a new one"
fi
if [[ ! -s $keyfile ]]; then
    key=$("$bin/tgmctl" -c "$conf" key create --tenant default --create-tenant --scope admin --name make-run 8>&-) ||
        die "tgmctl key create failed"
    key=${key%%[[:space:]]*}
    [[ -n $key ]] || die "tgmctl key create printed no key"
    (umask 077 && printf '%s\n' "$key" >"$keyfile.tmp")
    mv "$keyfile.tmp" "$keyfile"
fi
chmod 0600 "$keyfile"
admin_key=$(head -n 1 "$keyfile")

# --- the dashboard's owner account (first run, or a new database) ----------------------
ownerfile=$var/owner.password
if [[ -s $ownerfile ]] && ((new_cluster)); then
    rm -f "$ownerfile"
fi
if [[ ! -s $ownerfile ]]; then
    # made once; when var/ lost the file, the account gets a new password
    pw=$("$bin/tgmctl" -c "$conf" user create --tenant default --email owner@localhost \
        --role owner 8>&- 2>/dev/null ||
        "$bin/tgmctl" -c "$conf" user reset-password owner@localhost 8>&- 2>/dev/null) ||
        die "tgmctl user create failed"
    (umask 077 && printf '%s\n' "${pw%%[[:space:]]*}" >"$ownerfile.tmp")
    mv "$ownerfile.tmp" "$ownerfile"
fi
owner_pw=$(head -n 1 "$ownerfile")

# --- banner ---------------------------------------------------------------------------
# The effective listen address of a daemon: environment, then the file, then the default.
listen_of() {
    local section=$1 default=$2 env="TGM_${1^^}_LISTEN" v
    v=${!env:-}
    if [[ -z $v ]]; then
        v=$(awk -v s="[$section]" '
            /^[ \t]*\[/ { gsub(/[ \t]/, ""); in_s = ($0 == s); next }
            in_s && /^[ \t]*listen[ \t]*=/ {
                sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]*$/, ""); gsub(/"/, ""); print; exit
            }' "$conf")
    fi
    v=${v:-$default}
    # a wildcard address is reached through loopback
    if [[ $v == 0.0.0.0:* || $v == :* || $v == \*:* || $v == "[::]:"* ]]; then
        v=127.0.0.1:${v##*:}
    fi
    printf '%s' "$v"
}
api=http://$(listen_of gatewayd "127.0.0.1:8080")
hook=http://$(listen_of webhookd "127.0.0.1:8081")

banner() {
    local rule="==================================================================================="
    cat >&2 <<EOF || true

$rule
  tgm is running.  Ctrl-C stops it all.

  API          $api/v1/   (described at $api/v1/openapi.yaml)
  Dashboard    $api/      log in as owner@localhost, password $owner_pw
               (in $ownerfile; the dashboard asks for a new one at the first login)
  Webhooks     $hook/telegram/<bot_id>   $hook/stripe
  Admin key    $admin_key
               (in $keyfile; its scope is admin, tenant "default")
  Try          curl -H "Authorization: Bearer $admin_key" $api/v1/bots

  Config       $conf          Logs: below, one prefix per daemon
  Database     psql '$db_url'
$(if ((sandbox)); then printf '\n'; sandbox_banner; fi)
$rule

EOF
}

# sandbox_bot - register the sandbox bot (once per database) and tell the sandbox Telegram
# its token; sets bot_id
sandbox_bot() {
    local auth="Authorization: Bearer $admin_key" out
    out=$(curl -s -m 15 -H "$auth" -H 'Content-Type: application/json' \
        -d "{\"token\":\"$sandbox_token\",\"name\":\"sandbox\"}" "$api/v1/bots" || true)
    if [[ $out != *'"id":'* ]]; then
        out=$(curl -s -m 15 -H "$auth" "$api/v1/bots" || true)
    fi
    bot_id=$({ grep -o '"id" *: *[0-9]*' <<<"$out" || true; } | sed -n '1s/.*: *//p')
    [[ -n $bot_id ]] || say "the sandbox bot could not be registered: $out"
    # something to buy: 100 credits for $5.00 (once)
    out=$(curl -s -m 15 -H "$auth" "$api/v1/bots/$bot_id/products" || true)
    if [[ $out != *'"credits":100'* ]]; then
        curl -s -m 15 -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
            -d '{"label":"100 credits","credits":100,"price":500}' "$api/v1/bots/$bot_id/products" || true
    fi
    # user 1 owns the bot in Telegram (/admins; docs/admins.md): once, a PUT again is no change
    curl -s -m 15 -o /dev/null -X PUT -H "$auth" -H 'Content-Type: application/json' \
        -d '{"role":"owner"}' "$api/v1/bots/$bot_id/admins/1" || true
    curl -s -m 5 -o /dev/null -d "token=$sandbox_token" "$TGM_TELEGRAM_API_URL/sandbox/token" || true
}

# sandbox_banner - the sandbox lines of the banner: three commands to paste
sandbox_banner() {
    local tg=$TGM_TELEGRAM_API_URL st=$TGM_STRIPE_API_URL auth="Authorization: Bearer $admin_key"
    cat <<EOF
  Sandbox      Telegram is simulated at $tg (SANDBOX=1); bot $bot_id is ready.
  Try these, in another terminal:
  1. send a message to user 42, then see what user 42 received:
  \$ curl -s -H '$auth' -H 'Content-Type: application/json' -d '{"bot_id":$bot_id,"chat_id":42,"text":"Hello from tgm"}' $api/v1/messages; curl -s '$tg/sandbox/chat/42?wait_for=Hello%20from%20tgm'
  2. user 42 writes /start to the bot, and sees the bot's reply:
  \$ curl -s -H 'Content-Type: application/json' -d '{"user_id":42,"text":"/start"}' $tg/sandbox/say
  3. the full history of the last message sent to user 42:
  \$ curl -s -H '$auth' $api/v1/messages/\$(curl -s -H '$auth' '$api/v1/messages?chat_id=42&limit=1' | grep -o '"id" *: *[0-9]*' | sed -n '1s/.*: *//p')
  Then buy credits as user 42 (Stripe is simulated at $st too):
  4. user 42 writes /buy100, and the bot answers with a Checkout link (open it in a browser, or):
  \$ curl -s -H 'Content-Type: application/json' -d '{"user_id":42,"text":"/buy100"}' $tg/sandbox/say
  5. pay at the sandbox Stripe; its signed event reaches webhookd, and the bot tells user 42:
  \$ curl -s -X POST $st/sandbox/pay
  6. user 1, the bot's owner in Telegram, lists who may act as its admins (/admins):
  \$ curl -s -H 'Content-Type: application/json' -d '{"user_id":1,"text":"/admins"}' $tg/sandbox/say

EOF
}

# --- the daemons ---------------------------------------------------------------------
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID LISTEN_FDS LISTEN_PID LISTEN_FDNAMES

# Each daemon gets its own session, so that a Ctrl-C on the terminal reaches only this
# script, which then stops the daemons in order; its prefixers ignore the signals and end
# when their daemon closes its output.
start_daemon() {
    local name=$1 tag
    shift
    tag=$(printf '%-8s | ' "$name")
    setsid "$@" </dev/null 8>&- \
        > >(trap '' INT TERM HUP; exec sed -u "s/^/$tag/") \
        2> >(trap '' INT TERM HUP; exec sed -u "s/^/$tag/" >&2) &
    pid[$name]=$!
}

if ((sandbox)); then
    start_daemon telegram node scripts/sandbox/telegram.js "$tg_port"
    start_daemon stripe python3 scripts/sandbox/stripe.py "$stripe_port" "$hook/stripe" \
        "$TGM_STRIPE_WEBHOOK_SECRET" "$TGM_TELEGRAM_API_URL"
    for ((i = 0; i < 100; i++)); do
        curl -fs -m 1 -o /dev/null "$TGM_TELEGRAM_API_URL/sandbox/chat/0" && break
        sleep 0.1
    done
fi
start_daemon gatewayd "$bin/gatewayd" -c "$conf"
start_daemon senderd "$bin/senderd" -c "$conf" --instance 1
start_daemon webhookd "$bin/webhookd" -c "$conf"
start_daemon billingd "$bin/billingd" -c "$conf"

# Show the banner once gatewayd answers /healthz (so it is not lost above the start-up
# lines), or after 15 s whatever happens; not when a daemon has already ended.
api_hostport=${api#http://}
api_host=${api_hostport%:*}
api_host=${api_host#[}
api_host=${api_host%]}
api_port=${api_hostport##*:}
dead=0
for ((i = 0; i < 150; i++)); do
    if ((signals)); then break; fi
    dead=0
    for n in "${daemons[@]}"; do
        if ! alive "$n"; then dead=1; fi
    done
    if ((dead)); then break; fi
    if command -v curl >/dev/null 2>&1; then
        if curl -fs -m 1 -o /dev/null "$api/healthz"; then break; fi
    elif (exec 3<>"/dev/tcp/$api_host/$api_port") 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if ((signals == 0 && dead == 0 && sandbox)); then sandbox_bot; fi
if ((signals == 0 && dead == 0)); then banner; fi

# Wait for a signal or for a daemon to end.
failed=""
while ((signals == 0)); do
    died=""
    if wait -n -p died "${pid[@]}"; then rc=0; else rc=$?; fi
    if ((signals)); then break; fi
    if [[ -z ${died:-} ]]; then continue; fi
    for n in "${daemons[@]}"; do
        if [[ ${pid[$n]:-} == "$died" ]]; then
            failed=$n
            unset "pid[$n]"
        fi
    done
    if [[ -n $failed ]]; then break; fi
done

if [[ -n $failed ]]; then
    say "$failed exited unexpectedly (status $rc): stopping the others"
    exit 1
fi
say "stopping"
stop_daemons
sh scripts/pg.sh stop "$var/pg" 8>&-
pg_started=0
say "stopped"
exit 0
