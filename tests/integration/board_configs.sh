# board_configs.sh - every board's default agent.conf (boards/*/agent.conf)
# is one the agent accepts once its CHANGE-ME values are filled in: a
# renamed key or a bad value in a shipped file fails here, not on a Pi.
. "$(dirname "$0")/lib.sh"

# A CA and a device certificate, made here, for the tls_* lines.
(
	cd "$T" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=vitrine test CA" -keyout ca.key -out ca.crt || exit 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=test\/test" -keyout device.key -out device.csr || exit 1
	openssl x509 -req -in device.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 2 -out device.crt || exit 1
) >"$T/openssl.log" 2>&1 || { fail certificates_made "openssl failed: $(tail -3 "$T/openssl.log")"; exit 1; }

# The user the package makes (vitrine), where it exists; else one every
# system has: --check-config refuses a user that does not exist.
run_user=vitrine
getent passwd vitrine >/dev/null || run_user=nobody
n=0
for conf in "$VT_ROOT"/boards/*/agent.conf; do
	board=$(basename "$(dirname "$conf")")
	n=$((n + 1))
	mkdir -p "$T/$board/state" "$T/$board/plugins"
	# The placeholders a person replaces, the absolute paths of a device
	# replaced by this test's folders, and the plugins of this build.
	sed -e 's/^aggregator_key .*/aggregator_key '"$(printf '%064d' 7)"'/' \
	    -e 's/CHANGE-ME-reader-address/127.0.0.1/' \
	    -e 's/CHANGE-ME-broker.example:8883/127.0.0.1:8883/' \
	    -e 's/CHANGE-ME-[a-z-]*/test/' \
	    -e "s#^state_dir .*#state_dir $T/$board/state#" \
	    -e "s#^plugin_dir .*#plugin_dir $PLUGIN_DIR#" \
	    -e "s#^user .*#user $run_user#" \
	    -e "s#/etc/vitrine/#$T/$board/#" "$conf" >"$T/$board/agent.conf"
	if grep -v '^#' "$T/$board/agent.conf" | grep -q 'CHANGE-ME'; then
		fail "${board}_config_placeholders" "a CHANGE-ME left that this test does not know: $(grep -v '^#' "$T/$board/agent.conf" | grep CHANGE-ME | head -1)"
		continue
	fi
	cp "$T/ca.crt" "$T/device.crt" "$T/device.key" "$T/$board/"
	if "$AGENT" -c "$T/$board/agent.conf" --check-config >"$T/$board/check.log" 2>&1; then
		pass "${board}_agent_conf_is_valid"
	else
		fail "${board}_agent_conf_is_valid" "$(head -c 300 "$T/$board/check.log")"
	fi
done
# host is the build machine itself: its configuration is the demo's.
check every_device_board_ships_an_agent_conf [ "$n" -ge 3 ]
