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
#include "fields.h"
#include "source.h"

#include "common/plugin_conf.h"
#include "common/sim_clock.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FOOTFALL_INTERVAL_MS 50
/* Edges looked at per collect call, as a multiple of burst: bounds the time
 * one call takes whatever the edges turn out to be. */
#define FOOTFALL_EDGE_FACTOR 16

struct footfall {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct footfall_source *src;
	int src_open;
	int done;
	/* configuration */
	struct vp_sim_conf sim;	/* seed, limit, burst, fail_every */
	uint64_t doors, stuck_ms;
	struct vp_sim_clock clock;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, emitted_call, uturns, stuck, invalid, failures;
	struct beams beams[FOOTFALL_DOORS_MAX];
};

/* The plugin's own numeric keys, after those of vp_conf_sim(). */
static const struct vp_num_key footfall_num_keys[] = {
	{ "doors", 2, 1, FOOTFALL_DOORS_MAX, offsetof(struct footfall, doors) },
	{ "stuck_ms", 120000, 1000, 86400000, offsetof(struct footfall, stuck_ms) },
};

static const char *const footfall_config_keys[] = {
	VP_SIM_CONFIG_KEYS, "doors", "stuck_ms", NULL,
};

/* ---- configuration ----------------------------------------------------- */

static int footfall_configure(struct footfall *ff)
{
	struct vp_conf c = { ff->host, ff->ctx, "footfall" };
	int rc = vp_conf_source_sim(&c);

	if (!rc)
		rc = vp_conf_sim(&c, &ff->sim);
	if (!rc)
		rc = vp_conf_numbers(&c, footfall_num_keys,
				     VP_ARRAY_SIZE(footfall_num_keys), ff);
	if (!rc)
		rc = vp_sim_clock_config(&ff->clock, &c);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int footfall_start(struct footfall *ff)
{
	struct footfall_sim_params p = {
		.seed = ff->sim.seed,
		.start_utc_ms = ff->clock.start_ms,
		.doors = (uint32_t)ff->doors,
		.fail_every = ff->sim.fail_every,
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
	vp_sim_clock_start(&ff->clock, ff->host, ff->ctx);
	ff->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest time on the source's clock whose edges may be delivered now. */
static int64_t footfall_horizon_us(struct footfall *ff)
{
	int64_t sim_ms = vp_sim_clock_now_ms(&ff->clock, ff->host, ff->ctx);

	if (sim_ms == INT64_MAX)
		return INT64_MAX;
	return (sim_ms - ff->src->epoch_utc_ms) * 1000 + 999;
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
	if (ff->sim.limit && ff->emitted >= ff->sim.limit)
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

static int footfall_init(const struct vitrine_host *host,
			 struct vitrine_ctx *ctx, void **state)
{
	struct footfall *ff;
	int rc;

	if (!vp_sim_clock_host_ok(host))
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
	while (ff->emitted_call < ff->sim.burst && !ff->done &&
	       edges++ < ff->sim.burst * FOOTFALL_EDGE_FACTOR) {
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
	.fields = footfall_fields,
};
