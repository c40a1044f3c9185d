# broker_no_persistence.sh - fault 3: the broker is killed and restarted
# without persistence, so the aggregator's session and every message queued
# for it are gone, and frames published before the aggregator subscribes
# again have nowhere to go. The end-to-end ack still loses nothing: the
# agent sends what the aggregator did not acknowledge again.
. "$(dirname "$0")/../integration/lib.sh"

PORT=$(free_port)
start_broker "$PORT"
setup_keys
echo "ack_timeout_s 2" >>"$T/agent.conf"
sim_stream 13 300 >>"$T/agent.conf"
start_aggregator
start_stream_agent
wait_for 100 '[ "$(db_count)" -gt 0 ]'
for round in 1 2 3; do
	kill -9 "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null
	sleep 1
	start_broker "$PORT"
	sleep 4
done
stop_and_drain
check_all_stored
check agent_reconnected [ "$(grep -c 'connected again' "$T/agent.log")" -ge 3 ]
counts broker_no_persistence "$TAP" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"3 broker restarts without persistence"
