/*
 * sigkey.c - ECDSA P-256 ops keys: generate, PEM files, sign, verify.
 *
 * Written against mbedTLS 2.28 (Debian 12): the key pair's fields (grp, d,
 * Q) are read directly, which 3.x hides.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "err.h"
#include "sigkey.h"
#include "vt_os.h"

#define VT_SIGKEY_PEM_MAX 1024

struct vt_sigkey {
	mbedtls_pk_context pk;
	int is_private;
	uint8_t id[VT_SIGKEY_ID_LEN];
};

static int vt_sigkey_rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return vt_os_random(buf, len) == 0 ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

static int vt_sigkey_sha256(const uint8_t *msg, size_t len, uint8_t out[32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256(msg, len, out, 0) ? -VT_ECRYPTO : 0;
#else
	return mbedtls_sha256_ret(msg, len, out, 0) ? -VT_ECRYPTO : 0;
#endif
}

static mbedtls_ecp_keypair *vt_sigkey_ec(const struct vt_sigkey *k)
{
	return mbedtls_pk_ec(k->pk);
}

/* The key is P-256 (nothing else is accepted); compute its id. */
static int vt_sigkey_finish(struct vt_sigkey *k)
{
	mbedtls_ecp_keypair *ec;
	uint8_t point[65], hash[32];
	size_t olen;

	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY)
		return -EINVAL;
	ec = vt_sigkey_ec(k);
	if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1)
		return -EINVAL;
	if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
					   point, sizeof(point)) != 0 || olen != sizeof(point))
		return -VT_ECRYPTO;
	if (vt_sigkey_sha256(point, sizeof(point), hash) < 0)
		return -VT_ECRYPTO;
	memcpy(k->id, hash, VT_SIGKEY_ID_LEN);
	return 0;
}

static struct vt_sigkey *vt_sigkey_alloc(void)
{
	struct vt_sigkey *k = calloc(1, sizeof(*k));

	if (k)
		mbedtls_pk_init(&k->pk);
	return k;
}

int vt_sigkey_generate(struct vt_sigkey **out)
{
	struct vt_sigkey *k = vt_sigkey_alloc();
	int rc = -VT_ECRYPTO;

	if (!k)
		return -ENOMEM;
	if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		goto fail;
	if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, vt_sigkey_ec(k), vt_sigkey_rng,
				NULL) != 0)
		goto fail;
	k->is_private = 1;
	rc = vt_sigkey_finish(k);
	if (rc < 0)
		goto fail;
	*out = k;
	return 0;
fail:
	vt_sigkey_free(k);
	return rc;
}

static int vt_sigkey_private_mode_ok(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: a private key readable by group or others: chmod 600 it",
			 path);
		return -EPERM;
	}
	return 0;
}

static int vt_sigkey_parse(struct vt_sigkey *k, const char *path, int is_private)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	if (is_private)
		return mbedtls_pk_parse_keyfile(&k->pk, path, NULL, vt_sigkey_rng, NULL);
#else
	if (is_private)
		return mbedtls_pk_parse_keyfile(&k->pk, path, NULL);
#endif
	if (mbedtls_pk_parse_public_keyfile(&k->pk, path) == 0)
		return 0;
	/* A private key file names its public key too. */
	mbedtls_pk_free(&k->pk);
	mbedtls_pk_init(&k->pk);
	return vt_sigkey_parse(k, path, 1);
}

int vt_sigkey_load(const char *path, int is_private, struct vt_sigkey **out, char *err,
		   size_t errlen)
{
	struct vt_sigkey *k;
	int rc;

	if (is_private) {
		rc = vt_sigkey_private_mode_ok(path, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (access(path, R_OK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	k = vt_sigkey_alloc();
	if (!k)
		return -ENOMEM;
	k->is_private = is_private;
	if (vt_sigkey_parse(k, path, is_private) != 0) {
		snprintf(err, errlen, "%s: not a PEM %s key", path,
			 is_private ? "EC private" : "public");
		rc = -EINVAL;
		goto fail;
	}
	rc = vt_sigkey_finish(k);
	if (rc < 0) {
		snprintf(err, errlen, "%s: not an ECDSA P-256 (prime256v1) key", path);
		goto fail;
	}
	*out = k;
	return 0;
fail:
	vt_sigkey_free(k);
	return rc;
}

int vt_sigkey_save(const struct vt_sigkey *k, const char *priv_path, const char *pub_path)
{
	unsigned char pem[VT_SIGKEY_PEM_MAX];
	mbedtls_pk_context *pk = (mbedtls_pk_context *)&k->pk;
	struct stat st;
	int rc;

	if (!k->is_private)
		return -EINVAL;
	if (stat(priv_path, &st) == 0)
		return -EEXIST;
	if (mbedtls_pk_write_key_pem(pk, pem, sizeof(pem)) != 0)
		return -VT_ECRYPTO;
	rc = vt_os_write_file_atomic(priv_path, pem, strlen((char *)pem), 0600);
	mbedtls_platform_zeroize(pem, sizeof(pem));
	if (rc < 0)
		return rc;
	if (mbedtls_pk_write_pubkey_pem(pk, pem, sizeof(pem)) != 0)
		return -VT_ECRYPTO;
	return vt_os_write_file_atomic(pub_path, pem, strlen((char *)pem), 0644);
}

void vt_sigkey_free(struct vt_sigkey *k)
{
	if (!k)
		return;
	mbedtls_pk_free(&k->pk);
	free(k);
}

void vt_sigkey_id(const struct vt_sigkey *k, uint8_t id[VT_SIGKEY_ID_LEN])
{
	memcpy(id, k->id, VT_SIGKEY_ID_LEN);
}

int vt_sigkey_sign(const struct vt_sigkey *k, const uint8_t *msg, size_t len,
		   uint8_t sig[VT_SIGKEY_SIG_LEN])
{
	mbedtls_ecp_keypair *ec = vt_sigkey_ec(k);
	mbedtls_mpi r, s;
	uint8_t hash[32];
	int rc = -VT_ECRYPTO;

	if (!k->is_private)
		return -EINVAL;
	if (vt_sigkey_sha256(msg, len, hash) < 0)
		return -VT_ECRYPTO;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, hash, sizeof(hash),
				       MBEDTLS_MD_SHA256, vt_sigkey_rng, NULL) != 0)
		goto out;
	if (mbedtls_mpi_write_binary(&r, sig, 32) != 0 ||
	    mbedtls_mpi_write_binary(&s, sig + 32, 32) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return rc;
}

int vt_sigkey_verify(const struct vt_sigkey *k, const uint8_t *msg, size_t len,
		     const uint8_t sig[VT_SIGKEY_SIG_LEN])
{
	mbedtls_ecp_keypair *ec = vt_sigkey_ec(k);
	mbedtls_mpi r, s;
	uint8_t hash[32];
	int rc = -VT_EAUTH;

	if (vt_sigkey_sha256(msg, len, hash) < 0)
		return -VT_ECRYPTO;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (mbedtls_mpi_read_binary(&r, sig, 32) != 0 ||
	    mbedtls_mpi_read_binary(&s, sig + 32, 32) != 0)
		goto out;
	if (mbedtls_ecdsa_verify(&ec->grp, hash, sizeof(hash), &ec->Q, &r, &s) == 0)
		rc = 0;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return rc;
}
