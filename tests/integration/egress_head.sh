# egress_head.sh - an auditor holds heads of the egress log (R14) that the
# device published in its retained status, and checks the device's log
# against them with "vitrine-agent --egress --head SEQ:HEX": real mosquitto,
# aggregator and agent with the simulated plugins, run twice (a head from
# each run, and the chain across the restart):
#  - every head the device published is present: exit 0;
#  - a malformed --head is refused with a clear message: exit 2;
#  - the log cut back to before the newest published head: the chain left
#    still verifies, but --head says MISSING, cut, exit 1;
#  - the log rewritten with smaller counts and every hash recomputed (a
#    forger's chain verifies): --head says another hash, rewritten, exit 1;
#  - a count edited in place: the chain is broken, exit 1.
#
# Records are written at most once a minute (the first of a run at once),
# so each head is waited for, not timed: the retained status of the second
# run names a record that run wrote.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT" || { fail egress_head_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
setup_keys
echo "status_interval_s 1" >>"$T/agent.conf"
sim_plugins 20 5 >>"$T/agent.conf"
start_aggregator
LOG="$T/state/egress.log"
topic='vitrine/v1/+/+/status'

retained_status() {
	mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "$topic" -C 1 -W 5 2>/dev/null
}
# head_in STATUS: the status's egress head as SEQ:HEX (nothing if none).
head_in() {
	sed -nE 's/.*"egress":\{"seq":([0-9]+),"head":"([0-9a-f]{64})".*/\1:\2/p' <<<"$1"
}
# egress [ARGS...]: --egress on the agent's state; output in $T/egress.out,
# exit status in RC.
egress() {
	"$AGENT" -c "$T/agent.conf" --egress "$@" >"$T/egress.out" 2>&1
	RC=$?
}
last_seq() { tail -n 1 "$LOG" | cut -d' ' -f2; }

# Every status the device publishes, as an auditor's archive would keep it
# (subscribed once a probe comes back).
mosquitto_sub -p "$PORT" -h 127.0.0.1 -t "$topic" -t vt-test/probe >"$T/statuses" 2>/dev/null &
PIDS+=("$!")
wait_for 50 'mosquitto_pub -p "$PORT" -h 127.0.0.1 -t vt-test/probe -m probe; grep -q "^probe$" "$T/statuses"'

# Run 1: to the end of the simulation.
timeout 60 "$AGENT" -c "$T/agent.conf" --exit-when-done 2>"$T/agent1.log"
check first_run_exits_0 [ "$?" = 0 ]
run1_seq=$(last_seq)
check first_run_wrote_egress_records [ "${run1_seq:-0}" -ge 1 ]

# Run 2: until its retained status names a record it wrote itself.
"$AGENT" -c "$T/agent.conf" 2>"$T/agent2.log" &
pid=$!
PIDS+=("$pid")
s=
wait_for 150 's=$(retained_status); h=$(head_in "$s"); [ "${h%%:*}" -gt "${run1_seq:-0}" ] 2>/dev/null'
published=$(head_in "$s")
seq=${published%%:*}
check status_publishes_a_head_of_the_second_run [ "${seq:-0}" -gt "${run1_seq:-0}" ]
kill -TERM "$pid"
wait "$pid"
check second_run_stops_cleanly [ "$?" = 0 ]
wait_for 20 'grep -q "\"seq\":$seq," "$T/statuses"'

# The log as the device left it holds every head it published.
egress
check egress_log_intact_after_two_runs [ "$RC" = 0 ]
egress --head "$published"
check published_head_is_present [ "$RC" = 0 ]
check present_head_is_said_so grep -q "^checked   head seq $seq: present$" "$T/egress.out"
heads=$(while IFS= read -r st; do head_in "$st"; done <"$T/statuses" | sort -u)
n=0 bad=0
for h in $heads; do
	n=$((n + 1))
	egress --head "$h"
	[ "$RC" = 0 ] && grep -q ": present" "$T/egress.out" || bad=$((bad + 1))
done
check heads_of_both_runs_were_published [ "$n" -ge 2 ]
check every_published_head_is_present [ "$bad" = 0 ]
egress --head "0:$(printf '0%.0s' $(seq 64))"
check empty_log_head_is_where_the_chain_starts [ "$RC" = 0 ]

# A malformed --head is a usage error, said in words.
egress --head "$seq:xyz"
check malformed_head_exits_2 [ "$RC" = 2 ]
check malformed_head_is_explained grep -q -- "--head '$seq:xyz': HEX is not 64 hex digits" "$T/egress.out"
egress --head "${published#*:}"
check head_without_seq_exits_2 [ "$RC" = 2 ]
"$AGENT" -c "$T/agent.conf" --head "$published" >/dev/null 2>"$T/egress.out"
check head_without_egress_exits_2 [ "$?" = 2 ]
check head_without_egress_is_explained grep -q -- "--head goes with --egress" "$T/egress.out"

cp "$LOG" "$T/egress.good"

# Cut: the records from the published head on are gone.
awk -v s="$seq" '$2 < s' "$T/egress.good" >"$LOG"
egress
check cut_log_chain_alone_still_verifies [ "$RC" = 0 ]
egress --head "$published"
check cut_log_fails_with_exit_1 [ "$RC" = 1 ]
check cut_log_is_said_cut grep -q "^checked   head seq $seq: MISSING: the log ends at seq $((seq - 1)): it was cut after the head was published$" "$T/egress.out"

# Rewritten: the first record says fewer frames left (0), then every hash
# and prev from there is recomputed with sha256sum, as a forger who can
# write the file would.
sed -E '1s/=[0-9]+\//=0\//' "$T/egress.good" | {
	last=
	while IFS= read -r l; do
		body=${l% hash=*}
		[ -z "$last" ] || body="${body% prev=*} prev=$last"
		last=$(printf '%s' "$body" | sha256sum | cut -c1-64)
		printf '%s hash=%s\n' "$body" "$last"
	done
} >"$LOG"
cmp -s "$LOG" "$T/egress.good"
check forged_log_differs [ "$?" = 1 ]
egress
check forged_chain_alone_verifies [ "$RC" = 0 ]
egress --head "$published"
check rewritten_log_fails_with_exit_1 [ "$RC" = 1 ]
check rewritten_log_is_said_rewritten grep -q "^checked   head seq $seq: the record has another hash: the log was rewritten" "$T/egress.out"

# Edited in place: the chain itself breaks.
sed -E '1s/=[0-9]+\//=0\//' "$T/egress.good" >"$LOG"
egress --head "$published"
check edited_log_fails_with_exit_1 [ "$RC" = 1 ]
check edited_log_is_said_broken grep -q "^chain     BROKEN" "$T/egress.out"
