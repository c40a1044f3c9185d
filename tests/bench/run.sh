#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: end-to-end figures with the real
# binaries, a real mosquitto and SQLite on disk, for BENCH_READINGS
# simulated readings (default 1,000,002: 333,334 per plugin) at batch sizes
# 10, 100 and 1000, and 10 again with a zstd dictionary trained on batches
# of another seed (bench_dict). Prints, per batch size: agent and aggregator CPU per
# reading (getrusage / /proc), bytes on the wire per reading (sealed frame
# bytes, MQTT header not included), frames per second (wall clock, from
# agent start to the last reading stored), and what the spool costs the
# SD card: bytes appended per reading, fsyncs per 1000 readings, and an
# upper estimate of the bytes the card writes per reading (appended bytes
# plus one 4 KiB page per fsync; file-system journal not counted).
# Then the other parts: the agent's pipeline alone, in process (hot_path.c,
# with callgrind's instruction count and a Pi Zero 2 W estimate), the same
# readings as one JSON message each (the
# baseline of a naive agent, json_pub.c), sizes (stripped binaries),
# memory at rest against
# the floor of the libraries (memory.sh) and heap allocations per reading
# (allocs.sh). Everything printed is Markdown, kept in
# $O/bench/results.md; the figures are also in $O/bench/results.json, and
# tests/bench/chart.sh draws bytes and CPU per reading against the batch
# size, vitrine against JSON, in $O/bench/chart.svg.
# Figures, not assertions.
set -u
cd "$(dirname "$0")/../.."
if [ -z "${BENCH_TEE:-}" ]; then	# once: keep what is printed
	mkdir -p "${O:-build/host}/bench"
	BENCH_TEE=1 "$0" "$@" | tee "${O:-build/host}/bench/results.md"
	exit "${PIPESTATUS[0]}"
fi
. tests/integration/lib.sh
. tests/bench/collectd.sh
BENCH_OUT="$O/bench/results.txt"
export BENCH_OUT
: >"$BENCH_OUT"
total=${BENCH_READINGS:-1000002}
per=$(( (total + 2) / 3 ))
ticks=$(getconf CLK_TCK)

cpu_of() { # pid -> seconds of user+system CPU so far
	awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$1/stat"
}

# Bytes of the MQTT PUBLISH around each frame (QoS 1): fixed header (1 +
# remaining length, 3 bytes for 16 KiB to 2 MiB; 2 for smaller frames,
# counted as 3 here), topic length and topic, packet id.
topic_len=$(printf 'vitrine/v1/%s/%s/data' "${SITE:-cannes-croisette}" "${DEVICE:-pi-01}" | wc -c)
mqtt_per_frame=$((1 + 3 + 2 + topic_len + 2))

# e2e_run BATCH: one run of the whole pipeline; prints "readings frames
# sealed_bytes agent_cpu_s aggregator_cpu_s wall_s spooled_bytes fsyncs".
e2e_run() {
	local batch=$1 t0 t1 n line
	rm -rf "$T/agg" "$T/state" "$T"/*.conf "$T"/*.log
	PORT=$(free_port)
	start_broker "$PORT" >/dev/null
	BATCH=$batch setup_keys >/dev/null
	echo "max_inflight 200" >>"$T/agent.conf"
	sim_plugins "$per" 1 >>"$T/agent.conf"
	sed -i 's/^\(.*\)\.limit .*/&\n\1.burst 2000/' "$T/agent.conf"
	if [ -n "${E2E_DICT:-}" ]; then	# both ends hold the dictionary
		mkdir -p "$T/agg/dicts" && cp "$E2E_DICT" "$T/agg/dicts/"
		echo "dictionaries $T/agg/dicts" >>"$T/aggregator.conf"
		echo "zstd_dictionary $E2E_DICT" >>"$T/agent.conf"
	fi
	start_aggregator
	sleep 0.3
	t0=$(date +%s.%N)
	"$AGENT" -c "$T/agent.conf" --exit-when-done 2>"$T/agent.log"
	n=$(grep -o 'stopped: [0-9]*' "$T/agent.log" | grep -o '[0-9]*$')
	wait_for 6000 '[ "$(db_count)" -ge "$n" ]'
	t1=$(date +%s.%N)
	line=$(grep 'stopped:' "$T/agent.log")
	echo "$n $(sed -E 's/.* ([0-9]+) frames sealed.*/\1/' <<<"$line")" \
		"$(sed -E 's/.*sealed \(([0-9]+) bytes\).*/\1/' <<<"$line")" \
		"$(sed -E 's/.*cpu ([0-9.]+) s.*/\1/' <<<"$line") $(cpu_of "$AGG_PID")" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
		"$(sed -E 's/.*spooled \(([0-9]+) bytes.*/\1/' <<<"$line")" \
		"$(sed -E 's/.* ([0-9]+) fsyncs.*/\1/' <<<"$line")"
	kill "$AGG_PID" "$BROKER_PID" 2>/dev/null
	wait "$AGG_PID" "$BROKER_PID" 2>/dev/null
}

# bench_dict: a zstd dictionary for batch 10 in $T/bench.zdict, trained
# (vitrine-ctl train-dict) on 2000 batches that the aggregator kept from a
# run of another seed (2) than the measured runs (1).
bench_dict() {
	rm -rf "$T/agg" "$T/state" "$T/samples" "$T"/*.conf "$T"/*.log
	mkdir -p "$T/samples"
	PORT=$(free_port)
	start_broker "$PORT" >/dev/null
	BATCH=10 setup_keys >/dev/null
	printf 'sample_dir %s\nsample_frames 2000\n' "$T/samples" >>"$T/aggregator.conf"
	sim_plugins 8000 2 >>"$T/agent.conf"
	start_aggregator
	"$AGENT" -c "$T/agent.conf" --exit-when-done 2>"$T/agent.log"
	kill "$AGG_PID" "$BROKER_PID" 2>/dev/null
	wait "$AGG_PID" "$BROKER_PID" 2>/dev/null
	"$O/vitrine-ctl" train-dict -o "$T/bench.zdict" "$T/samples" 2>"$T/train.log"
}

# Each batch size BENCH_E2E_RUNS times (default 3): CPU and frames per
# second as min / median, as the machine is shared; the bytes are the same
# in every run (same seed), those of the first are printed.
runs=${BENCH_E2E_RUNS:-3}
echo "## Pipeline, end to end ($(date -u +%F), $(nproc) cores, min / median of $runs runs)"
echo
echo "| batch | readings | frames | agent µs/reading | aggregator µs/reading | bytes/reading | frames/s | spool B/reading | fsyncs/1000 readings | SD card B/reading |"
echo "|---|---|---|---|---|---|---|---|---|---|"
bench_dict
for spec in 10 100 1000 10+dict; do
	batch=${spec%+dict}
	dict=""
	[ "$spec" != "$batch" ] && dict=$T/bench.zdict
	for _ in $(seq 1 "$runs"); do E2E_DICT=$dict e2e_run "$batch"; done >"$T/e2e.$spec"
	awk -v out="$BENCH_OUT" -v b="$batch" -v key="${spec/+/_}" -v mq="$mqtt_per_frame" '
	function med(a, k) { return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
	function sort_(a, k,    i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
		t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
	{ k++; ac[k] = $4 * 1e6 / $1; gc[k] = $5 * 1e6 / $1; fps[k] = $2 / $6
	  if (k == 1) { n = $1; f = $2; by = $3; sp = $7; fs = $8 } }
	END {
		sort_(ac, k); sort_(gc, k); sort_(fps, k)
		printf "| %s | %d | %d | %.2f / %.2f | %.2f / %.2f | %.1f | %.0f / %.0f | %.1f | %.2f | %.1f |\n", key == b ? b : b " + dictionary", n, f,
			ac[1], med(ac, k), gc[1], med(gc, k), by / n, fps[k], med(fps, k), sp / n, fs * 1000 / n,
			(sp + fs * 4096) / n
		printf "pipeline.batch%s.agent_us_per_reading %.3f\n", key, med(ac, k) >>out
		printf "pipeline.batch%s.agent_us_per_reading_min %.3f\n", key, ac[1] >>out
		printf "pipeline.batch%s.aggregator_us_per_reading %.3f\n", key, med(gc, k) >>out
		printf "pipeline.batch%s.aggregator_us_per_reading_min %.3f\n", key, gc[1] >>out
		printf "pipeline.batch%s.frames_per_s_median %.0f\n", key, med(fps, k) >>out
		printf "pipeline.batch%s.bytes_per_reading %.2f\n", key, by / n >>out
		printf "pipeline.batch%s.wire_bytes_per_reading %.2f\n", key, (by + f * mq) / n >>out }' "$T/e2e.$spec"
done
echo
echo "frames/s: best / median (the best is the highest). \"10 + dictionary\": batch 10 with a"
echo "zstd dictionary of $(stat -c %s "$T/bench.zdict" 2>/dev/null || echo '?') bytes, trained by vitrine-ctl train-dict on 2000 batches of another seed."
awk '$1 == "pipeline.batch10_dict.wire_bytes_per_reading" { d = $2 } $1 == "pipeline.batch10.wire_bytes_per_reading" { t = $2 }
	$1 == "pipeline.batch1000.wire_bytes_per_reading" { k = $2 }
	END { if (d && k) { printf "batch 10 / batch 1000, wire bytes: %.2fx without a dictionary, %.2fx with one (target <= 2x: %s)\n", t / k, d / k, d / k <= 2 ? "met" : "NOT met"
		printf "ratio.batch10_dict_over_batch1000 %.4f\nratio.batch10_over_batch1000 %.4f\n", d / k, t / k >>ENVIRON["BENCH_OUT"] } }' "$BENCH_OUT"

echo
echo "## Hot path, in process: plugin to sealed frame"
echo
# tests/bench/hot_path.c drives the agent's pipeline directly (validate,
# privacy in pseudonymous mode, batch of 1000, protobuf, zstd, seal, spool
# append on a tmpfs): no simulation, broker or poll loop. CPU time per
# reading over BENCH_RUNS runs; instructions per reading from callgrind,
# as the difference between two runs of different sizes (start-up cancels).
hp_dir=$(mktemp -d /dev/shm/vitrine-hp-XXXXXX 2>/dev/null || mktemp -d "$T/hp-XXXXXX")
hp=$("$O/bench/hot_path" "${BENCH_HOT_READINGS:-300000}" "${BENCH_RUNS:-5}" "$hp_dir")
rm -rf "$hp_dir"
read -r hp_n hp_f hp_b hp_min hp_med <<<"$(awk '{ print $3, $5, $7, $9, $11 }' <<<"$hp")"
ir=""
if command -v valgrind >/dev/null; then
	irs=()
	for n in 20000 60000; do
		d=$(mktemp -d /dev/shm/vitrine-hp-XXXXXX 2>/dev/null || mktemp -d "$T/hp-XXXXXX")
		irs+=("$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$O/bench/hot_path" "$n" 1 "$d" 2>&1 |
			sed -nE 's/.*Collected : ([0-9]+).*/\1/p')")
		rm -rf "$d"
	done
	ir=$(( (irs[1] - irs[0]) / 40000 ))
fi
echo "| readings | frames | sealed bytes/reading | CPU µs/reading (min / median of ${BENCH_RUNS:-5}) | instructions/reading (x86-64) |"
echo "|---|---|---|---|---|"
awk -v f="$hp_f" -v n="$hp_n" -v b="$hp_b" -v mn="$hp_min" -v md="$hp_med" -v ir="${ir:--}" \
	'BEGIN { printf "| %d | %d | %.2f | %.3f / %.3f (target <= 0.5) | %s |\n", n, f, b / n, mn, md, ir }'
{
	echo "hot_path.us_per_reading_min $hp_min"
	echo "hot_path.us_per_reading_median $hp_med"
	echo "hot_path.sealed_bytes_per_reading $(awk -v n="$hp_n" -v b="$hp_b" 'BEGIN { printf "%.2f", b / n }')"
	[ -n "$ir" ] && echo "hot_path.instructions_per_reading $ir"
} >>"$BENCH_OUT"
if [ -n "$ir" ]; then
	# A Pi Zero 2 W: four Cortex-A53 at 1 GHz, in order, dual issue. For
	# this integer code (SHA-256, zstd, protobuf) take 0.7 to 1.0
	# instructions per cycle, and AArch64 needing about as many
	# instructions as x86-64 (no SHA or crypto extensions used by
	# mbedTLS 2.28): an estimate, not a measurement.
	awk -v ir="$ir" 'BEGIN {
		lo = ir / 1.0 / 1000; hi = ir / 0.7 / 1000	# µs per reading at 1 GHz
		printf "\nPi Zero 2 W estimate (1 GHz Cortex-A53, 0.7-1.0 instructions per cycle): %.1f-%.1f µs per reading;\n", lo, hi
		printf "one core busy %.2f-%.2f %% at 100 readings/s, %.0f-%.0f %% at 10,000 readings/s\n",
			lo * 100 / 1e4, hi * 100 / 1e4, lo * 1e4 / 1e4, hi * 1e4 / 1e4 }'
	awk -v ir="$ir" 'BEGIN { printf "pi_zero_2w.us_per_reading_estimate %.1f\n", ir / 0.85 / 1000 }' >>"$BENCH_OUT"
fi

echo
echo "## Side by side: one JSON message per reading, and collectd"
echo
# The same readings (the agent's --tap, pseudonymous mode, batch 1000)
# published by tests/bench/json_pub.c as one JSON message each, QoS 1, to
# the same broker, then fed to collectd's mqtt plugin as one value each
# (tests/bench/collectd.sh). Bytes count whole MQTT PUBLISH packets.
rm -rf "$T/agg" "$T/state" "$T"/*.conf "$T"/*.log "$T/tap.csv"
PORT=$(free_port)
start_broker "$PORT" >/dev/null
BATCH=1000 setup_keys >/dev/null
sim_plugins "${BENCH_JSON_PER:-33334}" 2 >>"$T/agent.conf"
start_aggregator
"$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/agent.log"
line=$(grep 'stopped:' "$T/agent.log")
n=$(grep -o 'stopped: [0-9]*' <<<"$line" | grep -o '[0-9]*$')
frames=$(sed -E 's/.* ([0-9]+) frames sealed.*/\1/' <<<"$line")
bytes=$(sed -E 's/.*sealed \(([0-9]+) bytes\).*/\1/' <<<"$line")
agent_cpu=$(sed -E 's/.*cpu ([0-9.]+) s.*/\1/' <<<"$line")
json=$("$O/bench/json_pub" 127.0.0.1 "$PORT" "$T/tap.csv")
read -r jn jcpu jwire <<<"$(awk '{ print $3, $5, $9 }' <<<"$json")"
kill "$AGG_PID" 2>/dev/null
wait "$AGG_PID" 2>/dev/null
awk -v out="$BENCH_OUT" -v n="$n" -v f="$frames" -v by="$bytes" -v ac="$agent_cpu" -v tl="$topic_len" \
	-v jn="$jn" -v jc="$jcpu" -v jw="$jwire" 'BEGIN {
	# PUBLISH, QoS 1: fixed header (1 + remaining length: 3 bytes for a
	# frame of 16 KiB to 2 MiB), topic length and topic, packet id
	vw = by + f * (1 + 3 + 2 + tl + 2)	# as mqtt_per_frame above
	printf "| publisher | readings | messages | CPU µs/reading | bytes on the wire/reading (MQTT included) |\n"
	printf "|---|---|---|---|---|\n"
	printf "| vitrine-agent, batch 1000 (simulation, privacy, spool included) | %d | %d | %.2f | %.1f |\n", n, f, ac * 1e6 / n, vw / n
	printf "| JSON, one message per reading | %d | %d | %.2f | %.1f |\n", jn, jn, jc * 1e6 / jn, jw / jn
	printf "baseline.json.cpu_us_per_reading %.3f\nbaseline.json.bytes_per_reading %.2f\n", jc * 1e6 / jn, jw / jn >>out
	printf "vitrine.batch1000.wire_bytes_per_reading %.2f\n", vw / n >>out
	printf "vitrine.batch1000.cpu_us_per_reading %.3f\n", ac * 1e6 / n >>out
	printf "ratio.bytes_vitrine_over_json %.4f\nratio.cpu_vitrine_over_json %.4f\n", (vw / n) / (jw / jn), (ac / n) / (jc / jn) >>out }'
collectd_baseline "$T/tap.csv" "$PORT"
kill "$BROKER_PID" 2>/dev/null
wait "$BROKER_PID" 2>/dev/null
# The ratios, from the figures just written.
awk '{ f[$1] = $2 } END {
	vc = f["ratio.cpu_vitrine_over_json"]; vb = f["ratio.bytes_vitrine_over_json"]
	printf "\nvitrine / JSON: %.2fx the CPU, %.3fx the bytes (%.0f times fewer)\n", vc, vb, 1 / vb
	if (f["baseline.collectd.messages"] > 0) {
		w = f["vitrine.batch1000.wire_bytes_per_reading"]
		cb = w / f["baseline.collectd.bytes_per_value"]
		cc = f["vitrine.batch1000.cpu_us_per_reading"] / f["baseline.collectd.cpu_us_per_value"]
		printf "vitrine / collectd: %.2fx the CPU, %.3fx the bytes (%.0f times fewer)\n", cc, cb, 1 / cb
		printf "ratio.bytes_vitrine_over_collectd %.4f\nratio.cpu_vitrine_over_collectd %.4f\n", cb, cc >>ENVIRON["BENCH_OUT"]
	} }' "$BENCH_OUT"

echo
echo "## Sizes (stripped, this build: $(uname -m))"
echo
echo "| file | bytes |"
echo "|---|---|"
total=0
for f in "$AGENT" "$PLUGIN_DIR"/*.so; do
	strip -o "$T/stripped" "$f" && sz=$(stat -c %s "$T/stripped")
	total=$((total + sz))
	echo "| $(basename "$f") | $sz |"
done
echo "| agent and plugins | $total |"
echo "size.agent_and_plugins_stripped_bytes $total" >>"$BENCH_OUT"

# The same for each cross-built board found under build/ (make BOARD=...),
# stripped with that board's own strip: the arm64 target is < 400 KB.
for mk in boards/*/board.mk; do
	board=$(basename "$(dirname "$mk")")
	cross=$(sed -n 's/^CROSS_COMPILE ?= *//p' "$mk")
	[ -n "$cross" ] && [ -x "build/$board/vitrine-agent" ] || continue
	command -v "${cross}strip" >/dev/null || continue
	echo
	echo "### $board (build/$board, ${cross}strip)"
	echo
	echo "| file | bytes |"
	echo "|---|---|"
	total=0
	for f in "build/$board/vitrine-agent" "build/$board/plugins"/*.so; do
		"${cross}strip" -o "$T/stripped" "$f" && sz=$(stat -c %s "$T/stripped")
		total=$((total + sz))
		echo "| $(basename "$f") | $sz |"
	done
	target=""
	[ "$board" = rpi4-arm64 ] && target=" (target: < 400 KB = 409600: $([ "$total" -lt 409600 ] && echo met || echo NOT met))"
	echo "| agent and plugins | $total$target |"
	echo "size.${board//-/_}.agent_and_plugins_stripped_bytes $total" >>"$BENCH_OUT"
done

echo
echo "## Memory at rest"
echo
bash tests/bench/memory.sh
echo
echo "## Heap allocations on the hot path"
echo
bash tests/bench/allocs.sh

# results.json: the "name value" lines as one JSON object
awk 'BEGIN { printf "{" } { printf "%s\n  \"%s\": %s", (NR > 1 ? "," : ""), $1,
	($2 ~ /^-?[0-9.]+$/ ? $2 : "null") } END { print "\n}" }' "$BENCH_OUT" >"$O/bench/results.json"
bash tests/bench/chart.sh "$BENCH_OUT" "$O/bench/chart.svg"
echo
echo "figures: $O/bench/results.md, $O/bench/results.json and the chart $O/bench/chart.svg"
