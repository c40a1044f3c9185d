# tests/integration/lib.sh - helpers for integration tests: real mosquitto on
# a free 127.0.0.1 port, real agent and aggregator binaries, real keys and
# files in a per-test directory, cleanup of every process at exit.
#
# A test sources this file, then calls pass/fail for each behaviour it checks.
set -u
VT_ROOT=${VT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
O=${O:-build/host}
case "$O" in /*) ;; *) O="$VT_ROOT/$O" ;; esac
# VT_AGENT and VT_AGG replace the binaries (make test-emulated: an agent
# built for another architecture, run by qemu-user, and the native
# aggregator).
AGENT=${VT_AGENT:-$O/vitrine-agent}
AGG=${VT_AGG:-$O/vitrine-aggregator}
PLUGIN_DIR="$O/plugins"
T=$(mktemp -d /tmp/vt-it-XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ "${VT_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME CONDITION-COMMAND... : PASS when the command succeeds.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "'$*' failed"; fi; }

# free_port: a port nothing listens on. Tests that run at the same time
# (tests/run.sh, VT_PORT_SLOT 0 or 1) draw from ranges of their own, below
# the kernel's ephemeral ports (32768 and up).
free_port() {
	local p slot=${VT_PORT_SLOT:-0}
	for _ in $(seq 1 50); do
		p=$((20000 + slot % 2 * 6000 + RANDOM % 6000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
	return 1
}

# start_broker PORT [extra config lines...]: mosquitto in the foreground of
# a background job; waits until it listens. BROKER_PID is set.
start_broker() {
	local port=$1; shift
	local conf="$T/mosquitto-$port.conf"
	{
		echo "listener $port 127.0.0.1"
		echo "allow_anonymous true"
		if [ "${BROKER_PERSIST:-0}" = 1 ]; then
			# As in production: sessions survive a broker restart.
			# mosquitto started as root writes as its own user.
			mkdir -p "$T/mq" && chmod 755 "$T" && chmod 777 "$T/mq"
			echo "persistence true"
			echo "persistence_location $T/mq/"
			echo "autosave_interval 1"
		else
			echo "persistence false"
		fi
		echo "max_queued_messages 100000"
		for l in "$@"; do echo "$l"; done
	} >"$conf"
	mosquitto -c "$conf" >>"$T/mosquitto.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	wait_for 50 "(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
}

# wait_for TENTHS COMMAND: poll COMMAND every 0.1 s, up to TENTHS times.
# (Its counter has a name no caller uses: COMMAND is eval'ed in here and
# would see a local n instead of the caller's.)
wait_for() {
	local wait_for_tenths=$1; shift
	for _ in $(seq 1 "$wait_for_tenths"); do
		if eval "$@"; then return 0; fi
		sleep 0.1
	done
	return 1
}

# setup_keys: aggregator key pair in $T/agg, device keys in $T/state.
# Sets AGG_PUB and DEVICE_LINE.
setup_keys() {
	mkdir -p "$T/agg" "$T/state"
	cat >"$T/aggregator.conf" <<CONF
broker 127.0.0.1:${PORT}
database $T/agg/vitrine.db
key_file $T/agg/aggregator.key
commit_interval_ms 50
CONF
	AGG_PUB=$("$AGG" -c "$T/aggregator.conf" keygen | tail -n 1)
	write_agent_conf "$T/agent.conf" "$T/state" "${DEVICE:-pi-01}"
	DEVICE_LINE=$("$AGENT" -c "$T/agent.conf" --keygen | grep '^device ')
	echo "$DEVICE_LINE" >>"$T/aggregator.conf"
}

# write_agent_conf FILE STATE_DIR DEVICE [extra lines on stdin appended]
# The delivery tests compare readings one by one, so they run the
# pseudonymous mode unless PRIVACY_MODE says otherwise; the default mode
# (anonymous) has anonymous_end_to_end.sh.
write_agent_conf() {
	cat >"$1" <<CONF
site ${SITE:-cannes-croisette}
device $3
broker 127.0.0.1:${PORT}
aggregator_key ${AGG_PUB:-0000000000000000000000000000000000000000000000000000000000000000}
state_dir $2
plugin_dir $PLUGIN_DIR
batch_max_readings ${BATCH:-100}
batch_max_age_ms 200
privacy_mode ${PRIVACY_MODE:-pseudonymous}
CONF
}

# sim_plugins LIMIT SEED: the three simulated plugins, as fast as possible.
sim_plugins() {
	local limit=$1 seed=$2
	for p in footfall tablet rfid; do
		cat <<CONF
plugin $p
$p.seed $seed
$p.speed 0
$p.start 2026-11-25T09:00:00Z
$p.limit $limit
CONF
	done
}

start_aggregator() {
	"$AGG" -c "$T/aggregator.conf" run >>"$T/aggregator.log" 2>&1 &
	AGG_PID=$!
	PIDS+=("$AGG_PID")
	# Frames published before the first subscription have nowhere to go.
	wait_for 100 'grep -q "subscribed to" "$T/aggregator.log"'
}

# db_count: readings stored, all kinds (a window cell counts as one).
db_count() {
	sqlite3 "$T/agg/vitrine.db" \
		"select (select count(*) from footfall)+(select count(*) from tablet)+(select count(*) from rfid)+(select count(*) from windows)" 2>/dev/null || echo 0
}

counter() { # name
	sqlite3 "$T/agg/vitrine.db" "select value from counters where name='$1'" 2>/dev/null
}

# ---- delivery accounting (the fault tests) --------------------------------

# drain_agent [SECONDS]: an agent without plugins on the same state and
# spool, until the aggregator has acknowledged everything spooled.
drain_agent() {
	grep -vE '^plugin |^[a-z_]+\.[a-z_]+ ' "$T/agent.conf" >"$T/drain.conf"
	timeout "${1:-120}" "$AGENT" -c "$T/drain.conf" --exit-when-done 2>>"$T/drain.log"
}

# spool_frames: frames the agent's spool holds now.
spool_frames() {
	"$AGENT" -c "$T/agent.conf" --spool 2>/dev/null | sed -nE 's/.*: ([0-9]+) frames,.*/\1/p'
}

# dup_rows: reading rows stored more than once (must be 0).
dup_rows() {
	sqlite3 "$T/agg/vitrine.db" "select
		(select count(*) from (select 1 from footfall group by device, seq, idx having count(*) > 1)) +
		(select count(*) from (select 1 from tablet group by device, seq, idx having count(*) > 1)) +
		(select count(*) from (select 1 from rfid group by device, seq, idx having count(*) > 1)) +
		(select count(*) from (select 1 from windows group by device, seq, idx having count(*) > 1))"
}

# frame_readings: readings the stored frames say they hold (= db_count when
# every frame's readings are all there).
frame_readings() {
	sqlite3 "$T/agg/vitrine.db" "select coalesce(sum(readings), 0) from frames"
}

# dropped_readings LOG...: readings the agents reported dropped at exit.
dropped_readings() {
	cat "$@" 2>/dev/null | sed -nE 's/.* ([0-9]+) readings dropped \(.*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }'
}

# counts NAME EMITTED DELIVERED DROPPED: the line every fault test prints.
counts() {
	local dup
	dup=$(counter rejected_duplicate)
	echo "COUNTS $1: emitted $2 / delivered $3 / duplicated ${dup:-0} frames / dropped $4${5:+ / $5}"
}

# db_lines_by_seq: the stored readings as the agent's --tap CSV lines, in
# the order of (seq, idx): equal to the tap file when everything arrived
# once and in the order the agent accepted it.
db_lines_by_seq() {
	sqlite3 "$T/agg/vitrine.db" "select line from (
		select seq, idx, 'footfall,' || site || ',' || device || ',' || time_ms || ',' ||
			door || ',' || direction || ',' || count as line from footfall
		union all select seq, idx, 'tablet,' || site || ',' || device || ',' || time_ms || ',' ||
			kiosk || ',' || event || ',' || lower(hex(session_digest)) || ',' || screen ||
			',' || gtin || ',' || duration_ms from tablet
		union all select seq, idx, 'rfid,' || site || ',' || device || ',' || time_ms || ',' ||
			reader || ',' || antenna || ',' || rssi_cdbm || ',' || gtin || ',' || filter ||
			',' || lower(hex(tag_digest)) || ',' || reads || ',' || dwell_ms from rfid
		union all select seq, idx, 'window,' || site || ',' || device || ',' || time_ms || ',' ||
			length_s || ',' || metric || ',' || dim1 || ',' || dim2 || ',' || label || ',' ||
			other || ',' || count || ',' || k || ',' || epsilon_milli from windows)
		order by seq, idx"
}

# acked_seq: the acknowledgment the agent saved in its spool (0: none).
acked_seq() {
	cat "$T/state/spool/acked" 2>/dev/null || echo 0
}

# last_spooled_seq: the newest frame in the agent's spool (0: empty).
last_spooled_seq() {
	"$AGENT" -c "$T/agent.conf" --spool --records 2>/dev/null | grep -v '^#' | tail -n 1 | cut -d' ' -f1
}

# sim_stream SEED SPEED: the three simulated plugins without a limit (a
# steady stream for the fault tests), from 10:00 UTC.
sim_stream() {
	for p in footfall tablet rfid; do
		printf 'plugin %s\n%s.seed %s\n%s.speed %s\n%s.start 2026-11-25T10:00:00Z\n' \
			"$p" "$p" "$1" "$p" "$2" "$p"
	done
}

# start_stream_agent [PREFIX...]: the agent in the background, writing every
# reading it accepts to $T/tap.csv (PREFIX, e.g. "env VAR=...", runs it).
# Sets AGENT_PID.
start_stream_agent() {
	"$@" "$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" 2>"$T/agent.log" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
}

# stop_and_drain: SIGTERM the agent, then deliver what its spool still holds.
stop_and_drain() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	drain_agent 120
	check drained [ "$(spool_frames)" = 0 ]
}

# check_all_stored: every reading the agent accepted is stored, once. Sets
# TAP (the number accepted).
check_all_stored() {
	TAP=$(wc -l <"$T/tap.csv")
	wait_for 50 '[ "$(db_count)" = "$TAP" ]'
	check every_accepted_reading_stored [ "$(db_count)" = "$TAP" ]
	check each_reading_stored_once [ "$(dup_rows)" = 0 ]
}

# check_stored_in_order: read back by (seq, idx), the database says what
# the agent accepted, line for line.
check_stored_in_order() {
	db_lines_by_seq >"$T/stored.csv"
	check stored_in_the_order_accepted cmp -s "$T/tap.csv" "$T/stored.csv"
}

# hex_stream FILE...: the bytes of the files as one line of " xx" per byte
# (lowercase hex, no line breaks), so that grep -F finds a byte string
# written the same way wherever it lies, and only on a byte boundary.
hex_stream() {
	[ "$#" -gt 0 ] || return 0
	od -An -v -tx1 "$@" | tr -d '\n'
}

# ---- anonymous mode: a reference computed from events -------------------------

# add_reference_device LIMIT SEED: device ref-01 with the three simulated
# plugins in pseudonymous mode (the same readings as events), registered
# with the aggregator; call before start_aggregator.
add_reference_device() {
	mkdir -p "$T/ref"
	write_agent_conf "$T/ref.conf" "$T/ref" ref-01
	sim_plugins "$1" "$2" >>"$T/ref.conf"
	"$AGENT" -c "$T/ref.conf" --keygen | grep '^device ' >>"$T/aggregator.conf"
}

# run_reference: ref-01's readings into $T/ref.csv, delivered and acked.
run_reference() {
	timeout 120 "$AGENT" -c "$T/ref.conf" --tap "$T/ref.csv" --exit-when-done 2>"$T/ref.log"
	check reference_run_exits_0 [ "$?" = 0 ]
}

# expected_windows K WINDOW_S DEVICE: the window cells anonymous mode must
# send for ref-01's readings (windows.awk), as DEVICE's tap lines, sorted.
expected_windows() {
	awk -F, -v k="$1" -v window_s="$2" -v device="$3" \
		-f "$VT_ROOT/tests/integration/windows.awk" "$T/ref.csv" | LC_ALL=C sort
}
