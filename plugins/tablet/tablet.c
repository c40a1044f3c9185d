/*
 * plugins/tablet/tablet.c - the tablet collector plugin: glue between a
 * kiosk event source and the agent.
 *
 * Reads the configuration, starts the source (only the simulated one is
 * built so far), paces it on a simulated clock, checks every event (kind,
 * NUL-terminated strings, GTIN-14 check digit) and emits one
 * VITRINE_KIND_TABLET reading per valid event; invalid events are counted
 * and dropped. It does not build sessions or dwell statistics (the
 * aggregator does) and never logs a session id: it is an identifier that
 * the agent replaces with a keyed digest.
 */
#include <vitrine/plugin.h>

#include "source.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLET_INTERVAL_MS 50
/* Events looked at per collect call, as a multiple of burst. */
#define TABLET_SCAN_FACTOR 4
/* Simulated times past this (ms) are "everything is due": no overflow. */
#define TABLET_FAR_MS 6e15

struct tablet {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct tablet_source *src;
	int src_open;
	int done;
	/* configuration */
	uint64_t seed, limit, burst, fail_every, kiosks;
	double speed;
	int64_t start_ms;
	/* simulated clock */
	int64_t mono0_ms;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, invalid, failures;
};

struct tablet_num_key {
	const char *key;
	uint64_t def, min, max;
	size_t off;
};

static const struct tablet_num_key tablet_num_keys[] = {
	{ "seed", 1, 0, UINT64_MAX, offsetof(struct tablet, seed) },
	{ "limit", 0, 0, UINT64_MAX, offsetof(struct tablet, limit) },
	{ "burst", 500, 1, 100000, offsetof(struct tablet, burst) },
	{ "fail_every", 0, 0, UINT64_MAX, offsetof(struct tablet, fail_every) },
	{ "kiosks", 2, 1, TABLET_KIOSKS_MAX, offsetof(struct tablet, kiosks) },
};

static const char *const tablet_config_keys[] = {
	"source", "seed", "speed", "start", "limit", "burst", "fail_every",
	"kiosks", NULL,
};

/* ---- configuration ----------------------------------------------------- */

static int tablet_bad(struct tablet *tb, const char *key, const char *val,
		      const char *expected)
{
	tb->host->log(tb->ctx, VITRINE_LOG_ERROR,
		      "tablet.%s = \"%s\" is invalid: expected %s", key, val,
		      expected);
	return -EINVAL;
}

static int tablet_parse_u64(const char *val, uint64_t min, uint64_t max,
			    uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int tablet_config_numbers(struct tablet *tb)
{
	char expected[80];
	size_t nkeys = sizeof(tablet_num_keys) / sizeof(tablet_num_keys[0]);

	for (size_t i = 0; i < nkeys; i++) {
		const struct tablet_num_key *k = &tablet_num_keys[i];
		uint64_t *field = (uint64_t *)((char *)tb + k->off);
		const char *val = tb->host->config(tb->ctx, k->key);

		*field = k->def;
		if (!val || !tablet_parse_u64(val, k->min, k->max, field))
			continue;
		snprintf(expected, sizeof(expected), "an integer in %llu..%llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return tablet_bad(tb, k->key, val, expected);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t tablet_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int tablet_days_in_month(int64_t y, int64_t m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DDTHH:MM:SSZ" to UTC ms since the epoch. */
static int tablet_parse_utc(const char *val, int64_t *out_ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int64_t f[6] = { 0 };
	int n = 0;

	if (strlen(val) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] != 'd') {
			if (val[i] != shape[i])
				return -EINVAL;
			n += shape[i + 1] == 'd' || shape[i + 1] == '\0';
			continue;
		}
		if (val[i] < '0' || val[i] > '9')
			return -EINVAL;
		f[n] = f[n] * 10 + (val[i] - '0');
	}
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
	    f[2] > tablet_days_in_month(f[0], f[1]) || f[3] > 23 || f[4] > 59 ||
	    f[5] > 59)
		return -EINVAL;
	*out_ms = ((tablet_days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 3600 +
		   f[4] * 60 + f[5]) * 1000;
	return 0;
}

static int tablet_config_clock(struct tablet *tb)
{
	const char *speed = tb->host->config(tb->ctx, "speed");
	const char *start = tb->host->config(tb->ctx, "start");
	char *end;

	tb->speed = 1;
	if (speed) {
		tb->speed = strtod(speed, &end);
		if (*end || end == speed || !(tb->speed >= 0 && tb->speed <= 1e6))
			return tablet_bad(tb, "speed", speed,
					  "a number in 0..1000000 (0 = as fast as possible)");
	}
	if (!start || !strcmp(start, "now")) {
		tb->start_ms = tb->host->now_ms(tb->ctx);
		return 0;
	}
	if (tablet_parse_utc(start, &tb->start_ms))
		return tablet_bad(tb, "start", start,
				  "\"now\" or UTC time like 2026-11-25T09:00:00Z");
	return 0;
}

static int tablet_configure(struct tablet *tb)
{
	const char *source = tb->host->config(tb->ctx, "source");
	int rc;

	if (source && strcmp(source, "sim"))
		return tablet_bad(tb, "source", source,
				  "\"sim\" (the only source built so far)");
	rc = tablet_config_numbers(tb);
	if (!rc)
		rc = tablet_config_clock(tb);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int tablet_start(struct tablet *tb)
{
	struct tablet_sim_params p = {
		.seed = tb->seed,
		.start_utc_ms = tb->start_ms,
		.kiosks = (uint32_t)tb->kiosks,
		.fail_every = tb->fail_every,
	};
	int rc = tablet_sim_create(&p, &tb->src);

	if (rc)
		return rc;
	rc = tb->src->ops->open(tb->src);
	if (rc) {
		tb->src->ops->destroy(tb->src);
		tb->src = NULL;
		return rc;
	}
	tb->src_open = 1;
	tb->mono0_ms = tb->host->mono_ms(tb->ctx);
	tb->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest time on the source's clock whose events may be delivered now. */
static int64_t tablet_horizon_ms(struct tablet *tb)
{
	int64_t elapsed = tb->host->mono_ms(tb->ctx) - tb->mono0_ms;
	double sim_ms;

	if (elapsed < 0)
		elapsed = 0;
	sim_ms = (double)tb->start_ms + (double)elapsed * tb->speed;
	/* speed 0, or so far ahead (beyond 200,000 years) that all is due */
	if (tb->speed == 0 || sim_ms >= TABLET_FAR_MS)
		return INT64_MAX;
	return (int64_t)sim_ms - tb->src->epoch_utc_ms;
}

static int tablet_reopen(struct tablet *tb)
{
	int rc = tb->src->ops->open(tb->src);

	if (rc) {
		tb->host->log(tb->ctx, VITRINE_LOG_WARN,
			      "kiosk source \"%s\" still unavailable (%s); retrying",
			      tb->src->ops->name, strerror(-rc));
		return rc;
	}
	tb->src_open = 1;
	tb->host->log(tb->ctx, VITRINE_LOG_INFO,
		      "kiosk source \"%s\" reopened; resuming after %llu readings",
		      tb->src->ops->name, (unsigned long long)tb->emitted);
	return 0;
}

static int tablet_source_lost(struct tablet *tb, int rc)
{
	tb->failures++;
	tb->host->log(tb->ctx, VITRINE_LOG_WARN,
		      "kiosk source \"%s\" failed (%s) after %llu readings; closed, reopening on the next collect",
		      tb->src->ops->name, strerror(-rc),
		      (unsigned long long)tb->emitted);
	tb->src->ops->close(tb->src);
	tb->src_open = 0;
	return rc;
}

/* ---- events to readings ------------------------------------------------ */

static int tablet_gtin_valid(const char *gtin)
{
	unsigned sum = 0;

	if (strnlen(gtin, VITRINE_GTIN_MAX) != VITRINE_GTIN_MAX - 1)
		return 0;
	for (int i = 0; i < 14; i++) {
		if (gtin[i] < '0' || gtin[i] > '9')
			return 0;
		/* GS1 mod 10: weight 3 next to the check digit, then alternate */
		if (i < 13)
			sum += (unsigned)(gtin[i] - '0') * (i % 2 == 0 ? 3 : 1);
	}
	return gtin[13] - '0' == (int)((10 - sum % 10) % 10);
}

static int tablet_has_text(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	return len > 0 && len < size;
}

static int tablet_event_valid(const struct tablet_event *ev)
{
	if (!ev->kiosk || !tablet_has_text(ev->session, sizeof(ev->session)))
		return 0;
	switch (ev->type) {
	case VITRINE_TABLET_SESSION_START:
	case VITRINE_TABLET_SESSION_END:
		return 1;
	case VITRINE_TABLET_SCREEN_VIEW:
		return tablet_has_text(ev->screen, sizeof(ev->screen));
	case VITRINE_TABLET_PRODUCT_LOOKUP:
		return tablet_gtin_valid(ev->gtin);
	default:
		return 0;
	}
}

static void tablet_emit(struct tablet *tb, const struct tablet_event *ev)
{
	struct vitrine_reading r;
	struct vitrine_tablet *t = &r.u.tablet;
	int64_t time_ms = tb->src->epoch_utc_ms + ev->ts_ms;

	/* Kiosks' clocks may step; the readings' clock never goes back. */
	if (time_ms < tb->last_time_ms)
		time_ms = tb->last_time_ms;
	tb->last_time_ms = time_ms;
	memset(&r, 0, sizeof(r));
	r.kind = VITRINE_KIND_TABLET;
	r.time_ms = time_ms;
	t->kiosk = ev->kiosk;
	t->event = ev->type;
	t->duration_ms = ev->duration_ms;
	/* Lengths were checked by tablet_event_valid(). */
	memcpy(t->session, ev->session, strlen(ev->session) + 1);
	if (ev->type == VITRINE_TABLET_SCREEN_VIEW)
		memcpy(t->screen, ev->screen, strlen(ev->screen) + 1);
	if (ev->type == VITRINE_TABLET_PRODUCT_LOOKUP)
		memcpy(t->gtin, ev->gtin, VITRINE_GTIN_MAX);
	tb->host->emit(tb->ctx, &r);
	tb->emitted++;
	if (tb->limit && tb->emitted >= tb->limit)
		tb->done = 1;
}

/* Returns 1 when a reading was emitted, 0 when the event was dropped. */
static int tablet_handle(struct tablet *tb, const struct tablet_event *ev)
{
	if (tablet_event_valid(ev)) {
		tablet_emit(tb, ev);
		return 1;
	}
	if (!tb->invalid++)
		tb->host->log(tb->ctx, VITRINE_LOG_WARN,
			      "dropped an invalid event from kiosk %u (type %u); counting further ones, total logged at shutdown",
			      ev->kiosk, ev->type);
	return 0;
}

/* ---- the plugin callbacks ---------------------------------------------- */

static int tablet_host_ok(const struct vitrine_host *host)
{
	return host && host->abi_major == VITRINE_ABI_MAJOR &&
	       host->struct_size >= offsetof(struct vitrine_host, mono_ms) +
					    sizeof(host->mono_ms);
}

static int tablet_init(const struct vitrine_host *host, struct vitrine_ctx *ctx,
		       void **state)
{
	struct tablet *tb;
	int rc;

	if (!tablet_host_ok(host))
		return -EINVAL;
	tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->host = host;
	tb->ctx = ctx;
	rc = tablet_configure(tb);
	if (rc)
		goto out_free;
	rc = tablet_start(tb);
	if (rc) {
		host->log(ctx, VITRINE_LOG_ERROR, "cannot start the kiosk source: %s",
			  strerror(-rc));
		goto out_free;
	}
	*state = tb;
	return 0;

out_free:
	free(tb);
	return rc;
}

static int tablet_collect(void *state)
{
	struct tablet *tb = state;
	struct tablet_event ev;
	uint64_t emitted = 0, scanned = 0;
	int64_t horizon;
	int rc;

	if (tb->done)
		return 1;
	/* Reopening is a call of its own: its 0 tells the agent that the
	 * source recovered (see plugin.h); reading resumes on the next call. */
	if (!tb->src_open)
		return tablet_reopen(tb);
	horizon = tablet_horizon_ms(tb);
	while (emitted < tb->burst && scanned++ < tb->burst * TABLET_SCAN_FACTOR) {
		rc = tb->src->ops->next_event(tb->src, horizon, &ev);
		if (rc < 0)
			return tablet_source_lost(tb, rc);
		if (rc == 0)
			break;
		emitted += (uint64_t)tablet_handle(tb, &ev);
		if (tb->done)
			return 1;
	}
	return 0;
}

static void tablet_fini(void *state)
{
	struct tablet *tb = state;

	if (!tb)
		return;
	tb->host->log(tb->ctx, VITRINE_LOG_INFO,
		      "stopping: %llu readings, %llu invalid events dropped, %llu source failures",
		      (unsigned long long)tb->emitted,
		      (unsigned long long)tb->invalid,
		      (unsigned long long)tb->failures);
	tb->src->ops->destroy(tb->src);
	free(tb);
}

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = VITRINE_ABI_MAJOR,
	.abi_minor = VITRINE_ABI_MINOR,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "tablet",
	.version = "0.1.0",
	.description = "in-store kiosk sessions, screen views and product lookups; simulated source",
	.config_keys = tablet_config_keys,
	.init = tablet_init,
	.collect = tablet_collect,
	.collect_interval_ms = TABLET_INTERVAL_MS,
	.fini = tablet_fini,
};
