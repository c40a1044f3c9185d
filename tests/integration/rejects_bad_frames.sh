# rejects_bad_frames.sh - the aggregator counts and drops what it must not
# store, and keeps running: a replayed frame, a frame altered by one bit,
# garbage and truncated payloads, a frame from an unregistered device key,
# a frame published on another device's topic.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT" || { fail rejects_broker_starts "no broker"; exit 1; }
setup_keys
sim_plugins 30 3 >>"$T/agent.conf"
start_aggregator
mosquitto_sub -p "$PORT" -h 127.0.0.1 -t 'vitrine/v1/+/+/data' -F '%t %x' >"$T/wire.txt" 2>/dev/null &
PIDS+=($!)
sleep 0.3
timeout 30 "$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/agent.log"
expected=$(wc -l <"$T/tap.csv")
wait_for 100 '[ "$(db_count)" -ge "$expected" ]'
check genuine_frames_stored [ "$(db_count)" = "$expected" ]

topic=$(head -1 "$T/wire.txt" | cut -d' ' -f1)
hex=$(head -1 "$T/wire.txt" | cut -d' ' -f2)
unhex() { perl -e 'local $/; my $h = <STDIN>; $h =~ s/\s//g; print pack("H*", $h)'; }
pub_file() { mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -t "$1" -f "$2"; }

echo "$hex" | unhex >"$T/frame.bin"
pub_file "$topic" "$T/frame.bin"
wait_for 50 '[ "$(counter rejected_duplicate)" = 1 ]'
check replayed_frame_rejected [ "$(counter rejected_duplicate)" = 1 ]

# Flip one bit in the middle of the ciphertext.
len=${#hex}
mid=$(( (len / 2) & ~1 ))
byte=$(( 0x${hex:$mid:2} ^ 0x01 ))
printf '%s%02x%s' "${hex:0:$mid}" "$byte" "${hex:$((mid + 2))}" | unhex >"$T/flipped.bin"
pub_file "$topic" "$T/flipped.bin"
wait_for 50 '[ "$(counter rejected_bad_tag)" = 1 ]'
check frame_altered_by_one_bit_rejected [ "$(counter rejected_bad_tag)" = 1 ]

head -c 5000 /dev/urandom >"$T/garbage.bin"
pub_file "$topic" "$T/garbage.bin"
head -c 40 "$T/frame.bin" >"$T/truncated.bin"
pub_file "$topic" "$T/truncated.bin"
printf '' >"$T/empty.bin"
pub_file "$topic" "$T/empty.bin"
wait_for 50 '[ "$(counter rejected_bad_frame)" -ge 3 ]'
check garbage_truncated_and_empty_rejected [ "$(counter rejected_bad_frame)" -ge 3 ]

# A device whose key the aggregator never registered.
mkdir -p "$T/rogue"
write_agent_conf "$T/rogue.conf" "$T/rogue" pi-01
sim_plugins 5 9 >>"$T/rogue.conf"
"$AGENT" -c "$T/rogue.conf" --keygen >/dev/null
timeout 20 "$AGENT" -c "$T/rogue.conf" --exit-when-done 2>"$T/rogue.log"
wait_for 50 '[ "$(counter rejected_bad_tag)" -ge 2 ]'
check unregistered_device_key_rejected [ "$(counter rejected_bad_tag)" -ge 2 ]
write_agent_conf "$T/stranger.conf" "$T/stranger" pi-99
sim_plugins 5 9 >>"$T/stranger.conf"
mkdir -p "$T/stranger"
"$AGENT" -c "$T/stranger.conf" --keygen >/dev/null
timeout 20 "$AGENT" -c "$T/stranger.conf" --exit-when-done 2>"$T/stranger.log"
wait_for 50 '[ "$(counter rejected_unknown_device)" -ge 1 ]'
check unknown_device_rejected [ "$(counter rejected_unknown_device)" -ge 1 ]

other_topic=$(echo "$topic" | sed 's#/pi-01/#/pi-02/#')
pub_file "$other_topic" "$T/frame.bin"
wait_for 50 '[ "$(counter rejected_topic_mismatch)" = 1 ]'
check frame_on_another_devices_topic_rejected [ "$(counter rejected_topic_mismatch)" = 1 ]

check aggregator_still_running kill -0 "$AGG_PID"
check nothing_extra_stored [ "$(db_count)" = "$expected" ]
# Logged at most once per device per minute: one line for pi-01's rejects.
check rejections_logged_once_per_device_per_minute [ "$(grep -c 'pi-01' "$T/aggregator.log")" -le 3 ]
