/*
 * pipeline.c - validate, pseudonymize, batch, encode, compress, seal, spool.
 *
 * Buffers for the packed batch and the sealed frame (the batch is
 * compressed into the frame, then encrypted there in place) are allocated
 * once, sized for the largest batch the limits allow: no allocation per
 * reading or per frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "err.h"
#include "frame.h"
#include "log.h"
#include "pipeline.h"
#include "vt_os.h"

#define VT_PIPELINE_ZSTD_HASHLOG 13	/* levels 1-3; chainLog one less */

struct vt_pipeline {
	struct vt_pipeline_conf conf;
	char *site, *device;
	struct vt_batch *batch;
	struct vt_sealer *sealer;
	struct vt_seq seq;
	ZSTD_CCtx *zstd;
	uint8_t *packed;
	size_t packed_cap;
	size_t compressed_cap;	/* zstd writes into frame, past its header */
	uint8_t *frame;
	size_t frame_cap;
	uint8_t device_key[VT_KEY_LEN];
	uint8_t aggregator_key[VT_KEY_LEN];
	uint32_t epoch;
	uint32_t epoch_frames;
	uint64_t floor_sealed;	/* highest floor_seq sealed so far */
	struct vt_pipeline_stats stats;
};

/* A new key epoch: bump the durable counter, draw a new ephemeral key. */
static int vt_pipeline_new_epoch(struct vt_pipeline *p)
{
	uint64_t epoch;
	struct vt_sealer *s;
	int rc;

	rc = vt_state_load(p->conf.state_dir, "epoch", &epoch);
	if (rc < 0)
		return rc;
	epoch++;
	if (epoch > UINT32_MAX)
		epoch = 1;
	rc = vt_state_store(p->conf.state_dir, "epoch", epoch);
	if (rc < 0)
		return rc;
	rc = vt_sealer_new(&s, p->device, (uint32_t)epoch, p->conf.aead, p->device_key,
			   p->aggregator_key);
	if (rc < 0)
		return rc;
	vt_sealer_free(p->sealer);
	p->sealer = s;
	p->epoch = (uint32_t)epoch;
	p->epoch_frames = 0;
	return 0;
}

static int vt_pipeline_cell(void *arg, const struct vt_reading *cell);

static size_t vt_pipeline_max_frame(size_t compressed_cap, const char *device)
{
	return compressed_cap + VT_FRAME_OVERHEAD(strlen(device));
}

size_t vt_pipeline_frame_bound(const struct vt_batch_limits *lim, const char *device)
{
	struct vt_batch *b;
	size_t bound;

	if (vt_batch_new(&b, lim, "s", device) < 0)
		return 0;
	bound = vt_pipeline_max_frame(ZSTD_compressBound(vt_batch_pack_bound(b)), device);
	vt_batch_free(b);
	return bound;
}

static int vt_pipeline_buffers(struct vt_pipeline *p, const struct vt_zdict *dict)
{
	p->packed_cap = vt_batch_pack_bound(p->batch);
	p->compressed_cap = ZSTD_compressBound(p->packed_cap);
	p->packed = malloc(p->packed_cap);
	p->frame_cap = vt_pipeline_max_frame(p->compressed_cap, p->device);
	p->frame = malloc(p->frame_cap);
	p->zstd = ZSTD_createCCtx();
	if (!p->packed || !p->frame || !p->zstd)
		return -ENOMEM;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(p->zstd, ZSTD_c_compressionLevel,
						p->conf.zstd_level)))
		return -EINVAL;
	/* Levels 1-3 (zstd's fast and double-fast for inputs up to 16 KiB)
	 * index the input in tables of 2^15 entries (and 2^14 more at level
	 * 3, double-fast) for a 16 KiB batch: 280 kB of workspace at level 3.
	 * Tables of 2^13 and 2^12 entries halve it and cost about 0.5% in
	 * size (make bench, batch 1000). */
	if (p->conf.zstd_level <= 3 &&
	    (ZSTD_isError(ZSTD_CCtx_setParameter(p->zstd, ZSTD_c_hashLog, VT_PIPELINE_ZSTD_HASHLOG)) ||
	     ZSTD_isError(ZSTD_CCtx_setParameter(p->zstd, ZSTD_c_chainLog, VT_PIPELINE_ZSTD_HASHLOG - 1))))
		return -EINVAL;
	/* Copied and digested once; its id goes into every zstd frame's
	 * header, where the aggregator looks for it. */
	if (dict && ZSTD_isError(ZSTD_CCtx_loadDictionary(p->zstd, dict->buf, dict->len)))
		return -VT_ECONFIG;
	return 0;
}

int vt_pipeline_new(struct vt_pipeline **out, const struct vt_pipeline_conf *conf)
{
	struct vt_pipeline *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->site = strdup(conf->site);
	p->device = strdup(conf->device);
	if (!p->site || !p->device) {
		rc = -ENOMEM;
		goto out_free;
	}
	p->conf.site = p->site;
	p->conf.device = p->device;
	memcpy(p->device_key, conf->device_key, VT_KEY_LEN);
	memcpy(p->aggregator_key, conf->aggregator_key, VT_KEY_LEN);
	p->conf.device_key = p->conf.aggregator_key = NULL;
	p->conf.dict = NULL;	/* borrowed for new() only */
	vt_privacy_set_sink(conf->privacy, vt_pipeline_cell, p);
	rc = vt_batch_new(&p->batch, &conf->batch, conf->site, conf->device);
	if (rc < 0)
		goto out_free;
	if (conf->clock) {
		vt_privacy_set_clock(conf->privacy, conf->clock);
		vt_batch_set_boot(p->batch, vt_clock_boot_id(conf->clock));
	}
	rc = vt_pipeline_buffers(p, conf->dict);
	if (rc < 0)
		goto out_free;
	rc = vt_seq_open(&p->seq, conf->state_dir, 1000);
	if (rc < 0)
		goto out_free;
	rc = vt_pipeline_new_epoch(p);
	if (rc < 0)
		goto out_free;
	*out = p;
	return 0;
out_free:
	vt_pipeline_free(p);
	return rc;
}

void vt_pipeline_free(struct vt_pipeline *p)
{
	if (!p)
		return;
	vt_sealer_free(p->sealer);
	vt_batch_free(p->batch);
	vt_seq_close(&p->seq);
	ZSTD_freeCCtx(p->zstd);
	free(p->packed);
	free(p->frame);
	vt_keys_wipe(p->device_key, sizeof(p->device_key));
	free(p->site);
	free(p->device);
	free(p);
}

/* A spooled frame is data that will leave: count it in the egress log by
 * category, its bytes shared in proportion to the readings. */
static void vt_pipeline_egress(struct vt_pipeline *p, const uint32_t *cats, uint32_t readings,
			       size_t frame_len)
{
	for (int c = 0; c < VT_BATCH_CATS && p->conf.egress && readings; c++)
		if (cats[c])
			vt_egress_add(p->conf.egress, vt_batch_cat_name(c), 1, cats[c],
				      (uint64_t)frame_len * cats[c] / readings, vt_os_now_ms());
}

/* Pack, compress and seal the open batch into a frame, and spool it. */
static int vt_pipeline_seal(struct vt_pipeline *p)
{
	uint32_t readings = (uint32_t)vt_batch_count(p->batch);
	uint32_t cats[VT_BATCH_CATS];
	struct vt_batch_chain chain;
	size_t packed_len, frame_len, zlen, unsynced;
	uint8_t *payload;
	int64_t correction_ms = 0, spooled_wall;
	uint64_t seq;
	int rc, correction;

	if (p->conf.epoch_max_frames && p->epoch_frames >= p->conf.epoch_max_frames) {
		rc = vt_pipeline_new_epoch(p);
		if (rc < 0)
			return rc;
	}
	rc = vt_seq_take(&p->seq, &seq);
	if (rc < 0)
		return rc;
	chain.prev_seq = vt_spool_last_seq(p->conf.spool);
	chain.floor_seq = vt_spool_floor(p->conf.spool, seq);
	memcpy(cats, vt_batch_cats(p->batch), sizeof(cats));
	unsynced = vt_batch_unsynced(p->batch);
	correction = p->conf.clock && vt_clock_correction_due(p->conf.clock, &correction_ms);
	vt_batch_set_correction(p->batch, correction, correction_ms);
	rc = vt_batch_pack(p->batch, &chain, p->packed, p->packed_cap, &packed_len);
	if (rc < 0)
		return rc;
	/* Compressed where the sealer encrypts it in place. */
	payload = p->frame + VT_FRAME_HEADER_LEN(strlen(p->device));
	zlen = ZSTD_compress2(p->zstd, payload, p->compressed_cap, p->packed, packed_len);
	if (ZSTD_isError(zlen))
		return -VT_EDECODE;
	rc = vt_sealer_seal(p->sealer, seq, VT_FRAME_CODEC_ZSTD, payload, zlen, p->frame,
			    p->frame_cap, &frame_len);
	if (rc < 0)
		return rc;
	p->epoch_frames++;
	p->stats.frames_sealed++;
	p->stats.readings_sealed += readings;
	p->stats.bytes_sealed += frame_len;
	/* A frame the spool cannot store is counted there (write_error) and
	 * logged; one it stored tells the aggregator its floor. Spooled on an
	 * untrusted clock, its age is unknown (0): the step to the real time
	 * must not age it out (a Pi's fake-hwclock may be weeks behind). */
	spooled_wall = !p->conf.clock || vt_clock_trusted(p->conf.clock) ? vt_os_now_ms() : 0;
	vt_spool_append(p->conf.spool, seq, readings, spooled_wall, p->frame, frame_len,
			vt_os_mono_ms());
	if (vt_spool_last_seq(p->conf.spool) != seq)
		return 0;
	p->stats.frames_spooled++;
	if (unsynced)
		vt_clock_unsynced_sealed(p->conf.clock);
	if (correction)
		vt_clock_correction_sealed(p->conf.clock);
	if (chain.floor_seq > p->floor_sealed)
		p->floor_sealed = chain.floor_seq;
	vt_pipeline_egress(p, cats, readings, frame_len);
	return 0;
}

int vt_pipeline_flush(struct vt_pipeline *p, int64_t mono_ms, int force)
{
	size_t readings = vt_batch_count(p->batch);
	int rc;

	if (readings == 0)
		return 0;
	if (!force && !vt_batch_due(p->batch, mono_ms))
		return 0;
	rc = vt_pipeline_seal(p);
	if (rc < 0) {
		p->stats.seal_errors++;
		p->stats.readings_seal_dropped += readings;
		VT_ERROR("cannot seal batch of %zu readings: %s; readings dropped (%llu so far)",
			 readings, vt_strerror(rc),
			 (unsigned long long)p->stats.readings_seal_dropped);
		/* Never retry a batch forever: drop it so collection goes on. */
		vt_batch_clear(p->batch);
		return rc;
	}
	return 0;
}

int vt_pipeline_seal_chain(struct vt_pipeline *p, int64_t mono_ms)
{
	int rc;

	if (vt_batch_count(p->batch))
		return vt_pipeline_flush(p, mono_ms, 1);
	rc = vt_pipeline_seal(p);
	if (rc < 0) {
		p->stats.seal_errors++;
		VT_ERROR("cannot seal an empty frame for the delivery chain: %s", vt_strerror(rc));
	}
	return rc;
}

uint64_t vt_pipeline_floor_sealed(const struct vt_pipeline *p)
{
	return p->floor_sealed;
}

/* Batch one reading that may leave the device; flush when due. */
static void vt_pipeline_batch(struct vt_pipeline *p, const struct vt_reading *clean,
			      int64_t mono_ms)
{
	if (vt_batch_add(p->batch, clean, mono_ms) == -VT_EFULL) {
		vt_pipeline_flush(p, mono_ms, 1);
		vt_batch_add(p->batch, clean, mono_ms);
	}
	if (p->conf.tap)
		vt_reading_write_csv(p->conf.tap, p->site, p->device, clean);
	if (vt_batch_due(p->batch, mono_ms))
		vt_pipeline_flush(p, mono_ms, 0);
}

/* The privacy stage's sink: one cell of a released window; NULL when the
 * window is complete: its cells are then sealed and synced at once, so
 * that the window checkpoint can let them go (anon.h). */
static int vt_pipeline_cell(void *arg, const struct vt_reading *cell)
{
	struct vt_pipeline *p = arg;
	int64_t mono = vt_os_mono_ms();
	int rc;

	if (!cell) {
		uint64_t frames = p->stats.frames_spooled;

		rc = vt_pipeline_flush(p, mono, 1);
		if (rc == 0 && p->stats.frames_spooled == frames)
			rc = -EIO;	/* sealed, but the spool could not store it */
		if (rc == 0)
			rc = vt_spool_sync(p->conf.spool, mono, 1);
		return rc;
	}
	p->stats.cells_in++;
	if (cell->clock_unsynced && p->conf.clock) {
		/* Released from a window opened before the clock was trusted. */
		struct vt_reading fixed = *cell;

		vt_clock_fix(p->conf.clock, &fixed);
		vt_pipeline_batch(p, &fixed, mono);
		return 0;
	}
	vt_pipeline_batch(p, cell, mono);
	return 0;
}

int vt_pipeline_push(struct vt_pipeline *p, struct vt_privacy_source *src,
		     const struct vitrine_reading *r, int64_t mono_ms, const char **why)
{
	struct vt_reading clean;
	int rc;

	rc = vt_reading_validate(r, why);
	if (rc == 0)
		rc = vt_privacy_apply(p->conf.privacy, src, r, &clean, vt_os_now_ms(), mono_ms,
				      why);
	if (rc == VT_PRIVACY_DROPPED) {
		p->stats.readings_withheld++;
		return 0;
	}
	if (rc < 0) {
		p->stats.readings_invalid++;
		if (!*why)
			*why = vt_strerror(rc);
		return -VT_EINVAL_READING;
	}
	p->stats.readings_in++;
	if (rc == 0)
		vt_pipeline_batch(p, &clean, mono_ms);
	return 0;
}

size_t vt_pipeline_clock_synced(struct vt_pipeline *p, int64_t mono_ms)
{
	size_t fixed;
	int64_t offset_ms;

	if (!p->conf.clock)
		return 0;
	fixed = vt_batch_fix_clock(p->batch, p->conf.clock);
	vt_privacy_fix_clock(p->conf.privacy);
	/* Frames with flagged readings left: the aggregator needs the
	 * correction soon, even if no reading comes for a while. */
	if (vt_clock_correction_due(p->conf.clock, &offset_ms) && !vt_batch_count(p->batch))
		vt_pipeline_seal_chain(p, mono_ms);
	return fixed;
}

int64_t vt_pipeline_ms_left(const struct vt_pipeline *p, int64_t mono_ms)
{
	return vt_batch_ms_left(p->batch, mono_ms);
}

const struct vt_pipeline_stats *vt_pipeline_stats(const struct vt_pipeline *p)
{
	return &p->stats;
}

uint32_t vt_pipeline_epoch(const struct vt_pipeline *p)
{
	return p->epoch;
}
