/*
 * plugins/footfall/footfall.c - the footfall collector plugin: glue between
 * a source, the per-door pass state machines and the agent.
 *
 * Reads the configuration and starts the source it names: simulated doors
 * (source_sim.c) or beam-break receivers on GPIO lines (source_gpio.c),
 * both beam sources, or a people counter (counter.c), which counts by
 * itself. A beam source is paced by a simulated clock or, when it keeps its
 * own time, by the time up to which its edges are settled; every edge goes
 * to its door's state machine (beams.c) and each pass becomes one
 * VITRINE_KIND_FOOTFALL reading. U-turns are counted, stuck beams logged
 * once. A source that cannot open is retried from collect, with the agent's
 * back-off. It does not count occupancy or aggregate per hour (the
 * aggregator does). It emits no identifiers.
 */
#include <vitrine/plugin.h>

#include "beams.h"
#include "counter.h"
#include "fields.h"
#include "footfall_conf.h"
#include "source.h"

#include "common/plugin_conf.h"
#include "common/sim_clock.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOOTFALL_INTERVAL_MS 50
/* Edges looked at per collect call, as a multiple of burst: bounds the time
 * one call takes whatever the edges turn out to be. */
#define FOOTFALL_EDGE_FACTOR 16

enum footfall_source_kind {
	FOOTFALL_SOURCE_SIM = 0,
	FOOTFALL_SOURCE_GPIO,
	FOOTFALL_SOURCE_COUNTER,
};

struct footfall {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct footfall_source *src;	/* a beam source (sim, gpio) */
	struct footfall_counter *counter;	/* or the people counter */
	int src_open;
	int done;
	char last_error[FOOTFALL_ERROR_MAX];	/* the last open failure logged */
	/* configuration */
	int source;		/* enum footfall_source_kind */
	struct vp_sim_conf sim;	/* seed, limit, burst, fail_every */
	uint64_t doors, stuck_ms, debounce_ms;
	struct footfall_gpio_params gpio;
	struct footfall_counter_params counter_p;
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
	{ "debounce_ms", BEAMS_DEBOUNCE_US_DEFAULT / 1000, 0, 1000,
	  offsetof(struct footfall, debounce_ms) },
};

static const char *const footfall_config_keys[] = {
	VP_SIM_CONFIG_KEYS, "doors", "stuck_ms", "debounce_ms",
	FOOTFALL_GPIO_KEYS, FOOTFALL_COUNTER_KEYS, NULL,
};

static const char *const footfall_sources[] = { "sim", "gpio", "counter", NULL };

/* ---- configuration ----------------------------------------------------- */

static int footfall_configure(struct footfall *ff)
{
	struct vp_conf c = { ff->host, ff->ctx, "footfall" };
	int rc = vp_conf_source(&c, footfall_sources, "\"sim\", \"gpio\" or \"counter\"");

	if (rc < 0)
		return rc;
	ff->source = rc;
	rc = vp_conf_sim(&c, &ff->sim);
	if (!rc)
		rc = vp_conf_numbers(&c, footfall_num_keys,
				     VP_ARRAY_SIZE(footfall_num_keys), ff);
	if (!rc)
		rc = vp_sim_clock_config(&ff->clock, &c);
	if (!rc && ff->source == FOOTFALL_SOURCE_GPIO)
		rc = footfall_conf_gpio(&c, &ff->gpio);
	if (!rc && ff->source == FOOTFALL_SOURCE_COUNTER)
		rc = footfall_conf_counter(&c, &ff->counter_p);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int footfall_create_sim(struct footfall *ff)
{
	struct footfall_sim_params p = {
		.seed = ff->sim.seed,
		.start_utc_ms = ff->clock.start_ms,
		.doors = (uint32_t)ff->doors,
		.fail_every = ff->sim.fail_every,
	};

	return footfall_sim_create(&p, &ff->src);
}

/* The GPIO doors; door numbers go up to the highest one configured. */
static int footfall_create_gpio(struct footfall *ff)
{
	char err[FOOTFALL_ERROR_MAX];
	int rc;

	ff->gpio.replay.start_utc_ms = ff->clock.start_ms;
	ff->gpio.replay.speed = ff->clock.speed;
	ff->doors = 0;
	for (uint32_t d = 1; d <= FOOTFALL_DOORS_MAX; d++)
		if (ff->gpio.door[d - 1].chip[0])
			ff->doors = d;
	rc = footfall_gpio_create(&ff->gpio, &ff->src, err, sizeof(err));
	if (rc)
		ff->host->log(ff->ctx, VITRINE_LOG_ERROR, "cannot set up the GPIO doors: %s", err);
	return rc;
}

/* Logs why the source did not open, in full when the reason is new. */
static void footfall_open_failed(struct footfall *ff, int rc)
{
	const char *why = ff->src->error[0] ? ff->src->error : strerror(-rc);

	ff->failures++;
	if (!strcmp(why, ff->last_error)) {
		ff->host->log(ff->ctx, VITRINE_LOG_INFO,
			      "beam source \"%s\" still unavailable (%s); retrying",
			      ff->src->ops->name, strerror(-rc));
		return;
	}
	snprintf(ff->last_error, sizeof(ff->last_error), "%s", why);
	ff->host->log(ff->ctx, VITRINE_LOG_ERROR,
		      "beam source \"%s\" cannot open: %s; retrying with back-off",
		      ff->src->ops->name, why);
}

/* Every door's beams clear, no sequence under way: at start, and on a
 * reopen, whose source starts again from each line's level. */
static void footfall_reset_beams(struct footfall *ff)
{
	struct beams_config bc = {
		.debounce_us = (int64_t)ff->debounce_ms * 1000,
		.stuck_us = (int64_t)ff->stuck_ms * 1000,
		.lag_max_us = BEAMS_LAG_MAX_US_DEFAULT,
	};

	for (uint64_t i = 0; i < ff->doors; i++)
		beams_init(&ff->beams[i], &bc);
}

static int footfall_start_beams(struct footfall *ff)
{
	int rc = ff->source == FOOTFALL_SOURCE_GPIO ? footfall_create_gpio(ff) :
						      footfall_create_sim(ff);

	if (rc)
		return rc;
	footfall_reset_beams(ff);
	vp_sim_clock_start(&ff->clock, ff->host, ff->ctx);
	ff->last_time_ms = INT64_MIN;
	/* A source that does not open now is retried from collect. */
	rc = ff->src->ops->open(ff->src);
	if (rc)
		footfall_open_failed(ff, rc);
	ff->src_open = rc == 0;
	return 0;
}

static void footfall_on_fd(void *state, int fd, short revents)
{
	struct footfall *ff = state;

	footfall_counter_on_fd(ff->counter, fd, revents);
}

static int footfall_start(struct footfall *ff)
{
	int rc;

	if (ff->source != FOOTFALL_SOURCE_COUNTER)
		return footfall_start_beams(ff);
	rc = footfall_counter_create(&ff->counter_p, ff->host, ff->ctx, footfall_on_fd,
				     &ff->counter);
	if (rc)
		return rc;
	/* Errors are logged; collect retries what did not open. */
	footfall_counter_collect(ff->counter);
	return 0;
}

/* Latest time on the source's clock whose edges may be delivered now. */
static int64_t footfall_horizon_us(struct footfall *ff)
{
	int64_t sim_ms;

	if (ff->src->ops->settled_us)
		return ff->src->ops->settled_us(ff->src);
	sim_ms = vp_sim_clock_now_ms(&ff->clock, ff->host, ff->ctx);
	if (sim_ms == INT64_MAX)
		return INT64_MAX;
	return (sim_ms - ff->src->epoch_utc_ms) * 1000 + 999;
}

static int footfall_reopen(struct footfall *ff)
{
	int rc = ff->src->ops->open(ff->src);

	if (rc) {
		footfall_open_failed(ff, rc);
		return rc;
	}
	ff->src_open = 1;
	ff->last_error[0] = '\0';
	/* The GPIO source seeds each line's level again: the beams must
	 * not carry a half sequence across the gap. */
	if (ff->source == FOOTFALL_SOURCE_GPIO)
		footfall_reset_beams(ff);
	ff->host->log(ff->ctx, VITRINE_LOG_INFO,
		      "beam source \"%s\" reopened; resuming after %llu passes",
		      ff->src->ops->name, (unsigned long long)ff->emitted);
	return 0;
}

static int footfall_source_lost(struct footfall *ff, int rc)
{
	ff->failures++;
	ff->host->log(ff->ctx, VITRINE_LOG_WARN,
		      "beam source \"%s\" failed (%s%s%s) after %llu passes; closed, reopening on the next collect",
		      ff->src->ops->name, strerror(-rc), ff->src->error[0] ? ": " : "",
		      ff->src->error, (unsigned long long)ff->emitted);
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
		host->log(ctx, VITRINE_LOG_ERROR, "cannot start the %s source (%s)",
			  footfall_sources[ff->source], strerror(-rc));
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

	if (ff->counter)
		return footfall_counter_collect(ff->counter);
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
			if (ff->src->ops->ended && ff->src->ops->ended(ff->src))
				ff->done = 1;
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
	if (ff->counter) {
		footfall_counter_destroy(ff->counter);
		free(ff);
		return;
	}
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
	.description = "door passes (in/out): beam-break pairs on GPIO lines (libgpiod), a people counter, or simulated doors",
	.config_keys = footfall_config_keys,
	.init = footfall_init,
	.collect = footfall_collect,
	.collect_interval_ms = FOOTFALL_INTERVAL_MS,
	.fini = footfall_fini,
	.fields = footfall_fields,
};
