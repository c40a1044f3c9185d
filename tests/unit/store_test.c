/*
 * store_test.c - the aggregator's SQLite store on its own: schema and WAL,
 * duplicate detection inside and across group transactions, counters that
 * persist, group commit visibility, read-only opens, the upgrade of a
 * version 1 database, and the acknowledgment watermark (acks.h): its rule
 * on hand-made frames, its persistence, and that only committed frames are
 * ever acknowledged, even when the process is killed at any moment; then
 * what "gaps" and "stats" make of those frames.
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
		     3);
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

/* The schema as version 1 of the aggregator wrote it. */
static const char v1_schema[] =
	"CREATE TABLE frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, PRIMARY KEY(device, seq));"
	"CREATE TABLE footfall(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" door INTEGER NOT NULL, direction TEXT NOT NULL, count INTEGER NOT NULL);"
	"CREATE TABLE tablet(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" kiosk INTEGER NOT NULL, event TEXT NOT NULL, session_digest BLOB NOT NULL,"
	" screen TEXT NOT NULL, gtin TEXT NOT NULL, duration_ms INTEGER NOT NULL);"
	"CREATE TABLE rfid(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" reader INTEGER NOT NULL, antenna INTEGER NOT NULL, rssi_cdbm INTEGER NOT NULL,"
	" gtin TEXT NOT NULL, filter INTEGER NOT NULL, tag_digest BLOB NOT NULL);"
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
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

static char *capture_gaps(struct vt_store *st, const char *device, int json, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	*rc = vt_gaps_report(vt_store_db(st), f, device, json);
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
	out = capture_gaps(st, NULL, 1, &rc);
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
	out = capture_gaps(st, "dev-b", 0, &rc);
	CHECK(out != NULL);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "dev-a") == NULL);
	CHECK(strncmp(out, "device ", 7) == 0);
	CHECK(strstr(out, "\ndev-b                    lyon-part-dieu                    1         10          2          7          2\n") != NULL);
	CHECK(strstr(out, "\n  skipped 2..7 (6)\n  missing 8..9 (2)\n") != NULL);
	free(out);
	out = capture_gaps(st, "dev-z", 1, &rc);
	CHECK_EQ_INT(rc, -ENOENT);
	CHECK(out != NULL && out[0] == '\0');
	free(out);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST(store_stats_show_duplicates_and_watermarks)
{
	struct vt_store *st = gaps_fixture("stats.db");
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(st != NULL);
	CHECK_EQ_INT(put(st, "dev-b", 10, 9, 8), VT_STORE_DUPLICATE);
	CHECK(vt_store_commit(st) == 0);
	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	CHECK(vt_report_stats(vt_store_db(st), f) == 0);
	fclose(f);
	CHECK(strstr(buf, "rejected_duplicate                        1\n") != NULL);
	CHECK(strstr(buf, "\ndev-a                                  1002  lyon-part-dieu\n") != NULL);
	CHECK(strstr(buf, "\ndev-b                                     7  lyon-part-dieu\n") != NULL);
	free(buf);
	CHECK(vt_store_close(st) == 0);
}

VT_TEST_MAIN()
