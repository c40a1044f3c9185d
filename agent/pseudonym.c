/*
 * pseudonym.c - a rotating pseudonym key in secret memory (pseudonym.h).
 *
 * HMAC is computed here from SHA-256 (RFC 2104) rather than through
 * mbedtls_md, whose HMAC context keeps the padded key on the heap: here the
 * key, both pad states and the scratch states of a digest all sit in the one
 * locked page that expiry wipes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "pseudonym.h"
#include "vt_os.h"

#define VT_PSEUDONYM_KEY_LEN 32
#define VT_PSEUDONYM_BLOCK 64	/* SHA-256 block size */

/* Everything derived from the key: lives in the secret page only. */
struct vt_pseudonym_secret {
	uint8_t key[VT_PSEUDONYM_KEY_LEN];
	mbedtls_sha256_context inner;	/* after absorbing key ^ ipad */
	mbedtls_sha256_context outer;	/* after absorbing key ^ opad */
	mbedtls_sha256_context scratch;
	uint8_t pad[VT_PSEUDONYM_BLOCK];
	uint8_t hash[32];
};

struct vt_pseudonym {
	struct vt_pseudonym_secret *secret;	/* vt_os_secret_alloc() */
	size_t secret_len;
	int locked;
	int live;
	int64_t lifetime_ms;
	int64_t deadline_mono;
	uint32_t generation;
};

int vt_pseudonym_new(struct vt_pseudonym **out, int64_t lifetime_ms)
{
	struct vt_pseudonym *k;

	if (lifetime_ms < 0)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->secret_len = sizeof(struct vt_pseudonym_secret);
	k->secret = vt_os_secret_alloc(k->secret_len, &k->locked);
	if (!k->secret) {
		free(k);
		return -ENOMEM;
	}
	k->lifetime_ms = lifetime_ms;
	*out = k;
	return 0;
}

void vt_pseudonym_free(struct vt_pseudonym *k)
{
	if (!k)
		return;
	vt_os_secret_free(k->secret, k->secret_len);
	free(k);
}

static void vt_pseudonym_wipe(struct vt_pseudonym *k)
{
	mbedtls_platform_zeroize(k->secret, k->secret_len);
	k->live = 0;
}

/* The deadline of a key drawn now: its lifetime, cut at the next multiple
 * of the lifetime on a set UTC clock. */
static int64_t vt_pseudonym_deadline(const struct vt_pseudonym *k, int64_t wall_ms,
				     int64_t mono_ms)
{
	int64_t left = k->lifetime_ms;

	if (wall_ms >= VT_OS_CLOCK_SET_MS) {
		int64_t to_boundary = k->lifetime_ms - wall_ms % k->lifetime_ms;

		if (to_boundary < left)
			left = to_boundary;
	}
	return mono_ms + left;
}

/* One pad state: sha256 started and fed key ^ byte, padded to a block. */
static int vt_pseudonym_pad(struct vt_pseudonym_secret *s, mbedtls_sha256_context *ctx,
			    uint8_t byte)
{
	for (int i = 0; i < VT_PSEUDONYM_BLOCK; i++)
		s->pad[i] = (uint8_t)((i < VT_PSEUDONYM_KEY_LEN ? s->key[i] : 0) ^ byte);
	mbedtls_sha256_init(ctx);
	if (mbedtls_sha256_starts_ret(ctx, 0) != 0 ||
	    mbedtls_sha256_update_ret(ctx, s->pad, sizeof(s->pad)) != 0)
		return -EIO;
	return 0;
}

static int vt_pseudonym_draw(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms)
{
	struct vt_pseudonym_secret *s = k->secret;
	int rc;

	rc = vt_os_random(s->key, sizeof(s->key));
	if (rc == 0)
		rc = vt_pseudonym_pad(s, &s->inner, 0x36);
	if (rc == 0)
		rc = vt_pseudonym_pad(s, &s->outer, 0x5c);
	if (rc < 0) {
		vt_pseudonym_wipe(k);
		return rc;
	}
	mbedtls_platform_zeroize(s->pad, sizeof(s->pad));
	k->live = 1;
	k->generation++;
	k->deadline_mono = k->lifetime_ms ? vt_pseudonym_deadline(k, wall_ms, mono_ms) : 0;
	return 0;
}

int vt_pseudonym_expire(struct vt_pseudonym *k, int64_t mono_ms)
{
	if (!k->live || k->lifetime_ms == 0 || mono_ms < k->deadline_mono)
		return 0;
	vt_pseudonym_wipe(k);
	return 1;
}

int vt_pseudonym_digest(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms,
			const char *domain, const void *a, size_t alen, const void *b,
			size_t blen, uint8_t *out, size_t outlen)
{
	struct vt_pseudonym_secret *s = k->secret;
	int rc = 0;

	if (outlen > sizeof(s->hash))
		return -EINVAL;
	vt_pseudonym_expire(k, mono_ms);
	if (!k->live && (rc = vt_pseudonym_draw(k, wall_ms, mono_ms)) < 0)
		return rc;
	mbedtls_sha256_clone(&s->scratch, &s->inner);
	if (mbedtls_sha256_update_ret(&s->scratch, (const uint8_t *)domain, strlen(domain) + 1) ||
	    (alen && mbedtls_sha256_update_ret(&s->scratch, a, alen)) ||
	    (blen && mbedtls_sha256_update_ret(&s->scratch, b, blen)) ||
	    mbedtls_sha256_finish_ret(&s->scratch, s->hash))
		rc = -EIO;
	mbedtls_sha256_clone(&s->scratch, &s->outer);
	if (rc == 0 && (mbedtls_sha256_update_ret(&s->scratch, s->hash, sizeof(s->hash)) ||
			mbedtls_sha256_finish_ret(&s->scratch, s->hash)))
		rc = -EIO;
	if (rc == 0)
		memcpy(out, s->hash, outlen);
	mbedtls_platform_zeroize(&s->scratch, sizeof(s->scratch));
	mbedtls_platform_zeroize(s->hash, sizeof(s->hash));
	return rc;
}

uint32_t vt_pseudonym_generation(const struct vt_pseudonym *k)
{
	return k->generation;
}

int vt_pseudonym_live(const struct vt_pseudonym *k)
{
	return k->live;
}

int vt_pseudonym_locked(const struct vt_pseudonym *k)
{
	return k->locked;
}

const void *vt_pseudonym_secret_for_test(const struct vt_pseudonym *k, size_t *len)
{
	*len = k->secret_len;
	return k->secret;
}
