/*
 * run.c - the receive-and-store loop of "vitrine-aggregator run" (run.h).
 *
 * One thread: mosquitto_loop() delivers messages to vt_agg_handle(), and
 * between calls the loop commits the group transaction when it is due and
 * logs the stats line. Rejections are logged at most once per device per
 * minute, naming the device and the reason, never payload bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keys.h"
#include "log.h"
#include "mqtt.h"
#include "run.h"
#include "vt_os.h"

#define VT_AGG_KEEPALIVE_S 30
#define VT_AGG_LOOP_MAX_MS 1000

static const char *vt_agg_reason_text(enum vt_agg_reason r)
{
	switch (r) {
	case VT_AGG_TOPIC_MISMATCH:
		return "topic does not match the frame's device or site";
	case VT_AGG_BAD_FRAME:
		return "malformed frame header";
	case VT_AGG_UNKNOWN_DEVICE:
		return "device not registered (add a 'device' line with its public key)";
	case VT_AGG_BAD_KEY:
		return "invalid ephemeral key";
	case VT_AGG_BAD_TAG:
		return "authentication failed (wrong key or altered frame)";
	case VT_AGG_DECODE:
		return "payload does not decode (zstd, protobuf or content checks)";
	case VT_AGG_REPLAY:
		return "sequence number already stored (replay or redelivery)";
	default:
		return "unknown reason";
	}
}

int vt_agg_ctx_init(struct vt_agg_ctx *ctx, const struct vt_agg_registry *reg,
		    struct vt_store *st, uint32_t commit_interval_ms)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->reg = reg;
	ctx->st = st;
	ctx->commit_interval_ms = commit_interval_ms;
	ctx->kc = calloc(1, sizeof(*ctx->kc));
	ctx->device_rl = calloc(reg->n_devices ? reg->n_devices : 1, sizeof(*ctx->device_rl));
	if (!ctx->kc || !ctx->device_rl) {
		rc = -ENOMEM;
		goto out_fini;
	}
	rc = vt_agg_rx_new(&ctx->rx);
	if (rc < 0)
		goto out_fini;
	return 0;
out_fini:
	vt_agg_ctx_fini(ctx);
	return rc;
}

void vt_agg_ctx_fini(struct vt_agg_ctx *ctx)
{
	if (ctx->kc) {
		vt_agg_key_cache_clear(ctx->kc);
		free(ctx->kc);
	}
	vt_agg_rx_free(ctx->rx);
	free(ctx->device_rl);
	memset(ctx, 0, sizeof(*ctx));
}

/* The rate limit of a device: its registry slot, or a slot in the small
 * table of unknown names (the least recently used one is recycled). */
static struct vt_ratelimit *vt_agg_ratelimit_for(struct vt_agg_ctx *ctx, const char *device)
{
	long i = vt_agg_registry_find(ctx->reg, device);
	struct vt_agg_unknown_rl *victim = &ctx->unknown[0];

	if (i >= 0)
		return &ctx->device_rl[i];
	for (int k = 0; k < VT_AGG_UNKNOWN_SLOTS; k++) {
		struct vt_agg_unknown_rl *u = &ctx->unknown[k];

		if (u->device[0] && strcmp(u->device, device) == 0)
			return &u->rl;
		if (u->rl.last_ms < victim->rl.last_ms)
			victim = u;
	}
	snprintf(victim->device, sizeof(victim->device), "%s", device);
	memset(&victim->rl, 0, sizeof(victim->rl));
	return &victim->rl;
}

static void vt_agg_log_reject(struct vt_agg_ctx *ctx, const struct vt_agg_result *res,
			      enum vt_agg_reason r)
{
	/* Only names that passed the id check reach the log. */
	const char *device = res->have_hdr ? res->hdr.device
			   : res->topic_device[0] ? res->topic_device : "(unparsed)";
	const char *site = res->site[0] ? res->site : "?";
	struct vt_ratelimit *rl;
	char more[64] = "";
	char seq[40] = "";

	if (vt_log_level < VT_LOG_WARN)
		return;
	rl = vt_agg_ratelimit_for(ctx, device);
	if (!vt_ratelimit_ok(rl, vt_os_mono_ms(), VT_AGG_REJECT_LOG_MS))
		return;
	if (rl->suppressed)
		snprintf(more, sizeof(more), "; %u more from this device in the last minute",
			 rl->suppressed);
	rl->suppressed = 0;
	if (res->have_hdr)
		snprintf(seq, sizeof(seq), " seq %llu", (unsigned long long)res->hdr.seq);
	VT_WARN("rejected frame from device %s (site %s%s): %s: %s; counted, not stored%s",
		device, site, seq, vt_agg_reason_name(r), vt_agg_reason_text(r), more);
}

int vt_agg_handle(struct vt_agg_ctx *ctx, const char *topic, const uint8_t *payload,
		  size_t len)
{
	struct vt_agg_result res;
	enum vt_agg_reason r;
	int rc = 0;

	r = vt_agg_receive(topic, payload, len, ctx->reg, ctx->kc, ctx->rx, &res);
	if (r == VT_AGG_OK) {
		rc = vt_store_put(ctx->st, &res.hdr, res.batch, vt_os_now_ms());
		if (rc == -VT_EREPLAY) {
			r = VT_AGG_REPLAY;
			rc = 0;
		} else if (rc < 0) {
			VT_ERROR("cannot store frame from device %s seq %llu: %s", res.hdr.device,
				 (unsigned long long)res.hdr.seq, vt_strerror(rc));
		}
	} else {
		vt_store_reject(ctx->st, r);
	}
	if (r != VT_AGG_OK)
		vt_agg_log_reject(ctx, &res, r);
	vt_agg_result_clear(&res);
	if (ctx->commit_interval_ms == 0)
		vt_store_commit(ctx->st);
	return rc < 0 ? rc : (int)r;
}

/* ---- the loop ----------------------------------------------------------------------- */

struct vt_agg_loop {
	struct vt_agg_ctx ctx;
	struct vt_agg_mqtt *mq;
	const struct vt_agg_config *cfg;
	int64_t next_stats_ms;
	uint64_t last[VT_STORE_COUNTERS];
};

static void vt_agg_on_message(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
	struct vt_agg_loop *loop = arg;

	vt_agg_handle(&loop->ctx, topic, payload, len);
}

static void vt_agg_log_stats(struct vt_agg_loop *loop, const char *what)
{
	struct vt_store *st = loop->ctx.st;
	uint64_t now[VT_STORE_COUNTERS], rejected = 0, total_rejected = 0;
	char detail[512] = "";
	size_t used = 0;

	for (int i = 0; i < VT_STORE_COUNTERS; i++)
		now[i] = vt_store_session_count(st, i);
	for (int i = VT_STORE_REJECTED + 1; i < VT_STORE_COUNTERS; i++) {
		uint64_t d = now[i] - loop->last[i];

		total_rejected += now[i];
		rejected += d;
		/* Each entry is well under 48 bytes; stop before the end. */
		if (!d || used > sizeof(detail) - 48)
			continue;
		used += (size_t)snprintf(detail + used, sizeof(detail) - used, "%s%s %llu",
					 used ? ", " : " (",
					 vt_store_counter_name(i) + strlen("rejected_"),
					 (unsigned long long)d);
	}
	if (used)
		snprintf(detail + used, sizeof(detail) - used, ")");
	VT_INFO("%s: %llu frames, %llu readings stored, %llu rejected%s; since start %llu frames, %llu rejected; key cache %llu hits, %llu misses; broker %s",
		what, (unsigned long long)(now[VT_STORE_FRAMES_OK] - loop->last[VT_STORE_FRAMES_OK]),
		(unsigned long long)(now[VT_STORE_READINGS_OK] - loop->last[VT_STORE_READINGS_OK]),
		(unsigned long long)rejected, detail,
		(unsigned long long)now[VT_STORE_FRAMES_OK], (unsigned long long)total_rejected,
		(unsigned long long)loop->ctx.kc->hits, (unsigned long long)loop->ctx.kc->misses,
		vt_agg_mqtt_up(loop->mq) ? "up" : "down");
	memcpy(loop->last, now, sizeof(now));
}

/* Milliseconds until the next timer (commit or stats), at most a second. */
static int vt_agg_next_timeout(struct vt_agg_loop *loop, int64_t now)
{
	int64_t t = VT_AGG_LOOP_MAX_MS, since;

	if (vt_store_pending(loop->ctx.st, &since)) {
		int64_t due = since + loop->cfg->commit_interval_ms - now;

		if (due < t)
			t = due;
	}
	if (loop->cfg->stats_interval_s && loop->next_stats_ms - now < t)
		t = loop->next_stats_ms - now;
	return t < 0 ? 0 : (int)t;
}

static void vt_agg_timers(struct vt_agg_loop *loop)
{
	int64_t now = vt_os_mono_ms(), since;
	char what[64];

	if (vt_store_pending(loop->ctx.st, &since) &&
	    now - since >= (int64_t)loop->cfg->commit_interval_ms)
		vt_store_commit(loop->ctx.st);
	if (loop->cfg->stats_interval_s && now >= loop->next_stats_ms) {
		snprintf(what, sizeof(what), "last %u s", loop->cfg->stats_interval_s);
		vt_agg_log_stats(loop, what);
		loop->next_stats_ms = now + (int64_t)loop->cfg->stats_interval_s * 1000;
	}
}

static int vt_agg_loop_start(struct vt_agg_loop *loop, const struct vt_agg_config *cfg,
			     const struct vt_agg_registry *reg, struct vt_store *st)
{
	struct vt_agg_mqtt_opts o = {
		.host = cfg->broker.host,
		.port = cfg->broker.port,
		.client_id = cfg->client_id,
		.shared_group = cfg->shared_group,
		.tls_ca = cfg->tls_ca,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.keepalive_s = VT_AGG_KEEPALIVE_S,
		.max_packet = VT_AGG_MAX_FRAME + 4096,
		.on_message = vt_agg_on_message,
		.ctx = loop,
	};
	int rc;

	loop->cfg = cfg;
	rc = vt_agg_ctx_init(&loop->ctx, reg, st, cfg->commit_interval_ms);
	if (rc < 0)
		return rc;
	rc = vt_agg_mqtt_new(&o, &loop->mq);
	if (rc < 0)
		return rc;
	loop->next_stats_ms = vt_os_mono_ms() + (int64_t)cfg->stats_interval_s * 1000;
	VT_INFO("started: %zu registered devices, database %s, broker %s:%u, subscription %s",
		reg->n_devices, cfg->database, cfg->broker.host, cfg->broker.port,
		vt_agg_mqtt_filter(loop->mq));
	if (reg->n_devices == 0)
		VT_WARN("no 'device' line in the configuration: every frame will be rejected");
	return 0;
}

int vt_agg_run(const struct vt_agg_config *cfg, const uint8_t agg_priv[VT_KEY_LEN],
	       volatile sig_atomic_t *stop)
{
	struct vt_agg_registry reg = { .devices = cfg->devices, .n_devices = cfg->n_devices };
	struct vt_agg_loop loop;
	struct vt_store *st = NULL;
	char err[512];
	int rc;

	memset(&loop, 0, sizeof(loop));
	memcpy(reg.agg_priv, agg_priv, VT_KEY_LEN);
	rc = vt_store_open(cfg->database, VT_STORE_READWRITE, &st, err, sizeof(err));
	if (rc < 0) {
		VT_ERROR("%s", err);
		goto out_wipe;
	}
	rc = vt_agg_loop_start(&loop, cfg, &reg, st);
	if (rc < 0) {
		VT_ERROR("cannot start: %s", vt_strerror(rc));
		goto out_close;
	}
	while (!*stop) {
		vt_agg_mqtt_run(loop.mq, vt_agg_next_timeout(&loop, vt_os_mono_ms()));
		vt_agg_timers(&loop);
	}
	VT_INFO("stopping: committing what is pending");
	rc = vt_store_commit(st);
	vt_agg_log_stats(&loop, "final");
out_close:
	vt_agg_mqtt_free(loop.mq);
	vt_agg_ctx_fini(&loop.ctx);
	if (vt_store_close(st) < 0 && rc == 0)
		rc = -VT_EDB;
out_wipe:
	vt_keys_wipe(reg.agg_priv, sizeof(reg.agg_priv));
	return rc;
}
