/*
 * gaps.h - "vitrine-aggregator gaps": per device, its acknowledgment
 * watermark and the sequence numbers missing between its first and last
 * stored frame, each range with a kind:
 *
 *   skipped  the device never used those numbers or gave them up: the next
 *            frame's prev_seq jumps over them (the reservation skipped after
 *            a crash), or they are below a later frame's floor_seq;
 *   missing  not received: lost on the way, or still in flight.
 *
 * Read-only, like report.h; needs a database of schema version 2 or later.
 */
#ifndef VT_AGG_GAPS_H
#define VT_AGG_GAPS_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

enum vt_gap_kind {
	VT_GAP_SKIPPED,
	VT_GAP_MISSING,
};

struct vt_gap {
	uint64_t from, to;	/* inclusive */
	enum vt_gap_kind kind;
};

/* Split the numbers strictly between two consecutive stored frames a and b
 * of a device (b > a + 1) by kind, given b's prev_seq and the highest
 * floor_seq of the frames from b on. Writes 1 to 3 ranges in ascending
 * order into out and returns how many. */
int vt_gaps_classify(uint64_t a, uint64_t b, uint64_t b_prev, uint64_t later_floor,
		     struct vt_gap out[3]);

/* Print, for device (NULL: every device with stored frames, in id order),
 * a summary line (site of its latest frame, first and last seq, frames
 * stored, watermark, count of missing numbers) and one line per range; with
 * json, one object per device and line (docs/AGGREGATOR.md). Returns 0,
 * -ENOENT (device given, no frame stored from it; said on stderr), -ENOMEM,
 * -EIO or -VT_EDB. */
int vt_gaps_report(sqlite3 *db, FILE *out, const char *device, int json);

#endif
