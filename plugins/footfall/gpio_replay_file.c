/*
 * plugins/footfall/gpio_replay_file.c - parser of the GPIO replay file
 * (format in gpio_replay_file.h).
 *
 * Splits the text into lines, each line into at most five fields, and
 * checks every field against the format before anything is stored. What it
 * does not do: read files or deliver events (gpio_replay.c does).
 */
#include "gpio_replay_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_FIELDS_MAX 5

struct replay_parser {
	struct gpio_replay_file *f;
	size_t cap;		/* events allocated */
	unsigned long lineno;
	int have_end;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int replay_bad(struct replay_parser *ps, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "line %lu: %s", ps->lineno, what);
	return -EINVAL;
}

/* Decimal digits only, no sign, value <= max. */
static int replay_number(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

static int replay_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= GPIO_REPLAY_CHIP_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

int gpio_replay_file_chip(const struct gpio_replay_file *f, const char *name)
{
	for (uint32_t i = 0; i < f->nchips; i++)
		if (!strcmp(f->chips[i].name, name))
			return (int)i;
	return -1;
}

static int64_t replay_last_t(const struct gpio_replay_file *f)
{
	return f->nevents ? f->events[f->nevents - 1].t_us : 0;
}

static int replay_chip(struct replay_parser *ps, char **fld, int n)
{
	struct gpio_replay_file *f = ps->f;
	struct gpio_replay_chip *c;
	int64_t lines;

	if (n != 3)
		return replay_bad(ps, "expected \"chip <name> <lines>\"");
	if (!replay_name_ok(fld[1]))
		return replay_bad(ps, "chip name must be 1-%d letters, digits or _-.",
				  GPIO_REPLAY_CHIP_NAME_MAX - 1);
	if (gpio_replay_file_chip(f, fld[1]) >= 0)
		return replay_bad(ps, "chip %s declared twice", fld[1]);
	if (f->nchips == GPIO_REPLAY_CHIPS_MAX)
		return replay_bad(ps, "more than %d chips", GPIO_REPLAY_CHIPS_MAX);
	if (replay_number(fld[2], GPIO_REPLAY_LINES_MAX, &lines) || lines < 1)
		return replay_bad(ps, "line count must be 1..%d", GPIO_REPLAY_LINES_MAX);
	c = &f->chips[f->nchips++];
	snprintf(c->name, sizeof(c->name), "%s", fld[1]);
	c->lines = (uint32_t)lines;
	return 0;
}

static int replay_end(struct replay_parser *ps, char **fld, int n)
{
	int64_t t;

	if (n != 2 || replay_number(fld[1], GPIO_REPLAY_T_MAX, &t))
		return replay_bad(ps, "expected \"end <t_us>\" with t_us in 0..10^15");
	if (ps->have_end)
		return replay_bad(ps, "a second end");
	if (t < replay_last_t(ps->f))
		return replay_bad(ps, "end %lld is before the last edge",
				  (long long)t);
	ps->have_end = 1;
	ps->f->end_us = t;
	return 0;
}

static int replay_push(struct replay_parser *ps, const struct gpio_replay_event *ev)
{
	struct gpio_replay_file *f = ps->f;

	if (f->nevents == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct gpio_replay_event *grown;

		if (cap > GPIO_REPLAY_EVENTS_MAX)
			cap = GPIO_REPLAY_EVENTS_MAX;
		grown = realloc(f->events, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		f->events = grown;
		ps->cap = cap;
	}
	f->events[f->nevents++] = *ev;
	return 0;
}

static int replay_edge(struct replay_parser *ps, char **fld, int n)
{
	struct gpio_replay_event ev = { 0 };
	int64_t t, line;
	int chip;

	if (n != 4)
		return replay_bad(ps, "expected \"<t_us> <chip> <line> rising|falling\"");
	if (replay_number(fld[0], GPIO_REPLAY_T_MAX, &t))
		return replay_bad(ps, "time must be µs in 0..10^15");
	if (ps->have_end)
		return replay_bad(ps, "an edge after end");
	if (t < replay_last_t(ps->f))
		return replay_bad(ps, "time %lld is before the previous edge's",
				  (long long)t);
	chip = gpio_replay_file_chip(ps->f, fld[1]);
	if (chip < 0)
		return replay_bad(ps, "chip %.40s not declared (add \"chip %.40s <lines>\" before)",
				  fld[1], fld[1]);
	if (replay_number(fld[2], GPIO_REPLAY_LINES_MAX, &line) ||
	    line >= ps->f->chips[chip].lines)
		return replay_bad(ps, "line must be 0..%u on chip %s",
				  ps->f->chips[chip].lines - 1, ps->f->chips[chip].name);
	if (strcmp(fld[3], "rising") && strcmp(fld[3], "falling"))
		return replay_bad(ps, "edge must be rising or falling");
	if (ps->f->nevents == GPIO_REPLAY_EVENTS_MAX)
		return replay_bad(ps, "more than %d edges", GPIO_REPLAY_EVENTS_MAX);
	ev.t_us = t;
	ev.chip = (uint16_t)chip;
	ev.line = (uint16_t)line;
	ev.rising = fld[3][0] == 'r';
	return replay_push(ps, &ev);
}

/* One text line, NUL-terminated, without its newline. */
static int replay_line(struct replay_parser *ps, char *s)
{
	char *fld[REPLAY_FIELDS_MAX];
	int n = 0;

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return replay_bad(ps, "control character 0x%02x", (unsigned char)*p);
	for (char *tok = strtok(s, " \t"); tok; tok = strtok(NULL, " \t")) {
		if (tok[0] == '#')
			break;
		if (n == REPLAY_FIELDS_MAX)
			return replay_bad(ps, "too many fields");
		fld[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (!strcmp(fld[0], "chip"))
		return replay_chip(ps, fld, n);
	if (!strcmp(fld[0], "end"))
		return replay_end(ps, fld, n);
	return replay_edge(ps, fld, n);
}

int gpio_replay_file_parse(const char *text, size_t len,
			   struct gpio_replay_file *f, char *err, size_t errlen)
{
	struct replay_parser ps = { .f = f, .err = err, .errlen = errlen };
	char line[GPIO_REPLAY_LINE_MAX + 1];
	size_t pos = 0;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	while (pos < len && !rc) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t raw = nl ? (size_t)(nl - (text + pos)) : len - pos;
		size_t n = raw;

		ps.lineno++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n > GPIO_REPLAY_LINE_MAX) {
			rc = replay_bad(&ps, "longer than %d bytes", GPIO_REPLAY_LINE_MAX);
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (strlen(line) != n)
			rc = replay_bad(&ps, "NUL byte");
		else
			rc = replay_line(&ps, line);
		pos += raw + (nl != NULL);
	}
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "line %lu: out of memory", ps.lineno);
		gpio_replay_file_free(f);
		return rc;
	}
	/* No end line: a second after the last edge, within the range an
	 * end line may give (so that the file, written back, parses). */
	if (!ps.have_end)
		f->end_us = replay_last_t(f) > GPIO_REPLAY_T_MAX - GPIO_REPLAY_TAIL_US
				    ? GPIO_REPLAY_T_MAX : replay_last_t(f) + GPIO_REPLAY_TAIL_US;
	return 0;
}

void gpio_replay_file_free(struct gpio_replay_file *f)
{
	free(f->events);
	memset(f, 0, sizeof(*f));
}
