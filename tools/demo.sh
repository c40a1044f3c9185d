#!/usr/bin/env bash
# tools/demo.sh - the local demo behind `make run`: a real mosquitto on a
# free 127.0.0.1 port, vitrine-aggregator, and three boutiques, each a
# vitrine-agent with the three plugins in the default, anonymous mode,
# running a simulated day from opening time at four simulated minutes per
# second (10:00-19:00 in about 2 min 15 s). Door beams and kiosks are the
# plugins' simulations; each store's RFID reader is vitrine-llrp-sim, a
# reader that speaks LLRP over TCP, on the same simulated clock. The aggregator's
# live view shows the key figures of each store as the windows arrive.
# Ctrl-C stops everything, writes the HTML report of the day and leaves no
# process behind.
#
# Set up as in production: the broker listens with TLS only and requires a
# client certificate (a CA and certificates made here with openssl), each
# client is named by its certificate's CN and may use only its own topics
# (an ACL from vitrine-ctl acl), and the agents take fleet bundles signed
# with an ops key made here (vitrine-ctl, with ctl.conf in the demo folder).
#
# Environment: O (build dir), VT_DEMO_DIR (keep state there instead of a
# temporary directory), VT_DEMO_SPEED (simulated seconds per second, 240),
# VT_DEMO_STORES (how many stores, 1 to 3, 3), VT_DEMO_SECONDS (stop by
# itself after that many seconds, as Ctrl-C would; for tests).
set -u
cd "$(dirname "$0")/.."
O=${O:-build/host}
case "$O" in /*) ;; *) O="$PWD/$O" ;; esac
SPEED=${VT_DEMO_SPEED:-240}
STORES=${VT_DEMO_STORES:-3}
SITES=(cannes-croisette cannes-antibes nice-massena)
dir=${VT_DEMO_DIR:-$(mktemp -d /tmp/vitrine-demo-XXXXXX)}
mkdir -p "$dir/agg"
pids=()

stop_all() {
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo
	if "$O/vitrine-aggregator" -c "$dir/aggregator.conf" report --html "$dir/report.html" \
		>"$dir/report.txt" 2>&1; then
		echo "vitrine demo: the day's report is $dir/report.html (open it in a browser)"
	fi
	echo "vitrine demo stopped; logs and database kept in $dir"
	exit 0
}
trap stop_all INT TERM EXIT

for tool in mosquitto sqlite3 openssl; do
	command -v "$tool" >/dev/null || { echo "demo: '$tool' not found: run 'make deps' first" >&2; exit 1; }
done

# free_port: a port nothing listens on, above the kernel's ephemeral ports
# (32768-60999: an outgoing connection cannot take it before our server
# listens) and the tests' own ranges (20000-32000), and not one this run
# already chose (a server started in the background may not listen yet).
chosen_ports=" "
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((61000 + RANDOM % 4500))
		case "$chosen_ports" in *" $p "*) continue ;; esac
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	echo "demo: no free port found" >&2
	return 1
}
port=$(free_port) || exit 1
chosen_ports+="$port "

# The PKI: a CA, the broker's certificate for 127.0.0.1, and one client
# certificate per agent (CN <site>/<device>), aggregator and ops tool.
pki=$dir/pki
mkdir -p "$pki"
cert() { # NAME CN [SAN]
	[ -f "$pki/$1.crt" ] && return 0
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${2//\//\\/}" \
		-keyout "$pki/$1.key" -out "$pki/$1.csr" &&
		printf '%s\n' "${3:-extendedKeyUsage=clientAuth}" >"$pki/$1.ext" &&
		openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
			-CAcreateserial -days 365 -extfile "$pki/$1.ext" -out "$pki/$1.crt"
}
{
	[ -f "$pki/ca.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -days 365 -subj "/CN=vitrine demo CA" -keyout "$pki/ca.key" -out "$pki/ca.crt"
	cert server 127.0.0.1 "subjectAltName=IP:127.0.0.1"
	cert aggregator vitrine-aggregator
	cert ops vitrine-ops
	for i in $(seq 0 $((STORES - 1))); do
		cert "agent-${SITES[$i]}" "${SITES[$i]}/pi-${SITES[$i]}"
	done
} >"$dir/openssl.log" 2>&1 || { echo "demo: openssl failed, see $dir/openssl.log" >&2; exit 1; }
chmod 600 "$pki"/*.key
# mosquitto started as root runs as its own user: it reads its certificate,
# key and ACL from here (throw-away demo keys).
chmod 755 "$dir" "$pki" && chmod 644 "$pki/server.key"

# Fleet groups: every store in "demo", the Cannes ones in "cannes" too.
groups_of() {
	case $1 in cannes-*) echo demo,cannes ;; *) echo demo ;; esac
}

# Who may do what on the broker: vitrine-ctl acl, from the fleet inventory.
{
	echo "# the demo fleet: the Cannes stores in groups demo and cannes"
	for i in $(seq 0 $((STORES - 1))); do
		site=${SITES[$i]}
		echo "device $site/pi-$site $(groups_of "$site")"
	done
	echo "aggregator vitrine-aggregator"
	echo "ops vitrine-ops"
} >"$dir/fleet.conf"
"$O/vitrine-ctl" acl -o "$dir/acl.conf" "$dir/fleet.conf" 2>/dev/null || exit 1
[ -f "$dir/ops.key" ] || "$O/vitrine-ctl" keygen --key "$dir/ops.key" --pub "$dir/ops.pub" >/dev/null || exit 1
cat >"$dir/ctl.conf" <<CONF
broker 127.0.0.1:$port
tls_ca $pki/ca.crt
tls_cert $pki/ops.crt
tls_key $pki/ops.key
CONF

cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
persistence false
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
require_certificate true
use_identity_as_username true
acl_file $dir/acl.conf
allow_anonymous false
CONF
mosquitto -c "$dir/mosquitto.conf" >"$dir/mosquitto.log" 2>&1 &
pids+=($!)

cat >"$dir/aggregator.conf" <<CONF
broker 127.0.0.1:$port
database $dir/agg/vitrine.db
key_file $dir/agg/aggregator.key
tls_ca $pki/ca.crt
tls_cert $pki/aggregator.crt
tls_key $pki/aggregator.key
CONF
if [ ! -f "$dir/agg/aggregator.key" ]; then
	agg_pub=$("$O/vitrine-aggregator" -c "$dir/aggregator.conf" keygen | tail -n 1) || exit 1
else
	agg_pub=$("$O/vitrine-aggregator" -c "$dir/aggregator.conf" pubkey | tail -n 1) || exit 1
fi
# One agent per store: its own device id, state, keys and random seeds.
# Each runs in the default, anonymous mode with k=10, but with one-hour
# windows, one door and three kiosks: counts are kept per window, door and
# kiosk, and a boutique of this size would otherwise fall below k in most
# of its 15-minute cells (about 35 people an hour through two doors, 5
# kiosk sessions an hour per kiosk), which the devices would withhold. The
# day starts just before opening time.
write_agent_conf() {
	local site=$1 state=$2
	cat <<CONF
# vitrine-agent demo configuration (see vitrine-agent --help)
site $site
device pi-$site
broker 127.0.0.1:$port
aggregator_key $agg_pub
state_dir $state
plugin_dir $O/plugins
tls_ca $pki/ca.crt
tls_cert $pki/agent-$site.crt
tls_key $pki/agent-$site.key
fleet_ops_key $dir/ops.pub
batch_max_age_ms 1000
privacy_window_s 3600
footfall.doors 1
tablet.kiosks 3
CONF
	for g in $(groups_of "$site" | tr , ' '); do echo "group $g"; done
	for p in footfall tablet; do
		printf 'plugin %s\n%s.seed %s\n%s.speed %s\n' "$p" "$p" "$RANDOM" "$p" "$SPEED"
		printf '%s.start %sT09:50:00Z\n' "$p" "$(date -u +%F)"
	done
	printf 'plugin rfid\nrfid.source llrp\nrfid.llrp_readers 127.0.0.1:%s\n' "$3"
}
# start_reader SITE PORT: the store's simulated LLRP reader.
start_reader() {
	"$O/vitrine-llrp-sim" --port "$2" --seed "$RANDOM" --start "$(date -u +%F)T09:50:00Z" \
		--speed "$SPEED" >"$dir/reader-$1.log" 2>&1 &
	pids+=($!)
}
for i in $(seq 0 $((STORES - 1))); do
	site=${SITES[$i]}
	mkdir -p -m 700 "$dir/state-$site"
	reader_port=$(free_port) || exit 1
	chosen_ports+="$reader_port "
	start_reader "$site" "$reader_port"
	write_agent_conf "$site" "$dir/state-$site" "$reader_port" >"$dir/agent-$site.conf"
	if [ -f "$dir/state-$site/device.key" ]; then key=--pubkey; else key=--keygen; fi
	"$O/vitrine-agent" -c "$dir/agent-$site.conf" $key | grep '^device ' >>"$dir/aggregator.conf"
done

for _ in $(seq 1 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.1
done
"$O/vitrine-aggregator" -c "$dir/aggregator.conf" run >"$dir/aggregator.log" 2>&1 &
pids+=($!)
for i in $(seq 0 $((STORES - 1))); do
	site=${SITES[$i]}
	"$O/vitrine-agent" -c "$dir/agent-$site.conf" >"$dir/agent-$site.log" 2>&1 &
	pids+=($!)
done
echo "vitrine demo: $STORES stores, broker 127.0.0.1:$port (TLS with client certificates, ACL), state and logs in $dir"
echo "the fleet, from another terminal: $O/vitrine-ctl -c $dir/ctl.conf devices"
echo "Ctrl-C stops and writes the HTML report of the day"
sleep 1
"$O/vitrine-aggregator" -c "$dir/aggregator.conf" watch &
pids+=($!)
if [ -n "${VT_DEMO_SECONDS:-}" ]; then
	sleep "$VT_DEMO_SECONDS"
	stop_all
fi
wait "${pids[-1]}"
