/*
 * pipeline.h - one reading's way from a plugin to the spool.
 *
 *   validate -> privacy (clock stamp) -> batch -> protobuf -> zstd -> seal -> spool
 *                      \-> window (anonymous mode) -> cells -> batch
 *
 * The pipeline owns every stage and their buffers (allocated once in
 * vt_pipeline_new); the spool is borrowed. It does no network I/O: the
 * publisher reads the spool.
 */
#ifndef VT_PIPELINE_H
#define VT_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "batch.h"
#include "egress.h"
#include "keys.h"
#include "privacy.h"
#include "spool.h"
#include "state.h"
#include "zstd_dict.h"

struct vt_pipeline_conf {
	const char *site;
	const char *device;
	const char *state_dir;
	struct vt_batch_limits batch;
	struct vt_spool *spool;	/* borrowed, must outlive the pipeline */
	int zstd_level;
	const struct vt_zdict *dict;	/* optional, borrowed for new() only */
	int aead;		/* VT_FRAME_AEAD_* */
	uint32_t epoch_max_frames; /* start a new key epoch after this many */
	const uint8_t *device_key;	/* private, borrowed for new() only */
	const uint8_t *aggregator_key;	/* public */
	struct vt_privacy *privacy;	/* borrowed, must outlive the pipeline */
	struct vt_egress *egress;	/* borrowed, optional: what is sealed to leave (R14) */
	struct vt_clock *clock;		/* borrowed, optional: readings stamped and
					 * corrected by it (clock.h); NULL: as given */
	FILE *tap;		/* optional: every reading as CSV (borrowed) */
};

struct vt_pipeline_stats {
	uint64_t readings_in;		/* accepted from plugins */
	uint64_t readings_withheld;	/* dropped by a privacy rule (R10, R12) */
	uint64_t cells_in;		/* window cells released (anonymous mode) */
	uint64_t readings_invalid;	/* refused by validation */
	uint64_t readings_sealed;
	uint64_t frames_sealed;
	uint64_t frames_spooled;	/* of those, stored by the spool */
	uint64_t bytes_sealed;
	uint64_t seal_errors;
	uint64_t readings_seal_dropped;	/* in batches that could not be sealed */
};

struct vt_pipeline;

/* The largest frame a batch within lim can seal to (the spool's max_frame),
 * 0 on allocation failure. */
size_t vt_pipeline_frame_bound(const struct vt_batch_limits *lim, const char *device);

int vt_pipeline_new(struct vt_pipeline **out, const struct vt_pipeline_conf *conf);
void vt_pipeline_free(struct vt_pipeline *p);

/* A reading of the plugin whose privacy source is src (validated here).
 * mono_ms is now. Returns 0 (also when a privacy rule withheld it: src
 * counts those), or VT_EINVAL_READING (why set) when the reading was
 * refused and counted. */
int vt_pipeline_push(struct vt_pipeline *p, struct vt_privacy_source *src,
		     const struct vitrine_reading *r, int64_t mono_ms, const char **why);

/* Seal the batch if due (force: if non-empty). Returns 0 or a negative code. */
int vt_pipeline_flush(struct vt_pipeline *p, int64_t mono_ms, int force);

/* Seal the open batch now, or a frame without readings if it is empty, so
 * that the aggregator learns the spool's current floor (batch.proto). */
int vt_pipeline_seal_chain(struct vt_pipeline *p, int64_t mono_ms);
/* The highest floor_seq any sealed frame carried. */
uint64_t vt_pipeline_floor_sealed(const struct vt_pipeline *p);

/* The clock just became trusted (vt_clock_tick() returned 1): correct the
 * flagged readings of the open batch and the windows; a correction owed
 * to the aggregator goes with the open batch, or in a frame of its own
 * now when the batch is empty. Returns the readings corrected here. */
size_t vt_pipeline_clock_synced(struct vt_pipeline *p, int64_t mono_ms);

/* Milliseconds until the open batch is due, -1 if none. */
int64_t vt_pipeline_ms_left(const struct vt_pipeline *p, int64_t mono_ms);

const struct vt_pipeline_stats *vt_pipeline_stats(const struct vt_pipeline *p);
uint32_t vt_pipeline_epoch(const struct vt_pipeline *p);

#endif
