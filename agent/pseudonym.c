/*
 * pseudonym.c - a rotating pseudonym key in secret memory (pseudonym.h).
 *
 * HMAC is computed here from SHA-256 (RFC 2104) rather than through
 * mbedtls_md, whose HMAC context keeps the padded key on the heap: here the
 * key, both pad states and the scratch states of a digest all sit in the one
 * locked page that expiry wipes.
 *
 * The same page keeps the last digests made (VT_PSEUDONYM_MEMO, direct-
 * mapped on a hash of the input): a kiosk session's events, or a tag read
 * again, repeat an identifier many times within a key's life, and each
 * HMAC is two SHA-256 blocks, half of the agent's work per reading. The
 * memo holds identifiers only as long as the key that digests them, and
 * goes with it: expiry wipes the page, a new key starts with an empty memo.
 * It is used only under a key that expires (the opt-out list's never
 * does) and in a page that mlock() held, so it is never swapped out.
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
#define VT_PSEUDONYM_MEMO 32	/* digests remembered */
#define VT_PSEUDONYM_MEMO_IN 55	/* the longest input remembered: domain, 0, a, b */
#define VT_PSEUDONYM_MEMO_OUT 16	/* of the HMAC, enough for every caller */

/* A digest made with the current key: its input, and its first bytes. */
struct vt_pseudonym_memo {
	uint8_t len;		/* of in; 0: empty */
	uint8_t in[VT_PSEUDONYM_MEMO_IN];
	uint8_t out[VT_PSEUDONYM_MEMO_OUT];
};

/* Everything derived from the key: lives in the secret page only (about
 * 2.6 KB of its 4 KB). */
struct vt_pseudonym_secret {
	uint8_t key[VT_PSEUDONYM_KEY_LEN];
	mbedtls_sha256_context inner;	/* after absorbing key ^ ipad */
	mbedtls_sha256_context outer;	/* after absorbing key ^ opad */
	mbedtls_sha256_context scratch;
	uint8_t pad[VT_PSEUDONYM_BLOCK];
	uint8_t hash[32];
	uint8_t input[VT_PSEUDONYM_MEMO_IN];	/* the input being looked up */
	struct vt_pseudonym_memo memo[VT_PSEUDONYM_MEMO];
};

/* One page, locked as one (the smallest page of the boards: 4 KiB). */
_Static_assert(sizeof(struct vt_pseudonym_secret) <= 4096, "the secret outgrew a page");

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
	mbedtls_platform_zeroize(s->memo, sizeof(s->memo));
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

/* The memo slot for domain || 0 || a || b, with the input assembled in
 * s->input; NULL when the input is too long to remember. */
static struct vt_pseudonym_memo *vt_pseudonym_memo_slot(struct vt_pseudonym_secret *s,
							const char *domain, const void *a,
							size_t alen, const void *b, size_t blen,
							size_t *len)
{
	size_t dlen = strlen(domain) + 1;
	uint32_t h = 2166136261u;	/* FNV-1a */

	*len = dlen + alen + blen;
	if (*len > VT_PSEUDONYM_MEMO_IN)
		return NULL;
	memcpy(s->input, domain, dlen);
	if (alen)
		memcpy(s->input + dlen, a, alen);
	if (blen)
		memcpy(s->input + dlen + alen, b, blen);
	for (size_t i = 0; i < *len; i++)
		h = (h ^ s->input[i]) * 16777619u;
	return &s->memo[(h ^ h >> 16) % VT_PSEUDONYM_MEMO];
}

int vt_pseudonym_digest(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms,
			const char *domain, const void *a, size_t alen, const void *b,
			size_t blen, uint8_t *out, size_t outlen)
{
	struct vt_pseudonym_secret *s = k->secret;
	struct vt_pseudonym_memo *m;
	size_t len = 0;
	int rc = 0;

	if (outlen > sizeof(s->hash))
		return -EINVAL;
	vt_pseudonym_expire(k, mono_ms);
	if (!k->live && (rc = vt_pseudonym_draw(k, wall_ms, mono_ms)) < 0)
		return rc;
	/* Remember identifiers only under a key that expires, in a page
	 * that cannot be swapped out (R3, R4); the opt-out key never
	 * expires (lifetime 0). */
	m = outlen <= VT_PSEUDONYM_MEMO_OUT && k->lifetime_ms && k->locked ?
		vt_pseudonym_memo_slot(s, domain, a, alen, b, blen, &len) : NULL;
	if (m && m->len == len && memcmp(m->in, s->input, len) == 0) {
		memcpy(out, m->out, outlen);
		mbedtls_platform_zeroize(s->input, sizeof(s->input));
		return 0;
	}
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
	if (rc == 0 && m) {
		m->len = (uint8_t)len;
		memcpy(m->in, s->input, len);
		memcpy(m->out, s->hash, sizeof(m->out));
	}
	mbedtls_platform_zeroize(s->input, sizeof(s->input));
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
