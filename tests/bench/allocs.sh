#!/usr/bin/env bash
# tests/bench/allocs.sh - part of `make bench`: heap allocations per
# reading on the agent's hot path (target: 0 after start-up).
#
# The agent runs with tests/bench/alloc_count.so preloaded, which counts
# malloc, calloc and realloc calls, twice per privacy mode: with the three
# simulated plugins emitting N1 and then N2 readings each, as fast as they
# can, against a real broker and aggregator, until everything is
# acknowledged (--exit-when-done). Start-up and shutdown cost the same in
# both runs, so (allocations of N2 - allocations of N1) / (readings of N2 -
# readings of N1) is what each reading costs; the same over frames says
# what each frame costs (libmosquitto copies each message it publishes,
# so a frame costs a few allocations whatever vitrine does). Prints a Markdown table and
# "allocs.<mode>.<name> <value>" lines into $BENCH_OUT.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
n1=${BENCH_ALLOC_N1:-20000}
n2=${BENCH_ALLOC_N2:-60000}
out=${BENCH_OUT:-/dev/null}
lib="$O/bench/alloc_count.so"
case "$lib" in /*) ;; *) lib="$PWD/$lib" ;; esac

# run MODE PER_PLUGIN -> "readings frames allocs bytes"
run() {
	rm -rf "$T/agg" "$T/state" "$T"/*.conf "$T/counts"
	PORT=$(free_port)
	start_broker "$PORT" >/dev/null
	PRIVACY_MODE=$1 setup_keys >/dev/null
	sim_plugins "$2" 3 >>"$T/agent.conf"
	start_aggregator
	# env, not timeout, gets the preload: only the agent is counted
	timeout 300 env VT_ALLOC_COUNT_FILE="$T/counts" LD_PRELOAD="$lib" \
		"$AGENT" -c "$T/agent.conf" --exit-when-done 2>"$T/agent.log"
	local n f
	n=$(grep -o 'stopped: [0-9]*' "$T/agent.log" | grep -o '[0-9]*$')
	f=$(sed -nE 's/.* ([0-9]+) frames sealed.*/\1/p' "$T/agent.log")
	kill "$AGG_PID" "$BROKER_PID" 2>/dev/null
	wait "$AGG_PID" "$BROKER_PID" 2>/dev/null
	echo "${n:-0} ${f:-0} $(awk '{ print $2, $4 }' "$T/counts" 2>/dev/null)"
}

echo "| mode | readings (run 1 / run 2) | allocations (run 1 / run 2) | allocations per reading | bytes per reading | allocations per frame |"
echo "|---|---|---|---|---|---|"
for mode in pseudonymous anonymous; do
	read -r r1 f1 a1 b1 <<<"$(run "$mode" "$n1")"
	read -r r2 f2 a2 b2 <<<"$(run "$mode" "$n2")"
	per=$(awk -v r1="$r1" -v r2="$r2" -v a1="$a1" -v a2="$a2" \
		'BEGIN { if (r2 > r1) printf "%.4f", (a2 - a1) / (r2 - r1); else print "-" }')
	bytes=$(awk -v r1="$r1" -v r2="$r2" -v a1="$b1" -v a2="$b2" \
		'BEGIN { if (r2 > r1) printf "%.1f", (a2 - a1) / (r2 - r1); else print "-" }')
	perf=$(awk -v f1="$f1" -v f2="$f2" -v a1="$a1" -v a2="$a2" \
		'BEGIN { if (f2 > f1) printf "%.1f", (a2 - a1) / (f2 - f1); else print "-" }')
	echo "| $mode | $r1 / $r2 | $a1 / $a2 | $per | $bytes | $perf |"
	echo "allocs.$mode.per_frame $perf" >>"$out"
	echo "allocs.$mode.per_reading $per" >>"$out"
	echo "allocs.$mode.bytes_per_reading $bytes" >>"$out"
done
