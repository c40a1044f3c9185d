/*
 * tls_pin.h - pinning the broker's public key (tls_pin in agent.conf).
 *
 * tls_ca says which CA may vouch for the broker; a pin says which key the
 * broker must hold, whoever signed its certificate: a CA that issues a
 * certificate for the broker's name to someone else (a shop network's
 * TLS-inspecting proxy with its own CA installed, a mis-issuing public
 * CA) is not enough. The pin is the SHA-256 of the broker certificate's
 * SubjectPublicKeyInfo (DER), in base64, written "sha256//<base64>" as
 * curl's --pinnedpubkey; several, separated by ';', let a broker's key be
 * rotated without a gap. From the broker's certificate:
 *
 *   openssl x509 -in broker.crt -pubkey -noout | openssl pkey -pubin -outform der |
 *       openssl dgst -sha256 -binary | base64
 *
 * It is checked on each connection once the broker has answered CONNECT,
 * before the agent subscribes or publishes anything; a broker whose key is
 * not pinned is disconnected and treated as unreachable (the spool keeps
 * everything; the status says why). What such a server has seen by then:
 * the device's certificate (public), its client id and its will (both
 * name the site and device), never a reading, a key or a status. libmosquitto does TLS with OpenSSL,
 * so the peer's certificate is read through OpenSSL (mosquitto_ssl_get);
 * the hash is mbedTLS's.
 */
#ifndef VT_TLS_PIN_H
#define VT_TLS_PIN_H

#include <stddef.h>
#include <stdint.h>

#define VT_TLS_PIN_MAX 4
#define VT_TLS_PIN_LEN 32	/* SHA-256 */
/* "sha256//" and 44 characters of base64, plus the NUL. */
#define VT_TLS_PIN_TEXT (8 + 44 + 1)

struct vt_tls_pins {
	uint8_t sha256[VT_TLS_PIN_MAX][VT_TLS_PIN_LEN];
	int n;
};

struct mosquitto;

/* "sha256//<base64>[;sha256//<base64>...]" into pins. Returns 0, or
 * -EINVAL with what was expected in err. */
int vt_tls_pins_parse(const char *text, struct vt_tls_pins *pins, char *err, size_t errlen);

/* The broker's key against the pins, on mosq's TLS session. Returns 0
 * when it is pinned; -EACCES when not, and -EIO when there is no peer
 * certificate to check. got (VT_TLS_PIN_TEXT) receives the broker's pin
 * whenever its key could be read, "" otherwise. */
int vt_tls_pin_check(struct mosquitto *mosq, const struct vt_tls_pins *pins, char *got,
		     size_t gotlen);

#endif /* VT_TLS_PIN_H */
