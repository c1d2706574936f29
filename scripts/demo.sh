#!/usr/bin/env bash
# demo.sh: see comms_resolve work, on a fresh Debian 12 machine as root.
# Installs what it needs, builds and installs the extension, starts a
# throwaway cluster, loads a sample inventory (demo/sample.sql), runs the
# reference example and a reporting query (demo/demo.sql), prints the rows
# and removes the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
    scripts/install-deps.sh
fi
export PATH="$(pg_config --bindir):$PATH"
echo "Building and installing comms_resolve..."
make -s >/dev/null && make -s install >/dev/null

work=$(mktemp -d /tmp/comms_resolve_demo.XXXXXX)
chmod 755 "$work"
trap 'scripts/pgtmp.sh stop "$work/pg"; rm -rf "$work"' EXIT
eval "$(scripts/pgtmp.sh start "$work/pg")"

psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION comms_resolve' -f demo/sample.sql
psql -X -q -v ON_ERROR_STOP=1 -f demo/demo.sql
echo
echo "Done. The throwaway cluster is removed; see README.md to install for real."
