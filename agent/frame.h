/*
 * frame.h - the sealed frame: what an MQTT data message carries.
 *
 * Layout (all integers big-endian; docs/PROTOCOL.md is the reference):
 *
 *   off  size  field
 *   0    2     magic "VT"
 *   2    1     version (1)
 *   3    1     flags: bits 0-1 codec (1 = zstd), bits 2-3 AEAD
 *              (0 = ChaCha20-Poly1305, 1 = AES-256-GCM), others 0
 *   4    1     n = length of the device id (1..64)
 *   5    n     device id, [A-Za-z0-9._-]
 *   5+n  4     key epoch
 *   9+n  8     sequence number, strictly increasing per device
 *   17+n 32    ephemeral X25519 public key of the epoch
 *   49+n ...   AEAD ciphertext of the payload, then a 16-byte tag
 *
 * The whole header (bytes 0 .. 49+n) is the AEAD's additional data; the nonce
 * is 4 zero bytes followed by the sequence number, unique under one epoch
 * key. The epoch key is
 *   K = HKDF-SHA256(ikm  = X25519(eph, agg) || X25519(dev, agg),
 *                   salt = device id || epoch (u32 BE),
 *                   info = "vitrine frame v1"), 32 bytes.
 * The aggregator computes the same from X25519(agg, eph) || X25519(agg, dev).
 */
#ifndef VT_FRAME_H
#define VT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define VT_FRAME_VERSION 1
#define VT_FRAME_DEVICE_MAX 64
#define VT_FRAME_TAG_LEN 16
#define VT_FRAME_CODEC_ZSTD 1
#define VT_FRAME_AEAD_CHACHAPOLY 0
#define VT_FRAME_AEAD_AESGCM 1
/* Header length for a device id of n bytes. */
#define VT_FRAME_HEADER_LEN(n) (49 + (n))
/* Bytes a frame adds to its payload. */
#define VT_FRAME_OVERHEAD(n) (VT_FRAME_HEADER_LEN(n) + VT_FRAME_TAG_LEN)

struct vt_frame_header {
	uint8_t version;
	uint8_t codec;
	uint8_t aead;
	uint8_t device_len;
	char device[VT_FRAME_DEVICE_MAX + 1]; /* NUL-terminated */
	uint32_t epoch;
	uint64_t seq;
	uint8_t eph_pub[VT_KEY_LEN];
	size_t header_len;
};

/* Parse and check a header: magic, version, known flags, device id charset,
 * length. Returns 0, or -VT_EFRAME for anything malformed or truncated. */
int vt_frame_parse_header(const uint8_t *buf, size_t len, struct vt_frame_header *h);

/* Is s a valid device (or site) id: 1..64 of [A-Za-z0-9._-]? */
int vt_frame_id_valid(const char *s);

/* Derive the epoch key (see above). Device side: mine = device private key,
 * eph = ephemeral private key, peer = aggregator public key. Returns 0 or
 * VT_ECRYPTO. */
int vt_frame_key_device(const uint8_t eph_priv[VT_KEY_LEN], const uint8_t dev_priv[VT_KEY_LEN],
			const uint8_t agg_pub[VT_KEY_LEN], const char *device, uint32_t epoch,
			uint8_t key[VT_KEY_LEN]);
/* Aggregator side: agg_priv, eph_pub (from the header), dev_pub (registered). */
int vt_frame_key_aggregator(const uint8_t agg_priv[VT_KEY_LEN], const uint8_t eph_pub[VT_KEY_LEN],
			    const uint8_t dev_pub[VT_KEY_LEN], const char *device, uint32_t epoch,
			    uint8_t key[VT_KEY_LEN]);

/* A device's sealing context for one epoch. Owns its keys; free wipes them. */
struct vt_sealer;

/* New epoch: draws an ephemeral key pair and derives the epoch key.
 * device is copied. aead is VT_FRAME_AEAD_*. */
int vt_sealer_new(struct vt_sealer **out, const char *device, uint32_t epoch, int aead,
		  const uint8_t dev_priv[VT_KEY_LEN], const uint8_t agg_pub[VT_KEY_LEN]);
void vt_sealer_free(struct vt_sealer *s);

/* Seal payload (already compressed with codec) under seq into out (capacity
 * cap >= plen + VT_FRAME_OVERHEAD). payload may be in place, at out +
 * VT_FRAME_HEADER_LEN; otherwise it must not overlap out. *out_len receives the frame length.
 * Returns 0, -ENOSPC, -VT_ECRYPTO, or -EINVAL when seq is not above the
 * last sealed one (it is the nonce: never reuse it) or codec is unknown.
 * Does not allocate. Error codes in this header are negative. */
int vt_sealer_seal(struct vt_sealer *s, uint64_t seq, int codec, const uint8_t *payload,
		   size_t plen, uint8_t *out, size_t cap, size_t *out_len);

/* Open a frame whose header h was parsed from buf, with the epoch key.
 * Plaintext goes to out (capacity cap >= len - header - tag). Returns 0,
 * -VT_EAUTH on a bad tag, -VT_EFRAME if too short, -ENOSPC. */
int vt_frame_open(const uint8_t key[VT_KEY_LEN], const struct vt_frame_header *h,
		  const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
