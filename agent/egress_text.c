/*
 * egress_text.c - the egress log's line format (egress.h) as text, what
 * both its writer (egress.c) and its reader (egress_verify.c) use, through
 * egress_line.h: hex, the START and END times, numbers and category names;
 * one line parsed into a record, and the hash a line carries. Also the
 * "--head SEQ:HEX" an auditor gives (vt_egress_head_parse()).
 *
 * The writer builds its lines from the same pieces the parser checks them
 * against, and a time is parsed by writing it back and comparing: the agent
 * writes nothing its own check refuses. A line is outside input: it is
 * parsed within its length, whatever its bytes.
 *
 * What this file does not do: files (egress.c writes them, egress_verify.c
 * reads them), the chain across lines or the report (egress_verify.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>


#include "egress.h"
#include "egress_line.h"
#include "keys.h"

#define VT_EGRESS_NUM_DIGITS 19
#define VT_EGRESS_MS_MAX 253402300799999LL	/* 9999-12-31T23:59:59.999Z */

/* ---- pieces: hex, times, numbers, names -------------------------------------------- */

void vt_egress_hex(const uint8_t hash[32], char hex[65])
{
	vt_hex_encode(hash, 32, hex);
}

static int vt_egress_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* uppercase too: one spelling per hash */
}

static int vt_egress_unhex(const char *text, uint8_t hash[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = vt_egress_nibble(text[2 * i]), lo = vt_egress_nibble(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the
 * algorithms of H. Hinnant's "chrono-compatible low-level date
 * algorithms"; no time_t, no locale, no time zone). */
static int64_t vt_egress_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void vt_egress_civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t vt_egress_clamp_ms(int64_t ms)
{
	return ms < 0 ? 0 : ms > VT_EGRESS_MS_MAX ? VT_EGRESS_MS_MAX : ms;
}

static void vt_egress_put(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void vt_egress_line_time(int64_t ms, char out[VT_EGRESS_LINE_TIME_LEN + 1])
{
	int64_t s = vt_egress_clamp_ms(ms) / 1000, y;
	int64_t sod = s % 86400;
	unsigned m, d;

	vt_egress_civil(s / 86400, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00Z", VT_EGRESS_LINE_TIME_LEN + 1);
	vt_egress_put(out, y, 4);
	vt_egress_put(out + 5, m, 2);
	vt_egress_put(out + 8, d, 2);
	vt_egress_put(out + 11, sod / 3600, 2);
	vt_egress_put(out + 14, sod / 60 % 60, 2);
	vt_egress_put(out + 17, sod % 60, 2);
}

/* Digits at p..p+n as a number; -1 if any is not a digit. */
static int64_t vt_egress_digits(const char *p, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Parse exactly the form vt_egress_line_time() writes: the fields are checked
 * by writing the time back and comparing (so 2025-02-30 is refused). */
static int vt_egress_parse_time(const char *p, int64_t *ms)
{
	char again[VT_EGRESS_LINE_TIME_LEN + 1];
	int64_t y = vt_egress_digits(p, 4), mo = vt_egress_digits(p + 5, 2);
	int64_t d = vt_egress_digits(p + 8, 2), h = vt_egress_digits(p + 11, 2);
	int64_t mi = vt_egress_digits(p + 14, 2), s = vt_egress_digits(p + 17, 2);

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > 59)
		return -1;
	*ms = ((vt_egress_days(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000 +
	      s * 1000;
	vt_egress_line_time(*ms, again);
	return memcmp(again, p, VT_EGRESS_LINE_TIME_LEN) == 0 ? 0 : -1;
}

/* A decimal number at *p, 1-19 digits, no leading zero; advances *p. */
static int vt_egress_parse_num(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;
	int n = 0;

	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && n <= VT_EGRESS_NUM_DIGITS) {
		*v = *v * 10 + (uint64_t)(*q - '0');
		q++;
		n++;
	}
	if (n == 0 || n > VT_EGRESS_NUM_DIGITS || (n > 1 && **p == '0'))
		return -1;
	*p = q;
	return 0;
}

static int vt_egress_cat_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

int vt_egress_line_cat_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	while (n <= VT_EGRESS_CAT_LEN && name[n] && vt_egress_cat_char(name[n]))
		n++;
	return n >= 1 && n <= VT_EGRESS_CAT_LEN && name[n] == '\0';
}

/* ---- one line ---------------------------------------------------------------------- */

static int vt_egress_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* One CAT=FRAMES/ITEMS/BYTES entry at *p. Returns NULL or what is wrong. */
static const char *vt_egress_parse_cat(const char **p, const char *end, struct vt_egress_rec *r)
{
	const char *q = *p, *name = q;
	size_t len;

	while (q < end && vt_egress_cat_char(*q))
		q++;
	len = (size_t)(q - name);
	if (len == 0 || len > VT_EGRESS_CAT_LEN)
		return "category name not [a-z0-9_.]{1,31}";
	if (r->ncats == VT_EGRESS_MAX_CATS)
		return "more than 16 categories";
	for (unsigned i = 0; i < r->ncats; i++)
		if (r->cats[i].len == len && memcmp(r->cats[i].name, name, len) == 0)
			return "category repeated";
	if (vt_egress_lit(&q, end, "=") < 0 ||
	    vt_egress_parse_num(&q, end, &r->cats[r->ncats].frames) < 0 ||
	    vt_egress_lit(&q, end, "/") < 0 ||
	    vt_egress_parse_num(&q, end, &r->cats[r->ncats].items) < 0 ||
	    vt_egress_lit(&q, end, "/") < 0 ||
	    vt_egress_parse_num(&q, end, &r->cats[r->ncats].bytes) < 0)
		return "counts not FRAMES/ITEMS/BYTES";
	r->cats[r->ncats].name = name;
	r->cats[r->ncats].len = len;
	r->ncats++;
	*p = q;
	return NULL;
}

const char *vt_egress_line_parse(const char *text, size_t len, struct vt_egress_rec *r)
{
	const char *p = text, *end = text + len, *why;

	memset(r, 0, sizeof(*r));
	if (vt_egress_lit(&p, end, "v1 ") < 0)
		return "does not start with \"v1 \"";
	if (vt_egress_parse_num(&p, end, &r->seq) < 0 || r->seq == 0)
		return "bad seq";
	if (vt_egress_lit(&p, end, " ") < 0 || end - p < VT_EGRESS_LINE_TIME_LEN ||
	    vt_egress_parse_time(p, &r->start_ms) < 0)
		return "bad start time";
	p += VT_EGRESS_LINE_TIME_LEN;
	if (vt_egress_lit(&p, end, " ") < 0 || end - p < VT_EGRESS_LINE_TIME_LEN ||
	    vt_egress_parse_time(p, &r->end_ms) < 0)
		return "bad end time";
	p += VT_EGRESS_LINE_TIME_LEN;
	for (;;) {
		if (vt_egress_lit(&p, end, " ") < 0)
			return "fields not separated by one space";
		if (vt_egress_lit(&p, end, "prev=") == 0)
			break;
		why = vt_egress_parse_cat(&p, end, r);
		if (why)
			return why;
	}
	if (r->ncats == 0)
		return "no category";
	if (end - p < 64 || vt_egress_unhex(p, r->prev) < 0)
		return "prev not 64 lowercase hex digits";
	p += 64;
	r->hashed_len = (size_t)(p - text);
	if (vt_egress_lit(&p, end, " hash=") < 0 || end - p != 64 || vt_egress_unhex(p, r->hash) < 0)
		return "hash not 64 lowercase hex digits at the end";
	return NULL;
}

int vt_egress_line_hash(const char *text, size_t len, uint8_t hash[32])
{
	return vt_keys_sha256(text, len, hash);
}

/* ---- a head to look for ------------------------------------------------------------ */

/* Either case: the status writes lowercase, but a head copied from a
 * report or a spreadsheet may not be. */
static char vt_egress_lower(char c)
{
	return c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
}

int vt_egress_head_parse(const char *text, struct vt_egress_head_check *want, const char **why)
{
	static const uint8_t zero[32];
	const char *colon = text ? strchr(text, ':') : NULL, *p = text;
	char hex[64];

	memset(want, 0, sizeof(*want));
	*why = NULL;
	if (!colon) {
		*why = "not SEQ:HEX (the \"seq\" and \"head\" of the status's \"egress\" object, joined by ':')";
		return -EINVAL;
	}
	if (vt_egress_parse_num(&p, colon, &want->seq) < 0 || p != colon) {
		*why = "SEQ is not a decimal number of 1 to 19 digits without a leading zero";
		return -EINVAL;
	}
	p = colon + 1;
	if (strlen(p) != sizeof(hex)) {
		*why = "HEX is not 64 hex digits";
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(hex); i++)
		hex[i] = vt_egress_lower(p[i]);
	if (vt_egress_unhex(hex, want->hash) < 0) {
		*why = "HEX is not 64 hex digits";
		return -EINVAL;
	}
	if (want->seq == 0 && memcmp(want->hash, zero, 32) != 0) {
		*why = "SEQ 0 is the head of an empty log, whose HEX is 64 zeros";
		return -EINVAL;
	}
	return 0;
}
