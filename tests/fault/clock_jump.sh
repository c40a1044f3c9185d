# clock_jump.sh - fault 7: the wall clock jumps a day backward, then three
# days forward, while the agent runs (libfaketime, monotonic clock left
# alone, as when NTP steps the clock of a Pi that booted without an RTC).
# Sequence numbers keep growing, frames are stored in order, the
# aggregator's acks keep retiring frames, and nothing is dropped. (The
# spool's age bound, which a forward jump beyond spool_max_age_s does
# trigger by design, is tested in tests/unit/spool_test.c.)
. "$(dirname "$0")/../integration/lib.sh"

FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
if [ -z "$FAKETIME_LIB" ]; then
	fail clock_jump_setup "libfaketime not installed (apt-get install faketime); cannot move the clock"
	exit 1
fi
PORT=$(free_port)
start_broker "$PORT"
setup_keys
echo "ack_timeout_s 3" >>"$T/agent.conf"
sim_stream 29 300 >>"$T/agent.conf"
start_aggregator
echo "+0" >"$T/clock"
LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock FAKETIME_NO_CACHE=1 \
FAKETIME_DONT_FAKE_MONOTONIC=1 \
	start_stream_agent
wait_for 100 '[ "$(db_count)" -gt 0 ]'
sleep 2
frames_before=$(sqlite3 "$T/agg/vitrine.db" "select count(*) from frames")
acked_before=$(acked_seq)
echo "-1d" >"$T/clock"
sleep 4
frames_back=$(sqlite3 "$T/agg/vitrine.db" "select count(*) from frames")
acked_back=$(acked_seq)
check delivered_after_jump_back [ "$frames_back" -gt "$frames_before" ]
check acked_after_jump_back [ "$acked_back" -gt "$acked_before" ]
echo "+3d" >"$T/clock"
sleep 4
frames_fwd=$(sqlite3 "$T/agg/vitrine.db" "select count(*) from frames")
check delivered_after_jump_forward [ "$frames_fwd" -gt "$frames_back" ]
check acked_after_jump_forward [ "$(acked_seq)" -gt "$acked_back" ]
stop_and_drain
# The agent's own log lines carry its (moved) clock.
fake_day=$(LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$T/clock FAKETIME_NO_CACHE=1 date -u +%Y-%m-%d)
check agent_saw_the_jump grep -q "^$fake_day.*stopped:" "$T/agent.log"
check_all_stored
check_stored_in_order
check nothing_dropped [ "$(dropped_readings "$T/agent.log" "$T/drain.log")" = 0 ]
counts clock_jump "$TAP" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"clock -1 day, then +3 days"
