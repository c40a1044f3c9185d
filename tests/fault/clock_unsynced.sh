# clock_unsynced.sh - fault: a Raspberry Pi without a real-time clock
# boots at 1970 and collects before NTP sets its clock (libfaketime: the
# wall clock 1970-01-02 at the agent's start, the monotonic and boot clocks
# left alone), then the clock is set (the faketime file goes to +0).
# Readings taken meanwhile are flagged with their time since boot; those
# the agent still holds are corrected there, those already sent by the
# aggregator from the correction the next frame carries (docs/PROTOCOL.md,
# "Clock not synchronized"). At the end no reading is dated before the
# agent started, none is left flagged, and each flagged one is within 2 s
# of its real time. The simulated plugins keep the 1970 clock they opened
# with after the step, as a real source that has not reconnected would:
# the agent corrects those too.
. "$(dirname "$0")/../integration/lib.sh"

FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
if [ -z "$FAKETIME_LIB" ]; then
	fail clock_unsynced_setup "libfaketime not installed (apt-get install faketime); cannot move the clock"
	exit 1
fi
PORT=$(free_port)
start_broker "$PORT"
setup_keys
HTTP_PORT=$(free_port)
# The simulated footfall and RFID (8 readers: an inventory round every
# 1.25 s) stamp from the clock they opened with; kiosk events are stamped
# at their arrival (tablet.source kiosk, posted with curl below).
cat >>"$T/agent.conf" <<CONF
status_interval_s 1
plugin footfall
footfall.seed 41
footfall.speed 1
plugin rfid
rfid.seed 41
rfid.speed 1
rfid.readers 8
plugin tablet
tablet.source kiosk
tablet.http_port $HTTP_PORT
tablet.socket $T/kiosk.sock
CONF
start_aggregator

db() { sqlite3 "$T/agg/vitrine.db" "$1" 2>/dev/null; }
# every_reading COLUMNS: the rows of every reading table, as (seq, idx, COLUMNS...)
every_reading() {
	echo "select seq, idx, $1 from footfall union all select seq, idx, $1 from tablet
		union all select seq, idx, $1 from rfid union all select seq, idx, $1 from windows"
}
flagged_rows() { db "select count(*) from ($(every_reading clock_unsynced)) where clock_unsynced = 1"; }
kiosk_event() { # screen
	curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "{\"kiosk\":1,\"type\":\"screen_view\",\"session\":\"session-0001\",\"screen\":\"$1\"}" \
		"http://127.0.0.1:$HTTP_PORT/v1/events"
}
status() {
	timeout 3 mosquitto_sub -p "$PORT" -h 127.0.0.1 -C 1 \
		-t "vitrine/v1/cannes-croisette/pi-01/status" 2>/dev/null
}

# The clock reads 1970-01-02 00:00 UTC when the agent starts.
START_MS=$(date +%s%3N)
BEHIND_S=$(( START_MS / 1000 - 86400 ))
echo "-${BEHIND_S}s" >"$T/clock"
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock FAKETIME_NO_CACHE=1 \
FAKETIME_DONT_FAKE_MONOTONIC=1 \
	start_stream_agent
wait_for 100 'grep -q "kiosk socket .* ready" "$T/agent.log"'
check kiosk_event_before_the_sync_204 [ "$(kiosk_event before)" = 204 ]
check readings_stored_flagged_while_the_clock_is_wrong wait_for 150 '[ "$(flagged_rows)" -gt 0 ]'
check flagged_rows_carry_1970_times_until_corrected \
	[ "$(db "select max(time_ms) from ($(every_reading 'time_ms, clock_unsynced')) where clock_unsynced = 1")" -lt 172800000 ]
check status_says_unsynced wait_for 50 'status | grep -q "\"clock\":{\"state\":\"unsynced\""'
sleep 1

# NTP sets the clock.
echo "+0" >"$T/clock"
check flagged_rows_corrected_once_the_clock_is_set wait_for 150 '[ "$(flagged_rows)" = 0 ]'
check status_says_synced wait_for 50 'status | grep -q "\"clock\":{\"state\":\"synced\""'
check kiosk_event_after_the_sync_204 [ "$(kiosk_event after)" = 204 ]
sleep 3
stop_and_drain
check_all_stored

check the_agent_logged_the_sync grep -q "clock: trusted after" "$T/agent.log"
check some_corrected_by_the_aggregator \
	[ "$(db "select count(*) from ($(every_reading 'clock_unsynced, boot_id')) where boot_id is not null")" -gt 0 ]
check none_left_flagged [ "$(flagged_rows)" = 0 ]
check none_dated_before_the_agent_started \
	[ "$(db "select min(time_ms) from ($(every_reading time_ms))")" -ge $((START_MS - 1000)) ]
check none_dated_after_now \
	[ "$(db "select max(time_ms) from ($(every_reading time_ms))")" -le "$(date +%s%3N)" ]
check export_shows_no_flag sh -c "! '$AGG' -c '$T/aggregator.conf' export | grep -q unsynced"

# Reading by reading, in the order the agent accepted them (its tap: the
# time it had then, ",unsynced" when flagged): a flagged one is stored
# within 2 s of its real time (its 1970 time + BEHIND_S), any other one as
# the agent stamped it.
db "select time_ms from ($(every_reading time_ms)) order by seq, idx" >"$T/stored_times"
awk -F, '{ print $4, ($NF == "unsynced") }' "$T/tap.csv" >"$T/tap_times"
check tap_has_flagged_readings grep -q ' 1$' "$T/tap_times"
check readings_after_the_sync_not_flagged grep -q ' 0$' "$T/tap_times"
check kiosk_events_before_flagged_after_not \
	sh -c "grep -q ',before,,0,unsynced$' '$T/tap.csv' && grep -q ',after,,0$' '$T/tap.csv'"
check each_flagged_reading_within_2s_of_its_real_time \
	awk -v behind="$BEHIND_S" '
		NR == FNR { stored[NR] = $1; next }
		{
			want = $2 ? $1 + behind * 1000 : $1
			d = stored[FNR] - want
			if (d < 0) d = -d
			if (d > ($2 ? 2000 : 0)) { print "reading " FNR ": stored " stored[FNR] ", expected " want > "/dev/stderr"; bad++ }
		}
		END { exit bad > 0 }' "$T/stored_times" "$T/tap_times"
counts clock_unsynced "$TAP" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"$(grep -c ',unsynced$' "$T/tap.csv") flagged at first"
