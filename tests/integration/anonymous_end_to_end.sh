# anonymous_end_to_end.sh - the default privacy mode, end to end, with real
# parts (mosquitto, aggregator, agent with the three simulated plugins):
#  - only window counts leave the device: no event of any kind is stored;
#  - every count sent is at least k (R6), windows have the configured length;
#    (k 5 and hour-long windows, so that a small simulated boutique shows
#    every metric; the defaults, k 10 and 15 minutes, have unit tests)
#  - the counts are exactly those computed independently (windows.awk) from
#    the same simulation run in pseudonymous mode on a second device;
#  - every count the agent sent is stored once, field for field.
. "$(dirname "$0")/lib.sh"

LIMIT=1500
SEED=11
PORT=$(free_port)
start_broker "$PORT" || { fail anon_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
PRIVACY_MODE=anonymous setup_keys
sim_plugins "$LIMIT" "$SEED" >>"$T/agent.conf"
printf 'privacy_k 5\nprivacy_window_s 3600\n' >>"$T/agent.conf"

add_reference_device "$LIMIT" "$SEED"
start_aggregator
run_reference
timeout 120 "$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/agent.log"
check anonymous_run_exits_0 [ "$?" = 0 ]

cells=$(wc -l <"$T/tap.csv")
check anonymous_mode_sends_only_window_counts [ "$(grep -vc '^window,' "$T/tap.csv")" = 0 ]
check windows_of_every_metric_were_sent \
	[ "$(cut -d, -f6 "$T/tap.csv" | sort -u | wc -l)" = 6 ]
check every_count_sent_is_at_least_k \
	[ "$(awk -F, '$11 < 5 || $12 != 5' "$T/tap.csv" | wc -l)" = 0 ]
check windows_have_the_configured_length \
	[ "$(awk -F, '$5 != 3600 || $4 % 3600000 != 0' "$T/tap.csv" | wc -l)" = 0 ]
check some_counts_were_merged_into_other [ "$(awk -F, '$10 == 1' "$T/tap.csv" | wc -l)" -ge 1 ]

expected_windows 5 3600 pi-01 >"$T/expected.csv"
LC_ALL=C sort "$T/tap.csv" >"$T/tap.sorted"
if cmp -s "$T/expected.csv" "$T/tap.sorted"; then
	pass counts_equal_those_computed_from_the_simulation
else
	fail counts_equal_those_computed_from_the_simulation \
		"expected $(wc -l <"$T/expected.csv") cells, sent $cells; first difference: $(diff "$T/expected.csv" "$T/tap.sorted" | head -3 | tr '\n' ' ')"
fi

wait_for 100 '[ "$(sqlite3 "$T/agg/vitrine.db" "select count(*) from windows where device = '"'pi-01'"'" 2>/dev/null || echo 0)" -ge "$cells" ]'
"$AGG" -c "$T/aggregator.conf" export 2>>"$T/aggregator.log" | grep '^window,[^,]*,pi-01,' >"$T/export.csv"
check every_count_stored_once_field_for_field cmp -s "$T/tap.sorted" "$T/export.csv"
events=$(sqlite3 "$T/agg/vitrine.db" "select (select count(*) from footfall where device = 'pi-01') +
	(select count(*) from tablet where device = 'pi-01') + (select count(*) from rfid where device = 'pi-01')")
check no_event_of_the_anonymous_device_stored [ "$events" = 0 ]
check agent_says_what_privacy_withheld grep -q 'privacy: plugin rfid (anonymous): [0-9]* windows released' "$T/agent.log"

# The egress log (R14) says what left: window counts and status, no event.
"$AGENT" -c "$T/agent.conf" --egress >"$T/egress.txt" 2>&1
check egress_log_is_intact [ "$?" = 0 ]
check egress_log_lists_window_counts grep -q '^category  footfall.windows ' "$T/egress.txt"
check egress_log_lists_no_event [ "$(grep -c '^category  [a-z]*\.events' "$T/egress.txt")" = 0 ]
items=$(awk '$1 == "category" && $2 ~ /windows$/ { s += $6 } END { print s + 0 }' "$T/egress.txt")
check egress_log_counts_every_window_count [ "$items" = "$cells" ]
