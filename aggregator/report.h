/*
 * report.h - what the operator reads out of the database: the CSV export
 * of every reading and the counters (the key figures are kpi.h's, the live
 * view watch.h's, the window counts windows.h's, the sequence gaps
 * gaps.h's).
 *
 * All of these only read (the database is opened read-only by the caller,
 * so they can run next to "vitrine-aggregator run"). Times are UTC.
 */
#ifndef VT_AGG_REPORT_H
#define VT_AGG_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/* Every stored reading (window cells included) as one CSV line
 * (docs/AGGREGATOR.md), sorted in byte order, no header. */
int vt_report_export(sqlite3 *db, FILE *out);

/* The counters table, every known counter listed (0 when never counted),
 * then each device's acknowledgment watermark (acks table). */
int vt_report_stats(sqlite3 *db, FILE *out);

/* Parse an ISO 8601 UTC date ("2024-05-01", "2024-05-01T10:00",
 * "2024-05-01T10:00:30Z"; a space may replace the T). A date alone used as
 * an upper bound (end_of_day) means the end of that day. 0 or -EINVAL. */
int vt_report_parse_time(const char *s, int end_of_day, int64_t *ms);

#endif
