#!/usr/bin/env bash
# test/bench/reporting.sh: the reporting-job benchmark of comms_resolve.
#
# A reporting job resolves senders for every customer of a table in one
# statement:
#
#   SELECT count(*), sum(r.priority)
#     FROM customers c
#    CROSS JOIN LATERAL comms_resolve.resolve(<pool>,
#          jsonb_build_array(c.phone, 'whatsapp:' || c.phone, c.email)) r;
#
# The script builds a pool of 50 senders (SMS, RCS, WHATSAPP, EMAIL, plus a
# few PUSH and DEACTIVATED members that must never be picked) and N customers
# (default 1,000,000) with phone numbers over many country and area codes,
# then times, server-side (clock_timestamp() around the statement, nothing
# shipped to the client but one row):
#
#   C resolver     comms_resolve.resolve on all N customers
#   SQL reference  comms_ref.resolve (test/reference/reference.sql) on the
#                  first S customers (default 50,000)
#   floor          cr_bench_floor (test/bench/floor), a C SRF that builds the
#                  same jsonb and returns as many constant rows, on all N
#
# each RUNS times (default 3), and prints the median, customers per second
# and the ratios against the targets: C >= 20x the reference, floor/C <= 3.
# The targets are informational: the exit status is 0 unless something fails.
# Something failing includes the C resolver and the reference disagreeing on
# the slice (row count and sum of priorities on the whole slice, a checksum
# of every ordered row on up to 2,000 customers of it), and the floor
# returning a different number of rows than the C resolver.
#
# Parallel query is off (max_parallel_workers_per_gather = 0) and so is JIT
# (jit = off) for every variant, so the three are timed on one core the same
# way.
#
# Usage: test/bench/reporting.sh [options]
#   -n, --customers N    customers (default 1000000; env BENCH_CUSTOMERS)
#   -s, --slice N        customers for the SQL reference (default 50000;
#                        env BENCH_SLICE)
#   -p, --pool-size N    active senders in the pool (default 50; env
#                        BENCH_POOL_SIZE)
#   -r, --runs N         timed runs per variant, the median is reported
#                        (default 3; env BENCH_RUNS)
#       --smoke          2,000 customers, slice 500, 1 run: a check for CI
#                        that takes seconds
#       --tmp-cluster    initdb and start a throwaway cluster (as user
#                        postgres when run as root) in a mktemp directory,
#                        Unix socket only, port 55477 (env BENCH_PORT);
#                        stopped and removed on exit
#       --no-floor-install  do not run `make -C test/bench/floor install`
#                        (cr_bench_floor.so must already be installed)
#   -h, --help
# Connection: the usual PGHOST, PGPORT, PGUSER; the database is PGDATABASE,
# default comms_resolve_bench, created when missing.  Use a database of its
# own: the script refuses one whose comms_resolve inventory holds anything
# but its own senders and pools (tagged {"cr_bench": "reporting"}).  It
# needs a superuser (CREATE FUNCTION ... LANGUAGE C).
#
# Prerequisite: comms_resolve built and installed (make && make install).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=test/bench/lib.sh
. "$root/test/bench/lib.sh"
reference_sql=$root/test/reference/reference.sql
calling_codes=$root/data/calling-codes.tsv
PG_CONFIG=${PG_CONFIG:-pg_config}

customers=${BENCH_CUSTOMERS:-1000000}
slice=${BENCH_SLICE:-50000}
pool_size=${BENCH_POOL_SIZE:-50}
runs=${BENCH_RUNS:-3}
smoke=0
tmp_cluster=0
floor_install=1
check_max=2000          # customers whose ordered rows are checksummed (full mode)

usage() { sed -n '/^# Usage:/,/^# Prerequisite/p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "reporting.sh: error: $*" >&2; exit 1; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
    case $1 in
        -n|--customers) customers=${2:?}; shift 2 ;;
        -s|--slice) slice=${2:?}; shift 2 ;;
        -p|--pool-size) pool_size=${2:?}; shift 2 ;;
        -r|--runs) runs=${2:?}; shift 2 ;;
        --smoke) smoke=1; shift ;;
        --tmp-cluster) tmp_cluster=1; shift ;;
        --no-floor-install) floor_install=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ $smoke = 1 ]; then
    customers=2000 slice=500 runs=1 check_max=500
fi
for v in customers slice pool_size runs; do
    is_uint "${!v}" || die "$v must be a non-negative integer"
done
[ "$customers" -ge 1 ] || die "need at least one customer"
[ "$runs" -ge 1 ] || die "need at least one run"
[ "$pool_size" -ge 4 ] || die "the pool needs at least 4 senders (one per channel)"
[ "$slice" -le "$customers" ] || slice=$customers
[ "$check_max" -le "$slice" ] || check_max=$slice

export PGDATABASE=${PGDATABASE:-comms_resolve_bench}
# every session of the benchmark, every variant: no parallel query, no JIT
export PGOPTIONS="${PGOPTIONS:-} -c max_parallel_workers_per_gather=0 -c jit=off -c client_min_messages=warning"

# ------------------------------------------------------------------------
# Throwaway cluster
# ------------------------------------------------------------------------
tmpdir=
stop_cluster() {
    if [ -n "$tmpdir" ] && [ -d "$tmpdir" ]; then
        if [ -f "$tmpdir/data/postmaster.pid" ]; then
            as_owner "$pgbin/pg_ctl" -D "$tmpdir/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$tmpdir"
    fi
}
if [ $tmp_cluster = 1 ]; then
    pgbin=$("$PG_CONFIG" --bindir)
    port=${BENCH_PORT:-55477}
    tmpdir=$(mktemp -d /tmp/cr_bench.XXXXXX)
    trap stop_cluster EXIT
    trap 'exit 130' INT TERM
    bench_start_cluster "$tmpdir" "$port" "shared_buffers = 1GB" "max_wal_size = 8GB" \
        || die "could not start the throwaway cluster"
fi


# ------------------------------------------------------------------------
# Floor module, database, extension
# ------------------------------------------------------------------------
if [ $floor_install = 1 ]; then
    make -s -C "$here/floor" PG_CONFIG="$PG_CONFIG" install >/dev/null \
        || die "could not build and install test/bench/floor (run as root, or install it and use --no-floor-install)"
fi

bench_database || die "could not prepare database $PGDATABASE"

psql_q <<'SQL'
CREATE EXTENSION IF NOT EXISTS comms_resolve;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM comms_resolve.senders
                WHERE NOT tags @> '{"cr_bench": "reporting"}')
       OR EXISTS (SELECT 1 FROM comms_resolve.sender_pools
                   WHERE NOT tags @> '{"cr_bench": "reporting"}') THEN
        RAISE EXCEPTION 'database % holds a comms_resolve inventory of its own; run the benchmark in a database of its own (PGDATABASE)',
            current_database();
    END IF;
END
$$;
SQL

server_version=$(psql_q -c "SHOW server_version")
echo "comms_resolve reporting benchmark: $customers customers, pool of $pool_size senders, reference slice $slice, $runs run(s) each"
echo "server: PostgreSQL $server_version, database $PGDATABASE$([ $tmp_cluster = 1 ] && echo ", throwaway cluster in $tmpdir")"

# ------------------------------------------------------------------------
# Data: the pool and the customers
# ------------------------------------------------------------------------
t_setup=$(date +%s.%N)
pool_id=$(psql_q -v customers="$customers" -v pool_size="$pool_size" <<'SQL'
DELETE FROM comms_resolve.sender_pools WHERE tags @> '{"cr_bench": "reporting"}';
DELETE FROM comms_resolve.senders WHERE tags @> '{"cr_bench": "reporting"}';
DROP SCHEMA IF EXISTS cr_bench CASCADE;
CREATE SCHEMA cr_bench;

-- Phone numbers: country calling code, share of customers in percent, and
-- the length of the national number.  '28' is no assigned calling code.
CREATE TABLE cr_bench.countries (lo int, hi int, cc text, nlen int);
INSERT INTO cr_bench.countries VALUES
    (0, 40, '1', 10), (40, 50, '44', 10), (50, 58, '33', 9), (58, 66, '49', 11),
    (66, 74, '91', 10), (74, 80, '55', 11), (80, 85, '61', 9), (85, 89, '81', 10),
    (89, 93, '234', 10), (93, 96, '7', 10), (96, 98, '52', 10), (98, 99, '353', 9),
    (99, 100, '28', 8);
CREATE TABLE cr_bench.us_areas (i int PRIMARY KEY, area text);
INSERT INTO cr_bench.us_areas
SELECT i, a FROM unnest('{212,213,305,312,415,512,617,646,702,713,
                          808,917,206,303,404,470,503,602,704,919}'::text[])
       WITH ORDINALITY AS t(a, i);

-- A deterministic phone number from a seed.
CREATE FUNCTION cr_bench.phone(seed bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT '+' || c.cc ||
               CASE WHEN c.cc = '1'
                    THEN (SELECT a.area FROM cr_bench.us_areas a
                           WHERE a.i = 1 + (h2 % 20)::int)
                         || lpad((h3 % 10000000)::text, 7, '0')
                    ELSE (1 + h2 % 9)::text
                         || lpad((h3 % (10::bigint ^ (c.nlen - 1))::bigint)::text,
                                 c.nlen - 1, '0')
               END
          FROM (SELECT (hashint8extended(seed, 1) & 9223372036854775807) % 100 AS h1,
                       hashint8extended(seed, 2) & 9223372036854775807 AS h2,
                       hashint8extended(seed, 3) & 9223372036854775807 AS h3) h
          JOIN cr_bench.countries c ON h.h1 >= c.lo AND h.h1 < c.hi);

CREATE TABLE cr_bench.customers (
    id    integer PRIMARY KEY,
    phone text NOT NULL,
    email text NOT NULL
);
INSERT INTO cr_bench.customers
SELECT g, cr_bench.phone(g),
       'customer' || g || '@' ||
       (ARRAY['example.com', 'mail.example.org', 'corp.example.net', 'example.co.uk'])[1 + g % 4]
  FROM generate_series(1, :customers) AS g;

-- The pool: pool_size active senders, 40% SMS, 30% WHATSAPP, 10% RCS and
-- the rest EMAIL, the phone numbers over the same countries and US area
-- codes as the customers'; plus 3 PUSH senders (unreachable: no customer
-- has a PUSH address) and 4 DEACTIVATED ones.  Another pool of 100 senders
-- is in the inventory too.
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
           WHEN 'SMS' THEN cr_bench.phone(1000000000 + i + (p.status = 'DEACTIVATED')::int * 500)
           WHEN 'WHATSAPP' THEN cr_bench.phone(2000000000 + i + (p.status = 'DEACTIVATED')::int * 500)
           WHEN 'RCS' THEN 'cr_bench_agent_' || i
           WHEN 'EMAIL' THEN format('notify%s%s@bench.example.com', i,
                                    CASE WHEN p.status = 'DEACTIVATED' THEN '-old' ELSE '' END)
           WHEN 'PUSH' THEN 'cr-bench-app-' || i
       END,
       p.channel, p.status, '{"cr_bench": "reporting"}'
  FROM plan p, generate_series(1, p.n) AS i;

INSERT INTO comms_resolve.sender_pools (name, tags)
VALUES ('cr_bench reporting pool', '{"cr_bench": "reporting"}'),
       ('cr_bench other pool', '{"cr_bench": "reporting"}');
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id FROM comms_resolve.sender_pools p, comms_resolve.senders s
 WHERE p.name = 'cr_bench reporting pool';

INSERT INTO comms_resolve.senders (display_name, address, channel, tags)
SELECT 'Other ' || i, cr_bench.phone(3000000000 + i), 'SMS', '{"cr_bench": "reporting"}'
  FROM generate_series(1, 100) AS i
ON CONFLICT DO NOTHING;
INSERT INTO comms_resolve.sender_pool_senders
SELECT p.id, s.id FROM comms_resolve.sender_pools p, comms_resolve.senders s
 WHERE p.name = 'cr_bench other pool' AND s.display_name LIKE 'Other %';

-- Time one statement on the server; it returns a single row (n, s).
CREATE FUNCTION cr_bench.timed(q text, OUT n bigint, OUT s bigint, OUT secs double precision)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q INTO n, s;
    secs := extract(epoch FROM clock_timestamp() - t0);
END
$$;

-- The floor (test/bench/floor/cr_bench_floor.c), not part of the extension.
CREATE FUNCTION cr_bench.cr_bench_floor(
    pool       text,
    recipients jsonb,
    channels   jsonb   DEFAULT NULL,
    nrows      integer DEFAULT 10)
RETURNS TABLE (sender_id text, from_address text, to_address text,
               channel text, priority integer, display_name text,
               to_channel text)
AS 'cr_bench_floor', 'cr_bench_floor'
LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 10;

SELECT id FROM comms_resolve.sender_pools WHERE name = 'cr_bench reporting pool';
SQL
)
psql_q -c "VACUUM ANALYZE cr_bench.customers" -c "VACUUM ANALYZE comms_resolve.senders" \
    -c "VACUUM ANALYZE comms_resolve.sender_pools" -c "VACUUM ANALYZE comms_resolve.sender_pool_senders" >/dev/null
printf 'setup: %.1f s (pool %s: %s)\n' "$(awk -v a="$(date +%s.%N)" -v b="$t_setup" 'BEGIN {print a - b}')" "$pool_id" \
    "$(psql_q -c "SELECT string_agg(format('%s %s %s', n, s.channel, s.status), ', ' ORDER BY s.status, s.channel)
                    FROM (SELECT s.channel, s.status, count(*) AS n
                            FROM comms_resolve.senders s
                            JOIN comms_resolve.sender_pool_senders ps ON ps.sender_id = s.id
                           WHERE ps.sender_pool_id = '$pool_id'
                           GROUP BY 1, 2) s")"

# ------------------------------------------------------------------------
# The SQL reference
# ------------------------------------------------------------------------
have_ref=1
if [ ! -f "$reference_sql" ]; then
    have_ref=0
    echo "SKIP: $reference_sql not found: the SQL reference is not measured and C is not checked against it"
else
    psql_q -c "DROP SCHEMA IF EXISTS comms_ref CASCADE" >/dev/null
    psql_q -v calling_codes_file="$calling_codes" -f "$reference_sql" >/dev/null \
        || die "loading $reference_sql failed"
fi

# ------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------
recipients="jsonb_build_array(c.phone, 'whatsapp:' || c.phone, c.email)"
# query FUNCTION-CALL [WHERE]
query() {
    echo "SELECT count(*), coalesce(sum(r.priority), 0) FROM cr_bench.customers c CROSS JOIN LATERAL $1 r ${2:-}"
}
q_c() { query "comms_resolve.resolve('$pool_id', $recipients)" "$@"; }
q_ref() { query "comms_ref.resolve('$pool_id', $recipients)" "$@"; }
q_floor() { query "cr_bench.cr_bench_floor('$pool_id', $recipients, NULL, $nrows)" "$@"; }
# a checksum of every ordered row of the first $1 customers
q_check_c() {
    echo "SELECT count(*), sum(hashtext(row(c.id, r.ord, r.sender_id, r.from_address, r.to_address,
                   r.channel, r.priority, r.display_name, r.to_channel)::text)::bigint)
            FROM cr_bench.customers c
           CROSS JOIN LATERAL comms_resolve.resolve('$pool_id', $recipients) WITH ORDINALITY
                 AS r(sender_id, from_address, to_address, channel, priority, display_name, to_channel, ord)
           WHERE c.id <= $1"
}
q_check_ref() {
    echo "SELECT count(*), sum(hashtext(row(c.id, r.ordinal, r.sender_id, r.from_address, r.to_address,
                   r.channel, r.priority, r.display_name, r.to_channel)::text)::bigint)
            FROM cr_bench.customers c
           CROSS JOIN LATERAL comms_ref.resolve('$pool_id', $recipients) r
           WHERE c.id <= $1"
}

# timed QUERY: prints "n s seconds", measured on the server
timed() {
    psql_q -c "SELECT n, s, round(secs::numeric, 4) FROM cr_bench.timed(\$cr_bench\$$1\$cr_bench\$)" \
        | tr '\t' ' '
}

# rows resolve() returns per customer (the floor returns as many)
nrows=$(psql_q -c "SELECT count(*) FROM cr_bench.customers c
                   CROSS JOIN LATERAL comms_resolve.resolve('$pool_id', $recipients) r
                   WHERE c.id = 1")
max_results=$(psql_q -c "SELECT count(*) FROM comms_resolve.resolve('$pool_id', '[\"+14155550100\"]') r" \
                     -c "SELECT current_setting('comms_resolve.max_results', true)" | tail -n 1)

echo "settings for every variant: max_parallel_workers_per_gather = 0, jit = off; comms_resolve.max_results = ${max_results:-?}"
echo "recipients per customer: $recipients; resolve() returns $nrows rows per customer, the floor is told to return as many"
echo "timing: server-side clock_timestamp() around SELECT count(*), sum(priority) over the lateral join; median of $runs"
echo

failed=0

# warm-up (also reads the table into the cache) and the C/reference check
out=$(timed "$(q_c "WHERE c.id <= $slice")")
read -r c_slice_n c_slice_s _ <<<"$out"
timed "$(q_floor "WHERE c.id <= $slice")" >/dev/null
if [ $have_ref = 1 ]; then
    # with max_results = 100 every candidate pair is compared, not just the top 10
    out=$(psql_q -c "SET comms_resolve.max_results = 100" -c "$(q_check_c "$check_max")" | tr '\t' ' ')
    read -r ck_c_n ck_c_s <<<"$out"
    out=$(psql_q -c "SET comms_resolve.max_results = 100" -c "$(q_check_ref "$check_max")" | tr '\t' ' ')
    read -r ck_r_n ck_r_s <<<"$out"
    if [ "$ck_c_n $ck_c_s" = "$ck_r_n $ck_r_s" ]; then
        echo "check: C and reference agree row by row, in order, with max_results = 100 on customers 1..$check_max ($ck_c_n rows)"
    else
        echo "CHECK FAILED: C and reference differ on customers 1..$check_max: rows/checksum C $ck_c_n/$ck_c_s, reference $ck_r_n/$ck_r_s"
        failed=1
    fi
fi

declare -A secs rows sums
for ((run = 1; run <= runs; run++)); do
    for v in c floor ref; do
        case $v in
            c) q=$(q_c) ;;
            floor) q=$(q_floor) ;;
            ref) [ $have_ref = 1 ] || continue
                 q=$(q_ref "WHERE c.id <= $slice") ;;
        esac
        out=$(timed "$q")
        read -r n s t <<<"$out"
        secs[$v]="${secs[$v]:-} $t"
        rows[$v]=$n
        sums[$v]=$s
        printf '  run %d %-6s %10s rows %9.3f s\n' "$run" "$v" "$n" "$t"
    done
done
echo

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A med cust per_s
cust[c]=$customers cust[floor]=$customers cust[ref]=$slice
declare -A names=([c]="C resolver" [ref]="SQL reference" [floor]="floor")
printf '%-15s %10s %10s %10s %12s\n' variant customers rows seconds customers/s
for v in c ref floor; do
    if [ -z "${secs[$v]:-}" ]; then
        printf '%-15s %10s %10s %10s %12s\n' "${names[$v]}" - - - "skipped"
        continue
    fi
    med[$v]=$(echo "${secs[$v]}" | median)
    per_s[$v]=$(awk -v n="${cust[$v]}" -v t="${med[$v]}" 'BEGIN {printf "%.0f", (t > 0) ? n / t : 0}')
    printf '%-15s %10d %10d %10.3f %12d\n' "${names[$v]}" "${cust[$v]}" "${rows[$v]}" "${med[$v]}" "${per_s[$v]}"
done
echo

ratio_line() {  # label value target-op target
    awk -v l="$1" -v x="$2" -v op="$3" -v t="$4" 'BEGIN {
        ok = (op == ">=") ? (x >= t) : (x <= t)
        printf "%-30s %8.2fx   target %s %sx   %s\n", l, x, op, t, ok ? "PASS" : "MISS" }'
}
if [ -n "${per_s[ref]:-}" ]; then
    ratio_line "C / SQL reference (cust/s):" \
        "$(awk -v a="${per_s[c]}" -v b="${per_s[ref]}" 'BEGIN {print (b > 0) ? a / b : 0}')" ">=" 20
else
    echo "C / SQL reference: n/a (reference skipped)"
fi
ratio_line "floor / C (cust/s):" \
    "$(awk -v a="${per_s[floor]}" -v b="${per_s[c]}" 'BEGIN {print (b > 0) ? a / b : 0}')" "<=" 3
echo "(targets are informational)"

# consistency: the floor returned as many rows as the resolver, and the
# reference's timed runs match the C resolver on the slice
if [ "${rows[floor]}" != "${rows[c]}" ]; then
    echo "CHECK FAILED: the floor returned ${rows[floor]} rows, the C resolver ${rows[c]}: the floor is not comparable"
    failed=1
fi
if [ $have_ref = 1 ]; then
    if [ "${rows[ref]} ${sums[ref]}" = "$c_slice_n $c_slice_s" ]; then
        echo "check: C and reference agree on customers 1..$slice (rows $c_slice_n, sum of priorities $c_slice_s)"
    else
        echo "CHECK FAILED: on customers 1..$slice C gives rows/sum $c_slice_n/$c_slice_s, the reference ${rows[ref]}/${sums[ref]}"
        failed=1
    fi
fi
exit $failed
