/*
 * kpi.h - the boutique's key figures (docs/KPIS.md): footfall, occupancy,
 * dwell, kiosk engagement and product interest per store and per hour,
 * day or week, computed from what the database holds.
 *
 * Both kinds of data count: the window cells of devices in anonymous mode
 * (the windows table, parts added up) and the events of devices in
 * pseudonymous mode (footfall, tablet and rfid tables), mapped onto the
 * same metrics. Every figure goes through one privacy rule here (a count
 * below k, or a figure derived from one, is suppressed: its value is
 * zeroed and it is marked so), so the outputs (kpi_out.c, html.c, the
 * terminal views) cannot show what the rule withholds.
 *
 * Read-only, like report.h. Periods are cut in the time zone given (an
 * Olson name; NULL or "UTC" for UTC): a day is a local calendar day, a
 * week starts on Monday at 00:00 local time.
 */
#ifndef VT_AGG_KPI_H
#define VT_AGG_KPI_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define VT_KPI_K_DEFAULT 10	/* as the agents' privacy_k default */
#define VT_KPI_K_MIN 5		/* as the agents' floor (docs/PRIVACY.md, R15) */
#define VT_KPI_PREV_WEEKS 4	/* weeks the comparison looks back */
#define VT_KPI_GTIN_LEN 15	/* 14 digits and a NUL */

enum vt_kpi_period {
	VT_KPI_HOUR,
	VT_KPI_DAY,
	VT_KPI_WEEK,
};

/* Each figure; the names and units are kpi_name() and kpi_unit(). */
enum vt_kpi_id {
	VT_KPI_FOOTFALL_IN,		/* people, per period */
	VT_KPI_FOOTFALL_OUT,		/* people, per period */
	VT_KPI_OCCUPANCY_PEAK,		/* people inside, highest in the period */
	VT_KPI_OCCUPANCY_END,		/* people inside at the end of the period */
	VT_KPI_DWELL_MEAN,		/* seconds, Little's law; days and weeks only */
	VT_KPI_KIOSK_SESSIONS,		/* sessions started */
	VT_KPI_KIOSK_SCREENS,		/* screens viewed */
	VT_KPI_KIOSK_LOOKUPS,		/* products looked up, all GTINs */
	VT_KPI_ENGAGEMENT,		/* kiosk sessions / footfall in, a ratio */
	VT_KPI_PREV_WEEKS_IN,		/* mean footfall in, same period of previous weeks */
	VT_KPI_CHANGE_PCT,		/* footfall in against that mean, percent */
	VT_KPI_SESSION_LENGTH,		/* sessions ended, per length bucket (dim) */
	VT_KPI_PRODUCT_PRESENCE,	/* RFID item-presence, per GTIN (label), every zone */
	VT_KPI_ZONE_PRESENCE,		/* the same per GTIN (label) and zone (dim: reader) */
	VT_KPI_PRODUCT_LOOKUPS,		/* kiosk lookups, per GTIN (label) */
	VT_KPI_COUNT
};

#define VT_KPI_LENGTH_BUCKETS 6	/* < 30 s, < 1 min, < 2 min, < 5 min, < 10 min, more */

/* One figure for one store and period. */
struct vt_kpi_row {
	size_t site;			/* index into vt_kpi_set.sites */
	int64_t start_ms, end_ms;	/* the period, UTC ms, [start, end) */
	int32_t start_off_s, end_off_s;	/* their offsets from UTC in the time zone */
	enum vt_kpi_id kpi;
	uint32_t dim;			/* length bucket, zone (RFID reader), weeks compared */
	char label[VT_KPI_GTIN_LEN];	/* GTIN, "" when the figure has none */
	double value;			/* 0 when suppressed */
	int shown;			/* 0: suppressed by the privacy rule */
};

/* The figures of [since_ms, until_ms), ordered by site, period start, kpi,
 * then (product rows) value descending, label and dim. */
struct vt_kpi_set {
	enum vt_kpi_period period;
	int64_t since_ms, until_ms;
	uint32_t k;
	char **sites;			/* owned, sorted */
	size_t nsites;
	struct vt_kpi_row *rows;	/* owned */
	size_t nrows;
	size_t suppressed;		/* rows whose value the rule withheld */
};

struct vt_kpi_query {
	enum vt_kpi_period period;
	int64_t since_ms, until_ms;	/* UTC ms; rounded out to whole periods */
	uint32_t k;			/* >= VT_KPI_K_MIN */
	const char *tz;			/* Olson name, NULL = UTC */
	const char *site;		/* NULL = every store */
	int no_history;			/* 1: skip the previous weeks (and reading their data) */
};

/* Compute the figures of q into *set (emptied first; free it with
 * vt_kpi_free even on failure). Returns 0, -EINVAL (k below the floor, an
 * unknown time zone: said on stderr), -ENOMEM or -VT_EDB. */
int vt_kpi_compute(sqlite3 *db, const struct vt_kpi_query *q, struct vt_kpi_set *set);

void vt_kpi_free(struct vt_kpi_set *set);

/* The span of the stored data: the start of the oldest fact and the
 * start of the newest (UTC ms). 0, 1 when there is no data, or -VT_EDB. */
int vt_kpi_span(sqlite3 *db, int64_t *first_ms, int64_t *last_ms);

/* The UTC time at which the clocks of tz (NULL: UTC) show wall, a time
 * parsed as if it were UTC ("2024-05-06" from the command line). 0 or
 * -EINVAL (an unknown zone, said on stderr). */
int vt_kpi_local_to_utc(const char *tz, int64_t wall_ms, int64_t *utc_ms);

/* The figure's name in exports ("footfall_in", ...) and its unit
 * ("people", "s", "ratio", "percent", "sessions", ...). */
const char *vt_kpi_name(enum vt_kpi_id kpi);
const char *vt_kpi_unit(enum vt_kpi_id kpi);

/* "hour", "day", "week", and back (-EINVAL for anything else). */
const char *vt_kpi_period_name(enum vt_kpi_period p);
int vt_kpi_parse_period(const char *s, enum vt_kpi_period *p);

/* The first row of site, period start_ms and kpi (dim, label ignored), or
 * NULL: for the views that pick single figures. A binary search: the
 * views call it for every cell. */
const struct vt_kpi_row *vt_kpi_find(const struct vt_kpi_set *set, size_t site,
				     int64_t start_ms, enum vt_kpi_id kpi);

/* The index of the store called name in set (NULL: none), or -1: for a
 * view that walks two sets of the same stores. */
long vt_kpi_site(const struct vt_kpi_set *set, const char *name);

/* The last row of site in set, one of its newest period (NULL if none). */
const struct vt_kpi_row *vt_kpi_last_row(const struct vt_kpi_set *set, size_t site);

#endif
