/*
 * frame.c - sealing and opening frames (layout and key schedule in frame.h).
 *
 * The device side keeps one vt_sealer per key epoch: the ephemeral private
 * key lives only as long as vt_sealer_new() and the epoch key only inside
 * the AEAD context, which is set up once so that sealing a frame neither
 * allocates nor re-expands the key. The aggregator side parses a header
 * (untrusted bytes: every read is bounds-checked first), derives the epoch
 * key from the device's registered public key and opens the body.
 *
 * What this file does not do: compress, encode protobuf, persist sequence
 * numbers or detect replays; its callers do.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "be.h"
#include "err.h"
#include "frame.h"
#include "keys.h"

#define VT_FRAME_MAGIC0 'V'
#define VT_FRAME_MAGIC1 'T'
#define VT_FRAME_NONCE_LEN 12
#define VT_FRAME_CODEC_NONE 0
#define VT_FRAME_FLAG_CODEC_MASK 0x03u
#define VT_FRAME_FLAG_AEAD_SHIFT 2
#define VT_FRAME_FLAG_AEAD_MASK 0x0cu
#define VT_FRAME_INFO "vitrine frame v1"

/* Offsets after the device id, relative to 5 + n. */
#define VT_FRAME_OFF_DEVICE 5
#define VT_FRAME_OFF_EPOCH 0
#define VT_FRAME_OFF_SEQ 4
#define VT_FRAME_OFF_EPH 12

union vt_frame_aead {
	mbedtls_chachapoly_context chachapoly;
	mbedtls_gcm_context gcm;
};

struct vt_sealer {
	union vt_frame_aead aead_ctx;
	int aead;
	uint32_t epoch;
	uint8_t device_len;
	char device[VT_FRAME_DEVICE_MAX + 1];
	uint8_t eph_pub[VT_KEY_LEN];
	/* Nonce = seq: a repeated seq under one key would leak plaintext XOR
	 * and allow forgeries, so the sealer refuses to go backwards. */
	int sealed_any;
	uint64_t last_seq;
};

/* ---- ids ------------------------------------------------------------------------ */

static int vt_frame_id_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int vt_frame_id_bytes_ok(const uint8_t *p, size_t n)
{
	if (n < 1 || n > VT_FRAME_DEVICE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!vt_frame_id_char_ok(p[i]))
			return 0;
	return 1;
}

int vt_frame_id_valid(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, VT_FRAME_DEVICE_MAX + 1);
	return vt_frame_id_bytes_ok((const uint8_t *)s, n);
}

/* ---- key schedule ---------------------------------------------------------------- */

/* K = HKDF-SHA256(ikm, salt = device || epoch BE32, info). */
static int vt_frame_hkdf(const uint8_t ikm[2 * VT_KEY_LEN], const char *device, uint32_t epoch,
			 uint8_t key[VT_KEY_LEN])
{
	static const char info[] = VT_FRAME_INFO;
	uint8_t salt[VT_FRAME_DEVICE_MAX + 4];
	size_t n = strlen(device);
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	memcpy(salt, device, n);
	vt_put_be32(salt + n, epoch);
	if (!md || mbedtls_hkdf(md, salt, n + 4, ikm, 2 * VT_KEY_LEN,
				(const unsigned char *)info, sizeof(info) - 1, key, VT_KEY_LEN) != 0) {
		mbedtls_platform_zeroize(key, VT_KEY_LEN);
		return -VT_ECRYPTO;
	}
	return 0;
}

/* ikm = X25519(a_priv, a_pub) || X25519(b_priv, b_pub), then HKDF. */
static int vt_frame_derive(const uint8_t *a_priv, const uint8_t *a_pub, const uint8_t *b_priv,
			   const uint8_t *b_pub, const char *device, uint32_t epoch,
			   uint8_t key[VT_KEY_LEN])
{
	uint8_t ikm[2 * VT_KEY_LEN];
	int rc;

	if (!vt_frame_id_valid(device))
		return -EINVAL;
	rc = vt_keys_x25519(a_priv, a_pub, ikm);
	if (rc < 0)
		goto out;
	rc = vt_keys_x25519(b_priv, b_pub, ikm + VT_KEY_LEN);
	if (rc < 0)
		goto out;
	rc = vt_frame_hkdf(ikm, device, epoch, key);
out:
	mbedtls_platform_zeroize(ikm, sizeof(ikm));
	return rc;
}

int vt_frame_key_device(const uint8_t eph_priv[VT_KEY_LEN], const uint8_t dev_priv[VT_KEY_LEN],
			const uint8_t agg_pub[VT_KEY_LEN], const char *device, uint32_t epoch,
			uint8_t key[VT_KEY_LEN])
{
	return vt_frame_derive(eph_priv, agg_pub, dev_priv, agg_pub, device, epoch, key);
}

int vt_frame_key_aggregator(const uint8_t agg_priv[VT_KEY_LEN], const uint8_t eph_pub[VT_KEY_LEN],
			    const uint8_t dev_pub[VT_KEY_LEN], const char *device, uint32_t epoch,
			    uint8_t key[VT_KEY_LEN])
{
	return vt_frame_derive(agg_priv, eph_pub, agg_priv, dev_pub, device, epoch, key);
}

/* ---- AEAD --------------------------------------------------------------------- */

static void vt_frame_aead_init(union vt_frame_aead *ctx, int aead)
{
	if (aead == VT_FRAME_AEAD_AESGCM)
		mbedtls_gcm_init(&ctx->gcm);
	else
		mbedtls_chachapoly_init(&ctx->chachapoly);
}

/* mbedTLS's free functions zeroize the context, key schedule included. */
static void vt_frame_aead_free(union vt_frame_aead *ctx, int aead)
{
	if (aead == VT_FRAME_AEAD_AESGCM)
		mbedtls_gcm_free(&ctx->gcm);
	else
		mbedtls_chachapoly_free(&ctx->chachapoly);
}

static int vt_frame_aead_setkey(union vt_frame_aead *ctx, int aead, const uint8_t key[VT_KEY_LEN])
{
	int rc;

	if (aead == VT_FRAME_AEAD_AESGCM)
		rc = mbedtls_gcm_setkey(&ctx->gcm, MBEDTLS_CIPHER_ID_AES, key, 8 * VT_KEY_LEN);
	else
		rc = mbedtls_chachapoly_setkey(&ctx->chachapoly, key);
	return rc == 0 ? 0 : -VT_ECRYPTO;
}

static void vt_frame_nonce(uint64_t seq, uint8_t nonce[VT_FRAME_NONCE_LEN])
{
	memset(nonce, 0, 4);
	vt_put_be64(nonce + 4, seq);
}

static int vt_frame_aead_seal(union vt_frame_aead *ctx, int aead, uint64_t seq,
			      const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			      uint8_t *out, uint8_t tag[VT_FRAME_TAG_LEN])
{
	uint8_t nonce[VT_FRAME_NONCE_LEN];
	int rc;

	vt_frame_nonce(seq, nonce);
	if (aead == VT_FRAME_AEAD_AESGCM)
		rc = mbedtls_gcm_crypt_and_tag(&ctx->gcm, MBEDTLS_GCM_ENCRYPT, len, nonce,
					       sizeof(nonce), aad, aad_len, in, out,
					       VT_FRAME_TAG_LEN, tag);
	else
		rc = mbedtls_chachapoly_encrypt_and_tag(&ctx->chachapoly, len, nonce, aad,
							aad_len, in, out, tag);
	return rc == 0 ? 0 : -VT_ECRYPTO;
}

static int vt_frame_aead_open(union vt_frame_aead *ctx, int aead, uint64_t seq,
			      const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
			      const uint8_t tag[VT_FRAME_TAG_LEN], uint8_t *out)
{
	uint8_t nonce[VT_FRAME_NONCE_LEN];
	int rc;

	vt_frame_nonce(seq, nonce);
	if (aead == VT_FRAME_AEAD_AESGCM) {
		rc = mbedtls_gcm_auth_decrypt(&ctx->gcm, len, nonce, sizeof(nonce), aad, aad_len,
					      tag, VT_FRAME_TAG_LEN, in, out);
		if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED)
			return -VT_EAUTH;
	} else {
		rc = mbedtls_chachapoly_auth_decrypt(&ctx->chachapoly, len, nonce, aad, aad_len,
						     tag, in, out);
		if (rc == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED)
			return -VT_EAUTH;
	}
	return rc == 0 ? 0 : -VT_ECRYPTO;
}

/* ---- header ------------------------------------------------------------------- */

static void vt_frame_write_header(const struct vt_sealer *s, uint64_t seq, int codec,
				  uint8_t *out)
{
	uint8_t *p = out + VT_FRAME_OFF_DEVICE + s->device_len;

	out[0] = VT_FRAME_MAGIC0;
	out[1] = VT_FRAME_MAGIC1;
	out[2] = VT_FRAME_VERSION;
	out[3] = (uint8_t)((unsigned)codec | (unsigned)s->aead << VT_FRAME_FLAG_AEAD_SHIFT);
	out[4] = s->device_len;
	memcpy(out + VT_FRAME_OFF_DEVICE, s->device, s->device_len);
	vt_put_be32(p + VT_FRAME_OFF_EPOCH, s->epoch);
	vt_put_be64(p + VT_FRAME_OFF_SEQ, seq);
	memcpy(p + VT_FRAME_OFF_EPH, s->eph_pub, VT_KEY_LEN);
}

static int vt_frame_parse_flags(uint8_t flags, struct vt_frame_header *h)
{
	unsigned codec = flags & VT_FRAME_FLAG_CODEC_MASK;
	unsigned aead = (flags & VT_FRAME_FLAG_AEAD_MASK) >> VT_FRAME_FLAG_AEAD_SHIFT;

	if (flags & ~(VT_FRAME_FLAG_CODEC_MASK | VT_FRAME_FLAG_AEAD_MASK))
		return -VT_EFRAME;
	if (codec != VT_FRAME_CODEC_NONE && codec != VT_FRAME_CODEC_ZSTD)
		return -VT_EFRAME;
	if (aead != VT_FRAME_AEAD_CHACHAPOLY && aead != VT_FRAME_AEAD_AESGCM)
		return -VT_EFRAME;
	h->codec = (uint8_t)codec;
	h->aead = (uint8_t)aead;
	return 0;
}

int vt_frame_parse_header(const uint8_t *buf, size_t len, struct vt_frame_header *h)
{
	const uint8_t *p;
	size_t n;

	memset(h, 0, sizeof(*h));
	if (!buf || len < VT_FRAME_OFF_DEVICE)
		return -VT_EFRAME;
	if (buf[0] != VT_FRAME_MAGIC0 || buf[1] != VT_FRAME_MAGIC1 || buf[2] != VT_FRAME_VERSION)
		return -VT_EFRAME;
	if (vt_frame_parse_flags(buf[3], h) < 0)
		goto out_bad;
	n = buf[4];
	if (n < 1 || n > VT_FRAME_DEVICE_MAX || len < VT_FRAME_HEADER_LEN(n))
		goto out_bad;
	if (!vt_frame_id_bytes_ok(buf + VT_FRAME_OFF_DEVICE, n))
		goto out_bad;
	h->version = buf[2];
	h->device_len = (uint8_t)n;
	memcpy(h->device, buf + VT_FRAME_OFF_DEVICE, n);
	h->device[n] = '\0';
	p = buf + VT_FRAME_OFF_DEVICE + n;
	h->epoch = vt_get_be32(p + VT_FRAME_OFF_EPOCH);
	h->seq = vt_get_be64(p + VT_FRAME_OFF_SEQ);
	memcpy(h->eph_pub, p + VT_FRAME_OFF_EPH, VT_KEY_LEN);
	h->header_len = VT_FRAME_HEADER_LEN(n);
	return 0;
out_bad:
	memset(h, 0, sizeof(*h));
	return -VT_EFRAME;
}

/* ---- device side ---------------------------------------------------------------- */

static int vt_sealer_setup(struct vt_sealer *s, const uint8_t dev_priv[VT_KEY_LEN],
			   const uint8_t agg_pub[VT_KEY_LEN])
{
	uint8_t eph_priv[VT_KEY_LEN];
	uint8_t key[VT_KEY_LEN];
	int rc;

	rc = vt_keys_generate(eph_priv, s->eph_pub);
	if (rc < 0)
		goto out;
	rc = vt_frame_key_device(eph_priv, dev_priv, agg_pub, s->device, s->epoch, key);
	if (rc < 0)
		goto out;
	rc = vt_frame_aead_setkey(&s->aead_ctx, s->aead, key);
out:
	mbedtls_platform_zeroize(key, sizeof(key));
	mbedtls_platform_zeroize(eph_priv, sizeof(eph_priv));
	return rc;
}

int vt_sealer_new(struct vt_sealer **out, const char *device, uint32_t epoch, int aead,
		  const uint8_t dev_priv[VT_KEY_LEN], const uint8_t agg_pub[VT_KEY_LEN])
{
	struct vt_sealer *s;
	int rc;

	*out = NULL;
	if (!vt_frame_id_valid(device))
		return -EINVAL;
	if (aead != VT_FRAME_AEAD_CHACHAPOLY && aead != VT_FRAME_AEAD_AESGCM)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->aead = aead;
	s->epoch = epoch;
	s->device_len = (uint8_t)strlen(device);
	memcpy(s->device, device, s->device_len + 1u);
	vt_frame_aead_init(&s->aead_ctx, aead);
	rc = vt_sealer_setup(s, dev_priv, agg_pub);
	if (rc < 0)
		goto out_free;
	*out = s;
	return 0;
out_free:
	vt_sealer_free(s);
	return rc;
}

void vt_sealer_free(struct vt_sealer *s)
{
	if (!s)
		return;
	vt_frame_aead_free(&s->aead_ctx, s->aead);
	mbedtls_platform_zeroize(s, sizeof(*s));
	free(s);
}

int vt_sealer_seal(struct vt_sealer *s, uint64_t seq, int codec, const uint8_t *payload,
		   size_t plen, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t hlen = VT_FRAME_HEADER_LEN(s->device_len);
	int rc;

	*out_len = 0;
	if (codec != VT_FRAME_CODEC_NONE && codec != VT_FRAME_CODEC_ZSTD)
		return -EINVAL;
	if (s->sealed_any && seq <= s->last_seq)
		return -EINVAL;
	if (plen > SIZE_MAX - VT_FRAME_OVERHEAD(s->device_len) ||
	    cap < plen + VT_FRAME_OVERHEAD(s->device_len))
		return -ENOSPC;
	vt_frame_write_header(s, seq, codec, out);
	rc = vt_frame_aead_seal(&s->aead_ctx, s->aead, seq, out, hlen, payload, plen, out + hlen,
				out + hlen + plen);
	if (rc < 0) {
		mbedtls_platform_zeroize(out, hlen + plen + VT_FRAME_TAG_LEN);
		return rc;
	}
	s->sealed_any = 1;
	s->last_seq = seq;
	*out_len = hlen + plen + VT_FRAME_TAG_LEN;
	return 0;
}

/* ---- aggregator side ------------------------------------------------------------ */

/* h must describe buf: it came from vt_frame_parse_header(buf, len). */
static int vt_frame_check_parsed(const struct vt_frame_header *h, size_t len)
{
	if (h->device_len < 1 || h->device_len > VT_FRAME_DEVICE_MAX ||
	    h->header_len != (size_t)VT_FRAME_HEADER_LEN(h->device_len))
		return -VT_EFRAME;
	if (h->aead != VT_FRAME_AEAD_CHACHAPOLY && h->aead != VT_FRAME_AEAD_AESGCM)
		return -VT_EFRAME;
	if (len < h->header_len || len - h->header_len < VT_FRAME_TAG_LEN)
		return -VT_EFRAME;
	return 0;
}

int vt_frame_open(const uint8_t key[VT_KEY_LEN], const struct vt_frame_header *h,
		  const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	union vt_frame_aead ctx;
	size_t clen;
	int rc;

	*out_len = 0;
	rc = vt_frame_check_parsed(h, len);
	if (rc < 0)
		return rc;
	clen = len - h->header_len - VT_FRAME_TAG_LEN;
	if (cap < clen)
		return -ENOSPC;
	vt_frame_aead_init(&ctx, h->aead);
	rc = vt_frame_aead_setkey(&ctx, h->aead, key);
	if (rc < 0)
		goto out;
	rc = vt_frame_aead_open(&ctx, h->aead, h->seq, buf, h->header_len, buf + h->header_len,
				clen, buf + h->header_len + clen, out);
	if (rc == 0)
		*out_len = clen;
out:
	/* mbedTLS already clears out on a bad tag; do it for every failure. */
	if (rc < 0 && clen > 0)
		mbedtls_platform_zeroize(out, clen);
	vt_frame_aead_free(&ctx, h->aead);
	return rc;
}
