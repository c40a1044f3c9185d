/*
 * run.c - the receive-and-store loop of "vitrine-aggregator run" (run.h).
 *
 * One thread: mosquitto_loop() delivers messages to vt_agg_handle(), and
 * between calls the loop commits the group transaction when it is due,
 * publishes the acknowledgments that became due (only ever after the
 * commit that made them true) and logs the stats line. Rejections are
 * logged at most once per device per minute, naming the device and the
 * reason, never payload bytes; duplicates, which are normal after a device
 * resends, likewise but at info level.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keys.h"
#include "dicts.h"
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
	case VT_AGG_DUPLICATE:
		return "sequence number already stored (resent or redelivered)";
	case VT_AGG_UNKNOWN_DICT:
		return "compressed with a zstd dictionary this aggregator does not hold: copy its .zdict file (vitrine-ctl train-dict) into the 'dictionaries' directory; the device keeps the frame and sends it again";
	default:
		return "unknown reason";
	}
}

int vt_agg_ctx_init(struct vt_agg_ctx *ctx, const struct vt_agg_registry *reg,
		    struct vt_store *st, uint32_t commit_interval_ms)
{
	size_t n = reg->n_devices ? reg->n_devices : 1;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->reg = reg;
	ctx->st = st;
	ctx->commit_interval_ms = commit_interval_ms;
	ctx->kc = calloc(1, sizeof(*ctx->kc));
	ctx->device_rl = calloc(n, sizeof(*ctx->device_rl));
	ctx->duplicate_rl = calloc(n, sizeof(*ctx->duplicate_rl));
	ctx->ack_keys = calloc(n, sizeof(*ctx->ack_keys));
	ctx->ack_key_state = calloc(n, sizeof(*ctx->ack_key_state));
	if (!ctx->kc || !ctx->device_rl || !ctx->duplicate_rl || !ctx->ack_keys ||
	    !ctx->ack_key_state) {
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
	free(ctx->duplicate_rl);
	if (ctx->ack_keys) {
		vt_keys_wipe(ctx->ack_keys, ctx->reg->n_devices * sizeof(ctx->ack_keys[0]));
		free(ctx->ack_keys);
	}
	free(ctx->ack_key_state);
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
	char seq[64] = "";

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
	if (r == VT_AGG_UNKNOWN_DICT)
		snprintf(seq + strlen(seq), sizeof(seq) - strlen(seq), ", dictionary %u",
			 (unsigned)res->dict_id);
	VT_WARN("rejected frame from device %s (site %s%s): %s: %s; counted, not stored%s",
		device, site, seq, vt_agg_reason_name(r), vt_agg_reason_text(r), more);
}

/* A duplicate is what a device does when an ack did not reach it in time:
 * worth a line at info level now and then, with how many, not a warning. */
static void vt_agg_log_duplicate(struct vt_agg_ctx *ctx, const struct vt_agg_result *res)
{
	struct vt_ratelimit *rl;

	if (vt_log_level < VT_LOG_INFO || res->device_index < 0)
		return;
	rl = &ctx->duplicate_rl[res->device_index];
	if (!vt_ratelimit_ok(rl, vt_os_mono_ms(), VT_AGG_REJECT_LOG_MS))
		return;
	VT_INFO("device %s (site %s): %u duplicate frames since the last such line (latest seq %llu): already stored, resent before the device saw its acknowledgment; counted, not stored, acknowledged again",
		res->hdr.device, res->site, rl->suppressed + 1, (unsigned long long)res->hdr.seq);
	rl->suppressed = 0;
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
		if (rc == VT_STORE_DUPLICATE) {
			r = VT_AGG_DUPLICATE;
			rc = 0;
		} else if (rc == 0) {
			vt_agg_samples_keep(&ctx->samples, res.hdr.device, res.hdr.seq,
					    res.packed, res.plain_len);
		} else if (rc < 0) {
			VT_ERROR("cannot store frame from device %s seq %llu: %s; not acknowledged, the device resends it",
				 res.hdr.device, (unsigned long long)res.hdr.seq, vt_strerror(rc));
		}
	} else {
		vt_store_reject(ctx->st, r);
	}
	if (r == VT_AGG_DUPLICATE)
		vt_agg_log_duplicate(ctx, &res);
	else if (r != VT_AGG_OK)
		vt_agg_log_reject(ctx, &res, r);
	vt_agg_result_clear(&res);
	if (ctx->commit_interval_ms == 0)
		vt_store_commit(ctx->st);
	return rc < 0 ? rc : (int)r;
}

/* ---- acknowledgments ------------------------------------------------------------------ */

/* The device's ack key, derived the first time it is needed. */
static const uint8_t *vt_agg_ack_key(struct vt_agg_ctx *ctx, long i)
{
	int rc;

	if (ctx->ack_key_state[i] == VT_AGG_ACK_KEY_NONE) {
		rc = vt_ack_key(ctx->reg->agg_priv, ctx->reg->devices[i].pub,
				ctx->reg->devices[i].id, ctx->ack_keys[i]);
		ctx->ack_key_state[i] = rc == 0 ? VT_AGG_ACK_KEY_READY : VT_AGG_ACK_KEY_BAD;
		if (rc < 0)
			VT_WARN("device %s: no acknowledgment key (%s): its registered public key is unusable; it will never be acknowledged",
				ctx->reg->devices[i].id, vt_strerror(rc));
	}
	return ctx->ack_key_state[i] == VT_AGG_ACK_KEY_READY ? ctx->ack_keys[i] : NULL;
}

int vt_agg_ack_message(struct vt_agg_ctx *ctx, const char *device, const char *site,
		       uint64_t seq, char topic[VT_AGG_ACK_TOPIC_MAX], uint8_t msg[VT_ACK_LEN])
{
	long i = vt_agg_registry_find(ctx->reg, device);
	const uint8_t *key;

	if (i < 0)
		return -VT_EUNKNOWN_DEVICE;
	if (!vt_frame_id_valid(site))
		return -VT_EFRAME;
	key = vt_agg_ack_key(ctx, i);
	if (!key)
		return -VT_ECRYPTO;
	snprintf(topic, VT_AGG_ACK_TOPIC_MAX, "vitrine/v1/%s/%s/ack", site, device);
	vt_ack_encode(key, topic, seq, msg);
	return 0;
}

struct vt_agg_ack_round {
	struct vt_agg_ctx *ctx;
	vt_agg_publish_fn publish;
	void *arg;
};

static int vt_agg_ack_one(void *arg, const char *device, const char *site, uint64_t seq)
{
	struct vt_agg_ack_round *round = arg;
	char topic[VT_AGG_ACK_TOPIC_MAX];
	uint8_t msg[VT_ACK_LEN];
	int rc;

	rc = vt_agg_ack_message(round->ctx, device, site, seq, topic, msg);
	if (rc < 0) {
		/* Retrying cannot help: drop it (the device resends, and is
		 * counted as duplicates, until the registry is fixed). */
		VT_DEBUG("device %s: acknowledgment not sent: %s", device, vt_strerror(rc));
		return 0;
	}
	rc = round->publish(round->arg, topic, msg, sizeof(msg));
	if (rc == 0)
		round->ctx->acks_published++;
	return rc;
}

int vt_agg_acks_publish(struct vt_agg_ctx *ctx, vt_agg_publish_fn publish, void *arg)
{
	struct vt_agg_ack_round round = { .ctx = ctx, .publish = publish, .arg = arg };
	struct vt_acks *acks = vt_store_acks(ctx->st);

	if (!acks || !vt_acks_due(acks))
		return 0;
	return vt_acks_flush(acks, vt_agg_ack_one, &round);
}

/* ---- the loop ----------------------------------------------------------------------- */

struct vt_agg_loop {
	struct vt_agg_ctx ctx;
	struct vt_agg_mqtt *mq;
	struct vt_agg_dicts *dicts;
	const struct vt_agg_config *cfg;
	int64_t next_stats_ms;
	uint64_t last[VT_STORE_COUNTERS];
	uint64_t last_acks;		/* acks published at the last stats line */
	uint64_t connections;		/* vt_agg_mqtt_connections() last seen */
	struct vt_ratelimit ack_rl;	/* "cannot publish" lines */
};

static int vt_agg_publish_mqtt(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
	struct vt_agg_loop *loop = arg;

	return vt_agg_mqtt_publish(loop->mq, topic, payload, len, 1, 1);
}

/* After a (re)connection every watermark is published again: a retained
 * ack may be missing and a publish may have died with the connection.
 * Otherwise only what commits and duplicates made due. */
static void vt_agg_publish_acks(struct vt_agg_loop *loop)
{
	struct vt_acks *acks = vt_store_acks(loop->ctx.st);
	uint64_t connections = vt_agg_mqtt_connections(loop->mq);
	int rc;

	if (connections != loop->connections) {
		loop->connections = connections;
		vt_acks_all_due(acks);
	}
	if (!vt_acks_due(acks) || !vt_agg_mqtt_up(loop->mq))
		return;
	rc = vt_agg_acks_publish(&loop->ctx, vt_agg_publish_mqtt, loop);
	if (rc < 0 && vt_ratelimit_ok(&loop->ack_rl, vt_os_mono_ms(), VT_AGG_REJECT_LOG_MS))
		VT_WARN("cannot publish acknowledgments (%s); %zu stay due, retrying",
			vt_strerror(rc), vt_acks_due(acks));
}

static void vt_agg_on_message(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
	struct vt_agg_loop *loop = arg;

	vt_agg_handle(&loop->ctx, topic, payload, len);
}

static void vt_agg_log_stats(struct vt_agg_loop *loop, const char *what)
{
	struct vt_store *st = loop->ctx.st;
	const int dup = VT_STORE_REJECTED + VT_AGG_DUPLICATE;
	uint64_t now[VT_STORE_COUNTERS], rejected = 0, total_rejected = 0;
	char detail[512] = "";
	size_t used = 0;

	for (int i = 0; i < VT_STORE_COUNTERS; i++)
		now[i] = vt_store_session_count(st, i);
	for (int i = VT_STORE_REJECTED + 1; i < VT_STORE_COUNTERS; i++) {
		uint64_t d = now[i] - loop->last[i];

		if (i == dup)
			continue;	/* normal after a resend: shown on its own */
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
	VT_INFO("%s: %llu frames, %llu readings stored, %llu duplicates, %llu rejected%s; %llu acks published; since start %llu frames, %llu rejected; key cache %llu hits, %llu misses; broker %s",
		what, (unsigned long long)(now[VT_STORE_FRAMES_OK] - loop->last[VT_STORE_FRAMES_OK]),
		(unsigned long long)(now[VT_STORE_READINGS_OK] - loop->last[VT_STORE_READINGS_OK]),
		(unsigned long long)(now[dup] - loop->last[dup]), (unsigned long long)rejected, detail,
		(unsigned long long)(loop->ctx.acks_published - loop->last_acks),
		(unsigned long long)now[VT_STORE_FRAMES_OK], (unsigned long long)total_rejected,
		(unsigned long long)loop->ctx.kc->hits, (unsigned long long)loop->ctx.kc->misses,
		vt_agg_mqtt_up(loop->mq) ? "up" : "down");
	memcpy(loop->last, now, sizeof(now));
	loop->last_acks = loop->ctx.acks_published;
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
	vt_agg_rx_set_dicts(loop->ctx.rx, loop->dicts);
	loop->ctx.samples.dir = cfg->sample_dir;
	loop->ctx.samples.left = cfg->sample_frames;
	rc = vt_agg_mqtt_new(&o, &loop->mq);
	if (rc < 0)
		return rc;
	loop->next_stats_ms = vt_os_mono_ms() + (int64_t)cfg->stats_interval_s * 1000;
	VT_INFO("started: %zu registered devices, database %s, broker %s:%u, subscription %s, %zu zstd dictionaries",
		reg->n_devices, cfg->database, cfg->broker.host, cfg->broker.port,
		vt_agg_mqtt_filter(loop->mq), vt_agg_dicts_count(loop->dicts));
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
	rc = vt_agg_dicts_open(&loop.dicts, cfg->dictionaries, err, sizeof(err));
	if (rc < 0) {
		VT_ERROR("%s", err);
		goto out_close;
	}
	rc = vt_agg_loop_start(&loop, cfg, &reg, st);
	if (rc < 0) {
		VT_ERROR("cannot start: %s", vt_strerror(rc));
		goto out_close;
	}
	while (!*stop) {
		vt_agg_mqtt_run(loop.mq, vt_agg_next_timeout(&loop, vt_os_mono_ms()));
		vt_agg_timers(&loop);
		vt_agg_publish_acks(&loop);
	}
	VT_INFO("stopping: committing what is pending");
	rc = vt_store_commit(st);
	vt_agg_publish_acks(&loop);	/* best effort: also sent at the next start */
	vt_agg_log_stats(&loop, "final");
out_close:
	vt_agg_mqtt_free(loop.mq);
	vt_agg_ctx_fini(&loop.ctx);
	vt_agg_dicts_free(loop.dicts);
	if (vt_store_close(st) < 0 && rc == 0)
		rc = -VT_EDB;
out_wipe:
	vt_keys_wipe(reg.agg_priv, sizeof(reg.agg_priv));
	return rc;
}
