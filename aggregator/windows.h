/*
 * windows.h - "vitrine-aggregator windows": the counts per time window that
 * devices in anonymous mode send instead of events (readings.proto,
 * WindowCount; stored in the windows table, one row per cell and part).
 *
 * A device that restarts in the middle of a window sends that window in
 * two (or more) parts, each with what one run of the agent counted: the
 * parts add up. So this prints, per (site, device, window start, length,
 * metric, dim1, dim2, label, other), the sum of count over the stored rows,
 * with how many parts there were and the weakest protection among them
 * (smallest k, largest epsilon).
 *
 * Read-only, like report.h. A database without the windows table (version
 * 2, not yet upgraded by 'run') has no window counts, which is not an error.
 */
#ifndef VT_AGG_WINDOWS_H
#define VT_AGG_WINDOWS_H

#include <stdio.h>

#include <sqlite3.h>

/* Print the summed windows of device (NULL: every device), ordered by site,
 * device, start, length, metric, dim1, dim2, label, other: a table with a
 * header line, or with json one object per line (docs/AGGREGATOR.md).
 * Returns 0 (also when there is nothing to print), -EIO or -VT_EDB (said
 * on stderr: for instance a sum beyond 2^63 - 1). */
int vt_windows_report(sqlite3 *db, FILE *out, const char *device, int json);

#endif
