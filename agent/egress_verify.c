/*
 * egress_verify.c - the egress log's reader (egress.h): the chain check
 * across egress.log.1 and egress.log, and vt_egress_verify(), the report an
 * auditor runs ("vitrine-agent --egress"), with vt_egress_verify_head(),
 * which also looks for one head published earlier ("--head SEQ:HEX").
 *
 * The writer (egress.c) runs the same check at open, in repair mode
 * (vt_egress_line_scan(), egress_line.h): what the agent accepts at open is
 * exactly what an auditor's check accepts. Each line goes through
 * vt_egress_line_parse() (egress_text.c), the parser whose pieces the
 * writer builds its lines from. The file is outside input: it is read in
 * fixed buffers, line by line, and a line is parsed within its length,
 * whatever its bytes.
 *
 * What this file does not do: parse a line or a "--head" (egress_text.c),
 * write, cut or rotate the log (egress.c), or fetch the heads the
 * aggregator kept (the auditor gives one at a time).
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

#include "egress.h"
#include "egress_line.h"
#include "err.h"

#define VT_EGRESS_PRINT_BREAKS 50

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
	const struct vt_egress_head_check *want;	/* a head to look for; NULL: none */
	int want_match;			/* an intact line is want's SEQ with its HASH */
	int want_other;			/* a line has want's SEQ, but not intact with that HASH */
	int lo_intact;			/* the line of rep->seq_lo: its hash is right */
	uint8_t lo_prev[32];		/* and its prev: the hash of the record before it */
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

/* A line that parses, intact or not: the range of SEQ the log holds, and
 * the head looked for. */
static void vt_egress_see(struct vt_egress_chain *c, const struct vt_egress_rec *r, int intact)
{
	struct vt_egress_report *rep = c->rep;

	if (rep->seq_hi == 0 || r->seq < rep->seq_lo) {
		rep->seq_lo = r->seq;
		c->lo_intact = intact;
		memcpy(c->lo_prev, r->prev, 32);
	}
	if (r->seq > rep->seq_hi)
		rep->seq_hi = r->seq;
	if (c->want && r->seq == c->want->seq) {
		if (intact && memcmp(r->hash, c->want->hash, 32) == 0)
			c->want_match = 1;
		else
			c->want_other = 1;
	}
}

static int vt_egress_hash_ok(const char *text, const struct vt_egress_rec *r)
{
	uint8_t want[32];

	if (vt_egress_line_hash(text, r->hashed_len, want) != 0)
		return 0;
	return memcmp(want, r->hash, 32) == 0;
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
	*why = vt_egress_line_parse(text, len, r);
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
		vt_egress_see(c, r, 0);
		break;
	case VT_EGRESS_LINE_OK:
		vt_egress_link(c, r, file, line);
		vt_egress_count(c->rep, r);
		vt_egress_see(c, r, 1);
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

/* Scan egress.log.1 then egress.log into rep (zeroed first), looking for
 * want (borrowed; may be NULL) on the way. Returns 0 or -errno; *found
 * says whether either file exists. */
static int vt_egress_scan(const char *dir, FILE *out, const struct vt_egress_head_check *want,
			  struct vt_egress_report *rep, struct vt_egress_line_cut *cut,
			  struct vt_egress_chain *chain, int *found)
{
	struct vt_egress_reader *rd = malloc(sizeof(*rd));
	int rc, old_present = 0, present = 0;

	memset(rep, 0, sizeof(*rep));
	memset(chain, 0, sizeof(*chain));
	chain->rep = rep;
	chain->out = out;
	chain->want = want;
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
	rc = vt_egress_scan(dir, NULL, NULL, rep, cut, &chain, &found);
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
	if (rep->breaks == 0 && rep->head_verdict != VT_EGRESS_HEAD_UNCHECKED)
		fprintf(out, "chain     intact\n");	/* and the head checked follows */
	else if (rep->breaks == 0)
		fprintf(out, "chain     intact; compare the head with the last one the aggregator received: an older head means the log was cut\n");
	else
		fprintf(out, "chain     BROKEN in %u place%s, first at %s:%" PRIu64 " (%s)\n",
			rep->breaks, rep->breaks == 1 ? "" : "s", rep->break_file,
			rep->break_line, vt_egress_break_name(rep->first_break));
}

/* What became of the head looked for, once every line was seen. */
static enum vt_egress_head_verdict vt_egress_judge(const struct vt_egress_chain *c)
{
	static const uint8_t zero[32];
	const struct vt_egress_report *rep = c->rep;
	const struct vt_egress_head_check *want = c->want;

	if (c->want_match)
		return VT_EGRESS_HEAD_PRESENT;
	if (c->want_other)
		return VT_EGRESS_HEAD_REWRITTEN;
	if (rep->seq_hi == 0 && want->seq == 0)	/* an empty log, then as now */
		return memcmp(want->hash, zero, 32) == 0 ? VT_EGRESS_HEAD_PRESENT :
							   VT_EGRESS_HEAD_REWRITTEN;
	if (want->seq > rep->seq_hi)
		return VT_EGRESS_HEAD_CUT;
	if (want->seq >= rep->seq_lo)
		return VT_EGRESS_HEAD_REMOVED;
	/* Rotated out; the oldest record kept still names its predecessor. */
	if (want->seq + 1 == rep->seq_lo && c->lo_intact)
		return memcmp(c->lo_prev, want->hash, 32) == 0 ? VT_EGRESS_HEAD_PRESENT :
								 VT_EGRESS_HEAD_REWRITTEN;
	return VT_EGRESS_HEAD_ROTATED;
}

static void vt_egress_print_head(FILE *out, const struct vt_egress_report *rep)
{
	uint64_t seq = rep->want.seq;
	int before = seq < rep->seq_lo;	/* rotated out: judged by the next prev */

	fprintf(out, "checked   head seq %" PRIu64 ": ", seq);
	switch (rep->head_verdict) {
	case VT_EGRESS_HEAD_PRESENT:
		if (seq == 0)
			fprintf(out, "present (the empty log's head, where the chain starts)\n");
		else if (before)
			fprintf(out, "present (rotated out, but seq %" PRIu64 ", the oldest record kept, has its hash as prev)\n",
				rep->seq_lo);
		else
			fprintf(out, "present\n");
		break;
	case VT_EGRESS_HEAD_CUT:
		if (rep->seq_hi)
			fprintf(out, "MISSING: the log ends at seq %" PRIu64 ": it was cut after the head was published\n",
				rep->seq_hi);
		else
			fprintf(out, "MISSING: the log holds no record: it was cut after the head was published\n");
		break;
	case VT_EGRESS_HEAD_REMOVED:
		fprintf(out, "MISSING: no line has that seq (the log holds seq %" PRIu64 "..%" PRIu64 "): the record was removed\n",
			rep->seq_lo, rep->seq_hi);
		break;
	case VT_EGRESS_HEAD_REWRITTEN:
		if (before)
			fprintf(out, "the record has another hash (seq %" PRIu64 "'s prev): the log was rewritten\n",
				rep->seq_lo);
		else
			fprintf(out, "the record has another hash: the log was rewritten (or cut, then continued)\n");
		break;
	case VT_EGRESS_HEAD_ROTATED:
		fprintf(out, "older than the oldest record kept (rotated out; the oldest is seq %" PRIu64 "): cannot tell; check a newer head\n",
			rep->seq_lo);
		break;
	case VT_EGRESS_HEAD_UNCHECKED:
		fprintf(out, "not checked\n");
		break;
	}
}

int vt_egress_verify(const char *dir, FILE *out, struct vt_egress_report *rep)
{
	return vt_egress_verify_head(dir, out, NULL, rep);
}

int vt_egress_verify_head(const char *dir, FILE *out, const struct vt_egress_head_check *want,
			  struct vt_egress_report *rep)
{
	struct vt_egress_report local;
	struct vt_egress_chain chain;
	int rc, found;

	if (!rep)
		rep = &local;
	rc = vt_egress_scan(dir, out, want, rep, NULL, &chain, &found);
	if (rc == 0 && !found)
		rc = -ENOENT;
	if (rc < 0) {
		if (out)
			fprintf(out, "egress log in %s: %s\n", dir,
				rc == -ENOENT ? "not found (neither " VT_EGRESS_FILE " nor " VT_EGRESS_OLD_FILE ")" :
				vt_strerror(rc));
		return rc;
	}
	if (want) {
		rep->want = *want;
		rep->head_verdict = vt_egress_judge(&chain);
	}
	if (out)
		vt_egress_print(out, dir, rep);
	if (out && want)
		vt_egress_print_head(out, rep);
	if (rep->breaks)
		return 1;
	switch (rep->head_verdict) {
	case VT_EGRESS_HEAD_CUT:
	case VT_EGRESS_HEAD_REMOVED:
	case VT_EGRESS_HEAD_REWRITTEN:
		return 1;
	default:
		return 0;
	}
}
