/*
 * json.h - JSON strings for the commands that print one JSON object per
 * line (windows.c, gaps.c). The objects themselves, their numbers and
 * their order are the callers'.
 */
#ifndef VT_AGG_JSON_H
#define VT_AGG_JSON_H

#include <stdio.h>

/* Write s (borrowed) to out as a JSON string, quotes included: '"' and
 * '\\' escaped, control characters as \u00XX, other bytes as they are. The
 * strings printed are checked on the way in (ids, printable labels); this
 * escapes anyway, in case the database was edited by hand. */
void vt_json_str(FILE *out, const char *s);

#endif
