/*
 * kpi_out.c - the key figures as CSV and JSON lines (kpi_out.h), one row
 * per store, period and figure, in the columns of docs/KPIS.md:
 *
 *   site, period, start, end, kpi, unit, gtin, zone, bucket, weeks, value,
 *   suppressed
 *
 * gtin, zone, bucket and weeks are empty (null) where the figure has none.
 * CSV quotes nothing: sites are [A-Za-z0-9_.-] (checked at the aggregator's
 * door), GTINs digits; a field that would need quotes is quoted anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kpi_out.h"

static const char *const vt_kpi_buckets[VT_KPI_LENGTH_BUCKETS] = {
	"lt_30s", "lt_1min", "lt_2min", "lt_5min", "lt_10min", "ge_10min",
};

const char *vt_kpi_bucket_name(uint32_t bucket)
{
	return bucket < VT_KPI_LENGTH_BUCKETS ? vt_kpi_buckets[bucket] : "?";
}

int vt_kpi_known(const char *name)
{
	for (int i = 0; i < VT_KPI_COUNT; i++)
		if (strcmp(name, vt_kpi_name((enum vt_kpi_id)i)) == 0)
			return 1;
	return 0;
}

void vt_kpi_format_value(const struct vt_kpi_row *r, char *buf, size_t len)
{
	if (!r->shown)
		snprintf(buf, len, "%s", "");
	else if (r->kpi == VT_KPI_ENGAGEMENT)
		snprintf(buf, len, "%.4f", r->value);
	else if (r->kpi == VT_KPI_CHANGE_PCT || r->kpi == VT_KPI_PREV_WEEKS_IN)
		snprintf(buf, len, "%.1f", r->value);
	else
		snprintf(buf, len, "%.0f", r->value);
}

void vt_kpi_format_time(int64_t ms, int32_t off_s, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000 + off_s);
	int32_t a = off_s < 0 ? -off_s : off_s;
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900) {
		snprintf(buf, len, "%lld", (long long)ms);
		return;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (off_s == 0)
		snprintf(buf + n, len - n, "Z");
	else
		snprintf(buf + n, len - n, "%c%02d:%02d", off_s < 0 ? '-' : '+', (int)(a / 3600),
			 (int)(a % 3600 / 60));
}

const char *vt_kpi_format_human(const struct vt_kpi_row *r, char *buf, size_t len)
{
	if (!r || !r->shown)
		return NULL;
	if (r->kpi == VT_KPI_ENGAGEMENT)
		snprintf(buf, len, "%.1f%%", r->value * 100);
	else if (r->kpi == VT_KPI_CHANGE_PCT)
		snprintf(buf, len, "%+.1f%%", r->value);
	else if (r->kpi == VT_KPI_DWELL_MEAN)
		snprintf(buf, len, "%.0f min", r->value / 60);
	else
		snprintf(buf, len, "%.0f", r->value);
	return buf;
}

void vt_kpi_format_when(const struct vt_kpi_row *r, enum vt_kpi_when style, char *buf,
			size_t len)
{
	char iso[40];

	vt_kpi_format_time(r->start_ms, r->start_off_s, iso, sizeof(iso));
	if (style == VT_KPI_WHEN_DATE)
		snprintf(buf, len, "%.10s", iso);
	else if (style == VT_KPI_WHEN_DAY_HOUR)
		snprintf(buf, len, "%.5s %.5s", iso + 5, iso + 11);
	else
		snprintf(buf, len, "%.5s", iso + 11);
}

/* The optional columns of a row: each "" when the figure has none. */
struct vt_kpi_cols {
	char start[40], end[40], zone[16], weeks[16], value[48];
	const char *gtin, *bucket;
};

static void vt_kpi_cols(const struct vt_kpi_row *r, struct vt_kpi_cols *c)
{
	vt_kpi_format_time(r->start_ms, r->start_off_s, c->start, sizeof(c->start));
	vt_kpi_format_time(r->end_ms, r->end_off_s, c->end, sizeof(c->end));
	vt_kpi_format_value(r, c->value, sizeof(c->value));
	c->gtin = r->label;
	c->bucket = r->kpi == VT_KPI_SESSION_LENGTH ? vt_kpi_bucket_name(r->dim) : "";
	c->zone[0] = c->weeks[0] = '\0';
	if (r->kpi == VT_KPI_ZONE_PRESENCE)
		snprintf(c->zone, sizeof(c->zone), "%u", r->dim);
	if (r->kpi == VT_KPI_PREV_WEEKS_IN)
		snprintf(c->weeks, sizeof(c->weeks), "%u", r->dim);
}

static int vt_kpi_done(FILE *out)
{
	return fflush(out) != 0 || ferror(out) ? -EIO : 0;
}

/* A CSV field: as it is, or quoted if it holds a comma, a quote or a line
 * break (a hand-edited database). */
static void vt_kpi_csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int vt_kpi_write_csv(FILE *out, const struct vt_kpi_set *set, const char *only)
{
	fputs("site,period,start,end,kpi,unit,gtin,zone,bucket,weeks,value,suppressed\n", out);
	for (size_t i = 0; i < set->nrows; i++) {
		const struct vt_kpi_row *r = &set->rows[i];
		struct vt_kpi_cols c;

		if (only && strcmp(only, vt_kpi_name(r->kpi)) != 0)
			continue;
		vt_kpi_cols(r, &c);
		vt_kpi_csv_field(out, set->sites[r->site]);
		fprintf(out, ",%s,%s,%s,%s,%s,", vt_kpi_period_name(set->period), c.start, c.end,
			vt_kpi_name(r->kpi), vt_kpi_unit(r->kpi));
		vt_kpi_csv_field(out, c.gtin);
		fprintf(out, ",%s,%s,%s,%s,%d\n", c.zone, c.bucket, c.weeks, c.value, !r->shown);
	}
	return vt_kpi_done(out);
}

/* "name":"text" or "name":null for "" */
static void vt_kpi_json_opt(FILE *out, const char *name, const char *s, int quoted)
{
	fprintf(out, ",\"%s\":", name);
	if (!*s)
		fputs("null", out);
	else if (quoted)
		vt_json_str(out, s);
	else
		fputs(s, out);
}

int vt_kpi_write_json(FILE *out, const struct vt_kpi_set *set, const char *only)
{
	for (size_t i = 0; i < set->nrows; i++) {
		const struct vt_kpi_row *r = &set->rows[i];
		struct vt_kpi_cols c;

		if (only && strcmp(only, vt_kpi_name(r->kpi)) != 0)
			continue;
		vt_kpi_cols(r, &c);
		fputs("{\"site\":", out);
		vt_json_str(out, set->sites[r->site]);
		fprintf(out, ",\"period\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"kpi\":\"%s\","
			     "\"unit\":\"%s\"",
			vt_kpi_period_name(set->period), c.start, c.end, vt_kpi_name(r->kpi),
			vt_kpi_unit(r->kpi));
		vt_kpi_json_opt(out, "gtin", c.gtin, 1);
		vt_kpi_json_opt(out, "zone", c.zone, 0);
		vt_kpi_json_opt(out, "bucket", c.bucket, 1);
		vt_kpi_json_opt(out, "weeks", c.weeks, 0);
		vt_kpi_json_opt(out, "value", c.value, 0);
		fprintf(out, ",\"suppressed\":%s}\n", r->shown ? "false" : "true");
	}
	return vt_kpi_done(out);
}
