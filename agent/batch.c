/*
 * batch.c - readings accumulated into a preallocated protobuf Batch.
 *
 * For every slot we keep the agent's copy of the reading (struct vt_reading)
 * and the protobuf-c structs that point into it; packing walks them once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "vitrine/v1/batch.pb-c.h"
#include "vt_os.h"

/* Worst-case encoded size of one Reading (tags, varints, strings, digest),
 * about 120 bytes, and of its entry in Batch.unsynced, 21. */
#define VT_BATCH_READING_MAX 160

static size_t vt_batch_unsynced_bytes(const struct vt_batch_limits *lim, size_t each)
{
	return (size_t)lim->max_readings * each;
}

struct vt_batch_slot {
	struct vt_reading src;
	Vitrine__V1__Reading reading;
	union {
		Vitrine__V1__Footfall footfall;
		Vitrine__V1__TabletEvent tablet;
		Vitrine__V1__RfidRead rfid;
		Vitrine__V1__WindowCount window;
	} kind;
};

struct vt_batch {
	struct vt_batch_limits lim;
	char *site;
	char *device;
	size_t n;
	size_t flagged;		/* readings on an untrusted clock (clock.h) */
	size_t unsynced;	/* of those, with a time since this boot */
	uint8_t boot_id[VT_OS_BOOT_ID_LEN];
	int correction;		/* the next pack carries correction_ms */
	int64_t correction_ms;
	/* Batch.unsynced, filled at pack from the flagged slots. Pages from
	 * the kernel: they cost RAM only once a flagged batch is packed. */
	Vitrine__V1__UnsyncedReading *unsynced_msgs;
	Vitrine__V1__UnsyncedReading **unsynced_ptrs;
	size_t est_bytes;
	int64_t opened_mono;
	uint32_t cats[VT_BATCH_CATS];
	struct vt_batch_slot *slots;
	Vitrine__V1__Reading **ptrs;
};

int vt_batch_new(struct vt_batch **out, const struct vt_batch_limits *lim,
		 const char *site, const char *device)
{
	struct vt_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->lim = *lim;
	b->site = strdup(site);
	b->device = strdup(device);
	b->slots = calloc(lim->max_readings, sizeof(*b->slots));
	b->ptrs = calloc(lim->max_readings, sizeof(*b->ptrs));
	b->unsynced_msgs = vt_os_pages_alloc(vt_batch_unsynced_bytes(lim, sizeof(*b->unsynced_msgs)));
	b->unsynced_ptrs = vt_os_pages_alloc(vt_batch_unsynced_bytes(lim, sizeof(*b->unsynced_ptrs)));
	if (!b->site || !b->device || !b->slots || !b->ptrs || !b->unsynced_msgs ||
	    !b->unsynced_ptrs) {
		vt_batch_free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < lim->max_readings; i++)
		b->ptrs[i] = &b->slots[i].reading;
	*out = b;
	return 0;
}

void vt_batch_free(struct vt_batch *b)
{
	if (!b)
		return;
	free(b->site);
	free(b->device);
	free(b->slots);
	free(b->ptrs);
	vt_os_pages_free(b->unsynced_msgs, vt_batch_unsynced_bytes(&b->lim, sizeof(*b->unsynced_msgs)));
	vt_os_pages_free(b->unsynced_ptrs, vt_batch_unsynced_bytes(&b->lim, sizeof(*b->unsynced_ptrs)));
	free(b);
}

static void vt_batch_fill_footfall(struct vt_batch_slot *s)
{
	Vitrine__V1__Footfall *m = &s->kind.footfall;

	vitrine__v1__footfall__init(m);
	m->door = s->src.u.footfall.door;
	m->direction = (Vitrine__V1__Direction)s->src.u.footfall.direction;
	m->count = s->src.u.footfall.count;
	s->reading.kind_case = VITRINE__V1__READING__KIND_FOOTFALL;
	s->reading.footfall = m;
}

static void vt_batch_fill_tablet(struct vt_batch_slot *s)
{
	Vitrine__V1__TabletEvent *m = &s->kind.tablet;

	vitrine__v1__tablet_event__init(m);
	m->kiosk = s->src.u.tablet.kiosk;
	m->type = (Vitrine__V1__TabletEventType)s->src.u.tablet.event;
	m->session_digest.data = s->src.u.tablet.session_digest;
	m->session_digest.len = VT_DIGEST_LEN;
	m->screen = s->src.u.tablet.screen;
	m->gtin = s->src.u.tablet.gtin;
	m->duration_ms = s->src.u.tablet.duration_ms;
	s->reading.kind_case = VITRINE__V1__READING__KIND_TABLET;
	s->reading.tablet = m;
}

static void vt_batch_fill_rfid(struct vt_batch_slot *s)
{
	Vitrine__V1__RfidRead *m = &s->kind.rfid;

	vitrine__v1__rfid_read__init(m);
	m->reader = s->src.u.rfid.reader;
	m->antenna = s->src.u.rfid.antenna;
	m->rssi_cdbm = s->src.u.rfid.rssi_cdbm;
	m->gtin = s->src.u.rfid.gtin;
	m->filter = s->src.u.rfid.filter;
	m->reads = s->src.u.rfid.reads;
	m->dwell_ms = s->src.u.rfid.dwell_ms;
	m->tag_digest.data = s->src.u.rfid.tag_digest;
	m->tag_digest.len = VT_DIGEST_LEN;
	s->reading.kind_case = VITRINE__V1__READING__KIND_RFID;
	s->reading.rfid = m;
}

static void vt_batch_fill_window(struct vt_batch_slot *s)
{
	Vitrine__V1__WindowCount *m = &s->kind.window;
	const struct vt_window_cell *w = &s->src.u.window;

	vitrine__v1__window_count__init(m);
	m->length_s = w->length_s;
	m->metric = (Vitrine__V1__Metric)w->metric;
	m->dim1 = w->dim1;
	m->dim2 = w->dim2;
	m->label = s->src.u.window.label;
	m->other = w->other != 0;
	m->count = w->count;
	m->k = w->k;
	m->epsilon_milli = w->epsilon_milli;
	m->part = w->part;
	s->reading.kind_case = VITRINE__V1__READING__KIND_WINDOW;
	s->reading.window = m;
}

const char *vt_batch_cat_name(int cat)
{
	static const char *const names[VT_BATCH_CATS] = {
		"footfall.events", "tablet.events", "rfid.events",
		"footfall.windows", "kiosk.windows", "rfid.windows",
	};

	return cat >= 0 && cat < VT_BATCH_CATS ? names[cat] : "";
}

static int vt_batch_cat_of(const struct vt_reading *r)
{
	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		return VT_BATCH_FOOTFALL_EVENTS;
	case VITRINE_KIND_TABLET:
		return VT_BATCH_TABLET_EVENTS;
	case VITRINE_KIND_RFID:
		return VT_BATCH_RFID_EVENTS;
	}
	switch (r->u.window.metric) {
	case VT_METRIC_FOOTFALL_PASSES:
		return VT_BATCH_FOOTFALL_WINDOWS;
	case VT_METRIC_RFID_PRESENCE:
		return VT_BATCH_RFID_WINDOWS;
	default:
		return VT_BATCH_KIOSK_WINDOWS;
	}
}

const uint32_t *vt_batch_cats(const struct vt_batch *b)
{
	return b->cats;
}

/* Cheap size estimate: fixed part plus the strings actually present. */
static size_t vt_batch_estimate(const struct vt_reading *r)
{
	switch (r->kind) {
	case VITRINE_KIND_TABLET:
		return 40 + strlen(r->u.tablet.screen) + strlen(r->u.tablet.gtin);
	case VITRINE_KIND_RFID:
		return 48 + strlen(r->u.rfid.gtin);
	case VT_KIND_WINDOW:
		return 48 + strlen(r->u.window.label);
	default:
		return 20;
	}
}

int vt_batch_add(struct vt_batch *b, const struct vt_reading *r, int64_t mono_ms)
{
	struct vt_batch_slot *s;

	if (b->n >= b->lim.max_readings)
		return -VT_EFULL;
	s = &b->slots[b->n];
	s->src = *r;
	vitrine__v1__reading__init(&s->reading);
	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		vt_batch_fill_footfall(s);
		break;
	case VITRINE_KIND_TABLET:
		vt_batch_fill_tablet(s);
		break;
	case VITRINE_KIND_RFID:
		vt_batch_fill_rfid(s);
		break;
	case VT_KIND_WINDOW:
		vt_batch_fill_window(s);
		break;
	default:
		return -VT_EINVAL_READING;
	}
	if (r->clock_unsynced) {
		b->flagged++;
		b->unsynced += r->clock_unsynced == VT_READING_CLOCK_UNSYNCED;
		b->est_bytes += 16;
	}
	if (b->n == 0)
		b->opened_mono = mono_ms;
	b->n++;
	b->cats[vt_batch_cat_of(r)]++;
	b->est_bytes += vt_batch_estimate(r);
	return 0;
}

void vt_batch_clear(struct vt_batch *b)
{
	b->n = 0;
	b->est_bytes = 0;
	b->flagged = 0;
	b->unsynced = 0;
	b->correction = 0;
	memset(b->cats, 0, sizeof(b->cats));
}

void vt_batch_set_boot(struct vt_batch *b, const uint8_t boot_id[VT_OS_BOOT_ID_LEN])
{
	memcpy(b->boot_id, boot_id, VT_OS_BOOT_ID_LEN);
}

void vt_batch_set_correction(struct vt_batch *b, int on, int64_t offset_ms)
{
	b->correction = on;
	b->correction_ms = offset_ms;
}

size_t vt_batch_unsynced(const struct vt_batch *b)
{
	return b->unsynced;
}

size_t vt_batch_fix_clock(struct vt_batch *b, struct vt_clock *c)
{
	size_t fixed = 0;

	for (size_t i = 0; i < b->n && b->unsynced; i++) {
		struct vt_batch_slot *s = &b->slots[i];

		if (!vt_clock_fix(c, &s->src))
			continue;
		b->flagged--;
		b->unsynced--;
		fixed++;
	}
	return fixed;
}

size_t vt_batch_count(const struct vt_batch *b)
{
	return b->n;
}

int vt_batch_due(const struct vt_batch *b, int64_t mono_ms)
{
	if (b->n == 0)
		return 0;
	return b->n >= b->lim.max_readings || b->est_bytes >= b->lim.max_bytes ||
	       mono_ms - b->opened_mono >= b->lim.max_age_ms;
}

int64_t vt_batch_ms_left(const struct vt_batch *b, int64_t mono_ms)
{
	int64_t left;

	if (b->n == 0)
		return -1;
	left = b->opened_mono + b->lim.max_age_ms - mono_ms;
	return left > 0 ? left : 0;
}

/* Site and device, base time, delivery chain, boot id and correction;
 * each reading at most VT_BATCH_READING_MAX, its entry in Batch.unsynced
 * included (tag, length, index, mono_ms, boot_unknown: 21 bytes). */
size_t vt_batch_pack_bound(const struct vt_batch *b)
{
	return 2 * 80 + 16 + 2 * 11 + 18 + 14 +
	       (size_t)b->lim.max_readings * VT_BATCH_READING_MAX;
}

/* Batch.unsynced of the flagged slots, in index order. */
static size_t vt_batch_unsynced_list(struct vt_batch *b)
{
	size_t k = 0;

	for (size_t i = 0; i < b->n && k < b->flagged; i++) {
		const struct vt_reading *r = &b->slots[i].src;
		Vitrine__V1__UnsyncedReading *u = &b->unsynced_msgs[k];

		if (!r->clock_unsynced)
			continue;
		vitrine__v1__unsynced_reading__init(u);
		u->index = (uint32_t)i;
		if (r->clock_unsynced == VT_READING_CLOCK_UNSYNCED)
			u->mono_ms = r->mono_ms;
		else
			u->boot_unknown = 1;
		b->unsynced_ptrs[k++] = u;
	}
	return k;
}

int vt_batch_pack(struct vt_batch *b, const struct vt_batch_chain *chain, uint8_t *out,
		  size_t cap, size_t *len)
{
	Vitrine__V1__ClockCorrection corr;
	Vitrine__V1__Batch msg;
	int64_t base;
	size_t need;

	vitrine__v1__batch__init(&msg);
	if (b->flagged) {
		msg.n_unsynced = vt_batch_unsynced_list(b);
		msg.unsynced = b->unsynced_ptrs;
	}
	if (b->unsynced || b->correction) {
		msg.boot_id.data = b->boot_id;
		msg.boot_id.len = VT_OS_BOOT_ID_LEN;
	}
	if (b->correction) {
		vitrine__v1__clock_correction__init(&corr);
		corr.offset_ms = b->correction_ms;
		msg.clock_correction = &corr;
	}
	msg.site = b->site;
	msg.device = b->device;
	base = b->n ? b->slots[0].src.time_ms : 0;
	msg.base_time_ms = base;
	for (size_t i = 0; i < b->n; i++)
		b->slots[i].reading.time_offset_ms = b->slots[i].src.time_ms - base;
	msg.n_readings = b->n;
	msg.readings = b->ptrs;
	if (chain) {
		msg.prev_seq = chain->prev_seq;
		msg.floor_seq = chain->floor_seq;
	}
	need = vitrine__v1__batch__get_packed_size(&msg);
	if (need > cap)
		return -ENOSPC;
	*len = vitrine__v1__batch__pack(&msg, out);
	if (b->flagged) {	/* a boot's first minutes: give the pages back */
		vt_os_pages_zero(b->unsynced_msgs,
				 vt_batch_unsynced_bytes(&b->lim, sizeof(*b->unsynced_msgs)));
		vt_os_pages_zero(b->unsynced_ptrs,
				 vt_batch_unsynced_bytes(&b->lim, sizeof(*b->unsynced_ptrs)));
	}
	vt_batch_clear(b);
	return 0;
}
