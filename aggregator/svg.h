/*
 * svg.h - small inline SVG charts for the self-contained HTML report
 * (html.c): grouped vertical bars, lines and horizontal bars, written
 * straight to a FILE.
 *
 * The charts must work offline and pass the privacy rule (kpi.h): the
 * output has no script, no link, no external font or resource, and a point
 * the caller marks as not shown (suppressed) leaves no trace in it: no bar,
 * no dot, no value text, no part of the axis range; a line breaks across
 * it. What is suppressed, the page around the chart and its prose are the
 * caller's business.
 *
 * Every pointer is borrowed for the duration of the call. Strings (title,
 * unit, labels, names) are escaped; colours are the caller's constants and
 * are escaped too, but never checked as CSS.
 */
#ifndef VT_AGG_SVG_H
#define VT_AGG_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Limits of a valid chart: beyond them a chart is -EINVAL. They keep every
 * coordinate and axis tick finite and printable. */
#define VT_SVG_MAX_LABELS 1000	/* n */
#define VT_SVG_MAX_SERIES 8	/* nseries */
#define VT_SVG_MAX_VALUE 1e15	/* |value| of a shown point */
#define VT_SVG_MIN_PX 120	/* width and height, when not 0 */
#define VT_SVG_MAX_PX 10000

struct vt_svg_series {
	const char *name;	/* legend text */
	const double *values;	/* n values */
	const int *shown;	/* n flags, 0 = suppressed (not drawn); NULL = all shown */
	const char *color;	/* CSS colour, e.g. "#1f6f8b" (trusted, from the caller's code) */
};

struct vt_svg_chart {
	const char *title;		/* drawn as the chart's heading and as <title> */
	const char *unit;		/* y axis unit, e.g. "people", "%"; may be "" (or NULL) */
	const char *const *labels;	/* n category labels (x axis, or rows for hbars) */
	size_t n;
	const struct vt_svg_series *series;
	size_t nseries;
	int width, height;		/* in px; 0 = defaults (640 x 240; hbars: 640 x 24 per row + margins) */
};

/*
 * The three charts return 0, -EINVAL for a bad chart (nothing is written
 * then), or -EIO if writing to out failed (out's error flag, checked after
 * a flush at the end; an error already set by an earlier write counts too).
 *
 * A bad chart: out, c or title NULL; labels, a label or a series' values
 * NULL when n > 0; series NULL or nseries 0; a series' name or colour
 * NULL; a shown value not finite or beyond VT_SVG_MAX_VALUE; a negative
 * shown value in bars or hbars; n, nseries, width or height beyond the
 * limits above. Suppressed values are never read, so may be anything.
 *
 * The value axis has "nice" ticks (steps of 1, 2 or 5 x 10^k, 0 included)
 * covering every shown value; with nothing shown, or only zeros, it runs
 * from 0 to 1 and the chart says "no data shown". Each bar and dot has a
 * <title> tooltip "label: value unit" ("label, series: value unit" when
 * there are several series). Elements have classes for styling and tests:
 * "bar s<i>", "pt s<i>", "line s<i>" (i: the series' index), "xl" (an x
 * label; too many to fit are thinned to every m-th), "note". The chart's
 * own <title>, its first child, is its accessible name.
 */

/* Grouped vertical bars, one group per label, one bar per series. */
int vt_svg_bars(FILE *out, const struct vt_svg_chart *c);
/* One polyline per series through its shown points (a suppressed point breaks the line), with a dot per point. */
int vt_svg_lines(FILE *out, const struct vt_svg_chart *c);
/* Horizontal bars, one row per label, first series only, value printed at the end of each bar. */
int vt_svg_hbars(FILE *out, const struct vt_svg_chart *c);
/* Write s to out with & < > " ' escaped for XML/HTML text and attribute values.
 * Control characters other than tab, newline and carriage return, which XML
 * cannot carry at all, become spaces. */
void vt_xml_str(FILE *out, const char *s);

#endif
