/*
 * plugins/tablet/source_sim.c - simulated kiosks behind the tablet source
 * interface.
 *
 * Each kiosk sits idle until a customer starts a session (a Poisson process
 * during opening hours, Mon-Sat 10:00-19:00 and Sun 12:00-18:00 store time =
 * UTC, busier at lunchtime, after work and on Saturdays). A session starts
 * on "home", goes through 2 to 9 screens of a few seconds to a minute and a
 * half each; on a product screen the customer looks up one of 20 products
 * of the catalogue below (valid GTIN-14s); the session ends when the customer
 * taps "done" or after the kiosk's 60 s idle timeout. Session ids are 128
 * random bits in hex, except for the first sessions when canary ids (the
 * test key tablet.canary) are given: a privacy test seeds them and then
 * looks for them in everything the agent writes or sends.
 *
 * Each kiosk has its own PRNG stream and computes its next event ahead;
 * next_event hands out the oldest across kiosks. Everything is a function of
 * the parameters: no clock, no rand(), no allocation after create.
 */
#include "source.h"

#include "common/sim_link.h"
#include "common/sim_rng.h"
#include "common/store_hours.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIM_SESSIONS_PER_HOUR 5.0
#define SIM_IDLE_TIMEOUT_MS 60000

/* GTIN-14s with correct check digits (indicator digit + GTIN-13). */
static const char *const sim_catalogue[] = {
	"03012345123457",	/* eau de parfum 50 ml */
	"03012345123464",	/* eau de parfum 100 ml */
	"03012345123471",	/* scented candle */
	"03012345123501",	/* travel spray set */
	"08012345670451",	/* leather handbag, black */
	"08012345670468",	/* leather handbag, tan */
	"08012345670475",	/* leather card holder */
	"08012345671014",	/* silk-lined weekend bag */
	"07612345678900",	/* automatic watch, 38 mm */
	"17612345678907",	/* automatic watch, gift box */
	"03001234567816",	/* silk scarf 90 */
	"03001234567823",	/* silk tie */
	"08012345678129",	/* leather belt */
	"08012345678136",	/* suede loafers */
	"04006381331234",	/* fountain pen */
	"04006381331241",	/* notebook, calfskin */
	"07612345612348",	/* cufflinks, gold */
	"07612345612355",	/* signet ring */
	"03012341234560",	/* cashmere coat */
	"03012341234577",	/* cashmere sweater */
};
#define SIM_PRODUCTS (sizeof(sim_catalogue) / sizeof(sim_catalogue[0]))

static const char *const sim_screens[] = {
	"home", "new-arrivals", "collections", "product", "lookbook",
	"store-services", "care-guide", "wishlist", "appointment",
};
#define SIM_SCREENS (sizeof(sim_screens) / sizeof(sim_screens[0]))
#define SIM_SCREEN_PRODUCT 3

enum sim_phase {
	SIM_START,	/* next: SESSION_START */
	SIM_VIEW,	/* next: a lookup (if pending) or the view itself */
	SIM_END,	/* next: SESSION_END */
};

struct sim_kiosk {
	uint64_t rng;
	uint32_t number;	/* 1-based */
	uint32_t phase;		/* enum sim_phase */
	uint32_t views_left;
	uint32_t screen;
	uint32_t view_ms;
	uint32_t lookup_ms;	/* offset of the lookup in the view; 0 = none */
	int64_t session_ms;	/* session start */
	int64_t view_start_ms;
	int64_t end_ms;
	char session[VITRINE_SESSION_MAX];
	struct tablet_event next;
};

struct tablet_sim {
	struct tablet_source base;
	struct tablet_sim_params p;
	struct vp_sim_link link;
	char canaries[TABLET_SIM_CANARIES_MAX][VITRINE_SESSION_MAX];
	uint32_t canaries_used;	/* by the sessions planned so far */
	struct sim_kiosk kiosks[];
};

/* ---- when customers come ---------------------------------------------- */

static double sim_sessions_per_hour(int64_t t)
{
	int64_t hour = t % VP_DAY_MS / VP_HOUR_MS;
	double rate = SIM_SESSIONS_PER_HOUR;

	if (hour == 12 || hour == 13)
		rate *= 2.0;
	else if (hour >= 17)
		rate *= 1.4;
	if (vp_store_weekday(t) == 6)
		rate *= 1.4;
	return rate;
}

/* When the next customer starts a session at a kiosk idle since t. */
static int64_t sim_next_session(struct sim_kiosk *k, int64_t t)
{
	for (;;) {
		double u = vp_rng_unit(&k->rng);
		int64_t gap;

		t = vp_store_next_open_ms(t);
		gap = (int64_t)(vp_rng_exp(u) / sim_sessions_per_hour(t) * 3.6e6);
		if (t + gap < vp_store_close_ms(t))
			return t + gap;
		t = vp_store_close_ms(t);
	}
}

/* ---- one kiosk --------------------------------------------------------- */

static void sim_new_session(struct tablet_sim *s, struct sim_kiosk *k,
			    int64_t idle_since)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t bits[2] = { vp_rng_next(&k->rng), vp_rng_next(&k->rng) };

	/* A canary id replaces the random one, which is still drawn: the
	 * sessions are the same with or without canaries, but for their ids. */
	if (s->canaries_used < s->p.ncanaries) {
		memcpy(k->session, s->canaries[s->canaries_used++], sizeof(k->session));
	} else {
		for (int i = 0; i < 32; i++)
			k->session[i] = hex[(bits[i / 16] >> (4 * (i % 16))) & 0xf];
		k->session[32] = '\0';
	}
	k->session_ms = sim_next_session(k, idle_since);
	k->phase = SIM_START;
}

static void sim_plan_view(struct sim_kiosk *k, int64_t start, int first)
{
	uint64_t roll = vp_rng_next(&k->rng) % 100;

	k->view_start_ms = start;
	if (first)
		k->screen = 0;
	else if (roll < 35)
		k->screen = SIM_SCREEN_PRODUCT;
	else
		k->screen = 1 + (uint32_t)(vp_rng_next(&k->rng) % (SIM_SCREENS - 1));
	k->lookup_ms = 0;
	if (k->screen != SIM_SCREEN_PRODUCT) {
		k->view_ms = (uint32_t)vp_rng_range(&k->rng, 3000, 45000);
		return;
	}
	k->view_ms = (uint32_t)vp_rng_range(&k->rng, 8000, 90000);
	k->lookup_ms = (uint32_t)vp_rng_range(&k->rng, 500, 3000);
}

static void sim_event(struct sim_kiosk *k, uint32_t type, int64_t ts,
		      uint32_t duration_ms)
{
	struct tablet_event *ev = &k->next;

	memset(ev, 0, sizeof(*ev));
	ev->kiosk = k->number;
	ev->type = type;
	memcpy(ev->session, k->session, sizeof(k->session));
	ev->duration_ms = duration_ms;
	ev->ts_ms = ts;
}

static void sim_emit_lookup(struct sim_kiosk *k)
{
	const char *gtin = sim_catalogue[vp_rng_next(&k->rng) % SIM_PRODUCTS];

	sim_event(k, VITRINE_TABLET_PRODUCT_LOOKUP, k->view_start_ms + k->lookup_ms,
		  k->view_ms - k->lookup_ms);
	memcpy(k->next.gtin, gtin, strlen(gtin) + 1);
	k->lookup_ms = 0;
}

static void sim_emit_view(struct sim_kiosk *k)
{
	int64_t end = k->view_start_ms + k->view_ms;
	const char *screen = sim_screens[k->screen];

	sim_event(k, VITRINE_TABLET_SCREEN_VIEW, end, k->view_ms);
	memcpy(k->next.screen, screen, strlen(screen) + 1);
	if (--k->views_left) {
		sim_plan_view(k, end + vp_rng_range(&k->rng, 200, 1500), 0);
		return;
	}
	/* "Done" tapped, or the kiosk's idle timeout. */
	k->end_ms = end + (vp_rng_next(&k->rng) % 10 < 3 ?
			   vp_rng_range(&k->rng, 1000, 3000) : SIM_IDLE_TIMEOUT_MS);
	k->phase = SIM_END;
}

/* Computes the kiosk's next event into k->next. */
static void sim_kiosk_advance(struct tablet_sim *s, struct sim_kiosk *k)
{
	switch (k->phase) {
	case SIM_START:
		sim_event(k, VITRINE_TABLET_SESSION_START, k->session_ms, 0);
		k->views_left = (uint32_t)vp_rng_range(&k->rng, 2, 9);
		sim_plan_view(k, k->session_ms + vp_rng_range(&k->rng, 300, 2000), 1);
		k->phase = SIM_VIEW;
		break;
	case SIM_VIEW:
		if (k->lookup_ms)
			sim_emit_lookup(k);
		else
			sim_emit_view(k);
		break;
	default:
		sim_event(k, VITRINE_TABLET_SESSION_END, k->end_ms,
			  (uint32_t)(k->end_ms - k->session_ms));
		sim_new_session(s, k, k->end_ms + vp_rng_range(&k->rng, 5000, 60000));
	}
}

/* ---- the source ops ---------------------------------------------------- */

static struct sim_kiosk *sim_earliest(struct tablet_sim *s)
{
	struct sim_kiosk *best = &s->kiosks[0];

	for (uint32_t i = 1; i < s->p.kiosks; i++)
		if (s->kiosks[i].next.ts_ms < best->next.ts_ms)
			best = &s->kiosks[i];
	return best;
}

static int sim_next_event(struct tablet_source *src, int64_t horizon_ms,
			  struct tablet_event *ev)
{
	struct tablet_sim *s = (struct tablet_sim *)src;
	struct sim_kiosk *k;
	int rc;

	rc = vp_sim_link_check(&s->link);
	if (rc)
		return rc;
	k = sim_earliest(s);
	if (k->next.ts_ms > horizon_ms)
		return 0;
	*ev = k->next;
	sim_kiosk_advance(s, k);
	s->link.since_fail++;
	return 1;
}

static int sim_open(struct tablet_source *src)
{
	struct tablet_sim *s = (struct tablet_sim *)src;

	s->link.open = 1;
	s->base.epoch_utc_ms = 0;
	return 0;
}

static void sim_close(struct tablet_source *src)
{
	((struct tablet_sim *)src)->link.open = 0;
}

static void sim_destroy(struct tablet_source *src)
{
	free(src);
}

static const struct tablet_source_ops sim_ops = {
	.name = "sim",
	.open = sim_open,
	.next_event = sim_next_event,
	.close = sim_close,
	.destroy = sim_destroy,
};

const char *tablet_sim_product(unsigned i)
{
	return i < SIM_PRODUCTS ? sim_catalogue[i] : NULL;
}

int tablet_sim_create(const struct tablet_sim_params *p,
		      struct tablet_source **out)
{
	struct tablet_sim *s;

	if (p->kiosks < 1 || p->kiosks > TABLET_KIOSKS_MAX || p->start_utc_ms < 0 ||
	    p->ncanaries > TABLET_SIM_CANARIES_MAX || (p->ncanaries && !p->canaries))
		return -EINVAL;
	for (uint32_t i = 0; i < p->ncanaries; i++)
		if (!p->canaries[i][0] || !memchr(p->canaries[i], 0, VITRINE_SESSION_MAX))
			return -EINVAL;
	s = calloc(1, sizeof(*s) + p->kiosks * sizeof(s->kiosks[0]));
	if (!s)
		return -ENOMEM;
	s->base.ops = &sim_ops;
	s->p = *p;
	s->p.canaries = NULL;	/* borrowed for this call only */
	for (uint32_t i = 0; i < p->ncanaries; i++)
		memcpy(s->canaries[i], p->canaries[i], VITRINE_SESSION_MAX);
	s->link.fail_every = p->fail_every;
	for (uint32_t i = 0; i < p->kiosks; i++) {
		struct sim_kiosk *k = &s->kiosks[i];

		k->rng = vp_rng_stream(p->seed, i);
		k->number = i + 1;
		sim_new_session(s, k, p->start_utc_ms);
		sim_kiosk_advance(s, k);
	}
	*out = &s->base;
	return 0;
}
