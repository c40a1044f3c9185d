#!/usr/bin/env bash
# tests/integration/llrp.sh - the rfid plugin against readers that speak
# LLRP over real TCP (tools/llrp-sim), with a real broker and aggregator.
#
# Checks: every SGTIN tag read a reader sent is counted at the aggregator
# exactly once, in presence readings (one per tag, reader and second); a
# reader on uptime time (no UTC clock) is dated right; a reader killed with
# SIGKILL and restarted, a reader that goes silent, and one that sends a
# broken header are each reconnected to and the agent keeps going; a
# malformed TagReportData is counted and dropped, a message of an unknown
# type counted and ignored; a reader that refuses
# the connection is logged with the reason; on SIGTERM the agent closes
# with CLOSE_CONNECTION.
. "$(dirname "$0")/lib.sh"
SIM="$O/vitrine-llrp-sim"

PORT=$(free_port)
start_broker "$PORT"
setup_keys
start_aggregator

# start_reader NAME PORT [options...]: a simulated reader; sets READER_PID.
start_reader() {
	local name=$1 port=$2; shift 2
	"$SIM" --port "$port" --items 300 --report-file "$T/$name.tags" "$@" \
		>"$T/$name.out" 2>>"$T/$name.log" &
	READER_PID=$!
	PIDS+=("$READER_PID")
	wait_for 50 "grep -q listening '$T/$name.out'"
}

# Each port is chosen once the previous reader listens on its own.
R1=$(free_port)
start_reader r1 "$R1" --drop-after 40
R1_PID=$READER_PID
R2=$(free_port)
start_reader r2 "$R2" --uptime --stall-after 30 --seed 7 --bad-report-every 7 --unknown-after 10
R3=$(free_port)
start_reader r3 "$R3" --garbage-after 20 --seed 9
REFUSE=$(free_port)
start_reader refuse "$REFUSE" --refuse

{
	echo "plugin rfid"
	echo "rfid.source llrp"
	echo "rfid.llrp_readers 127.0.0.1:$R1, 127.0.0.1:$R2,127.0.0.1:$R3,127.0.0.1:$REFUSE"
	echo "rfid.llrp_keepalive_ms 300"
	echo "privacy_rssi_floor_cdbm -15000"
} >>"$T/agent.conf"
start_stream_agent

# Each fault hits a reader's first session; then it streams again.
sent() { grep -c sgtin "$T/$1.tags" 2>/dev/null || true; }
# unsent_from PORT: connections from 127.0.0.1:PORT whose kernel send
# queue is not empty (/proc/net/tcp: local address, state 01 =
# established, tx_queue:rx_queue in hex).
unsent_from() {
	awk -v p="$(printf '0100007F:%04X' "$1")" \
		'$2 == p && $4 == "01" && substr($5, 1, 8) != "00000000" { n++ } END { print n + 0 }' \
		/proc/net/tcp
}
wait_for 200 '[ "$(grep -c "session 2: client connected" "$T/r1.log")" = 1 ]'
check llrp_reconnects_after_the_reader_drops_the_connection \
	grep -q "session 2: client connected" "$T/r1.log"
wait_for 100 '[ "$(grep -c "session 2: client connected" "$T/r2.log")" = 1 ]'
check llrp_reconnects_to_a_reader_that_went_silent \
	grep -q "reader 2 (127.0.0.1:$R2): the reader stopped answering" "$T/agent.log"
wait_for 100 '[ "$(grep -c "session 2: client connected" "$T/r3.log")" = 1 ]'
check llrp_reconnects_after_a_broken_header \
	grep -q "reader 3 (127.0.0.1:$R3): protocol error: a message header with version 7" "$T/agent.log"
check llrp_names_why_a_reader_refused \
	grep -q "reader 4 (127.0.0.1:$REFUSE): the reader refused the connection (status 3" "$T/agent.log"
check llrp_logs_the_reader_capabilities \
	grep -q 'reader 1 .*firmware "vitrine-llrp-sim 1", 4 antennas, UTC clock' "$T/agent.log"

# A reader killed outright comes back on the same port. It is stopped
# first (SIGUSR1: the sim stops where its report file matches what it
# sent) until the kernel has delivered what it sent: a reader killed with
# bytes in its socket may lose them (a reset), and then the count of what
# it sent would be off by them.
wait_for 100 '[ "$(sent r1)" -ge 100 ]'
kill -USR1 "$R1_PID"
wait_for 50 '[ "$(awk "{ print \$3 }" /proc/$R1_PID/stat)" = T ]'
wait_for 100 '[ "$(unsent_from "$R1")" = 0 ]'
kill -9 "$R1_PID"
wait "$R1_PID" 2>/dev/null
before=$(sent r1)
start_reader r1b "$R1" --seed 3
wait_for 150 'grep -q "session 1: client connected" "$T/r1b.log"'
wait_for 100 '[ "$(sent r1b)" -ge 20 ]'
check llrp_reconnects_to_a_reader_killed_and_restarted [ "$(sent r1b)" -ge 20 ]

# SIGTERM: the agent says goodbye to each reader, and what the readers sent
# until they answered is kept.
stop_and_drain
for r in r1b r2 r3; do
	check "llrp_agent_closes_${r}_with_close_connection" \
		grep -q "closed the connection cleanly (CLOSE_CONNECTION)" "$T/$r.log"
done

# Every SGTIN read the readers sent is counted once (reads of foreign EPCs
# are dropped by the plugin, malformed ones are not in the files), summed
# up into one reading per tag, reader and second.
SENT=$(cat "$T"/r1.tags "$T"/r1b.tags "$T"/r2.tags "$T"/r3.tags | grep -c sgtin)
READS=$(sqlite3 "$T/agg/vitrine.db" "select sum(reads) from rfid")
ROWS=$(sqlite3 "$T/agg/vitrine.db" "select count(*) from rfid")
echo "readers sent $SENT SGTIN reads; $ROWS presence readings stored for $READS reads" >&2
check llrp_every_read_sent_is_counted_once [ "$SENT" -gt 300 -a "$SENT" = "$READS" ]
check llrp_reads_are_summed_up_into_presences [ "$ROWS" -lt "$SENT" ]
check llrp_one_presence_per_tag_reader_and_second [ "$(sqlite3 "$T/agg/vitrine.db" \
	"select count(*) from (select 1 from rfid group by tag_digest, reader, time_ms / 1000 having count(*) > 1)")" = 0 ]
check llrp_counts_malformed_reports grep -q "dropped the rest of a malformed RO_ACCESS_REPORT" "$T/agent.log"
check llrp_ignores_an_unknown_message_type grep -q "reader 2: ignored a message of type 77" "$T/agent.log"
check llrp_counts_what_it_ignored grep -q "LLRP: [0-9]* malformed reports, 1 ignored messages" "$T/agent.log"
# Uptime-clocked reads are dated within a minute of now, not in 1970.
NOW_MS=$(($(date +%s) * 1000))
OLDEST=$(sqlite3 "$T/agg/vitrine.db" "select min(time_ms) from rfid where reader = 2")
check llrp_uptime_reader_is_dated_by_the_wall_clock \
	[ -n "$OLDEST" -a $((NOW_MS - ${OLDEST:-0})) -lt 120000 -a $((NOW_MS - ${OLDEST:-0})) -gt 0 ]
check llrp_agent_kept_running grep -q "stopping" "$T/agent.log"
