/*
 * pseudonym.h - a rotating pseudonym key: keyed digests of identifiers.
 *
 * A digest is HMAC-SHA256(key, domain || 0 || value), truncated by the
 * caller (docs/PRIVACY.md R2, R5). The key is 256 bits from getrandom(),
 * drawn when the first digest needs it; it lives in one page of secret
 * memory (locked in RAM where the system allows, never in a core dump, never
 * written to disk or sent: R3) with the HMAC's pad states. It expires after
 * its lifetime, and also at the next multiple of the lifetime on the UTC clock
 * when that clock is set, so that keys of a 24-hour lifetime change at
 * midnight UTC; expiry wipes the page (R4). The next digest draws a new
 * key, so the same identifier seen before and after a rotation gives digests
 * that nothing on or off the device can link.
 *
 * Deadlines run on the monotonic clock: stepping the wall clock neither
 * extends nor revives a key. Single-threaded, no allocation per digest.
 */
#ifndef VT_PSEUDONYM_H
#define VT_PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

struct vt_pseudonym;

/* lifetime_ms > 0: rotate after that long; 0: the key never expires (the
 * opt-out list's key, which lives as long as the process). Returns 0,
 * -EINVAL or -ENOMEM. Free with vt_pseudonym_free() (wipes). */
int vt_pseudonym_new(struct vt_pseudonym **out, int64_t lifetime_ms);
void vt_pseudonym_free(struct vt_pseudonym *k);

/* out (outlen <= 32 bytes) = HMAC(current key, domain || 0 || a || b),
 * truncated; draws a key first when there is none (or it expired). wall_ms
 * and mono_ms are now. Returns 0 or a negative code (-EIO: no randomness). */
int vt_pseudonym_digest(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms,
			const char *domain, const void *a, size_t alen, const void *b,
			size_t blen, uint8_t *out, size_t outlen);

/* Wipe the key if its deadline has passed, even with no digest to make.
 * Returns 1 when a key was wiped, else 0. */
int vt_pseudonym_expire(struct vt_pseudonym *k, int64_t mono_ms);

/* Keys drawn so far (0: none yet). */
uint32_t vt_pseudonym_generation(const struct vt_pseudonym *k);

/* 1 when a key is live now. */
int vt_pseudonym_live(const struct vt_pseudonym *k);

/* 1 when the secret page is locked in RAM. */
int vt_pseudonym_locked(const struct vt_pseudonym *k);

/* For tests: the secret page and its size, to check that expiry wipes it. */
const void *vt_pseudonym_secret_for_test(const struct vt_pseudonym *k, size_t *len);

#endif
