/*
 * plugins/footfall/footfall.c - the footfall collector plugin: glue between
 * a beam source, the per-door pass state machines and the agent.
 *
 * Reads the configuration, starts the source (only the simulated one is
 * built so far), paces it on a simulated clock, feeds every edge to its
 * door's state machine (beams.c) and emits one VITRINE_KIND_FOOTFALL reading
 * per pass. U-turns are counted, stuck beams logged once. It does not count
 * occupancy or aggregate per hour (the aggregator does). It emits no
 * identifiers.
 */
#include <vitrine/plugin.h>

#include "beams.h"
#include "source.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOOTFALL_INTERVAL_MS 50
/* Edges looked at per collect call, as a multiple of burst: bounds the time
 * one call takes whatever the edges turn out to be. */
#define FOOTFALL_EDGE_FACTOR 16
/* Simulated times past this (ms) are "everything is due": no overflow. */
#define FOOTFALL_FAR_MS 6e15

struct footfall {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct footfall_source *src;
	int src_open;
	int done;
	/* configuration */
	uint64_t seed, limit, burst, fail_every, doors, stuck_ms;
	double speed;
	int64_t start_ms;
	/* simulated clock */
	int64_t mono0_ms;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, emitted_call, uturns, stuck, invalid, failures;
	struct beams beams[FOOTFALL_DOORS_MAX];
};

struct footfall_num_key {
	const char *key;
	uint64_t def, min, max;
	size_t off;
};

static const struct footfall_num_key footfall_num_keys[] = {
	{ "seed", 1, 0, UINT64_MAX, offsetof(struct footfall, seed) },
	{ "limit", 0, 0, UINT64_MAX, offsetof(struct footfall, limit) },
	{ "burst", 500, 1, 100000, offsetof(struct footfall, burst) },
	{ "fail_every", 0, 0, UINT64_MAX, offsetof(struct footfall, fail_every) },
	{ "doors", 2, 1, FOOTFALL_DOORS_MAX, offsetof(struct footfall, doors) },
	{ "stuck_ms", 120000, 1000, 86400000, offsetof(struct footfall, stuck_ms) },
};

static const char *const footfall_config_keys[] = {
	"source", "seed", "speed", "start", "limit", "burst", "fail_every",
	"doors", "stuck_ms", NULL,
};

/* ---- configuration ----------------------------------------------------- */

static int footfall_bad(struct footfall *ff, const char *key, const char *val,
			const char *expected)
{
	ff->host->log(ff->ctx, VITRINE_LOG_ERROR,
		      "footfall.%s = \"%s\" is invalid: expected %s", key, val,
		      expected);
	return -EINVAL;
}

static int footfall_parse_u64(const char *val, uint64_t min, uint64_t max,
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

static int footfall_config_numbers(struct footfall *ff)
{
	char expected[80];
	size_t nkeys = sizeof(footfall_num_keys) / sizeof(footfall_num_keys[0]);

	for (size_t i = 0; i < nkeys; i++) {
		const struct footfall_num_key *k = &footfall_num_keys[i];
		uint64_t *field = (uint64_t *)((char *)ff + k->off);
		const char *val = ff->host->config(ff->ctx, k->key);

		*field = k->def;
		if (!val || !footfall_parse_u64(val, k->min, k->max, field))
			continue;
		snprintf(expected, sizeof(expected), "an integer in %llu..%llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return footfall_bad(ff, k->key, val, expected);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t footfall_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int footfall_days_in_month(int64_t y, int64_t m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DDTHH:MM:SSZ" to UTC ms since the epoch. */
static int footfall_parse_utc(const char *val, int64_t *out_ms)
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
	    f[2] > footfall_days_in_month(f[0], f[1]) || f[3] > 23 ||
	    f[4] > 59 || f[5] > 59)
		return -EINVAL;
	*out_ms = ((footfall_days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 3600 +
		   f[4] * 60 + f[5]) * 1000;
	return 0;
}

static int footfall_config_clock(struct footfall *ff)
{
	const char *speed = ff->host->config(ff->ctx, "speed");
	const char *start = ff->host->config(ff->ctx, "start");
	char *end;

	ff->speed = 1;
	if (speed) {
		ff->speed = strtod(speed, &end);
		if (*end || end == speed || !(ff->speed >= 0 && ff->speed <= 1e6))
			return footfall_bad(ff, "speed", speed,
					    "a number in 0..1000000 (0 = as fast as possible)");
	}
	if (!start || !strcmp(start, "now")) {
		ff->start_ms = ff->host->now_ms(ff->ctx);
		return 0;
	}
	if (footfall_parse_utc(start, &ff->start_ms))
		return footfall_bad(ff, "start", start,
				    "\"now\" or UTC time like 2026-11-25T09:00:00Z");
	return 0;
}

static int footfall_configure(struct footfall *ff)
{
	const char *source = ff->host->config(ff->ctx, "source");
	int rc;

	if (source && strcmp(source, "sim"))
		return footfall_bad(ff, "source", source,
				    "\"sim\" (the only source built so far)");
	rc = footfall_config_numbers(ff);
	if (!rc)
		rc = footfall_config_clock(ff);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int footfall_start(struct footfall *ff)
{
	struct footfall_sim_params p = {
		.seed = ff->seed,
		.start_utc_ms = ff->start_ms,
		.doors = (uint32_t)ff->doors,
		.fail_every = ff->fail_every,
	};
	struct beams_config bc = {
		.debounce_us = BEAMS_DEBOUNCE_US_DEFAULT,
		.stuck_us = (int64_t)ff->stuck_ms * 1000,
		.lag_max_us = BEAMS_LAG_MAX_US_DEFAULT,
	};
	int rc = footfall_sim_create(&p, &ff->src);

	if (rc)
		return rc;
	rc = ff->src->ops->open(ff->src);
	if (rc) {
		ff->src->ops->destroy(ff->src);
		ff->src = NULL;
		return rc;
	}
	ff->src_open = 1;
	for (uint64_t i = 0; i < ff->doors; i++)
		beams_init(&ff->beams[i], &bc);
	ff->mono0_ms = ff->host->mono_ms(ff->ctx);
	ff->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest time on the source's clock whose edges may be delivered now. */
static int64_t footfall_horizon_us(struct footfall *ff)
{
	int64_t elapsed = ff->host->mono_ms(ff->ctx) - ff->mono0_ms;
	double sim_ms;

	if (elapsed < 0)
		elapsed = 0;
	sim_ms = (double)ff->start_ms + (double)elapsed * ff->speed;
	/* speed 0, or so far ahead (beyond 200,000 years) that all is due */
	if (ff->speed == 0 || sim_ms >= FOOTFALL_FAR_MS)
		return INT64_MAX;
	return ((int64_t)sim_ms - ff->src->epoch_utc_ms) * 1000 + 999;
}

static int footfall_reopen(struct footfall *ff)
{
	int rc = ff->src->ops->open(ff->src);

	if (rc) {
		ff->host->log(ff->ctx, VITRINE_LOG_WARN,
			      "beam source \"%s\" still unavailable (%s); retrying",
			      ff->src->ops->name, strerror(-rc));
		return rc;
	}
	ff->src_open = 1;
	ff->host->log(ff->ctx, VITRINE_LOG_INFO,
		      "beam source \"%s\" reopened; resuming after %llu passes",
		      ff->src->ops->name, (unsigned long long)ff->emitted);
	return 0;
}

static int footfall_source_lost(struct footfall *ff, int rc)
{
	ff->failures++;
	ff->host->log(ff->ctx, VITRINE_LOG_WARN,
		      "beam source \"%s\" failed (%s) after %llu passes; closed, reopening on the next collect",
		      ff->src->ops->name, strerror(-rc),
		      (unsigned long long)ff->emitted);
	ff->src->ops->close(ff->src);
	ff->src_open = 0;
	return rc;
}

/* ---- events to readings ------------------------------------------------ */

static void footfall_emit(struct footfall *ff, uint32_t door,
			  const struct beams_event *ev)
{
	struct vitrine_reading r;
	int64_t t = ff->src->epoch_utc_ms + ev->ts_us / 1000;

	/* Passes at different doors settle a few ms out of order. */
	if (t < ff->last_time_ms)
		t = ff->last_time_ms;
	ff->last_time_ms = t;
	memset(&r, 0, sizeof(r));
	r.kind = VITRINE_KIND_FOOTFALL;
	r.time_ms = t;
	r.u.footfall.door = door;
	r.u.footfall.direction = ev->type == BEAMS_PASS_IN ? VITRINE_DIR_IN :
							     VITRINE_DIR_OUT;
	r.u.footfall.count = 1;
	ff->host->emit(ff->ctx, &r);
	ff->emitted++;
	ff->emitted_call++;
	if (ff->limit && ff->emitted >= ff->limit)
		ff->done = 1;
}

static void footfall_stuck(struct footfall *ff, uint32_t door,
			   const struct beams_event *ev)
{
	char beam = ev->line == BEAMS_LINE_A ? 'A' : 'B';

	if (ev->type == BEAMS_UNSTUCK) {
		ff->host->log(ff->ctx, VITRINE_LOG_INFO,
			      "door %u beam %c is clear again; counting passes", door, beam);
		return;
	}
	ff->stuck++;
	ff->host->log(ff->ctx, VITRINE_LOG_WARN,
		      "door %u beam %c blocked for more than %llu ms; not counting passes there until it clears",
		      door, beam, (unsigned long long)ff->stuck_ms);
}

static void footfall_event(struct footfall *ff, uint32_t door,
			   const struct beams_event *ev)
{
	switch (ev->type) {
	case BEAMS_PASS_IN:
	case BEAMS_PASS_OUT:
		footfall_emit(ff, door, ev);
		break;
	case BEAMS_UTURN:
		ff->uturns++;
		break;
	default:
		footfall_stuck(ff, door, ev);
	}
}

struct footfall_pending {
	uint32_t door;
	struct beams_event ev;
};

/* Stable insertion sort by time: doors stay in order within one instant. */
static void footfall_sort(struct footfall_pending *p, int n)
{
	for (int i = 1; i < n; i++) {
		struct footfall_pending x = p[i];
		int j = i;

		for (; j > 0 && p[j - 1].ev.ts_us > x.ev.ts_us; j--)
			p[j] = p[j - 1];
		p[j] = x;
	}
}

/* No edge up to ts_us at any door: settle every door's machine and handle
 * what happened in time order, so that the readings do not depend on how
 * often the plugin is called. */
static void footfall_tick(struct footfall *ff, int64_t ts_us)
{
	struct footfall_pending all[FOOTFALL_DOORS_MAX * BEAMS_MAX_EVENTS];
	struct beams_event ev[BEAMS_MAX_EVENTS];
	int n = 0;

	for (uint32_t d = 0; d < ff->doors; d++) {
		int k = beams_tick(&ff->beams[d], ts_us, ev);

		for (int i = 0; i < k; i++)
			all[n++] = (struct footfall_pending){ d + 1, ev[i] };
	}
	footfall_sort(all, n);
	for (int i = 0; i < n && !ff->done; i++)
		footfall_event(ff, all[i].door, &all[i].ev);
}

static void footfall_feed(struct footfall *ff, const struct footfall_edge *e)
{
	struct beams_event ev[BEAMS_MAX_EVENTS];
	int n;

	if (e->door < 1 || e->door > ff->doors || e->line > BEAMS_LINE_B ||
	    e->edge > BEAMS_RISING) {
		ff->invalid++;
		return;
	}
	/* Edges come oldest first across doors, so every door is quiet up to
	 * this edge: passes elsewhere settle in time order. */
	footfall_tick(ff, e->ts_us);
	n = beams_edge(&ff->beams[e->door - 1], (enum beams_line)e->line,
		       (enum beams_edge)e->edge, e->ts_us, ev);
	for (int i = 0; i < n && !ff->done; i++)
		footfall_event(ff, e->door, &ev[i]);
}

/* ---- the plugin callbacks ---------------------------------------------- */

static int footfall_host_ok(const struct vitrine_host *host)
{
	return host && host->abi_major == VITRINE_ABI_MAJOR &&
	       host->struct_size >= offsetof(struct vitrine_host, mono_ms) +
					    sizeof(host->mono_ms);
}

static int footfall_init(const struct vitrine_host *host,
			 struct vitrine_ctx *ctx, void **state)
{
	struct footfall *ff;
	int rc;

	if (!footfall_host_ok(host))
		return -EINVAL;
	ff = calloc(1, sizeof(*ff));
	if (!ff)
		return -ENOMEM;
	ff->host = host;
	ff->ctx = ctx;
	rc = footfall_configure(ff);
	if (rc)
		goto out_free;
	rc = footfall_start(ff);
	if (rc) {
		host->log(ctx, VITRINE_LOG_ERROR, "cannot start the beam source: %s",
			  strerror(-rc));
		goto out_free;
	}
	*state = ff;
	return 0;

out_free:
	free(ff);
	return rc;
}

static int footfall_collect(void *state)
{
	struct footfall *ff = state;
	struct footfall_edge e;
	uint64_t edges = 0;
	int64_t horizon;
	int rc;

	if (ff->done)
		return 1;
	/* Reopening is a call of its own: its 0 tells the agent that the
	 * source recovered (see plugin.h); reading resumes on the next call. */
	if (!ff->src_open)
		return footfall_reopen(ff);
	horizon = footfall_horizon_us(ff);
	ff->emitted_call = 0;
	while (ff->emitted_call < ff->burst && !ff->done &&
	       edges++ < ff->burst * FOOTFALL_EDGE_FACTOR) {
		rc = ff->src->ops->next_edge(ff->src, horizon, &e);
		if (rc < 0)
			return footfall_source_lost(ff, rc);
		if (rc == 0) {
			if (horizon != INT64_MAX)
				footfall_tick(ff, horizon);
			break;
		}
		footfall_feed(ff, &e);
	}
	return ff->done ? 1 : 0;
}

static void footfall_fini(void *state)
{
	struct footfall *ff = state;

	if (!ff)
		return;
	ff->host->log(ff->ctx, VITRINE_LOG_INFO,
		      "stopping: %llu passes, %llu U-turns, %llu stuck beams, %llu invalid edges, %llu source failures",
		      (unsigned long long)ff->emitted,
		      (unsigned long long)ff->uturns,
		      (unsigned long long)ff->stuck,
		      (unsigned long long)ff->invalid,
		      (unsigned long long)ff->failures);
	ff->src->ops->destroy(ff->src);
	free(ff);
}

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = VITRINE_ABI_MAJOR,
	.abi_minor = VITRINE_ABI_MINOR,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "footfall",
	.version = "0.1.0",
	.description = "door passes (in/out) from pairs of beam-break sensors; simulated source",
	.config_keys = footfall_config_keys,
	.init = footfall_init,
	.collect = footfall_collect,
	.collect_interval_ms = FOOTFALL_INTERVAL_MS,
	.fini = footfall_fini,
};
