/*
 * plugins/rfid/presence_test.c - tests of the presence windows
 * (presence.c): many reads of a tag become one presence with the right
 * first and last seen, count, best antenna and RSSI. Linked into
 * plugin_rfid_test.
 */
#include "presence.h"
#include "vt_test.h"

#include <errno.h>

#define WINDOW_US 1000000	/* 1 s */
#define T0 INT64_C(1764061200000000)	/* 2025-11-25T09:00:00Z, a window start */

static struct rfid_tag_report read_of(uint8_t tag, uint32_t reader, uint16_t antenna,
				      int32_t rssi, int64_t utc_us)
{
	struct rfid_tag_report r = { .epc_bits = 96, .reader = reader, .antenna = antenna,
				     .rssi_cdbm = rssi, .utc_us = utc_us, .reads = 1 };

	r.epc[0] = 0x30;
	r.epc[11] = tag;
	return r;
}

VT_TEST(presence_sums_up_the_reads_of_a_tag_in_a_window)
{
	struct rfid_presence p;
	struct rfid_tag_report r, out;

	CHECK_EQ_INT(rfid_presence_init(&p, 16, WINDOW_US), 0);
	/* Tag 1: 100 reads by antennas 1 and 3 over 0.5 s; antenna 3 strongest. */
	for (int i = 0; i < 100; i++) {
		r = read_of(1, 1, i % 2 ? 3 : 1, i == 57 ? -3900 : -6000 - i, T0 + 5000 * i);
		CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	}
	/* Tag 2 on reader 2 and tag 1 on reader 2: separate presences. */
	r = read_of(2, 2, 1, -5000, T0 + 1000);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	r = read_of(1, 2, 2, -5500, T0 + 2000);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	CHECK_EQ_INT(p.count, 3);
	/* A read of the next window asks for the window to be closed. */
	r = read_of(1, 1, 1, -5000, T0 + WINDOW_US);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 1);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 0);	/* not closed yet */
	rfid_presence_close(&p);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 1);
	CHECK_EQ_INT(out.epc[11], 1);
	CHECK_EQ_INT(out.reader, 1);
	CHECK_EQ_INT(out.reads, 100);
	CHECK_EQ_INT(out.antenna, 3);
	CHECK_EQ_INT(out.rssi_cdbm, -3900);
	CHECK(out.utc_us == T0);
	CHECK_EQ_INT(out.dwell_ms, 495);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 1);
	CHECK_EQ_INT(out.epc[11], 2);
	CHECK_EQ_INT(out.reads, 1);
	CHECK_EQ_INT(out.dwell_ms, 0);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 1);
	CHECK_EQ_INT(out.reader, 2);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 0);
	/* Empty again: the next window starts with the read refused above. */
	r = read_of(1, 1, 1, -5000, T0 + WINDOW_US);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	CHECK_EQ_INT(p.count, 1);
	rfid_presence_free(&p);
}

/* Two readers whose clocks differ: reader 2 still reports second 0 after
 * reader 1's first read of second 1 closed it. Tag 5 on reader 2 must not
 * get a second presence dated in second 0. */
VT_TEST(presence_late_read_of_a_closed_window_goes_to_the_next)
{
	struct rfid_presence p;
	struct rfid_tag_report r, out;
	int n = 0;

	CHECK_EQ_INT(rfid_presence_init(&p, 16, WINDOW_US), 0);
	r = read_of(5, 2, 1, -5000, T0 + 900000);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	r = read_of(7, 1, 1, -5000, T0 + WINDOW_US + 10);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 1);
	rfid_presence_close(&p);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 1);
	CHECK(out.utc_us == T0 + 900000);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 0);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	/* Late: second 0 again, for tag 5 and for a tag new to reader 2. */
	r = read_of(5, 2, 1, -4000, T0 + 950000);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	r = read_of(6, 2, 1, -4000, T0 + 990000);
	r.dwell_ms = 20;	/* last seen 10 ms into second 1 */
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	CHECK_EQ_INT(p.late_reads, 2);
	CHECK_EQ_INT(p.reads_in, 4);
	/* Long before any closed window: also dated at the open one. */
	r = read_of(5, 2, 1, -4000, T0 - 5 * WINDOW_US);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	CHECK_EQ_INT(p.late_reads, 3);
	rfid_presence_close(&p);
	while (rfid_presence_next(&p, &out)) {
		n++;
		CHECK(out.utc_us >= T0 + WINDOW_US && out.utc_us < T0 + 2 * WINDOW_US);
		if (out.epc[11] == 5) {
			CHECK_EQ_INT(out.reads, 2);
			CHECK(out.utc_us == T0 + WINDOW_US);
			CHECK_EQ_INT(out.dwell_ms, 0);
		}
		if (out.epc[11] == 6)
			CHECK_EQ_INT(out.dwell_ms, 10);
	}
	CHECK_EQ_INT(n, 3);
	rfid_presence_free(&p);
}

/* A window closed early, its table full, may be opened again: its reads
 * keep their time. */
VT_TEST(presence_table_full_closes_the_window_early)
{
	struct rfid_presence p;
	struct rfid_tag_report r, out;
	int n = 0;

	CHECK_EQ_INT(rfid_presence_init(&p, 16, WINDOW_US), 0);
	for (int i = 0; i < 16; i++) {
		r = read_of((uint8_t)i, 1, 1, -5000, T0 + i);
		CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	}
	r = read_of(3, 1, 2, -4000, T0 + 20);	/* a tag already there still fits */
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	r = read_of(99, 1, 1, -5000, T0 + 30);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 1);
	CHECK_EQ_INT(p.early_closes, 1);
	rfid_presence_close(&p);
	while (rfid_presence_next(&p, &out))
		n++;
	CHECK_EQ_INT(n, 16);
	CHECK_EQ_INT(rfid_presence_add(&p, &r), 0);
	CHECK_EQ_INT(p.late_reads, 0);
	CHECK_EQ_INT(p.window, T0 / WINDOW_US);
	rfid_presence_close(&p);
	CHECK_EQ_INT(rfid_presence_next(&p, &out), 1);
	CHECK(out.utc_us == T0 + 30);
	rfid_presence_free(&p);
}

VT_TEST(presence_refuses_bad_sizes)
{
	struct rfid_presence p;

	CHECK_EQ_INT(rfid_presence_init(&p, 15, WINDOW_US), -EINVAL);
	CHECK_EQ_INT(rfid_presence_init(&p, 16, 0), -EINVAL);
}
