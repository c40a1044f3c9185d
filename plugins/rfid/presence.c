/*
 * plugins/rfid/presence.c - reads of one tag by one reader within a window
 * summed up into one presence (presence.h).
 *
 * The table is open addressing with linear probing over (reader, EPC),
 * sized at twice the capacity so that probes stay short; `order` remembers
 * the slots in the order tags were first seen, which is also the order
 * presences come out in. Emptying a window clears only the slots it used.
 */
#include "presence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rfid_presence_item {
	uint8_t epc[RFID_EPC_BYTES];
	uint32_t used;
	uint32_t reader;
	uint32_t reads;
	uint16_t antenna;
	int32_t rssi_cdbm;
	int64_t first_us, last_us;
};

/* Slots per tag of capacity: the table is at most half full. */
#define PRESENCE_SLOTS_PER_TAG 2

static uint32_t presence_slots(const struct rfid_presence *p)
{
	return p->cap * PRESENCE_SLOTS_PER_TAG;
}

/* FNV-1a over the reader and the EPC. The EPC comes from outside, but a
 * collision only costs a longer probe in a table that is never more than
 * half full. */
static uint32_t presence_hash(uint32_t reader, const uint8_t *epc)
{
	uint32_t h = 2166136261u ^ reader;

	for (int i = 0; i < RFID_EPC_BYTES; i++) {
		h ^= epc[i];
		h *= 16777619u;
	}
	return h;
}

int rfid_presence_init(struct rfid_presence *p, uint32_t cap, int64_t window_us)
{
	memset(p, 0, sizeof(*p));
	if (cap < 16 || cap > 1000000 || window_us <= 0)
		return -EINVAL;
	p->cap = cap;
	p->window_us = window_us;
	p->items = calloc((size_t)cap * PRESENCE_SLOTS_PER_TAG, sizeof(*p->items));
	p->order = calloc(cap, sizeof(*p->order));
	if (!p->items || !p->order) {
		rfid_presence_free(p);
		return -ENOMEM;
	}
	return 0;
}

void rfid_presence_free(struct rfid_presence *p)
{
	free(p->items);
	free(p->order);
	p->items = NULL;
	p->order = NULL;
}

static int64_t presence_window_of(const struct rfid_presence *p, int64_t utc_us)
{
	int64_t w = utc_us / p->window_us;

	return utc_us < 0 && utc_us % p->window_us ? w - 1 : w;
}

/* The slot of (reader, epc): its own, or the empty one where it goes. */
static struct rfid_presence_item *presence_find(struct rfid_presence *p, uint32_t reader,
						const uint8_t *epc)
{
	uint32_t n = presence_slots(p);
	uint32_t i = presence_hash(reader, epc) % n;

	for (;;) {
		struct rfid_presence_item *it = &p->items[i];

		if (!it->used || (it->reader == reader && !memcmp(it->epc, epc, RFID_EPC_BYTES)))
			return it;
		i = i + 1 == n ? 0 : i + 1;
	}
}

/* The time a read counts at: its own, or the start of the window after
 * the last closed one when it falls in or before that window. */
static int64_t presence_time_of(const struct rfid_presence *p, int64_t utc_us)
{
	if (!p->has_closed || presence_window_of(p, utc_us) > p->closed_window)
		return utc_us;
	if (p->closed_window >= INT64_MAX / p->window_us)
		return INT64_MAX;	/* no next window to date it in */
	return (p->closed_window + 1) * p->window_us;
}

int rfid_presence_add(struct rfid_presence *p, const struct rfid_tag_report *rep)
{
	int64_t utc = presence_time_of(p, rep->utc_us);
	int64_t w = presence_window_of(p, utc);
	int64_t dwell_us = (int64_t)rep->dwell_ms * 1000;
	int64_t last = rep->utc_us > INT64_MAX - dwell_us ? INT64_MAX : rep->utc_us + dwell_us;
	struct rfid_presence_item *it;

	if (p->closed)
		return 1;
	if (p->count && w > p->window)
		return 1;
	it = presence_find(p, rep->reader, rep->epc);
	if (!it->used && p->count == p->cap) {
		p->early_closes++;
		p->full = 1;
		return 1;
	}
	if (!p->count)
		p->window = w;
	p->reads_in++;
	if (utc != rep->utc_us)
		p->late_reads++;
	if (last < utc)
		last = utc;
	if (!it->used) {
		memcpy(it->epc, rep->epc, RFID_EPC_BYTES);
		it->used = 1;
		it->reader = rep->reader;
		it->reads = 0;
		it->antenna = rep->antenna;
		it->rssi_cdbm = rep->rssi_cdbm;
		it->first_us = utc;
		it->last_us = last;
		p->order[p->count++] = (uint32_t)(it - p->items);
	}
	it->reads += rep->reads ? rep->reads : 1;
	if (rep->rssi_cdbm > it->rssi_cdbm) {
		it->rssi_cdbm = rep->rssi_cdbm;
		it->antenna = rep->antenna;
	}
	/* A read of an earlier window not yet closed joins the open one. */
	if (utc < it->first_us)
		it->first_us = utc;
	if (last > it->last_us)
		it->last_us = last;
	return 0;
}

void rfid_presence_close(struct rfid_presence *p)
{
	if (!p->count)
		return;
	p->closed = 1;
	if (!p->full) {
		p->has_closed = 1;
		p->closed_window = p->window;
	}
}

int rfid_presence_next(struct rfid_presence *p, struct rfid_tag_report *out)
{
	struct rfid_presence_item *it;
	int64_t dwell;

	if (!p->closed)
		return 0;
	if (p->next == p->count) {
		/* Empty the slots; they must all be free before the next
		 * window, or probing would stop at a stale one. */
		for (uint32_t i = 0; i < p->count; i++)
			p->items[p->order[i]].used = 0;
		p->count = p->next = 0;
		p->closed = p->full = 0;
		return 0;
	}
	it = &p->items[p->order[p->next++]];
	memset(out, 0, sizeof(*out));
	memcpy(out->epc, it->epc, RFID_EPC_BYTES);
	out->epc_bits = 96;
	out->antenna = it->antenna;
	out->reader = it->reader;
	out->rssi_cdbm = it->rssi_cdbm;
	out->utc_us = it->first_us;
	out->reads = it->reads;
	dwell = (it->last_us - it->first_us) / 1000;
	out->dwell_ms = dwell > UINT32_MAX ? UINT32_MAX : (uint32_t)dwell;
	p->presences_out++;
	return 1;
}
