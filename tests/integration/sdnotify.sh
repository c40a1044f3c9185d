#!/usr/bin/env bash
# sdnotify.sh - the agent under a service manager (systemd, Type=notify,
# WatchdogSec=): a datagram socket of the test's own (sd_listen.py) is its
# NOTIFY_SOCKET, with WATCHDOG_USEC=2 s. READY=1 comes once the broker
# session is up, or once the agent has decided to spool (broker
# unreachable), never while it is still waiting for the broker's answer;
# WATCHDOG=1 comes from the main loop at least every half interval, none
# when WATCHDOG_PID names another process; SIGHUP sends RELOADING=1 and
# READY=1 again, in process or after the agent executed itself again;
# SIGTERM sends STOPPING=1 and the agent exits 0. Every message comes from
# the agent's own process id (NotifyAccess=main).
. "$(dirname "$0")/lib.sh"

# start_listeners NAME...: for each, a service manager's socket
# $T/NAME.sock, its messages in $T/NAME.log ("<ms> <pid> <lines joined by
# |>"); all started at once (python takes a while to start).
start_listeners() {
	local n
	for n in "$@"; do
		python3 "$VT_ROOT/tests/integration/sd_listen.py" "$T/$n.sock" "$T/$n.log" &
		PIDS+=("$!")
	done
	for n in "$@"; do
		wait_for 50 "grep -qs LISTENING '$T/$n.log'"
	done
}

# start_notified NAME [VAR=value...]: the agent with NOTIFY_SOCKET=$T/NAME.sock
# and a 2 s watchdog (unless a VAR says otherwise), on $CONF ($T/agent.conf
# by default), logging to $T/NAME.agent.log. Sets AGENT_PID.
start_notified() {
	local name=$1; shift
	env NOTIFY_SOCKET="$T/$name.sock" WATCHDOG_USEC=2000000 "$@" \
		"$AGENT" -c "${CONF:-$T/agent.conf}" 2>"$T/$name.agent.log" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
}

messages() { cut -d' ' -f3- "$T/$1.log"; }
# first_ready NAME: the first message that says READY=1.
first_ready() { messages "$1" | grep -m1 'READY=1'; }
# only_from NAME PID: every message came from PID.
only_from() { awk -v pid="$2" '$3 != "LISTENING" && $2 != pid { bad = 1 } END { exit bad }' "$T/$1.log"; }
# keepalive_gaps NAME FROM_MS: "count max_gap_ms" of WATCHDOG=1 from FROM_MS on.
keepalive_gaps() {
	awk -v from="$2" '$3 == "WATCHDOG=1" && $1 >= from {
		if (last) { gap = $1 - last; if (gap > max) max = gap }
		last = $1; n++ } END { print n + 0, max + 0 }' "$T/$1.log"
}
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
# stop_notified NAME: SIGTERM, then the exit status in STOP_RC.
stop_notified() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	STOP_RC=$?
}

PORT=$(free_port)
setup_keys
sim_stream 7 60 >>"$T/agent.conf"

# 1. No broker on PORT: connection refused at once. The agent decides to
# spool and says it is ready; a stop ends cleanly.
start_listeners down silent up otherpid idle
start_notified down
wait_for 100 'first_ready down | grep -q .'
check ready_when_broker_unreachable grep -q "^READY=1|STATUS=spooling: broker 127.0.0.1:$PORT unreachable (Connection refused)" <<<"$(first_ready down)"
check ready_status_counts_plugins grep -q 'plugins: 3 of 3 running; spool: [0-9]* frames waiting' <<<"$(first_ready down)"
check spooling_decision_logged_before_ready grep -q 'unreachable (Connection refused); collecting into the spool' "$T/down.agent.log"
stop_notified
check stop_when_spooling_exits_0 [ "$STOP_RC" = 0 ]
check stop_when_spooling_sends_stopping grep -q '^STOPPING=1|STATUS=stopping' <<<"$(messages down | tail -n 1)"
check messages_only_from_the_agent only_from down "$AGENT_PID"

# 2. A broker that accepts the connection and never answers: no READY=1
# while the agent waits for it (it keeps sending keep-alives); once the
# connection drops, the agent spools and is ready.
SILENT=$(free_port)
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); held = []
while True: held.append(s.accept())' "$SILENT" &
SILENT_PID=$!
PIDS+=("$SILENT_PID")
wait_for 50 "(exec 3<>/dev/tcp/127.0.0.1/$SILENT) 2>/dev/null"
sed -i "s/^broker .*/broker 127.0.0.1:$SILENT/" "$T/agent.conf"
start_notified silent
wait_for 50 '[ "$(grep -c " WATCHDOG=1$" "$T/silent.log")" -ge 3 ]'
check no_ready_while_broker_silent [ -z "$(first_ready silent)" ]
check status_says_connecting grep -q "^STATUS=connecting to broker 127.0.0.1:$SILENT; plugins: 3 of 3 running" <<<"$(messages silent)"
check keepalives_before_ready [ "$(grep -c ' WATCHDOG=1$' "$T/silent.log")" -ge 3 ]
{ kill -9 "$SILENT_PID"; wait "$SILENT_PID"; } 2>/dev/null
wait_for 50 'first_ready silent | grep -q .'
check ready_once_silent_broker_drops grep -q "^READY=1|STATUS=spooling: broker 127.0.0.1:$SILENT unreachable" <<<"$(first_ready silent)"
{ kill -9 "$AGENT_PID"; wait "$AGENT_PID"; } 2>/dev/null

# 3. A broker: READY=1 comes with the session, not before; keep-alives
# every second at most; SIGHUP reloads (in process, then by executing the
# agent again) with RELOADING=1 and READY=1 again; SIGTERM stops.
sed -i "s/^broker .*/broker 127.0.0.1:$PORT/" "$T/agent.conf"
start_broker "$PORT"
start_notified up
wait_for 100 'first_ready up | grep -q .'
check ready_once_the_broker_session_is_up grep -q "^READY=1|STATUS=connected to broker 127.0.0.1:$PORT; plugins: 3 of 3 running" <<<"$(first_ready up)"
check session_logged_before_ready grep -q "connected; publishing" "$T/up.agent.log"
from=$(now_ms)
sleep 3
read -r n gap <<<"$(keepalive_gaps up "$from")"
echo "keep-alives in 3 s: $n, longest gap $gap ms (interval 2000 ms)" >&2
check keepalives_repeat [ "$n" -ge 3 ]
# At most half the interval, plus slack for a loaded machine; a keep-alive
# per interval (2000 ms) fails.
check keepalives_within_half_interval [ "$gap" -gt 0 -a "$gap" -le 1500 ]

readies() { messages up | grep -c '^READY=1'; }
# The last of RELOADING=1 and READY=1 the agent sent.
last_transition() { messages up | grep -E '^(RELOADING|READY)=1' | tail -n 1; }
before=$(readies)
kill -HUP "$AGENT_PID"
wait_for 50 '[ "$(readies)" -gt "$before" ]'
check sighup_sends_reloading grep -qE '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading: SIGHUP' <<<"$(messages up)"
check sighup_ready_again grep -q '^READY=1|STATUS=connected to broker' <<<"$(last_transition)"

sed -i 's/^batch_max_readings .*/batch_max_readings 31/' "$T/agent.conf"
before=$(readies)
kill -HUP "$AGENT_PID"
wait_for 100 '[ "$(readies)" -gt "$before" ]'
check restart_in_place_says_reloading grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=reloading: restarting in place' <<<"$(messages up)"
check restart_in_place_ready_again grep -q '^READY=1|STATUS=connected to broker' <<<"$(last_transition)"
check restart_in_place_happened [ "$(grep -c 'restarting to run the reloaded configuration' "$T/up.agent.log")" = 1 ]
from=$(now_ms)
wait_for 30 '[ "$(keepalive_gaps up "$from" | cut -d" " -f1)" -ge 2 ]'
check keepalives_after_restart_in_place [ "$(keepalive_gaps up "$from" | cut -d' ' -f1)" -ge 2 ]
# Without the broker the stop does not wait for acknowledgments (3 s).
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
wait_for 50 'messages up | grep -q "^READY=1|STATUS=spooling"'
stop_notified
check stop_exits_0 [ "$STOP_RC" = 0 ]
check stop_sends_stopping grep -q '^STOPPING=1|' <<<"$(messages up | tail -n 1)"
check messages_only_from_the_agent_across_restart only_from up "$AGENT_PID"

# 4. WATCHDOG_PID names another process: the agent is ready (spooling, the
# broker is gone) and reports its status, but sends no keep-alive (they are
# not meant for it). At the same time, another device's agent without
# plugins, idle, with a 400 ms watchdog: its poll() sleeps no longer than
# the next keep-alive (otherwise up to 1 s).
start_notified otherpid WATCHDOG_PID=1
mkdir -p "$T/idle"
write_agent_conf "$T/idle.conf" "$T/idle" pi-02
"$AGENT" -c "$T/idle.conf" --keygen >/dev/null 2>&1
CONF=$T/idle.conf start_notified idle WATCHDOG_USEC=400000
wait_for 100 'first_ready otherpid | grep -q . && first_ready idle | grep -q .'
from=$(now_ms)
sleep 2
read -r n gap <<<"$(keepalive_gaps idle "$from")"
echo "idle agent: keep-alives in 2 s: $n, longest gap $gap ms (interval 400 ms)" >&2
check other_watchdog_pid_still_ready grep -q '^READY=1|STATUS=spooling' <<<"$(first_ready otherpid)"
check other_watchdog_pid_no_keepalives [ "$(grep -c ' WATCHDOG=1$' "$T/otherpid.log")" = 0 ]
check idle_loop_wakes_for_keepalives [ "$n" -ge 5 -a "$gap" -le 600 ]
