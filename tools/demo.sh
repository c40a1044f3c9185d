#!/usr/bin/env bash
# tools/demo.sh - the local demo behind `make run`: a real mosquitto on a
# free 127.0.0.1 port, vitrine-aggregator, one vitrine-agent with the three
# simulated plugins (one simulated minute per second) in its default,
# anonymous mode, and the aggregator's live view of the counts per window.
# Ctrl-C stops everything; no process is left behind.
#
# Environment: O (build dir), VT_DEMO_DIR (keep state there instead of a
# temporary directory), VT_DEMO_SPEED (simulated seconds per second, 60).
set -u
cd "$(dirname "$0")/.."
O=${O:-build/host}
case "$O" in /*) ;; *) O="$PWD/$O" ;; esac
SPEED=${VT_DEMO_SPEED:-60}
dir=${VT_DEMO_DIR:-$(mktemp -d /tmp/vitrine-demo-XXXXXX)}
mkdir -p "$dir/agg" "$dir/state"
pids=()

stop_all() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo
	echo "vitrine demo stopped; logs and database kept in $dir"
	exit 0
}
trap stop_all INT TERM EXIT

for tool in mosquitto sqlite3; do
	command -v "$tool" >/dev/null || { echo "demo: '$tool' not found: run 'make deps' first" >&2; exit 1; }
done

port=""
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo: no free port found" >&2; exit 1; }

cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
CONF
mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
pids+=($!)

cat >"$dir/aggregator.conf" <<CONF
broker 127.0.0.1:$port
database $dir/agg/vitrine.db
key_file $dir/agg/aggregator.key
CONF
if [ ! -f "$dir/agg/aggregator.key" ]; then
	agg_pub=$("$O/vitrine-aggregator" -c "$dir/aggregator.conf" keygen | tail -n 1) || exit 1
else
	agg_pub=$("$O/vitrine-aggregator" -c "$dir/aggregator.conf" pubkey | tail -n 1) || exit 1
fi
{
	cat <<CONF
# vitrine-agent demo configuration (see vitrine-agent --help)
site cannes-croisette
device kiosk-01
broker 127.0.0.1:$port
aggregator_key $agg_pub
state_dir $dir/state
plugin_dir $O/plugins
batch_max_age_ms 1000
CONF
	for p in footfall tablet rfid; do
		printf 'plugin %s\n%s.seed %s\n%s.speed %s\n' "$p" "$p" "$RANDOM" "$p" "$SPEED"
	done
	# The agent runs with its default privacy settings (anonymous mode:
	# counts per 15-minute window, k=10), what ships. Start ten simulated
	# minutes before a window boundary, ahead of the lunchtime peak: the
	# first window closes about 10 s in, then one every 15 s, and watch
	# shows each as it arrives.
	for p in footfall tablet rfid; do printf '%s.start %sT11:50:00Z\n' "$p" "$(date -u +%F)"; done
} >"$dir/agent.conf"
if [ ! -f "$dir/state/device.key" ]; then
	"$O/vitrine-agent" -c "$dir/agent.conf" --keygen | grep '^device ' >>"$dir/aggregator.conf"
fi

for _ in $(seq 1 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.1
done
"$O/vitrine-aggregator" -c "$dir/aggregator.conf" run >"$dir/aggregator.log" 2>&1 &
pids+=($!)
"$O/vitrine-agent" -c "$dir/agent.conf" >"$dir/agent.log" 2>&1 &
pids+=($!)
echo "vitrine demo: broker 127.0.0.1:$port, state and logs in $dir; Ctrl-C stops"
sleep 1
"$O/vitrine-aggregator" -c "$dir/aggregator.conf" watch &
pids+=($!)
wait "${pids[-1]}"
