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
 * Everything is a function of the parameters: each reader has its own PRNG
 * stream, reports are merged in time order, and failures (fail_every) stop
 * delivery without losing or repeating a report. No allocation after create.
 */
#include "source.h"
#include "sgtin96.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIM_ROUND_US INT64_C(10000000)
#define SIM_FOREIGN_ONE_IN 500
#define SIM_MAX_READERS 16
#define SIM_MAX_ANTENNAS 4
#define SIM_MAX_ITEMS 100000
#define SIM_DAY_MS INT64_C(86400000)
#define SIM_HOUR_MS INT64_C(3600000)

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
	int open;
	uint64_t since_fail;
	struct sim_item *items;
	struct sim_reader readers[];
};

static uint64_t sim_rand(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int64_t sim_range(uint64_t *state, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(sim_rand(state) % (uint64_t)(hi - lo + 1));
}

/* Mon-Sat 10:00-19:00, Sun 12:00-18:00, store time = UTC. */
static int sim_store_open(int64_t utc_ms)
{
	int64_t days = utc_ms / SIM_DAY_MS;
	int64_t hour = (utc_ms % SIM_DAY_MS) / SIM_HOUR_MS;
	int sunday = (days + 4) % 7 == 0;

	return sunday ? hour >= 12 && hour < 18 : hour >= 10 && hour < 19;
}

static int sim_item_init(struct rfid_sim *s, uint64_t *rng, struct sim_item *it)
{
	const char *const *prod = sim_catalogue[sim_rand(rng) % SIM_PRODUCTS];
	uint64_t roll = sim_rand(rng) % 100;
	uint32_t filter = roll < 85 ? 1 : roll < 95 ? 4 : 0;
	uint64_t serial = (uint64_t)sim_range(rng, 1, (int64_t)SGTIN96_SERIAL_MAX);
	struct sgtin96 tag;
	int rc;

	rc = sgtin96_from_digits(prod[0], prod[1], filter, serial, &tag);
	if (!rc)
		rc = sgtin96_encode(&tag, it->epc);
	it->primary = (uint8_t)sim_range(rng, 1, s->p.antennas);
	return rc;
}

/* Antennas that see item `it` in this round, as a bit mask (bit 0 = port 1). */
static uint32_t sim_antennas(struct rfid_sim *s, struct sim_reader *r,
			     struct sim_item *it)
{
	int busy = sim_store_open(r->slot_us / 1000);
	uint32_t mask = 0;

	if (busy && sim_rand(&r->rng) % 1000 < 5)
		it->primary = (uint8_t)sim_range(&r->rng, 1, s->p.antennas);
	if ((int64_t)(sim_rand(&r->rng) % 100) >= (busy ? 8 : 2))
		mask |= 1u << (it->primary - 1);
	for (uint32_t a = 1; a <= s->p.antennas; a++)
		if (a != it->primary && sim_rand(&r->rng) % 100 < 15)
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
		epc[i] = (uint8_t)sim_rand(&r->rng);
	if (sim_rand(&r->rng) % 2) {
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
	if (sim_rand(&r->rng) % SIM_FOREIGN_ONE_IN == 0)
		sim_foreign_epc(r, rep->epc);
	rep->epc_bits = 96;
	rep->antenna = (uint16_t)antenna;
	rep->reader = r->index + 1;
	rep->rssi_cdbm = (int32_t)(antenna == r->item->primary ?
				   sim_range(&r->rng, -6000, -3500) :
				   sim_range(&r->rng, -7500, -6000));
	rep->utc_us = r->slot_us;
	rep->mono_us = r->slot_us - s->p.start_utc_ms * 1000;
	r->slot_us += sim_range(&r->rng, 300, 1500);
}

static int sim_open(struct rfid_source *src)
{
	struct rfid_sim *s = (struct rfid_sim *)src;

	s->open = 1;
	s->base.epoch_utc_ms = s->p.start_utc_ms;
	return 0;
}

static void sim_close(struct rfid_source *src)
{
	((struct rfid_sim *)src)->open = 0;
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

	if (!s->open)
		return -ENOTCONN;
	if (s->p.fail_every && s->since_fail >= s->p.fail_every) {
		s->since_fail = 0;
		s->open = 0;
		return -EIO;
	}
	r = sim_earliest(s);
	if (!r || r->next.utc_us > horizon_us)
		return 0;
	*rep = r->next;
	sim_reader_advance(s, r);
	s->since_fail++;
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
	       p->start_utc_ms >= 0;
}

static void sim_reader_init(struct rfid_sim *s, struct sim_reader *r, uint32_t i)
{
	r->rng = s->p.seed ^ (UINT64_C(0x5851f42d4c957f2d) * (i + 1));
	r->index = i;
	r->nitems = s->p.items / s->p.readers + (i < s->p.items % s->p.readers);
	/* Stagger the readers' rounds so that their reports interleave. */
	r->round_us = s->p.start_utc_ms * 1000 +
		      (int64_t)i * SIM_ROUND_US / s->p.readers +
		      sim_range(&r->rng, 0, 500000);
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
	s->items = calloc(p->items, sizeof(*s->items));
	if (!s->items)
		goto out_free;
	s->base.ops = &sim_ops;
	s->p = *p;
	for (uint32_t i = 0; i < p->items; i++) {
		rc = sim_item_init(s, &rng, &s->items[i]);
		if (rc)
			goto out_items;
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
