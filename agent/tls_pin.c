/*
 * tls_pin.c - pinning the broker's public key (see tls_pin.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mosquitto.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

/* SHA-256 of a certificate's SubjectPublicKeyInfo. */
static int vt_tls_pin_hash(X509 *cert, uint8_t hash[VT_TLS_PIN_LEN])
{
	unsigned char *der = NULL;
	int len, rc = -EIO;

	if (!cert)
		return -EIO;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len > 0 && vt_keys_sha256(der, (size_t)len, hash) == 0)
		rc = 0;
	OPENSSL_free(der);
	return rc;
}

/* The hash as a pin ("sha256//<base64>") into got, and whether it is one
 * of pins: 0 or -EACCES. */
static int vt_tls_pin_match(const struct vt_tls_pins *pins, const uint8_t hash[VT_TLS_PIN_LEN],
			    char *got, size_t gotlen)
{
	unsigned char b64[48];
	size_t n = 0;

	got[0] = '\0';
	if (mbedtls_base64_encode(b64, sizeof(b64), &n, hash, VT_TLS_PIN_LEN) == 0)
		snprintf(got, gotlen, VT_TLS_PIN_PREFIX "%.*s", (int)n, (const char *)b64);
	for (int i = 0; i < pins->n; i++)
		if (memcmp(hash, pins->sha256[i], VT_TLS_PIN_LEN) == 0)
			return 0;
	return -EACCES;
}

int vt_tls_pin_check(struct mosquitto *mosq, const struct vt_tls_pins *pins, char *got,
		     size_t gotlen)
{
	SSL *ssl = mosquitto_ssl_get(mosq);
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	uint8_t hash[VT_TLS_PIN_LEN];
	int rc = vt_tls_pin_hash(cert, hash);

	X509_free(cert);
	got[0] = '\0';
	if (rc == 0 && SSL_get_verify_result(ssl) != X509_V_OK)
		rc = -EIO;	/* the chain itself was not verified */
	return rc < 0 ? rc : vt_tls_pin_match(pins, hash, got, gotlen);
}

/* ---- during the handshake -------------------------------------------------- */

/* The broker's name or address, which its certificate must hold. */
static int vt_tls_pin_host(X509_STORE_CTX *ctx, const char *host)
{
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return X509_VERIFY_PARAM_set1_host(param, host, 0);
}

/* OpenSSL's own verdict on each certificate of the chain, unchanged. */
static int vt_tls_pin_chain(int ok, X509_STORE_CTX *ctx)
{
	(void)ctx;
	return ok;
}

/* OpenSSL's verification of the broker's chain, on the agent's SSL_CTX:
 * the chain against tls_ca, the dates and the broker's name or address as
 * OpenSSL checks them (libmosquitto's own callback cannot find its client
 * on a context it did not create, so it is set aside), then the pin, on
 * the broker's own certificate. */
static int vt_tls_pin_verify(X509_STORE_CTX *ctx, void *arg)
{
	struct vt_tls_pin_guard *g = arg;
	uint8_t hash[VT_TLS_PIN_LEN];
	int err;

	X509_STORE_CTX_set_verify_cb(ctx, vt_tls_pin_chain);
	if (vt_tls_pin_host(ctx, g->host) != 1) {
		X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		g->hostname = err == X509_V_ERR_HOSTNAME_MISMATCH ||
			      err == X509_V_ERR_IP_ADDRESS_MISMATCH;
		return 0;
	}
	if (vt_tls_pin_hash(X509_STORE_CTX_get0_cert(ctx), hash) == 0 &&
	    vt_tls_pin_match(g->pins, hash, g->got, sizeof(g->got)) == 0)
		return 1;
	g->refused = 1;
	X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

int vt_tls_pin_arm(struct mosquitto *mosq, const struct vt_tls_pins *pins, const char *host,
		   struct vt_tls_pin_guard *g)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc = -EIO;

	memset(g, 0, sizeof(*g));
	g->pins = pins;
	g->host = host;
	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, vt_tls_pin_verify, g);
	/* libmosquitto takes a reference, and sets up the rest of the context
	 * (CA, certificate and key, TLS versions) as it would its own. */
	if (mosquitto_void_option(mosq, MOSQ_OPT_SSL_CTX, ctx) == MOSQ_ERR_SUCCESS &&
	    mosquitto_int_option(mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 1) == MOSQ_ERR_SUCCESS)
		rc = 0;
	SSL_CTX_free(ctx);
	return rc;
}
