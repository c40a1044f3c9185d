# disk_full.sh - fault 5: the spool's file system fills up while the broker
# is away. The spool sits on a 256 KiB tmpfs (as root, where mounting is
# possible); elsewhere the test says so and uses a 64 KiB spool bound, the
# same code path (drop the oldest segment). First the disk is full of
# other files (new frames are counted as write errors), then the spool
# fills it itself (the oldest frames are dropped with a count). The agent
# keeps running, recovers when space returns, and every accepted reading is
# either stored or counted as dropped.
. "$(dirname "$0")/../integration/lib.sh"

PORT=$(free_port)
setup_keys
mkdir -p "$T/spool"
if mount -t tmpfs -o size=256k,mode=0700 tmpfs "$T/spool" 2>/dev/null; then
	MOUNTED=1
	trap 'umount "$T/spool" 2>/dev/null; cleanup' EXIT
	echo "spool_dir $T/spool" >>"$T/agent.conf"
else
	MOUNTED=0
	echo "note: cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN): using spool_max_bytes 65536 instead of a full file system" >&2
	printf 'spool_dir %s\nspool_max_bytes 65536\n' "$T/spool" >>"$T/agent.conf"
fi
echo "ack_timeout_s 2" >>"$T/agent.conf"
sim_stream 19 3000 >>"$T/agent.conf"

# First the file system is full of something else: the spool holds
# nothing it could give up, so new frames are counted as write errors; the
# agent keeps running and spools again once the space is back.
[ "$MOUNTED" = 1 ] && dd if=/dev/zero of="$T/spool/filler" bs=4k 2>/dev/null
# No broker: everything goes to the spool until it is full.
start_stream_agent
if [ "$MOUNTED" = 1 ]; then
	wait_for 100 'grep -q "cannot store frame" "$T/agent.log"'
	check full_of_other_files_counted grep -q 'cannot store frame' "$T/agent.log"
	check agent_runs_on_a_disk_full_of_other_files kill -0 "$AGENT_PID"
	rm -f "$T/spool/filler"
	wait_for 100 '[ "$(spool_frames)" -gt 0 ]'
	check spools_again_when_space_returns [ "$(spool_frames)" -gt 0 ]
else
	echo "SKIP full_of_other_files_counted: no tmpfs to fill"
fi
wait_for 600 'grep -q "spool full: dropped the oldest" "$T/agent.log"'
check oldest_dropped_with_a_count grep -q 'spool full: dropped the oldest' "$T/agent.log"
sleep 2
check agent_keeps_running kill -0 "$AGENT_PID"
if [ "$MOUNTED" = 1 ]; then
	check file_system_was_full [ "$(df -k "$T/spool" | awk 'NR == 2 { print $4 }')" -lt 64 ]
	mount -o remount,size=64m "$T/spool"
fi
# Space is back: new frames are kept again, and the broker returns.
start_broker "$PORT"
start_aggregator
wait_for 300 '[ "$(db_count)" -gt 0 ]'
check delivers_after_recovery [ "$(db_count)" -gt 0 ]
sleep 3
stop_and_drain
tap=$(wc -l <"$T/tap.csv")
dropped=$(dropped_readings "$T/agent.log" "$T/drain.log")
check some_readings_dropped [ "$dropped" -gt 0 ]
check stored_plus_dropped_is_accepted [ "$(( $(db_count) + dropped ))" = "$tap" ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
counts disk_full "$tap" "$(db_count)" "$dropped" \
	"$([ "$MOUNTED" = 1 ] && echo "256 KiB tmpfs" || echo "64 KiB spool bound")"
