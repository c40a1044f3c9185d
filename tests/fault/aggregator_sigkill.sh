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
sim_stream 17 300 >>"$T/agent.conf"
start_aggregator
start_stream_agent
wait_for 100 '[ "$(db_count)" -gt 0 ]'
for i in $(seq 1 "$ROUNDS"); do
	sleep "1.$((RANDOM % 10))"
	kill -9 "$AGG_PID"
	wait "$AGG_PID" 2>/dev/null
	mv "$T/aggregator.log" "$T/aggregator.log.$i"
	start_aggregator
done
sleep 2
stop_and_drain
check_all_stored
check frames_complete [ "$(db_count)" = "$(frame_readings)" ]
counts aggregator_sigkill "$TAP" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"$ROUNDS aggregator kills"
