/*
 * privacy.c - field allow-lists, opt-out, RSSI floor and rotating keyed
 * digests (see privacy.h and docs/PRIVACY.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "be.h"
#include "err.h"
#include "log.h"
#include "noise.h"
#include "optout.h"
#include "privacy.h"
#include "pseudonym.h"
#include "vt_os.h"

#define VT_PRIVACY_MAX_SOURCES 16
#define VT_PRIVACY_KINDS 4	/* index by enum vitrine_kind (1..3) */

#define VT_PRIVACY_FIELD(k, s, m, id) \
	{ VITRINE_KIND_##k, #m, offsetof(struct vitrine_reading, u.s.m), \
	  sizeof(((struct vitrine_reading *)0)->u.s.m), id }

/* The agent's own table of every field of every kind: which are
 * identifiers is decided here, not by plugins. */
static const struct vt_privacy_field {
	uint32_t kind;
	const char *name;
	size_t off, size;
	int identifier;
} vt_privacy_fields[] = {
	VT_PRIVACY_FIELD(FOOTFALL, footfall, door, 0),
	VT_PRIVACY_FIELD(FOOTFALL, footfall, direction, 0),
	VT_PRIVACY_FIELD(FOOTFALL, footfall, count, 0),
	VT_PRIVACY_FIELD(TABLET, tablet, kiosk, 0),
	VT_PRIVACY_FIELD(TABLET, tablet, event, 0),
	VT_PRIVACY_FIELD(TABLET, tablet, session, 1),
	VT_PRIVACY_FIELD(TABLET, tablet, screen, 0),
	VT_PRIVACY_FIELD(TABLET, tablet, gtin, 0),
	VT_PRIVACY_FIELD(TABLET, tablet, duration_ms, 0),
	VT_PRIVACY_FIELD(RFID, rfid, reader, 0),
	VT_PRIVACY_FIELD(RFID, rfid, antenna, 0),
	VT_PRIVACY_FIELD(RFID, rfid, rssi_cdbm, 0),
	VT_PRIVACY_FIELD(RFID, rfid, gtin, 0),
	VT_PRIVACY_FIELD(RFID, rfid, filter, 0),
	VT_PRIVACY_FIELD(RFID, rfid, serial, 1),
	VT_PRIVACY_FIELD(RFID, rfid, reads, 0),
	VT_PRIVACY_FIELD(RFID, rfid, dwell_ms, 0),
};
#define VT_PRIVACY_NFIELDS (sizeof(vt_privacy_fields) / sizeof(vt_privacy_fields[0]))

struct vt_privacy {
	struct vt_privacy_conf conf;
	struct vt_pseudonym *session_key;	/* tablet session ids */
	struct vt_pseudonym *tag_key;		/* RFID items */
	struct vt_pseudonym *anon_tag_key;	/* RFID items, anonymous mode: 5 min */
	int64_t anon_slot;			/* its slot of reading time */
	struct vt_optout *optout;
	struct vt_noise *noise;			/* NULL: no noise */
	struct vt_anon *anon;			/* anonymous mode's windows */
	struct vt_clock *clock;			/* borrowed; NULL: times as stamped */
	struct vt_privacy_source sources[VT_PRIVACY_MAX_SOURCES];
	size_t n_sources;
};

/* R15: the floors are checked here too, whatever the caller validated. */
static int vt_privacy_check_floors(const struct vt_privacy_conf *c, char *err, size_t errlen)
{
	if (c->rotation_s < VT_PRIVACY_ROTATION_MIN_S || c->rotation_s > VT_PRIVACY_ROTATION_MAX_S)
		snprintf(err, errlen, "key rotation %u s outside %d..%d s (R4, R15)", c->rotation_s,
			 VT_PRIVACY_ROTATION_MIN_S, VT_PRIVACY_ROTATION_MAX_S);
	else if (c->window_s < VT_PRIVACY_WINDOW_MIN_S || c->window_s > VT_PRIVACY_WINDOW_MAX_S ||
		 c->window_s % VT_PRIVACY_ANON_ROTATION_S)
		snprintf(err, errlen, "window %u s not a multiple of %d s within %d..%d s (R8, R15)",
			 c->window_s, VT_PRIVACY_ANON_ROTATION_S, VT_PRIVACY_WINDOW_MIN_S,
			 VT_PRIVACY_WINDOW_MAX_S);
	else if (c->k < VT_PRIVACY_K_MIN)
		snprintf(err, errlen, "k = %u below %d (R6, R15)", c->k, VT_PRIVACY_K_MIN);
	else
		return 0;
	return -VT_ECONFIG;
}

int vt_privacy_mode_parse(const char *name)
{
	if (strcmp(name, "anonymous") == 0)
		return VT_PRIVACY_ANONYMOUS;
	if (strcmp(name, "pseudonymous") == 0)
		return VT_PRIVACY_PSEUDONYMOUS;
	return 0;
}

const char *vt_privacy_mode_name(int mode)
{
	return mode == VT_PRIVACY_PSEUDONYMOUS ? "pseudonymous" : "anonymous";
}

/* Every key's page locked in RAM (the status says so only then). */
static int vt_privacy_keys_locked(const struct vt_privacy *p)
{
	return vt_pseudonym_locked(p->session_key) && vt_pseudonym_locked(p->tag_key) &&
	       vt_pseudonym_locked(p->anon_tag_key) && vt_optout_locked(p->optout);
}

int vt_privacy_new(struct vt_privacy **out, const struct vt_privacy_conf *conf, char *err,
		   size_t errlen)
{
	struct vt_privacy *p;
	int64_t lifetime_ms = (int64_t)conf->rotation_s * 1000;
	int rc;

	rc = vt_privacy_check_floors(conf, err, errlen);
	if (rc < 0)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->conf.optout_path = NULL;
	p->conf.state_dir = NULL;
	rc = vt_pseudonym_new(&p->session_key, lifetime_ms);
	if (rc == 0)
		rc = vt_pseudonym_new(&p->tag_key, lifetime_ms);
	if (rc == 0)
		rc = vt_pseudonym_new(&p->anon_tag_key, VT_PRIVACY_ANON_ROTATION_S * 1000LL);
	if (rc < 0) {
		snprintf(err, errlen, "cannot allocate key memory: %s", strerror(-rc));
		goto out_free;
	}
	if (conf->epsilon_milli) {
		struct vt_noise_conf nc = { conf->epsilon_milli, conf->budget_milli };

		rc = vt_noise_new(&p->noise, &nc);
		if (rc < 0) {
			snprintf(err, errlen, "cannot start the noise generator: %s",
				 vt_strerror(rc));
			goto out_free;
		}
	}
	rc = vt_optout_load(&p->optout, conf->optout_path, err, errlen);
	if (rc < 0)
		goto out_free;
	rc = vt_anon_new(&p->anon, &(struct vt_anon_conf){
				 .state_dir = conf->state_dir,
				 .window_s = conf->window_s,
				 .k = conf->k,
				 .noise = p->noise,
				 .epsilon_milli = conf->epsilon_milli,
				 .checkpoint_ms = conf->checkpoint_ms,
			 }, err, errlen);
	if (rc < 0)
		goto out_free;
	if (!vt_privacy_keys_locked(p))
		VT_WARN("pseudonym keys could not be locked in RAM (RLIMIT_MEMLOCK); they may reach swap");
	*out = p;
	return 0;
out_free:
	vt_privacy_free(p);
	return rc;
}

void vt_privacy_free(struct vt_privacy *p)
{
	if (!p)
		return;
	vt_anon_free(p->anon);	/* before the noise it borrows */
	vt_pseudonym_free(p->session_key);
	vt_pseudonym_free(p->tag_key);
	vt_pseudonym_free(p->anon_tag_key);
	vt_optout_free(p->optout);
	vt_noise_free(p->noise);
	free(p);
}

/* Index of (kind, name) in the table and within its kind, or -1. */
static int vt_privacy_field_find(uint32_t kind, const char *name, int *bit)
{
	*bit = 0;
	for (size_t i = 0; i < VT_PRIVACY_NFIELDS; i++) {
		if (vt_privacy_fields[i].kind != kind)
			continue;
		if (strcmp(vt_privacy_fields[i].name, name) == 0)
			return (int)i;
		(*bit)++;
	}
	return -1;
}

static int vt_privacy_declare(struct vt_privacy_source *s, const char *plugin,
			      const struct vitrine_field *f, char *err, size_t errlen)
{
	int bit, i;

	if (f->kind < VITRINE_KIND_FOOTFALL || f->kind > VITRINE_KIND_RFID) {
		snprintf(err, errlen, "plugin %s declares field '%s' of unknown kind %u", plugin,
			 f->name, f->kind);
		return -VT_EABI;
	}
	i = vt_privacy_field_find(f->kind, f->name, &bit);
	if (i < 0) {
		snprintf(err, errlen, "plugin %s declares field '%s', which kind %u does not have",
			 plugin, f->name, f->kind);
		return -VT_EABI;
	}
	if (!!(f->flags & VITRINE_FIELD_IDENTIFIER) != vt_privacy_fields[i].identifier) {
		snprintf(err, errlen,
			 "plugin %s declares field '%s' %s an identifier, but it %s one (docs/PRIVACY.md R9)",
			 plugin, f->name, vt_privacy_fields[i].identifier ? "not as" : "as",
			 vt_privacy_fields[i].identifier ? "is" : "is not");
		return -VT_EABI;
	}
	s->declared[f->kind] |= 1u << bit;
	return 0;
}

int vt_privacy_source_add(struct vt_privacy *p, const char *plugin, int mode,
			  const struct vitrine_field *fields, struct vt_privacy_source **src,
			  char *err, size_t errlen)
{
	struct vt_privacy_source s;
	int rc;

	if (!fields || !fields[0].name) {
		snprintf(err, errlen,
			 "plugin %s declares no fields (built for ABI 1.0?): since ABI 1.1 a plugin lists the fields it emits (docs/PRIVACY.md R9); rebuild it",
			 plugin);
		return -VT_EABI;
	}
	if (p->n_sources == VT_PRIVACY_MAX_SOURCES) {
		snprintf(err, errlen, "more than %d plugins", VT_PRIVACY_MAX_SOURCES);
		return -VT_EABI;
	}
	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", plugin);
	s.mode = mode == VT_PRIVACY_PSEUDONYMOUS ? mode : VT_PRIVACY_ANONYMOUS;
	for (const struct vitrine_field *f = fields; f->name; f++) {
		rc = vt_privacy_declare(&s, plugin, f, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < p->n_sources; i++) {
		struct vt_privacy_source *old = &p->sources[i];

		if (strcmp(old->name, s.name) != 0)
			continue;
		if (old->mode != s.mode || memcmp(old->declared, s.declared, sizeof(s.declared))) {
			snprintf(err, errlen, "plugin %s now runs in another privacy mode or declares other fields",
				 plugin);
			return -EBUSY;
		}
		*src = old;
		return 0;
	}
	if (s.mode == VT_PRIVACY_ANONYMOUS &&
	    (rc = vt_anon_plugin(p->anon, plugin, s.declared[VITRINE_KIND_RFID] != 0,
				 vt_os_mono_ms(), &s.anon, err, errlen)) < 0)
		return rc;
	p->sources[p->n_sources] = s;
	*src = &p->sources[p->n_sources++];
	return 0;
}

static int vt_privacy_nonzero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 1;
	return 0;
}

/* Zero the fields of r that src did not declare (R9). */
static void vt_privacy_allow(struct vt_privacy_source *src, struct vitrine_reading *r)
{
	int bit = 0;

	for (size_t i = 0; i < VT_PRIVACY_NFIELDS; i++) {
		const struct vt_privacy_field *f = &vt_privacy_fields[i];
		uint8_t *v = (uint8_t *)r + f->off;

		if (f->kind != r->kind)
			continue;
		if (!(src->declared[r->kind] & 1u << bit) && vt_privacy_nonzero(v, f->size)) {
			memset(v, 0, f->size);
			src->undeclared++;
			if (!(src->warned[r->kind] & 1u << bit))
				VT_WARN("plugin %s fills field '%s', which it does not declare: the field is dropped (counted; docs/PRIVACY.md R9)",
					src->name, f->name);
			src->warned[r->kind] |= 1u << bit;
		}
		bit++;
	}
}

#ifdef VT_PRIVACY_DISABLED_FOR_CANARY_TEST
/* The negative control of tests/integration/canary.sh, never a product
 * build: identifiers pass raw (their first bytes), as if this stage had
 * been removed; the canary test must then fail. */
static int vt_privacy_digest(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms,
			     const char *domain, const void *a, size_t alen, const void *b,
			     size_t blen, uint8_t out[VT_DIGEST_LEN])
{
	(void)k, (void)wall_ms, (void)mono_ms, (void)domain, (void)a, (void)alen;
	memset(out, 0, VT_DIGEST_LEN);
	if (blen)
		memcpy(out, b, blen < VT_DIGEST_LEN ? blen : VT_DIGEST_LEN);
	else
		memcpy(out, a, alen < VT_DIGEST_LEN ? alen : VT_DIGEST_LEN);
	return 0;
}
#else
static int vt_privacy_digest(struct vt_pseudonym *k, int64_t wall_ms, int64_t mono_ms,
			     const char *domain, const void *a, size_t alen, const void *b,
			     size_t blen, uint8_t out[VT_DIGEST_LEN])
{
	return vt_pseudonym_digest(k, wall_ms, mono_ms, domain, a, alen, b, blen, out,
				   VT_DIGEST_LEN);
}
#endif

/* Anonymous mode needs no session digest: no window counts sessions by id. */
static int vt_privacy_tablet(struct vt_privacy *p, struct vt_privacy_source *src,
			     const struct vitrine_tablet *in, struct vt_reading *out,
			     int64_t wall_ms, int64_t mono_ms)
{
	size_t slen = strnlen(in->session, sizeof(in->session));

	out->u.tablet.kiosk = in->kiosk;
	out->u.tablet.event = in->event;
	memcpy(out->u.tablet.screen, in->screen, sizeof(in->screen));
	memcpy(out->u.tablet.gtin, in->gtin, sizeof(in->gtin));
	out->u.tablet.duration_ms = in->duration_ms;
	if (slen == 0 || src->mode == VT_PRIVACY_ANONYMOUS)
		return 0;	/* nothing to digest: the digest stays zero */
	return vt_privacy_digest(p->session_key, wall_ms, mono_ms, "tablet.session",
				 in->session, slen, NULL, 0, out->u.tablet.session_digest);
}

/* Anonymous mode: the key that de-duplicates items lives for one 5-minute
 * slot of the readings' time (window.h counts per slot), and at most 5
 * minutes on the monotonic clock (pseudonym.h). Tying it to the slot keeps
 * an item from counting twice in a slot because a key changed mid-slot. */
static void vt_privacy_anon_slot(struct vt_privacy *p, int64_t time_ms)
{
	int64_t slot = vt_window_index(time_ms, VT_PRIVACY_ANON_ROTATION_S * 1000LL);

	if (slot != p->anon_slot)
		vt_pseudonym_expire(p->anon_tag_key, INT64_MAX);
	p->anon_slot = slot;
}

/* RFID: opt-out first (R12), then the RSSI floor (R10), then the digest of
 * product and serial (a serial is unique only within its GTIN). */
static int vt_privacy_rfid(struct vt_privacy *p, struct vt_privacy_source *src,
			   const struct vitrine_rfid *in, struct vt_reading *out,
			   int64_t wall_ms, int64_t mono_ms)
{
	uint8_t serial_be[8];
	int rc;

	rc = vt_optout_match_sgtin(p->optout, in->gtin, in->serial);
	if (rc != 0) {
		if (rc < 0)
			return rc;
		src->optout++;
		return VT_PRIVACY_DROPPED;
	}
	if (in->rssi_cdbm < p->conf.rssi_floor_cdbm) {
		src->below_rssi++;
		return VT_PRIVACY_DROPPED;
	}
	out->u.rfid.reader = in->reader;
	out->u.rfid.antenna = in->antenna;
	out->u.rfid.rssi_cdbm = in->rssi_cdbm;
	memcpy(out->u.rfid.gtin, in->gtin, sizeof(in->gtin));
	out->u.rfid.filter = in->filter;
	out->u.rfid.reads = in->reads;
	out->u.rfid.dwell_ms = in->dwell_ms;
	vt_put_be64(serial_be, in->serial);
	if (src->mode == VT_PRIVACY_ANONYMOUS)
		vt_privacy_anon_slot(p, out->time_ms);
	return vt_privacy_digest(src->mode == VT_PRIVACY_ANONYMOUS ? p->anon_tag_key : p->tag_key,
				 wall_ms, mono_ms, "rfid.sgtin", in->gtin,
				 strlen(in->gtin), serial_be, sizeof(serial_be),
				 out->u.rfid.tag_digest);
}

/* The reading as it may leave this stage, or a rule's verdict. */
static int vt_privacy_clean(struct vt_privacy *p, struct vt_privacy_source *src,
			    struct vitrine_reading *r, struct vt_reading *out, int64_t wall_ms,
			    int64_t mono_ms)
{
	vt_privacy_allow(src, r);
	memset(out, 0, sizeof(*out));
	out->kind = r->kind;
	out->time_ms = r->time_ms;
	if (p->clock)
		vt_clock_stamp(p->clock, out, mono_ms);	/* before any use of the time */
	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		out->u.footfall = r->u.footfall;
		return 0;
	case VITRINE_KIND_TABLET:
		return vt_privacy_tablet(p, src, &r->u.tablet, out, wall_ms, mono_ms);
	default:
		return vt_privacy_rfid(p, src, &r->u.rfid, out, wall_ms, mono_ms);
	}
}

int vt_privacy_apply(struct vt_privacy *p, struct vt_privacy_source *src,
		     const struct vitrine_reading *in, struct vt_reading *out, int64_t wall_ms,
		     int64_t mono_ms, const char **why)
{
	struct vitrine_reading r;
	int rc;

	if (in->kind < VITRINE_KIND_FOOTFALL || in->kind > VITRINE_KIND_RFID ||
	    !src->declared[in->kind]) {
		*why = "a kind of reading the plugin does not declare";
		return -VT_EINVAL_READING;
	}
	r = *in;
	rc = vt_privacy_clean(p, src, &r, out, wall_ms, mono_ms);
	mbedtls_platform_zeroize(&r, sizeof(r));	/* the raw identifiers' copy */
	if (rc != 0 || src->mode != VT_PRIVACY_ANONYMOUS)
		return rc;
	vt_anon_add(p->anon, src->anon, out, wall_ms, mono_ms);
	memset(out, 0, sizeof(*out));	/* its digest was for counting only */
	return VT_PRIVACY_WINDOWED;
}

void vt_privacy_tick(struct vt_privacy *p, int64_t wall_ms, int64_t mono_ms,
		     enum vt_window_when when)
{
	vt_pseudonym_expire(p->session_key, mono_ms);
	vt_pseudonym_expire(p->tag_key, mono_ms);
	vt_pseudonym_expire(p->anon_tag_key, mono_ms);
	vt_anon_tick(p->anon, wall_ms, mono_ms, when);
}

void vt_privacy_set_sink(struct vt_privacy *p, vt_window_sink sink, void *arg)
{
	vt_anon_set_sink(p->anon, sink, arg);
}

void vt_privacy_set_clock(struct vt_privacy *p, struct vt_clock *clock)
{
	p->clock = clock;
	vt_anon_set_clock(p->anon, clock);
}

void vt_privacy_fix_clock(struct vt_privacy *p)
{
	vt_anon_fix_clock(p->anon);
}

static size_t vt_privacy_json_windows(const struct vt_privacy *p, char *json, size_t cap)
{
	struct vt_window_stats t = { 0 };

	for (size_t i = 0; i < p->n_sources; i++) {
		const struct vt_window_stats *w;

		if (!p->sources[i].anon)
			continue;
		w = vt_anon_plugin_stats(p->sources[i].anon);
		t.windows += w->windows;
		t.cells += w->cells;
		t.merged += w->merged;
		t.suppressed += w->suppressed;
		t.refused += w->refused;
	}
	return (size_t)snprintf(json, cap,
		"\"windows\":{\"released\":%llu,\"cells\":%llu,\"merged_below_k\":%llu,"
		"\"suppressed_below_k\":%llu,\"refused_no_budget\":%llu}",
		(unsigned long long)t.windows, (unsigned long long)t.cells,
		(unsigned long long)t.merged, (unsigned long long)t.suppressed,
		(unsigned long long)t.refused);
}

size_t vt_privacy_status_json(const struct vt_privacy *p, char *json, size_t cap)
{
	uint64_t optout = 0, rssi = 0, undeclared = 0;
	size_t n;

	for (size_t i = 0; i < p->n_sources; i++) {
		optout += p->sources[i].optout;
		rssi += p->sources[i].below_rssi;
		undeclared += p->sources[i].undeclared;
	}
	n = (size_t)snprintf(json, cap, "\"privacy\":{\"modes\":{");
	for (size_t i = 0; i < p->n_sources && n < cap; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"%s\":\"%s\"", i ? "," : "",
				      p->sources[i].name, vt_privacy_mode_name(p->sources[i].mode));
	if (n < cap)
		n += (size_t)snprintf(json + n, cap - n,
			"},\"window_s\":%u,\"k\":%u,\"epsilon_milli\":%u,\"digest_bits\":%d,"
			"\"key_rotation_s\":%u,\"keys_drawn\":%u,\"keys_locked\":%s,"
			"\"optout_items\":%zu,\"dropped\":{\"optout\":%llu,\"below_rssi_floor\":%llu,"
			"\"undeclared_fields\":%llu},",
			p->conf.window_s, p->conf.k, p->conf.epsilon_milli, VT_DIGEST_LEN * 8,
			p->conf.rotation_s,
			vt_pseudonym_generation(p->session_key) + vt_pseudonym_generation(p->tag_key) +
				vt_pseudonym_generation(p->anon_tag_key),
			vt_privacy_keys_locked(p) ? "true" : "false", vt_optout_count(p->optout),
			(unsigned long long)optout, (unsigned long long)rssi,
			(unsigned long long)undeclared);
	if (n < cap)
		n += vt_privacy_json_windows(p, json + n, cap - n);
	if (n < cap)
		n += (size_t)snprintf(json + n, cap - n, "}");
	return n < cap ? n : (cap ? cap - 1 : 0);
}

size_t vt_privacy_sources(const struct vt_privacy *p, const struct vt_privacy_source **list)
{
	*list = p->sources;
	return p->n_sources;
}
