/*
 * store.c - SQLite storage of opened frames, with group commit (store.h).
 *
 * Every frame is a row in frames(device, seq) and its readings rows in the
 * table of their kind (the window cells of anonymous mode in windows). The
 * primary key on (device, seq) is the duplicate check: an insert that
 * changes nothing means the frame was stored before, in an earlier
 * transaction or earlier in this one. Window cells have a second check of
 * their own: a device that crashed before the frames carrying a window were
 * safe in its spool sends that window again, in new frames, with the same
 * part; the unique index on (cell, part) keeps the first copy, and the new
 * frame is stored with the rows it added. Each frame sits in a savepoint so that
 * a failure halfway through leaves none of its rows behind. Counter changes
 * are kept in memory and written in the same transaction as the frames they
 * describe; so are the acknowledgment watermarks (acks.c), which only become
 * publishable once COMMIT returned.
 *
 * synchronous=FULL: an acknowledgment lets a device delete its copy, so a
 * commit must survive a power cut, not only a crash of this process. In WAL
 * mode that costs one fsync per group commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clockfix.h"
#include "err.h"
#include "log.h"
#include "reading.h"
#include "store.h"
#include "vt_os.h"

#define VT_STORE_BUSY_MS 5000

enum vt_store_stmt {
	VT_STMT_BEGIN,
	VT_STMT_COMMIT,
	VT_STMT_ROLLBACK,
	VT_STMT_SAVEPOINT,
	VT_STMT_RELEASE,
	VT_STMT_ROLLBACK_TO,
	VT_STMT_FRAME,
	VT_STMT_FRAME_READINGS,
	VT_STMT_FOOTFALL,
	VT_STMT_TABLET,
	VT_STMT_RFID,
	VT_STMT_WINDOW,
	VT_STMT_COUNTER,
	VT_STMT_COUNT
};

static const char *const vt_store_sql[VT_STMT_COUNT] = {
	[VT_STMT_BEGIN] = "BEGIN IMMEDIATE",
	[VT_STMT_COMMIT] = "COMMIT",
	[VT_STMT_ROLLBACK] = "ROLLBACK",
	[VT_STMT_SAVEPOINT] = "SAVEPOINT vt_frame",
	[VT_STMT_RELEASE] = "RELEASE vt_frame",
	[VT_STMT_ROLLBACK_TO] = "ROLLBACK TO vt_frame",
	[VT_STMT_FRAME] = "INSERT INTO frames(device, seq, epoch, site, received_at_ms, readings,"
			  " prev_seq, floor_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
			  " ON CONFLICT(device, seq) DO NOTHING",
	[VT_STMT_FRAME_READINGS] = "UPDATE frames SET readings = ?3 WHERE device = ?1 AND seq = ?2",
	/* Each ends with the three clock columns (clockfix.h). */
	[VT_STMT_FOOTFALL] = "INSERT INTO footfall(device, seq, idx, site, time_ms, door,"
			     " direction, count, clock_unsynced, mono_ms, boot_id)"
			     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[VT_STMT_TABLET] = "INSERT INTO tablet(device, seq, idx, site, time_ms, kiosk, event,"
			   " session_digest, screen, gtin, duration_ms, clock_unsynced, mono_ms,"
			   " boot_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[VT_STMT_RFID] = "INSERT INTO rfid(device, seq, idx, site, time_ms, reader, antenna,"
			 " rssi_cdbm, gtin, filter, tag_digest, reads, dwell_ms, clock_unsynced,"
			 " mono_ms, boot_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* Only a copy of a cell already stored is skipped: any other
	 * constraint failing is still an error. */
	[VT_STMT_WINDOW] = "INSERT INTO windows(device, seq, idx, site, time_ms, length_s, metric,"
			   " dim1, dim2, label, other, count, k, epsilon_milli, part,"
			   " clock_unsynced, mono_ms, boot_id)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
			   " ON CONFLICT(device, time_ms, length_s, metric, dim1, dim2, label,"
			   " other, part) DO NOTHING",
	[VT_STMT_COUNTER] = ("INSERT INTO counters(name, value) VALUES (?, ?)"
			     " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"),
};

#define VT_STORE_CLOCK_COLUMNS \
	" clock_unsynced INTEGER NOT NULL DEFAULT 0, mono_ms INTEGER, boot_id BLOB"

/* The tables; their indexes come after the upgrade (vt_store_indexes), which
 * first checks that the columns they need are there. */
static const char vt_store_tables[] =
	/* Readings: clock_unsynced, mono_ms and boot_id since version 5
	 * (clockfix.h). */
	"CREATE TABLE IF NOT EXISTS frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, prev_seq INTEGER NOT NULL DEFAULT 0,"
	" floor_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(device, seq));"
	"CREATE TABLE IF NOT EXISTS footfall(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" door INTEGER NOT NULL, direction TEXT NOT NULL, count INTEGER NOT NULL,"
	VT_STORE_CLOCK_COLUMNS ");"
	"CREATE TABLE IF NOT EXISTS tablet(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" kiosk INTEGER NOT NULL, event TEXT NOT NULL, session_digest BLOB NOT NULL,"
	" screen TEXT NOT NULL, gtin TEXT NOT NULL, duration_ms INTEGER NOT NULL,"
	VT_STORE_CLOCK_COLUMNS ");"
	"CREATE TABLE IF NOT EXISTS rfid(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" reader INTEGER NOT NULL, antenna INTEGER NOT NULL, rssi_cdbm INTEGER NOT NULL,"
	" gtin TEXT NOT NULL, filter INTEGER NOT NULL, tag_digest BLOB NOT NULL,"
	" reads INTEGER NOT NULL DEFAULT 0, dwell_ms INTEGER NOT NULL DEFAULT 0,"
	VT_STORE_CLOCK_COLUMNS ");"
	/* Since version 3; time_ms is the window's start, part the device's
	 * release id (the same for a window sent again after a crash). */
	"CREATE TABLE IF NOT EXISTS windows(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" length_s INTEGER NOT NULL, metric TEXT NOT NULL, dim1 INTEGER NOT NULL,"
	" dim2 INTEGER NOT NULL, label TEXT NOT NULL, other INTEGER NOT NULL,"
	" count INTEGER NOT NULL, k INTEGER NOT NULL, epsilon_milli INTEGER NOT NULL,"
	" part INTEGER NOT NULL," VT_STORE_CLOCK_COLUMNS ");"
	"CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS acks(device TEXT PRIMARY KEY, site TEXT NOT NULL,"
	" seq INTEGER NOT NULL);"
	/* Since version 5: one correction per device and boot. */
	"CREATE TABLE IF NOT EXISTS clock_corrections(device TEXT NOT NULL, boot_id BLOB NOT NULL,"
	" offset_ms INTEGER NOT NULL, seq INTEGER NOT NULL, received_at_ms INTEGER NOT NULL,"
	" PRIMARY KEY(device, boot_id));";

static const char vt_store_indexes[] =
	"CREATE INDEX IF NOT EXISTS footfall_site_time ON footfall(site, time_ms);"
	"CREATE INDEX IF NOT EXISTS tablet_site_time ON tablet(site, time_ms);"
	"CREATE INDEX IF NOT EXISTS rfid_site_time ON rfid(site, time_ms);"
	"CREATE INDEX IF NOT EXISTS windows_site_time ON windows(site, time_ms);"
	/* Each cell of a window once per part: a copy is a duplicate. */
	"CREATE UNIQUE INDEX IF NOT EXISTS windows_cell_part ON windows(device, time_ms,"
	" length_s, metric, dim1, dim2, label, other, part);"
	/* The rows a correction looks for: only the flagged ones, few. */
	"CREATE INDEX IF NOT EXISTS footfall_unsynced ON footfall(device, boot_id)"
	" WHERE clock_unsynced = 1;"
	"CREATE INDEX IF NOT EXISTS tablet_unsynced ON tablet(device, boot_id)"
	" WHERE clock_unsynced = 1;"
	"CREATE INDEX IF NOT EXISTS rfid_unsynced ON rfid(device, boot_id)"
	" WHERE clock_unsynced = 1;"
	"CREATE INDEX IF NOT EXISTS windows_unsynced ON windows(device, boot_id)"
	" WHERE clock_unsynced = 1;";

/* Columns added since version 1: frames' in version 2, rfid's (presence
 * readings) in version 4, the readings' clock in version 5. */
#define VT_STORE_INT0 "INTEGER NOT NULL DEFAULT 0"
static const struct {
	const char *table, *column, *decl;
} vt_store_new_columns[] = {
	{ "frames", "prev_seq", VT_STORE_INT0 }, { "frames", "floor_seq", VT_STORE_INT0 },
	{ "rfid", "reads", VT_STORE_INT0 }, { "rfid", "dwell_ms", VT_STORE_INT0 },
	{ "footfall", "clock_unsynced", VT_STORE_INT0 }, { "footfall", "mono_ms", "INTEGER" },
	{ "footfall", "boot_id", "BLOB" },
	{ "tablet", "clock_unsynced", VT_STORE_INT0 }, { "tablet", "mono_ms", "INTEGER" },
	{ "tablet", "boot_id", "BLOB" },
	{ "rfid", "clock_unsynced", VT_STORE_INT0 }, { "rfid", "mono_ms", "INTEGER" },
	{ "rfid", "boot_id", "BLOB" },
	{ "windows", "clock_unsynced", VT_STORE_INT0 }, { "windows", "mono_ms", "INTEGER" },
	{ "windows", "boot_id", "BLOB" },
};
#define VT_STORE_NEW_COLUMNS (sizeof(vt_store_new_columns) / sizeof(vt_store_new_columns[0]))
/* Version 1 called duplicates replays. */
static const char vt_store_rename_replay[] =
	"INSERT INTO counters(name, value) SELECT 'rejected_duplicate', value FROM counters"
	" WHERE name = 'rejected_replay'"
	" ON CONFLICT(name) DO UPDATE SET value = value + excluded.value;"
	"DELETE FROM counters WHERE name = 'rejected_replay';";

struct vt_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[VT_STMT_COUNT];
	struct vt_acks *acks;		/* read-write only */
	struct vt_clockfix *clockfix;	/* read-write only */
	int in_tx;
	int64_t pending_since;		/* mono ms; 0 = nothing pending */
	uint64_t group_frames;		/* frames in the open transaction */
	int64_t delta[VT_STORE_COUNTERS];
	uint64_t session[VT_STORE_COUNTERS];
};

const char *vt_store_counter_name(int counter)
{
	static char names[VT_AGG_REASON_COUNT][40];

	switch (counter) {
	case VT_STORE_FRAMES_OK:
		return "frames_ok";
	case VT_STORE_READINGS_OK:
		return "readings_ok";
	case VT_STORE_READINGS_SKIPPED:
		return "readings_skipped";
	case VT_STORE_WINDOW_CELLS_DUPLICATE:
		return "window_cells_duplicate";
	case VT_STORE_READINGS_UNSYNCED:
		return "readings_unsynced";
	case VT_STORE_READINGS_CLOCK_CORRECTED:
		return "readings_clock_corrected";
	}
	if (counter <= VT_STORE_REJECTED || counter >= VT_STORE_COUNTERS)
		return "unknown";
	counter -= VT_STORE_REJECTED;
	if (!names[counter][0])
		snprintf(names[counter], sizeof(names[counter]), "rejected_%s",
			 vt_agg_reason_name((enum vt_agg_reason)counter));
	return names[counter];
}

static void vt_store_add(struct vt_store *st, int counter, uint64_t n)
{
	if (n == 0)
		return;
	st->delta[counter] += (int64_t)n;
	st->session[counter] += n;
	if (!st->pending_since)
		st->pending_since = vt_os_mono_ms();
}

/* Rows removed after they were counted (copies found by a clock
 * correction, clockfix.h). */
static void vt_store_sub(struct vt_store *st, int counter, uint64_t n)
{
	if (n == 0)
		return;
	st->delta[counter] -= (int64_t)n;
	st->session[counter] -= n < st->session[counter] ? n : st->session[counter];
	if (!st->pending_since)
		st->pending_since = vt_os_mono_ms();
}

/* Run a prepared statement that returns no rows. */
static int vt_store_step(struct vt_store *st, enum vt_store_stmt which)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		VT_DEBUG("database %s: %s", st->path, sqlite3_errmsg(st->db));
		return -VT_EDB;
	}
	return 0;
}

static int vt_store_prepare(struct vt_store *st, char *err, size_t errlen)
{
	for (int i = 0; i < VT_STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, vt_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "database %s: %s", st->path,
				 sqlite3_errmsg(st->db));
			return -VT_EDB;
		}
	}
	return 0;
}

static int vt_store_exec(struct vt_store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "database %s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return -VT_EDB;
}

/* The first integer of the first row of sql, or -1. */
static long long vt_store_query_int(struct vt_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Does table have column? 1, 0, or -VT_EDB with err set. */
static int vt_store_has_column(struct vt_store *st, const char *table, const char *col,
			       char *err, size_t errlen)
{
	char sql[160];
	long long have;

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table, col);
	have = vt_store_query_int(st, sql);
	if (have < 0) {
		snprintf(err, errlen, "database %s: %s", st->path, sqlite3_errmsg(st->db));
		return -VT_EDB;
	}
	return have > 0;
}

/* Add what versions 1 and 3 lack and rename version 1's replay counter. Columns are
 * looked up rather than trusted to the version number, so a database that
 * an older aggregator opened again (and labelled version 1) upgrades as
 * well. What version 2 lacks (the windows table and its indexes) is made by
 * the CREATE ... IF NOT EXISTS of the schema itself, around this. */
static int vt_store_upgrade(struct vt_store *st, char *err, size_t errlen)
{
	char sql[160];
	int have;

	for (size_t i = 0; i < VT_STORE_NEW_COLUMNS; i++) {
		const char *table = vt_store_new_columns[i].table;
		const char *col = vt_store_new_columns[i].column;

		have = vt_store_has_column(st, table, col, err, errlen);
		if (have < 0)
			return have;
		if (have)
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s", table, col,
			 vt_store_new_columns[i].decl);
		if (vt_store_exec(st, sql, err, errlen) < 0)
			return -VT_EDB;
	}
	/* Version 3 was never released without windows.part: only a
	 * development build made such a table, and its rows have no release
	 * id to tell a copy from a part. */
	have = vt_store_has_column(st, "windows", "part", err, errlen);
	if (have < 0)
		return have;
	if (!have) {
		snprintf(err, errlen,
			 "database %s: its windows table comes from a development build (no part column); move the database aside and start a new one",
			 st->path);
		return -VT_EDB;
	}
	return vt_store_exec(st, vt_store_rename_replay, err, errlen);
}

/* Create the schema or bring it up to date, in one transaction. */
static int vt_store_schema_tx(struct vt_store *st, int *was, char *err, size_t errlen)
{
	char sql[64];
	int rc;

	*was = (int)vt_store_query_int(st, "PRAGMA user_version");
	if (*was > VT_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "database %s: schema version %d is newer than this aggregator's (%d); run a newer vitrine-aggregator",
			 st->path, *was, VT_STORE_SCHEMA_VERSION);
		return -VT_EDB;
	}
	rc = vt_store_exec(st, vt_store_tables, err, errlen);
	if (rc == 0 && *was > 0)
		rc = vt_store_upgrade(st, err, errlen);
	if (rc == 0)
		rc = vt_store_exec(st, vt_store_indexes, err, errlen);
	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", VT_STORE_SCHEMA_VERSION);
	if (rc == 0)
		rc = vt_store_exec(st, sql, err, errlen);
	return rc;
}

static int vt_store_init_schema(struct vt_store *st, char *err, size_t errlen)
{
	int was = 0, rc;

	rc = vt_store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err, errlen);
	if (rc == 0)
		rc = vt_store_exec(st, "BEGIN IMMEDIATE", err, errlen);
	if (rc < 0)
		return rc;
	rc = vt_store_schema_tx(st, &was, err, errlen);
	if (rc == 0)
		rc = vt_store_exec(st, "COMMIT", err, errlen);
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	if (was > 0 && was < VT_STORE_SCHEMA_VERSION)
		VT_INFO("database %s: schema upgraded from version %d to %d (%s%s)", st->path, was,
			VT_STORE_SCHEMA_VERSION,
			was < VT_STORE_SCHEMA_CHAIN ? "frames.prev_seq, frames.floor_seq, acks, windows, rfid.reads, rfid.dwell_ms, "
			: was < VT_STORE_SCHEMA_WINDOWS ? "windows, rfid.reads, rfid.dwell_ms, "
			: was < VT_STORE_SCHEMA_CLOCK - 1 ? "rfid.reads, rfid.dwell_ms, " : "",
			"the readings' clock_unsynced, mono_ms, boot_id and clock_corrections");
	rc = vt_store_prepare(st, err, errlen);
	if (rc == 0 && vt_clockfix_open(st->db, &st->clockfix) < 0) {
		snprintf(err, errlen, "database %s: %s", st->path, sqlite3_errmsg(st->db));
		rc = -VT_EDB;
	}
	if (rc == 0)
		rc = vt_acks_open(st->db, &st->acks);
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "database %s: cannot load the acks table: %s", st->path,
			 rc == -ENOMEM ? "out of memory" : sqlite3_errmsg(st->db));
	return rc;
}

/* A read-only open must find our tables, or every query fails later with a
 * less helpful message. */
static int vt_store_check_schema(struct vt_store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int found = -1;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			       " ('frames', 'footfall', 'tablet', 'rfid', 'counters')",
			       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		found = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (found == 5)
		return 0;
	if (found < 0)
		snprintf(err, errlen, "database %s: %s", st->path, sqlite3_errmsg(st->db));
	else
		snprintf(err, errlen, "database %s: not a vitrine database (no tables yet)",
			 st->path);
	return -VT_EDB;
}

/* SQLite without its mutexes and its memory statistics (which take a
 * mutex around every allocation): vitrine opens each database from one
 * thread. Only possible before SQLite's first use in the process; a later
 * call changes nothing (SQLITE_MISUSE, ignored). */
static void vt_store_config_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	(void)sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int vt_store_open(const char *path, int mode, struct vt_store **out, char *err, size_t errlen)
{
	int flags = mode == VT_STORE_READONLY ? SQLITE_OPEN_READONLY
					      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	struct vt_store *st;
	int rc;

	vt_store_config_once();
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->path = strdup(path);
	if (!st->path) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (errlen)
		err[0] = '\0';
	if (mode == VT_STORE_READONLY && access(path, F_OK) != 0) {
		snprintf(err, errlen, "database %s does not exist (run the aggregator first)", path);
		rc = -ENOENT;
		goto out_free;
	}
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		rc = -VT_EDB;
		goto out_free;
	}
	sqlite3_busy_timeout(st->db, VT_STORE_BUSY_MS);
	if (mode == VT_STORE_READONLY)
		rc = vt_store_check_schema(st, err, errlen);
	else
		rc = vt_store_init_schema(st, err, errlen);
	if (rc < 0)
		goto out_free;
	*out = st;
	return 0;
out_free:
	vt_store_close(st);
	return rc;
}

int vt_store_close(struct vt_store *st)
{
	int rc = 0;

	if (!st)
		return 0;
	if (st->stmt[VT_STMT_COMMIT])
		rc = vt_store_commit(st);
	vt_acks_free(st->acks);
	vt_clockfix_free(st->clockfix);
	for (int i = 0; i < VT_STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		rc = -VT_EDB;
	free(st->path);
	free(st);
	return rc;
}

sqlite3 *vt_store_db(struct vt_store *st)
{
	return st->db;
}

struct vt_acks *vt_store_acks(struct vt_store *st)
{
	return st->acks;
}

/* ---- writing -------------------------------------------------------------------- */

static int vt_store_begin(struct vt_store *st)
{
	int rc;

	if (st->in_tx)
		return 0;
	rc = vt_store_step(st, VT_STMT_BEGIN);
	if (rc == 0) {
		st->in_tx = 1;
		st->group_frames = 0;
		if (!st->pending_since)
			st->pending_since = vt_os_mono_ms();
	}
	return rc;
}

static void vt_store_bind_head(sqlite3_stmt *s, const struct vt_frame_header *h,
			       const Vitrine__V1__Batch *b, size_t idx, int64_t time_ms)
{
	sqlite3_bind_text(s, 1, h->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)h->seq);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)idx);
	sqlite3_bind_text(s, 4, b->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, time_ms);
}

static void vt_store_bind_blob(sqlite3_stmt *s, int col, const ProtobufCBinaryData *d)
{
	/* A zero-length blob, not NULL: export prints an empty field. */
	sqlite3_bind_blob(s, col, d->len ? d->data : (const void *)"", (int)d->len,
			  SQLITE_STATIC);
}

static const char *vt_store_tablet_event(int type)
{
	static const char *const names[] = {
		"", "session_start", "session_end", "screen_view", "product_lookup",
	};

	return type >= 0 && type < 5 ? names[type] : "";
}

/* A window cell; the metric is stored by name (checked 1..6 by receive),
 * as the export and the agent's tap write it. Returns 0, or 1 when the same
 * cell with the same part is already stored (a copy sent again after a
 * crash: nothing added), or -VT_EDB. */
static int vt_store_window(struct vt_store *st, const struct vt_frame_header *h,
			   const Vitrine__V1__Batch *b, size_t idx, int64_t t,
			   struct vt_clockfix_frame *cf)
{
	const Vitrine__V1__WindowCount *w = b->readings[idx]->window;
	sqlite3_stmt *s = st->stmt[VT_STMT_WINDOW];
	int rc;

	t = vt_clockfix_reading(cf, idx, b->readings[idx], t, s, 16);
	vt_store_bind_head(s, h, b, idx, t);
	sqlite3_bind_int64(s, 6, w->length_s);
	sqlite3_bind_text(s, 7, vt_reading_metric_name((uint32_t)w->metric), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, w->dim1);
	sqlite3_bind_int64(s, 9, w->dim2);
	sqlite3_bind_text(s, 10, w->label ? w->label : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, w->other ? 1 : 0);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)w->count);	/* <= INT64_MAX: receive */
	sqlite3_bind_int64(s, 13, w->k);
	sqlite3_bind_int64(s, 14, w->epsilon_milli);
	/* A release id as SQLite's signed integer: only equality matters. */
	sqlite3_bind_int64(s, 15, (sqlite3_int64)w->part);
	rc = vt_store_step(st, VT_STMT_WINDOW);
	if (rc < 0)
		return rc;
	return sqlite3_changes(st->db) == 0;
}

/* Store reading idx: 0 stored, 1 a window cell already stored, 2 a kind this
 * build does not know (not stored), or -VT_EDB. */
static int vt_store_reading(struct vt_store *st, const struct vt_frame_header *h,
			    const Vitrine__V1__Batch *b, size_t idx, struct vt_clockfix_frame *cf)
{
	const Vitrine__V1__Reading *r = b->readings[idx];
	int64_t t = b->base_time_ms + r->time_offset_ms; /* checked by receive */
	sqlite3_stmt *s;

	switch (r->kind_case) {
	case VITRINE__V1__READING__KIND_FOOTFALL:
		s = st->stmt[VT_STMT_FOOTFALL];
		t = vt_clockfix_reading(cf, idx, r, t, s, 9);
		vt_store_bind_head(s, h, b, idx, t);
		sqlite3_bind_int64(s, 6, r->footfall->door);
		sqlite3_bind_text(s, 7,
				  r->footfall->direction == VITRINE__V1__DIRECTION__DIRECTION_IN
					  ? "in" : "out", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, r->footfall->count);
		return vt_store_step(st, VT_STMT_FOOTFALL);
	case VITRINE__V1__READING__KIND_TABLET:
		s = st->stmt[VT_STMT_TABLET];
		t = vt_clockfix_reading(cf, idx, r, t, s, 12);
		vt_store_bind_head(s, h, b, idx, t);
		sqlite3_bind_int64(s, 6, r->tablet->kiosk);
		sqlite3_bind_text(s, 7, vt_store_tablet_event(r->tablet->type), -1, SQLITE_STATIC);
		vt_store_bind_blob(s, 8, &r->tablet->session_digest);
		sqlite3_bind_text(s, 9, r->tablet->screen, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 10, r->tablet->gtin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 11, r->tablet->duration_ms);
		return vt_store_step(st, VT_STMT_TABLET);
	case VITRINE__V1__READING__KIND_RFID:
		s = st->stmt[VT_STMT_RFID];
		t = vt_clockfix_reading(cf, idx, r, t, s, 14);
		vt_store_bind_head(s, h, b, idx, t);
		sqlite3_bind_int64(s, 6, r->rfid->reader);
		sqlite3_bind_int64(s, 7, r->rfid->antenna);
		sqlite3_bind_int64(s, 8, r->rfid->rssi_cdbm);
		sqlite3_bind_text(s, 9, r->rfid->gtin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 10, r->rfid->filter);
		vt_store_bind_blob(s, 11, &r->rfid->tag_digest);
		sqlite3_bind_int64(s, 12, r->rfid->reads);
		sqlite3_bind_int64(s, 13, r->rfid->dwell_ms);
		return vt_store_step(st, VT_STMT_RFID);
	case VITRINE__V1__READING__KIND_WINDOW:
		return vt_store_window(st, h, b, idx, t, cf);
	default:
		return 2;	/* unknown kind: skipped */
	}
}

static int vt_store_known(const Vitrine__V1__Reading *r)
{
	return r->kind_case == VITRINE__V1__READING__KIND_FOOTFALL ||
	       r->kind_case == VITRINE__V1__READING__KIND_TABLET ||
	       r->kind_case == VITRINE__V1__READING__KIND_RFID ||
	       r->kind_case == VITRINE__V1__READING__KIND_WINDOW;
}

/* Insert the frame row; 1 if it was new, 0 if a duplicate, or -VT_EDB. */
static int vt_store_frame_row(struct vt_store *st, const struct vt_frame_header *h,
			      const Vitrine__V1__Batch *b, int64_t received_at_ms, size_t known)
{
	sqlite3_stmt *s = st->stmt[VT_STMT_FRAME];
	int rc;

	sqlite3_bind_text(s, 1, h->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)h->seq);
	sqlite3_bind_int64(s, 3, h->epoch);
	sqlite3_bind_text(s, 4, b->site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, received_at_ms);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)known);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)b->prev_seq);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)b->floor_seq);
	rc = vt_store_step(st, VT_STMT_FRAME);
	if (rc < 0)
		return rc;
	return sqlite3_changes(st->db) > 0;
}

/* The frame row was written before its readings, with all of them: bring
 * its count down to the rows they actually added. */
static int vt_store_frame_readings(struct vt_store *st, const struct vt_frame_header *h,
				   size_t stored)
{
	sqlite3_stmt *s = st->stmt[VT_STMT_FRAME_READINGS];

	sqlite3_bind_text(s, 1, h->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)h->seq);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)stored);
	return vt_store_step(st, VT_STMT_FRAME_READINGS);
}

int vt_store_put(struct vt_store *st, const struct vt_frame_header *h,
		 const Vitrine__V1__Batch *b, int64_t received_at_ms)
{
	size_t known = 0, cells = 0, copies = 0;
	struct vt_clockfix_frame cf;
	long slot;
	int rc;

	for (size_t i = 0; i < b->n_readings; i++) {
		known += vt_store_known(b->readings[i]);
		cells += b->readings[i]->kind_case == VITRINE__V1__READING__KIND_WINDOW;
	}
	/* Before anything is stored: nothing may fail once the frame is. */
	slot = vt_acks_track(st->acks, h->device);
	if (slot < 0)
		return (int)slot;
	rc = vt_store_begin(st);
	if (rc < 0)
		return rc;
	rc = vt_store_step(st, VT_STMT_SAVEPOINT);
	if (rc < 0)
		return rc;
	rc = vt_store_frame_row(st, h, b, received_at_ms, known);
	if (rc <= 0)
		goto out_rollback;
	rc = vt_clockfix_begin(st->clockfix, h->device, h->seq, b, received_at_ms, &cf);
	if (rc < 0)
		goto out_rollback;
	for (size_t i = 0; i < b->n_readings; i++) {
		rc = vt_store_reading(st, h, b, i, &cf);
		if (rc < 0)
			goto out_rollback;
		copies += rc == 1;
	}
	/* A frame of copies only is stored all the same: its seq is new and
	 * the watermark needs it; it then holds no rows. */
	if (copies) {
		rc = vt_store_frame_readings(st, h, known - copies);
		if (rc < 0)
			goto out_rollback;
	}
	rc = vt_store_step(st, VT_STMT_RELEASE);
	if (rc < 0)
		goto out_rollback;
	vt_acks_stored(st->acks, slot, b->site, h->seq, b->prev_seq, b->floor_seq);
	st->group_frames++;
	vt_store_add(st, VT_STORE_FRAMES_OK, 1);
	vt_store_add(st, VT_STORE_READINGS_OK, known - copies);
	vt_store_sub(st, VT_STORE_READINGS_OK, cf.copies);
	vt_store_add(st, VT_STORE_READINGS_SKIPPED, b->n_readings - known);
	vt_store_add(st, VT_STORE_WINDOW_CELLS_DUPLICATE, copies + cf.copies);
	vt_store_add(st, VT_STORE_READINGS_UNSYNCED, cf.unsynced);
	vt_store_add(st, VT_STORE_READINGS_CLOCK_CORRECTED, cf.corrected);
	if (cf.copies)
		VT_INFO("device %s (site %s) seq %llu: its clock correction made %llu window cells stored before copies of cells already stored (a window sent again after the device restarted); counted as duplicates, removed",
			h->device, b->site, (unsigned long long)h->seq,
			(unsigned long long)cf.copies);
	if (copies)
		VT_INFO("device %s (site %s) seq %llu: %zu of its %zu window cells already stored (a window sent again after the device restarted); counted as duplicates, not stored again",
			h->device, b->site, (unsigned long long)h->seq, copies, cells);
	return 0;
out_rollback:
	vt_store_step(st, VT_STMT_ROLLBACK_TO);
	vt_store_step(st, VT_STMT_RELEASE);
	if (rc == 0) {
		vt_store_reject(st, VT_AGG_DUPLICATE);
		vt_acks_duplicate(st->acks, slot);
		return VT_STORE_DUPLICATE;
	}
	return -VT_EDB;
}

void vt_store_reject(struct vt_store *st, enum vt_agg_reason reason)
{
	if (reason > VT_AGG_OK && reason < VT_AGG_REASON_COUNT)
		vt_store_add(st, VT_STORE_REJECTED + (int)reason, 1);
}

int vt_store_pending(const struct vt_store *st, int64_t *since_mono_ms)
{
	if (since_mono_ms)
		*since_mono_ms = st->pending_since;
	return st->pending_since != 0;
}

static int vt_store_flush_counters(struct vt_store *st)
{
	sqlite3_stmt *s = st->stmt[VT_STMT_COUNTER];

	for (int i = 0; i < VT_STORE_COUNTERS; i++) {
		if (!st->delta[i])
			continue;
		sqlite3_bind_text(s, 1, vt_store_counter_name(i), -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, st->delta[i]);
		if (vt_store_step(st, VT_STMT_COUNTER) < 0)
			return -VT_EDB;
	}
	return 0;
}

int vt_store_commit(struct vt_store *st)
{
	int rc;

	if (!st->pending_since)
		return 0;
	rc = vt_store_begin(st);
	if (rc == 0)
		rc = vt_store_flush_counters(st);
	if (rc == 0)
		rc = vt_acks_prepare_commit(st->acks);
	if (rc == 0)
		rc = vt_store_step(st, VT_STMT_COMMIT);
	if (rc < 0) {
		VT_ERROR("database %s: commit failed (%s); %llu frames of this group not stored, their devices resend them (never acknowledged)",
			 st->path, sqlite3_errmsg(st->db), (unsigned long long)st->group_frames);
		if (!sqlite3_get_autocommit(st->db))
			vt_store_step(st, VT_STMT_ROLLBACK);
	}
	/* Only now, with COMMIT returned, may the new watermarks be published. */
	vt_acks_committed(st->acks, rc == 0);
	st->in_tx = 0;
	st->group_frames = 0;
	st->pending_since = 0;
	memset(st->delta, 0, sizeof(st->delta));
	return rc;
}

uint64_t vt_store_session_count(const struct vt_store *st, int counter)
{
	if (counter < 0 || counter >= VT_STORE_COUNTERS)
		return 0;
	return st->session[counter];
}
