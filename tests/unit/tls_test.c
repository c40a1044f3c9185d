/*
 * tls_test.c - the TLS file checks (tls.c) on certificates made by openssl
 * in a temporary directory: a good chain, expired and not-yet-valid
 * certificates (by the clock handed in, and one really expired, made under
 * faketime), another CA, a key of another pair, files that are not PEM or
 * not what they should be, expiry warnings, days left and the status field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "tls.h"
#include "vt_test.h"

#define DAY 86400

static char pki[300];

/*
 * ca (10 years), ca2 (another CA), shortca (valid 5 days);
 * good: by ca, 365 days; short: by ca, 10 days; other: by ca2;
 * viashort: by shortca, 30 days; server: by ca, serverAuth only;
 * oldca: made 10 days ago (faketime); expired: by oldca, 1 day, made 5 days ago;
 * enc.key: good.key under a passphrase; good.der: good.crt in DER.
 */
static const char pki_script[] =
	"set -e\n"
	"ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj \"/CN=$1\" -keyout $1.key -out $1.csr; }\n"
	"ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $2 -subj \"/CN=$1\" -keyout $1.key -out $1.crt; }\n"
	"sign() { openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days $3 ${4:+-extfile $4} -out $1.crt; }\n"
	"ca ca 3650; ca ca2 3650; ca shortca 5\n"
	"faketime -f -10d openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=oldca -keyout oldca.key -out oldca.crt\n"
	"for c in good short other viashort server expired; do ec $c; done\n"
	"sign good ca 365; sign short ca 10; sign other ca2 365; sign viashort shortca 30\n"
	"printf 'extendedKeyUsage=serverAuth\\n' >server.ext; sign server ca 365 server.ext\n"
	"faketime -f -5d openssl x509 -req -in expired.csr -CA oldca.crt -CAkey oldca.key -CAcreateserial -days 1 -out expired.crt\n"
	"openssl pkey -in good.key -aes256 -passout pass:secret -out enc.key\n"
	"openssl x509 -in good.crt -outform der -out good.der\n";

/* Make the certificates once; 0 when openssl (or faketime) failed. */
static int pki_ready(void)
{
	static int made = -1;
	char cmd[700], script[400];
	FILE *f;

	if (made >= 0)
		return made;
	made = 0;
	snprintf(pki, sizeof(pki), "%s/pki", vt_test_tmpdir());
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", pki);
	if (system(cmd) != 0)
		return 0;
	snprintf(script, sizeof(script), "%s/make.sh", pki);
	f = fopen(script, "w");
	if (!f)
		return 0;
	fputs(pki_script, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && sh ./make.sh >make.log 2>&1", pki);
	made = system(cmd) == 0;
	if (!made)
		fprintf(stderr, "openssl or faketime failed (both are in 'make deps'); see %s/make.log\n",
			pki);
	return made;
}

static const char *file(const char *name)
{
	static char paths[8][400];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 400, "%s/%s", pki, name);
	return p;
}

struct result {
	int rc;
	struct vt_tls_cert cert;
	char err[768];
	char note[512];
};

static struct result check_at(const char *ca, const char *cert, const char *key, int64_t now_s)
{
	struct vt_tls_files f = { ca ? file(ca) : NULL, cert ? file(cert) : NULL,
				  key ? file(key) : NULL };
	struct result r;

	memset(&r, 0, sizeof(r));
	r.rc = vt_tls_check(&f, now_s, &r.cert, r.err, sizeof(r.err), r.note, sizeof(r.note));
	return r;
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

static const char *date_of(int64_t s, char *out, size_t cap)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d", &tm);
	return out;
}

VT_TEST(good_chain_accepted)
{
	struct result r;

	CHECK(pki_ready());
	r = check_at("ca.crt", "good.crt", "good.key", now());
	CHECK_EQ_INT(r.rc, 0);
	CHECK_STR(r.cert.path, file("good.crt"));
	CHECK_STR(r.note, "");
	CHECK(r.cert.not_after_s > now() + 364 * DAY);
	CHECK(r.cert.not_before_s <= now());
	/* 365 days, less the seconds since it was made. */
	CHECK(vt_tls_days_left(&r.cert, now()) == 364 || vt_tls_days_left(&r.cert, now()) == 365);
}

VT_TEST(tls_off_and_ca_only_accepted)
{
	struct result r;

	CHECK(pki_ready());
	r = check_at(NULL, NULL, NULL, now());
	CHECK_EQ_INT(r.rc, 0);
	CHECK(r.cert.path == NULL);
	r = check_at("ca.crt", NULL, NULL, now());
	CHECK_EQ_INT(r.rc, 0);
	CHECK(r.cert.path == NULL);
}

VT_TEST(expired_cert_refused_with_date)
{
	struct result ok, r;
	char want[600], date[16];

	CHECK(pki_ready());
	ok = check_at("ca.crt", "short.crt", "short.key", now());
	CHECK_EQ_INT(ok.rc, 0);
	/* Ten days and an hour after its expiry, by the clock handed in. */
	r = check_at("ca.crt", "short.crt", "short.key", ok.cert.not_after_s + 10 * DAY + 3600);
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_cert %s expired on %s (10 days ago): renew it",
		 file("short.crt"), date_of(ok.cert.not_after_s, date, sizeof(date)));
	CHECK_STR(r.err, want);
	r = check_at("ca.crt", "short.crt", "short.key", ok.cert.not_after_s + 7200);
	CHECK(strstr(r.err, "(2 hours ago)") != NULL);
}

VT_TEST(really_expired_cert_refused_by_todays_clock)
{
	struct result before, r;
	char want[600], date[16];

	CHECK(pki_ready());
	/* Made under faketime 5 days ago, for 1 day: valid then, not today. */
	before = check_at("oldca.crt", "expired.crt", "expired.key", now() - 4 * DAY - 3600);
	CHECK_EQ_INT(before.rc, 0);
	r = check_at("oldca.crt", "expired.crt", "expired.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_cert %s expired on %s (", file("expired.crt"),
		 date_of(before.cert.not_after_s, date, sizeof(date)));
	CHECK(strncmp(r.err, want, strlen(want)) == 0);
	CHECK(strstr(r.err, "(3 days ago): renew it") || strstr(r.err, "(4 days ago): renew it"));
}

VT_TEST(not_yet_valid_cert_refused)
{
	struct result r;

	CHECK(pki_ready());
	r = check_at("ca.crt", "good.crt", "good.key", now() - 3 * DAY);
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	CHECK(strncmp(r.err, "tls_cert ", 9) == 0);
	CHECK(strstr(r.err, "is not valid before") != NULL);
	CHECK(strstr(r.err, "(in 2 days)") || strstr(r.err, "(in 3 days)"));
	CHECK(strstr(r.err, "clock is not set") == NULL);
	/* A clock that was never set is named as the likely cause. */
	r = check_at("ca.crt", "good.crt", "good.key", 86400);
	CHECK(strstr(r.err, "the clock is not set: it says 1970-01-02") != NULL);
}

VT_TEST(cert_of_another_ca_refused)
{
	struct result r;
	char want[600];

	CHECK(pki_ready());
	r = check_at("ca.crt", "other.crt", "other.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_cert %s was not issued by tls_ca %s (its issuer is \"CN=ca2\")",
		 file("other.crt"), file("ca.crt"));
	CHECK(strncmp(r.err, want, strlen(want)) == 0);
}

VT_TEST(key_of_another_pair_refused)
{
	struct result r;
	char want[600];

	CHECK(pki_ready());
	r = check_at("ca.crt", "good.crt", "other.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_key %s does not match tls_cert %s:", file("other.key"),
		 file("good.crt"));
	CHECK(strncmp(r.err, want, strlen(want)) == 0);
}

VT_TEST(ca_that_is_not_pem_refused)
{
	struct result r;
	char want[600];

	CHECK(pki_ready());
	r = check_at("good.der", "good.crt", "good.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_ca %s is not a PEM certificate", file("good.der"));
	CHECK(strncmp(r.err, want, strlen(want)) == 0);
	CHECK(strstr(r.err, "openssl x509 -inform der") != NULL);
	r = check_at("ca.key", "good.crt", "good.key", now());
	CHECK(strstr(r.err, "is not a PEM certificate") != NULL);
	CHECK(strstr(r.err, "swapped") != NULL);
	r = check_at("ca.crt", "good.crt", "good.crt", now());
	CHECK(strstr(r.err, "is not a PEM private key") != NULL);
}

VT_TEST(missing_file_named_with_the_reason)
{
	struct result r;
	char want[600];

	CHECK(pki_ready());
	r = check_at("ca.crt", "nope.crt", "good.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_cert %s cannot be read: %s", file("nope.crt"),
		 strerror(ENOENT));
	CHECK_STR(r.err, want);
}

VT_TEST(encrypted_key_refused)
{
	struct result r;

	CHECK(pki_ready());
	r = check_at("ca.crt", "good.crt", "enc.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	CHECK(strstr(r.err, "is encrypted with a passphrase") != NULL);
}

VT_TEST(server_only_cert_refused_for_a_client)
{
	struct result r;

	CHECK(pki_ready());
	r = check_at("ca.crt", "server.crt", "server.key", now());
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	CHECK(strstr(r.err, "lacks clientAuth") != NULL);
}

VT_TEST(expired_ca_named_as_the_ca)
{
	struct result r;
	char want[600];

	CHECK(pki_ready());
	/* shortca lives 5 days, viashort 30: in 10 days only the CA is out. */
	r = check_at("shortca.crt", "viashort.crt", "viashort.key", now() + 10 * DAY);
	CHECK_EQ_INT(r.rc, -VT_ECONFIG);
	snprintf(want, sizeof(want), "tls_ca %s: its CA certificate expired on ",
		 file("shortca.crt"));
	CHECK(strncmp(r.err, want, strlen(want)) == 0);
}

VT_TEST(expiring_soon_accepted_with_days_left)
{
	struct result ok, r;
	char json[160], want[160], date[32];
	struct tm tm;
	time_t t;
	int64_t at;

	CHECK(pki_ready());
	ok = check_at("ca.crt", "short.crt", "short.key", now());
	CHECK_EQ_INT(ok.rc, 0);
	/* A certificate for 10 days: warned about from the start. */
	CHECK(strstr(ok.note, "expires on") != NULL);
	CHECK(strstr(ok.note, "(in 9 days)") || strstr(ok.note, "(in 10 days)"));
	at = ok.cert.not_after_s - 5 * DAY - 100;
	r = check_at("ca.crt", "short.crt", "short.key", at);
	CHECK_EQ_INT(r.rc, 0);
	CHECK_EQ_INT(vt_tls_days_left(&r.cert, at), 5);
	CHECK(strstr(r.note, "(in 5 days): renew it before then") != NULL);
	t = (time_t)r.cert.not_after_s;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(want, sizeof(want), ",\"tls\":{\"cert_not_after\":\"%s\",\"days_left\":5}", date);
	CHECK_EQ_INT(vt_tls_status_json(&r.cert, at, json, sizeof(json)), strlen(want));
	CHECK_STR(json, want);
	/* 31 days before: no warning. */
	r = check_at("ca.crt", "good.crt", "good.key", now());
	CHECK_STR(r.note, "");
}

VT_TEST(days_left_round_down_past_expiry)
{
	struct vt_tls_cert c = { .path = "x.crt", .not_after_s = 100 * DAY };

	CHECK_EQ_INT(vt_tls_days_left(&c, 100 * DAY), 0);
	CHECK_EQ_INT(vt_tls_days_left(&c, 100 * DAY - 1), 0);
	CHECK_EQ_INT(vt_tls_days_left(&c, 99 * DAY), 1);
	CHECK_EQ_INT(vt_tls_days_left(&c, 100 * DAY + 1), -1);
	CHECK_EQ_INT(vt_tls_days_left(&c, 101 * DAY), -1);
	CHECK_EQ_INT(vt_tls_days_left(&c, 101 * DAY + 1), -2);
}

VT_TEST(status_says_null_without_client_cert)
{
	struct vt_tls_cert none = { 0 };
	char json[64], tiny[8];

	CHECK_EQ_INT(vt_tls_status_json(&none, 0, json, sizeof(json)), strlen(",\"tls\":null"));
	CHECK_STR(json, ",\"tls\":null");
	CHECK_EQ_INT(vt_tls_status_json(NULL, 0, json, sizeof(json)), strlen(",\"tls\":null"));
	/* Never a cut field in the document. */
	CHECK_EQ_INT(vt_tls_status_json(&none, 0, tiny, sizeof(tiny)), 0);
	CHECK_STR(tiny, "");
}

VT_TEST(expiry_warning_repeats_once_a_day)
{
	struct result r;
	int64_t t;

	CHECK(pki_ready());
	t = now();
	r = check_at("ca.crt", "short.crt", "short.key", t);
	CHECK_EQ_INT(r.rc, 0);
	/* The start-up logged it; the next comes a day later. */
	CHECK_EQ_INT(vt_tls_watch(&r.cert, t + 3600), 0);
	CHECK_EQ_INT(vt_tls_watch(&r.cert, t + DAY), 1);
	CHECK_EQ_INT(vt_tls_watch(&r.cert, t + DAY + 60), 0);
	CHECK_EQ_INT(vt_tls_watch(&r.cert, t + 2 * DAY), 1);
	/* Far from expiry: never. */
	r = check_at("ca.crt", "good.crt", "good.key", t);
	CHECK_EQ_INT(vt_tls_watch(&r.cert, t + DAY), 0);
}

VT_TEST_MAIN()
