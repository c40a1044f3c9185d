/*
 * privacy.h - the agent's privacy stage: raw identifiers in, digests out.
 *
 * GDPR: no raw identifier (RFID serial, kiosk session id) leaves the device.
 * Each identifier is replaced by HMAC-SHA256(pseudonym key, domain || value)
 * truncated to VT_DIGEST_LEN bytes. `--keygen` makes one pseudonym key per
 * device; installing the same file on all of a site's devices makes one tag
 * seen by two readers have one digest. The key never goes on the wire;
 * without it a digest cannot be reversed by trying all 2^38 serials. The domain string keeps a serial and a session id that
 * happen to be equal from having the same digest.
 *
 * This is the place the later privacy engine (field allow-lists, key
 * rotation, k-anonymity) grows into; today it knows the two identifier
 * fields of plugin.h.
 */
#ifndef VT_PRIVACY_H
#define VT_PRIVACY_H

#include "reading.h"

struct vt_privacy;

/* key is copied (and wiped on free). Returns 0 or a negative code. */
int vt_privacy_new(struct vt_privacy **out, const uint8_t key[32]);
void vt_privacy_free(struct vt_privacy *p);

/* Validated plugin reading in, pseudonymized reading out. No allocation. */
int vt_privacy_apply(struct vt_privacy *p, const struct vitrine_reading *in,
		     struct vt_reading *out);

#endif
