/*
 * plugins/footfall/footfall_test.c - tests for the door-pass state machine,
 * the simulated doors and the footfall plugin.
 *
 * beams.c is tested on synthetic edge streams (gpio-sim cannot run in CI).
 * The plugin is linked in directly and driven through `vitrine_plugin` with a
 * fake host (plugins/common/test_host.c) that records every emitted reading,
 * the monotonic time it was emitted at, and every log line.
 */
#include <vitrine/plugin.h>

#include "beams.h"
#include "source.h"
#include "vt_test.h"

#include "common/sim_rng.h"
#include "common/test_host.h"

#include <errno.h>
#include <math.h>

/* ---- the state machine on synthetic streams ---------------------------- */

#define MS INT64_C(1000)

struct tally {
	int in, out, uturn, stuck, unstuck;
	int64_t last_ts;
};

static void tally_add(struct tally *t, const struct beams_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		t->in += ev[i].type == BEAMS_PASS_IN;
		t->out += ev[i].type == BEAMS_PASS_OUT;
		t->uturn += ev[i].type == BEAMS_UTURN;
		t->stuck += ev[i].type == BEAMS_STUCK;
		t->unstuck += ev[i].type == BEAMS_UNSTUCK;
		t->last_ts = ev[i].ts_us;
	}
}

static void edge(struct beams *b, struct tally *t, enum beams_line line,
		 enum beams_edge e, int64_t us)
{
	struct beams_event ev[BEAMS_MAX_EVENTS];

	tally_add(t, ev, beams_edge(b, line, e, us, ev));
}

static void settle(struct beams *b, struct tally *t, int64_t us)
{
	struct beams_event ev[BEAMS_MAX_EVENTS];

	tally_add(t, ev, beams_tick(b, us, ev));
}

/* One person: first beam down, second lag later, first up, second up. */
static void pass(struct beams *b, struct tally *t, enum beams_line first,
		 int64_t at, int64_t lag)
{
	enum beams_line second = first == BEAMS_LINE_A ? BEAMS_LINE_B : BEAMS_LINE_A;

	edge(b, t, first, BEAMS_FALLING, at);
	edge(b, t, second, BEAMS_FALLING, at + lag);
	edge(b, t, first, BEAMS_RISING, at + 400 * MS);
	edge(b, t, second, BEAMS_RISING, at + 400 * MS + lag);
}

VT_TEST(beams_clean_in_pass)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	pass(&b, &t, BEAMS_LINE_A, 1000 * MS, 80 * MS);
	settle(&b, &t, 2000 * MS);
	CHECK_EQ_INT(t.in, 1);
	CHECK_EQ_INT(t.out + t.uturn + t.stuck, 0);
	CHECK_EQ_INT(t.last_ts, 1480 * MS);	/* when B cleared */
}

VT_TEST(beams_clean_out_pass)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	pass(&b, &t, BEAMS_LINE_B, 1000 * MS, 65 * MS);
	pass(&b, &t, BEAMS_LINE_B, 3000 * MS, 100 * MS);
	settle(&b, &t, 4000 * MS);
	CHECK_EQ_INT(t.out, 2);
	CHECK_EQ_INT(t.in + t.uturn + t.stuck, 0);
}

VT_TEST(beams_pass_counts_once_the_last_beam_has_settled)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	pass(&b, &t, BEAMS_LINE_A, 0, 70 * MS);
	settle(&b, &t, 470 * MS + 4 * MS);	/* B rose 4 ms ago: may bounce */
	CHECK_EQ_INT(t.in, 0);
	settle(&b, &t, 470 * MS + 5 * MS);
	CHECK_EQ_INT(t.in, 1);
}

/* Each raw edge followed by chatter: back within 20 µs, 1 ms, 3 ms. */
static void bouncy(struct beams *b, struct tally *t, enum beams_line line,
		   enum beams_edge e, int64_t us)
{
	enum beams_edge other = e == BEAMS_FALLING ? BEAMS_RISING : BEAMS_FALLING;

	edge(b, t, line, e, us);
	edge(b, t, line, other, us + 20);
	edge(b, t, line, e, us + 40);
	edge(b, t, line, other, us + 1 * MS);
	edge(b, t, line, e, us + 3 * MS);
}

VT_TEST(beams_bounce_and_glitches_make_no_extra_pass)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	bouncy(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 1000 * MS);
	bouncy(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 1085 * MS);
	bouncy(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 1400 * MS);
	bouncy(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 1480 * MS);
	/* A flickering receiver while nobody is there: 50 µs and 4 ms. */
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 3000 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 3000 * MS + 50);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 4000 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 4004 * MS);
	/* A repeated edge (a driver reporting the level twice). */
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 4500 * MS);
	settle(&b, &t, 6000 * MS);
	CHECK_EQ_INT(t.in, 1);
	CHECK_EQ_INT(t.out + t.uturn + t.stuck, 0);
}

VT_TEST(beams_uturns_are_not_counted)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	/* Looks in from the street: A only. */
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 1000 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 1300 * MS);
	/* Steps into both beams and backs out: A B, then B up before A. */
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 2000 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 2080 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 2300 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 2400 * MS);
	/* Walks in, turns round in the door, walks out: five steps. */
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 3000 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 3080 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 3300 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 3600 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 3700 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 3800 * MS);
	settle(&b, &t, 5000 * MS);
	CHECK_EQ_INT(t.uturn, 3);
	CHECK_EQ_INT(t.in + t.out, 0);
}

VT_TEST(beams_no_direction_without_a_lag)
{
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, NULL);
	pass(&b, &t, BEAMS_LINE_A, 1000 * MS, 0);	/* both at once */
	/* B breaks 2.5 s after A (someone waiting in beam A, then a
	 * second person): no telling who went where. */
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 5000 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 7500 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 7800 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 7900 * MS);
	settle(&b, &t, 9000 * MS);
	CHECK_EQ_INT(t.uturn, 2);
	CHECK_EQ_INT(t.in + t.out, 0);
}

VT_TEST(beams_stuck_beam_is_reported_once_and_not_counted)
{
	struct beams_config cfg = { 5 * MS, 120000 * MS, 2000 * MS };
	struct beams b;
	struct tally t = { 0 };

	beams_init(&b, &cfg);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_FALLING, 1000 * MS);
	for (int64_t s = 2; s < 300; s += 3)
		settle(&b, &t, s * 1000 * MS);
	CHECK_EQ_INT(t.stuck, 1);
	/* Someone squeezes past on B while A is blocked. */
	edge(&b, &t, BEAMS_LINE_B, BEAMS_FALLING, 300000 * MS);
	edge(&b, &t, BEAMS_LINE_B, BEAMS_RISING, 300400 * MS);
	edge(&b, &t, BEAMS_LINE_A, BEAMS_RISING, 301000 * MS);
	settle(&b, &t, 302000 * MS);
	CHECK_EQ_INT(t.stuck, 1);
	CHECK_EQ_INT(t.unstuck, 1);
	CHECK_EQ_INT(t.in + t.out + t.uturn, 0);
	/* Counting resumes once the beam is clear. */
	pass(&b, &t, BEAMS_LINE_A, 303000 * MS, 80 * MS);
	settle(&b, &t, 304000 * MS);
	CHECK_EQ_INT(t.in, 1);
	CHECK_EQ_INT(t.stuck, 1);
}

/* ---- the plugin ---------------------------------------------------------- */

/* The simulations' exponential draw, written without libm, against libm. */
VT_TEST(sim_exponential_draw_matches_libm)
{
	uint64_t st = 42;

	CHECK(vp_rng_exp(0) == 0);
	for (int i = 0; i < 100000; i++) {
		double u = vp_rng_unit(&st), want = -log1p(-u), got = vp_rng_exp(u);

		CHECK(fabs(got - want) <= 1e-13 * (want > 1 ? want : 1));
	}
	CHECK(fabs(vp_rng_exp(1 - 0x1p-53) - 53 * 0.69314718055994530942) < 1e-12);
}

VT_TEST(footfall_same_seed_gives_same_readings)
{
	CHECK(vp_same_seed_same_readings(&vitrine_plugin, "600", "2"));
}

VT_TEST(footfall_limit_is_exact)
{
	struct vitrine_ctx *ctx = vp_fake_new(1000);
	struct vp_run_result res;

	vp_fake_set(ctx, "limit", "777");
	vp_fake_set(ctx, "burst", "100");
	res = vp_run_plugin(&vitrine_plugin, ctx, 100, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(ctx->n, 777);
	CHECK(res.calls >= 8);	/* at most 100 readings per call */
	vp_fake_free(ctx);
}

VT_TEST(footfall_failures_lose_and_repeat_nothing)
{
	CHECK(vp_failures_lose_nothing(&vitrine_plugin, "800", "30", -20));
}

VT_TEST(footfall_readings_are_in_range)
{
	struct vitrine_ctx *ctx = vp_fake_new(3000);
	unsigned doors_seen = 0, dirs_seen = 0;
	int64_t prev = INT64_MIN;

	vp_fake_set(ctx, "limit", "3000");
	vp_fake_set(ctx, "doors", "4");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->n, 3000);
	for (size_t i = 0; i < ctx->n; i++) {
		const struct vitrine_reading *r = &ctx->readings[i];
		int64_t minute = r->time_ms % 86400000 / 60000;

		CHECK_EQ_INT(r->kind, VITRINE_KIND_FOOTFALL);
		CHECK(r->time_ms >= prev);
		prev = r->time_ms;
		/* opening hours, and leavers up to 15 min after closing */
		CHECK(minute >= 10 * 60 && minute <= 19 * 60 + 15);
		CHECK(r->u.footfall.door >= 1 && r->u.footfall.door <= 4);
		CHECK(r->u.footfall.direction == VITRINE_DIR_IN ||
		      r->u.footfall.direction == VITRINE_DIR_OUT);
		CHECK_EQ_INT(r->u.footfall.count, 1);
		doors_seen |= 1u << r->u.footfall.door;
		dirs_seen |= 1u << r->u.footfall.direction;
	}
	CHECK_EQ_INT(doors_seen, 0x1e);
	CHECK_EQ_INT(dirs_seen, 0x6);
	CHECK(!strstr(ctx->log, " 0 U-turns"));
	vp_fake_free(ctx);
}

VT_TEST(footfall_stuck_beams_are_logged_once_each)
{
	struct vitrine_ctx *ctx = vp_fake_new(8000);
	size_t stuck, cleared;

	vp_fake_set(ctx, "limit", "8000");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	stuck = vp_count_substr(ctx->log, "blocked for more than 120000 ms");
	cleared = vp_count_substr(ctx->log, "clear again");
	CHECK(stuck >= 1);
	CHECK(cleared == stuck || cleared + 1 == stuck);
	vp_fake_free(ctx);
}

VT_TEST(footfall_skips_the_night)
{
	struct vitrine_ctx *ctx = vp_fake_new(10);

	vp_fake_set(ctx, "limit", "1");
	vp_fake_set(ctx, "start", "2026-11-25T22:00:00Z");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 5, 50).finished);
	CHECK_EQ_INT(ctx->n, 1);
	/* Thursday 2026-11-26, after 10:00 */
	CHECK(ctx->readings[0].time_ms >= INT64_C(1795687200000));
	CHECK(ctx->readings[0].time_ms < INT64_C(1795687200000) + 3600000);
	vp_fake_free(ctx);
}

VT_TEST(footfall_speed_paces_readings_on_the_simulated_clock)
{
	struct vitrine_ctx *fast = vp_fake_new(300), *paced = vp_fake_new(300);
	const int64_t start = INT64_C(1795597200000);	/* 2026-11-25T09:00:00Z */
	struct vp_run_result res;

	vp_fake_set(fast, "limit", "300");
	vp_fake_set(paced, "limit", "300");
	vp_fake_set(paced, "speed", "600");	/* 1 real s = 10 simulated min */
	CHECK(vp_run_plugin(&vitrine_plugin, fast, 1000, 50).finished);
	res = vp_run_plugin(&vitrine_plugin, paced, 2000, 100);
	CHECK(res.finished);
	CHECK(res.calls > 60);	/* nothing before 10:00, i.e. 6 real s */
	CHECK(vp_same_readings(fast, paced));
	for (size_t i = 0; i < paced->n; i++)
		CHECK(paced->readings[i].time_ms <=
		      start + (paced->emitted_at[i] - 1000) * 600 + 1);
	vp_fake_free(fast);
	vp_fake_free(paced);
}

VT_TEST(footfall_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "doors", "0" }, { "doors", "17" }, { "stuck_ms", "abc" },
		{ "seed", "-1" }, { "speed", "-1" }, { "burst", "0" },
		{ "start", "2026-13-01T09:00:00Z" }, { "start", "2026-11-25 09:00" },
		{ "source", "gpiod" }, { "fail_every", "" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vp_rejects_config(&vitrine_plugin, bad[i][0], bad[i][1]));
}

VT_TEST(footfall_declares_its_config_keys)
{
	int n = 0;

	for (const char *const *k = vitrine_plugin.config_keys; *k; k++)
		n++;
	CHECK_EQ_INT(n, 32);	/* 10 of the beams and the simulation, 19 GPIO, 3 counter */
	CHECK_STR(vitrine_plugin.name, "footfall");
	CHECK(vitrine_plugin.collect_interval_ms > 0);
}

VT_TEST_MAIN()
