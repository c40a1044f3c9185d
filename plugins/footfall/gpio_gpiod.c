/*
 * plugins/footfall/gpio_gpiod.c - the kernel's GPIO lines as a line
 * provider (gpio_provider.h), through libgpiod 1.6 (the v1 character
 * device API of Debian 12).
 *
 * Each requested line opens its own chip handle (a door's two lines may sit
 * on different chips), asks for events on both edges with the requested
 * bias, makes the event descriptor non-blocking so that read never
 * waits, and reads the line's level once (gpiod_line_get_value) so that the
 * driver knows whether a beam is blocked before its first edge. Timestamps: kernels since 5.7 stamp v1 line events with
 * CLOCK_MONOTONIC, older ones with CLOCK_REALTIME; each event is matched to
 * the nearer clock and converted to CLOCK_MONOTONIC µs. The provider's
 * settled time is now minus GPIOD_SETTLE_US, the time the kernel may take
 * from stamping an edge to queueing it. What it does not do: debounce or
 * interpret edges (beams.c, source_gpio.c).
 */
#include "gpio_provider.h"

#include <gpiod.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GPIOD_CONSUMER "vitrine-footfall"
/* Edge stamped in the hard interrupt, queued by the interrupt thread. */
#define GPIOD_SETTLE_US 20000
#define GPIOD_READ_MAX 16	/* the kernel queues 16 events per line */

struct gpio_line {
	struct gpiod_chip *chip;
	struct gpiod_line *line;
	int level;		/* read just after the request; -errno if not */
	int64_t level_us;	/* CLOCK_MONOTONIC before the request */
};

static int64_t gpiod_clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void gpiod_open_error(const char *chip, int err, char *buf, size_t len)
{
	if (err == ENOENT || err == ENODEV)
		snprintf(buf, len,
			 "%s does not exist (no /dev/%s and no chip with that label or number); "
			 "check that the GPIO driver is loaded (gpiodetect lists the chips)",
			 chip, chip);
	else if (err == EACCES || err == EPERM)
		snprintf(buf, len,
			 "cannot open %s (permission denied); the agent's user needs read access "
			 "to /dev/gpiochip* (on Raspberry Pi OS: the gpio group)", chip);
	else
		snprintf(buf, len, "cannot open %s (%s)", chip, strerror(err));
}

static int gpiod_flags(enum gpio_bias bias)
{
	switch (bias) {
	case GPIO_BIAS_DISABLED:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
	case GPIO_BIAS_PULL_UP:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
	case GPIO_BIAS_PULL_DOWN:
		return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
	default:
		return 0;
	}
}

static void gpiod_request_error(struct gpio_line *l, const char *chip, uint32_t offset,
				enum gpio_bias bias, int err, char *buf, size_t len)
{
	const char *holder = gpiod_line_consumer(l->line);

	if (err == EBUSY)
		snprintf(buf, len, "%s line %u is in use by %s; stop that program or pick another line",
			 chip, offset, holder ? holder : "another program");
	else if (err == EINVAL && bias != GPIO_BIAS_AS_IS)
		snprintf(buf, len,
			 "%s line %u refused edge events with that bias (%s); a kernel before 5.5 "
			 "cannot set it: set footfall.bias as-is and fit external pull-ups",
			 chip, offset, strerror(err));
	else
		snprintf(buf, len, "%s line %u refused edge events (%s)", chip, offset,
			 strerror(err));
}

static int gpiod_request(struct gpio_provider *p, const char *chip, uint32_t offset,
			 enum gpio_bias bias, struct gpio_line **out, char *err,
			 size_t errlen)
{
	struct gpio_line *l;
	unsigned int nlines;
	int rc, fd, fl;

	(void)p;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	errno = 0;
	l->chip = gpiod_chip_open_lookup(chip);
	if (!l->chip) {
		rc = errno ? errno : ENODEV;
		gpiod_open_error(chip, rc, err, errlen);
		rc = rc == ENOENT ? -ENODEV : -rc;
		goto out_free;
	}
	nlines = gpiod_chip_num_lines(l->chip);
	if (offset >= nlines) {
		snprintf(err, errlen, "%s line %u does not exist (the chip has %u lines)", chip,
			 offset, nlines);
		rc = -ENODEV;
		goto out_chip;
	}
	l->line = gpiod_chip_get_line(l->chip, offset);
	if (!l->line) {
		rc = -errno;
		snprintf(err, errlen, "%s line %u: %s", chip, offset, strerror(errno));
		goto out_chip;
	}
	/* Before the request: every event queued later is stamped after it. */
	l->level_us = gpiod_clock_us(CLOCK_MONOTONIC);
	if (gpiod_line_request_both_edges_events_flags(l->line, GPIOD_CONSUMER,
						       gpiod_flags(bias)) < 0) {
		rc = -errno;
		gpiod_request_error(l, chip, offset, bias, errno, err, errlen);
		goto out_chip;
	}
	fd = gpiod_line_event_get_fd(l->line);
	fl = fd < 0 ? -1 : fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s line %u: cannot make its events non-blocking (%s)",
			 chip, offset, strerror(errno));
		goto out_release;
	}
	/* The level the line starts at, for the beams (an edge since the
	 * request only repeats it). */
	l->level = gpiod_line_get_value(l->line);
	if (l->level < 0)
		l->level = -errno;
	*out = l;
	return 0;

out_release:
	gpiod_line_release(l->line);
out_chip:
	gpiod_chip_close(l->chip);
out_free:
	free(l);
	return rc;
}

/* The kernel's timestamp as CLOCK_MONOTONIC µs, whichever clock it used. */
static int64_t gpiod_event_us(const struct timespec *ts, int64_t mono, int64_t real)
{
	int64_t t = (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
	int64_t d_mono = t > mono ? t - mono : mono - t;
	int64_t d_real = t > real ? t - real : real - t;

	return d_real < d_mono ? t - (real - mono) : t;
}

static int gpiod_read(struct gpio_line *l, int64_t until_us,
		      struct gpio_line_event *ev, int max)
{
	struct gpiod_line_event raw[GPIOD_READ_MAX];
	int64_t mono, real;
	int n;

	(void)until_us;
	if (max > GPIOD_READ_MAX)
		max = GPIOD_READ_MAX;
	n = gpiod_line_event_read_multiple(l->line, raw, (unsigned int)max);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	mono = gpiod_clock_us(CLOCK_MONOTONIC);
	real = gpiod_clock_us(CLOCK_REALTIME);
	for (int i = 0; i < n; i++) {
		ev[i].ts_us = gpiod_event_us(&raw[i].ts, mono, real);
		ev[i].rising = raw[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
	}
	return n;
}

static int gpiod_level(struct gpio_line *l, int64_t *ts_us)
{
	*ts_us = l->level_us;
	return l->level;
}

static void gpiod_release(struct gpio_line *l)
{
	if (!l)
		return;
	gpiod_line_release(l->line);
	gpiod_chip_close(l->chip);
	free(l);
}

static int64_t gpiod_settled_us(struct gpio_provider *p)
{
	(void)p;
	return gpiod_clock_us(CLOCK_MONOTONIC) - GPIOD_SETTLE_US;
}

static int64_t gpiod_epoch_utc_ms(struct gpio_provider *p)
{
	(void)p;
	return (gpiod_clock_us(CLOCK_REALTIME) - gpiod_clock_us(CLOCK_MONOTONIC)) / 1000;
}

static int gpiod_ended(struct gpio_provider *p)
{
	(void)p;
	return 0;
}

static void gpiod_destroy(struct gpio_provider *p)
{
	free(p);
}

static const struct gpio_provider_ops gpiod_ops = {
	.name = "gpiod",
	.request = gpiod_request,
	.read = gpiod_read,
	.level = gpiod_level,
	.release = gpiod_release,
	.settled_us = gpiod_settled_us,
	.epoch_utc_ms = gpiod_epoch_utc_ms,
	.ended = gpiod_ended,
	.destroy = gpiod_destroy,
};

int gpio_gpiod_create(struct gpio_provider **out)
{
	struct gpio_provider *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->ops = &gpiod_ops;
	*out = p;
	return 0;
}
