/*
 * plugins/rfid/presence.h - from tag reads to presence readings.
 *
 * A fixed UHF reader reports a tag each time one of its antennas singulates
 * it: a tag lying near an antenna is read tens of times a second, by
 * several antennas. Within a window of window_ms, all the reads of one tag
 * (its EPC) by one reader become one presence: first seen (the reading's
 * time), last seen (as dwell_ms after it), the number of reads, and the
 * antenna and RSSI of the strongest read. Windows are aligned on the
 * reads' UTC time (window index = utc_us / window_us).
 *
 * A tag has at most one presence per reader and window: a read of a window
 * already closed (a reader whose clock lags the others', a report that
 * came late) is counted in the next window and dated at its start, and
 * counted in late_reads. Only a window closed early because the table was
 * full can be opened again.
 *
 * The table is allocated once (capacity `cap` tags) and never grows; when
 * it is full, or when a read of a later window arrives, the caller closes
 * the window and takes its presences out before adding the read again. No
 * allocation after init, no I/O, no clock of its own.
 */
#ifndef VT_RFID_PRESENCE_H
#define VT_RFID_PRESENCE_H

#include <stdint.h>

#include "source.h"

struct rfid_presence_item;

struct rfid_presence {
	struct rfid_presence_item *items;	/* cap slots, open addressing */
	uint32_t *order;	/* used slots in the order they were first seen */
	uint32_t cap, count;
	uint32_t next;		/* next of `order` to take out of a closed window */
	int closed;		/* rfid_presence_close() called, not all taken yet */
	int64_t window_us;
	int64_t window;		/* index of the open window (valid when count) */
	int full;		/* the open window was refused a tag: table full */
	int has_closed;		/* closed_window is set */
	int64_t closed_window;	/* the last window closed while not full */
	uint64_t reads_in, presences_out, early_closes, late_reads;
};

/* Allocates a table of cap tags (16..1000000) for windows of window_us
 * (> 0). 0, -EINVAL or -ENOMEM; free with rfid_presence_free(). */
int rfid_presence_init(struct rfid_presence *p, uint32_t cap, int64_t window_us);
void rfid_presence_free(struct rfid_presence *p);

/* Adds one read (rep->utc_us set, rep->epc_bits 96; rep->reads 0 counts as
 * 1, rep->dwell_ms extends its last-seen time). Returns 0 when it was
 * added, 1 when the window must be closed and emptied first (the read is
 * of a later window, or the table is full: counted in early_closes), in
 * which case nothing was added. */
int rfid_presence_add(struct rfid_presence *p, const struct rfid_tag_report *rep);

/* Closes the open window: its presences come out of rfid_presence_next(). */
void rfid_presence_close(struct rfid_presence *p);

/* The next presence of the closed window, in the order its tags were
 * first reported, into
 * *out (utc_us = first seen, reads, dwell_ms = last - first seen, antenna
 * and rssi of the strongest read). 1, or 0 when the window is empty (the
 * table is then ready for the next window). */
int rfid_presence_next(struct rfid_presence *p, struct rfid_tag_report *out);

#endif /* VT_RFID_PRESENCE_H */
