/*
 * report.h - what the operator reads out of the database: the hourly report,
 * the live "watch" screen, the CSV export and the counters.
 *
 * All of these only read (the database is opened read-only by the caller,
 * so they can run next to "vitrine-aggregator run"). Times are UTC.
 */
#ifndef VT_AGG_REPORT_H
#define VT_AGG_REPORT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/* Per site and hour in [since_ms, until_ms): footfall in and out, tablet
 * events, sessions started, RFID reads, distinct tags, top product. */
int vt_report_hourly(sqlite3 *db, FILE *out, int64_t since_ms, int64_t until_ms);

/* Every stored reading as one CSV line (docs/AGGREGATOR.md), sorted in
 * byte order, no header. */
int vt_report_export(sqlite3 *db, FILE *out);

/* The counters table, every known counter listed (0 when never counted),
 * then each device's acknowledgment watermark (acks table). */
int vt_report_stats(sqlite3 *db, FILE *out);

/* One screen of the live view at now_ms: per site and minute of the last
 * 10 minutes, footfall, tablet events and RFID reads, the top 5 products by
 * RFID reads, and the frame counters (duplicates apart from rejections).
 * clear: start with an ANSI clear. */
int vt_report_watch_once(sqlite3 *db, FILE *out, int64_t now_ms, int clear);

/* Time (UTC ms) of the newest stored reading of any kind, or 0 if none. */
int64_t vt_report_latest_ms(sqlite3 *db);

/* Parse an ISO 8601 UTC date ("2024-05-01", "2024-05-01T10:00",
 * "2024-05-01T10:00:30Z"; a space may replace the T). A date alone used as
 * an upper bound (end_of_day) means the end of that day. 0 or -EINVAL. */
int vt_report_parse_time(const char *s, int end_of_day, int64_t *ms);

#endif
