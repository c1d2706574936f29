#!/usr/bin/env bash
# test.sh: the whole comms_resolve test suite, as README.md gives it.
#
# On a fresh Debian 12 machine, as root: installs the packages it needs,
# builds warning-free (-Werror), installs the extension, then runs
#   1. the unit tests of the C core (cmocka) and the API emulator's own
#      checks, both also under valgrind, and every fuzz target for 10 s,
#   2. the pg_regress suite (incl. the 10,000-case differential test)
#      against a throwaway cluster,
#   3. the TAP tests (snapshot semantics, dump and restore, and the remote
#      resolver against the project's API emulator), as postgres,
#   4. a smoke run of the reporting benchmark (figures are not judged).
# Ends with a "N passed, N failed" line and a non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

if [ "$(id -u)" -eq 0 ]; then
    scripts/install-deps.sh || exit 1
fi
export PATH="$(pg_config --bindir):$PATH"

work=$(mktemp -d /tmp/comms_resolve_test.XXXXXX)
chmod 755 "$work"
cleanup() {
    scripts/pgtmp.sh stop "$work/pg" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
failed_steps=()
step() {
    local name=$1
    shift
    echo
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: passed"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        echo "=== $name: FAILED"
    fi
}

build() {
    make -s clean >/dev/null && make -s WERROR=1 && make -s install >/dev/null &&
        make -s -C test/emulator >/dev/null
}

unit() {
    make -s -C test/unit check
}

emulator() {
    make -s -C test/emulator check
}

memcheck() {
    make -s -C test/unit valgrind && make -s -C test/emulator valgrind
}

fuzz() {
    # every libFuzzer target for 10 s (about a minute), failing on a finding
    make -s -C test/fuzz check
}

regress() {
    local env
    env=$(scripts/pgtmp.sh start "$work/pg") || return 1
    eval "$env"
    rm -rf results
    make -s regresscheck
    local rc=$?
    if [ $rc -ne 0 ] && [ -f regression.diffs ]; then
        head -200 regression.diffs
    fi
    scripts/pgtmp.sh stop "$work/pg"
    unset PGHOST PGPORT PGUSER PGDATABASE
    return $rc
}

tap() {
    # PostgreSQL::Test::Cluster runs initdb, which refuses root: run the
    # TAP tests as postgres in a copy of the tree.
    local copy=$work/tap
    mkdir -p "$copy"
    tar --exclude=.git --exclude=tmp_check -cf - . | tar -xf - -C "$copy"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$copy"
        runuser -u postgres -- make -s -C "$copy" tapcheck
    else
        make -s -C "$copy" tapcheck
    fi
}

bench_smoke() {
    test/bench/reporting.sh --smoke --tmp-cluster &&
        test/bench/remote/latency.sh --smoke --tmp-cluster &&
        test/bench/many/many.sh --smoke --tmp-cluster &&
        test/bench/sync/sync.sh --smoke --tmp-cluster
}

step build build || { echo "0 passed, 1 failed"; exit 1; }
step unit unit
step emulator emulator
step valgrind memcheck
step fuzz fuzz
step regress regress
step tap tap
step bench-smoke bench_smoke

echo
if [ $failed -gt 0 ]; then
    echo "failed steps: ${failed_steps[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
