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
 * It is checked during the TLS handshake, when the broker's certificate
 * arrives: a server whose key is not pinned gets a TLS alert before this
 * device sends its certificate, its client id or its will. libmosquitto
 * does TLS with OpenSSL: the agent gives it an SSL_CTX of its own
 * (MOSQ_OPT_SSL_CTX, set up by libmosquitto with its defaults) whose chain
 * verification is OpenSSL's (tls_ca, dates, the broker's name or address),
 * then the pin. It is checked again once
 * the broker has answered CONNECT, as a second line. A broker whose key is
 * not pinned is treated as unreachable (the spool keeps everything; the
 * status says why). The hash is mbedTLS's.
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

/* The pin check of a client's handshakes (vt_tls_pin_arm). */
struct vt_tls_pin_guard {
	const struct vt_tls_pins *pins;
	const char *host;		/* the broker's name or address */
	int hostname;			/* the certificate does not hold it */
	int refused;			/* the broker's key is not pinned */
	char got[VT_TLS_PIN_TEXT];	/* the broker's pin, once its key was read */
};

/* "sha256//<base64>[;sha256//<base64>...]" into pins. Returns 0, or
 * -EINVAL with what was expected in err. */
int vt_tls_pins_parse(const char *text, struct vt_tls_pins *pins, char *err, size_t errlen);

/* The broker's key against the pins, on mosq's TLS session. Returns 0
 * when it is pinned; -EACCES when not, and -EIO when there is no peer
 * certificate to check or OpenSSL did not verify its chain. got (VT_TLS_PIN_TEXT) receives the broker's pin
 * whenever its key could be read, "" otherwise. */
int vt_tls_pin_check(struct mosquitto *mosq, const struct vt_tls_pins *pins, char *got,
		     size_t gotlen);

/* Checks the pins during each TLS handshake of mosq: call after
 * mosquitto_tls_set() and before connecting. host (the broker's name or
 * address: an address must be an IP subjectAltName of the certificate)
 * and g must stay in place while mosq lives. A refusal sets g->refused and
 * g->got, a name the certificate does not hold g->hostname (clear them
 * before an attempt), and the handshake fails. Returns 0, -ENOMEM, or
 * -EIO when libmosquitto does not take the context. */
int vt_tls_pin_arm(struct mosquitto *mosq, const struct vt_tls_pins *pins, const char *host,
		   struct vt_tls_pin_guard *g);

#endif /* VT_TLS_PIN_H */
