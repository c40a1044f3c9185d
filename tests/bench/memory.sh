#!/usr/bin/env bash
# tests/bench/memory.sh - part of `make bench`: the agent's memory at rest,
# against the floor of its libraries (tests/bench/floor.c), in the same run.
#
# For each privacy mode, an agent with the three simulated plugins at real
# speed (a few readings a second, as in a boutique), connected to a real
# mosquitto, is left to settle for BENCH_SETTLE seconds (3), then its
# /proc figures are read: VmRSS, RssAnon (private memory: heap, stacks,
# what the plugins allocated) and Pss (its fair share of shared pages,
# from smaps_rollup). The floor program is measured the same way. Runs
# BENCH_RUNS times (3) and prints the minimum and the median of each, as a
# Markdown table, and "memory.<name> <value>" lines into $BENCH_OUT.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
runs=${BENCH_RUNS:-3}
settle=${BENCH_SETTLE:-3}
out=${BENCH_OUT:-/dev/null}

kb_of() { # pid field -> kB from /proc/PID/status or smaps_rollup
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" "/proc/$1/smaps_rollup" 2>/dev/null | head -1
}

measure() { # label pid -> "label vmrss rssanon pss" line
	echo "$1 $(kb_of "$2" VmRSS) $(kb_of "$2" RssAnon) $(kb_of "$2" Pss)"
}

# stats FILE LABEL COLUMN -> "min median"
stats() {
	awk -v l="$2" -v c="$3" '$1 == l { print $c }' "$1" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%d %d", v[1], v[int((NR + 1) / 2)]; else printf "- -" }'
}

samples="$T/memory.samples"
: >"$samples"
for run in $(seq 1 "$runs"); do
	"$O/bench/floor" >"$T/floor.out" 2>&1 &
	fpid=$!
	PIDS+=("$fpid")
	for mode in anonymous pseudonymous; do
		rm -rf "$T/agg" "$T/state" "$T"/*.conf
		PORT=$(free_port)
		start_broker "$PORT" >/dev/null
		PRIVACY_MODE=$mode setup_keys >/dev/null
		for p in footfall tablet rfid; do
			printf 'plugin %s\n%s.speed 1\n%s.start %sT12:00:00Z\n' "$p" "$p" "$p" "$(date -u +%F)"
		done >>"$T/agent.conf"
		"$AGENT" -c "$T/agent.conf" 2>"$T/agent-$mode.log" &
		apid=$!
		PIDS+=("$apid")
		sleep "$settle"
		measure "agent_$mode" "$apid" >>"$samples"
		kill "$apid" "$BROKER_PID" 2>/dev/null
		wait "$apid" "$BROKER_PID" 2>/dev/null
	done
	measure floor "$fpid" >>"$samples"
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
done

echo "| process (kB, min / median of $runs) | VmRSS | RssAnon | Pss |"
echo "|---|---|---|---|"
for l in floor agent_anonymous agent_pseudonymous; do
	printf '| %s |' "$l"
	for c in 2 3 4; do
		read -r mn md <<<"$(stats "$samples" "$l" "$c")"
		printf ' %s / %s |' "$mn" "$md"
		names=(x x vmrss_kb rssanon_kb pss_kb)
		echo "memory.${l}.${names[$c]} $md" >>"$out"
	done
	echo
done
read -r _ floor_rss <<<"$(stats "$samples" floor 2)"
for m in anonymous pseudonymous; do
	read -r _ rss <<<"$(stats "$samples" "agent_$m" 2)"
	read -r _ anon <<<"$(stats "$samples" "agent_$m" 3)"
	echo "agent ($m) over the floor: VmRSS +$((rss - floor_rss)) kB (target +512), RssAnon $anon kB (target < 1024)"
	echo "memory.agent_$m.over_floor_kb $((rss - floor_rss))" >>"$out"
done
