/*
 * svg_test.c - the SVG charts of the HTML report (aggregator/svg.c).
 *
 * Each chart is written to memory and read back as text: elements are
 * counted by their classes, bar sizes and tick values parsed from their
 * attributes and compared with the values given. A small checker makes
 * sure every document is well formed (tags balanced, attributes quoted,
 * no raw '<', '>' or '&' in text) and self-contained (no script, no link).
 * Suppressed points carry the value 7777, which must appear nowhere.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "vt_test.h"

#define BLUE "#1f6f8b"
#define ORANGE "#e07a5f"
#define SUPPRESSED 7777.0

typedef int (*chart_fn)(FILE *out, const struct vt_svg_chart *c);

/* The chart as text (never NULL: empty when nothing was written); *rc is
 * what fn returned. */
static char *render(chart_fn fn, const struct vt_svg_chart *c, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	*rc = fn(f, c);
	if (fclose(f) != 0)
		abort();
	return buf;
}

static int count(const char *doc, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(doc, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Attribute attr of each element whose class is cls, in document order;
 * how many, or -1 if one of them lacks it. */
static int attrs_of(const char *doc, const char *cls, const char *attr, double *v, int max)
{
	char want[64], key[32];
	int n = 0;

	snprintf(want, sizeof(want), "class=\"%s\"", cls);
	snprintf(key, sizeof(key), " %s=\"", attr);
	for (const char *p = strstr(doc, want); p && n < max; p = strstr(p + 1, want)) {
		const char *tag = p, *end = strchr(p, '>'), *a;

		while (tag > doc && *tag != '<')
			tag--;
		a = strstr(tag, key);
		if (!a || !end || a > end)
			return -1;
		v[n++] = strtod(a + strlen(key), NULL);
	}
	return n;
}

/* The numbers of the value axis' tick labels, in order. */
static int ticks_of(const char *doc, double *v, int max)
{
	const char *p = strstr(doc, "<g class=\"ticks\"");
	const char *end = p ? strstr(p, "</g>") : NULL;
	int n = 0;

	while (p && (p = strstr(p, "<text ")) && p < end && n < max) {
		p = strchr(p, '>') + 1;
		v[n++] = strtod(p, NULL);
	}
	return n;
}

static int is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == ':' || ch == '_';
}

/* After the name of a start tag: name="value" pairs up to '>' or "/>";
 * the end of the tag, or NULL. Values hold no '<' and no '"'. */
static const char *skip_attrs(const char *p, int *empty)
{
	for (;;) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '>' || (p[0] == '/' && p[1] == '>')) {
			*empty = *p == '/';
			return p + *empty;
		}
		if (!is_name_char(*p))
			return NULL;
		while (is_name_char(*p))
			p++;
		if (p[0] != '=' || p[1] != '"')
			return NULL;
		for (p += 2; *p != '"'; p++)
			if (!*p || *p == '<')
				return NULL;
		p++;
	}
}

static int entity_ok(const char *p)
{
	static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };

	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
		if (strncmp(p, entities[i], strlen(entities[i])) == 0)
			return 1;
	return 0;
}

/* One root element, every start tag closed by its end tag or "/>", no raw
 * '>' or bare '&' in text. <? and <! (not written, but allowed) are skipped. */
static int well_formed(const char *doc)
{
	char open[64][32];
	int depth = 0, roots = 0;
	const char *p = doc;

	while (*p) {
		size_t len;
		int empty = 0;

		if (*p == '>' || (*p == '&' && !entity_ok(p)))
			return 0;
		if (*p != '<') {
			p++;
			continue;
		}
		if (p[1] == '?' || p[1] == '!') {
			p = strchr(p, '>');
			if (!p)
				return 0;
			p++;
			continue;
		}
		if (p[1] == '/') {
			for (len = 0; is_name_char(p[2 + len]); len++)
				;
			if (depth == 0 || strlen(open[depth - 1]) != len ||
			    strncmp(open[depth - 1], p + 2, len) != 0 || p[2 + len] != '>')
				return 0;
			depth--;
			p += 3 + len;
			continue;
		}
		for (len = 0; is_name_char(p[1 + len]); len++)
			;
		if (len == 0 || len >= sizeof(open[0]) || depth == 64 || (depth == 0 && roots++))
			return 0;
		memcpy(open[depth], p + 1, len);
		open[depth][len] = '\0';
		p = skip_attrs(p + 1 + len, &empty);
		if (!p)
			return 0;
		depth += !empty;
		p++;
	}
	return depth == 0 && roots == 1;
}

/* Offline and inert: an SVG root, nothing fetched, nothing run, no number
 * that is not one. */
static int self_contained(const char *doc)
{
	static const char *const banned[] = { "script", "href", "@import", "url(", "foreignObject",
					      "<style", "<image", "nan", "inf" };

	if (strncmp(doc, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 53) != 0 ||
	    count(doc, "http") != 1 || count(doc, "//") != 1)
		return 0;
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (strcasestr(doc, banned[i]))
			return 0;
	return 1;
}

/* Inside tags (coordinates and sizes), no number has more than 1 decimal. */
static int coordinates_short(const char *doc)
{
	int in_tag = 0;

	for (const char *p = doc; *p; p++) {
		if (*p == '<' || *p == '>')
			in_tag = *p == '<';
		else if (in_tag && *p == '.' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
			 p[2] <= '9')
			return 0;
	}
	return 1;
}

/* How many x,y pairs the points="..." at p holds. */
static int points_in(const char *p)
{
	int n = 0;

	for (p += strlen("points=\""); *p && *p != '"'; p++)
		n += *p == ',';
	return n;
}

static const char *const three_hours[] = { "09:00", "10:00", "11:00" };

VT_TEST(svg_bars_draw_one_rect_per_value_in_proportion)
{
	const double in[] = { 10, 20, 40 }, out_[] = { 5, 10, 15 };
	const struct vt_svg_series series[] = { { "in", in, NULL, BLUE },
						{ "out", out_, NULL, ORANGE } };
	const struct vt_svg_chart c = { "Footfall per hour", "people", three_hours, 3, series, 2,
					0, 0 };
	double h[8], y[8];
	int rc;
	char *svg = render(vt_svg_bars, &c, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK(self_contained(svg));
	CHECK(coordinates_short(svg));
	CHECK(strstr(svg, "viewBox=\"0 0 640 240\" width=\"640\" height=\"240\" role=\"img\"") != NULL);
	CHECK(strstr(svg, "<title>") != NULL);
	CHECK_EQ_INT(count(svg, "class=\"bar s"), 6);
	CHECK_EQ_INT(count(svg, "class=\"bar s1\""), 3);
	CHECK_EQ_INT(attrs_of(svg, "bar s0", "height", h, 8), 3);
	CHECK(h[0] > 10);
	CHECK(fabs(h[1] / h[0] - 2) < 0.02);
	CHECK(fabs(h[2] / h[0] - 4) < 0.02);
	/* Bars stand on one base line inside the picture. */
	CHECK_EQ_INT(attrs_of(svg, "bar s0", "y", y, 8), 3);
	CHECK(y[2] > 0 && fabs((y[0] + h[0]) - (y[2] + h[2])) < 0.15);
	/* Legend, tooltips with series and unit, heading. */
	CHECK(strstr(svg, ">in</text>") && strstr(svg, ">out</text>"));
	CHECK(strstr(svg, "<title>10:00, in: 20 people</title>") != NULL);
	CHECK(strstr(svg, "<title>11:00, out: 15 people</title>") != NULL);
	CHECK(strstr(svg, "font-weight=\"bold\">Footfall per hour</text>") != NULL);
	CHECK(strstr(svg, ">people</text>") != NULL);
	CHECK(strstr(svg, "no data shown") == NULL);
	free(svg);
}

VT_TEST(svg_suppressed_bar_leaves_no_bar_and_no_value)
{
	const double in[] = { 10, 20, 40 }, out_[] = { 5, SUPPRESSED, 15 };
	const int out_shown[] = { 1, 0, 1 };
	const struct vt_svg_series series[] = { { "in", in, NULL, BLUE },
						{ "out", out_, out_shown, ORANGE } };
	const struct vt_svg_chart c = { "Footfall", "people", three_hours, 3, series, 2, 0, 0 };
	double t[16];
	int rc, nt;
	char *svg = render(vt_svg_bars, &c, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK_EQ_INT(count(svg, "class=\"bar s0\""), 3);
	CHECK_EQ_INT(count(svg, "class=\"bar s1\""), 2);
	CHECK(strstr(svg, "7777") == NULL);
	CHECK(strstr(svg, "10:00, out") == NULL);
	/* Nor does it stretch the axis. */
	nt = ticks_of(svg, t, 16);
	CHECK(nt >= 2);
	CHECK(t[nt - 1] == 40);
	free(svg);
}

VT_TEST(svg_escapes_title_labels_names_and_unit)
{
	const char *const labels[] = { "a<&>b", "it's \"x\"" };
	const double v[] = { 1, 2 };
	const struct vt_svg_series series[] = { { "<&> in", v, NULL, BLUE },
						{ "out'\"", v, NULL, ORANGE } };
	const struct vt_svg_chart c = { "Title <&>\"'", "<u>", labels, 2, series, 2, 0, 0 };
	chart_fn fns[] = { vt_svg_bars, vt_svg_lines, vt_svg_hbars };

	for (size_t k = 0; k < 3; k++) {
		int rc;
		char *svg = render(fns[k], &c, &rc);

		CHECK_EQ_INT(rc, 0);
		CHECK(well_formed(svg));
		CHECK(strstr(svg, "<&>") == NULL);
		CHECK(strstr(svg, "<u>") == NULL);
		CHECK(strstr(svg, "<title>") != NULL);
		CHECK(strstr(svg, ">Title &lt;&amp;&gt;&quot;&#39;</title>") != NULL);
		CHECK(strstr(svg, "a&lt;&amp;&gt;b") != NULL);
		CHECK(strstr(svg, "it&#39;s &quot;x&quot;") != NULL);
		CHECK(strstr(svg, "&lt;u&gt;") != NULL);
		if (k < 2)
			CHECK(strstr(svg, "&lt;&amp;&gt; in") && strstr(svg, "out&#39;&quot;"));
		free(svg);
	}
}

VT_TEST(svg_xml_str_escapes_markup_and_blanks_control_characters)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	vt_xml_str(f, "a&b<c>d\"e'f\x01g\th\xc3\xa9");
	fclose(f);
	CHECK_STR(buf, "a&amp;b&lt;c&gt;d&quot;e&#39;f g\th\xc3\xa9");
	free(buf);
}

VT_TEST(svg_line_breaks_at_a_suppressed_point)
{
	const char *const labels[] = { "08", "09", "10", "11", "12" };
	const double v[] = { 3, 5, SUPPRESSED, 6, 4 };
	const int shown[] = { 1, 1, 0, 1, 1 };
	const struct vt_svg_series series[] = { { "occupancy", v, shown, BLUE } };
	const struct vt_svg_chart c = { "Occupancy", "people", labels, 5, series, 1, 0, 0 };
	double cx[8];
	int rc;
	char *svg = render(vt_svg_lines, &c, &rc);
	const char *p;

	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK(self_contained(svg));
	CHECK(coordinates_short(svg));
	CHECK_EQ_INT(count(svg, "class=\"line s0\""), 2);
	CHECK_EQ_INT(count(svg, "class=\"pt s0\""), 4);
	CHECK(strstr(svg, "7777") == NULL);
	CHECK(strstr(svg, "<title>10:") == NULL);
	/* Two points each, on either side of the gap. */
	for (p = strstr(svg, "points=\""); p; p = strstr(p + 1, "points=\""))
		CHECK_EQ_INT(points_in(p), 2);
	CHECK_EQ_INT(attrs_of(svg, "pt s0", "cx", cx, 8), 4);
	/* The dot of 11:00 is two slots right of 09:00's: none between. */
	CHECK(fabs((cx[2] - cx[1]) - 2 * (cx[1] - cx[0])) < 0.35);
	CHECK(strstr(svg, "<title>11: 6 people</title>") != NULL);
	/* One series: no legend. */
	CHECK(strstr(svg, "class=\"legend\"") == NULL);
	free(svg);
}

VT_TEST(svg_line_lone_points_are_dots_only)
{
	const char *const labels[] = { "a", "b", "c", "d", "e" };
	const double v[] = { 1, NAN, 2, INFINITY, 3 };
	const int shown[] = { 1, 0, 1, 0, 1 };
	const struct vt_svg_series series[] = { { "x", v, shown, BLUE } };
	const struct vt_svg_chart c = { "Lone", "", labels, 5, series, 1, 0, 0 };
	int rc;
	char *svg = render(vt_svg_lines, &c, &rc);

	/* Suppressed values are never read: NaN and infinity are fine there. */
	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK(self_contained(svg));
	CHECK_EQ_INT(count(svg, "<polyline"), 0);
	CHECK_EQ_INT(count(svg, "class=\"pt s0\""), 3);
	/* No unit: "label: value". */
	CHECK(strstr(svg, "<title>c: 2</title>") != NULL);
	free(svg);
}

VT_TEST(svg_lines_take_negative_values_and_percent)
{
	const char *const labels[] = { "Mon", "Tue", "Wed" };
	const double change[] = { -12, 30, 37.25 }, share[] = { 0.333333, 5, 100 };
	const struct vt_svg_series series[] = { { "change", change, NULL, BLUE },
						{ "share", share, NULL, ORANGE } };
	const struct vt_svg_chart c = { "Engagement", "%", labels, 3, series, 2, 0, 0 };
	double t[16], cy[4];
	int rc, nt;
	char *svg = render(vt_svg_lines, &c, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	nt = ticks_of(svg, t, 16);
	CHECK(nt >= 3);
	CHECK(t[0] <= -12 && t[0] > -12 - (t[1] - t[0]));
	CHECK(t[nt - 1] >= 100);
	CHECK_EQ_INT(count(svg, ">0</text>"), 1);
	CHECK(strstr(svg, "<title>Tue, change: 30%</title>") != NULL);
	CHECK(strstr(svg, "<title>Wed, change: 37.25%</title>") != NULL);
	CHECK(strstr(svg, "<title>Mon, share: 0.333%</title>") != NULL);
	/* Below zero is below the 0 gridline: larger y. */
	CHECK_EQ_INT(attrs_of(svg, "pt s0", "cy", cy, 4), 3);
	CHECK(cy[0] > cy[1]);
	free(svg);
}

/* The ticks of a one-bar chart of max: from 0, even steps of 1, 2 or 5 x
 * 10^k, the top one the first at or above max. */
static int nice_axis(double max, double *top)
{
	const char *const labels[] = { "x" };
	const double v[] = { max };
	const struct vt_svg_series series[] = { { "s", v, NULL, BLUE } };
	const struct vt_svg_chart c = { "T", "", labels, 1, series, 1, 0, 0 };
	double t[32], step, mag;
	int rc, n;
	char *svg = render(vt_svg_bars, &c, &rc);

	n = ticks_of(svg, t, 32);
	free(svg);
	if (rc != 0 || n < 2 || t[0] != 0)
		return 0;
	step = t[1] - t[0];
	mag = pow(10, floor(log10(step) + 1e-9));
	for (int i = 1; i < n; i++)
		if (fabs(t[i] - t[i - 1] - step) > step * 1e-6)
			return 0;
	*top = t[n - 1];
	return (fabs(step / mag - 1) < 1e-6 || fabs(step / mag - 2) < 1e-6 ||
		fabs(step / mag - 5) < 1e-6) && *top >= max && *top - step < max;
}

VT_TEST(svg_axis_ticks_are_nice_and_cover_the_largest_value)
{
	const double maxes[] = { 87, 100, 101, 1, 3, 7, 9.5, 0.3, 0.07, 12345, 999999, 1e15 };
	double top;

	CHECK(nice_axis(87, &top));
	CHECK(top == 100);
	CHECK(nice_axis(7, &top));
	CHECK(top == 8);
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		if (!nice_axis(maxes[i], &top)) {
			printf("  max %g\n", maxes[i]);
			CHECK(0);
		}
		CHECK(top >= maxes[i] && top < 2.5 * maxes[i]);
	}
	/* A denormal value still gives finite, printable ticks and bars. */
	{
		const double tiny[] = { 5e-324 };
		const struct vt_svg_series series[] = { { "s", tiny, NULL, BLUE } };
		const struct vt_svg_chart c = { "T", "", three_hours, 1, series, 1, 0, 0 };
		int rc;
		char *svg = render(vt_svg_bars, &c, &rc);

		CHECK_EQ_INT(rc, 0);
		CHECK(well_formed(svg) && self_contained(svg));
		CHECK_EQ_INT(count(svg, "class=\"bar s0\""), 1);
		CHECK(strstr(svg, "no data shown") == NULL);
		free(svg);
	}
}

VT_TEST(svg_nothing_to_show_gives_a_0_to_1_axis_and_a_note)
{
	const double zeros[] = { 0, 0, 0 }, hidden[] = { SUPPRESSED, SUPPRESSED, SUPPRESSED };
	const int none[] = { 0, 0, 0 };
	const struct vt_svg_series zero_series[] = { { "s", zeros, NULL, BLUE } };
	const struct vt_svg_series hidden_series[] = { { "s", hidden, none, BLUE } };
	struct vt_svg_chart c = { "Sessions", "sessions", three_hours, 3, zero_series, 1, 0, 0 };
	chart_fn fns[] = { vt_svg_bars, vt_svg_lines, vt_svg_hbars };
	double t[16];
	int rc, nt;

	for (size_t k = 0; k < 3 * 3; k++) {
		char *svg;

		c.series = k % 3 == 1 ? hidden_series : zero_series;
		c.n = k % 3 == 2 ? 0 : 3;
		svg = render(fns[k / 3], &c, &rc);
		CHECK_EQ_INT(rc, 0);
		CHECK(well_formed(svg));
		CHECK(self_contained(svg));
		CHECK_EQ_INT(count(svg, "class=\"note\""), 1);
		CHECK(strstr(svg, ">no data shown</text>") != NULL);
		nt = ticks_of(svg, t, 16);
		CHECK(nt >= 2 && t[0] == 0 && t[nt - 1] == 1);
		CHECK(strstr(svg, "7777") == NULL);
		/* Zeros are drawn (flat), suppressed points are not. */
		if (k % 3 == 1 || k % 3 == 2)
			CHECK(!strstr(svg, "class=\"bar") && !strstr(svg, "class=\"pt"));
		else
			CHECK(strstr(svg, "<title>10:00: 0 sessions</title>") != NULL);
		free(svg);
	}
}

/* Every bad chart: -EINVAL and not a byte written. */
static int rejected(chart_fn fn, const struct vt_svg_chart *c)
{
	int rc;
	char *svg = render(fn, c, &rc);
	int ok = rc == -EINVAL && svg[0] == '\0';

	free(svg);
	return ok;
}

VT_TEST(svg_rejects_bad_charts_and_writes_nothing)
{
	const char *const labels[] = { "a", "b" }, *const null_label[] = { "a", NULL };
	const double v[] = { 1, 2 }, nan_v[] = { 1, NAN }, inf_v[] = { INFINITY, 1 },
		     neg_v[] = { -1, 2 }, huge_v[] = { 1, 2e15 };
	const struct vt_svg_series good = { "s", v, NULL, BLUE };
	const struct vt_svg_series bad[] = {
		{ "s", nan_v, NULL, BLUE }, { "s", inf_v, NULL, BLUE }, { "s", huge_v, NULL, BLUE },
		{ NULL, v, NULL, BLUE },    { "s", v, NULL, NULL },	{ "s", NULL, NULL, BLUE },
	};
	const struct vt_svg_series neg = { "s", neg_v, NULL, BLUE };
	struct vt_svg_series many[VT_SVG_MAX_SERIES + 1];
	const struct vt_svg_chart ok = { "T", "", labels, 2, &good, 1, 0, 0 };
	struct vt_svg_chart c;
	chart_fn fns[] = { vt_svg_bars, vt_svg_lines, vt_svg_hbars };

	for (size_t k = 0; k < 3; k++) {
		c = ok, c.nseries = 0;
		CHECK(rejected(fns[k], &c));
		c = ok, c.series = NULL;
		CHECK(rejected(fns[k], &c));
		c = ok, c.title = NULL;
		CHECK(rejected(fns[k], &c));
		c = ok, c.labels = NULL;
		CHECK(rejected(fns[k], &c));
		c = ok, c.labels = null_label;
		CHECK(rejected(fns[k], &c));
		c = ok, c.width = 50;
		CHECK(rejected(fns[k], &c));
		c = ok, c.height = -1;
		CHECK(rejected(fns[k], &c));
		c = ok, c.width = VT_SVG_MAX_PX + 1;
		CHECK(rejected(fns[k], &c));
		c = ok, c.n = VT_SVG_MAX_LABELS + 1;
		CHECK(rejected(fns[k], &c));
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			c = ok, c.series = &bad[b];
			CHECK(rejected(fns[k], &c));
		}
		CHECK_EQ_INT(fns[k](NULL, &ok), -EINVAL);
		CHECK_EQ_INT(fns[k](stdout, NULL), -EINVAL);
	}
	for (size_t s = 0; s < VT_SVG_MAX_SERIES + 1; s++)
		many[s] = good;
	c = ok, c.series = many, c.nseries = VT_SVG_MAX_SERIES + 1;
	CHECK(rejected(vt_svg_bars, &c));
	/* Negative values: lines only. */
	c = ok, c.series = &neg;
	CHECK(rejected(vt_svg_bars, &c));
	CHECK(rejected(vt_svg_hbars, &c));
	{
		int rc;
		char *svg = render(vt_svg_lines, &c, &rc);

		CHECK_EQ_INT(rc, 0);
		free(svg);
	}
}

VT_TEST(svg_thins_x_labels_that_would_overlap)
{
	char names[48][8];
	const char *labels[48];
	double v[48], x[48];
	const struct vt_svg_series series[] = { { "s", v, NULL, BLUE } };
	struct vt_svg_chart c = { "Hours", "people", labels, 24, series, 1, 0, 0 };
	int rc, n;
	char *svg;

	for (int i = 0; i < 48; i++) {
		snprintf(names[i], sizeof(names[i]), "%02d", i % 24);
		labels[i] = names[i];
		v[i] = i;
	}
	/* 24 two-digit hours fit 640 px. */
	svg = render(vt_svg_bars, &c, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(count(svg, "class=\"xl\""), 24);
	free(svg);
	/* "10:00" labels: every second one. */
	for (int i = 0; i < 48; i++)
		snprintf(names[i], sizeof(names[i]), "%02d:%02d", i / 2, i % 2 * 30);
	svg = render(vt_svg_bars, &c, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(count(svg, "class=\"xl\""), 12);
	CHECK(strstr(svg, ">00:00</text>") && !strstr(svg, ">00:30</text>"));
	free(svg);
	/* 48 on 320 px: fewer, and those shown at least a label's width apart. */
	c.n = 48, c.width = 320;
	svg = render(vt_svg_lines, &c, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	n = attrs_of(svg, "xl", "x", x, 48);
	CHECK(n >= 4 && n <= 12);
	for (int i = 1; i < n; i++)
		CHECK(x[i] - x[i - 1] >= 5 * 6.0);
	free(svg);
}

VT_TEST(svg_hbars_show_the_first_series_with_values_at_the_ends)
{
	const char *const products[] = { "03012345678901", "03012345678918", "03012345678925" };
	const double lookups[] = { 120, 45, SUPPRESSED }, other[] = { NAN, -1, 0 };
	const int shown[] = { 1, 1, 0 };
	const struct vt_svg_series series[] = { { "lookups", lookups, shown, BLUE },
						{ "ignored", other, NULL, ORANGE } };
	const struct vt_svg_chart c = { "Top products", "lookups", products, 3, series, 2, 0, 0 };
	double w[4], x[4];
	int rc;
	char *svg = render(vt_svg_hbars, &c, &rc);

	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK(self_contained(svg));
	CHECK(coordinates_short(svg));
	/* 24 px per row and the margins. */
	CHECK(strstr(svg, "viewBox=\"0 0 640 136\" width=\"640\" height=\"136\"") != NULL);
	CHECK_EQ_INT(count(svg, "class=\"bar s"), 2);
	CHECK_EQ_INT(attrs_of(svg, "bar s0", "width", w, 4), 2);
	CHECK(fabs(w[0] / w[1] - 120.0 / 45) < 0.02);
	CHECK_EQ_INT(attrs_of(svg, "bar s0", "x", x, 4), 2);
	CHECK(x[0] == x[1]);
	CHECK(strstr(svg, ">120</text>") && strstr(svg, ">45</text>"));
	CHECK(strstr(svg, "<title>03012345678901: 120 lookups</title>") != NULL);
	CHECK(strstr(svg, "7777") == NULL);
	/* The row stays, empty. */
	CHECK_EQ_INT(count(svg, "class=\"yl\""), 3);
	CHECK(strstr(svg, ">03012345678925</text>") != NULL);
	CHECK(strstr(svg, "ignored") == NULL && strstr(svg, "legend") == NULL);
	free(svg);
}

VT_TEST(svg_a_day_of_hourly_bars_stays_small)
{
	char names[24][4];
	const char *labels[24];
	double in[24], out_[24];
	const struct vt_svg_series series[] = { { "in", in, NULL, BLUE },
						{ "out", out_, NULL, ORANGE } };
	const struct vt_svg_chart c = { "Footfall per hour", "people", labels, 24, series, 2, 0,
					0 };
	int rc;
	char *svg;

	for (int i = 0; i < 24; i++) {
		snprintf(names[i], sizeof(names[i]), "%02d", i);
		labels[i] = names[i];
		in[i] = 40 + i * 3;
		out_[i] = 38 + i * 3;
	}
	svg = render(vt_svg_bars, &c, &rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(well_formed(svg));
	CHECK_EQ_INT(count(svg, "class=\"bar s"), 48);
	CHECK(strlen(svg) < 10000);
	free(svg);
}

VT_TEST(svg_write_failure_is_eio)
{
	const double v[] = { 1, 2, 3 };
	const struct vt_svg_series series[] = { { "s", v, NULL, BLUE } };
	const struct vt_svg_chart c = { "T", "", three_hours, 3, series, 1, 0, 0 };
	char path[512], small[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/read-only.svg", vt_test_tmpdir());
	f = fopen(path, "w");
	CHECK(f != NULL);
	fclose(f);
	f = fopen(path, "r");
	CHECK(f != NULL);
	CHECK_EQ_INT(vt_svg_bars(f, &c), -EIO);
	fclose(f);
	f = fmemopen(small, sizeof(small), "w");
	CHECK(f != NULL);
	CHECK_EQ_INT(vt_svg_lines(f, &c), -EIO);
	fclose(f);
	f = fmemopen(small, sizeof(small), "w");
	CHECK(f != NULL);
	CHECK_EQ_INT(vt_svg_hbars(f, &c), -EIO);
	fclose(f);
}

VT_TEST_MAIN()
