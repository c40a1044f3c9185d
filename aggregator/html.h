/*
 * html.h - "vitrine-aggregator report --html": the key figures as one
 * self-contained HTML page for the boutique's marketing team.
 *
 * The page works offline and alone: inline CSS and SVG charts (svg.h), no
 * script, no font, image or link to load, and a Content-Security-Policy
 * that forbids them anyway. Like the terminal summary it only shows what a
 * vt_kpi_set holds, so the privacy rule of kpi.c holds on it too.
 */
#ifndef VT_AGG_HTML_H
#define VT_AGG_HTML_H

#include <stdio.h>

#include "kpi.h"

/* The page: an overview of every store of days (a VT_KPI_DAY set), then
 * per store its figures, charts of footfall, occupancy, kiosk sessions and
 * engagement per hour (hours, a VT_KPI_HOUR set of the same period; per
 * day, from days, when the period is longer than two days or hours is
 * NULL), its top products and its kiosk session lengths. tz names the
 * zone of the periods. 0, -ENOMEM or -EIO. */
int vt_html_report(FILE *out, const struct vt_kpi_set *days, const struct vt_kpi_set *hours,
		   const char *tz);

#endif
