#!/usr/bin/env bash
# test/bench/sync/sync.sh: the inventory-sync benchmark of comms_resolve.
#
# comms_resolve.sync() copies the remote inventory (senders, pools and
# memberships, every page) into the local tables.  This script generates an
# inventory (gen_inventory.pl) of N senders (default 100,000: every channel,
# 1 in 20 DEACTIVATED, tags on 1 in 3, RFC 3339 timestamps in UTC, with
# milliseconds or with an offset) and P pools (default 10) holding M
# memberships (default 20,000), serves it from the API emulator
# (test/emulator) with pages of 1,000, points the server comms_api at it,
# and measures:
#
#   sync 1      SELECT * FROM comms_resolve.sync() into empty tables:
#               N/1000 pages of senders, the pools, the members of every
#               pool
#   sync 2      the same again, nothing changed (nothing is written)
#   emulator    page_client (page_client.c): the same pages, GET one after
#               the other over one keep-alive connection, following
#               pagination.next; "fetch" times the requests alone (the
#               floor), "fetch + parse" adds parsing each body with json-c
#
# Each sync runs in a fresh session (psql in the background, fed through a
# pipe), comms_resolve.page_size set to the page size; it is timed on the
# server (clock_timestamp() before and after the statement, commit
# included).  While it runs the script samples the backend's
# /proc/PID/status every 50 ms: the peak RssAnon (private memory, shared
# buffers excluded), the RssAnon before the sync, and VmHWM at the end (the
# backend's peak resident set, shared memory it touched included).  Right
# after, in the same session, sum(total_bytes) of pg_backend_memory_contexts.
# The emulator's request log gives the requests each sync made (all must be
# 200, on one connection, as many as the floor's pages) and the emulator's
# own time answering them (sum of endedAt - startedAt, whole milliseconds).
#
# Checks (exit 1 when one fails): sync 1 inserts N senders, P pools and M
# memberships and neither updates nor deletes anything; sync 2 changes
# nothing; the local tables then hold N senders, P pools and M memberships;
# each sync made exactly the floor's requests, all 200.
#
# Each variant runs RUNS times (the tables are truncated before each sync
# 1); the median time and the largest memory figures are reported, with
# rows/s and the ratios sync / emulator floor.
#
# Usage: test/bench/sync/sync.sh [options]
#   -n, --senders N      senders (default 100000; env BENCH_SENDERS)
#       --pools P        pools (default 10; env BENCH_POOLS)
#       --memberships M  memberships over all pools (default 20000; env
#                        BENCH_MEMBERSHIPS)
#       --page-size S    page size of every listing, the setting
#                        comms_resolve.page_size (default 1000, the API's
#                        maximum; env BENCH_PAGE_SIZE)
#   -r, --runs N         runs of each variant (default 3; env BENCH_RUNS)
#       --smoke          5,000 senders, 5 pools, 1,000 memberships, 1 run:
#                        a check that takes seconds
#       --pin MODE       "split" (default): the emulator on one CPU, the
#                        client (the backend, page_client) on another;
#                        "same": both on one CPU; "off": left to the
#                        scheduler (env BENCH_PIN).  Pinning the backend
#                        uses taskset -p (root, or the server's OS user)
#       --no-phases      skip the breakdown: by default, after the runs, one
#                        more sync 1 and sync 2 (untimed, tables truncated
#                        first) run with auto_explain logging the statements
#                        of sync() that take 1 ms or more
#                        (log_nested_statements), and the script prints
#                        their seconds, summed by statement (needs LOAD
#                        'auto_explain': a superuser)
#       --perf DIR       also record sync 1 of the first run with perf
#                        (perf record -g on the backend and the emulator)
#                        into DIR, and print the top of each profile
#       --tmp-cluster    initdb and start a throwaway cluster (as user
#                        postgres when run as root) in a mktemp directory,
#                        Unix socket only, port 55481 (env BENCH_PORT);
#                        stopped and removed on exit
#   -h, --help
# Connection: the usual PGHOST, PGPORT, PGUSER; the database is PGDATABASE,
# default comms_resolve_bench_sync, created when missing.  Use a database of
# its own: the script truncates the comms_resolve inventory, points the
# server comms_api at the emulator and creates or replaces the current
# user's mapping for it.  It refuses a database whose inventory holds
# anything unless the script itself put it there (schema cr_bench_sync).
# The emulator is built with `make -C test/emulator` unless COMMS_EMULATOR
# names a binary; page_client with `make -C test/bench/sync` (libcurl and
# json-c development files).  Needs perl, curl, jq, taskset for --pin.
#
# Prerequisite: comms_resolve built and installed (make && make install).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/bench/lib.sh
. "$root/test/bench/lib.sh"
PG_CONFIG=${PG_CONFIG:-pg_config}

senders=${BENCH_SENDERS:-100000}
pools=${BENCH_POOLS:-10}
memberships=${BENCH_MEMBERSHIPS:-20000}
page_size=${BENCH_PAGE_SIZE:-1000}
runs=${BENCH_RUNS:-3}
pin=${BENCH_PIN:-split}
perf_dir=
phases=1
smoke=0
tmp_cluster=0
account=AC1
token=secret

usage() { sed -n '/^# Usage:/,/^# Prerequisite/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "sync.sh: error: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    case $1 in
        -n|--senders) senders=${2:?}; shift 2 ;;
        --pools) pools=${2:?}; shift 2 ;;
        --memberships) memberships=${2:?}; shift 2 ;;
        --page-size) page_size=${2:?}; shift 2 ;;
        -r|--runs) runs=${2:?}; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --pin) pin=${2:?}; shift 2 ;;
        --perf) perf_dir=${2:?}; shift 2 ;;
        --no-phases) phases=0; shift ;;
        --tmp-cluster) tmp_cluster=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ $smoke = 1 ]; then
    senders=5000 pools=5 memberships=1000 runs=1
fi
for v in senders pools memberships page_size runs; do
    is_uint "${!v}" || die "$v must be a non-negative integer"
done
{ [ "$senders" -ge 1 ] && [ "$senders" -le 9999999 ]; } || die "senders: 1 to 9,999,999"
[ "$pools" -ge 1 ] || die "need at least one pool"
{ [ "$page_size" -ge 1 ] && [ "$page_size" -le 1000 ]; } || die "the page size is 1 to 1000"
[ "$runs" -ge 1 ] || die "need at least one run"
# memberships per pool are capped at the number of senders
max_m=$((pools * senders))
[ "$memberships" -le "$max_m" ] || memberships=$max_m
if [ -n "$perf_dir" ]; then
    command -v perf >/dev/null || die "--perf needs perf"
    mkdir -p "$perf_dir" && perf_dir=$(cd "$perf_dir" && pwd)
fi

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
on_cpu() {  # on_cpu CPU COMMAND...: run COMMAND on CPU (anywhere when CPU is empty)
    local cpu=$1
    shift
    if [ -n "$cpu" ]; then taskset -c "$cpu" "$@"; else "$@"; fi
}
for c in perl curl jq; do
    command -v $c >/dev/null || die "$c is needed"
done

export PGDATABASE=${PGDATABASE:-comms_resolve_bench_sync}
export PGOPTIONS="${PGOPTIONS:-} -c max_parallel_workers_per_gather=0 -c jit=off -c client_min_messages=warning"

# ------------------------------------------------------------------------
# Clean-up: the emulator, a psql session, perf, the throwaway cluster
# ------------------------------------------------------------------------
work=$(mktemp -d /tmp/cr_bench_sync.XXXXXX)
emulator_pid=
session_pid=
perf_pids=()
tmpdir=
# shellcheck disable=SC2317  # (called by the EXIT trap)
cleanup() {
    local p
    for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ -n "$session_pid" ]; then kill "$session_pid" 2>/dev/null || true; wait "$session_pid" 2>/dev/null || true; fi
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
# Programs, inventory, emulator
# ------------------------------------------------------------------------
make -s -C "$here" >/dev/null || die "could not build test/bench/sync (page_client: libcurl and json-c development files)"
emulator=$(bench_emulator "$root") || die "could not build the emulator (make -C test/emulator)"
[ -x "$emulator" ] || die "no emulator binary at $emulator"

t_gen=$(date +%s.%N)
perl "$here/gen_inventory.pl" "$senders" "$pools" "$memberships" >"$work/inventory.json" \
    || die "generating the inventory failed"
pool_ids=$(jq -r '.senderPools[].id' "$work/inventory.json")
[ "$(wc -l <<<"$pool_ids")" = "$pools" ] || die "the generated inventory does not hold $pools pools"

wait_for_file() {  # wait_for_file FILE PID WHAT: until FILE is non-empty, while PID lives
    for _ in $(seq 1 300); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$work/emulator.err" >&2 2>/dev/null; die "$3 exited before it listened"; }
        sleep 0.1
    done
    die "$3 did not listen within 30 s"
}
# a simple command, so that $! is the emulator's pid (taskset execs it)
em_pin=()
[ -z "$em_cpu" ] || em_pin=(taskset -c "$em_cpu")
"${em_pin[@]}" "$emulator" --inventory "$work/inventory.json" --credentials "$account:$token" \
    --page-size "$page_size" --port 0 --port-file "$work/emulator.port" \
    >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
wait_for_file "$work/emulator.port" "$emulator_pid" "the emulator"
em_port=$(cat "$work/emulator.port")
em_url=http://127.0.0.1:$em_port/v1
em_control=http://127.0.0.1:$em_port/_emulator
setup_secs=$(awk -v a="$(date +%s.%N)" -v b="$t_gen" 'BEGIN { printf "%.1f", a - b }')

# ------------------------------------------------------------------------
# Throwaway cluster
# ------------------------------------------------------------------------
if [ $tmp_cluster = 1 ]; then
    pgbin=$("$PG_CONFIG" --bindir)
    port=${BENCH_PORT:-55481}
    tmpdir=$(mktemp -d /tmp/cr_bench.XXXXXX)
    bench_start_cluster "$tmpdir" "$port" "shared_buffers = 256MB" "max_wal_size = 4GB" \
        || die "could not start the throwaway cluster"
fi


# ------------------------------------------------------------------------
# Database, extension, server, user mapping
# ------------------------------------------------------------------------
bench_database || die "could not prepare database $PGDATABASE"

psql_q -v account="$account" -v token="$token" -v url="$em_url" >/dev/null <<'SQL' || die "setting up database $PGDATABASE failed"
CREATE EXTENSION IF NOT EXISTS comms_resolve;
-- the inventory is truncated: refuse one the benchmark did not make
DO $$
BEGIN
    IF to_regnamespace('cr_bench_sync') IS NULL
       AND (EXISTS (SELECT 1 FROM comms_resolve.senders)
            OR EXISTS (SELECT 1 FROM comms_resolve.sender_pools)) THEN
        RAISE EXCEPTION 'database % holds a comms_resolve inventory of its own; run the benchmark in a database of its own (PGDATABASE)',
            current_database();
    END IF;
END
$$;
CREATE SCHEMA IF NOT EXISTS cr_bench_sync;
COMMENT ON SCHEMA cr_bench_sync IS 'test/bench/sync/sync.sh: the comms_resolve inventory of this database is the benchmark''s';
SELECT set_config('cr_bench.account', :'account', false),
       set_config('cr_bench.token', :'token', false),
       set_config('cr_bench.url', :'url', false);
DO $$
BEGIN
    EXECUTE format('ALTER SERVER comms_api OPTIONS (SET base_url %L)', current_setting('cr_bench.url'));
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
SQL

# ------------------------------------------------------------------------
# The emulator's request log
# ------------------------------------------------------------------------
log_clear() {
    curl -sf -X DELETE "$em_control/log" >/dev/null || die "DELETE /_emulator/log failed"
}
# prints "requests answered-200 connections busy-ms"
log_summary() {
    curl -sf "$em_control/log" | jq -r '
        [length, ([.[] | select(.status == 200)] | length), ([.[].conn] | unique | length),
         ([.[] | .endedAt - .startedAt] | add // 0)] | map(tostring) | join(" ")' \
        || echo "? ? ? ?"
}

# ------------------------------------------------------------------------
# One sync in a fresh session, its backend's memory sampled meanwhile
# ------------------------------------------------------------------------
# kib KEY: the value of KEY (kB) in the backend's /proc status, 0 when gone
kib() {
    local k v _
    while read -r k v _; do
        if [ "$k" = "$1:" ]; then echo "$v"; return; fi
    done </proc/"$backend_pid"/status 2>/dev/null
    echo 0
}
# run_sync OUT [PERF]: sets sync_secs, sync_rows (3 lines: table ins upd del),
# rss_before, rss_peak, hwm (kB), ctx_bytes, samples; 1 when it failed
run_sync() {
    local out=$1 profile=${2:-} line='' rss st last_hwm=0
    mkfifo "$work/in.fifo" "$work/out.fifo"
    psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 <"$work/in.fifo" >"$work/out.fifo" 2>"$work/session.err" &
    session_pid=$!
    exec {to_psql}>"$work/in.fifo" {from_psql}<"$work/out.fifo"
    rm -f "$work/in.fifo" "$work/out.fifo"
    # (writes to the session go through subshells: a session that ended
    # must not take the script down with SIGPIPE)
    (printf '%s\n' "SET comms_resolve.page_size = $page_size;" 'SELECT pg_backend_pid();' >&"$to_psql") 2>/dev/null || true
    if ! read -r -t 30 backend_pid <&"$from_psql" || ! is_uint "$backend_pid"; then
        cat "$work/session.err" >&2
        exec {to_psql}>&- {from_psql}<&-
        wait "$session_pid" || true
        session_pid=
        return 1
    fi
    if [ -n "$cl_cpu" ]; then
        taskset -pc "$cl_cpu" "$backend_pid" >/dev/null \
            || die "could not pin the backend to CPU $cl_cpu with taskset -p (run as root or as the server's OS user, or use --pin off)"
    fi
    if [ -n "$profile" ]; then
        # (not holding the session's pipes open)
        perf record -q -g -o "$profile.backend.data" -p "$backend_pid" \
            </dev/null >/dev/null 2>"$profile.backend.err" {to_psql}>&- {from_psql}<&- &
        perf_pids+=($!)
        perf record -q -g -o "$profile.emulator.data" -p "$emulator_pid" \
            </dev/null >/dev/null 2>"$profile.emulator.err" {to_psql}>&- {from_psql}<&- &
        perf_pids+=($!)
        sleep 1
    fi
    rss_before=$(kib RssAnon)
    rss_peak=$rss_before
    samples=0
    log_clear
    cat >"$work/sync.sql" <<SQL
\\o $out
SELECT clock_timestamp() AS cr_t0 \\gset
SELECT * FROM comms_resolve.sync();
SELECT 'secs', round(extract(epoch FROM clock_timestamp() - :'cr_t0'::timestamptz)::numeric, 3);
SELECT 'ctx', sum(total_bytes) FROM pg_backend_memory_contexts;
\\o
\\echo CR_BENCH_DONE
SQL
    (cat "$work/sync.sql" >&"$to_psql") 2>/dev/null || true
    # sample every 50 ms until the session answers (or ends)
    while :; do
        rss=$(kib RssAnon)
        samples=$((samples + 1))
        [ "$rss" -gt "$rss_peak" ] && rss_peak=$rss
        hwm=$(kib VmHWM)
        [ "$hwm" = 0 ] || last_hwm=$hwm
        if read -r -t 0.05 line <&"$from_psql"; then
            [ "$line" = CR_BENCH_DONE ] && break
        else
            st=$?
            [ $st -gt 128 ] && continue  # timeout
            break                        # the session ended: failed
        fi
    done
    hwm=$last_hwm
    (echo '\q' >&"$to_psql") 2>/dev/null || true
    exec {to_psql}>&-
    wait "$session_pid" || true
    session_pid=
    exec {from_psql}<&-
    if [ -n "$profile" ]; then
        for p in "${perf_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
        perf_pids=()
    fi
    [ "${line:-}" = CR_BENCH_DONE ] || { cat "$work/session.err" >&2; return 1; }
    sync_secs=$(awk -F'\t' '$1 == "secs" { print $2 }' "$out")
    ctx_bytes=$(awk -F'\t' '$1 == "ctx" { print $2 }' "$out")
    sync_rows=$(awk -F'\t' 'NF == 4' "$out")
    return 0
}

# ------------------------------------------------------------------------
# The floor once by hand: the pages the sync will read
# ------------------------------------------------------------------------
paths=(/Senders /SenderPools)
for p in $pool_ids; do paths+=("/SenderPools/$p/Senders"); done
floor() {
    on_cpu "$cl_cpu" "$here/page_client" --url "$em_url" --user "$account" --password "$token" \
        --page-size "$page_size" "${paths[@]}"
}
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
floor_out=$(floor) || die "page_client failed"
total=$(grep '^path=total ' <<<"$floor_out")
floor_pages=$(kv pages "$total")
floor_rows=$(kv rows "$total")
floor_bytes=$(kv bytes "$total")
expect_rows=$((senders + pools + memberships))
[ "$floor_rows" = "$expect_rows" ] \
    || die "page_client read $floor_rows rows from the emulator, expected $expect_rows ($senders senders + $pools pools + $memberships members)"
s_pages=$(kv pages "$(grep '^path=/Senders ' <<<"$floor_out")")
m_pages=$(awk '/^path=\/SenderPools\/.*\/Senders / { sub(/.*pages=/, ""); sub(/ .*/, ""); n += $0 } END { print n + 0 }' <<<"$floor_out")

server_version=$(psql_q -c "SHOW server_version")
echo "comms_resolve inventory-sync benchmark: $senders senders, $pools pools, $memberships memberships, pages of $page_size, $runs run(s)"
echo "server: PostgreSQL $server_version, database $PGDATABASE$([ $tmp_cluster = 1 ] && echo ", throwaway cluster in $tmpdir"); shared_buffers $(psql_q -c 'SHOW shared_buffers'), work_mem $(psql_q -c 'SHOW work_mem'), temp_buffers $(psql_q -c 'SHOW temp_buffers')"
echo "emulator: $em_url, inventory $(awk -v b="$(stat -c %s "$work/inventory.json")" 'BEGIN { printf "%.1f MB", b / 1048576 }') generated and loaded in $setup_secs s"
echo "pages: $s_pages of senders, 1 of pools, $m_pages of pool members = $floor_pages pages, $floor_rows rows, $(awk -v b="$floor_bytes" 'BEGIN { printf "%.1f MB", b / 1048576 }') of JSON"
echo "libcurl $(curl-config --version | sed 's/^libcurl //'); $(nproc) CPUs"
case $pin in
    off) echo "placement: left to the scheduler (--pin off)" ;;
    same) echo "placement: emulator and client (backend, page_client) both on CPU $em_cpu (--pin same)" ;;
    split) echo "placement: emulator on CPU $em_cpu, client (backend, page_client) on CPU $cl_cpu (--pin split)" ;;
esac
echo "timing: syncs server-side (clock_timestamp() around the statement, commit included), each in a fresh session; the floor client-side (CLOCK_MONOTONIC); median of $runs"
echo

# ------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------
failed=0
fail() { echo "CHECK FAILED: $*"; failed=1; }
declare -A secs rss hwm_max ctx em_ms
for v in sync1 sync2 fetch parse; do secs[$v]=; done
rss[sync1]=0 rss[sync2]=0 hwm_max[sync1]=0 hwm_max[sync2]=0 ctx[sync1]=0 ctx[sync2]=0
em_ms[sync1]='' em_ms[sync2]=''
rss_base=

expect_counts() {  # expect_counts VARIANT RUN "senders i u d" "pools i u d" "members i u d"
    local got want
    got=$(awk -F'\t' '{ print $1, $2, $3, $4 }' <<<"$sync_rows")
    want=$(printf 'senders %s\nsender_pools %s\nsender_pool_senders %s' "$3" "$4" "$5")
    [ "$got" = "$want" ] || fail "$1, run $2: sync() returned"$'\n'"$got"$'\n'"expected"$'\n'"$want"
}

for ((run = 1; run <= runs; run++)); do
    psql_q -c "TRUNCATE comms_resolve.sender_pool_senders, comms_resolve.sender_pools, comms_resolve.senders" \
        -c "CHECKPOINT" >/dev/null
    for v in sync1 sync2; do
        profile=
        if [ -n "$perf_dir" ] && [ $run = 1 ] && [ $v = sync1 ]; then profile=$perf_dir/sync1; fi
        if ! run_sync "$work/$v.out" "$profile"; then
            fail "$v, run $run: the sync failed"
            continue
        fi
        case $v in
            sync1) expect_counts "$v" "$run" "$senders 0 0" "$pools 0 0" "$memberships 0 0" ;;
            sync2) expect_counts "$v" "$run" "0 0 0" "0 0 0" "0 0 0" ;;
        esac
        read -r lreq l200 lconn lms <<<"$(log_summary)"
        if [ "$lreq" != "$floor_pages" ] || [ "$l200" != "$lreq" ] || [ "$lconn" != 1 ]; then
            fail "$v, run $run: the emulator logged $lreq requests ($l200 answered 200) on $lconn connection(s), expected $floor_pages, all 200, on 1"
        fi
        secs[$v]+="$sync_secs "
        em_ms[$v]+="$lms "
        [ "$rss_peak" -gt "${rss[$v]}" ] && rss[$v]=$rss_peak
        [ "$hwm" -gt "${hwm_max[$v]}" ] && hwm_max[$v]=$hwm
        [ "${ctx_bytes:-0}" -gt "${ctx[$v]}" ] && ctx[$v]=$ctx_bytes
        [ -n "$rss_base" ] || rss_base=$rss_before
        [ "$rss_before" -gt "$rss_base" ] && rss_base=$rss_before
        [ "$samples" -ge 3 ] || [ $smoke = 1 ] || echo "note: $v, run $run: only $samples memory samples (the sync took ${sync_secs}s)"
    done
    out=$(psql_q -c "SELECT (SELECT count(*) FROM comms_resolve.senders), (SELECT count(*) FROM comms_resolve.sender_pools),
                            (SELECT count(*) FROM comms_resolve.sender_pool_senders)" | tr '\t' ' ')
    [ "$out" = "$senders $pools $memberships" ] \
        || fail "run $run: the local tables hold $out senders, pools, memberships; expected $senders $pools $memberships"
    floor_out=$(floor) || { fail "run $run: page_client failed"; continue; }
    total=$(grep '^path=total ' <<<"$floor_out")
    [ "$(kv rows "$total")" = "$expect_rows" ] || fail "run $run: page_client read $(kv rows "$total") rows"
    [ "$(kv connects "$total")" = 1 ] || fail "run $run: page_client opened $(kv connects "$total") connections, expected 1"
    secs[fetch]+="$(kv fetch_s "$total") "
    secs[parse]+="$(awk -v a="$(kv fetch_s "$total")" -v b="$(kv parse_s "$total")" 'BEGIN { printf "%.6f", a + b }') "
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo
printf '%-24s %6s %8s %9s %10s %12s %9s %11s\n' variant pages rows seconds rows/s "RssAnon MB" "VmHWM MB" "emulator s"
row() {  # row LABEL SECONDS RSS_KB HWM_KB EMULATOR_MS
    local label=$1 s=$2 r=$3 h=$4 e=$5
    [ -n "$s" ] || { printf '%-24s %6s %8s %9s\n' "$label" "$floor_pages" "$floor_rows" failed; return; }
    awk -v l="$label" -v p="$floor_pages" -v n="$floor_rows" -v s="$s" -v r="$r" -v h="$h" -v e="$e" 'BEGIN {
        printf "%-24s %6d %8d %9.3f %10.0f %12s %9s %11s\n", l, p, n, s, (s > 0 ? n / s : 0),
            (r == "" ? "-" : sprintf("%.1f", r / 1024)), (h == "" ? "-" : sprintf("%.1f", h / 1024)),
            (e == "" ? "-" : sprintf("%.3f", e / 1000)) }'
}
s1=$(median "${secs[sync1]}") s2=$(median "${secs[sync2]}") f=$(median "${secs[fetch]}") fp=$(median "${secs[parse]}")
row "sync 1 (empty tables)" "$s1" "${rss[sync1]}" "${hwm_max[sync1]}" "$(median "${em_ms[sync1]}")"
row "sync 2 (unchanged)" "$s2" "${rss[sync2]}" "${hwm_max[sync2]}" "$(median "${em_ms[sync2]}")"
row "emulator: fetch (floor)" "$f" "" "" ""
row "emulator: fetch + parse" "$fp" "" "" ""
echo
echo "RssAnon: peak while the sync ran (sampled every 50 ms), RssAnon before it: $(awk -v r="$rss_base" 'BEGIN { printf "%.1f MB", r / 1024 }'); VmHWM: peak resident set of the backend, shared buffers it touched included"
echo "memory contexts right after, same session: $(awk -v a="${ctx[sync1]}" -v b="${ctx[sync2]}" 'BEGIN { printf "%.1f MB after sync 1, %.1f MB after sync 2", a / 1048576, b / 1048576 }')"
echo "emulator s: the emulator's own time answering the sync's requests (its request log, sum of endedAt - startedAt)"
if [ -n "$s1" ] && [ -n "$f" ]; then
    awk -v s1="$s1" -v s2="${s2:-0}" -v f="$f" -v fp="$fp" 'BEGIN {
        printf "ratio sync 1 / emulator floor: %.1fx (/ fetch + parse: %.1fx)\n", s1 / f, s1 / fp
        if (s2 > 0) printf "ratio sync 2 / emulator floor: %.1fx (/ fetch + parse: %.1fx)\n", s2 / f, s2 / fp }'
fi

# ------------------------------------------------------------------------
# Where the time goes: statements of sync() over 1 ms, by auto_explain
# ------------------------------------------------------------------------
# phase_log OUT: one sync in a session that logs them to the client
phase_log() {
    psql -X -q -At -v ON_ERROR_STOP=1 >/dev/null 2>"$1" <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 1;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = text;
SET client_min_messages = log;
SET comms_resolve.page_size = $page_size;
SELECT * FROM comms_resolve.sync();
SQL
}
if [ $phases = 1 ]; then
    psql_q -c "TRUNCATE comms_resolve.sender_pool_senders, comms_resolve.sender_pools, comms_resolve.senders" \
        -c "CHECKPOINT" >/dev/null
    if phase_log "$work/phases1.log" && phase_log "$work/phases2.log"; then
        echo
        echo "where the time goes (one more sync 1 and sync 2, untimed, auto_explain on: statements of sync() taking 1 ms or more, seconds summed by statement):"
        # "LOG:  duration: X ms  plan:" then "Query Text: <first line>"
        for i in 1 2; do
            awk -v v="$i" '
                /^LOG:  duration: / { d = $3; getline; sub(/^Query Text: /, ""); gsub(/[ \t]+$/, "");
                                      print v "\t" d "\t" $0 }' "$work/phases$i.log"
        done | awk -F'\t' '
            # order: the statements of sync 1, those seen in sync 2 only
            # inserted after the statement before them in sync 2
            { k = $3; t[k, $1] += $2 / 1000; c[k, $1]++
              if (k ~ /^SELECT \* FROM comms_resolve\.sync\(\)/) { whole = k; next }
              # per-row statements nested in the statements that fire them
              # (a SQL function body has no text; foreign-key checks)
              if (k == "" || k ~ /^SELECT 1 FROM ONLY /) next
              if ($1 == 1) { if (!(k in pos)) { ord[++n] = k; pos[k] = n } ; next }
              if (k in pos) { prev = pos[k]; next }
              for (i = n; i > prev; i--) { ord[i + 1] = ord[i]; pos[ord[i + 1]] = i + 1 }
              ord[++prev] = k; pos[k] = prev; n++ }
            function line(label, a, b) { printf "  %-100s %9.3f %9.3f\n", label, a, b }
            END {
                printf "  %-100s %9s %9s\n", "statement (times run in sync 1/sync 2)", "sync 1", "sync 2"
                for (i = 1; i <= n; i++) {
                    k = ord[i]; label = k
                    if (length(label) > 90) label = substr(label, 1, 87) "..."
                    line(sprintf("%s (%d/%d)", label, c[k, 1], c[k, 2]), t[k, 1], t[k, 2])
                    s1 += t[k, 1]; s2 += t[k, 2]
                }
                line("other (statements under 1 ms, ANALYZE, temp tables, ...)", t[whole, 1] - s1, t[whole, 2] - s2)
                line("the whole call: SELECT * FROM comms_resolve.sync()", t[whole, 1], t[whole, 2])
            }'
        echo "  (per-row statements of CHECK constraints and foreign keys count in the statement that fires them)"
        out=$(psql_q -c "SELECT (SELECT count(*) FROM comms_resolve.senders), (SELECT count(*) FROM comms_resolve.sender_pools),
                                (SELECT count(*) FROM comms_resolve.sender_pool_senders)" | tr '\t' ' ')
        [ "$out" = "$senders $pools $memberships" ] \
            || fail "breakdown: the local tables hold $out senders, pools, memberships; expected $senders $pools $memberships"
    else
        echo
        echo "note: no breakdown: LOAD 'auto_explain' or the sync failed ($(grep -m1 -E 'ERROR|FATAL' "$work"/phases*.log 2>/dev/null | head -n 1))"
    fi
fi

if [ -n "$perf_dir" ]; then
    for w in backend emulator; do
        if [ -s "$perf_dir/sync1.$w.data" ]; then
            echo
            echo "perf, sync 1, $w ($perf_dir/sync1.$w.data), top self-time symbols:"
            perf report -i "$perf_dir/sync1.$w.data" --stdio --no-children -g none --sort dso,symbol 2>/dev/null \
                | grep -E '^ +[0-9.]+%' | head -n 25
        fi
    done
fi

if [ $failed = 0 ]; then
    echo "checks: passed ($senders senders, $pools pools, $memberships memberships locally; sync 2 changed nothing; $floor_pages requests per sync, all 200, one connection)"
else
    echo "checks: FAILED"
fi
exit $failed
