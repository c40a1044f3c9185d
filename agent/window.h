/*
 * window.h - anonymous mode: a plugin's readings become counts per window.
 *
 * One window per plugin in anonymous mode (docs/PRIVACY.md R6-R8). Readings
 * that passed the privacy stage are counted into cells (metric, dim1, dim2,
 * label: see enum vt_metric in reading.h) of the window their time falls
 * in; the window is released as cells when a reading of a later window
 * arrives, when it is over and idle (tick), or on demand (force: at stop).
 * On release, each count gets discrete Laplace noise if configured (R7), a
 * cell below k is merged into its metric's "other" cell (dim2 kept), and an
 * "other" cell still below k is not released at all (R6).
 *
 * RFID presence counts (item, slot) pairs: an item is counted once per
 * reader per slot (the anonymous key's lifetime, 5 minutes), de-duplicated
 * by its keyed digest in a set that is wiped at each slot change.
 *
 * A reading older than the open window (out of order) is counted in the
 * open window. Memory is allocated at creation; no allocation per reading.
 */
#ifndef VT_WINDOW_H
#define VT_WINDOW_H

#include <stdint.h>

#include "clock.h"
#include "noise.h"
#include "reading.h"

#define VT_WINDOW_MAX_CELLS 512		/* per window; beyond, cells go to "other" */
#define VT_WINDOW_DEDUP_SLOTS 8192	/* distinct (item, reader) per slot; a power of 2 */
#define VT_WINDOW_IDLE_MS 10000		/* an ended window waits this long for stragglers */

struct vt_window_conf {
	uint32_t length_s;	/* >= 60 */
	uint32_t k;		/* >= 1 (the config's floor is VT_PRIVACY_K_MIN) */
	uint32_t slot_s;	/* RFID de-duplication slot, divides length_s */
	struct vt_noise *noise;	/* borrowed; NULL: no noise */
	uint32_t epsilon_milli;	/* the noise's, recorded in each cell */
	int dedup;		/* 1: allocate the RFID de-duplication set */
};

struct vt_window_stats {
	uint64_t windows;	/* released */
	uint64_t cells;		/* released, "other" cells included */
	uint64_t merged;	/* cells below k merged into "other" */
	uint64_t suppressed;	/* "other" cells below k, not released */
	uint64_t refused;	/* counts withheld: noise budget spent */
	uint64_t late;		/* readings older than the open window */
	uint64_t overflow;	/* cells or de-duplication set full */
};

/* Called once per released cell; the cell is borrowed for the call.
 * Returns 0 or a negative code (anon.h gives NULL cells a meaning). */
typedef int (*vt_window_sink)(void *arg, const struct vt_reading *cell);

struct vt_window;

int vt_window_new(struct vt_window **out, const struct vt_window_conf *conf);
void vt_window_free(struct vt_window *w);

/* Count one reading (footfall, tablet or rfid, after the privacy stage). A
 * reading of a later window first releases the open one through sink.
 * wall_ms and mono_ms are now (noise budget, idleness). Returns 1 when a
 * window was released, else 0. */
int vt_window_add(struct vt_window *w, const struct vt_reading *r, int64_t wall_ms,
		  int64_t mono_ms, vt_window_sink sink, void *arg);

/* When vt_window_tick() releases the open window. */
enum vt_window_when {
	VT_WINDOW_IF_IDLE = 0,	/* it ended on the wall clock, and had no reading
				 * for VT_WINDOW_IDLE_MS (the loop) */
	VT_WINDOW_NOW = 1,	/* whatever it holds (every source finished) */
	VT_WINDOW_IF_ENDED = 2,	/* it ended on the wall clock (a stop: an open
				 * window waits in the checkpoint instead, so that
				 * no count covers less than a window: R8) */
};

/* Release the open window as `when` says. Returns 1 if released. */
int vt_window_tick(struct vt_window *w, int64_t wall_ms, int64_t mono_ms,
		   enum vt_window_when when, vt_window_sink sink, void *arg);

const struct vt_window_stats *vt_window_stats(const struct vt_window *w);

/* The open window's counts, for a checkpoint: fn is called for each cell
 * (and each "other" sum, with other = 1). Returns 1 and *start_ms when a
 * window is open, else 0. */
int vt_window_visit(const struct vt_window *w, int64_t *start_ms,
		    void (*fn)(void *arg, const struct vt_window_cell *c), void *arg);

/* Add one checkpointed count back into the window starting at start_ms
 * (opening it; a count for another start than the open window's is
 * refused with -EINVAL). */
int vt_window_restore(struct vt_window *w, int64_t start_ms, const struct vt_window_cell *c,
		      int64_t mono_ms);

/* The open window's clock (clock.h): the VT_READING_CLOCK_* of the reading
 * that opened it and, with _UNSYNCED, its start's time since boot (negative
 * when it began before the boot); 0 and 0 when no window is open. Released
 * cells carry both.
 * vt_window_set_clock() restores them after vt_window_restore() (a
 * checkpoint). */
void vt_window_clock(const struct vt_window *w, uint32_t *unsynced, int64_t *start_mono);
void vt_window_set_clock(struct vt_window *w, uint32_t unsynced, int64_t start_mono);

/* The clock became trusted: an open window opened on the untrusted clock
 * moves to the window boundary nearest its corrected start (vt_clock_fix).
 * Returns 1 when it moved. */
int vt_window_fix_clock(struct vt_window *w, struct vt_clock *c);

/* floor(t / d) for d > 0, negative t included: the slot or window index
 * of a time. */
int64_t vt_window_index(int64_t t, int64_t d);

/* The length bucket (dim2 of VT_METRIC_KIOSK_SESSION_LENGTH) of a session:
 * 0 under 30 s, 1 under 1 min, 2 under 2 min, 3 under 5 min, 4 under
 * 10 min, 5 beyond. */
uint32_t vt_window_length_bucket(uint32_t duration_ms);

#endif
