# zstd_dict.sh - trained zstd dictionaries for small batches, end to end:
#  - the aggregator keeps sample batches (sample_dir), 0600, as many as
#    sample_frames says;
#  - vitrine-ctl train-dict trains on them, and the samples compress
#    smaller with the dictionary than without;
#  - an agent compressing with it (zstd_dictionary) to an aggregator that
#    does not hold it: refused as unknown_dictionary, logged with the id,
#    nothing stored, nothing lost; once the file is in the aggregator's
#    dictionaries directory, the agent's resends are all stored, once;
#  - bad dictionary files and bad train-dict use get clear errors.
. "$(dirname "$0")/lib.sh"
CTL=$O/vitrine-ctl

PORT=$(free_port)
start_broker "$PORT" || { fail dict_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
BATCH=10 setup_keys
mkdir -p "$T/samples" "$T/dicts"
printf 'sample_dir %s\nsample_frames 150\n' "$T/samples" >>"$T/aggregator.conf"
sim_plugins 700 11 >>"$T/agent.conf"
start_aggregator

# ---- 1. samples, from a run at batch 10
timeout 120 "$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/agent1.log"
check first_run_delivered [ "$?" = 0 ]
check_all_stored
n=$(find "$T/samples" -name '*.pb' | wc -l)
check samples_capped_at_sample_frames [ "$n" = 150 ]
check samples_are_0600 [ "$(find "$T/samples" -name '*.pb' ! -perm 600 | wc -l)" = 0 ]
check samples_kept_logged grep -q "sample_dir $T/samples: kept the run's sample_frames batches" "$T/aggregator.log"

# ---- 2. train-dict
"$CTL" train-dict -o "$T/shops.zdict" --id 40001 "$T/samples" 2>"$T/train.log"
check train_dict_exits_0 [ "$?" = 0 ]
check train_dict_names_id grep -q "zstd dictionary 40001, [0-9]* bytes, from 150 samples" "$T/train.log"
read -r with without < <(sed -nE 's/.*compress to ([0-9.]+) bytes each with it, ([0-9.]+) without.*/\1 \2/p' "$T/train.log")
echo "samples: ${with:-?} bytes each with the dictionary, ${without:-?} without"
check dictionary_makes_samples_smaller awk -v a="${with:-0}" -v b="${without:-0}" 'BEGIN { exit !(a > 0 && a < b) }'
"$CTL" train-dict "$T/samples" 2>"$T/noout.log"
check train_dict_without_output_is_usage [ "$?" = 2 ]
check train_dict_usage_names_o grep -q "expected -o FILE" "$T/noout.log"
mkdir -p "$T/few" && find "$T/samples" -name '*.pb' | head -n 3 | xargs cp -t "$T/few/"
"$CTL" train-dict -o "$T/few.zdict" "$T/few" 2>"$T/few.log"
rc=$?
check train_dict_too_few_fails [ "$rc" = 1 ]
check train_dict_too_few_writes_nothing [ ! -e "$T/few.zdict" ]
check train_dict_too_few_says_why grep -q "too few to train on" "$T/few.log"

# ---- 3. the agent compresses with it; the aggregator does not hold it yet
kill -TERM "$AGG_PID"; wait "$AGG_PID" 2>/dev/null
sed -i '/^sample_/d' "$T/aggregator.conf"
echo "dictionaries $T/dicts" >>"$T/aggregator.conf"
mv "$T/aggregator.log" "$T/aggregator-samples.log"	# start_aggregator waits for this run's line
start_aggregator
before=$(db_count)
sed -i -e 's/\.seed 11$/.seed 12/' "$T/agent.conf"
printf 'zstd_dictionary %s\nack_timeout_s 1\n' "$T/shops.zdict" >>"$T/agent.conf"
: >"$T/tap.csv"
"$AGENT" -c "$T/agent.conf" --tap "$T/tap2.csv" --exit-when-done 2>"$T/agent2.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
wait_for 100 'grep -q "unknown_dictionary" "$T/aggregator.log"'
check agent_logs_its_dictionary grep -q "compressing with zstd dictionary 40001" "$T/agent2.log"
check unknown_dictionary_logged_with_id \
	grep -q "rejected frame from device pi-01 .*dictionary 40001): unknown_dictionary: .*copy its .zdict file" "$T/aggregator.log"
sleep 1
check nothing_stored_without_the_dictionary [ "$(db_count)" = "$before" ]
check agent_still_holds_the_frames kill -0 "$AGENT_PID"

# ---- 4. the dictionary arrives: every reading of the run is stored, once
# As documented: copied under a dot-name, which the aggregator skips, then
# renamed.
cp "$T/shops.zdict" "$T/dicts/.shops.zdict" && mv "$T/dicts/.shops.zdict" "$T/dicts/shops.zdict"
wait "$AGENT_PID"
check agent_delivers_once_the_aggregator_has_it [ "$?" = 0 ]
check dictionary_read_while_running grep -q "zstd dictionary 40001 from $T/dicts/shops.zdict" "$T/aggregator.log"
total=$((before + $(wc -l <"$T/tap2.csv")))
wait_for 50 '[ "$(db_count)" = "$total" ]'
check every_reading_stored_with_dictionary [ "$(db_count)" = "$total" ]
check each_reading_stored_once [ "$(dup_rows)" = 0 ]
check unknown_dictionary_counted [ "$(counter rejected_unknown_dictionary)" -gt 0 ]

# ---- 5. bad files: named, with what to do
head -c 4000 /dev/urandom >"$T/junk.zdict"
sed -e "s#^zstd_dictionary .*#zstd_dictionary $T/junk.zdict#" "$T/agent.conf" >"$T/junk.conf"
timeout 20 "$AGENT" -c "$T/junk.conf" 2>"$T/junk.log"
check agent_refuses_a_junk_dictionary [ "$?" != 0 ]
check junk_dictionary_named grep -q "zstd_dictionary: $T/junk.zdict: not a zstd dictionary with an id; train one with 'vitrine-ctl train-dict'" "$T/junk.log"
head -c 100 "$T/shops.zdict" >"$T/cut.zdict"	# magic and id intact, entropy tables cut
sed -e "s#^zstd_dictionary .*#zstd_dictionary $T/cut.zdict#" "$T/agent.conf" >"$T/cut.conf"
timeout 20 "$AGENT" -c "$T/cut.conf" 2>"$T/cut.log"
check agent_refuses_a_cut_dictionary [ "$?" != 0 ]
check cut_dictionary_named grep -q "zstd_dictionary: $T/cut.zdict: dictionary 40001 is damaged or truncated" "$T/cut.log"
kill -TERM "$AGG_PID"; wait "$AGG_PID" 2>/dev/null
cp "$T/shops.zdict" "$T/dicts/copy.zdict"
timeout 20 "$AGG" -c "$T/aggregator.conf" run 2>"$T/agg-dup.log"
check aggregator_refuses_two_files_one_id [ "$?" != 0 ]
check duplicate_id_named grep -q "shops.zdict: dictionary id 40001 is held already, from copy.zdict: one file per id" "$T/agg-dup.log"
