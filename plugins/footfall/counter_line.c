/*
 * plugins/footfall/counter_line.c - parser of the people-counter line
 * protocol (see counter_line.h).
 *
 * Checks the bytes, splits the fields, and reads each one strictly:
 * decimal digits only (no sign, no leading '+', at most 9 digits before the
 * range check) and the one time format of vp_parse_utc(). What it does not
 * do: sockets, serial ports or readings (counter.c).
 */
#include "counter_line.h"

#include "common/plugin_conf.h"

#include <string.h>

#define COUNTER_FIELDS_MAX 4
#define COUNTER_DIGITS_MAX 9

static const char *const counter_reasons[COUNTER_LINE_STATUSES] = {
	[COUNTER_LINE_OK] = "valid",
	[COUNTER_LINE_BLANK] = "blank",
	[COUNTER_LINE_TOO_LONG] = "line longer than 128 bytes",
	[COUNTER_LINE_NOT_TEXT] = "byte that is not printable ASCII",
	[COUNTER_LINE_FIELDS] = "not \"<door> <in> <out> [<time>]\"",
	[COUNTER_LINE_DOOR] = "door not in 1..255",
	[COUNTER_LINE_COUNT] = "count not in 0..1000",
	[COUNTER_LINE_TIME] = "time not like 2026-11-25T09:00:00Z",
};

const char *counter_line_reason(int status)
{
	if (status < 0 || status >= COUNTER_LINE_STATUSES)
		return "unknown";
	return counter_reasons[status];
}

/* A field of n bytes as a number in 0..max; -1 when it is not one. */
static int64_t counter_number(const char *s, size_t n, int64_t max)
{
	int64_t v = 0;

	if (n == 0 || n > COUNTER_DIGITS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

static int counter_time(const char *s, size_t n, int64_t *ms)
{
	char buf[32];

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return vp_parse_utc(buf, ms) ? -1 : 0;
}

struct counter_field {
	const char *s;
	size_t n;
};

/* Splits on blanks; the number of fields, or -1 for too many. */
static int counter_split(const char *line, size_t len, struct counter_field *f)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (n == COUNTER_FIELDS_MAX)
			return -1;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		f[n++] = (struct counter_field){ line + start, i - start };
	}
	return n;
}

int counter_line_parse(const char *line, size_t len, struct counter_line *out)
{
	struct counter_field f[COUNTER_FIELDS_MAX];
	struct counter_line c = { 0 };
	int64_t door, in, out_count;
	int n;

	if (len && line[len - 1] == '\r')
		len--;
	if (len > COUNTER_LINE_MAX)
		return COUNTER_LINE_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) && line[i] != '\t')
			return COUNTER_LINE_NOT_TEXT;
	n = counter_split(line, len, f);
	if (n == 0)
		return COUNTER_LINE_BLANK;
	if (n < 3)
		return COUNTER_LINE_FIELDS;
	door = counter_number(f[0].s, f[0].n, COUNTER_DOOR_MAX);
	if (door < 1)
		return COUNTER_LINE_DOOR;
	in = counter_number(f[1].s, f[1].n, COUNTER_COUNT_MAX);
	out_count = counter_number(f[2].s, f[2].n, COUNTER_COUNT_MAX);
	if (in < 0 || out_count < 0)
		return COUNTER_LINE_COUNT;
	if (n == 4) {
		if (counter_time(f[3].s, f[3].n, &c.time_ms))
			return COUNTER_LINE_TIME;
		c.has_time = 1;
	}
	c.door = (uint32_t)door;
	c.in = (uint32_t)in;
	c.out = (uint32_t)out_count;
	*out = c;
	return COUNTER_LINE_OK;
}
