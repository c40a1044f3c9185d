/*
 * tls_pin.c - pinning the broker's public key (see tls_pin.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keys.h"
#include "tls_pin.h"

#define VT_TLS_PIN_PREFIX "sha256//"

/* One "sha256//<base64>" of len characters. */
static int vt_tls_pin_one(const char *s, size_t len, uint8_t out[VT_TLS_PIN_LEN])
{
	size_t plen = strlen(VT_TLS_PIN_PREFIX), n = 0;
	uint8_t buf[48];

	if (len <= plen || strncmp(s, VT_TLS_PIN_PREFIX, plen) != 0)
		return -EINVAL;
	if (mbedtls_base64_decode(buf, sizeof(buf), &n, (const unsigned char *)s + plen,
				  len - plen) != 0 || n != VT_TLS_PIN_LEN)
		return -EINVAL;
	memcpy(out, buf, VT_TLS_PIN_LEN);
	return 0;
}

int vt_tls_pins_parse(const char *text, struct vt_tls_pins *pins, char *err, size_t errlen)
{
	const char *p = text;

	memset(pins, 0, sizeof(*pins));
	for (;;) {
		size_t len = strcspn(p, ";");

		if (pins->n == VT_TLS_PIN_MAX || vt_tls_pin_one(p, len, pins->sha256[pins->n]) < 0) {
			snprintf(err, errlen, pins->n == VT_TLS_PIN_MAX ?
				 "at most %d pins, separated by ';'" :
				 "sha256//<base64 of the SHA-256 of the broker's public key>, separated by ';' when several (%d at most; docs/CONFIG.md shows the openssl command)",
				 VT_TLS_PIN_MAX);
			memset(pins, 0, sizeof(*pins));
			return -EINVAL;
		}
		pins->n++;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* SHA-256 of the peer certificate's SubjectPublicKeyInfo. */
static int vt_tls_pin_peer(struct mosquitto *mosq, uint8_t hash[VT_TLS_PIN_LEN])
{
	SSL *ssl = mosquitto_ssl_get(mosq);
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	unsigned char *der = NULL;
	int len, rc = -EIO;

	if (!cert)
		return -EIO;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len > 0 && vt_keys_sha256(der, (size_t)len, hash) == 0)
		rc = 0;
	OPENSSL_free(der);
	X509_free(cert);
	return rc;
}

int vt_tls_pin_check(struct mosquitto *mosq, const struct vt_tls_pins *pins, char *got,
		     size_t gotlen)
{
	uint8_t hash[VT_TLS_PIN_LEN];
	unsigned char b64[48];
	size_t n = 0;

	got[0] = '\0';
	if (vt_tls_pin_peer(mosq, hash) < 0)
		return -EIO;
	if (mbedtls_base64_encode(b64, sizeof(b64), &n, hash, sizeof(hash)) == 0)
		snprintf(got, gotlen, VT_TLS_PIN_PREFIX "%.*s", (int)n, (const char *)b64);
	for (int i = 0; i < pins->n; i++)
		if (memcmp(hash, pins->sha256[i], VT_TLS_PIN_LEN) == 0)
			return 0;
	return -EACCES;
}
