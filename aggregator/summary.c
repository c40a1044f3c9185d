/*
 * summary.c - the key figures as terminal text (summary.h): the report's
 * tables per store and the live view's panel.
 *
 * Rows of a vt_kpi_set come sorted by store, period and figure, so each
 * table walks them once, a period at a time. Nothing here decides what
 * may be shown: a figure kpi.c suppressed prints as "-".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kpi_out.h"
#include "summary.h"

/* ---- one figure as text ------------------------------------------------------------ */

static const struct vt_kpi_row *vt_summary_row(const struct vt_kpi_set *set, size_t site,
					       int64_t start, enum vt_kpi_id kpi)
{
	const struct vt_kpi_row *r = set ? vt_kpi_find(set, site, start, kpi) : NULL;

	return r && r->shown ? r : NULL;
}

/* The figure as people read it, "-" when absent or suppressed. */
static const char *vt_summary_fig(const struct vt_kpi_set *set, size_t site, int64_t start,
				  enum vt_kpi_id kpi, char *buf, size_t len)
{
	const char *s = vt_kpi_format_human(vt_summary_row(set, site, start, kpi), buf, len);

	return s ? s : "-";
}

/* ---- tables --------------------------------------------------------------------------- */

static void vt_summary_day(FILE *out, const struct vt_kpi_set *d, const struct vt_kpi_row *r)
{
	char a[6][24], when[16], cmp[48];
	const struct vt_kpi_row *prev = vt_summary_row(d, r->site, r->start_ms, VT_KPI_PREV_WEEKS_IN);

	vt_kpi_format_when(r, VT_KPI_WHEN_DATE, when, sizeof(when));
	snprintf(cmp, sizeof(cmp), "%s", "-");
	if (prev && vt_summary_row(d, r->site, r->start_ms, VT_KPI_CHANGE_PCT))
		snprintf(cmp, sizeof(cmp), "%s (%u wk)",
			 vt_summary_fig(d, r->site, r->start_ms, VT_KPI_CHANGE_PCT, a[5], sizeof(a[5])),
			 prev->dim);
	fprintf(out, "  %-10s %6s %6s %6s %8s %9s %8s  %s\n", when,
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_FOOTFALL_IN, a[0], sizeof(a[0])),
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_FOOTFALL_OUT, a[1], sizeof(a[1])),
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_OCCUPANCY_PEAK, a[2], sizeof(a[2])),
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_DWELL_MEAN, a[3], sizeof(a[3])),
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_KIOSK_SESSIONS, a[4], sizeof(a[4])),
		vt_summary_fig(d, r->site, r->start_ms, VT_KPI_ENGAGEMENT, a[5], sizeof(a[5])), cmp);
}

static void vt_summary_hour(FILE *out, const struct vt_kpi_set *h, const struct vt_kpi_row *r)
{
	char a[7][24], when[16];

	vt_kpi_format_when(r, VT_KPI_WHEN_HOUR, when, sizeof(when));
	fprintf(out, "  %-5s %6s %6s %6s %6s %9s %8s %8s\n", when,
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_FOOTFALL_IN, a[0], sizeof(a[0])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_FOOTFALL_OUT, a[1], sizeof(a[1])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_OCCUPANCY_END, a[2], sizeof(a[2])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_OCCUPANCY_PEAK, a[3], sizeof(a[3])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_KIOSK_SESSIONS, a[4], sizeof(a[4])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_KIOSK_LOOKUPS, a[5], sizeof(a[5])),
		vt_summary_fig(h, r->site, r->start_ms, VT_KPI_ENGAGEMENT, a[6], sizeof(a[6])));
}

/* Call line() once per period of site in set. */
static void vt_summary_periods(FILE *out, const struct vt_kpi_set *set, size_t site,
			       void (*line)(FILE *, const struct vt_kpi_set *,
					    const struct vt_kpi_row *))
{
	int64_t last = INT64_MIN;

	for (size_t i = 0; i < set->nrows; i++) {
		const struct vt_kpi_row *r = &set->rows[i];

		if (r->site == site && r->start_ms != last) {
			line(out, set, r);
			last = r->start_ms;
		}
	}
}

struct vt_summary_sum {
	const char *label;
	double value;
};

static int vt_summary_sum_cmp(const void *pa, const void *pb)
{
	const struct vt_summary_sum *a = pa, *b = pb;

	if (a->value != b->value)
		return a->value > b->value ? -1 : 1;
	return strcmp(a->label, b->label);
}

size_t vt_summary_top(const struct vt_kpi_set *days, size_t site, enum vt_kpi_id kpi, size_t n,
		      const char **labels, double *values)
{
	struct vt_summary_sum *sums = malloc((days->nrows ? days->nrows : 1) * sizeof(*sums));
	size_t m = 0;

	if (!sums)
		return 0;
	for (size_t i = 0; i < days->nrows; i++) {
		const struct vt_kpi_row *r = &days->rows[i];
		size_t j;

		if (r->site != site || r->kpi != kpi || !r->shown)
			continue;
		for (j = 0; j < m && strcmp(sums[j].label, r->label) != 0; j++)
			;
		if (j == m)
			sums[m++] = (struct vt_summary_sum){ r->label, 0 };
		sums[j].value += r->value;
	}
	qsort(sums, m, sizeof(*sums), vt_summary_sum_cmp);
	if (m > n)
		m = n;
	for (size_t j = 0; j < m; j++) {
		labels[j] = sums[j].label;
		values[j] = sums[j].value;
	}
	free(sums);
	return m;
}

static void vt_summary_products(FILE *out, const struct vt_kpi_set *d, size_t site)
{
	static const struct {
		enum vt_kpi_id kpi;
		const char *title;
	} lists[] = {
		{ VT_KPI_PRODUCT_PRESENCE, "top products by RFID presence (item-slots)" },
		{ VT_KPI_PRODUCT_LOOKUPS, "top products by kiosk lookups" },
	};
	const char *labels[VT_SUMMARY_TOP];
	double values[VT_SUMMARY_TOP];

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		size_t n = vt_summary_top(d, site, lists[l].kpi, VT_SUMMARY_TOP, labels, values);

		fprintf(out, "  %s:%s", lists[l].title, n ? "" : " -");
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s %s (%.0f)", i ? "," : "", labels[i], values[i]);
		fputc('\n', out);
	}
}

void vt_summary_length_sums(const struct vt_kpi_set *d, size_t site,
			    double sum[VT_KPI_LENGTH_BUCKETS], int any[VT_KPI_LENGTH_BUCKETS])
{
	memset(sum, 0, VT_KPI_LENGTH_BUCKETS * sizeof(sum[0]));
	memset(any, 0, VT_KPI_LENGTH_BUCKETS * sizeof(any[0]));
	for (size_t i = 0; i < d->nrows; i++) {
		const struct vt_kpi_row *r = &d->rows[i];

		if (r->site == site && r->kpi == VT_KPI_SESSION_LENGTH && r->shown &&
		    r->dim < VT_KPI_LENGTH_BUCKETS) {
			sum[r->dim] += r->value;
			any[r->dim] = 1;
		}
	}
}

static void vt_summary_lengths(FILE *out, const struct vt_kpi_set *d, size_t site)
{
	double sum[VT_KPI_LENGTH_BUCKETS];
	int any[VT_KPI_LENGTH_BUCKETS];

	vt_summary_length_sums(d, site, sum, any);
	fputs("  kiosk session lengths:", out);
	for (int b = 0; b < VT_KPI_LENGTH_BUCKETS; b++) {
		if (any[b])
			fprintf(out, " %s %.0f", vt_kpi_bucket_name((uint32_t)b), sum[b]);
		else
			fprintf(out, " %s -", vt_kpi_bucket_name((uint32_t)b));
	}
	fputc('\n', out);
}

int vt_summary_print(FILE *out, const struct vt_kpi_set *days, const struct vt_kpi_set *hours,
		     const char *tz)
{
	char from[40], to[40];

	vt_kpi_format_time(days->since_ms, 0, from, sizeof(from));
	vt_kpi_format_time(days->until_ms, 0, to, sizeof(to));
	fprintf(out, "vitrine report: %s to %s, periods in %s; '-': nothing counted, or below k = %u\n",
		from, to, tz ? tz : "UTC", days->k);
	if (days->nsites == 0)
		fputs("(no data in this period)\n", out);
	for (size_t s = 0; s < days->nsites; s++) {
		long hs = vt_kpi_site(hours, days->sites[s]);

		fprintf(out, "\n== %s ==\n  %-10s %6s %6s %6s %8s %9s %8s  %s\n", days->sites[s],
			"day", "in", "out", "peak", "dwell", "sessions", "engaged", "vs prev weeks");
		vt_summary_periods(out, days, s, vt_summary_day);
		if (hs >= 0) {
			fprintf(out, "\n  %-5s %6s %6s %6s %6s %9s %8s %8s\n", "hour", "in", "out",
				"inside", "peak", "sessions", "lookups", "engaged");
			vt_summary_periods(out, hours, (size_t)hs, vt_summary_hour);
		}
		fputc('\n', out);
		vt_summary_products(out, days, s);
		vt_summary_lengths(out, days, s);
	}
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

void vt_summary_panel(FILE *out, const struct vt_kpi_set *days)
{
	const char *labels[1];
	double values[1];

	fprintf(out, "%-24s %6s %6s %6s %6s %9s %8s  %s\n", "store (today)", "in", "out", "inside",
		"peak", "sessions", "engaged", "top product (RFID presence)");
	for (size_t s = 0; s < days->nsites; s++) {
		char a[6][24];
		const struct vt_kpi_row *last = vt_kpi_last_row(days, s);
		int64_t start = last ? last->start_ms : INT64_MIN;
		fprintf(out, "%-24s %6s %6s %6s %6s %9s %8s  ", days->sites[s],
			vt_summary_fig(days, s, start, VT_KPI_FOOTFALL_IN, a[0], sizeof(a[0])),
			vt_summary_fig(days, s, start, VT_KPI_FOOTFALL_OUT, a[1], sizeof(a[1])),
			vt_summary_fig(days, s, start, VT_KPI_OCCUPANCY_END, a[2], sizeof(a[2])),
			vt_summary_fig(days, s, start, VT_KPI_OCCUPANCY_PEAK, a[3], sizeof(a[3])),
			vt_summary_fig(days, s, start, VT_KPI_KIOSK_SESSIONS, a[4], sizeof(a[4])),
			vt_summary_fig(days, s, start, VT_KPI_ENGAGEMENT, a[5], sizeof(a[5])));
		if (vt_summary_top(days, s, VT_KPI_PRODUCT_PRESENCE, 1, labels, values))
			fprintf(out, "%s (%.0f)\n", labels[0], values[0]);
		else
			fputs("-\n", out);
	}
}
