/*
 * kpi.c - the key figures of each store and period (kpi.h, docs/KPIS.md).
 *
 * From the facts of kpi_facts.c, in four steps:
 *   1. counts: each fact adds to the cell of its store, period (the one its
 *      start falls in), figure, dimension and label; cells are sorted and
 *      merged;
 *   2. occupancy: per store, in time order, people inside = in - out since
 *      the start of the local day, never below zero; a window's passes are
 *      spread evenly over it. Its area over time gives the mean dwell by
 *      Little's law (W = area / entries);
 *   3. derived figures: engagement, dwell, the same period of previous
 *      weeks and the change against it;
 *   4. the privacy rule, the same for every figure: each cell carries the
 *      count it rests on (its basis: the count itself, or the smallest of
 *      the counts a derived figure comes from) and is shown only if that
 *      basis reaches k. Products whose count is withheld are dropped, label
 *      and all; the other figures stay, marked suppressed, with value 0.
 * Periods are cut in local time: TZ is set for the duration of the call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "kpi.h"
#include "kpi_facts.h"

#define VT_KPI_DAY_MS INT64_C(86400000)
/* Internal: the area under the occupancy of a period (people x ms), from
 * which step 3 computes the dwell; never shown. */
#define VT_KPI_AREA VT_KPI_COUNT

static const struct {
	const char *name, *unit;
} vt_kpi_names[VT_KPI_COUNT] = {
	[VT_KPI_FOOTFALL_IN] = { "footfall_in", "people" },
	[VT_KPI_FOOTFALL_OUT] = { "footfall_out", "people" },
	[VT_KPI_OCCUPANCY_PEAK] = { "occupancy_peak", "people" },
	[VT_KPI_OCCUPANCY_END] = { "occupancy_end", "people" },
	[VT_KPI_DWELL_MEAN] = { "dwell_mean", "s" },
	[VT_KPI_KIOSK_SESSIONS] = { "kiosk_sessions", "sessions" },
	[VT_KPI_KIOSK_SCREENS] = { "kiosk_screens", "screens" },
	[VT_KPI_KIOSK_LOOKUPS] = { "kiosk_lookups", "lookups" },
	[VT_KPI_ENGAGEMENT] = { "engagement", "ratio" },
	[VT_KPI_PREV_WEEKS_IN] = { "footfall_in_prev_weeks", "people" },
	[VT_KPI_CHANGE_PCT] = { "footfall_in_change", "percent" },
	[VT_KPI_SESSION_LENGTH] = { "session_length", "sessions" },
	[VT_KPI_PRODUCT_PRESENCE] = { "product_presence", "item-slots" },
	[VT_KPI_ZONE_PRESENCE] = { "zone_presence", "item-slots" },
	[VT_KPI_PRODUCT_LOOKUPS] = { "product_lookups", "lookups" },
};

static const char *const vt_kpi_periods[] = { "hour", "day", "week" };

/* A figure while it is computed: the row and the count it rests on. */
struct vt_kpi_cell {
	struct vt_kpi_row row;
	double basis;
};

struct vt_kpi_cells {
	struct vt_kpi_cell *v;
	size_t n, cap;
};

struct vt_kpi_ctx {
	enum vt_kpi_period period;
	/* the last period found, reused while facts fall in it */
	int64_t cached_start, cached_end;
};

/* ---- names ------------------------------------------------------------------------ */

const char *vt_kpi_name(enum vt_kpi_id kpi)
{
	return (unsigned)kpi < VT_KPI_COUNT ? vt_kpi_names[kpi].name : "?";
}

const char *vt_kpi_unit(enum vt_kpi_id kpi)
{
	return (unsigned)kpi < VT_KPI_COUNT ? vt_kpi_names[kpi].unit : "?";
}

const char *vt_kpi_period_name(enum vt_kpi_period p)
{
	return (unsigned)p <= VT_KPI_WEEK ? vt_kpi_periods[p] : "?";
}

int vt_kpi_parse_period(const char *s, enum vt_kpi_period *p)
{
	for (int i = VT_KPI_HOUR; i <= VT_KPI_WEEK; i++) {
		if (strcmp(s, vt_kpi_periods[i]) == 0) {
			*p = (enum vt_kpi_period)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- local calendar -------------------------------------------------------------------- */

static int64_t vt_kpi_mktime(struct tm *tm)
{
	return (int64_t)mktime(tm) * 1000;
}

/* Start of the period that contains ms, in local time. */
static int64_t vt_kpi_period_start(int64_t ms, enum vt_kpi_period p)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return ms - ms % 3600000;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	if (p == VT_KPI_HOUR)
		return vt_kpi_mktime(&tm);	/* tm_isdst kept: the right one of a repeated hour */
	tm.tm_hour = 0;
	if (p == VT_KPI_WEEK)
		tm.tm_mday -= (tm.tm_wday + 6) % 7;	/* back to Monday */
	tm.tm_isdst = -1;
	return vt_kpi_mktime(&tm);
}

/* The same local time of day days later (earlier if negative). */
static int64_t vt_kpi_shift_days(int64_t ms, int days)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return ms + days * VT_KPI_DAY_MS;
	tm.tm_mday += days;
	tm.tm_isdst = -1;
	return vt_kpi_mktime(&tm);
}

/* Start of the period after the one starting at start. */
static int64_t vt_kpi_period_next(int64_t start, enum vt_kpi_period p)
{
	if (p == VT_KPI_HOUR)
		return vt_kpi_period_start(start + 3600000, p);
	return vt_kpi_period_start(vt_kpi_shift_days(start, p == VT_KPI_DAY ? 1 : 7) + 3600000, p);
}

static void vt_kpi_period_of(struct vt_kpi_ctx *c, int64_t ms, int64_t *start, int64_t *end)
{
	if (ms < c->cached_start || ms >= c->cached_end) {
		c->cached_start = vt_kpi_period_start(ms, c->period);
		c->cached_end = vt_kpi_period_next(c->cached_start, c->period);
	}
	*start = c->cached_start;
	*end = c->cached_end;
}

/* TZ for the call: an Olson name that exists under the zoneinfo folder, or
 * UTC. *saved gets the caller's TZ back with vt_kpi_tz_restore. */
static int vt_kpi_tz_set(const char *tz, char **saved)
{
	const char *old = getenv("TZ");
	const char *dir = getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
	char path[512];

	*saved = NULL;
	if (tz && strcmp(tz, "UTC") != 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, tz);
		if (!*tz || tz[0] == '/' || strstr(tz, "..") || access(path, R_OK) != 0) {
			fprintf(stderr, "vitrine-aggregator: unknown time zone '%s' (expected a name"
				" such as Europe/Paris, as in %s)\n", tz, dir);
			return -EINVAL;
		}
	}
	if (old && !(*saved = strdup(old)))
		return -ENOMEM;
	setenv("TZ", tz && strcmp(tz, "UTC") != 0 ? tz : "UTC0", 1);
	tzset();
	return 0;
}

static void vt_kpi_tz_restore(char *saved)
{
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* ---- cells ------------------------------------------------------------------------------ */

/* -1, 0 or 1 as a is below, equal to or above b: the comparators' steps. */
static int vt_kpi_order(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static struct vt_kpi_cell *vt_kpi_push(struct vt_kpi_cells *cs)
{
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 1024;
		struct vt_kpi_cell *grown = realloc(cs->v, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		cs->v = grown;
		cs->cap = cap;
	}
	memset(&cs->v[cs->n], 0, sizeof(cs->v[0]));
	return &cs->v[cs->n++];
}

static int vt_kpi_add(struct vt_kpi_cells *cs, size_t site, int64_t start, int64_t end,
		      enum vt_kpi_id kpi, uint32_t dim, const char *label, double value)
{
	struct vt_kpi_cell *c = vt_kpi_push(cs);

	if (!c)
		return -ENOMEM;
	c->row.site = site;
	c->row.start_ms = start;
	c->row.end_ms = end;
	c->row.kpi = kpi;
	c->row.dim = dim;
	snprintf(c->row.label, sizeof(c->row.label), "%s", label);
	c->row.value = value;
	c->basis = value;
	return 0;
}

static int vt_kpi_key_cmp(const void *pa, const void *pb)
{
	const struct vt_kpi_row *a = &((const struct vt_kpi_cell *)pa)->row;
	const struct vt_kpi_row *b = &((const struct vt_kpi_cell *)pb)->row;
	int o = vt_kpi_order((int64_t)a->site, (int64_t)b->site);

	o = o ? o : vt_kpi_order(a->start_ms, b->start_ms);
	o = o ? o : vt_kpi_order(a->kpi, b->kpi);
	o = o ? o : vt_kpi_order(a->dim, b->dim);
	return o ? o : strcmp(a->label, b->label);
}

/* Sort by key and add up the cells of one key (value and basis alike). */
static void vt_kpi_merge(struct vt_kpi_cells *cs)
{
	size_t w = 0;

	if (cs->n == 0)
		return;
	qsort(cs->v, cs->n, sizeof(cs->v[0]), vt_kpi_key_cmp);
	for (size_t r = 1; r < cs->n; r++) {
		if (vt_kpi_key_cmp(&cs->v[w], &cs->v[r]) == 0) {
			cs->v[w].row.value += cs->v[r].row.value;
			cs->v[w].basis += cs->v[r].basis;
		} else {
			cs->v[++w] = cs->v[r];
		}
	}
	cs->n = w + 1;
}

/* The cell of (site, start, kpi) with dim 0 and no label in sorted cells. */
static struct vt_kpi_cell *vt_kpi_lookup(const struct vt_kpi_cells *cs, size_t site,
					 int64_t start, enum vt_kpi_id kpi)
{
	struct vt_kpi_cell key = { .row = { .site = site, .start_ms = start, .kpi = kpi } };

	return bsearch(&key, cs->v, cs->n, sizeof(cs->v[0]), vt_kpi_key_cmp);
}

/* ---- step 1: counts ---------------------------------------------------------------------- */

static int vt_kpi_count_fact(struct vt_kpi_ctx *c, const struct vt_fact *f, struct vt_kpi_cells *cs)
{
	static const enum vt_kpi_id scalar[] = {
		[VT_FACT_IN] = VT_KPI_FOOTFALL_IN,
		[VT_FACT_OUT] = VT_KPI_FOOTFALL_OUT,
		[VT_FACT_SESSIONS] = VT_KPI_KIOSK_SESSIONS,
		[VT_FACT_SCREENS] = VT_KPI_KIOSK_SCREENS,
		[VT_FACT_LOOKUPS] = VT_KPI_KIOSK_LOOKUPS,
	};
	double n = (double)f->n;
	int64_t s, e;
	int rc = 0;

	vt_kpi_period_of(c, f->t_ms, &s, &e);
	switch (f->metric) {
	case VT_FACT_LOOKUPS:
		if (f->label[0])
			rc = vt_kpi_add(cs, f->site, s, e, VT_KPI_PRODUCT_LOOKUPS, 0, f->label, n);
		/* fall through */
	case VT_FACT_IN:
	case VT_FACT_OUT:
	case VT_FACT_SESSIONS:
	case VT_FACT_SCREENS:
		return rc ? rc : vt_kpi_add(cs, f->site, s, e, scalar[f->metric], 0, "", n);
	case VT_FACT_SESSION_LEN:
		return vt_kpi_add(cs, f->site, s, e, VT_KPI_SESSION_LENGTH, f->dim, "", n);
	case VT_FACT_PRESENCE:
		if (!f->label[0])
			return 0;	/* an "other" cell: no product to show */
		rc = vt_kpi_add(cs, f->site, s, e, VT_KPI_PRODUCT_PRESENCE, 0, f->label, n);
		return rc ? rc : vt_kpi_add(cs, f->site, s, e, VT_KPI_ZONE_PRESENCE, f->dim, f->label, n);
	}
	return 0;
}

/* ---- step 2: occupancy -------------------------------------------------------------------- */

/* The net passes of one store at one time (one window, or one instant). */
struct vt_kpi_pass {
	size_t site;
	int64_t t_ms, len_ms;
	double in, out;
};

/* The occupancy of one store in the period being filled. */
struct vt_kpi_occ {
	size_t site;
	int64_t start, end;	/* the period; end 0 = none yet */
	double peak, now, area_ms, day_in;
	int64_t day, last_end;
};

static int vt_kpi_pass_cmp(const void *pa, const void *pb)
{
	const struct vt_kpi_pass *a = pa, *b = pb;
	int o = vt_kpi_order((int64_t)a->site, (int64_t)b->site);

	o = o ? o : vt_kpi_order(a->t_ms, b->t_ms);
	return o ? o : vt_kpi_order(a->len_ms, b->len_ms);
}

/* The footfall facts as passes, sorted, one per (store, time, length). */
static struct vt_kpi_pass *vt_kpi_passes(const struct vt_facts *f, size_t *n)
{
	struct vt_kpi_pass *p = malloc((f->n ? f->n : 1) * sizeof(*p));
	size_t m = 0, w = 0;

	if (!p)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		const struct vt_fact *x = &f->v[i];

		if (x->metric != VT_FACT_IN && x->metric != VT_FACT_OUT)
			continue;
		p[m] = (struct vt_kpi_pass){ x->site, x->t_ms, x->len_ms, 0, 0 };
		*(x->metric == VT_FACT_IN ? &p[m].in : &p[m].out) = (double)x->n;
		m++;
	}
	if (m)
		qsort(p, m, sizeof(*p), vt_kpi_pass_cmp);
	for (size_t r = 1; r < m; r++) {
		if (vt_kpi_pass_cmp(&p[w], &p[r]) == 0) {
			p[w].in += p[r].in;
			p[w].out += p[r].out;
		} else {
			p[++w] = p[r];
		}
	}
	*n = m ? w + 1 : 0;
	return p;
}

/* Flush the period of o: its peak, its end and its area, each resting on
 * the entries of the day so far (of its last day, for a week). */
static int vt_kpi_occ_flush(struct vt_kpi_occ *o, struct vt_kpi_cells *out)
{
	static const enum vt_kpi_id ids[] = { VT_KPI_OCCUPANCY_PEAK, VT_KPI_OCCUPANCY_END,
					      VT_KPI_AREA };
	const double v[] = { o->peak, o->now, o->area_ms };

	if (!o->end)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (vt_kpi_add(out, o->site, o->start, o->end, ids[i], 0, "", v[i]) < 0)
			return -ENOMEM;
		out->v[out->n - 1].basis = o->day_in;
	}
	o->end = 0;
	return 0;
}

/* One pass: people inside move from now to max(0, now + in - out) over
 * the pass's length; the time since the previous pass is flat. */
static int vt_kpi_occ_step(struct vt_kpi_ctx *c, struct vt_kpi_occ *o, const struct vt_kpi_pass *p,
			   struct vt_kpi_cells *out)
{
	int64_t day = vt_kpi_period_start(p->t_ms, VT_KPI_DAY), s, e;
	double next;

	vt_kpi_period_of(c, p->t_ms, &s, &e);
	if (o->end && (o->site != p->site || o->start != s) && vt_kpi_occ_flush(o, out) < 0)
		return -ENOMEM;
	if (o->site != p->site || o->day != day) {	/* a new store or day starts empty */
		o->site = p->site;
		o->day = day;
		o->now = o->day_in = 0;
		o->last_end = p->t_ms;
	}
	if (!o->end) {
		o->start = s;
		o->end = e;
		o->peak = o->now;
		o->area_ms = 0;
	}
	next = o->now + p->in - p->out;
	if (next < 0)
		next = 0;
	if (p->t_ms > o->last_end)
		o->area_ms += o->now * (double)(p->t_ms - o->last_end);
	o->area_ms += (o->now + next) / 2 * (double)p->len_ms;
	o->now = next;
	o->day_in += p->in;
	if (next > o->peak)
		o->peak = next;
	if (p->t_ms + p->len_ms > o->last_end)
		o->last_end = p->t_ms + p->len_ms;
	return 0;
}

static int vt_kpi_occupancy(struct vt_kpi_ctx *c, const struct vt_facts *f, struct vt_kpi_cells *out)
{
	struct vt_kpi_occ o = { .site = (size_t)-1 };
	size_t n = 0;
	struct vt_kpi_pass *p = vt_kpi_passes(f, &n);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = vt_kpi_occ_step(c, &o, &p[i], out);
	if (rc == 0)
		rc = vt_kpi_occ_flush(&o, out);
	free(p);
	return rc;
}

/* ---- step 3: derived figures --------------------------------------------------------------- */

static double vt_kpi_min(double a, double b)
{
	return a < b ? a : b;
}

/* The mean dwell of a day or week: its area over its entries. */
static int vt_kpi_dwell(const struct vt_kpi_cells *cs, const struct vt_kpi_cell *in,
			struct vt_kpi_cells *out)
{
	const struct vt_kpi_row *r = &in->row;
	struct vt_kpi_cell *area = vt_kpi_lookup(cs, r->site, r->start_ms, VT_KPI_AREA);

	if (!area)
		return 0;
	if (vt_kpi_add(out, r->site, r->start_ms, r->end_ms, VT_KPI_DWELL_MEAN, 0, "",
		       area->row.value / 1000 / r->value) < 0)
		return -ENOMEM;
	out->v[out->n - 1].basis = in->basis;
	return 0;
}

static int vt_kpi_derive_one(struct vt_kpi_cells *cs, const struct vt_kpi_cell *in,
			     enum vt_kpi_period period, struct vt_kpi_cells *out)
{
	const struct vt_kpi_row *r = &in->row;
	struct vt_kpi_cell *sessions = vt_kpi_lookup(cs, r->site, r->start_ms, VT_KPI_KIOSK_SESSIONS);
	double sum = 0, basis = r->value;
	uint32_t weeks = 0;

	if (period != VT_KPI_HOUR && vt_kpi_dwell(cs, in, out) < 0)
		return -ENOMEM;
	if (sessions) {
		if (vt_kpi_add(out, r->site, r->start_ms, r->end_ms, VT_KPI_ENGAGEMENT, 0, "",
			       sessions->row.value / r->value) < 0)
			return -ENOMEM;
		out->v[out->n - 1].basis = vt_kpi_min(sessions->basis, in->basis);
	}
	for (int j = 1; j <= VT_KPI_PREV_WEEKS; j++) {
		struct vt_kpi_cell *prev = vt_kpi_lookup(
			cs, r->site, vt_kpi_period_start(vt_kpi_shift_days(r->start_ms, -7 * j), period),
			VT_KPI_FOOTFALL_IN);

		if (prev) {
			sum += prev->row.value;
			basis = vt_kpi_min(basis, prev->basis);
			weeks++;
		}
	}
	if (!weeks)
		return 0;
	if (vt_kpi_add(out, r->site, r->start_ms, r->end_ms, VT_KPI_PREV_WEEKS_IN, weeks, "",
		       sum / weeks) < 0 ||
	    vt_kpi_add(out, r->site, r->start_ms, r->end_ms, VT_KPI_CHANGE_PCT, 0, "",
		       (r->value - sum / weeks) / (sum / weeks) * 100) < 0)
		return -ENOMEM;
	out->v[out->n - 2].basis = basis;
	out->v[out->n - 1].basis = basis;
	return 0;
}

/* For each period of [since, until) with people in. */
static int vt_kpi_derive(struct vt_kpi_cells *cs, enum vt_kpi_period period, int64_t since,
			 struct vt_kpi_cells *out)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct vt_kpi_cell *c = &cs->v[i];

		if (c->row.kpi == VT_KPI_FOOTFALL_IN && c->row.start_ms >= since &&
		    vt_kpi_derive_one(cs, c, period, out) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- step 4: the privacy rule and the set ------------------------------------------------------ */

static int vt_kpi_is_product(enum vt_kpi_id kpi)
{
	return kpi == VT_KPI_PRODUCT_PRESENCE || kpi == VT_KPI_ZONE_PRESENCE ||
	       kpi == VT_KPI_PRODUCT_LOOKUPS;
}

static int vt_kpi_row_cmp(const void *pa, const void *pb)
{
	const struct vt_kpi_row *a = pa, *b = pb;
	int o = vt_kpi_order((int64_t)a->site, (int64_t)b->site);

	o = o ? o : vt_kpi_order(a->start_ms, b->start_ms);
	o = o ? o : vt_kpi_order(a->kpi, b->kpi);
	o = o ? o : (a->value < b->value) - (a->value > b->value);	/* largest first */
	o = o ? o : strcmp(a->label, b->label);
	return o ? o : vt_kpi_order(a->dim, b->dim);
}

/* Orders indexes into sites (the argument) by name. */
static int vt_kpi_site_cmp(const void *a, const void *b, void *sites)
{
	char *const *names = sites;

	return strcmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

/* Move the sites that have rows into set, sorted by name, and renumber
 * the rows. */
static int vt_kpi_sites(struct vt_facts *f, struct vt_kpi_set *set)
{
	size_t n = f->nsites ? f->nsites : 1, used = 0;
	size_t *order = malloc(n * sizeof(*order)), *map = calloc(n, sizeof(*map));
	int rc = -ENOMEM;

	if (!order || !map || !(set->sites = calloc(n, sizeof(char *))))
		goto out;
	for (size_t i = 0; i < set->nrows; i++)
		map[set->rows[i].site] = 1;
	for (size_t i = 0; i < f->nsites; i++)
		if (map[i])
			order[used++] = i;
	qsort_r(order, used, sizeof(*order), vt_kpi_site_cmp, f->sites);
	for (size_t j = 0; j < used; j++) {
		map[order[j]] = j;
		set->sites[j] = f->sites[order[j]];
		f->sites[order[j]] = NULL;	/* now the set's */
	}
	set->nsites = used;
	for (size_t i = 0; i < set->nrows; i++)
		set->rows[i].site = map[set->rows[i].site];
	qsort(set->rows, set->nrows, sizeof(*set->rows), vt_kpi_row_cmp);
	rc = 0;
out:
	free(order);
	free(map);
	return rc;
}

static int32_t vt_kpi_offset(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	return localtime_r(&t, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

/* Apply the rule to the cells of [since, until) and keep them in set. */
static int vt_kpi_keep(const struct vt_kpi_cells *cs, struct vt_kpi_set *set)
{
	set->rows = malloc((cs->n ? cs->n : 1) * sizeof(*set->rows));
	if (!set->rows)
		return -ENOMEM;
	for (size_t i = 0; i < cs->n; i++) {
		struct vt_kpi_row r = cs->v[i].row;

		if (r.kpi >= VT_KPI_COUNT || r.start_ms < set->since_ms || r.start_ms >= set->until_ms)
			continue;
		r.shown = cs->v[i].basis >= set->k;
		if (!r.shown) {
			set->suppressed++;
			if (vt_kpi_is_product(r.kpi))
				continue;
			r.value = 0;
		}
		r.start_off_s = vt_kpi_offset(r.start_ms);
		r.end_off_s = vt_kpi_offset(r.end_ms);
		set->rows[set->nrows++] = r;
	}
	return 0;
}

static int vt_kpi_build(struct vt_kpi_ctx *c, struct vt_facts *f, struct vt_kpi_set *set)
{
	struct vt_kpi_cells cs = { 0 }, derived = { 0 };
	int rc = 0;

	for (size_t i = 0; i < f->n && rc == 0; i++)
		rc = vt_kpi_count_fact(c, &f->v[i], &cs);
	if (rc == 0)
		rc = vt_kpi_occupancy(c, f, &cs);
	if (rc < 0)
		goto out;
	vt_kpi_merge(&cs);
	rc = vt_kpi_derive(&cs, c->period, set->since_ms, &derived);
	for (size_t i = 0; i < derived.n && rc == 0; i++) {
		struct vt_kpi_cell *x = vt_kpi_push(&cs);

		if (!x)
			rc = -ENOMEM;
		else
			*x = derived.v[i];
	}
	if (rc == 0)
		rc = vt_kpi_keep(&cs, set);
out:
	free(cs.v);
	free(derived.v);
	return rc;
}

/* ---- the call -------------------------------------------------------------------------------- */

int vt_kpi_compute(sqlite3 *db, const struct vt_kpi_query *q, struct vt_kpi_set *set)
{
	struct vt_kpi_ctx c = { .period = q->period };
	struct vt_facts f = { 0 };
	char *saved_tz = NULL;
	int64_t lo;
	int rc;

	vt_kpi_free(set);
	set->period = q->period;
	set->k = q->k;
	if (q->k < VT_KPI_K_MIN) {
		fprintf(stderr, "vitrine-aggregator: k %u is below the floor of %d (docs/KPIS.md)\n",
			q->k, VT_KPI_K_MIN);
		return -EINVAL;
	}
	if (q->since_ms < 0 || q->until_ms <= q->since_ms) {
		fprintf(stderr, "vitrine-aggregator: empty or negative period\n");
		return -EINVAL;
	}
	rc = vt_kpi_tz_set(q->tz, &saved_tz);
	if (rc < 0)
		return rc;
	set->since_ms = vt_kpi_period_start(q->since_ms, q->period);
	set->until_ms = vt_kpi_period_next(vt_kpi_period_start(q->until_ms - 1, q->period), q->period);
	/* from far enough back for the previous weeks of the first period,
	 * unless the caller shows none */
	lo = q->no_history ? set->since_ms
			   : vt_kpi_period_start(vt_kpi_shift_days(set->since_ms,
								  -7 * VT_KPI_PREV_WEEKS),
						 q->period);
	rc = vt_facts_load(db, lo, set->until_ms, q->site, &f);
	if (rc == 0)
		rc = vt_kpi_build(&c, &f, set);
	if (rc == 0)
		rc = vt_kpi_sites(&f, set);
	vt_kpi_tz_restore(saved_tz);
	vt_facts_free(&f);
	return rc;
}

void vt_kpi_free(struct vt_kpi_set *set)
{
	for (size_t i = 0; i < set->nsites; i++)
		free(set->sites[i]);
	free(set->sites);
	free(set->rows);
	memset(set, 0, sizeof(*set));
}

const struct vt_kpi_row *vt_kpi_find(const struct vt_kpi_set *set, size_t site,
				     int64_t start_ms, enum vt_kpi_id kpi)
{
	size_t lo = 0, hi = set->nrows;

	/* rows are sorted by site, start, kpi: the first one not before the key */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vt_kpi_row *r = &set->rows[mid];
		int o = vt_kpi_order((int64_t)r->site, (int64_t)site);

		o = o ? o : vt_kpi_order(r->start_ms, start_ms);
		o = o ? o : vt_kpi_order(r->kpi, kpi);
		if (o < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < set->nrows && set->rows[lo].site == site && set->rows[lo].start_ms == start_ms &&
	    set->rows[lo].kpi == kpi)
		return &set->rows[lo];
	return NULL;
}

long vt_kpi_site(const struct vt_kpi_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->nsites; i++)
		if (strcmp(set->sites[i], name) == 0)
			return (long)i;
	return -1;
}

const struct vt_kpi_row *vt_kpi_last_row(const struct vt_kpi_set *set, size_t site)
{
	const struct vt_kpi_row *last = NULL;

	for (size_t i = 0; i < set->nrows; i++)
		if (set->rows[i].site == site)
			last = &set->rows[i];
	return last;
}

int vt_kpi_local_to_utc(const char *tz, int64_t wall_ms, int64_t *utc_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	char *saved = NULL;
	struct tm tm;
	int rc = vt_kpi_tz_set(tz, &saved);

	if (rc < 0)
		return rc;
	if (!gmtime_r(&t, &tm)) {
		rc = -EINVAL;
	} else {
		tm.tm_isdst = -1;
		*utc_ms = vt_kpi_mktime(&tm) + wall_ms % 1000;
	}
	vt_kpi_tz_restore(saved);
	return rc;
}
