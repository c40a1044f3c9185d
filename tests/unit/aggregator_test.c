/*
 * aggregator_test.c - the receiving side end to end, without a broker.
 *
 * Frames are built here the way an agent builds them: a real protobuf Batch,
 * compressed with zstd and sealed with agent/frame.c under freshly generated
 * keys. They then go through vt_agg_handle() (receive + store) into a
 * SQLite database in a temporary directory, which the tests query. The
 * acknowledgments the context publishes are checked the way a device
 * checks them, with the key it derives on its side. Window cells (anonymous
 * mode) go the same way, next to events in one frame; a window sent again
 * after a crash, in new frames with the same part, is stored once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zstd.h>

#include "ack.h"
#include "err.h"
#include "frame.h"
#include "keys.h"
#include "kpi.h"
#include "log.h"
#include "receive.h"
#include "report.h"
#include "run.h"
#include "store.h"
#include "summary.h"
#include "vitrine/v1/batch.pb-c.h"
#include "vt_test.h"
#include "watch.h"
#include "windows.h"

#define SITE "cannes-croisette"
#define DEVICE "pi-door-1"
#define TOPIC "vitrine/v1/" SITE "/" DEVICE "/data"
#define BASE_MS 1714557600000LL	/* 2024-05-01T10:00:00Z */
#define GTIN_A "03012345678901"
#define GTIN_B "03012345678918"

struct fixture {
	uint8_t agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
	uint8_t dev_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN];
	struct vt_agg_device devices[2];
	struct vt_agg_registry reg;
	struct vt_sealer *sealer;
	struct vt_store *st;
	struct vt_agg_ctx ctx;
	char db_path[512];
	uint8_t frame[65536];
	size_t frame_len;
};

static int fx_count;

/* Keys for the aggregator and one device, a registry holding the device and
 * a decoy, a sealer for epoch 7 and a fresh database. */
static int fx_init(struct fixture *fx)
{
	char err[256];

	memset(fx, 0, sizeof(*fx));
	vt_log_init("aggregator_test", VT_LOG_ERROR);
	if (vt_keys_generate(fx->agg_priv, fx->agg_pub) || vt_keys_generate(fx->dev_priv, fx->dev_pub))
		return -1;
	snprintf(fx->devices[0].id, sizeof(fx->devices[0].id), "%s", DEVICE);
	memcpy(fx->devices[0].pub, fx->dev_pub, VT_KEY_LEN);
	snprintf(fx->devices[1].id, sizeof(fx->devices[1].id), "pi-till-2");
	if (vt_keys_generate(fx->devices[1].pub, fx->devices[1].pub))
		return -1;
	vt_agg_devices_sort(fx->devices, 2);
	fx->reg.devices = fx->devices;
	fx->reg.n_devices = 2;
	memcpy(fx->reg.agg_priv, fx->agg_priv, VT_KEY_LEN);
	if (vt_sealer_new(&fx->sealer, DEVICE, 7, VT_FRAME_AEAD_CHACHAPOLY, fx->dev_priv,
			  fx->agg_pub))
		return -1;
	snprintf(fx->db_path, sizeof(fx->db_path), "%s/agg-%d.db", vt_test_tmpdir(), fx_count++);
	if (vt_store_open(fx->db_path, VT_STORE_READWRITE, &fx->st, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return vt_agg_ctx_init(&fx->ctx, &fx->reg, fx->st, 200);
}

static void fx_fini(struct fixture *fx)
{
	vt_agg_ctx_fini(&fx->ctx);
	vt_store_close(fx->st);
	vt_sealer_free(fx->sealer);
}

/* ---- building frames ------------------------------------------------------------ */

struct readings {
	Vitrine__V1__Reading r[3];
	Vitrine__V1__Reading *p[3];
	Vitrine__V1__Footfall footfall;
	Vitrine__V1__TabletEvent tablet;
	Vitrine__V1__RfidRead rfid;
	uint8_t session_digest[16];
	uint8_t tag_digest[16];
};

/* r: count passes in at door 2, 1.5 s after the Batch's base time. */
static void footfall_fill(Vitrine__V1__Reading *r, Vitrine__V1__Footfall *f, uint32_t count)
{
	vitrine__v1__footfall__init(f);
	f->door = 2;
	f->direction = VITRINE__V1__DIRECTION__DIRECTION_IN;
	f->count = count;
	r->time_offset_ms = 1500;
	r->kind_case = VITRINE__V1__READING__KIND_FOOTFALL;
	r->footfall = f;
}

/* One reading of each kind, with values that are easy to check. */
static void readings_fill(struct readings *rd, Vitrine__V1__Batch *b, const char *site,
			  const char *device)
{
	memset(rd, 0, sizeof(*rd));
	for (int i = 0; i < 3; i++) {
		vitrine__v1__reading__init(&rd->r[i]);
		rd->p[i] = &rd->r[i];
	}
	for (int i = 0; i < 16; i++) {
		rd->session_digest[i] = (uint8_t)(0xa0 + i);
		rd->tag_digest[i] = (uint8_t)(0x01 + i);
	}
	footfall_fill(&rd->r[0], &rd->footfall, 3);

	vitrine__v1__tablet_event__init(&rd->tablet);
	rd->tablet.kiosk = 4;
	rd->tablet.type = VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_PRODUCT_LOOKUP;
	rd->tablet.session_digest.data = rd->session_digest;
	rd->tablet.session_digest.len = 16;
	rd->tablet.screen = "catalogue";
	rd->tablet.gtin = GTIN_A;
	rd->tablet.duration_ms = 4200;
	rd->r[1].time_offset_ms = 2000;
	rd->r[1].kind_case = VITRINE__V1__READING__KIND_TABLET;
	rd->r[1].tablet = &rd->tablet;

	vitrine__v1__rfid_read__init(&rd->rfid);
	rd->rfid.reader = 1;
	rd->rfid.antenna = 3;
	rd->rfid.rssi_cdbm = -5550;
	rd->rfid.gtin = GTIN_A;
	rd->rfid.filter = 1;
	rd->rfid.tag_digest.data = rd->tag_digest;
	rd->rfid.tag_digest.len = 16;
	rd->r[2].time_offset_ms = -250;
	rd->r[2].kind_case = VITRINE__V1__READING__KIND_RFID;
	rd->r[2].rfid = &rd->rfid;

	vitrine__v1__batch__init(b);
	b->site = (char *)site;
	b->device = (char *)device;
	b->base_time_ms = BASE_MS;
	b->n_readings = 3;
	b->readings = rd->p;
}

/* Pack, compress (content size in the zstd header or not) and seal. */
static int fx_seal_batch(struct fixture *fx, const Vitrine__V1__Batch *b, uint64_t seq,
			 int with_size)
{
	size_t plen = vitrine__v1__batch__get_packed_size(b);
	uint8_t *packed = malloc(plen + 1);
	uint8_t z[32768];
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t zlen;
	int rc = -1;

	if (!packed || !cc)
		goto out;
	vitrine__v1__batch__pack(b, packed);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, with_size);
	zlen = ZSTD_compress2(cc, z, sizeof(z), packed, plen);
	if (ZSTD_isError(zlen))
		goto out;
	rc = vt_sealer_seal(fx->sealer, seq, VT_FRAME_CODEC_ZSTD, z, zlen, fx->frame,
			    sizeof(fx->frame), &fx->frame_len);
out:
	ZSTD_freeCCtx(cc);
	free(packed);
	return rc;
}

/* Seal an arbitrary (already compressed) payload. */
static int fx_seal_raw(struct fixture *fx, uint64_t seq, int codec, const void *p, size_t n)
{
	return vt_sealer_seal(fx->sealer, seq, codec, p, n, fx->frame, sizeof(fx->frame),
			      &fx->frame_len);
}

static int fx_seal_default(struct fixture *fx, uint64_t seq)
{
	Vitrine__V1__Batch b;
	struct readings rd;

	readings_fill(&rd, &b, SITE, DEVICE);
	return fx_seal_batch(fx, &b, seq, 1);
}

static int fx_handle(struct fixture *fx, const char *topic)
{
	return vt_agg_handle(&fx->ctx, topic, fx->frame, fx->frame_len);
}

/* ---- reading the database back ------------------------------------------------------ */

static long long db_int(struct fixture *fx, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(vt_store_db(fx->st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char db_text_buf[1024];

static const char *db_text(struct fixture *fx, const char *sql)
{
	sqlite3_stmt *s = NULL;

	snprintf(db_text_buf, sizeof(db_text_buf), "(no row)");
	if (sqlite3_prepare_v2(vt_store_db(fx->st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		snprintf(db_text_buf, sizeof(db_text_buf), "%s",
			 (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return db_text_buf;
}

static long long counter(struct fixture *fx, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT coalesce((SELECT value FROM counters WHERE name = '%s'), 0)",
		 name);
	return db_int(fx, sql);
}

/* Run a report function into a string (caller frees). */
static char *capture(int (*fn)(struct fixture *, FILE *), struct fixture *fx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (fn(fx, f) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* ---- tests ------------------------------------------------------------------------------ */

VT_TEST(valid_frame_is_accepted_and_stored_field_for_field)
{
	struct fixture fx;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 42) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);

	CHECK_STR(db_text(&fx, "SELECT device || '|' || seq || '|' || epoch || '|' || site || '|' || readings FROM frames"),
		  DEVICE "|42|7|" SITE "|3");
	CHECK_STR(db_text(&fx, "SELECT device || '|' || seq || '|' || idx || '|' || site || '|' || time_ms || '|' || door || '|' || direction || '|' || count FROM footfall"),
		  DEVICE "|42|0|" SITE "|1714557601500|2|in|3");
	CHECK_STR(db_text(&fx, "SELECT idx || '|' || time_ms || '|' || kiosk || '|' || event || '|' || lower(hex(session_digest)) || '|' || screen || '|' || gtin || '|' || duration_ms FROM tablet"),
		  "1|1714557602000|4|product_lookup|a0a1a2a3a4a5a6a7a8a9aaabacadaeaf|catalogue|" GTIN_A "|4200");
	CHECK_STR(db_text(&fx, "SELECT idx || '|' || time_ms || '|' || reader || '|' || antenna || '|' || rssi_cdbm || '|' || gtin || '|' || filter || '|' || lower(hex(tag_digest)) FROM rfid"),
		  "2|1714557599750|1|3|-5550|" GTIN_A "|1|0102030405060708090a0b0c0d0e0f10");
	CHECK_EQ_INT(db_int(&fx, "SELECT received_at_ms > 0 FROM frames"), 1);
	CHECK_EQ_INT(counter(&fx, "frames_ok"), 1);
	CHECK_EQ_INT(counter(&fx, "readings_ok"), 3);
	fx_fini(&fx);
}

VT_TEST(frame_with_one_bit_flipped_is_rejected_bad_tag)
{
	struct fixture fx;
	/* Somewhere in the ciphertext, in the tag, and in the epoch (header, AAD). */
	size_t hdr = VT_FRAME_HEADER_LEN(strlen(DEVICE));
	size_t where[3];

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 1) == 0);
	where[0] = hdr + 3;
	where[1] = fx.frame_len - 1;
	where[2] = 5 + strlen(DEVICE) + 3;
	for (int i = 0; i < 3; i++) {
		fx.frame[where[i]] ^= 0x10;
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_BAD_TAG);
		fx.frame[where[i]] ^= 0x10;
	}
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(counter(&fx, "rejected_bad_tag"), 3);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 1);
	fx_fini(&fx);
}

VT_TEST(unregistered_device_is_rejected_unknown_device)
{
	struct fixture fx;
	struct vt_sealer *stranger = NULL;
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];

	CHECK(fx_init(&fx) == 0);
	CHECK(vt_keys_generate(priv, pub) == 0);
	vt_sealer_free(fx.sealer);
	CHECK(vt_sealer_new(&stranger, "pi-stranger", 1, VT_FRAME_AEAD_CHACHAPOLY, priv,
			    fx.agg_pub) == 0);
	fx.sealer = stranger;
	{
		Vitrine__V1__Batch b;
		struct readings rd;

		readings_fill(&rd, &b, SITE, "pi-stranger");
		CHECK(fx_seal_batch(&fx, &b, 1, 1) == 0);
	}
	CHECK_EQ_INT(fx_handle(&fx, "vitrine/v1/" SITE "/pi-stranger/data"), VT_AGG_UNKNOWN_DEVICE);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(counter(&fx, "rejected_unknown_device"), 1);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 0);
	fx_fini(&fx);
}

VT_TEST(registered_device_with_other_key_is_rejected_bad_tag)
{
	struct fixture fx;
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];

	CHECK(fx_init(&fx) == 0);
	/* Same device id, sealed with a key that is not the registered one. */
	CHECK(vt_keys_generate(priv, pub) == 0);
	vt_sealer_free(fx.sealer);
	fx.sealer = NULL;
	CHECK(vt_sealer_new(&fx.sealer, DEVICE, 7, VT_FRAME_AEAD_CHACHAPOLY, priv, fx.agg_pub) == 0);
	CHECK(fx_seal_default(&fx, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_BAD_TAG);
	fx_fini(&fx);
}

VT_TEST(same_frame_twice_is_a_counted_duplicate_stored_once)
{
	struct fixture fx;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 9) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	/* In the same open transaction, then after a commit. */
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 1);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM footfall"), 1);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM rfid"), 1);
	CHECK_EQ_INT(counter(&fx, "rejected_duplicate"), 2);
	CHECK_EQ_INT(counter(&fx, "frames_ok"), 1);
	fx_fini(&fx);
}

VT_TEST(garbage_and_truncated_payloads_are_counted_without_crash)
{
	struct fixture fx;
	uint8_t junk[512];
	long long n = 0;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 5) == 0);
	for (size_t len = 0; len < fx.frame_len; len++, n++)
		CHECK(vt_agg_handle(&fx.ctx, TOPIC, fx.frame, len) > VT_AGG_OK);
	srand(1234);
	for (int i = 0; i < 200; i++, n++) {
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)rand();
		if (i & 1)
			memcpy(junk, fx.frame, 60);	/* a valid header prefix */
		CHECK(vt_agg_handle(&fx.ctx, TOPIC, junk, (size_t)(rand() % 512)) > VT_AGG_OK);
	}
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(db_int(&fx, "SELECT sum(value) FROM counters WHERE name LIKE 'rejected_%'"), n);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 0);
	fx_fini(&fx);
}

VT_TEST(topic_not_matching_frame_is_rejected_topic_mismatch)
{
	static const char *const topics[] = {
		"vitrine/v1/" SITE "/pi-till-2/data",	/* another device */
		"vitrine/v1/other-site/" DEVICE "/data",	/* another site than the Batch */
		"vitrine/v1/" SITE "/" DEVICE "/status",
		"vitrine/v1/" SITE "/" DEVICE "/data/x",
		"vitrine/v2/" SITE "/" DEVICE "/data",
		"vitrine/v1/" SITE "/" DEVICE,
		"vitrine/v1//" DEVICE "/data",
		"vitrine/v1/s+/" DEVICE "/data",
		"",
	};
	struct fixture fx;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 3) == 0);
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		CHECK_EQ_INT(fx_handle(&fx, topics[i]), VT_AGG_TOPIC_MISMATCH);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	fx_fini(&fx);
}

/* 5 MiB of zeros compresses to a few hundred bytes. */
static int seal_bomb(struct fixture *fx, uint64_t seq, int with_size)
{
	size_t n = VT_AGG_MAX_PLAIN + 1024 * 1024;
	uint8_t *zeros = calloc(1, n);
	uint8_t z[16384];
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t zlen = 0;
	int rc = -1;

	if (zeros && cc) {
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, with_size);
		zlen = ZSTD_compress2(cc, z, sizeof(z), zeros, n);
		if (!ZSTD_isError(zlen))
			rc = fx_seal_raw(fx, seq, VT_FRAME_CODEC_ZSTD, z, zlen);
	}
	ZSTD_freeCCtx(cc);
	free(zeros);
	return rc;
}

VT_TEST(zstd_bomb_beyond_cap_is_rejected_decode)
{
	struct fixture fx;

	CHECK(fx_init(&fx) == 0);
	CHECK(seal_bomb(&fx, 1, 1) == 0);
	CHECK(fx.frame_len < 4096);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	/* Without a declared size: bounded by the output buffer instead. */
	CHECK(seal_bomb(&fx, 2, 0) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(counter(&fx, "rejected_decode"), 2);
	fx_fini(&fx);
}

VT_TEST(batch_inconsistent_with_header_is_rejected_decode)
{
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct readings rd;
	static const uint8_t not_zstd[] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	CHECK(fx_init(&fx) == 0);
	readings_fill(&rd, &b, SITE, "pi-till-2");	/* Batch names another device */
	CHECK(fx_seal_batch(&fx, &b, 1, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	readings_fill(&rd, &b, "bad site!", DEVICE);
	CHECK(fx_seal_batch(&fx, &b, 2, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	readings_fill(&rd, &b, SITE, DEVICE);
	rd.footfall.direction = VITRINE__V1__DIRECTION__DIRECTION_UNSPECIFIED;
	CHECK(fx_seal_batch(&fx, &b, 3, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	readings_fill(&rd, &b, SITE, DEVICE);
	rd.tablet.screen = "a,b";	/* would break the CSV */
	CHECK(fx_seal_batch(&fx, &b, 4, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	CHECK(fx_seal_raw(&fx, 5, VT_FRAME_CODEC_ZSTD, not_zstd, sizeof(not_zstd)) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	/* Valid zstd around bytes that are not a Batch. */
	{
		uint8_t z[256];
		static const uint8_t bad_pb[] = { 0x22, 0x7f, 0x01 };
		size_t zlen = ZSTD_compress(z, sizeof(z), bad_pb, sizeof(bad_pb), 1);

		CHECK(!ZSTD_isError(zlen));
		CHECK(fx_seal_raw(&fx, 6, VT_FRAME_CODEC_ZSTD, z, zlen) == 0);
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DECODE);
	}
	fx_fini(&fx);
}

VT_TEST(uncompressed_batch_and_unknown_content_size_are_accepted)
{
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct readings rd;
	uint8_t packed[1024];
	size_t plen;

	CHECK(fx_init(&fx) == 0);
	readings_fill(&rd, &b, SITE, DEVICE);
	plen = vitrine__v1__batch__pack(&b, packed);
	CHECK(fx_seal_raw(&fx, 1, 0, packed, plen) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(fx_seal_batch(&fx, &b, 2, 0) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	fx_fini(&fx);
}

VT_TEST(epoch_key_is_derived_once_per_epoch)
{
	struct fixture fx;

	CHECK(fx_init(&fx) == 0);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		CHECK(fx_seal_default(&fx, seq) == 0);
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	}
	CHECK_EQ_INT(fx.ctx.kc->misses, 1);
	CHECK_EQ_INT(fx.ctx.kc->hits, 4);
	/* A forged frame (bad tag) does not enter the cache. */
	vt_sealer_free(fx.sealer);
	fx.sealer = NULL;
	CHECK(vt_sealer_new(&fx.sealer, DEVICE, 8, VT_FRAME_AEAD_CHACHAPOLY, fx.dev_priv,
			    fx.agg_pub) == 0);
	CHECK(fx_seal_default(&fx, 6) == 0);
	fx.frame[fx.frame_len - 1] ^= 1;
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_BAD_TAG);
	fx.frame[fx.frame_len - 1] ^= 1;
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK_EQ_INT(fx.ctx.kc->misses, 3);
	fx_fini(&fx);
}

static int do_export(struct fixture *fx, FILE *f)
{
	return vt_report_export(vt_store_db(fx->st), f);
}

VT_TEST(export_prints_every_reading_as_sorted_csv)
{
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct readings rd;
	char *out;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	/* A second frame with an out pass, empty strings and empty digests. */
	readings_fill(&rd, &b, SITE, DEVICE);
	b.base_time_ms = BASE_MS - 60000;
	rd.footfall.direction = VITRINE__V1__DIRECTION__DIRECTION_OUT;
	rd.footfall.count = 1;
	rd.tablet.type = VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_SESSION_START;
	rd.tablet.screen = "";
	rd.tablet.gtin = "";
	rd.tablet.session_digest.len = 0;
	rd.rfid.tag_digest.len = 0;
	rd.rfid.gtin = GTIN_B;
	CHECK(fx_seal_batch(&fx, &b, 2, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	out = capture(do_export, &fx);
	CHECK(out != NULL);
	CHECK_STR(out,
		  "footfall," SITE "," DEVICE ",1714557541500,2,out,1\n"
		  "footfall," SITE "," DEVICE ",1714557601500,2,in,3\n"
		  "rfid," SITE "," DEVICE ",1714557539750,1,3,-5550," GTIN_B ",1,,0,0\n"
		  "rfid," SITE "," DEVICE ",1714557599750,1,3,-5550," GTIN_A ",1,0102030405060708090a0b0c0d0e0f10,0,0\n"
		  "tablet," SITE "," DEVICE ",1714557542000,4,session_start,,,,4200\n"
		  "tablet," SITE "," DEVICE ",1714557602000,4,product_lookup,a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,catalogue," GTIN_A ",4200\n");
	free(out);
	fx_fini(&fx);
}

/* What 'report' prints for the day of since_ms, with k at the floor (5). */
static int report_day(struct fixture *fx, FILE *f, int64_t since_ms)
{
	struct vt_kpi_set days = { 0 }, hours = { 0 };
	struct vt_kpi_query q = { .period = VT_KPI_DAY, .since_ms = since_ms,
				  .until_ms = since_ms + 1, .k = VT_KPI_K_MIN };
	int rc = vt_kpi_compute(vt_store_db(fx->st), &q, &days);

	q.period = VT_KPI_HOUR;
	q.since_ms = days.since_ms;
	q.until_ms = days.until_ms;
	if (rc == 0)
		rc = vt_kpi_compute(vt_store_db(fx->st), &q, &hours);
	if (rc == 0)
		rc = vt_summary_print(f, &days, &hours, NULL);
	vt_kpi_free(&days);
	vt_kpi_free(&hours);
	return rc;
}

static int do_report(struct fixture *fx, FILE *f)
{
	return report_day(fx, f, BASE_MS);
}

static int do_report_empty(struct fixture *fx, FILE *f)
{
	return report_day(fx, f, 1000);
}

static int do_watch(struct fixture *fx, FILE *f)
{
	return vt_watch_once(vt_store_db(fx->st), f, BASE_MS + 5000, 0);
}

static int do_stats(struct fixture *fx, FILE *f)
{
	return vt_report_stats(vt_store_db(fx->st), f);
}

VT_TEST(report_watch_and_stats_run_on_a_database)
{
	struct fixture fx;
	char want[256];
	char *out;

	CHECK(fx_init(&fx) == 0);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		CHECK(fx_seal_default(&fx, seq) == 0);
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	}
	fx.frame[fx.frame_len - 1] ^= 1;
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_BAD_TAG);
	CHECK(vt_store_commit(fx.st) == 0);

	out = capture(do_report, &fx);
	CHECK(out != NULL);
	/* Two frames: 6 in at 10:00, 2 tablet events, 2 RFID reads of one tag
	 * at 09:59 (offset -250 ms). With k = 5, the 6 people in show, the
	 * rest is below k: the single tag's product is left out. */
	snprintf(want, sizeof(want), "  %-10s %6s %6s %6s %8s %9s %8s  %s\n", "2024-05-01", "6",
		 "-", "6", "0 min", "-", "-", "-");
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "  %-5s %6s %6s %6s %6s %9s %8s %8s\n", "10:00", "6", "-",
		 "6", "6", "-", "-", "-");
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "  09:00") == NULL);
	CHECK(strstr(out, GTIN_A) == NULL);
	free(out);
	out = capture(do_report_empty, &fx);
	CHECK(out && strstr(out, "(no data in this period)") != NULL);
	free(out);

	out = capture(do_watch, &fx);
	CHECK(out != NULL);
	CHECK(strstr(out, "frames accepted 2, rejected 1 (bad_tag 1)") != NULL);
	CHECK(strstr(out, "site " SITE) != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "10:00", 6, 0, 2, 0);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "09:59", 0, 0, 0, 2);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "  %-12s %6d %6d %8d %8d\n", "09:51", 0, 0, 0, 0);
	CHECK(strstr(out, want) != NULL);
	CHECK(strstr(out, "top products by RFID reads, last 10 min: " GTIN_A " 2") != NULL);
	free(out);

	out = capture(do_stats, &fx);
	CHECK(out != NULL);
	snprintf(want, sizeof(want), "%-28s %14d\n", "frames_ok", 2);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%-28s %14d\n", "rejected_bad_tag", 1);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "%-28s %14d\n", "rejected_duplicate", 0);
	CHECK(strstr(out, want) != NULL);
	free(out);
	fx_fini(&fx);
}

VT_TEST(report_dates_parse_as_utc)
{
	int64_t ms;

	CHECK(vt_report_parse_time("2024-05-01", 0, &ms) == 0);
	CHECK_EQ_INT(ms, 1714521600000LL);
	CHECK(vt_report_parse_time("2024-05-01", 1, &ms) == 0);
	CHECK_EQ_INT(ms, 1714521600000LL + 86400000LL);
	CHECK(vt_report_parse_time("2024-05-01T10:00", 1, &ms) == 0);
	CHECK_EQ_INT(ms, BASE_MS);
	CHECK(vt_report_parse_time("2024-05-01 10:00:30Z", 0, &ms) == 0);
	CHECK_EQ_INT(ms, BASE_MS + 30000);
	CHECK(vt_report_parse_time("2024-02-30", 0, &ms) < 0);
	CHECK(vt_report_parse_time("2024-5-1", 0, &ms) < 0);
	CHECK(vt_report_parse_time("2024-05-01T25:00", 0, &ms) < 0);
	CHECK(vt_report_parse_time("yesterday", 0, &ms) < 0);
	CHECK(vt_report_parse_time("2024-05-01x", 0, &ms) < 0);
}

/* ---- window cells (anonymous mode) ------------------------------------------------------ */

/* One footfall event and two window cells (release 11) in one Batch: a
 * frame sealed by an agent with one plugin in each mode. */
struct window_readings {
	Vitrine__V1__Reading r[3];
	Vitrine__V1__Reading *p[3];
	Vitrine__V1__Footfall footfall;
	Vitrine__V1__WindowCount w[2];
};

static void window_readings_fill(struct window_readings *wr, Vitrine__V1__Batch *b)
{
	memset(wr, 0, sizeof(*wr));
	for (int i = 0; i < 3; i++) {
		vitrine__v1__reading__init(&wr->r[i]);
		wr->p[i] = &wr->r[i];
	}
	footfall_fill(&wr->r[0], &wr->footfall, 1);
	for (int i = 0; i < 2; i++) {
		vitrine__v1__window_count__init(&wr->w[i]);
		wr->w[i].length_s = 900;
		wr->w[i].k = 5;
		wr->w[i].part = 11;
		wr->r[1 + i].kind_case = VITRINE__V1__READING__KIND_WINDOW;
		wr->r[1 + i].window = &wr->w[i];
		wr->r[1 + i].time_offset_ms = -900000;	/* the window 09:45..10:00 */
	}
	wr->w[0].metric = VITRINE__V1__METRIC__METRIC_KIOSK_SCREEN_VIEWS;
	wr->w[0].dim1 = 4;
	wr->w[0].label = "catalogue";
	wr->w[0].count = 17;
	wr->w[0].epsilon_milli = 250;
	wr->w[1].metric = VITRINE__V1__METRIC__METRIC_KIOSK_SESSION_LENGTH;
	wr->w[1].dim2 = 3;
	wr->w[1].other = 1;
	wr->w[1].count = 6;
	vitrine__v1__batch__init(b);
	b->site = SITE;
	b->device = DEVICE;
	b->base_time_ms = BASE_MS;
	b->n_readings = 3;
	b->readings = wr->p;
}

VT_TEST(window_cells_are_accepted_stored_and_exported_like_the_tap)
{
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct window_readings wr;
	char *out;

	CHECK(fx_init(&fx) == 0);
	window_readings_fill(&wr, &b);
	CHECK(fx_seal_batch(&fx, &b, 42, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	CHECK(vt_store_commit(fx.st) == 0);
	/* A window cell is a reading of its frame, like an event. */
	CHECK_EQ_INT(db_int(&fx, "SELECT readings FROM frames"), 3);
	CHECK_EQ_INT(counter(&fx, "readings_ok"), 3);
	CHECK_EQ_INT(counter(&fx, "readings_skipped"), 0);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM windows"), 2);
	CHECK_STR(db_text(&fx, "SELECT device || '|' || seq || '|' || idx || '|' || site || '|' || time_ms || '|' || length_s || '|' || metric || '|' || dim1 || '|' || dim2 || '|' || label || '|' || other || '|' || count || '|' || k || '|' || epsilon_milli || '|' || part FROM windows WHERE idx = 1"),
		  DEVICE "|42|1|" SITE "|1714556700000|900|kiosk_screen_views|4|0|catalogue|0|17|5|250|11");
	out = capture(do_export, &fx);
	CHECK(out != NULL);
	/* No part in the line: the tap has none. */
	CHECK_STR(out,
		  "footfall," SITE "," DEVICE ",1714557601500,2,in,1\n"
		  "window," SITE "," DEVICE ",1714556700000,900,kiosk_screen_views,4,0,catalogue,0,17,5,250\n"
		  "window," SITE "," DEVICE ",1714556700000,900,kiosk_session_length,0,3,,1,6,5,0\n");
	free(out);
	/* The report counts window cells like events: the 6 sessions of
	 * length bucket 3 ("other" cell) show, k being 5. */
	out = capture(do_report, &fx);
	CHECK(out != NULL);
	CHECK(strstr(out, "  kiosk session lengths: lt_30s - lt_1min - lt_2min - lt_5min 6 lt_10min - ge_10min -\n") != NULL);
	free(out);
	fx_fini(&fx);
}

VT_TEST(window_cell_out_of_bounds_is_rejected_decode)
{
	static const char label_31[] = "abcdefghijklmnopqrstuvwxyz01234";
	static const char label_32[] = "abcdefghijklmnopqrstuvwxyz012345";
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct window_readings wr;
	uint64_t seq = 1;

	CHECK(fx_init(&fx) == 0);
	/* Each change alone makes the frame undecodable. */
	for (int bad = 0; bad < 11; bad++) {
		Vitrine__V1__WindowCount *w = &wr.w[0];

		window_readings_fill(&wr, &b);
		switch (bad) {
		case 0: w->metric = VITRINE__V1__METRIC__METRIC_UNSPECIFIED; break;
		case 1: w->metric = (Vitrine__V1__Metric)7; break;
		case 2: w->metric = (Vitrine__V1__Metric)-1; break;
		case 3: w->length_s = 59; break;
		case 4: w->length_s = 86401; break;
		case 5: w->k = 0; break;
		case 6: w->label = (char *)label_32; break;
		case 7: w->label = "a,b"; break;		/* would break the CSV */
		case 8: w->label = "home page"; break;
		case 9: w->label = "caf\xc3\xa9"; break;
		case 10: w->count = (uint64_t)INT64_MAX + 1; break;
		}
		CHECK(fx_seal_batch(&fx, &b, seq++, 1) == 0);
		if (fx_handle(&fx, TOPIC) != VT_AGG_DECODE) {
			printf("# case %d accepted\n", bad);
			CHECK(0);
		}
	}
	/* The bounds themselves are fine. */
	window_readings_fill(&wr, &b);
	wr.w[0].length_s = 60;
	wr.w[0].k = 1;
	wr.w[0].label = (char *)label_31;
	wr.w[0].count = INT64_MAX;
	wr.w[1].length_s = 86400;
	wr.w[1].metric = VITRINE__V1__METRIC__METRIC_RFID_PRESENCE;
	CHECK(fx_seal_batch(&fx, &b, seq++, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(counter(&fx, "rejected_decode"), 11);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 1);
	CHECK_STR(db_text(&fx, "SELECT label || '|' || count FROM windows WHERE idx = 1"),
		  "abcdefghijklmnopqrstuvwxyz01234|9223372036854775807");
	fx_fini(&fx);
}

/* Send the log (stderr) at level to a new file NAME in the test dir, whose
 * path goes to path. Returns the saved stderr for log_restore(), or -1. */
static int log_to_file(const char *name, int level, char *path, size_t len)
{
	int saved, fd;

	snprintf(path, len, "%s/%s", vt_test_tmpdir(), name);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (saved < 0 || fd < 0) {
		if (saved >= 0)
			close(saved);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	dup2(fd, 2);
	close(fd);
	vt_log_init("aggregator_test", level);
	return saved;
}

/* Back to stderr, at the fixture's level. */
static void log_restore(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	vt_log_init("aggregator_test", VT_LOG_ERROR);
}

/* Count lines of the log file that contain needle. */
static int count_lines(const char *path, const char *needle)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static int do_windows(struct fixture *fx, FILE *f)
{
	return vt_windows_report(vt_store_db(fx->st), f, NULL, 1);
}

VT_TEST(window_sent_again_after_a_crash_is_stored_once_and_parts_add_up)
{
	struct fixture fx;
	Vitrine__V1__Batch b;
	struct window_readings wr;
	char log_path[512];
	char *out;
	int saved;

	CHECK(fx_init(&fx) == 0);
	saved = log_to_file("window-copy.log", VT_LOG_INFO, log_path, sizeof(log_path));
	CHECK(saved >= 0);
	/* Release 11 in frame 42; the agent crashed before 42 was safe in its
	 * spool and sends release 11 again in frame 43 (with a new event). */
	window_readings_fill(&wr, &b);
	CHECK(fx_seal_batch(&fx, &b, 42, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(fx_seal_batch(&fx, &b, 43, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	/* Then it restarted cleanly within the window: release 12, counted
	 * by the new run, is a second part. */
	for (int i = 0; i < 2; i++)
		wr.w[i].part = 12;
	CHECK(fx_seal_batch(&fx, &b, 44, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	log_restore(saved);

	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM frames"), 3);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM windows"), 4);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM windows WHERE seq = 43"), 0);
	CHECK_EQ_INT(db_int(&fx, "SELECT count(*) FROM footfall"), 3);
	/* Each frame's readings are the rows it added: 43 only its event. */
	CHECK_STR(db_text(&fx, "SELECT group_concat(seq || ':' || readings, ' ') FROM (SELECT seq, readings FROM frames ORDER BY seq)"),
		  "42:3 43:1 44:3");
	CHECK_EQ_INT(db_int(&fx, "SELECT (SELECT sum(readings) FROM frames) = (SELECT count(*) FROM footfall) + (SELECT count(*) FROM windows)"), 1);
	CHECK_EQ_INT(counter(&fx, "window_cells_duplicate"), 2);
	CHECK_EQ_INT(counter(&fx, "readings_ok"), 7);
	CHECK_EQ_INT(counter(&fx, "frames_ok"), 3);
	CHECK_EQ_INT(counter(&fx, "rejected_duplicate"), 0);
	/* One info line, for frame 43. */
	CHECK_EQ_INT(count_lines(log_path, "window cells already stored"), 1);
	CHECK_EQ_INT(count_lines(log_path, "seq 43: 2 of its 2 window cells already stored"), 1);
	CHECK_EQ_INT(count_lines(log_path, " info: "), 1);
	/* windows adds the two parts, not the copy. */
	out = capture(do_windows, &fx);
	CHECK(out != NULL);
	CHECK(strstr(out, "\"metric\":\"kiosk_screen_views\",\"dim1\":4,\"dim2\":0,\"label\":\"catalogue\",\"other\":false,\"count\":34,\"parts\":2,") != NULL);
	CHECK(strstr(out, "\"metric\":\"kiosk_session_length\",\"dim1\":0,\"dim2\":3,\"label\":\"\",\"other\":true,\"count\":12,\"parts\":2,") != NULL);
	free(out);
	fx_fini(&fx);
}

VT_TEST(rejections_are_logged_once_per_device_per_minute)
{
	struct fixture fx;
	char log_path[512];
	int saved;

	CHECK(fx_init(&fx) == 0);
	saved = log_to_file("reject.log", VT_LOG_WARN, log_path, sizeof(log_path));
	CHECK(saved >= 0);
	CHECK(fx_seal_default(&fx, 1) == 0);
	fx.frame[fx.frame_len - 1] ^= 1;
	for (int i = 0; i < 5; i++)
		fx_handle(&fx, TOPIC);
	/* Garbage on this device's topic shares its limit. */
	vt_agg_handle(&fx.ctx, TOPIC, (const uint8_t *)"junk", 4);
	/* Unregistered devices each get their own slot. */
	for (int i = 0; i < 3; i++) {
		const char *ghost = i ? "ghost-2" : "ghost-1";
		char topic[128];

		vt_sealer_free(fx.sealer);
		fx.sealer = NULL;
		CHECK(vt_sealer_new(&fx.sealer, ghost, 1, VT_FRAME_AEAD_CHACHAPOLY, fx.dev_priv,
				    fx.agg_pub) == 0);
		CHECK(fx_seal_raw(&fx, 1, VT_FRAME_CODEC_ZSTD, (const uint8_t *)"x", 1) == 0);
		snprintf(topic, sizeof(topic), "vitrine/v1/%s/%s/data", SITE, ghost);
		CHECK_EQ_INT(fx_handle(&fx, topic), VT_AGG_UNKNOWN_DEVICE);
	}
	log_restore(saved);
	CHECK_EQ_INT(count_lines(log_path, "rejected frame from device " DEVICE " "), 1);
	CHECK_EQ_INT(count_lines(log_path, "bad_tag"), 1);
	CHECK_EQ_INT(count_lines(log_path, "device ghost-1 "), 1);
	CHECK_EQ_INT(count_lines(log_path, "device ghost-2 "), 1);
	CHECK_EQ_INT(count_lines(log_path, "rejected frame"), 3);
	/* The payload never reaches the log. */
	CHECK_EQ_INT(count_lines(log_path, "junk"), 0);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(counter(&fx, "rejected_bad_tag"), 5);
	CHECK_EQ_INT(counter(&fx, "rejected_unknown_device"), 3);
	CHECK_EQ_INT(counter(&fx, "rejected_bad_frame"), 1);
	fx_fini(&fx);
}

/* ---- acknowledgments ------------------------------------------------------------------- */

/* A stand-in for the broker: records what is published, or refuses. */
struct fake_broker {
	char topic[4][VT_AGG_ACK_TOPIC_MAX];
	uint8_t msg[4][VT_ACK_LEN];
	size_t len[4];
	int n;
	int down;
};

static int fake_publish(void *arg, const char *topic, const uint8_t *payload, size_t len)
{
	struct fake_broker *b = arg;

	if (b->down)
		return -ENOTCONN;
	if (b->n < 4) {
		snprintf(b->topic[b->n], sizeof(b->topic[0]), "%s", topic);
		memcpy(b->msg[b->n], payload, len < VT_ACK_LEN ? len : VT_ACK_LEN);
		b->len[b->n] = len;
	}
	b->n++;
	return 0;
}

/* The sequence number in published message i, checked with the key the
 * device derives from its own private key; UINT64_MAX if it does not verify. */
static uint64_t device_reads(struct fixture *fx, const struct fake_broker *b, int i)
{
	uint8_t key[VT_KEY_LEN];
	uint64_t seq = UINT64_MAX;

	if (vt_ack_key(fx->dev_priv, fx->agg_pub, DEVICE, key) == 0 &&
	    vt_ack_decode(key, b->topic[i], b->msg[i], b->len[i], &seq) != 0)
		seq = UINT64_MAX;
	vt_keys_wipe(key, sizeof(key));
	return seq;
}

VT_TEST(acks_are_published_only_for_committed_frames_and_verify_on_the_device)
{
	struct fixture fx;
	struct fake_broker b;

	CHECK(fx_init(&fx) == 0);
	memset(&b, 0, sizeof(b));
	for (uint64_t seq = 1; seq <= 3; seq++) {
		CHECK(fx_seal_default(&fx, seq) == 0);
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
		CHECK_EQ_INT(vt_agg_acks_publish(&fx.ctx, fake_publish, &b), 0);
	}
	CHECK_EQ_INT(b.n, 0);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(vt_agg_acks_publish(&fx.ctx, fake_publish, &b), 1);
	CHECK_EQ_INT(b.n, 1);
	CHECK_STR(b.topic[0], "vitrine/v1/" SITE "/" DEVICE "/ack");
	CHECK_EQ_INT(b.len[0], VT_ACK_LEN);
	CHECK_EQ_INT(device_reads(&fx, &b, 0), 3);
	CHECK_EQ_INT(fx.ctx.acks_published, 1);
	/* Frame 5 without 4: stored, but the watermark stays. */
	CHECK(fx_seal_default(&fx, 5) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(vt_agg_acks_publish(&fx.ctx, fake_publish, &b), 0);
	fx_fini(&fx);
}

VT_TEST(acks_not_handed_to_the_broker_stay_due_and_duplicates_ask_again)
{
	struct fixture fx;
	struct fake_broker b;

	CHECK(fx_init(&fx) == 0);
	memset(&b, 0, sizeof(b));
	CHECK(fx_seal_default(&fx, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	CHECK(vt_store_commit(fx.st) == 0);
	b.down = 1;
	CHECK(vt_agg_acks_publish(&fx.ctx, fake_publish, &b) < 0);
	b.down = 0;
	CHECK_EQ_INT(vt_agg_acks_publish(&fx.ctx, fake_publish, &b), 1);
	CHECK_EQ_INT(device_reads(&fx, &b, 0), 1);
	/* The device did not get it in time and resends frame 1, twice. */
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	CHECK(vt_store_commit(fx.st) == 0);
	CHECK_EQ_INT(vt_agg_acks_publish(&fx.ctx, fake_publish, &b), 1);
	CHECK_EQ_INT(b.n, 2);
	CHECK_EQ_INT(device_reads(&fx, &b, 1), 1);
	CHECK_EQ_INT(counter(&fx, "rejected_duplicate"), 2);
	fx_fini(&fx);
}

VT_TEST(ack_message_needs_a_registered_device_and_a_valid_site)
{
	struct fixture fx;
	char topic[VT_AGG_ACK_TOPIC_MAX];
	uint8_t msg[VT_ACK_LEN];

	CHECK(fx_init(&fx) == 0);
	CHECK_EQ_INT(vt_agg_ack_message(&fx.ctx, "pi-stranger", SITE, 1, topic, msg),
		     -VT_EUNKNOWN_DEVICE);
	CHECK_EQ_INT(vt_agg_ack_message(&fx.ctx, DEVICE, "bad site", 1, topic, msg), -VT_EFRAME);
	CHECK_EQ_INT(vt_agg_ack_message(&fx.ctx, DEVICE, SITE, 1, topic, msg), 0);
	fx_fini(&fx);
}

VT_TEST(duplicates_are_logged_at_info_once_per_device_per_minute)
{
	struct fixture fx;
	char log_path[512];
	int saved;

	CHECK(fx_init(&fx) == 0);
	CHECK(fx_seal_default(&fx, 1) == 0);
	CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_OK);
	saved = log_to_file("duplicate.log", VT_LOG_INFO, log_path, sizeof(log_path));
	CHECK(saved >= 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(fx_handle(&fx, TOPIC), VT_AGG_DUPLICATE);
	log_restore(saved);
	CHECK_EQ_INT(count_lines(log_path, "duplicate"), 1);
	CHECK_EQ_INT(count_lines(log_path, " info: "), 1);
	CHECK_EQ_INT(count_lines(log_path, "rejected frame"), 0);
	fx_fini(&fx);
}

VT_TEST(reason_names_are_the_counter_suffixes)
{
	CHECK_STR(vt_agg_reason_name(VT_AGG_BAD_TAG), "bad_tag");
	CHECK_STR(vt_agg_reason_name(VT_AGG_TOPIC_MISMATCH), "topic_mismatch");
	CHECK_STR(vt_agg_reason_name(VT_AGG_UNKNOWN_DEVICE), "unknown_device");
	CHECK_STR(vt_agg_reason_name(VT_AGG_DECODE), "decode");
	CHECK_STR(vt_agg_reason_name(VT_AGG_DUPLICATE), "duplicate");
	CHECK_STR(vt_agg_reason_name(VT_AGG_REASON_COUNT), "unknown");
	CHECK_STR(vt_store_counter_name(VT_STORE_REJECTED + VT_AGG_BAD_TAG), "rejected_bad_tag");
	CHECK_STR(vt_store_counter_name(VT_STORE_FRAMES_OK), "frames_ok");
}

VT_TEST_MAIN()
