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
for p in footfall tablet rfid; do
	printf 'plugin %s\n%s.seed 13\n%s.speed 300\n%s.start 2026-11-25T10:00:00Z\n' "$p" "$p" "$p" "$p"
done >>"$T/agent.conf"
start_aggregator
"$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 100 '[ "$(db_count)" -gt 0 ]'
for round in 1 2 3; do
	kill -9 "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null
	sleep 1
	start_broker "$PORT"
	sleep 4
done
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
drain_agent 120
check drained [ "$(spool_frames)" = 0 ]
tap=$(wc -l <"$T/tap.csv")
wait_for 50 '[ "$(db_count)" = "$tap" ]'
check every_accepted_reading_stored [ "$(db_count)" = "$tap" ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
check agent_reconnected [ "$(grep -c 'connected again' "$T/agent.log")" -ge 3 ]
counts broker_no_persistence "$tap" "$(db_count)" "$(dropped_readings "$T/agent.log" "$T/drain.log")" \
	"3 broker restarts without persistence"
