/*
 * kpi_test.c - the key figures (aggregator/kpi.c, docs/KPIS.md) against
 * values computed by hand on a small fixed data set.
 *
 * Store "anon" sends window cells (anonymous mode), store "pseudo" events
 * (pseudonymous mode), on Monday 2024-05-06; "anon" also has the same
 * Monday one and two weeks before. The arithmetic of each expected figure
 * is written next to it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "kpi.h"
#include "kpi_out.h"
#include "log.h"
#include "store.h"
#include "vt_test.h"

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define MON_0000 1714953600000LL	/* 2024-05-06T00:00:00Z, a Monday */
#define MON_1000 (MON_0000 + 10 * HOUR_MS)
#define MON_1100 (MON_0000 + 11 * HOUR_MS)
#define GTIN_A "03012345678901"
#define GTIN_B "03012345678918"
#define GTIN_C "03012345678925"

static int db_count;

static struct vt_store *db_open(void)
{
	struct vt_store *st = NULL;
	char path[512], err[256];

	vt_log_init("kpi_test", VT_LOG_ERROR);
	snprintf(path, sizeof(path), "%s/kpi-%d.db", vt_test_tmpdir(), db_count++);
	if (vt_store_open(path, VT_STORE_READWRITE, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return st;
}

static int exec(sqlite3 *db, char *sql)
{
	int rc;

	if (!sql)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_free(sql);
	return rc;
}

/* One 15-minute window cell of device "d1" (part 1). */
static int cell(sqlite3 *db, const char *site, int64_t t, const char *metric, int dim1,
		int dim2, const char *label, int other, int64_t count)
{
	static int seq;

	return exec(db, sqlite3_mprintf(
				"INSERT INTO windows(device, seq, idx, site, time_ms, length_s, metric,"
				" dim1, dim2, label, other, count, k, epsilon_milli, part) VALUES"
				" ('d1', %d, 0, %Q, %lld, 900, %Q, %d, %d, %Q, %d, %lld, 10, 0, 1)",
				++seq, site, (long long)t, metric, dim1, dim2, label, other,
				(long long)count));
}

static int passes(sqlite3 *db, const char *site, int64_t t, int in, int out)
{
	if (in && cell(db, site, t, "footfall_passes", 1, 1, "", 0, in) < 0)
		return -1;
	return out ? cell(db, site, t, "footfall_passes", 1, 2, "", 0, out) : 0;
}

static int event_footfall(sqlite3 *db, const char *site, int64_t t, const char *dir)
{
	return exec(db, sqlite3_mprintf("INSERT INTO footfall VALUES ('d2', 1, 0, %Q, %lld, 1, %Q, 1,"
					" 0, NULL, NULL)",
					site, (long long)t, dir));
}

static int event_tablet(sqlite3 *db, const char *site, int64_t t, const char *event,
			const char *gtin, int64_t duration_ms)
{
	return exec(db, sqlite3_mprintf("INSERT INTO tablet VALUES ('d2', 1, 0, %Q, %lld, 1, %Q,"
					" x'0102', '', %Q, %lld, 0, NULL, NULL)",
					site, (long long)t, event, gtin, (long long)duration_ms));
}

static int event_rfid(sqlite3 *db, const char *site, int64_t t, int reader, const char *gtin,
		      int tag)
{
	return exec(db, sqlite3_mprintf("INSERT INTO rfid VALUES ('d2', 1, 0, %Q, %lld, %d, 1,"
					" -5000, %Q, 1, x'%016x', 1, 0, 0, NULL, NULL)",
					site, (long long)t, reader, gtin, tag));
}

/*
 * "anon", Monday 10:00-11:15 UTC, 15-minute windows (in/out):
 *   10:00 12/0   10:15 10/6   10:30 0/10   10:45 none   11:00 20/16
 * kiosk sessions 11 at 10:00, 6 at 11:00; RFID presence at 10:00: GTIN_A
 * 15 by reader 1 and 4 by reader 2, GTIN_B 7 by reader 1, an "other" cell
 * of 12. The Mondays before: 30 in at 10:00 one week before, 50 two weeks
 * before (and as many out).
 */
static int fill_anon(sqlite3 *db)
{
	const int64_t q = 15 * MIN_MS;

	return passes(db, "anon", MON_1000, 12, 0) || passes(db, "anon", MON_1000 + q, 10, 6) ||
	       passes(db, "anon", MON_1000 + 2 * q, 0, 10) || passes(db, "anon", MON_1100, 20, 16) ||
	       cell(db, "anon", MON_1000, "kiosk_sessions", 1, 0, "", 0, 11) ||
	       cell(db, "anon", MON_1100, "kiosk_sessions", 1, 0, "", 0, 6) ||
	       cell(db, "anon", MON_1000, "rfid_presence", 1, 0, GTIN_A, 0, 15) ||
	       cell(db, "anon", MON_1000, "rfid_presence", 2, 0, GTIN_A, 0, 4) ||
	       cell(db, "anon", MON_1000, "rfid_presence", 1, 0, GTIN_B, 0, 7) ||
	       cell(db, "anon", MON_1000, "rfid_presence", 1, 0, "", 1, 12) ||
	       passes(db, "anon", MON_1000 - 7 * DAY_MS, 30, 30) ||
	       passes(db, "anon", MON_1000 - 14 * DAY_MS, 50, 50);
}

/*
 * "pseudo", Monday, events: 12 people in at 10:00 + i min and out at
 * 10:30 + i min (i = 0..11); 10 sessions started at 10:10; 10 ended after
 * 45 s and 3 after 400 s; 11 lookups of GTIN_C; 12 tags of GTIN_C read 3
 * times each by reader 1 in the slots of 10:00 and 10:05. One week before,
 * 4 people in at 10:00.
 */
static int fill_pseudo(sqlite3 *db)
{
	int rc = 0;

	for (int i = 0; i < 12 && rc == 0; i++)
		rc = event_footfall(db, "pseudo", MON_1000 + i * MIN_MS, "in") ||
		     event_footfall(db, "pseudo", MON_1000 + (30 + i) * MIN_MS, "out");
	for (int i = 0; i < 10 && rc == 0; i++)
		rc = event_tablet(db, "pseudo", MON_1000 + 10 * MIN_MS, "session_start", "", 0) ||
		     event_tablet(db, "pseudo", MON_1000 + 12 * MIN_MS, "session_end", "", 45000);
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = event_tablet(db, "pseudo", MON_1000 + 20 * MIN_MS, "session_end", "", 400000);
	for (int i = 0; i < 11 && rc == 0; i++)
		rc = event_tablet(db, "pseudo", MON_1000 + 11 * MIN_MS, "product_lookup", GTIN_C, 0);
	for (int tag = 1; tag <= 12 && rc == 0; tag++)
		for (int r = 0; r < 3 && rc == 0; r++)
			rc = event_rfid(db, "pseudo", MON_1000 + r * 1000, 1, GTIN_C, tag) ||
			     event_rfid(db, "pseudo", MON_1000 + 5 * MIN_MS + r * 1000, 1, GTIN_C, tag);
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = event_footfall(db, "pseudo", MON_1000 - 7 * DAY_MS, "in");
	return rc;
}

static struct vt_store *fixture(void)
{
	struct vt_store *st = db_open();

	if (st && (fill_anon(vt_store_db(st)) || fill_pseudo(vt_store_db(st)))) {
		vt_store_close(st);
		return NULL;
	}
	return st;
}

static int compute(struct vt_store *st, enum vt_kpi_period p, const char *tz,
		   struct vt_kpi_set *set)
{
	struct vt_kpi_query q = { .period = p, .since_ms = MON_0000, .until_ms = MON_0000 + DAY_MS,
				  .k = VT_KPI_K_DEFAULT, .tz = tz };

	return vt_kpi_compute(vt_store_db(st), &q, set);
}

/* The value of a shown figure, NAN if absent, -1 if suppressed. */
static double fig(const struct vt_kpi_set *set, const char *site, int64_t start,
		  enum vt_kpi_id kpi, uint32_t dim, const char *label)
{
	long s = vt_kpi_site(set, site);

	for (size_t i = 0; s >= 0 && i < set->nrows; i++) {
		const struct vt_kpi_row *r = &set->rows[i];

		if (r->site == (size_t)s && r->start_ms == start && r->kpi == kpi && r->dim == dim &&
		    strcmp(r->label, label) == 0)
			return r->shown ? r->value : -1;
	}
	return NAN;
}

static int near(double a, double b)
{
	return fabs(a - b) < 1e-6 * (fabs(b) + 1);
}

#define CHECK_FIG(got, want)                                                             \
	do {                                                                             \
		double vt_g = (got), vt_w = (want);                                      \
		if (!near(vt_g, vt_w)) {                                                 \
			printf("FAIL %s: %s:%d: %s == %g (got %g)\n", vt_test_current,  \
			       __FILE__, __LINE__, #got, vt_w, vt_g);                    \
			*vt_failed = 1;                                                  \
			return;                                                          \
		}                                                                        \
	} while (0)

VT_TEST(hourly_counts_and_occupancy_of_windows)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set set = { 0 };

	CHECK(st != NULL);
	CHECK_EQ_INT(compute(st, VT_KPI_HOUR, NULL, &set), 0);
	CHECK_EQ_INT(set.nsites, 2);
	CHECK_STR(set.sites[0], "anon");
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_FOOTFALL_IN, 0, ""), 22);	/* 12 + 10 */
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_FOOTFALL_OUT, 0, ""), 16);	/* 6 + 10 */
	/* inside after each window: 12, 16, 6 */
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_OCCUPANCY_PEAK, 0, ""), 16);
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_OCCUPANCY_END, 0, ""), 6);
	/* 11:00: 6 carried in, then 6 + 20 - 16 = 10 */
	CHECK_FIG(fig(&set, "anon", MON_1100, VT_KPI_OCCUPANCY_PEAK, 0, ""), 10);
	CHECK_FIG(fig(&set, "anon", MON_1100, VT_KPI_OCCUPANCY_END, 0, ""), 10);
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_KIOSK_SESSIONS, 0, ""), 11);
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_ENGAGEMENT, 0, ""), 0.5);	/* 11 / 22 */
	/* no dwell per hour */
	CHECK(isnan(fig(&set, "anon", MON_1000, VT_KPI_DWELL_MEAN, 0, "")));
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(counts_below_k_are_suppressed_and_products_dropped)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set set = { 0 };

	CHECK(st != NULL);
	CHECK_EQ_INT(compute(st, VT_KPI_HOUR, NULL, &set), 0);
	/* 6 sessions at 11:00: suppressed, and the engagement that uses them */
	CHECK_FIG(fig(&set, "anon", MON_1100, VT_KPI_KIOSK_SESSIONS, 0, ""), -1);
	CHECK_FIG(fig(&set, "anon", MON_1100, VT_KPI_ENGAGEMENT, 0, ""), -1);
	/* GTIN_A: 15 + 4 = 19 in all, 15 by reader 1; reader 2's 4 and GTIN_B's 7 are gone */
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_PRODUCT_PRESENCE, 0, GTIN_A), 19);
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_ZONE_PRESENCE, 1, GTIN_A), 15);
	CHECK(isnan(fig(&set, "anon", MON_1000, VT_KPI_ZONE_PRESENCE, 2, GTIN_A)));
	CHECK(isnan(fig(&set, "anon", MON_1000, VT_KPI_PRODUCT_PRESENCE, 0, GTIN_B)));
	CHECK(isnan(fig(&set, "anon", MON_1000, VT_KPI_ZONE_PRESENCE, 1, GTIN_B)));
	for (size_t i = 0; i < set.nrows; i++) {
		CHECK(strcmp(set.rows[i].label, GTIN_B) != 0);
		CHECK(set.rows[i].shown || set.rows[i].value == 0);
	}
	/* the "other" cell is no product */
	for (size_t i = 0; i < set.nrows; i++)
		CHECK(set.rows[i].kpi != VT_KPI_PRODUCT_PRESENCE || set.rows[i].label[0]);
	CHECK(set.suppressed >= 5);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(daily_dwell_by_littles_law_and_previous_weeks)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set set = { 0 };

	CHECK(st != NULL);
	CHECK_EQ_INT(compute(st, VT_KPI_DAY, NULL, &set), 0);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_FOOTFALL_IN, 0, ""), 42);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_OCCUPANCY_PEAK, 0, ""), 16);
	/*
	 * Area (people x minutes), each window a trapezoid, the gap flat:
	 * (0+12)/2*15 + (12+16)/2*15 + (16+6)/2*15 + 6*15 + (6+10)/2*15
	 * = 90 + 210 + 165 + 90 + 120 = 675; over 42 entries: 675/42 min.
	 */
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_DWELL_MEAN, 0, ""), 675.0 / 42 * 60);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_KIOSK_SESSIONS, 0, ""), 17);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_ENGAGEMENT, 0, ""), 17.0 / 42);
	/* previous Mondays: 30 and 50, mean 40 over 2 weeks; 42 is +5 % */
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_PREV_WEEKS_IN, 2, ""), 40);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_CHANGE_PCT, 0, ""), 5);
	/* "pseudo" had 4 in a week before: too few to compare with */
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_PREV_WEEKS_IN, 1, ""), -1);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_CHANGE_PCT, 0, ""), -1);
	/* the previous weeks are not periods of the set */
	for (size_t i = 0; i < set.nrows; i++)
		CHECK(set.rows[i].start_ms == MON_0000);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(without_history_the_same_figures_but_no_comparison)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set full = { 0 }, set = { 0 };
	struct vt_kpi_query q = { .period = VT_KPI_DAY, .since_ms = MON_0000,
				  .until_ms = MON_0000 + DAY_MS, .k = VT_KPI_K_DEFAULT,
				  .no_history = 1 };
	size_t j = 0;

	CHECK(st != NULL);
	CHECK_EQ_INT(compute(st, VT_KPI_DAY, NULL, &full), 0);
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), 0);
	/* every row but the comparisons, in the same order and values */
	for (size_t i = 0; i < full.nrows; i++) {
		const struct vt_kpi_row *r = &full.rows[i];

		if (r->kpi == VT_KPI_PREV_WEEKS_IN || r->kpi == VT_KPI_CHANGE_PCT)
			continue;
		CHECK(j < set.nrows);
		CHECK_EQ_INT(set.rows[j].kpi, r->kpi);
		CHECK(set.rows[j].value == r->value && set.rows[j].shown == r->shown);
		j++;
	}
	CHECK_EQ_INT(j, set.nrows);
	CHECK_FIG(fig(&full, "anon", MON_0000, VT_KPI_PREV_WEEKS_IN, 2, ""), 40);
	vt_kpi_free(&full);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(events_mean_the_same_as_windows)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set set = { 0 };

	CHECK(st != NULL);
	CHECK_EQ_INT(compute(st, VT_KPI_DAY, NULL, &set), 0);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_FOOTFALL_IN, 0, ""), 12);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_OCCUPANCY_PEAK, 0, ""), 12);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_OCCUPANCY_END, 0, ""), 0);
	/*
	 * Steps between events: 1+2+...+11 = 66 person-minutes while they come
	 * in, 12 x 19 = 228 until the first leaves at 10:30, 11+10+...+1 = 66
	 * while they go: 360 / 12 = 30 minutes each.
	 */
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_DWELL_MEAN, 0, ""), 30 * 60);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_KIOSK_SESSIONS, 0, ""), 10);
	/* 45 s is the "< 1 min" bucket (1), 400 s "< 10 min" (4): 3 < k */
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_SESSION_LENGTH, 1, ""), 10);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_SESSION_LENGTH, 4, ""), -1);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_KIOSK_LOOKUPS, 0, ""), 11);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_PRODUCT_LOOKUPS, 0, GTIN_C), 11);
	/* 12 tags, each once per slot however often read, in 2 slots */
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_PRODUCT_PRESENCE, 0, GTIN_C), 24);
	CHECK_FIG(fig(&set, "pseudo", MON_0000, VT_KPI_ZONE_PRESENCE, 1, GTIN_C), 24);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(periods_follow_the_local_calendar)
{
	struct vt_store *st = fixture();
	struct vt_kpi_set set = { 0 };

	CHECK(st != NULL);
	/* Paris is UTC+2 in May: 10:00 UTC is the hour of 12:00 local */
	CHECK_EQ_INT(compute(st, VT_KPI_HOUR, "Europe/Paris", &set), 0);
	CHECK_FIG(fig(&set, "anon", MON_1000, VT_KPI_FOOTFALL_IN, 0, ""), 22);
	CHECK_EQ_INT(set.since_ms, MON_0000);	/* hours are whole in Paris */
	vt_kpi_free(&set);
	/* the local day starts at 22:00 UTC the day before */
	CHECK_EQ_INT(compute(st, VT_KPI_DAY, "Europe/Paris", &set), 0);
	CHECK_EQ_INT(set.since_ms, MON_0000 - 2 * HOUR_MS);
	CHECK_FIG(fig(&set, "anon", MON_0000 - 2 * HOUR_MS, VT_KPI_FOOTFALL_IN, 0, ""), 42);
	vt_kpi_free(&set);
	/* Monday is the first day of a week */
	CHECK_EQ_INT(compute(st, VT_KPI_WEEK, NULL, &set), 0);
	CHECK_FIG(fig(&set, "anon", MON_0000, VT_KPI_FOOTFALL_IN, 0, ""), 42);
	CHECK_EQ_INT(set.until_ms, MON_0000 + 7 * DAY_MS);
	/* the TZ of the process is back */
	CHECK(getenv("TZ") == NULL);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(a_day_of_25_hours_when_clocks_go_back)
{
	struct vt_store *st = db_open();
	struct vt_kpi_set set = { 0 };
	/* Paris, Sunday 2024-10-27: 00:00 CEST is 22:00Z the day before, and
	 * the day lasts 25 hours, to 23:00Z */
	const int64_t sun = 1729980000000LL;	/* 2024-10-26T22:00:00Z */
	struct vt_kpi_query q = { .period = VT_KPI_DAY, .since_ms = sun, .until_ms = sun + 1,
				  .k = VT_KPI_K_DEFAULT, .tz = "Europe/Paris" };

	CHECK(st != NULL);
	CHECK_EQ_INT(passes(vt_store_db(st), "anon", sun + 24 * HOUR_MS + 30 * MIN_MS, 10, 0), 0);
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), 0);
	CHECK_EQ_INT(set.until_ms, sun + 25 * HOUR_MS);
	CHECK_EQ_INT(set.nrows > 0, 1);
	CHECK_EQ_INT(set.rows[0].end_ms, sun + 25 * HOUR_MS);
	CHECK_FIG(fig(&set, "anon", sun, VT_KPI_FOOTFALL_IN, 0, ""), 10);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST(exports_write_suppressed_figures_without_value)
{
	char *sites[] = { "shop,1" };
	struct vt_kpi_row rows[] = {
		{ .site = 0, .start_ms = MON_0000, .end_ms = MON_0000 + DAY_MS, .start_off_s = 7200,
		  .end_off_s = 7200, .kpi = VT_KPI_FOOTFALL_IN, .value = 42, .shown = 1 },
		{ .site = 0, .start_ms = MON_0000, .end_ms = MON_0000 + DAY_MS, .start_off_s = 7200,
		  .end_off_s = 7200, .kpi = VT_KPI_ENGAGEMENT, .value = 0, .shown = 0 },
		{ .site = 0, .start_ms = MON_0000, .end_ms = MON_0000 + DAY_MS, .kpi = VT_KPI_ZONE_PRESENCE,
		  .dim = 3, .label = GTIN_A, .value = 12, .shown = 1 },
	};
	struct vt_kpi_set set = { .period = VT_KPI_DAY, .k = 10, .sites = sites, .nsites = 1,
				  .rows = rows, .nrows = 3 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	CHECK_EQ_INT(vt_kpi_write_csv(f, &set, NULL), 0);
	CHECK_EQ_INT(vt_kpi_write_json(f, &set, "engagement"), 0);
	fclose(f);
	CHECK_STR(buf,
		  "site,period,start,end,kpi,unit,gtin,zone,bucket,weeks,value,suppressed\n"
		  "\"shop,1\",day,2024-05-06T02:00:00+02:00,2024-05-07T02:00:00+02:00,footfall_in,people,,,,,42,0\n"
		  "\"shop,1\",day,2024-05-06T02:00:00+02:00,2024-05-07T02:00:00+02:00,engagement,ratio,,,,,,1\n"
		  "\"shop,1\",day,2024-05-06T00:00:00Z,2024-05-07T00:00:00Z,zone_presence,item-slots," GTIN_A ",3,,,12,0\n"
		  "{\"site\":\"shop,1\",\"period\":\"day\",\"start\":\"2024-05-06T02:00:00+02:00\","
		  "\"end\":\"2024-05-07T02:00:00+02:00\",\"kpi\":\"engagement\",\"unit\":\"ratio\","
		  "\"gtin\":null,\"zone\":null,\"bucket\":null,\"weeks\":null,\"value\":null,"
		  "\"suppressed\":true}\n");
	free(buf);
}

VT_TEST(times_carry_their_offset)
{
	char buf[40];

	vt_kpi_format_time(MON_0000, -16200, buf, sizeof(buf));	/* Caracas, 2007-2016 */
	CHECK_STR(buf, "2024-05-05T19:30:00-04:30");
	vt_kpi_format_time(MON_0000, 0, buf, sizeof(buf));
	CHECK_STR(buf, "2024-05-06T00:00:00Z");
	CHECK_STR(vt_kpi_bucket_name(5), "ge_10min");
	CHECK(vt_kpi_known("dwell_mean") && !vt_kpi_known("dwell"));
}

VT_TEST(bad_queries_are_refused)
{
	struct vt_store *st = db_open();
	struct vt_kpi_set set = { 0 };
	struct vt_kpi_query q = { .period = VT_KPI_DAY, .since_ms = MON_0000,
				  .until_ms = MON_0000 + DAY_MS, .k = VT_KPI_K_MIN - 1 };

	CHECK(st != NULL);
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), -EINVAL);
	q.k = VT_KPI_K_MIN;
	q.tz = "Mars/Olympus_Mons";
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), -EINVAL);
	q.tz = "../../etc/passwd";
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), -EINVAL);
	q.tz = NULL;
	q.until_ms = q.since_ms;
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), -EINVAL);
	/* an empty database has no figures, and that is no error */
	q.until_ms = MON_0000 + DAY_MS;
	CHECK_EQ_INT(vt_kpi_compute(vt_store_db(st), &q, &set), 0);
	CHECK_EQ_INT(set.nrows, 0);
	CHECK_EQ_INT(set.nsites, 0);
	vt_kpi_free(&set);
	vt_store_close(st);
}

VT_TEST_MAIN()
