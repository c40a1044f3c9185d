# tests/bench/collectd.sh - sourced by tests/bench/run.sh: the baseline of
# collectd (Debian's collectd-core, 5.12), whose mqtt plugin publishes one
# message per value, fed the same stream of readings as vitrine and the
# JSON publisher.
#
#   collectd_baseline TAP PORT   prints a table row, writes
#                                baseline.collectd.* lines to $BENCH_OUT
#
# Each reading of TAP (the agent's --tap CSV) becomes one value: a gauge
# per door, kiosk or reader (footfall count, tablet duration, RFID RSSI),
# fed by collectd's exec plugin as PUTVAL lines with strictly increasing
# times (collectd drops a value not newer than the last of its series).
# collectd publishes each to PORT at QoS 0, its default: at QoS 1 (what
# vitrine and the JSON publisher use) a fifth of 2,889 values had still not
# reached the broker 5 s after the last was fed (collectd 5.12 here), so
# the baseline runs without delivery guarantee, which flatters its CPU
# (no acknowledgments) and its bytes (no packet id). A subscriber counts the
# messages and their sizes, and collectd's CPU (user + system, the feeding
# script not included: it runs as another process) is read from /proc once
# every value has reached the broker. Skipped, with the command that
# installs it, where collectd is not installed.

collectd_baseline() {
	local tap=$1 port=$2 n dir pid cpu1 got
	if [ ! -x /usr/sbin/collectd ] || [ ! -f /usr/lib/collectd/mqtt.so ]; then
		echo "| collectd 5.12, mqtt plugin | not installed here: apt-get install collectd-core | | | |"
		echo "baseline.collectd.skipped 1" >>"$BENCH_OUT"
		return 0
	fi
	n=$(wc -l <"$tap")
	dir=$(mktemp -d /tmp/vt-collectd-XXXXXX)
	chmod 755 "$dir"
	# The values, as PUTVAL lines: 1 ms apart from a fixed start.
	awk -F, 'BEGIN { t = 1795600000 }
	$1 == "footfall" { id = "vitrine-footfall/gauge-door" $5; v = $7 }
	$1 == "tablet"   { id = "vitrine-tablet/gauge-kiosk" $5; v = $10 }
	$1 == "rfid"     { id = "vitrine-rfid/gauge-reader" $5; v = $7 }
	{ printf "PUTVAL \"bench/%s\" interval=1 %.3f:%s\n", id, t + NR / 1000, v == "" ? 0 : v }' \
		"$tap" >"$dir/values"
	printf '#!/bin/sh\ncat %s/values\nexec sleep 3600\n' "$dir" >"$dir/feed.sh"
	chmod 755 "$dir/feed.sh"
	chmod 644 "$dir/values"
	cat >"$dir/collectd.conf" <<CONF
Hostname "bench"
FQDNLookup false
Interval 10
BaseDir "$dir"
PIDFile "$dir/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
WriteQueueLimitHigh 10000000
WriteQueueLimitLow 10000000
LoadPlugin logfile
<Plugin logfile>
  LogLevel "warning"
  File "$dir/collectd.log"
</Plugin>
LoadPlugin exec
<Plugin exec>
  Exec "nobody" "$dir/feed.sh"
</Plugin>
LoadPlugin mqtt
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "$port"
    ClientId "collectd-bench"
    Prefix "collectd"
    QoS 0
    StoreRates false
  </Publish>
</Plugin>
CONF
	# Every message: payload length and topic. Done when all have come,
	# or none for 5 s (collectd drops what it cannot parse or queue).
	mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'collectd/#' -F '%l %t' \
		>"$dir/wire" 2>/dev/null &
	local sub=$! last=-1 still=0
	sleep 0.3
	/usr/sbin/collectd -f -C "$dir/collectd.conf" >"$dir/stdout" 2>&1 &
	pid=$!
	while :; do
		sleep 0.5
		got=$(wc -l <"$dir/wire")
		[ "$got" -ge "$n" ] && break
		if [ "$got" = "$last" ]; then still=$((still + 1)); else still=0; fi
		[ "$still" -ge 10 ] && break
		last=$got
	done
	cpu1=$(cpu_of "$pid")
	kill "$pid" "$sub" 2>/dev/null
	wait "$pid" "$sub" 2>/dev/null
	pkill -u nobody -f "$dir/feed.sh" 2>/dev/null
	awk -v out="$BENCH_OUT" -v n="$n" -v got="$got" -v cpu="$cpu1" '
	{ tl = length($2); rem = 2 + tl + $1	# QoS 0: topic length, topic, payload
	  w += 1 + (rem < 128 ? 1 : rem < 16384 ? 2 : 3) + rem; p += $1 }
	END {
		printf "| collectd 5.12, mqtt plugin, one message per value (QoS 0) | %d | %d | %.2f | %.1f |\n",
			n, got, cpu * 1e6 / n, (got ? w / got : 0)
		if (got < n) printf "\ncollectd published %d of %d values (see its log)\n", got, n
		printf "baseline.collectd.values %d\nbaseline.collectd.messages %d\n", n, got >>out
		printf "baseline.collectd.cpu_us_per_value %.3f\n", cpu * 1e6 / n >>out
		printf "baseline.collectd.bytes_per_value %.2f\n", (got ? w / got : 0) >>out }' "$dir/wire"
	[ "${VT_KEEP:-0}" = 1 ] || rm -rf "$dir"
}
