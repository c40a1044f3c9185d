# spool_damage.sh - fault 6: spool files truncated at a random offset and
# with random bytes flipped, while the agent is down. The agent starts,
# reports what it cut and skipped, and delivers every intact record: the
# test works out from the record layout which records the damage touched,
# and the database must hold exactly the others.
. "$(dirname "$0")/../integration/lib.sh"

PORT=$(free_port)
setup_keys
# Small segments (1/16 of the bound), so the damage spreads over several.
printf 'spool_max_bytes 1048576\n' >>"$T/agent.conf"
sim_plugins 20000 23 >>"$T/agent.conf"
# No broker: everything stays in the spool.
timeout 60 "$AGENT" -c "$T/agent.conf" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 300 '[ "$(grep -c finished "$T/agent.log")" -ge 3 ]'
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
"$AGENT" -c "$T/agent.conf" --spool --records | grep -v '^#' >"$T/before.txt"
segs=$(ls "$T/state/spool" | wc -l)
check spool_has_several_segments [ "$segs" -ge 3 ]

# Damage: invert one byte in every second of the first six segments, cut
# the last one short at a random offset.
ls "$T/state/spool" | sed 's/\.vts$//' | while read -r h; do echo $((16#$h)); done >"$T/ids.txt"
: >"$T/damage.txt"
i=0
for f in "$T"/state/spool/*.vts; do
	i=$((i + 1))
	size=$(stat -c %s "$f")
	id=$((16#$(basename "$f" .vts)))
	off=$(((RANDOM * 32768 + RANDOM) % size))
	if [ "$i" = "$segs" ]; then
		truncate -s "$off" "$f"
		echo "$id cut $off" >>"$T/damage.txt"
	elif [ $((i % 2)) = 0 ] && [ "$i" -le 6 ]; then
		b=$(dd if="$f" bs=1 skip="$off" count=1 status=none | od -An -tu1 | tr -d ' ')
		printf "\\$(printf %o $((b ^ 255)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
		echo "$id flip $off" >>"$T/damage.txt"
	fi
done

# Which records does the damage touch? A record belongs to the segment with
# the largest id not above its seq; records follow each other from offset 0
# of their segment, 28 bytes of header and then the frame.
awk -v damage="$T/damage.txt" '
	BEGIN {
		while ((getline l < damage) > 0) { split(l, a, " "); kind[a[1]] = a[2]; at[a[1]] = a[3] }
	}
	FNR == NR { ids[++n] = $1; next }
	{
		seq = $1; len = 28 + $3; seg = ids[1]
		for (j = 1; j <= n; j++) if (ids[j] <= seq) seg = ids[j]
		if (seg != cur) { cur = seg; off = 0 }
		hit = (kind[cur] == "flip" && at[cur] >= off && at[cur] < off + len) ||
		      (kind[cur] == "cut" && off + len > at[cur])
		if (!hit) print seq
		off += len
	}' "$T/ids.txt" "$T/before.txt" >"$T/expected.txt"
"$AGENT" -c "$T/agent.conf" --spool --records | grep -v '^#' | cut -d' ' -f1 >"$T/intact.txt"
check inspection_finds_the_intact_records diff -q "$T/expected.txt" "$T/intact.txt"
check damage_touched_records [ "$(wc -l <"$T/expected.txt")" -lt "$(wc -l <"$T/before.txt")" ]

# The agent starts on the damaged spool and delivers exactly the rest.
start_broker "$PORT"
start_aggregator
drain_agent 120
check damage_reported grep -q 'damaged: ' "$T/drain.log"
check drained [ "$(spool_frames)" = 0 ]
# (Frames without readings are the agent telling the aggregator where its
# spool now starts, past the damaged records: see docs/PROTOCOL.md.)
sqlite3 "$T/agg/vitrine.db" "select seq from frames where readings > 0 order by seq" >"$T/stored.txt"
check stored_exactly_the_intact_frames diff -q "$T/expected.txt" "$T/stored.txt"
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
want=$(awk 'NR == FNR { keep[$1] = 1; next } ($1 in keep) { s += $2 } END { print s + 0 }' \
	"$T/expected.txt" "$T/before.txt")
total=$(awk '{ s += $2 } END { print s + 0 }' "$T/before.txt")
check intact_readings_all_stored [ "$(db_count)" = "$want" ]
counts spool_damage "$total" "$(db_count)" "$((total - want))" \
	"$(wc -l <"$T/before.txt") frames spooled, $(($(wc -l <"$T/before.txt") - $(wc -l <"$T/expected.txt"))) touched by the damage ($(tr '\n' ';' <"$T/damage.txt"))"
