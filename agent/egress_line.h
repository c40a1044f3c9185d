/*
 * egress_line.h - private to the egress log: what its three files share, so
 * that a line is written from the same pieces the parser checks it
 * against, and open resumes after exactly the records an auditor's
 * vt_egress_verify() accepts. egress_text.c defines the line's pieces and
 * its parser (time, category name, hash, vt_egress_line_parse()); the
 * writer (egress.c) builds lines from them, the reader (egress_verify.c)
 * checks lines with them and defines vt_egress_line_scan(), which the
 * writer runs at open. The line format itself is described in egress.h.
 *
 * Not for other modules: they use egress.h.
 */
#ifndef VT_EGRESS_LINE_H
#define VT_EGRESS_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "egress.h"

#define VT_EGRESS_LINE_TIME_LEN 20	/* YYYY-MM-DDTHH:MM:SSZ */

/* ms as a line's START or END: YYYY-MM-DDTHH:MM:SSZ (UTC, clamped to the
 * years 1970-9999) and a NUL. The parser accepts this form and no other. */
void vt_egress_line_time(int64_t ms, char out[VT_EGRESS_LINE_TIME_LEN + 1]);

/* 1 if name (borrowed; NULL gives 0) is a CAT, [a-z0-9_.]{1,31}, the
 * alphabet the parser accepts; else 0. */
int vt_egress_line_cat_valid(const char *name);

/* The HASH of a line: SHA-256 of its len bytes at text (from "v1" to the
 * last hex digit of PREV). Returns 0, or mbedtls's nonzero error. */
int vt_egress_line_hash(const char *text, size_t len, uint8_t hash[32]);

/* One line as parsed; names point into the line (borrowed). */
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

/* Parse a line of len bytes at text (borrowed; without its "\n") into r
 * (zeroed first). Checks the form only, not the hash: r->hashed_len says
 * what vt_egress_line_hash() covers. Returns NULL, or what is wrong with
 * the line (static words, for an operator). */
const char *vt_egress_line_parse(const char *text, size_t len, struct vt_egress_rec *r);

/* The last line of egress.log as open found it, when it has to go. */
struct vt_egress_line_cut {
	int found;			/* torn, junk or altered: cut it */
	int torn;			/* no "\n": what a crash leaves; else damage or an edit */
	uint64_t off;			/* where the line starts: truncate there */
	uint64_t line, bytes;		/* its 1-based number and length */
	const char *why;		/* static words, for the log */
};

/* For vt_egress_open(): check egress.log.1 then egress.log in dir (borrowed)
 * as vt_egress_verify() does, into rep (zeroed first; nothing printed), but
 * a last line of egress.log that is torn, does not parse or whose hash
 * does not match is left out of the chain and described in cut (zeroed
 * first) for the caller to truncate. seq and hash receive where the next
 * record continues: the last line that parsed, even with a wrong hash, so
 * that a damaged line is the only break it causes; 0 and 32 zero bytes if
 * none. Returns 0 (missing files are empty, not an error) or -errno. */
int vt_egress_line_scan(const char *dir, struct vt_egress_report *rep,
			struct vt_egress_line_cut *cut, uint64_t *seq, uint8_t hash[32]);

#endif
