/*
 * plugins/footfall/footfall_test.c - tests for the door-pass state machine,
 * the simulated doors and the footfall plugin.
 *
 * beams.c is tested on synthetic edge streams (gpio-sim cannot run in CI).
 * The plugin is linked in directly and driven through `vitrine_plugin` with
 * a fake host (below) that records every emitted reading, the monotonic time
 * it was emitted at, and every log line.
 */
#include <vitrine/plugin.h>

#include "beams.h"
#include "source.h"
#include "vt_test.h"

#include <errno.h>
#include <stdarg.h>

/* The plugin's one exported symbol (plugin.h names it, the agent dlsym()s it). */

/* ---- fake host ----------------------------------------------------------- */

#define FAKE_KEYS 16
#define FAKE_LOG_BYTES 8192

struct vitrine_ctx {
	const char *keys[FAKE_KEYS];
	const char *vals[FAKE_KEYS];
	int nkeys;
	struct vitrine_reading *readings;
	int64_t *emitted_at;	/* mono_ms when each reading was emitted */
	size_t n, cap;
	int64_t mono_ms;
	char log[FAKE_LOG_BYTES];
	size_t log_len;
	int errors;
};

static int fake_emit(struct vitrine_ctx *ctx, const struct vitrine_reading *r)
{
	if (ctx->n < ctx->cap) {
		ctx->readings[ctx->n] = *r;
		ctx->emitted_at[ctx->n] = ctx->mono_ms;
	}
	ctx->n++;
	return 0;
}

static void fake_log(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
	VITRINE_PRINTF(3, 4);

static void fake_log(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	int len;

	ctx->errors += level == VITRINE_LOG_ERROR;
	if (ctx->log_len >= FAKE_LOG_BYTES - 2)
		return;
	va_start(ap, fmt);
	len = vsnprintf(ctx->log + ctx->log_len, FAKE_LOG_BYTES - ctx->log_len - 1,
			fmt, ap);
	va_end(ap);
	if (len > 0)
		ctx->log_len += (size_t)len;
	if (ctx->log_len > FAKE_LOG_BYTES - 2)
		ctx->log_len = FAKE_LOG_BYTES - 2;
	ctx->log[ctx->log_len++] = '\n';
	ctx->log[ctx->log_len] = '\0';
}

static const char *fake_config(struct vitrine_ctx *ctx, const char *key)
{
	for (int i = 0; i < ctx->nkeys; i++)
		if (!strcmp(ctx->keys[i], key))
			return ctx->vals[i];
	return NULL;
}

static int64_t fake_now(struct vitrine_ctx *ctx)
{
	(void)ctx;
	return INT64_C(1795000000000);
}

static int64_t fake_mono(struct vitrine_ctx *ctx)
{
	return ctx->mono_ms;
}

static const struct vitrine_host fake_host = {
	.abi_major = VITRINE_ABI_MAJOR,
	.struct_size = sizeof(struct vitrine_host),
	.emit = fake_emit,
	.log = fake_log,
	.config = fake_config,
	.now_ms = fake_now,
	.mono_ms = fake_mono,
};

static void fake_set(struct vitrine_ctx *ctx, const char *key, const char *val)
{
	for (int i = 0; i < ctx->nkeys; i++)
		if (!strcmp(ctx->keys[i], key)) {
			ctx->vals[i] = val;
			return;
		}
	ctx->keys[ctx->nkeys] = key;
	ctx->vals[ctx->nkeys++] = val;
}

static struct vitrine_ctx *fake_new(size_t cap)
{
	struct vitrine_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		abort();
	ctx->readings = calloc(cap, sizeof(*ctx->readings));
	ctx->emitted_at = calloc(cap, sizeof(*ctx->emitted_at));
	if (!ctx->readings || !ctx->emitted_at)
		abort();
	ctx->cap = cap;
	ctx->mono_ms = 1000;
	fake_set(ctx, "start", "2026-11-25T09:00:00Z");
	fake_set(ctx, "speed", "0");
	return ctx;
}

static void fake_free(struct vitrine_ctx *ctx)
{
	free(ctx->readings);
	free(ctx->emitted_at);
	free(ctx);
}

struct run_result {
	int init_rc;
	int finished;		/* collect returned 1 */
	int failures;		/* collect returned < 0 */
	int recoveries;		/* collect returned 0 right after a failure */
	int calls;
};

/* init, collect until finished or max_calls, fini; mono advances step_ms. */
static struct run_result run_plugin(struct vitrine_ctx *ctx, int max_calls,
				    int64_t step_ms)
{
	struct run_result res = { 0 };
	void *state = NULL;

	res.init_rc = vitrine_plugin.init(&fake_host, ctx, &state);
	if (res.init_rc)
		return res;
	for (int rc = 0; res.calls < max_calls && !res.finished;) {
		int prev = rc;

		rc = vitrine_plugin.collect(state);
		res.calls++;
		res.failures += rc < 0;
		res.recoveries += prev < 0 && rc == 0;
		res.finished = rc == 1;
		ctx->mono_ms += step_ms;
	}
	vitrine_plugin.fini(state);
	return res;
}

static int same_readings(const struct vitrine_ctx *a, const struct vitrine_ctx *b)
{
	return a->n == b->n &&
	       !memcmp(a->readings, b->readings, a->n * sizeof(*a->readings));
}

static size_t count_substr(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

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

VT_TEST(footfall_same_seed_gives_same_readings)
{
	struct vitrine_ctx *a = fake_new(600), *b = fake_new(600);

	fake_set(a, "limit", "600");
	fake_set(b, "limit", "600");
	CHECK_EQ_INT(run_plugin(a, 1000, 50).init_rc, 0);
	CHECK(run_plugin(b, 1000, 50).finished);
	CHECK_EQ_INT(a->n, 600);
	CHECK(same_readings(a, b));
	fake_set(b, "seed", "2");
	b->n = 0;
	CHECK(run_plugin(b, 1000, 50).finished);
	CHECK_EQ_INT(b->n, 600);
	CHECK(!same_readings(a, b));
	fake_free(a);
	fake_free(b);
}

VT_TEST(footfall_limit_is_exact)
{
	struct vitrine_ctx *ctx = fake_new(1000);
	struct run_result res;

	fake_set(ctx, "limit", "777");
	fake_set(ctx, "burst", "100");
	res = run_plugin(ctx, 100, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(ctx->n, 777);
	CHECK(res.calls >= 8);	/* at most 100 readings per call */
	fake_free(ctx);
}

VT_TEST(footfall_failures_lose_and_repeat_nothing)
{
	struct vitrine_ctx *a = fake_new(800), *b = fake_new(800);
	struct run_result ra, rb;

	fake_set(a, "limit", "800");
	fake_set(b, "limit", "800");
	fake_set(b, "fail_every", "30");
	ra = run_plugin(a, 1000, 50);
	rb = run_plugin(b, 1000, 50);
	CHECK(ra.finished && rb.finished);
	CHECK_EQ_INT(ra.failures, 0);
	CHECK(rb.failures >= 20);
	CHECK(strstr(b->log, "failed (Input/output error)"));
	CHECK_EQ_INT(rb.recoveries, rb.failures);
	CHECK(strstr(b->log, "reopened"));
	CHECK(same_readings(a, b));
	fake_free(a);
	fake_free(b);
}

VT_TEST(footfall_readings_are_in_range)
{
	struct vitrine_ctx *ctx = fake_new(3000);
	unsigned doors_seen = 0, dirs_seen = 0;
	int64_t prev = INT64_MIN;

	fake_set(ctx, "limit", "3000");
	fake_set(ctx, "doors", "4");
	CHECK(run_plugin(ctx, 1000, 50).finished);
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
	fake_free(ctx);
}

VT_TEST(footfall_stuck_beams_are_logged_once_each)
{
	struct vitrine_ctx *ctx = fake_new(8000);
	size_t stuck, cleared;

	fake_set(ctx, "limit", "8000");
	CHECK(run_plugin(ctx, 1000, 50).finished);
	stuck = count_substr(ctx->log, "blocked for more than 120000 ms");
	cleared = count_substr(ctx->log, "clear again");
	CHECK(stuck >= 1);
	CHECK(cleared == stuck || cleared + 1 == stuck);
	fake_free(ctx);
}

VT_TEST(footfall_skips_the_night)
{
	struct vitrine_ctx *ctx = fake_new(10);

	fake_set(ctx, "limit", "1");
	fake_set(ctx, "start", "2026-11-25T22:00:00Z");
	CHECK(run_plugin(ctx, 5, 50).finished);
	CHECK_EQ_INT(ctx->n, 1);
	/* Thursday 2026-11-26, after 10:00 */
	CHECK(ctx->readings[0].time_ms >= INT64_C(1795687200000));
	CHECK(ctx->readings[0].time_ms < INT64_C(1795687200000) + 3600000);
	fake_free(ctx);
}

VT_TEST(footfall_speed_paces_readings_on_the_simulated_clock)
{
	struct vitrine_ctx *fast = fake_new(300), *paced = fake_new(300);
	const int64_t start = INT64_C(1795597200000);	/* 2026-11-25T09:00:00Z */
	struct run_result res;

	fake_set(fast, "limit", "300");
	fake_set(paced, "limit", "300");
	fake_set(paced, "speed", "600");	/* 1 real s = 10 simulated min */
	CHECK(run_plugin(fast, 1000, 50).finished);
	res = run_plugin(paced, 2000, 100);
	CHECK(res.finished);
	CHECK(res.calls > 60);	/* nothing before 10:00, i.e. 6 real s */
	CHECK(same_readings(fast, paced));
	for (size_t i = 0; i < paced->n; i++)
		CHECK(paced->readings[i].time_ms <=
		      start + (paced->emitted_at[i] - 1000) * 600 + 1);
	fake_free(fast);
	fake_free(paced);
}

VT_TEST(footfall_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "doors", "0" }, { "doors", "17" }, { "stuck_ms", "abc" },
		{ "seed", "-1" }, { "speed", "-1" }, { "burst", "0" },
		{ "start", "2026-13-01T09:00:00Z" }, { "start", "2026-11-25 09:00" },
		{ "source", "gpiod" }, { "fail_every", "" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vitrine_ctx *ctx = fake_new(1);
		char key[64];

		fake_set(ctx, bad[i][0], bad[i][1]);
		CHECK_EQ_INT(run_plugin(ctx, 1, 50).init_rc, -EINVAL);
		CHECK_EQ_INT(ctx->errors, 1);
		snprintf(key, sizeof(key), "footfall.%s", bad[i][0]);
		CHECK(strstr(ctx->log, key));
		fake_free(ctx);
	}
}

VT_TEST(footfall_declares_its_config_keys)
{
	int n = 0;

	for (const char *const *k = vitrine_plugin.config_keys; *k; k++)
		n++;
	CHECK_EQ_INT(n, 9);
	CHECK_STR(vitrine_plugin.name, "footfall");
	CHECK(vitrine_plugin.collect_interval_ms > 0);
}

VT_TEST_MAIN()
