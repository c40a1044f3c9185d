/*
 * svg.c - inline SVG charts for the HTML report (svg.h).
 *
 * Everything goes straight to the FILE as it is computed: nothing is
 * allocated or kept. There are no font metrics offline, so text widths are
 * estimated (an 11 px sans-serif character taken as 6.2 px), which is
 * enough to leave room for tick labels and to thin out x labels. Which
 * points are suppressed, and why, is decided by the caller (kpi.h); this
 * file only makes sure they leave no trace, the axis range included.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "svg.h"

#define VT_SVG_W 640
#define VT_SVG_H 240
#define VT_SVG_ROW 24		/* hbars: px per row by default */
#define VT_SVG_CHAR_W 6.2	/* estimated advance of an 11 px character */
#define VT_SVG_HEAD_Y 16	/* baseline of the heading */
#define VT_SVG_LINE_H 16	/* heading, legend and unit lines apart */
#define VT_SVG_BOTTOM 24	/* under the plot: x labels, or hbars' ticks */
#define VT_SVG_RIGHT 12
#define VT_SVG_TICKS 5		/* about this many steps on the value axis */

enum vt_svg_kind { VT_SVG_BARS, VT_SVG_LINES, VT_SVG_HBARS };

/* The chart being written: its size, plot area and value axis. */
struct vt_svg_frame {
	const struct vt_svg_chart *c;
	enum vt_svg_kind kind;
	const char *unit;
	size_t nseries;		/* drawn ones: hbars draw the first only */
	int w, h;
	double x0, y0, x1, y1;	/* the plot area, y0 at the top */
	int ilo, ihi;		/* the axis runs from ilo to ihi steps */
	double step, lo, hi;
	int no_data;
};

void vt_xml_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		/* &#39;, as &apos; is not HTML 4. */
		const char *entity = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" :
				     ch == '"' ? "&quot;" : ch == '\'' ? "&#39;" : NULL;

		if (entity)
			fputs(entity, out);
		else
			fputc(ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r' ? ' ' : ch, out);
	}
}

/* v for people: integers without decimals, others with two significant
 * digits past the integer part ("37.25", "0.333", "12345.6"). */
static void vt_svg_fmt(double v, char *buf, size_t len)
{
	double a = fabs(v);
	int digits = a >= 1 ? (int)log10(a) + 1 : 1;

	if (v == floor(v))
		snprintf(buf, len, "%.0f", v == 0 ? 0 : v);	/* no "-0" */
	else
		snprintf(buf, len, "%.*g", digits + 2 > 15 ? 15 : digits + 2, v);
}

/* Estimated width in px of s at 11 px; UTF-8 continuation bytes take none. */
static double vt_svg_text_w(const char *s)
{
	size_t chars = 0;

	for (; *s; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return (double)chars * VT_SVG_CHAR_W;
}

static int vt_svg_shown(const struct vt_svg_series *s, size_t i)
{
	return !s->shown || s->shown[i];
}

static int vt_svg_px_ok(int px)
{
	return px == 0 || (px >= VT_SVG_MIN_PX && px <= VT_SVG_MAX_PX);
}

static int vt_svg_check_series(const struct vt_svg_series *s, size_t n, int negative_ok)
{
	if (!s->name || !s->color || (n && !s->values))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		double v = s->values[i];

		if (vt_svg_shown(s, i) &&
		    (!isfinite(v) || fabs(v) > VT_SVG_MAX_VALUE || (v < 0 && !negative_ok)))
			return -EINVAL;
	}
	return 0;
}

/* All of it before writing anything, so that a bad chart writes nothing. */
static int vt_svg_check(FILE *out, const struct vt_svg_chart *c, enum vt_svg_kind kind)
{
	size_t nseries;

	if (!out || !c || !c->title || !c->series || c->nseries == 0 ||
	    c->nseries > VT_SVG_MAX_SERIES || c->n > VT_SVG_MAX_LABELS || (c->n && !c->labels) ||
	    !vt_svg_px_ok(c->width) || !vt_svg_px_ok(c->height))
		return -EINVAL;
	for (size_t i = 0; i < c->n; i++)
		if (!c->labels[i])
			return -EINVAL;
	nseries = kind == VT_SVG_HBARS ? 1 : c->nseries;
	for (size_t s = 0; s < nseries; s++)
		if (vt_svg_check_series(&c->series[s], c->n, kind == VT_SVG_LINES) < 0)
			return -EINVAL;
	return 0;
}

/* A step of 1, 2 or 5 x 10^k giving about VT_SVG_TICKS steps, and the
 * whole steps around 0 and every shown value. The range is at least one
 * step wide, so ilo and ihi stay within a few steps of 0. */
static void vt_svg_axis(struct vt_svg_frame *f)
{
	double min = 0, max = 0, raw, mag;

	for (size_t s = 0; s < f->nseries; s++) {
		const struct vt_svg_series *se = &f->c->series[s];

		for (size_t i = 0; i < f->c->n; i++) {
			if (vt_svg_shown(se, i)) {
				min = fmin(min, se->values[i]);
				max = fmax(max, se->values[i]);
			}
		}
	}
	f->no_data = min == 0 && max == 0;
	if (f->no_data)
		max = 1;
	/* The floor keeps log10 finite for denormal values. */
	raw = fmax((max - min) / VT_SVG_TICKS, 1e-12);
	mag = pow(10, floor(log10(raw)));
	f->step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
	f->ihi = (int)ceil(max / f->step);
	if (f->ihi * f->step < max)
		f->ihi++;
	f->ilo = (int)floor(min / f->step);
	if (f->ilo * f->step > min)
		f->ilo--;
	f->lo = f->ilo * f->step;
	f->hi = f->ihi * f->step;
}

static double vt_svg_tick_w(const struct vt_svg_frame *f)
{
	double widest = 0;
	char num[32];

	for (int k = f->ilo; k <= f->ihi; k++) {
		vt_svg_fmt(k * f->step, num, sizeof(num));
		widest = fmax(widest, vt_svg_text_w(num));
	}
	return widest;
}

/* Heading, [legend,] unit, then the plot; tick labels at its left. */
static void vt_svg_layout_v(struct vt_svg_frame *f)
{
	int lines = f->nseries > 1 ? 3 : 2;

	f->x0 = fmin(vt_svg_tick_w(f) + 10, 0.4 * f->w);
	f->x1 = f->w - VT_SVG_RIGHT;
	f->y0 = VT_SVG_HEAD_Y + (lines - 1) * VT_SVG_LINE_H + 8;
	f->y1 = f->h - VT_SVG_BOTTOM;
}

/* Row labels at the left, room for the values at the right. */
static void vt_svg_layout_h(struct vt_svg_frame *f)
{
	const struct vt_svg_series *se = &f->c->series[0];
	double label_w = 0, value_w = vt_svg_tick_w(f) / 2;
	char num[32];

	for (size_t i = 0; i < f->c->n; i++) {
		label_w = fmax(label_w, vt_svg_text_w(f->c->labels[i]));
		if (vt_svg_shown(se, i)) {
			vt_svg_fmt(se->values[i], num, sizeof(num));
			value_w = fmax(value_w, vt_svg_text_w(num));
		}
	}
	f->x0 = fmin(label_w + 12, 0.4 * f->w);
	f->x1 = f->w - fmin(value_w + 10, 0.25 * f->w);
	f->y0 = VT_SVG_HEAD_Y + VT_SVG_LINE_H + 8;
	f->y1 = f->h - VT_SVG_BOTTOM;
}

static double vt_svg_x(const struct vt_svg_frame *f, double v)
{
	return f->x0 + (v - f->lo) / (f->hi - f->lo) * (f->x1 - f->x0);
}

static double vt_svg_y(const struct vt_svg_frame *f, double v)
{
	return f->y1 - (v - f->lo) / (f->hi - f->lo) * (f->y1 - f->y0);
}

/* The middle of label i's slot on the x axis. */
static double vt_svg_xmid(const struct vt_svg_frame *f, size_t i)
{
	return f->x0 + ((double)i + 0.5) * (f->x1 - f->x0) / (double)f->c->n;
}

/* <text x y attrs>s</text>; attrs is a literal of this file. */
static void vt_svg_text(FILE *out, double x, double y, const char *attrs, const char *s)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\"%s>", x, y, attrs);
	vt_xml_str(out, s);
	fputs("</text>\n", out);
}

/* <g attr="value"> around the elements of one series. */
static void vt_svg_group(FILE *out, const char *attr, const char *value)
{
	fprintf(out, "<g %s=\"", attr);
	vt_xml_str(out, value);
	fputs("\">\n", out);
}

static void vt_svg_legend(FILE *out, const struct vt_svg_frame *f)
{
	double x = 4, y = VT_SVG_HEAD_Y + VT_SVG_LINE_H;

	fputs("<g class=\"legend\">\n", out);
	for (size_t s = 0; s < f->nseries; s++) {
		const struct vt_svg_series *se = &f->c->series[s];

		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"", x,
			y - 9);
		vt_xml_str(out, se->color);
		fputs("\"/>", out);
		vt_svg_text(out, x + 14, y, "", se->name);
		x += 28 + vt_svg_text_w(se->name);
	}
	fputs("</g>\n", out);
}

static void vt_svg_open(FILE *out, const struct vt_svg_frame *f)
{
	/* The <title> child is the image's accessible name: no id needed,
	 * so charts of the same title on one page do not clash. */
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\""
		" height=\"%d\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">\n"
		"<title>",
		f->w, f->h, f->w, f->h);
	vt_xml_str(out, f->c->title);
	fputs("</title>\n", out);
	vt_svg_text(out, 4, VT_SVG_HEAD_Y, " font-size=\"13\" font-weight=\"bold\"", f->c->title);
	if (f->nseries > 1)
		vt_svg_legend(out, f);
	if (f->unit[0])
		vt_svg_text(out, f->kind == VT_SVG_HBARS ? f->x0 : 4, f->y0 - 8, " fill=\"#555\"",
			    f->unit);
}

static void vt_svg_line(FILE *out, double x1, double y1, double x2, double y2)
{
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x1, y1, x2, y2);
}

/* Gridlines and tick labels (horizontal lines for bars and lines, vertical
 * ones for hbars), then the line at 0 and the base line. */
static void vt_svg_value_axis(FILE *out, const struct vt_svg_frame *f)
{
	int across = f->kind == VT_SVG_HBARS;
	double zero = across ? vt_svg_x(f, 0) : vt_svg_y(f, 0);
	char num[32];

	fputs("<g stroke=\"#e3e3e3\">\n", out);
	for (int k = f->ilo; k <= f->ihi; k++) {
		double p = across ? vt_svg_x(f, k * f->step) : vt_svg_y(f, k * f->step);

		if (across)
			vt_svg_line(out, p, f->y0, p, f->y1);
		else
			vt_svg_line(out, f->x0, p, f->x1, p);
	}
	fprintf(out, "</g>\n<g class=\"ticks\" fill=\"#555\" text-anchor=\"%s\">\n",
		across ? "middle" : "end");
	for (int k = f->ilo; k <= f->ihi; k++) {
		vt_svg_fmt(k * f->step, num, sizeof(num));
		if (across)
			vt_svg_text(out, vt_svg_x(f, k * f->step), f->y1 + 14, "", num);
		else
			vt_svg_text(out, f->x0 - 4, vt_svg_y(f, k * f->step) + 4, "", num);
	}
	fputs("</g>\n<g stroke=\"#888\">\n", out);
	if (across) {
		vt_svg_line(out, zero, f->y0, zero, f->y1);
		vt_svg_line(out, f->x0, f->y1, f->x1, f->y1);
	} else {
		vt_svg_line(out, f->x0, f->y0, f->x0, f->y1);
		vt_svg_line(out, f->x0, zero, f->x1, zero);
	}
	fputs("</g>\n", out);
}

/* Under bars and lines: every m-th label, m the smallest that keeps
 * neighbours 4 px apart. */
static void vt_svg_xlabels(FILE *out, const struct vt_svg_frame *f)
{
	double slot, widest = 0;
	size_t every;

	if (f->c->n == 0)
		return;
	slot = (f->x1 - f->x0) / (double)f->c->n;
	for (size_t i = 0; i < f->c->n; i++)
		widest = fmax(widest, vt_svg_text_w(f->c->labels[i]));
	every = (size_t)ceil((widest + 4) / slot);
	fputs("<g fill=\"#444\" text-anchor=\"middle\">\n", out);
	for (size_t i = 0; i < f->c->n; i += every ? every : 1)
		vt_svg_text(out, vt_svg_xmid(f, i), f->y1 + 14, " class=\"xl\"", f->c->labels[i]);
	fputs("</g>\n", out);
}

/* The hover text of point i of series s: "label[, series]: value unit". */
static void vt_svg_tip(FILE *out, const struct vt_svg_frame *f, size_t s, size_t i)
{
	const struct vt_svg_series *se = &f->c->series[s];
	char num[32];

	vt_svg_fmt(se->values[i], num, sizeof(num));
	fputs("<title>", out);
	vt_xml_str(out, f->c->labels[i]);
	if (f->nseries > 1) {
		fputs(", ", out);
		vt_xml_str(out, se->name);
	}
	fprintf(out, ": %s%s", num, f->unit[0] && strcmp(f->unit, "%") != 0 ? " " : "");
	vt_xml_str(out, f->unit);
	fputs("</title>", out);
}

/* A bar of series s (its colour is its group's). */
static void vt_svg_rect(FILE *out, const struct vt_svg_frame *f, size_t s, size_t i, double x,
			double y, double w, double h)
{
	fprintf(out, "<rect class=\"bar s%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">",
		s, x, y, w, h);
	vt_svg_tip(out, f, s, i);
	fputs("</rect>\n", out);
}

/* Check, lay out, and write everything but the data. */
static int vt_svg_begin(FILE *out, const struct vt_svg_chart *c, enum vt_svg_kind kind,
			struct vt_svg_frame *f)
{
	int rc = vt_svg_check(out, c, kind);

	if (rc < 0)
		return rc;
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->kind = kind;
	f->unit = c->unit ? c->unit : "";
	f->nseries = kind == VT_SVG_HBARS ? 1 : c->nseries;
	f->w = c->width ? c->width : VT_SVG_W;
	f->h = c->height ? c->height : VT_SVG_H;
	if (kind == VT_SVG_HBARS && !c->height)
		f->h = VT_SVG_HEAD_Y + VT_SVG_LINE_H + 8 + VT_SVG_BOTTOM +
		       VT_SVG_ROW * (c->n ? (int)c->n : 1);
	vt_svg_axis(f);
	if (kind == VT_SVG_HBARS)
		vt_svg_layout_h(f);
	else
		vt_svg_layout_v(f);
	vt_svg_open(out, f);
	vt_svg_value_axis(out, f);
	if (kind != VT_SVG_HBARS)
		vt_svg_xlabels(out, f);
	return 0;
}

static int vt_svg_end(FILE *out, const struct vt_svg_frame *f)
{
	if (f->no_data)
		vt_svg_text(out, (f->x0 + f->x1) / 2, (f->y0 + f->y1) / 2,
			    " class=\"note\" text-anchor=\"middle\" fill=\"#777\"", "no data shown");
	fputs("</svg>\n", out);
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

int vt_svg_bars(FILE *out, const struct vt_svg_chart *c)
{
	struct vt_svg_frame f;
	double slot, bar_w;
	int rc = vt_svg_begin(out, c, VT_SVG_BARS, &f);

	if (rc < 0)
		return rc;
	slot = c->n ? (f.x1 - f.x0) / (double)c->n : 0;
	bar_w = slot * 0.8 / (double)c->nseries;
	for (size_t s = 0; s < c->nseries; s++) {
		const struct vt_svg_series *se = &c->series[s];

		vt_svg_group(out, "fill", se->color);
		for (size_t i = 0; i < c->n; i++) {
			double top;

			if (!vt_svg_shown(se, i))
				continue;
			top = vt_svg_y(&f, se->values[i]);
			vt_svg_rect(out, &f, s, i, f.x0 + ((double)i + 0.1) * slot + (double)s * bar_w,
				    top, bar_w * 0.9, f.y1 - top);
		}
		fputs("</g>\n", out);
	}
	return vt_svg_end(out, &f);
}

/* The polylines of series s, one per run of two shown points or more (a
 * lone point between gaps is its dot only), in the series' stroke group. */
static void vt_svg_polylines(FILE *out, const struct vt_svg_frame *f, size_t s)
{
	const struct vt_svg_series *se = &f->c->series[s];
	size_t i = 0, end, n = f->c->n;

	while (i < n) {
		for (; i < n && !vt_svg_shown(se, i); i++)
			;
		for (end = i; end < n && vt_svg_shown(se, end); end++)
			;
		if (end - i >= 2) {
			fprintf(out, "<polyline class=\"line s%zu\" points=\"", s);
			for (size_t k = i; k < end; k++)
				fprintf(out, "%s%.1f,%.1f", k > i ? " " : "", vt_svg_xmid(f, k),
					vt_svg_y(f, se->values[k]));
			fputs("\"/>\n", out);
		}
		i = end;
	}
}

static void vt_svg_dots(FILE *out, const struct vt_svg_frame *f, size_t s)
{
	const struct vt_svg_series *se = &f->c->series[s];

	for (size_t i = 0; i < f->c->n; i++) {
		if (!vt_svg_shown(se, i))
			continue;
		fprintf(out, "<circle class=\"pt s%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\">", s,
			vt_svg_xmid(f, i), vt_svg_y(f, se->values[i]));
		vt_svg_tip(out, f, s, i);
		fputs("</circle>\n", out);
	}
}

int vt_svg_lines(FILE *out, const struct vt_svg_chart *c)
{
	struct vt_svg_frame f;
	int rc = vt_svg_begin(out, c, VT_SVG_LINES, &f);

	if (rc < 0)
		return rc;
	fputs("<g fill=\"none\" stroke-width=\"2\">\n", out);
	for (size_t s = 0; s < c->nseries; s++) {
		vt_svg_group(out, "stroke", c->series[s].color);
		vt_svg_polylines(out, &f, s);
		fputs("</g>\n", out);
	}
	fputs("</g>\n", out);
	/* Dots after every line, so that no line hides a dot. */
	for (size_t s = 0; s < c->nseries; s++) {
		vt_svg_group(out, "fill", c->series[s].color);
		vt_svg_dots(out, &f, s);
		fputs("</g>\n", out);
	}
	return vt_svg_end(out, &f);
}

int vt_svg_hbars(FILE *out, const struct vt_svg_chart *c)
{
	struct vt_svg_frame f;
	const struct vt_svg_series *se;
	double row;
	char num[32];
	int rc = vt_svg_begin(out, c, VT_SVG_HBARS, &f);

	if (rc < 0)
		return rc;
	se = &c->series[0];
	row = c->n ? (f.y1 - f.y0) / (double)c->n : 0;
	fputs("<g fill=\"#444\" text-anchor=\"end\">\n", out);
	for (size_t i = 0; i < c->n; i++)
		vt_svg_text(out, f.x0 - 6, f.y0 + ((double)i + 0.5) * row + 4, " class=\"yl\"",
			    c->labels[i]);
	fputs("</g>\n", out);
	vt_svg_group(out, "fill", se->color);
	for (size_t i = 0; i < c->n; i++) {
		double y = f.y0 + ((double)i + 0.15) * row, end;

		if (!vt_svg_shown(se, i))
			continue;
		end = vt_svg_x(&f, se->values[i]);
		vt_svg_rect(out, &f, 0, i, f.x0, y, end - f.x0, row * 0.7);
		vt_svg_fmt(se->values[i], num, sizeof(num));
		vt_svg_text(out, end + 4, y + row * 0.35 + 4, " fill=\"#333\"", num);
	}
	fputs("</g>\n", out);
	return vt_svg_end(out, &f);
}
