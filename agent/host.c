/*
 * host.c - the functions a plugin may call, and its life cycle (host.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "host.h"
#include "log.h"
#include "vt_os.h"

#define VT_HOST_BACKOFF_MIN_MS 1000
#define VT_HOST_BACKOFF_MAX_MS 60000

static int vt_host_emit(struct vitrine_ctx *ctx, const struct vitrine_reading *r)
{
	const char *why = NULL;
	int rc;

	if (!r)
		return -EINVAL;
	rc = vt_pipeline_push(ctx->pipeline, ctx->privacy, r, vt_os_mono_ms(), &why);
	if (rc < 0) {
		/* Count every one; log the first of each plugin and then
		 * every 1000th, so a broken plugin cannot flood the log. */
		if (ctx->invalid++ % 1000 == 0)
			VT_WARN("plugin %s: invalid reading dropped (%s); %llu so far",
				ctx->lp.desc.name, why ? why : "invalid",
				(unsigned long long)ctx->invalid);
		return rc;
	}
	ctx->emitted++;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void vt_host_log(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > vt_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vt_log_write(level, "plugin %s: %s", ctx->lp.desc.name, msg);
}

static const char *vt_host_config(struct vitrine_ctx *ctx, const char *key)
{
	char full[128];
	struct vt_conf_entry *e;

	if (snprintf(full, sizeof(full), "%s%s", ctx->prefix, key) >= (int)sizeof(full))
		return NULL;
	e = vt_conf_find(ctx->conf, full);
	if (!e)
		return NULL;
	e->used = 1;
	return e->value;
}

static int64_t vt_host_now_ms(struct vitrine_ctx *ctx)
{
	(void)ctx;
	return vt_os_now_ms();
}

static int64_t vt_host_mono_ms(struct vitrine_ctx *ctx)
{
	(void)ctx;
	return vt_os_mono_ms();
}

static int vt_host_watch_fd(struct vitrine_ctx *ctx, int fd, short events, vitrine_fd_cb cb)
{
	struct vt_host_fd *free_slot = NULL;

	for (int i = 0; i < VT_HOST_MAX_FDS; i++) {
		struct vt_host_fd *w = &ctx->fds[i];

		if (w->cb && w->fd == fd) {
			if (events == 0)
				*w = (struct vt_host_fd){ -1, 0, NULL };
			else
				*w = (struct vt_host_fd){ fd, events, cb };
			return 0;
		}
		if (!w->cb && !free_slot)
			free_slot = w;
	}
	if (events == 0)
		return -ENOENT;
	if (!free_slot || !cb || fd < 0)
		return !cb || fd < 0 ? -EINVAL : -ENOSPC;
	*free_slot = (struct vt_host_fd){ fd, events, cb };
	return 0;
}

static void vt_host_source_failed(struct vitrine_ctx *ctx, const char *reason)
{
	ctx->failures++;
	if (!ctx->degraded)
		VT_WARN("plugin %s: source failed (%s); other plugins keep running",
			ctx->lp.desc.name, reason ? reason : "no reason given");
	ctx->degraded = 1;
}

static void vt_host_source_ok(struct vitrine_ctx *ctx)
{
	if (ctx->degraded)
		VT_INFO("plugin %s: source recovered after %llu failure(s)", ctx->lp.desc.name,
			(unsigned long long)ctx->failures);
	ctx->degraded = 0;
}

const struct vitrine_host vt_host_table = {
	.abi_major = VITRINE_ABI_MAJOR,
	.struct_size = sizeof(struct vitrine_host),
	.emit = vt_host_emit,
	.log = vt_host_log,
	.config = vt_host_config,
	.now_ms = vt_host_now_ms,
	.mono_ms = vt_host_mono_ms,
	.watch_fd = vt_host_watch_fd,
	.source_failed = vt_host_source_failed,
	.source_ok = vt_host_source_ok,
};

int vt_host_check_keys(struct vitrine_ctx *ctx, char *err, size_t errlen)
{
	const char *const *keys = ctx->lp.desc.config_keys;
	size_t plen = strlen(ctx->prefix);

	for (size_t i = 0; i < ctx->conf->n; i++) {
		const struct vt_conf_entry *e = &ctx->conf->entries[i];
		int known = 0;

		if (strncmp(e->key, ctx->prefix, plen) != 0)
			continue;
		if (strcmp(e->key + plen, "privacy_mode") == 0)
			continue;	/* the agent's, not the plugin's (privacy.h) */
		for (size_t k = 0; keys && keys[k]; k++)
			known |= strcmp(e->key + plen, keys[k]) == 0;
		if (!known)
			return vt_conf_unknown(e, keys, err, errlen);
	}
	return 0;
}

static void vt_host_backoff(struct vitrine_ctx *ctx, int64_t mono_ms, int64_t *when)
{
	if (ctx->backoff_ms == 0)
		ctx->backoff_ms = VT_HOST_BACKOFF_MIN_MS;
	*when = mono_ms + ctx->backoff_ms;
	ctx->backoff_ms = ctx->backoff_ms * 2 > VT_HOST_BACKOFF_MAX_MS ? VT_HOST_BACKOFF_MAX_MS
								   : ctx->backoff_ms * 2;
}

int vt_host_start(struct vitrine_ctx *ctx, int64_t mono_ms)
{
	int rc;

	if (ctx->running || mono_ms < ctx->next_init_ms)
		return ctx->running ? 0 : -EAGAIN;
	rc = ctx->lp.desc.init(&vt_host_table, ctx, &ctx->state);
	if (rc < 0) {
		vt_host_backoff(ctx, mono_ms, &ctx->next_init_ms);
		if (!ctx->degraded)
			VT_WARN("plugin %s: init failed (%s); retrying in %u s", ctx->lp.desc.name,
				vt_strerror(rc), (unsigned)(ctx->next_init_ms - mono_ms) / 1000);
		ctx->degraded = 1;
		return rc;
	}
	ctx->running = 1;
	ctx->degraded = 0;
	ctx->backoff_ms = 0;
	ctx->next_collect_ms = mono_ms;
	VT_INFO("plugin %s %s started (%s)", ctx->lp.desc.name,
		ctx->lp.desc.version ? ctx->lp.desc.version : "?", ctx->lp.path);
	return 0;
}

void vt_host_collect(struct vitrine_ctx *ctx, int64_t mono_ms)
{
	int rc;

	if (!ctx->running) {
		vt_host_start(ctx, mono_ms);
		return;
	}
	if (ctx->finished || !ctx->lp.desc.collect || !ctx->lp.desc.collect_interval_ms ||
	    mono_ms < ctx->next_collect_ms)
		return;
	rc = ctx->lp.desc.collect(ctx->state);
	if (rc == 1) {
		ctx->finished = 1;
		VT_INFO("plugin %s: source finished after %llu readings", ctx->lp.desc.name,
			(unsigned long long)ctx->emitted);
		return;
	}
	if (rc < 0) {
		vt_host_source_failed(ctx, vt_strerror(rc));
		vt_host_backoff(ctx, mono_ms, &ctx->next_collect_ms);
		return;
	}
	vt_host_source_ok(ctx);
	ctx->backoff_ms = 0;
	ctx->next_collect_ms = mono_ms + ctx->lp.desc.collect_interval_ms;
}

int64_t vt_host_ms_left(const struct vitrine_ctx *ctx, int64_t mono_ms)
{
	int64_t at;

	if (!ctx->running)
		at = ctx->next_init_ms;
	else if (ctx->finished || !ctx->lp.desc.collect || !ctx->lp.desc.collect_interval_ms)
		return -1;
	else
		at = ctx->next_collect_ms;
	return at > mono_ms ? at - mono_ms : 0;
}

void vt_host_stop(struct vitrine_ctx *ctx)
{
	if (ctx->running && ctx->lp.desc.fini)
		ctx->lp.desc.fini(ctx->state);
	ctx->running = 0;
	ctx->state = NULL;
}
