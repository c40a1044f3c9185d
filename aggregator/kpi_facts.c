/*
 * kpi_facts.c - the database's window cells and events as one list of
 * facts (kpi_facts.h), for kpi.c.
 *
 * One query per table; the mapping of each table's rows onto metrics is
 * here and nowhere else. Window cells are read with their parts added up
 * (a window sent in parts after a restart counts once in full); an
 * "other" cell keeps its metric and its dimensions but has no label, so it
 * counts in totals and never as a product. Session lengths of events are
 * put in the agent's own buckets (vt_window_length_bucket), so both modes
 * fill the same histogram.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kpi_facts.h"
#include "query.h"
#include "window.h"

#define VT_FACTS_RANGE " time_ms >= ?1 AND time_ms < ?2 AND (?3 IS NULL OR site = ?3)"

static const char vt_facts_windows_sql[] =
	"SELECT site, time_ms, length_s, metric, dim1, dim2, label, other, sum(count)"
	" FROM windows WHERE" VT_FACTS_RANGE
	" GROUP BY site, device, time_ms, length_s, metric, dim1, dim2, label, other";
static const char vt_facts_footfall_sql[] =
	"SELECT site, time_ms, direction, count FROM footfall WHERE" VT_FACTS_RANGE;
static const char vt_facts_tablet_sql[] =
	"SELECT site, time_ms, event, gtin, duration_ms FROM tablet WHERE" VT_FACTS_RANGE;
static const char vt_facts_rfid_sql[] =
	/* 300000 ms: the agent's RFID presence slot (window.h) */
	"SELECT site, time_ms / 300000 * 300000, reader, gtin, count(DISTINCT tag_digest)"
	" FROM rfid WHERE" VT_FACTS_RANGE " AND gtin <> '' GROUP BY 1, 2, 3, 4";

/* The index of site in f->sites, added if new; -ENOMEM. The last one
 * found is tried first: rows come grouped by site more often than not. */
static long vt_facts_site(struct vt_facts *f, const char *site)
{
	char **grown;

	if (f->last < f->nsites && strcmp(f->sites[f->last], site) == 0)
		return (long)f->last;
	for (size_t i = 0; i < f->nsites; i++)
		if (strcmp(f->sites[i], site) == 0)
			return (long)(f->last = i);
	grown = realloc(f->sites, (f->nsites + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	f->sites = grown;
	if (!(f->sites[f->nsites] = strdup(site)))
		return -ENOMEM;
	f->last = f->nsites;
	return (long)f->nsites++;
}

static int vt_facts_add(struct vt_facts *f, const char *site, const struct vt_fact *x)
{
	long idx = vt_facts_site(f, site);

	if (idx < 0)
		return (int)idx;
	if (x->n <= 0)
		return 0;	/* nothing counted (or a noised count below zero) */
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		struct vt_fact *grown = realloc(f->v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		f->v = grown;
		f->cap = cap;
	}
	f->v[f->n] = *x;
	f->v[f->n++].site = (size_t)idx;
	return 0;
}

static void vt_facts_label(struct vt_fact *x, const char *label)
{
	snprintf(x->label, sizeof(x->label), "%s", label);
}

/* ---- one mapping per table: 1 = a fact in *x, 0 = not a fact ------------------ */

static int vt_facts_window(sqlite3_stmt *s, struct vt_fact *x)
{
	static const struct {
		const char *name;
		enum vt_fact_metric metric;
	} map[] = {
		{ "kiosk_sessions", VT_FACT_SESSIONS },
		{ "kiosk_screen_views", VT_FACT_SCREENS },
		{ "kiosk_lookups", VT_FACT_LOOKUPS },
		{ "kiosk_session_length", VT_FACT_SESSION_LEN },
		{ "rfid_presence", VT_FACT_PRESENCE },
	};
	const char *metric = vt_query_text(s, 3);
	uint32_t dim1 = (uint32_t)sqlite3_column_int64(s, 4);
	uint32_t dim2 = (uint32_t)sqlite3_column_int64(s, 5);
	int other = sqlite3_column_int(s, 7) != 0;

	x->t_ms = sqlite3_column_int64(s, 1);
	x->len_ms = sqlite3_column_int64(s, 2) * 1000;
	x->n = sqlite3_column_int64(s, 8);
	vt_facts_label(x, other ? "" : vt_query_text(s, 6));
	if (strcmp(metric, "footfall_passes") == 0) {
		if (dim2 != 1 && dim2 != 2)
			return 0;
		x->metric = dim2 == 1 ? VT_FACT_IN : VT_FACT_OUT;
		return 1;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(metric, map[i].name) == 0) {
			x->metric = map[i].metric;
			x->dim = map[i].metric == VT_FACT_SESSION_LEN ? dim2
				 : map[i].metric == VT_FACT_PRESENCE  ? dim1
								      : 0;
			return x->metric != VT_FACT_SESSION_LEN || x->dim < VT_KPI_LENGTH_BUCKETS;
		}
	}
	return 0;	/* a metric of a newer agent */
}

static int vt_facts_footfall(sqlite3_stmt *s, struct vt_fact *x)
{
	const char *dir = vt_query_text(s, 2);

	x->t_ms = sqlite3_column_int64(s, 1);
	x->n = sqlite3_column_int64(s, 3);
	if (strcmp(dir, "in") == 0)
		x->metric = VT_FACT_IN;
	else if (strcmp(dir, "out") == 0)
		x->metric = VT_FACT_OUT;
	else
		return 0;
	return 1;
}

static int vt_facts_tablet(sqlite3_stmt *s, struct vt_fact *x)
{
	const char *event = vt_query_text(s, 2);
	int64_t duration = sqlite3_column_int64(s, 4);

	x->t_ms = sqlite3_column_int64(s, 1);
	x->n = 1;
	if (strcmp(event, "session_start") == 0) {
		x->metric = VT_FACT_SESSIONS;
	} else if (strcmp(event, "screen_view") == 0) {
		x->metric = VT_FACT_SCREENS;
	} else if (strcmp(event, "product_lookup") == 0) {
		x->metric = VT_FACT_LOOKUPS;
		vt_facts_label(x, vt_query_text(s, 3));
	} else if (strcmp(event, "session_end") == 0) {
		x->metric = VT_FACT_SESSION_LEN;
		x->dim = vt_window_length_bucket(duration < 0 ? 0
						 : duration > UINT32_MAX ? UINT32_MAX
									 : (uint32_t)duration);
	} else {
		return 0;
	}
	return 1;
}

static int vt_facts_rfid(sqlite3_stmt *s, struct vt_fact *x)
{
	x->t_ms = sqlite3_column_int64(s, 1);
	x->metric = VT_FACT_PRESENCE;
	x->dim = (uint32_t)sqlite3_column_int64(s, 2);
	vt_facts_label(x, vt_query_text(s, 3));
	x->n = sqlite3_column_int64(s, 4);
	return 1;
}

/* ---- loading -------------------------------------------------------------------- */

static int vt_facts_query(sqlite3 *db, const char *sql, int (*map)(sqlite3_stmt *, struct vt_fact *),
			  int64_t lo_ms, int64_t hi_ms, const char *site, struct vt_facts *f)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = vt_query_prepare(db, sql, lo_ms, hi_ms, &s);
	if (rc < 0)
		return rc;
	if (site)
		sqlite3_bind_text(s, 3, site, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vt_fact x = { 0 };

		if (!map(s, &x))
			continue;
		rc = vt_facts_add(f, vt_query_text(s, 0), &x);
		if (rc < 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : vt_query_db_error(db, "kpi");
out:
	sqlite3_finalize(s);
	return rc;
}

int vt_facts_load(sqlite3 *db, int64_t lo_ms, int64_t hi_ms, const char *site,
		  struct vt_facts *f)
{
	int rc = 0;

	if (vt_query_has_table(db, "windows"))
		rc = vt_facts_query(db, vt_facts_windows_sql, vt_facts_window, lo_ms, hi_ms, site, f);
	if (rc == 0)
		rc = vt_facts_query(db, vt_facts_footfall_sql, vt_facts_footfall, lo_ms, hi_ms, site, f);
	if (rc == 0)
		rc = vt_facts_query(db, vt_facts_tablet_sql, vt_facts_tablet, lo_ms, hi_ms, site, f);
	if (rc == 0)
		rc = vt_facts_query(db, vt_facts_rfid_sql, vt_facts_rfid, lo_ms, hi_ms, site, f);
	return rc;
}

/* The oldest and newest start of each table, in one row. */
static const char vt_facts_span_sql[] =
	"SELECT min(a), max(b) FROM ("
	" SELECT min(time_ms) a, max(time_ms) b FROM footfall"
	" UNION ALL SELECT min(time_ms), max(time_ms) FROM tablet"
	" UNION ALL SELECT min(time_ms), max(time_ms) FROM rfid%s)";

int vt_kpi_span(sqlite3 *db, int64_t *first_ms, int64_t *last_ms)
{
	char sql[sizeof(vt_facts_span_sql) + 64];
	sqlite3_stmt *s = NULL;
	int rc;

	snprintf(sql, sizeof(sql), vt_facts_span_sql,
		 vt_query_has_table(db, "windows")
			 ? " UNION ALL SELECT min(time_ms), max(time_ms) FROM windows"
			 : "");
	rc = vt_query_prepare(db, sql, 0, 0, &s);
	if (rc < 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*first_ms = sqlite3_column_int64(s, 0);
		*last_ms = sqlite3_column_int64(s, 1);
		rc = 0;
	} else {
		rc = rc == SQLITE_ROW ? 1 : vt_query_db_error(db, "kpi");
	}
	sqlite3_finalize(s);
	return rc;
}

void vt_facts_free(struct vt_facts *f)
{
	for (size_t i = 0; i < f->nsites; i++)
		free(f->sites[i]);
	free(f->sites);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
