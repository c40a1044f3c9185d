/*
 * kpi_facts.h - what kpi.c computes from: the database's window cells and
 * events read as one list of facts, each a count of one metric at one time
 * in one store. Private to kpi.c (and its test).
 *
 * A window cell (anonymous mode) is a fact that spans its window; an event
 * (pseudonymous mode) is a fact at an instant, except RFID reads, which
 * become item-presence per 5-minute slot as the agent counts them in
 * anonymous mode (distinct tags per reader, GTIN and slot), so that the two
 * modes mean the same thing.
 */
#ifndef VT_AGG_KPI_FACTS_H
#define VT_AGG_KPI_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "kpi.h"

enum vt_fact_metric {
	VT_FACT_IN,		/* footfall in */
	VT_FACT_OUT,		/* footfall out */
	VT_FACT_SESSIONS,	/* kiosk sessions started */
	VT_FACT_SCREENS,	/* kiosk screens viewed */
	VT_FACT_LOOKUPS,	/* kiosk lookups; label GTIN, "" for an "other" cell */
	VT_FACT_SESSION_LEN,	/* sessions ended; dim the length bucket */
	VT_FACT_PRESENCE,	/* RFID item-presence; dim reader, label GTIN or "" */
};

struct vt_fact {
	size_t site;		/* index into vt_facts.sites */
	int64_t t_ms, len_ms;	/* start and length (0: an instant) */
	enum vt_fact_metric metric;
	uint32_t dim;
	char label[VT_KPI_GTIN_LEN];
	int64_t n;
};

struct vt_facts {
	char **sites;		/* owned, in order of appearance */
	size_t nsites;
	size_t last;		/* the site found last, tried first */
	struct vt_fact *v;	/* owned */
	size_t n, cap;
};

/* Append the facts that start in [lo_ms, hi_ms) of site (NULL: every
 * site) to f. 0, -ENOMEM or -VT_EDB (said on stderr). */
int vt_facts_load(sqlite3 *db, int64_t lo_ms, int64_t hi_ms, const char *site,
		  struct vt_facts *f);

void vt_facts_free(struct vt_facts *f);

#endif
