# tls_broker.sh - TLS to the broker with certificates made at test time:
# mosquitto requires a client certificate; agent and aggregator present
# theirs, verify the broker's, and readings arrive. A plain-TCP agent is
# refused by the TLS listener. The agent's status carries its certificate's
# expiry; an expired client certificate is refused by --check-config and
# at start (exit 2) with the date. tls_pin: the broker's key pinned
# delivers; another key pinned is refused during the TLS handshake, before
# the broker sees the device's CONNECT, and keeps everything in the spool;
# a pinned broker whose certificate names another host is refused; a
# malformed pin is refused.
. "$(dirname "$0")/lib.sh"

pki="$T/pki"
mkdir -p "$pki"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=vitrine test CA" -keyout ca.key -out ca.crt
	for who in server agent aggregator; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=$who" -keyout "$who.key" -out "$who.csr"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$who.ext"
		openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile "$who.ext" -out "$who.crt"
	done
) >"$T/openssl.log" 2>&1 || { fail tls_certificates_generated "openssl failed: $(tail -3 "$T/openssl.log")"; exit 1; }
# mosquitto started as root drops to its own user: let it read its files
# (throw-away test keys).
chmod 755 "$T" "$pki" && chmod 644 "$pki"/*

PORT=$(free_port)
start_broker "$PORT" "cafile $pki/ca.crt" "certfile $pki/server.crt" \
	"keyfile $pki/server.key" "require_certificate true"
setup_keys
printf 'tls_ca %s\ntls_cert %s\ntls_key %s\n' "$pki/ca.crt" "$pki/aggregator.crt" \
	"$pki/aggregator.key" >>"$T/aggregator.conf"
cp "$T/agent.conf" "$T/plain.conf"
printf 'tls_ca %s\ntls_cert %s\ntls_key %s\n' "$pki/ca.crt" "$pki/agent.crt" \
	"$pki/agent.key" >>"$T/agent.conf"
sim_plugins 50 11 >>"$T/agent.conf"
start_aggregator
timeout 30 "$AGENT" -c "$T/agent.conf" --tap "$T/tap.csv" --exit-when-done 2>"$T/agent.log"; rc=$?
check agent_delivers_over_tls [ "$rc" = 0 ]
expected=$(wc -l <"$T/tap.csv")
wait_for 100 '[ "$(db_count)" -ge "$expected" ]'
check readings_stored_over_tls [ "$(db_count)" = "$expected" ]

sim_plugins 5 11 >>"$T/plain.conf"
timeout 5 "$AGENT" -c "$T/plain.conf" --exit-when-done 2>"$T/plain.log"; rc=$?
check plain_client_refused_by_tls_listener [ "$rc" != 0 ]
check plain_client_logs_outage_once [ "$(grep -c 'broker .* \(unreachable\|lost\) (' "$T/plain.log")" = 1 ]

# The status carries the client certificate's expiry; made for 2 days, it
# has 1 whole day left (2 within its first second), and being within 30 days
# it was warned about at start.
grep -vE '^plugin |^[a-z_]+\.[a-z_]+ ' "$T/agent.conf" >"$T/status.conf"
last_status() {
	timeout 2 mosquitto_sub -h 127.0.0.1 -p "$PORT" --cafile "$pki/ca.crt" \
		--cert "$pki/aggregator.crt" --key "$pki/aggregator.key" \
		-t vitrine/v1/cannes-croisette/pi-01/status -C 1 2>/dev/null
}
"$AGENT" -c "$T/status.conf" 2>"$T/status.log" &
pid=$!
PIDS+=("$pid")
wait_for 100 'last_status | grep -q "\"state\":\"online\""'
s=$(last_status)
kill -TERM "$pid"
wait "$pid" 2>/dev/null
not_after=$(date -u -d "$(openssl x509 -in "$pki/agent.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
check status_has_cert_expiry_and_days_left \
	grep -qE "\"tls\":\{\"cert_not_after\":\"$not_after\",\"days_left\":[12]\}" <<<"$s"
check cert_expiring_within_30_days_warned_at_start \
	grep -qE "warn: tls_cert $pki/agent.crt expires on ${not_after%T*} \(in [12] days?\): renew it" "$T/agent.log"

# A client certificate that expired (made 5 days ago for 1 day, under
# faketime) is refused before anything starts, by --check-config and at
# start, with the date; the agent never tries the broker with it.
(
	cd "$pki" || exit 1
	faketime -f -5d openssl x509 -req -in agent.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 1 -extfile agent.ext -out expired.crt
) >>"$T/openssl.log" 2>&1 || fail expired_cert_made "faketime or openssl failed: $(tail -3 "$T/openssl.log")"
sed "s#^tls_cert .*#tls_cert $pki/expired.crt#" "$T/status.conf" >"$T/expired.conf"
expired_on=$(date -u -d "$(openssl x509 -in "$pki/expired.crt" -noout -enddate | cut -d= -f2)" +%Y-%m-%d)
said="tls_cert $pki/expired.crt expired on $expired_on \([34] days ago\): renew it"
"$AGENT" -c "$T/expired.conf" --check-config >"$T/expired-check.log" 2>&1; rc=$?
check expired_cert_check_config_exits_2 [ "$rc" = 2 ]
check expired_cert_check_config_says_when grep -qE "$said" "$T/expired-check.log"
timeout 10 "$AGENT" -c "$T/expired.conf" 2>"$T/expired-start.log"; rc=$?
check expired_cert_start_exits_2 [ "$rc" = 2 ]
check expired_cert_start_says_when grep -qE "$said" "$T/expired-start.log"
check expired_cert_never_tries_the_broker [ "$(grep -c 'connecting to broker' "$T/expired-start.log")" = 0 ]

# tls_pin: with the broker's key among the pins (the SHA-256 of its
# SubjectPublicKeyInfo, as openssl computes it), readings are delivered.
# With only another key pinned (the CA's), the broker is dropped before
# anything is published, the error gives the broker's actual pin, and the
# frames wait in the spool. A malformed pin is refused with file and line.
pin_of() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}
good=$(pin_of "$pki/server.crt")
other=$(pin_of "$pki/ca.crt")
before=$(db_count)
{ cat "$T/status.conf"; echo "tls_pin sha256//$other;sha256//$good"; sim_plugins 20 12; } >"$T/pinned.conf"
timeout 30 "$AGENT" -c "$T/pinned.conf" --tap "$T/pinned.csv" --exit-when-done 2>"$T/pinned.log"
check pinned_broker_key_delivers [ "$?" = 0 ]
total=$((before + $(wc -l <"$T/pinned.csv")))
wait_for 100 '[ "$(db_count)" = "$total" ]'
check pinned_readings_stored [ "$(db_count)" = "$total" ]

{ cat "$T/status.conf"; echo "tls_pin sha256//$other"; sim_plugins 20 13; } >"$T/wrongpin.conf"
seen=$(wc -l <"$T/mosquitto.log")
timeout 8 "$AGENT" -c "$T/wrongpin.conf" --tap "$T/wrongpin.csv" --exit-when-done 2>"$T/wrongpin.log"
check unpinned_broker_never_finishes [ "$?" = 124 ]
check unpinned_broker_named_with_its_pin grep -qF "TLS: the broker's public key sha256//$good is not one of tls_pin" "$T/wrongpin.log"
# Refused during the handshake: the broker never got as far as the
# device's CONNECT (client id, will), on any of the attempts.
check unpinned_broker_refused_in_the_handshake \
	[ "$(tail -n +$((seen + 1)) "$T/mosquitto.log" | grep -c 'alert handshake failure')" -ge 2 ]
check unpinned_broker_never_saw_the_device \
	[ "$(tail -n +$((seen + 1)) "$T/mosquitto.log" | grep -c 'New client connected')" = 0 ]
check nothing_published_to_unpinned_broker [ "$(db_count)" = "$total" ]
check frames_wait_in_the_spool [ "$("$AGENT" -c "$T/wrongpin.conf" --spool 2>/dev/null | sed -nE 's/.*: ([0-9]+) frames,.*/\1/p')" -gt 0 ]

# A pinned key does not waive the name: a broker whose certificate (from
# tls_ca, its key pinned) names another host is refused as without a pin.
(
	cd "$pki" || exit 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=elsewhere" -keyout elsewhere.key -out elsewhere.csr
	printf 'subjectAltName=DNS:elsewhere.example\n' >elsewhere.ext
	openssl x509 -req -in elsewhere.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 2 -extfile elsewhere.ext -out elsewhere.crt && chmod 644 elsewhere.*
) >>"$T/openssl.log" 2>&1
ELSEWHERE=$(free_port)
main_broker=$BROKER_PID
start_broker "$ELSEWHERE" "cafile $pki/ca.crt" "certfile $pki/elsewhere.crt" \
	"keyfile $pki/elsewhere.key" "require_certificate true"
{ sed "s/^broker .*/broker 127.0.0.1:$ELSEWHERE/" "$T/status.conf"
  echo "tls_pin sha256//$(pin_of "$pki/elsewhere.crt")"; sim_plugins 5 14; } >"$T/elsewhere.conf"
timeout 5 "$AGENT" -c "$T/elsewhere.conf" --exit-when-done 2>"$T/elsewhere.log"
check pinned_broker_must_still_hold_the_name [ "$?" = 124 ]
check pinned_broker_with_another_name_says_so \
	grep -q "TLS: the broker's certificate does not name the host '127.0.0.1'" "$T/elsewhere.log"
kill "$BROKER_PID" 2>/dev/null
BROKER_PID=$main_broker

{ cat "$T/status.conf"; echo "tls_pin sha256//not-base64"; } >"$T/badpin.conf"
"$AGENT" -c "$T/badpin.conf" --check-config >"$T/badpin.log" 2>&1
check malformed_pin_is_a_config_error [ "$?" = 2 ]
check malformed_pin_names_file_and_line grep -qE "$T/badpin.conf:[0-9]+: .*tls_pin.*sha256//<base64" "$T/badpin.log"
