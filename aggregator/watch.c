/*
 * watch.c - "vitrine-aggregator watch", the live view of the database
 * (watch.h).
 *
 * Two sections, each anchored on its own newest data, so that a simulation
 * running ahead of the clock or a replay of old data shows:
 *  - counts per window (anonymous mode, the default): per site, its windows
 *    among the VT_WATCH_WINDOWS newest window starts of the whole table,
 *    within 24 hours of the newest (so a site that stopped sending drops
 *    out, as with events);
 *  - events (pseudonymous mode): per site and minute, the 10 minutes up to
 *    the now_ms the caller gives (the newest event, vt_watch_latest_ms()).
 * A database with devices in both modes shows both. The figures of each
 * refresh live in one struct vt_watch, allocated and freed per refresh.
 *
 * The SQL does the grouping (the window query seeks the (site, time_ms)
 * index site by site); C only lays the numbers out. Nothing here writes to
 * the database; the loop that refreshes the screen is main.c's.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "query.h"
#include "store.h"
#include "watch.h"

#define VT_WATCH_MINUTE_MS 60000LL
#define VT_WATCH_MINUTES 10
#define VT_WATCH_SITES 32
#define VT_WATCH_TOP 5
#define VT_WATCH_WINDOWS 6
/* Lines per site: a start has one line per window length, and devices of
 * one site may use different lengths (privacy_window_s). */
#define VT_WATCH_WINDOW_ROWS (2 * VT_WATCH_WINDOWS)

/* The SQL of the live view, all of it. Events: rows of (site, minute index
 * from ?1, a[, b]) for [?1, ?2). */
static const char vt_watch_footfall_sql[] =
	"SELECT site, (time_ms - ?1) / 60000,"
	" sum(CASE direction WHEN 'in' THEN count ELSE 0 END),"
	" sum(CASE direction WHEN 'out' THEN count ELSE 0 END)"
	" FROM footfall WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2";
static const char vt_watch_tablet_sql[] =
	"SELECT site, (time_ms - ?1) / 60000, count(*) FROM tablet"
	" WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2";
/* RFID reads: a row is one read, or (schema 4) a presence of `reads` reads;
 * a database not upgraded yet has rows of one read each. */
static const char vt_watch_rfid_sql[] =
	"SELECT site, (time_ms - ?1) / 60000, sum(max(reads, 1)) FROM rfid"
	" WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2";
static const char vt_watch_rfid_v3_sql[] =
	"SELECT site, (time_ms - ?1) / 60000, count(*) FROM rfid"
	" WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2";
static const char vt_watch_top_sql[] =
	"SELECT site, gtin, sum(max(reads, 1)) AS n FROM rfid WHERE time_ms >= ?1"
	" AND time_ms < ?2 AND gtin <> '' GROUP BY site, gtin ORDER BY site, n DESC, gtin";
static const char vt_watch_top_v3_sql[] =
	"SELECT site, gtin, count(*) AS n FROM rfid WHERE time_ms >= ?1"
	" AND time_ms < ?2 AND gtin <> '' GROUP BY site, gtin ORDER BY site, n DESC, gtin";
static const char vt_watch_latest_sql[] =
	"SELECT max(t) FROM (SELECT max(time_ms) AS t FROM footfall"
	" UNION ALL SELECT max(time_ms) FROM tablet UNION ALL SELECT max(time_ms) FROM rfid)";
/*
 * Window counts: one row per (site, start, length) among the ?1 newest
 * starts, newest first. Every stored row counts, so the parts of a window
 * add up and the "other" cells (values below k merged) are included: the
 * footfall ones keep the direction (dim2), the kiosk ones belong to no
 * kiosk but are still sessions, screens or lookups. The top product is a
 * labelled cell (never "other"), by lookups if the window has any, else by
 * RFID presence. sum() fails beyond 2^63 - 1 rather than wrap.
 */
static const char vt_watch_windows_sql[] =
	/* The sites, then each site's ?1 newest starts, by seeks on the
	 * (site, time_ms) index: a refresh reads the rows it shows, not the
	 * whole table. The ?1 newest starts of the table are among them. */
	"WITH RECURSIVE sites(site) AS (SELECT min(site) FROM windows"
	"  UNION ALL SELECT (SELECT min(site) FROM windows WHERE windows.site > sites.site)"
	"  FROM sites WHERE sites.site IS NOT NULL),"
	" site_starts(site, t, n) AS (SELECT site, (SELECT max(time_ms) FROM windows"
	"  WHERE windows.site = sites.site), 1 FROM sites WHERE site IS NOT NULL"
	"  UNION ALL SELECT site, (SELECT max(time_ms) FROM windows WHERE windows.site = s.site"
	"  AND windows.time_ms < s.t), n + 1 FROM site_starts s WHERE n < ?1 AND t IS NOT NULL),"
	/* Within a day of the newest, so that HH:MM says which window it is
	 * and a site silent for months does not fill a young table's view. */
	" starts(t) AS (SELECT DISTINCT t FROM site_starts WHERE t IS NOT NULL"
	"  AND t > (SELECT max(t) FROM site_starts) - 86400000 ORDER BY 1 DESC LIMIT ?1),"
	" w AS (SELECT windows.* FROM sites JOIN windows ON windows.site = sites.site"
	"  AND windows.time_ms >= (SELECT min(t) FROM starts)),"
	" products AS (SELECT site, time_ms, length_s, metric, label, sum(count) AS n FROM w"
	"  WHERE metric IN ('kiosk_lookups', 'rfid_presence') AND other = 0 AND label <> ''"
	"  GROUP BY site, time_ms, length_s, metric, label),"
	" top AS (SELECT *, row_number() OVER (PARTITION BY site, time_ms, length_s"
	"  ORDER BY metric = 'kiosk_lookups' DESC, n DESC, label) AS rank FROM products),"
	" sums AS (SELECT site, time_ms, length_s,"
	"  sum(CASE WHEN metric = 'footfall_passes' AND dim2 = 1 THEN count ELSE 0 END) AS f_in,"
	"  sum(CASE WHEN metric = 'footfall_passes' AND dim2 = 2 THEN count ELSE 0 END) AS f_out,"
	"  sum(CASE metric WHEN 'kiosk_sessions' THEN count ELSE 0 END) AS sessions,"
	"  sum(CASE metric WHEN 'kiosk_screen_views' THEN count ELSE 0 END) AS screens,"
	"  sum(CASE metric WHEN 'kiosk_lookups' THEN count ELSE 0 END) AS lookups,"
	"  sum(CASE metric WHEN 'rfid_presence' THEN count ELSE 0 END) AS presence,"
	"  min(k) AS k_min, max(k) AS k_max, max(epsilon_milli) AS epsilon_milli"
	"  FROM w GROUP BY site, time_ms, length_s)"
	" SELECT s.site, s.time_ms, s.length_s, f_in, f_out, sessions, screens, lookups,"
	" presence, k_min, k_max, s.epsilon_milli, t.label, t.n, t.metric = 'kiosk_lookups'"
	" FROM sums s LEFT JOIN top t ON t.site = s.site AND t.time_ms = s.time_ms"
	" AND t.length_s = s.length_s AND t.rank = 1"
	" ORDER BY s.site, s.time_ms DESC, s.length_s";

/* The figures of one window line, in the order of the columns. */
enum vt_watch_figure {
	VT_WATCH_IN,
	VT_WATCH_OUT,
	VT_WATCH_SESSIONS,
	VT_WATCH_SCREENS,
	VT_WATCH_LOOKUPS,
	VT_WATCH_PRESENCE,
	VT_WATCH_FIGURES
};

/* Columns of vt_watch_windows_sql. */
enum vt_watch_wcol {
	VT_WATCH_COL_SITE,
	VT_WATCH_COL_START,
	VT_WATCH_COL_LENGTH,
	VT_WATCH_COL_FIGURES,	/* VT_WATCH_FIGURES of them */
	VT_WATCH_COL_K_MIN = VT_WATCH_COL_FIGURES + VT_WATCH_FIGURES,
	VT_WATCH_COL_K_MAX,
	VT_WATCH_COL_EPSILON,
	VT_WATCH_COL_TOP,
	VT_WATCH_COL_TOP_COUNT,
	VT_WATCH_COL_TOP_IS_LOOKUP,
};

struct vt_watch_window {
	int64_t start_ms, length_s;
	int64_t figure[VT_WATCH_FIGURES];
	char top[VT_AGG_MAX_LABEL + 1];	/* "" when none */
	int64_t top_count;
	int top_is_lookup;
};

struct vt_watch_wsite {
	char site[VT_FRAME_DEVICE_MAX + 1];
	struct vt_watch_window rows[VT_WATCH_WINDOW_ROWS];	/* newest first */
	int n_rows;
	int more_rows;
};

struct vt_watch_site {
	char site[VT_FRAME_DEVICE_MAX + 1];
	int64_t in[VT_WATCH_MINUTES], out[VT_WATCH_MINUTES];
	int64_t tablet[VT_WATCH_MINUTES], rfid[VT_WATCH_MINUTES];
	char top[VT_WATCH_TOP][VT_AGG_MAX_FIELD + 1];
	int64_t top_reads[VT_WATCH_TOP];
	int n_top;
};

struct vt_watch {
	/* events */
	struct vt_watch_site sites[VT_WATCH_SITES];
	int n_sites;
	int more_sites;
	int64_t start_ms, end_ms;
	/* counts per window */
	struct vt_watch_wsite wsites[VT_WATCH_SITES];
	int n_wsites;
	int more_wsites;
	int64_t newest_window_ms;
	int64_t k_min, k_max, epsilon_milli;	/* over the lines shown */
};

static struct vt_watch_site *vt_watch_site(struct vt_watch *w, const char *site)
{
	for (int i = 0; i < w->n_sites; i++)
		if (strcmp(w->sites[i].site, site) == 0)
			return &w->sites[i];
	if (w->n_sites == VT_WATCH_SITES) {
		w->more_sites = 1;
		return NULL;
	}
	snprintf(w->sites[w->n_sites].site, sizeof(w->sites[0].site), "%s", site);
	return &w->sites[w->n_sites++];
}

/* Rows of (site, minute index, a, b): add into the per-minute arrays. */
static int vt_watch_fill(sqlite3 *db, struct vt_watch *w, const char *sql, size_t off_a,
			 size_t off_b)
{
	sqlite3_stmt *s = NULL;
	int rc = vt_query_prepare(db, sql, w->start_ms, w->end_ms, &s);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vt_watch_site *ws = vt_watch_site(w, vt_query_text(s, 0));
		int64_t m = sqlite3_column_int64(s, 1);

		if (!ws || m < 0 || m >= VT_WATCH_MINUTES)
			continue;
		((int64_t *)((char *)ws + off_a))[m] += sqlite3_column_int64(s, 2);
		if (off_b)
			((int64_t *)((char *)ws + off_b))[m] += sqlite3_column_int64(s, 3);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "watch");
	sqlite3_finalize(s);
	return rc;
}

static int vt_watch_top(sqlite3 *db, struct vt_watch *w)
{
	sqlite3_stmt *s = NULL;
	int rc = vt_query_prepare(db, vt_query_has_column(db, "rfid", "reads") ? vt_watch_top_sql
									  : vt_watch_top_v3_sql,
				  w->start_ms, w->end_ms, &s);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vt_watch_site *ws = vt_watch_site(w, vt_query_text(s, 0));

		if (!ws || ws->n_top == VT_WATCH_TOP)
			continue;
		snprintf(ws->top[ws->n_top], sizeof(ws->top[0]), "%s", vt_query_text(s, 1));
		ws->top_reads[ws->n_top++] = sqlite3_column_int64(s, 2);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "watch");
	sqlite3_finalize(s);
	return rc;
}

static int vt_watch_collect_events(sqlite3 *db, struct vt_watch *w)
{
	int rc;

	rc = vt_watch_fill(db, w, vt_watch_footfall_sql, offsetof(struct vt_watch_site, in),
			   offsetof(struct vt_watch_site, out));
	if (rc == 0)
		rc = vt_watch_fill(db, w, vt_watch_tablet_sql,
				   offsetof(struct vt_watch_site, tablet), 0);
	if (rc == 0)
		rc = vt_watch_fill(db, w,
				   vt_query_has_column(db, "rfid", "reads") ? vt_watch_rfid_sql
									    : vt_watch_rfid_v3_sql,
				   offsetof(struct vt_watch_site, rfid), 0);
	if (rc == 0)
		rc = vt_watch_top(db, w);
	return rc;
}

static struct vt_watch_wsite *vt_watch_wsite(struct vt_watch *w, const char *site)
{
	for (int i = 0; i < w->n_wsites; i++)
		if (strcmp(w->wsites[i].site, site) == 0)
			return &w->wsites[i];
	if (w->n_wsites == VT_WATCH_SITES) {
		w->more_wsites = 1;
		return NULL;
	}
	snprintf(w->wsites[w->n_wsites].site, sizeof(w->wsites[0].site), "%s", site);
	return &w->wsites[w->n_wsites++];
}

static void vt_watch_window_row(struct vt_watch *w, sqlite3_stmt *s)
{
	struct vt_watch_wsite *ws = vt_watch_wsite(w, vt_query_text(s, VT_WATCH_COL_SITE));
	struct vt_watch_window *win;
	int64_t k_min = sqlite3_column_int64(s, VT_WATCH_COL_K_MIN);
	int64_t k_max = sqlite3_column_int64(s, VT_WATCH_COL_K_MAX);
	int64_t eps = sqlite3_column_int64(s, VT_WATCH_COL_EPSILON);

	if (!ws)
		return;
	if (ws->n_rows == VT_WATCH_WINDOW_ROWS) {
		ws->more_rows = 1;	/* the newest came first and are kept */
		return;
	}
	win = &ws->rows[ws->n_rows++];
	win->start_ms = sqlite3_column_int64(s, VT_WATCH_COL_START);
	win->length_s = sqlite3_column_int64(s, VT_WATCH_COL_LENGTH);
	for (int f = 0; f < VT_WATCH_FIGURES; f++)
		win->figure[f] = sqlite3_column_int64(s, VT_WATCH_COL_FIGURES + f);
	snprintf(win->top, sizeof(win->top), "%s", vt_query_text(s, VT_WATCH_COL_TOP));
	win->top_count = sqlite3_column_int64(s, VT_WATCH_COL_TOP_COUNT);
	win->top_is_lookup = sqlite3_column_int(s, VT_WATCH_COL_TOP_IS_LOOKUP);
	if (win->start_ms > w->newest_window_ms)
		w->newest_window_ms = win->start_ms;
	if (!w->k_min || k_min < w->k_min)
		w->k_min = k_min;
	if (k_max > w->k_max)
		w->k_max = k_max;
	if (eps > w->epsilon_milli)
		w->epsilon_milli = eps;
}

static int vt_watch_collect_windows(sqlite3 *db, struct vt_watch *w)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* A version 2 database not yet upgraded by 'run' has no window counts. */
	if (!vt_query_has_table(db, "windows"))
		return 0;
	rc = vt_query_prepare(db, vt_watch_windows_sql, 0, 0, &s);
	if (rc < 0)
		return rc;
	sqlite3_bind_int(s, 1, VT_WATCH_WINDOWS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		vt_watch_window_row(w, s);
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "watch: window counts");
	sqlite3_finalize(s);
	return rc;
}

static void vt_watch_counters(sqlite3 *db, FILE *out)
{
	const int dup = VT_STORE_REJECTED + VT_AGG_DUPLICATE;
	int64_t rejected = 0;
	char detail[512] = "";
	size_t used = 0;

	for (int i = VT_STORE_REJECTED + 1; i < VT_STORE_COUNTERS; i++) {
		const char *name = vt_store_counter_name(i);
		int64_t v = vt_query_counter(db, name);

		if (i == dup)
			continue;	/* normal after a resend: shown on its own */
		rejected += v;
		if (!v || used > sizeof(detail) - 48)
			continue;
		used += (size_t)snprintf(detail + used, sizeof(detail) - used, "%s%s %lld",
					 used ? ", " : " (", name + strlen("rejected_"),
					 (long long)v);
	}
	if (used)
		snprintf(detail + used, sizeof(detail) - used, ")");
	fprintf(out, "frames accepted %lld, rejected %lld%s, duplicates %lld; readings stored %lld\n",
		(long long)vt_query_counter(db, "frames_ok"), (long long)rejected, detail,
		(long long)vt_query_counter(db, vt_store_counter_name(dup)),
		(long long)vt_query_counter(db, "readings_ok"));
}

/* "HH:MM", or with date "YYYY-MM-DD HH:MM[:SS]", UTC. */
static void vt_watch_time(int64_t ms, const char *fmt, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, fmt, &tm))
		snprintf(buf, len, "%lld", (long long)ms);
}

static void vt_watch_print_window(FILE *out, const struct vt_watch_window *win)
{
	char start[32], length[24], top[64];

	vt_watch_time(win->start_ms, "%H:%M", start, sizeof(start));
	if (win->length_s % 60 == 0)
		snprintf(length, sizeof(length), "%lld min", (long long)(win->length_s / 60));
	else
		snprintf(length, sizeof(length), "%lld s", (long long)win->length_s);
	if (win->top[0])
		snprintf(top, sizeof(top), "%s (%lld %s)", win->top, (long long)win->top_count,
			 win->top_is_lookup ? "lookups" : "present");
	else
		snprintf(top, sizeof(top), "-");
	fprintf(out, "  %-5s %8s %6lld %6lld %8lld %8lld %8lld %8lld  %s\n", start, length,
		(long long)win->figure[VT_WATCH_IN], (long long)win->figure[VT_WATCH_OUT],
		(long long)win->figure[VT_WATCH_SESSIONS], (long long)win->figure[VT_WATCH_SCREENS],
		(long long)win->figure[VT_WATCH_LOOKUPS], (long long)win->figure[VT_WATCH_PRESENCE],
		top);
}

static void vt_watch_print_windows(FILE *out, const struct vt_watch *w)
{
	fprintf(out, "\ncounts per window (anonymous mode): the %d newest window starts, UTC\n",
		VT_WATCH_WINDOWS);
	for (int i = 0; i < w->n_wsites; i++) {
		const struct vt_watch_wsite *ws = &w->wsites[i];

		fprintf(out, "\nsite %s\n  %-5s %8s %6s %6s %8s %8s %8s %8s  %s\n", ws->site,
			"start", "length", "in", "out", "sessions", "screens", "lookups",
			"present", "top product");
		for (int r = ws->n_rows - 1; r >= 0; r--)	/* oldest first */
			vt_watch_print_window(out, &ws->rows[r]);
		if (ws->more_rows)
			fprintf(out, "  (older windows of this site not shown)\n");
	}
	if (w->more_wsites)
		fprintf(out, "\n(more than %d sites: the others are not shown)\n",
			VT_WATCH_SITES);
	/* Anonymous mode is lossy on purpose: say how, so a 0 is not read as
	 * "nobody came". */
	fputc('\n', out);
	if (w->k_min == w->k_max)
		fprintf(out, "counts below k=%lld", (long long)w->k_min);
	else
		fprintf(out, "counts below k (%lld to %lld)", (long long)w->k_min,
			(long long)w->k_max);
	fprintf(out, " are merged into 'other' counts (included above) or withheld: small figures are absent\n");
	if (w->epsilon_milli > 0)
		fprintf(out, "counts carry random noise (epsilon up to %lld.%03lld)\n",
			(long long)(w->epsilon_milli / 1000), (long long)(w->epsilon_milli % 1000));
	fprintf(out, "present: RFID items seen, once per item and 5-minute slot; top product by lookups, else by presence\n");
}

static void vt_watch_print_site(FILE *out, const struct vt_watch *w, const struct vt_watch_site *ws)
{
	fprintf(out, "\nsite %s\n  %-12s %6s %6s %8s %8s\n", ws->site, "minute (UTC)", "in", "out",
		"tablet", "rfid");
	for (int m = 0; m < VT_WATCH_MINUTES; m++) {
		char label[32];

		vt_watch_time(w->start_ms + m * VT_WATCH_MINUTE_MS, "%H:%M", label, sizeof(label));
		fprintf(out, "  %-12s %6lld %6lld %8lld %8lld\n", label, (long long)ws->in[m],
			(long long)ws->out[m], (long long)ws->tablet[m], (long long)ws->rfid[m]);
	}
	fprintf(out, "  top products by RFID reads, last %d min:", VT_WATCH_MINUTES);
	if (!ws->n_top)
		fprintf(out, " -");
	for (int i = 0; i < ws->n_top; i++)
		fprintf(out, "%s %s %lld", i ? "," : "", ws->top[i], (long long)ws->top_reads[i]);
	fputc('\n', out);
}

static void vt_watch_print_events(FILE *out, const struct vt_watch *w)
{
	fprintf(out, "\nevents (pseudonymous mode): per minute, the %d minutes up to the newest\n",
		VT_WATCH_MINUTES);
	for (int i = 0; i < w->n_sites; i++)
		vt_watch_print_site(out, w, &w->sites[i]);
	if (w->more_sites)
		fprintf(out, "\n(more than %d sites: the others are not shown)\n",
			VT_WATCH_SITES);
}

/* The first line: which mode the figures come from, and how recent. */
static void vt_watch_print_header(FILE *out, const struct vt_watch *w, int64_t now_ms)
{
	char newest[32], upto[32];

	vt_watch_time(w->newest_window_ms, "%Y-%m-%d %H:%M", newest, sizeof(newest));
	vt_watch_time(now_ms, "%Y-%m-%d %H:%M:%S", upto, sizeof(upto));
	fputs("vitrine-aggregator watch: ", out);
	if (!w->n_wsites && !w->n_sites)
		fprintf(out, "no data to show at %s UTC", upto);
	if (w->n_wsites)
		fprintf(out, "counts per window, anonymous mode, newest window %s UTC", newest);
	if (w->n_wsites && w->n_sites)
		fputs("; ", out);
	if (w->n_sites)
		fprintf(out, "events, data up to %s UTC", upto);
	fputc('\n', out);
}

int64_t vt_watch_latest_ms(sqlite3 *db)
{
	sqlite3_stmt *s;
	int64_t latest = 0;

	if (sqlite3_prepare_v2(db, vt_watch_latest_sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		latest = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return latest;
}

int vt_watch_once(sqlite3 *db, FILE *out, int64_t now_ms, int clear)
{
	struct vt_watch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return -ENOMEM;
	w->end_ms = (now_ms / VT_WATCH_MINUTE_MS + 1) * VT_WATCH_MINUTE_MS;
	w->start_ms = w->end_ms - VT_WATCH_MINUTES * VT_WATCH_MINUTE_MS;
	rc = vt_watch_collect_windows(db, w);
	if (rc == 0)
		rc = vt_watch_collect_events(db, w);
	if (rc < 0)
		goto out_free;
	if (clear)
		fputs(VT_WATCH_CLEAR, out);
	vt_watch_print_header(out, w, now_ms);
	vt_watch_counters(db, out);
	if (w->n_wsites)
		vt_watch_print_windows(out, w);
	if (w->n_sites)
		vt_watch_print_events(out, w);
	if (!w->n_wsites && !w->n_sites)
		fprintf(out, "\n(no window counts stored: devices in anonymous mode send theirs as each window\n"
			" closes, every privacy_window_s; no events in the last %d minutes)\n",
			VT_WATCH_MINUTES);
	fflush(out);
out_free:
	free(w);
	return rc;
}
