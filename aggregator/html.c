/*
 * html.c - the HTML report (html.h): one page, inline CSS and SVG, no
 * script, built from the key figures of kpi.c.
 *
 * Layout: a header saying the period and the privacy threshold; an
 * overview table with one row per store (its newest day); then per store a
 * table of its days, five charts (footfall, occupancy, kiosk sessions,
 * engagement, top products) and the kiosk session lengths. A suppressed
 * figure shows as an en dash in tables and as nothing in charts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "kpi_out.h"
#include "summary.h"
#include "svg.h"

#define VT_HTML_DASH "&#8211;"	/* what a suppressed or absent figure shows */
#define VT_HTML_IN "#1f6f8b"
#define VT_HTML_OUT "#e5a04b"
#define VT_HTML_ALT "#6a4c93"

static const char vt_html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<style>\n"
	"body{font-family:sans-serif;margin:2em auto;max-width:1360px;padding:0 1em;color:#222}\n"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f6f8b;padding-bottom:.2em}\n"
	"table{border-collapse:collapse;margin:.5em 0 1em}td,th{padding:.25em .7em;text-align:right}\n"
	"th{background:#eef3f6}td:first-child,th:first-child{text-align:left}\n"
	"tr:nth-child(even) td{background:#f8f8f8}.charts{display:flex;flex-wrap:wrap;gap:1em}\n"
	"figure{margin:0}.note{color:#666;font-size:.9em}\n"
	"</style>\n";

/* The periods of one store in a set, as chart labels. */
struct vt_html_axis {
	size_t n;
	int64_t *starts;
	char (*names)[24];
	const char **labels;
	double *v[2];	/* the series of one chart */
	int *shown[2];
};

static void vt_html_axis_free(struct vt_html_axis *ax)
{
	free(ax->starts);
	free(ax->names);
	free(ax->labels);
	for (int i = 0; i < 2; i++) {
		free(ax->v[i]);
		free(ax->shown[i]);
	}
	memset(ax, 0, sizeof(*ax));
}

static int vt_html_axis_init(const struct vt_kpi_set *set, size_t site, struct vt_html_axis *ax)
{
	size_t cap = 0;
	int64_t last = INT64_MIN;
	enum vt_kpi_when style = set->period != VT_KPI_HOUR ? VT_KPI_WHEN_DATE
				 : set->until_ms - set->since_ms > 86400000LL + 3600000
					 ? VT_KPI_WHEN_DAY_HOUR	/* hours of several days */
					 : VT_KPI_WHEN_HOUR;

	memset(ax, 0, sizeof(*ax));
	for (size_t i = 0; i < set->nrows; i++)
		cap += set->rows[i].site == site;
	cap = cap ? cap : 1;
	ax->starts = malloc(cap * sizeof(*ax->starts));
	ax->names = malloc(cap * sizeof(*ax->names));
	ax->labels = malloc(cap * sizeof(*ax->labels));
	for (int i = 0; i < 2; i++) {
		ax->v[i] = calloc(cap, sizeof(double));
		ax->shown[i] = calloc(cap, sizeof(int));
		if (!ax->v[i] || !ax->shown[i])
			return -ENOMEM;
	}
	if (!ax->starts || !ax->names || !ax->labels)
		return -ENOMEM;
	for (size_t i = 0; i < set->nrows; i++) {
		const struct vt_kpi_row *r = &set->rows[i];

		if (r->site != site || r->start_ms == last)
			continue;
		vt_kpi_format_when(r, style, ax->names[ax->n], sizeof(ax->names[0]));
		ax->labels[ax->n] = ax->names[ax->n];
		ax->starts[ax->n++] = last = r->start_ms;
	}
	return 0;
}

/* Series i of the axis: kpi's value (times scale) in each period. */
static void vt_html_series(const struct vt_kpi_set *set, size_t site, struct vt_html_axis *ax,
			   int i, enum vt_kpi_id kpi, double scale)
{
	for (size_t p = 0; p < ax->n; p++) {
		const struct vt_kpi_row *r = vt_kpi_find(set, site, ax->starts[p], kpi);

		ax->shown[i][p] = r && r->shown;
		ax->v[i][p] = r && r->shown ? r->value * scale : 0;
	}
}

/* ---- charts -------------------------------------------------------------------------- */

static int vt_html_chart(FILE *out, int (*draw)(FILE *, const struct vt_svg_chart *),
			 const char *title, const char *unit, struct vt_html_axis *ax,
			 const struct vt_svg_series *series, size_t nseries)
{
	struct vt_svg_chart c = { .title = title, .unit = unit, .labels = ax->labels,
				  .n = ax->n, .series = series, .nseries = nseries };
	int rc;

	fputs("<figure>", out);
	rc = draw(out, &c);
	fputs("</figure>\n", out);
	return rc;
}

/* One chart of the figures per period: up to two series. */
struct vt_html_chart_spec {
	int (*draw)(FILE *, const struct vt_svg_chart *);
	const char *title_hour, *title_day, *unit;
	size_t nseries;
	enum vt_kpi_id kpi[2];
	const char *name[2], *color[2];
	double scale;
};

static const struct vt_html_chart_spec vt_html_charts[] = {
	{ vt_svg_bars, "Footfall per hour", "Footfall per day", "people", 2,
	  { VT_KPI_FOOTFALL_IN, VT_KPI_FOOTFALL_OUT }, { "in", "out" },
	  { VT_HTML_IN, VT_HTML_OUT }, 1 },
	{ vt_svg_lines, "Occupancy over the day", "Occupancy over the days", "people inside", 2,
	  { VT_KPI_OCCUPANCY_PEAK, VT_KPI_OCCUPANCY_END }, { "peak", "at the end" },
	  { VT_HTML_IN, VT_HTML_OUT }, 1 },
	{ vt_svg_bars, "Kiosk sessions per hour", "Kiosk sessions per day", "", 2,
	  { VT_KPI_KIOSK_SESSIONS, VT_KPI_KIOSK_LOOKUPS }, { "sessions", "product lookups" },
	  { VT_HTML_IN, VT_HTML_ALT }, 1 },
	{ vt_svg_lines, "Kiosk engagement per hour", "Kiosk engagement per day", "%", 1,
	  { VT_KPI_ENGAGEMENT }, { "sessions per visitor" }, { VT_HTML_ALT }, 100 },
};

static int vt_html_period_charts(FILE *out, const struct vt_kpi_set *set, size_t site)
{
	int hourly = set->period == VT_KPI_HOUR;
	struct vt_html_axis ax;
	int rc = vt_html_axis_init(set, site, &ax);

	for (size_t i = 0; i < sizeof(vt_html_charts) / sizeof(vt_html_charts[0]) && rc == 0; i++) {
		const struct vt_html_chart_spec *c = &vt_html_charts[i];
		struct vt_svg_series s[2];

		for (size_t j = 0; j < c->nseries; j++) {
			s[j] = (struct vt_svg_series){ c->name[j], ax.v[j], ax.shown[j], c->color[j] };
			vt_html_series(set, site, &ax, (int)j, c->kpi[j], c->scale);
		}
		rc = vt_html_chart(out, c->draw, hourly ? c->title_hour : c->title_day, c->unit, &ax,
				   s, c->nseries);
	}
	vt_html_axis_free(&ax);
	return rc;
}

static int vt_html_products(FILE *out, const struct vt_kpi_set *days, size_t site)
{
	const char *labels[10];
	double values[10];
	size_t n = vt_summary_top(days, site, VT_KPI_PRODUCT_PRESENCE, 10, labels, values);
	struct vt_svg_series s = { "item-slots", values, NULL, VT_HTML_IN };
	struct vt_svg_chart c = { .title = "Top products by RFID presence", .unit = "item-slots",
				  .labels = labels, .n = n, .series = &s, .nseries = 1 };
	int rc;

	fputs("<figure>", out);
	rc = vt_svg_hbars(out, &c);
	fputs("</figure>\n", out);
	return rc;
}

/* ---- tables ---------------------------------------------------------------------------- */

/* One cell: the figure as people read it, or a dash. */
static void vt_html_cell(FILE *out, const struct vt_kpi_set *set, size_t site, int64_t start,
			 enum vt_kpi_id kpi)
{
	char buf[48];
	const char *s = vt_kpi_format_human(vt_kpi_find(set, site, start, kpi), buf, sizeof(buf));

	fprintf(out, "<td>%s</td>", s ? s : VT_HTML_DASH);
}

static const enum vt_kpi_id vt_html_day_cols[] = {
	VT_KPI_FOOTFALL_IN, VT_KPI_FOOTFALL_OUT, VT_KPI_OCCUPANCY_PEAK, VT_KPI_DWELL_MEAN,
	VT_KPI_KIOSK_SESSIONS, VT_KPI_ENGAGEMENT, VT_KPI_CHANGE_PCT,
};

static const char vt_html_day_head[] =
	"<th>visitors in</th><th>out</th><th>peak inside</th><th>mean dwell</th>"
	"<th>kiosk sessions</th><th>engagement</th><th>vs same day, previous weeks</th>";

static void vt_html_day_cells(FILE *out, const struct vt_kpi_set *days, size_t site, int64_t start)
{
	for (size_t i = 0; i < sizeof(vt_html_day_cols) / sizeof(vt_html_day_cols[0]); i++)
		vt_html_cell(out, days, site, start, vt_html_day_cols[i]);
}

static void vt_html_days(FILE *out, const struct vt_kpi_set *days, size_t site)
{
	int64_t last = INT64_MIN;

	fprintf(out, "<table>\n<tr><th>day</th>%s</tr>\n", vt_html_day_head);
	for (size_t i = 0; i < days->nrows; i++) {
		const struct vt_kpi_row *r = &days->rows[i];
		char when[24];

		if (r->site != site || r->start_ms == last)
			continue;
		last = r->start_ms;
		vt_kpi_format_when(r, VT_KPI_WHEN_DATE, when, sizeof(when));
		fprintf(out, "<tr><td>%s</td>", when);
		vt_html_day_cells(out, days, site, r->start_ms);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void vt_html_lengths(FILE *out, const struct vt_kpi_set *days, size_t site)
{
	static const char *const names[VT_KPI_LENGTH_BUCKETS] = {
		"&lt; 30 s", "30 s &#8211; 1 min", "1 &#8211; 2 min", "2 &#8211; 5 min",
		"5 &#8211; 10 min", "10 min or more",
	};
	double sum[VT_KPI_LENGTH_BUCKETS];
	int any[VT_KPI_LENGTH_BUCKETS];

	vt_summary_length_sums(days, site, sum, any);
	fputs("<table>\n<tr><th>kiosk session length</th>", out);
	for (int b = 0; b < VT_KPI_LENGTH_BUCKETS; b++)
		fprintf(out, "<th>%s</th>", names[b]);
	fputs("</tr>\n<tr><td>sessions</td>", out);
	for (int b = 0; b < VT_KPI_LENGTH_BUCKETS; b++)
		if (any[b])
			fprintf(out, "<td>%.0f</td>", sum[b]);
		else
			fputs("<td>" VT_HTML_DASH "</td>", out);
	fputs("</tr>\n</table>\n", out);
}

/* ---- the page ----------------------------------------------------------------------------- */

static void vt_html_overview(FILE *out, const struct vt_kpi_set *days)
{
	fprintf(out, "<section>\n<h2>All stores, newest day</h2>\n<table>\n"
		     "<tr><th>store</th><th>day</th>%s<th>top product</th></tr>\n",
		vt_html_day_head);
	for (size_t s = 0; s < days->nsites; s++) {
		const struct vt_kpi_row *last = vt_kpi_last_row(days, s);	/* every store has one */
		const char *top[1];
		double v[1];
		char when[24];

		vt_kpi_format_when(last, VT_KPI_WHEN_DATE, when, sizeof(when));
		fputs("<tr><td>", out);
		vt_xml_str(out, days->sites[s]);
		fprintf(out, "</td><td>%s</td>", when);
		vt_html_day_cells(out, days, s, last->start_ms);
		if (vt_summary_top(days, s, VT_KPI_PRODUCT_PRESENCE, 1, top, v)) {
			fputs("<td>", out);
			vt_xml_str(out, top[0]);	/* digits, unless the database was edited */
			fputs("</td></tr>\n", out);
		} else
			fputs("<td>" VT_HTML_DASH "</td></tr>\n", out);
	}
	fputs("</table>\n</section>\n", out);
}

static int vt_html_store(FILE *out, const struct vt_kpi_set *days, const struct vt_kpi_set *hours,
			 size_t site)
{
	long hs = vt_kpi_site(hours, days->sites[site]);
	int rc;

	fputs("<section>\n<h2>", out);
	vt_xml_str(out, days->sites[site]);
	fputs("</h2>\n", out);
	vt_html_days(out, days, site);
	fputs("<div class=\"charts\">\n", out);
	rc = hs >= 0 ? vt_html_period_charts(out, hours, (size_t)hs)
		     : vt_html_period_charts(out, days, site);
	if (rc == 0)
		rc = vt_html_products(out, days, site);
	fputs("</div>\n", out);
	vt_html_lengths(out, days, site);
	fputs("</section>\n", out);
	return rc;
}

static void vt_html_header(FILE *out, const struct vt_kpi_set *days, const char *tz)
{
	char from[40], to[40];

	vt_kpi_format_time(days->since_ms, 0, from, sizeof(from));
	vt_kpi_format_time(days->until_ms, 0, to, sizeof(to));
	fputs("<title>vitrine report</title>\n</head>\n<body>\n<header>\n"
	      "<h1>vitrine: boutique report</h1>\n<p class=\"note\">", out);
	fprintf(out, "From %s to %s (UTC); days and hours in ", from, to);
	vt_xml_str(out, tz ? tz : "UTC");
	fprintf(out, ". A dash (" VT_HTML_DASH ") means that nothing was counted or that the figure"
		     " was withheld: devices withhold counts below their own k, and this report"
		     " withholds every figure that rests on fewer than k = %u counts (%zu withheld"
		     " among the days); products below k are left out. Definitions: docs/KPIS.md."
		     "</p>\n</header>\n",
		days->k, days->suppressed);
}

int vt_html_report(FILE *out, const struct vt_kpi_set *days, const struct vt_kpi_set *hours,
		   const char *tz)
{
	int rc = 0;

	if (hours && days->until_ms - days->since_ms > 2 * 86400000LL + 3600000)
		hours = NULL;	/* beyond two days, per day */
	fputs(vt_html_head, out);
	vt_html_header(out, days, tz);
	if (days->nsites == 0)
		fputs("<p>No data in this period.</p>\n", out);
	else
		vt_html_overview(out, days);
	for (size_t s = 0; s < days->nsites && rc == 0; s++)
		rc = vt_html_store(out, days, hours, s);
	fputs("<footer class=\"note\">Written by vitrine-aggregator " VT_VERSION
	      ". No script, font or image is loaded: this page works offline.</footer>\n"
	      "</body>\n</html>\n", out);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}
