# tls_broker.sh - TLS to the broker with certificates made at test time:
# mosquitto requires a client certificate; agent and aggregator present
# theirs, verify the broker's, and readings arrive. A plain-TCP agent is
# refused by the TLS listener.
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
