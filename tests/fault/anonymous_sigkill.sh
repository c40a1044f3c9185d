# anonymous_sigkill.sh - anonymous mode (the default), fault: the agent is
# killed with SIGKILL while every plugin's last window is still open (its
# counts exist only in the agent and in its window checkpoint), then
# started again on later readings. The counts accepted before the kill must
# reach the aggregator exactly once: the windows stored before the later run
# equal, cell for cell, those computed independently (windows.awk) from the
# same simulation run in pseudonymous mode on a second device.
. "$(dirname "$0")/../integration/lib.sh"

LIMIT=1200
SEED=5
PORT=$(free_port)
start_broker "$PORT"
PRIVACY_MODE=anonymous setup_keys
printf 'privacy_k 5\nprivacy_window_s 3600\nspool_sync_ms 100\n' >>"$T/agent.conf"
cp "$T/agent.conf" "$T/later.conf"
sim_plugins "$LIMIT" "$SEED" >>"$T/agent.conf"

add_reference_device "$LIMIT" "$SEED"
start_aggregator
run_reference

# 1. Every plugin reads its last reading; the checkpoint follows within
#    spool_sync_ms; SIGKILL before the windows go idle (10 s).
"$AGENT" -c "$T/agent.conf" --tap "$T/tap1.csv" 2>"$T/agent1.log" &
pid=$!
PIDS+=("$pid")
wait_for 300 '[ "$(grep -c "source finished" "$T/agent1.log")" -ge 3 ]'
sleep 0.5
kill -9 "$pid"
wait "$pid" 2>/dev/null
check checkpoint_written [ -s "$T/state/windows.ckpt.a" -o -s "$T/state/windows.ckpt.b" ]
open_counts=$(cat "$T"/state/windows.ckpt.* 2>/dev/null | grep -c '^open ')
check windows_were_open_at_the_kill [ "$open_counts" -ge 1 ]

# 2. Started again on readings a week later: their first reading of each
#    plugin releases the window restored from the checkpoint.
sim_plugins 20 99 | sed 's/\.start .*/.start 2026-12-03T09:00:00Z/' >>"$T/later.conf"
timeout 120 "$AGENT" -c "$T/later.conf" --tap "$T/tap2.csv" --exit-when-done 2>"$T/agent2.log"
check restarted_agent_exits_0 [ "$?" = 0 ]

expected_windows 5 3600 pi-01 >"$T/expected.csv"
later=$(date -u -d 2026-12-03 +%s)000
"$AGG" -c "$T/aggregator.conf" export 2>>"$T/aggregator.log" |
	awk -F, -v d="$later" '$1 == "window" && $3 == "pi-01" && $4 < d' | LC_ALL=C sort >"$T/stored.csv"
if cmp -s "$T/expected.csv" "$T/stored.csv"; then
	pass counts_accepted_before_the_kill_stored_once
else
	fail counts_accepted_before_the_kill_stored_once \
		"expected $(wc -l <"$T/expected.csv") cells, stored $(wc -l <"$T/stored.csv"); first difference: $(diff "$T/expected.csv" "$T/stored.csv" | head -3 | tr '\n' ' ')"
fi
check restored_windows_logged grep -q 'counts of open or unsent windows to restore' "$T/agent2.log"
counts anonymous_sigkill "$(wc -l <"$T/expected.csv") cells" "$(wc -l <"$T/stored.csv") cells" 0 \
	"$open_counts counts open at the kill"
