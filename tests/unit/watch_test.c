/*
 * watch_test.c - the live view ("watch", aggregator/watch.c) over a
 * database filled by hand.
 *
 * Rows go straight into the tables with SQL, so that each test states the
 * exact cells stored (parts of one window, "other" cells, several sites)
 * and the sums the screen must show, computed by hand in the comments.
 * Receiving and storing frames is aggregator_test.c's business.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "err.h"
#include "log.h"
#include "store.h"
#include "vt_test.h"
#include "watch.h"

#define SITE "cannes-croisette"
#define SITE_B "nice-massena"
#define GTIN_A "03012345678901"
#define GTIN_B "03012345678918"
#define T_0900 1714554000000LL	/* 2024-05-01T09:00:00Z */
#define QUARTER_MS 900000LL
#define T_1000 (T_0900 + 4 * QUARTER_MS)
#define T_1015 (T_0900 + 5 * QUARTER_MS)

/* The window line of watch, for the expectations. */
#define WINDOW_LINE "  %-5s %8s %6d %6d %8d %8d %8d %8d  %s\n"

static int db_count;

static struct vt_store *db_open(void)
{
	struct vt_store *st = NULL;
	char path[512], err[256];

	vt_log_init("report_test", VT_LOG_ERROR);
	snprintf(path, sizeof(path), "%s/report-%d.db", vt_test_tmpdir(), db_count++);
	if (vt_store_open(path, VT_STORE_READWRITE, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return st;
}

/* One stored window cell (one part of it); seq tells the parts apart, and
 * is their release id (part) too. */
static int put_cell(struct vt_store *st, const char *site, int seq, int64_t start_ms,
		    const char *metric, int dim1, int dim2, const char *label, int other,
		    int64_t count, int k)
{
	sqlite3 *db = vt_store_db(st);
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO windows(device, seq, idx, site, time_ms, length_s, metric,"
			       " dim1, dim2, label, other, count, k, epsilon_milli, part)"
			       " VALUES ('pi-1', ?, 0, ?, ?, 900, ?, ?, ?, ?, ?, ?, ?, 0, ?1)",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(s, 1, seq);
	sqlite3_bind_text(s, 2, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, start_ms);
	sqlite3_bind_text(s, 4, metric, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, dim1);
	sqlite3_bind_int(s, 6, dim2);
	sqlite3_bind_text(s, 7, label, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 8, other);
	sqlite3_bind_int64(s, 9, count);
	sqlite3_bind_int(s, 10, k);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(s);
	return rc;
}

static int put_footfall_event(struct vt_store *st, int64_t time_ms, const char *direction,
			      int count)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO footfall(device, seq, idx, site, time_ms, door, direction, count)"
		 " VALUES ('pi-2', 1, 0, '" SITE "', %lld, 1, '%s', %d)",
		 (long long)time_ms, direction, count);
	return sqlite3_exec(vt_store_db(st), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* An rfid row: one read (reads 0, as before schema 4) or a presence. */
static int put_rfid_event(struct vt_store *st, int64_t time_ms, const char *gtin, int reads)
{
	char sql[320];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO rfid(device, seq, idx, site, time_ms, reader, antenna, rssi_cdbm,"
		 " gtin, filter, tag_digest, reads, dwell_ms) VALUES ('pi-2', 1, 0, '" SITE "',"
		 " %lld, 1, 1, -5000, '%s', 1, x'0102030405060708', %d, 0)",
		 (long long)time_ms, gtin, reads);
	return sqlite3_exec(vt_store_db(st), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* One screen of watch (no clear) at now_ms, or NULL if it failed. */
static char *watch(struct vt_store *st, int64_t now_ms)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return NULL;
	rc = vt_watch_once(vt_store_db(st), f, now_ms, 0);
	fclose(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int has_window_line(const char *out, const char *start, int in, int out_, int sessions,
			   int screens, int lookups, int present, const char *top)
{
	char want[256];

	snprintf(want, sizeof(want), WINDOW_LINE, start, "15 min", in, out_, sessions, screens,
		 lookups, present, top);
	return strstr(out, want) != NULL;
}

/*
 * SITE, window 10:00, in two parts (seq 1 and 2: the agent restarted):
 *   footfall in:  door 1: 12 + 5, other: 11           -> 28
 *   footfall out: door 2: 14, other: 10               -> 24
 *   sessions:     kiosk 1: 10, other: 10              -> 20
 *   screens:      home 25, catalogue 12, other 10     -> 47
 *   lookups:      GTIN_A 10 + 3, GTIN_B 11, other 10  -> 34, top GTIN_A (13)
 *   presence:     GTIN_B 40, GTIN_A 30                -> 70 (lookups come first)
 *   session lengths (not a column): 99
 * SITE, window 10:15: presence GTIN_B 15, GTIN_A 20   -> 35, top GTIN_A (20 present)
 * SITE_B: footfall in 10 at 08:45, 09:00, ... 10:15: seven starts in all,
 * so 08:45 is not shown.
 */
static int fill_windows(struct vt_store *st)
{
	int rc = 0;

	rc |= put_cell(st, SITE, 1, T_1000, "footfall_passes", 1, 1, "", 0, 12, 10);
	rc |= put_cell(st, SITE, 2, T_1000, "footfall_passes", 1, 1, "", 0, 5, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "footfall_passes", 0, 1, "", 1, 11, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "footfall_passes", 2, 2, "", 0, 14, 10);
	rc |= put_cell(st, SITE, 2, T_1000, "footfall_passes", 0, 2, "", 1, 10, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_sessions", 1, 0, "", 0, 10, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_sessions", 0, 0, "", 1, 10, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_screen_views", 1, 0, "home", 0, 25, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_screen_views", 1, 0, "catalogue", 0, 12, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_screen_views", 0, 0, "", 1, 10, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_lookups", 1, 0, GTIN_A, 0, 10, 10);
	rc |= put_cell(st, SITE, 2, T_1000, "kiosk_lookups", 1, 0, GTIN_A, 0, 3, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_lookups", 2, 0, GTIN_B, 0, 11, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_lookups", 0, 0, "", 1, 10, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "kiosk_session_length", 1, 3, "", 0, 99, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "rfid_presence", 1, 0, GTIN_B, 0, 40, 10);
	rc |= put_cell(st, SITE, 1, T_1000, "rfid_presence", 1, 0, GTIN_A, 0, 30, 10);
	rc |= put_cell(st, SITE, 3, T_1015, "rfid_presence", 1, 0, GTIN_B, 0, 15, 10);
	rc |= put_cell(st, SITE, 3, T_1015, "rfid_presence", 2, 0, GTIN_A, 0, 20, 10);
	for (int q = -1; q <= 5; q++)
		rc |= put_cell(st, SITE_B, 10 + q, T_0900 + q * QUARTER_MS, "footfall_passes", 0, 1,
			       "", 1, 10, 10);
	return rc;
}

VT_TEST(watch_sums_the_parts_and_other_cells_of_each_window)
{
	struct vt_store *st = db_open();
	char *out;

	CHECK(st != NULL);
	CHECK(fill_windows(st) == 0);
	/* No event: now_ms (the caller's wall clock then) plays no part. */
	out = watch(st, 0);
	CHECK(out != NULL);
	CHECK(strstr(out, "vitrine-aggregator watch: counts per window, anonymous mode, newest window 2024-05-01 10:15 UTC\n") == out);
	CHECK(strstr(out, "events") == NULL);
	CHECK(strstr(out, "minute (UTC)") == NULL);
	CHECK(strstr(out, "\nsite " SITE "\n") != NULL);
	CHECK(has_window_line(out, "10:00", 28, 24, 20, 47, 34, 70, GTIN_A " (13 lookups)"));
	CHECK(has_window_line(out, "10:15", 0, 0, 0, 0, 0, 35, GTIN_A " (20 present)"));
	/* Oldest first. */
	CHECK(strstr(out, "  10:00 ") < strstr(out, "  10:15 "));
	/* SITE_B: the six newest starts of the table, 09:00 to 10:15. */
	CHECK(strstr(out, "\nsite " SITE_B "\n") != NULL);
	CHECK(has_window_line(strstr(out, "site " SITE_B), "09:00", 10, 0, 0, 0, 0, 0, "-"));
	CHECK(has_window_line(strstr(out, "site " SITE_B), "10:15", 10, 0, 0, 0, 0, 0, "-"));
	CHECK(strstr(out, "08:45") == NULL);
	CHECK(strstr(out, "counts below k=10 are merged into 'other' counts (included above) or withheld") != NULL);
	CHECK(strstr(out, "noise") == NULL);
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_shows_events_and_window_counts_each_up_to_its_newest)
{
	struct vt_store *st = db_open();
	int64_t latest;
	char want[128];
	char *out;

	CHECK(st != NULL);
	CHECK(fill_windows(st) == 0);
	/* A pseudonymous device an hour later: 4 in at 11:00:30, 1 out at 11:02. */
	CHECK(put_footfall_event(st, T_0900 + 2 * 3600000LL + 30000, "in", 4) == 0);
	CHECK(put_footfall_event(st, T_0900 + 2 * 3600000LL + 120000, "out", 1) == 0);
	latest = vt_watch_latest_ms(vt_store_db(st));
	CHECK_EQ_INT(latest, T_0900 + 2 * 3600000LL + 120000);
	out = watch(st, latest);
	CHECK(out != NULL);
	CHECK(strstr(out, "vitrine-aggregator watch: counts per window, anonymous mode, newest window 2024-05-01 10:15 UTC;"
			  " events, data up to 2024-05-01 11:02:00 UTC\n") == out);
	/* Window counts still end at 10:15, events at 11:02. */
	CHECK(has_window_line(out, "10:00", 28, 24, 20, 47, 34, 70, GTIN_A " (13 lookups)"));
	CHECK(strstr(out, "events (pseudonymous mode)") != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "11:00", 4, 0, 0, 0);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "11:02", 0, 1, 0, 0);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "counts per window") < strstr(out, "events (pseudonymous mode)"));
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_counts_rfid_reads_not_rows)
{
	struct vt_store *st = db_open();
	char want[128];
	char *out;

	CHECK(st != NULL);
	/* 11:00: a presence of 25 reads, a single read (reads 0) and a
	 * presence of 3 reads of another product. */
	CHECK(put_rfid_event(st, T_0900 + 2 * 3600000LL + 1000, GTIN_A, 25) == 0);
	CHECK(put_rfid_event(st, T_0900 + 2 * 3600000LL + 2000, GTIN_A, 0) == 0);
	CHECK(put_rfid_event(st, T_0900 + 2 * 3600000LL + 3000, GTIN_B, 3) == 0);
	out = watch(st, vt_watch_latest_ms(vt_store_db(st)));
	CHECK(out != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "11:00", 0, 0, 0, 29);
	CHECK(out && strstr(out, want) != NULL);
	CHECK(out && strstr(out, GTIN_A " 26, " GTIN_B " 3") != NULL);
	if (out && !strstr(out, GTIN_A " 26"))
		fprintf(stderr, "%s", out);
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_says_which_k_and_noise_protect_the_figures)
{
	struct vt_store *st = db_open();
	char *out;

	CHECK(st != NULL);
	CHECK(put_cell(st, SITE, 1, T_1000, "footfall_passes", 1, 1, "", 0, 12, 5) == 0);
	CHECK(put_cell(st, SITE, 2, T_1000, "footfall_passes", 1, 2, "", 0, 20, 10) == 0);
	CHECK(sqlite3_exec(vt_store_db(st), "UPDATE windows SET epsilon_milli = 250 WHERE seq = 2",
			   NULL, NULL, NULL) == SQLITE_OK);
	out = watch(st, 0);
	CHECK(out != NULL);
	CHECK(has_window_line(out, "10:00", 12, 20, 0, 0, 0, 0, "-"));
	CHECK(strstr(out, "counts below k (5 to 10) are merged") != NULL);
	CHECK(strstr(out, "counts carry random noise (epsilon up to 0.250)") != NULL);
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_leaves_out_windows_a_day_older_than_the_newest)
{
	struct vt_store *st = db_open();
	char *out;

	CHECK(st != NULL);
	/* Fewer than 6 starts, but the older one is 2 days before the newest. */
	CHECK(put_cell(st, SITE, 1, T_1000, "footfall_passes", 1, 1, "", 0, 12, 10) == 0);
	CHECK(put_cell(st, SITE_B, 1, T_1000 - 2 * 86400000LL, "footfall_passes", 1, 1, "", 0, 30,
		       10) == 0);
	out = watch(st, 0);
	CHECK(out != NULL);
	CHECK(has_window_line(out, "10:00", 12, 0, 0, 0, 0, 0, "-"));
	CHECK(strstr(out, SITE_B) == NULL);
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_without_data_or_windows_table_says_so)
{
	struct vt_store *st = db_open();
	char *out;

	CHECK(st != NULL);
	out = watch(st, T_1000);
	CHECK(out != NULL);
	CHECK(strstr(out, "vitrine-aggregator watch: no data to show at 2024-05-01 10:00:00 UTC\n") == out);
	CHECK(strstr(out, "no window counts stored") != NULL);
	free(out);
	/* A version 2 database, opened read-only before 'run' upgraded it,
	 * has no windows table: events only, and no error. */
	CHECK(put_footfall_event(st, T_1000, "in", 3) == 0);
	CHECK(sqlite3_exec(vt_store_db(st), "DROP TABLE windows", NULL, NULL, NULL) == SQLITE_OK);
	out = watch(st, T_1000);
	CHECK(out != NULL);
	CHECK(strstr(out, "vitrine-aggregator watch: events, data up to 2024-05-01 10:00:00 UTC\n") == out);
	CHECK(strstr(out, "counts per window") == NULL);
	free(out);
	vt_store_close(st);
}

VT_TEST(watch_fails_on_a_sum_beyond_int64_rather_than_wrap)
{
	struct vt_store *st = db_open();
	char *out;

	CHECK(st != NULL);
	CHECK(put_cell(st, SITE, 1, T_1000, "rfid_presence", 1, 0, GTIN_A, 0, INT64_MAX, 10) == 0);
	CHECK(put_cell(st, SITE, 2, T_1000, "rfid_presence", 1, 0, GTIN_A, 0, 1, 10) == 0);
	out = watch(st, 0);
	CHECK(out == NULL);
	vt_store_close(st);
}

VT_TEST_MAIN()
