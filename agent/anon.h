/*
 * anon.h - anonymous mode's windows, delivered exactly once across crashes.
 *
 * One window per plugin in anonymous mode (window.h does the counting).
 * What this module adds is durability, so that anonymous mode keeps the
 * promise of the event path: a count accepted before a crash is sent once.
 *
 *  - Checkpoint: at most every checkpoint_ms while counts change (the spool's
 *    group commit period), every open window is written to
 *    state_dir/windows.ckpt.{a,b} (wckpt.h). After a SIGKILL or a power cut
 *    the windows are restored at start: what was counted before the last
 *    checkpoint is kept. (The RFID de-duplication set is not saved: an item
 *    seen in the same 5-minute slot before and after a crash counts twice.)
 *  - Release: a window's final cells (after noise and k) get a release id,
 *    "part", unique per device; the cells are written to the checkpoint as
 *    "releasing", then handed to the sink, then the sink is told to seal and
 *    sync (a NULL cell); only then are they dropped from the next checkpoint.
 *    A crash in between sends the same cells again after restart, with the
 *    same part, and the aggregator keeps one copy of each (window, cell,
 *    part). Noise is drawn once: the checkpoint holds the noised counts.
 *  - Clock: a window opened on an untrusted clock keeps its start since
 *    boot in the checkpoint, with the boot it counts in; restored in the
 *    same boot it is corrected once the clock is trusted, restored in
 *    another it stays flagged for good (VT_READING_CLOCK_LOST).
 *
 * Single-threaded; no allocation per reading.
 */
#ifndef VT_ANON_H
#define VT_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "window.h"

struct vt_anon_conf {
	const char *state_dir;	/* NULL: no checkpoint (tests, --check-config) */
	uint32_t window_s, k;
	struct vt_noise *noise;	/* borrowed; NULL: no noise */
	uint32_t epsilon_milli;
	int64_t checkpoint_ms;	/* at most one checkpoint per this period */
};

struct vt_anon;
struct vt_anon_plugin;

/* Reads the checkpoint of state_dir, if any (restored as plugins register).
 * On error returns a negative code with the reason in err. */
int vt_anon_new(struct vt_anon **out, const struct vt_anon_conf *conf, char *err,
		size_t errlen);
/* Writes a last checkpoint if counts changed, then frees everything. */
void vt_anon_free(struct vt_anon *a);

/* The agent's clock (borrowed, set before plugins register): the boot
 * the checkpoint's times since boot count in, and what corrects windows
 * opened on an untrusted clock (clock.h). */
void vt_anon_set_clock(struct vt_anon *a, struct vt_clock *clock);
/* The clock became trusted: correct the open windows and the released
 * cells not sent yet. */
void vt_anon_fix_clock(struct vt_anon *a);

/* Where released cells go; a NULL cell means "seal and sync what you hold". */
void vt_anon_set_sink(struct vt_anon *a, vt_window_sink sink, void *arg);

/* Register plugin name (dedup: it reads RFID). Its checkpointed open window
 * is restored, and its checkpointed released cells are sent again now.
 * Returns 0 with *out (owned by a), or a negative code with err. */
int vt_anon_plugin(struct vt_anon *a, const char *name, int dedup, int64_t mono_ms,
		   struct vt_anon_plugin **out, char *err, size_t errlen);

/* Count one reading (after the privacy stage) in the plugin's window. */
void vt_anon_add(struct vt_anon *a, struct vt_anon_plugin *ap, const struct vt_reading *r,
		 int64_t wall_ms, int64_t mono_ms);

/* Release windows as `when` says (window.h), and write the
 * checkpoint when due. Call from the loop at least once a second. */
void vt_anon_tick(struct vt_anon *a, int64_t wall_ms, int64_t mono_ms,
		  enum vt_window_when when);

const struct vt_window_stats *vt_anon_plugin_stats(const struct vt_anon_plugin *ap);

/* For tests: free without writing anything, as a crash would leave it. */
void vt_anon_abandon_for_test(struct vt_anon *a);

#endif
