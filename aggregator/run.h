/*
 * run.h - "vitrine-aggregator run": the receive-and-store loop.
 *
 * Ties the pieces together: MQTT messages go through vt_agg_receive(), good
 * frames into the store, rejections and duplicates into counters and
 * (rate-limited) log lines. The loop runs the group-commit timer and the
 * periodic stats line, publishes the acknowledgments that commits made due
 * (vitrine/v1/<site>/<device>/ack, QoS 1, retained), and returns when *stop
 * becomes non-zero, after committing what is pending. Setting up signals is
 * the caller's business.
 */
#ifndef VT_AGG_RUN_H
#define VT_AGG_RUN_H

#include <signal.h>
#include <stdint.h>

#include "ack.h"
#include "agg_config.h"
#include "receive.h"
#include "samples.h"
#include "store.h"

/* One rejected-message log line per device per minute at most. */
#define VT_AGG_REJECT_LOG_MS 60000
/* Devices not in the registry get a rate limit slot in a table this big. */
#define VT_AGG_UNKNOWN_SLOTS 64
/* "vitrine/v1/<site>/<device>/ack" and its NUL. */
#define VT_AGG_ACK_TOPIC_MAX (sizeof("vitrine/v1///ack") + 2 * VT_FRAME_DEVICE_MAX)

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
	struct vt_ratelimit *duplicate_rl;	/* one per reg->devices entry */
	struct vt_agg_unknown_rl unknown[VT_AGG_UNKNOWN_SLOTS];
	/* Ack keys (vt_ack_key()), one per reg->devices entry, derived on
	 * first use so that a large registry starts fast; wiped by fini. */
	uint8_t (*ack_keys)[VT_KEY_LEN];
	uint8_t *ack_key_state;			/* VT_AGG_ACK_KEY_* */
	uint64_t acks_published;
	struct vt_agg_samples samples;		/* sample_dir; off when zeroed */
};

#define VT_AGG_ACK_KEY_NONE 0	/* not derived yet */
#define VT_AGG_ACK_KEY_READY 1
#define VT_AGG_ACK_KEY_BAD 2	/* the registered public key is unusable */

/* Allocate the key caches, scratch buffers and rate limits for reg and st
 * (both borrowed, must outlive ctx). Returns 0 or -ENOMEM. */
int vt_agg_ctx_init(struct vt_agg_ctx *ctx, const struct vt_agg_registry *reg,
		    struct vt_store *st, uint32_t commit_interval_ms);
void vt_agg_ctx_fini(struct vt_agg_ctx *ctx);

/* Handle one message: receive, store or count and log the rejection.
 * Returns the enum vt_agg_reason (VT_AGG_OK when stored, VT_AGG_DUPLICATE
 * when already stored), or a negative code when the store refused the
 * frame (-VT_EDB, -ENOMEM). */
int vt_agg_handle(struct vt_agg_ctx *ctx, const char *topic, const uint8_t *payload,
		  size_t len);

/* The acknowledgment of seq for device (registered) at site: its topic
 * "vitrine/v1/<site>/<device>/ack" and payload vt_ack_encode(device's ack
 * key, topic, seq). Returns 0, -VT_EUNKNOWN_DEVICE, -VT_EFRAME (site not
 * a valid id) or the key derivation's error (low-order public key). */
int vt_agg_ack_message(struct vt_agg_ctx *ctx, const char *device, const char *site,
		       uint64_t seq, char topic[VT_AGG_ACK_TOPIC_MAX], uint8_t msg[VT_ACK_LEN]);

/* Sends one message, QoS 1 and retained; 0 when handed over, else a
 * negative code. topic and payload are borrowed for the call. */
typedef int (*vt_agg_publish_fn)(void *arg, const char *topic, const uint8_t *payload,
				 size_t len);

/* Publish every due acknowledgment of ctx->st (committed watermarks only,
 * acks.h) through publish. An ack that cannot be built (device no longer
 * registered, unusable key) is dropped; a failed publish stops the round and
 * leaves it and the rest due. Returns the number published or the failure's
 * code. */
int vt_agg_acks_publish(struct vt_agg_ctx *ctx, vt_agg_publish_fn publish, void *arg);

/* The run command. agg_priv is the aggregator's private key (copied and
 * wiped). Returns 0 on a clean stop or a negative code. */
int vt_agg_run(const struct vt_agg_config *cfg, const uint8_t agg_priv[VT_KEY_LEN],
	       volatile sig_atomic_t *stop);

#endif
