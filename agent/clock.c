/*
 * clock.c - trusted or not, the stamping of readings, and the correction
 * owed to the aggregator (clock.h).
 *
 * What this file does not do: correct what the pipeline or the windows
 * hold (they call vt_clock_fix()), or put anything on the wire (batch.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

struct vt_clock {
	int require_sync;
	char *state_path;		/* NULL: no state file */
	uint8_t boot_id[VT_OS_BOOT_ID_LEN];
	int started;			/* updated at least once */
	int trusted;
	int synced;			/* the NTP state last read */
	int ntp_warned;			/* adjtimex unreadable: said once */
	int64_t offset_ms;		/* wall - boottime, moved only by steps */
	int64_t untrusted[VT_CLOCK_OFFSETS];	/* offsets while not trusted, this run */
	int n_untrusted;
	int have_sync;			/* this boot's clock was trusted: */
	int64_t sync_offset_ms;		/* ... its offset then, for every correction */
	int owed;			/* flagged frames left, no correction after them */
	int64_t next_poll_mono;
	int64_t unsynced_mono;		/* since when not trusted (this run) */
	struct vt_clock_stats stats;
};

static int64_t vt_clock_abs(int64_t v)
{
	return v < 0 ? -v : v;
}

/* ---- the state file: "<boot id hex> <owed 0|1> <sync offset or ->\n" ---------------- */

static void vt_clock_save(struct vt_clock *c)
{
	char text[96];
	int n = 0;

	if (!c->state_path)
		return;
	for (int i = 0; i < VT_OS_BOOT_ID_LEN; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", c->boot_id[i]);
	if (c->have_sync)
		n += snprintf(text + n, sizeof(text) - (size_t)n, " %d %" PRId64 "\n", c->owed,
			      c->sync_offset_ms);
	else
		n += snprintf(text + n, sizeof(text) - (size_t)n, " %d -\n", c->owed);
	if (vt_os_write_file_atomic(c->state_path, text, (size_t)n, 0600) < 0)
		VT_WARN("cannot write %s: if the agent restarts before its next correction, readings flagged before the clock was synchronized may stay flagged",
			c->state_path);
}

/* What an earlier run of this boot left: a correction owed, the offset. */
static void vt_clock_load(struct vt_clock *c)
{
	char hex[2 * VT_OS_BOOT_ID_LEN + 1], *text = NULL, offset[24];
	size_t len;
	int owed;

	if (vt_os_read_file(c->state_path, 256, &text, &len) < 0)
		return;
	for (int i = 0; i < VT_OS_BOOT_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", c->boot_id[i]);
	if (len > 2 * VT_OS_BOOT_ID_LEN && memcmp(text, hex, 2 * VT_OS_BOOT_ID_LEN) == 0 &&
	    sscanf(text + 2 * VT_OS_BOOT_ID_LEN, " %d %23s", &owed, offset) == 2) {
		c->owed = owed == 1;
		if (strcmp(offset, "-") != 0 &&
		    sscanf(offset, "%" SCNd64, &c->sync_offset_ms) == 1)
			c->have_sync = 1;
	}
	free(text);	/* another boot's: what it owed nobody can pay now */
}

int vt_clock_open(struct vt_clock **out, const struct vt_clock_conf *conf)
{
	struct vt_clock *c = calloc(1, sizeof(*c));
	char path[4096];
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->require_sync = conf->require_sync;
	if (conf->boot_id) {
		memcpy(c->boot_id, conf->boot_id, VT_OS_BOOT_ID_LEN);
	} else if ((rc = vt_os_boot_id(c->boot_id)) < 0) {
		/* A run of its own then: corrections reach what it flagged. */
		VT_WARN("clock: cannot read this boot's id (%s); readings flagged before the clock is trusted are corrected only if this run of the agent sees it trusted",
			strerror(-rc));
		rc = vt_os_random(c->boot_id, sizeof(c->boot_id));
	}
	if (rc == 0 && conf->state_dir) {
		snprintf(path, sizeof(path), "%s/" VT_CLOCK_FILE, conf->state_dir);
		c->state_path = strdup(path);
		if (!c->state_path)
			rc = -ENOMEM;
		else
			vt_clock_load(c);
	}
	if (rc < 0) {
		vt_clock_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void vt_clock_free(struct vt_clock *c)
{
	if (!c)
		return;
	free(c->state_path);
	free(c);
}

/* ---- trusted or not ------------------------------------------------------------------ */

int vt_clock_decide(int64_t wall_ms, int require_sync, int synced)
{
	return wall_ms >= VT_OS_CLOCK_SET_MS && (!require_sync || synced > 0);
}

/* The NTP state: systemd-timesyncd's flag first (no system call), then the
 * kernel's. A kernel state that cannot be read counts as not synced: the
 * readings stay flagged (honest) and the operator is told why, once. */
static int vt_clock_read_sync(struct vt_clock *c)
{
	int ntp;

	if (vt_os_clock_timesyncd_synced() > 0)
		return 1;
	ntp = vt_os_clock_ntp_synced();
	if (ntp < 0 && !c->ntp_warned) {
		VT_WARN("clock: cannot read the kernel's NTP state (adjtimex: %s) and systemd-timesyncd has not marked the clock synchronized; readings stay flagged until it does (clock_require_sync yes needs adjtimex: SystemCallFilter=adjtimex in the unit)",
			strerror(-ntp));
		c->ntp_warned = 1;
	}
	return ntp > 0;
}

int vt_clock_tick(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms)
{
	int synced = -1;

	if (c->require_sync && (!c->trusted || !c->started) && mono_ms >= c->next_poll_mono) {
		synced = vt_clock_read_sync(c);
		c->next_poll_mono = mono_ms + VT_CLOCK_POLL_MS;
	}
	return vt_clock_update(c, wall_ms, mono_ms, synced);
}

/* Keep off among the offsets of the untrusted clock (the oldest goes when
 * full: plugins follow steps within seconds, or at their next reconnect). */
static void vt_clock_remember(struct vt_clock *c, int64_t off)
{
	for (int i = 0; i < c->n_untrusted; i++)
		if (vt_clock_abs(c->untrusted[i] - off) <= VT_CLOCK_STEP_MS)
			return;
	if (c->n_untrusted == VT_CLOCK_OFFSETS) {
		memmove(c->untrusted, c->untrusted + 1,
			sizeof(c->untrusted[0]) * (VT_CLOCK_OFFSETS - 1));
		c->n_untrusted--;
	}
	c->untrusted[c->n_untrusted++] = off;
}

/* An untrusted offset within a step of the trusted one was right: readings
 * stamped with it need no change, and matching them to it would add a
 * rounding error. */
static void vt_clock_forget_near(struct vt_clock *c, int64_t off)
{
	int kept = 0;

	for (int i = 0; i < c->n_untrusted; i++)
		if (vt_clock_abs(c->untrusted[i] - off) > VT_CLOCK_STEP_MS)
			c->untrusted[kept++] = c->untrusted[i];
	c->n_untrusted = kept;
}

static void vt_clock_iso(int64_t ms, char *buf, size_t cap)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "%" PRId64 " ms", ms);
}

int vt_clock_update(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms, int synced)
{
	int64_t off = wall_ms - mono_ms;
	int was = c->trusted, first = !c->started;
	char when[40];

	if (synced >= 0)
		c->synced = synced;
	if (first || vt_clock_abs(off - c->offset_ms) > VT_CLOCK_STEP_MS)
		c->offset_ms = off;
	c->started = 1;
	c->trusted = vt_clock_decide(wall_ms, c->require_sync, c->synced) ||
		     (was && wall_ms >= VT_OS_CLOCK_SET_MS);
	if (!c->trusted) {
		vt_clock_remember(c, c->offset_ms);
		if (was || first) {
			c->unsynced_mono = mono_ms;
			vt_clock_iso(wall_ms, when, sizeof(when));
			VT_WARN("clock: not trusted (wall clock %s%s); readings are flagged with their time since boot and corrected once it is",
				when, wall_ms < VT_OS_CLOCK_SET_MS ? ", not set" : ", not synced by NTP yet");
		}
		return 0;
	}
	if (was)
		return 0;
	if (!c->have_sync) {
		c->have_sync = 1;
		c->sync_offset_ms = off;
		if (c->owed || c->n_untrusted)
			vt_clock_save(c);
	}
	vt_clock_forget_near(c, c->sync_offset_ms);
	if (!first) {
		vt_clock_iso(wall_ms, when, sizeof(when));
		VT_INFO("clock: trusted after %" PRId64 " s (now %s); the %" PRIu64 " readings flagged so far are corrected%s",
			(mono_ms - c->unsynced_mono) / 1000, when, c->stats.flagged,
			c->owed ? " (those already sent: by the aggregator, from the next frame)" : "");
	} else if (c->owed) {
		VT_INFO("clock: trusted; frames an earlier run of this boot sent with flagged readings get their correction in the next frame");
	}
	return 1;
}

void vt_clock_observe(struct vt_clock *c, int64_t wall_ms, int64_t mono_ms)
{
	int64_t off = wall_ms - mono_ms;

	if (c->trusted || !c->started || vt_clock_abs(off - c->offset_ms) <= VT_CLOCK_STEP_MS)
		return;
	c->offset_ms = off;
	vt_clock_remember(c, off);
}

int vt_clock_trusted(const struct vt_clock *c)
{
	return c->trusted;
}

const uint8_t *vt_clock_boot_id(const struct vt_clock *c)
{
	return c->boot_id;
}

/* ---- readings ---------------------------------------------------------------------- */

int64_t vt_clock_corrected(int64_t mono_ms, int64_t offset_ms)
{
	return mono_ms + offset_ms;
}

int64_t vt_clock_window_start(int64_t mono_ms, int64_t offset_ms, int64_t length_ms)
{
	int64_t t = mono_ms + offset_ms + length_ms / 2;

	return t - ((t % length_ms) + length_ms) % length_ms;	/* floor, negative t too */
}

void vt_clock_stamp(struct vt_clock *c, struct vt_reading *r, int64_t mono_ms)
{
	int64_t t = r->time_ms, best_d, off, mono;
	int best = -1;	/* the current offset */

	r->clock_unsynced = 0;
	r->mono_ms = 0;
	if (c->trusted && !c->n_untrusted)
		return;	/* the usual case: a clock trusted all along */
	best_d = vt_clock_abs(t - (mono_ms + c->offset_ms));
	for (int i = 0; i < c->n_untrusted; i++) {
		int64_t d = vt_clock_abs(t - (mono_ms + c->untrusted[i]));

		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	if (best_d > VT_CLOCK_MATCH_MS) {
		/* Not this machine's clock: a device's own. Trusted when it
		 * looks set; else flagged, with no boot time to correct it by. */
		if (c->trusted || t >= VT_OS_CLOCK_SET_MS)
			return;
		r->clock_unsynced = VT_READING_CLOCK_LOST;
		c->stats.flagged++;
		return;
	}
	if (c->trusted && best < 0)
		return;
	off = best < 0 ? c->offset_ms : c->untrusted[best];
	mono = t - off;
	if (c->trusted) {
		/* Stamped on the clock of before the sync (a plugin that did not
		 * follow the step yet): corrected at once. */
		r->time_ms = vt_clock_corrected(mono, c->sync_offset_ms);
		c->stats.corrected++;
		return;
	}
	r->clock_unsynced = VT_READING_CLOCK_UNSYNCED;
	r->mono_ms = mono;
	c->stats.flagged++;
}

int vt_clock_fix(struct vt_clock *c, struct vt_reading *r)
{
	if (r->clock_unsynced != VT_READING_CLOCK_UNSYNCED || !c->trusted || !c->have_sync)
		return 0;
	if (r->kind == VT_KIND_WINDOW)
		r->time_ms = vt_clock_window_start(r->mono_ms, c->sync_offset_ms,
						   (int64_t)r->u.window.length_s * 1000);
	else
		r->time_ms = vt_clock_corrected(r->mono_ms, c->sync_offset_ms);
	r->clock_unsynced = 0;
	r->mono_ms = 0;
	c->stats.corrected++;
	return 1;
}

/* ---- the correction owed to the aggregator ------------------------------------------------ */

int vt_clock_correction_due(const struct vt_clock *c, int64_t *offset_ms)
{
	if (!c->owed || !c->trusted || !c->have_sync)
		return 0;
	*offset_ms = c->sync_offset_ms;
	return 1;
}

void vt_clock_unsynced_sealed(struct vt_clock *c)
{
	if (c->owed)
		return;
	c->owed = 1;
	vt_clock_save(c);
}

void vt_clock_correction_sealed(struct vt_clock *c)
{
	if (!c->owed)
		return;
	c->owed = 0;
	vt_clock_save(c);
}

const struct vt_clock_stats *vt_clock_stats(const struct vt_clock *c)
{
	return &c->stats;
}

size_t vt_clock_status_json(const struct vt_clock *c, int64_t mono_ms, char *json, size_t cap)
{
	int n;

	if (c->trusted)
		n = snprintf(json, cap,
			     ",\"clock\":{\"state\":\"synced\",\"require_sync\":%s,\"flagged\":%" PRIu64
			     ",\"corrected\":%" PRIu64 "}",
			     c->require_sync ? "true" : "false", c->stats.flagged, c->stats.corrected);
	else
		n = snprintf(json, cap,
			     ",\"clock\":{\"state\":\"unsynced\",\"require_sync\":%s,"
			     "\"unsynced_for_s\":%" PRId64 ",\"flagged\":%" PRIu64
			     ",\"corrected\":%" PRIu64 "}",
			     c->require_sync ? "true" : "false", (mono_ms - c->unsynced_mono) / 1000,
			     c->stats.flagged, c->stats.corrected);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}
