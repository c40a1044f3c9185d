/*
 * kpi_cmd.h - the commands of the key figures, behind main.c's options:
 * "report" (terminal summary, --html page), "export --kpi" (CSV or JSON
 * lines) and the panel at the top of "watch".
 *
 * They pick the period (the options, or the data's own span), compute the
 * figures with kpi.h and hand them to summary.h, html.h or kpi_out.h. The
 * database is the caller's, opened read-only.
 */
#ifndef VT_AGG_KPI_CMD_H
#define VT_AGG_KPI_CMD_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "kpi.h"

/* The options, as main.c parsed them. */
struct vt_kpi_cmd {
	int has_since, has_until;
	int64_t since_wall, until_wall;	/* clock readings of tz, parsed as if UTC */
	const char *tz;			/* NULL: UTC */
	const char *site;		/* NULL: every store */
	const char *kpi;		/* export: "all" or a figure's name */
	const char *html;		/* report: also write the page there */
	enum vt_kpi_period period;	/* export */
	unsigned k;			/* 0: VT_KPI_K_DEFAULT */
	int json;			/* export: JSON lines instead of CSV */
};

/* Each returns 0, -EINVAL for a bad value (an unknown zone, --until not
 * after --since), or another negative error; said on stderr. */

/* The days of [since, until) (by default the local day of the newest
 * data): the terminal summary, the hours too for up to two days, and the
 * HTML page if html is set (written whole, through a temporary file). */
int vt_kpi_cmd_report(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out);

/* The figures of every period of [since, until) (by default all the data). */
int vt_kpi_cmd_export(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out);

/* The panel of watch: each store's figures on the day of the newest data
 * (nothing when the database holds none). */
int vt_kpi_cmd_panel(sqlite3 *db, const struct vt_kpi_cmd *c, FILE *out);

#endif
