# tls_broker.sh - TLS to the broker with certificates made at test time:
# mosquitto requires a client certificate; agent and aggregator present
# theirs, verify the broker's, and readings arrive. A plain-TCP agent is
# refused by the TLS listener. The agent's status carries its certificate's
# expiry; an expired client certificate is refused by --check-config and
# at start (exit 2) with the date.
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
