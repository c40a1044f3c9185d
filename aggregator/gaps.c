/*
 * gaps.c - the missing sequence numbers of each device (gaps.h).
 *
 * A device's frames are read once, newest first, along the primary key
 * (device, seq): walking down, the highest floor_seq seen so far is the
 * "later floor" of the next gap, and each frame's prev_seq says where the
 * gap just below it ends. The ranges are collected in that descending order
 * and printed ascending. Nothing here writes to the database.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "gaps.h"
#include "json.h"
#include "query.h"
#include "store.h"

struct vt_gaps_dev {
	char device[VT_FRAME_DEVICE_MAX + 1];
	char site[VT_FRAME_DEVICE_MAX + 1];
	uint64_t first, last, stored, acked, missing;
	struct vt_gap *gaps;	/* descending while collected */
	size_t n, cap;
};

int vt_gaps_classify(uint64_t a, uint64_t b, uint64_t b_prev, uint64_t later_floor,
		     struct vt_gap out[3])
{
	uint64_t lo = a + 1, hi = b - 1;
	/* Missing is what is left in the middle: above the floor's reach,
	 * below where b's prev link says the device went on from. */
	uint64_t m_lo = later_floor > lo ? later_floor : lo;
	uint64_t m_hi = b_prev != 0 && b_prev < hi ? b_prev : hi;
	int n = 0;

	/* b_prev <= a (b follows a frame at or below a) leaves m_hi < lo:
	 * nothing in between was ever used. */
	if (m_lo > m_hi) {
		out[0] = (struct vt_gap){ lo, hi, VT_GAP_SKIPPED };
		return 1;
	}
	if (m_lo > lo)
		out[n++] = (struct vt_gap){ lo, m_lo - 1, VT_GAP_SKIPPED };
	out[n++] = (struct vt_gap){ m_lo, m_hi, VT_GAP_MISSING };
	if (m_hi < hi)
		out[n++] = (struct vt_gap){ m_hi + 1, hi, VT_GAP_SKIPPED };
	return n;
}

static int vt_gaps_push(struct vt_gaps_dev *d, const struct vt_gap *g)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct vt_gap *p = realloc(d->gaps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->gaps = p;
		d->cap = cap;
	}
	d->gaps[d->n++] = *g;
	if (g->kind == VT_GAP_MISSING)
		d->missing += g->to - g->from + 1;
	return 0;
}

/* The gaps below frame b (seq b, prev b_prev) down to frame a, pushed in
 * descending order. */
static int vt_gaps_between(struct vt_gaps_dev *d, uint64_t a, uint64_t b, uint64_t b_prev,
			   uint64_t later_floor)
{
	struct vt_gap g[3];
	int n;

	if (b <= a + 1)
		return 0;
	n = vt_gaps_classify(a, b, b_prev, later_floor, g);
	for (int i = n - 1; i >= 0; i--)
		if (vt_gaps_push(d, &g[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int vt_gaps_scan(sqlite3 *db, struct vt_gaps_dev *d)
{
	static const char sql[] =
		"SELECT seq, prev_seq, floor_seq, site FROM frames WHERE device = ?1"
		" AND seq >= 0 ORDER BY seq DESC";
	uint64_t b = 0, b_prev = 0, floor = 0;
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return vt_query_db_error(db, "gaps: query");
	sqlite3_bind_text(s, 1, d->device, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_int64 f = sqlite3_column_int64(s, 2);

		if (d->stored == 0) {
			d->last = seq;
			snprintf(d->site, sizeof(d->site), "%s", vt_query_text(s, 3));
		} else if (vt_gaps_between(d, seq, b, b_prev, floor) < 0) {
			sqlite3_finalize(s);
			return -ENOMEM;
		}
		if (f > 0 && (uint64_t)f > floor)
			floor = (uint64_t)f;
		b = seq;
		b_prev = (uint64_t)sqlite3_column_int64(s, 1);
		d->first = seq;
		d->stored++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "gaps: frames");
}

static void vt_gaps_acked(sqlite3 *db, struct vt_gaps_dev *d)
{
	sqlite3_stmt *s = NULL;

	d->acked = 0;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM acks WHERE device = ?1", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(s, 1, d->device, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0)
			d->acked = (uint64_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
}

static const char *vt_gaps_kind(enum vt_gap_kind k)
{
	return k == VT_GAP_MISSING ? "missing" : "skipped";
}

static void vt_gaps_print_json(FILE *out, const struct vt_gaps_dev *d)
{
	fputs("{\"device\":", out);
	vt_json_str(out, d->device);
	fputs(",\"site\":", out);
	vt_json_str(out, d->site);
	fprintf(out,
		",\"first\":%" PRIu64 ",\"last\":%" PRIu64 ",\"stored\":%" PRIu64
		",\"acked\":%" PRIu64 ",\"missing\":%" PRIu64 ",\"gaps\":[",
		d->first, d->last, d->stored, d->acked, d->missing);
	for (size_t i = d->n; i-- > 0;)
		fprintf(out, "%s{\"from\":%" PRIu64 ",\"to\":%" PRIu64 ",\"count\":%" PRIu64
			",\"kind\":\"%s\"}", i + 1 == d->n ? "" : ",", d->gaps[i].from,
			d->gaps[i].to, d->gaps[i].to - d->gaps[i].from + 1,
			vt_gaps_kind(d->gaps[i].kind));
	fputs("]}\n", out);
}

static void vt_gaps_print_text(FILE *out, const struct vt_gaps_dev *d)
{
	fprintf(out, "%-24s %-24s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		" %10" PRIu64 "\n", d->device, d->site, d->first, d->last, d->stored, d->acked,
		d->missing);
	for (size_t i = d->n; i-- > 0;)
		fprintf(out, "  %s %" PRIu64 "..%" PRIu64 " (%" PRIu64 ")\n",
			vt_gaps_kind(d->gaps[i].kind), d->gaps[i].from, d->gaps[i].to,
			d->gaps[i].to - d->gaps[i].from + 1);
}

static int vt_gaps_one(sqlite3 *db, FILE *out, const char *device, int json)
{
	struct vt_gaps_dev d;
	int rc;

	memset(&d, 0, sizeof(d));
	snprintf(d.device, sizeof(d.device), "%s", device);
	rc = vt_gaps_scan(db, &d);
	if (rc == 0 && d.stored == 0) {
		fprintf(stderr, "vitrine-aggregator: gaps: no frame stored from device %s\n",
			device);
		rc = -ENOENT;
	}
	if (rc == 0) {
		vt_gaps_acked(db, &d);
		if (json)
			vt_gaps_print_json(out, &d);
		else
			vt_gaps_print_text(out, &d);
	}
	free(d.gaps);
	return rc;
}

/* Frames from before schema version 2 have no prev_seq/floor_seq columns. */
static int vt_gaps_schema_ok(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int version = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version >= VT_STORE_SCHEMA_CHAIN)
		return 0;
	fprintf(stderr,
		"vitrine-aggregator: gaps: the database has schema version %d, without prev_seq and floor_seq; start 'vitrine-aggregator run' once to upgrade it\n",
		version);
	return -VT_EDB;
}

int vt_gaps_report(sqlite3 *db, FILE *out, const char *device, int json)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = vt_gaps_schema_ok(db);
	if (rc < 0)
		return rc;
	if (!json)
		fprintf(out, "%-24s %-24s %10s %10s %10s %10s %10s\n", "device", "site", "first",
			"last", "stored", "acked", "missing");
	if (device) {
		rc = vt_gaps_one(db, out, device, json);
	} else if (sqlite3_prepare_v2(db, "SELECT DISTINCT device FROM frames ORDER BY device",
				      -1, &s, NULL) != SQLITE_OK) {
		rc = vt_query_db_error(db, "gaps: query");
	} else {
		while (rc == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
			rc = vt_gaps_one(db, out, (const char *)sqlite3_column_text(s, 0), json);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc > 0)
			rc = vt_query_db_error(db, "gaps: devices");
		sqlite3_finalize(s);
	}
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}
