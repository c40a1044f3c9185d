# footfall_sources.sh - the footfall plugin's real sources in the real
# agent, with a real broker and aggregator:
#  - footfall.source gpio with a replayed recording (bounce, a U-turn, a
#    beam stuck for minutes): the expected in/out counts reach the
#    aggregator's database, the stuck beam is logged once;
#  - footfall.source gpio with libgpiod and a chip that does not exist: the
#    error names chip, line and key, the agent keeps running and its
#    retained status says the plugin is degraded;
#  - footfall.source counter over TCP: valid lines become readings, garbage
#    lines are counted and dropped by reason, the agent keeps running.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT" || { fail footfall_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
setup_keys
start_aggregator

# sum_people DIRECTION: people stored through all doors in that direction.
sum_people() {
	sqlite3 "$T/agg/vitrine.db" \
		"select coalesce(sum(count), 0) from footfall where direction in ($1)" 2>/dev/null || echo 0
}
IN="1, 'in'"
OUT="2, 'out'"

# ---- GPIO, replayed ------------------------------------------------------
# Door 1: beam A = line 17, beam B = line 27 of gpiochip0; a broken beam
# pulls its line low. Two people in (the first with a bouncing beam A), one
# out, a U-turn, beam A blocked for 4 minutes while others squeeze past on
# beam B.
{
	echo "chip gpiochip0 54"
	echo "1000000 gpiochip0 17 falling"
	echo "1000030 gpiochip0 17 rising"
	echo "1000600 gpiochip0 17 falling"
	echo "1080000 gpiochip0 27 falling"
	echo "1400000 gpiochip0 17 rising"
	echo "1480000 gpiochip0 27 rising"
	echo "3000000 gpiochip0 17 falling"
	echo "3070000 gpiochip0 27 falling"
	echo "3350000 gpiochip0 17 rising"
	echo "3420000 gpiochip0 27 rising"
	echo "5000000 gpiochip0 27 falling"
	echo "5090000 gpiochip0 17 falling"
	echo "5400000 gpiochip0 27 rising"
	echo "5490000 gpiochip0 17 rising"
	echo "7000000 gpiochip0 17 falling"
	echo "7300000 gpiochip0 17 rising"
	echo "10000000 gpiochip0 17 falling"
	for i in $(seq 0 59); do
		t=$((20000000 + i * 3000000))
		echo "$t gpiochip0 27 falling"
		echo "$((t + 300000)) gpiochip0 27 rising"
	done
	echo "250000000 gpiochip0 17 rising"
	echo "end 260000000"
} >"$T/door.replay"

cp "$T/agent.conf" "$T/replay.conf"
cat >>"$T/replay.conf" <<CONF
plugin footfall
footfall.source gpio
footfall.door1 gpiochip0 17 27
footfall.gpio_replay $T/door.replay
footfall.start 2026-11-25T09:00:00Z
footfall.speed 0
CONF
timeout 20 "$AGENT" -c "$T/replay.conf" --tap "$T/replay.csv" --exit-when-done 2>"$T/replay.log"
rc=$?
check gpio_replay_agent_exits_when_the_recording_ends [ "$rc" = 0 ]
check gpio_replay_agent_emits_three_passes [ "$(wc -l <"$T/replay.csv")" = 3 ]
wait_for 50 '[ "$(db_count)" -ge 3 ]'
check gpio_replay_two_in_stored [ "$(sum_people "$IN")" = 2 ]
check gpio_replay_one_out_stored [ "$(sum_people "$OUT")" = 1 ]
check gpio_replay_stuck_beam_logged_once \
	[ "$(grep -c 'door 1 beam A blocked for more than 120000 ms' "$T/replay.log")" = 1 ]
check gpio_replay_uturn_counted grep -q 'stopping: 3 passes, 1 U-turns, 1 stuck beams' "$T/replay.log"

# ---- GPIO through libgpiod, on a chip that does not exist ----------------
cp "$T/agent.conf" "$T/nochip.conf"
cat >>"$T/nochip.conf" <<CONF
status_interval_s 1
plugin footfall
footfall.source gpio
footfall.door2 gpiochip77 17 27
CONF
"$AGENT" -c "$T/nochip.conf" 2>"$T/nochip.log" &
pid=$!
PIDS+=("$pid")
status_topic="vitrine/v1/cannes-croisette/${DEVICE:-pi-01}/status"
wait_for 50 'grep -q "source failed" "$T/nochip.log"'
check gpiod_missing_chip_named_with_key_to_check grep -q \
	'beam source "gpio" cannot open: door 2 beam A: gpiochip77 does not exist (no /dev/gpiochip77 .*check footfall.door2' \
	"$T/nochip.log"
check gpiod_missing_chip_reported_as_source_failure \
	grep -q 'plugin footfall: source failed (No such device)' "$T/nochip.log"
wait_for 50 'timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "$status_topic" -C 1 2>/dev/null | grep -q "\"footfall\":\"degraded\""'
check gpiod_missing_chip_status_says_degraded grep -q '"state":"online".*"footfall":"degraded"' \
	<<<"$(timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "$status_topic" -C 1 2>/dev/null)"
check gpiod_missing_chip_agent_keeps_running kill -0 "$pid"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
check gpiod_missing_chip_agent_stops_cleanly grep -q 'stopping: 0 passes' "$T/nochip.log"

# ---- people counter over TCP --------------------------------------------
CPORT=$(free_port)
cp "$T/agent.conf" "$T/counter.conf"
cat >>"$T/counter.conf" <<CONF
plugin footfall
footfall.source counter
footfall.counter_listen 127.0.0.1:$CPORT
CONF
in_before=$(sum_people "$IN") out_before=$(sum_people "$OUT")
"$AGENT" -c "$T/counter.conf" --tap "$T/counter.csv" 2>"$T/counter.log" &
pid=$!
PIDS+=("$pid")
wait_for 50 'grep -q "listening for people-counter lines on 127.0.0.1:$CPORT" "$T/counter.log"'
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if exec 3<>"/dev/tcp/127.0.0.1/$CPORT"; then
	printf '1 5 2\r\n2 0 3 %s\nhello counter\n0 1 1\n1 x 2\n\n3 4 0\n' "$now" >&3
	exec 3>&-
fi
wait_for 50 '[ "$(sum_people "$IN")" = "$((in_before + 9))" ]'
check counter_tcp_in_counts_stored [ "$(sum_people "$IN")" = "$((in_before + 9))" ]
wait_for 20 '[ "$(sum_people "$OUT")" = "$((out_before + 5))" ]'
check counter_tcp_out_counts_stored [ "$(sum_people "$OUT")" = "$((out_before + 5))" ]
check counter_tcp_garbage_logged_with_reason \
	grep -q 'counter line from 127.0.0.1:[0-9]* dropped (not "<door> <in> <out> \[<time>\]")' "$T/counter.log"
# More garbage from a second client: only counted; valid lines still pass.
python3 - "$CPORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\xff\xfe binary\n" + b"9" * 300 + b"\n4 1 1\n")
s.close()
PY
wait_for 50 '[ "$(sum_people "$IN")" = "$((in_before + 10))" ]'
check counter_tcp_valid_after_garbage_stored [ "$(sum_people "$IN")" = "$((in_before + 10))" ]
check counter_tcp_agent_keeps_running kill -0 "$pid"
kill -TERM "$pid"
wait "$pid" 2>/dev/null
check counter_tcp_drops_counted_by_reason grep -q \
	'stopping: 4 counter lines, 6 readings (16 people), 5 lines dropped (1 line longer than 128 bytes, 1 byte that is not printable ASCII, 1 not "<door> <in> <out> \[<time>\]", 1 door not in 1..255, 1 count not in 0..1000)' \
	"$T/counter.log"
