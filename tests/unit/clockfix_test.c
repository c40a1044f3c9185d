/*
 * clockfix_test.c - the aggregator's side of readings taken before a
 * device's clock was trusted (aggregator/clockfix.h): a correction applied
 * to the flagged rows already stored and to those that come after it, the
 * same result in either order, other boots and devices left alone, a boot
 * that never synced left flagged and exported as such, a window copy found
 * by a correction stored once, the first correction of a boot kept, the
 * Batch checks of receive.c, and the upgrade of a version 4 database.
 *
 * Batches are built directly (no sealing) and handed to vt_store_put(), as
 * store_test.c does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "receive.h"
#include "report.h"
#include "store.h"
#include "vt_test.h"

#define SITE "lyon-part-dieu"
#define FAKE_BASE 86400000LL		/* the device's clock: 1970-01-02 */
#define REAL_BOOT 1795599900000LL	/* the boot on the real clock, a 15-min boundary */
#define GTIN_A "03012345678901"

static uint8_t boot_a[16] = { 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static uint8_t boot_b[16] = { 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* One frame: up to 6 readings of any kind, each flagged or not. */
struct frame {
	Vitrine__V1__Batch b;
	Vitrine__V1__Reading r[6];
	Vitrine__V1__Reading *p[6];
	Vitrine__V1__Footfall f;
	Vitrine__V1__TabletEvent t;
	Vitrine__V1__RfidRead rf;
	Vitrine__V1__WindowCount w[3];
	Vitrine__V1__UnsyncedReading u[6];
	Vitrine__V1__UnsyncedReading *up[6];
	Vitrine__V1__ClockCorrection corr;
	uint8_t digest[8];
	struct vt_frame_header h;
};

static void frame_init(struct frame *fr, const char *device, uint64_t seq, const uint8_t *boot)
{
	memset(fr, 0, sizeof(*fr));
	vitrine__v1__batch__init(&fr->b);
	vitrine__v1__footfall__init(&fr->f);
	vitrine__v1__tablet_event__init(&fr->t);
	vitrine__v1__rfid_read__init(&fr->rf);
	fr->f.door = 1;
	fr->f.direction = VITRINE__V1__DIRECTION__DIRECTION_IN;
	fr->f.count = 1;
	fr->t.kiosk = 2;
	fr->t.type = VITRINE__V1__TABLET_EVENT_TYPE__TABLET_EVENT_SESSION_START;
	fr->t.screen = "";
	fr->t.gtin = "";
	fr->rf.reader = 1;
	fr->rf.antenna = 2;
	fr->rf.rssi_cdbm = -5000;
	fr->rf.gtin = GTIN_A;
	fr->rf.tag_digest.data = fr->digest;
	fr->rf.tag_digest.len = sizeof(fr->digest);
	fr->b.site = SITE;
	fr->b.device = (char *)device;
	fr->b.base_time_ms = FAKE_BASE;
	fr->b.readings = fr->p;
	fr->b.unsynced = fr->up;
	fr->b.prev_seq = seq > 1 ? seq - 1 : 0;
	if (boot) {
		fr->b.boot_id.data = (uint8_t *)boot;
		fr->b.boot_id.len = 16;
	}
	snprintf(fr->h.device, sizeof(fr->h.device), "%s", device);
	fr->h.device_len = (uint8_t)strlen(device);
	fr->h.seq = seq;
	fr->h.epoch = 3;
}

/* A reading of kind at base + offset_ms; mono_ms NOT_FLAGGED: not flagged,
 * BOOT_UNKNOWN: flagged, no time since boot known. */
#define NOT_FLAGGED INT64_MIN
#define BOOT_UNKNOWN (INT64_MIN + 1)
static Vitrine__V1__Reading *frame_add(struct frame *fr, Vitrine__V1__Reading__KindCase kind,
				       int64_t offset_ms, int64_t mono_ms)
{
	size_t i = fr->b.n_readings++;
	Vitrine__V1__Reading *r = &fr->r[i];

	vitrine__v1__reading__init(r);
	fr->p[i] = r;
	r->time_offset_ms = offset_ms;
	r->kind_case = kind;
	if (mono_ms != NOT_FLAGGED) {
		Vitrine__V1__UnsyncedReading *u = &fr->u[fr->b.n_unsynced];

		vitrine__v1__unsynced_reading__init(u);
		u->index = (uint32_t)i;
		if (mono_ms == BOOT_UNKNOWN)
			u->boot_unknown = 1;
		else
			u->mono_ms = mono_ms;
		fr->up[fr->b.n_unsynced++] = u;
	}
	switch (kind) {
	case VITRINE__V1__READING__KIND_FOOTFALL:
		r->footfall = &fr->f;
		break;
	case VITRINE__V1__READING__KIND_TABLET:
		r->tablet = &fr->t;
		break;
	case VITRINE__V1__READING__KIND_RFID:
		r->rfid = &fr->rf;
		break;
	default: {
		Vitrine__V1__WindowCount *w = &fr->w[i % 3];

		vitrine__v1__window_count__init(w);
		w->length_s = 900;
		w->metric = VITRINE__V1__METRIC__METRIC_FOOTFALL_PASSES;
		w->dim1 = 1;
		w->dim2 = 1;
		w->label = "";
		w->count = 12;
		w->k = 10;
		w->part = 77;
		r->window = w;
	}
	}
	return r;
}

static void frame_correct(struct frame *fr, int64_t offset_ms)
{
	vitrine__v1__clock_correction__init(&fr->corr);
	fr->corr.offset_ms = offset_ms;
	fr->b.clock_correction = &fr->corr;
}

static struct vt_store *open_db(const char *name)
{
	struct vt_store *st = NULL;
	char path[512], err[256];

	vt_log_init("clockfix_test", VT_LOG_ERROR);
	snprintf(path, sizeof(path), "%s/%s", vt_test_tmpdir(), name);
	if (vt_store_open(path, VT_STORE_READWRITE, &st, err, sizeof(err)) < 0) {
		printf("  %s\n", err);
		return NULL;
	}
	return st;
}

static long long q(struct vt_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(vt_store_db(st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static char *export_of(struct vt_store *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (vt_report_export(vt_store_db(st), f) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* The readings the frames say they hold equal the rows, in every table. */
static int rows_agree(struct vt_store *st)
{
	return q(st, "SELECT sum(readings) FROM frames") ==
	       q(st, "SELECT (SELECT count(*) FROM footfall) + (SELECT count(*) FROM tablet)"
		     " + (SELECT count(*) FROM rfid) + (SELECT count(*) FROM windows)");
}

/* Frame 1: one reading of each kind flagged, 100 s to 103 s after boot
 * on a device clock at 1970-01-02 + 100 s..; the window's start 0 s after
 * boot. Frame 2: the correction (the real boot at REAL_BOOT). */
static void flagged_frame(struct frame *fr, uint64_t seq)
{
	frame_init(fr, "dev-a", seq, boot_a);
	fr->b.base_time_ms = FAKE_BASE + 100000;
	frame_add(fr, VITRINE__V1__READING__KIND_FOOTFALL, 0, 100000);
	frame_add(fr, VITRINE__V1__READING__KIND_TABLET, 1000, 101000);
	frame_add(fr, VITRINE__V1__READING__KIND_RFID, 2000, 102000);
	/* The window [1970-01-02 00:00, +15 min) began 0 s after boot... */
	frame_add(fr, VITRINE__V1__READING__KIND_WINDOW, -100000, 0);
	/* ... one of another plugin 500 s after: nearer the next boundary; and
	 * one that began 700 s before the boot: nearer the one before. */
	frame_add(fr, VITRINE__V1__READING__KIND_WINDOW, 400000, 500000)->window->dim1 = 2;
	frame_add(fr, VITRINE__V1__READING__KIND_WINDOW, -800000, -700000)->window->dim1 = 3;
}

static void correction_frame(struct frame *fr, uint64_t seq, int64_t offset_ms)
{
	frame_init(fr, "dev-a", seq, boot_a);
	fr->b.base_time_ms = REAL_BOOT + 200000;
	frame_add(fr, VITRINE__V1__READING__KIND_FOOTFALL, 0, NOT_FLAGGED);
	frame_correct(fr, offset_ms);
}

static void check_corrected(int *vt_failed, struct vt_store *st)
{
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM footfall WHERE clock_unsynced = 1"), 0);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 1") == REAL_BOOT + 100000);
	CHECK(q(st, "SELECT time_ms FROM tablet WHERE seq = 1") == REAL_BOOT + 101000);
	CHECK(q(st, "SELECT time_ms FROM rfid WHERE seq = 1") == REAL_BOOT + 102000);
	/* ... and corrected, the windows start on the real clock's boundaries. */
	CHECK(q(st, "SELECT time_ms FROM windows WHERE seq = 1 AND dim1 = 1") == REAL_BOOT);
	CHECK(q(st, "SELECT time_ms FROM windows WHERE seq = 1 AND dim1 = 2") == REAL_BOOT + 900000);
	CHECK(q(st, "SELECT time_ms FROM windows WHERE seq = 1 AND dim1 = 3") == REAL_BOOT - 900000);
	CHECK(q(st, "SELECT mono_ms FROM windows WHERE seq = 1 AND dim1 = 3") == -700000);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM tablet WHERE clock_unsynced = 1"), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM rfid WHERE clock_unsynced = 1"), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows WHERE clock_unsynced = 1"), 0);
	/* The time since boot and the boot stay: the time was derived. */
	CHECK(q(st, "SELECT mono_ms FROM rfid WHERE seq = 1") == 102000);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM footfall WHERE boot_id IS NOT NULL"), 1);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 2") == REAL_BOOT + 200000);
	CHECK_EQ_INT(q(st, "SELECT value FROM counters WHERE name = 'readings_unsynced'"), 6);
	CHECK_EQ_INT(q(st, "SELECT value FROM counters WHERE name = 'readings_clock_corrected'"), 6);
	CHECK(rows_agree(st));
}

VT_TEST(clockfix_a_correction_after_the_flagged_rows_corrects_them)
{
	struct vt_store *st = open_db("after.db");
	struct frame f1, f2;
	char *out;

	CHECK(st != NULL);
	flagged_frame(&f1, 1);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM footfall WHERE clock_unsynced = 1"), 1);
	CHECK(q(st, "SELECT time_ms FROM footfall") == FAKE_BASE + 100000);
	out = export_of(st);
	CHECK(out != NULL);
	CHECK(strstr(out, "footfall," SITE ",dev-a,86500000,1,in,1,unsynced\n") != NULL);
	free(out);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 2), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	check_corrected(vt_failed, st);
	out = export_of(st);
	CHECK(out != NULL);
	CHECK(strstr(out, "unsynced") == NULL);
	CHECK(strstr(out, "footfall," SITE ",dev-a,1795600000000,1,in,1\n") != NULL);
	free(out);
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST(clockfix_a_correction_before_the_flagged_rows_applies_when_they_arrive)
{
	struct vt_store *st = open_db("before.db");
	struct frame f1, f2;

	CHECK(st != NULL);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 2), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK_EQ_INT(vt_store_close(st), 0);
	/* Remembered across a restart of the aggregator. */
	st = open_db("before.db");
	CHECK(st != NULL);
	flagged_frame(&f1, 1);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	check_corrected(vt_failed, st);
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST(clockfix_other_boots_devices_and_a_boot_that_never_synced_stay_flagged)
{
	struct vt_store *st = open_db("others.db");
	struct frame f1, fb, fd, fl, f2;
	char *out;

	CHECK(st != NULL);
	flagged_frame(&f1, 1);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	/* The same device in another boot, and another device in boot a. */
	frame_init(&fb, "dev-a", 3, boot_b);
	frame_add(&fb, VITRINE__V1__READING__KIND_FOOTFALL, 0, 5000);
	CHECK_EQ_INT(vt_store_put(st, &fb.h, &fb.b, 1), 0);
	frame_init(&fd, "dev-b", 1, boot_a);
	frame_add(&fd, VITRINE__V1__READING__KIND_FOOTFALL, 0, 5000);
	CHECK_EQ_INT(vt_store_put(st, &fd.h, &fd.b, 1), 0);
	/* A window of an earlier boot, restored after a reboot. */
	frame_init(&fl, "dev-a", 4, NULL);
	frame_add(&fl, VITRINE__V1__READING__KIND_WINDOW, 0, BOOT_UNKNOWN)->window->part = 78;
	CHECK_EQ_INT(vt_store_put(st, &fl.h, &fl.b, 1), 0);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 2), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 1") == REAL_BOOT + 100000);
	CHECK_EQ_INT(q(st, "SELECT clock_unsynced FROM footfall WHERE seq = 3"), 1);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 3") == FAKE_BASE);
	CHECK_EQ_INT(q(st, "SELECT clock_unsynced FROM footfall WHERE device = 'dev-b'"), 1);
	CHECK_EQ_INT(q(st, "SELECT clock_unsynced FROM windows WHERE seq = 4"), 1);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows WHERE seq = 4 AND boot_id IS NULL"), 1);
	out = export_of(st);
	CHECK(out != NULL);
	CHECK(strstr(out, "footfall," SITE ",dev-b,86400000,1,in,1,unsynced\n") != NULL);
	CHECK(strstr(out, "window," SITE ",dev-a,86400000,900,footfall_passes,1,1,,0,12,10,0,unsynced\n") != NULL);
	free(out);
	CHECK(rows_agree(st));
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST(clockfix_a_window_copy_found_by_the_correction_is_stored_once)
{
	struct vt_store *st = open_db("copy.db");
	struct frame f1, f3, f2;

	CHECK(st != NULL);
	/* The cell, flagged, in frame 1; the device restarted after its
	 * clock synced and sent it again corrected (same part) in frame 3. */
	flagged_frame(&f1, 1);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	frame_init(&f3, "dev-a", 3, NULL);
	f3.b.base_time_ms = REAL_BOOT;
	frame_add(&f3, VITRINE__V1__READING__KIND_WINDOW, 0, NOT_FLAGGED);
	CHECK_EQ_INT(vt_store_put(st, &f3.h, &f3.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows"), 4);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 2), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows"), 3);
	CHECK(q(st, "SELECT time_ms FROM windows WHERE dim1 = 1") == REAL_BOOT);
	CHECK_EQ_INT(q(st, "SELECT seq FROM windows WHERE dim1 = 1"), 3);
	CHECK_EQ_INT(q(st, "SELECT readings FROM frames WHERE seq = 1"), 5);
	CHECK_EQ_INT(q(st, "SELECT value FROM counters WHERE name = 'window_cells_duplicate'"), 1);
	CHECK(rows_agree(st));
	CHECK_EQ_INT(q(st, "SELECT value FROM counters WHERE name = 'readings_ok'"),
		     q(st, "SELECT sum(readings) FROM frames"));
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST(clockfix_the_first_correction_of_a_boot_stays)
{
	struct vt_store *st = open_db("first.db");
	struct frame f1, f2, f5;

	CHECK(st != NULL);
	correction_frame(&f5, 5, REAL_BOOT + 7);	/* a later one, arriving first */
	CHECK_EQ_INT(vt_store_put(st, &f5.h, &f5.b, 1), 0);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM clock_corrections"), 1);
	CHECK(q(st, "SELECT offset_ms FROM clock_corrections") == REAL_BOOT);
	CHECK_EQ_INT(q(st, "SELECT seq FROM clock_corrections"), 2);
	correction_frame(&f5, 6, REAL_BOOT + 9);	/* a later one, arriving last */
	CHECK_EQ_INT(vt_store_put(st, &f5.h, &f5.b, 1), 0);
	CHECK_EQ_INT(q(st, "SELECT seq FROM clock_corrections"), 2);
	flagged_frame(&f1, 1);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 1") == REAL_BOOT + 100000);
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST(clockfix_a_skipped_reading_of_a_newer_kind_keeps_the_others_in_step)
{
	struct vt_store *st = open_db("skip.db");
	struct frame f1, f2;

	CHECK(st != NULL);
	correction_frame(&f2, 2, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 1), 0);
	frame_init(&f1, "dev-a", 1, boot_a);
	frame_add(&f1, VITRINE__V1__READING__KIND_FOOTFALL, 0, 1000);
	frame_add(&f1, VITRINE__V1__READING__KIND_FOOTFALL, 0, 2000)->kind_case =
		VITRINE__V1__READING__KIND__NOT_SET;	/* a kind from a newer agent */
	frame_add(&f1, VITRINE__V1__READING__KIND_TABLET, 0, NOT_FLAGGED);
	frame_add(&f1, VITRINE__V1__READING__KIND_RFID, 0, 4000);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK(q(st, "SELECT time_ms FROM footfall WHERE seq = 1") == REAL_BOOT + 1000);
	CHECK(q(st, "SELECT time_ms FROM tablet WHERE seq = 1") == FAKE_BASE);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM tablet WHERE mono_ms IS NULL AND clock_unsynced = 0"), 1);
	CHECK(q(st, "SELECT time_ms FROM rfid WHERE seq = 1") == REAL_BOOT + 4000);
	CHECK_EQ_INT(vt_store_close(st), 0);
}

/* A Batch through receive.c's checks (as opened, uncompressed). */
static enum vt_agg_reason decode(struct vt_agg_rx *rx, const Vitrine__V1__Batch *b)
{
	struct vt_agg_result res;
	uint8_t buf[4096];
	size_t n = vitrine__v1__batch__pack(b, buf);
	enum vt_agg_reason why;

	memset(&res, 0, sizeof(res));
	snprintf(res.hdr.device, sizeof(res.hdr.device), "%s", b->device);
	snprintf(res.site, sizeof(res.site), "%s", b->site);
	why = vt_agg_decode_opened(rx, 0, buf, n, &res);
	vt_agg_result_clear(&res);
	return why;
}

VT_TEST(clockfix_receive_refuses_clock_fields_that_do_not_hold_together)
{
	struct vt_agg_rx *rx = NULL;
	struct frame fr;

	CHECK_EQ_INT(vt_agg_rx_new(&rx), 0);
	flagged_frame(&fr, 1);
	correction_frame(&fr, 2, REAL_BOOT);
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_OK);
	flagged_frame(&fr, 1);
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_OK);
	fr.b.boot_id.len = 8;					/* not a boot id */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	fr.b.boot_id.len = 0;					/* flagged, no boot */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	frame_init(&fr, "dev-a", 1, NULL);
	frame_add(&fr, VITRINE__V1__READING__KIND_FOOTFALL, 0, BOOT_UNKNOWN);
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_OK);
	frame_init(&fr, "dev-a", 1, boot_a);
	frame_add(&fr, VITRINE__V1__READING__KIND_FOOTFALL, 0, -5);	/* before the boot */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_OK);
	fr.u[0].mono_ms = (1LL << 50) + 1;
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	fr.u[0].mono_ms = -(1LL << 50) - 1;
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	fr.u[0].mono_ms = 5;
	fr.u[0].index = 1;				/* no such reading */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	fr.u[0].index = 0;
	frame_add(&fr, VITRINE__V1__READING__KIND_FOOTFALL, 0, 6);
	fr.u[1].index = 0;				/* the same one twice */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	fr.u[1].index = 1;
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_OK);
	correction_frame(&fr, 2, -1);				/* before 1970 */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	correction_frame(&fr, 2, REAL_BOOT);
	fr.b.boot_id.len = 0;					/* whose boot? */
	CHECK_EQ_INT(decode(rx, &fr.b), VT_AGG_DECODE);
	vt_agg_rx_free(rx);
}

/* The schema as version 4 of the aggregator wrote it, with a few rows. */
static const char v4_schema[] =
	"CREATE TABLE frames(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL, site TEXT NOT NULL, received_at_ms INTEGER NOT NULL,"
	" readings INTEGER NOT NULL, prev_seq INTEGER NOT NULL DEFAULT 0,"
	" floor_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(device, seq));"
	"CREATE TABLE footfall(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" door INTEGER NOT NULL, direction TEXT NOT NULL, count INTEGER NOT NULL);"
	"CREATE TABLE tablet(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" kiosk INTEGER NOT NULL, event TEXT NOT NULL, session_digest BLOB NOT NULL,"
	" screen TEXT NOT NULL, gtin TEXT NOT NULL, duration_ms INTEGER NOT NULL);"
	"CREATE TABLE rfid(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" reader INTEGER NOT NULL, antenna INTEGER NOT NULL, rssi_cdbm INTEGER NOT NULL,"
	" gtin TEXT NOT NULL, filter INTEGER NOT NULL, tag_digest BLOB NOT NULL,"
	" reads INTEGER NOT NULL DEFAULT 0, dwell_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE windows(device TEXT NOT NULL, seq INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, site TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	" length_s INTEGER NOT NULL, metric TEXT NOT NULL, dim1 INTEGER NOT NULL,"
	" dim2 INTEGER NOT NULL, label TEXT NOT NULL, other INTEGER NOT NULL,"
	" count INTEGER NOT NULL, k INTEGER NOT NULL, epsilon_milli INTEGER NOT NULL,"
	" part INTEGER NOT NULL);"
	"CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE acks(device TEXT PRIMARY KEY, site TEXT NOT NULL, seq INTEGER NOT NULL);"
	"CREATE INDEX footfall_site_time ON footfall(site, time_ms);"
	"CREATE INDEX tablet_site_time ON tablet(site, time_ms);"
	"CREATE INDEX rfid_site_time ON rfid(site, time_ms);"
	"CREATE INDEX windows_site_time ON windows(site, time_ms);"
	"CREATE UNIQUE INDEX windows_cell_part ON windows(device, time_ms, length_s, metric,"
	" dim1, dim2, label, other, part);"
	"INSERT INTO frames VALUES ('dev-a', 1, 3, '" SITE "', 1, 3, 0, 0);"
	"INSERT INTO footfall VALUES ('dev-a', 1, 0, '" SITE "', 1714557600010, 1, 'out', 1);"
	"INSERT INTO rfid VALUES ('dev-a', 1, 1, '" SITE "', 1714557600020, 1, 2, -5000,"
	" '" GTIN_A "', 1, x'0102', 3, 900);"
	"INSERT INTO windows VALUES ('dev-a', 1, 2, '" SITE "', 1714557600000, 900,"
	" 'footfall_passes', 1, 1, '', 0, 12, 10, 0, 5);"
	"INSERT INTO counters VALUES ('frames_ok', 1), ('readings_ok', 3);"
	"INSERT INTO acks VALUES ('dev-a', '" SITE "', 1);"
	"PRAGMA user_version=4;";

#define V4_EXPORT                                                                     \
	"footfall," SITE ",dev-a,1714557600010,1,out,1\n"                              \
	"rfid," SITE ",dev-a,1714557600020,1,2,-5000," GTIN_A ",1,0102,3,900\n"         \
	"window," SITE ",dev-a,1714557600000,900,footfall_passes,1,1,,0,12,10,0\n"

VT_TEST(clockfix_a_version_4_database_is_upgraded_in_place)
{
	struct vt_store *st = NULL;
	struct frame f1, f2;
	char path[512], err[256];
	sqlite3 *db = NULL;
	char *out;

	snprintf(path, sizeof(path), "%s/v4.db", vt_test_tmpdir());
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v4_schema, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	/* Read-only: left at version 4; export has no flag to show. */
	CHECK_EQ_INT(vt_store_open(path, VT_STORE_READONLY, &st, err, sizeof(err)), 0);
	CHECK_EQ_INT(q(st, "PRAGMA user_version"), 4);
	out = export_of(st);
	CHECK(out != NULL);
	CHECK_STR(out, V4_EXPORT);
	free(out);
	CHECK_EQ_INT(vt_store_close(st), 0);

	st = open_db("v4.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(q(st, "PRAGMA user_version"), 5);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM pragma_table_info('footfall') WHERE name IN ('clock_unsynced', 'mono_ms', 'boot_id')"), 3);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM pragma_table_info('windows') WHERE name IN ('clock_unsynced', 'mono_ms', 'boot_id')"), 3);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM sqlite_master WHERE name IN ('clock_corrections', 'footfall_unsynced', 'tablet_unsynced', 'rfid_unsynced', 'windows_unsynced')"), 5);
	/* Old rows: as they were, never flagged. */
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM footfall WHERE clock_unsynced = 0 AND mono_ms IS NULL AND boot_id IS NULL"), 1);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows WHERE clock_unsynced = 0"), 1);
	out = export_of(st);
	CHECK(out != NULL);
	CHECK_STR(out, V4_EXPORT);
	free(out);
	/* New frames, flagged then corrected, go in next to them. */
	flagged_frame(&f1, 2);
	CHECK_EQ_INT(vt_store_put(st, &f1.h, &f1.b, 1), 0);
	correction_frame(&f2, 3, REAL_BOOT);
	CHECK_EQ_INT(vt_store_put(st, &f2.h, &f2.b, 1), 0);
	CHECK_EQ_INT(vt_store_commit(st), 0);
	CHECK(q(st, "SELECT time_ms FROM rfid WHERE seq = 2") == REAL_BOOT + 102000);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM windows"), 4);
	CHECK(rows_agree(st));
	CHECK_EQ_INT(vt_store_close(st), 0);
	/* Opened again: nothing changes. */
	st = open_db("v4.db");
	CHECK(st != NULL);
	CHECK_EQ_INT(q(st, "SELECT count(*) FROM footfall"), 3);
	CHECK_EQ_INT(vt_store_close(st), 0);
}

VT_TEST_MAIN()
