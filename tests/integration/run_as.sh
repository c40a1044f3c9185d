# run_as.sh - an agent started as root with `user` in agent.conf runs as
# that user (here: nobody), and only on state it owns:
#  - a state_dir left by root (--keygen as root) is refused with the
#    command that hands it over, and nothing in it changes owner;
#  - once handed over, the agent runs as the user and its group, with no
#    capability and no_new_privs, writes its files as the user, and
#    delivers every reading through a real broker and aggregator;
#  - a missing state_dir is made for the user (0700);
#  - an unknown user is a configuration error naming the file;
#  - root without `user` is warned about;
#  - the aggregator does the same with `user` in aggregator.conf.
# Needs root (it changes user): as anyone else it is skipped.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP run_as: needs root to change user (CI runs it as root)"
	exit 0
fi
if ! getent passwd nobody >/dev/null; then
	echo "SKIP run_as: no user nobody on this machine"
	exit 0
fi
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
chmod 711 "$T"	# the user reaches its own folders under it, and no more

PORT=$(free_port)
start_broker "$PORT" || { fail run_as_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
setup_keys	# as root: $T/state and device.key belong to root
{ echo "user nobody"; sim_stream 5 1; } >>"$T/agent.conf"
mkdir -p "$T/out" && chown nobody "$T/out"

# 1. A state_dir of root's is refused, with the fix, and left alone.
timeout 20 "$AGENT" -c "$T/agent.conf" 2>"$T/refused.log"
rc=$?
check root_state_dir_is_refused [ "$rc" = 2 ]
check refusal_names_file_and_fix grep -qF "$T/agent.conf: user nobody: $T/state belongs to uid 0, not to user nobody: the agent could not write it; give it to the user: chown -R nobody: $T/state" "$T/refused.log"
check refused_state_dir_unchanged [ "$(stat -c %u "$T/state/device.key")" = 0 ]

# 2. Handed over: the agent runs as nobody and delivers everything.
chown -R nobody: "$T/state"
start_aggregator
"$AGENT" -c "$T/agent.conf" --tap "$T/out/tap.csv" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 100 '[ -s "$T/out/tap.csv" ] && grep -q "running as user nobody" "$T/agent.log"'
status=/proc/$AGENT_PID/status
check agent_runs_as_the_user [ "$(awk '/^Uid:/ {print $2,$3,$4,$5}' "$status")" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]
check agent_runs_as_its_group [ "$(awk '/^Gid:/ {print $2,$3,$4,$5}' "$status")" = "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" ]
check agent_has_no_capability [ "$(awk '/^CapEff:/ {print $2}' "$status")" = 0000000000000000 ]
check agent_has_no_permitted_capability [ "$(awk '/^CapPrm:/ {print $2}' "$status")" = 0000000000000000 ]
check agent_has_no_new_privs [ "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" = 1 ]
check agent_not_dumpable_after_the_change [ "$(stat -c %U "/proc/$AGENT_PID/fd" 2>/dev/null)" = root ]
sleep 2
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check agent_stops_cleanly [ $? = 0 ]
foreign=$(find "$T/state" ! -user nobody | head -n 3)
check every_state_file_belongs_to_the_user [ -z "$foreign" ]
check spool_written_as_the_user [ "$(stat -c %U "$T/state/spool")" = nobody ]
TAP=$(wc -l <"$T/out/tap.csv")
check readings_accepted [ "$TAP" -ge 10 ]
wait_for 100 '[ "$(db_count)" = "$TAP" ]'
check every_reading_stored_as_the_user [ "$(db_count)" = "$TAP" ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]

# 3. A missing state_dir is made for the user.
mkdir -p "$T/fresh"
sed "s#^state_dir .*#state_dir $T/fresh/state#" "$T/agent.conf" >"$T/fresh.conf"
timeout 20 "$AGENT" -c "$T/fresh.conf" 2>"$T/fresh.log" &
fresh_pid=$!
PIDS+=("$fresh_pid")
wait_for 100 '[ -d "$T/fresh/state" ]'
kill -TERM "$fresh_pid" 2>/dev/null
wait "$fresh_pid" 2>/dev/null
check missing_state_dir_made_for_the_user [ "$(stat -c '%U %a' "$T/fresh/state")" = "nobody 700" ]

# 4. An unknown user.
sed "s#^user .*#user vt-no-such-user#" "$T/agent.conf" >"$T/unknown.conf"
timeout 20 "$AGENT" -c "$T/unknown.conf" 2>"$T/unknown.log"
rc=$?
check unknown_user_is_a_config_error [ "$rc" = 2 ]
check unknown_user_error_names_file grep -qF "$T/unknown.conf: user vt-no-such-user: no such user" "$T/unknown.log"
"$AGENT" -c "$T/unknown.conf" --check-config >/dev/null 2>"$T/unknown-check.log"
check check_config_refuses_an_unknown_user [ $? = 2 ]
check check_config_names_the_user grep -qF "$T/unknown.conf: user vt-no-such-user: no such user" "$T/unknown-check.log"

# 5. Root without `user`: a warning that says what to do.
grep -v '^user ' "$T/agent.conf" | grep -vE '^plugin |^[a-z_]+\.[a-z_]+ ' >"$T/root.conf"
mkdir -p "$T/rootstate"
sed -i "s#^state_dir .*#state_dir $T/rootstate#" "$T/root.conf"
timeout 20 "$AGENT" -c "$T/root.conf" --exit-when-done 2>"$T/root.log"
check root_without_user_is_warned grep -qF "running as root: set \`user vitrine\` in $T/root.conf" "$T/root.log"

# 6. The aggregator, with `user` in aggregator.conf: the database's folder
# of root's is refused with the fix; handed over, it runs as the user,
# having read key_file first, and stores as the user.
kill -TERM "$AGG_PID"
wait "$AGG_PID" 2>/dev/null
echo "user nobody" >>"$T/aggregator.conf"
timeout 20 "$AGG" -c "$T/aggregator.conf" run 2>"$T/agg-refused.log"
rc=$?
check aggregator_root_db_dir_is_refused [ "$rc" = 2 ]
check aggregator_refusal_names_the_fix grep -qF "$T/aggregator.conf: user nobody: $T/agg belongs to uid 0, not to user nobody: the aggregator could not write it; give it to the user: chown -R nobody: $T/agg" "$T/agg-refused.log"
chown -R nobody: "$T/agg"
mv "$T/aggregator.log" "$T/aggregator-root.log"	# start_aggregator waits for this run's line
start_aggregator
status=/proc/$AGG_PID/status
check aggregator_runs_as_the_user [ "$(awk '/^Uid:/ {print $2,$3,$4,$5}' "$status")" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ]
check aggregator_has_no_new_privs [ "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" = 1 ]
"$AGENT" -c "$T/agent.conf" --tap "$T/out/tap2.csv" 2>"$T/agent2.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 100 '[ -s "$T/out/tap2.csv" ]'
sleep 1
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
total=$((TAP + $(wc -l <"$T/out/tap2.csv")))
wait_for 100 '[ "$(db_count)" = "$total" ]'
check aggregator_stores_as_the_user [ "$(db_count)" = "$total" ]
foreign=$(find "$T/agg" ! -user nobody | head -n 3)
check aggregator_files_belong_to_the_user [ -z "$foreign" ]
sed "s#^user .*#user vt-no-such-user#" "$T/aggregator.conf" >"$T/agg-unknown.conf"
"$AGG" -c "$T/agg-unknown.conf" --check-config >/dev/null 2>"$T/agg-unknown.log"
check aggregator_check_config_refuses_an_unknown_user [ $? = 2 ]
check aggregator_unknown_user_named grep -qF "$T/agg-unknown.conf: user vt-no-such-user: no such user" "$T/agg-unknown.log"
