/*
 * receive.c - check and decode one data message (see receive.h).
 *
 * Order matters: cheap checks on unauthenticated bytes first (topic, header,
 * registry), then the AEAD, and only then anything that parses the
 * plaintext. Nothing here logs, stores or touches the network; the caller
 * counts and logs the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "arena.h"
#include "dicts.h"
#include "err.h"
#include "receive.h"
#include "vt_os.h"

#define VT_AGG_KEY_CACHE_WAYS 4
#define VT_AGG_TOPIC_PREFIX "vitrine/v1/"
#define VT_AGG_TOPIC_SUFFIX "/data"

struct vt_agg_rx {
	uint8_t *plain;		/* opened frame payload (compressed Batch) */
	size_t plain_cap;
	uint8_t *raw;		/* decompressed Batch */
	size_t raw_cap;
	ZSTD_DCtx *zstd;
	struct vt_agg_dicts *dicts;	/* borrowed, optional */
	struct vt_arena arena;		/* the decoded Batch of the current message */
};

static const char *const vt_agg_reason_names[VT_AGG_REASON_COUNT] = {
	[VT_AGG_OK] = "ok",
	[VT_AGG_TOPIC_MISMATCH] = "topic_mismatch",
	[VT_AGG_BAD_FRAME] = "bad_frame",
	[VT_AGG_UNKNOWN_DEVICE] = "unknown_device",
	[VT_AGG_BAD_KEY] = "bad_key",
	[VT_AGG_BAD_TAG] = "bad_tag",
	[VT_AGG_DECODE] = "decode",
	[VT_AGG_DUPLICATE] = "duplicate",
	[VT_AGG_UNKNOWN_DICT] = "unknown_dictionary",
};

const char *vt_agg_reason_name(enum vt_agg_reason r)
{
	if ((unsigned)r < VT_AGG_REASON_COUNT)
		return vt_agg_reason_names[r];
	return "unknown";
}

/* ---- registry -------------------------------------------------------------- */

static int vt_agg_device_cmp(const void *a, const void *b)
{
	const struct vt_agg_device *da = a, *db = b;

	return strcmp(da->id, db->id);
}

void vt_agg_devices_sort(struct vt_agg_device *devices, size_t n)
{
	if (n > 1)
		qsort(devices, n, sizeof(devices[0]), vt_agg_device_cmp);
}

long vt_agg_registry_find(const struct vt_agg_registry *reg, const char *id)
{
	size_t lo = 0, hi = reg->n_devices;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, reg->devices[mid].id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- key cache ------------------------------------------------------------- */

static uint32_t vt_agg_key_hash(const char *device, uint32_t epoch, const uint8_t *eph)
{
	uint32_t h = 2166136261u;

	for (const char *p = device; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((epoch >> (8 * i)) & 0xff)) * 16777619u;
	for (int i = 0; i < VT_KEY_LEN; i++)
		h = (h ^ eph[i]) * 16777619u;
	return h;
}

static struct vt_agg_key_slot *vt_agg_key_set(struct vt_agg_key_cache *kc, const char *device,
					      uint32_t epoch, const uint8_t *eph)
{
	uint32_t sets = VT_AGG_KEY_CACHE_SLOTS / VT_AGG_KEY_CACHE_WAYS;
	uint32_t set = vt_agg_key_hash(device, epoch, eph) % sets;

	return &kc->slots[set * VT_AGG_KEY_CACHE_WAYS];
}

static int vt_agg_key_match(const struct vt_agg_key_slot *s, const char *device, uint32_t epoch,
			    const uint8_t *eph)
{
	return s->last_use && s->epoch == epoch && strcmp(s->device, device) == 0 &&
	       memcmp(s->eph_pub, eph, VT_KEY_LEN) == 0;
}

static const uint8_t *vt_agg_key_lookup(struct vt_agg_key_cache *kc,
					const struct vt_frame_header *h)
{
	struct vt_agg_key_slot *set = vt_agg_key_set(kc, h->device, h->epoch, h->eph_pub);

	for (int i = 0; i < VT_AGG_KEY_CACHE_WAYS; i++) {
		if (vt_agg_key_match(&set[i], h->device, h->epoch, h->eph_pub)) {
			set[i].last_use = ++kc->tick;
			kc->hits++;
			return set[i].key;
		}
	}
	kc->misses++;
	return NULL;
}

static void vt_agg_key_insert(struct vt_agg_key_cache *kc, const struct vt_frame_header *h,
			      const uint8_t key[VT_KEY_LEN])
{
	struct vt_agg_key_slot *set = vt_agg_key_set(kc, h->device, h->epoch, h->eph_pub);
	struct vt_agg_key_slot *victim = &set[0];

	for (int i = 1; i < VT_AGG_KEY_CACHE_WAYS && victim->last_use; i++)
		if (set[i].last_use < victim->last_use)
			victim = &set[i];
	memcpy(victim->device, h->device, sizeof(victim->device));
	victim->epoch = h->epoch;
	memcpy(victim->eph_pub, h->eph_pub, VT_KEY_LEN);
	memcpy(victim->key, key, VT_KEY_LEN);
	victim->last_use = ++kc->tick;
}

void vt_agg_key_cache_clear(struct vt_agg_key_cache *kc)
{
	vt_keys_wipe(kc, sizeof(*kc));
}

/* ---- scratch buffers -------------------------------------------------------- */

int vt_agg_rx_new(struct vt_agg_rx **out)
{
	struct vt_agg_rx *rx = calloc(1, sizeof(*rx));

	if (!rx)
		return -ENOMEM;
	rx->plain_cap = VT_AGG_MAX_FRAME;
	rx->raw_cap = VT_AGG_MAX_PLAIN;
	rx->plain = malloc(rx->plain_cap);
	rx->raw = malloc(rx->raw_cap);
	rx->zstd = ZSTD_createDCtx();
	if (!rx->plain || !rx->raw || !rx->zstd || vt_arena_init(&rx->arena) < 0)
		goto out_free;
	/* A 4 MiB Batch never needs a window beyond 2^23. */
	if (ZSTD_isError(ZSTD_DCtx_setParameter(rx->zstd, ZSTD_d_windowLogMax, 23)))
		goto out_free;
	*out = rx;
	return 0;
out_free:
	vt_agg_rx_free(rx);
	return -ENOMEM;
}

void vt_agg_rx_free(struct vt_agg_rx *rx)
{
	if (!rx)
		return;
	ZSTD_freeDCtx(rx->zstd);
	vt_arena_fini(&rx->arena);
	free(rx->plain);
	free(rx->raw);
	free(rx);
}

void vt_agg_rx_set_dicts(struct vt_agg_rx *rx, struct vt_agg_dicts *dicts)
{
	rx->dicts = dicts;
}

void vt_agg_result_clear(struct vt_agg_result *res)
{
	if (res->batch)
		vt_arena_reset(&res->rx->arena);
	memset(res, 0, sizeof(*res));
	res->device_index = -1;
}

/* ---- topic -------------------------------------------------------------------- */

static int vt_agg_topic_id(const char *s, size_t n, char out[VT_FRAME_DEVICE_MAX + 1])
{
	if (n == 0 || n > VT_FRAME_DEVICE_MAX)
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return vt_frame_id_valid(out) ? 0 : -EINVAL;
}

int vt_agg_topic_parse(const char *topic, char site[VT_FRAME_DEVICE_MAX + 1],
		       char device[VT_FRAME_DEVICE_MAX + 1])
{
	size_t plen = strlen(VT_AGG_TOPIC_PREFIX);
	const char *s, *slash, *d, *end;

	if (strncmp(topic, VT_AGG_TOPIC_PREFIX, plen) != 0)
		return -EINVAL;
	s = topic + plen;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	d = slash + 1;
	end = strchr(d, '/');
	if (!end || strcmp(end, VT_AGG_TOPIC_SUFFIX) != 0)
		return -EINVAL;
	if (vt_agg_topic_id(s, (size_t)(slash - s), site) < 0)
		return -EINVAL;
	return vt_agg_topic_id(d, (size_t)(end - d), device);
}

/* ---- plaintext checks ----------------------------------------------------------- */

/* Strings end up in CSV fields and reports: printable ASCII, no comma, at
 * most max bytes. */
static int vt_agg_str_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return 1;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max || c < 0x21 || c > 0x7e || c == ',')
			return 0;
	}
	return 1;
}

static int vt_agg_field_ok(const char *s)
{
	return vt_agg_str_ok(s, VT_AGG_MAX_FIELD);
}

static int vt_agg_digest_ok(const ProtobufCBinaryData *d)
{
	return d->len <= VT_AGG_MAX_DIGEST;
}

/* A window cell: a metric this build can name, a window length an agent
 * can be configured with, a threshold (k = 0 would mean none: not a cell an
 * anonymous agent sends) and a count that fits SQLite's signed integers. */
static int vt_agg_window_ok(const Vitrine__V1__WindowCount *w)
{
	return w->metric >= VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES &&
	       w->metric <= VITRINE__V1__METRIC__METRIC_RFID_PRESENCE &&
	       w->length_s >= VT_AGG_WINDOW_MIN_S && w->length_s <= VT_AGG_WINDOW_MAX_S &&
	       w->k >= 1 && w->count <= (uint64_t)INT64_MAX &&
	       vt_agg_str_ok(w->label, VT_AGG_MAX_LABEL);
}

static int vt_agg_reading_ok(const Vitrine__V1__Batch *b, const Vitrine__V1__Reading *r)
{
	int64_t t;

	if (__builtin_add_overflow(b->base_time_ms, r->time_offset_ms, &t) || t < 0)
		return 0;
	switch (r->kind_case) {
	case VITRINE__V1__READING__KIND_FOOTFALL:
		return r->footfall->direction == VITRINE__V1__DIRECTION__DIRECTION_IN ||
		       r->footfall->direction == VITRINE__V1__DIRECTION__DIRECTION_OUT;
	case VITRINE__V1__READING__KIND_TABLET:
		return r->tablet->type >= VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_SESSION_START &&
		       r->tablet->type <= VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_PRODUCT_LOOKUP &&
		       vt_agg_field_ok(r->tablet->screen) && vt_agg_field_ok(r->tablet->gtin) &&
		       vt_agg_digest_ok(&r->tablet->session_digest);
	case VITRINE__V1__READING__KIND_RFID:
		return vt_agg_field_ok(r->rfid->gtin) && vt_agg_digest_ok(&r->rfid->tag_digest);
	case VITRINE__V1__READING__KIND_WINDOW:
		return vt_agg_window_ok(r->window);
	default:
		/* A kind from a newer agent: kept in the batch, skipped by the store. */
		return 1;
	}
}

static enum vt_agg_reason vt_agg_batch_check(const Vitrine__V1__Batch *b,
					     const struct vt_agg_result *res)
{
	if (!b->device || strcmp(b->device, res->hdr.device) != 0)
		return VT_AGG_DECODE;
	if (!b->site || !vt_frame_id_valid(b->site))
		return VT_AGG_DECODE;
	if ((b->boot_id.len && b->boot_id.len != VT_OS_BOOT_ID_LEN) ||
	    (b->clock_correction && (!b->boot_id.len || b->clock_correction->offset_ms < 0 ||
				     b->clock_correction->offset_ms > VT_AGG_CLOCK_OFFSET_MAX)))
		return VT_AGG_DECODE;
	for (size_t i = 0; i < b->n_readings; i++)
		if (!vt_agg_reading_ok(b, b->readings[i]))
			return VT_AGG_DECODE;
	/* Readings of an untrusted clock: each once, in order, and a time
	 * since boot needs the boot (unless none is known: never corrected). */
	for (size_t i = 0; i < b->n_unsynced; i++) {
		const Vitrine__V1__UnsyncedReading *u = b->unsynced[i];

		if (u->index >= b->n_readings || (i && u->index <= b->unsynced[i - 1]->index) ||
		    (!u->boot_unknown &&
		     (u->mono_ms < -VT_AGG_CLOCK_MONO_MAX || u->mono_ms > VT_AGG_CLOCK_MONO_MAX ||
		      b->boot_id.len != VT_OS_BOOT_ID_LEN)))
			return VT_AGG_DECODE;
	}
	/* The topic is not authenticated, the Batch is: they must agree. */
	if (strcmp(b->site, res->site) != 0)
		return VT_AGG_TOPIC_MISMATCH;
	return VT_AGG_OK;
}

static enum vt_agg_reason vt_agg_decompress(struct vt_agg_rx *rx, size_t zlen,
					    struct vt_agg_result *res)
{
	unsigned long long content = ZSTD_getFrameContentSize(rx->plain, zlen);
	const ZSTD_DDict *dd = NULL;
	size_t n;

	/* Refuse a declared size beyond the cap before doing any work; an
	 * undeclared size is bounded by the output buffer instead. */
	if (content == ZSTD_CONTENTSIZE_ERROR)
		return VT_AGG_DECODE;
	if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > rx->raw_cap)
		return VT_AGG_DECODE;
	/* The frame header names the dictionary (0: none); the AEAD has
	 * authenticated it. */
	res->dict_id = ZSTD_getDictID_fromFrame(rx->plain, zlen);
	if (res->dict_id) {
		dd = rx->dicts ? vt_agg_dicts_find(rx->dicts, res->dict_id, vt_os_mono_ms()) : NULL;
		if (!dd)
			return VT_AGG_UNKNOWN_DICT;
	}
	if (ZSTD_isError(ZSTD_DCtx_refDDict(rx->zstd, dd)))
		return VT_AGG_DECODE;
	n = ZSTD_decompressDCtx(rx->zstd, rx->raw, rx->raw_cap, rx->plain, zlen);
	if (ZSTD_isError(n))
		return VT_AGG_DECODE;
	res->plain_len = n;
	return VT_AGG_OK;
}

static int vt_agg_code_is(int rc, int code)
{
	return rc == code || rc == -code;
}

/* Epoch key from the cache, or derived. */
static enum vt_agg_reason vt_agg_epoch_key(const struct vt_agg_registry *reg,
					   struct vt_agg_key_cache *kc,
					   const struct vt_agg_result *res, uint8_t key[VT_KEY_LEN],
					   int *cached)
{
	const uint8_t *k = vt_agg_key_lookup(kc, &res->hdr);

	*cached = k != NULL;
	if (k) {
		memcpy(key, k, VT_KEY_LEN);
		return VT_AGG_OK;
	}
	if (vt_frame_key_aggregator(reg->agg_priv, res->hdr.eph_pub,
				    reg->devices[res->device_index].pub, res->hdr.device,
				    res->hdr.epoch, key) != 0)
		return VT_AGG_BAD_KEY;
	return VT_AGG_OK;
}

/* Header, topic and registry: everything checked before any crypto. */
static enum vt_agg_reason vt_agg_precheck(const char *topic, const uint8_t *payload, size_t len,
					  const struct vt_agg_registry *reg,
					  struct vt_agg_result *res)
{
	if (vt_agg_topic_parse(topic, res->site, res->topic_device) < 0)
		return VT_AGG_TOPIC_MISMATCH;
	if (vt_frame_parse_header(payload, len, &res->hdr) != 0)
		return VT_AGG_BAD_FRAME;
	res->have_hdr = 1;
	if (strcmp(res->hdr.device, res->topic_device) != 0)
		return VT_AGG_TOPIC_MISMATCH;
	if (len > VT_AGG_MAX_FRAME)
		return VT_AGG_DECODE;
	res->device_index = vt_agg_registry_find(reg, res->hdr.device);
	if (res->device_index < 0)
		return VT_AGG_UNKNOWN_DEVICE;
	return VT_AGG_OK;
}

static enum vt_agg_reason vt_agg_open(const uint8_t *payload, size_t len,
				      const struct vt_agg_registry *reg,
				      struct vt_agg_key_cache *kc, struct vt_agg_rx *rx,
				      const struct vt_agg_result *res, size_t *zlen)
{
	uint8_t key[VT_KEY_LEN];
	enum vt_agg_reason r;
	int cached, rc;

	r = vt_agg_epoch_key(reg, kc, res, key, &cached);
	if (r != VT_AGG_OK)
		goto out_wipe;
	rc = vt_frame_open(key, &res->hdr, payload, len, rx->plain, rx->plain_cap, zlen);
	if (rc != 0) {
		r = vt_agg_code_is(rc, VT_EAUTH) ? VT_AGG_BAD_TAG : VT_AGG_BAD_FRAME;
		goto out_wipe;
	}
	if (!cached)
		vt_agg_key_insert(kc, &res->hdr, key);
out_wipe:
	vt_keys_wipe(key, sizeof(key));
	return r;
}

static enum vt_agg_reason vt_agg_decode(struct vt_agg_rx *rx, size_t zlen,
					struct vt_agg_result *res)
{
	const uint8_t *packed = rx->raw;
	enum vt_agg_reason r;

	/* The codec bits are authenticated: looked at only once the tag is.
	 * Codec 0 is an uncompressed Batch, under the same size cap. */
	if (res->hdr.codec == VT_FRAME_CODEC_ZSTD) {
		r = vt_agg_decompress(rx, zlen, res);
		if (r != VT_AGG_OK)
			return r;
	} else if (res->hdr.codec == 0 && zlen <= rx->raw_cap) {
		packed = rx->plain;
		res->plain_len = zlen;
	} else {
		return VT_AGG_DECODE;
	}
	res->packed = packed;
	vt_arena_reset(&rx->arena);
	res->rx = rx;
	res->batch = vitrine__v1__batch__unpack(&rx->arena.pb, res->plain_len, packed);
	if (!res->batch)
		return VT_AGG_DECODE;
	return vt_agg_batch_check(res->batch, res);
}

enum vt_agg_reason vt_agg_decode_opened(struct vt_agg_rx *rx, int codec, const uint8_t *p,
					size_t n, struct vt_agg_result *res)
{
	enum vt_agg_reason r = VT_AGG_DECODE;

	if (n <= rx->plain_cap) {
		memcpy(rx->plain, p, n);
		res->hdr.codec = (uint8_t)codec;
		r = vt_agg_decode(rx, n, res);
	}
	if (r != VT_AGG_OK && res->batch) {
		vt_arena_reset(&rx->arena);
		res->batch = NULL;
	}
	res->reason = r;
	return r;
}

enum vt_agg_reason vt_agg_receive(const char *topic, const uint8_t *payload, size_t len,
				  const struct vt_agg_registry *reg, struct vt_agg_key_cache *kc,
				  struct vt_agg_rx *rx, struct vt_agg_result *res)
{
	enum vt_agg_reason r;
	size_t zlen = 0;

	memset(res, 0, sizeof(*res));
	res->device_index = -1;
	r = vt_agg_precheck(topic, payload, len, reg, res);
	if (r == VT_AGG_OK)
		r = vt_agg_open(payload, len, reg, kc, rx, res, &zlen);
	if (r == VT_AGG_OK)
		r = vt_agg_decode(rx, zlen, res);
	if (r != VT_AGG_OK && res->batch) {
		vt_arena_reset(&rx->arena);
		res->batch = NULL;
	}
	res->reason = r;
	return r;
}
