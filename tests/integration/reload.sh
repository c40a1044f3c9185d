#!/usr/bin/env bash
# reload.sh - SIGHUP reloads agent.conf. A broken file is refused with its
# file and line, and the agent keeps running as before; a valid one that
# adds a plugin and removes another is run without a restart (the plugins
# are swapped in process); one that changes more is run by executing the
# agent again in place (same process id). Every reading the agent accepted
# before and after is stored exactly once.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT"
setup_keys
cp "$T/agent.conf" "$T/base.conf"
printf 'plugin footfall\nfootfall.seed 3\nfootfall.speed 1200\nfootfall.start 2026-11-25T10:00:00Z\n' \
	>>"$T/agent.conf"
start_aggregator
start_stream_agent
wait_for 200 '[ "$(db_count)" -gt 0 ]'

# A typo: refused, nothing changes.
cp "$T/agent.conf" "$T/good.conf"
printf 'plugin tablet\ntablet.kiosk 2\n' >>"$T/agent.conf"
kill -HUP "$AGENT_PID"
wait_for 50 'grep -q "still running the configuration loaded at start" "$T/agent.log"'
check reload_refuses_a_broken_file grep -q "agent.conf:[0-9]*: .*tablet.kiosk" "$T/agent.log"
check reload_refused_keeps_running kill -0 "$AGENT_PID"
before=$(db_count)
wait_for 100 '[ "$(db_count)" -gt "$before" ]'
check reload_refused_keeps_collecting [ "$(db_count)" -gt "$before" ]
check reload_refused_does_not_restart [ "$(grep -c 'restarting to run' "$T/agent.log")" = 0 ]

# A valid edit of plugins only: footfall out, tablet and rfid in. They are
# swapped in process: no restart, no new broker session.
{ cat "$T/base.conf"; sim_stream 5 60 | grep -v '^plugin footfall\|^footfall\.'; } >"$T/agent.conf"
kill -HUP "$AGENT_PID"
wait_for 100 'grep -q "reloaded: 1 plugins stopped, 2 of 2 configured started" "$T/agent.log"'
check reload_swaps_plugins_in_process grep -q "reloaded: 1 plugins stopped, 2 of 2 configured started" "$T/agent.log"
check reload_of_plugins_does_not_restart [ "$(grep -c 'restarting to run' "$T/agent.log")" = 0 ]
check reload_of_plugins_keeps_the_broker_session [ "$(grep -c 'connected; publishing' "$T/agent.log")" = 1 ]
mark=$(db_count)
wait_for 100 '[ "$(sqlite3 "$T/agg/vitrine.db" "select (select count(*) from tablet) > 0 and (select count(*) from rfid) > 0")" = 1 ]'
check reload_runs_the_new_plugins [ "$(sqlite3 "$T/agg/vitrine.db" "select (select count(*) from tablet) > 0 and (select count(*) from rfid) > 0")" = 1 ]

# An edit beyond plugins (a batch size): the agent runs it by executing
# itself again in place.
sed -i 's/^batch_max_readings .*/batch_max_readings 33/' "$T/agent.conf"
kill -HUP "$AGENT_PID"
wait_for 100 'grep -q "restarting to run the reloaded configuration" "$T/agent.log"'
check reload_of_more_restarts_in_place grep -q "restarting to run the reloaded configuration" "$T/agent.log"
check reload_keeps_the_process_id kill -0 "$AGENT_PID"
wait_for 100 '[ "$(grep -c "connected; publishing" "$T/agent.log")" = 2 ]'
before=$(db_count)
wait_for 100 '[ "$(db_count)" -gt "$before" ]'
check reload_restarted_agent_collects [ "$(db_count)" -gt "$before" ]
stop_and_drain
check_all_stored
