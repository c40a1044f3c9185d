# config_and_plugins.sh - configuration errors name file, line and what was
# expected and exit 2; a plugin that cannot load is refused with a clear
# message and the agent runs on with the others; a plugin whose source
# fails is reported, retried, and loses nothing.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT"
setup_keys

cp "$T/agent.conf" "$T/bad.conf"
printf '\n\n\nbrokr 127.0.0.1:1883\n' >>"$T/bad.conf"
line=$(grep -n '^brokr' "$T/bad.conf" | cut -d: -f1)
out=$("$AGENT" -c "$T/bad.conf" --check-config 2>&1); rc=$?
check broken_line_exits_2 [ "$rc" = 2 ]
check broken_line_names_file_line_and_expected \
	grep -q "bad.conf:$line: unknown key 'brokr' (expected one of: site, device, broker" <<<"$out"

cp "$T/agent.conf" "$T/badplugin.conf"
printf 'plugin rfid\nrfid.sed 4\n' >>"$T/badplugin.conf"
line=$(grep -n '^rfid.sed' "$T/badplugin.conf" | cut -d: -f1)
out=$("$AGENT" -c "$T/badplugin.conf" --check-config 2>&1); rc=$?
check unknown_plugin_key_exits_2 [ "$rc" = 2 ]
check unknown_plugin_key_named grep -q "badplugin.conf:$line: unknown key 'rfid.sed' (expected one of: .*seed" <<<"$out"

out=$("$AGENT" -c "$T/agent.conf" --check-config 2>&1); rc=$?
check valid_config_passes_check [ "$rc" = 0 ]

# A missing plugin, an ABI mismatch and an ABI 1.0 plugin (no field
# declarations): refused, the others (an ABI 1.1 plugin too) run.
cp "$T/agent.conf" "$T/mixed.conf"
printf 'plugin nosuch\nplugin %s\n' "$O/tests/abi/abi_major2.so" >>"$T/mixed.conf"
printf 'plugin %s\nplugin %s\nabi_v1_1.limit 5\n' "$O/tests/abi/abi_v1_0.so" \
	"$O/tests/abi/abi_v1_1.so" >>"$T/mixed.conf"
sim_plugins 20 1 >>"$T/mixed.conf"
start_aggregator
timeout 30 "$AGENT" -c "$T/mixed.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/mixed.log"; rc=$?
check missing_plugin_named grep -q 'nosuch.so: cannot load plugin' "$T/mixed.log"
check abi_mismatch_names_both_versions grep -q 'ABI 2.3, this agent speaks ABI 1.2' "$T/mixed.log"
check plugin_without_field_declarations_refused \
	grep -q 'plugin abi_v1_0 declares no fields (built for ABI 1.0?)' "$T/mixed.log"
check agent_runs_on_with_loaded_plugins grep -q '4 of 7 configured plugins loaded' "$T/mixed.log"
check abi_1_1_plugin_delivers [ "$(grep -c '^footfall,.*,1,in,1$' "$T/tap.csv")" -ge 5 ]
check agent_with_refused_plugins_exits_0 [ "$rc" = 0 ]
wait_for 100 '[ "$(db_count)" -ge "$(wc -l <"$T/tap.csv")" ]'
check agent_with_refused_plugins_delivers [ "$(db_count)" = "$(wc -l <"$T/tap.csv")" ]

# A source that fails every 7 readings: reported, retried, nothing lost.
stored_before=$(db_count)
cp "$T/agent.conf" "$T/flaky.conf"
sim_plugins 40 2 >>"$T/flaky.conf"
echo "rfid.fail_every 7" >>"$T/flaky.conf"
timeout 120 "$AGENT" -c "$T/flaky.conf" --tap "$T/tap2.csv" --exit-when-done 2>"$T/flaky.log"; rc=$?
check failing_source_reported grep -q 'plugin rfid: source failed' "$T/flaky.log"
check failing_source_recovers grep -q 'plugin rfid: source recovered' "$T/flaky.log"
expected=$(wc -l <"$T/tap2.csv")
# Reads below the RSSI floor are withheld by the privacy stage, and counted.
withheld=$(sed -nE 's/.*plugin rfid: ([0-9]+) reads withheld.*/\1/p' "$T/flaky.log")
check failing_source_loses_nothing [ "$(($(grep -c '^rfid,' "$T/tap2.csv") + ${withheld:-0}))" = 40 ]
wait_for 100 '[ "$(db_count)" -ge "$((stored_before + expected))" ]'
check failing_source_readings_all_stored [ "$(db_count)" = "$((stored_before + expected))" ]

# --help and --version on both binaries.
check agent_help_is_a_manual grep -q 'EXIT STATUS' <<<"$("$AGENT" --help)"
check agent_version grep -q 'plugin ABI 1.2' <<<"$("$AGENT" --version)"
check aggregator_help grep -qi 'usage\|synopsis' <<<"$("$AGG" --help)"
check aggregator_version grep -q '[0-9]\.[0-9]' <<<"$("$AGG" --version)"
