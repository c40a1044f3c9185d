#!/usr/bin/env bash
# tests/run.sh - run the whole suite: unit and plugin test binaries, fuzz
# corpus replays, integration scripts, fault scripts. Every test prints "PASS name",
# "FAIL name: why" or "SKIP name: why"; this script counts them and ends with
# "N passed, N failed[, N skipped]", exiting non-zero on any failure.
#
# Environment: O (build directory, default build/host), TESTS (a grep -E
# pattern to run only matching test programs/scripts), VT_LONG=1 (the long
# versions of the fault tests: make test-long), VT_TEST_JOBS (how many
# integration and fault scripts run at once, default 2: most of their time
# is spent waiting on processes; 1 runs them one after the other). Fault
# tests also print "COUNTS ..." lines (emitted / delivered / duplicated /
# dropped), shown too. Results are printed in the same order whatever the
# number of jobs. VT_EXEC is a command that runs the test programs and
# corpus replays (make test-emulated: qemu-aarch64 -L <sysroot>).
set -u
cd "$(dirname "$0")/.."
O=${O:-build/host}
export O VT_ROOT=$PWD
pattern=${TESTS:-.}
log=$O/test-logs
mkdir -p "$log"
jobs=${VT_TEST_JOBS:-2}
passed=0 failed=0 skipped=0
[ -s "$log/times.txt" ] && cp "$log/times.txt" "$log/times.prev"
: >"$log/times.txt"
failed_names=()
failed_checks=()	# "[name] FAIL ..." lines, repeated at the end

# exec_one NAME COMMAND...: run it, its output in $log/NAME.{out,err}, its
# status in $log/NAME.rc and its duration in times.txt.
exec_one() {
	local name=$1; shift
	local start=$SECONDS
	"$@" >"$log/$name.out" 2>"$log/$name.err"
	echo $? >"$log/$name.rc"
	echo "$((SECONDS - start)) $name" >>"$log/times.txt"
}

# report_one NAME: print and count what NAME said.
report_one() {
	local name=$1
	local out="$log/$name.out"
	local rc
	rc=$(cat "$log/$name.rc" 2>/dev/null || echo 255)
	local p f s
	p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out"); s=$(grep -c '^SKIP ' "$out")
	grep -E '^(PASS|FAIL|SKIP|COUNTS) ' "$out" | sed "s/^/  [$name] /"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "  [$name] FAIL $name: exited with status $rc (see $log/$name.err)"
		failed_checks+=("[$name] FAIL $name: exited with status $rc")
		f=1
	fi
	if [ "$f" != 0 ]; then
		failed_names+=("$name")
		mapfile -t -O "${#failed_checks[@]}" failed_checks < <(grep '^FAIL ' "$out" | sed "s/^/[$name] /")
		tail -n 20 "$log/$name.err" | sed "s/^/    | /"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

run_one() { # name, command...
	exec_one "$@"
	report_one "$1"
}

# The scripts, longest first (by the previous run's times) so that jobs
# end together; each job gets its own range of ports (VT_PORT_SLOT, see
# free_port in tests/integration/lib.sh).
script_order() {
	local s n t
	for s in "$@"; do
		n=$(basename "$s" .sh)
		t=$(awk -v n="$n" '$2 == n { print $1 }' "$log/times.prev" 2>/dev/null)
		echo "${t:-0} $s"
	done | sort -rn -k1,1 | cut -d' ' -f2
}

for t in "$O"/tests/*_test; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	echo "$n" | grep -qE "$pattern" || continue
	run_one "$n" ${VT_EXEC:-} "$t"
done
for r in "$O"/tests/fuzz_*_replay; do
	[ -x "$r" ] || continue
	n=$(basename "$r")
	echo "$n" | grep -qE "$pattern" || continue
	corpus=tests/fuzz/corpus/${n#fuzz_}; corpus=${corpus%_replay}
	run_one "$n" ${VT_EXEC:-} "$r" "$corpus"
done
scripts=()
for s in tests/integration/*.sh tests/fault/*.sh; do
	[ -f "$s" ] || continue
	echo "$(basename "$s" .sh)" | grep -qE "$pattern" && scripts+=("$s")
done
slots=()
for s in $(script_order "${scripts[@]}"); do
	n=$(basename "$s" .sh)
	slot=""
	while [ -z "$slot" ]; do
		for k in $(seq 0 $((jobs - 1))); do
			if [ -z "${slots[$k]:-}" ] || ! kill -0 "${slots[$k]}" 2>/dev/null; then
				slot=$k
				break
			fi
		done
		[ -n "$slot" ] || wait -n 2>/dev/null || sleep 0.2
	done
	VT_PORT_SLOT=$slot exec_one "$n" bash "$s" &
	slots[$slot]=$!
done
wait
for s in "${scripts[@]}"; do
	report_one "$(basename "$s" .sh)"
done

# The failures again, last: a CI log is often read from its end.
for c in "${failed_checks[@]:0:20}"; do echo "  $c"; done
[ ${#failed_checks[@]} -le 20 ] || echo "  ... and $((${#failed_checks[@]} - 20)) more failed checks above"
[ ${#failed_names[@]} -eq 0 ] || echo "failing: ${failed_names[*]} (logs in $log)"
echo "slowest (s): $(sort -rn "$log/times.txt" | head -n 6 | tr '\n' ' ')"
summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
