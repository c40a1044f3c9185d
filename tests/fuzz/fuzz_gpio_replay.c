/*
 * fuzz_gpio_replay.c - libFuzzer target for the footfall plugin's GPIO
 * replay file parser (plugins/footfall/gpio_replay_file.c). A replay file
 * is a test input, but it may come from a site's recording passed around
 * by hand, so it is parsed as outside input.
 *
 * Checked, with abort():
 * - on error: the message starts with "line ", and nothing is left to free;
 * - on success: at most GPIO_REPLAY_CHIPS_MAX chips, each with 1..1024
 *   lines; every edge names a declared chip and one of its lines; times
 *   never go backwards and the end is not before the last edge;
 * - the parsed file written back in the format parses to the same chips,
 *   edges and end.
 *
 * What this file does not do: the provider's delivery of events
 * (gpio_replay.c), tested in plugins/footfall/footfall_sources_test.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/footfall/gpio_replay_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(const struct gpio_replay_file *f)
{
	int64_t last = 0;

	if (f->nchips > GPIO_REPLAY_CHIPS_MAX)
		abort();
	for (uint32_t i = 0; i < f->nchips; i++)
		if (f->chips[i].lines < 1 || f->chips[i].lines > GPIO_REPLAY_LINES_MAX ||
		    !f->chips[i].name[0])
			abort();
	for (size_t i = 0; i < f->nevents; i++) {
		const struct gpio_replay_event *e = &f->events[i];

		if (e->chip >= f->nchips || e->line >= f->chips[e->chip].lines ||
		    e->t_us < last || e->rising > 1)
			abort();
		last = e->t_us;
	}
	if (f->end_us < last)
		abort();
}

/* The file written back: chips, edges, end. Caller frees. */
static char *fuzz_write(const struct gpio_replay_file *f, size_t *len)
{
	size_t cap = 64 + f->nchips * 48 + f->nevents * 64;
	char *text = malloc(cap);
	size_t n = 0;

	if (!text)
		return NULL;
	for (uint32_t i = 0; i < f->nchips; i++)
		n += (size_t)snprintf(text + n, cap - n, "chip %s %u\n", f->chips[i].name,
				      f->chips[i].lines);
	for (size_t i = 0; i < f->nevents; i++) {
		const struct gpio_replay_event *e = &f->events[i];

		n += (size_t)snprintf(text + n, cap - n, "%lld %s %u %s\n", (long long)e->t_us,
				      f->chips[e->chip].name, e->line,
				      e->rising ? "rising" : "falling");
	}
	n += (size_t)snprintf(text + n, cap - n, "end %lld\n", (long long)f->end_us);
	*len = n;
	return text;
}

static void fuzz_round_trip(const struct gpio_replay_file *f)
{
	struct gpio_replay_file g;
	char err[256];
	size_t len;
	char *text = fuzz_write(f, &len);

	if (!text)
		return;
	if (gpio_replay_file_parse(text, len, &g, err, sizeof(err)) != 0)
		abort();
	if (g.nchips != f->nchips || g.nevents != f->nevents || g.end_us != f->end_us ||
	    memcmp(g.chips, f->chips, sizeof(f->chips)) != 0)
		abort();
	for (size_t i = 0; i < f->nevents; i++)
		if (g.events[i].t_us != f->events[i].t_us || g.events[i].chip != f->events[i].chip ||
		    g.events[i].line != f->events[i].line ||
		    g.events[i].rising != f->events[i].rising)
			abort();
	gpio_replay_file_free(&g);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpio_replay_file f;
	char err[256];
	char *text = malloc(size ? size : 1);
	int rc;

	if (!text)
		return 0;
	/* An exact-size copy without a NUL: the parser is given a length. */
	memcpy(text, data, size);
	rc = gpio_replay_file_parse(text, size, &f, err, sizeof(err));
	if (rc) {
		if (strncmp(err, "line ", 5) != 0 || f.events || f.nevents)
			abort();
	} else {
		fuzz_check(&f);
		fuzz_round_trip(&f);
		gpio_replay_file_free(&f);
	}
	free(text);
	return 0;
}
