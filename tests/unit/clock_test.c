/*
 * clock_test.c - readings taken before the clock is trusted (agent/clock.h,
 * docs/PROTOCOL.md "Clock not synchronized"): the decision, the correction
 * arithmetic, the stamping of readings (flagged with their time since boot,
 * plugins still on the clock of before a step, devices with clocks of their
 * own), the state kept across restarts of one boot, the open batch and the
 * windows corrected when the clock syncs, the window checkpoint across a
 * restart and across a reboot, and the whole way from the agent's pipeline
 * through real sealed frames to the aggregator's database, with the
 * correction arriving after the flagged frames and before them.
 *
 * The clocks are handed in (vt_clock_update): a Pi that booted at 1970 is
 * wall = FAKE_BOOT + mono until NTP steps it to wall = REAL_BOOT + mono.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>

#include <sqlite3.h>

#include "anon.h"
#include "batch.h"
#include "clock.h"
#include "keys.h"
#include "log.h"
#include "pipeline.h"
#include "privacy.h"
#include "run.h"
#include "spool.h"
#include "store.h"
#include "vitrine/v1/batch.pb-c.h"
#include "vt_test.h"
#include "window.h"
#include "footfall/fields.h"

#define FAKE_BOOT 0LL			/* booted at 1970-01-01T00:00:00Z */
#define REAL_BOOT 1795599900000LL	/* the real boot, on a 15-minute boundary */
#define WIN_MS 900000LL

static const uint8_t boot_a[VT_OS_BOOT_ID_LEN] = { 0xa1, 0xa2, 0xa3, 0xa4, 5, 6, 7, 8,
						   9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t boot_b[VT_OS_BOOT_ID_LEN] = { 0xb1, 0xb2, 0xb3, 0xb4, 5, 6, 7, 8,
						   9, 10, 11, 12, 13, 14, 15, 16 };

static struct vt_clock *clock_open(int require_sync, const char *dir, const uint8_t *boot)
{
	struct vt_clock_conf conf = { require_sync, dir, boot };
	struct vt_clock *c = NULL;

	vt_log_init("clock_test", VT_LOG_ERROR);
	return vt_clock_open(&c, &conf) == 0 ? c : NULL;
}

static struct vt_reading footfall_at(int64_t t)
{
	struct vt_reading r = { .kind = VITRINE_KIND_FOOTFALL, .time_ms = t };

	r.u.footfall.door = 1;
	r.u.footfall.direction = VITRINE_DIR_IN;
	r.u.footfall.count = 1;
	return r;
}

VT_TEST(clock_is_trusted_when_set_and_with_require_sync_when_ntp_synced_it)
{
	CHECK(!vt_clock_decide(5000, 0, 1));
	CHECK(!vt_clock_decide(VT_OS_CLOCK_SET_MS - 1, 0, 1));
	CHECK(vt_clock_decide(VT_OS_CLOCK_SET_MS, 0, 0));
	CHECK(!vt_clock_decide(REAL_BOOT, 1, 0));
	CHECK(!vt_clock_decide(REAL_BOOT, 1, -EPERM));
	CHECK(vt_clock_decide(REAL_BOOT, 1, 1));
	CHECK(!vt_clock_decide(5000, 1, 1));
	/* The kernel's word: adjtimex's state and status. */
	CHECK_EQ_INT(vt_os_ntp_synced(TIME_OK, 0), 1);
	CHECK_EQ_INT(vt_os_ntp_synced(TIME_INS, STA_PLL), 1);
	CHECK_EQ_INT(vt_os_ntp_synced(TIME_OK, STA_UNSYNC), 0);
	CHECK_EQ_INT(vt_os_ntp_synced(TIME_ERROR, 0), 0);
	CHECK_EQ_INT(vt_os_ntp_synced(-EPERM, 0), -EPERM);
}

VT_TEST(clock_correction_is_mono_plus_offset_and_a_window_goes_to_the_nearest_boundary)
{
	CHECK(vt_clock_corrected(61000, REAL_BOOT) == REAL_BOOT + 61000);
	CHECK(vt_clock_window_start(0, REAL_BOOT, WIN_MS) == REAL_BOOT);
	CHECK(vt_clock_window_start(449999, REAL_BOOT, WIN_MS) == REAL_BOOT);
	CHECK(vt_clock_window_start(450000, REAL_BOOT, WIN_MS) == REAL_BOOT + WIN_MS);
	CHECK(vt_clock_window_start(1349999, REAL_BOOT, WIN_MS) == REAL_BOOT + WIN_MS);
	CHECK(vt_clock_window_start(1350000, REAL_BOOT, WIN_MS) == REAL_BOOT + 2 * WIN_MS);
	CHECK(vt_clock_window_start(-1000, 0, WIN_MS) == 0);
	CHECK(vt_clock_window_start(-450001, 0, WIN_MS) == -WIN_MS);
	/* Off the grid: a boot at 10:07:00 real time, a window at +20 min. */
	CHECK(vt_clock_window_start(20 * 60000, REAL_BOOT + 7 * 60000, WIN_MS) ==
	      REAL_BOOT + 2 * WIN_MS);
}

VT_TEST(clock_flags_readings_while_untrusted_and_corrects_them_once_trusted)
{
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct vt_reading r;

	CHECK(c != NULL);
	CHECK(!vt_clock_trusted(c));
	CHECK_EQ_INT(vt_clock_update(c, FAKE_BOOT + 60000, 60000, -1), 0);
	CHECK(!vt_clock_trusted(c));
	/* Taken 5 s ago on the 1970 clock: 55 s after boot. */
	r = footfall_at(FAKE_BOOT + 55000);
	vt_clock_stamp(c, &r, 60000);
	CHECK_EQ_INT(r.clock_unsynced, 1);
	CHECK(r.mono_ms == 55000);
	CHECK(r.time_ms == FAKE_BOOT + 55000);	/* kept as it was meanwhile */
	CHECK_EQ_INT(vt_clock_fix(c, &r), 0);	/* nothing to correct it by yet */
	CHECK_EQ_INT(vt_clock_stats(c)->flagged, 1);
	/* NTP steps the clock: trusted, and only once. */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 70000, 70000, -1), 1);
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 71000, 71000, -1), 0);
	CHECK_EQ_INT(vt_clock_fix(c, &r), 1);
	CHECK_EQ_INT(r.clock_unsynced, 0);
	CHECK(r.time_ms == REAL_BOOT + 55000);
	/* A window cell goes to the nearest boundary of its length. */
	r = footfall_at(FAKE_BOOT);
	r.kind = VT_KIND_WINDOW;
	r.u.window.length_s = 900;
	r.clock_unsynced = 1;
	r.mono_ms = 500000;
	CHECK_EQ_INT(vt_clock_fix(c, &r), 1);
	CHECK(r.time_ms == REAL_BOOT + WIN_MS);
	/* Readings on the trusted clock are left as they are. */
	r = footfall_at(REAL_BOOT + 71000 - 300);
	vt_clock_stamp(c, &r, 71000);
	CHECK_EQ_INT(r.clock_unsynced, 0);
	CHECK(r.time_ms == REAL_BOOT + 71000 - 300);
	vt_clock_free(c);
}

/* NTP steps the clock between two ticks, and a plugin stamps a reading on
 * the new clock before the next tick: observed, it is matched to the new
 * offset. Without vt_clock_observe its time since boot would be off by the
 * step (here an hour), and so would its correction. */
VT_TEST(clock_a_step_observed_between_ticks_gives_readings_their_true_time_since_boot)
{
	struct vt_clock *c = clock_open(1, NULL, boot_a);
	const int64_t set = REAL_BOOT - 3600000;	/* fake-hwclock: an hour behind */
	struct vt_reading r;

	CHECK(c != NULL);
	CHECK_EQ_INT(vt_clock_update(c, set + 60000, 60000, 0), 0);
	CHECK(!vt_clock_trusted(c));
	vt_clock_observe(c, REAL_BOOT + 61000, 61000);	/* the step, not synced yet */
	CHECK(!vt_clock_trusted(c));
	r = footfall_at(REAL_BOOT + 61500);
	vt_clock_stamp(c, &r, 61000);
	CHECK_EQ_INT(r.clock_unsynced, 1);
	CHECK(r.mono_ms == 61500);
	/* One stamped on the clock of before the step still matches the old
	 * offset. */
	r = footfall_at(set + 61200);
	vt_clock_stamp(c, &r, 61000);
	CHECK_EQ_INT(r.clock_unsynced, 1);
	CHECK(r.mono_ms == 61200);
	/* Observing decides nothing; the tick that sees NTP's state does. */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 62000, 62000, 1), 1);
	r.clock_unsynced = 1;
	r.mono_ms = 61500;
	CHECK_EQ_INT(vt_clock_fix(c, &r), 1);
	CHECK(r.time_ms == REAL_BOOT + 61500);
	/* Trusted: observing changes nothing. */
	vt_clock_observe(c, REAL_BOOT + 7200000, 63000);
	r = footfall_at(REAL_BOOT + 63000);
	vt_clock_stamp(c, &r, 63000);
	CHECK_EQ_INT(r.clock_unsynced, 0);
	CHECK(r.time_ms == REAL_BOOT + 63000);
	vt_clock_free(c);
}

VT_TEST(clock_a_plugin_still_on_the_clock_of_before_the_step_is_corrected_at_once)
{
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct vt_reading r;

	CHECK(c != NULL);
	vt_clock_update(c, FAKE_BOOT + 60000, 60000, -1);
	/* fake-hwclock: a step to a stale but set time, still not synced... */
	vt_clock_update(c, VT_OS_CLOCK_SET_MS + 65000, 65000, -1);
	CHECK(vt_clock_trusted(c));	/* ... which, without require_sync, is trusted */
	/* A source that opened at 1970 stamps on: its readings match the
	 * offset of before and are corrected by the one of now. */
	r = footfall_at(FAKE_BOOT + 80000);
	vt_clock_stamp(c, &r, 80500);
	CHECK_EQ_INT(r.clock_unsynced, 0);
	CHECK(r.time_ms == VT_OS_CLOCK_SET_MS + 80000);
	CHECK_EQ_INT(vt_clock_stats(c)->corrected, 1);
	vt_clock_free(c);
}

VT_TEST(clock_a_device_clock_that_looks_set_is_kept_and_a_1970_one_is_flagged_for_good)
{
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct vt_reading r;

	CHECK(c != NULL);
	vt_clock_update(c, FAKE_BOOT + 60000, 60000, -1);
	/* An RFID reader with its own NTP-synchronized clock. */
	r = footfall_at(REAL_BOOT + 59000);
	vt_clock_stamp(c, &r, 60000);
	CHECK_EQ_INT(r.clock_unsynced, 0);
	CHECK(r.time_ms == REAL_BOOT + 59000);
	/* A reader back at 1970 too, but ten days from this machine's clock:
	 * no time since boot explains it. */
	r = footfall_at(FAKE_BOOT + 10 * 86400000LL);
	vt_clock_stamp(c, &r, 60000);
	CHECK_EQ_INT(r.clock_unsynced, VT_READING_CLOCK_LOST);
	vt_clock_update(c, REAL_BOOT + 61000, 61000, -1);
	CHECK_EQ_INT(vt_clock_fix(c, &r), 0);
	CHECK_EQ_INT(r.clock_unsynced, VT_READING_CLOCK_LOST);
	vt_clock_free(c);
}

VT_TEST(clock_with_require_sync_a_set_clock_waits_for_ntp_then_stays_trusted)
{
	struct vt_clock *c = clock_open(1, NULL, boot_a);
	struct vt_reading r;
	char json[256];

	CHECK(c != NULL);
	/* fake-hwclock restored a plausible time, 3 days stale. */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT - 3 * 86400000LL + 10000, 10000, 0), 0);
	CHECK(!vt_clock_trusted(c));
	r = footfall_at(REAL_BOOT - 3 * 86400000LL + 9000);
	vt_clock_stamp(c, &r, 10000);
	CHECK_EQ_INT(r.clock_unsynced, 1);
	CHECK(r.mono_ms == 9000);
	vt_clock_status_json(c, 40000, json, sizeof(json));
	CHECK(strstr(json, "\"state\":\"unsynced\"") != NULL);
	CHECK(strstr(json, "\"unsynced_for_s\":30") != NULL);
	CHECK(strstr(json, "\"flagged\":1") != NULL);
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT - 3 * 86400000LL + 20000, 20000, -1), 0);
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 30000, 30000, 1), 1);
	CHECK_EQ_INT(vt_clock_fix(c, &r), 1);
	CHECK(r.time_ms == REAL_BOOT + 9000);
	/* NTP unreachable for a while: the clock stays trusted... */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 40000, 40000, 0), 0);
	CHECK(vt_clock_trusted(c));
	vt_clock_status_json(c, 40000, json, sizeof(json));
	CHECK(strstr(json, "\"state\":\"synced\"") != NULL);
	/* ... unless someone sets it back to before it was ever set. */
	vt_clock_update(c, 1000, 50000, 0);
	CHECK(!vt_clock_trusted(c));
	vt_clock_free(c);
}

VT_TEST(clock_an_owed_correction_survives_a_restart_in_the_same_boot_only)
{
	const char *dir = vt_test_tmpdir();
	struct vt_clock *c = clock_open(0, dir, boot_a);
	int64_t off = 0;

	CHECK(c != NULL);
	vt_clock_update(c, FAKE_BOOT + 60000, 60000, -1);
	vt_clock_unsynced_sealed(c);	/* a flagged frame left */
	CHECK_EQ_INT(vt_clock_correction_due(c, &off), 0);	/* nothing known yet */
	vt_clock_free(c);		/* the agent restarts, meanwhile NTP synced */
	c = clock_open(0, dir, boot_a);
	CHECK(c != NULL);
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 90000, 90000, -1), 1);
	CHECK_EQ_INT(vt_clock_correction_due(c, &off), 1);
	CHECK(off == REAL_BOOT);
	vt_clock_free(c);		/* and again, before the correction left */
	c = clock_open(0, dir, boot_a);
	CHECK(c != NULL);
	/* 4 ms of drift later: the offset of the first sync is kept, so that
	 * the agent and the aggregator correct alike. */
	vt_clock_update(c, REAL_BOOT + 120004, 120000, -1);
	CHECK_EQ_INT(vt_clock_correction_due(c, &off), 1);
	CHECK(off == REAL_BOOT);
	vt_clock_correction_sealed(c);
	CHECK_EQ_INT(vt_clock_correction_due(c, &off), 0);
	vt_clock_unsynced_sealed(c);
	vt_clock_free(c);
	/* Another boot: what the previous one owed nobody can pay. */
	c = clock_open(0, dir, boot_b);
	CHECK(c != NULL);
	vt_clock_update(c, REAL_BOOT + 5000, 5000, -1);
	CHECK_EQ_INT(vt_clock_correction_due(c, &off), 0);
	vt_clock_free(c);
}

/* ---- the open batch ------------------------------------------------------------ */

VT_TEST(clock_the_open_batch_carries_the_boot_and_is_corrected_when_the_clock_syncs)
{
	struct vt_batch_limits lim = { 10, 65536, 1000 };
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct vt_batch *b;
	struct vt_reading r;
	uint8_t buf[8192];
	size_t len;
	Vitrine__V1__Batch *msg;

	CHECK(c != NULL);
	CHECK_EQ_INT(vt_batch_new(&b, &lim, "cannes", "pi-1"), 0);
	vt_batch_set_boot(b, vt_clock_boot_id(c));
	vt_clock_update(c, FAKE_BOOT + 60000, 60000, -1);
	for (int i = 0; i < 3; i++) {
		r = footfall_at(FAKE_BOOT + 50000 + i * 1000);
		vt_clock_stamp(c, &r, 60000);
		CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	}
	CHECK_EQ_INT(vt_batch_unsynced(b), 3);
	CHECK_EQ_INT(vt_batch_pack(b, NULL, buf, sizeof(buf), &len), 0);
	msg = vitrine__v1__batch__unpack(NULL, len, buf);
	CHECK(msg != NULL);
	CHECK_EQ_INT(msg->boot_id.len, VT_OS_BOOT_ID_LEN);
	CHECK(memcmp(msg->boot_id.data, boot_a, VT_OS_BOOT_ID_LEN) == 0);
	CHECK(msg->clock_correction == NULL);
	CHECK_EQ_INT(msg->n_unsynced, 3);
	CHECK_EQ_INT(msg->unsynced[2]->index, 2);
	CHECK(msg->unsynced[2]->mono_ms == 52000);
	CHECK_EQ_INT(msg->unsynced[2]->boot_unknown, 0);
	CHECK(msg->base_time_ms + msg->readings[2]->time_offset_ms == FAKE_BOOT + 52000);
	vitrine__v1__batch__free_unpacked(msg, NULL);

	/* Flagged readings wait in the open batch when the clock syncs. */
	for (int i = 0; i < 2; i++) {
		r = footfall_at(FAKE_BOOT + 58000 + i * 1000);
		vt_clock_stamp(c, &r, 60000);
		CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	}
	CHECK_EQ_INT(vt_batch_fix_clock(b, c), 0);	/* not trusted yet */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 61000, 61000, -1), 1);
	CHECK_EQ_INT(vt_batch_fix_clock(b, c), 2);
	CHECK_EQ_INT(vt_batch_unsynced(b), 0);
	vt_batch_set_correction(b, 1, REAL_BOOT);
	CHECK_EQ_INT(vt_batch_pack(b, NULL, buf, sizeof(buf), &len), 0);
	msg = vitrine__v1__batch__unpack(NULL, len, buf);
	CHECK(msg != NULL);
	CHECK_EQ_INT(msg->n_unsynced, 0);
	CHECK(msg->base_time_ms + msg->readings[1]->time_offset_ms == REAL_BOOT + 59000);
	CHECK(msg->clock_correction != NULL);
	CHECK(msg->clock_correction->offset_ms == REAL_BOOT);
	CHECK_EQ_INT(msg->boot_id.len, VT_OS_BOOT_ID_LEN);	/* the correction's boot */
	vitrine__v1__batch__free_unpacked(msg, NULL);

	/* A trusted clock all along: not one byte more on the wire. */
	r = footfall_at(REAL_BOOT + 62000);
	vt_clock_stamp(c, &r, 62000);
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	CHECK_EQ_INT(vt_batch_pack(b, NULL, buf, sizeof(buf), &len), 0);
	msg = vitrine__v1__batch__unpack(NULL, len, buf);
	CHECK(msg != NULL);
	CHECK_EQ_INT(msg->boot_id.len, 0);
	CHECK(msg->clock_correction == NULL);	/* a pack clears it */
	CHECK_EQ_INT(msg->n_unsynced, 0);
	CHECK_EQ_INT(len, vitrine__v1__batch__get_packed_size(&(Vitrine__V1__Batch){
		.base = msg->base, .site = msg->site, .device = msg->device,
		.base_time_ms = msg->base_time_ms, .n_readings = 1, .readings = msg->readings }));
	vitrine__v1__batch__free_unpacked(msg, NULL);
	/* A reading of no known boot: flagged, no time since boot, no boot id. */
	r = footfall_at(5000);
	r.clock_unsynced = VT_READING_CLOCK_LOST;
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	r = footfall_at(REAL_BOOT + 63000);
	vt_clock_stamp(c, &r, 63000);
	CHECK_EQ_INT(vt_batch_add(b, &r, 0), 0);
	CHECK_EQ_INT(vt_batch_pack(b, NULL, buf, sizeof(buf), &len), 0);
	msg = vitrine__v1__batch__unpack(NULL, len, buf);
	CHECK(msg != NULL);
	CHECK_EQ_INT(msg->boot_id.len, 0);
	CHECK_EQ_INT(msg->n_unsynced, 1);
	CHECK_EQ_INT(msg->unsynced[0]->index, 0);
	CHECK_EQ_INT(msg->unsynced[0]->boot_unknown, 1);
	vitrine__v1__batch__free_unpacked(msg, NULL);
	vt_batch_free(b);
	vt_clock_free(c);
}

/* ---- windows -------------------------------------------------------------------- */

struct cells {
	struct vt_reading r[64];
	int n;
};

static int cells_sink(void *arg, const struct vt_reading *r)
{
	struct cells *s = arg;

	if (r && s->n < 64)
		s->r[s->n++] = *r;
	return 0;
}

/* A footfall reading stamped at time t, mono_ms after boot, as the
 * pipeline does, then counted in w (closed windows go to got). */
static void window_count_at(struct vt_clock *c, struct vt_window *w, int64_t t, int64_t mono_ms,
			    struct cells *got)
{
	struct vt_reading r = footfall_at(t);

	vt_clock_stamp(c, &r, mono_ms);
	vt_window_add(w, &r, r.time_ms, mono_ms, cells_sink, got);
}

VT_TEST(clock_a_window_opened_untrusted_moves_to_its_real_time_when_the_clock_syncs)
{
	struct vt_window_conf wc = { .length_s = 900, .k = 1, .slot_s = 300 };
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct cells got = { .n = 0 };
	struct vt_window *w;
	uint32_t unsynced;
	int64_t start_mono;

	CHECK(c != NULL);
	CHECK_EQ_INT(vt_window_new(&w, &wc), 0);
	/* Booted at 1970 + 0 s; the first reading 200 s later opens the
	 * window [0, 900 s) of the 1970 clock. */
	vt_clock_update(c, FAKE_BOOT + 200000, 200000, -1);
	window_count_at(c, w, FAKE_BOOT + 200000, 200000, &got);
	vt_window_clock(w, &unsynced, &start_mono);
	CHECK_EQ_INT(unsynced, 1);
	CHECK(start_mono == 0);
	/* The real boot was at 10:07:00: the window starts at 10:07 real
	 * time, nearest to 10:00. */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 7 * 60000 + 300000, 300000, -1), 1);
	CHECK_EQ_INT(vt_window_fix_clock(w, c), 1);
	CHECK_EQ_INT(vt_window_fix_clock(w, c), 0);
	vt_window_clock(w, &unsynced, &start_mono);
	CHECK_EQ_INT(unsynced, 0);
	window_count_at(c, w, REAL_BOOT + 7 * 60000 + 300000, 300000, &got);
	CHECK_EQ_INT(got.n, 0);		/* the same window: 10:00 - 10:15 */
	vt_window_tick(w, REAL_BOOT + 2 * WIN_MS, 400000, VT_WINDOW_NOW, cells_sink, &got);
	CHECK_EQ_INT(got.n, 1);
	CHECK(got.r[0].time_ms == REAL_BOOT);
	CHECK_EQ_INT(got.r[0].clock_unsynced, 0);
	CHECK_EQ_INT(got.r[0].u.window.count, 2);
	vt_window_free(w);
	vt_clock_free(c);
}

/* The usual case: the boot falls inside a window, which began before it. */
VT_TEST(clock_a_window_that_began_before_the_boot_has_a_negative_start_since_boot)
{
	struct vt_window_conf wc = { .length_s = 900, .k = 1, .slot_s = 300 };
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct cells got = { .n = 0 };
	struct vt_window *w;
	uint32_t unsynced;
	int64_t start_mono;

	CHECK(c != NULL);
	CHECK_EQ_INT(vt_window_new(&w, &wc), 0);
	/* Booted at 1970 + 300 s: the first reading, 10 s after boot, opens
	 * [0, 900 s), which began 300 s before the boot. */
	vt_clock_update(c, 300000 + 10000, 10000, -1);
	window_count_at(c, w, 300000 + 10000, 10000, &got);
	vt_window_clock(w, &unsynced, &start_mono);
	CHECK_EQ_INT(unsynced, VT_READING_CLOCK_UNSYNCED);
	CHECK(start_mono == -300000);
	vt_window_tick(w, 900000 + 20000, 620000, VT_WINDOW_NOW, cells_sink, &got);
	CHECK_EQ_INT(got.n, 1);
	CHECK(got.r[0].mono_ms == -300000);
	/* Really booted at 10:04:00: the window began at 09:59, nearest 10:00. */
	CHECK_EQ_INT(vt_clock_update(c, REAL_BOOT + 4 * 60000 + 630000, 630000, -1), 1);
	CHECK_EQ_INT(vt_clock_fix(c, &got.r[0]), 1);
	CHECK(got.r[0].time_ms == REAL_BOOT);
	vt_window_free(w);
	vt_clock_free(c);
}

VT_TEST(clock_a_window_released_untrusted_carries_its_start_since_boot)
{
	struct vt_window_conf wc = { .length_s = 900, .k = 1, .slot_s = 300 };
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct cells got = { .n = 0 };
	struct vt_window *w;

	CHECK(c != NULL);
	CHECK_EQ_INT(vt_window_new(&w, &wc), 0);
	vt_clock_update(c, FAKE_BOOT + 1000000, 1000000, -1);
	window_count_at(c, w, FAKE_BOOT + 1000000, 1000000, &got);	/* window [900 s, 1800 s) */
	vt_window_tick(w, FAKE_BOOT + 1900000, 1900000, VT_WINDOW_NOW, cells_sink, &got);
	CHECK_EQ_INT(got.n, 1);
	CHECK(got.r[0].time_ms == FAKE_BOOT + WIN_MS);
	CHECK_EQ_INT(got.r[0].clock_unsynced, 1);
	CHECK(got.r[0].mono_ms == WIN_MS);
	vt_window_free(w);
	vt_clock_free(c);
}

struct anon_run {
	struct vt_anon *a;
	struct vt_anon_plugin *ap;
	struct cells got;
};

static int anon_start(struct anon_run *run, const char *dir, struct vt_clock *c)
{
	struct vt_anon_conf conf = { dir, 900, 1, NULL, 0, 100 };
	char err[256];

	memset(&run->got, 0, sizeof(run->got));
	if (vt_anon_new(&run->a, &conf, err, sizeof(err)) < 0)
		return -1;
	vt_anon_set_sink(run->a, cells_sink, &run->got);
	vt_anon_set_clock(run->a, c);
	return vt_anon_plugin(run->a, "footfall", 0, 0, &run->ap, err, sizeof(err));
}

VT_TEST(clock_a_checkpointed_window_is_corrected_after_a_restart_and_flagged_after_a_reboot)
{
	const char *dir = vt_test_tmpdir();
	struct vt_clock *c = clock_open(0, NULL, boot_a);
	struct anon_run run;
	struct vt_reading r;

	CHECK(c != NULL);
	vt_clock_update(c, FAKE_BOOT + 200000, 200000, -1);
	CHECK_EQ_INT(anon_start(&run, dir, c), 0);
	r = footfall_at(FAKE_BOOT + 200000);
	vt_clock_stamp(c, &r, 200000);
	vt_anon_add(run.a, run.ap, &r, r.time_ms, 200000);
	vt_anon_tick(run.a, FAKE_BOOT + 200000, 200000, VT_WINDOW_IF_ENDED);	/* checkpoint */
	vt_anon_abandon_for_test(run.a);	/* a crash */

	/* The same boot, the clock trusted now: the window is corrected. */
	vt_clock_update(c, REAL_BOOT + 300000, 300000, -1);
	CHECK(vt_clock_trusted(c));
	CHECK_EQ_INT(anon_start(&run, dir, c), 0);
	vt_anon_tick(run.a, REAL_BOOT + 300000, 300000, VT_WINDOW_NOW);
	CHECK_EQ_INT(run.got.n, 1);
	CHECK(run.got.r[0].time_ms == REAL_BOOT);
	CHECK_EQ_INT(run.got.r[0].clock_unsynced, 0);
	vt_anon_abandon_for_test(run.a);
	vt_clock_free(c);

	/* Again, but the device rebooted before the clock was trusted. */
	c = clock_open(0, NULL, boot_a);
	CHECK(c != NULL);
	{
		char sub[400];

		snprintf(sub, sizeof(sub), "%s/reboot", vt_test_tmpdir());
		vt_clock_update(c, FAKE_BOOT + 200000, 200000, -1);
		CHECK_EQ_INT(anon_start(&run, sub, c), 0);
		r = footfall_at(FAKE_BOOT + 200000);
		vt_clock_stamp(c, &r, 200000);
		vt_anon_add(run.a, run.ap, &r, r.time_ms, 200000);
		vt_anon_free(run.a);	/* a clean stop: the open window waits */
		vt_clock_free(c);
		c = clock_open(0, NULL, boot_b);
		CHECK(c != NULL);
		vt_clock_update(c, REAL_BOOT + 100000, 100000, -1);
		CHECK_EQ_INT(anon_start(&run, sub, c), 0);
		vt_anon_tick(run.a, REAL_BOOT + 100000, 100000, VT_WINDOW_NOW);
		CHECK_EQ_INT(run.got.n, 1);
		/* Times since the other boot mean nothing now: flagged for good. */
		CHECK(run.got.r[0].time_ms == FAKE_BOOT);
		CHECK_EQ_INT(run.got.r[0].clock_unsynced, VT_READING_CLOCK_LOST);
		CHECK_EQ_INT(vt_clock_fix(c, &run.got.r[0]), 0);
		vt_anon_abandon_for_test(run.a);
	}
	vt_clock_free(c);
}

/* ---- from the pipeline to the aggregator's database ---------------------------------- */

struct e2e {
	uint8_t dev_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN];
	uint8_t agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
	struct vt_agg_device device;
	struct vt_agg_registry reg;
	struct vt_agg_ctx ctx;
	struct vt_store *st;
	struct vt_spool *spool;
	struct vt_privacy *privacy;
	struct vt_privacy_source *src;
	struct vt_pipeline *p;
	struct vt_clock *clock;
	uint8_t *frames[8];
	size_t lens[8];
	int n_frames;
};

/* Set before e2e_open(): the clock's clock_require_sync, the spool's age
 * bound. */
static int e2e_require_sync;
static uint64_t e2e_max_age_ms;

static int e2e_open(struct e2e *e, const char *name)
{
	struct vt_privacy_conf pc = { .rotation_s = 86400, .rssi_floor_cdbm = -7000,
				      .window_s = 900, .k = 10 };
	struct vt_batch_limits lim = { 100, 65536, 1000000 };
	char dir[400], db[450], err[256];
	struct vt_spool_conf sc = { .dir = dir, .max_bytes = 1 << 24, .sync_ms = 0,
				    .sync_frames = 1, .max_age_ms = e2e_max_age_ms };
	struct vt_pipeline_conf conf = { .site = "cannes", .device = "pi-01", .state_dir = dir,
					 .batch = lim, .zstd_level = 3,
					 .aead = VT_FRAME_AEAD_CHACHAPOLY,
					 .epoch_max_frames = 100000 };

	memset(e, 0, sizeof(*e));
	snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), name);
	snprintf(db, sizeof(db), "%s/%s.db", vt_test_tmpdir(), name);
	sc.max_frame = (uint32_t)vt_pipeline_frame_bound(&lim, conf.device);
	if (vt_keys_generate(e->dev_priv, e->dev_pub) || vt_keys_generate(e->agg_priv, e->agg_pub) ||
	    vt_spool_open(&e->spool, &sc) < 0 ||
	    vt_privacy_new(&e->privacy, &pc, err, sizeof(err)) < 0 ||
	    vt_privacy_source_add(e->privacy, "footfall", VT_PRIVACY_PSEUDONYMOUS, footfall_fields,
				  &e->src, err, sizeof(err)) < 0)
		return -1;
	e->clock = clock_open(e2e_require_sync, dir, boot_a);
	if (!e->clock)
		return -1;
	conf.spool = e->spool;
	conf.device_key = e->dev_priv;
	conf.aggregator_key = e->agg_pub;
	conf.privacy = e->privacy;
	conf.clock = e->clock;
	if (vt_pipeline_new(&e->p, &conf) < 0)
		return -1;
	snprintf(e->device.id, sizeof(e->device.id), "pi-01");
	memcpy(e->device.pub, e->dev_pub, VT_KEY_LEN);
	e->reg.devices = &e->device;
	e->reg.n_devices = 1;
	memcpy(e->reg.agg_priv, e->agg_priv, VT_KEY_LEN);
	if (vt_store_open(db, VT_STORE_READWRITE, &e->st, err, sizeof(err)) < 0)
		return -1;
	return vt_agg_ctx_init(&e->ctx, &e->reg, e->st, 0);
}

static void e2e_close(struct e2e *e)
{
	for (int i = 0; i < e->n_frames; i++)
		free(e->frames[i]);
	vt_agg_ctx_fini(&e->ctx);
	vt_store_close(e->st);
	vt_pipeline_free(e->p);
	vt_privacy_free(e->privacy);
	vt_spool_close(e->spool);
	vt_clock_free(e->clock);
}

/* One pass in at door 1, stamped t by the plugin, mono now. */
static int e2e_push(struct e2e *e, int64_t t, int64_t mono)
{
	struct vitrine_reading r = { .kind = VITRINE_KIND_FOOTFALL, .time_ms = t };
	const char *why = NULL;

	r.u.footfall.door = 1;
	r.u.footfall.direction = VITRINE_DIR_IN;
	r.u.footfall.count = 1;
	return vt_pipeline_push(e->p, e->src, &r, mono, &why);
}

/* Every frame the spool holds now, copied, in sequence order. */
static int e2e_take_frames(struct e2e *e)
{
	struct vt_spool_rec rec;

	vt_spool_sync(e->spool, 0, 1);
	while (vt_spool_peek(e->spool, &rec) == 1 && e->n_frames < 8) {
		e->frames[e->n_frames] = malloc(rec.len);
		if (!e->frames[e->n_frames])
			return -1;
		memcpy(e->frames[e->n_frames], rec.frame, rec.len);
		e->lens[e->n_frames++] = rec.len;
		vt_spool_advance(e->spool);
	}
	return 0;
}

static int e2e_deliver(struct e2e *e, int i)
{
	return vt_agg_handle(&e->ctx, "vitrine/v1/cannes/pi-01/data", e->frames[i], e->lens[i]);
}

static long long e2e_int(struct e2e *e, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(vt_store_db(e->st), sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Frame 0: three readings flagged on the 1970 clock. Frame 1: two more,
 * corrected in the open batch when the clock synced, with the correction.
 * delivered in order, or the correction first. */
static void e2e_run(int *vt_failed, const char *name, int correction_first)
{
	struct e2e e;

	CHECK_EQ_INT(e2e_open(&e, name), 0);
	vt_clock_update(e.clock, FAKE_BOOT + 60000, 60000, -1);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(e2e_push(&e, FAKE_BOOT + 50000 + i * 1000, 60000), 0);
	CHECK_EQ_INT(vt_pipeline_flush(e.p, 60000, 1), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(e2e_push(&e, FAKE_BOOT + 58000 + i * 1000, 60000), 0);
	CHECK_EQ_INT(vt_clock_update(e.clock, REAL_BOOT + 61000, 61000, -1), 1);
	CHECK_EQ_INT(vt_pipeline_clock_synced(e.p, 61000), 2);
	CHECK_EQ_INT(vt_pipeline_flush(e.p, 61000, 1), 0);
	/* Nothing more owed once the correction is spooled. */
	{
		int64_t off;

		CHECK_EQ_INT(vt_clock_correction_due(e.clock, &off), 0);
	}
	CHECK_EQ_INT(e2e_take_frames(&e), 0);
	CHECK_EQ_INT(e.n_frames, 2);
	if (correction_first) {
		CHECK_EQ_INT(e2e_deliver(&e, 1), VT_AGG_OK);
		CHECK_EQ_INT(vt_store_commit(e.st), 0);
		CHECK_EQ_INT(e2e_int(&e, "SELECT count(*) FROM clock_corrections"), 1);
	} else {
		CHECK_EQ_INT(e2e_deliver(&e, 0), VT_AGG_OK);
		CHECK_EQ_INT(vt_store_commit(e.st), 0);
		CHECK_EQ_INT(e2e_int(&e, "SELECT count(*) FROM footfall WHERE clock_unsynced = 1"), 3);
		CHECK(e2e_int(&e, "SELECT max(time_ms) FROM footfall") == FAKE_BOOT + 52000);
	}
	CHECK_EQ_INT(e2e_deliver(&e, correction_first ? 0 : 1), VT_AGG_OK);
	CHECK_EQ_INT(vt_store_commit(e.st), 0);
	/* Either way: all five at their real time, none flagged. */
	CHECK_EQ_INT(e2e_int(&e, "SELECT count(*) FROM footfall"), 5);
	CHECK_EQ_INT(e2e_int(&e, "SELECT count(*) FROM footfall WHERE clock_unsynced = 1"), 0);
	CHECK(e2e_int(&e, "SELECT min(time_ms) FROM footfall") == REAL_BOOT + 50000);
	CHECK(e2e_int(&e, "SELECT max(time_ms) FROM footfall") == REAL_BOOT + 59000);
	CHECK(e2e_int(&e, "SELECT sum(time_ms - 1795599900000) FROM footfall") ==
	      50000 + 51000 + 52000 + 58000 + 59000);
	/* The three the aggregator corrected keep their time since boot. */
	CHECK_EQ_INT(e2e_int(&e, "SELECT count(*) FROM footfall WHERE mono_ms IS NOT NULL"), 3);
	CHECK_EQ_INT(e2e_int(&e, "SELECT value FROM counters WHERE name = 'readings_clock_corrected'"), 3);
	e2e_close(&e);
}

VT_TEST(clock_pipeline_to_aggregator_flagged_frames_then_the_correction)
{
	e2e_run(vt_failed, "in-order", 0);
}

VT_TEST(clock_pipeline_to_aggregator_the_correction_before_the_flagged_frames)
{
	e2e_run(vt_failed, "correction-first", 1);
}

VT_TEST(clock_pipeline_seals_the_correction_at_once_when_the_batch_is_empty)
{
	struct e2e e;
	int64_t off;

	CHECK_EQ_INT(e2e_open(&e, "empty"), 0);
	vt_clock_update(e.clock, FAKE_BOOT + 60000, 60000, -1);
	CHECK_EQ_INT(e2e_push(&e, FAKE_BOOT + 59000, 60000), 0);
	CHECK_EQ_INT(vt_pipeline_flush(e.p, 60000, 1), 0);
	CHECK_EQ_INT(vt_clock_update(e.clock, REAL_BOOT + 61000, 61000, -1), 1);
	CHECK_EQ_INT(vt_clock_correction_due(e.clock, &off), 1);
	CHECK_EQ_INT(vt_pipeline_clock_synced(e.p, 61000), 0);
	CHECK_EQ_INT(vt_clock_correction_due(e.clock, &off), 0);
	CHECK_EQ_INT(e2e_take_frames(&e), 0);
	CHECK_EQ_INT(e.n_frames, 2);	/* the flagged one, the correction alone */
	CHECK_EQ_INT(e2e_deliver(&e, 1), VT_AGG_OK);
	CHECK_EQ_INT(e2e_deliver(&e, 0), VT_AGG_OK);
	CHECK_EQ_INT(vt_store_commit(e.st), 0);
	CHECK(e2e_int(&e, "SELECT time_ms FROM footfall WHERE clock_unsynced = 0") ==
	      REAL_BOOT + 59000);
	e2e_close(&e);
}

VT_TEST(clock_frames_spooled_on_an_untrusted_clock_are_not_aged_out_by_the_step)
{
	struct e2e e;

	e2e_require_sync = 1;
	e2e_max_age_ms = 7 * 86400000ULL;
	CHECK_EQ_INT(e2e_open(&e, "stale"), 0);
	e2e_require_sync = 0;
	e2e_max_age_ms = 0;
	/* fake-hwclock: ten days behind, past 2025, not synced. */
	vt_clock_update(e.clock, REAL_BOOT - 10 * 86400000LL + 60000, 60000, 0);
	CHECK(!vt_clock_trusted(e.clock));
	CHECK_EQ_INT(e2e_push(&e, REAL_BOOT - 10 * 86400000LL + 59000, 60000), 0);
	CHECK_EQ_INT(vt_pipeline_flush(e.p, 60000, 1), 0);
	vt_spool_sync(e.spool, 60000, 1);
	CHECK_EQ_INT(vt_spool_stats(e.spool)->frames, 1);
	CHECK_EQ_INT(vt_clock_update(e.clock, REAL_BOOT + 61000, 61000, 1), 1);
	/* The pipeline reads the wall clock itself (this machine's): the sync
	 * moves it 10 days on from when the frame was spooled. */
	vt_spool_expire(e.spool, vt_os_now_ms() + 10 * 86400000LL);
	CHECK_EQ_INT(vt_spool_stats(e.spool)->frames, 1);
	e2e_close(&e);
}

VT_TEST_MAIN()
