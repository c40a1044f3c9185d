/*
 * pipeline_test.c - batcher and sequence numbers: a batch packs into a
 * Batch that protobuf-c decodes field for field; the sequence never repeats
 * across a "restart". (The privacy stage has privacy_test.c.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "privacy.h"
#include "state.h"
#include "vitrine/v1/batch.pb-c.h"
#include "rfid/fields.h"
#include "vt_test.h"

static struct vitrine_reading rfid_reading(uint64_t serial, int64_t t)
{
	struct vitrine_reading r = { .kind = VITRINE_KIND_RFID, .time_ms = t };

	r.u.rfid.reader = 2;
	r.u.rfid.antenna = 3;
	r.u.rfid.rssi_cdbm = -5250;
	strcpy(r.u.rfid.gtin, "80614141123458");
	r.u.rfid.filter = 3;
	r.u.rfid.serial = serial;
	return r;
}

/* A privacy stage with the rfid plugin's declaration. */
static struct vt_privacy *rfid_privacy(struct vt_privacy_source **src)
{
	struct vt_privacy_conf conf = { .rotation_s = 86400, .rssi_floor_cdbm = -9000,
					.window_s = 900, .k = 10 };
	struct vt_privacy *p;
	char err[256];

	if (vt_privacy_new(&p, &conf, err, sizeof(err)) < 0)
		return NULL;
	if (vt_privacy_source_add(p, "rfid", VT_PRIVACY_PSEUDONYMOUS, rfid_fields, src, err,
				  sizeof(err)) < 0) {
		vt_privacy_free(p);
		return NULL;
	}
	return p;
}

VT_TEST(validation_refuses_bad_readings)
{
	struct vitrine_reading r = rfid_reading(1, 0);
	const char *why = NULL;

	CHECK_EQ_INT(vt_reading_validate(&r, &why), 0);
	r.u.rfid.serial = 1ULL << 38;
	CHECK_EQ_INT(vt_reading_validate(&r, &why), -VT_EINVAL_READING);
	r = rfid_reading(1, 0);
	strcpy(r.u.rfid.gtin, "12345");
	CHECK(vt_reading_validate(&r, &why) < 0);
	r.kind = 99;
	CHECK(vt_reading_validate(&r, &why) < 0);
	CHECK_STR(why, "unknown kind");
	/* Times the clock stage could not compute with. */
	r = rfid_reading(1, 0);
	r.time_ms = -1;
	CHECK(vt_reading_validate(&r, &why) < 0);
	r.time_ms = INT64_MIN;
	CHECK(vt_reading_validate(&r, &why) < 0);
	r.time_ms = VT_READING_TIME_MAX_MS + 1;
	CHECK(vt_reading_validate(&r, &why) < 0);
	CHECK_STR(why, "time before 1970 or after 2^50 ms");
	r.time_ms = 0;
	CHECK_EQ_INT(vt_reading_validate(&r, &why), 0);
	memset(&r, 0, sizeof(r));
	r.kind = VITRINE_KIND_TABLET;
	r.u.tablet.event = VITRINE_TABLET_SCREEN_VIEW;
	strcpy(r.u.tablet.screen, "home,evil");
	CHECK(vt_reading_validate(&r, &why) < 0);
	memset(r.u.tablet.session, 'x', sizeof(r.u.tablet.session));
	strcpy(r.u.tablet.screen, "home");
	CHECK(vt_reading_validate(&r, &why) < 0);
}

VT_TEST(batch_packs_readings_protobuf_decodes_them)
{
	struct vt_batch_limits lim = { 10, 65536, 1000 };
	struct vt_batch *b;
	struct vt_privacy_source *src;
	struct vt_privacy *p = rfid_privacy(&src);
	const char *why;
	uint8_t buf[8192];
	size_t len;
	Vitrine__V1__Batch *msg;

	CHECK(p != NULL);
	CHECK_EQ_INT(vt_batch_new(&b, &lim, "cannes", "pi-1"), 0);
	for (int i = 0; i < 3; i++) {
		struct vitrine_reading in = rfid_reading((uint64_t)i, 1700000000000LL + i * 7);
		struct vt_reading r;

		CHECK_EQ_INT(vt_privacy_apply(p, src, &in, &r, 0, 0, &why), 0);
		CHECK_EQ_INT(vt_batch_add(b, &r, 5), 0);
	}
	CHECK(!vt_batch_due(b, 5));
	CHECK(vt_batch_due(b, 1005));
	CHECK(vt_batch_pack_bound(b) <= sizeof(buf));
	CHECK_EQ_INT(vt_batch_pack(b, NULL, buf, sizeof(buf), &len), 0);
	CHECK_EQ_INT(vt_batch_count(b), 0);
	msg = vitrine__v1__batch__unpack(NULL, len, buf);
	CHECK(msg != NULL);
	CHECK_STR(msg->site, "cannes");
	CHECK_STR(msg->device, "pi-1");
	CHECK_EQ_INT(msg->n_readings, 3);
	CHECK_EQ_INT(msg->base_time_ms + msg->readings[2]->time_offset_ms, 1700000000014LL);
	CHECK_EQ_INT(msg->readings[1]->kind_case, VITRINE__V1__READING__KIND_RFID);
	CHECK_EQ_INT(msg->readings[1]->rfid->rssi_cdbm, -5250);
	CHECK_STR(msg->readings[1]->rfid->gtin, "80614141123458");
	CHECK_EQ_INT(msg->readings[1]->rfid->tag_digest.len, VT_DIGEST_LEN);
	vitrine__v1__batch__free_unpacked(msg, NULL);
	vt_batch_free(b);
	vt_privacy_free(p);
}

VT_TEST(batch_is_due_when_full_and_refuses_more)
{
	struct vt_batch_limits lim = { 2, 65536, 1000 };
	struct vt_batch *b;
	struct vt_reading r = { .kind = VITRINE_KIND_FOOTFALL };

	r.u.footfall.direction = VITRINE_DIR_IN;
	r.u.footfall.count = 1;
	CHECK_EQ_INT(vt_batch_new(&b, &lim, "s", "d"), 0);
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	CHECK(!vt_batch_due(b, 0));
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	CHECK(vt_batch_due(b, 0));
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), -VT_EFULL);
	vt_batch_free(b);
}

VT_TEST(sequence_never_repeats_across_restart)
{
	struct vt_seq s;
	uint64_t a = 0, b = 0, last = 0;

	CHECK_EQ_INT(vt_seq_open(&s, vt_test_tmpdir(), 10), 0);
	for (int i = 0; i < 25; i++) {
		CHECK_EQ_INT(vt_seq_take(&s, &a), 0);
		CHECK(a > last);
		last = a;
	}
	vt_seq_close(&s);	/* as if the process died here */
	CHECK_EQ_INT(vt_seq_open(&s, vt_test_tmpdir(), 10), 0);
	CHECK_EQ_INT(vt_seq_take(&s, &b), 0);
	CHECK(b > a);
	vt_seq_close(&s);
}

VT_TEST_MAIN()
