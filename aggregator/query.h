/*
 * query.h - the small SQLite helpers of the read-only commands (report.c,
 * watch.c, windows.c, gaps.c): prepare and bind, read a text column, say
 * an error, look for a table or a counter.
 *
 * They neither open nor write the database: db and every statement belong
 * to the caller. Errors are said on stderr, for the operator.
 */
#ifndef VT_AGG_QUERY_H
#define VT_AGG_QUERY_H

#include <stdint.h>

#include <sqlite3.h>

/* Say "vitrine-aggregator: <what>: <SQLite's message>" on stderr.
 * Returns -VT_EDB. */
int vt_query_db_error(sqlite3 *db, const char *what);

/* Prepare sql into *s and, if it has two parameters or more, bind ?1 to a
 * and ?2 to b. The caller finalizes *s (NULL on failure). 0 or -VT_EDB
 * (said on stderr). */
int vt_query_prepare(sqlite3 *db, const char *sql, int64_t a, int64_t b, sqlite3_stmt **s);

/* Column col of the current row as text, "" for NULL: borrowed from s,
 * valid until the next step or finalize of s. */
const char *vt_query_text(sqlite3_stmt *s, int col);

/* Does the database have table name? (Read-only commands run on databases
 * that 'run' has not upgraded yet.) */
int vt_query_has_table(sqlite3 *db, const char *name);

/* Does table have column? (Likewise: a column added by an upgrade.) */
int vt_query_has_column(sqlite3 *db, const char *table, const char *column);

/* The value of counter name (counters table), 0 if it was never counted or
 * cannot be read. */
int64_t vt_query_counter(sqlite3 *db, const char *name);

#endif
