#!/usr/bin/env bash
# test/bench/many/many.sh: the resolve_many benchmark of comms_resolve.
#
# Two parts, each run in one go:
#
# remote  P people (default 2,000; 3 recipients each, all different)
#         against the API emulator (test/emulator) answering every Resolve
#         request after a delay of D ms (default 20; a fault rule delayMs D,
#         times -1), the way a distant API would:
#
#           sequential  one statement calling resolve(..., 'remote') per
#                       person:
#                         SELECT count(*), sum(r.priority)
#                           FROM generate_series(1, P) g
#                          CROSS JOIN LATERAL comms_resolve.resolve(pool,
#                                <recipients of g>, NULL, 'remote') r
#                       (the recipients are built from g, so the function
#                       scan is re-run for every g: the emulator's log must
#                       show P requests)
#           many        one resolve_many(pool, <the P people, built with
#                       jsonb_agg in the same statement>, NULL, 'remote') at
#                       comms_resolve.max_concurrency C (default 8)
#
#         Both are checked against the emulator's request log (exactly P
#         Resolve requests, all 200; for many, the most in flight at once,
#         which must be <= C) and against each other (rows, sum of
#         priorities).  Target: sequential / many >= 6x.
#
# local   N customers (default 1,000,000) with a phone, the same number on
#         WhatsApp and an email each (as test/bench/reporting.sh builds
#         them), a pool of S active senders (default 50):
#
#           lateral w0  SELECT count(*), sum(r.priority) FROM customers c
#                       CROSS JOIN LATERAL comms_resolve.resolve(pool,
#                         jsonb_build_array(c.phone, 'whatsapp:' || c.phone,
#                                           c.email)) r
#                       with max_parallel_workers_per_gather = 0
#           lateral w2  the same with max_parallel_workers_per_gather = 2,
#                       parallel_setup_cost = parallel_tuple_cost = 0 and
#                       min_parallel_table_scan_size = 0, so that the
#                       planner picks a parallel plan (its EXPLAIN ANALYZE,
#                       run once untimed, shows Workers Launched)
#           many        resolve_many over chunks of K customers (default
#                       1,000), the people built in the same statement:
#                         SELECT count(*), sum(r.priority)
#                           FROM (SELECT array_agg(id ORDER BY id) AS ids,
#                                        jsonb_agg(jsonb_build_array(...)
#                                                  ORDER BY id) AS people
#                                   FROM customers GROUP BY (id - 1) / K) ch
#                          CROSS JOIN LATERAL comms_resolve.resolve_many(
#                                pool, ch.people) r
#                       with max_parallel_workers_per_gather = 0
#           build       the chunks of many alone (chunks and people of
#                       the people arrays), untied to any target: what
#                       building the jsonb costs many
#
#         Every variant builds its jsonb inside the timed statement.  They
#         must agree on rows and sum of priorities, and many and lateral w0
#         on a checksum of every ordered row (customer id, rank, all
#         columns) of the first 2,000 customers.
#
# Timing: on the server, clock_timestamp() before and after the statement
# in the same session (the statement returns one row); each local variant
# RUNS times (default 3, interleaved), the median is reported; the remote
# variants run REMOTE_RUNS times (default 1).  JIT is off everywhere.  The
# targets are informational: the exit status is 0 unless a check fails.
#
# Usage: test/bench/many/many.sh [options]
#       --part PART      remote, local or all (default all; env BENCH_PART)
#   -P, --people P       remote people (default 2000; env BENCH_PEOPLE)
#   -D, --delay-ms D     emulator delay per Resolve request (default 20;
#                        env BENCH_DELAY_MS)
#   -C, --concurrency C  comms_resolve.max_concurrency of many (default 8;
#                        env BENCH_CONCURRENCY)
#   -n, --customers N    local customers (default 1000000; env
#                        BENCH_CUSTOMERS)
#   -k, --chunk K        people per resolve_many call, local (default 1000;
#                        env BENCH_CHUNK)
#   -p, --pool-size S    active senders in the local pool (default 50; env
#                        BENCH_POOL_SIZE)
#   -r, --runs N         timed runs per local variant (default 3; env
#                        BENCH_RUNS)
#       --remote-runs N  timed runs per remote variant (default 1; env
#                        BENCH_REMOTE_RUNS)
#       --smoke          100 people, 5,000 customers in chunks of 500, one
#                        run each: a check that takes seconds
#       --tmp-cluster    initdb and start a throwaway cluster (as user
#                        postgres when run as root) in a mktemp directory,
#                        Unix socket only, port 55479 (env BENCH_PORT);
#                        stopped and removed on exit
#   -h, --help
# Connection: the usual PGHOST, PGPORT, PGUSER; the database is PGDATABASE,
# default comms_resolve_bench_many, created when missing.  Use a database of
# its own: the script points its server comms_api at the emulator, creates
# or replaces the current user's mapping for it, and refuses a database
# whose comms_resolve inventory holds anything but its own senders and pools
# (tagged {"cr_bench": "many"}).  The emulator is built with
# `make -C test/emulator` unless COMMS_EMULATOR names a binary.  Needs curl
# and jq.
#
# Prerequisite: comms_resolve built and installed (make && make install).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/bench/lib.sh
. "$root/test/bench/lib.sh"
PG_CONFIG=${PG_CONFIG:-pg_config}

part=${BENCH_PART:-all}
people=${BENCH_PEOPLE:-2000}
delay_ms=${BENCH_DELAY_MS:-20}
concurrency=${BENCH_CONCURRENCY:-8}
customers=${BENCH_CUSTOMERS:-1000000}
chunk=${BENCH_CHUNK:-1000}
pool_size=${BENCH_POOL_SIZE:-50}
runs=${BENCH_RUNS:-3}
remote_runs=${BENCH_REMOTE_RUNS:-1}
smoke=0
tmp_cluster=0
check_max=2000          # customers whose ordered rows are checksummed

account=AC1
token=secret
remote_pool=comms_senderpool_01hbenchmany00000000000001

usage() { sed -n '/^# Usage:/,/^# Prerequisite/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "many.sh: error: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    case $1 in
        --part) part=${2:?}; shift 2 ;;
        -P|--people) people=${2:?}; shift 2 ;;
        -D|--delay-ms) delay_ms=${2:?}; shift 2 ;;
        -C|--concurrency) concurrency=${2:?}; shift 2 ;;
        -n|--customers) customers=${2:?}; shift 2 ;;
        -k|--chunk) chunk=${2:?}; shift 2 ;;
        -p|--pool-size) pool_size=${2:?}; shift 2 ;;
        -r|--runs) runs=${2:?}; shift 2 ;;
        --remote-runs) remote_runs=${2:?}; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --tmp-cluster) tmp_cluster=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ $smoke = 1 ]; then
    people=100 customers=5000 chunk=500 runs=1 remote_runs=1 check_max=1000
fi
for v in people delay_ms concurrency customers chunk pool_size runs remote_runs; do
    is_uint "${!v}" || die "$v must be a non-negative integer"
done
case $part in all|remote|local) ;; *) die "--part is remote, local or all" ;; esac
do_remote=0 do_local=0
[ "$part" = local ] || do_remote=1
[ "$part" = remote ] || do_local=1
[ "$people" -ge 1 ] || die "need at least one person"
[ "$customers" -ge 1 ] || die "need at least one customer"
[ "$chunk" -ge 1 ] || die "chunks need at least one customer"
[ "$runs" -ge 1 ] && [ "$remote_runs" -ge 1 ] || die "need at least one run"
[ "$concurrency" -ge 1 ] && [ "$concurrency" -le 64 ] || die "--concurrency is 1..64"
[ "$pool_size" -ge 4 ] || die "the pool needs at least 4 senders (one per channel)"
[ "$check_max" -le "$customers" ] || check_max=$customers
if [ $do_remote = 1 ]; then
    command -v curl >/dev/null || die "curl (the command) is needed"
    command -v jq >/dev/null || die "jq is needed"
fi

export PGDATABASE=${PGDATABASE:-comms_resolve_bench_many}
export PGOPTIONS="${PGOPTIONS:-} -c jit=off -c client_min_messages=warning -c comms_resolve.server=comms_api"

# ------------------------------------------------------------------------
# Clean-up: the emulator, the throwaway cluster
# ------------------------------------------------------------------------
work=$(mktemp -d /tmp/cr_bench_many.XXXXXX)
emulator_pid=
tmpdir=
cleanup() {
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
# Throwaway cluster
# ------------------------------------------------------------------------
if [ $tmp_cluster = 1 ]; then
    pgbin=$("$PG_CONFIG" --bindir)
    port=${BENCH_PORT:-55479}
    tmpdir=$(mktemp -d /tmp/cr_bench.XXXXXX)
    bench_start_cluster "$tmpdir" "$port" "shared_buffers = 1GB" "max_wal_size = 8GB" "max_worker_processes = 8" "max_parallel_workers = 8" \
        || die "could not start the throwaway cluster"
fi


# ------------------------------------------------------------------------
# Database and extension
# ------------------------------------------------------------------------
bench_database || die "could not prepare database $PGDATABASE"
psql_q <<'SQL'
CREATE EXTENSION IF NOT EXISTS comms_resolve;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM comms_resolve.senders WHERE NOT tags @> '{"cr_bench": "many"}')
       OR EXISTS (SELECT 1 FROM comms_resolve.sender_pools WHERE NOT tags @> '{"cr_bench": "many"}') THEN
        RAISE EXCEPTION 'database % holds a comms_resolve inventory of its own; run the benchmark in a database of its own (PGDATABASE)',
            current_database();
    END IF;
END
$$;
SQL
[ "$(psql_q -c "SELECT count(*) FROM pg_proc WHERE proname = 'resolve_many' AND pronamespace = 'comms_resolve'::regnamespace")" = 1 ] \
    || die "comms_resolve.resolve_many does not exist in database $PGDATABASE (ALTER EXTENSION comms_resolve UPDATE, or a fresh database)"

echo "comms_resolve resolve_many benchmark"
echo "server: PostgreSQL $(psql_q -c "SHOW server_version"), database $PGDATABASE$([ $tmp_cluster = 1 ] && echo ", throwaway cluster in $tmpdir"); $(nproc) CPUs; jit = off"

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# timed SETTINGS QUERY: runs QUERY (one row of two columns) in a fresh
# session after SETTINGS; prints "col1 col2 seconds", timed on the server
timed() {
    psql_q <<SQL | tail -n 1
$1
SELECT clock_timestamp() AS cr_bench_t0 \gset
SELECT x.*, round(extract(epoch FROM clock_timestamp() - :'cr_bench_t0'::timestamptz)::numeric, 4)
  FROM ($2) x;
SQL
}
failed=0
declare -A secs rows sums

# ------------------------------------------------------------------------
# Remote
# ------------------------------------------------------------------------
if [ $do_remote = 1 ]; then
    emulator=$(bench_emulator "$root") || die "could not build the emulator (make -C test/emulator)"
    [ -x "$emulator" ] || die "no emulator binary at $emulator"

    # a pool of 10 active senders (and one DEACTIVATED) reaching every
    # recipient channel of the people below
    jq -n --arg pool "$remote_pool" '
        [["SMS", "+14155550101"], ["SMS", "+12125550102"], ["SMS", "+442071838751"], ["RCS", "bench_rcs_agent"],
         ["WHATSAPP", "+14155550105"], ["WHATSAPP", "+447911123456"], ["EMAIL", "notify@bench.example.com"],
         ["EMAIL", "support@bench.example.com"], ["SMS", "+16465550109"], ["WHATSAPP", "+33612345678"],
         ["SMS", "+14155550111"]]
        | to_entries
        | map({id: ("comms_sender_01hbenchmany00000000000" + ("00" + (.key + 1 | tostring))[-3:]),
               displayName: ("Bench " + .value[0]), address: .value[1], channel: .value[0],
               status: (if .key == 10 then "DEACTIVATED" else "ACTIVATED" end)}) as $s
        | {senders: $s, senderPools: [{id: $pool, name: "cr_bench many", senders: [$s[].id]}]}' \
        >"$work/inventory.json"
    "$emulator" --inventory "$work/inventory.json" --credentials "$account:$token" --port 0 \
        --port-file "$work/emulator.port" >"$work/emulator.out" 2>"$work/emulator.err" &
    emulator_pid=$!
    for _ in $(seq 1 100); do
        [ -s "$work/emulator.port" ] && break
        kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.err" >&2; die "the emulator exited before it listened"; }
        sleep 0.1
    done
    [ -s "$work/emulator.port" ] || die "the emulator did not listen within 10 s"
    em_port=$(cat "$work/emulator.port")
    em_url=http://127.0.0.1:$em_port/v1
    em_control=http://127.0.0.1:$em_port/_emulator

    psql_q -v account="$account" -v token="$token" -v url="$em_url" >/dev/null <<'SQL'
SELECT set_config('cr_bench.account', :'account', false), set_config('cr_bench.token', :'token', false),
       set_config('cr_bench.url', :'url', false);
DO $$
BEGIN
    EXECUTE format('ALTER SERVER comms_api OPTIONS (SET base_url %L)', current_setting('cr_bench.url'));
    IF EXISTS (SELECT 1 FROM pg_user_mappings WHERE srvname = 'comms_api' AND usename = current_user) THEN
        EXECUTE format('ALTER USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (SET account_id %L, SET auth_token %L)',
                       current_setting('cr_bench.account'), current_setting('cr_bench.token'));
    ELSE
        EXECUTE format('CREATE USER MAPPING FOR CURRENT_USER SERVER comms_api OPTIONS (account_id %L, auth_token %L)',
                       current_setting('cr_bench.account'), current_setting('cr_bench.token'));
    END IF;
END
$$;
SQL
    curl -sf -X DELETE "$em_control/faults" >/dev/null || die "DELETE /_emulator/faults failed"
    if [ "$delay_ms" -gt 0 ]; then
        curl -sf "$em_control/faults" -H 'Content-Type: application/json' \
            -d "[{\"path\": \"/v1/Senders/Resolve\", \"delayMs\": $delay_ms, \"times\": -1}]" >/dev/null \
            || die "POST /_emulator/faults failed"
    fi
    log_clear() { curl -sf -X DELETE "$em_control/log" >/dev/null || die "DELETE /_emulator/log failed"; }
    # prints "resolve-requests answered-200 other-requests most-in-flight connections"
    log_stats() {
        curl -sf "$em_control/log" | jq -r '
            [.[] | select(.method == "POST" and .path == "/v1/Senders/Resolve")] as $r
            | ([$r[] | ([.startedAt, 1], [.endedAt, -1])] | sort_by(.[0], .[1])
               | reduce .[] as $e ({c: 0, m: 0}; .c += $e[1] | .m = ([.m, .c] | max)) | .m) as $mif
            | "\($r | length) \([$r[] | select(.status == 200)] | length) \(length - ($r | length)) \($mif) \([$r[].conn] | unique | length)"' \
            || die "GET /_emulator/log failed"
    }
    person="jsonb_build_array('+1415' || lpad(g::text, 7, '0'), 'whatsapp:+1415' || lpad(g::text, 7, '0'), 'person' || g || '@example.com')"
    q_seq="SELECT count(*), coalesce(sum(r.priority), 0) FROM generate_series(1, $people) g
           CROSS JOIN LATERAL comms_resolve.resolve('$remote_pool', $person, NULL, 'remote') r"
    q_many="SELECT count(*), coalesce(sum(r.priority), 0)
              FROM comms_resolve.resolve_many('$remote_pool',
                   (SELECT jsonb_agg($person ORDER BY g) FROM generate_series(1, $people) g), NULL, 'remote') r"
    # untimed warm-up of both paths (connections, caches)
    psql_q -c "SELECT count(*) FROM comms_resolve.resolve('$remote_pool', '[\"+14155550000\"]', NULL, 'remote')" \
        -c "SELECT count(*) FROM comms_resolve.resolve_many('$remote_pool', '[[\"+14155550000\"], [\"a@example.com\"]]', NULL, 'remote')" \
        >/dev/null || die "a remote call against the emulator failed"

    echo
    echo "remote: $people people x 3 recipients, emulator $em_url answering each Resolve after $delay_ms ms; pool of 10 active senders"
    echo "  sequential: one statement, resolve(..., 'remote') per person (LATERAL over generate_series; recipients built from g)"
    echo "  many:       resolve_many(..., 'remote') over the $people people (jsonb_agg in the statement), max_concurrency $concurrency"
    for ((run = 1; run <= remote_runs; run++)); do
        for v in seq many; do
            log_clear
            case $v in
                seq) out=$(timed "" "$q_seq") ;;
                many) out=$(timed "SET comms_resolve.max_concurrency = $concurrency;" "$q_many") ;;
            esac || { echo "CHECK FAILED: remote $v, run $run: the statement failed"; failed=1; continue; }
            read -r n s t <<<"$(tr '\t' ' ' <<<"$out")"
            sleep 0.1
            read -r lr l200 lother mif conns <<<"$(log_stats)"
            if [ "$lr" != "$people" ] || [ "$l200" != "$lr" ] || [ "$lother" != 0 ]; then
                echo "CHECK FAILED: remote $v, run $run: the emulator logged $lr Resolve requests ($l200 answered 200) and $lother others, expected $people, all 200, and 0"
                failed=1
            fi
            if [ $v = many ] && [ "$mif" -gt "$concurrency" ]; then
                echo "CHECK FAILED: remote many, run $run: $mif requests in flight at once, more than max_concurrency $concurrency"
                failed=1
            fi
            secs[r_$v]="${secs[r_$v]:-} $t"
            rows[r_$v]=$n sums[r_$v]=$s
            printf '  run %d %-10s %8d rows %10.3f s %8.2f ms/person   in flight at most %d, %d connections\n' \
                "$run" "$v" "$n" "$t" "$(awk -v t="$t" -v n="$people" 'BEGIN {print t * 1000 / n}')" "$mif" "$conns"
        done
    done
    if [ -n "${secs[r_seq]:-}" ] && [ -n "${secs[r_many]:-}" ]; then
        if [ "${rows[r_seq]} ${sums[r_seq]}" != "${rows[r_many]} ${sums[r_many]}" ]; then
            echo "CHECK FAILED: remote: sequential gave rows/sum ${rows[r_seq]}/${sums[r_seq]}, many ${rows[r_many]}/${sums[r_many]}"
            failed=1
        fi
        t_seq=$(echo "${secs[r_seq]}" | median)
        t_many=$(echo "${secs[r_many]}" | median)
        printf '  %-12s %10.3f s %10.2f people/s\n' sequential "$t_seq" "$(awk -v n="$people" -v t="$t_seq" 'BEGIN {print n / t}')"
        printf '  %-12s %10.3f s %10.2f people/s\n' many "$t_many" "$(awk -v n="$people" -v t="$t_many" 'BEGIN {print n / t}')"
        awk -v a="$t_seq" -v b="$t_many" -v c="$concurrency" 'BEGIN {
            x = (b > 0) ? a / b : 0
            printf "  sequential / many: %.2fx   target >= 6x   %s   (ideal: %dx)\n", x, (x >= 6) ? "PASS" : "MISS", c }'
    fi
fi

# ------------------------------------------------------------------------
# Local
# ------------------------------------------------------------------------
if [ $do_local = 1 ]; then
    t_setup=$(date +%s.%N)
    pool_id=$(psql_q -v customers="$customers" -v pool_size="$pool_size" <<'SQL'
DELETE FROM comms_resolve.sender_pools WHERE tags @> '{"cr_bench": "many"}';
DELETE FROM comms_resolve.senders WHERE tags @> '{"cr_bench": "many"}';
DROP SCHEMA IF EXISTS cr_many CASCADE;
CREATE SCHEMA cr_many;

-- Customers as test/bench/reporting.sh makes them: phone numbers over many
-- country and area codes ('28' is no assigned calling code), an email.
CREATE TABLE cr_many.countries (lo int, hi int, cc text, nlen int);
INSERT INTO cr_many.countries VALUES
    (0, 40, '1', 10), (40, 50, '44', 10), (50, 58, '33', 9), (58, 66, '49', 11),
    (66, 74, '91', 10), (74, 80, '55', 11), (80, 85, '61', 9), (85, 89, '81', 10),
    (89, 93, '234', 10), (93, 96, '7', 10), (96, 98, '52', 10), (98, 99, '353', 9),
    (99, 100, '28', 8);
CREATE TABLE cr_many.us_areas (i int PRIMARY KEY, area text);
INSERT INTO cr_many.us_areas
SELECT i, a FROM unnest('{212,213,305,312,415,512,617,646,702,713,
                          808,917,206,303,404,470,503,602,704,919}'::text[])
       WITH ORDINALITY AS t(a, i);
CREATE FUNCTION cr_many.phone(seed bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT '+' || c.cc ||
               CASE WHEN c.cc = '1'
                    THEN (SELECT a.area FROM cr_many.us_areas a WHERE a.i = 1 + (h2 % 20)::int)
                         || lpad((h3 % 10000000)::text, 7, '0')
                    ELSE (1 + h2 % 9)::text
                         || lpad((h3 % (10::bigint ^ (c.nlen - 1))::bigint)::text, c.nlen - 1, '0')
               END
          FROM (SELECT (hashint8extended(seed, 1) & 9223372036854775807) % 100 AS h1,
                       hashint8extended(seed, 2) & 9223372036854775807 AS h2,
                       hashint8extended(seed, 3) & 9223372036854775807 AS h3) h
          JOIN cr_many.countries c ON h.h1 >= c.lo AND h.h1 < c.hi);
CREATE TABLE cr_many.customers (id integer PRIMARY KEY, phone text NOT NULL, email text NOT NULL);
INSERT INTO cr_many.customers
SELECT g, cr_many.phone(g),
       'customer' || g || '@' ||
       (ARRAY['example.com', 'mail.example.org', 'corp.example.net', 'example.co.uk'])[1 + g % 4]
  FROM generate_series(1, :customers) AS g;

-- The pool: pool_size active senders (40% SMS, 30% WHATSAPP, 10% RCS, the
-- rest EMAIL), plus 3 PUSH and 4 DEACTIVATED members never picked.
CREATE TEMP TABLE plan (channel text, n int, status text);
INSERT INTO plan VALUES
    ('SMS', round(:pool_size * 0.4), 'ACTIVATED'),
    ('WHATSAPP', round(:pool_size * 0.3), 'ACTIVATED'),
    ('RCS', greatest(1, round(:pool_size * 0.1)), 'ACTIVATED');
INSERT INTO plan SELECT 'EMAIL', :pool_size - sum(n), 'ACTIVATED' FROM plan;
INSERT INTO plan VALUES ('PUSH', 3, 'ACTIVATED'), ('SMS', 2, 'DEACTIVATED'),
                        ('WHATSAPP', 1, 'DEACTIVATED'), ('EMAIL', 1, 'DEACTIVATED');
INSERT INTO comms_resolve.senders (display_name, address, channel, status, tags)
SELECT CASE WHEN i % 4 = 3 THEN NULL ELSE format('Bench %s %s', p.channel, i) END,
       CASE p.channel
           WHEN 'SMS' THEN cr_many.phone(1000000000 + i + (p.status = 'DEACTIVATED')::int * 500)
           WHEN 'WHATSAPP' THEN cr_many.phone(2000000000 + i + (p.status = 'DEACTIVATED')::int * 500)
           WHEN 'RCS' THEN 'cr_bench_agent_' || i
           WHEN 'EMAIL' THEN format('notify%s%s@bench.example.com', i,
                                    CASE WHEN p.status = 'DEACTIVATED' THEN '-old' ELSE '' END)
           WHEN 'PUSH' THEN 'cr-bench-app-' || i
       END,
       p.channel, p.status, '{"cr_bench": "many"}'
  FROM plan p, generate_series(1, p.n) AS i;
INSERT INTO comms_resolve.sender_pools (name, tags) VALUES ('cr_bench many pool', '{"cr_bench": "many"}');
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id FROM comms_resolve.sender_pools p, comms_resolve.senders s
 WHERE p.name = 'cr_bench many pool' AND s.tags @> '{"cr_bench": "many"}';
SELECT id FROM comms_resolve.sender_pools WHERE name = 'cr_bench many pool';
SQL
)
    psql_q -c "VACUUM ANALYZE cr_many.customers" -c "VACUUM ANALYZE comms_resolve.senders" \
        -c "VACUUM ANALYZE comms_resolve.sender_pools" -c "VACUUM ANALYZE comms_resolve.sender_pool_senders" >/dev/null

    recipients="jsonb_build_array(c.phone, 'whatsapp:' || c.phone, c.email)"
    q_lateral="SELECT count(*), coalesce(sum(r.priority), 0) FROM cr_many.customers c
               CROSS JOIN LATERAL comms_resolve.resolve('$pool_id', $recipients) r"
    q_many="SELECT count(*), coalesce(sum(r.priority), 0)
              FROM (SELECT jsonb_agg($recipients ORDER BY c.id) AS people
                      FROM cr_many.customers c GROUP BY (c.id - 1) / $chunk) ch
             CROSS JOIN LATERAL comms_resolve.resolve_many('$pool_id', ch.people) r"
    # the chunks alone: what building the people arrays costs many
    q_build="SELECT count(*), coalesce(sum(jsonb_array_length(ch.people)), 0)
               FROM (SELECT jsonb_agg($recipients ORDER BY c.id) AS people
                       FROM cr_many.customers c GROUP BY (c.id - 1) / $chunk) ch"
    set_w0="SET max_parallel_workers_per_gather = 0;"
    set_w2="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
            SET min_parallel_table_scan_size = 0;"
    printf '\nlocal: %d customers (phone, whatsapp, email), pool of %d active senders; setup %.1f s\n' "$customers" \
        "$pool_size" "$(awk -v a="$(date +%s.%N)" -v b="$t_setup" 'BEGIN {print a - b}')"
    echo "  lateral w0: CROSS JOIN LATERAL resolve(), max_parallel_workers_per_gather = 0"
    echo "  lateral w2: the same, max_parallel_workers_per_gather = 2, parallel_setup_cost = parallel_tuple_cost = 0"
    echo "  many:       resolve_many over chunks of $chunk customers (jsonb_agg ... GROUP BY (id - 1) / $chunk), workers 0"
    echo "  build:      the chunks of many alone, without resolve_many (informational: the cost of the jsonb)"

    # the ordered rows of the first check_max customers, both ways
    ck_lateral=$(psql_q -c "$set_w0" -c "
        SELECT count(*), sum(hashtext(row(c.id, r.ord, r.sender_id, r.from_address, r.to_address, r.channel,
                                          r.priority, r.display_name, r.to_channel)::text)::bigint)
          FROM cr_many.customers c
         CROSS JOIN LATERAL comms_resolve.resolve('$pool_id', $recipients) WITH ORDINALITY
               AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, ord)
         WHERE c.id <= $check_max" | tr '\t' ' ')
    ck_many=$(psql_q -c "$set_w0" -c "
        SELECT count(*), sum(hashtext(row(x.id, x.ord, x.sender_id, x.from_address, x.to_address, x.channel,
                                          x.priority, x.display_name, x.to_channel)::text)::bigint)
          FROM (SELECT ch.ids[r.person + 1] AS id,
                       row_number() OVER (PARTITION BY ch.k, r.person ORDER BY r.o) AS ord, r.*
                  FROM (SELECT (c.id - 1) / $chunk AS k, array_agg(c.id ORDER BY c.id) AS ids,
                               jsonb_agg($recipients ORDER BY c.id) AS people
                          FROM cr_many.customers c WHERE c.id <= $check_max GROUP BY 1) ch
                 CROSS JOIN LATERAL comms_resolve.resolve_many('$pool_id', ch.people) WITH ORDINALITY
                       AS r(person, sender_id, from_address, to_address, channel, priority, display_name, to_channel, o)) x" \
        | tr '\t' ' ')
    if [ "$ck_lateral" = "$ck_many" ]; then
        echo "  check: resolve_many and the lateral resolve() agree row by row, in order, on customers 1..$check_max (${ck_many%% *} rows)"
    else
        echo "CHECK FAILED: on customers 1..$check_max rows/checksum of the lateral resolve(): $ck_lateral, of resolve_many: $ck_many"
        failed=1
    fi

    # the parallel plan, once (untimed; it also warms the cache)
    plan=$(psql_q -c "$set_w2" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $q_lateral")
    launched=$(sed -n 's/.*Workers Launched: \([0-9]*\).*/\1/p' <<<"$plan" | head -n 1)
    echo "  lateral w2 plan (EXPLAIN ANALYZE):"
    sed 's/^/    /' <<<"$plan"
    if [ "${launched:-0}" -lt 1 ]; then
        echo "CHECK FAILED: lateral w2: no parallel worker was launched (Workers Launched: ${launched:-none})"
        failed=1
    fi
    psql_q -c "$set_w0" -c "EXPLAIN (COSTS OFF) $q_many" | sed 's/^/    many plan: /'

    for ((run = 1; run <= runs; run++)); do
        for v in lateral_w0 lateral_w2 many build; do
            case $v in
                lateral_w0) out=$(timed "$set_w0" "$q_lateral") ;;
                lateral_w2) out=$(timed "$set_w2" "$q_lateral") ;;
                many) out=$(timed "$set_w0" "$q_many") ;;
                build) out=$(timed "$set_w0" "$q_build") ;;
            esac || { echo "CHECK FAILED: local $v, run $run: the statement failed"; failed=1; continue; }
            read -r n s t <<<"$(tr '\t' ' ' <<<"$out")"
            secs[$v]="${secs[$v]:-} $t"
            rows[$v]=$n sums[$v]=$s
            printf '  run %d %-11s %10d rows %9.3f s\n' "$run" "$v" "$n" "$t"
        done
    done
    declare -A med per_s
    printf '  %-11s %10s %10s %10s %12s\n' variant customers rows seconds customers/s
    for v in lateral_w0 lateral_w2 many build; do
        [ -n "${secs[$v]:-}" ] || continue
        med[$v]=$(echo "${secs[$v]}" | median)
        per_s[$v]=$(awk -v n="$customers" -v t="${med[$v]}" 'BEGIN {printf "%.0f", (t > 0) ? n / t : 0}')
        printf '  %-11s %10d %10d %10.3f %12d\n' "$v" "$customers" "${rows[$v]}" "${med[$v]}" "${per_s[$v]}"
        if [ $v = build ]; then
            if [ "${rows[build]} ${sums[build]}" != "$(( (customers + chunk - 1) / chunk )) $customers" ]; then
                echo "CHECK FAILED: build gives ${rows[build]} chunks of ${sums[build]} people"
                failed=1
            fi
        elif [ "${rows[$v]} ${sums[$v]}" != "${rows[lateral_w0]:-} ${sums[lateral_w0]:-}" ]; then
            echo "CHECK FAILED: $v gives rows/sum ${rows[$v]}/${sums[$v]}, lateral w0 ${rows[lateral_w0]:-}/${sums[lateral_w0]:-}"
            failed=1
        fi
    done
    ratio() { awk -v a="${per_s[$2]:-0}" -v b="${per_s[$3]:-0}" -v l="$1" 'BEGIN { printf "  %-36s %6.2fx\n", l, (b > 0) ? a / b : 0 }'; }
    ratio "many / lateral w0 (customers/s):" many lateral_w0
    ratio "lateral w2 / lateral w0 (customers/s):" lateral_w2 lateral_w0
    ratio "many / lateral w2 (customers/s):" many lateral_w2
    if [ -n "${med[build]:-}" ] && [ -n "${med[many]:-}" ]; then
        awk -v m="${med[many]}" -v b="${med[build]}" -v n="$customers" 'BEGIN {
            printf "  %-36s %6.3f s (%.0f customers/s)\n", "many without building the jsonb:", m - b, (m > b) ? n / (m - b) : 0 }'
    fi
fi

echo
echo "(targets are informational)"
exit $failed
