/*
 * plugins/footfall/source.h - where beam-break edges come from.
 *
 * A source delivers the raw edges of the two beams of every door, oldest
 * first across all doors, each with the time it happened on the source's
 * clock. It knows nothing of passes (beams.c turns edges into passes).
 * Drivers: source_sim.c (simulated doors, for demos and tests) and
 * source_gpio.c (beam-break receivers on GPIO lines: edge events with the
 * kernel's timestamps through libgpiod, or a recorded sequence replayed,
 * behind gpio_provider.h). Because every edge carries the time it happened,
 * polling the source every collect interval loses no precision.
 * Single-threaded: the agent's poll loop only.
 */
#ifndef VT_FOOTFALL_SOURCE_H
#define VT_FOOTFALL_SOURCE_H

#include <stdint.h>

#include "beams.h"
#include "gpio_provider.h"

#define FOOTFALL_DOORS_MAX 16
#define FOOTFALL_ERROR_MAX 256

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
	 * open again). */
	int (*next_edge)(struct footfall_source *src, int64_t horizon_us,
			 struct footfall_edge *e);
	void (*close)(struct footfall_source *src);
	/* Free the source (closing it first if needed). */
	void (*destroy)(struct footfall_source *src);
	/* Optional (an open source that keeps its own time, like the GPIO
	 * driver): the time on the source's clock up to which every edge that
	 * happened can be read. The plugin passes it to next_edge as
	 * horizon_us and, once next_edge returns 0, settles the doors up to
	 * it. NULL: the plugin paces the source with its simulated clock
	 * (start, speed). */
	int64_t (*settled_us)(struct footfall_source *src);
	/* Optional: 1 when an open source will never deliver another edge (a
	 * replay past its end); the plugin then finishes. */
	int (*ended)(struct footfall_source *src);
};

/* Drivers embed this as their first member. */
struct footfall_source {
	const struct footfall_source_ops *ops;
	/* UTC ms at ts_us = 0 of the source's clock; set by open, and kept
	 * up to date by a source whose UTC offset can change. */
	int64_t epoch_utc_ms;
	/* Why the last open or next_edge failed, for the operator's log
	 * ("" when the error code says it all). */
	char error[FOOTFALL_ERROR_MAX];
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

/* ---- the GPIO driver (source_gpio.c) ---- */

/* One door's beams: line numbers of beam A and beam B on a chip. */
struct footfall_gpio_door {
	char chip[64];		/* "" = door not configured */
	uint32_t line[2];	/* indexed by enum beams_line */
};

struct footfall_gpio_params {
	struct footfall_gpio_door door[FOOTFALL_DOORS_MAX];	/* door n at [n-1] */
	int active_low;		/* 1: a broken beam pulls its line low */
	enum gpio_bias bias;
	/* The replay provider instead of libgpiod when replay.path is set
	 * (borrowed, lives as long as the source). */
	struct gpio_replay_params replay;
};

/* Creates the GPIO source and its line provider (a replay file is read and
 * checked now); lines are requested by open, which fails with -ENODEV and
 * an error naming door, chip, line and config key when one does not
 * exist. *out is freed with (*out)->ops->destroy. 0, or -errno with the
 * reason in err (no door, an unreadable or invalid replay file). */
int footfall_gpio_create(const struct footfall_gpio_params *p,
			 struct footfall_source **out, char *err, size_t errlen);

#endif /* VT_FOOTFALL_SOURCE_H */
