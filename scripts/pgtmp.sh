#!/usr/bin/env bash
# pgtmp.sh: a throwaway PostgreSQL 15 cluster for tests and the demo.
#
#   eval "$(scripts/pgtmp.sh start DIR)"   # prints PGHOST/PGPORT/PGUSER exports
#   scripts/pgtmp.sh stop DIR
#
# The cluster runs as the postgres user (PostgreSQL refuses root), listens
# only on a Unix socket in DIR, and trusts local connections.
set -euo pipefail
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
cmd=${1:?usage: pgtmp.sh start|stop DIR}
dir=${2:?usage: pgtmp.sh start|stop DIR}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
    port=${PGTMP_PORT:-$((20000 + RANDOM % 20000))}
    as_pg "$bindir/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
        -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c max_worker_processes=8" start >/dev/null
    echo "export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true
    fi
    ;;
*)
    echo "usage: pgtmp.sh start|stop DIR" >&2
    exit 2
    ;;
esac
