# canary.sh - privacy rule R1 checked with canaries. The simulated rfid and
# tablet sources are seeded with known identifiers (rfid.canary,
# tablet.canary); the agent runs once with the broker unreachable (its
# frames stay in the spool, which is copied) and once more to deliver. Then
# no form of a canary (canary_forms) may appear in any byte that left the
# device or was written to a disk:
#   wire      every payload on the broker, all topics, retained ones too
#   spool     the spool's segment files before delivery, and the whole
#             state directory at the end
#   logs      the agent's stderr at debug level, the aggregator's log
#   status    the payloads of .../status (also part of wire)
#   database  the aggregator's SQLite files and their `sqlite3 .dump`
#   export    `vitrine-aggregator export`
#   tap       the agent's --tap files (readings after the privacy stage)
# in pseudonymous mode (events with digests) and again in the default,
# anonymous mode (counts per window).
#
# Negative control: the same run and search with
# $O/canary-control/vitrine-agent, whose privacy stage is built with
# VT_PRIVACY_DISABLED_FOR_CANARY_TEST and copies each identifier's first
# 8 bytes into its digest field. The search must find the canaries there
# (canary_catches_disabled_privacy), or its silence above proves nothing.
. "$(dirname "$0")/lib.sh"

CONTROL_AGENT="$O/canary-control/vitrine-agent"
LIMIT=400
SEED=23

# EPC, GTIN-14, pure-identity URI, serial. Their products are in neither
# simulated catalogue: every reading of these GTINs is a canary's.
CANARY_TAGS=(
	"3034257BF6B7A66BADC0FFEE 70614141123451 urn:epc:id:sgtin:0614141.712345.187598700526 187598700526"
	"3029DD92B14E18FA7E5C1B2D 08012345678990 urn:epc:id:sgtin:8012345678.099.251228068653 251228068653"
)
# With 2 kiosks: the first session of each, then the second session of the
# kiosk whose first one ends first.
CANARY_SESSIONS=(
	ac9cbd7b5a2294a6f9f6c5aec64b95ed
	637d083670e905dacddd123baa0e835b
	bfe9881f0cfb141a0fdc74dc9466bc3c
)
PLACES="wire spool logs status database export tap"

ROOT=$T
trap 'T=$ROOT; cleanup' EXIT
FORMS=$ROOT/forms.tsv		# name <TAB> pattern
PATTERNS=$ROOT/patterns.txt

# ---- the forms of a canary --------------------------------------------------
# Bytes are handled as lowercase hex; a pattern is written " xx xx ..." as
# hex_stream writes a capture. A leak may be truncated (a digest field holds
# 8 bytes), so a form is searched by its first 8 bytes when binary, its first
# 16 characters when text (whole when shorter), and base64 by the characters
# that the first 8 bytes alone determine, at each of the 3 alignments. Built
# in bash (one md5sum, sha1sum and sha256sum in all): forks are slow.

# hex_of_text TEXT: HEX = the hex of TEXT's bytes (ASCII).
hex_of_text() {
	local s=$1 h i
	HEX=
	for ((i = 0; i < ${#s}; i++)); do
		printf -v h '%02x' "'${s:i:1}"
		HEX+=$h
	done
}

# base64_of_hex HEX: B64 = the base64 of these bytes, padded with '='.
BASE64_DIGITS=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
base64_of_hex() {
	local h=$1 i n v c
	B64=
	for ((i = 0; i < ${#h}; i += 6)); do
		n=${h:i:6}
		v=$((16#$n << (6 - ${#n}) * 4))
		for c in 18 12 6 0; do
			if ((18 - c <= ${#n} * 4)); then
				B64+=${BASE64_DIGITS:$(((v >> c) & 63)):1}
			else
				B64+='='
			fi
		done
	done
}

# add_form NAME HEX: search for these bytes.
add_form() {
	local p='' i
	for ((i = 0; i < ${#2}; i += 2)); do p+=" ${2:i:2}"; done
	printf '%s\t%s\n' "$1" "$p" >>"$FORMS"
}

# render NAME bin|text HEX: a representation of an identifier as is, in
# lowercase and uppercase hex, in base64 and base64url.
render() {
	local name=$1 kind=$2 b8=${3:0:16} s b64 from to
	local zeros=("" "00" "0000")

	if [ "$kind" = bin ]; then add_form "$name" "$b8"; else add_form "$name" "${3:0:32}"; fi
	hex_of_text "$b8"
	add_form "$name:hex" "$HEX"
	hex_of_text "${b8^^}"
	add_form "$name:HEX" "$HEX"
	for s in 0 1 2; do
		base64_of_hex "${zeros[s]}$b8"
		from=$(((8 * s + 5) / 6))
		to=$((8 * (s + ${#b8} / 2) / 6))
		b64=${B64:from:to-from}
		hex_of_text "$b64"
		add_form "$name:base64+$s" "$HEX"
		b64=${b64//+/-}
		b64=${b64//\//_}
		hex_of_text "$b64"
		add_form "$name:base64url+$s" "$HEX"
	done
}

# both NAME bin|text HEX: the representation, and (digests) its MD5, SHA-1
# and SHA-256.
DIGEST_OF=()
both() {
	local e='' i
	render "$@"
	DIGEST_OF+=("$1")
	for ((i = 0; i < ${#3}; i += 2)); do e+="\\x${3:i:2}"; done
	printf '%b' "$e" >"$ROOT/digest-input.${#DIGEST_OF[@]}"
}

digests() {
	local a i d f
	for a in md5 sha1 sha256; do
		for ((i = 1; i <= ${#DIGEST_OF[@]}; i++)); do echo "$ROOT/digest-input.$i"; done |
			xargs "${a}sum" >"$ROOT/digests.$a"
		while read -r d f; do
			i=${f##*.}
			render "$a(${DIGEST_OF[i - 1]})" bin "$d"
		done <"$ROOT/digests.$a"
	done
}

tag_forms() { # LABEL EPC GTIN URI SERIAL
	local l=$1 epc=${2,,} uri=$4 serial=$5 be le='' sx i
	printf -v be '%016x' "$serial"
	for ((i = 14; i >= 0; i -= 2)); do le+=${be:i:2}; done
	printf -v sx '%x' "$serial"
	both "$l.epc" bin "$epc"
	render "$l.epc_tail" bin "${epc:8}"
	hex_of_text "$epc"; both "$l.epc_hex" text "$HEX"
	hex_of_text "${epc^^}"; both "$l.epc_HEX" text "$HEX"
	hex_of_text "$serial"; both "$l.serial" text "$HEX"
	both "$l.serial_be64" bin "$be"
	render "$l.serial_le64" bin "$le"
	hex_of_text "$sx"; render "$l.serial_hex" text "$HEX"
	# The URI starts with a constant: searched whole, not by a prefix.
	hex_of_text "$uri"; add_form "$l.uri" "$HEX"
	DIGEST_OF+=("$l.uri")
	printf '%s' "$uri" >"$ROOT/digest-input.${#DIGEST_OF[@]}"
}

session_forms() { # LABEL ID
	local l=$1 id=$2
	hex_of_text "$id"; both "$l.id" text "$HEX"
	hex_of_text "${id^^}"; both "$l.ID" text "$HEX"
	if [[ $id =~ ^([0-9a-fA-F]{2})+$ ]]; then both "$l.bytes" bin "${id,,}"; fi
}

canary_forms() {
	local i
	: >"$FORMS"
	for i in "${!CANARY_TAGS[@]}"; do
		# shellcheck disable=SC2086 # four words
		tag_forms "tag$((i + 1))" ${CANARY_TAGS[i]}
	done
	for i in "${!CANARY_SESSIONS[@]}"; do
		session_forms "session$((i + 1))" "${CANARY_SESSIONS[i]}"
	done
	digests
	cut -f2 "$FORMS" | sort -u >"$PATTERNS"
}

# ---- one run: capture everything --------------------------------------------

# wire_stream FILE...: mosquitto_sub '%t %x' lines as one hex stream:
# the topics' bytes, then the payloads' bytes.
wire_stream() {
	cut -d' ' -f1 "$@" | od -An -v -tx1 | tr -d '\n'
	cut -s -d' ' -f2 "$@" | sed 's/../ &/g' | tr -d '\n'
}

# canary_run LABEL AGENT: agent, broker and aggregator in $ROOT/LABEL; the
# captures of each place in $ROOT/LABEL/<place>.hex.
canary_run() {
	local epcs sessions pid sub c
	T=$ROOT/$1
	AGENT=$2
	mkdir -p "$T/capture"
	PORT=$(free_port)
	start_broker "$PORT" || { fail "canary_$1_broker" "mosquitto did not listen on $PORT"; T=$ROOT; return 1; }
	setup_keys
	epcs=$(for c in "${CANARY_TAGS[@]}"; do echo "${c%% *}"; done | paste -sd,)
	sessions=$(printf '%s\n' "${CANARY_SESSIONS[@]}" | paste -sd,)
	{
		sim_plugins "$LIMIT" "$SEED"
		echo "rfid.items 20"		# a round is ~25 reads: a canary every ~25
		echo "rfid.canary $epcs"
		echo "tablet.canary $sessions"
		echo "status_interval_s 1"
	} >>"$T/agent.conf"
	start_aggregator
	mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -t '#' -F '%t %x' >"$T/capture/wire.txt" 2>/dev/null &
	sub=$!
	PIDS+=("$sub")

	# 1. Broker unreachable: every frame stays in the spool; copy it.
	sed "s#^broker .*#broker 127.0.0.1:1#" "$T/agent.conf" >"$T/offline.conf"
	"$AGENT" -c "$T/offline.conf" -v --tap "$T/capture/tap-offline.csv" \
		2>"$T/capture/agent-offline.log" &
	pid=$!
	PIDS+=("$pid")
	wait_for 300 '[ "$(grep -c "source finished" "$T/capture/agent-offline.log")" -ge 3 ]'
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	SPOOLED=$(spool_frames)
	cp -r "$T/state/spool" "$T/capture/spool"

	# 2. Deliver: the same configuration with the broker, until acknowledged.
	timeout 60 "$AGENT" -c "$T/agent.conf" -v --tap "$T/capture/tap.csv" --exit-when-done \
		2>"$T/capture/agent.log"
	DELIVER_RC=$?
	sleep 0.3
	kill "$sub" 2>/dev/null
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t '#' --retained-only -F '%t %x' -W 1 \
		>"$T/capture/retained.txt" 2>/dev/null
	"$AGG" -c "$T/aggregator.conf" export >"$T/capture/export.csv" 2>>"$T/aggregator.log"
	sqlite3 "$T/agg/vitrine.db" .dump >"$T/capture/db.dump"
	kill "$AGG_PID" 2>/dev/null
	wait "$AGG_PID" 2>/dev/null

	# Each place as one hex stream (hex_stream).
	(
		cd "$T/capture" || exit 1
		grep -h -E '^[^ ]*/status ' wire.txt retained.txt >status.txt
		wire_stream wire.txt retained.txt >wire.hex
		wire_stream status.txt >status.hex
		{ find spool -type f -print0; find "$T/state" -type f -print0; } |
			xargs -0 od -An -v -tx1 | tr -d '\n' >spool.hex
		hex_stream agent-offline.log agent.log "$T/aggregator.log" >logs.hex
		hex_stream "$T"/agg/vitrine.db* db.dump >database.hex
		hex_stream export.csv >export.hex
		hex_stream tap-offline.csv tap.csv >tap.hex
	)
	CAPTURE=$T/capture
	T=$ROOT
}

# canary_search DIR: for each place, the names of the forms found in its
# capture, in DIR/found.<place> (empty: none found).
canary_search() {
	local p
	for p in $PLACES; do
		grep -F -o -f "$PATTERNS" "$1/$p.hex" | sort -u |
			awk -F'\t' 'NR == FNR { if (!($2 in name)) name[$2] = $1; next }
				$0 in name { print name[$0] }' \
				"$FORMS" - | sort -u >"$1/found.$p"
	done
}

# check_no_canary DIR SUFFIX: search DIR's captures; one PASS or FAIL line
# no_canary_in_<place><SUFFIX> per place.
check_no_canary() {
	local p
	canary_search "$1"
	for p in $PLACES; do
		if [ -s "$1/found.$p" ]; then
			fail "no_canary_in_$p$2" "found $(found_summary "$1/found.$p")"
		else
			pass "no_canary_in_$p$2"
		fi
	done
}

found_summary() { # FILE: up to 6 form names on one line
	head -n 6 "$1" | tr '\n' ' '
	[ "$(wc -l <"$1")" -le 6 ] || echo "... ($(wc -l <"$1") forms)"
}

canary_forms
check canary_forms_built [ "$(wc -l <"$PATTERNS")" -ge 500 ]

# ---- the real agent: nothing may be found ------------------------------------
canary_run privacy "$O/vitrine-agent" || exit 1
C=$CAPTURE
check canary_agent_delivered_everything [ "$DELIVER_RC" = 0 ]
empty=""
for p in $PLACES; do [ -s "$C/$p.hex" ] || empty="$empty $p"; done
[ "$(grep -c '/data ' "$C/wire.txt")" -ge 1 ] || empty="$empty wire(no data frame)"
[ -s "$C/status.txt" ] || empty="$empty status(no message)"
[ "${SPOOLED:-0}" -ge 1 ] || empty="$empty spool(no frame kept offline)"
if [ -z "$empty" ]; then pass canary_capture_is_complete; else fail canary_capture_is_complete "empty:$empty"; fi

# The canaries were emitted: their products' readings (only canaries carry
# those GTINs) went through the tap and reached the database; the canary
# session ids were used.
emitted=""
for c in "${CANARY_TAGS[@]}"; do
	g=$(echo "$c" | cut -d' ' -f2)
	n_tap=$(awk -F, -v g="$g" '$1 == "rfid" && $8 == g' "$C/tap-offline.csv" | wc -l)
	n_exp=$(awk -F, -v g="$g" '$1 == "rfid" && $8 == g' "$C/export.csv" | wc -l)
	[ "$n_tap" -ge 5 ] && [ "$n_exp" -ge "$n_tap" ] || emitted="$emitted $g:tap=$n_tap,export=$n_exp"
done
if [ -z "$emitted" ]; then pass canary_tags_read_and_delivered; else fail canary_tags_read_and_delivered "too few readings:$emitted"; fi
starts=$(grep -c '^tablet,.*,session_start,' "$C/tap-offline.csv")
if grep -q "first ${#CANARY_SESSIONS[@]} sessions use canary ids" "$C/agent-offline.log" &&
	[ "$starts" -ge "${#CANARY_SESSIONS[@]}" ]; then
	pass canary_sessions_used
else
	fail canary_sessions_used "$starts sessions started; plugin log: $(grep -c 'canary ids' "$C/agent-offline.log") lines"
fi

check_no_canary "$C" ""

# ---- the default mode (anonymous): only counts leave; nothing found either ---
PRIVACY_MODE=anonymous canary_run anonymous "$O/vitrine-agent" || exit 1
C=$CAPTURE
check canary_anonymous_agent_delivered_everything [ "$DELIVER_RC" = 0 ]
check canary_anonymous_sends_only_window_counts \
	[ "$(grep -c '^window,' "$C/tap.csv")" -ge 1 -a "$(grep -vc '^window,' "$C/tap.csv")" = 0 ]
check_no_canary "$C" _anonymous

# ---- the negative control: the same search must find the canaries ------------
if [ ! -x "$CONTROL_AGENT" ]; then
	fail canary_catches_disabled_privacy "$CONTROL_AGENT not built (make test builds it)"
	exit 0
fi
canary_run control "$CONTROL_AGENT" || exit 1
C=$CAPTURE
canary_search "$C"
shown=""
for p in $PLACES; do
	[ -s "$C/found.$p" ] && shown="$shown $p"
	echo "control: $p: $(wc -l <"$C/found.$p") forms found $(found_summary "$C/found.$p")"
done
missing=""
for p in database export tap; do [ -s "$C/found.$p" ] || missing="$missing $p"; done
if [ -z "$missing" ]; then
	pass canary_catches_disabled_privacy
else
	fail canary_catches_disabled_privacy "with privacy disabled the canaries were not found in:$missing (found in:${shown:- nothing}; does agent/privacy.c honour VT_PRIVACY_DISABLED_FOR_CANARY_TEST?)"
fi
