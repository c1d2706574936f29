#!/usr/bin/env bash
# test/bench/remote/latency.sh: the remote-resolver latency benchmark of
# comms_resolve.
#
# Per-call latency of the remote resolver against the API emulator
# (test/emulator), with connection reuse and with a new connection per
# call, and the emulator's own floor, in one run and for one request body
# (a pool of 10 active senders, 3 recipients:
# ["+14155552671", "whatsapp:+14155552671", "jane@example.com"]):
#
#   reuse      N calls of comms_resolve.resolve(pool, recipients, NULL,
#              'remote') in one backend, comms_resolve.reuse_connections on
#              (one keep-alive connection for all of them)
#   new conn   the same with comms_resolve.reuse_connections = off (a new
#              TCP connection per call)
#   floor      floor_client (floor_client.c): the same request body, sent
#              N times over one keep-alive connection by a minimal libcurl
#              client
#
# The body is the extension's own: a one-shot listener (capture_request.c)
# records the bytes resolve() sends, and the floor sends those bytes.  The
# SQL variants are timed on the server, clock_timestamp() around
#
#   SELECT count(*) FROM generate_series(1, N) g
#    CROSS JOIN LATERAL comms_resolve.resolve(pool,
#          CASE WHEN g > 0 THEN recipients END, NULL, 'remote') r
#
# (the CASE ties the call to g, so the function scan is re-run for every g
# instead of being read back from its tuplestore), after one untimed call in
# the same backend that opens the connection; the floor times itself
# (CLOCK_MONOTONIC) after one untimed call too.  Every variant is checked
# against the emulator's request log (GET /_emulator/log): exactly N + 1
# Resolve requests, all answered 200; the SQL variants must return N times
# the rows of one call; and the connections opened (TIME-WAIT sockets on
# the emulator's port, with ss) must be 1 with reuse (0 new ones for the
# floor's timed calls, by libcurl's count) and more than 1 without.
#
# Each variant runs RUNS times (interleaved), the median is reported in
# ms per call, with the ratios reuse / floor (target <= 1.5x) and
# new conn / reuse.  The target is informational: the exit status is 0
# unless something fails (a non-200, a count mismatch, an error).
#
# Usage: test/bench/remote/latency.sh [options]
#   -n, --calls N        calls per variant and run (default 2000; env
#                        BENCH_CALLS)
#   -r, --runs N         timed runs per variant, the median is reported
#                        (default 3; env BENCH_RUNS)
#       --smoke          50 calls, 1 run: a check that takes seconds
#       --pin MODE       CPU placement of the two ends of every request, the
#                        same for all variants: "split" (default) runs the
#                        emulator on one CPU and the client (the backend,
#                        floor_client) on another; "same" runs both on one
#                        CPU; "off" leaves placement to the scheduler (on a
#                        small VM this alone moves the floor by 3x); env
#                        BENCH_PIN.  Pinning the backend uses taskset -p on
#                        it (root, or the server's OS user)
#       --tmp-cluster    initdb and start a throwaway cluster (as user
#                        postgres when run as root) in a mktemp directory,
#                        Unix socket only, port 55478 (env BENCH_PORT);
#                        stopped and removed on exit
#   -h, --help
# Connection: the usual PGHOST, PGPORT, PGUSER; the database is PGDATABASE,
# default comms_resolve_bench_remote, created when missing.  Use a database
# of its own: the script points its server comms_api at the emulator and
# creates or replaces the current user's mapping for it.
# The emulator is built with `make -C test/emulator` unless COMMS_EMULATOR
# names a binary; floor_client and capture_request with `make -C
# test/bench/remote`.  Needs curl and jq.
#
# Prerequisite: comms_resolve built and installed (make && make install).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/bench/lib.sh
. "$root/test/bench/lib.sh"
inventory=$here/inventory.json
PG_CONFIG=${PG_CONFIG:-pg_config}

calls=${BENCH_CALLS:-2000}
runs=${BENCH_RUNS:-3}
smoke=0
tmp_cluster=0
pin=${BENCH_PIN:-split}

# the request: the pool of inventory.json and three recipients
pool_id=comms_senderpool_01hbenchrem000000000000001
recipients='["+14155552671", "whatsapp:+14155552671", "jane@example.com"]'
account=AC1
token=secret

usage() { sed -n '/^# Usage:/,/^# Prerequisite/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "latency.sh: error: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    case $1 in
        -n|--calls) calls=${2:?}; shift 2 ;;
        -r|--runs) runs=${2:?}; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --tmp-cluster) tmp_cluster=1; shift ;;
        --pin) pin=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ $smoke = 1 ]; then
    calls=50 runs=1
fi
for v in calls runs; do
    is_uint "${!v}" || die "$v must be a non-negative integer"
done
[ "$calls" -ge 1 ] || die "need at least one call"
[ "$runs" -ge 1 ] || die "need at least one run"
# CPUs: em_cpu for the emulator, cl_cpu for the client side
case $pin in
    off) em_cpu='' cl_cpu='' ;;
    same|split)
        command -v taskset >/dev/null || die "--pin $pin needs taskset (util-linux)"
        cpus=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' \
               | awk -F- '{ hi = ($2 == "") ? $1 : $2; for (c = $1; c <= hi; c++) print c }')
        em_cpu=$(sed -n 1p <<<"$cpus")
        cl_cpu=$em_cpu
        if [ "$pin" = split ]; then
            cl_cpu=$(sed -n 2p <<<"$cpus")
            [ -n "$cl_cpu" ] || die "--pin split needs two CPUs; use --pin same or off"
        fi
        ;;
    *) die "--pin is split, same or off" ;;
esac
# on_cpu CPU COMMAND...: run COMMAND on CPU (anywhere when CPU is empty)
on_cpu() {
    local cpu=$1
    shift
    if [ -n "$cpu" ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}
command -v curl >/dev/null || die "curl (the command) is needed"
command -v jq >/dev/null || die "jq is needed"
# New connections to the emulator, counted as TIME-WAIT sockets on its port
# (ss, iproute2): the closing side keeps one for 60 s per connection.
have_ss=0
command -v ss >/dev/null && have_ss=1
tw_count() {
    if [ $have_ss = 1 ]; then
        ss -Htan state time-wait "( sport = :$em_port or dport = :$em_port )" | wc -l
    else
        echo 0
    fi
}

export PGDATABASE=${PGDATABASE:-comms_resolve_bench_remote}
export PGOPTIONS="${PGOPTIONS:-} -c max_parallel_workers_per_gather=0 -c jit=off -c client_min_messages=warning -c comms_resolve.server=comms_api"

# ------------------------------------------------------------------------
# Clean-up: the emulator, the capture listener, the throwaway cluster
# ------------------------------------------------------------------------
work=$(mktemp -d /tmp/cr_bench_remote.XXXXXX)
emulator_pid=
capture_pid=
tmpdir=
cleanup() {
    if [ -n "$capture_pid" ]; then kill "$capture_pid" 2>/dev/null || true; wait "$capture_pid" 2>/dev/null || true; fi
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
    if [ -n "$tmpdir" ] && [ -d "$tmpdir" ]; then
        if [ -f "$tmpdir/data/postmaster.pid" ]; then
            as_owner "$pgbin/pg_ctl" -D "$tmpdir/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$tmpdir"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------
# Programs: floor_client, capture_request, the emulator
# ------------------------------------------------------------------------
make -s -C "$here" >/dev/null || die "could not build test/bench/remote (floor_client, capture_request)"
emulator=$(bench_emulator "$root") || die "could not build the emulator (make -C test/emulator)"
[ -x "$emulator" ] || die "no emulator binary at $emulator"

# wait_for_file FILE PID WHAT: until FILE is non-empty, while PID lives
wait_for_file() {
    for _ in $(seq 1 100); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || die "$3 exited before it listened"
        sleep 0.1
    done
    die "$3 did not listen within 10 s"
}

# (taskset execs the emulator: $! is the emulator's pid, the one to stop)
em_prefix=()
[ -z "$em_cpu" ] || em_prefix=(taskset -c "$em_cpu")
"${em_prefix[@]}" "$emulator" --inventory "$inventory" --credentials "$account:$token" --port 0 \
    --port-file "$work/emulator.port" >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
wait_for_file "$work/emulator.port" "$emulator_pid" "the emulator"
em_port=$(cat "$work/emulator.port")
em_url=http://127.0.0.1:$em_port/v1
em_control=http://127.0.0.1:$em_port/_emulator

# ------------------------------------------------------------------------
# Throwaway cluster
# ------------------------------------------------------------------------
if [ $tmp_cluster = 1 ]; then
    pgbin=$("$PG_CONFIG" --bindir)
    port=${BENCH_PORT:-55478}
    tmpdir=$(mktemp -d /tmp/cr_bench.XXXXXX)
    bench_start_cluster "$tmpdir" "$port" \
        || die "could not start the throwaway cluster"
fi


# ------------------------------------------------------------------------
# Database, extension, server and user mapping
# ------------------------------------------------------------------------
bench_database || die "could not prepare database $PGDATABASE"

psql_q -v account="$account" -v token="$token" >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS comms_resolve;
SELECT set_config('cr_bench.account', :'account', false),
       set_config('cr_bench.token', :'token', false);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_user_mappings
                WHERE srvname = 'comms_api' AND usename = current_user) THEN
        EXECUTE format('ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (SET account_id %L, SET auth_token %L)',
                       current_setting('cr_bench.account'), current_setting('cr_bench.token'));
    ELSE
        EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id %L, auth_token %L)',
                       current_setting('cr_bench.account'), current_setting('cr_bench.token'));
    END IF;
END
$$;
DROP SCHEMA IF EXISTS cr_bench_remote CASCADE;
CREATE SCHEMA cr_bench_remote;
-- N calls of the remote resolver in one statement, timed on the server.
-- The CASE ties each call to g: without a reference to g the function scan
-- would run once and be read back from its tuplestore for every other g.
CREATE FUNCTION cr_bench_remote.timed(calls integer, pool text, recipients jsonb,
                                      OUT n bigint, OUT secs double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    SELECT count(*) INTO n
      FROM generate_series(1, calls) AS g
     CROSS JOIN LATERAL comms_resolve.resolve(pool, CASE WHEN g > 0 THEN recipients END,
                                              NULL, 'remote') AS r;
    secs := extract(epoch FROM clock_timestamp() - t0);
END
$$;
SQL
set_base_url() {
    psql_q -c "ALTER SERVER comms_api OPTIONS (SET base_url '$1')" >/dev/null
}

one_call="SELECT count(*) FROM comms_resolve.resolve('$pool_id', '$recipients', NULL, 'remote')"

# ------------------------------------------------------------------------
# The request body, as the extension sends it
# ------------------------------------------------------------------------
"$here/capture_request" --port-file "$work/capture.port" --body-out "$work/body.json" \
    --headers-out "$work/headers.txt" 2>"$work/capture.err" &
capture_pid=$!
wait_for_file "$work/capture.port" "$capture_pid" "capture_request"
set_base_url "http://127.0.0.1:$(cat "$work/capture.port")/v1"
[ "$(psql_q -c "$one_call")" = 0 ] || die "the capture listener's empty answer did not give 0 rows"
wait "$capture_pid" || { cat "$work/capture.err" >&2; die "capturing the request body failed"; }
capture_pid=
head -n 1 "$work/headers.txt" | grep -q '^POST /v1/Senders/Resolve HTTP/1.1' \
    || die "unexpected request captured: $(head -n 1 "$work/headers.txt")"
set_base_url "$em_url"

# ------------------------------------------------------------------------
# Checks against the emulator's request log
# ------------------------------------------------------------------------
log_clear() {
    curl -sf -X DELETE "$em_control/log" >/dev/null || die "DELETE /_emulator/log failed"
}
# prints "resolve-requests answered-200 other-requests"
log_counts() {
    curl -sf "$em_control/log" | jq -r '
        [.[] | select(.method == "POST" and .path == "/v1/Senders/Resolve")] as $r
        | "\($r | length) \([$r[] | select(.status == 200)] | length) \(length - ($r | length))"' \
        || die "GET /_emulator/log failed"
}

log_clear
rows_per_call=$(psql_q -c "$one_call")
read -r lr l200 lother <<<"$(log_counts)"
[ "$lr $l200 $lother" = "1 1 0" ] \
    || die "one resolve() call should make one Resolve request answered 200; the emulator's log has $lr Resolve ($l200 answered 200) and $lother other requests"
[ "$rows_per_call" -ge 1 ] || die "resolve() returns no rows for the benchmark request"

# the floor's request, checked once by hand: 200 and the same results
floor_resp=$(curl -sf -u "$account:$token" -H 'Content-Type: application/json' \
    --data-binary "@$work/body.json" "$em_url/Senders/Resolve") \
    || die "the captured body is not answered 200 by the emulator"
[ "$(jq '.results | length' <<<"$floor_resp")" -ge "$rows_per_call" ] \
    || die "the emulator answers the captured body with fewer results than resolve() returns"

server_version=$(psql_q -c "SHOW server_version")
echo "comms_resolve remote-resolver latency benchmark: $calls calls per variant, $runs run(s) each"
echo "server: PostgreSQL $server_version, database $PGDATABASE$([ $tmp_cluster = 1 ] && echo ", throwaway cluster in $tmpdir")"
echo "emulator: $em_url ($(basename "$emulator"), inventory $(basename "$inventory"): pool of $(jq '[.senders[] | select(.status == "ACTIVATED")] | length' "$inventory") active senders)"
echo "request: POST /v1/Senders/Resolve, $(wc -c <"$work/body.json") bytes as the extension sends it:"
echo "  $(cat "$work/body.json")"
echo "resolve() returns $rows_per_call rows per call; libcurl $(curl-config --version | sed 's/^libcurl //'); $(nproc) CPUs"
case $pin in
    off) echo "placement: left to the scheduler (--pin off)" ;;
    same) echo "placement: emulator and client (backend, floor_client) both on CPU $em_cpu (--pin same)" ;;
    split) echo "placement: emulator on CPU $em_cpu, client (backend, floor_client) on CPU $cl_cpu (--pin split)" ;;
esac
echo "connections: new TCP connections to the emulator per variant and run, untimed call included ($([ $have_ss = 1 ] && echo "TIME-WAIT sockets, ss" || echo "not counted: no ss"))"
echo "timing: SQL variants server-side (clock_timestamp() around the statement), floor client-side (CLOCK_MONOTONIC); one untimed call first; median of $runs"
echo

# psql lines that move the session's backend to cl_cpu (none without --pin)
pin_backend=
if [ -n "$cl_cpu" ]; then
    pin_backend="SELECT pg_backend_pid() AS cr_bench_pid \\gset
\\setenv CR_BENCH_PID :cr_bench_pid
\\! taskset -pc $cl_cpu \"\$CR_BENCH_PID\" >/dev/null || echo PIN-FAILED"
    out=$(psql_q <<<"$pin_backend") || die "pinning a backend failed"
    [ -z "$out" ] || die "could not pin a backend to CPU $cl_cpu with taskset -p (run as root or as the server's OS user, or use --pin off)"
fi

# ------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------
failed=0
check_log() {  # variant run
    local lr l200 lother
    read -r lr l200 lother <<<"$(log_counts)"
    if [ "$lr" != $((calls + 1)) ] || [ "$l200" != "$lr" ] || [ "$lother" != 0 ]; then
        echo "CHECK FAILED: $1, run $2: the emulator logged $lr Resolve requests ($l200 answered 200) and $lother other requests, expected $((calls + 1)) all 200 and 0"
        failed=1
    fi
}

declare -A secs
for ((run = 1; run <= runs; run++)); do
    for v in reuse newconn floor; do
        log_clear
        tw0=$(tw_count)
        case $v in
            reuse|newconn)
                setting=$([ $v = reuse ] && echo on || echo off)
                out=$(psql_q <<SQL
$pin_backend
SET comms_resolve.reuse_connections = $setting;
$one_call;
SELECT n, secs FROM cr_bench_remote.timed($calls, '$pool_id', '$recipients');
SQL
                     ) || { echo "CHECK FAILED: $v, run $run: the statement failed"; failed=1; continue; }
                { read -r _; read -r n t; } <<<"$(tail -n 2 <<<"$out")"
                if [ "$n" != $((calls * rows_per_call)) ]; then
                    echo "CHECK FAILED: $v, run $run: $n rows, expected $calls x $rows_per_call"
                    failed=1
                fi
                ;;
            floor)
                out=$(on_cpu "$cl_cpu" "$here/floor_client" --url "$em_url/Senders/Resolve" --user "$account" \
                        --password "$token" --body-file "$work/body.json" --calls "$calls" --warmup 1) \
                    || { echo "CHECK FAILED: floor, run $run: floor_client failed"; failed=1; continue; }
                t=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' <<<"$out")
                conns=$(sed -n 's/.* connects=\([0-9]*\) .*/\1/p' <<<"$out")
                if [ "$conns" != 0 ]; then
                    echo "CHECK FAILED: floor, run $run: $conns new connections during the timed calls, expected 0"
                    failed=1
                fi
                n=$calls
                ;;
        esac
        conns=-
        if [ $have_ss = 1 ]; then
            # before check_log: its own request to the emulator is a connection
            sleep 0.1           # the backend closes its connection as it exits
            conns=$(( $(tw_count) - tw0 ))
            # the setting must have its effect: one connection for all calls
            # with reuse, one per call without (TIME-WAIT recycling on
            # loopback may hide a few, so only "more than one" is checked)
            if [ $v = reuse ] && [ "$conns" -gt 1 ]; then
                echo "CHECK FAILED: reuse, run $run: $conns connections for $((calls + 1)) calls, expected 1"
                failed=1
            elif [ $v = newconn ] && [ "$conns" -le 1 ]; then
                echo "CHECK FAILED: new conn, run $run: $conns connections for $((calls + 1)) calls, expected one per call"
                failed=1
            fi
        fi
        check_log "$v" "$run"
        secs[$v]="${secs[$v]:-} $t"
        printf '  run %d %-8s %6d calls %9.4f s %9.4f ms/call %6s connections\n' "$run" "$v" "$calls" "$t" \
            "$(awk -v t="$t" -v n="$calls" 'BEGIN {print t * 1000 / n}')" "$conns"
    done
done
echo

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A med ms
declare -A names=([reuse]="remote, reuse" [newconn]="remote, new conn" [floor]="floor (C client)")
printf '%-18s %7s %10s %10s\n' variant calls seconds ms/call
for v in reuse newconn floor; do
    if [ -z "${secs[$v]:-}" ]; then
        printf '%-18s %7s %10s %10s\n' "${names[$v]}" - - failed
        continue
    fi
    med[$v]=$(echo "${secs[$v]}" | median)
    ms[$v]=$(awk -v t="${med[$v]}" -v n="$calls" 'BEGIN {printf "%.4f", t * 1000 / n}')
    printf '%-18s %7d %10.4f %10.4f\n' "${names[$v]}" "$calls" "${med[$v]}" "${ms[$v]}"
done
echo

if [ -n "${ms[floor]:-}" ] && [ -n "${ms[reuse]:-}" ]; then
    awk -v a="${ms[reuse]}" -v b="${ms[floor]}" 'BEGIN {
        x = (b > 0) ? a / b : 0
        printf "%-26s %6.2fx   target <= 1.5x   %s\n", "reuse / floor:", x, (x <= 1.5) ? "PASS" : "MISS" }'
fi
if [ -n "${ms[newconn]:-}" ] && [ -n "${ms[reuse]:-}" ]; then
    awk -v a="${ms[newconn]}" -v b="${ms[reuse]}" 'BEGIN {
        printf "%-26s %6.2fx\n", "new conn / reuse:", (b > 0) ? a / b : 0 }'
fi
echo "(the target is informational)"
exit $failed
