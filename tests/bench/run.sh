#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: end-to-end figures with the real
# binaries, a real mosquitto and SQLite on disk, for BENCH_READINGS
# simulated readings (default 1,000,002: 333,334 per plugin) at batch sizes
# 10, 100 and 1000. Prints, per batch size: agent and aggregator CPU per
# reading (getrusage / /proc), bytes on the wire per reading (sealed frame
# bytes, MQTT header not included), frames per second (wall clock, from
# agent start to the last reading stored), and what the spool costs the
# SD card: bytes appended per reading, fsyncs per 1000 readings, and an
# upper estimate of the bytes the card writes per reading (appended bytes
# plus one 4 KiB page per fsync; file-system journal not counted).
# Figures, not assertions.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
total=${BENCH_READINGS:-1000002}
per=$(( (total + 2) / 3 ))
ticks=$(getconf CLK_TCK)

cpu_of() { # pid -> seconds of user+system CPU so far
	awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$1/stat"
}

printf '%-6s %10s %9s %12s %12s %10s %10s %12s %12s %12s\n' batch readings frames agent_us/rd \
	agg_us/rd bytes/rd frames/s spool_B/rd fsync/1000rd card_B/rd
for batch in 10 100 1000; do
	rm -rf "$T/agg" "$T/state" "$T"/*.conf "$T"/*.log
	PORT=$(free_port)
	start_broker "$PORT" >/dev/null
	BATCH=$batch setup_keys >/dev/null
	echo "max_inflight 200" >>"$T/agent.conf"
	sim_plugins "$per" 1 >>"$T/agent.conf"
	sed -i 's/^\(.*\)\.limit .*/&\n\1.burst 2000/' "$T/agent.conf"
	start_aggregator
	sleep 0.3
	t0=$(date +%s.%N)
	"$AGENT" -c "$T/agent.conf" --exit-when-done 2>"$T/agent.log"
	n=$(grep -o 'stopped: [0-9]*' "$T/agent.log" | grep -o '[0-9]*$')
	wait_for 6000 '[ "$(db_count)" -ge "$n" ]'
	t1=$(date +%s.%N)
	agg_cpu=$(cpu_of "$AGG_PID")
	line=$(grep 'stopped:' "$T/agent.log")
	frames=$(sed -E 's/.* ([0-9]+) frames sealed.*/\1/' <<<"$line")
	bytes=$(sed -E 's/.*sealed \(([0-9]+) bytes\).*/\1/' <<<"$line")
	agent_cpu=$(sed -E 's/.*cpu ([0-9.]+) s.*/\1/' <<<"$line")
	spooled=$(sed -E 's/.*spooled \(([0-9]+) bytes.*/\1/' <<<"$line")
	fsyncs=$(sed -E 's/.* ([0-9]+) fsyncs.*/\1/' <<<"$line")
	awk -v b="$batch" -v n="$n" -v f="$frames" -v ac="$agent_cpu" -v gc="$agg_cpu" \
		-v by="$bytes" -v t0="$t0" -v t1="$t1" -v sp="$spooled" -v fs="$fsyncs" 'BEGIN {
		printf "%-6d %10d %9d %12.2f %12.2f %10.1f %10.0f %12.1f %12.2f %12.1f\n", b, n, f,
			ac * 1e6 / n, gc * 1e6 / n, by / n, f / (t1 - t0), sp / n, fs * 1000 / n,
			(sp + fs * 4096) / n }'
	kill "$AGG_PID" "$BROKER_PID" 2>/dev/null
	wait "$AGG_PID" "$BROKER_PID" 2>/dev/null
done
