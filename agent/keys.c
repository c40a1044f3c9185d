/*
 * keys.c - X25519 key pairs, key files and hex (see keys.h), on mbedTLS 2.28.
 *
 * mbedTLS has no byte-oriented X25519 call in 2.28 outside PSA, so this file
 * maps RFC 7748 onto its ECP module: the scalar is clamped here (mbedTLS
 * refuses an unclamped Montgomery private key rather than clamping it) and
 * read little-endian; the peer's u coordinate is read with
 * mbedtls_ecp_point_read_binary(), which reads little-endian and clears bit
 * 255 as RFC 7748 section 5 asks. mbedTLS also refuses the known low-order
 * points; the all-zero check on the result is kept as a second guard.
 *
 * What this file does not do: decide where keys live (the state directory
 * belongs to state.c) or derive frame keys (frame.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "err.h"
#include "keys.h"
#include "vt_os.h"

/* A key file is one line of hex; anything much longer is not a key file. */
#define VT_KEYS_FILE_MAX 256

/* mbedTLS wants an f_rng for the blinding of the ladder's coordinates; the
 * kernel CSPRNG serves directly, so there is no DRBG state to seed or share. */
static int vt_keys_rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return vt_os_random(buf, len) == 0 ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

static void vt_keys_clamp(uint8_t k[VT_KEY_LEN])
{
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
}

static int vt_keys_is_zero(const uint8_t k[VT_KEY_LEN])
{
	uint8_t acc = 0;

	for (size_t i = 0; i < VT_KEY_LEN; i++)
		acc |= k[i];
	return acc == 0;
}

/*
 * out = X25519(scalar, u). With u == NULL, the base point (u = 9) is used.
 */
static int vt_keys_mul(const uint8_t scalar[VT_KEY_LEN], const uint8_t *u,
		       uint8_t out[VT_KEY_LEN])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point peer, result;
	mbedtls_mpi k;
	uint8_t clamped[VT_KEY_LEN];
	int rc = -VT_ECRYPTO;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&peer);
	mbedtls_ecp_point_init(&result);
	mbedtls_mpi_init(&k);
	memcpy(clamped, scalar, VT_KEY_LEN);
	vt_keys_clamp(clamped);

	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519) != 0)
		goto out;
	if (mbedtls_mpi_read_binary_le(&k, clamped, VT_KEY_LEN) != 0)
		goto out;
	if (u) {
		if (mbedtls_ecp_point_read_binary(&grp, &peer, u, VT_KEY_LEN) != 0)
			goto out;
	} else if (mbedtls_ecp_copy(&peer, &grp.G) != 0) {
		goto out;
	}
	/* Fails with MBEDTLS_ERR_ECP_INVALID_KEY on a low-order peer point. */
	if (mbedtls_ecp_mul(&grp, &result, &k, &peer, vt_keys_rng, NULL) != 0)
		goto out;
	if (mbedtls_mpi_write_binary_le(&result.X, out, VT_KEY_LEN) != 0)
		goto out;
	if (vt_keys_is_zero(out))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		mbedtls_platform_zeroize(out, VT_KEY_LEN);
	mbedtls_platform_zeroize(clamped, sizeof(clamped));
	mbedtls_mpi_free(&k);
	mbedtls_ecp_point_free(&result);
	mbedtls_ecp_point_free(&peer);
	mbedtls_ecp_group_free(&grp);
	return rc;
}

int vt_keys_generate(uint8_t priv[VT_KEY_LEN], uint8_t pub[VT_KEY_LEN])
{
	int rc;

	rc = vt_os_random(priv, VT_KEY_LEN);
	if (rc < 0)
		goto out_wipe;
	/* Stored clamped so that the file holds the scalar actually used. */
	vt_keys_clamp(priv);
	rc = vt_keys_mul(priv, NULL, pub);
	if (rc < 0)
		goto out_wipe;
	return 0;
out_wipe:
	mbedtls_platform_zeroize(priv, VT_KEY_LEN);
	return rc;
}

int vt_keys_public(const uint8_t priv[VT_KEY_LEN], uint8_t pub[VT_KEY_LEN])
{
	return vt_keys_mul(priv, NULL, pub);
}

int vt_keys_x25519(const uint8_t priv[VT_KEY_LEN], const uint8_t peer_pub[VT_KEY_LEN],
		   uint8_t shared[VT_KEY_LEN])
{
	return vt_keys_mul(priv, peer_pub, shared);
}

void vt_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int vt_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vt_hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	/* Walks at most 2*len+1 characters, so an unterminated or overlong
	 * string is never read past its first extra character. */
	for (i = 0; i < len; i++) {
		int hi, lo;

		hi = vt_hex_digit(hex[2 * i]);
		if (hi < 0)
			goto out_invalid;
		lo = vt_hex_digit(hex[2 * i + 1]);
		if (lo < 0)
			goto out_invalid;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[2 * len] != '\0')
		goto out_invalid;
	return 0;
out_invalid:
	/* A half-decoded private key must not linger in the caller's buffer. */
	mbedtls_platform_zeroize(out, len);
	return -EINVAL;
}

/* Refuse a private key file that group or others may read or write. */
static int vt_keys_check_private_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return -EPERM;
	return 0;
}

int vt_keys_load(const char *path, uint8_t key[VT_KEY_LEN], int is_private)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (is_private) {
		rc = vt_keys_check_private_mode(path);
		if (rc < 0)
			return rc;
	}
	rc = vt_os_read_file(path, VT_KEYS_FILE_MAX, &text, &len);
	if (rc < 0)
		return rc == -EFBIG ? -EINVAL : rc;
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	rc = vt_hex_decode(text, key, VT_KEY_LEN);
	mbedtls_platform_zeroize(text, len);
	free(text);
	return rc;
}

int vt_keys_save(const char *path, const uint8_t key[VT_KEY_LEN], int is_private)
{
	char line[2 * VT_KEY_LEN + 2];
	int rc;

	vt_hex_encode(key, VT_KEY_LEN, line);
	line[2 * VT_KEY_LEN] = '\n';
	line[2 * VT_KEY_LEN + 1] = '\0';
	rc = vt_os_write_file_atomic(path, line, 2 * VT_KEY_LEN + 1, is_private ? 0600 : 0644);
	mbedtls_platform_zeroize(line, sizeof(line));
	return rc;
}

void vt_keys_wipe(void *p, size_t len)
{
	mbedtls_platform_zeroize(p, len);
}

int vt_keys_sha256(const void *data, size_t len, uint8_t out[32])
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256(data, len, out, 0);
#else
	return mbedtls_sha256_ret(data, len, out, 0);
#endif
}
