#!/bin/sh
# Run libFuzzer targets for a bounded time each; used by make check / long /
# run / regress.
#
#   ./run-fuzzers.sh SECONDS TARGET...      (SECONDS 0: only replay)
#
# Each target reads its seeds (corpus/TARGET, never written) and grows
# build/corpus/TARGET.  Findings go to crashes/TARGET-*; the full log of a
# run is build/logs/TARGET.log.  FUZZ_IGNORE (see fuzz_common.h) is passed
# on.  Prints one line per target: executions, final coverage (cov: edges,
# ft: features) and corpus size.  Then the reproducers kept in
# crashes/TARGET-* (local, not committed) are replayed: one that still fails
# counts as a finding until it is fixed.  Exits 1 if any target found
# something (or failed to run), after running them all.
set -u
cd "$(dirname "$0")" || exit 2

secs=$1
shift
mkdir -p build/logs crashes
# stacks in UBSan reports too
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS
status=0

fuzz() {
	t=$1
	case $t in
		fuzz_request | fuzz_emulator | fuzz_wire) dict=json.dict; max_len=16384 ;;
		fuzz_emulator_http) dict=http.dict; max_len=16384 ;;
		fuzz_fields) dict=fields.dict; max_len=4096 ;;
		*) dict=; max_len=8192 ;;
	esac
	mkdir -p "build/corpus/$t"
	log=build/logs/$t.log
	# -error_exitcode: crash, leak, UBSan, failed check; -timeout_exitcode:
	# an input running over 10 s; out-of-memory exits non-zero too.
	./build/"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max_len" -error_exitcode=77 -timeout_exitcode=78 \
		-print_final_stats=1 -artifact_prefix="crashes/$t-" \
		${dict:+-dict="$dict"} "build/corpus/$t" "corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -a -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		verdict=ok
	else
		verdict="FAILED (exit $rc)"
		status=1
	fi
	printf '%-20s %4ss  execs: %-10s cov: %-6s ft: %-7s corp: %-12s %s\n' \
		"$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict"
	printf '%-20s        final: %s\n' "" "$last"
	if [ "$rc" -ne 0 ]; then
		echo "---- $log (tail) ----"
		grep -a -vE '^#[0-9]+' "$log" | tail -n 60
		echo "---- artifacts: $(ls crashes/"$t"-* 2>/dev/null | tr '\n' ' ')"
	fi
}

replay() {
	t=$1
	for f in crashes/"$t"-*; do
		[ -f "$f" ] || continue
		if ./build/"$t" "$f" >build/logs/replay.log 2>&1; then
			printf '%-20s        replay %s: passes\n' "$t" "$f"
		else
			printf '%-20s        replay %s: FAILS: %s\n' "$t" "$f" \
				"$(grep -a -m 1 -E 'FUZZ CHECK FAILED|runtime error|ERROR: (Address|Leak)Sanitizer|ERROR: libFuzzer' build/logs/replay.log)"
			status=1
		fi
	done
}

for t in "$@"; do
	[ "$secs" -gt 0 ] && fuzz "$t"
	replay "$t"
done
exit $status
