/*
 * bundle.h - fleet bundles: a configuration or a plugin, signed by an ops
 * key, addressed to a group of devices or to one device.
 *
 * The format (docs/PROTOCOL.md, "Bundles"; all integers big-endian):
 *
 *   0   4  magic "VTB1"
 *   4   1  kind: 1 config, 2 plugin
 *   5   1  flags: bit 0 rollback (an older version, on purpose); others 0
 *   6   1  target type: 1 group, 2 device
 *   7   1  reserved, 0
 *   8   8  serial: signing time in UTC ms; a device applies only a serial
 *          above the one it runs (a replayed bundle is refused)
 *  16   4  version: the number people see ("config version 7"); a device
 *          refuses a lower version than it runs unless flags say rollback
 *  20   1  t, then t bytes: the target, a group name or "site/device"
 *       1  m, then m bytes: the plugin's name ([a-z0-9_]); 0 for a config
 *       4  p, then p bytes: the payload (config text, or the plugin's .so)
 *       8  id of the signing key (sigkey.h)
 *      64  ECDSA P-256 signature of every byte before it
 *
 * Parsing checks the layout only and borrows the buffer; verifying checks
 * the signature against the keys the device trusts.
 */
#ifndef VT_BUNDLE_H
#define VT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "sigkey.h"

#define VT_BUNDLE_MAGIC "VTB1"
#define VT_BUNDLE_MAX_PAYLOAD (4u << 20)
#define VT_BUNDLE_MAX_TARGET 129	/* "site/device", 64 + 1 + 64 */
#define VT_BUNDLE_MAX_NAME 32
#define VT_BUNDLE_ROLLBACK 1

enum vt_bundle_kind { VT_BUNDLE_CONFIG = 1, VT_BUNDLE_PLUGIN = 2 };
enum vt_bundle_target { VT_BUNDLE_GROUP = 1, VT_BUNDLE_DEVICE = 2 };

struct vt_bundle {
	int kind;
	int flags;
	int target_type;
	uint64_t serial;
	uint32_t version;
	char target[VT_BUNDLE_MAX_TARGET + 1];
	char name[VT_BUNDLE_MAX_NAME + 1];
	const uint8_t *payload;		/* borrowed from the parsed buffer */
	size_t payload_len;
	uint8_t key_id[VT_SIGKEY_ID_LEN];
	const uint8_t *signed_part;	/* what the signature covers */
	size_t signed_len;
	const uint8_t *sig;
};

/* Check the layout of buf (len bytes) and fill b, which borrows buf.
 * Returns 0, or -VT_EFRAME with a reason in *why. */
int vt_bundle_parse(const uint8_t *buf, size_t len, struct vt_bundle *b, const char **why);

/* Check b's signature with the key among keys (n of them) that its key id
 * names. Returns 0, -ENOKEY when no key has that id, -VT_EAUTH when the
 * signature does not verify. */
int vt_bundle_verify(const struct vt_bundle *b, struct vt_sigkey *const *keys, int n);

/* Encode and sign b (its payload, target, name, kind, flags, serial and
 * version; the rest is computed) with key. *out is malloc'ed. */
int vt_bundle_encode(const struct vt_bundle *b, const struct vt_sigkey *key, uint8_t **out,
		     size_t *out_len);

/* Words for kind and target type. */
const char *vt_bundle_kind_name(int kind);

/* Is s a valid plugin name ([a-z0-9_]{1,32})? Group names are ids
 * (vt_frame_id_valid). */
int vt_bundle_name_ok(const char *s);

#endif
