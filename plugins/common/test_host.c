/*
 * plugins/common/test_host.c - the fake host of the plugin test programs
 * (see test_host.h): records readings and log lines, serves config keys,
 * and runs a plugin's init / collect / fini.
 */
#include "common/test_host.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int vp_fake_emit(struct vitrine_ctx *ctx, const struct vitrine_reading *r)
{
	if (ctx->n < ctx->cap) {
		ctx->readings[ctx->n] = *r;
		ctx->emitted_at[ctx->n] = ctx->mono_ms;
	}
	ctx->n++;
	return 0;
}

static void vp_fake_log(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
	VITRINE_PRINTF(3, 4);

static void vp_fake_log(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	int len;

	ctx->errors += level == VITRINE_LOG_ERROR;
	if (ctx->log_len >= VP_FAKE_LOG_BYTES - 2)
		return;
	va_start(ap, fmt);
	len = vsnprintf(ctx->log + ctx->log_len,
			VP_FAKE_LOG_BYTES - ctx->log_len - 1, fmt, ap);
	va_end(ap);
	if (len > 0)
		ctx->log_len += (size_t)len;
	if (ctx->log_len > VP_FAKE_LOG_BYTES - 2)
		ctx->log_len = VP_FAKE_LOG_BYTES - 2;
	ctx->log[ctx->log_len++] = '\n';
	ctx->log[ctx->log_len] = '\0';
}

static const char *vp_fake_config(struct vitrine_ctx *ctx, const char *key)
{
	for (int i = 0; i < ctx->nkeys; i++)
		if (!strcmp(ctx->keys[i], key))
			return ctx->vals[i];
	return NULL;
}

static int64_t vp_fake_now(struct vitrine_ctx *ctx)
{
	(void)ctx;
	return INT64_C(1795000000000);
}

static int64_t vp_fake_mono(struct vitrine_ctx *ctx)
{
	return ctx->mono_ms;
}

const struct vitrine_host vp_fake_host = {
	.abi_major = VITRINE_ABI_MAJOR,
	.struct_size = sizeof(struct vitrine_host),
	.emit = vp_fake_emit,
	.log = vp_fake_log,
	.config = vp_fake_config,
	.now_ms = vp_fake_now,
	.mono_ms = vp_fake_mono,
};

void vp_fake_set(struct vitrine_ctx *ctx, const char *key, const char *val)
{
	for (int i = 0; i < ctx->nkeys; i++)
		if (!strcmp(ctx->keys[i], key)) {
			ctx->vals[i] = val;
			return;
		}
	ctx->keys[ctx->nkeys] = key;
	ctx->vals[ctx->nkeys++] = val;
}

struct vitrine_ctx *vp_fake_new(size_t cap)
{
	struct vitrine_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	ctx->readings = calloc(cap, sizeof(*ctx->readings));
	ctx->emitted_at = calloc(cap, sizeof(*ctx->emitted_at));
	if (!ctx->readings || !ctx->emitted_at)
		abort();
	ctx->cap = cap;
	ctx->mono_ms = 1000;
	vp_fake_set(ctx, "start", "2026-11-25T09:00:00Z");
	vp_fake_set(ctx, "speed", "0");
	return ctx;
}

void vp_fake_free(struct vitrine_ctx *ctx)
{
	free(ctx->readings);
	free(ctx->emitted_at);
	free(ctx);
}

struct vp_run_result vp_run_plugin(const struct vitrine_plugin *plugin,
				   struct vitrine_ctx *ctx, int max_calls,
				   int64_t step_ms)
{
	struct vp_run_result res = { 0 };
	void *state = NULL;

	res.init_rc = plugin->init(&vp_fake_host, ctx, &state);
	if (res.init_rc)
		return res;
	for (int rc = 0; res.calls < max_calls && !res.finished;) {
		int prev = rc;

		rc = plugin->collect(state);
		res.calls++;
		res.failures += rc < 0;
		res.recoveries += prev < 0 && rc == 0;
		res.finished = rc == 1;
		ctx->mono_ms += step_ms;
	}
	plugin->fini(state);
	return res;
}

int vp_rejects_config(const struct vitrine_plugin *plugin, const char *key,
		      const char *val)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);
	struct vp_run_result res;
	char name[64];
	int ok;

	vp_fake_set(ctx, key, val);
	res = vp_run_plugin(plugin, ctx, 1, 50);
	snprintf(name, sizeof(name), "%s.%s", plugin->name, key);
	ok = res.init_rc == -EINVAL && ctx->errors == 1 && strstr(ctx->log, name);
	if (!ok)
		fprintf(stderr, "%s = \"%s\": init returned %d, %d errors logged:\n%s",
			name, val, res.init_rc, ctx->errors, ctx->log);
	vp_fake_free(ctx);
	return ok;
}

static int vp_check(int ok, const char *plugin, const char *what)
{
	if (!ok)
		fprintf(stderr, "%s: %s\n", plugin, what);
	return ok;
}

int vp_same_seed_same_readings(const struct vitrine_plugin *plugin, const char *limit,
			       const char *other_seed)
{
	size_t n = strtoul(limit, NULL, 10);
	struct vitrine_ctx *a = vp_fake_new(n), *b = vp_fake_new(n);
	int ok;

	vp_fake_set(a, "limit", limit);
	vp_fake_set(b, "limit", limit);
	ok = vp_check(vp_run_plugin(plugin, a, 1000, 50).finished &&
		      vp_run_plugin(plugin, b, 1000, 50).finished, plugin->name,
		      "a run did not finish");
	ok = ok && vp_check(a->n == n, plugin->name, "limit not reached");
	ok = ok && vp_check(vp_same_readings(a, b), plugin->name, "same seed, other readings");
	vp_fake_set(b, "seed", other_seed);
	b->n = 0;
	ok = ok && vp_check(vp_run_plugin(plugin, b, 1000, 50).finished && b->n == n,
			    plugin->name, "run with the other seed did not finish");
	ok = ok && vp_check(!vp_same_readings(a, b), plugin->name,
			    "other seed, same readings");
	vp_fake_free(a);
	vp_fake_free(b);
	return ok;
}

int vp_failures_lose_nothing(const struct vitrine_plugin *plugin, const char *limit,
			     const char *fail_every, int failures)
{
	size_t n = strtoul(limit, NULL, 10);
	struct vitrine_ctx *a = vp_fake_new(n), *b = vp_fake_new(n);
	struct vp_run_result ra, rb;
	int ok;

	vp_fake_set(a, "limit", limit);
	vp_fake_set(b, "limit", limit);
	vp_fake_set(b, "fail_every", fail_every);
	ra = vp_run_plugin(plugin, a, 1000, 50);
	rb = vp_run_plugin(plugin, b, 1000, 50);
	ok = vp_check(ra.finished && rb.finished, plugin->name, "a run did not finish");
	ok = ok && vp_check(ra.failures == 0, plugin->name, "failures without fail_every");
	ok = ok && vp_check(failures >= 0 ? rb.failures == failures : rb.failures >= -failures,
			    plugin->name, "unexpected number of failures");
	ok = ok && vp_check(strstr(b->log, "failed (Input/output error)") != NULL,
			    plugin->name, "failure not logged");
	ok = ok && vp_check(rb.recoveries == rb.failures, plugin->name,
			    "not every failure recovered");
	ok = ok && vp_check(strstr(b->log, "reopened") != NULL, plugin->name,
			    "reopen not logged");
	ok = ok && vp_check(vp_same_readings(a, b), plugin->name,
			    "failures changed the readings");
	vp_fake_free(a);
	vp_fake_free(b);
	return ok;
}

int vp_same_readings(const struct vitrine_ctx *a, const struct vitrine_ctx *b)
{
	return a->n == b->n &&
	       !memcmp(a->readings, b->readings, a->n * sizeof(*a->readings));
}

size_t vp_count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

int vp_lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static struct {
	int fd;
	short events;
	vitrine_fd_cb cb;
} vp_watched[VP_FAKE_WATCH_MAX];

int vp_fake_watch_fd(struct vitrine_ctx *ctx, int fd, short events, vitrine_fd_cb cb)
{
	(void)ctx;
	for (int i = 0; i < VP_FAKE_WATCH_MAX; i++)
		if (vp_watched[i].cb && vp_watched[i].fd == fd) {
			vp_watched[i].events = events;
			vp_watched[i].cb = events ? cb : NULL;
			return 0;
		}
	if (!events)
		return -ENOENT;
	for (int i = 0; i < VP_FAKE_WATCH_MAX; i++)
		if (!vp_watched[i].cb) {
			vp_watched[i].fd = fd;
			vp_watched[i].events = events;
			vp_watched[i].cb = cb;
			return 0;
		}
	return -ENOSPC;
}

void vp_fake_unwatch_all(void)
{
	memset(vp_watched, 0, sizeof(vp_watched));
}

int vp_fake_watching(void)
{
	int n = 0;

	for (int i = 0; i < VP_FAKE_WATCH_MAX; i++)
		n += vp_watched[i].cb != NULL;
	return n;
}

void vp_fake_poll(void *state)
{
	struct pollfd pfd[VP_FAKE_WATCH_MAX];
	int idx[VP_FAKE_WATCH_MAX], n = 0;

	for (int i = 0; i < VP_FAKE_WATCH_MAX; i++)
		if (vp_watched[i].cb) {
			pfd[n] = (struct pollfd){ vp_watched[i].fd, vp_watched[i].events, 0 };
			idx[n++] = i;
		}
	/* With nothing to watch, poll() only waits: the 20 ms of a turn. */
	if (poll(pfd, (nfds_t)n, 20) <= 0)
		return;
	for (int i = 0; i < n; i++)
		if (pfd[i].revents && vp_watched[idx[i]].cb && vp_watched[idx[i]].fd == pfd[i].fd)
			vp_watched[idx[i]].cb(state, pfd[i].fd, pfd[i].revents);
}
