/*
 * anon_test.c - anonymous mode across crashes (anon.h): counts of an open
 * window survive a crash through the checkpoint; a released window whose
 * delivery a crash may have cut short is sent again with the same part;
 * parts never repeat. A "crash" is vt_anon_abandon_for_test(): everything
 * is freed, nothing more is written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "anon.h"
#include "noise.h"
#include "vt_test.h"

#define T0 1795604400000LL	/* a window start */
#define MIN 60000LL

struct sink {
	struct vt_window_cell cells[64];
	int64_t start[64];
	int n, seals;
	int fail_seals;		/* the next ones fail, as a full disk would */
};

static int sink_fn(void *arg, const struct vt_reading *r)
{
	struct sink *s = arg;

	if (!r) {
		if (s->fail_seals) {
			s->fail_seals--;
			return -ENOSPC;
		}
		s->seals++;
		return 0;
	}
	if (s->n < 64) {
		s->start[s->n] = r->time_ms;
		s->cells[s->n++] = r->u.window;
	}
	return 0;
}

static struct vt_reading footfall(int64_t t, uint32_t door, uint32_t count)
{
	struct vt_reading r = { .kind = VITRINE_KIND_FOOTFALL, .time_ms = t };

	r.u.footfall.door = door;
	r.u.footfall.direction = VITRINE_DIR_IN;
	r.u.footfall.count = count;
	return r;
}

static struct vt_anon *start(const char *dir, struct sink *s, struct vt_anon_plugin **ap)
{
	struct vt_anon_conf c = { dir, 900, 5, NULL, 0, 100 };
	struct vt_anon *a;
	char err[256];

	if (vt_anon_new(&a, &c, err, sizeof(err)) < 0)
		return NULL;
	vt_anon_set_sink(a, sink_fn, s);
	if (vt_anon_plugin(a, "footfall", 0, 0, ap, err, sizeof(err)) < 0) {
		vt_anon_free(a);
		return NULL;
	}
	return a;
}

static long long count_of(const struct sink *s, uint32_t door)
{
	long long n = -1;

	for (int i = 0; i < s->n; i++)
		if (s->cells[i].dim1 == door && !s->cells[i].other)
			n = (long long)s->cells[i].count;
	return n;
}

static const char *fresh_dir(const char *name)
{
	static char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), name);
	return mkdir(dir, 0700) == 0 ? dir : NULL;
}

VT_TEST(open_window_counts_survive_a_crash_after_a_checkpoint)
{
	const char *dir = fresh_dir("open");
	struct sink s = { .n = 0 };
	struct vt_anon_plugin *ap;
	struct vt_anon *a = start(dir, &s, &ap);
	struct vt_reading r = footfall(T0, 1, 6);

	CHECK(a != NULL);
	vt_anon_add(a, ap, &r, 0, 0);
	vt_anon_tick(a, 0, 100, VT_WINDOW_IF_IDLE);	/* checkpoint due: written */
	r = footfall(T0 + MIN, 1, 3);	/* after the checkpoint: lost in the crash */
	vt_anon_add(a, ap, &r, 0, 150);
	vt_anon_abandon_for_test(a);
	CHECK_EQ_INT(s.n, 0);

	a = start(dir, &s, &ap);
	CHECK(a != NULL);
	r = footfall(T0 + 15 * MIN, 2, 5);	/* next window: releases the restored one */
	vt_anon_add(a, ap, &r, 0, 200);
	CHECK_EQ_INT(count_of(&s, 1), 6);
	CHECK_EQ_INT(s.start[0], T0);
	CHECK_EQ_INT(s.seals, 1);
	vt_anon_free(a);
}

VT_TEST(a_window_released_before_a_crash_is_sent_again_with_the_same_part)
{
	const char *dir = fresh_dir("release");
	struct sink s = { .n = 0 }, again = { .n = 0 };
	struct vt_anon_plugin *ap;
	struct vt_anon *a = start(dir, &s, &ap);
	struct vt_reading r = footfall(T0, 1, 7);
	uint64_t part;

	CHECK(a != NULL);
	vt_anon_add(a, ap, &r, 0, 0);
	r = footfall(T0 + 15 * MIN, 1, 1);
	vt_anon_add(a, ap, &r, 0, 10);	/* releases the first window */
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.seals, 1);
	part = s.cells[0].part;
	CHECK(part != 0);
	/* Crash before the next checkpoint let the released cells go. */
	vt_anon_abandon_for_test(a);

	a = start(dir, &again, &ap);
	CHECK(a != NULL);
	CHECK_EQ_INT(again.n, 1);	/* sent again at start, same cell, same part */
	CHECK_EQ_INT(again.cells[0].part, part);
	CHECK_EQ_INT(again.cells[0].count, 7);
	CHECK_EQ_INT(again.start[0], T0);
	CHECK_EQ_INT(again.seals, 1);
	vt_anon_free(a);
}

VT_TEST(a_window_delivered_and_checkpointed_is_not_sent_again)
{
	const char *dir = fresh_dir("done");
	struct sink s = { .n = 0 }, again = { .n = 0 };
	struct vt_anon_plugin *ap;
	struct vt_anon *a = start(dir, &s, &ap);
	struct vt_reading r = footfall(T0, 1, 7);

	CHECK(a != NULL);
	vt_anon_add(a, ap, &r, 0, 0);
	r = footfall(T0 + 15 * MIN, 1, 1);
	vt_anon_add(a, ap, &r, 0, 10);
	vt_anon_tick(a, 0, 1000, VT_WINDOW_IF_IDLE);	/* the checkpoint without the released cells */
	vt_anon_abandon_for_test(a);

	a = start(dir, &again, &ap);
	CHECK(a != NULL);
	CHECK_EQ_INT(again.n, 0);
	vt_anon_tick(a, 0, 0, VT_WINDOW_NOW);	/* force: the restored open window (count 1 < k) */
	CHECK_EQ_INT(again.n, 0);
	CHECK_EQ_INT(vt_anon_plugin_stats(ap)->suppressed, 1);
	vt_anon_free(a);
}

VT_TEST(a_window_the_spool_could_not_take_is_sent_again_later_with_its_part)
{
	const char *dir = fresh_dir("retry");
	struct sink s = { .n = 0, .fail_seals = 1 };
	struct vt_anon_plugin *ap;
	struct vt_anon *a = start(dir, &s, &ap);
	struct vt_reading r = footfall(T0, 1, 7);

	CHECK(a != NULL);
	vt_anon_add(a, ap, &r, 0, 0);
	r = footfall(T0 + 15 * MIN, 1, 1);
	vt_anon_add(a, ap, &r, 0, 10);	/* released; the seal fails */
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.seals, 0);
	vt_anon_tick(a, 0, 50, VT_WINDOW_IF_IDLE);	/* too soon to retry */
	CHECK_EQ_INT(s.n, 1);
	vt_anon_tick(a, 0, 200, VT_WINDOW_IF_IDLE);	/* retried: same cell, same part */
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(s.seals, 1);
	CHECK_EQ_INT(s.cells[1].part, s.cells[0].part);
	CHECK_EQ_INT(s.cells[1].count, 7);
	vt_anon_tick(a, 0, 400, VT_WINDOW_IF_IDLE);	/* sent: not again */
	CHECK_EQ_INT(s.n, 2);
	vt_anon_free(a);
}

VT_TEST(parts_never_repeat_across_restarts)
{
	const char *dir = fresh_dir("parts");
	struct sink s = { .n = 0 };
	struct vt_anon_plugin *ap;
	struct vt_anon *a;
	uint64_t last = 0;

	for (int run = 0; run < 3; run++) {
		a = start(dir, &s, &ap);
		CHECK(a != NULL);
		for (int w = 0; w < 2; w++) {
			struct vt_reading r = footfall(T0 + (run * 2 + w) * 15 * MIN, 1, 9);

			vt_anon_add(a, ap, &r, 0, w);
		}
		vt_anon_free(a);	/* the open window waits in the checkpoint */
	}
	CHECK(s.n >= 5);
	for (int i = 0; i < s.n; i++) {
		CHECK(s.cells[i].part > last);
		last = s.cells[i].part;
	}
}

VT_TEST(a_restart_does_not_renew_the_noise_budget_of_the_hour)
{
	const char *dir = fresh_dir("noise");
	struct vt_noise_conf nc = { 500, 1000 };	/* two counts an hour */
	int64_t wall = T0 + 20 * MIN;			/* one hour throughout */
	struct vt_anon_conf c = { dir, 900, 5, NULL, 500, 100 };
	struct sink s = { .n = 0 };
	struct vt_anon_plugin *ap;
	struct vt_noise *noise;
	struct vt_anon *a;
	char err[256];

	for (int run = 0; run < 2; run++) {
		CHECK_EQ_INT(vt_noise_new_seeded_for_tests(&noise, &nc, 7 + (uint64_t)run), 0);
		c.noise = noise;
		CHECK_EQ_INT(vt_anon_new(&a, &c, err, sizeof(err)), 0);
		vt_anon_set_sink(a, sink_fn, &s);
		CHECK_EQ_INT(vt_anon_plugin(a, "footfall", 0, 0, &ap, err, sizeof(err)), 0);
		for (uint32_t door = 1; door <= 2; door++) {
			struct vt_reading r = footfall(T0 + run * 15 * MIN, door, 100);

			vt_anon_add(a, ap, &r, wall, 0);
		}
		vt_anon_tick(a, wall, 0, VT_WINDOW_NOW);	/* release: 2 counts to noise */
		CHECK_EQ_INT(vt_anon_plugin_stats(ap)->refused, run == 0 ? 0 : 2);
		vt_anon_free(a);
		vt_noise_free(noise);
	}
	CHECK_EQ_INT(s.n, 2);	/* the first run's two counts only */
}

VT_TEST(without_a_state_dir_nothing_is_written)
{
	struct vt_anon_conf c = { NULL, 900, 5, NULL, 0, 100 };
	struct vt_anon *a;
	char err[256];

	CHECK_EQ_INT(vt_anon_new(&a, &c, err, sizeof(err)), 0);
	vt_anon_free(a);
}

VT_TEST_MAIN()
