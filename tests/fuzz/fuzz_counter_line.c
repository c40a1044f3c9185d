/*
 * fuzz_counter_line.c - libFuzzer target for the footfall plugin's
 * people-counter line parser (plugins/footfall/counter_line.c). Anyone who
 * can reach the counter's TCP port or serial line writes these bytes.
 *
 * The input is cut at each LF, as the plugin cuts a stream, and each piece
 * is parsed from an exact-size copy (so ASan sees any read past it); the
 * whole input is parsed once more as a single line. Checked, with abort():
 * - the status is one of enum counter_line_status and has a reason;
 * - a line accepted is at most COUNTER_LINE_MAX bytes (a CR aside) of
 *   printable ASCII and tabs, its door is 1..255 and its counts
 *   0..1000, and written back as "<door> <in> <out>" it parses to the same;
 * - a line of more than COUNTER_LINE_MAX + 1 bytes is never accepted.
 *
 * What this file does not do: the plugin's sockets and line assembly
 * (counter.c), tested in plugins/footfall/footfall_sources_test.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/footfall/counter_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_text_ok(const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	if (n > COUNTER_LINE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\t')
			return 0;
	return 1;
}

static void fuzz_line(const uint8_t *data, size_t n)
{
	char *copy = malloc(n ? n : 1);
	struct counter_line l, again;
	char text[64];
	int st;

	if (!copy)
		return;
	memcpy(copy, data, n);
	st = counter_line_parse(copy, n, &l);
	if (st < 0 || st >= COUNTER_LINE_STATUSES || !counter_line_reason(st)[0])
		abort();
	if (n > COUNTER_LINE_MAX + 1 && st != COUNTER_LINE_TOO_LONG)
		abort();
	if (st == COUNTER_LINE_OK) {
		if (!fuzz_text_ok(copy, n) || l.door < 1 || l.door > COUNTER_DOOR_MAX ||
		    l.in > COUNTER_COUNT_MAX || l.out > COUNTER_COUNT_MAX)
			abort();
		snprintf(text, sizeof(text), "%u %u %u", l.door, l.in, l.out);
		if (counter_line_parse(text, strlen(text), &again) != COUNTER_LINE_OK ||
		    again.door != l.door || again.in != l.in || again.out != l.out ||
		    again.has_time)
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t start = 0;

	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			fuzz_line(data + start, i - start);
			start = i + 1;
		}
	fuzz_line(data, size);
	return 0;
}
