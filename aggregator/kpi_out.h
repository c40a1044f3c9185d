/*
 * kpi_out.h - the key figures (kpi.h) written out for other tools: CSV and
 * JSON lines with the columns of docs/KPIS.md, and the formatting of values
 * and times that the report and the live view share.
 *
 * A suppressed figure is written with an empty value (CSV) or null (JSON)
 * and suppressed set: never with its value, which kpi.c has zeroed anyway.
 */
#ifndef VT_AGG_KPI_OUT_H
#define VT_AGG_KPI_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "kpi.h"

/* Every row of set (only the figure named only, if not NULL), one line
 * each, after a header line for CSV. 0 or -EIO. */
int vt_kpi_write_csv(FILE *out, const struct vt_kpi_set *set, const char *only);
int vt_kpi_write_json(FILE *out, const struct vt_kpi_set *set, const char *only);

/* A figure's value as text: counts whole, the engagement ratio with 4
 * decimals, percents and means with 1, seconds whole; "" if suppressed. */
void vt_kpi_format_value(const struct vt_kpi_row *r, char *buf, size_t len);

/* A figure as people read it in the report and the live view: counts
 * whole, engagement and change in percent ("40.5%", "+5.0%"), dwell in
 * minutes ("22 min"). NULL when r is NULL or suppressed (the view shows
 * its dash). */
const char *vt_kpi_format_human(const struct vt_kpi_row *r, char *buf, size_t len);

/* The period of r as a label, local: "2024-05-06", "10:00", or "05-06
 * 10:00" for hours that span several days. */
enum vt_kpi_when {
	VT_KPI_WHEN_DATE,
	VT_KPI_WHEN_HOUR,
	VT_KPI_WHEN_DAY_HOUR,
};
void vt_kpi_format_when(const struct vt_kpi_row *r, enum vt_kpi_when style, char *buf,
			size_t len);

/* ISO 8601 local time with its offset: "2024-05-06T00:00:00+02:00"
 * ("Z" for UTC). */
void vt_kpi_format_time(int64_t ms, int32_t off_s, char *buf, size_t len);

/* The name of a session length bucket: "lt_30s", ..., "ge_10min". */
const char *vt_kpi_bucket_name(uint32_t bucket);

/* Is name a figure (vt_kpi_name of one)? */
int vt_kpi_known(const char *name);

#endif
