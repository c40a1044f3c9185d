/*
 * plugins/footfall/source.h - where beam-break edges come from.
 *
 * A source delivers the raw edges of the two beams of every door, oldest
 * first across all doors, each with the time it happened on the source's
 * clock. It knows nothing of passes (beams.c turns edges into passes).
 * Drivers: source_sim.c (simulated doors, for demos and tests); a libgpiod
 * driver (edge events, kernel timestamps on CLOCK_MONOTONIC, lines found by
 * chip label, pull-ups requested) will implement the same ops. Because every
 * edge carries the time it happened, polling the source every collect
 * interval loses no precision. Single-threaded: the agent's poll loop only.
 */
#ifndef VT_FOOTFALL_SOURCE_H
#define VT_FOOTFALL_SOURCE_H

#include <stdint.h>

#include "beams.h"

#define FOOTFALL_DOORS_MAX 16

struct footfall_edge {
	uint32_t door;		/* 1..FOOTFALL_DOORS_MAX */
	uint32_t line;		/* enum beams_line */
	uint32_t edge;		/* enum beams_edge */
	int64_t ts_us;		/* source clock; UTC ms = epoch_utc_ms + ts_us / 1000 */
};

struct footfall_source;

struct footfall_source_ops {
	const char *name;
	/* Start (or restart after a failure; state is kept). 0 or -errno. */
	int (*open)(struct footfall_source *src);
	/* Fill *e with the next edge whose time is <= horizon_us and return 1;
	 * return 0 when none is ready (the source is then quiet up to
	 * horizon_us); -errno when the source failed (it is then closed: call
	 * open again). A hardware driver ignores horizon_us and returns what
	 * the kernel has queued. */
	int (*next_edge)(struct footfall_source *src, int64_t horizon_us,
			 struct footfall_edge *e);
	void (*close)(struct footfall_source *src);
	/* Free the source (closing it first if needed). */
	void (*destroy)(struct footfall_source *src);
};

/* Drivers embed this as their first member. */
struct footfall_source {
	const struct footfall_source_ops *ops;
	/* UTC ms at ts_us = 0 of the source's clock; set by open. */
	int64_t epoch_utc_ms;
};

/* ---- the simulated driver (source_sim.c) ---- */

struct footfall_sim_params {
	uint64_t seed;
	int64_t start_utc_ms;	/* simulated time the store's day starts from */
	uint32_t doors;		/* 1..FOOTFALL_DOORS_MAX */
	uint64_t fail_every;	/* fail after every N simulated passes; 0 = never */
};

/* Creates a simulated source; *out is freed with (*out)->ops->destroy.
 * Its clock is UTC µs (epoch_utc_ms = 0). Returns 0, -EINVAL or -ENOMEM. */
int footfall_sim_create(const struct footfall_sim_params *p,
			struct footfall_source **out);

#endif /* VT_FOOTFALL_SOURCE_H */
