/*
 * acks.c - per-device acknowledgment watermarks (acks.h).
 *
 * One slot per device ever seen, in an array that only grows (slot numbers
 * stay valid), with a second array of slot numbers sorted by device id for
 * lookups. Two short lists of slot numbers say which devices were stored to
 * (or sent duplicates) in the open transaction and which acknowledgments
 * are due, so that a commit or a flush costs what changed, not the size of
 * the fleet. A duplicate makes its device's ack due at the next commit, not
 * at once: a device resending a thousand frames gets one ack per commit.
 *
 * Sequence numbers live in SQLite as signed 64-bit integers; a watermark
 * never goes above INT64_MAX, and a frame whose seq does not fit (stored
 * negative) never moves one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acks.h"
#include "err.h"
#include "frame.h"
#include "log.h"

struct vt_acks_dev {
	char device[VT_FRAME_DEVICE_MAX + 1];
	char site[VT_FRAME_DEVICE_MAX + 1];
	uint64_t acked;		/* committed: the only value ever published */
	uint64_t pending;	/* with the open transaction's frames */
	uint8_t touched;	/* VT_ACKS_*: listed in touched[] when not 0 */
	uint8_t due;		/* listed in due[] */
};

struct vt_acks {
	sqlite3 *db;
	sqlite3_stmt *next;	/* smallest stored seq above a watermark */
	sqlite3_stmt *save;	/* upsert of an acks row */
	struct vt_acks_dev *devs;
	uint32_t *order;	/* slots sorted by device id */
	uint32_t *touched;
	uint32_t *due;
	size_t n, cap, n_touched, n_due;
};

#define VT_ACKS_STORED 1	/* a frame stored in the open transaction */
#define VT_ACKS_DUPLICATE 2	/* a duplicate received since the last commit */

static const char vt_acks_next_sql[] =
	"SELECT seq, prev_seq FROM frames WHERE device = ?1 AND seq > ?2 ORDER BY seq LIMIT 1";
static const char vt_acks_save_sql[] =
	"INSERT INTO acks(device, site, seq) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(device) DO UPDATE SET site = excluded.site, seq = excluded.seq";

/* ---- slots ---------------------------------------------------------------------- */

/* Position of device in order[]: where it is (*found = 1) or would go. */
static size_t vt_acks_search(const struct vt_acks *a, const char *device, int *found)
{
	size_t lo = 0, hi = a->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(device, a->devs[a->order[mid]].device);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int vt_acks_resize(uint32_t **list, size_t cap)
{
	uint32_t *l = realloc(*list, cap * sizeof(*l));

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* Double every array; on failure, what was already enlarged stays so. */
static int vt_acks_grow(struct vt_acks *a)
{
	size_t cap = a->cap ? a->cap * 2 : 64;
	struct vt_acks_dev *devs;

	if (cap > UINT32_MAX)
		return -ENOMEM;
	devs = realloc(a->devs, cap * sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	a->devs = devs;
	if (vt_acks_resize(&a->order, cap) < 0 || vt_acks_resize(&a->touched, cap) < 0 ||
	    vt_acks_resize(&a->due, cap) < 0)
		return -ENOMEM;
	a->cap = cap;
	return 0;
}

long vt_acks_track(struct vt_acks *a, const char *device)
{
	struct vt_acks_dev *d;
	size_t pos;
	int found;

	pos = vt_acks_search(a, device, &found);
	if (found)
		return a->order[pos];
	if (a->n == a->cap && vt_acks_grow(a) < 0)
		return -ENOMEM;
	d = &a->devs[a->n];
	memset(d, 0, sizeof(*d));
	snprintf(d->device, sizeof(d->device), "%s", device);
	memmove(&a->order[pos + 1], &a->order[pos], (a->n - pos) * sizeof(a->order[0]));
	a->order[pos] = (uint32_t)a->n;
	return (long)a->n++;
}

static void vt_acks_touch(struct vt_acks *a, uint32_t slot, uint8_t why)
{
	if (!a->devs[slot].touched)
		a->touched[a->n_touched++] = slot;
	a->devs[slot].touched |= why;
}

static void vt_acks_make_due(struct vt_acks *a, uint32_t slot)
{
	if (!a->devs[slot].due && a->devs[slot].acked > 0) {
		a->devs[slot].due = 1;
		a->due[a->n_due++] = slot;
	}
}

/* ---- open, load, free ------------------------------------------------------------- */

static int vt_acks_load(struct vt_acks *a)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(a->db, "SELECT device, site, seq FROM acks ORDER BY device", -1,
			       &s, NULL) != SQLITE_OK)
		return -VT_EDB;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *device = (const char *)sqlite3_column_text(s, 0);
		const char *site = (const char *)sqlite3_column_text(s, 1);
		sqlite3_int64 seq = sqlite3_column_int64(s, 2);
		long slot;

		if (!device || !vt_frame_id_valid(device) || seq <= 0)
			continue;	/* not ours: ignore rather than refuse to start */
		slot = vt_acks_track(a, device);
		if (slot < 0) {
			sqlite3_finalize(s);
			return (int)slot;
		}
		snprintf(a->devs[slot].site, sizeof(a->devs[slot].site), "%s", site ? site : "");
		a->devs[slot].acked = a->devs[slot].pending = (uint64_t)seq;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -VT_EDB;
}

int vt_acks_open(sqlite3 *db, struct vt_acks **out)
{
	struct vt_acks *a = calloc(1, sizeof(*a));
	int rc = -VT_EDB;

	if (!a)
		return -ENOMEM;
	a->db = db;
	if (sqlite3_prepare_v3(db, vt_acks_next_sql, -1, SQLITE_PREPARE_PERSISTENT, &a->next,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(db, vt_acks_save_sql, -1, SQLITE_PREPARE_PERSISTENT, &a->save,
			       NULL) != SQLITE_OK)
		goto out_free;
	rc = vt_acks_load(a);
	if (rc < 0)
		goto out_free;
	*out = a;
	return 0;
out_free:
	vt_acks_free(a);
	return rc;
}

void vt_acks_free(struct vt_acks *a)
{
	if (!a)
		return;
	sqlite3_finalize(a->next);
	sqlite3_finalize(a->save);
	free(a->devs);
	free(a->order);
	free(a->touched);
	free(a->due);
	free(a);
}

/* ---- the rule ---------------------------------------------------------------------- */

void vt_acks_stored(struct vt_acks *a, long slot, const char *site, uint64_t seq,
		    uint64_t prev_seq, uint64_t floor_seq)
{
	struct vt_acks_dev *d = &a->devs[slot];

	(void)prev_seq;	/* links are followed at commit, in seq order */
	snprintf(d->site, sizeof(d->site), "%s", site);
	if (floor_seq > 0 && floor_seq <= (uint64_t)INT64_MAX && floor_seq - 1 > d->pending)
		d->pending = floor_seq - 1;
	/* The common case, frames in order: no query needed at commit to get
	 * here (the rule's result does not depend on the order of steps). */
	if (seq == d->pending + 1 && seq <= (uint64_t)INT64_MAX)
		d->pending = seq;
	vt_acks_touch(a, (uint32_t)slot, VT_ACKS_STORED);
}

void vt_acks_duplicate(struct vt_acks *a, long slot)
{
	vt_acks_touch(a, (uint32_t)slot, VT_ACKS_DUPLICATE);
}

/* The stored frame of device with the smallest seq above *wm: 1 (and *wm
 * moved) if it extends the watermark, 0 if not or none, or -VT_EDB. */
static int vt_acks_step(struct vt_acks *a, const struct vt_acks_dev *d, uint64_t *wm)
{
	sqlite3_stmt *s = a->next;
	int rc, moved = 0;

	sqlite3_bind_text(s, 1, d->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)*wm);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 seq = sqlite3_column_int64(s, 0);
		sqlite3_int64 prev = sqlite3_column_int64(s, 1);

		if (seq > 0 && (uint64_t)seq > *wm &&
		    ((uint64_t)seq == *wm + 1 || (prev > 0 && (uint64_t)prev <= *wm))) {
			*wm = (uint64_t)seq;
			moved = 1;
		}
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -VT_EDB;
	return moved;
}

static int vt_acks_save(struct vt_acks *a, const struct vt_acks_dev *d)
{
	sqlite3_stmt *s = a->save;
	int rc;

	sqlite3_bind_text(s, 1, d->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)d->pending);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -VT_EDB;
}

int vt_acks_prepare_commit(struct vt_acks *a)
{
	for (size_t i = 0; i < a->n_touched; i++) {
		struct vt_acks_dev *d = &a->devs[a->touched[i]];
		int rc;

		if (!(d->touched & VT_ACKS_STORED))
			continue;
		while ((rc = vt_acks_step(a, d, &d->pending)) == 1)
			;
		if (rc == 0 && d->pending > 0)
			rc = vt_acks_save(a, d);
		if (rc < 0) {
			VT_DEBUG("acks of device %s: %s", d->device, sqlite3_errmsg(a->db));
			return -VT_EDB;
		}
	}
	return 0;
}

void vt_acks_committed(struct vt_acks *a, int ok)
{
	for (size_t i = 0; i < a->n_touched; i++) {
		uint32_t slot = a->touched[i];
		struct vt_acks_dev *d = &a->devs[slot];

		if (!ok) {
			d->pending = d->acked;
		} else if (d->pending != d->acked) {
			d->acked = d->pending;
			vt_acks_make_due(a, slot);
		}
		/* Committed or not, the watermark a duplicate calls for is. */
		if (d->touched & VT_ACKS_DUPLICATE)
			vt_acks_make_due(a, slot);
		d->touched = 0;
	}
	a->n_touched = 0;
}

/* ---- publishing ------------------------------------------------------------------- */

int vt_acks_flush(struct vt_acks *a, vt_acks_publish_fn publish, void *arg)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < a->n_due; i++) {
		struct vt_acks_dev *d = &a->devs[a->due[i]];

		rc = publish(arg, d->device, d->site, d->acked);
		if (rc < 0)
			break;
		d->due = 0;
	}
	memmove(a->due, a->due + i, (a->n_due - i) * sizeof(a->due[0]));
	a->n_due -= i;
	return rc < 0 ? rc : (int)i;
}

void vt_acks_all_due(struct vt_acks *a)
{
	for (size_t i = 0; i < a->n; i++)
		vt_acks_make_due(a, (uint32_t)i);
}

size_t vt_acks_due(const struct vt_acks *a)
{
	return a->n_due;
}

uint64_t vt_acks_get(const struct vt_acks *a, const char *device)
{
	int found;
	size_t pos = vt_acks_search(a, device, &found);

	return found ? a->devs[a->order[pos]].acked : 0;
}
