# status_and_will.sh - the agent keeps a retained status on
# vitrine/v1/<site>/<device>/status: "online" with counters and plugin
# states, spool depth, drops by reason and the last ack while it runs;
# "offline" from the broker (the MQTT will) when the
# agent is killed with SIGKILL; "offline" from the agent on a clean stop.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT"
setup_keys
chmod 755 "$T/state"	# as an installer might leave it
echo "keepalive_s 5" >>"$T/agent.conf"
sim_plugins 10 4 >>"$T/agent.conf"
status_topic="vitrine/v1/cannes-croisette/pi-01/status"
last_status() {
	timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "$status_topic" -C 1 2>/dev/null
}

"$AGENT" -c "$T/agent.conf" 2>"$T/agent.log" &
pid=$!
PIDS+=("$pid")
wait_for 50 'last_status | grep -q "\"state\":\"online\""'
s=$(last_status)
check status_online_retained grep -q '"state":"online"' <<<"$s"
check status_lists_plugins grep -q '"plugins":{"footfall":"[a-z]*","tablet":"[a-z]*","rfid":"[a-z]*"}' <<<"$s"
check status_has_counters grep -q '"readings":[0-9]*,"invalid":0' <<<"$s"
check status_has_spool_depth grep -qE '"spool":\{"frames":[0-9]+,"readings":[0-9]+,"bytes":[0-9]+,"oldest_age_s":-?[0-9]+\}' <<<"$s"
check status_has_drops_by_reason grep -q '"dropped":{"full":0,"too_old":0,"corrupt":0,"write_error":0,"seal":0}' <<<"$s"
check status_has_last_ack grep -qE '"last_ack":\{"seq":[0-9]+,"age_s":-?[0-9]+\}' <<<"$s"
check status_has_privacy grep -qE '"privacy":\{"modes":\{"footfall":"pseudonymous","tablet":"pseudonymous","rfid":"pseudonymous"\},"window_s":900,"k":10,"epsilon_milli":0,"digest_bits":64,"key_rotation_s":86400,"keys_drawn":[0-9]+,"keys_locked":(true|false),"optout_items":0,"dropped":\{"optout":0,"below_rssi_floor":[0-9]+,"undeclared_fields":0\},"windows":\{"released":0,"cells":0,"merged_below_k":0,"suppressed_below_k":0,"refused_no_budget":0\}\}' <<<"$s"
check status_has_egress_head grep -qE '"egress":\{"seq":[0-9]+,"head":"[0-9a-f]{64}","breaks":0\}' <<<"$s"

kill -9 "$pid"
wait "$pid" 2>/dev/null
# The broker publishes the will after 1.5 keepalives without a packet.
wait_for 150 'last_status | grep -q "\"state\":\"offline\""'
check will_says_offline_after_sigkill grep -q '"state":"offline"' <<<"$(last_status)"

"$AGENT" -c "$T/agent.conf" 2>"$T/agent2.log" &
pid=$!
PIDS+=("$pid")
wait_for 50 'last_status | grep -q "\"state\":\"online\""'
kill -TERM "$pid"
wait "$pid"
rc=$?
check clean_stop_exits_0 [ "$rc" = 0 ]
check clean_stop_says_offline grep -q '"state":"offline"' <<<"$(last_status)"
check clean_stop_not_logged_as_outage [ "$(grep -c 'lost' "$T/agent2.log")" = 0 ]

# Least privilege: the state directory (keys, spool, checkpoint) is made
# private at start, with a warning naming the old mode.
check state_dir_made_private [ "$(stat -c %a "$T/state")" = 700 ]
check state_dir_narrowing_logged grep -q "state was open to group or others (mode 755): narrowed to 0700" "$T/agent.log"
