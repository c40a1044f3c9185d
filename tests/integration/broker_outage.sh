# broker_outage.sh - the broker is unreachable at start, then killed with
# SIGKILL and restarted: the agent keeps collecting, logs each change of
# state once (not every attempt), reconnects by itself, and the readings
# it spooled meanwhile reach the database.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
# The broker saves its sessions (autosave every second), so the aggregator's
# subscription survives the restart (tests/fault/broker_no_persistence.sh
# covers a broker that forgets it).
BROKER_PERSIST=1
setup_keys
for p in footfall tablet rfid; do
	printf 'plugin %s\n%s.seed 5\n%s.speed 120\n%s.start 2026-11-25T11:00:00Z\n' "$p" "$p" "$p" "$p"
done >>"$T/agent.conf"
"$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")

# No broker for 4 s: the agent collects and retries with back-off.
sleep 4
check agent_collects_without_broker [ "$(wc -l <"$T/tap.csv")" -gt 0 ]
check unreachable_logged_once [ "$(grep -c 'broker .* unreachable (' "$T/agent.log")" = 1 ]

start_broker "$PORT"
start_aggregator
wait_for 300 'grep -q "connected;" "$T/agent.log"'
check agent_connects_by_itself grep -q 'connected;' "$T/agent.log"
wait_for 100 '[ "$(db_count)" -gt 0 ]'
check readings_queued_during_outage_delivered [ "$(db_count)" -gt 0 ]

# Broker killed hard (after it saved the aggregator's session), then back
# on the same port.
sleep 1.5
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
sleep 3
before=$(wc -l <"$T/tap.csv")
start_broker "$PORT"
wait_for 300 'grep -q "connected again" "$T/agent.log"'
check agent_reconnects_after_broker_restart grep -q 'connected again' "$T/agent.log"
check loss_logged_once [ "$(grep -c 'broker .* lost (' "$T/agent.log")" = 1 ]
# The aggregator reconnects too; everything sealed after the restart arrives.
sleep 2
after=$(wc -l <"$T/tap.csv")
check agent_kept_collecting_during_outage [ "$after" -gt "$before" ]
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
total=$(wc -l <"$T/tap.csv")
# What the aggregator had not acknowledged at exit stayed in the spool; an
# agent without plugins sends it, and then everything accepted is stored.
drain_agent 60
wait_for 100 '[ "$(db_count)" = "$total" ]'
check every_accepted_reading_stored [ "$(db_count)" = "$total" ]
check nothing_stored_twice [ "$(sqlite3 "$T/agg/vitrine.db" 'select count(*) - count(distinct device || seq) from frames')" = 0 ]
check agent_exits_cleanly_on_sigterm grep -q 'stopped:' "$T/agent.log"
