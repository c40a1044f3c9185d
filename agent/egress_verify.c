/*
 * egress_verify.c - the egress log's reader (egress.h): the strict line
 * parser, the chain check across egress.log.1 and egress.log, and
 * vt_egress_verify(), the report an auditor runs ("vitrine-agent --egress").
 *
 * The writer (egress.c) runs the same check at open, in repair mode
 * (vt_egress_line_scan()), and builds its lines from the pieces this parser
 * checks against (egress_line.h): what the agent accepts at open is exactly
 * what an auditor's check accepts. The file is outside input: it is read in
 * fixed buffers, line by line, and a line is parsed within its length,
 * whatever its bytes.
 *
 * What this file does not do: write, cut or rotate the log (egress.c), or
 * compare the head with the heads the aggregator kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "egress.h"
#include "egress_line.h"
#include "err.h"

#define VT_EGRESS_NUM_DIGITS 19
#define VT_EGRESS_MS_MAX 253402300799999LL	/* 9999-12-31T23:59:59.999Z */
#define VT_EGRESS_PRINT_BREAKS 50

/* One record as parsed; names point into the line (borrowed). */
struct vt_egress_rec {
	uint64_t seq;
	int64_t start_ms, end_ms;
	unsigned ncats;
	struct {
		const char *name;
		size_t len;
		uint64_t frames, items, bytes;
	} cats[VT_EGRESS_MAX_CATS];
	uint8_t prev[32], hash[32];
	size_t hashed_len;		/* bytes the hash covers */
};

/* The file names as the report points to them (compared by address). */
static const char vt_egress_cur_name[] = VT_EGRESS_FILE;
static const char vt_egress_old_name[] = VT_EGRESS_OLD_FILE;

static const char *const vt_egress_break_names[] = {
	[VT_EGRESS_INTACT] = "intact",
	[VT_EGRESS_BAD_SYNTAX] = "bad syntax",
	[VT_EGRESS_BAD_HASH] = "hash mismatch",
	[VT_EGRESS_SEQ_GAP] = "seq gap",
	[VT_EGRESS_BAD_PREV] = "prev mismatch",
	[VT_EGRESS_TORN] = "torn last line",
	[VT_EGRESS_NO_HISTORY] = "history missing",
};

const char *vt_egress_break_name(enum vt_egress_break why)
{
	if ((unsigned)why < sizeof(vt_egress_break_names) / sizeof(vt_egress_break_names[0]))
		return vt_egress_break_names[why];
	return "?";
}

/* ---- text: hex, times, numbers, names ---------------------------------------------- */

void vt_egress_hex(const uint8_t hash[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[hash[i] >> 4];
		hex[2 * i + 1] = digits[hash[i] & 15];
	}
	hex[64] = '\0';
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

/* Parse a line (without its "\n"). Returns NULL, or what is wrong with it
 * (static words). Checks the form only, not the hash. */
static const char *vt_egress_parse(const char *text, size_t len, struct vt_egress_rec *r)
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
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256((const unsigned char *)text, len, hash, 0);
#else
	return mbedtls_sha256_ret((const unsigned char *)text, len, hash, 0);
#endif
}

static int vt_egress_hash_ok(const char *text, const struct vt_egress_rec *r)
{
	uint8_t want[32];

	if (vt_egress_line_hash(text, r->hashed_len, want) != 0)
		return 0;
	return memcmp(want, r->hash, 32) == 0;
}
/* ---- the chain ----------------------------------------------------------------------- */

/* What a line is, seen on its own. */
enum vt_egress_kind {
	VT_EGRESS_LINE_OK,	/* parses, hash matches */
	VT_EGRESS_LINE_ALTERED,	/* parses, hash does not match */
	VT_EGRESS_LINE_JUNK,	/* does not parse */
	VT_EGRESS_LINE_TORN,	/* no "\n": the file's last line */
};

/* Walks the lines of egress.log.1 then egress.log. After the last line,
 * (seq, prev) is where the next record continues: the last line that
 * parsed, even if its hash is wrong, so that a damaged line is the only
 * break it causes. */
struct vt_egress_chain {
	struct vt_egress_report *rep;
	FILE *out;			/* print breaks here; NULL: don't */
	int have;			/* seq and prev are set */
	int resync;			/* after junk: take the next record as it is */
	int old_seen;			/* egress.log.1 had at least one line */
	uint64_t seq;
	uint8_t prev[32];
};

static void vt_egress_break(struct vt_egress_chain *c, enum vt_egress_break why,
			    const char *file, uint64_t line, const char *detail)
{
	struct vt_egress_report *rep = c->rep;

	if (rep->breaks < UINT32_MAX)
		rep->breaks++;
	if (rep->breaks == 1) {
		rep->first_break = why;
		rep->break_file = file;
		rep->break_line = line;
		snprintf(rep->break_detail, sizeof(rep->break_detail), "%s", detail);
	}
	if (c->out && rep->breaks <= VT_EGRESS_PRINT_BREAKS)
		fprintf(c->out, "broken    %s:%" PRIu64 ": %s\n", file, line, detail);
}

static uint64_t vt_egress_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void vt_egress_total(struct vt_egress_report *rep, const struct vt_egress_rec *r)
{
	for (unsigned i = 0; i < r->ncats; i++) {
		struct vt_egress_total *t = NULL;

		for (unsigned k = 0; k < rep->ncats && !t; k++)
			if (strlen(rep->cats[k].name) == r->cats[i].len &&
			    memcmp(rep->cats[k].name, r->cats[i].name, r->cats[i].len) == 0)
				t = &rep->cats[k];
		if (!t && rep->ncats < VT_EGRESS_REPORT_CATS) {
			t = &rep->cats[rep->ncats++];
			memset(t, 0, sizeof(*t));
			memcpy(t->name, r->cats[i].name, r->cats[i].len);
		}
		if (!t) {
			rep->untotalled++;
			continue;
		}
		t->frames = vt_egress_sat_add(t->frames, r->cats[i].frames);
		t->items = vt_egress_sat_add(t->items, r->cats[i].items);
		t->bytes = vt_egress_sat_add(t->bytes, r->cats[i].bytes);
	}
}

/* An intact line: does it follow the chain? */
static void vt_egress_link(struct vt_egress_chain *c, const struct vt_egress_rec *r,
			   const char *file, uint64_t line)
{
	static const uint8_t zero[32];
	char detail[160];

	if (!c->have && !c->resync) {
		if (r->seq == 1 && memcmp(r->prev, zero, 32) != 0) {
			vt_egress_break(c, VT_EGRESS_BAD_PREV, file, line,
					"prev mismatch: seq 1 must have a prev of 64 zeros");
		} else if (r->seq > 1 && file == vt_egress_cur_name && !c->old_seen) {
			snprintf(detail, sizeof(detail),
				 "history missing: the chain starts at seq %" PRIu64 " but " VT_EGRESS_OLD_FILE ", which should hold the records before it, is missing or empty",
				 r->seq);
			vt_egress_break(c, VT_EGRESS_NO_HISTORY, file, line, detail);
		}
	} else if (c->have && !c->resync && r->seq != c->seq + 1) {
		snprintf(detail, sizeof(detail),
			 "seq gap: expected %" PRIu64 ", found %" PRIu64 ": records were removed, inserted or reordered",
			 c->seq + 1, r->seq);
		vt_egress_break(c, VT_EGRESS_SEQ_GAP, file, line, detail);
	} else if (c->have && !c->resync && memcmp(r->prev, c->prev, 32) != 0) {
		vt_egress_break(c, VT_EGRESS_BAD_PREV, file, line,
				"prev mismatch: the record does not follow the one before it (a record was replaced)");
	}
}

static void vt_egress_count(struct vt_egress_report *rep, const struct vt_egress_rec *r)
{
	if (rep->records == 0) {
		rep->first_seq = r->seq;
		rep->first_ms = r->start_ms;
	}
	rep->records++;
	rep->last_ms = r->end_ms;
	rep->head_seq = r->seq;
	memcpy(rep->head, r->hash, 32);
	vt_egress_total(rep, r);
}

/* Classify a line on its own; r is filled unless it is junk. */
static enum vt_egress_kind vt_egress_classify(const char *text, size_t len, int newline,
					      int too_long, struct vt_egress_rec *r,
					      const char **why)
{
	*why = NULL;
	if (!newline)
		return VT_EGRESS_LINE_TORN;
	if (too_long) {
		*why = "longer than 2048 bytes";
		return VT_EGRESS_LINE_JUNK;
	}
	*why = vt_egress_parse(text, len, r);
	if (*why)
		return VT_EGRESS_LINE_JUNK;
	return vt_egress_hash_ok(text, r) ? VT_EGRESS_LINE_OK : VT_EGRESS_LINE_ALTERED;
}

/* Take one line into the chain. */
static void vt_egress_take(struct vt_egress_chain *c, enum vt_egress_kind kind,
			   const struct vt_egress_rec *r, const char *why, const char *file,
			   uint64_t line)
{
	char detail[160];

	switch (kind) {
	case VT_EGRESS_LINE_TORN:
		vt_egress_break(c, VT_EGRESS_TORN, file, line,
				"torn last line (no end of line): a write cut by a crash or power loss; the agent cuts it at its next start");
		return;
	case VT_EGRESS_LINE_JUNK:
		snprintf(detail, sizeof(detail), "bad syntax (%s): not a record the agent writes",
			 why);
		vt_egress_break(c, VT_EGRESS_BAD_SYNTAX, file, line, detail);
		c->resync = 1;
		return;
	case VT_EGRESS_LINE_ALTERED:
		vt_egress_break(c, VT_EGRESS_BAD_HASH, file, line,
				"hash mismatch: the line was changed after it was written");
		break;
	case VT_EGRESS_LINE_OK:
		vt_egress_link(c, r, file, line);
		vt_egress_count(c->rep, r);
		break;
	}
	c->have = 1;
	c->resync = 0;
	c->seq = r->seq;
	memcpy(c->prev, r->hash, 32);
}

/* ---- reading a file line by line --------------------------------------------------- */

struct vt_egress_line {
	uint64_t off;			/* where it starts in the file */
	size_t len;			/* bytes kept in text */
	int newline, too_long;
	char text[VT_EGRESS_LINE_MAX + 1];
};

struct vt_egress_reader {
	int fd;
	size_t pos, len;
	uint64_t off;			/* file offset of buf[pos] */
	char buf[4096];
	struct vt_egress_line lines[2];	/* the line taken, and the one after it */
	struct vt_egress_rec rec;
};

/* The next line of the file. Returns 1, 0 at the end, or -errno. */
static int vt_egress_read_line(struct vt_egress_reader *rd, struct vt_egress_line *l)
{
	int got = 0;

	l->off = rd->off;
	l->len = 0;
	l->newline = l->too_long = 0;
	for (;;) {
		const char *start, *nl;
		size_t avail, take, room;

		if (rd->pos == rd->len) {
			ssize_t n = read(rd->fd, rd->buf, sizeof(rd->buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
			rd->pos = 0;
			rd->len = (size_t)n;
		}
		got = 1;
		start = rd->buf + rd->pos;
		avail = rd->len - rd->pos;
		nl = memchr(start, '\n', avail);
		take = nl ? (size_t)(nl - start) : avail;
		room = VT_EGRESS_LINE_MAX - l->len;
		if (take > room)
			l->too_long = 1;
		memcpy(l->text + l->len, start, take > room ? room : take);
		l->len += take > room ? room : take;
		take += nl ? 1 : 0;
		rd->pos += take;
		rd->off += take;
		if (nl) {
			l->newline = 1;
			break;
		}
	}
	l->text[l->len] = '\0';
	return got;
}

/* Run one file through the chain. A missing file is empty (*present = 0).
 * In repair mode (cut not NULL), a last line that is torn, junk or altered
 * is not taken but reported in cut. */
static int vt_egress_scan_file(struct vt_egress_chain *c, struct vt_egress_reader *rd,
			       const char *dir, const char *file,
			       struct vt_egress_line_cut *cut, int *present)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t no = 0;
	int cur = 0, rc;

	*present = 0;
	errno = 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	/* O_NONBLOCK: a FIFO put in its place must not hang the agent. */
	rd->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (rd->fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(rd->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = errno ? -errno : -EINVAL;
		close(rd->fd);
		rd->fd = -1;
		return rc;
	}
	*present = 1;
	rd->pos = rd->len = 0;
	rd->off = 0;
	rc = vt_egress_read_line(rd, &rd->lines[cur]);
	while (rc == 1) {
		struct vt_egress_line *l = &rd->lines[cur];
		int last, next = vt_egress_read_line(rd, &rd->lines[!cur]);
		enum vt_egress_kind kind;
		const char *why;

		if (next < 0) {
			rc = next;
			break;
		}
		last = next == 0;
		no++;
		kind = vt_egress_classify(l->text, l->len, l->newline, l->too_long, &rd->rec, &why);
		if (cut && last && kind != VT_EGRESS_LINE_OK) {
			cut->found = 1;
			cut->torn = kind == VT_EGRESS_LINE_TORN;
			cut->off = l->off;
			cut->line = no;
			cut->bytes = rd->off - l->off;
			cut->why = kind == VT_EGRESS_LINE_TORN ? "no end of line" :
				   kind == VT_EGRESS_LINE_ALTERED ? "hash mismatch" : why;
		} else {
			vt_egress_take(c, kind, &rd->rec, why, file, no);
		}
		cur = !cur;
		rc = next;
	}
	close(rd->fd);
	rd->fd = -1;
	if (file == vt_egress_old_name) {
		c->old_seen = no > 0;
		c->rep->old_lines = no;
	} else {
		c->rep->cur_lines = no;
	}
	return rc;
}

/* Scan egress.log.1 then egress.log into rep (zeroed first). Returns 0 or
 * -errno; *found says whether either file exists. */
static int vt_egress_scan(const char *dir, FILE *out, struct vt_egress_report *rep,
			  struct vt_egress_line_cut *cut, struct vt_egress_chain *chain, int *found)
{
	struct vt_egress_reader *rd = malloc(sizeof(*rd));
	int rc, old_present = 0, present = 0;

	memset(rep, 0, sizeof(*rep));
	memset(chain, 0, sizeof(*chain));
	chain->rep = rep;
	chain->out = out;
	if (!rd)
		return -ENOMEM;
	rd->fd = -1;
	rc = vt_egress_scan_file(chain, rd, dir, vt_egress_old_name, NULL, &old_present);
	if (rc == 0)
		rc = vt_egress_scan_file(chain, rd, dir, vt_egress_cur_name, cut, &present);
	free(rd);
	rep->has_old = old_present;
	rep->has_cur = present;
	*found = old_present || present;
	return rc;
}

int vt_egress_line_scan(const char *dir, struct vt_egress_report *rep,
			struct vt_egress_line_cut *cut, uint64_t *seq, uint8_t hash[32])
{
	struct vt_egress_chain chain;
	int rc, found;

	memset(cut, 0, sizeof(*cut));
	rc = vt_egress_scan(dir, NULL, rep, cut, &chain, &found);
	*seq = chain.have ? chain.seq : 0;
	if (chain.have)
		memcpy(hash, chain.prev, 32);
	else
		memset(hash, 0, 32);
	return rc;
}

/* ---- the auditor's check --------------------------------------------------------------- */

static void vt_egress_print(FILE *out, const char *dir, const struct vt_egress_report *rep)
{
	char from[VT_EGRESS_LINE_TIME_LEN + 1], to[VT_EGRESS_LINE_TIME_LEN + 1], hex[65];

	if (rep->breaks > VT_EGRESS_PRINT_BREAKS)
		fprintf(out, "broken    ... and %u more places\n",
			rep->breaks - VT_EGRESS_PRINT_BREAKS);
	fprintf(out, "files     ");
	if (rep->has_old)
		fprintf(out, "%s/" VT_EGRESS_OLD_FILE " (%" PRIu64 " lines), then ", dir, rep->old_lines);
	if (rep->has_cur)
		fprintf(out, "%s/" VT_EGRESS_FILE " (%" PRIu64 " lines)\n", dir, rep->cur_lines);
	else
		fprintf(out, "%s/" VT_EGRESS_FILE " missing\n", dir);
	fprintf(out, "records   %" PRIu64, rep->records);
	if (rep->records)
		fprintf(out, ", seq %" PRIu64 "..%" PRIu64, rep->first_seq, rep->head_seq);
	fprintf(out, "\n");
	if (rep->records) {
		vt_egress_line_time(rep->first_ms, from);
		vt_egress_line_time(rep->last_ms, to);
		fprintf(out, "period    %s .. %s\n", from, to);
	}
	if (rep->first_seq > 1)
		fprintf(out, "note      records before seq %" PRIu64 " were rotated out (only " VT_EGRESS_OLD_FILE " and " VT_EGRESS_FILE " are kept)\n",
			rep->first_seq);
	for (unsigned i = 0; i < rep->ncats; i++)
		fprintf(out, "category  %-20s frames %" PRIu64 " items %" PRIu64 " bytes %" PRIu64 "\n",
			rep->cats[i].name, rep->cats[i].frames, rep->cats[i].items,
			rep->cats[i].bytes);
	if (rep->untotalled)
		fprintf(out, "category  (%" PRIu64 " entries of further categories not totalled)\n",
			rep->untotalled);
	vt_egress_hex(rep->head, hex);
	fprintf(out, "head      seq %" PRIu64 " hash %s\n", rep->head_seq, hex);
	if (rep->breaks == 0)
		fprintf(out, "chain     intact; compare the head with the last one the aggregator received: an older head means the log was cut\n");
	else
		fprintf(out, "chain     BROKEN in %u place%s, first at %s:%" PRIu64 " (%s)\n",
			rep->breaks, rep->breaks == 1 ? "" : "s", rep->break_file,
			rep->break_line, vt_egress_break_name(rep->first_break));
}

int vt_egress_verify(const char *dir, FILE *out, struct vt_egress_report *rep)
{
	struct vt_egress_report local;
	struct vt_egress_chain chain;
	int rc, found;

	if (!rep)
		rep = &local;
	rc = vt_egress_scan(dir, out, rep, NULL, &chain, &found);
	if (rc == 0 && !found)
		rc = -ENOENT;
	if (rc < 0) {
		if (out)
			fprintf(out, "egress log in %s: %s\n", dir,
				rc == -ENOENT ? "not found (neither " VT_EGRESS_FILE " nor " VT_EGRESS_OLD_FILE ")" :
				vt_strerror(rc));
		return rc;
	}
	if (out)
		vt_egress_print(out, dir, rep);
	return rep->breaks ? 1 : 0;
}
