/*
 * plugins/footfall/gpio_replay.c - the replay line provider: a recorded
 * edge sequence (gpio_replay_file.h) played back behind the same interface
 * as the kernel's GPIO lines (gpio_provider.h).
 *
 * The provider's clock is the recording's: t_us = 0 is start_utc_ms. At
 * speed 0 the whole recording has happened at once (settled_us is its end);
 * at speed s it unrolls s times as fast as CLOCK_MONOTONIC from creation.
 * Requests are checked against the chips the file declares, so a missing
 * chip or line gives the same errors as the hardware. A line's starting
 * level is the opposite of its first recorded edge (a line that starts
 * with "rising" was low), at t_us 0. What it does not do:
 * parse (gpio_replay_file.c) or know about doors (source_gpio.c).
 */
#include "gpio_provider.h"
#include "gpio_replay_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A recording larger than this is not a test file. */
#define REPLAY_FILE_MAX (64 * 1024 * 1024)

struct replay {
	struct gpio_provider base;
	struct gpio_replay_params p;
	struct gpio_replay_file file;
	int64_t mono0_us;	/* CLOCK_MONOTONIC at creation */
	uint32_t lines_out;	/* requested, not yet released */
};

struct gpio_line {
	struct replay *r;
	uint16_t chip, line;
	size_t next;		/* index in file.events to look from */
};

static int64_t replay_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t replay_settled_us(struct gpio_provider *p)
{
	struct replay *r = (struct replay *)p;
	double t;

	if (r->p.speed <= 0)
		return r->file.end_us;
	t = (double)(replay_mono_us() - r->mono0_us) * r->p.speed;
	return t >= (double)r->file.end_us ? r->file.end_us : (int64_t)t;
}

static int64_t replay_epoch_utc_ms(struct gpio_provider *p)
{
	return ((struct replay *)p)->p.start_utc_ms;
}

static int replay_ended(struct gpio_provider *p)
{
	struct replay *r = (struct replay *)p;

	return replay_settled_us(p) >= r->file.end_us;
}

static int replay_request(struct gpio_provider *p, const char *chip, uint32_t offset,
			  enum gpio_bias bias, struct gpio_line **out, char *err,
			  size_t errlen)
{
	struct replay *r = (struct replay *)p;
	struct gpio_line *l;
	int c = gpio_replay_file_chip(&r->file, chip);

	(void)bias;
	if (c < 0) {
		snprintf(err, errlen, "%s does not exist (the replay file %s declares no such chip)",
			 chip, r->p.path);
		return -ENODEV;
	}
	if (offset >= r->file.chips[c].lines) {
		snprintf(err, errlen, "%s line %u does not exist (the chip has %u lines)", chip,
			 offset, r->file.chips[c].lines);
		return -ENODEV;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->r = r;
	l->chip = (uint16_t)c;
	l->line = (uint16_t)offset;
	r->lines_out++;
	*out = l;
	return 0;
}

/* The level before the line's first recorded edge: the opposite of that
 * edge, at the start of the recording. A line without edges: unknown. */
static int replay_level(struct gpio_line *l, int64_t *ts_us)
{
	const struct gpio_replay_file *f = &l->r->file;

	*ts_us = 0;
	for (size_t i = 0; i < f->nevents; i++)
		if (f->events[i].chip == l->chip && f->events[i].line == l->line)
			return !f->events[i].rising;
	return -ENODATA;
}

static int replay_read(struct gpio_line *l, int64_t until_us,
		       struct gpio_line_event *ev, int max)
{
	const struct gpio_replay_file *f = &l->r->file;
	int64_t settled = replay_settled_us(&l->r->base);
	int n = 0;

	if (until_us > settled)
		until_us = settled;
	for (; l->next < f->nevents && n < max; l->next++) {
		const struct gpio_replay_event *e = &f->events[l->next];

		if (e->t_us > until_us)
			break;
		if (e->chip != l->chip || e->line != l->line)
			continue;
		ev[n].ts_us = e->t_us;
		ev[n++].rising = e->rising;
	}
	return n;
}

static void replay_release(struct gpio_line *l)
{
	if (!l)
		return;
	l->r->lines_out--;
	free(l);
}

static void replay_destroy(struct gpio_provider *p)
{
	struct replay *r = (struct replay *)p;

	gpio_replay_file_free(&r->file);
	free(r);
}

static const struct gpio_provider_ops replay_ops = {
	.name = "replay",
	.request = replay_request,
	.read = replay_read,
	.level = replay_level,
	.release = replay_release,
	.settled_us = replay_settled_us,
	.epoch_utc_ms = replay_epoch_utc_ms,
	.ended = replay_ended,
	.destroy = replay_destroy,
};

/* The whole file in a malloc'ed buffer; 0 or -errno. */
static int replay_slurp(const char *path, char **text, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long size;
	int rc = -errno;

	if (!fp)
		return rc;
	rc = -EIO;
	if (fseek(fp, 0, SEEK_END) || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET))
		goto out_close;
	rc = -EFBIG;
	if (size > REPLAY_FILE_MAX)
		goto out_close;
	rc = -ENOMEM;
	buf = malloc((size_t)size + 1);
	if (!buf)
		goto out_close;
	rc = -EIO;
	if (fread(buf, 1, (size_t)size, fp) != (size_t)size) {
		free(buf);
		goto out_close;
	}
	*text = buf;
	*len = (size_t)size;
	rc = 0;
out_close:
	fclose(fp);
	return rc;
}

int gpio_replay_create(const struct gpio_replay_params *p,
		       struct gpio_provider **out, char *err, size_t errlen)
{
	char why[GPIO_ERR_MAX];
	struct replay *r;
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = replay_slurp(p->path, &text, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read the replay file %s: %s", p->path,
			 strerror(-rc));
		return rc;
	}
	rc = -ENOMEM;
	r = calloc(1, sizeof(*r));
	if (!r)
		goto out_text;
	rc = gpio_replay_file_parse(text, len, &r->file, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "replay file %s: %s", p->path, why);
		free(r);
		goto out_text;
	}
	r->base.ops = &replay_ops;
	r->p = *p;
	r->mono0_us = replay_mono_us();
	*out = &r->base;
out_text:
	free(text);
	return rc;
}
