#!/usr/bin/env bash
# tests/run.sh - run the whole suite: unit and plugin test binaries, fuzz
# corpus replays, integration scripts, fault scripts. Every test prints "PASS name",
# "FAIL name: why" or "SKIP name: why"; this script counts them and ends with
# "N passed, N failed[, N skipped]", exiting non-zero on any failure.
#
# Environment: O (build directory, default build/host), TESTS (a grep -E
# pattern to run only matching test programs/scripts), VT_LONG=1 (the long
# versions of the fault tests: make test-long). Fault tests also print
# "COUNTS ..." lines (emitted / delivered / duplicated / dropped), shown too.
set -u
cd "$(dirname "$0")/.."
O=${O:-build/host}
export O VT_ROOT=$PWD
pattern=${TESTS:-.}
log=$O/test-logs
mkdir -p "$log"
passed=0 failed=0 skipped=0
: >"$log/times.txt"
failed_names=()

run_one() { # name, command...
	local name=$1; shift
	local out="$log/$name.out"
	local start=$SECONDS
	"$@" >"$out" 2>"$log/$name.err"
	local rc=$?
	echo "$((SECONDS - start)) $name" >>"$log/times.txt"
	local p f s
	p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out"); s=$(grep -c '^SKIP ' "$out")
	grep -E '^(PASS|FAIL|SKIP|COUNTS) ' "$out" | sed "s/^/  [$name] /"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "  [$name] FAIL $name: exited with status $rc (see $log/$name.err)"
		f=1
	fi
	if [ "$f" != 0 ]; then
		failed_names+=("$name")
		tail -n 20 "$log/$name.err" | sed "s/^/    | /"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for t in "$O"/tests/*_test; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	echo "$n" | grep -qE "$pattern" || continue
	run_one "$n" "$t"
done
for r in "$O"/tests/fuzz_*_replay; do
	[ -x "$r" ] || continue
	n=$(basename "$r")
	echo "$n" | grep -qE "$pattern" || continue
	corpus=tests/fuzz/corpus/${n#fuzz_}; corpus=${corpus%_replay}
	run_one "$n" "$r" "$corpus"
done
for s in tests/integration/*.sh tests/fault/*.sh; do
	[ -f "$s" ] || continue
	n=$(basename "$s" .sh)
	echo "$n" | grep -qE "$pattern" || continue
	run_one "$n" bash "$s"
done

[ ${#failed_names[@]} -eq 0 ] || echo "failing: ${failed_names[*]} (logs in $log)"
echo "slowest (s): $(sort -rn "$log/times.txt" | head -n 6 | tr '\n' ' ')"
summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
