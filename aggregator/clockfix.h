/*
 * clockfix.h - the aggregator's side of readings taken before a device's
 * clock was trusted (docs/PROTOCOL.md, "Clock not synchronized").
 *
 * A flagged reading is stored with its device's time as it was, the flag
 * (clock_unsynced = 1), its time since boot (mono_ms) and the boot
 * (boot_id). A correction, {boot, offset}, comes in a later frame: it is
 * kept in clock_corrections (one per device and boot), applied at once to
 * the flagged rows of that boot already stored, and to every flagged row
 * of that boot stored later (a frame still in the device's spool, resent
 * out of order): time_ms = mono_ms + offset (a window cell: the window
 * boundary nearest to it, vt_clock_window_start()), flag cleared, mono_ms
 * and boot_id kept to show the time was corrected. The order of arrival
 * does not matter: the result is the same either way.
 *
 * A window cell corrected onto a cell already stored under the corrected
 * time with the same part is a copy (a window the device sent again after
 * a restart, corrected there): the flagged row goes, its frame's readings
 * count drops, and it counts in window_cells_duplicate, as a copy stored
 * the other way round would have.
 *
 * All of it runs inside the caller's transaction (store.c's savepoint per
 * frame). This file does not open or commit anything.
 */
#ifndef VT_AGG_CLOCKFIX_H
#define VT_AGG_CLOCKFIX_H

#include <stdint.h>

#include <sqlite3.h>

#include "vitrine/v1/batch.pb-c.h"

struct vt_clockfix;

/* What one frame did, and what its readings need. */
struct vt_clockfix_frame {
	const Vitrine__V1__Batch *b;	/* borrowed */
	size_t next;			/* the next entry of b->unsynced */
	const uint8_t *boot_id;		/* the Batch's (borrowed), NULL: none */
	int have_offset;		/* a correction of that boot is known */
	int64_t offset_ms;
	uint64_t corrected;		/* rows whose time was corrected */
	uint64_t copies;		/* flagged window rows dropped as copies */
	uint64_t unsynced;		/* flagged readings of this frame */
};

/* Prepare the statements on db (schema version 5). Returns 0 or -VT_EDB;
 * free with vt_clockfix_free(). */
int vt_clockfix_open(sqlite3 *db, struct vt_clockfix **out);
void vt_clockfix_free(struct vt_clockfix *cf);

/* Before the frame's readings are stored: keep its correction, if it
 * carries one (the lowest sequence number's stays: the offsets of one boot
 * differ only by the device clock's drift), correct the stored rows of its
 * boot, and find the correction that applies to the frame's own readings.
 * Returns 0 or -VT_EDB. */
int vt_clockfix_begin(struct vt_clockfix *cf, const char *device, uint64_t seq,
		      const Vitrine__V1__Batch *b, int64_t received_at_ms,
		      struct vt_clockfix_frame *f);

/* The time to store for reading idx of the frame, r (t as the device
 * stamped it), and its three clock columns, bound at col, col + 1, col + 2
 * of s: clock_unsynced, mono_ms and boot_id (NULL, NULL for a reading never
 * flagged, or flagged boot_unknown). Readings come in increasing idx. */
int64_t vt_clockfix_reading(struct vt_clockfix_frame *f, size_t idx,
			    const Vitrine__V1__Reading *r, int64_t t, sqlite3_stmt *s, int col);

#endif
