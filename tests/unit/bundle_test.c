/*
 * bundle_test.c - ops keys (sigkey.c) against RFC 6979, key files, and the
 * bundle format (bundle.c): round trip, every kind of damage refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "err.h"
#include "keys.h"
#include "vt_os.h"
#include "vt_test.h"

/* RFC 6979 A.2.5: P-256, SHA-256, message "sample". */
static const char rfc_x[] = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const char rfc_rs[] = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
			     "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";

/* A SEC1 DER private key file (RFC 5915) holding only the scalar; the
 * public point is computed when loaded. */
static int write_sec1(const char *path, const char *x_hex, unsigned mode)
{
	uint8_t der[7 + 32 + 12] = { 0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20 };
	static const uint8_t oid[12] = { 0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

	if (vt_hex_decode(x_hex, der + 7, 32) < 0)
		return -1;
	memcpy(der + 39, oid, sizeof(oid));
	return vt_os_write_file_atomic(path, der, sizeof(der), mode);
}

static char *tmp_path(const char *name)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", vt_test_tmpdir(), name);
	return buf[i];
}

VT_TEST(sigkey_matches_rfc6979)
{
	struct vt_sigkey *k = NULL;
	uint8_t sig[VT_SIGKEY_SIG_LEN];
	char hex[2 * VT_SIGKEY_SIG_LEN + 1], err[256];
	const char *path = tmp_path("rfc.der");

	CHECK(write_sec1(path, rfc_x, 0600) == 0);
	CHECK_EQ_INT(vt_sigkey_load(path, 1, &k, err, sizeof(err)), 0);
	CHECK_EQ_INT(vt_sigkey_sign(k, (const uint8_t *)"sample", 6, sig), 0);
	vt_hex_encode(sig, sizeof(sig), hex);
	CHECK_STR(hex, rfc_rs);
	CHECK_EQ_INT(vt_sigkey_verify(k, (const uint8_t *)"sample", 6, sig), 0);
	CHECK_EQ_INT(vt_sigkey_verify(k, (const uint8_t *)"samplf", 6, sig), -VT_EAUTH);
	sig[10] ^= 1;
	CHECK_EQ_INT(vt_sigkey_verify(k, (const uint8_t *)"sample", 6, sig), -VT_EAUTH);
	vt_sigkey_free(k);
}

VT_TEST(sigkey_files_round_trip)
{
	struct vt_sigkey *k = NULL, *priv = NULL, *pub = NULL, *pub2 = NULL;
	uint8_t id[VT_SIGKEY_ID_LEN], id2[VT_SIGKEY_ID_LEN], sig[VT_SIGKEY_SIG_LEN];
	const char *kp = tmp_path("ops.key"), *pp = tmp_path("ops.pub");
	char err[256];
	struct stat st;

	CHECK_EQ_INT(vt_sigkey_generate(&k), 0);
	CHECK_EQ_INT(vt_sigkey_save(k, kp, pp), 0);
	CHECK_EQ_INT(vt_sigkey_save(k, kp, pp), -EEXIST);	/* never overwritten */
	CHECK(stat(kp, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_EQ_INT(vt_sigkey_load(kp, 1, &priv, err, sizeof(err)), 0);
	CHECK_EQ_INT(vt_sigkey_load(pp, 0, &pub, err, sizeof(err)), 0);
	/* A private key file names its public key too. */
	CHECK_EQ_INT(vt_sigkey_load(kp, 0, &pub2, err, sizeof(err)), 0);
	vt_sigkey_id(k, id);
	vt_sigkey_id(pub, id2);
	CHECK(memcmp(id, id2, sizeof(id)) == 0);
	CHECK_EQ_INT(vt_sigkey_sign(priv, (const uint8_t *)"x", 1, sig), 0);
	CHECK_EQ_INT(vt_sigkey_verify(pub, (const uint8_t *)"x", 1, sig), 0);
	CHECK_EQ_INT(vt_sigkey_verify(pub2, (const uint8_t *)"x", 1, sig), 0);
	CHECK_EQ_INT(vt_sigkey_sign(pub, (const uint8_t *)"x", 1, sig), -EINVAL);
	vt_sigkey_free(k);
	vt_sigkey_free(priv);
	vt_sigkey_free(pub);
	vt_sigkey_free(pub2);
}

VT_TEST(sigkey_refuses_open_or_foreign_files)
{
	struct vt_sigkey *k = NULL;
	const char *open_key = tmp_path("open.der"), *junk = tmp_path("junk.pem");
	char err[256];

	CHECK(write_sec1(open_key, rfc_x, 0644) == 0);
	CHECK_EQ_INT(vt_sigkey_load(open_key, 1, &k, err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "chmod 600") != NULL);
	CHECK(vt_os_write_file_atomic(junk, "hello\n", 6, 0600) == 0);
	CHECK(vt_sigkey_load(junk, 0, &k, err, sizeof(err)) < 0);
	CHECK(strstr(err, junk) != NULL);
	CHECK(vt_sigkey_load(tmp_path("missing.pem"), 0, &k, err, sizeof(err)) == -ENOENT);
}

/* A signed config bundle for group "pilot". */
static int make_bundle(struct vt_sigkey *k, uint8_t **out, size_t *len)
{
	static const char text[] = "batch_max_readings 100\n";
	struct vt_bundle b = {
		.kind = VT_BUNDLE_CONFIG,
		.target_type = VT_BUNDLE_GROUP,
		.serial = 1764150000123ULL,
		.version = 7,
		.target = "pilot",
		.payload = (const uint8_t *)text,
		.payload_len = sizeof(text) - 1,
	};

	return vt_bundle_encode(&b, k, out, len);
}

VT_TEST(bundle_round_trip)
{
	struct vt_sigkey *k = NULL;
	struct vt_bundle b;
	const char *why = NULL;
	uint8_t *buf;
	size_t len;

	CHECK_EQ_INT(vt_sigkey_generate(&k), 0);
	CHECK_EQ_INT(make_bundle(k, &buf, &len), 0);
	CHECK(memcmp(buf, "VTB1", 4) == 0);
	CHECK_EQ_INT(vt_bundle_parse(buf, len, &b, &why), 0);
	CHECK_EQ_INT(b.kind, VT_BUNDLE_CONFIG);
	CHECK_EQ_INT(b.target_type, VT_BUNDLE_GROUP);
	CHECK_STR(b.target, "pilot");
	CHECK_STR(b.name, "");
	CHECK_EQ_INT(b.version, 7);
	CHECK(b.serial == 1764150000123ULL);
	CHECK(b.payload_len == 23 && memcmp(b.payload, "batch_max_readings 100\n", 23) == 0);
	CHECK_EQ_INT(vt_bundle_verify(&b, &k, 1), 0);
	free(buf);
	vt_sigkey_free(k);
}

/* Every single-byte change is refused: by the layout or the signature. */
VT_TEST(bundle_every_altered_byte_is_refused)
{
	struct vt_sigkey *k = NULL;
	struct vt_bundle b;
	const char *why;
	uint8_t *buf;
	size_t len;

	CHECK_EQ_INT(vt_sigkey_generate(&k), 0);
	CHECK_EQ_INT(make_bundle(k, &buf, &len), 0);
	for (size_t i = 0; i < len; i++) {
		int rc;

		buf[i] ^= 0x01;
		rc = vt_bundle_parse(buf, len, &b, &why);
		if (rc == 0)
			rc = vt_bundle_verify(&b, &k, 1);
		buf[i] ^= 0x01;
		if (rc == 0)
			printf("# byte %zu altered and accepted\n", i);
		CHECK(rc < 0);
	}
	free(buf);
	vt_sigkey_free(k);
}

VT_TEST(bundle_unknown_key_and_bad_layouts)
{
	struct vt_sigkey *k = NULL, *other = NULL;
	struct vt_bundle b;
	const char *why = NULL;
	uint8_t *buf;
	size_t len;

	CHECK_EQ_INT(vt_sigkey_generate(&k), 0);
	CHECK_EQ_INT(vt_sigkey_generate(&other), 0);
	CHECK_EQ_INT(make_bundle(k, &buf, &len), 0);
	CHECK_EQ_INT(vt_bundle_parse(buf, len, &b, &why), 0);
	CHECK_EQ_INT(vt_bundle_verify(&b, &other, 1), -ENOKEY);
	CHECK_EQ_INT(vt_bundle_verify(&b, NULL, 0), -ENOKEY);
	for (size_t cut = 0; cut < len; cut++)
		CHECK_EQ_INT(vt_bundle_parse(buf, cut, &b, &why), -VT_EFRAME);
	buf[0] = 'X';
	CHECK_EQ_INT(vt_bundle_parse(buf, len, &b, &why), -VT_EFRAME);
	CHECK(strstr(why, "magic") != NULL);
	free(buf);
	vt_sigkey_free(k);
	vt_sigkey_free(other);
}

VT_TEST(bundle_encode_checks_fields)
{
	struct vt_sigkey *k = NULL;
	struct vt_bundle b = { .kind = VT_BUNDLE_PLUGIN, .target_type = VT_BUNDLE_DEVICE,
			       .serial = 1, .version = 1, .target = "cannes/pi-01",
			       .name = "footfall" };
	struct vt_bundle got;
	const char *why;
	uint8_t *buf;
	size_t len;

	CHECK_EQ_INT(vt_sigkey_generate(&k), 0);
	CHECK_EQ_INT(vt_bundle_encode(&b, k, &buf, &len), 0);
	CHECK_EQ_INT(vt_bundle_parse(buf, len, &got, &why), 0);
	CHECK_STR(got.target, "cannes/pi-01");
	CHECK_STR(got.name, "footfall");
	free(buf);
	strcpy(b.target, "no-slash");		/* a device target is site/device */
	CHECK_EQ_INT(vt_bundle_encode(&b, k, &buf, &len), -EINVAL);
	strcpy(b.target, "cannes/pi-01");
	strcpy(b.name, "Foot");			/* plugin names are [a-z0-9_] */
	CHECK_EQ_INT(vt_bundle_encode(&b, k, &buf, &len), -EINVAL);
	b.kind = VT_BUNDLE_CONFIG;		/* a config has no name */
	CHECK_EQ_INT(vt_bundle_encode(&b, k, &buf, &len), -EINVAL);
	b.name[0] = '\0';
	b.flags = 0x80;
	CHECK_EQ_INT(vt_bundle_encode(&b, k, &buf, &len), -EINVAL);
	vt_sigkey_free(k);
}

VT_TEST_MAIN()
