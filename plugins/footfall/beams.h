/*
 * plugins/footfall/beams.h - from beam-break edges to door passes.
 *
 * A pure state machine for one door with two beams, A (street side) and B
 * (shop side), fed with edges (line, falling/rising, time) and with the
 * passing of time (beams_tick). A person walking in breaks A, then B, clears
 * A, then clears B: A-down B-down A-up B-up, B lagging A by some 65-100 ms at
 * 10 cm spacing: a pass IN. B first is a pass OUT. Every other sequence
 * between two moments when both beams are clear is a U-turn and is not a
 * pass. A beam blocked for longer than stuck_us is reported once and the
 * sequence it belongs to is not counted.
 *
 * Edges closer than debounce_us on one line are contact bounce or a
 * flickering receiver: a level counts only once it has held for debounce_us,
 * and it counts from the time of its last raw edge. No I/O, no allocation,
 * no clock of its own: the caller supplies every timestamp (CLOCK_MONOTONIC
 * or simulated, in µs, non-decreasing).
 */
#ifndef VT_FOOTFALL_BEAMS_H
#define VT_FOOTFALL_BEAMS_H

#include <stdint.h>

enum beams_line {
	BEAMS_LINE_A = 0,	/* street side */
	BEAMS_LINE_B = 1,	/* shop side */
};

enum beams_edge {
	BEAMS_FALLING = 0,	/* beam broken: the receiver pulls its line low */
	BEAMS_RISING = 1,	/* beam clear again */
};

enum beams_event_type {
	BEAMS_PASS_IN = 1,
	BEAMS_PASS_OUT = 2,
	BEAMS_UTURN = 3,	/* a sequence that was not a pass */
	BEAMS_STUCK = 4,	/* `line` blocked for longer than stuck_us */
	BEAMS_UNSTUCK = 5,	/* `line` clear again after BEAMS_STUCK */
};

struct beams_event {
	uint32_t type;		/* enum beams_event_type */
	uint32_t line;		/* for STUCK / UNSTUCK */
	int64_t ts_us;		/* when it happened (pass: last beam cleared) */
};

/* The most events one call can return. */
#define BEAMS_MAX_EVENTS 4

struct beams_config {
	int64_t debounce_us;	/* default 5 ms */
	int64_t stuck_us;	/* default 120 s */
	int64_t lag_max_us;	/* longest A-to-B lag of a pass, default 2 s */
};

#define BEAMS_DEBOUNCE_US_DEFAULT 5000
#define BEAMS_STUCK_US_DEFAULT INT64_C(120000000)
#define BEAMS_LAG_MAX_US_DEFAULT 2000000

struct beams_line_state {
	uint8_t level;		/* debounced level: 1 = clear, 0 = blocked */
	uint8_t raw;		/* last raw level */
	uint8_t stuck;		/* reported stuck in this blockage */
	int64_t raw_ts;		/* time of the last raw edge */
	int64_t low_since;	/* when the debounced level fell */
};

struct beams {
	struct beams_config cfg;
	struct beams_line_state line[2];
	int64_t last_ts;
	/* the current sequence: from both beams clear to both clear again */
	uint8_t steps[4];	/* line * 2 + edge */
	int64_t step_ts[4];
	uint8_t nsteps;
	uint8_t overflow;	/* more than four steps: not a pass */
	uint8_t spoiled;	/* a beam got stuck: report nothing */
};

/* Both beams clear, nothing pending. cfg is copied; NULL for defaults. */
void beams_init(struct beams *b, const struct beams_config *cfg);

/* Feed one raw edge. Writes up to BEAMS_MAX_EVENTS events to ev (caused by
 * the passing of time up to ts_us, before this edge) and returns how many. */
int beams_edge(struct beams *b, enum beams_line line, enum beams_edge edge,
	       int64_t ts_us, struct beams_event ev[BEAMS_MAX_EVENTS]);

/* Tell the machine that no edge happened up to now_us: settles debounced
 * levels and detects stuck beams. Returns the number of events written. */
int beams_tick(struct beams *b, int64_t now_us,
	       struct beams_event ev[BEAMS_MAX_EVENTS]);

#endif /* VT_FOOTFALL_BEAMS_H */
