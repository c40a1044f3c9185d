/*
 * store.h - the aggregator's SQLite database: frames, readings, counters.
 *
 * One writer (vitrine-aggregator run) stores opened frames in group-commit
 * transactions: the first change opens a transaction, vt_store_commit()
 * closes it, and the run loop calls that every commit_interval_ms. Readers
 * (report, watch, export, stats, gaps, windows) open the same file
 * read-only; WAL mode lets them run while the writer works. Schema:
 * docs/AGGREGATOR.md.
 *
 * The writer also keeps each device's acknowledgment watermark (acks.h) in
 * the same transactions as the frames, so that what it may acknowledge and
 * what is stored never disagree, even after a crash.
 *
 * This file does not open frames or talk MQTT; it trusts that a Batch given
 * to vt_store_put() came out of vt_agg_receive().
 */
#ifndef VT_AGG_STORE_H
#define VT_AGG_STORE_H

#include <stdint.h>

#include <sqlite3.h>

#include "acks.h"
#include "frame.h"
#include "receive.h"

/* The counters kept in the counters table ("frames_ok", ...,
 * "window_cells_duplicate", "rejected_<reason>" for every reason). */
enum vt_store_counter {
	VT_STORE_FRAMES_OK = 0,
	VT_STORE_READINGS_OK,
	VT_STORE_READINGS_SKIPPED,	/* reading kinds this build does not know */
	VT_STORE_WINDOW_CELLS_DUPLICATE, /* window cells already stored with the
					  * same part: not stored again */
	VT_STORE_READINGS_UNSYNCED,	/* readings a device flagged clock_unsynced */
	VT_STORE_READINGS_CLOCK_CORRECTED, /* flagged readings given their real
					    * time (clockfix.h) */
	VT_STORE_REJECTED,		/* + enum vt_agg_reason (1 ..) */
	VT_STORE_COUNTERS = VT_STORE_REJECTED + VT_AGG_REASON_COUNT
};

/* Name of a counter ("frames_ok", "rejected_bad_tag"); never NULL. */
const char *vt_store_counter_name(int counter);

struct vt_store;

#define VT_STORE_READWRITE 0
#define VT_STORE_READONLY 1

/* PRAGMA user_version of the schema this build writes. A read-write open
 * upgrades an older database in place (version 1: frames without prev_seq
 * and floor_seq, no acks table; version 2: no windows table; version 3: rfid
 * without reads and dwell_ms; version 4: readings without clock_unsynced,
 * mono_ms and boot_id, no clock_corrections) and refuses a newer one, and a windows table
 * without part (a development build). Read-only opens leave the version
 * alone: readers of the windows table treat its absence as "no window
 * counts stored". */
#define VT_STORE_SCHEMA_VERSION 5
/* The first version with the readings' clock columns and clock_corrections. */
#define VT_STORE_SCHEMA_CLOCK 5
/* The first version with the windows table. */
#define VT_STORE_SCHEMA_WINDOWS 3
/* The first version with frames.prev_seq and floor_seq and the acks table
 * (what gaps needs). */
#define VT_STORE_SCHEMA_CHAIN 2

/* Open (read-write: create file and schema if missing or upgrade it, WAL
 * mode, load the watermarks) path. Returns 0 or VT_EDB / -errno; a message
 * for the operator in err. Close with vt_store_close(). */
int vt_store_open(const char *path, int mode, struct vt_store **out, char *err, size_t errlen);

/* Commit what is pending, finalize statements, close. NULL is a no-op. */
int vt_store_close(struct vt_store *st);

/* vt_store_put(): (device, seq) was already stored. Not an error: a device
 * resends what it has not seen acknowledged. */
#define VT_STORE_DUPLICATE 1

/* Store one opened frame (its header and Batch, both borrowed) inside the
 * current group transaction, opening one if needed, and apply it to its
 * device's watermark. Returns 0, VT_STORE_DUPLICATE (counted as
 * rejected_duplicate, nothing stored, the device's watermark due again),
 * -ENOMEM or -VT_EDB (nothing of this frame stored).
 *
 * A window cell whose (device, start, length, metric, dim1, dim2, label,
 * other, part) is already stored is a copy of a window the device sent
 * again after a crash: skipped and counted in window_cells_duplicate. The
 * frame is stored all the same (returns 0), and its frames.readings counts
 * the rows it did add, 0 if it held only copies. */
int vt_store_put(struct vt_store *st, const struct vt_frame_header *h,
		 const Vitrine__V1__Batch *b, int64_t received_at_ms);

/* Count one rejected message. */
void vt_store_reject(struct vt_store *st, enum vt_agg_reason reason);

/* Is a transaction or a counter change waiting for vt_store_commit(), and
 * since when (vt_os_mono_ms())? */
int vt_store_pending(const struct vt_store *st, int64_t *since_mono_ms);

/* Advance the watermarks of the devices stored to (acks.h), write pending
 * counter changes and commit. Only then do the advanced watermarks become
 * due for publishing. Returns 0 or -VT_EDB (the pending frames are rolled
 * back; their devices resend them, since they were never acknowledged). */
int vt_store_commit(struct vt_store *st);

/* Counts since this process opened the store (not the table's totals). */
uint64_t vt_store_session_count(const struct vt_store *st, int counter);

/* The connection, for read-only queries (report.c, watch.c). Borrowed. */
sqlite3 *vt_store_db(struct vt_store *st);

/* The watermarks (acks.h) of a read-write store; NULL when read-only.
 * Borrowed, valid until vt_store_close(). */
struct vt_acks *vt_store_acks(struct vt_store *st);

#endif
