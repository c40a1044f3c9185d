/*
 * run.h - "vitrine-aggregator run": the receive-and-store loop.
 *
 * Ties the pieces together: MQTT messages go through vt_agg_receive(), good
 * frames into the store, rejections into counters and (rate-limited) log
 * lines. The loop runs the group-commit timer and the periodic stats line,
 * and returns when *stop becomes non-zero, after committing what is pending.
 * Setting up signals is the caller's business.
 */
#ifndef VT_AGG_RUN_H
#define VT_AGG_RUN_H

#include <signal.h>
#include <stdint.h>

#include "agg_config.h"
#include "receive.h"
#include "store.h"

/* One rejected-message log line per device per minute at most. */
#define VT_AGG_REJECT_LOG_MS 60000
/* Devices not in the registry get a rate limit slot in a table this big. */
#define VT_AGG_UNKNOWN_SLOTS 64

struct vt_agg_unknown_rl {
	char device[VT_FRAME_DEVICE_MAX + 1];
	struct vt_ratelimit rl;
};

/* What handling one message needs; the run loop owns one. Exposed so that
 * tests can drive vt_agg_handle() without a broker. */
struct vt_agg_ctx {
	const struct vt_agg_registry *reg;	/* borrowed */
	struct vt_agg_key_cache *kc;
	struct vt_agg_rx *rx;
	struct vt_store *st;			/* borrowed */
	uint32_t commit_interval_ms;
	struct vt_ratelimit *device_rl;		/* one per reg->devices entry */
	struct vt_agg_unknown_rl unknown[VT_AGG_UNKNOWN_SLOTS];
};

/* Allocate the key cache, scratch buffers and rate limits for reg and st
 * (both borrowed, must outlive ctx). Returns 0 or -ENOMEM. */
int vt_agg_ctx_init(struct vt_agg_ctx *ctx, const struct vt_agg_registry *reg,
		    struct vt_store *st, uint32_t commit_interval_ms);
void vt_agg_ctx_fini(struct vt_agg_ctx *ctx);

/* Handle one message: receive, store or count and log the rejection.
 * Returns the enum vt_agg_reason (VT_AGG_OK when stored, VT_AGG_REPLAY for
 * a replay), or -VT_EDB when the database refused the frame. */
int vt_agg_handle(struct vt_agg_ctx *ctx, const char *topic, const uint8_t *payload,
		  size_t len);

/* The run command. agg_priv is the aggregator's private key (copied and
 * wiped). Returns 0 on a clean stop or a negative code. */
int vt_agg_run(const struct vt_agg_config *cfg, const uint8_t agg_priv[VT_KEY_LEN],
	       volatile sig_atomic_t *stop);

#endif
