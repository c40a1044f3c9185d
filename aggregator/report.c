/*
 * report.c - read-only views of the aggregator's database (report.h).
 *
 * The SQL does the grouping (indexes on (site, time_ms) keep the hourly and
 * per-minute queries cheap); C only lays the numbers out. Nothing here
 * writes to the database.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "report.h"
#include "store.h"

#define VT_REPORT_HOUR_MS 3600000LL
#define VT_REPORT_MINUTE_MS 60000LL
#define VT_REPORT_WATCH_MINUTES 10
#define VT_REPORT_WATCH_SITES 32
#define VT_REPORT_TOP 5

static int vt_report_db_error(sqlite3 *db, const char *what)
{
	fprintf(stderr, "vitrine-aggregator: %s: %s\n", what, sqlite3_errmsg(db));
	return -VT_EDB;
}

/* Prepare sql and bind ?1 and ?2 to a and b. */
static int vt_report_prepare(sqlite3 *db, const char *sql, int64_t a, int64_t b,
			     sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
		return vt_report_db_error(db, "query");
	if (sqlite3_bind_parameter_count(*s) >= 2) {
		sqlite3_bind_int64(*s, 1, a);
		sqlite3_bind_int64(*s, 2, b);
	}
	return 0;
}

static const char *vt_report_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

/* ---- hourly report ------------------------------------------------------------ */

#define VT_REPORT_IN_HOUR(t) \
	" " t ".site = h.site AND " t ".time_ms >= h.hr * 3600000 AND " t ".time_ms < (h.hr + 1) * 3600000" \
	" AND " t ".time_ms >= ?1 AND " t ".time_ms < ?2"

static const char vt_report_hourly_sql[] =
	"WITH h(site, hr) AS ("
	" SELECT site, time_ms / 3600000 FROM footfall WHERE time_ms >= ?1 AND time_ms < ?2"
	" UNION SELECT site, time_ms / 3600000 FROM tablet WHERE time_ms >= ?1 AND time_ms < ?2"
	" UNION SELECT site, time_ms / 3600000 FROM rfid WHERE time_ms >= ?1 AND time_ms < ?2)"
	" SELECT h.site, strftime('%Y-%m-%d %H:00', h.hr * 3600, 'unixepoch'),"
	" (SELECT coalesce(sum(f.count), 0) FROM footfall f WHERE" VT_REPORT_IN_HOUR("f")
	"  AND f.direction = 'in'),"
	" (SELECT coalesce(sum(f.count), 0) FROM footfall f WHERE" VT_REPORT_IN_HOUR("f")
	"  AND f.direction = 'out'),"
	" (SELECT count(*) FROM tablet t WHERE" VT_REPORT_IN_HOUR("t") "),"
	" (SELECT count(*) FROM tablet t WHERE" VT_REPORT_IN_HOUR("t")
	"  AND t.event = 'session_start'),"
	" (SELECT count(*) FROM rfid r WHERE" VT_REPORT_IN_HOUR("r") "),"
	" (SELECT count(DISTINCT r.tag_digest) FROM rfid r WHERE" VT_REPORT_IN_HOUR("r") "),"
	" (SELECT r.gtin || ' (' || count(*) || ')' FROM rfid r WHERE" VT_REPORT_IN_HOUR("r")
	"  AND r.gtin <> '' GROUP BY r.gtin ORDER BY count(*) DESC, r.gtin LIMIT 1)"
	" FROM h ORDER BY h.site, h.hr";

int vt_report_hourly(sqlite3 *db, FILE *out, int64_t since_ms, int64_t until_ms)
{
	sqlite3_stmt *s = NULL;
	int rc, rows = 0;

	rc = vt_report_prepare(db, vt_report_hourly_sql, since_ms, until_ms, &s);
	if (rc < 0)
		return rc;
	fprintf(out, "%-24s %-16s %7s %7s %7s %8s %7s %7s  %s\n", "site", "hour (UTC)", "in",
		"out", "tablet", "sessions", "rfid", "tags", "top product (rfid reads)");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fprintf(out, "%-24s %-16s %7lld %7lld %7lld %8lld %7lld %7lld  %s\n",
			vt_report_text(s, 0), vt_report_text(s, 1),
			(long long)sqlite3_column_int64(s, 2), (long long)sqlite3_column_int64(s, 3),
			(long long)sqlite3_column_int64(s, 4), (long long)sqlite3_column_int64(s, 5),
			(long long)sqlite3_column_int64(s, 6), (long long)sqlite3_column_int64(s, 7),
			sqlite3_column_type(s, 8) == SQLITE_NULL ? "-" : vt_report_text(s, 8));
		rows++;
	}
	if (rc != SQLITE_DONE)
		rc = vt_report_db_error(db, "report");
	else
		rc = 0;
	if (rc == 0 && rows == 0)
		fprintf(out, "(no readings in this period)\n");
	sqlite3_finalize(s);
	return rc;
}

/* ---- export ----------------------------------------------------------------------- */

static const char vt_report_export_sql[] =
	"SELECT 'footfall,' || site || ',' || device || ',' || time_ms || ',' || door || ','"
	" || direction || ',' || count FROM footfall"
	" UNION ALL SELECT 'tablet,' || site || ',' || device || ',' || time_ms || ',' || kiosk"
	" || ',' || event || ',' || lower(hex(session_digest)) || ',' || screen || ',' || gtin"
	" || ',' || duration_ms FROM tablet"
	" UNION ALL SELECT 'rfid,' || site || ',' || device || ',' || time_ms || ',' || reader"
	" || ',' || antenna || ',' || rssi_cdbm || ',' || gtin || ',' || filter || ','"
	" || lower(hex(tag_digest)) FROM rfid"
	/* BINARY collation compares bytes: the same order as LC_ALL=C sort. */
	" ORDER BY 1";

int vt_report_export(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = vt_report_prepare(db, vt_report_export_sql, 0, 0, &s);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fputs(vt_report_text(s, 0), out);
		fputc('\n', out);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_report_db_error(db, "export");
	sqlite3_finalize(s);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}

/* ---- counters ---------------------------------------------------------------------- */

static int64_t vt_report_counter(sqlite3 *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT value FROM counters WHERE name = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int vt_report_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(s) == SQLITE_ROW;
	}
	sqlite3_finalize(s);
	return found;
}

/* Each device's acknowledgment watermark (none before schema version 2). */
static int vt_report_acks(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!vt_report_has_table(db, "acks"))
		return 0;
	rc = vt_report_prepare(db, "SELECT device, seq, site FROM acks ORDER BY device", 0, 0, &s);
	if (rc < 0)
		return rc;
	fprintf(out, "\n%-28s %14s  %s\n", "device", "acked up to", "site");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fprintf(out, "%-28s %14lld  %s\n", vt_report_text(s, 0),
			(long long)sqlite3_column_int64(s, 1), vt_report_text(s, 2));
	rc = rc == SQLITE_DONE ? 0 : vt_report_db_error(db, "stats");
	sqlite3_finalize(s);
	return rc;
}

int vt_report_stats(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	fprintf(out, "%-28s %14s\n", "counter", "value");
	for (int i = 0; i < VT_STORE_COUNTERS; i++) {
		if (i == VT_STORE_REJECTED)
			continue;	/* "rejected_ok" is not a counter */
		fprintf(out, "%-28s %14lld\n", vt_store_counter_name(i),
			(long long)vt_report_counter(db, vt_store_counter_name(i)));
	}
	/* Counters written by a newer aggregator, if any. */
	rc = vt_report_prepare(db, "SELECT name, value FROM counters ORDER BY name", 0, 0, &s);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = vt_report_text(s, 0);
		int known = 0;

		for (int i = 0; i < VT_STORE_COUNTERS && !known; i++)
			known = strcmp(name, vt_store_counter_name(i)) == 0;
		if (!known)
			fprintf(out, "%-28s %14lld\n", name, (long long)sqlite3_column_int64(s, 1));
	}
	rc = rc == SQLITE_DONE ? 0 : vt_report_db_error(db, "stats");
	sqlite3_finalize(s);
	if (rc == 0)
		rc = vt_report_acks(db, out);
	return rc;
}

/* ---- watch --------------------------------------------------------------------------- */

struct vt_watch_site {
	char site[VT_FRAME_DEVICE_MAX + 1];
	int64_t in[VT_REPORT_WATCH_MINUTES], out[VT_REPORT_WATCH_MINUTES];
	int64_t tablet[VT_REPORT_WATCH_MINUTES], rfid[VT_REPORT_WATCH_MINUTES];
	char top[VT_REPORT_TOP][VT_AGG_MAX_FIELD + 1];
	int64_t top_reads[VT_REPORT_TOP];
	int n_top;
};

struct vt_watch {
	struct vt_watch_site sites[VT_REPORT_WATCH_SITES];
	int n_sites;
	int more_sites;
	int64_t start_ms, end_ms;
};

static struct vt_watch_site *vt_watch_site(struct vt_watch *w, const char *site)
{
	for (int i = 0; i < w->n_sites; i++)
		if (strcmp(w->sites[i].site, site) == 0)
			return &w->sites[i];
	if (w->n_sites == VT_REPORT_WATCH_SITES) {
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
	int rc = vt_report_prepare(db, sql, w->start_ms, w->end_ms, &s);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vt_watch_site *ws = vt_watch_site(w, vt_report_text(s, 0));
		int64_t m = sqlite3_column_int64(s, 1);

		if (!ws || m < 0 || m >= VT_REPORT_WATCH_MINUTES)
			continue;
		((int64_t *)((char *)ws + off_a))[m] += sqlite3_column_int64(s, 2);
		if (off_b)
			((int64_t *)((char *)ws + off_b))[m] += sqlite3_column_int64(s, 3);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_report_db_error(db, "watch");
	sqlite3_finalize(s);
	return rc;
}

static int vt_watch_top(sqlite3 *db, struct vt_watch *w)
{
	sqlite3_stmt *s = NULL;
	int rc = vt_report_prepare(db,
				   "SELECT site, gtin, count(*) AS n FROM rfid WHERE time_ms >= ?1"
				   " AND time_ms < ?2 AND gtin <> '' GROUP BY site, gtin"
				   " ORDER BY site, n DESC, gtin",
				   w->start_ms, w->end_ms, &s);

	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vt_watch_site *ws = vt_watch_site(w, vt_report_text(s, 0));

		if (!ws || ws->n_top == VT_REPORT_TOP)
			continue;
		snprintf(ws->top[ws->n_top], sizeof(ws->top[0]), "%s", vt_report_text(s, 1));
		ws->top_reads[ws->n_top++] = sqlite3_column_int64(s, 2);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_report_db_error(db, "watch");
	sqlite3_finalize(s);
	return rc;
}

static int vt_watch_collect(sqlite3 *db, struct vt_watch *w)
{
	int rc;

	rc = vt_watch_fill(db, w,
			   "SELECT site, (time_ms - ?1) / 60000,"
			   " sum(CASE direction WHEN 'in' THEN count ELSE 0 END),"
			   " sum(CASE direction WHEN 'out' THEN count ELSE 0 END)"
			   " FROM footfall WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2",
			   offsetof(struct vt_watch_site, in), offsetof(struct vt_watch_site, out));
	if (rc == 0)
		rc = vt_watch_fill(db, w,
				   "SELECT site, (time_ms - ?1) / 60000, count(*) FROM tablet"
				   " WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2",
				   offsetof(struct vt_watch_site, tablet), 0);
	if (rc == 0)
		rc = vt_watch_fill(db, w,
				   "SELECT site, (time_ms - ?1) / 60000, count(*) FROM rfid"
				   " WHERE time_ms >= ?1 AND time_ms < ?2 GROUP BY 1, 2",
				   offsetof(struct vt_watch_site, rfid), 0);
	if (rc == 0)
		rc = vt_watch_top(db, w);
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
		int64_t v = vt_report_counter(db, name);

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
		(long long)vt_report_counter(db, "frames_ok"), (long long)rejected, detail,
		(long long)vt_report_counter(db, vt_store_counter_name(dup)),
		(long long)vt_report_counter(db, "readings_ok"));
}

static void vt_watch_print_site(FILE *out, const struct vt_watch *w, const struct vt_watch_site *ws)
{
	fprintf(out, "\nsite %s\n  %-12s %6s %6s %8s %8s\n", ws->site, "minute (UTC)", "in", "out",
		"tablet", "rfid");
	for (int m = 0; m < VT_REPORT_WATCH_MINUTES; m++) {
		time_t t = (time_t)((w->start_ms + m * VT_REPORT_MINUTE_MS) / 1000);
		struct tm tm;
		char label[16];

		gmtime_r(&t, &tm);
		strftime(label, sizeof(label), "%H:%M", &tm);
		fprintf(out, "  %-12s %6lld %6lld %8lld %8lld\n", label, (long long)ws->in[m],
			(long long)ws->out[m], (long long)ws->tablet[m], (long long)ws->rfid[m]);
	}
	fprintf(out, "  top products by RFID reads, last %d min:", VT_REPORT_WATCH_MINUTES);
	if (!ws->n_top)
		fprintf(out, " -");
	for (int i = 0; i < ws->n_top; i++)
		fprintf(out, "%s %s %lld", i ? "," : "", ws->top[i], (long long)ws->top_reads[i]);
	fputc('\n', out);
}

int64_t vt_report_latest_ms(sqlite3 *db)
{
	static const char sql[] =
		"SELECT max(t) FROM (SELECT max(time_ms) AS t FROM footfall"
		" UNION ALL SELECT max(time_ms) FROM tablet UNION ALL SELECT max(time_ms) FROM rfid)";
	sqlite3_stmt *s;
	int64_t latest = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		latest = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return latest;
}

int vt_report_watch_once(sqlite3 *db, FILE *out, int64_t now_ms, int clear)
{
	struct vt_watch *w = calloc(1, sizeof(*w));
	char stamp[32];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	int rc;

	if (!w)
		return -ENOMEM;
	w->end_ms = (now_ms / VT_REPORT_MINUTE_MS + 1) * VT_REPORT_MINUTE_MS;
	w->start_ms = w->end_ms - VT_REPORT_WATCH_MINUTES * VT_REPORT_MINUTE_MS;
	rc = vt_watch_collect(db, w);
	if (rc < 0)
		goto out_free;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	if (clear)
		fputs("\033[H\033[2J", out);
	fprintf(out, "vitrine-aggregator watch: data up to %s UTC\n", stamp);
	vt_watch_counters(db, out);
	if (!w->n_sites)
		fprintf(out, "\n(no readings in the last %d minutes)\n", VT_REPORT_WATCH_MINUTES);
	for (int i = 0; i < w->n_sites; i++)
		vt_watch_print_site(out, w, &w->sites[i]);
	if (w->more_sites)
		fprintf(out, "\n(more than %d sites: the others are not shown)\n",
			VT_REPORT_WATCH_SITES);
	fflush(out);
out_free:
	free(w);
	return rc;
}

/* ---- dates ------------------------------------------------------------------------------ */

int vt_report_parse_time(const char *s, int end_of_day, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -EINVAL;
	if (s[n] == 'T' || s[n] == ' ') {
		int m = 0;

		if (sscanf(s + n + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5)
			return -EINVAL;
		n += 1 + m;
		if (s[n] == ':') {
			if (sscanf(s + n + 1, "%2d%n", &sec, &m) != 1 || m != 2)
				return -EINVAL;
			n += 1 + m;
		}
		end_of_day = 0;
	}
	if (s[n] == 'Z')
		n++;
	if (s[n] != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)	/* 2024-02-30 */
		return -EINVAL;
	*ms = (int64_t)t * 1000 + (end_of_day ? 86400000 : 0);
	return 0;
}
