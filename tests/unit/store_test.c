/*
 * store_test.c - the aggregator's SQLite store on its own: schema and WAL,
 * duplicate detection inside and across group transactions, counters that
 * persist, group commit visibility, read-only opens, the upgrade of a
 * version 1 and of a version 2 database, and the acknowledgment watermark
 * (acks.h): its rule on hand-made frames, its persistence, and that only
 * committed frames are ever acknowledged, even when the process is killed
 * at any moment; then what "gaps" and "stats" make of those frames; and
 * the window cells of anonymous mode, their rows, the copies of a window
 * sent again after a crash (stored once) and what "windows" sums.
 *
 * Batches are built directly (no sealing): the store trusts its input.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "gaps.h"
#include "log.h"
#include "report.h"
#include "store.h"
#include "vt_test.h"
#include "windows.h"

struct one_batch {
	Vitrine__V1__Batch b;
	Vitrine__V1__Reading r[2];
	Vitrine__V1__Reading *p[2];
	Vitrine__V1__Footfall f;
	struct vt_frame_header h;
};

static void one_batch_fill(struct one_batch *ob, const char *device, uint64_t seq)
{
	memset(ob, 0, sizeof(*ob));
	vitrine__v1__batch__init(&ob->b);
	vitrine__v1__footfall__init(&ob->f);
	ob->f.door = 1;
	ob->f.direction = VITRINE__V1__DIRECTION__DIRECTION_OUT;
	ob->f.count = 1;
	for (int i = 0; i < 2; i++) {
		vitrine__v1__reading__init(&ob->r[i]);
		ob->p[i] = &ob->r[i];
	}
	ob->r[0].kind_case = VITRINE__V1__READING__KIND_FOOTFALL;
	ob->r[0].footfall = &ob->f;
	ob->r[0].time_offset_ms = 10;
	/* r[1] has no kind: a reading type from a newer agent. */
	ob->b.site = "lyon-part-dieu";
	ob->b.device = (char *)device;
	ob->b.base_time_ms = 1714557600000LL;
	ob->b.n_readings = 2;
	ob->b.readings = ob->p;
	snprintf(ob->h.device, sizeof(ob->h.device), "%s", device);
	ob->h.device_len = (uint8_t)strlen(device);
	ob->h.seq = seq;
	ob->h.epoch = 3;
}

static const char *db_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", vt_test_tmpdir(), name);
	return path;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

VT_TEST(store_creates_schema_in_wal_mode)
{
	struct vt_store *st = NULL;
	char err[256];
	sqlite3_stmt *s = NULL;
	const char *mode = NULL;

	vt_log_init("store_test", VT_LOG_ERROR);
	CHECK(vt_store_open(db_path("schema.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	CHECK(sqlite3_prepare_v2(vt_store_db(st), "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(s) == SQLITE_ROW);
	mode = (const char *)sqlite3_column_text(s, 0);
	CHECK_STR(mode, "wal");
	sqlite3_finalize(s);
	CHECK_EQ_INT(query_int(vt_store_db(st),
			       "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%_site_time'"),
		     4);
	CHECK_EQ_INT(query_int(vt_store_db(st),
			       "SELECT count(*) FROM pragma_index_list('windows') WHERE name = 'windows_cell_part' AND \"unique\""),
		     1);
	CHECK_EQ_INT(query_int(vt_store_db(st), "PRAGMA user_version"), VT_STORE_SCHEMA_VERSION);
	CHECK(vt_store_close(st) == 0);
	/* Opening again keeps what is there. */
	CHECK(vt_store_open(db_path("schema.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_detects_duplicate_within_and_across_transactions)
{
	struct vt_store *st = NULL;
	struct one_batch ob;
	char err[256];

	CHECK(vt_store_open(db_path("duplicate.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	one_batch_fill(&ob, "dev-a", 1);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 1), 0);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 2), VT_STORE_DUPLICATE);
	one_batch_fill(&ob, "dev-b", 1);	/* same seq, other device: not a duplicate */
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 3), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 4), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM footfall"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_duplicate'"), 2);
	/* The kind-less reading is skipped and counted, not stored. */
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'readings_skipped'"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames WHERE device = 'dev-a'"), 1);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_counters_persist_across_reopen)
{
	struct vt_store *st = NULL;
	struct one_batch ob;
	char err[256];

	CHECK(vt_store_open(db_path("counters.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	one_batch_fill(&ob, "dev-a", 7);
	CHECK(vt_store_put(st, &ob.h, &ob.b, 1) == 0);
	vt_store_reject(st, VT_AGG_BAD_TAG);
	vt_store_reject(st, VT_AGG_BAD_TAG);
	CHECK_EQ_INT(vt_store_session_count(st, VT_STORE_REJECTED + VT_AGG_BAD_TAG), 2);
	CHECK(vt_store_close(st) == 0);	/* commits what is pending */

	CHECK(vt_store_open(db_path("counters.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	vt_store_reject(st, VT_AGG_BAD_TAG);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_bad_tag'"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'frames_ok'"), 1);
	CHECK_EQ_INT(vt_store_session_count(st, VT_STORE_FRAMES_OK), 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_group_commit_shows_frames_only_after_commit)
{
	struct vt_store *st = NULL, *reader = NULL;
	struct one_batch ob;
	char err[256];
	int64_t since = 0;

	CHECK(vt_store_open(db_path("group.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	CHECK(vt_store_open(db_path("group.db"), VT_STORE_READONLY, &reader, err, sizeof(err)) == 0);
	CHECK(!vt_store_pending(st, &since));
	for (uint64_t seq = 1; seq <= 10; seq++) {
		one_batch_fill(&ob, "dev-a", seq);
		CHECK(vt_store_put(st, &ob.h, &ob.b, 1) == 0);
	}
	CHECK(vt_store_pending(st, &since));
	CHECK(since > 0);
	CHECK_EQ_INT(query_int(vt_store_db(reader), "SELECT count(*) FROM frames"), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK(!vt_store_pending(st, NULL));
	CHECK_EQ_INT(query_int(vt_store_db(reader), "SELECT count(*) FROM frames"), 10);
	CHECK_EQ_INT(query_int(vt_store_db(reader), "SELECT value FROM counters WHERE name = 'frames_ok'"), 10);
	CHECK(vt_store_close(reader) == 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_readonly_refuses_missing_or_foreign_database)
{
	struct vt_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256] = "";

	CHECK(vt_store_open(db_path("missing.db"), VT_STORE_READONLY, &st, err, sizeof(err)) < 0);
	CHECK(strstr(err, "does not exist") != NULL);
	CHECK(sqlite3_open(db_path("foreign.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(vt_store_open(db_path("foreign.db"), VT_STORE_READONLY, &st, err, sizeof(err)) < 0);
	CHECK(strstr(err, "not a vitrine database") != NULL);
}

/* ---- acknowledgment watermark ------------------------------------------------------ */

/* Store frame seq of device with its chain fields. */
static int put(struct vt_store *st, const char *device, uint64_t seq, uint64_t prev,
	       uint64_t floor)
{
	struct one_batch ob;

	one_batch_fill(&ob, device, seq);
	ob.b.prev_seq = prev;
	ob.b.floor_seq = floor;
	return vt_store_put(st, &ob.h, &ob.b, 1);
}

/* Frames from..to, each linked to the one before. */
static int put_run(struct vt_store *st, const char *device, uint64_t from, uint64_t to)
{
	for (uint64_t seq = from; seq <= to; seq++)
		if (put(st, device, seq, seq - 1, 0) != 0)
			return -1;
	return 0;
}

static uint64_t acked(struct vt_store *st, const char *device)
{
	return vt_acks_get(vt_store_acks(st), device);
}

static struct vt_store *open_rw(const char *name)
{
	struct vt_store *st = NULL;
	char err[256];

	if (vt_store_open(db_path(name), VT_STORE_READWRITE, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return st;
}

/* What vt_acks_flush() handed over, for the tests to look at. */
struct published {
	char device[8][VT_FRAME_DEVICE_MAX + 1];
	char site[8][VT_FRAME_DEVICE_MAX + 1];
	uint64_t seq[8];
	int n;
	int fail;	/* > 0: fail that many calls first */
};

static int record(void *arg, const char *device, const char *site, uint64_t seq)
{
	struct published *p = arg;

	if (p->fail > 0) {
		p->fail--;
		return -EAGAIN;
	}
	if (p->n < 8) {
		snprintf(p->device[p->n], sizeof(p->device[0]), "%s", device);
		snprintf(p->site[p->n], sizeof(p->site[0]), "%s", site);
		p->seq[p->n] = seq;
	}
	p->n++;
	return 0;
}

static int flush(struct vt_store *st, struct published *p)
{
	memset(p, 0, sizeof(*p));
	return vt_acks_flush(vt_store_acks(st), record, p);
}

VT_TEST(store_watermark_follows_a_contiguous_run)
{
	struct vt_store *st = open_rw("wm-run.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 5) == 0);
	/* Stored but not committed: nothing to acknowledge yet. */
	CHECK_EQ_INT(acked(st, "dev-a"), 0);
	CHECK_EQ_INT(flush(st, &p), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 5);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT seq FROM acks WHERE device = 'dev-a'"), 5);
	CHECK_EQ_INT(flush(st, &p), 1);
	CHECK_STR(p.device[0], "dev-a");
	CHECK_STR(p.site[0], "lyon-part-dieu");
	CHECK_EQ_INT(p.seq[0], 5);
	/* Published once: nothing is due until something changes. */
	CHECK_EQ_INT(flush(st, &p), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_watermark_bridges_a_crash_gap_by_prev_only)
{
	struct vt_store *st = open_rw("wm-crash.db");

	CHECK(st != NULL);
	/* dev-a crashed after 3 and resumed at its reservation mark, 1001: the
	 * prev link says 4..1000 were never used. */
	CHECK(put_run(st, "dev-a", 1, 3) == 0);
	CHECK(put(st, "dev-a", 1001, 3, 0) == 0);
	CHECK(put(st, "dev-a", 1002, 1001, 0) == 0);
	/* dev-b made the same jump but without a prev link: it waits. */
	CHECK(put_run(st, "dev-b", 1, 3) == 0);
	CHECK(put(st, "dev-b", 1001, 0, 0) == 0);
	/* dev-c: the link names 999, which never arrived: 999 is missing. */
	CHECK(put_run(st, "dev-c", 1, 3) == 0);
	CHECK(put(st, "dev-c", 1001, 999, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 1002);
	CHECK_EQ_INT(acked(st, "dev-b"), 3);
	CHECK_EQ_INT(acked(st, "dev-c"), 3);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_watermark_jumps_to_floor_over_dropped_frames)
{
	struct vt_store *st = open_rw("wm-floor.db");

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 2) == 0);
	/* 3..7 were dropped by the device (spool full or corrupt): frame 10
	 * says nothing below 8 is still coming. 8 and 9 are. */
	CHECK(put(st, "dev-a", 10, 9, 8) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 7);
	CHECK(put(st, "dev-a", 9, 8, 8) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 7);
	CHECK(put(st, "dev-a", 8, 7, 3) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 10);
	/* A floor never moves the watermark back. */
	CHECK(put(st, "dev-a", 11, 10, 4) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 11);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_watermark_waits_for_out_of_order_frames_then_catches_up)
{
	struct vt_store *st = open_rw("wm-order.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put(st, "dev-a", 1, 0, 0) == 0);
	CHECK(put(st, "dev-a", 3, 2, 0) == 0);
	CHECK(put(st, "dev-a", 4, 3, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 1);
	CHECK_EQ_INT(flush(st, &p), 1);
	CHECK_EQ_INT(p.seq[0], 1);
	/* 2 arrives in a later group: 3 and 4, stored before, follow. */
	CHECK(put(st, "dev-a", 2, 1, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 4);
	CHECK_EQ_INT(flush(st, &p), 1);
	CHECK_EQ_INT(p.seq[0], 4);
	/* Within one group, in any order. */
	CHECK(put(st, "dev-a", 7, 6, 0) == 0);
	CHECK(put(st, "dev-a", 5, 4, 0) == 0);
	CHECK(put(st, "dev-a", 6, 5, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 7);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_duplicates_are_counted_not_stored_and_acknowledged_again)
{
	struct vt_store *st = open_rw("wm-dup.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 3) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 1);
	/* The device did not get that ack and resends 2 and 3. */
	CHECK_EQ_INT(put(st, "dev-a", 2, 1, 0), VT_STORE_DUPLICATE);
	CHECK_EQ_INT(put(st, "dev-a", 3, 2, 0), VT_STORE_DUPLICATE);
	CHECK_EQ_INT(flush(st, &p), 0);	/* at the commit, */
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 1);	/* once, not once per duplicate */
	CHECK_STR(p.device[0], "dev-a");
	CHECK_EQ_INT(p.seq[0], 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM footfall"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_duplicate'"), 2);
	CHECK_EQ_INT(vt_store_session_count(st, VT_STORE_REJECTED + VT_AGG_DUPLICATE), 2);
	/* A duplicate of a device with nothing acknowledged yet has nothing
	 * to say: 2 is stored, 1 is not. */
	CHECK(put(st, "dev-b", 2, 1, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(put(st, "dev-b", 2, 1, 0), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_unpublished_acks_stay_due_and_reconnect_makes_all_due)
{
	struct vt_store *st = open_rw("wm-due.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 2) == 0);
	CHECK(put_run(st, "dev-b", 1, 4) == 0);
	CHECK(vt_store_commit(st) == 0);
	memset(&p, 0, sizeof(p));
	p.fail = 1;	/* broker gone */
	CHECK_EQ_INT(vt_acks_flush(vt_store_acks(st), record, &p), -EAGAIN);
	CHECK_EQ_INT(vt_acks_due(vt_store_acks(st)), 2);
	CHECK_EQ_INT(flush(st, &p), 2);
	CHECK_EQ_INT(p.seq[0] + p.seq[1], 6);
	CHECK_EQ_INT(flush(st, &p), 0);
	vt_acks_all_due(vt_store_acks(st));
	CHECK_EQ_INT(flush(st, &p), 2);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_watermark_persists_across_close_and_reopen)
{
	struct vt_store *st = open_rw("wm-persist.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 3) == 0);
	CHECK(put(st, "dev-a", 5, 4, 0) == 0);	/* waits for 4 */
	CHECK(vt_store_close(st) == 0);		/* commits */
	st = open_rw("wm-persist.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	/* Not due by itself after a restart: the loop makes every watermark
	 * due once it is connected. */
	CHECK_EQ_INT(vt_acks_due(vt_store_acks(st)), 0);
	vt_acks_all_due(vt_store_acks(st));
	CHECK_EQ_INT(flush(st, &p), 1);
	CHECK_STR(p.site[0], "lyon-part-dieu");
	CHECK_EQ_INT(p.seq[0], 3);
	CHECK(put(st, "dev-a", 4, 3, 0) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 5);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_watermark_query_uses_the_primary_key)
{
	struct vt_store *st = open_rw("wm-plan.db");
	sqlite3_stmt *s = NULL;
	char plan[512] = "";

	CHECK(st != NULL);
	CHECK(sqlite3_prepare_v2(vt_store_db(st),
				 "EXPLAIN QUERY PLAN SELECT seq, prev_seq FROM frames WHERE device = ?1"
				 " AND seq > ?2 ORDER BY seq LIMIT 1", -1, &s, NULL) == SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan), "%s;",
			 (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	CHECK(strstr(plan, "USING INDEX sqlite_autoindex_frames_1 (device=? AND seq>?)") != NULL);
	CHECK(strstr(plan, "TEMP B-TREE") == NULL);
	CHECK(vt_store_close(st) == 0);
}

/* The event tables and the counters, which versions 1 and 2 of the
 * aggregator created alike (the frames table is each version's own). */
#define OLD_EVENT_TABLES \
	"CREATE TABLE footfall(device TEXT NOT NULL, seq INTEGER NOT NULL," \
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL," \
	" door INTEGER NOT NULL, direction TEXT NOT NULL, count INTEGER NOT NULL);" \
	"CREATE TABLE tablet(device TEXT NOT NULL, seq INTEGER NOT NULL," \
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL," \
	" kiosk INTEGER NOT NULL, event TEXT NOT NULL, session_digest BLOB NOT NULL," \
	" screen TEXT NOT NULL, gtin TEXT NOT NULL, duration_ms INTEGER NOT NULL);" \
	"CREATE TABLE rfid(device TEXT NOT NULL, seq INTEGER NOT NULL," \
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL," \
	" reader INTEGER NOT NULL, antenna INTEGER NOT NULL, rssi_cdbm INTEGER NOT NULL," \
	" gtin TEXT NOT NULL, filter INTEGER NOT NULL, tag_digest BLOB NOT NULL);" \
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"

/* The schema as version 1 of the aggregator wrote it. */
static const char v1_schema[] =
	"CREATE TABLE frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, PRIMARY KEY(device, seq));"
	OLD_EVENT_TABLES
	"INSERT INTO frames VALUES ('dev-a', 1, 3, 'lyon-part-dieu', 1, 1),"
	" ('dev-a', 2, 3, 'lyon-part-dieu', 1, 1);"
	"INSERT INTO counters VALUES ('frames_ok', 2), ('rejected_replay', 4);"
	"PRAGMA user_version=1;";

VT_TEST(store_upgrades_a_version_1_database)
{
	struct vt_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256] = "";

	CHECK(sqlite3_open(db_path("v1.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v1_schema, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	/* Read-only: left as it is. */
	CHECK(vt_store_open(db_path("v1.db"), VT_STORE_READONLY, &st, err, sizeof(err)) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "PRAGMA user_version"), 1);
	CHECK(vt_store_close(st) == 0);
	st = open_rw("v1.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(query_int(vt_store_db(st), "PRAGMA user_version"), VT_STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM pragma_table_info('frames') WHERE name IN ('prev_seq', 'floor_seq')"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT sum(prev_seq + floor_seq) FROM frames"), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM acks"), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_duplicate'"), 4);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM counters WHERE name = 'rejected_replay'"), 0);
	/* The old frames count for the watermark. */
	CHECK(put(st, "dev-a", 3, 2, 0) == 0);
	CHECK_EQ_INT(put(st, "dev-a", 2, 1, 0), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT prev_seq FROM frames WHERE seq = 3"), 2);
	CHECK(vt_store_close(st) == 0);
	/* An older aggregator opening it again labels it version 1: upgrading
	 * once more finds the columns there and keeps everything. */
	CHECK(sqlite3_open(db_path("v1.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version=1", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = open_rw("v1.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_duplicate'"), 5);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_refuses_a_database_from_a_newer_aggregator)
{
	struct vt_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256] = "";

	CHECK(sqlite3_open(db_path("v99.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(vt_store_open(db_path("v99.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) < 0);
	CHECK(strstr(err, "schema version 99 is newer") != NULL);
}

VT_TEST(store_failed_commit_acknowledges_nothing_of_its_group)
{
	struct vt_store *st = open_rw("wm-fail.db");
	struct published p;

	CHECK(st != NULL);
	CHECK(put_run(st, "dev-a", 1, 3) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 1);
	/* Make the next commit fail where it writes the new watermark. */
	CHECK(sqlite3_exec(vt_store_db(st),
			   "CREATE TEMP TRIGGER fail_acks BEFORE UPDATE ON acks"
			   " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END", NULL, NULL,
			   NULL) == SQLITE_OK);
	CHECK(put_run(st, "dev-a", 4, 5) == 0);
	CHECK(vt_store_commit(st) < 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	CHECK_EQ_INT(flush(st, &p), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT max(seq) FROM frames"), 3);
	CHECK(sqlite3_exec(vt_store_db(st), "DROP TRIGGER fail_acks", NULL, NULL,
			   NULL) == SQLITE_OK);
	/* The device resends what it never saw acknowledged. */
	CHECK(put_run(st, "dev-a", 4, 5) == 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(flush(st, &p), 1);
	CHECK_EQ_INT(p.seq[0], 5);
	CHECK(vt_store_close(st) == 0);
}

/* The child of the kill test: store frames 1, 2, ... forever, committing
 * every few, and hand every ack that the store lets out, after every put
 * and every commit, to the parent through fd. */
static int write_ack(void *arg, const char *device, const char *site, uint64_t seq)
{
	int fd = *(int *)arg;

	(void)device;
	(void)site;
	return write(fd, &seq, sizeof(seq)) == (ssize_t)sizeof(seq) ? 0 : -EIO;
}

static void kill_child(const char *name, int fd)
{
	struct vt_store *st = open_rw(name);

	if (!st)
		_exit(2);
	/* Bounded, so that a store which never acknowledges fails the test
	 * (the child exits instead of being killed) rather than hanging it. */
	for (uint64_t seq = 1; seq < 100000; seq++) {
		if (put(st, "dev-a", seq, seq - 1, 0) != 0)
			_exit(3);
		vt_acks_flush(vt_store_acks(st), write_ack, &fd);
		if (seq % 3 == 0 && vt_store_commit(st) != 0)
			_exit(4);
		vt_acks_flush(vt_store_acks(st), write_ack, &fd);
	}
	_exit(5);
}

/* One round: kill the child after it acknowledged at least min_acks
 * times; return the highest ack it let out, or 0 on a failure. */
static uint64_t kill_round(const char *name, int min_acks)
{
	uint64_t seq, highest = 0;
	int fds[2], n = 0, status;
	pid_t pid;

	db_path(name);	/* the temporary directory, made before the fork */
	if (pipe(fds) != 0)
		return 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		kill_child(name, fds[1]);
	}
	close(fds[1]);
	while (read(fds[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
		if (seq > highest)
			highest = seq;
		if (++n == min_acks)
			kill(pid, SIGKILL);
	}
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
		return 0;
	return highest;
}

VT_TEST(store_killed_at_any_moment_never_acknowledged_anything_uncommitted)
{
	char name[64];

	srand(4242);
	for (int round = 0; round < 20; round++) {
		struct vt_store *st;
		uint64_t highest;

		snprintf(name, sizeof(name), "kill-%d.db", round);
		highest = kill_round(name, 1 + rand() % 40);
		CHECK(highest > 0);
		st = open_rw(name);
		CHECK(st != NULL);
		/* Every frame up to the highest ack is in the database. */
		CHECK(acked(st, "dev-a") >= highest);
		CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames WHERE seq <= (SELECT seq FROM acks)"),
			     acked(st, "dev-a"));
		CHECK(vt_store_close(st) == 0);
	}
}

/* ---- gaps and stats ------------------------------------------------------------------ */

static int gap_is(const struct vt_gap *g, uint64_t from, uint64_t to, enum vt_gap_kind kind)
{
	return g->from == from && g->to == to && g->kind == kind;
}

VT_TEST(store_gaps_classify_by_prev_link_and_later_floor)
{
	struct vt_gap g[3];

	/* 4..1000 jumped over by the link of 1001: never used. */
	CHECK_EQ_INT(vt_gaps_classify(3, 1001, 3, 0, g), 1);
	CHECK(gap_is(&g[0], 4, 1000, VT_GAP_SKIPPED));
	/* No link, no floor: nothing is known, all missing. */
	CHECK_EQ_INT(vt_gaps_classify(3, 1001, 0, 0, g), 1);
	CHECK(gap_is(&g[0], 4, 1000, VT_GAP_MISSING));
	/* The link names 999: 4..999 not received, 1000 never used. */
	CHECK_EQ_INT(vt_gaps_classify(3, 1001, 999, 0, g), 2);
	CHECK(gap_is(&g[0], 4, 999, VT_GAP_MISSING));
	CHECK(gap_is(&g[1], 1000, 1000, VT_GAP_SKIPPED));
	/* A later floor of 8: 3..7 given up, 8 and 9 still to come. */
	CHECK_EQ_INT(vt_gaps_classify(2, 10, 9, 8, g), 2);
	CHECK(gap_is(&g[0], 3, 7, VT_GAP_SKIPPED));
	CHECK(gap_is(&g[1], 8, 9, VT_GAP_MISSING));
	/* Floor and link together leave a hole in the middle. */
	CHECK_EQ_INT(vt_gaps_classify(2, 20, 12, 8, g), 3);
	CHECK(gap_is(&g[0], 3, 7, VT_GAP_SKIPPED));
	CHECK(gap_is(&g[1], 8, 12, VT_GAP_MISSING));
	CHECK(gap_is(&g[2], 13, 19, VT_GAP_SKIPPED));
	/* ... or none: all accounted for. */
	CHECK_EQ_INT(vt_gaps_classify(2, 10, 5, 8, g), 1);
	CHECK(gap_is(&g[0], 3, 9, VT_GAP_SKIPPED));
	/* A link at or beyond the frame itself means nothing. */
	CHECK_EQ_INT(vt_gaps_classify(2, 10, 10, 0, g), 1);
	CHECK(gap_is(&g[0], 3, 9, VT_GAP_MISSING));
}

/* The read-only commands whose output the tests below read. */
enum printer {
	PRINT_GAPS,
	PRINT_WINDOWS,
	PRINT_EXPORT,
	PRINT_STATS,
};

/* What command what prints about st (device and json: for gaps and
 * windows), or NULL without a memory stream; *rc is what the command
 * returned. The caller frees the text. */
static char *capture(struct vt_store *st, enum printer what, const char *device, int json,
		     int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	switch (what) {
	case PRINT_GAPS:
		*rc = vt_gaps_report(vt_store_db(st), f, device, json);
		break;
	case PRINT_WINDOWS:
		*rc = vt_windows_report(vt_store_db(st), f, device, json);
		break;
	case PRINT_EXPORT:
		*rc = vt_report_export(vt_store_db(st), f);
		break;
	case PRINT_STATS:
		*rc = vt_report_stats(vt_store_db(st), f);
		break;
	}
	fclose(f);
	return buf;
}

static struct vt_store *gaps_fixture(const char *name)
{
	struct vt_store *st = open_rw(name);

	if (!st)
		return NULL;
	/* dev-a: a crash after 3 (link over 4..1000), then 1003 and 1004 lost. */
	if (put_run(st, "dev-a", 1, 3) || put(st, "dev-a", 1001, 3, 0) ||
	    put(st, "dev-a", 1002, 1001, 0) || put(st, "dev-a", 1005, 1004, 0) ||
	    /* dev-b: 2..7 dropped by the device, 8 and 9 in flight. */
	    put(st, "dev-b", 1, 0, 0) || put(st, "dev-b", 10, 9, 8) ||
	    vt_store_commit(st) != 0) {
		vt_store_close(st);
		return NULL;
	}
	return st;
}

VT_TEST(store_gaps_report_in_json_and_as_a_table)
{
	struct vt_store *st = gaps_fixture("gaps.db");
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	out = capture(st, PRINT_GAPS, NULL, 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out,
		  "{\"device\":\"dev-a\",\"site\":\"lyon-part-dieu\",\"first\":1,\"last\":1005,"
		  "\"stored\":6,\"acked\":1002,\"missing\":2,\"gaps\":["
		  "{\"from\":4,\"to\":1000,\"count\":997,\"kind\":\"skipped\"},"
		  "{\"from\":1003,\"to\":1004,\"count\":2,\"kind\":\"missing\"}]}\n"
		  "{\"device\":\"dev-b\",\"site\":\"lyon-part-dieu\",\"first\":1,\"last\":10,"
		  "\"stored\":2,\"acked\":7,\"missing\":2,\"gaps\":["
		  "{\"from\":2,\"to\":7,\"count\":6,\"kind\":\"skipped\"},"
		  "{\"from\":8,\"to\":9,\"count\":2,\"kind\":\"missing\"}]}\n");
	free(out);
	out = capture(st, PRINT_GAPS, "dev-b", 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "dev-a") == NULL);
	CHECK(strncmp(out, "device ", 7) == 0);
	CHECK(strstr(out, "\ndev-b                    lyon-part-dieu                    1         10          2          7          2\n") != NULL);
	CHECK(strstr(out, "\n  skipped 2..7 (6)\n  missing 8..9 (2)\n") != NULL);
	free(out);
	out = capture(st, PRINT_GAPS, "dev-z", 1, &rc);
	CHECK_EQ_INT(rc, -ENOENT);
	CHECK(out != NULL && out[0] == '\0');
	free(out);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_stats_show_duplicates_and_watermarks)
{
	struct vt_store *st = gaps_fixture("stats.db");
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	CHECK_EQ_INT(put(st, "dev-b", 10, 9, 8), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	out = capture(st, PRINT_STATS, NULL, 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "rejected_duplicate                        1\n") != NULL);
	CHECK(strstr(out, "\ndev-a                                  1002  lyon-part-dieu\n") != NULL);
	CHECK(strstr(out, "\ndev-b                                     7  lyon-part-dieu\n") != NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);
}

/* ---- window cells (anonymous mode) ------------------------------------------------- */

/* The schema as version 2 of the aggregator wrote it: no windows table. */
static const char v2_schema[] =
	"CREATE TABLE frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, prev_seq INTEGER NOT NULL DEFAULT 0,"
	" floor_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(device, seq));"
	OLD_EVENT_TABLES
	"CREATE TABLE acks(device TEXT PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL);"
	"CREATE INDEX footfall_site_time ON footfall(site, time_ms);"
	"CREATE INDEX tablet_site_time ON tablet(site, time_ms);"
	"CREATE INDEX rfid_site_time ON rfid(site, time_ms);"
	"INSERT INTO frames VALUES ('dev-a', 1, 3, 'lyon-part-dieu', 1, 1, 0, 0),"
	" ('dev-a', 2, 3, 'lyon-part-dieu', 1, 1, 1, 0);"
	"INSERT INTO footfall VALUES ('dev-a', 1, 0, 'lyon-part-dieu', 1714557600010, 1, 'out', 1),"
	" ('dev-a', 2, 0, 'lyon-part-dieu', 1714557600010, 1, 'out', 1);"
	"INSERT INTO counters VALUES ('frames_ok', 2), ('readings_ok', 2), ('rejected_duplicate', 1);"
	"INSERT INTO acks VALUES ('dev-a', 'lyon-part-dieu', 2);"
	"PRAGMA user_version=2;";

/* Window cells (anonymous mode): one frame of up to 4 cells, all starting at
 * the Batch's base time unless told otherwise, and all of the release
 * (part) the frame was made with unless told otherwise. */
struct window_batch {
	Vitrine__V1__Batch b;
	Vitrine__V1__Reading r[4];
	Vitrine__V1__Reading *p[4];
	Vitrine__V1__WindowCount w[4];
	struct vt_frame_header h;
	uint64_t part;
};

#define GTIN_A "03012345678901"
#define WINDOW_START 1714557600000LL	/* 2024-05-01T10:00:00Z */

static void window_batch_init(struct window_batch *wb, const char *device, uint64_t seq,
			      uint64_t part)
{
	memset(wb, 0, sizeof(*wb));
	vitrine__v1__batch__init(&wb->b);
	wb->b.site = "lyon-part-dieu";
	wb->b.device = (char *)device;
	wb->b.base_time_ms = WINDOW_START;
	wb->b.readings = wb->p;
	snprintf(wb->h.device, sizeof(wb->h.device), "%s", device);
	wb->h.device_len = (uint8_t)strlen(device);
	wb->h.seq = seq;
	wb->h.epoch = 3;
	wb->part = part;
}

/* Add a one-hour cell; returns it for further changes. */
static Vitrine__V1__WindowCount *window_cell(struct window_batch *wb, Vitrine__V1__Metric metric,
					     uint32_t dim1, uint32_t dim2, const char *label,
					     uint64_t count)
{
	size_t i = wb->b.n_readings++;
	Vitrine__V1__WindowCount *w = &wb->w[i];

	vitrine__v1__reading__init(&wb->r[i]);
	vitrine__v1__window_count__init(w);
	w->length_s = 3600;
	w->metric = metric;
	w->dim1 = dim1;
	w->dim2 = dim2;
	w->label = (char *)label;
	w->count = count;
	w->k = 5;
	w->part = wb->part;
	wb->r[i].kind_case = VITRINE__V1__READING__KIND_WINDOW;
	wb->r[i].window = w;
	wb->p[i] = &wb->r[i];
	return w;
}

VT_TEST(store_upgrades_a_version_2_database_with_a_windows_table)
{
	struct vt_store *st = NULL;
	struct window_batch wb;
	sqlite3 *db = NULL;
	char err[256] = "";
	char *out;
	int rc = -1;

	CHECK(sqlite3_open(db_path("v2.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v2_schema, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	/* Read-only: left as it is, and the readers manage without windows. */
	CHECK(vt_store_open(db_path("v2.db"), VT_STORE_READONLY, &st, err, sizeof(err)) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "PRAGMA user_version"), 2);
	out = capture(st, PRINT_EXPORT, NULL, 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out, "footfall,lyon-part-dieu,dev-a,1714557600010,1,out,1\n"
		       "footfall,lyon-part-dieu,dev-a,1714557600010,1,out,1\n");
	free(out);
	out = capture(st, PRINT_WINDOWS, NULL, 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out, "");
	free(out);
	out = capture(st, PRINT_GAPS, NULL, 1, &rc);	/* gaps needs version 2, not 3 */
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "\"acked\":2") != NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);

	st = open_rw("v2.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(query_int(vt_store_db(st), "PRAGMA user_version"), VT_STORE_SCHEMA_VERSION);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('windows_site_time', 'windows_cell_part')"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM pragma_table_info('windows') WHERE name = 'part' AND \"notnull\""), 1);
	/* ... and rfid gets the presence columns of version 4. */
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM pragma_table_info('rfid') WHERE name IN ('reads', 'dwell_ms') AND \"notnull\""), 2);
	/* Everything of version 2 is kept: rows, counters, watermark. */
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM footfall"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_duplicate'"), 1);
	CHECK_EQ_INT(acked(st, "dev-a"), 2);
	window_batch_init(&wb, "dev-a", 3, 1);
	wb.b.prev_seq = 2;
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 12);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count FROM windows WHERE seq = 3 AND part = 1"), 12);
	CHECK(vt_store_close(st) == 0);
	/* Opened again, nothing changes. */
	st = open_rw("v2.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 1);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 3);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_window_cells_are_readings_of_their_frame)
{
	struct vt_store *st = open_rw("windows-rows.db");
	struct window_batch wb;
	Vitrine__V1__WindowCount *w;

	CHECK(st != NULL);
	window_batch_init(&wb, "dev-a", 1, 17);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 40);
	w = window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 2, 0, GTIN_A, 7);
	w->epsilon_milli = 500;
	w = window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 0, 0, "", 9);
	w->other = 1;
	w->part = 18;	/* the next window, another release */
	wb.r[2].time_offset_ms = 3600000;
	/* A reading of a kind this build does not know, after them. */
	vitrine__v1__reading__init(&wb.r[3]);
	wb.p[3] = &wb.r[3];
	wb.b.n_readings = 4;
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 2), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'readings_ok'"), 3);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'readings_skipped'"), 1);
	{
		sqlite3_stmt *q = NULL;
		const char *want[3] = {
			"dev-a|1|0|lyon-part-dieu|1714557600000|3600|footfall_passes|1|1||0|40|5|0|17",
			"dev-a|1|1|lyon-part-dieu|1714557600000|3600|kiosk_lookups|2|0|" GTIN_A "|0|7|5|500|17",
			"dev-a|1|2|lyon-part-dieu|1714561200000|3600|kiosk_lookups|0|0||1|9|5|0|18",
		};
		int n = 0;

		CHECK(sqlite3_prepare_v2(vt_store_db(st),
					 "SELECT device || '|' || seq || '|' || idx || '|' || site || '|' ||"
					 " time_ms || '|' || length_s || '|' || metric || '|' || dim1 || '|' ||"
					 " dim2 || '|' || label || '|' || other || '|' || count || '|' || k ||"
					 " '|' || epsilon_milli || '|' || part FROM windows ORDER BY idx", -1, &q,
					 NULL) == SQLITE_OK);
		while (n < 3 && sqlite3_step(q) == SQLITE_ROW) {
			const char *row = (const char *)sqlite3_column_text(q, 0);

			if (!row || strcmp(row, want[n]) != 0) {
				printf("# row %d: %s\n", n, row ? row : "(null)");
				break;
			}
			n++;
		}
		sqlite3_finalize(q);
		CHECK_EQ_INT(n, 3);
	}
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_export_has_window_lines_in_byte_order_with_the_others)
{
	struct vt_store *st = open_rw("windows-export.db");
	struct window_batch wb;
	struct one_batch ob;
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	one_batch_fill(&ob, "dev-a", 1);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 1), 0);
	window_batch_init(&wb, "dev-a", 2, 5);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_RFID_PRESENCE, 1, 0, GTIN_A, 11)->epsilon_milli = 1000;
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 2, "", 40);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_SCREEN_VIEWS, 0, 0, "", 6)->other = 1;
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	CHECK(vt_store_commit(st) == 0);
	out = capture(st, PRINT_EXPORT, NULL, 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	/* The line of the agent's tap (vt_reading_write_csv()): no part. */
	CHECK_STR(out,
		  "footfall,lyon-part-dieu,dev-a,1714557600010,1,out,1\n"
		  "window,lyon-part-dieu,dev-a,1714557600000,3600,footfall_passes,1,2,,0,40,5,0\n"
		  "window,lyon-part-dieu,dev-a,1714557600000,3600,kiosk_screen_views,0,0,,1,6,5,0\n"
		  "window,lyon-part-dieu,dev-a,1714557600000,3600,rfid_presence,1,0," GTIN_A ",0,11,5,1000\n");
	free(out);
	CHECK(vt_store_close(st) == 0);
}

/* dev-a restarted (cleanly) in the middle of the 10:00 window: two parts of
 * it, releases 1 and 2, which add up. Then the 11:00 window (release 3), and
 * dev-b, whose cells are its own even with the same part. */
static struct vt_store *windows_fixture(const char *name)
{
	struct vt_store *st = open_rw(name);
	struct window_batch wb;
	Vitrine__V1__WindowCount *w;
	int bad = 0;

	if (!st)
		return NULL;
	window_batch_init(&wb, "dev-a", 1, 1);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 40);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 2, 0, GTIN_A, 7)->epsilon_milli = 500;
	w = window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 0, 0, "", 9);
	w->other = 1;
	w->epsilon_milli = 500;
	bad |= vt_store_put(st, &wb.h, &wb.b, 1);
	window_batch_init(&wb, "dev-a", 1001, 2);	/* after the restart */
	wb.b.base_time_ms = WINDOW_START + 3599000;	/* sealed later */
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 2)->k = 3;
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 2, 0, GTIN_A, 3)->epsilon_milli = 1000;
	wb.r[0].time_offset_ms = wb.r[1].time_offset_ms = -3599000;
	/* The 11:00 window, in the same frame. */
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 5)->part = 3;
	wb.r[2].time_offset_ms = 1000;
	bad |= vt_store_put(st, &wb.h, &wb.b, 1);
	window_batch_init(&wb, "dev-b", 1, 1);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 100);
	bad |= vt_store_put(st, &wb.h, &wb.b, 1);
	if (bad || vt_store_commit(st) != 0) {
		vt_store_close(st);
		return NULL;
	}
	return st;
}

VT_TEST(store_windows_sums_the_parts_of_a_window)
{
	struct vt_store *st = windows_fixture("windows-sum.db");
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 7);
	out = capture(st, PRINT_WINDOWS, "dev-a", 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out,
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714557600000,"
		  "\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"footfall_passes\","
		  "\"dim1\":1,\"dim2\":1,\"label\":\"\",\"other\":false,\"count\":42,\"parts\":2,"
		  "\"k\":3,\"epsilon_milli\":0}\n"
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714557600000,"
		  "\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"kiosk_lookups\","
		  "\"dim1\":0,\"dim2\":0,\"label\":\"\",\"other\":true,\"count\":9,\"parts\":1,"
		  "\"k\":5,\"epsilon_milli\":500}\n"
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714557600000,"
		  "\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"kiosk_lookups\","
		  "\"dim1\":2,\"dim2\":0,\"label\":\"" GTIN_A "\",\"other\":false,\"count\":10,"
		  "\"parts\":2,\"k\":5,\"epsilon_milli\":1000}\n"
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714561200000,"
		  "\"start\":\"2024-05-01T11:00:00Z\",\"length_s\":3600,\"metric\":\"footfall_passes\","
		  "\"dim1\":1,\"dim2\":1,\"label\":\"\",\"other\":false,\"count\":5,\"parts\":1,"
		  "\"k\":5,\"epsilon_milli\":0}\n");
	free(out);
	/* Every device: dev-b's cell of the same window stays apart. */
	out = capture(st, PRINT_WINDOWS, NULL, 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "\"device\":\"dev-b\",\"start_ms\":1714557600000,\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"footfall_passes\",\"dim1\":1,\"dim2\":1,\"label\":\"\",\"other\":false,\"count\":100,\"parts\":1,") != NULL);
	CHECK(strstr(out, "\"count\":42,") != NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_windows_prints_a_table)
{
	struct vt_store *st = windows_fixture("windows-table.db");
	char want[512];
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	out = capture(st, PRINT_WINDOWS, NULL, 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strncmp(out, "site ", 5) == 0);
	snprintf(want, sizeof(want),
		 "\n%-24s %-20s %-19s %6s %-20s %5s %5s %-14s %5s %10s %5s %4s %7s\n",
		 "lyon-part-dieu", "dev-a", "2024-05-01 10:00:00", "3600", "kiosk_lookups", "2",
		 "0", GTIN_A, "no", "10", "2", "5", "1.000");
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want),
		 "\n%-24s %-20s %-19s %6s %-20s %5s %5s %-14s %5s %10s %5s %4s %7s\n",
		 "lyon-part-dieu", "dev-a", "2024-05-01 10:00:00", "3600", "footfall_passes", "1",
		 "1", "-", "no", "42", "2", "3", "-");
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, " yes ") != NULL);
	/* dev-a's lines, then dev-b's. */
	CHECK(strstr(out, "dev-b") > strstr(out, "2024-05-01 11:00:00"));
	free(out);
	out = capture(st, PRINT_WINDOWS, "dev-z", 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "\n(no window counts stored from device dev-z)\n") != NULL);
	free(out);
	out = capture(st, PRINT_WINDOWS, "dev-z", 1, &rc);
	CHECK(out != NULL);
	CHECK_STR(out, "");
	free(out);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_windows_refuses_a_sum_beyond_64_bits)
{
	struct vt_store *st = open_rw("windows-overflow.db");
	struct window_batch wb;
	char *out;
	int rc = 0;

	CHECK(st != NULL);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		window_batch_init(&wb, "dev-a", seq, seq);	/* two parts */
		window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", INT64_MAX);
		CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	}
	CHECK(vt_store_commit(st) == 0);
	/* An error, not a wrapped-around count. */
	out = capture(st, PRINT_WINDOWS, NULL, 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, -VT_EDB);
	CHECK(strstr(out, "\"count\"") == NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);
}

/* Readings the frames say they hold less the rows stored, every table: 0
 * when each frame's readings is its rows (frame_readings = db_count in
 * tests/integration/lib.sh). */
#define READINGS_NOT_STORED \
	"SELECT (SELECT coalesce(sum(readings), 0) FROM frames) - (SELECT count(*) FROM footfall)" \
	" - (SELECT count(*) FROM tablet) - (SELECT count(*) FROM rfid)" \
	" - (SELECT count(*) FROM windows)"

static long long counter_value(struct vt_store *st, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce((SELECT value FROM counters WHERE name = '%s'), 0)", name);
	return query_int(vt_store_db(st), sql);
}

/* Frame seq of dev-a (linked to seq - 1): the 10:00 window of release
 * part, two cells. */
static void release_10h(struct window_batch *wb, uint64_t seq, uint64_t part)
{
	window_batch_init(wb, "dev-a", seq, part);
	wb->b.prev_seq = seq - 1;
	window_cell(wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 40);
	window_cell(wb, VITRINE__V1__METRIC__METRIC_KIOSK_LOOKUPS, 2, 0, GTIN_A, 7);
}

VT_TEST(store_window_sent_again_with_the_same_part_is_stored_once)
{
	struct vt_store *st = open_rw("windows-copy.db");
	struct window_batch wb;
	char line[64];
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	/* dev-a released the 10:00 window (part 7) in frame 1, crashed before
	 * that frame was safe in its spool, and after its restart sent the
	 * same cells again with the same part in a new frame, 2 (here in the
	 * same group transaction as 1). */
	release_10h(&wb, 1, 7);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	release_10h(&wb, 2, 7);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	CHECK(vt_store_commit(st) == 0);
	/* Frame 2 is stored (a new seq, which the watermark needs) with none
	 * of its cells. */
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows WHERE seq = 1"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames WHERE seq = 1"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames WHERE seq = 2"), 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), READINGS_NOT_STORED), 0);
	CHECK_EQ_INT(acked(st, "dev-a"), 2);
	CHECK_EQ_INT(counter_value(st, "window_cells_duplicate"), 2);
	CHECK_EQ_INT(counter_value(st, "frames_ok"), 2);
	CHECK_EQ_INT(counter_value(st, "readings_ok"), 2);
	CHECK_EQ_INT(counter_value(st, "rejected_duplicate"), 0);
	/* In a later group, a frame with a copy of one cell (known by its key,
	 * not its count: the first stored stays) and a cell of the 11:00
	 * window, another release: only that one is added. */
	window_batch_init(&wb, "dev-a", 3, 7);
	wb.b.prev_seq = 2;
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 41);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 5)->part = 8;
	wb.r[1].time_offset_ms = 3600000;
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	/* The same frame again is a duplicate frame, not more copies. */
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames WHERE seq = 3"), 1);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows WHERE seq = 3 AND part = 8"), 1);
	CHECK_EQ_INT(query_int(vt_store_db(st), READINGS_NOT_STORED), 0);
	CHECK_EQ_INT(counter_value(st, "window_cells_duplicate"), 3);
	CHECK_EQ_INT(counter_value(st, "readings_ok"), 3);
	CHECK_EQ_INT(counter_value(st, "rejected_duplicate"), 1);
	CHECK_EQ_INT(vt_store_session_count(st, VT_STORE_WINDOW_CELLS_DUPLICATE), 3);
	CHECK_EQ_INT(acked(st, "dev-a"), 3);
	/* Counted once: windows shows the window as it was, one part. */
	out = capture(st, PRINT_WINDOWS, NULL, 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "\"metric\":\"footfall_passes\",\"dim1\":1,\"dim2\":1,\"label\":\"\",\"other\":false,\"count\":40,\"parts\":1,") != NULL);
	CHECK(strstr(out, "\"start_ms\":1714561200000,") != NULL);
	CHECK(strstr(out, "\"count\":5,\"parts\":1,") != NULL);
	CHECK(strstr(out, "\"label\":\"" GTIN_A "\",\"other\":false,\"count\":7,\"parts\":1,") != NULL);
	free(out);
	/* And stats lists the counter. */
	out = capture(st, PRINT_STATS, NULL, 0, &rc);
	CHECK(out != NULL);
	snprintf(line, sizeof(line), "\n%-28s %14d\n", "window_cells_duplicate", 3);
	CHECK(strstr(out, line) != NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_window_parts_with_different_parts_are_all_stored_and_add_up)
{
	struct vt_store *st = open_rw("windows-parts.db");
	struct window_batch wb;
	char *out;
	int rc = -1;

	CHECK(st != NULL);
	/* dev-a restarted cleanly in the middle of the 10:00 window: the
	 * same cells, each run's count, two releases. */
	release_10h(&wb, 1, 7);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	release_10h(&wb, 2, 8);
	wb.w[0].count = 2;
	wb.w[1].count = 3;
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	/* dev-b's release 7 is its own. */
	window_batch_init(&wb, "dev-b", 1, 7);
	window_cell(&wb, VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES, 1, 1, "", 40);
	CHECK_EQ_INT(vt_store_put(st, &wb.h, &wb.b, 1), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM windows"), 5);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT readings FROM frames WHERE device = 'dev-a' AND seq = 2"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), READINGS_NOT_STORED), 0);
	CHECK_EQ_INT(counter_value(st, "window_cells_duplicate"), 0);
	CHECK_EQ_INT(counter_value(st, "readings_ok"), 5);
	out = capture(st, PRINT_WINDOWS, "dev-a", 1, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(out,
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714557600000,"
		  "\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"footfall_passes\","
		  "\"dim1\":1,\"dim2\":1,\"label\":\"\",\"other\":false,\"count\":42,\"parts\":2,"
		  "\"k\":5,\"epsilon_milli\":0}\n"
		  "{\"site\":\"lyon-part-dieu\",\"device\":\"dev-a\",\"start_ms\":1714557600000,"
		  "\"start\":\"2024-05-01T10:00:00Z\",\"length_s\":3600,\"metric\":\"kiosk_lookups\","
		  "\"dim1\":2,\"dim2\":0,\"label\":\"" GTIN_A "\",\"other\":false,\"count\":10,"
		  "\"parts\":2,\"k\":5,\"epsilon_milli\":0}\n");
	free(out);
	/* The export has no part: one line per stored cell, as the tap. */
	out = capture(st, PRINT_EXPORT, NULL, 0, &rc);
	CHECK(out != NULL);
	CHECK(strstr(out, "window,lyon-part-dieu,dev-a,1714557600000,3600,footfall_passes,1,1,,0,2,5,0\n"
			  "window,lyon-part-dieu,dev-a,1714557600000,3600,footfall_passes,1,1,,0,40,5,0\n") != NULL);
	free(out);
	CHECK(vt_store_close(st) == 0);
}

/* A development build of version 3 made windows without part. */
static const char v3_dev_schema[] =
	"CREATE TABLE frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, prev_seq INTEGER NOT NULL DEFAULT 0,"
	" floor_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(device, seq));"
	OLD_EVENT_TABLES
	"CREATE TABLE acks(device TEXT PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL);"
	"CREATE TABLE windows(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" length_s INTEGER NOT NULL, metric TEXT NOT NULL, dim1 INTEGER NOT NULL,"
	" dim2 INTEGER NOT NULL, label TEXT NOT NULL, other INTEGER NOT NULL,"
	" count INTEGER NOT NULL, k INTEGER NOT NULL, epsilon_milli INTEGER NOT NULL);"
	"PRAGMA user_version=3;";

VT_TEST(store_refuses_a_windows_table_without_part_with_a_clear_message)
{
	struct vt_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256] = "";

	CHECK(sqlite3_open(db_path("v3-dev.db"), &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v3_dev_schema, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(vt_store_open(db_path("v3-dev.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no part column") != NULL);
	/* Nothing half done: the readers still find what was there. */
	CHECK(vt_store_open(db_path("v3-dev.db"), VT_STORE_READONLY, &st, err, sizeof(err)) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"), 0);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST_MAIN()
