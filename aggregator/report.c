/*
 * report.c - the operator's read-only views of the aggregator's database
 * (report.h): the CSV export of every reading, the counters, and the
 * parsing of the dates the commands take.
 *
 * SQL does the work; C only lays the lines out. Nothing here writes to the
 * database. The key figures are kpi.c's, the live view watch.c's, the
 * window counts windows.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "query.h"
#include "report.h"
#include "store.h"

/* ---- export ----------------------------------------------------------------------- */

/* Each reading's line; %s is where a line still flagged clock_unsynced
 * ends in ",unsynced" (VT_REPORT_FLAG: version 5 on) or nothing (older). */
#define VT_REPORT_EXPORT_EVENTS \
	"SELECT 'footfall,' || site || ',' || device || ',' || time_ms || ',' || door || ','" \
	" || direction || ',' || count%s FROM footfall" \
	" UNION ALL SELECT 'tablet,' || site || ',' || device || ',' || time_ms || ',' || kiosk" \
	" || ',' || event || ',' || lower(hex(session_digest)) || ',' || screen || ',' || gtin" \
	" || ',' || duration_ms%s FROM tablet" \
	" UNION ALL SELECT 'rfid,' || site || ',' || device || ',' || time_ms || ',' || reader" \
	" || ',' || antenna || ',' || rssi_cdbm || ',' || gtin || ',' || filter || ','" \
	" || lower(hex(tag_digest)) || ',' || %s%s FROM rfid"
/* Version 4's presence columns; a database not upgraded yet has none. */
#define VT_REPORT_EXPORT_PRESENCE "reads || ',' || dwell_ms"
#define VT_REPORT_EXPORT_NO_PRESENCE "'0,0'"
/* The same line as the agent's tap (vt_reading_write_csv()). */
#define VT_REPORT_EXPORT_WINDOWS \
	" UNION ALL SELECT 'window,' || site || ',' || device || ',' || time_ms || ','" \
	" || length_s || ',' || metric || ',' || dim1 || ',' || dim2 || ',' || label || ','" \
	" || other || ',' || count || ',' || k || ',' || epsilon_milli%s FROM windows"
#define VT_REPORT_FLAG " || CASE WHEN clock_unsynced THEN ',unsynced' ELSE '' END"
/* BINARY collation compares bytes: the same order as LC_ALL=C sort, with
 * the lines of every kind mixed. */
#define VT_REPORT_EXPORT_ORDER " ORDER BY 1"

int vt_report_export(sqlite3 *db, FILE *out)
{
	/* A version 2 database that 'run' has not upgraded yet has no
	 * windows table, and so no window cells; before version 4, rfid
	 * rows are single reads; before version 5, no reading is flagged. */
	char sql[sizeof(VT_REPORT_EXPORT_EVENTS VT_REPORT_EXPORT_PRESENCE VT_REPORT_EXPORT_WINDOWS
			VT_REPORT_EXPORT_ORDER) + 4 * sizeof(VT_REPORT_FLAG)];
	char windows[sizeof(VT_REPORT_EXPORT_WINDOWS) + sizeof(VT_REPORT_FLAG)] = "";
	const char *flag = vt_query_has_column(db, "footfall", "clock_unsynced") ? VT_REPORT_FLAG : "";
	sqlite3_stmt *s = NULL;
	int rc;

	if (vt_query_has_table(db, "windows"))
		snprintf(windows, sizeof(windows), VT_REPORT_EXPORT_WINDOWS, flag);
	snprintf(sql, sizeof(sql), VT_REPORT_EXPORT_EVENTS "%s" VT_REPORT_EXPORT_ORDER, flag, flag,
		 vt_query_has_column(db, "rfid", "dwell_ms") ? VT_REPORT_EXPORT_PRESENCE
							     : VT_REPORT_EXPORT_NO_PRESENCE,
		 flag, windows);
	rc = vt_query_prepare(db, sql, 0, 0, &s);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fputs(vt_query_text(s, 0), out);
		fputc('\n', out);
	}
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "export");
	sqlite3_finalize(s);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}

/* ---- counters ---------------------------------------------------------------------- */

/* Each device's acknowledgment watermark (none before schema version 2). */
static int vt_report_acks(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (!vt_query_has_table(db, "acks"))
		return 0;
	rc = vt_query_prepare(db, "SELECT device, seq, site FROM acks ORDER BY device", 0, 0, &s);
	if (rc < 0)
		return rc;
	fprintf(out, "\n%-28s %14s  %s\n", "device", "acked up to", "site");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fprintf(out, "%-28s %14lld  %s\n", vt_query_text(s, 0),
			(long long)sqlite3_column_int64(s, 1), vt_query_text(s, 2));
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "stats");
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
			(long long)vt_query_counter(db, vt_store_counter_name(i)));
	}
	/* Counters written by a newer aggregator, if any. */
	rc = vt_query_prepare(db, "SELECT name, value FROM counters ORDER BY name", 0, 0, &s);
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = vt_query_text(s, 0);
		int known = 0;

		for (int i = 0; i < VT_STORE_COUNTERS && !known; i++)
			known = strcmp(name, vt_store_counter_name(i)) == 0;
		if (!known)
			fprintf(out, "%-28s %14lld\n", name, (long long)sqlite3_column_int64(s, 1));
	}
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "stats");
	sqlite3_finalize(s);
	if (rc == 0)
		rc = vt_report_acks(db, out);
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
