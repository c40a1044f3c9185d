# kiosk.sh - the tablet plugin's real kiosk source, with real clients:
# an agent with tablet.source kiosk on a free port and a socket in $T, a
# real broker and aggregator; curl posts over HTTP, python3 writes JSON
# lines to the Unix-domain socket.
#  - valid events (HTTP and socket) arrive at the aggregator as readings;
#  - a bad event gets 400 with its reason, and is counted;
#  - a 10 MB body gets 413 at once, and the agent runs on;
#  - a flood from one kiosk gets 429 while another kiosk still gets through;
#  - a socket line over the cap is dropped, the next line still works;
#  - the refusals are counted by reason in the agent's log (at shutdown).
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
start_broker "$PORT" || { fail kiosk_broker_starts "mosquitto did not listen on $PORT"; exit 1; }
setup_keys
HTTP_PORT=$(free_port)
SOCK=$T/kiosk.sock
URL=http://127.0.0.1:$HTTP_PORT/v1/events
cat >>"$T/agent.conf" <<CONF
plugin tablet
tablet.source kiosk
tablet.kiosks 4
tablet.http_port $HTTP_PORT
tablet.socket $SOCK
tablet.rate 5
CONF
start_aggregator
"$AGENT" -c "$T/agent.conf" 2>"$T/agent.log" &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
if ! wait_for 100 'grep -q "kiosk socket .* ready" "$T/agent.log"'; then
	fail kiosk_source_starts "no 'ready' line in the agent's log: $(tail -n 3 "$T/agent.log" | tr '\n' ' ')"
	exit 1
fi
check http_listener_ready_logged grep -q "kiosk HTTP listener on 127.0.0.1:$HTTP_PORT ready" "$T/agent.log"
check socket_created_0660 [ "$(stat -c %a "$SOCK")" = 660 ]
# The HTTP server is tablet-http.so, loaded because http_port is set; it
# brings libmicrohttpd (and GnuTLS) into the agent.
check http_module_loaded grep -q "/tablet-http.so$" "/proc/$AGENT_PID/maps"

# post BODY [curl options...]: prints the HTTP status; the answer's
# headers and body are left in $T/headers.txt and $T/resp.txt.
post() {
	local body=$1; shift
	curl -s -D "$T/headers.txt" -o "$T/resp.txt" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "$body" "$@" "$URL"
}
sess=k1-session-0001
ev() { # kiosk type [extra members]
	printf '{"kiosk":%s,"type":"%s","session":"%s"%s}' "$1" "$2" "$sess" "${3:-}"
}

# ---- valid events over HTTP: one, then a batch as sendBeacon sends it.
check http_single_event_204 [ "$(post "$(ev 1 session_start)")" = 204 ]
batch="[$(ev 1 screen_view ',"screen":"home","duration_ms":4200'),$(ev 1 product_lookup ',"gtin":"03012345123457","duration_ms":9000'),$(ev 1 session_end ',"duration_ms":60000')]"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain;charset=UTF-8' \
	--data-binary "$batch" "$URL")
check http_text_plain_batch_204 [ "$status" = 204 ]

# ---- refusals over HTTP, each with its answer.
status=$(post "$(ev 2 product_lookup ',"gtin":"03012345123458"')")
check bad_gtin_gets_400 [ "$status" = 400 ]
check bad_gtin_answer_names_the_reason grep -q '^event 1: gtin: ' "$T/resp.txt"
check unknown_member_gets_400 [ "$(post "$(ev 2 session_start ',"ts":1')")" = 400 ]
check get_gets_405 [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 405 ]
check other_path_gets_404 [ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary '{}' \
	"http://127.0.0.1:$HTTP_PORT/v1/other")" = 404 ]
check form_content_type_gets_415 [ "$(curl -s -o /dev/null -w '%{http_code}' \
	--data-binary "$(ev 1 session_start)" "$URL")" = 415 ]

head -c 10000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
start_ns=$(date +%s%N)
status=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -H 'Content-Type: application/json' \
	--data-binary @"$T/big.json" "$URL")
ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
check ten_mb_body_gets_413 [ "$status" = 413 ]
# Not a timing assertion on the agent's speed: reading 10 MB and then
# refusing would take as long as the upload; 5 s is far from either.
if [ "$ms" -lt 5000 ]; then pass ten_mb_body_refused_without_reading_it; else
	fail ten_mb_body_refused_without_reading_it "took $ms ms"; fi
check agent_runs_after_10_mb_body kill -0 "$AGENT_PID"
check http_still_serves_after_413 [ "$(post "$(ev 2 session_start)")" = 204 ]

# ---- a flood from kiosk 3 (rate 5/s, burst 32: never less than the
# largest batch): 429 once over its budget, while kiosk 4 still gets through.
# The 80 requests go from one curl process, one after the other (a curl
# per request could be slower than the refill on a loaded machine, under
# the sanitizers); what is taken is the burst plus what refilled meanwhile
# (timed).
flood=()
for i in $(seq 1 80); do
	[ "$i" = 1 ] || flood+=(--next)
	flood+=(-s -D "$T/flood-$i.txt" -o /dev/null -w '%{http_code}\n'
		-H 'Content-Type: application/json' --data-binary "$(ev 3 screen_view ',"screen":"flood"')" "$URL")
done
flood_start=$(date +%s%N)
mapfile -t codes < <(curl "${flood[@]}")
flood_s=$(( ($(date +%s%N) - flood_start) / 1000000000 + 1 ))
for i in "${!codes[@]}"; do
	if [ "${codes[$i]}" = 429 ]; then cp "$T/flood-$((i + 1)).txt" "$T/headers429.txt"; break; fi
done
n204=$(printf '%s\n' "${codes[@]}" | grep -c '^204$')
n429=$(printf '%s\n' "${codes[@]}" | grep -c '^429$')
check flood_gets_429 [ "$n429" -ge 1 -a $((n204 + n429)) = 80 ]
check flood_within_burst_taken [ "$n204" -ge 32 -a "$n204" -le $((32 + 5 * flood_s)) ]
check other_kiosk_gets_through_a_flood [ "$(post "$(ev 4 session_start)")" = 204 ]
check flood_answer_has_retry_after grep -qi '^retry-after: 1' "$T/headers429.txt"

# ---- the Unix-domain socket: JSON lines; an over-long line is dropped and
# the next one read.
python3 - "$SOCK" "$sess" <<'PY'
import socket, sys
path, sess = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
ev = '{"kiosk":2,"type":"screen_view","session":"%s","screen":"%s","duration_ms":1500}\n'
s.sendall((ev % (sess, "sock-before")).encode())
s.sendall(('{"kiosk":2,"junk":"' + "x" * 9000 + '"}\n').encode())
s.sendall((ev % (sess, "sock-after")).encode())
s.sendall(b'{"kiosk":2,"type":"session_end","session":"short"}\n')
s.close()
PY
wait_for 50 'grep -q "line_too_long" "$T/agent.log"'
check socket_long_line_refused_and_logged grep -q "refused a kiosk socket line: line_too_long" "$T/agent.log"

# ---- everything taken arrives as readings. Taken: 1 + 3 + 1 (after 413)
# + the flood's 204s + 1 (kiosk 4) + 2 socket lines.
expected=$((1 + 3 + 1 + n204 + 1 + 2))
wait_for 100 '[ "$(db_count)" -ge "$expected" ]'
check aggregator_stored_every_taken_event [ "$(db_count)" = "$expected" ]
q() { sqlite3 "$T/agg/vitrine.db" "$1"; }
check lookup_stored_with_its_gtin [ "$(q "select count(*) from tablet where kiosk=1 and gtin='03012345123457' and duration_ms=9000")" = 1 ]
check socket_line_after_long_one_stored [ "$(q "select count(*) from tablet where screen='sock-after'")" = 1 ]
check socket_line_before_long_one_stored [ "$(q "select count(*) from tablet where screen='sock-before'")" = 1 ]
# Kiosk 2: one session_start over HTTP and two screen views over the socket;
# its refused events (bad GTIN, unknown member, short session) are not there.
check no_refused_event_stored [ "$(q "select count(*) from tablet where kiosk=2")" = 3 ]
# Receive time, from the agent's clock: within this test's run.
now_ms=$(($(date +%s) * 1000))
check readings_stamped_with_receive_time [ "$(q "select count(*) from tablet where time_ms < $now_ms - 120000 or time_ms > $now_ms + 5000")" = 0 ]

# ---- shutdown: the counts by reason, the socket file removed.
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
rc=$?
# (under the sanitizers, a leak or an error would change the status)
check agent_stops_cleanly [ "$rc" = 0 ]
line=$(grep 'kiosk input in all:' "$T/agent.log")
check refusals_counted_by_reason grep -qE "unknown_member 1, session 1, gtin 1, body_too_large 1, line_too_long 1, content_type 1, rate_limited [1-9]" <<<"$line"
check taken_events_counted grep -q "kiosk input in all: $expected events taken" <<<"$line"
check socket_file_removed_at_exit [ ! -e "$SOCK" ]
check session_ids_never_logged [ "$(grep -c "$sess" "$T/agent.log")" = 0 ]

# ---- a port in use: a clear message naming the key.
cat "$T/agent.conf" >"$T/busy.conf"
sed -i "s#^tablet.http_port .*#tablet.http_port $PORT#" "$T/busy.conf"
"$AGENT" -c "$T/busy.conf" 2>"$T/busy.log" &
busy_pid=$!
PIDS+=("$busy_pid")
wait_for 50 'grep -q "cannot listen" "$T/busy.log"'
kill -TERM "$busy_pid"
wait "$busy_pid" 2>/dev/null
check port_in_use_named grep -q "cannot listen on 127.0.0.1:$PORT: address in use; .*tablet.http_port" "$T/busy.log"

# ---- the socket alone: neither tablet-http.so nor libmicrohttpd mapped.
sed -e 's/^tablet.http_port .*/tablet.http_port 0/' -e "s#^tablet.socket .*#tablet.socket $T/only.sock#" \
	"$T/agent.conf" >"$T/sock-only.conf"
"$AGENT" -c "$T/sock-only.conf" 2>"$T/sock-only.log" &
sock_pid=$!
PIDS+=("$sock_pid")
wait_for 100 'grep -q "kiosk socket .* ready" "$T/sock-only.log"'
check socket_only_maps_no_http_library \
	[ "$(grep -cE 'tablet-http|libmicrohttpd|libgnutls' "/proc/$sock_pid/maps")" = 0 ]
kill -TERM "$sock_pid"
wait "$sock_pid" 2>/dev/null

# ---- http_port set but tablet-http.so missing from the plugin directory:
# the error names the file and what to do; the socket-only way still works.
mkdir -p "$T/plugins"
cp "$PLUGIN_DIR/tablet.so" "$T/plugins/"
sed -e "s#^plugin_dir .*#plugin_dir $T/plugins#" "$T/agent.conf" >"$T/nomod.conf"
"$AGENT" -c "$T/nomod.conf" 2>"$T/nomod.log" &
nomod_pid=$!
PIDS+=("$nomod_pid")
wait_for 50 'grep -q "tablet-http.so" "$T/nomod.log"'
kill -TERM "$nomod_pid" 2>/dev/null
wait "$nomod_pid" 2>/dev/null
check missing_http_module_named \
	grep -q "kiosk HTTP (tablet.http_port) needs tablet-http.so, which did not load: $T/plugins/tablet-http.so: .*(nor .*/tablet-http.so: .*); install it beside tablet.so" "$T/nomod.log"
