/*
 * window.c - counts per window, released under k and noise (window.h).
 *
 * Cells are kept in the order they came, in an array found through an
 * open-addressing index keyed by (metric, dim1, dim2, label): a window of
 * a few cells touches one page of cells and one of index, not pages all
 * over a hashed table. "Other" cells are in a small array indexed by
 * metric and dim2. The RFID de-duplication set holds 64-bit keys derived
 * from the item's keyed digest and the reader, and is wiped whenever the
 * slot changes. It uses the first dedup_cap slots of its pages and
 * doubles when half full, so that a slot with few tags touches one page,
 * not all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "be.h"
#include "vt_os.h"
#include "window.h"

#define VT_WINDOW_DIM2_MAX 8	/* direction 1..2, length bucket 0..5 */

/* The index is at most half full, so that probes stay short. */
#define VT_WINDOW_INDEX_SLOTS (2 * VT_WINDOW_MAX_CELLS)
#define VT_WINDOW_CELLS_BYTES (VT_WINDOW_MAX_CELLS * sizeof(struct vt_window_cell))
#define VT_WINDOW_INDEX_BYTES (VT_WINDOW_INDEX_SLOTS * sizeof(uint16_t))
#define VT_WINDOW_DEDUP_BYTES (VT_WINDOW_DEDUP_SLOTS * sizeof(uint64_t))
#define VT_WINDOW_DEDUP_MIN 512		/* slots a slot starts with: one page */

_Static_assert(VT_WINDOW_MAX_CELLS < UINT16_MAX, "the index holds 1 + a cell's place in 16 bits");
_Static_assert((VT_WINDOW_DEDUP_SLOTS & (VT_WINDOW_DEDUP_SLOTS - 1)) == 0 &&
	       (VT_WINDOW_DEDUP_MIN & (VT_WINDOW_DEDUP_MIN - 1)) == 0 &&
	       VT_WINDOW_DEDUP_MIN <= VT_WINDOW_DEDUP_SLOTS,
	       "the de-duplication set doubles from a power of 2 to a power of 2");

struct vt_window {
	struct vt_window_conf conf;
	int64_t length_ms, slot_ms;
	int open;
	int64_t start_ms;	/* of the open window */
	/* The clock of the reading that opened the window (VT_READING_CLOCK_*)
	 * and, with _UNSYNCED, the window start's time since boot. */
	uint32_t unsynced;
	int64_t start_mono;
	int64_t last_mono;	/* last reading counted */
	int64_t slot;		/* RFID de-duplication slot index */
	struct vt_window_cell *cells;	/* VT_WINDOW_MAX_CELLS, ncells used */
	uint16_t *index;	/* VT_WINDOW_INDEX_SLOTS: 1 + a cell's place, 0 = free */
	uint32_t ncells;
	uint64_t other[VT_METRIC_COUNT][VT_WINDOW_DIM2_MAX];
	uint64_t *dedup;	/* VT_WINDOW_DEDUP_SLOTS keys, 0 = empty; or NULL */
	uint64_t *dedup_old;	/* half as many: the keys while dedup doubles */
	uint32_t dedup_cap, dedup_n;	/* slots in use (a power of two), keys */
	struct vt_window_stats stats;
};

int vt_window_new(struct vt_window **out, const struct vt_window_conf *conf)
{
	struct vt_window *w;

	if (conf->length_s < 60 || conf->k == 0 || conf->slot_s == 0 ||
	    conf->length_s % conf->slot_s)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->conf = *conf;
	w->length_ms = (int64_t)conf->length_s * 1000;
	w->slot_ms = (int64_t)conf->slot_s * 1000;
	w->slot = -1;
	/* from the kernel: only the pages that cells land in cost RAM */
	w->cells = vt_os_pages_alloc(VT_WINDOW_CELLS_BYTES);
	w->index = vt_os_pages_alloc(VT_WINDOW_INDEX_BYTES);
	if (conf->dedup) {
		w->dedup = vt_os_pages_alloc(VT_WINDOW_DEDUP_BYTES);
		w->dedup_old = vt_os_pages_alloc(VT_WINDOW_DEDUP_BYTES / 2);
		w->dedup_cap = VT_WINDOW_DEDUP_MIN;
	}
	if (!w->cells || !w->index || (conf->dedup && (!w->dedup || !w->dedup_old))) {
		vt_window_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void vt_window_free(struct vt_window *w)
{
	if (!w)
		return;
	if (w->dedup)
		mbedtls_platform_zeroize(w->dedup, w->dedup_cap * sizeof(uint64_t));
	vt_os_pages_free(w->dedup, VT_WINDOW_DEDUP_BYTES);
	vt_os_pages_free(w->dedup_old, VT_WINDOW_DEDUP_BYTES / 2);
	vt_os_pages_free(w->cells, VT_WINDOW_CELLS_BYTES);
	vt_os_pages_free(w->index, VT_WINDOW_INDEX_BYTES);
	free(w);
}

int64_t vt_window_index(int64_t t, int64_t d)
{
	int64_t q = t / d;

	return t % d && t < 0 ? q - 1 : q;
}

uint32_t vt_window_length_bucket(uint32_t duration_ms)
{
	static const uint32_t upper_s[] = { 30, 60, 120, 300, 600 };
	uint32_t b = 0;

	while (b < 5 && duration_ms >= upper_s[b] * 1000)
		b++;
	return b;
}

static uint64_t vt_window_hash(uint32_t metric, uint32_t dim1, uint32_t dim2, const char *label)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	uint32_t v[3] = { metric, dim1, dim2 };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 4; j++)
			h = (h ^ ((v[i] >> (8 * j)) & 0xff)) * 1099511628211ULL;
	for (const char *c = label; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	return h;
}

/* Add n to a cell, creating it; a full table sends the count to "other". */
static void vt_window_count(struct vt_window *w, uint32_t metric, uint32_t dim1, uint32_t dim2,
			    const char *label, uint64_t n)
{
	uint64_t h = vt_window_hash(metric, dim1, dim2, label);

	for (uint32_t probe = 0; probe < VT_WINDOW_INDEX_SLOTS; probe++) {
		uint16_t *ix = &w->index[(h + probe) % VT_WINDOW_INDEX_SLOTS];
		struct vt_window_cell *c;

		if (!*ix) {
			if (w->ncells == VT_WINDOW_MAX_CELLS)
				break;
			c = &w->cells[w->ncells++];
			*ix = (uint16_t)w->ncells;
			c->metric = metric;
			c->dim1 = dim1;
			c->dim2 = dim2;
			snprintf(c->label, sizeof(c->label), "%s", label);
			c->count = n;
			return;
		}
		c = &w->cells[*ix - 1];
		if (c->metric == metric && c->dim1 == dim1 && c->dim2 == dim2 &&
		    strcmp(c->label, label) == 0) {
			c->count += n;
			return;
		}
	}
	w->stats.overflow++;
	w->other[metric][dim2 % VT_WINDOW_DIM2_MAX] += n;
}

/* Wipes the keys, then hands the pages back: a quiet slot costs no RAM. */
static void vt_window_dedup_wipe(uint64_t *keys, uint32_t n)
{
	mbedtls_platform_zeroize(keys, n * sizeof(uint64_t));
	vt_os_pages_zero(keys, n * sizeof(uint64_t));
}

/* The key's place among the first cap slots: where it is, or the free
 * slot where it goes; NULL when all cap are taken by other keys. */
static uint64_t *vt_window_dedup_find(uint64_t *keys, uint32_t cap, uint64_t key)
{
	for (uint32_t probe = 0; probe < cap; probe++) {
		uint64_t *k = &keys[(key + probe) & (cap - 1)];

		if (*k == key || *k == 0)
			return k;
	}
	return NULL;
}

/* Twice the slots: the keys go through dedup_old, then back. */
static void vt_window_dedup_grow(struct vt_window *w)
{
	uint32_t old = w->dedup_cap;

	memcpy(w->dedup_old, w->dedup, old * sizeof(uint64_t));
	memset(w->dedup, 0, old * sizeof(uint64_t));
	w->dedup_cap = old * 2;
	for (uint32_t i = 0; i < old; i++)
		if (w->dedup_old[i])
			*vt_window_dedup_find(w->dedup, w->dedup_cap, w->dedup_old[i]) =
				w->dedup_old[i];
	vt_window_dedup_wipe(w->dedup_old, old);
}

/* 1 when (item, reader) is new in the reading's slot. */
static int vt_window_first_in_slot(struct vt_window *w, const struct vt_reading *r)
{
	int64_t slot = vt_window_index(r->time_ms, w->slot_ms);
	uint64_t key = vt_get_be64(r->u.rfid.tag_digest) ^
		       ((uint64_t)r->u.rfid.reader * 0x9E3779B97F4A7C15ULL);
	uint64_t *k;

	if (slot != w->slot) {
		vt_window_dedup_wipe(w->dedup, w->dedup_cap);
		w->dedup_cap = VT_WINDOW_DEDUP_MIN;
		w->dedup_n = 0;
		w->slot = slot;
	}
	if (key == 0)
		key = 1;
	k = vt_window_dedup_find(w->dedup, w->dedup_cap, key);
	if (!k) {
		w->stats.overflow++;	/* full: count it, at the risk of counting twice */
		return 1;
	}
	if (*k == key)
		return 0;
	*k = key;
	if (++w->dedup_n * 2 > w->dedup_cap && w->dedup_cap < VT_WINDOW_DEDUP_SLOTS)
		vt_window_dedup_grow(w);
	return 1;
}

static void vt_window_count_reading(struct vt_window *w, const struct vt_reading *r)
{
	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		vt_window_count(w, VT_METRIC_FOOTFALL_PASSES, r->u.footfall.door,
				r->u.footfall.direction, "", r->u.footfall.count);
		break;
	case VITRINE_KIND_TABLET:
		switch (r->u.tablet.event) {
		case VITRINE_TABLET_SESSION_START:
			vt_window_count(w, VT_METRIC_KIOSK_SESSIONS, r->u.tablet.kiosk, 0, "", 1);
			break;
		case VITRINE_TABLET_SESSION_END:
			vt_window_count(w, VT_METRIC_KIOSK_SESSION_LENGTH, r->u.tablet.kiosk,
					vt_window_length_bucket(r->u.tablet.duration_ms), "", 1);
			break;
		case VITRINE_TABLET_SCREEN_VIEW:
			vt_window_count(w, VT_METRIC_KIOSK_SCREEN_VIEWS, r->u.tablet.kiosk, 0,
					r->u.tablet.screen, 1);
			break;
		case VITRINE_TABLET_PRODUCT_LOOKUP:
			vt_window_count(w, VT_METRIC_KIOSK_LOOKUPS, r->u.tablet.kiosk, 0,
					r->u.tablet.gtin, 1);
			break;
		}
		break;
	case VITRINE_KIND_RFID:
		if (w->dedup && vt_window_first_in_slot(w, r))
			vt_window_count(w, VT_METRIC_RFID_PRESENCE, r->u.rfid.reader, 0,
					r->u.rfid.gtin, 1);
		break;
	}
}

/* The count a cell may show: noised if configured; -1 when the noise
 * budget is spent (the cell is withheld). */
static int64_t vt_window_noised(struct vt_window *w, uint64_t count, int64_t wall_ms)
{
	int64_t noised;

	if (!w->conf.noise)
		return (int64_t)count;
	if (vt_noise_release(w->conf.noise, wall_ms, (int64_t)count, &noised) < 0) {
		w->stats.refused++;
		return -1;
	}
	return noised;
}

static void vt_window_emit(struct vt_window *w, struct vt_window_cell *c, vt_window_sink sink,
			   void *arg)
{
	struct vt_reading r;

	memset(&r, 0, sizeof(r));
	r.kind = VT_KIND_WINDOW;
	r.time_ms = w->start_ms;
	r.clock_unsynced = w->unsynced;
	r.mono_ms = w->start_mono;
	r.u.window = *c;
	r.u.window.length_s = w->conf.length_s;
	r.u.window.k = w->conf.k;
	r.u.window.epsilon_milli = w->conf.noise ? w->conf.epsilon_milli : 0;
	w->stats.cells++;
	sink(arg, &r);
}

/* Counts that went straight to "other" (a full table, or restored from a
 * checkpoint) are raw: with noise on they are noised like any cell before
 * the noised cells below k join them, or withheld with the budget spent. */
static void vt_window_noise_others(struct vt_window *w, int64_t wall_ms)
{
	for (uint32_t m = 0; m < VT_METRIC_COUNT && w->conf.noise; m++) {
		for (uint32_t d = 0; d < VT_WINDOW_DIM2_MAX; d++) {
			int64_t n;

			if (!w->other[m][d])
				continue;
			n = vt_window_noised(w, w->other[m][d], wall_ms);
			w->other[m][d] = n > 0 ? (uint64_t)n : 0;
		}
	}
}

/* Release the open window: cells at or above k, then "other" cells. */
static void vt_window_release(struct vt_window *w, int64_t wall_ms, vt_window_sink sink,
			      void *arg)
{
	vt_window_noise_others(w, wall_ms);
	for (uint32_t i = 0; i < w->ncells; i++) {
		struct vt_window_cell *c = &w->cells[i];
		int64_t n = vt_window_noised(w, c->count, wall_ms);

		if (n >= (int64_t)w->conf.k) {
			c->count = (uint64_t)n;
			vt_window_emit(w, c, sink, arg);
		} else if (n >= 0) {
			w->stats.merged++;
			w->other[c->metric][c->dim2 % VT_WINDOW_DIM2_MAX] += (uint64_t)n;
		}
	}
	for (uint32_t m = 0; m < VT_METRIC_COUNT; m++) {
		for (uint32_t d = 0; d < VT_WINDOW_DIM2_MAX; d++) {
			struct vt_window_cell c = { .metric = m, .dim2 = d, .other = 1 };

			if (!w->other[m][d])
				continue;
			c.count = w->other[m][d];
			if (c.count >= w->conf.k)
				vt_window_emit(w, &c, sink, arg);
			else
				w->stats.suppressed++;
		}
	}
	vt_os_pages_zero(w->cells, VT_WINDOW_CELLS_BYTES);
	vt_os_pages_zero(w->index, VT_WINDOW_INDEX_BYTES);
	w->ncells = 0;
	memset(w->other, 0, sizeof(w->other));
	w->stats.windows++;
	w->open = 0;
}

int vt_window_add(struct vt_window *w, const struct vt_reading *r, int64_t wall_ms,
		  int64_t mono_ms, vt_window_sink sink, void *arg)
{
	int64_t start = vt_window_index(r->time_ms, w->length_ms) * w->length_ms;
	int released = w->open && start > w->start_ms;

	if (released)
		vt_window_release(w, wall_ms, sink, arg);
	if (!w->open) {
		w->open = 1;
		w->start_ms = start;
		w->unsynced = r->clock_unsynced;
		w->start_mono = r->clock_unsynced == VT_READING_CLOCK_UNSYNCED
					? r->mono_ms - (r->time_ms - start) : 0;
	} else if (start < w->start_ms) {
		w->stats.late++;
	}
	w->last_mono = mono_ms;
	vt_window_count_reading(w, r);
	return released;
}

int vt_window_tick(struct vt_window *w, int64_t wall_ms, int64_t mono_ms,
		   enum vt_window_when when, vt_window_sink sink, void *arg)
{
	int ended;

	if (!w->open)
		return 0;
	ended = wall_ms >= w->start_ms + w->length_ms;
	if ((when == VT_WINDOW_IF_IDLE && (!ended || mono_ms - w->last_mono < VT_WINDOW_IDLE_MS)) ||
	    (when == VT_WINDOW_IF_ENDED && !ended))
		return 0;
	vt_window_release(w, wall_ms, sink, arg);
	return 1;
}

const struct vt_window_stats *vt_window_stats(const struct vt_window *w)
{
	return &w->stats;
}

int vt_window_visit(const struct vt_window *w, int64_t *start_ms,
		    void (*fn)(void *arg, const struct vt_window_cell *c), void *arg)
{
	if (!w->open)
		return 0;
	*start_ms = w->start_ms;
	for (uint32_t i = 0; i < w->ncells; i++)
		fn(arg, &w->cells[i]);
	for (uint32_t m = 0; m < VT_METRIC_COUNT; m++) {
		for (uint32_t d = 0; d < VT_WINDOW_DIM2_MAX; d++) {
			struct vt_window_cell c = { .metric = m, .dim2 = d, .other = 1 };

			c.count = w->other[m][d];
			if (c.count)
				fn(arg, &c);
		}
	}
	return 1;
}

int vt_window_restore(struct vt_window *w, int64_t start_ms, const struct vt_window_cell *c,
		      int64_t mono_ms)
{
	if (c->metric == 0 || c->metric >= VT_METRIC_COUNT || c->dim2 >= VT_WINDOW_DIM2_MAX ||
	    start_ms % w->length_ms || (w->open && start_ms != w->start_ms))
		return -EINVAL;
	if (!w->open) {
		w->open = 1;
		w->start_ms = start_ms;
		w->unsynced = 0;
		w->start_mono = 0;
	}
	w->last_mono = mono_ms;
	if (c->other)
		w->other[c->metric][c->dim2] += c->count;
	else
		vt_window_count(w, c->metric, c->dim1, c->dim2, c->label, c->count);
	return 0;
}

void vt_window_clock(const struct vt_window *w, uint32_t *unsynced, int64_t *start_mono)
{
	*unsynced = w->open ? w->unsynced : 0;
	*start_mono = w->open ? w->start_mono : 0;
}

void vt_window_set_clock(struct vt_window *w, uint32_t unsynced, int64_t start_mono)
{
	if (!w->open)
		return;
	w->unsynced = unsynced;
	w->start_mono = unsynced == VT_READING_CLOCK_UNSYNCED ? start_mono : 0;
}

int vt_window_fix_clock(struct vt_window *w, struct vt_clock *c)
{
	struct vt_reading r = { .kind = VT_KIND_WINDOW };

	if (!w->open || w->unsynced != VT_READING_CLOCK_UNSYNCED)
		return 0;
	r.time_ms = w->start_ms;
	r.clock_unsynced = VT_READING_CLOCK_UNSYNCED;
	r.mono_ms = w->start_mono;
	r.u.window.length_s = w->conf.length_s;
	if (!vt_clock_fix(c, &r))
		return 0;
	w->start_ms = r.time_ms;
	w->unsynced = 0;
	w->start_mono = 0;
	return 1;
}
