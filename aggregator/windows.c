/*
 * windows.c - the summed window counts of anonymous-mode devices
 * (windows.h).
 *
 * SQL groups the parts of each cell and adds their counts (each part is
 * stored once: store.c skips a copy sent again after a crash, so every row
 * counts); C only lays the rows out, as a table or as JSON lines. Nothing here writes to the
 * database, and nothing here knows what a metric means: that is
 * readings.proto's and docs/PRIVACY.md's business.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "json.h"
#include "query.h"
#include "windows.h"

/* The group key of a cell, in the order of the output. */
#define VT_WINDOWS_KEY "site, device, time_ms, length_s, metric, dim1, dim2, label, other"

static const char vt_windows_sql[] =
	"SELECT " VT_WINDOWS_KEY ", sum(count), count(*), min(k), max(epsilon_milli)"
	" FROM windows WHERE ?1 IS NULL OR device = ?1"
	" GROUP BY " VT_WINDOWS_KEY " ORDER BY " VT_WINDOWS_KEY;

enum vt_windows_col {
	VT_WCOL_SITE,
	VT_WCOL_DEVICE,
	VT_WCOL_START,
	VT_WCOL_LENGTH,
	VT_WCOL_METRIC,
	VT_WCOL_DIM1,
	VT_WCOL_DIM2,
	VT_WCOL_LABEL,
	VT_WCOL_OTHER,
	VT_WCOL_COUNT,
	VT_WCOL_PARTS,
	VT_WCOL_K,
	VT_WCOL_EPSILON,
};

static long long vt_windows_int(sqlite3_stmt *s, int col)
{
	return (long long)sqlite3_column_int64(s, col);
}

/* "2024-05-01 10:00:00" (sep ' ') or "2024-05-01T10:00:00Z" (sep 'T'), UTC;
 * milliseconds only when there are some. A time gmtime cannot show stays a
 * number of ms. */
static void vt_windows_time(int64_t ms, char sep, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (ms < 0 || !gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900) {
		snprintf(buf, len, "%lld", (long long)ms);
		return;
	}
	n = strftime(buf, len, sep == 'T' ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (ms % 1000)
		n += (size_t)snprintf(buf + n, len - n, ".%03d", (int)(ms % 1000));
	if (sep == 'T')
		snprintf(buf + n, len - n, "Z");
}

static void vt_windows_print_json(FILE *out, sqlite3_stmt *s)
{
	char start[40];

	vt_windows_time(sqlite3_column_int64(s, VT_WCOL_START), 'T', start, sizeof(start));
	fputs("{\"site\":", out);
	vt_json_str(out, vt_query_text(s, VT_WCOL_SITE));
	fputs(",\"device\":", out);
	vt_json_str(out, vt_query_text(s, VT_WCOL_DEVICE));
	fprintf(out, ",\"start_ms\":%lld,\"start\":\"%s\",\"length_s\":%lld,\"metric\":",
		vt_windows_int(s, VT_WCOL_START), start, vt_windows_int(s, VT_WCOL_LENGTH));
	vt_json_str(out, vt_query_text(s, VT_WCOL_METRIC));
	fprintf(out, ",\"dim1\":%lld,\"dim2\":%lld,\"label\":", vt_windows_int(s, VT_WCOL_DIM1),
		vt_windows_int(s, VT_WCOL_DIM2));
	vt_json_str(out, vt_query_text(s, VT_WCOL_LABEL));
	fprintf(out,
		",\"other\":%s,\"count\":%lld,\"parts\":%lld,\"k\":%lld,\"epsilon_milli\":%lld}\n",
		vt_windows_int(s, VT_WCOL_OTHER) ? "true" : "false",
		vt_windows_int(s, VT_WCOL_COUNT), vt_windows_int(s, VT_WCOL_PARTS),
		vt_windows_int(s, VT_WCOL_K), vt_windows_int(s, VT_WCOL_EPSILON));
}

#define VT_WINDOWS_ROW "%-24s %-20s %-19s %6s %-20s %5s %5s %-14s %5s %10s %5s %4s %7s\n"

static void vt_windows_print_header(FILE *out)
{
	fprintf(out, VT_WINDOWS_ROW, "site", "device", "start (UTC)", "length", "metric", "dim1",
		"dim2", "label", "other", "count", "parts", "k", "epsilon");
}

static void vt_windows_print_text(FILE *out, sqlite3_stmt *s)
{
	char start[40], length[24], dim1[24], dim2[24], count[24], parts[24], k[24], eps[32];
	long long e = vt_windows_int(s, VT_WCOL_EPSILON);
	const char *label = vt_query_text(s, VT_WCOL_LABEL);

	vt_windows_time(sqlite3_column_int64(s, VT_WCOL_START), ' ', start, sizeof(start));
	snprintf(length, sizeof(length), "%lld", vt_windows_int(s, VT_WCOL_LENGTH));
	snprintf(dim1, sizeof(dim1), "%lld", vt_windows_int(s, VT_WCOL_DIM1));
	snprintf(dim2, sizeof(dim2), "%lld", vt_windows_int(s, VT_WCOL_DIM2));
	snprintf(count, sizeof(count), "%lld", vt_windows_int(s, VT_WCOL_COUNT));
	snprintf(parts, sizeof(parts), "%lld", vt_windows_int(s, VT_WCOL_PARTS));
	snprintf(k, sizeof(k), "%lld", vt_windows_int(s, VT_WCOL_K));
	/* epsilon_milli 0: no noise added. */
	if (e > 0)
		snprintf(eps, sizeof(eps), "%lld.%03lld", e / 1000, e % 1000);
	else
		snprintf(eps, sizeof(eps), "-");
	fprintf(out, VT_WINDOWS_ROW, vt_query_text(s, VT_WCOL_SITE),
		vt_query_text(s, VT_WCOL_DEVICE), start, length, vt_query_text(s, VT_WCOL_METRIC),
		dim1, dim2, label[0] ? label : "-", vt_windows_int(s, VT_WCOL_OTHER) ? "yes" : "no",
		count, parts, k, eps);
}

int vt_windows_report(sqlite3 *db, FILE *out, const char *device, int json)
{
	sqlite3_stmt *s = NULL;
	long long rows = 0;
	int rc = SQLITE_DONE;

	if (!json)
		vt_windows_print_header(out);
	if (vt_query_has_table(db, "windows")) {
		if (sqlite3_prepare_v2(db, vt_windows_sql, -1, &s, NULL) != SQLITE_OK)
			return vt_query_db_error(db, "windows: query");
		if (device)
			sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			if (json)
				vt_windows_print_json(out, s);
			else
				vt_windows_print_text(out, s);
			rows++;
		}
	}
	/* sum() fails with "integer overflow" beyond 2^63 - 1. */
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "windows: reading the windows table");
	sqlite3_finalize(s);
	if (rc == 0 && rows == 0 && !json)
		fprintf(out, "(no window counts stored%s%s)\n", device ? " from device " : "",
			device ? device : "");
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}
