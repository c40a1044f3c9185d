/*
 * plugins/footfall/beams.c - the door-pass state machine (see beams.h).
 *
 * Three layers, each a small function: debounce (a raw level becomes the
 * debounced level once it has held for debounce_us), the sequence of
 * debounced steps between two "both clear" moments, and the classification
 * of a finished sequence. Stuck detection watches the debounced levels.
 */
#include "beams.h"

#include <stddef.h>

#define STEP(line, edge) ((uint8_t)((line) * 2 + (edge)))

static const uint8_t beams_in[4] = {
	STEP(BEAMS_LINE_A, BEAMS_FALLING), STEP(BEAMS_LINE_B, BEAMS_FALLING),
	STEP(BEAMS_LINE_A, BEAMS_RISING), STEP(BEAMS_LINE_B, BEAMS_RISING),
};

static const uint8_t beams_out[4] = {
	STEP(BEAMS_LINE_B, BEAMS_FALLING), STEP(BEAMS_LINE_A, BEAMS_FALLING),
	STEP(BEAMS_LINE_B, BEAMS_RISING), STEP(BEAMS_LINE_A, BEAMS_RISING),
};

void beams_init(struct beams *b, const struct beams_config *cfg)
{
	static const struct beams_config defaults = {
		.debounce_us = BEAMS_DEBOUNCE_US_DEFAULT,
		.stuck_us = BEAMS_STUCK_US_DEFAULT,
		.lag_max_us = BEAMS_LAG_MAX_US_DEFAULT,
	};

	*b = (struct beams){ .cfg = cfg ? *cfg : defaults };
	for (int i = 0; i < 2; i++) {
		b->line[i].level = 1;
		b->line[i].raw = 1;
	}
}

static void beams_push(struct beams_event *ev, int *n, uint32_t type,
		       uint32_t line, int64_t ts)
{
	ev[*n] = (struct beams_event){ .type = type, .line = line, .ts_us = ts };
	(*n)++;
}

static int beams_same(const struct beams *b, const uint8_t *want)
{
	for (int i = 0; i < 4; i++)
		if (b->steps[i] != want[i])
			return 0;
	return 1;
}

/* Both beams are clear again: what was the sequence? */
static uint32_t beams_classify(const struct beams *b)
{
	int64_t lag = b->step_ts[1] - b->step_ts[0];

	if (b->overflow || b->nsteps != 4 || lag <= 0 || lag > b->cfg.lag_max_us)
		return BEAMS_UTURN;
	if (beams_same(b, beams_in))
		return BEAMS_PASS_IN;
	if (beams_same(b, beams_out))
		return BEAMS_PASS_OUT;
	return BEAMS_UTURN;
}

static void beams_finish(struct beams *b, int64_t ts, struct beams_event *ev,
			 int *n)
{
	if (!b->spoiled)
		beams_push(ev, n, beams_classify(b), 0, ts);
	b->nsteps = 0;
	b->overflow = 0;
	b->spoiled = 0;
}

/* The debounced level of `line` changes at its last raw edge. */
static void beams_commit(struct beams *b, int line, struct beams_event *ev,
			 int *n)
{
	struct beams_line_state *l = &b->line[line];
	int64_t ts = l->raw_ts;

	l->level = l->raw;
	if (!l->level) {
		l->low_since = ts;
	} else if (l->stuck) {
		l->stuck = 0;
		beams_push(ev, n, BEAMS_UNSTUCK, (uint32_t)line, ts);
	}
	if (b->nsteps < 4) {
		b->steps[b->nsteps] = STEP(line, l->level);
		b->step_ts[b->nsteps++] = ts;
	} else {
		b->overflow = 1;
	}
	if (b->line[0].level && b->line[1].level)
		beams_finish(b, ts, ev, n);
}

static int beams_settled(const struct beams *b, int line, int64_t now)
{
	const struct beams_line_state *l = &b->line[line];

	return l->raw != l->level && now - l->raw_ts >= b->cfg.debounce_us;
}

static void beams_check_stuck(struct beams *b, int line, int64_t now,
			      struct beams_event *ev, int *n)
{
	struct beams_line_state *l = &b->line[line];

	if (l->level || l->stuck || now - l->low_since <= b->cfg.stuck_us)
		return;
	l->stuck = 1;
	b->spoiled = 1;
	beams_push(ev, n, BEAMS_STUCK, (uint32_t)line, now);
}

int beams_tick(struct beams *b, int64_t now_us,
	       struct beams_event ev[BEAMS_MAX_EVENTS])
{
	int first, n = 0;

	if (now_us < b->last_ts)
		now_us = b->last_ts;
	b->last_ts = now_us;
	/* Settle the older pending change first: steps keep their order. */
	first = b->line[1].raw_ts < b->line[0].raw_ts;
	if (beams_settled(b, first, now_us))
		beams_commit(b, first, ev, &n);
	if (beams_settled(b, !first, now_us))
		beams_commit(b, !first, ev, &n);
	beams_check_stuck(b, BEAMS_LINE_A, now_us, ev, &n);
	beams_check_stuck(b, BEAMS_LINE_B, now_us, ev, &n);
	return n;
}

int beams_edge(struct beams *b, enum beams_line line, enum beams_edge edge,
	       int64_t ts_us, struct beams_event ev[BEAMS_MAX_EVENTS])
{
	struct beams_line_state *l;
	int n;

	if (line != BEAMS_LINE_A && line != BEAMS_LINE_B)
		return 0;
	n = beams_tick(b, ts_us, ev);
	l = &b->line[line];
	if (l->raw == (uint8_t)edge)
		return n;	/* no change of level: a repeated edge */
	l->raw = (uint8_t)edge;
	l->raw_ts = b->last_ts;
	return n;
}
