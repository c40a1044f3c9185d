/*
 * plugins/footfall/counter_line.h - the people-counter line protocol and
 * its parser.
 *
 * A commercial counter (or a small bridge script next to it) sends one
 * line per report, over TCP or a serial port:
 *
 *   <door> <in> <out> [<time>]\n
 *
 * <door> 1..255; <in> and <out> the people who went in and out through
 * that door since the previous line for it (deltas, 0..1000: a report of
 * more is not a real door's count); <time> the end of the counted
 * period, UTC, "YYYY-MM-DDTHH:MM:SSZ" (without it, the time the line
 * arrives). Fields are separated by spaces or tabs; a CR
 * before the LF is allowed; a blank line is a keep-alive. At most
 * COUNTER_LINE_MAX bytes before the newline, printable ASCII only. Pure:
 * no I/O, no clock; fuzzed (tests/fuzz/fuzz_counter_line.c).
 */
#ifndef VT_FOOTFALL_COUNTER_LINE_H
#define VT_FOOTFALL_COUNTER_LINE_H

#include <stddef.h>
#include <stdint.h>

#define COUNTER_LINE_MAX 128
#define COUNTER_DOOR_MAX 255
#define COUNTER_COUNT_MAX 1000

/* Why a line was refused (COUNTER_LINE_OK: it was not). */
enum counter_line_status {
	COUNTER_LINE_OK = 0,
	COUNTER_LINE_BLANK,	/* nothing but blanks: a keep-alive, not an error */
	COUNTER_LINE_TOO_LONG,
	COUNTER_LINE_NOT_TEXT,	/* a byte that is not printable ASCII */
	COUNTER_LINE_FIELDS,	/* fewer than 3 or more than 4 fields */
	COUNTER_LINE_DOOR,
	COUNTER_LINE_COUNT,
	COUNTER_LINE_TIME,
	COUNTER_LINE_STATUSES,
};

struct counter_line {
	uint32_t door;
	uint32_t in, out;
	int has_time;
	int64_t time_ms;	/* UTC, when has_time */
};

/* Parses one line of len bytes (without its LF; any bytes, NUL included)
 * into *out. Returns an enum counter_line_status; *out is filled only on
 * COUNTER_LINE_OK. */
int counter_line_parse(const char *line, size_t len, struct counter_line *out);

/* A short phrase for a status ("door not in 1..255"). */
const char *counter_line_reason(int status);

#endif /* VT_FOOTFALL_COUNTER_LINE_H */
