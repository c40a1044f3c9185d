# agent_sigkill.sh - fault 1: the agent is killed with SIGKILL at random
# moments of a steady stream and restarted, 20 times (200 with VT_LONG=1).
# After each kill the test reads what the spool holds (vitrine-agent
# --spool --records, read-only): those frames passed the durability point.
# At the end every one of them is in the database exactly once, with all
# its readings, and the spool is empty.
. "$(dirname "$0")/../integration/lib.sh"

ROUNDS=20
[ "${VT_LONG:-0}" = 1 ] && ROUNDS=200
PORT=$(free_port)
start_broker "$PORT"
setup_keys
cat >>"$T/agent.conf" <<CONF
spool_sync_ms 100
ack_timeout_s 3
CONF
sim_stream 7 900 >>"$T/agent.conf"
start_aggregator

: >"$T/durable.txt"
for i in $(seq 1 "$ROUNDS"); do
	"$AGENT" -c "$T/agent.conf" 2>>"$T/agent.log" &
	pid=$!
	PIDS+=("$pid")
	sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	"$AGENT" -c "$T/agent.conf" --spool --records | grep -v '^#' >>"$T/durable.txt"
done
check agent_killed_and_restarted [ "$(grep -c 'vitrine-agent .*: site' "$T/agent.log")" = "$ROUNDS" ]
check spool_held_frames_at_kills [ -s "$T/durable.txt" ]
drain_agent 120
check drained_after_last_kill [ "$(spool_frames)" = 0 ]
wait_for 50 '[ "$(db_count)" = "$(frame_readings)" ]'

# Every durable frame, by sequence number, stored once with all its readings.
sqlite3 "$T/check.db" <<SQL
create table durable(seq integer, readings integer, bytes integer, at integer);
.separator " "
.import $T/durable.txt durable
attach '$T/agg/vitrine.db' as agg;
create table missing as
	select distinct d.seq from durable d left join agg.frames f
	on f.device = 'pi-01' and f.seq = d.seq
	where f.seq is null or f.readings != d.readings;
create table emitted as
	select seq, readings from (select distinct seq, readings from durable)
	union select seq, readings from agg.frames;
SQL
missing=$(sqlite3 "$T/check.db" "select count(*) from missing")
emitted=$(sqlite3 "$T/check.db" "select sum(readings) from emitted")
check every_durable_frame_delivered [ "$missing" = 0 ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
check frames_complete [ "$(db_count)" = "$(frame_readings)" ]
check delivered_equals_durable [ "$(db_count)" = "$emitted" ]
check no_drops_reported [ "$(dropped_readings "$T/drain.log")" = 0 ]
counts agent_sigkill "$emitted" "$(db_count)" "$(dropped_readings "$T/drain.log")" \
	"$ROUNDS kills, $(sqlite3 "$T/check.db" 'select count(distinct seq) from durable') frames seen in the spool at kills"
