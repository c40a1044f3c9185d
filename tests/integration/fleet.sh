# fleet.sh - fleet operations end to end: 20 real agents in 3 groups on a
# real broker, bundles signed and published with vitrine-ctl.
#  - a configuration pushed to one group is applied by each member and by
#    no other device; vitrine-ctl devices shows the new version;
#  - a tampered bundle, a bundle signed by an unknown key, a replayed older
#    bundle, an older version and a signed configuration that would weaken
#    a privacy floor are refused and reported, the running
#    configuration stays; the same older version signed as a rollback is
#    applied;
#  - an agent offline during a push converges when it comes back;
#  - a bundle that breaks health (a plugin that does not start) is rolled
#    back by the device, and a wave rollout stops after its first wave;
#  - a rollout whose waves pass ends on the group topic; vitrine-ctl
#    rollback takes the group back to a kept older bundle;
#  - a plugin shipped as a bundle runs; one the loader refuses is rolled
#    back and the previous plugin runs again;
#  - an agent killed with SIGKILL while applying bundles runs the old or
#    the new configuration afterwards, never a mix.
# The configurations change privacy_k and privacy_window_s, which the
# status reports, so what runs is seen from outside.
. "$(dirname "$0")/lib.sh"

CTL="$O/vitrine-ctl"
PORT=$(free_port)
start_broker "$PORT"
mkdir -p "$T/agg" "$T/ops"
cat >"$T/aggregator.conf" <<CONF
broker 127.0.0.1:${PORT}
database $T/agg/vitrine.db
key_file $T/agg/aggregator.key
CONF
AGG_PUB=$("$AGG" -c "$T/aggregator.conf" keygen | tail -n 1)
"$CTL" keygen --key "$T/ops/ops.key" --pub "$T/ops/ops.pub" >"$T/keygen.out" 2>&1
"$CTL" keygen --key "$T/ops/rogue.key" --pub "$T/ops/rogue.pub" >/dev/null 2>&1
check keygen_writes_a_private_key_0600 test "$(stat -c %a "$T/ops/ops.key")" = 600

SITE=s1
group_of() { # device number -> group
	if [ "$1" -le 7 ]; then echo ga; elif [ "$1" -le 14 ]; then echo gb; else echo gc; fi
}
dev() { printf 'd%02d' "$1"; }

# start_device N: agent N with the footfall simulator (a few readings at
# each start, enough for the health check).
start_device() {
	local n=$1 d
	d=$(dev "$n")
	"$AGENT" -c "$T/$d/agent.conf" 2>>"$T/$d/agent.log" &
	eval "PID_$d=$!"
	PIDS+=("$!")
}
for n in $(seq 1 20); do
	d=$(dev "$n")
	mkdir -p "$T/$d/state"
	write_agent_conf "$T/$d/agent.conf" "$T/$d/state" "$d"
	cat >>"$T/$d/agent.conf" <<CONF
group $(group_of "$n")
group all
fleet_ops_key $T/ops/ops.pub
fleet_trial_s 5
status_interval_s 2
keepalive_s 5
plugin footfall
footfall.speed 0
footfall.limit 30
footfall.seed $n
CONF
	"$AGENT" -c "$T/$d/agent.conf" --keygen >/dev/null 2>&1
	start_device "$n"
done

status() { # DEVICE: its retained status
	timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "vitrine/v1/$SITE/$1/status" -C 1 2>/dev/null
}
# field DEVICE PYTHON-EXPRESSION over the status s: prints its value.
field() {
	status "$1" | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
    f = s.get("fleet") or {}
    print(eval(sys.argv[1]))
except Exception as e:
    print("?", e)' "$2"
}
running() { # DEVICE: "k/window_s/config version/last outcome"
	field "$1" '"%s/%s/%s/%s" % (s["privacy"]["k"], s["privacy"]["window_s"], (f.get("config") or {}).get("version", "local"), (f.get("last") or {}).get("outcome", "-"))'
}
online_count() {
	"$CTL" devices --broker "127.0.0.1:$PORT" --json 2>/dev/null | grep -c '"online":true'
}
wait_for 300 '[ "$(online_count)" = 20 ]'
check twenty_agents_online test "$(online_count)" = 20

sign() { # NAME TARGET-OPTIONS... -- FILE: a bundle in $T/NAME.vtb
	local name=$1; shift
	"$CTL" sign --key "$T/ops/ops.key" "$@" -o "$T/$name.vtb" >>"$T/ctl.log" 2>&1
}
push() { "$CTL" push --broker "127.0.0.1:$PORT" "$@" >>"$T/ctl.log" 2>&1; }

# ---- a configuration for one group ---------------------------------------------
printf 'privacy_k 12\n' >"$T/k12.conf"
sign old_v1 --group gb --version 1 "$T/k12.conf"	# kept for the replay below
sleep 0.01
sign gb_v2 --group gb --version 2 "$T/k12.conf"
check push_exits_0 push "$T/gb_v2.vtb"
gb_applied() {
	local n
	for n in $(seq 8 14); do [ "$(running "$(dev "$n")")" = "12/900/2/applied" ] || return 1; done
}
wait_for 300 gb_applied
check group_members_apply_the_config gb_applied
others_untouched() {
	local n
	for n in $(seq 1 7) $(seq 15 20); do
		[ "$(running "$(dev "$n")")" = "10/900/local/-" ] || { echo "$(dev "$n"): $(running "$(dev "$n")")"; return 1; }
	done
}
check other_groups_do_not_apply_it others_untouched
"$CTL" devices --broker "127.0.0.1:$PORT" --group gb >"$T/devices.txt" 2>&1
check devices_table_shows_v2_for_the_group test "$(grep -c ' v2 ' "$T/devices.txt")" = 7
check devices_table_lists_only_the_group test "$(grep -c '^s1 ' "$T/devices.txt")" = 7

# ---- refusals --------------------------------------------------------------------
D=d08
topic="vitrine/v1/$SITE/$D/cmd/bundle/config"
refused_with() { # DEVICE SERIAL-FILE TEXT: last outcome refused for it, reason has TEXT
	local r
	r=$(field "$1" '"%s|%s|%s" % (f["last"]["outcome"], f["last"]["version"], f["last"]["reason"])')
	case "$r" in refused*"$2"*) return 0 ;; *) echo "got: $r"; return 1 ;; esac
}
printf 'privacy_k 20\n' >"$T/k20.conf"
sign v3 --device "$SITE/$D" --version 3 "$T/k20.conf"
# One byte of the payload changed ("20" -> "21").
python3 - "$T/v3.vtb" "$T/tampered.vtb" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"privacy_k 20") + 11
b[i] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -r -t "$topic" -f "$T/tampered.vtb"
wait_for 100 'refused_with $D "" "signature does not verify" >/dev/null'
check tampered_bundle_refused refused_with $D "" "signature does not verify"
check tampered_bundle_keeps_running_config test "$(running $D | cut -d/ -f1-3)" = "12/900/2"

"$CTL" sign --key "$T/ops/rogue.key" --device "$SITE/$D" --version 4 -o "$T/rogue.vtb" "$T/k20.conf" >>"$T/ctl.log" 2>&1
push "$T/rogue.vtb"
wait_for 100 'refused_with $D "" "not a fleet_ops_key" >/dev/null'
check unknown_key_refused refused_with $D "" "not a fleet_ops_key"

# The group's version 1, signed before version 2, replayed on the device's topic.
mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -r -t "$topic" -f "$T/old_v1.vtb"
wait_for 100 'refused_with $D "" "replayed" >/dev/null'
check replayed_older_bundle_refused refused_with $D "" "replayed"

sign v1_again --group gb --version 1 "$T/k20.conf"
mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -r -t "$topic" -f "$T/v1_again.vtb"
wait_for 100 'refused_with $D "" "older than the running 2" >/dev/null'
check older_version_refused refused_with $D "" "older than the running 2"
check refusals_keep_running_config test "$(running $D | cut -d/ -f1-3)" = "12/900/2"

printf 'privacy_k 3\n' >"$T/k3.conf"
sign weak --group gb --version 9 "$T/k3.conf"
mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -r -t "$topic" -f "$T/weak.vtb"
wait_for 100 'refused_with $D "" "privacy_k" >/dev/null'
check signed_bundle_weakening_a_privacy_floor_refused refused_with $D "" "a floor compiled into the agent"
check privacy_floor_refusal_keeps_running_config test "$(running $D | cut -d/ -f1-3)" = "12/900/2"

sign v1_rollback --group gb --version 1 --rollback "$T/k20.conf"
mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -r -t "$topic" -f "$T/v1_rollback.vtb"
wait_for 300 '[ "$(running $D)" = "20/900/1/applied" ]'
check signed_rollback_applied test "$(running $D)" = "20/900/1/applied"

# ---- an agent offline during a push ----------------------------------------------
kill -TERM "$PID_d15"
wait "$PID_d15" 2>/dev/null
printf 'privacy_k 13\n' >"$T/k13.conf"
sign gc_v2 --group gc --version 2 "$T/k13.conf"
push "$T/gc_v2.vtb"
wait_for 300 '[ "$(running d20)" = "13/900/2/applied" ]'
check offline_agent_still_on_old_config test "$(field d15 's["state"]')" = offline
start_device 15
wait_for 300 '[ "$(running d15)" = "13/900/2/applied" ]'
check offline_agent_converges_on_reconnect test "$(running d15)" = "13/900/2/applied"

# ---- a bundle that breaks health, in waves ----------------------------------------
printf 'privacy_k 14\nplugin footfall\nplugin no_such_plugin\n' >"$T/broken.conf"
sign ga_broken --group ga --version 2 "$T/broken.conf"
"$CTL" rollout --broker "127.0.0.1:$PORT" --group ga --waves 1,50%,100% --wave-timeout 60 \
	"$T/ga_broken.vtb" >"$T/rollout.out" 2>&1
rollout_rc=$?
check rollout_fails_on_first_wave test "$rollout_rc" = 1
rolled=0 untouched=0
for n in $(seq 1 7); do
	case "$(running "$(dev "$n")")" in
	10/900/local/rolled_back) rolled=$((rolled + 1)) ;;
	10/900/local/-) untouched=$((untouched + 1)) ;;
	*) echo "$(dev "$n"): $(running "$(dev "$n")")" ;;
	esac
done
check broken_bundle_rolled_back_by_first_wave_device test "$rolled" = 1
check rollout_stops_after_first_wave test "$untouched" = 6
first=$(for n in $(seq 1 7); do [ "$(running "$(dev "$n")" | cut -d/ -f4)" = rolled_back ] && dev "$n"; done | head -1)
check rollback_reason_names_the_plugin_failure \
	grep -q 'did not start' <<<"$(field "${first:-d01}" 'f["last"]["reason"]')"
check group_topic_not_published test -z "$(timeout 1 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t vitrine/groups/ga/bundle/config -C 1 2>/dev/null)"

# ---- a rollout that passes, then a rollback on purpose ------------------------------
printf 'privacy_k 16\n' >"$T/k16.conf"
sign gc_v3 --group gc --version 3 "$T/k16.conf"
"$CTL" rollout --broker "127.0.0.1:$PORT" --group gc --waves 1,50%,100% --wave-timeout 60 \
	"$T/gc_v3.vtb" >"$T/rollout2.out" 2>&1
check rollout_passes_every_wave test $? = 0
gc_on() { # K VERSION: every member of gc runs it
	local n
	for n in $(seq 15 20); do
		[ "$(running "$(dev "$n")" | cut -d/ -f1,3)" = "$1/$2" ] || return 1
	done
}
check rollout_applied_by_every_member gc_on 16 3
retained=$(timeout 2 mosquitto_sub -p "$PORT" -h 127.0.0.1 -t vitrine/groups/gc/bundle/config -C 1 2>/dev/null | head -c 4)
check rollout_ends_on_the_group_topic test "$retained" = VTB1
"$CTL" rollback --broker "127.0.0.1:$PORT" --key "$T/ops/ops.key" "$T/gc_v2.vtb" >>"$T/ctl.log" 2>&1
check rollback_command_exits_0 test $? = 0
wait_for 300 'gc_on 13 2'
check rollback_command_takes_the_group_back gc_on 13 2

# ---- plugin bundles -------------------------------------------------------------------
# The footfall plugin as a bundle for d02; then a shared object that the
# loader refuses (a plugin built for ABI 2) under the same name.
D=d02
sign plug_ok --device "$SITE/$D" --version 2 "$PLUGIN_DIR/footfall.so"
push "$T/plug_ok.vtb"
plugin_is() { # DEVICE VERSION OUTCOME
	[ "$(field "$1" '"%s/%s" % ((f["plugins"].get("footfall") or {}).get("version"), f["last"]["outcome"])')" = "$2/$3" ]
}
wait_for 300 'plugin_is $D 2 applied'
check plugin_bundle_applied plugin_is $D 2 applied
plugin_runs() { case "$(field $D 's["plugins"]["footfall"]')" in ok | finished) return 0 ;; *) return 1 ;; esac; }
check plugin_bundle_runs plugin_runs
cp "$O/tests/abi/abi_major2.so" "$T/footfall.so"
sign plug_bad --device "$SITE/$D" --version 3 "$T/footfall.so"
push "$T/plug_bad.vtb"
wait_for 300 'plugin_is $D 2 rolled_back'
check broken_plugin_bundle_rolled_back plugin_is $D 2 rolled_back
check broken_plugin_reason grep -q 'did not start' <<<"$(field $D 'f["last"]["reason"]')"
check previous_plugin_runs_again plugin_runs
check rolled_back_so_removed test "$(ls "$T/$D/state/fleet/" | wc -l)" = 1

# ---- SIGKILL while applying --------------------------------------------------------
# Bundles A and B each change two settings; whatever moment the agent dies
# at, it must come back with both of A's, both of B's, or both of the
# running configuration's, never one of each.
printf 'privacy_k 11\nprivacy_window_s 900\n' >"$T/a.conf"
printf 'privacy_k 15\nprivacy_window_s 1800\n' >"$T/b.conf"
D=d19
mixed=0 rounds=0
for i in $(seq 1 8); do
	if [ $((i % 2)) = 1 ]; then f=a.conf; else f=b.conf; fi
	sign kill_$i --device "$SITE/$D" --version $((10 + i)) "$T/$f"
	push "$T/kill_$i.vtb"
	sleep "0.$((RANDOM % 10))"
	kill -9 "$(eval echo "\$PID_$D")" 2>/dev/null
	wait "$(eval echo "\$PID_$D")" 2>/dev/null
	start_device 19
	wait_for 100 '[ "$(field $D "s[\"state\"]")" = online ]'
	r=$(running $D | cut -d/ -f1,2)
	case "$r" in 11/900 | 15/1800 | 13/900) rounds=$((rounds + 1)) ;; *) mixed=$((mixed + 1)); echo "round $i: $r" ;; esac
done
check sigkill_leaves_old_or_new_never_a_mix test "$mixed" = 0 -a "$rounds" = 8
# and the device still takes a bundle afterwards.
sign final --device "$SITE/$D" --version 30 "$T/b.conf"
push "$T/final.vtb"
wait_for 300 '[ "$(running $D)" = "15/1800/30/applied" ]'
check applies_after_the_kills test "$(running $D)" = "15/1800/30/applied"
