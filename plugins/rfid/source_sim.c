/*
 * plugins/rfid/source_sim.c - simulated UHF readers behind the rfid source
 * interface.
 *
 * A store holds `items` tagged items drawn from a small catalogue whose
 * company prefixes have 6 to 12 digits (so every SGTIN-96 partition occurs).
 * Each item belongs to one reader and sits nearest one of its antennas. Each
 * reader runs an inventory round every 10 simulated seconds: an item is read
 * by its nearest antenna (strong RSSI) unless a body or a shelf hides it, and
 * now and then by another antenna (weak RSSI). During opening hours items
 * are moved (a customer carries them to a fitting room) and missed more
 * often. About one report in 500 carries a foreign EPC (another scheme, or a
 * corrupt partition) so that the plugin's reject path runs.
 *
 * Canary tags (the test key rfid.canary) are extra items put first in the
 * stock: they are never hidden, so their reader reads each of them at the
 * start of every round. A privacy test seeds them and then looks for them
 * in everything the agent writes or sends.
 *
 * Everything is a function of the parameters: each reader has its own PRNG
 * stream, reports are merged in time order, and failures (fail_every) stop
 * delivery without losing or repeating a report. No allocation after create.
 */
#include "source.h"
#include "sgtin96.h"

#include "common/sim_link.h"
#include "common/sim_rng.h"
#include "common/store_hours.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIM_ROUND_US INT64_C(10000000)
#define SIM_FOREIGN_ONE_IN 500
#define SIM_MAX_READERS 16
#define SIM_MAX_ANTENNAS 4
#define SIM_MAX_ITEMS 100000

/* Company prefix and item reference (indicator digit first), as on a label. */
static const char *const sim_catalogue[][2] = {
	{ "761234567890", "0" },	/* watch, 12-digit prefix (partition 0) */
	{ "761234567890", "1" },	/* the same watch, indicator 1 (gift box) */
	{ "30012345678", "01" },	/* silk scarf (partition 1) */
	{ "30012345678", "02" },	/* silk tie */
	{ "8012345678", "012" },	/* leather belt (partition 2) */
	{ "801234567", "0045" },	/* handbag (partition 3) */
	{ "400638133", "0123" },	/* fountain pen */
	{ "76123456", "01234" },	/* cufflinks (partition 4) */
	{ "0614141", "812345" },	/* GS1 TDS example item (partition 5) */
	{ "3012345", "012345" },	/* eau de parfum 50 ml */
	{ "3012345", "012346" },	/* eau de parfum 100 ml */
	{ "301234", "0123456" },	/* cashmere coat (partition 6) */
};
#define SIM_PRODUCTS (sizeof(sim_catalogue) / sizeof(sim_catalogue[0]))

struct sim_item {
	uint8_t epc[RFID_EPC_BYTES];
	uint8_t primary;	/* nearest antenna, 1-based */
	uint8_t canary;		/* never hidden (rfid.canary) */
};

struct sim_reader {
	uint64_t rng;
	uint32_t index;		/* 0-based */
	uint32_t nitems;	/* items index, index + readers, ... */
	uint32_t cursor;	/* next of its items to read this round */
	uint32_t ant_mask;	/* antennas still to report the current item */
	struct sim_item *item;	/* current item */
	int64_t round_us;	/* start of the current round, UTC µs */
	int64_t slot_us;	/* time of the next read */
	int has_next;
	struct rfid_tag_report next;
};

struct rfid_sim {
	struct rfid_source base;
	struct rfid_sim_params p;
	struct vp_sim_link link;
	struct sim_item *items;
	struct sim_reader readers[];
};

static int sim_item_init(struct rfid_sim *s, uint64_t *rng, struct sim_item *it)
{
	const char *const *prod = sim_catalogue[vp_rng_next(rng) % SIM_PRODUCTS];
	uint64_t roll = vp_rng_next(rng) % 100;
	uint32_t filter = roll < 85 ? 1 : roll < 95 ? 4 : 0;
	uint64_t serial = (uint64_t)vp_rng_range(rng, 1, (int64_t)SGTIN96_SERIAL_MAX);
	struct sgtin96 tag;
	int rc;

	rc = sgtin96_from_digits(prod[0], prod[1], filter, serial, &tag);
	if (!rc)
		rc = sgtin96_encode(&tag, it->epc);
	it->primary = (uint8_t)vp_rng_range(rng, 1, s->p.antennas);
	return rc;
}

/* Antennas that see item `it` in this round, as a bit mask (bit 0 = port 1). */
static uint32_t sim_antennas(struct rfid_sim *s, struct sim_reader *r,
			     struct sim_item *it)
{
	int busy = vp_store_is_open(r->slot_us / 1000);
	uint32_t mask = 0;
	int hidden;

	if (busy && vp_rng_next(&r->rng) % 1000 < 5)
		it->primary = (uint8_t)vp_rng_range(&r->rng, 1, s->p.antennas);
	/* Drawn for a canary too, so that the stream does not depend on it. */
	hidden = (int64_t)(vp_rng_next(&r->rng) % 100) < (busy ? 8 : 2);
	if (!hidden || it->canary)
		mask |= 1u << (it->primary - 1);
	for (uint32_t a = 1; a <= s->p.antennas; a++)
		if (a != it->primary && vp_rng_next(&r->rng) % 100 < 15)
			mask |= 1u << (a - 1);
	return mask;
}

static void sim_next_item(struct rfid_sim *s, struct sim_reader *r)
{
	if (r->cursor == r->nitems) {
		r->round_us += SIM_ROUND_US;
		if (r->round_us < r->slot_us)
			r->round_us = r->slot_us;
		r->slot_us = r->round_us;
		r->cursor = 0;
	}
	r->item = &s->items[r->index + r->cursor * s->p.readers];
	r->cursor++;
	r->ant_mask = sim_antennas(s, r, r->item);
}

static void sim_foreign_epc(struct sim_reader *r, uint8_t *epc)
{
	for (int i = 0; i < RFID_EPC_BYTES; i++)
		epc[i] = (uint8_t)vp_rng_next(&r->rng);
	if (vp_rng_next(&r->rng) % 2) {
		epc[0] = 0x35;			/* GID-96: another scheme */
	} else {
		epc[0] = SGTIN96_HEADER;	/* SGTIN-96 with partition 7 */
		epc[1] |= 0x1c;
	}
}

/* Computes the reader's next report (r->next); none if it has no items. */
static void sim_reader_advance(struct rfid_sim *s, struct sim_reader *r)
{
	struct rfid_tag_report *rep = &r->next;
	uint32_t antenna;

	r->has_next = r->nitems > 0;
	if (!r->has_next)
		return;
	while (!r->ant_mask)
		sim_next_item(s, r);
	antenna = (uint32_t)__builtin_ctz(r->ant_mask) + 1;
	r->ant_mask &= r->ant_mask - 1;
	memcpy(rep->epc, r->item->epc, RFID_EPC_BYTES);
	if (vp_rng_next(&r->rng) % SIM_FOREIGN_ONE_IN == 0)
		sim_foreign_epc(r, rep->epc);
	rep->epc_bits = 96;
	rep->antenna = (uint16_t)antenna;
	rep->reader = r->index + 1;
	rep->rssi_cdbm = (int32_t)(antenna == r->item->primary ?
				   vp_rng_range(&r->rng, -6000, -3500) :
				   vp_rng_range(&r->rng, -7500, -6000));
	rep->utc_us = r->slot_us;
	rep->mono_us = r->slot_us - s->p.start_utc_ms * 1000;
	r->slot_us += vp_rng_range(&r->rng, 300, 1500);
}

static int sim_open(struct rfid_source *src)
{
	struct rfid_sim *s = (struct rfid_sim *)src;

	s->link.open = 1;
	s->base.epoch_utc_ms = s->p.start_utc_ms;
	return 0;
}

static void sim_close(struct rfid_source *src)
{
	((struct rfid_sim *)src)->link.open = 0;
}

static struct sim_reader *sim_earliest(struct rfid_sim *s)
{
	struct sim_reader *best = NULL;

	for (uint32_t i = 0; i < s->p.readers; i++) {
		struct sim_reader *r = &s->readers[i];

		if (r->has_next && (!best || r->next.utc_us < best->next.utc_us))
			best = r;
	}
	return best;
}

static int sim_next_report(struct rfid_source *src, int64_t horizon_us,
			   struct rfid_tag_report *rep)
{
	struct rfid_sim *s = (struct rfid_sim *)src;
	struct sim_reader *r;
	int rc;

	rc = vp_sim_link_check(&s->link);
	if (rc)
		return rc;
	r = sim_earliest(s);
	if (!r || r->next.utc_us > horizon_us)
		return 0;
	*rep = r->next;
	sim_reader_advance(s, r);
	s->link.since_fail++;
	return 1;
}

static void sim_destroy(struct rfid_source *src)
{
	struct rfid_sim *s = (struct rfid_sim *)src;

	if (!s)
		return;
	free(s->items);
	free(s);
}

static const struct rfid_source_ops sim_ops = {
	.name = "sim",
	.open = sim_open,
	.next_report = sim_next_report,
	.close = sim_close,
	.destroy = sim_destroy,
};

static int sim_params_ok(const struct rfid_sim_params *p)
{
	return p->readers >= 1 && p->readers <= SIM_MAX_READERS &&
	       p->antennas >= 1 && p->antennas <= SIM_MAX_ANTENNAS &&
	       p->items >= 1 && p->items <= SIM_MAX_ITEMS &&
	       p->ncanaries <= RFID_SIM_CANARIES_MAX &&
	       (p->canaries || !p->ncanaries) && p->start_utc_ms >= 0;
}

/* Items in the stock: the canaries first, then the `items`. */
static uint32_t sim_stock(const struct rfid_sim_params *p)
{
	return p->ncanaries + p->items;
}

static void sim_reader_init(struct rfid_sim *s, struct sim_reader *r, uint32_t i)
{
	r->rng = vp_rng_stream(s->p.seed, i);
	r->index = i;
	r->nitems = sim_stock(&s->p) / s->p.readers +
		    (i < sim_stock(&s->p) % s->p.readers);
	/* Stagger the readers' rounds so that their reports interleave. */
	r->round_us = s->p.start_utc_ms * 1000 +
		      (int64_t)i * SIM_ROUND_US / s->p.readers +
		      vp_rng_range(&r->rng, 0, 500000);
	r->slot_us = r->round_us;
	sim_reader_advance(s, r);
}

int rfid_sim_create(const struct rfid_sim_params *p, struct rfid_source **out)
{
	struct rfid_sim *s;
	uint64_t rng = p->seed;
	int rc = -ENOMEM;

	if (!sim_params_ok(p))
		return -EINVAL;
	s = calloc(1, sizeof(*s) + p->readers * sizeof(s->readers[0]));
	if (!s)
		goto out;
	s->items = calloc(sim_stock(p), sizeof(*s->items));
	if (!s->items)
		goto out_free;
	s->base.ops = &sim_ops;
	s->p = *p;
	s->p.canaries = NULL;	/* borrowed for this call only */
	s->link.fail_every = p->fail_every;
	/* The ordinary items draw first: with or without canaries, they are
	 * the same items. */
	for (uint32_t i = 0; i < p->items; i++) {
		rc = sim_item_init(s, &rng, &s->items[p->ncanaries + i]);
		if (rc)
			goto out_items;
	}
	for (uint32_t i = 0; i < p->ncanaries; i++) {
		struct sim_item *it = &s->items[i];

		memcpy(it->epc, p->canaries[i], RFID_EPC_BYTES);
		it->primary = (uint8_t)vp_rng_range(&rng, 1, p->antennas);
		it->canary = 1;
	}
	for (uint32_t i = 0; i < p->readers; i++)
		sim_reader_init(s, &s->readers[i], i);
	*out = &s->base;
	return 0;

out_items:
	free(s->items);
out_free:
	free(s);
out:
	return rc;
}
