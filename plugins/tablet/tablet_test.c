/*
 * plugins/tablet/tablet_test.c - tests for the simulated kiosks and the
 * tablet plugin.
 *
 * The plugin is linked in directly and driven through `vitrine_plugin` with a
 * fake host (plugins/common/test_host.c) that records every emitted reading,
 * the monotonic time it was emitted at, and every log line.
 */
#include <vitrine/plugin.h>

#include "source.h"
#include "vt_test.h"

#include "common/test_host.h"

#include <errno.h>

static int gtin_ok(const char *g)
{
	unsigned sum = 0;

	if (strlen(g) != 14)
		return 0;
	for (int i = 0; i < 13; i++) {
		if (g[i] < '0' || g[i] > '9')
			return 0;
		sum += (unsigned)(g[i] - '0') * (i % 2 ? 1 : 3);
	}
	return g[13] == (char)('0' + (10 - sum % 10) % 10);
}

static int hex32_ok(const char *s)
{
	if (strlen(s) != 32)
		return 0;
	for (int i = 0; i < 32; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

VT_TEST(tablet_catalogue_has_valid_gtins)
{
	unsigned n = 0;

	for (const char *g; (g = tablet_sim_product(n)); n++)
		CHECK(gtin_ok(g));
	CHECK_EQ_INT(n, 20);
	CHECK(!gtin_ok("03012345123458"));	/* and the check can fail */
}

VT_TEST(tablet_same_seed_gives_same_readings)
{
	CHECK(vp_same_seed_same_readings(&vitrine_plugin, "2000", "99"));
}

VT_TEST(tablet_limit_is_exact)
{
	struct vitrine_ctx *ctx = vp_fake_new(1000);
	struct vp_run_result res;

	vp_fake_set(ctx, "limit", "555");
	vp_fake_set(ctx, "burst", "50");
	res = vp_run_plugin(&vitrine_plugin, ctx, 100, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(res.calls, 12);	/* 11 full bursts, then 5 and done */
	CHECK_EQ_INT(ctx->n, 555);
	vp_fake_free(ctx);
}

VT_TEST(tablet_failures_lose_and_repeat_nothing)
{
	/* fails after 70, 140, ... 1470 readings */
	CHECK(vp_failures_lose_nothing(&vitrine_plugin, "1500", "70", 21));
}

struct kiosk_check {
	char session[VITRINE_SESSION_MAX];
	int64_t started;
};

/* Sessions are START, views and lookups, END, with one id throughout. */
static int session_step_ok(struct kiosk_check *k, const struct vitrine_reading *r)
{
	const struct vitrine_tablet *t = &r->u.tablet;

	if (t->event == VITRINE_TABLET_SESSION_START) {
		if (k->session[0] || strcmp(t->session, k->session) == 0)
			return 0;	/* previous still open, or id reused */
		memcpy(k->session, t->session, sizeof(k->session));
		k->started = r->time_ms;
		return 1;
	}
	if (!k->session[0] || strcmp(t->session, k->session))
		return 0;	/* no session open, or another session's id */
	if (t->event == VITRINE_TABLET_SESSION_END) {
		if (t->duration_ms != (uint32_t)(r->time_ms - k->started))
			return 0;
		k->session[0] = '\0';
	}
	return 1;
}

static int fields_ok(const struct vitrine_tablet *t)
{
	if (!memchr(t->session, 0, sizeof(t->session)) ||
	    !memchr(t->screen, 0, sizeof(t->screen)) ||
	    !memchr(t->gtin, 0, sizeof(t->gtin)) || !hex32_ok(t->session))
		return 0;
	switch (t->event) {
	case VITRINE_TABLET_SCREEN_VIEW:
		return t->screen[0] && !t->gtin[0] &&
		       t->duration_ms >= 3000 && t->duration_ms <= 90000;
	case VITRINE_TABLET_PRODUCT_LOOKUP:
		return !t->screen[0] && gtin_ok(t->gtin) && t->duration_ms <= 90000;
	case VITRINE_TABLET_SESSION_START:
		return !t->screen[0] && !t->gtin[0] && t->duration_ms == 0;
	case VITRINE_TABLET_SESSION_END:
		return !t->screen[0] && !t->gtin[0] && t->duration_ms > 0;
	default:
		return 0;
	}
}

VT_TEST(tablet_readings_are_valid_and_sessions_well_formed)
{
	struct vitrine_ctx *ctx = vp_fake_new(3000);
	struct kiosk_check kiosks[3] = { 0 };
	unsigned events_seen = 0;
	int64_t prev = INT64_MIN;

	vp_fake_set(ctx, "limit", "3000");
	vp_fake_set(ctx, "kiosks", "3");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->n, 3000);
	for (size_t i = 0; i < ctx->n; i++) {
		const struct vitrine_reading *r = &ctx->readings[i];
		const struct vitrine_tablet *t = &r->u.tablet;

		CHECK_EQ_INT(r->kind, VITRINE_KIND_TABLET);
		CHECK(r->time_ms >= prev);
		prev = r->time_ms;
		CHECK(t->kiosk >= 1 && t->kiosk <= 3);
		CHECK(t->event >= VITRINE_TABLET_SESSION_START &&
		      t->event <= VITRINE_TABLET_PRODUCT_LOOKUP);
		CHECK(fields_ok(t));
		CHECK(session_step_ok(&kiosks[t->kiosk - 1], r));
		events_seen |= 1u << t->event;
	}
	CHECK_EQ_INT(events_seen, 0x1e);
	vp_fake_free(ctx);
}

VT_TEST(tablet_sessions_only_start_in_opening_hours)
{
	struct vitrine_ctx *ctx = vp_fake_new(2000);

	vp_fake_set(ctx, "limit", "2000");
	vp_fake_set(ctx, "start", "2026-11-25T20:00:00Z");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	for (size_t i = 0; i < ctx->n; i++) {
		const struct vitrine_reading *r = &ctx->readings[i];
		int64_t hour = r->time_ms % 86400000 / 3600000;

		if (r->u.tablet.event == VITRINE_TABLET_SESSION_START)
			CHECK(hour >= 10 && hour < 19);
	}
	/* first session on Thursday 2026-11-26, 10:00 or later */
	CHECK(ctx->readings[0].time_ms >= INT64_C(1795687200000));
	vp_fake_free(ctx);
}

VT_TEST(tablet_speed_paces_readings_on_the_simulated_clock)
{
	struct vitrine_ctx *fast = vp_fake_new(200), *paced = vp_fake_new(200);
	const int64_t start = INT64_C(1795597200000);	/* 2026-11-25T09:00:00Z */
	struct vp_run_result res;

	vp_fake_set(fast, "limit", "200");
	vp_fake_set(paced, "limit", "200");
	vp_fake_set(paced, "speed", "600");
	CHECK(vp_run_plugin(&vitrine_plugin, fast, 1000, 50).finished);
	res = vp_run_plugin(&vitrine_plugin, paced, 3000, 100);
	CHECK(res.finished);
	CHECK(res.calls > 60);	/* nothing before 10:00, i.e. 6 real s */
	CHECK(vp_same_readings(fast, paced));
	for (size_t i = 0; i < paced->n; i++)
		CHECK(paced->readings[i].time_ms <=
		      start + (paced->emitted_at[i] - 1000) * 600);
	vp_fake_free(fast);
	vp_fake_free(paced);
}

VT_TEST(tablet_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "kiosks", "0" }, { "kiosks", "33" }, { "burst", "x" },
		{ "speed", "nan" }, { "start", "2026-11-25T24:00:00Z" },
		{ "source", "socket" }, { "limit", " 5" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vp_rejects_config(&vitrine_plugin, bad[i][0], bad[i][1]));
}

/* ---- canary session ids (test key tablet.canary) --------------------------- */

static const char *const canaries[] = {
	"c0ffee00c0ffee01c0ffee02c0ffee03",
	"c0ffee10c0ffee11c0ffee12c0ffee13",
	"c0ffee20c0ffee21c0ffee22c0ffee23",
};
#define CANARY_LIST "c0ffee00c0ffee01c0ffee02c0ffee03, c0ffee10c0ffee11c0ffee12c0ffee13,c0ffee20c0ffee21c0ffee22c0ffee23"

VT_TEST(tablet_canary_ids_replace_the_first_session_ids_only)
{
	struct vitrine_ctx *plain = vp_fake_new(1500), *seeded = vp_fake_new(1500);
	struct kiosk_check kiosks[2] = { 0 };
	size_t starts[3] = { 0 }, ends[3] = { 0 }, sessions[2] = { 0 };
	/* Which session of its kiosk each canary is: kiosk 1's and kiosk 2's
	 * first, then the second of the kiosk whose first ends first. */
	static const size_t nth[3] = { 1, 1, 2 };

	vp_fake_set(plain, "limit", "1500");
	vp_fake_set(seeded, "limit", "1500");
	vp_fake_set(seeded, "canary", CANARY_LIST);
	CHECK(vp_run_plugin(&vitrine_plugin, plain, 1000, 50).finished);
	CHECK(vp_run_plugin(&vitrine_plugin, seeded, 1000, 50).finished);
	CHECK_EQ_INT(seeded->errors, 0);
	CHECK(strstr(seeded->log, "first 3 sessions use canary ids"));
	CHECK_EQ_INT(seeded->n, plain->n);
	for (size_t i = 0; i < seeded->n; i++) {
		struct vitrine_reading a = plain->readings[i], b = seeded->readings[i];
		const char *id = b.u.tablet.session;

		CHECK(session_step_ok(&kiosks[b.u.tablet.kiosk - 1], &b));
		sessions[b.u.tablet.kiosk - 1] += b.u.tablet.event == VITRINE_TABLET_SESSION_START;
		for (size_t c = 0; c < 3; c++) {
			if (strcmp(id, canaries[c]))
				continue;
			CHECK(c == 2 || b.u.tablet.kiosk == c + 1);
			CHECK_EQ_INT(sessions[b.u.tablet.kiosk - 1], nth[c]);
			starts[c] += b.u.tablet.event == VITRINE_TABLET_SESSION_START;
			ends[c] += b.u.tablet.event == VITRINE_TABLET_SESSION_END;
		}
		/* The same events, but for the session id. */
		memset(a.u.tablet.session, 0, sizeof(a.u.tablet.session));
		memset(b.u.tablet.session, 0, sizeof(b.u.tablet.session));
		CHECK(!memcmp(&a, &b, sizeof(a)));
	}
	for (size_t c = 0; c < 3; c++) {
		CHECK_EQ_INT(starts[c], 1);
		CHECK_EQ_INT(ends[c], 1);
	}
	vp_fake_free(plain);
	vp_fake_free(seeded);
}

VT_TEST(tablet_canary_keeps_the_simulation_deterministic)
{
	struct vitrine_ctx *a = vp_fake_new(1000), *b = vp_fake_new(1000);

	vp_fake_set(a, "limit", "1000");
	vp_fake_set(b, "limit", "1000");
	vp_fake_set(a, "canary", CANARY_LIST);
	vp_fake_set(b, "canary", CANARY_LIST);
	CHECK(vp_run_plugin(&vitrine_plugin, a, 1000, 50).finished);
	CHECK(vp_run_plugin(&vitrine_plugin, b, 1000, 50).finished);
	CHECK(vp_same_readings(a, b));
	vp_fake_free(a);
	vp_fake_free(b);
}

VT_TEST(tablet_rejects_bad_canary)
{
	static const char *const bad[] = {
		"c0ffee0",					/* 7 characters */
		"c0ffee00 c0ffee01",				/* blank inside */
		"c0ffee00/c0ffee01",				/* not an id character */
		"c0ffee00c0ffee01,",				/* empty entry */
		"",
		"0123456789012345678901234567890123456789012345678901234567890123", /* 64 */
		"c0ffee00c0ffee01,c0ffee00c0ffee02,c0ffee00c0ffee03,c0ffee00c0ffee04,"
		"c0ffee00c0ffee05,c0ffee00c0ffee06,c0ffee00c0ffee07,c0ffee00c0ffee08,"
		"c0ffee00c0ffee09,c0ffee00c0ffee10,c0ffee00c0ffee11,c0ffee00c0ffee12,"
		"c0ffee00c0ffee13,c0ffee00c0ffee14,c0ffee00c0ffee15,c0ffee00c0ffee16,"
		"c0ffee00c0ffee17",				/* 17 */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vp_rejects_config(&vitrine_plugin, "canary", bad[i]));
}

VT_TEST(tablet_canary_error_names_the_entry_not_the_id)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);

	vp_fake_set(ctx, "canary", "c0ffee00c0ffee01,c0ffee00 c0ffee02");
	CHECK_EQ_INT(vp_run_plugin(&vitrine_plugin, ctx, 1, 50).init_rc, -EINVAL);
	CHECK(strstr(ctx->log, "tablet.canary entry 2 is invalid"));
	CHECK(!strstr(ctx->log, "c0ffee0"));
	vp_fake_free(ctx);
}

VT_TEST(tablet_declares_its_config_keys)
{
	int n = 0;

	for (const char *const *k = vitrine_plugin.config_keys; *k; k++)
		n++;
	CHECK_EQ_INT(n, 14);
	CHECK_STR(vitrine_plugin.name, "tablet");
}

VT_TEST_MAIN()
