/*
 * store_test.c - the aggregator's SQLite store on its own: schema and WAL,
 * replay detection inside and across group transactions, counters that
 * persist, group commit visibility, read-only opens.
 *
 * Batches are built directly (no sealing): the store trusts its input.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
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

VT_TEST(store_detects_replay_within_and_across_transactions)
{
	struct vt_store *st = NULL;
	struct one_batch ob;
	char err[256];

	CHECK(vt_store_open(db_path("replay.db"), VT_STORE_READWRITE, &st, err, sizeof(err)) == 0);
	one_batch_fill(&ob, "dev-a", 1);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 1), 0);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 2), -VT_EREPLAY);
	one_batch_fill(&ob, "dev-b", 1);	/* same seq, other device: not a replay */
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 3), 0);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(vt_store_put(st, &ob.h, &ob.b, 4), -VT_EREPLAY);
	CHECK(vt_store_commit(st) == 0);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM frames"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT count(*) FROM footfall"), 2);
	CHECK_EQ_INT(query_int(vt_store_db(st), "SELECT value FROM counters WHERE name = 'rejected_replay'"), 2);
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

VT_TEST_MAIN()
