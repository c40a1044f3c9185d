# demo.sh - `make run` works as the README says, secured as in production:
# tools/demo.sh runs for a while (VT_DEMO_SECONDS, at a high simulated
# speed) and stops as Ctrl-C would. Then: every store's windows are in the
# database, the day's HTML report was written, the broker refused a client
# without a certificate, vitrine-ctl (with the demo's ctl.conf) lists the
# stores online with their groups, and no demo process is left.
. "$(dirname "$0")/lib.sh"

demo="$T/demo"
# mosquitto started as root runs as its own user and reads the demo's
# certificates: it must be able to reach the demo folder.
chmod 755 "$T"
VT_DEMO_DIR="$demo" VT_DEMO_SECONDS=25 VT_DEMO_SPEED=1800 O="$O" \
	setsid "$VT_ROOT/tools/demo.sh" >"$T/demo.out" 2>&1 </dev/null &
demo_pid=$!
PIDS+=("$demo_pid")
wait_for 150 '[ -f "$demo/ctl.conf" ] && grep -q "vitrine demo:" "$T/demo.out"'
port=$(sed -n 's/^broker 127.0.0.1:\([0-9]*\)$/\1/p' "$demo/ctl.conf")
# Let the stores connect and report, then ask the fleet tool.
sleep 8
"$O/vitrine-ctl" -c "$demo/ctl.conf" devices >"$T/devices.txt" 2>&1
check ctl_lists_three_stores_online test "$(grep -c ' yes ' "$T/devices.txt")" = 3
check ctl_shows_groups grep -q 'demo,cannes' "$T/devices.txt"
timeout 3 mosquitto_sub -h 127.0.0.1 -p "$port" -t '#' -C 1 >"$T/plain.out" 2>&1
check broker_refuses_plain_tcp test -z "$(grep -v -i 'error\|refused\|closed\|unable' "$T/plain.out")"
wait "$demo_pid"
check demo_stops_by_itself_with_status_0 test $? = 0
check report_written test -s "$demo/report.html"
sites=$(sqlite3 "$demo/agg/vitrine.db" "select count(distinct device) from windows" 2>/dev/null)
check every_store_sent_windows test "${sites:-0}" = 3
check every_store_read_tags_over_llrp test "$(sqlite3 "$demo/agg/vitrine.db" \
	"select count(distinct device) from windows where metric = 'rfid_presence'" 2>/dev/null)" = 3
check llrp_readers_served_the_stores test "$(cat "$demo"/reader-*.log | grep -c 'session 1: client connected')" = 3
check no_demo_process_left test -z "$(pgrep -f "$demo/" || true)"
check no_reader_left test -z "$(pgrep -f "vitrine-llrp-sim.*--start $(date -u +%F)" || true)"
check agents_used_tls grep -q 'tls_cert' "$demo/agent-cannes-croisette.conf"
