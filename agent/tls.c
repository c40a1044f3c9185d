/*
 * tls.c - the TLS files checked with mbedTLS x509 (see tls.h).
 *
 * Dates are checked here against the clock handed in, not by mbedTLS
 * (whose verification reads the system clock): its expiry flags are
 * cleared in the verification callback, which notes instead which
 * certificate of the chain is out of its validity and when. Only whether
 * tls_cert chains up to a CA of tls_ca is taken from mbedTLS, under a
 * profile that accepts every algorithm it knows: which ones are acceptable
 * is for OpenSSL on both ends to decide, not for this check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "err.h"
#include "log.h"
#include "tls.h"
#include "vt_os.h"

#define VT_TLS_FILE_MAX (1 << 20)	/* a PEM file bigger than this is not ours */
#define VT_TLS_DAY_S 86400

/* Any algorithm mbedTLS can verify: the check is about who issued what. */
static const mbedtls_x509_crt_profile vt_tls_profile = {
	.allowed_mds = 0xffffffff,
	.allowed_pks = 0xffffffff,
	.allowed_curves = 0xffffffff,
	.rsa_min_bitlen = 512,
};

/* Seconds since 1970 of a civil UTC date (days_from_civil, H. Hinnant). */
static int64_t vt_tls_epoch(const mbedtls_x509_time *t)
{
	int64_t y = t->year - (t->mon <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (t->mon + (t->mon > 2 ? -3 : 9)) + 2) / 5 + t->day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return days * VT_TLS_DAY_S + t->hour * 3600 + t->min * 60 + t->sec;
}

/* "%Y-%m-%d" (date_only) or "%Y-%m-%dT%H:%M:%SZ" of UTC seconds. */
static const char *vt_tls_date(int64_t s, int date_only, char *out, size_t cap)
{
	time_t t = (time_t)s;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, cap, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, cap, "?");
	return out;
}

/* A duration in the largest whole unit: "5 days", "1 hour", "3 minutes". */
static const char *vt_tls_span(int64_t s, char *out, size_t cap)
{
	static const struct { int64_t secs; const char *unit; } units[] = {
		{ VT_TLS_DAY_S, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" },
	};
	size_t i = 0;

	if (s < 0)
		s = -s;
	while (i + 1 < sizeof(units) / sizeof(units[0]) && s < units[i].secs)
		i++;
	snprintf(out, cap, "%" PRId64 " %s%s", s / units[i].secs, units[i].unit,
		 s / units[i].secs == 1 ? "" : "s");
	return out;
}

/* The whole file, NUL-terminated (PEM parsing wants it); caller frees
 * with vt_tls_drop(). */
static int vt_tls_read(const char *what, const char *path, unsigned char **buf, size_t *len,
		       char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	int rc = 0, e = errno;
	size_t n = 0;

	*buf = NULL;
	if (!f) {
		snprintf(err, errlen, "%s %s cannot be read: %s%s", what, path, strerror(e),
			 e == EACCES ? " (the agent's user needs read access to it)" : "");
		return -VT_ECONFIG;
	}
	*buf = malloc(VT_TLS_FILE_MAX + 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	n = fread(*buf, 1, VT_TLS_FILE_MAX + 1, f);
	if (ferror(f) || n > VT_TLS_FILE_MAX) {
		snprintf(err, errlen, "%s %s cannot be read: %s", what, path,
			 ferror(f) ? strerror(errno) : "larger than 1 MiB, not a PEM file");
		rc = -VT_ECONFIG;
		goto out_close;
	}
	(*buf)[n] = '\0';
	*len = n + 1;
out_close:
	fclose(f);
	return rc;
}

/* Free a file read by vt_tls_read(), wiped: it may hold a private key. */
static void vt_tls_drop(unsigned char *buf, size_t len)
{
	if (!buf)
		return;
	mbedtls_platform_zeroize(buf, len);
	free(buf);
}

/* A parse error of a certificate or key that mbedTLS 2.28 cannot read
 * for its algorithm (Ed25519, Ed448), though OpenSSL can. */
static int vt_tls_unsupported(int ret)
{
	int high = -(-ret & 0xff80);

	return ret == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || high == MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG;
}

/* The certificates of a PEM file, with the operator's message when there
 * are none. Returns 0, 1 (unsupported algorithm), or -VT_ECONFIG. */
static int vt_tls_certs(const char *what, const char *path, mbedtls_x509_crt *crt, char *err,
			size_t errlen)
{
	unsigned char *buf;
	size_t len = 0;
	int rc, ret;

	rc = vt_tls_read(what, path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	if (!strstr((const char *)buf, "-----BEGIN CERTIFICATE-----")) {
		snprintf(err, errlen, "%s %s is not a PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line)%s",
			 what, path,
			 strstr((const char *)buf, "PRIVATE KEY-----")
				 ? ": it holds a private key; are two file names swapped?"
				 : ": a DER file converts with 'openssl x509 -inform der -in FILE -out FILE.pem'");
		rc = -VT_ECONFIG;
		goto out;
	}
	ret = mbedtls_x509_crt_parse(crt, buf, len);
	if (ret < 0 && vt_tls_unsupported(ret)) {
		rc = 1;
	} else if (ret < 0) {
		char why[128];

		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "%s %s is not a valid PEM certificate (%s)", what, path, why);
		rc = -VT_ECONFIG;
	}
out:
	vt_tls_drop(buf, len);
	return rc;
}

/* The private key; -VT_ECONFIG with the message, 1 when unsupported. */
static int vt_tls_key(const char *path, mbedtls_pk_context *key, char *err, size_t errlen)
{
	int mode = vt_os_mode(path);
	unsigned char *buf;
	size_t len = 0;
	int rc, ret;

	if (mode > 0 && (mode & 077))
		VT_WARN("tls_key %s is readable by group or others: chmod 600 it", path);
	rc = vt_tls_read("tls_key", path, &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	if (!strstr((const char *)buf, "PRIVATE KEY-----")) {
		snprintf(err, errlen, "tls_key %s is not a PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\" line)%s",
			 path,
			 strstr((const char *)buf, "-----BEGIN CERTIFICATE-----")
				 ? ": it holds a certificate; are two file names swapped?" : "");
		rc = -VT_ECONFIG;
		goto out;
	}
	ret = mbedtls_pk_parse_key(key, buf, len, NULL, 0);
	if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
		snprintf(err, errlen, "tls_key %s is encrypted with a passphrase, which the agent cannot type: store it unencrypted, readable by the agent's user only ('openssl pkey -in KEY -out PLAIN', then chmod 600)",
			 path);
		rc = -VT_ECONFIG;
	} else if (ret < 0 && vt_tls_unsupported(ret)) {
		rc = 1;
	} else if (ret < 0) {
		char why[128];

		mbedtls_strerror(ret, why, sizeof(why));
		snprintf(err, errlen, "tls_key %s is not a valid PEM private key (%s)", path, why);
		rc = -VT_ECONFIG;
	}
out:
	vt_tls_drop(buf, len);
	return rc;
}

/* What the verification callback noticed about the chain's dates. */
struct vt_tls_dates {
	int64_t now_s;
	const mbedtls_x509_crt *bad;	/* the lowest certificate out of its validity */
	int bad_depth;
	int future;			/* bad is not valid yet (else: expired) */
	int64_t when_s;			/* its notAfter, or its notBefore */
};

static int vt_tls_verify_cb(void *arg, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct vt_tls_dates *d = arg;
	int64_t from = vt_tls_epoch(&crt->valid_from), to = vt_tls_epoch(&crt->valid_to);

	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	if ((d->now_s > to || d->now_s < from) && (!d->bad || depth < d->bad_depth)) {
		d->bad = crt;
		d->bad_depth = depth;
		d->future = d->now_s < from;
		d->when_s = d->future ? from : to;
	}
	return 0;
}

static int vt_tls_in_chain(const mbedtls_x509_crt *chain, const mbedtls_x509_crt *crt)
{
	for (; chain; chain = chain->next)
		if (chain == crt)
			return 1;
	return 0;
}

/* tls_cert chains up to tls_ca, and every certificate of the chain is
 * within its validity at d->now_s. */
static int vt_tls_chain(const struct vt_tls_files *f, mbedtls_x509_crt *cert,
			mbedtls_x509_crt *ca, struct vt_tls_dates *d, char *err, size_t errlen)
{
	char date[32], span[32], clock[80] = "";
	const char *which, *key, *path;
	uint32_t flags = 0;

	if (mbedtls_x509_crt_verify_with_profile(cert, ca, NULL, &vt_tls_profile, NULL, &flags,
						 vt_tls_verify_cb, d) != 0 || flags) {
		char issuer[256] = "?", why[256] = "";

		mbedtls_x509_dn_gets(issuer, sizeof(issuer), &cert->issuer);
		if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
			snprintf(err, errlen, "tls_cert %s was not issued by tls_ca %s (its issuer is \"%s\"): use the certificate issued to this device by the fleet's CA, or add the CA that issued it to tls_ca",
				 f->cert, f->ca, issuer);
		} else {
			mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
			why[strcspn(why, "\n")] = '\0';
			snprintf(err, errlen, "tls_cert %s does not verify against tls_ca %s: %s",
				 f->cert, f->ca, why[0] ? why : "unknown reason");
		}
		return -VT_ECONFIG;
	}
	if (!d->bad)
		return 0;
	if (d->now_s * 1000 < VT_OS_CLOCK_SET_MS)
		snprintf(clock, sizeof(clock), " (the clock is not set: it says %s; set it, NTP)",
			 vt_tls_date(d->now_s, 1, date, sizeof(date)));
	key = "tls_cert";
	path = f->cert;
	which = d->bad_depth == 0 ? "" : ": the intermediate CA certificate in it";
	if (d->bad_depth > 0 && vt_tls_in_chain(ca, d->bad)) {
		key = "tls_ca";
		path = f->ca;
		which = ": its CA certificate";
	}
	vt_tls_date(d->when_s, 1, date, sizeof(date));
	vt_tls_span(d->when_s - d->now_s, span, sizeof(span));
	if (d->future)
		snprintf(err, errlen, "%s %s%s is not valid before %s (in %s)%s: check the clock, or wait, or reissue it",
			 key, path, which, date, span, clock);
	else
		snprintf(err, errlen, "%s %s%s expired on %s (%s ago)%s: renew it", key, path,
			 which, date, span, clock);
	return -VT_ECONFIG;
}

/* The warning for a certificate near (or past) its expiry; "" if none. */
static void vt_tls_note(const struct vt_tls_cert *c, int64_t now_s, char *note, size_t len)
{
	char date[32], span[32];

	if (!note || !len)
		return;
	note[0] = '\0';
	if (!c->path || c->not_after_s - now_s >= (int64_t)VT_TLS_WARN_DAYS * VT_TLS_DAY_S)
		return;
	vt_tls_date(c->not_after_s, 1, date, sizeof(date));
	vt_tls_span(c->not_after_s - now_s, span, sizeof(span));
	if (c->not_after_s < now_s)
		snprintf(note, len, "tls_cert %s expired on %s (%s ago): the broker will refuse this device at its next connection; renew it",
			 c->path, date, span);
	else
		snprintf(note, len, "tls_cert %s expires on %s (in %s): renew it before then, or the broker will refuse this device",
			 c->path, date, span);
}

/* The client certificate with its key and CA: a pair, issued by a CA of
 * tls_ca, within its dates, for TLS clients. */
static int vt_tls_client(const struct vt_tls_files *f, mbedtls_x509_crt *cert,
			 mbedtls_pk_context *key, mbedtls_x509_crt *ca, int64_t now_s, char *err,
			 size_t errlen)
{
	struct vt_tls_dates dates = { .now_s = now_s };
	int rc;

	if (f->key && mbedtls_pk_check_pair(&cert->pk, key) != 0) {
		snprintf(err, errlen, "tls_key %s does not match tls_cert %s: they are not a pair (install the key made with this certificate's request, or the certificate issued for this key)",
			 f->key, f->cert);
		return -VT_ECONFIG;
	}
	rc = vt_tls_chain(f, cert, ca, &dates, err, errlen);
	if (rc < 0)
		return rc;
	if (mbedtls_x509_crt_check_extended_key_usage(cert, MBEDTLS_OID_CLIENT_AUTH,
						      MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)) != 0) {
		snprintf(err, errlen, "tls_cert %s is not for TLS clients (its extendedKeyUsage lacks clientAuth): the broker will refuse it; reissue it with extendedKeyUsage=clientAuth",
			 f->cert);
		return -VT_ECONFIG;
	}
	return 0;
}

int vt_tls_check(const struct vt_tls_files *f, int64_t now_s, struct vt_tls_cert *out,
		 char *err, size_t errlen, char *note, size_t notelen)
{
	mbedtls_x509_crt ca, cert;
	mbedtls_pk_context key;
	int rc;

	memset(out, 0, sizeof(*out));
	if (note && notelen)
		note[0] = '\0';
	if (!f->ca)
		return 0;
	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&cert);
	mbedtls_pk_init(&key);
	/* rc 1 from here on: a file mbedTLS cannot read, OpenSSL may well. */
	rc = vt_tls_certs("tls_ca", f->ca, &ca, err, errlen);
	if (rc == 0 && f->cert)
		rc = vt_tls_certs("tls_cert", f->cert, &cert, err, errlen);
	if (rc == 0 && f->cert && f->key)
		rc = vt_tls_key(f->key, &key, err, errlen);
	if (rc == 0 && f->cert)
		rc = vt_tls_client(f, &cert, &key, &ca, now_s, err, errlen);
	if (rc == 0 && f->cert) {
		out->path = f->cert;
		out->not_before_s = vt_tls_epoch(&cert.valid_from);
		out->not_after_s = vt_tls_epoch(&cert.valid_to);
		out->next_note_s = now_s + VT_TLS_NOTE_INTERVAL_S;
		vt_tls_note(out, now_s, note, notelen);
	} else if (rc == 1) {
		if (note && notelen)
			snprintf(note, notelen, "the TLS files (tls_ca %s%s%s) use a key type this agent cannot check (Ed25519?): not checked; the broker will tell",
				 f->ca, f->cert ? ", tls_cert " : "", f->cert ? f->cert : "");
		rc = 0;
	}
	mbedtls_pk_free(&key);
	mbedtls_x509_crt_free(&cert);
	mbedtls_x509_crt_free(&ca);
	return rc;
}

int vt_tls_startup(const struct vt_tls_files *f, struct vt_tls_cert *out)
{
	char err[768], note[512];
	int rc;

	rc = vt_tls_check(f, vt_os_now_ms() / 1000, out, err, sizeof(err), note, sizeof(note));
	if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "cannot check the TLS files: out of memory");
	if (rc < 0)
		VT_ERROR("%s", err);
	else if (note[0])
		VT_WARN("%s", note);
	return rc;
}

int64_t vt_tls_days_left(const struct vt_tls_cert *c, int64_t now_s)
{
	int64_t left = c->not_after_s - now_s;

	/* Rounded down, also below zero: expired an hour ago is day -1. */
	return left >= 0 ? left / VT_TLS_DAY_S : -((-left + VT_TLS_DAY_S - 1) / VT_TLS_DAY_S);
}

int vt_tls_watch(struct vt_tls_cert *c, int64_t now_s)
{
	char note[512];

	if (!c->path || now_s < c->next_note_s)
		return 0;
	c->next_note_s = now_s + VT_TLS_NOTE_INTERVAL_S;
	vt_tls_note(c, now_s, note, sizeof(note));
	if (!note[0])
		return 0;
	if (c->not_after_s < now_s)
		VT_ERROR("%s", note);
	else
		VT_WARN("%s", note);
	return 1;
}

size_t vt_tls_status_json(const struct vt_tls_cert *c, int64_t now_s, char *json, size_t cap)
{
	char date[32];
	int n;

	if (!cap)
		return 0;
	if (!c || !c->path)
		n = snprintf(json, cap, ",\"tls\":null");
	else
		n = snprintf(json, cap, ",\"tls\":{\"cert_not_after\":\"%s\",\"days_left\":%" PRId64 "}",
			     vt_tls_date(c->not_after_s, 0, date, sizeof(date)),
			     vt_tls_days_left(c, now_s));
	if (n < 0)
		return 0;
	if ((size_t)n >= cap) {
		json[0] = '\0';	/* a cut field would break the document */
		return 0;
	}
	return (size_t)n;
}
