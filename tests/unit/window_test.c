/*
 * window_test.c - anonymous mode's windows (window.h): what each reading
 * counts, when a window is released, the k threshold and its "other" cells
 * (R6), RFID de-duplication per slot, noise and its budget (R7). Every
 * expected figure below is worked out by hand from the readings fed in.
 */
#include <stdio.h>
#include <string.h>

#include "noise.h"
#include "window.h"
#include "vt_test.h"

#define T0 1795604400000LL	/* a window start: a multiple of 900 s */
#define MIN 60000LL

struct sink {
	struct vt_reading cells[64];
	int n;
};

static int collect(void *arg, const struct vt_reading *cell)
{
	struct sink *s = arg;

	if (s->n < 64)
		s->cells[s->n++] = *cell;
	return 0;
}

/* The count of the released cell (metric, dim1, dim2, label, other), -1. */
static long long cell(const struct sink *s, uint32_t metric, uint32_t dim1, uint32_t dim2,
		      const char *label, uint32_t other)
{
	for (int i = 0; i < s->n; i++) {
		const struct vt_window_cell *c = &s->cells[i].u.window;

		if (c->metric == metric && c->dim1 == dim1 && c->dim2 == dim2 &&
		    strcmp(c->label, label) == 0 && c->other == other)
			return (long long)c->count;
	}
	return -1;
}

static struct vt_reading footfall(int64_t t, uint32_t door, uint32_t dir, uint32_t count)
{
	struct vt_reading r = { .kind = VITRINE_KIND_FOOTFALL, .time_ms = t };

	r.u.footfall.door = door;
	r.u.footfall.direction = dir;
	r.u.footfall.count = count;
	return r;
}

static struct vt_reading rfid(int64_t t, uint32_t reader, const char *gtin, uint8_t item)
{
	struct vt_reading r = { .kind = VITRINE_KIND_RFID, .time_ms = t };

	r.u.rfid.reader = reader;
	r.u.rfid.antenna = 1;
	snprintf(r.u.rfid.gtin, sizeof(r.u.rfid.gtin), "%s", gtin);
	memset(r.u.rfid.tag_digest, item, VT_DIGEST_LEN);
	return r;
}

static struct vt_reading tablet(int64_t t, uint32_t kiosk, uint32_t event, const char *screen,
				const char *gtin, uint32_t duration_ms)
{
	struct vt_reading r = { .kind = VITRINE_KIND_TABLET, .time_ms = t };

	r.u.tablet.kiosk = kiosk;
	r.u.tablet.event = event;
	snprintf(r.u.tablet.screen, sizeof(r.u.tablet.screen), "%s", screen);
	snprintf(r.u.tablet.gtin, sizeof(r.u.tablet.gtin), "%s", gtin);
	r.u.tablet.duration_ms = duration_ms;
	return r;
}

static struct vt_window *new_window(uint32_t k, struct vt_noise *noise, int dedup)
{
	struct vt_window_conf c = { 900, k, 300, noise, noise ? 500 : 0, dedup };
	struct vt_window *w;

	return vt_window_new(&w, &c) == 0 ? w : NULL;
}

VT_TEST(footfall_counts_add_up_per_door_and_direction_and_release_at_the_next_window)
{
	struct vt_window *w = new_window(5, NULL, 0);
	struct sink s = { .n = 0 };
	struct vt_reading r;

	CHECK(w != NULL);
	for (int i = 0; i < 6; i++) {	/* door 1 in: 6 x 1 */
		r = footfall(T0 + i * MIN, 1, VITRINE_DIR_IN, 1);
		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	r = footfall(T0 + 7 * MIN, 1, VITRINE_DIR_OUT, 5);	/* door 1 out: 5 */
	vt_window_add(w, &r, 0, 0, collect, &s);
	r = footfall(T0 + 8 * MIN, 2, VITRINE_DIR_IN, 3);	/* door 2 in: 3 < k */
	vt_window_add(w, &r, 0, 0, collect, &s);
	r = footfall(T0 + 9 * MIN, 3, VITRINE_DIR_IN, 2);	/* door 3 in: 2 < k */
	vt_window_add(w, &r, 0, 0, collect, &s);
	CHECK_EQ_INT(s.n, 0);	/* nothing before the window is over */
	r = footfall(T0 + 15 * MIN, 1, VITRINE_DIR_IN, 1);	/* next window */
	vt_window_add(w, &r, 0, 0, collect, &s);
	CHECK_EQ_INT(s.n, 3);
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 1, VITRINE_DIR_IN, "", 0), 6);
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 1, VITRINE_DIR_OUT, "", 0), 5);
	/* doors 2 and 3 in: 3 + 2 = 5 >= k, sent as "other" with the direction */
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 0, VITRINE_DIR_IN, "", 1), 5);
	CHECK_EQ_INT(s.cells[0].time_ms, T0);
	CHECK_EQ_INT(s.cells[0].kind, VT_KIND_WINDOW);
	CHECK_EQ_INT(s.cells[0].u.window.length_s, 900);
	CHECK_EQ_INT(s.cells[0].u.window.k, 5);
	CHECK_EQ_INT(vt_window_stats(w)->merged, 2);
	vt_window_free(w);
}

VT_TEST(an_other_cell_still_below_k_is_not_sent)
{
	struct vt_window *w = new_window(10, NULL, 0);
	struct sink s = { .n = 0 };
	struct vt_reading r;

	CHECK(w != NULL);
	r = footfall(T0, 1, VITRINE_DIR_IN, 4);
	vt_window_add(w, &r, 0, 0, collect, &s);
	r = footfall(T0 + MIN, 2, VITRINE_DIR_IN, 5);
	vt_window_add(w, &r, 0, 0, collect, &s);
	r = footfall(T0 + 2 * MIN, 2, VITRINE_DIR_OUT, 12);
	vt_window_add(w, &r, 0, 0, collect, &s);
	CHECK_EQ_INT(vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s), 1);
	CHECK_EQ_INT(s.n, 1);	/* 4 + 5 = 9 < 10: nothing about the ins */
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 2, VITRINE_DIR_OUT, "", 0), 12);
	CHECK_EQ_INT(vt_window_stats(w)->suppressed, 1);
	for (int i = 0; i < s.n; i++)
		CHECK(s.cells[i].u.window.count >= 10);
	vt_window_free(w);
}

VT_TEST(kiosk_events_become_sessions_screens_lookups_and_length_buckets)
{
	struct vt_window *w = new_window(5, NULL, 0);
	struct sink s = { .n = 0 };
	struct vt_reading r;

	CHECK(w != NULL);
	for (int i = 0; i < 5; i++) {
		r = tablet(T0 + i * MIN, 2, VITRINE_TABLET_SESSION_START, "", "", 0);
		vt_window_add(w, &r, 0, 0, collect, &s);
		r = tablet(T0 + i * MIN + 1, 2, VITRINE_TABLET_SCREEN_VIEW, "home", "", 3000);
		vt_window_add(w, &r, 0, 0, collect, &s);
		r = tablet(T0 + i * MIN + 2, 2, VITRINE_TABLET_PRODUCT_LOOKUP, "", "03701234567893", 0);
		vt_window_add(w, &r, 0, 0, collect, &s);
		/* 45 s sessions: bucket 1 (30 s .. 1 min) */
		r = tablet(T0 + i * MIN + 3, 2, VITRINE_TABLET_SESSION_END, "", "", 45000);
		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s);
	CHECK_EQ_INT(cell(&s, VT_METRIC_KIOSK_SESSIONS, 2, 0, "", 0), 5);
	CHECK_EQ_INT(cell(&s, VT_METRIC_KIOSK_SCREEN_VIEWS, 2, 0, "home", 0), 5);
	CHECK_EQ_INT(cell(&s, VT_METRIC_KIOSK_LOOKUPS, 2, 0, "03701234567893", 0), 5);
	CHECK_EQ_INT(cell(&s, VT_METRIC_KIOSK_SESSION_LENGTH, 2, 1, "", 0), 5);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(vt_window_length_bucket(29999), 0);
	CHECK_EQ_INT(vt_window_length_bucket(30000), 1);
	CHECK_EQ_INT(vt_window_length_bucket(299999), 3);
	CHECK_EQ_INT(vt_window_length_bucket(600000), 5);
	vt_window_free(w);
}

VT_TEST(rfid_presence_counts_each_item_once_per_reader_and_slot)
{
	struct vt_window *w = new_window(5, NULL, 1);
	struct sink s = { .n = 0 };
	struct vt_reading r;

	CHECK(w != NULL);
	/* Slot 1 (0-5 min): items 1..5 read 10 times each by reader 1; item 1
	 * also by reader 2. Slot 2 (5-10 min): items 1..3 again by reader 1. */
	for (int rep = 0; rep < 10; rep++)
		for (uint8_t item = 1; item <= 5; item++) {
			r = rfid(T0 + rep * 1000 + item, 1, "08061414112345", item);
			vt_window_add(w, &r, 0, 0, collect, &s);
		}
	for (int rep = 0; rep < 5; rep++) {
		r = rfid(T0 + 20000 + rep, 2, "08061414112345", 1);
		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	for (uint8_t item = 1; item <= 3; item++) {
		r = rfid(T0 + 5 * MIN + item, 1, "08061414112345", item);
		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s);
	CHECK_EQ_INT(cell(&s, VT_METRIC_RFID_PRESENCE, 1, 0, "08061414112345", 0), 8);
	/* reader 2: 1 item-slot, below k: merged, and the other cell (1) withheld */
	CHECK_EQ_INT(cell(&s, VT_METRIC_RFID_PRESENCE, 2, 0, "08061414112345", 0), -1);
	CHECK_EQ_INT(s.n, 1);
	vt_window_free(w);
}

/* The de-duplication set grows from one page to VT_WINDOW_DEDUP_SLOTS
 * while a slot fills: every item still counts once, through each
 * doubling; past its size, items count again and overflow says so; the
 * next slot starts small and empty. */
VT_TEST(rfid_dedup_grows_with_the_items_of_a_slot)
{
	struct vt_window *w = new_window(1, NULL, 1);
	struct sink s = { .n = 0 };
	uint32_t items = VT_WINDOW_DEDUP_SLOTS + 100;
	struct vt_reading r;

	CHECK(w != NULL);
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 1; i <= items; i++) {
			r = rfid(T0 + pass * 1000, 1, "08061414112345", 0);
			memset(r.u.rfid.tag_digest, 0, VT_DIGEST_LEN);
			/* Into the key's low bytes (big-endian), where its
			 * slot is taken from: spread, not one cluster. */
			r.u.rfid.tag_digest[7] = (uint8_t)i;
			r.u.rfid.tag_digest[6] = (uint8_t)(i >> 8);
			vt_window_add(w, &r, 0, 0, collect, &s);
		}
	/* Next slot: 3 items, read twice, count 3. */
	for (int pass = 0; pass < 2; pass++)
		for (uint8_t item = 1; item <= 3; item++) {
			r = rfid(T0 + 5 * MIN + pass, 1, "08061414112345", item);
			vt_window_add(w, &r, 0, 0, collect, &s);
		}
	vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s);
	/* A full set takes VT_WINDOW_DEDUP_SLOTS items; the 100 beyond count
	 * on each of the 2 passes. */
	CHECK_EQ_INT(vt_window_stats(w)->overflow, 200);
	CHECK_EQ_INT(cell(&s, VT_METRIC_RFID_PRESENCE, 1, 0, "08061414112345", 0),
		     VT_WINDOW_DEDUP_SLOTS + 200 + 3);
	vt_window_free(w);
}

VT_TEST(an_ended_window_is_released_only_once_idle)
{
	struct vt_window *w = new_window(5, NULL, 0);
	struct sink s = { .n = 0 };
	struct vt_reading r = footfall(T0, 1, VITRINE_DIR_IN, 7);

	CHECK(w != NULL);
	vt_window_add(w, &r, T0, 1000, collect, &s);
	/* Not over yet on the wall clock. */
	CHECK_EQ_INT(vt_window_tick(w, T0 + 899999, 1000 + 60000, VT_WINDOW_IF_IDLE, collect, &s), 0);
	/* Over, but a reading came less than VT_WINDOW_IDLE_MS ago. */
	CHECK_EQ_INT(vt_window_tick(w, T0 + 900000, 1000 + VT_WINDOW_IDLE_MS - 1, VT_WINDOW_IF_IDLE, collect, &s),
		     0);
	CHECK_EQ_INT(vt_window_tick(w, T0 + 900000, 1000 + VT_WINDOW_IDLE_MS, VT_WINDOW_IF_IDLE, collect, &s), 1);
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 1, VITRINE_DIR_IN, "", 0), 7);
	CHECK_EQ_INT(vt_window_tick(w, T0 + 999999, 999999, VT_WINDOW_NOW, collect, &s), 0);	/* empty */
	vt_window_free(w);
}

VT_TEST(a_late_reading_counts_in_the_open_window)
{
	struct vt_window *w = new_window(5, NULL, 0);
	struct sink s = { .n = 0 };
	struct vt_reading r = footfall(T0 + 15 * MIN, 1, VITRINE_DIR_IN, 4);

	CHECK(w != NULL);
	vt_window_add(w, &r, 0, 0, collect, &s);
	r = footfall(T0 + MIN, 1, VITRINE_DIR_IN, 2);	/* belongs to the window before */
	vt_window_add(w, &r, 0, 0, collect, &s);
	vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s);
	CHECK_EQ_INT(cell(&s, VT_METRIC_FOOTFALL_PASSES, 1, VITRINE_DIR_IN, "", 0), 6);
	CHECK_EQ_INT(s.cells[0].time_ms, T0 + 15 * MIN);
	CHECK_EQ_INT(vt_window_stats(w)->late, 1);
	vt_window_free(w);
}

VT_TEST(noise_changes_counts_and_a_spent_budget_withholds_them)
{
	struct vt_noise_conf nc = { 500, 1000 };	/* two releases per hour */
	struct vt_noise *noise;
	struct vt_window *w;
	struct sink s = { .n = 0 };
	int differs = 0;

	CHECK_EQ_INT(vt_noise_new_seeded_for_tests(&noise, &nc, 42), 0);
	w = new_window(5, noise, 0);
	CHECK(w != NULL);
	for (uint32_t door = 1; door <= 3; door++) {
		struct vt_reading r = footfall(T0, door, VITRINE_DIR_IN, 100);

		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	vt_window_tick(w, T0, 0, VT_WINDOW_NOW, collect, &s);
	/* Budget for two counts: the third is withheld, not merged. */
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(vt_window_stats(w)->refused, 1);
	for (int i = 0; i < s.n; i++) {
		CHECK_EQ_INT(s.cells[i].u.window.epsilon_milli, 500);
		differs |= s.cells[i].u.window.count != 100;
	}
	CHECK(differs);
	vt_window_free(w);
	vt_noise_free(noise);
}

VT_TEST(with_noise_the_counts_of_a_full_table_are_noised_too)
{
	struct vt_noise_conf nc = { 500, 500 };	/* one count an hour */
	struct vt_noise *noise;
	struct vt_window *w;
	struct sink s = { .n = 0 };

	CHECK_EQ_INT(vt_noise_new_seeded_for_tests(&noise, &nc, 3), 0);
	w = new_window(5, noise, 0);
	CHECK(w != NULL);
	/* A full table, then 37 lookups of one more product: they go to
	 * "other" raw, and must be noised there, spending the one count of
	 * budget, which leaves none for the 512 cells. */
	for (uint32_t i = 0; i < VT_WINDOW_MAX_CELLS; i++) {
		struct vt_reading r = tablet(T0, 1, VITRINE_TABLET_PRODUCT_LOOKUP, "", "", 0);

		snprintf(r.u.tablet.gtin, sizeof(r.u.tablet.gtin), "%014u", i);
		vt_window_add(w, &r, T0, 0, collect, &s);
	}
	for (int i = 0; i < 37; i++) {
		struct vt_reading r = tablet(T0, 1, VITRINE_TABLET_PRODUCT_LOOKUP, "", "99999999999999",
					     0);

		vt_window_add(w, &r, T0, 0, collect, &s);
	}
	vt_window_tick(w, T0, 0, VT_WINDOW_NOW, collect, &s);
	CHECK_EQ_INT(vt_window_stats(w)->overflow, 37);
	CHECK_EQ_INT(vt_window_stats(w)->refused, VT_WINDOW_MAX_CELLS);
	CHECK(s.n <= 1);	/* at most the noised "other" */
	vt_window_free(w);
	vt_noise_free(noise);
}

VT_TEST(a_full_table_sends_new_cells_to_other)
{
	struct vt_window *w = new_window(5, NULL, 0);
	struct sink s = { .n = 0 };

	CHECK(w != NULL);
	for (uint32_t i = 0; i < VT_WINDOW_MAX_CELLS + 10; i++) {
		struct vt_reading r = tablet(T0, i, VITRINE_TABLET_SESSION_START, "", "", 0);

		vt_window_add(w, &r, 0, 0, collect, &s);
	}
	vt_window_tick(w, 0, 0, VT_WINDOW_NOW, collect, &s);
	CHECK_EQ_INT(vt_window_stats(w)->overflow, 10);
	/* Every kiosk had 1 session: all merged, VT_WINDOW_MAX_CELLS + 10 in all. */
	CHECK_EQ_INT(cell(&s, VT_METRIC_KIOSK_SESSIONS, 0, 0, "", 1), VT_WINDOW_MAX_CELLS + 10);
	vt_window_free(w);
}

VT_TEST(bad_window_configurations_are_refused)
{
	struct vt_window_conf c = { 900, 5, 300, NULL, 0, 0 };
	struct vt_window *w;

	c.slot_s = 400;	/* does not divide the window */
	CHECK(vt_window_new(&w, &c) < 0);
	c.slot_s = 300;
	c.k = 0;
	CHECK(vt_window_new(&w, &c) < 0);
	CHECK_EQ_INT(vt_window_index(-1, 300), -1);
	CHECK_EQ_INT(vt_window_index(-300, 300), -1);
	CHECK_EQ_INT(vt_window_index(299, 300), 0);
}

VT_TEST_MAIN()
