/*
 * summary.h - the key figures for a terminal: what "vitrine-aggregator
 * report" prints, and the panel at the top of "watch".
 *
 * Views only: every figure comes from a vt_kpi_set (kpi.h), which has
 * already applied the privacy rule; a suppressed figure prints as "-".
 */
#ifndef VT_AGG_SUMMARY_H
#define VT_AGG_SUMMARY_H

#include <stdio.h>

#include "kpi.h"

#define VT_SUMMARY_TOP 5	/* products listed per store */

/* Per store: one line per day of days (a VT_KPI_DAY set), then, if hours
 * is not NULL (a VT_KPI_HOUR set of the same stores), one line per hour,
 * then the top products by RFID presence and by kiosk lookups over the
 * days, and the kiosk session lengths. tz names the zone for the header.
 * 0 or -EIO. */
int vt_summary_print(FILE *out, const struct vt_kpi_set *days, const struct vt_kpi_set *hours,
		     const char *tz);

/* One line per store of the day of days (a VT_KPI_DAY set of one day):
 * in, out, inside now, peak, kiosk sessions, engagement, top product. */
void vt_summary_panel(FILE *out, const struct vt_kpi_set *days);

/* The figures of days summed per label (products) over the periods of
 * site, for kpi (PRODUCT_PRESENCE or PRODUCT_LOOKUPS): the top n at most,
 * largest first, into labels and values. Returns how many. Suppressed
 * figures are not in a set, so they add nothing. */
size_t vt_summary_top(const struct vt_kpi_set *days, size_t site, enum vt_kpi_id kpi, size_t n,
		      const char **labels, double *values);

/* The kiosk sessions of site per length bucket, summed over the periods of
 * d where shown; any[b] says whether bucket b had a figure shown at all. */
void vt_summary_length_sums(const struct vt_kpi_set *d, size_t site,
			    double sum[VT_KPI_LENGTH_BUCKETS], int any[VT_KPI_LENGTH_BUCKETS]);

#endif
