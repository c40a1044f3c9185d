/*
 * clock.h - whether the wall clock can be trusted, and the time of the
 * readings taken while it cannot.
 *
 * A Raspberry Pi has no real-time clock: it boots at 1970, or at the time
 * fake-hwclock saved at the last shutdown, and learns the real time from
 * NTP later, if ever. A reading stamped meanwhile is flagged clock_unsynced
 * with its time since boot (mono_ms, CLOCK_BOOTTIME: suspends count), and
 * corrected once the clock is trusted: in the agent at once while it is
 * still there (open batch, windows), at the aggregator from a correction
 * that the next frame carries once it has left. docs/PROTOCOL.md, "Clock
 * not synchronized", is the reference.
 *
 * Trusted = the wall clock is past VT_OS_CLOCK_SET_MS and, with
 * clock_require_sync, an NTP client has synchronized it (vt_clock_decide).
 * Once trusted it stays so while past VT_OS_CLOCK_SET_MS: NTP losing sync
 * for a while leaves a clock that was right.
 *
 * Plugins stamp their readings themselves, often as an epoch taken when
 * their source opened plus a monotonic time (so they may still use the
 * clock of before a step), or from a device's own clock (an LLRP reader's
 * UTC). vt_clock_stamp() takes each reading's time to the offset
 * (wall - boottime) that explains it best: the current one, or one the
 * clock had while not trusted in this run.
 *
 * This file does no I/O per reading; vt_clock_tick() reads the clocks
 * (and, at most every VT_CLOCK_POLL_MS while not trusted, the kernel's
 * NTP state), and a small state file (state_dir/clock) remembers across
 * restarts of the agent in one boot that a correction is owed.
 */
#ifndef VT_CLOCK_H
#define VT_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "reading.h"
#include "vt_os.h"

#define VT_CLOCK_STEP_MS 1000		/* a move of wall - boottime beyond this is a step */
#define VT_CLOCK_POLL_MS 2000		/* NTP state read this often while not trusted */
#define VT_CLOCK_MATCH_MS (2 * 3600 * 1000LL)	/* a reading farther from every offset
						 * comes from a device's own clock */
#define VT_CLOCK_OFFSETS 4		/* untrusted offsets remembered per run */
#define VT_CLOCK_FILE "clock"

struct vt_clock_conf {
	int require_sync;	/* clock_require_sync: wait for NTP, not only a set clock */
	const char *state_dir;	/* NULL: no state file (tests) */
	const uint8_t *boot_id;	/* NULL: the kernel's; tests give one (a "reboot") */
};

struct vt_clock_stats {
	uint64_t flagged;	/* readings stamped clock_unsynced */
	uint64_t corrected;	/* flagged readings corrected in the agent */
};

struct vt_clock;

/* Reads the boot id (a random one, with a warning, if it cannot) and the
 * state file; nothing is decided before the first vt_clock_tick() or
 * vt_clock_update() (until then the clock counts as not trusted). Returns
 * 0 or -errno. Free with vt_clock_free(). */
int vt_clock_open(struct vt_clock **out, const struct vt_clock_conf *conf);
void vt_clock_free(struct vt_clock *c);

/* The rule: trusted when the wall clock is set and, if required, synced
 * (synced > 0). */
int vt_clock_decide(int64_t wall_ms, int require_sync, int synced);

/* Read the kernel's state if due and update. Call once per loop turn.
 * Returns 1 when the clock just became trusted (the caller then corrects
 * what it holds, vt_pipeline_clock_synced()), else 0. */
int vt_clock_tick(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms);

/* The same, with the NTP state given: synced 1 or 0, or -1 for "not read
 * this time" (the last one read holds). */
int vt_clock_update(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms, int synced);

/* Between two ticks, before readings are stamped (after poll() returns):
 * while the clock is not trusted, take a step of it into account at once,
 * so that a reading stamped on the stepped clock before the next tick is
 * matched to the new offset, not to the old one (which would put its time
 * since boot off by the step). Decides nothing: trust changes only in a
 * tick. Two clock reads, nothing when trusted. */
void vt_clock_observe(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms);

int vt_clock_trusted(const struct vt_clock *c);
const uint8_t *vt_clock_boot_id(const struct vt_clock *c);

/* A reading's clock fields from its time_ms, at mono_ms (now): flagged
 * with its time since boot while the clock is not trusted; while it is,
 * a reading stamped on an untrusted offset of this run is corrected at
 * once (time_ms changed). */
void vt_clock_stamp(struct vt_clock *c, struct vt_reading *r, int64_t mono_ms);

/* Correct a flagged reading in place if this boot's clock has been
 * trusted: time_ms = mono_ms + the offset of the correction (a window
 * cell: its start taken to the nearest window boundary), flag cleared.
 * Returns 1 when corrected, 0 when not (not flagged, not trusted yet, or
 * VT_READING_CLOCK_LOST). */
int vt_clock_fix(struct vt_clock *c, struct vt_reading *r);

/* The corrected time of mono_ms (time since this boot), and of a window
 * start: the nearest multiple of length_ms (half way: the later one). Pure
 * arithmetic, which the aggregator's SQL repeats (clockfix.c). */
int64_t vt_clock_corrected(int64_t mono_ms, int64_t offset_ms);
int64_t vt_clock_window_start(int64_t mono_ms, int64_t offset_ms, int64_t length_ms);

/* The correction the next frame must carry: 1 with *offset_ms when frames
 * with flagged readings of this boot left and no correction followed, and
 * the clock is trusted now; else 0. */
int vt_clock_correction_due(const struct vt_clock *c, int64_t *offset_ms);
/* The pipeline spooled a frame holding flagged readings of this boot. */
void vt_clock_unsynced_sealed(struct vt_clock *c);
/* The pipeline spooled a frame carrying the correction. */
void vt_clock_correction_sealed(struct vt_clock *c);

const struct vt_clock_stats *vt_clock_stats(const struct vt_clock *c);

/* ,"clock":{...} of the status message; returns the length written
 * (truncated at cap like snprintf). */
size_t vt_clock_status_json(const struct vt_clock *c, int64_t mono_ms, char *json, size_t cap);

#endif
