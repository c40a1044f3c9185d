# fleet_no_loss.sh - taking a fleet bundle restarts the agent; no reading
# is lost or stored twice for it. A steady stream runs (pseudonymous mode,
# every reading an event the tap records), a configuration bundle arrives
# mid-stream, the agent restarts into it and keeps it after its health
# check; then every reading the agent accepted, before and after, is in the
# database exactly once.
. "$(dirname "$0")/lib.sh"

CTL="$O/vitrine-ctl"
PORT=$(free_port)
start_broker "$PORT"
setup_keys
"$CTL" keygen --key "$T/ops.key" --pub "$T/ops.pub" >/dev/null 2>&1
cat >>"$T/agent.conf" <<CONF
group pilot
fleet_ops_key $T/ops.pub
fleet_trial_s 5
status_interval_s 1
CONF
sim_stream 3 60 >>"$T/agent.conf"
start_aggregator
start_stream_agent
status() {
	timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t vitrine/v1/cannes-croisette/pi-01/status -C 1 2>/dev/null
}
wait_for 100 'status | grep -q "\"state\":\"online\""'
sleep 2
printf 'batch_max_readings 37\n' >"$T/b.conf"
"$CTL" sign --key "$T/ops.key" --group pilot --version 2 -o "$T/b.vtb" "$T/b.conf" >/dev/null 2>&1
"$CTL" push --broker "127.0.0.1:$PORT" "$T/b.vtb" >/dev/null 2>&1
applied() { grep -q '"outcome":"applied","kind":"config","name":"","version":2' <<<"$(status)"; }
wait_for 300 applied
check bundle_applied_mid_stream applied
sleep 2
check agent_restarted_once [ "$(grep -c 'restarting to run what the fleet installed' "$T/agent.log")" = 1 ]
check same_process_after_restart kill -0 "$AGENT_PID"
stop_and_drain
check_all_stored
