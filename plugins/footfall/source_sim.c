/*
 * plugins/footfall/source_sim.c - simulated door beams behind the footfall
 * source interface.
 *
 * A boutique day: open Mon-Sat 10:00-19:00 and Sun 12:00-18:00 (store time
 * = UTC), nobody at night. Groups of 1 to 6 arrive at random (a Poisson
 * process whose rate peaks at lunchtime and after work, and on Saturdays),
 * walk in through a door one after the other, stay 4 to 40 minutes and walk
 * out through any door. Some passers-by only look in (U-turns), beams
 * bounce now and then, and about one arrival in 500 is a box left in the
 * doorway that blocks a beam for minutes (a stuck beam).
 *
 * Movements (arrivals, departures) are generated in time order and expanded
 * into beam edges queued per door; next_edge hands out the oldest queued edge
 * of any door. Everything is a function of the parameters: no clock, no
 * rand(), no allocation after create. fail_every makes next_edge fail after
 * every N passes without losing or repeating an edge.
 */
#include "source.h"

#include "common/sim_link.h"
#include "common/sim_rng.h"
#include "common/store_hours.h"

#include <errno.h>
#include <stdlib.h>

#define SIM_QUEUE 512		/* edges queued per door */
#define SIM_PERSON_EDGES 8	/* 4 edges and up to 2 bounces of 2 */
#define SIM_EXITS 1024		/* groups inside the store */
#define SIM_GROUPS_PER_HOUR 14.0
#define SIM_UTURN_PER_MILLE 120
#define SIM_STUCK_PER_MILLE 2
#define SIM_BOUNCE_ONE_IN 25
#define SIM_S INT64_C(1000000)	/* one second in µs */
#define SIM_MIN (60 * SIM_S)

struct sim_edge {
	struct footfall_edge e;
	uint32_t ends_pass;	/* last edge of a full pass (for fail_every) */
};

struct sim_door {
	uint64_t rng;
	uint32_t head, count;
	int64_t busy_until_us;	/* time of the last queued edge */
	struct sim_edge q[SIM_QUEUE];
};

struct sim_exit {
	int64_t t_us;
	uint32_t people;
};

struct footfall_sim {
	struct footfall_source base;
	struct footfall_sim_params p;
	struct vp_sim_link link;
	uint64_t rng;		/* arrivals and departures */
	int64_t next_arrival_us;
	uint32_t nexits;
	struct sim_exit exits[SIM_EXITS];	/* min-heap on t_us */
	struct sim_door doors[];
};

/* ---- the store's hours, in µs ------------------------------------------ */

/* The earliest time >= t_us at which the store is open. */
static int64_t sim_next_open_us(int64_t t_us)
{
	int64_t ms = t_us / 1000, open = vp_store_next_open_ms(ms);

	return open == ms ? t_us : open * 1000;
}

static int64_t sim_close_us(int64_t t_us)
{
	return vp_store_close_ms(t_us / 1000) * 1000;
}

static double sim_groups_per_hour(int64_t t_us)
{
	int64_t ms = t_us / 1000, hour = ms % VP_DAY_MS / VP_HOUR_MS;
	double rate = SIM_GROUPS_PER_HOUR;

	if (hour == 12 || hour == 13)
		rate *= 2.2;		/* lunchtime peak */
	else if (hour >= 17)
		rate *= 1.5;		/* after work */
	else if (hour == 10)
		rate *= 0.6;		/* quiet first hour */
	if (vp_store_weekday(ms) == 6)
		rate *= 1.4;		/* Saturday */
	return rate;
}

static int64_t sim_next_arrival(struct footfall_sim *s, int64_t t_us)
{
	for (;;) {
		double u = vp_rng_unit(&s->rng);
		int64_t gap;

		t_us = sim_next_open_us(t_us);
		gap = (int64_t)(vp_rng_exp(u) / sim_groups_per_hour(t_us) * 3.6e9);
		if (t_us + gap < sim_close_us(t_us))
			return t_us + gap;
		t_us = sim_close_us(t_us);
	}
}

/* ---- groups inside the store (min-heap of departures) ------------------ */

static void sim_exit_swap(struct sim_exit *a, struct sim_exit *b)
{
	struct sim_exit t = *a;

	*a = *b;
	*b = t;
}

static void sim_exit_push(struct footfall_sim *s, int64_t t_us, uint32_t people)
{
	uint32_t i = s->nexits;

	if (i == SIM_EXITS)
		return;		/* store full: this group never leaves */
	s->exits[s->nexits++] = (struct sim_exit){ t_us, people };
	while (i && s->exits[(i - 1) / 2].t_us > s->exits[i].t_us) {
		sim_exit_swap(&s->exits[(i - 1) / 2], &s->exits[i]);
		i = (i - 1) / 2;
	}
}

static struct sim_exit sim_exit_pop(struct footfall_sim *s)
{
	struct sim_exit top = s->exits[0];
	uint32_t i = 0;

	s->exits[0] = s->exits[--s->nexits];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->nexits && s->exits[l].t_us < s->exits[m].t_us)
			m = l;
		if (r < s->nexits && s->exits[r].t_us < s->exits[m].t_us)
			m = r;
		if (m == i)
			return top;
		sim_exit_swap(&s->exits[i], &s->exits[m]);
		i = m;
	}
}

/* ---- edges queued per door --------------------------------------------- */

static void sim_put(struct sim_door *d, uint32_t door, uint32_t line,
		    uint32_t edge, int64_t ts, uint32_t ends_pass)
{
	struct sim_edge *q = &d->q[(d->head + d->count++) % SIM_QUEUE];

	q->e = (struct footfall_edge){ door, line, edge, ts };
	q->ends_pass = ends_pass;
	d->busy_until_us = ts;
}

/* Queue an edge, sometimes followed by a sub-millisecond bounce. */
static void sim_queue(struct sim_door *d, uint32_t door, uint32_t line,
		      uint32_t edge, int64_t ts, uint32_t ends_pass)
{
	sim_put(d, door, line, edge, ts, ends_pass);
	if (edge != BEAMS_FALLING || vp_rng_next(&d->rng) % SIM_BOUNCE_ONE_IN)
		return;
	sim_put(d, door, line, BEAMS_RISING, ts + 200, 0);
	sim_put(d, door, line, BEAMS_FALLING, ts + 700, 0);
}

static int sim_room(const struct sim_door *d)
{
	return d->count + SIM_PERSON_EDGES <= SIM_QUEUE;
}

/* When the next person can step into the door (after whoever is in it). */
static int64_t sim_door_free(struct sim_door *d, int64_t t_us)
{
	int64_t free_at = d->busy_until_us + vp_rng_range(&d->rng, 300000, 1000000);

	return t_us > free_at ? t_us : free_at;
}

/* One person walking through: returns when the last beam clears. */
static int64_t sim_person(struct sim_door *d, uint32_t door, int64_t t, int in)
{
	uint32_t first = in ? BEAMS_LINE_A : BEAMS_LINE_B, second = !first;
	int64_t lag1 = vp_rng_range(&d->rng, 65000, 100000);
	int64_t hold = vp_rng_range(&d->rng, 250000, 600000);
	int64_t lag2 = vp_rng_range(&d->rng, 65000, 100000);

	sim_queue(d, door, first, BEAMS_FALLING, t, 0);
	sim_queue(d, door, second, BEAMS_FALLING, t + lag1, 0);
	sim_queue(d, door, first, BEAMS_RISING, t + hold, 0);
	sim_queue(d, door, second, BEAMS_RISING, t + hold + lag2, 1);
	return t + hold + lag2;
}

/* A group walks through door `door` one by one; returns when the last is through. */
static int64_t sim_group(struct footfall_sim *s, uint32_t door, int64_t t,
			 uint32_t people, int in)
{
	struct sim_door *d = &s->doors[door - 1];

	t = sim_door_free(d, t);
	for (uint32_t i = 0; i < people && sim_room(d); i++) {
		t = sim_person(d, door, t, in);
		t += vp_rng_range(&d->rng, 150000, 1200000);
	}
	return t;
}

/* Someone looks in and turns back: beams break but there is no pass. */
static void sim_uturn(struct footfall_sim *s, uint32_t door, int64_t t)
{
	struct sim_door *d = &s->doors[door - 1];
	uint32_t first = vp_rng_next(&d->rng) % 10 < 7 ? BEAMS_LINE_A : BEAMS_LINE_B;

	t = sim_door_free(d, t);
	if (!sim_room(d))
		return;
	sim_queue(d, door, first, BEAMS_FALLING, t, 0);
	if (vp_rng_next(&d->rng) % 10 < 6) {
		sim_queue(d, door, first, BEAMS_RISING,
			  t + vp_rng_range(&d->rng, 150000, 500000), 0);
		return;
	}
	t += vp_rng_range(&d->rng, 65000, 100000);
	sim_queue(d, door, !first, BEAMS_FALLING, t, 0);
	t += vp_rng_range(&d->rng, 100000, 300000);
	sim_queue(d, door, !first, BEAMS_RISING, t, 0);
	sim_queue(d, door, first, BEAMS_RISING, t + vp_rng_range(&d->rng, 50000, 150000), 0);
}

/* A box left in the doorway: one beam blocked for minutes. */
static void sim_stuck(struct footfall_sim *s, uint32_t door, int64_t t)
{
	struct sim_door *d = &s->doors[door - 1];
	uint32_t line = (uint32_t)(vp_rng_next(&d->rng) % 2);

	t = sim_door_free(d, t);
	if (!sim_room(d))
		return;
	sim_queue(d, door, line, BEAMS_FALLING, t, 0);
	sim_queue(d, door, line, BEAMS_RISING,
		  t + vp_rng_range(&d->rng, 150 * SIM_S, 600 * SIM_S), 0);
}

/* ---- movements: arrivals and departures in time order ------------------ */

static uint32_t sim_group_size(struct footfall_sim *s)
{
	uint64_t roll = vp_rng_next(&s->rng) % 100;

	if (roll < 50)
		return 1;
	if (roll < 75)
		return 2;
	return 3 + (uint32_t)(vp_rng_next(&s->rng) % 4);	/* 3..6 */
}

static void sim_arrival(struct footfall_sim *s, int64_t t)
{
	uint32_t door = 1 + (uint32_t)(vp_rng_next(&s->rng) % s->p.doors);
	uint64_t roll = vp_rng_next(&s->rng) % 1000;
	uint32_t people;
	int64_t inside, leave, latest;

	if (roll < SIM_STUCK_PER_MILLE) {
		sim_stuck(s, door, t);
		return;
	}
	if (roll < SIM_STUCK_PER_MILLE + SIM_UTURN_PER_MILLE) {
		sim_uturn(s, door, t);
		return;
	}
	people = sim_group_size(s);
	inside = sim_group(s, door, t, people, 1);
	leave = inside + vp_rng_range(&s->rng, 4 * SIM_MIN, 40 * SIM_MIN);
	latest = sim_close_us(t) + 15 * SIM_MIN;
	if (leave > latest)
		leave = latest - vp_rng_range(&s->rng, 0, 10 * SIM_MIN);
	sim_exit_push(s, leave > inside ? leave : inside, people);
}

static int64_t sim_next_move_us(const struct footfall_sim *s)
{
	if (s->nexits && s->exits[0].t_us < s->next_arrival_us)
		return s->exits[0].t_us;
	return s->next_arrival_us;
}

static void sim_move(struct footfall_sim *s)
{
	int64_t t = s->next_arrival_us;

	if (s->nexits && s->exits[0].t_us < t) {
		struct sim_exit x = sim_exit_pop(s);
		uint32_t door = 1 + (uint32_t)(vp_rng_next(&s->rng) % s->p.doors);

		sim_group(s, door, x.t_us, x.people, 0);
		return;
	}
	s->next_arrival_us = sim_next_arrival(s, t);
	sim_arrival(s, t);
}

static struct sim_door *sim_oldest_door(struct footfall_sim *s)
{
	struct sim_door *best = NULL;

	for (uint32_t i = 0; i < s->p.doors; i++) {
		struct sim_door *d = &s->doors[i];

		if (d->count && (!best || d->q[d->head].e.ts_us <
						  best->q[best->head].e.ts_us))
			best = d;
	}
	return best;
}

/* The door holding the oldest edge, once no movement can queue an older one. */
static struct sim_door *sim_earliest(struct footfall_sim *s)
{
	for (;;) {
		struct sim_door *d = sim_oldest_door(s);

		if (d && d->q[d->head].e.ts_us < sim_next_move_us(s))
			return d;
		sim_move(s);
	}
}

/* ---- the source ops ----------------------------------------------------- */

static int sim_next_edge(struct footfall_source *src, int64_t horizon_us,
			 struct footfall_edge *e)
{
	struct footfall_sim *s = (struct footfall_sim *)src;
	struct sim_door *d;
	struct sim_edge *head;
	int rc;

	rc = vp_sim_link_check(&s->link);
	if (rc)
		return rc;
	d = sim_earliest(s);
	head = &d->q[d->head];
	if (head->e.ts_us > horizon_us)
		return 0;
	*e = head->e;
	s->link.since_fail += head->ends_pass;
	d->head = (d->head + 1) % SIM_QUEUE;
	d->count--;
	return 1;
}

static int sim_open(struct footfall_source *src)
{
	struct footfall_sim *s = (struct footfall_sim *)src;

	s->link.open = 1;
	s->base.epoch_utc_ms = 0;
	return 0;
}

static void sim_close(struct footfall_source *src)
{
	((struct footfall_sim *)src)->link.open = 0;
}

static void sim_destroy(struct footfall_source *src)
{
	free(src);
}

static const struct footfall_source_ops sim_ops = {
	.name = "sim",
	.open = sim_open,
	.next_edge = sim_next_edge,
	.close = sim_close,
	.destroy = sim_destroy,
};

int footfall_sim_create(const struct footfall_sim_params *p,
			struct footfall_source **out)
{
	struct footfall_sim *s;

	if (p->doors < 1 || p->doors > FOOTFALL_DOORS_MAX || p->start_utc_ms < 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s) + p->doors * sizeof(s->doors[0]));
	if (!s)
		return -ENOMEM;
	s->base.ops = &sim_ops;
	s->p = *p;
	s->link.fail_every = p->fail_every;
	s->rng = p->seed;
	for (uint32_t i = 0; i < p->doors; i++) {
		s->doors[i].rng = vp_rng_stream(p->seed, i);
		s->doors[i].busy_until_us = p->start_utc_ms * 1000;
	}
	s->next_arrival_us = sim_next_arrival(s, p->start_utc_ms * 1000);
	*out = &s->base;
	return 0;
}
