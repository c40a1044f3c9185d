# broker_stop.sh - fault 2: the broker stops for 30 s (10 min with
# VT_LONG=1) while readings flow, then starts again. Every reading the agent
# accepted (its --tap file) reaches the database once and in order, and the
# test prints how long the backlog took to drain.
. "$(dirname "$0")/../integration/lib.sh"

OUTAGE=30
[ "${VT_LONG:-0}" = 1 ] && OUTAGE=600
PORT=$(free_port)
BROKER_PERSIST=1
start_broker "$PORT"
setup_keys
echo "ack_timeout_s 5" >>"$T/agent.conf"
sim_stream 11 120 >>"$T/agent.conf"
start_aggregator
start_stream_agent
wait_for 100 '[ "$(db_count)" -gt 0 ]'
check flowing_before_outage [ "$(db_count)" -gt 0 ]

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
sleep "$OUTAGE"
backlog=$(spool_frames)
backlog_last=$(last_spooled_seq)
check spool_grew_during_outage [ "${backlog:-0}" -gt 0 ]
start_broker "$PORT"
t0=$(date +%s.%N)
# The agent's back-off (up to 60 s) decides when it tries again.
wait_for 700 'grep -q "connected again" "$T/agent.log"'
t1=$(date +%s.%N)
wait_for 700 '[ "$(grep -c "connected to broker" "$T/aggregator.log")" -ge 2 ]'
ta=$(date +%s.%N)
wait_for 3000 '[ "$(acked_seq)" -ge "$backlog_last" ]'
t2=$(date +%s.%N)
check backlog_acknowledged [ "$(acked_seq)" -ge "$backlog_last" ]
stop_and_drain
check_all_stored
check_stored_in_order
check outage_logged_once [ "$(grep -c 'broker .* lost (' "$T/agent.log")" = 1 ]
counts broker_stop "$TAP" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"outage ${OUTAGE} s, backlog $backlog frames; agent back $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s after the broker (back-off), aggregator $(awk "BEGIN { printf \"%.1f\", $ta - $t0 }") s, backlog acknowledged $(awk "BEGIN { printf \"%.1f\", $t2 - $t1 }") s later"
