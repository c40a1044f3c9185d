/*
 * query.c - the small SQLite helpers of the read-only commands (query.h).
 *
 * Nothing here knows a table but sqlite_master and counters; the SQL of
 * each command stays with the command.
 */
#include <stdio.h>

#include "err.h"
#include "query.h"

int vt_query_db_error(sqlite3 *db, const char *what)
{
	fprintf(stderr, "vitrine-aggregator: %s: %s\n", what, sqlite3_errmsg(db));
	return -VT_EDB;
}

int vt_query_prepare(sqlite3 *db, const char *sql, int64_t a, int64_t b, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK)
		return vt_query_db_error(db, "query");
	if (sqlite3_bind_parameter_count(*s) >= 2) {
		sqlite3_bind_int64(*s, 1, a);
		sqlite3_bind_int64(*s, 2, b);
	}
	return 0;
}

const char *vt_query_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

int vt_query_has_table(sqlite3 *db, const char *name)
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

int vt_query_has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
		found = sqlite3_step(s) == SQLITE_ROW;
	}
	sqlite3_finalize(s);
	return found;
}

int64_t vt_query_counter(sqlite3 *db, const char *name)
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
