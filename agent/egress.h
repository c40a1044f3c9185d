/*
 * egress.h - the hash-chained egress log (privacy rule R14): what categories
 * of data left the device, when and how much, in a file an auditor can read
 * with a text editor and check with sha256sum, and in which a cut or an
 * edit shows.
 *
 * The log is STATE_DIR/egress.log (mode 0600), one record per line, plus
 * the previous file STATE_DIR/egress.log.1 after a rotation. A line is
 *
 *   v1 SEQ START END CAT=FRAMES/ITEMS/BYTES[ CAT=FRAMES/ITEMS/BYTES...] prev=PREV hash=HASH\n
 *
 * with single spaces and nothing else, for example (one line):
 *
 *   v1 7 2025-06-01T10:00:00Z 2025-06-01T10:01:00Z footfall.events=12/480/9311
 *   status=1/1/402 prev=5e0c...(64 hex) hash=9a41...(64 hex)
 *
 *   v1      the record version; a reader refuses any other.
 *   SEQ     the record's number, 1 for a device's first record, then +1 per
 *           record; decimal, 1 to 19 digits, no leading zero.
 *   START   UTC time of the first egress counted in this record, and
 *   END     UTC time the record was written, both YYYY-MM-DDTHH:MM:SSZ (the
 *           agent's wall clock: 1970 means the clock was not set yet; START
 *           may follow END if the clock was set back meanwhile).
 *   CAT     a category of data, [a-z0-9_.]{1,31} ("footfall.events",
 *           "rfid.events", "status"); 1 to 16 per line, each at most once,
 *           in no particular order. FRAMES = messages sent, ITEMS =
 *           readings or windows in them, BYTES = bytes sent; decimal, 1 to
 *           19 digits, no leading zero. Only categories with egress since
 *           the previous record appear.
 *   PREV    the HASH of the previous record, 64 lowercase hex digits; 64
 *           zeros for SEQ 1.
 *   HASH    SHA-256 of the line's bytes from "v1" up to and including the
 *           last hex digit of PREV (not the space before "hash="), in
 *           lowercase hex.
 *
 * A line is at most VT_EGRESS_LINE_MAX bytes before its "\n". Checking by
 * hand (any POSIX sh and coreutils; tests/unit/egress_test.c runs this very
 * loop), in this order: egress.log.1 (if present), then egress.log; each
 * line's hash, then each prev against the line before; silence is success:
 *
 *   cat egress.log.1 egress.log 2>/dev/null | while IFS= read -r l; do
 *     h=$(printf '%s' "${l% hash=*}" | sha256sum | cut -c1-64)
 *     p=${l##* prev=}; p=${p%% *}
 *     [ "$h" = "${l##* hash=}" ] || echo "hash mismatch: $l"
 *     [ -z "$last" ] || [ "$p" = "$last" ] || echo "prev mismatch: $l"
 *     last=${l##* hash=}
 *   done
 *
 * What the chain proves, and what it does not. The hash is not keyed:
 * whoever can write the file can recompute every hash after a change. On
 * its own the chain shows damage and naive edits (a line changed, removed,
 * inserted or moved); against a deliberate forger, and against a cut tail,
 * it needs heads kept elsewhere: the agent publishes the head (SEQ and
 * HASH of the newest record, vt_egress_head()) in its status, and an
 * archive of those statuses keeps them (the aggregator does not yet). A
 * log is intact if it verifies AND every archived (SEQ, HASH) of the
 * device is a line of it (grep '^v1 SEQ ' egress.log.1 egress.log, then compare the hash; or
 * "vitrine-agent --egress --head SEQ:HASH", vt_egress_verify_head()); a
 * log whose head is older than the last published head was cut, and one
 * that lacks a published (SEQ, HASH) was rewritten from before it.
 *
 * Rotation: when appending a record would take egress.log past max_bytes,
 * egress.log is renamed egress.log.1 (replacing the older one, whose
 * records are then gone) and the record starts a new egress.log; its prev
 * is the last hash of egress.log.1, so the chain runs across both files.
 * A chain that starts at SEQ > 1 in egress.log.1 is normal (older records
 * were rotated out); one that starts at SEQ > 1 in egress.log while
 * egress.log.1 is missing or empty is reported as a break.
 *
 * Crash safety: each record is one write() of the whole line then
 * fdatasync(). At open the whole log is verified; a torn last line of
 * egress.log (no "\n", or a last line that does not parse or whose hash
 * does not match) is what a crash during a write leaves, and is cut with
 * ftruncate(). Any other break is evidence and stays: open reports it and
 * the log continues after the last line (the next record follows the last
 * line's SEQ and HASH, so only the damaged line shows as a break).
 *
 * Wear: vt_egress_add() only counts in memory (no allocation, no I/O); at
 * most one record per interval_ms is appended, and only when something was
 * added. Memory is constant: the file is read line by line.
 *
 * What this module does not do: decide what counts as egress (the caller
 * calls vt_egress_add() where data leaves), publish the head, or keep the
 * published heads (the aggregator's side).
 *
 * Files: egress.c writes the log (open, add, tick, flush, rotation);
 * egress_text.c holds a line's text pieces and the strict parser;
 * egress_verify.c the chain check that vt_egress_open() and
 * vt_egress_verify() both run, and the head check; egress_line.h is the
 * private part they share.
 */
#ifndef VT_EGRESS_H
#define VT_EGRESS_H

#include <stdint.h>
#include <stdio.h>

#define VT_EGRESS_FILE "egress.log"
#define VT_EGRESS_OLD_FILE "egress.log.1"
#define VT_EGRESS_MAX_CATS 16		/* categories per agent run and per line */
#define VT_EGRESS_CAT_LEN 31		/* longest category name */
#define VT_EGRESS_LINE_MAX 2048		/* longest line, "\n" excluded */
#define VT_EGRESS_COUNT_MAX 9999999999999999999ULL	/* 19 digits; counts saturate */
#define VT_EGRESS_INTERVAL_MS 60000
#define VT_EGRESS_MAX_BYTES (1u << 20)
#define VT_EGRESS_REPORT_CATS 32	/* categories a report totals */

struct vt_egress_conf {
	const char *dir;	/* the agent's state_dir (created 0700 if missing); copied */
	int64_t interval_ms;	/* at most one record per interval; 0: VT_EGRESS_INTERVAL_MS */
	uint64_t max_bytes;	/* rotate beyond this; 0: VT_EGRESS_MAX_BYTES */
};

/* Why a line breaks the chain. */
enum vt_egress_break {
	VT_EGRESS_INTACT = 0,
	VT_EGRESS_BAD_SYNTAX,	/* not a record this agent writes */
	VT_EGRESS_BAD_HASH,	/* changed after it was written */
	VT_EGRESS_SEQ_GAP,	/* SEQ is not the previous SEQ + 1 */
	VT_EGRESS_BAD_PREV,	/* PREV is not the previous record's HASH */
	VT_EGRESS_TORN,		/* the last line has no "\n" */
	VT_EGRESS_NO_HISTORY,	/* starts at SEQ > 1 without egress.log.1 */
};

/* A head published earlier (the status's "egress" object), to look for. */
struct vt_egress_head_check {
	uint64_t seq;			/* 0: the empty log's head (hash all zeros) */
	uint8_t hash[32];
};

/* What became of that head in the log. */
enum vt_egress_head_verdict {
	VT_EGRESS_HEAD_UNCHECKED = 0,	/* no head was given */
	VT_EGRESS_HEAD_PRESENT,		/* record SEQ has exactly HASH (or, rotated
					 * out, the next record's prev is HASH) */
	VT_EGRESS_HEAD_CUT,		/* SEQ is past the log's end */
	VT_EGRESS_HEAD_REMOVED,		/* within the log's range, but no line has SEQ */
	VT_EGRESS_HEAD_REWRITTEN,	/* record SEQ has another hash, or was changed */
	VT_EGRESS_HEAD_ROTATED,		/* older than the oldest record kept: cannot tell */
};

struct vt_egress_total {
	char name[VT_EGRESS_CAT_LEN + 1];
	uint64_t frames, items, bytes;	/* saturate at UINT64_MAX */
};

/* What a check of the log found. Plain data: copy it freely. */
struct vt_egress_report {
	uint64_t records;		/* lines that parse and whose hash matches */
	uint64_t first_seq;		/* of the first such line; > 1: older ones rotated out */
	int64_t first_ms, last_ms;	/* START of the first, END of the last, in ms */
	uint64_t head_seq;		/* the last such line; 0 and zeros if none */
	uint8_t head[32];
	uint32_t breaks;		/* broken places */
	enum vt_egress_break first_break;
	const char *break_file;		/* VT_EGRESS_FILE or VT_EGRESS_OLD_FILE (static) */
	uint64_t break_line;		/* 1-based */
	char break_detail[160];		/* for an operator: what is wrong */
	int has_old, has_cur;		/* egress.log.1, egress.log exist */
	uint64_t old_lines, cur_lines;	/* lines in each */
	uint64_t cut_bytes;		/* vt_egress_open only: torn tail removed */
	uint64_t cut_line;
	unsigned ncats;
	struct vt_egress_total cats[VT_EGRESS_REPORT_CATS];
	uint64_t untotalled;		/* category entries beyond the table */
	uint64_t seq_lo, seq_hi;	/* lowest, highest SEQ of the lines that parse
					 * (hash right or wrong); 0 if none */
	struct vt_egress_head_check want;	/* vt_egress_verify_head() only: the head */
	enum vt_egress_head_verdict head_verdict;	/* looked for, and what became of it */
};

struct vt_egress_stats {
	uint64_t records;		/* appended since open */
	uint64_t write_errors;		/* appends that failed (counts kept, retried) */
	uint64_t rotations;
	uint64_t refused;		/* vt_egress_add() calls refused */
};

struct vt_egress;

/* Open (verify, repair a torn tail, then append to) the log in conf->dir.
 * A broken chain is not an error: it is logged and left in the report
 * (vt_egress_opened()). Returns 0, or -errno when the directory or a log
 * file cannot be used (nothing is then recorded: the caller decides
 * whether the agent may run without its egress log). Caller frees with
 * vt_egress_close(). */
int vt_egress_open(struct vt_egress **out, const struct vt_egress_conf *conf);
/* Append what is pending (at the wall clock's time), then free. NULL: no-op. */
void vt_egress_close(struct vt_egress *e);

/* Count one egress of category (borrowed; copied the first time it is seen)
 * at now_ms (UTC wall clock, vt_os_now_ms()). In memory only, no
 * allocation. All-zero counts register the category and record nothing.
 * Returns 0, -EINVAL (name not [a-z0-9_.]{1,31}) or -VT_EFULL (a 17th
 * category); a refused call is counted and logged (rate-limited) and
 * changes nothing. */
int vt_egress_add(struct vt_egress *e, const char *category, uint64_t frames, uint64_t items,
		  uint64_t bytes, int64_t now_ms);

/* From the agent's loop: append a record if something was added and the
 * last record of this run is interval_ms old (the first one at once; a
 * wall clock set back makes it due). Returns 0, or a negative code when the
 * write failed: the counts stay pending and are retried an interval later. */
int vt_egress_tick(struct vt_egress *e, int64_t now_ms);
/* Append what is pending now, whatever the interval (clean shutdown). */
int vt_egress_flush(struct vt_egress *e, int64_t now_ms);
/* Milliseconds until vt_egress_tick() has something to do; -1: nothing pending. */
int64_t vt_egress_ms_left(const struct vt_egress *e, int64_t now_ms);

/* The newest record: its SEQ and HASH (what the next record's prev will
 * be). SEQ 0 and 32 zero bytes when the log is empty. For the status. */
void vt_egress_head(const struct vt_egress *e, uint8_t hash[32], uint64_t *seq);
/* hash as 64 lowercase hex digits and a NUL. */
void vt_egress_hex(const uint8_t hash[32], char hex[65]);

/* What open found (breaks, torn tail cut); borrowed, lives as e does. */
const struct vt_egress_report *vt_egress_opened(const struct vt_egress *e);
const struct vt_egress_stats *vt_egress_stats(const struct vt_egress *e);

/* For auditors ("vitrine-agent --egress"): check dir/egress.log.1 (if
 * present) then dir/egress.log without changing them. If out is not NULL,
 * print one line per broken place (file:line: why; the first 50) and a
 * summary: files, records and seq range, period, per-category totals, head,
 * verdict. rep (may be NULL) receives the figures. Returns 0 (intact), 1
 * (broken: see rep), or -errno (-ENOENT: no log in dir). */
int vt_egress_verify(const char *dir, FILE *out, struct vt_egress_report *rep);

/* vt_egress_verify(), and also look for a head published earlier (want,
 * borrowed; NULL: none, which is vt_egress_verify()): rep->head_verdict
 * says whether record want->seq is in the log with exactly want->hash, and
 * out gets one more line, "checked   head seq N: " and the verdict. For a
 * head just before the oldest record kept, that record's prev is what
 * tells (PRESENT or REWRITTEN); an older one is ROTATED: cannot tell, and
 * not an error. Returns 0 (chain intact, and the head present or rotated
 * out), 1 (chain broken, or the head cut, removed or rewritten), or -errno
 * as vt_egress_verify(). */
int vt_egress_verify_head(const char *dir, FILE *out, const struct vt_egress_head_check *want,
			  struct vt_egress_report *rep);

/* Parse text (borrowed) as SEQ:HEX, the form "--head" takes: SEQ decimal
 * (1-19 digits, no leading zero), HEX 64 hex digits (either case). SEQ 0
 * is accepted only with 64 zeros (the empty log's head). Returns 0, or
 * -EINVAL with *why (static words, for an operator) saying what is wrong. */
int vt_egress_head_parse(const char *text, struct vt_egress_head_check *want, const char **why);

/* Words for a break reason, never NULL. */
const char *vt_egress_break_name(enum vt_egress_break why);

#endif
