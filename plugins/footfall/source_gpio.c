/*
 * plugins/footfall/source_gpio.c - beam-break receivers on GPIO lines
 * behind the footfall source interface (source.h).
 *
 * The door map: door n's beams A and B are two lines of a chip; each line
 * is requested from a line provider (gpio_provider.h: libgpiod, or a
 * replayed recording) and its events are read, without blocking, into a
 * small buffer of its own. next_edge hands out the oldest buffered event of
 * any line, up to the horizon: the provider's settled time, before which
 * every event has been queued by the kernel, so edges of different lines
 * come out in time order even though each line is read separately.
 * Electrical edges become beam edges here (active_low: a broken beam pulls
 * its receiver's open-collector output low). At each open, the level each
 * line has is put first in its buffer as an edge, so that the beams start
 * from the real state (the plugin resets them on reopen). What it does not do: debounce
 * or find passes (beams.c) or parse configuration (footfall_conf.c).
 *
 * Lines are read from collect (every 50 ms), not through host->watch_fd:
 * the agent watches at most 8 descriptors per plugin and 16 doors have 32
 * lines, and the kernel queues 16 events per line, room for more than 300
 * edges a second on each line between two reads; past that the kernel
 * drops events and the v1 API does not say so (not detected; README.md).
 * Every event carries its kernel timestamp, so the delay costs no precision.
 */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPIO_BUF 16		/* events buffered per line */
/* A change of the UTC offset smaller than this is clock jitter. */
#define GPIO_EPOCH_SLIP_MS 500

struct gpio_beam {
	struct gpio_line *line;	/* NULL when closed */
	uint32_t door;		/* 1..FOOTFALL_DOORS_MAX */
	uint32_t beam;		/* enum beams_line */
	struct gpio_line_event buf[GPIO_BUF];
	uint32_t head, count;
	/* The horizon up to which the line was read dry: no need to ask the
	 * provider again until the horizon moves. */
	int64_t dry_until;
};

struct footfall_gpio {
	struct footfall_source base;
	struct footfall_gpio_params p;
	struct gpio_provider *prov;
	struct gpio_beam beams[2 * FOOTFALL_DOORS_MAX];
	uint32_t nbeams;
	int64_t last_horizon;
};

static const char *gpio_beam_name(uint32_t beam)
{
	return beam == BEAMS_LINE_A ? "A" : "B";
}

static void gpio_close(struct footfall_source *src)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;

	for (uint32_t i = 0; i < g->nbeams; i++) {
		g->prov->ops->release(g->beams[i].line);
		g->beams[i].line = NULL;
		g->beams[i].count = 0;
	}
}

static int gpio_request(struct footfall_gpio *g, struct gpio_beam *b)
{
	const struct footfall_gpio_door *d = &g->p.door[b->door - 1];
	char why[GPIO_ERR_MAX];
	int rc;

	rc = g->prov->ops->request(g->prov, d->chip, d->line[b->beam], g->p.bias, &b->line,
				   why, sizeof(why));
	if (rc) {
		b->line = NULL;
		snprintf(g->base.error, sizeof(g->base.error),
			 "door %u beam %s: %s; check footfall.door%u", b->door,
			 gpio_beam_name(b->beam), why, b->door);
	}
	return rc;
}

/* The line's level at open as the first edge of its buffer: a beam blocked
 * then is seen as blocked (a repeated level is ignored by beams.c). */
static void gpio_seed_level(struct footfall_gpio *g, struct gpio_beam *b)
{
	int64_t ts_us;
	int level = g->prov->ops->level ? g->prov->ops->level(b->line, &ts_us) : -ENOTSUP;

	if (level < 0)
		return;		/* unknown: taken as clear, as before */
	b->buf[0].ts_us = ts_us;
	b->buf[0].rising = (uint8_t)(level != 0);
	b->count = 1;
}

static int gpio_open(struct footfall_source *src)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;
	int rc = 0;

	g->base.error[0] = '\0';
	for (uint32_t i = 0; i < g->nbeams && !rc; i++) {
		g->beams[i].count = 0;
		g->beams[i].head = 0;
		g->beams[i].dry_until = INT64_MIN;
		rc = gpio_request(g, &g->beams[i]);
	}
	if (rc) {
		gpio_close(src);
		return rc;
	}
	for (uint32_t i = 0; i < g->nbeams; i++)
		gpio_seed_level(g, &g->beams[i]);
	g->base.epoch_utc_ms = g->prov->ops->epoch_utc_ms(g->prov);
	g->last_horizon = INT64_MIN;
	return 0;
}

/* Reads what the provider has queued for b into its buffer. */
static int gpio_fill(struct footfall_gpio *g, struct gpio_beam *b, int64_t horizon_us)
{
	int space = GPIO_BUF - (int)b->count;
	int n = g->prov->ops->read(b->line, horizon_us, b->buf + b->count, space);

	if (n < 0) {
		snprintf(g->base.error, sizeof(g->base.error),
			 "door %u beam %s: reading its line failed (%s)", b->door,
			 gpio_beam_name(b->beam), strerror(-n));
		return n;
	}
	b->count += (uint32_t)n;
	if (n < space)
		b->dry_until = horizon_us;
	return 0;
}

/* A clock step (NTP, RTC) changes the UTC offset of CLOCK_MONOTONIC. */
static void gpio_follow_epoch(struct footfall_gpio *g)
{
	int64_t epoch = g->prov->ops->epoch_utc_ms(g->prov);
	int64_t slip = epoch - g->base.epoch_utc_ms;

	if (slip > GPIO_EPOCH_SLIP_MS || slip < -GPIO_EPOCH_SLIP_MS)
		g->base.epoch_utc_ms = epoch;
}

/* The beam whose oldest buffered event is the oldest of all, up to the
 * horizon, reading dry lines first; NULL when none. */
static int gpio_oldest(struct footfall_gpio *g, int64_t horizon_us, struct gpio_beam **out)
{
	struct gpio_beam *best = NULL;
	int rc;

	for (uint32_t i = 0; i < g->nbeams; i++) {
		struct gpio_beam *b = &g->beams[i];

		if (b->head) {	/* keep the buffer's free space at its end */
			memmove(b->buf, b->buf + b->head, b->count * sizeof(b->buf[0]));
			b->head = 0;
		}
		if (b->count == 0 && b->dry_until != horizon_us) {
			rc = gpio_fill(g, b, horizon_us);
			if (rc)
				return rc;
		}
		if (b->count && b->buf[0].ts_us <= horizon_us &&
		    (!best || b->buf[0].ts_us < best->buf[0].ts_us))
			best = b;
	}
	*out = best;
	return 0;
}

static int gpio_next_edge(struct footfall_source *src, int64_t horizon_us,
			  struct footfall_edge *e)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;
	struct gpio_beam *b;
	struct gpio_line_event *ev;
	int rc;

	g->last_horizon = horizon_us;
	gpio_follow_epoch(g);
	rc = gpio_oldest(g, horizon_us, &b);
	if (rc) {
		gpio_close(src);
		return rc;
	}
	if (!b)
		return 0;
	ev = &b->buf[b->head++];
	b->count--;
	e->door = b->door;
	e->line = b->beam;
	e->edge = (ev->rising == (g->p.active_low != 0)) ? BEAMS_RISING : BEAMS_FALLING;
	e->ts_us = ev->ts_us;
	return 1;
}

static int64_t gpio_settled_us(struct footfall_source *src)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;

	return g->prov->ops->settled_us(g->prov);
}

static int gpio_ended(struct footfall_source *src)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;

	if (!g->prov->ops->ended(g->prov) ||
	    g->prov->ops->settled_us(g->prov) > g->last_horizon)
		return 0;
	for (uint32_t i = 0; i < g->nbeams; i++)
		if (g->beams[i].count)
			return 0;
	return 1;
}

static void gpio_destroy(struct footfall_source *src)
{
	struct footfall_gpio *g = (struct footfall_gpio *)src;

	gpio_close(src);
	g->prov->ops->destroy(g->prov);
	free(g);
}

static const struct footfall_source_ops gpio_ops = {
	.name = "gpio",
	.open = gpio_open,
	.next_edge = gpio_next_edge,
	.close = gpio_close,
	.destroy = gpio_destroy,
	.settled_us = gpio_settled_us,
	.ended = gpio_ended,
};

static int gpio_provider_create(const struct footfall_gpio_params *p,
				struct gpio_provider **out, char *err, size_t errlen)
{
	if (p->replay.path)
		return gpio_replay_create(&p->replay, out, err, errlen);
	return gpio_gpiod_create(out);
}

int footfall_gpio_create(const struct footfall_gpio_params *p,
			 struct footfall_source **out, char *err, size_t errlen)
{
	struct footfall_gpio *g;
	int rc;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->base.ops = &gpio_ops;
	g->p = *p;
	for (uint32_t d = 1; d <= FOOTFALL_DOORS_MAX; d++) {
		if (!p->door[d - 1].chip[0])
			continue;
		g->beams[g->nbeams++] = (struct gpio_beam){ .door = d, .beam = BEAMS_LINE_A };
		g->beams[g->nbeams++] = (struct gpio_beam){ .door = d, .beam = BEAMS_LINE_B };
	}
	rc = -EINVAL;
	if (!g->nbeams) {
		snprintf(err, errlen, "no door configured");
		goto out_free;
	}
	rc = gpio_provider_create(p, &g->prov, err, errlen);
	if (rc)
		goto out_free;
	*out = &g->base;
	return 0;

out_free:
	free(g);
	return rc;
}
