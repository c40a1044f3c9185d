/*
 * batch.h - the batcher: readings in, one protobuf Batch out.
 *
 * Readings are copied into arrays allocated once at start-up (no allocation
 * per reading). A batch is due when it holds max_readings readings, when its
 * estimated encoded size reaches max_bytes, or when its first reading is
 * max_age_ms old; the caller checks vt_batch_due() and packs it.
 */
#ifndef VT_BATCH_H
#define VT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "reading.h"

struct vt_batch;

/* What a batch holds, by category of data, for the egress log
 * (docs/PRIVACY.md R14). */
enum vt_batch_cat {
	VT_BATCH_FOOTFALL_EVENTS,
	VT_BATCH_TABLET_EVENTS,
	VT_BATCH_RFID_EVENTS,
	VT_BATCH_FOOTFALL_WINDOWS,
	VT_BATCH_KIOSK_WINDOWS,
	VT_BATCH_RFID_WINDOWS,
	VT_BATCH_CATS
};

/* "footfall.events", ..., "rfid.windows". */
const char *vt_batch_cat_name(int cat);

struct vt_batch_limits {
	uint32_t max_readings;
	uint32_t max_bytes;
	uint32_t max_age_ms;
};

/* site and device are copied. Caller frees with vt_batch_free(). */
int vt_batch_new(struct vt_batch **out, const struct vt_batch_limits *lim,
		 const char *site, const char *device);
void vt_batch_free(struct vt_batch *b);

/* Add one reading (copied); mono_ms starts the age clock of an empty batch.
 * Returns 0, or VT_EFULL if the batch must be packed first. */
int vt_batch_add(struct vt_batch *b, const struct vt_reading *r, int64_t mono_ms);

size_t vt_batch_count(const struct vt_batch *b);

/* Readings of the open batch per enum vt_batch_cat (VT_BATCH_CATS entries;
 * borrowed, valid until the batch is packed or cleared). */
const uint32_t *vt_batch_cats(const struct vt_batch *b);

/* Is the batch due at mono_ms? (count, bytes or age). Empty: never. */
int vt_batch_due(const struct vt_batch *b, int64_t mono_ms);

/* Milliseconds until the batch becomes due by age; -1 when empty. */
int64_t vt_batch_ms_left(const struct vt_batch *b, int64_t mono_ms);

/* Upper bound of the packed size of any batch within these limits. */
size_t vt_batch_pack_bound(const struct vt_batch *b);

/* Empty the batch without encoding it (its readings are dropped). */
void vt_batch_clear(struct vt_batch *b);

/* Clock facts of the frame (batch.proto, docs/PROTOCOL.md "Clock not
 * synchronized"): the boot the flagged readings' mono_ms count in (copied;
 * sent only when a reading of the batch is flagged, or with a correction),
 * and the correction the next pack carries (on: 1, cleared by the pack). */
void vt_batch_set_boot(struct vt_batch *b, const uint8_t boot_id[VT_OS_BOOT_ID_LEN]);
void vt_batch_set_correction(struct vt_batch *b, int on, int64_t offset_ms);
/* Readings of the open batch flagged with a time since this boot (the
 * ones a correction will reach). */
size_t vt_batch_unsynced(const struct vt_batch *b);
/* Correct the flagged readings of the open batch (vt_clock_fix); returns
 * how many. */
size_t vt_batch_fix_clock(struct vt_batch *b, struct vt_clock *c);

/* Where a batch sits in the device's delivery chain (batch.proto). */
struct vt_batch_chain {
	uint64_t prev_seq;
	uint64_t floor_seq;
};

/* Encode the batch as a vitrine.v1.Batch into out (cap bytes) and empty it.
 * chain may be NULL (both 0). Returns 0 or -ENOSPC (the batch is left as it
 * was). */
int vt_batch_pack(struct vt_batch *b, const struct vt_batch_chain *chain, uint8_t *out,
		  size_t cap, size_t *len);

#endif
