/*
 * receive.h - from one MQTT data message to a verified, decoded Batch.
 *
 * vt_agg_receive() is the aggregator's whole trust boundary: it checks the
 * topic, parses the frame header, finds the device's registered key, derives
 * (or recalls) the epoch key, opens the AEAD, decompresses under a hard cap
 * and unpacks the protobuf Batch, then checks the Batch against the header.
 * It does no I/O and keeps no state beyond its key cache and scratch
 * buffers, so it can be fuzzed directly (tests/fuzz/fuzz_receive.c).
 *
 * It does not decide about duplicates: that needs the database (store.h).
 */
#ifndef VT_AGG_RECEIVE_H
#define VT_AGG_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "keys.h"
#include "vitrine/v1/batch.pb-c.h"

/* The largest decompressed Batch we accept, and the largest frame. */
#define VT_AGG_MAX_PLAIN (4u * 1024 * 1024)
#define VT_AGG_MAX_FRAME (VT_AGG_MAX_PLAIN + 1024)
/* Largest string field (screen, gtin) and digest we store. */
#define VT_AGG_MAX_FIELD 128
#define VT_AGG_MAX_DIGEST 32
/* A window cell (anonymous mode): its label (a screen name or a GTIN, the
 * agent's VT_WINDOW_LABEL_MAX less the NUL) and the window lengths an agent
 * may configure, in seconds. */
#define VT_AGG_MAX_LABEL 31
/* Clock fields (docs/PROTOCOL.md, "Clock not synchronized"): a time since
 * boot and a correction offset within these, so that their sum, and a
 * window start rounded from it, never overflow. */
#define VT_AGG_CLOCK_MONO_MAX (1LL << 50)	/* |mono_ms|: 35,000 years of uptime */
#define VT_AGG_CLOCK_OFFSET_MAX (1LL << 53)
#define VT_AGG_WINDOW_MIN_S 60
#define VT_AGG_WINDOW_MAX_S 86400

/* Why a message was refused. The names are the counter suffixes
 * ("rejected_<name>") and appear in logs. */
enum vt_agg_reason {
	VT_AGG_OK = 0,
	VT_AGG_TOPIC_MISMATCH,	/* topic malformed, or its device/site != the frame's */
	VT_AGG_BAD_FRAME,	/* frame header malformed or truncated */
	VT_AGG_UNKNOWN_DEVICE,	/* device not registered */
	VT_AGG_BAD_KEY,		/* epoch key cannot be derived (low-order point) */
	VT_AGG_BAD_TAG,		/* AEAD tag does not verify */
	VT_AGG_DECODE,		/* zstd or protobuf invalid, too big, inconsistent */
	VT_AGG_DUPLICATE,	/* (device, seq) already stored: set by the store;
				 * normal after a resend, counted, not an alarm */
	VT_AGG_UNKNOWN_DICT,	/* compressed with a zstd dictionary not held
				 * (dicts.h): not acknowledged, so kept and sent
				 * again by the device */
	VT_AGG_REASON_COUNT
};

/* "topic_mismatch", "bad_tag"...; "ok" for VT_AGG_OK; never NULL. */
const char *vt_agg_reason_name(enum vt_agg_reason r);

struct vt_agg_device {
	char id[VT_FRAME_DEVICE_MAX + 1];
	uint8_t pub[VT_KEY_LEN];
};

/* Registered devices and the aggregator's private key, filled by the
 * caller (wipe agg_priv when done). */
struct vt_agg_registry {
	uint8_t agg_priv[VT_KEY_LEN];
	const struct vt_agg_device *devices;	/* borrowed, sorted by id */
	size_t n_devices;
};

/* Sort devices by id, as vt_agg_registry_find() needs. */
void vt_agg_devices_sort(struct vt_agg_device *devices, size_t n);
/* Index of device id in reg->devices, or -1. */
long vt_agg_registry_find(const struct vt_agg_registry *reg, const char *id);

/* Epoch keys recently used, per (device, epoch, ephemeral key). Deriving one
 * costs two X25519; a device keeps an epoch for many frames. Only keys that
 * have opened a frame are kept, so forged headers cannot evict good ones. */
#define VT_AGG_KEY_CACHE_SLOTS 256

struct vt_agg_key_slot {
	char device[VT_FRAME_DEVICE_MAX + 1];
	uint32_t epoch;
	uint8_t eph_pub[VT_KEY_LEN];
	uint8_t key[VT_KEY_LEN];
	uint64_t last_use;	/* 0 = empty */
};

struct vt_agg_key_cache {
	struct vt_agg_key_slot slots[VT_AGG_KEY_CACHE_SLOTS];
	uint64_t tick;
	uint64_t hits, misses;
};

/* Wipe every key in the cache. */
void vt_agg_key_cache_clear(struct vt_agg_key_cache *kc);

/* Scratch space for one message at a time: an opened-payload buffer, the
 * decompression buffer and a zstd context, allocated once. */
struct vt_agg_rx;

int vt_agg_rx_new(struct vt_agg_rx **out);
void vt_agg_rx_free(struct vt_agg_rx *rx);

struct vt_agg_dicts;
/* The zstd dictionaries to decompress with (borrowed; NULL: none). */
void vt_agg_rx_set_dicts(struct vt_agg_rx *rx, struct vt_agg_dicts *dicts);

/* What a successful receive hands back. batch lives in the rx's arena
 * until vt_agg_result_clear() (safe on a zeroed or failed result) or the
 * next receive on the same rx: one result per rx at a time. */
struct vt_agg_result {
	enum vt_agg_reason reason;
	struct vt_frame_header hdr;	/* valid when have_hdr */
	int have_hdr;
	char site[VT_FRAME_DEVICE_MAX + 1]; /* from the topic, when it parsed */
	char topic_device[VT_FRAME_DEVICE_MAX + 1];
	long device_index;		/* into reg->devices, or -1 */
	Vitrine__V1__Batch *batch;	/* in rx's arena */
	struct vt_agg_rx *rx;		/* whose arena holds batch */
	const uint8_t *packed;		/* the encoded Batch, plain_len bytes, in rx */
	size_t plain_len;		/* decompressed size */
	uint32_t dict_id;		/* the zstd dictionary it names, 0: none */
};

void vt_agg_result_clear(struct vt_agg_result *res);

/* Check and decode one message. topic is NUL-terminated; payload is len
 * bytes (borrowed). Returns VT_AGG_OK with res->batch set, or the reason
 * (also in res->reason) with res->batch NULL. reg is only read; kc and rx
 * are updated. */
enum vt_agg_reason vt_agg_receive(const char *topic, const uint8_t *payload, size_t len,
				  const struct vt_agg_registry *reg, struct vt_agg_key_cache *kc,
				  struct vt_agg_rx *rx, struct vt_agg_result *res);

/* The part of vt_agg_receive() after the AEAD, for the fuzz target: decode
 * an opened payload (n bytes, copied) of codec against res->hdr.device and
 * res->site, which the caller fills. Same result contract. */
enum vt_agg_reason vt_agg_decode_opened(struct vt_agg_rx *rx, int codec, const uint8_t *p,
					size_t n, struct vt_agg_result *res);

/* Split "vitrine/v1/<site>/<device>/data" into site and device (each a
 * valid id). Returns 0 or -EINVAL. */
int vt_agg_topic_parse(const char *topic, char site[VT_FRAME_DEVICE_MAX + 1],
		       char device[VT_FRAME_DEVICE_MAX + 1]);

#endif
