/*
 * kpi_cmd.c - report, export --kpi and the watch panel (kpi_cmd.h): the
 * period to show, then kpi.c's figures through the right view.
 *
 * Dates from the command line are clock readings of --tz: they become UTC
 * here (vt_kpi_local_to_utc), and kpi.c rounds them out to whole periods.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "html.h"
#include "kpi_cmd.h"
#include "kpi_out.h"
#include "summary.h"
#include "vt_os.h"

#define VT_KPI_CMD_TWO_DAYS (2 * 86400000LL + 3600000)	/* a day of 25 hours included */

static void vt_kpi_cmd_query(const struct vt_kpi_cmd *c, enum vt_kpi_period p,
			     struct vt_kpi_query *q)
{
	q->period = p;
	q->k = c->k ? c->k : VT_KPI_K_DEFAULT;
	q->tz = c->tz;
	q->site = c->site;
}

/* The period of q: --since and --until, or by default the whole span of
 * the data (whole) or the newest instant (kpi.c makes it its day). 0, 1
 * when the database holds no data and no option says a period, or < 0. */
static int vt_kpi_cmd_range(sqlite3 *db, const struct vt_kpi_cmd *c, int whole,
			    struct vt_kpi_query *q)
{
	int64_t first = 0, last = 0;
	int rc = vt_kpi_span(db, &first, &last);

	if (rc < 0)
		return rc;
	q->since_ms = whole ? first : last;
	q->until_ms = last + 1;
	if (c->has_since && vt_kpi_local_to_utc(c->tz, c->since_wall, &q->since_ms) < 0)
		return -EINVAL;
	if (c->has_until && vt_kpi_local_to_utc(c->tz, c->until_wall, &q->until_ms) < 0)
		return -EINVAL;
	if (c->has_since && !c->has_until && q->until_ms <= q->since_ms)
		q->until_ms = q->since_ms + 1;	/* after the data: an empty period */
	if (c->has_until && !c->has_since && q->until_ms <= q->since_ms)
		q->since_ms = q->until_ms - 1;
	if (q->until_ms <= q->since_ms) {
		fprintf(stderr, "vitrine-aggregator: --until must come after --since\n");
		return -EINVAL;
	}
	return rc == 1 && !c->has_since && !c->has_until ? 1 : 0;
}

/* Write the HTML report to path through a temporary file, renamed when
 * complete: a reader never sees half a page. */
static int vt_kpi_cmd_html(const char *path, const struct vt_kpi_set *days,
			   const struct vt_kpi_set *hours, const char *tz)
{
	char tmp[4096];
	FILE *f;
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!(f = fopen(tmp, "w")))
		return -errno;
	rc = vt_html_report(f, days, hours, tz);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int vt_kpi_cmd_report(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out)
{
	struct vt_kpi_set days = { 0 }, hours = { 0 };
	struct vt_kpi_query q = { 0 };
	int rc = vt_kpi_cmd_range(db, c, 0, &q);

	if (rc < 0)
		return rc;
	vt_kpi_cmd_query(c, VT_KPI_DAY, &q);
	if (rc == 1) {
		fprintf(out, "(no data in the database yet)\n");
		q.since_ms = vt_os_now_ms();
		q.until_ms = q.since_ms + 1;
	}
	rc = vt_kpi_compute(db, &q, &days);
	/* the hours of the same (whole) days; no view shows their previous
	 * weeks, so their data is not read */
	q.period = VT_KPI_HOUR;
	q.no_history = 1;
	q.since_ms = days.since_ms;
	q.until_ms = days.until_ms;
	if (rc == 0)
		rc = vt_kpi_compute(db, &q, &hours);
	if (rc == 0)	/* hours for a day or two: beyond, the days say it */
		rc = vt_summary_print(out, &days,
				      days.until_ms - days.since_ms <= VT_KPI_CMD_TWO_DAYS ? &hours : NULL,
				      c->tz);
	if (rc == 0 && c->html) {
		rc = vt_kpi_cmd_html(c->html, &days, &hours, c->tz);
		if (rc < 0)
			fprintf(stderr, "vitrine-aggregator: cannot write %s: %s\n", c->html,
				vt_strerror(rc));
		else
			fprintf(out, "\nHTML report written to %s\n", c->html);
	}
	vt_kpi_free(&days);
	vt_kpi_free(&hours);
	return rc;
}

int vt_kpi_cmd_export(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out)
{
	struct vt_kpi_set set = { 0 };
	struct vt_kpi_query q = { 0 };
	const char *only = c->kpi && strcmp(c->kpi, "all") != 0 ? c->kpi : NULL;
	int rc = vt_kpi_cmd_range(db, c, 1, &q);

	if (rc < 0)
		return rc;
	vt_kpi_cmd_query(c, c->period, &q);
	if (rc == 0)
		rc = vt_kpi_compute(db, &q, &set);
	else
		rc = 0;	/* no data: the header alone */
	if (rc == 0)
		rc = c->json ? vt_kpi_write_json(out, &set, only) : vt_kpi_write_csv(out, &set, only);
	vt_kpi_free(&set);
	return rc;
}

int vt_kpi_cmd_panel(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out)
{
	struct vt_kpi_set days = { 0 };
	struct vt_kpi_query q = { 0 };
	int64_t first, last;
	int rc = vt_kpi_span(db, &first, &last);

	if (rc != 0)
		return rc < 0 ? rc : 0;
	vt_kpi_cmd_query(c, VT_KPI_DAY, &q);
	q.since_ms = last;
	q.until_ms = last + 1;
	q.no_history = 1;	/* the panel shows no comparison: each refresh reads one day */
	rc = vt_kpi_compute(db, &q, &days);
	if (rc == 0) {
		vt_summary_panel(out, &days);
		fputc('\n', out);
	}
	vt_kpi_free(&days);
	return rc;
}
