/*
 * tls.h - checks of the TLS files (tls_ca, tls_cert, tls_key) before the
 * agent relies on them, and the client certificate's expiry afterwards.
 *
 * libmosquitto (OpenSSL) does the TLS itself; what it reports when a file
 * is wrong is a bare "TLS error", at every reconnection, long after start.
 * So at start and at --check-config the files are read here with mbedTLS
 * x509 and every problem is refused with the file and what to do: tls_ca
 * holds PEM certificates; tls_cert is a PEM certificate issued by a CA in
 * tls_ca (its intermediates may follow it in the file), valid now and
 * allowed for client authentication; tls_key is its private key,
 * unencrypted. A certificate that expires within VT_TLS_WARN_DAYS is
 * accepted with a warning, repeated once a day while the agent runs; its
 * expiry goes into the status (vt_tls_status_json).
 *
 * What this file does not do: verify the broker's certificate or its name
 * (OpenSSL does, at each connection), revocation, pinning (tls_pin.h), or
 * anything with the aggregator's TLS files.
 */
#ifndef VT_TLS_H
#define VT_TLS_H

#include <stddef.h>
#include <stdint.h>

#define VT_TLS_WARN_DAYS 30
#define VT_TLS_NOTE_INTERVAL_S 86400	/* the expiry warning, while it applies */

struct vt_tls_files {
	const char *ca;		/* NULL: plain TCP, nothing to check */
	const char *cert;	/* NULL: no client certificate */
	const char *key;	/* with cert */
};

/* What the agent keeps of its client certificate. */
struct vt_tls_cert {
	const char *path;	/* borrowed: tls_cert, NULL when none is checked */
	int64_t not_before_s;	/* UTC, seconds since 1970 */
	int64_t not_after_s;
	int64_t next_note_s;	/* when vt_tls_watch() may warn again */
};

/*
 * Check the files as of now_s (UTC seconds). Returns 0 and fills *out
 * (out->path NULL when there is no client certificate, or when its key
 * type is one mbedTLS cannot read, e.g. Ed25519: then *note says so), or
 * -VT_ECONFIG (-ENOMEM) with the operator's message in err. *note (may be
 * NULL) receives a warning to log, "" when none: expiry within
 * VT_TLS_WARN_DAYS, or checks skipped. Nothing is logged here.
 */
int vt_tls_check(const struct vt_tls_files *f, int64_t now_s, struct vt_tls_cert *out,
		 char *err, size_t errlen, char *note, size_t notelen);

/* vt_tls_check() at the wall clock's now, logging the error or warning;
 * for the start-up and --check-config. */
int vt_tls_startup(const struct vt_tls_files *f, struct vt_tls_cert *out);

/* Whole days left before the client certificate expires (rounded down;
 * negative once it has). */
int64_t vt_tls_days_left(const struct vt_tls_cert *c, int64_t now_s);

/* While the agent runs: warn when the certificate is within
 * VT_TLS_WARN_DAYS of its expiry (or past it), at most once per
 * VT_TLS_NOTE_INTERVAL_S. Returns 1 when it logged. */
int vt_tls_watch(struct vt_tls_cert *c, int64_t now_s);

/* Append ',"tls":{"cert_not_after":"YYYY-MM-DDTHH:MM:SSZ","days_left":N}'
 * (or ',"tls":null' without a client certificate) to a status document.
 * c may be NULL. Returns the characters written (less than cap). */
size_t vt_tls_status_json(const struct vt_tls_cert *c, int64_t now_s, char *json, size_t cap);

#endif
