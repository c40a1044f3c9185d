# aggregator_sigkill.sh - fault 4: the aggregator is killed with SIGKILL
# and restarted, 5 times (50 with VT_LONG=1), while readings flow. It acks
# only what it committed, so nothing is lost, and its primary key keeps
# every reading stored once.
. "$(dirname "$0")/../integration/lib.sh"

ROUNDS=5
[ "${VT_LONG:-0}" = 1 ] && ROUNDS=50
PORT=$(free_port)
BROKER_PERSIST=1
start_broker "$PORT"
setup_keys
echo "ack_timeout_s 2" >>"$T/agent.conf"
for p in footfall tablet rfid; do
	printf 'plugin %s\n%s.seed 17\n%s.speed 300\n%s.start 2026-11-25T10:00:00Z\n' "$p" "$p" "$p" "$p"
done >>"$T/agent.conf"
start_aggregator
"$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 100 '[ "$(db_count)" -gt 0 ]'
for i in $(seq 1 "$ROUNDS"); do
	sleep "1.$((RANDOM % 10))"
	kill -9 "$AGG_PID"
	wait "$AGG_PID" 2>/dev/null
	mv "$T/aggregator.log" "$T/aggregator.log.$i"
	start_aggregator
done
sleep 2
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
drain_agent 120
check drained [ "$(spool_frames)" = 0 ]
tap=$(wc -l <"$T/tap.csv")
wait_for 50 '[ "$(db_count)" = "$tap" ]'
check every_accepted_reading_stored [ "$(db_count)" = "$tap" ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
check frames_complete [ "$(db_count)" = "$(frame_readings)" ]
counts aggregator_sigkill "$tap" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"$ROUNDS aggregator kills"
