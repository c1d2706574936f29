# test/bench/lib.sh: pieces the benchmark scripts share; source it.

# as_owner COMMAND...: run COMMAND as the postgres user when root (initdb
# and the server refuse root)
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# bench_start_cluster DIR PORT [CONF-LINE...]: initdb DIR/data and start a
# throwaway server on a Unix socket in DIR only (no TCP), tuned for
# benchmarks (no fsync, no autovacuum) plus the caller's CONF-LINEs;
# exports PGHOST, PGPORT and PGUSER.  Needs PG_CONFIG or pg_config.
bench_start_cluster() {
    local dir=$1 port=$2 pgbin
    shift 2
    pgbin=$("${PG_CONFIG:-pg_config}" --bindir)
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_owner "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    printf '%s\n' "listen_addresses = ''" "unix_socket_directories = '$dir'" "port = $port" \
        "fsync = off" "synchronous_commit = off" "full_page_writes = off" "autovacuum = off" \
        "$@" >>"$dir/data/postgresql.conf"
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    export PGHOST=$dir PGPORT=$port PGUSER=postgres
}

# bench_emulator ROOT: print the emulator binary: $COMMS_EMULATOR, or the
# one under ROOT/test/emulator, built first
bench_emulator() {
    if [ -n "${COMMS_EMULATOR:-}" ]; then
        printf '%s\n' "$COMMS_EMULATOR"
        return 0
    fi
    make -s -C "$1/test/emulator" >/dev/null || return 1
    printf '%s\n' "$1/test/emulator/comms_emulator"
}

# psql_q ARGS...: psql quietly, tab-separated, stopping on the first error
psql_q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }

# bench_database: create $PGDATABASE when missing, and check that the
# extension is installed on the server; prints a reason and fails if not
bench_database() {
    if [ -z "$(psql_q -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'")" ]; then
        psql_q -d postgres -c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null || return 1
    fi
    [ "$(psql_q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'comms_resolve'")" = 1 ] \
        || { echo "extension comms_resolve is not installed on this server (make && make install)" >&2; return 1; }
}
