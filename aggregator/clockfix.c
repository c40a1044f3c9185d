/*
 * clockfix.c - corrections of readings taken on an untrusted clock
 * (clockfix.h).
 *
 * The SQL of a window start rounds as vt_clock_window_start() does: to
 * the nearest boundary, half way up, with a floor that holds for negative
 * values too (SQLite's % keeps the dividend's sign, as C's does).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "clockfix.h"
#include "err.h"
#include "log.h"
#include "vt_os.h"

enum vt_clockfix_stmt {
	VT_CF_KEEP,
	VT_CF_FIND,
	VT_CF_FOOTFALL,
	VT_CF_TABLET,
	VT_CF_RFID,
	VT_CF_WINDOWS,
	VT_CF_COPIES_COUNT,
	VT_CF_COPIES_DROP,
	VT_CF_COUNT
};

/* ?1 device, ?2 boot_id, ?3 offset_ms. */
#define VT_CF_EVENTS(table)                                                                  \
	"UPDATE " table " SET time_ms = mono_ms + ?3, clock_unsynced = 0"                    \
	" WHERE device = ?1 AND boot_id = ?2 AND clock_unsynced = 1"

static const char *const vt_clockfix_sql[VT_CF_COUNT] = {
	[VT_CF_KEEP] = "INSERT INTO clock_corrections(device, boot_id, offset_ms, seq,"
		       " received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
		       " ON CONFLICT(device, boot_id) DO UPDATE SET offset_ms = excluded.offset_ms,"
		       " seq = excluded.seq, received_at_ms = excluded.received_at_ms"
		       " WHERE excluded.seq < clock_corrections.seq",
	[VT_CF_FIND] = "SELECT offset_ms FROM clock_corrections WHERE device = ?1 AND boot_id = ?2",
	[VT_CF_FOOTFALL] = VT_CF_EVENTS("footfall"),
	[VT_CF_TABLET] = VT_CF_EVENTS("tablet"),
	[VT_CF_RFID] = VT_CF_EVENTS("rfid"),
	/* A cell whose corrected start collides with the same cell and part
	 * stored already is left flagged here: a copy, dropped below. */
	[VT_CF_WINDOWS] = "UPDATE OR IGNORE windows SET clock_unsynced = 0,"
			  " time_ms = (mono_ms + ?3 + length_s * 500)"
			  " - ((mono_ms + ?3 + length_s * 500) % (length_s * 1000)"
			  " + length_s * 1000) % (length_s * 1000)"
			  " WHERE device = ?1 AND boot_id = ?2 AND clock_unsynced = 1",
	[VT_CF_COPIES_COUNT] = "UPDATE frames SET readings = readings - (SELECT count(*) FROM windows w"
			       " WHERE w.device = frames.device AND w.seq = frames.seq"
			       " AND w.boot_id = ?2 AND w.clock_unsynced = 1)"
			       " WHERE device = ?1 AND seq IN (SELECT seq FROM windows"
			       " WHERE device = ?1 AND boot_id = ?2 AND clock_unsynced = 1)",
	[VT_CF_COPIES_DROP] = "DELETE FROM windows WHERE device = ?1 AND boot_id = ?2 AND clock_unsynced = 1",
};

struct vt_clockfix {
	sqlite3 *db;
	sqlite3_stmt *stmt[VT_CF_COUNT];
};

int vt_clockfix_open(sqlite3 *db, struct vt_clockfix **out)
{
	struct vt_clockfix *cf = calloc(1, sizeof(*cf));

	if (!cf)
		return -ENOMEM;
	cf->db = db;
	for (int i = 0; i < VT_CF_COUNT; i++) {
		if (sqlite3_prepare_v3(db, vt_clockfix_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &cf->stmt[i], NULL) != SQLITE_OK) {
			vt_clockfix_free(cf);
			return -VT_EDB;
		}
	}
	*out = cf;
	return 0;
}

void vt_clockfix_free(struct vt_clockfix *cf)
{
	if (!cf)
		return;
	for (int i = 0; i < VT_CF_COUNT; i++)
		sqlite3_finalize(cf->stmt[i]);
	free(cf);
}

/* Bind device, boot (and offset when given), run; the rows changed, or
 * -VT_EDB. */
static int vt_clockfix_run(struct vt_clockfix *cf, enum vt_clockfix_stmt which,
			   const char *device, const uint8_t *boot, const int64_t *offset_ms)
{
	sqlite3_stmt *s = cf->stmt[which];
	int rc;

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, boot, VT_OS_BOOT_ID_LEN, SQLITE_STATIC);
	if (offset_ms)
		sqlite3_bind_int64(s, 3, *offset_ms);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		VT_DEBUG("clock corrections: %s", sqlite3_errmsg(cf->db));
		return -VT_EDB;
	}
	return sqlite3_changes(cf->db);
}

/* Keep the frame's correction: the first one of its boot (lowest seq). */
static int vt_clockfix_keep(struct vt_clockfix *cf, const char *device, uint64_t seq,
			    const uint8_t *boot, int64_t offset_ms, int64_t received_at_ms)
{
	sqlite3_stmt *s = cf->stmt[VT_CF_KEEP];
	int rc;

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, boot, VT_OS_BOOT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, offset_ms);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)seq);
	sqlite3_bind_int64(s, 5, received_at_ms);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -VT_EDB;
}

/* The correction known for (device, boot): 1 with *offset_ms, 0, or -VT_EDB. */
static int vt_clockfix_find(struct vt_clockfix *cf, const char *device, const uint8_t *boot,
			    int64_t *offset_ms)
{
	sqlite3_stmt *s = cf->stmt[VT_CF_FIND];
	int rc;

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, boot, VT_OS_BOOT_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*offset_ms = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -VT_EDB;
}

/* Correct the stored flagged rows of (device, boot). */
static int vt_clockfix_stored(struct vt_clockfix *cf, const char *device, const uint8_t *boot,
			      int64_t offset_ms, struct vt_clockfix_frame *f)
{
	static const enum vt_clockfix_stmt events[] = { VT_CF_FOOTFALL, VT_CF_TABLET, VT_CF_RFID,
							VT_CF_WINDOWS };
	int n;

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		n = vt_clockfix_run(cf, events[i], device, boot, &offset_ms);
		if (n < 0)
			return n;
		f->corrected += (uint64_t)n;
	}
	n = vt_clockfix_run(cf, VT_CF_COPIES_COUNT, device, boot, NULL);
	if (n > 0)
		n = vt_clockfix_run(cf, VT_CF_COPIES_DROP, device, boot, NULL);
	if (n < 0)
		return n;
	f->copies += (uint64_t)n;
	return 0;
}

int vt_clockfix_begin(struct vt_clockfix *cf, const char *device, uint64_t seq,
		      const Vitrine__V1__Batch *b, int64_t received_at_ms,
		      struct vt_clockfix_frame *f)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->b = b;
	if (b->boot_id.len != VT_OS_BOOT_ID_LEN)
		return 0;	/* receive.c: no flagged reading needs one then */
	f->boot_id = b->boot_id.data;
	if (b->clock_correction) {
		rc = vt_clockfix_keep(cf, device, seq, f->boot_id, b->clock_correction->offset_ms,
				      received_at_ms);
		if (rc < 0)
			return rc;
	}
	rc = vt_clockfix_find(cf, device, f->boot_id, &f->offset_ms);
	if (rc < 0)
		return rc;
	f->have_offset = rc;
	if (b->clock_correction && f->have_offset)
		return vt_clockfix_stored(cf, device, f->boot_id, f->offset_ms, f);
	return 0;
}

int64_t vt_clockfix_reading(struct vt_clockfix_frame *f, size_t idx,
			    const Vitrine__V1__Reading *r, int64_t t, sqlite3_stmt *s, int col)
{
	const Vitrine__V1__UnsyncedReading *u = NULL;
	int flagged = 0;

	/* Skipped readings (kinds this build does not know) skip theirs. */
	while (f->next < f->b->n_unsynced && f->b->unsynced[f->next]->index < idx)
		f->next++;
	if (f->next < f->b->n_unsynced && f->b->unsynced[f->next]->index == idx)
		u = f->b->unsynced[f->next++];
	if (u) {
		flagged = 1;
		f->unsynced++;
		if (!u->boot_unknown && f->have_offset) {
			t = r->kind_case == VITRINE__V1__READING__KIND_WINDOW
				    ? vt_clock_window_start(u->mono_ms, f->offset_ms,
							    (int64_t)r->window->length_s * 1000)
				    : vt_clock_corrected(u->mono_ms, f->offset_ms);
			flagged = 0;
			f->corrected++;
		}
	}
	sqlite3_bind_int(s, col, flagged);
	if (u && !u->boot_unknown && f->boot_id) {
		sqlite3_bind_int64(s, col + 1, u->mono_ms);
		sqlite3_bind_blob(s, col + 2, f->boot_id, VT_OS_BOOT_ID_LEN, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(s, col + 1);
		sqlite3_bind_null(s, col + 2);
	}
	return t;
}
