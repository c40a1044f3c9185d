/*
 * anon.c - anonymous mode's windows: release protocol and checkpoint
 * (anon.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anon.h"
#include "log.h"
#include "privacy.h"
#include "state.h"
#include "vt_os.h"
#include "wckpt.h"

#define VT_ANON_MAX_PLUGINS 16
#define VT_ANON_NOISE_STATE "noise"	/* the hour's spent budget (noise.h) */
#define VT_ANON_COMPLAIN_MS 60000
/* Released cells of one window: every cell plus every "other" sum. */
#define VT_ANON_REL_MAX (VT_WINDOW_MAX_CELLS + VT_METRIC_COUNT * 8)

struct vt_anon_plugin {
	char name[VT_WCKPT_PLUGIN_MAX];
	struct vt_window *window;
	struct vt_anon *anon;
	int64_t rel_start;
	uint32_t rel_unsynced;		/* the released window's clock (window.h) */
	int64_t rel_mono;
	struct vt_window_cell *rel;	/* VT_ANON_REL_MAX: released, not yet sent */
	size_t n_rel;
	int64_t retry_mono;		/* when to try sending rel again */
};

struct vt_anon {
	struct vt_anon_conf conf;
	struct vt_clock *clock;		/* borrowed; NULL: no clock (tests) */
	char *state_dir;
	struct vt_wckpt *ckpt;		/* NULL: no checkpoint */
	struct vt_wckpt_entry *saved;	/* the checkpoint read at start */
	size_t n_saved, cap_saved;
	uint64_t next_part;
	int dirty;
	int64_t last_ckpt_mono;
	int64_t complained_mono;	/* last error logged (at most one a minute) */
	uint64_t complaints;		/* errors not logged since */
	vt_window_sink sink;
	void *sink_arg;
	struct vt_anon_plugin plugins[VT_ANON_MAX_PLUGINS];
	size_t n_plugins;
};

static int vt_anon_discard(void *arg, const struct vt_reading *cell)
{
	(void)arg, (void)cell;
	return 0;
}

/* An error an operator must see, but once a minute at most: a full disk
 * would otherwise log at every group commit. */
__attribute__((format(printf, 3, 4)))
static void vt_anon_complain(struct vt_anon *a, int64_t mono_ms, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (a->complained_mono && mono_ms - a->complained_mono < VT_ANON_COMPLAIN_MS) {
		a->complaints++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->complaints)
		VT_ERROR("%s (and %llu more errors of the window checkpoint or spool in the last minute)",
			 msg, (unsigned long long)a->complaints);
	else
		VT_ERROR("%s", msg);
	a->complained_mono = mono_ms ? mono_ms : 1;
	a->complaints = 0;
}

static int vt_anon_keep(void *arg, const struct vt_wckpt_entry *e)
{
	struct vt_anon *a = arg;

	if (a->n_saved == a->cap_saved) {
		size_t cap = a->cap_saved ? 2 * a->cap_saved : 64;
		void *p = realloc(a->saved, cap * sizeof(*a->saved));

		if (!p)
			return -ENOMEM;
		a->saved = p;
		a->cap_saved = cap;
	}
	a->saved[a->n_saved++] = *e;
	return 0;
}

static int vt_anon_load(struct vt_anon *a, char *err, size_t errlen)
{
	int damaged = 0, rc;

	rc = vt_wckpt_load(a->state_dir, &a->next_part, vt_anon_keep, a, &damaged);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the window checkpoint in %s: %s", a->state_dir,
			 strerror(-rc));
		return rc;
	}
	if (damaged)
		VT_WARN("window checkpoint in %s: %d damaged cop%s ignored (a crash while writing it); %s",
			a->state_dir, damaged, damaged > 1 ? "ies" : "y",
			rc ? "restoring the previous one" : "no window to restore");
	if (rc && a->n_saved)
		VT_INFO("window checkpoint in %s: %zu counts of open or unsent windows to restore",
			a->state_dir, a->n_saved);
	if (a->conf.noise) {
		uint64_t word = 0;

		rc = vt_state_load(a->state_dir, VT_ANON_NOISE_STATE, &word);
		if (rc < 0 && rc != -ENOENT) {
			snprintf(err, errlen, "cannot read the noise budget in %s: %s", a->state_dir,
				 strerror(-rc));
			return rc;
		}
		vt_noise_restore_word(a->conf.noise, word);
	}
	/* Parts must never repeat, even after the state directory was wiped. */
	if (!a->next_part) {
		int64_t now_s = vt_os_now_ms() / 1000;

		a->next_part = (uint64_t)(now_s > 0 ? now_s : 1) << 20;
	}
	return 0;
}

int vt_anon_new(struct vt_anon **out, const struct vt_anon_conf *conf, char *err,
		size_t errlen)
{
	struct vt_anon *a = calloc(1, sizeof(*a));
	int rc = 0;

	if (!a)
		return -ENOMEM;
	a->conf = *conf;
	a->sink = vt_anon_discard;
	if (conf->state_dir) {
		a->state_dir = strdup(conf->state_dir);
		rc = a->state_dir ? vt_wckpt_open(&a->ckpt, conf->state_dir) : -ENOMEM;
		if (rc < 0)
			snprintf(err, errlen, "cannot keep the window checkpoint in %s: %s",
				 conf->state_dir, strerror(-rc));
		if (rc == 0)
			rc = vt_anon_load(a, err, errlen);
	} else {
		a->next_part = 1;
	}
	a->conf.state_dir = NULL;
	if (rc < 0) {
		vt_anon_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void vt_anon_set_clock(struct vt_anon *a, struct vt_clock *clock)
{
	const uint8_t *boot = vt_clock_boot_id(clock);

	a->clock = clock;
	if (a->ckpt)
		vt_wckpt_set_boot(a->ckpt, boot);
	/* Times since another boot mean nothing in this one. */
	for (size_t i = 0; i < a->n_saved; i++)
		if (a->saved[i].clock_unsynced == VT_READING_CLOCK_UNSYNCED &&
		    memcmp(a->saved[i].boot_id, boot, VT_OS_BOOT_ID_LEN) != 0) {
			a->saved[i].clock_unsynced = VT_READING_CLOCK_LOST;
			a->saved[i].start_mono = 0;
		}
}

void vt_anon_fix_clock(struct vt_anon *a)
{
	for (size_t i = 0; i < a->n_plugins && a->clock; i++) {
		struct vt_anon_plugin *ap = &a->plugins[i];
		struct vt_reading r = { .kind = VT_KIND_WINDOW };

		a->dirty |= vt_window_fix_clock(ap->window, a->clock);
		if (!ap->n_rel || ap->rel_unsynced != VT_READING_CLOCK_UNSYNCED)
			continue;
		r.time_ms = ap->rel_start;
		r.clock_unsynced = VT_READING_CLOCK_UNSYNCED;
		r.mono_ms = ap->rel_mono;
		r.u.window.length_s = a->conf.window_s;
		if (vt_clock_fix(a->clock, &r)) {
			ap->rel_start = r.time_ms;
			ap->rel_unsynced = 0;
			ap->rel_mono = 0;
			a->dirty = 1;
		}
	}
}

void vt_anon_set_sink(struct vt_anon *a, vt_window_sink sink, void *arg)
{
	a->sink = sink ? sink : vt_anon_discard;
	a->sink_arg = arg;
}

/* ---- checkpoint ------------------------------------------------------------------- */

struct vt_anon_visit {
	struct vt_anon *a;
	struct vt_wckpt_entry e;
	int rc;
};

static void vt_anon_visit_cell(void *arg, const struct vt_window_cell *c)
{
	struct vt_anon_visit *v = arg;
	int rc;

	v->e.cell = *c;
	v->e.cell.length_s = v->a->conf.window_s;
	rc = vt_wckpt_add(v->a->ckpt, &v->e);
	if (rc < 0 && v->rc == 0)
		v->rc = rc;
}

/* Every open window and every released cell not yet sent, durably. */
static int vt_anon_checkpoint(struct vt_anon *a, int64_t mono_ms)
{
	struct vt_anon_visit v = { .a = a };
	int rc;

	if (!a->ckpt)
		return 0;
	vt_wckpt_begin(a->ckpt, a->next_part);
	for (size_t i = 0; i < a->n_plugins; i++) {
		struct vt_anon_plugin *ap = &a->plugins[i];

		snprintf(v.e.plugin, sizeof(v.e.plugin), "%s", ap->name);
		v.e.releasing = 0;
		vt_window_clock(ap->window, &v.e.clock_unsynced, &v.e.start_mono);
		vt_window_visit(ap->window, &v.e.start_ms, vt_anon_visit_cell, &v);
		v.e.releasing = 1;
		v.e.start_ms = ap->rel_start;
		v.e.clock_unsynced = ap->rel_unsynced;
		v.e.start_mono = ap->rel_unsynced == VT_READING_CLOCK_UNSYNCED ? ap->rel_mono : 0;
		for (size_t j = 0; j < ap->n_rel; j++) {
			v.e.cell = ap->rel[j];
			rc = vt_wckpt_add(a->ckpt, &v.e);
			if (rc < 0 && v.rc == 0)
				v.rc = rc;
		}
	}
	/* Counts of plugins not loaded this time stay for a later start. */
	for (size_t i = 0; i < a->n_saved; i++) {
		rc = vt_wckpt_add(a->ckpt, &a->saved[i]);
		if (rc < 0 && v.rc == 0)
			v.rc = rc;
	}
	/* A refused entry (never expected: the window only holds what the
	 * format can) is left out rather than blocking every checkpoint. */
	if (v.rc < 0)
		vt_anon_complain(a, mono_ms, "window checkpoint: a count could not be written (%s); it would be lost in a crash",
				 strerror(-v.rc));
	rc = vt_wckpt_commit(a->ckpt);
	if (rc < 0) {
		a->last_ckpt_mono = mono_ms;	/* retry after a period, not at once */
		vt_anon_complain(a, mono_ms, "cannot write the window checkpoint in %s: %s; a crash now would lose the counts of the open windows (retrying)",
				 a->state_dir, strerror(-rc));
		return rc;
	}
	a->dirty = 0;
	a->last_ckpt_mono = mono_ms;
	return 0;
}

/* ---- release -------------------------------------------------------------------- */

/* The window's collector: keeps released cells until they are sent. A
 * window released while the previous one still could not be sent (its
 * frame could not be spooled for a whole window: a full disk) replaces it,
 * and the older counts are logged as lost. */
static int vt_anon_collect(void *arg, const struct vt_reading *cell)
{
	struct vt_anon_plugin *ap = arg;

	if (ap->n_rel && ap->rel_start != cell->time_ms) {
		uint64_t lost = 0;

		for (size_t i = 0; i < ap->n_rel; i++)
			lost += ap->rel[i].count;
		VT_ERROR("plugin %s: %llu counts of the window before could not be spooled and are lost",
			 ap->name, (unsigned long long)lost);
		ap->n_rel = 0;
	}
	if (ap->n_rel == VT_ANON_REL_MAX)
		return -ENOSPC;	/* cannot happen: a window has no more cells */
	ap->rel_start = cell->time_ms;
	ap->rel_unsynced = cell->clock_unsynced;
	ap->rel_mono = cell->mono_ms;
	ap->rel[ap->n_rel++] = cell->u.window;
	return 0;
}

/* Send ap's released cells: checkpoint them (with their part) first, then
 * the sink, then make the sink seal and sync. On any failure the cells stay
 * (checkpointed if possible) and vt_anon_tick() tries again: sending them
 * twice is harmless, their part is the same. Returns 0 when sent. */
static int vt_anon_send(struct vt_anon *a, struct vt_anon_plugin *ap, int64_t mono_ms)
{
	struct vt_reading r;
	int rc;

	ap->retry_mono = mono_ms + a->conf.checkpoint_ms;
	rc = vt_anon_checkpoint(a, mono_ms);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ap->n_rel; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = VT_KIND_WINDOW;
		r.time_ms = ap->rel_start;
		r.clock_unsynced = ap->rel_unsynced;
		r.mono_ms = ap->rel_mono;
		r.u.window = ap->rel[i];
		a->sink(a->sink_arg, &r);
	}
	rc = a->sink(a->sink_arg, NULL);
	if (rc < 0) {
		vt_anon_complain(a, mono_ms, "plugin %s: a released window could not be spooled (%s); keeping it, retrying",
				 ap->name, strerror(-rc));
		return rc;
	}
	ap->n_rel = 0;
	a->dirty = 1;
	return 0;
}

/* A window was released (into ap->rel when it had cells to send): save
 * the noise spent, give the cells a part and send them. */
static void vt_anon_release(struct vt_anon *a, struct vt_anon_plugin *ap, int64_t mono_ms)
{
	uint64_t part;

	if (a->conf.noise && a->state_dir &&
	    vt_state_store(a->state_dir, VT_ANON_NOISE_STATE,
			   vt_noise_save_word(a->conf.noise)) < 0)
		VT_WARN("cannot save the noise budget spent in %s: a restart this hour would spend it again",
			a->state_dir);
	if (!ap->n_rel)
		return;
	part = a->next_part++;
	for (size_t i = 0; i < ap->n_rel; i++)
		ap->rel[i].part = part;
	vt_anon_send(a, ap, mono_ms);
}

/* ---- plugins ------------------------------------------------------------------------ */

/* Give plugin ap what the checkpoint kept for it. */
static void vt_anon_restore(struct vt_anon *a, struct vt_anon_plugin *ap, int64_t mono_ms)
{
	size_t kept = 0, lost = 0;

	for (size_t i = 0; i < a->n_saved; i++) {
		struct vt_wckpt_entry *e = &a->saved[i];

		if (strcmp(e->plugin, ap->name) != 0) {
			a->saved[kept++] = *e;
			continue;
		}
		if (e->releasing) {
			ap->rel_start = e->start_ms;
			ap->rel_unsynced = e->clock_unsynced;
			ap->rel_mono = e->start_mono;
			if (ap->n_rel < VT_ANON_REL_MAX)
				ap->rel[ap->n_rel++] = e->cell;
		} else if (e->cell.length_s != a->conf.window_s ||
			   vt_window_restore(ap->window, e->start_ms, &e->cell, mono_ms) < 0) {
			lost += e->cell.count;
		} else {
			vt_window_set_clock(ap->window, e->clock_unsynced, e->start_mono);
		}
	}
	a->n_saved = kept;
	/* Opened on an untrusted clock of this boot, now trusted: corrected
	 * (its released cells are, on their way out: vt_clock_fix()). */
	if (a->clock)
		vt_window_fix_clock(ap->window, a->clock);
	if (lost)
		VT_WARN("plugin %s: %zu counts of the checkpointed window dropped: the window length changed to %u s",
			ap->name, lost, a->conf.window_s);
	a->dirty = 1;
	if (ap->n_rel) {
		VT_INFO("plugin %s: sending again %zu counts of a window released before the last stop (the aggregator keeps one copy)",
			ap->name, ap->n_rel);
		vt_anon_send(a, ap, mono_ms);
	}
}

int vt_anon_plugin(struct vt_anon *a, const char *name, int dedup, int64_t mono_ms,
		   struct vt_anon_plugin **out, char *err, size_t errlen)
{
	struct vt_window_conf wc = {
		.length_s = a->conf.window_s,
		.k = a->conf.k,
		.slot_s = VT_PRIVACY_ANON_ROTATION_S,
		.noise = a->conf.noise,
		.epsilon_milli = a->conf.epsilon_milli,
		.dedup = dedup,
	};
	struct vt_anon_plugin *ap;
	int rc;

	if (a->n_plugins == VT_ANON_MAX_PLUGINS) {
		snprintf(err, errlen, "more than %d plugins in anonymous mode", VT_ANON_MAX_PLUGINS);
		return -ENOSPC;
	}
	ap = &a->plugins[a->n_plugins];
	memset(ap, 0, sizeof(*ap));
	snprintf(ap->name, sizeof(ap->name), "%s", name);
	ap->anon = a;
	rc = vt_window_new(&ap->window, &wc);
	/* from the kernel: pages cost RAM once a release fills them */
	ap->rel = vt_os_pages_alloc(VT_ANON_REL_MAX * sizeof(*ap->rel));
	if (rc < 0 || !ap->rel) {
		vt_window_free(ap->window);
		vt_os_pages_free(ap->rel, VT_ANON_REL_MAX * sizeof(*ap->rel));
		snprintf(err, errlen, "plugin %s: cannot allocate its window", name);
		return rc < 0 ? rc : -ENOMEM;
	}
	a->n_plugins++;
	vt_anon_restore(a, ap, mono_ms);
	*out = ap;
	return 0;
}

void vt_anon_add(struct vt_anon *a, struct vt_anon_plugin *ap, const struct vt_reading *r,
		 int64_t wall_ms, int64_t mono_ms)
{
	if (vt_window_add(ap->window, r, wall_ms, mono_ms, vt_anon_collect, ap))
		vt_anon_release(a, ap, mono_ms);
	a->dirty = 1;
}

void vt_anon_tick(struct vt_anon *a, int64_t wall_ms, int64_t mono_ms,
		  enum vt_window_when when)
{
	for (size_t i = 0; i < a->n_plugins; i++) {
		struct vt_anon_plugin *ap = &a->plugins[i];

		if (vt_window_tick(ap->window, wall_ms, mono_ms, when, vt_anon_collect, ap))
			vt_anon_release(a, ap, mono_ms);
		else if (ap->n_rel && (when != VT_WINDOW_IF_IDLE || mono_ms >= ap->retry_mono))
			vt_anon_send(a, ap, mono_ms);
	}
	if (a->dirty && (when != VT_WINDOW_IF_IDLE ||
			 mono_ms - a->last_ckpt_mono >= a->conf.checkpoint_ms))
		vt_anon_checkpoint(a, mono_ms);
}

const struct vt_window_stats *vt_anon_plugin_stats(const struct vt_anon_plugin *ap)
{
	return vt_window_stats(ap->window);
}

void vt_anon_abandon_for_test(struct vt_anon *a)
{
	a->dirty = 0;
	vt_anon_free(a);
}

void vt_anon_free(struct vt_anon *a)
{
	if (!a)
		return;
	if (a->dirty)
		vt_anon_checkpoint(a, vt_os_mono_ms());
	for (size_t i = 0; i < a->n_plugins; i++) {
		vt_window_free(a->plugins[i].window);
		vt_os_pages_free(a->plugins[i].rel, VT_ANON_REL_MAX * sizeof(*a->plugins[i].rel));
	}
	vt_wckpt_close(a->ckpt);
	free(a->saved);
	free(a->state_dir);
	free(a);
}
