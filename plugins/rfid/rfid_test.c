/*
 * plugins/rfid/rfid_test.c - tests for the SGTIN-96 codec, the simulated
 * readers and the rfid plugin.
 *
 * The plugin is linked in directly and driven through `vitrine_plugin` with
 * a fake host (below) that records every emitted reading, the monotonic time
 * it was emitted at, and every log line; the test moves its clock by hand.
 */
#include <vitrine/plugin.h>

#include "sgtin96.h"
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

/* ---- SGTIN-96 codec ------------------------------------------------------ */

static void hex(const uint8_t *epc, char *out)
{
	for (int i = 0; i < SGTIN96_EPC_BYTES; i++)
		sprintf(out + 2 * i, "%02X", epc[i]);
}

static const uint8_t tds_example[SGTIN96_EPC_BYTES] = {
	0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85,
};

VT_TEST(sgtin96_encodes_tds_example)
{
	struct sgtin96 s;
	uint8_t epc[SGTIN96_EPC_BYTES];
	char text[2 * SGTIN96_EPC_BYTES + 1];

	/* urn:epc:id:sgtin:0614141.812345.6789, filter 3 */
	CHECK_EQ_INT(sgtin96_from_digits("0614141", "812345", 3, 6789, &s), 0);
	CHECK_EQ_INT(s.partition, 5);
	CHECK_EQ_INT(sgtin96_encode(&s, epc), 0);
	hex(epc, text);
	CHECK_STR(text, "3074257BF7194E4000001A85");
}

VT_TEST(sgtin96_decodes_tds_example_to_gtin14)
{
	struct sgtin96 s;
	char gtin[SGTIN96_GTIN_LEN + 1];

	CHECK_EQ_INT(sgtin96_decode(tds_example, &s), 0);
	CHECK_EQ_INT(s.filter, 3);
	CHECK_EQ_INT(s.partition, 5);
	CHECK_EQ_INT(s.company_prefix, 614141);
	CHECK_EQ_INT(s.item_ref, 812345);
	CHECK_EQ_INT(s.serial, 6789);
	CHECK_EQ_INT(sgtin96_gtin14(&s, gtin), 0);
	CHECK_STR(gtin, "80614141123458");
}

VT_TEST(sgtin96_round_trips_every_partition)
{
	static const int prefix_digits[SGTIN96_PARTITIONS] = { 12, 11, 10, 9, 8, 7, 6 };

	for (uint32_t p = 0; p < SGTIN96_PARTITIONS; p++) {
		uint64_t cp_max = 1, ir_max = 1;

		for (int i = 0; i < prefix_digits[p]; i++)
			cp_max *= 10;
		for (int i = 0; i < 13 - prefix_digits[p]; i++)
			ir_max *= 10;
		for (int edge = 0; edge < 3; edge++) {
			struct sgtin96 in = {
				.filter = (uint32_t)edge * 3 + 1,
				.partition = p,
				.company_prefix = edge == 0 ? 0 : edge == 1 ? cp_max - 1 : cp_max / 3,
				.item_ref = (uint32_t)(edge == 0 ? 0 : edge == 1 ? ir_max - 1 : ir_max / 7),
				.serial = edge == 1 ? SGTIN96_SERIAL_MAX : (uint64_t)edge * 12345,
			}, out;
			uint8_t epc[SGTIN96_EPC_BYTES];

			CHECK_EQ_INT(sgtin96_encode(&in, epc), 0);
			CHECK_EQ_INT(epc[0], SGTIN96_HEADER);
			CHECK_EQ_INT(sgtin96_decode(epc, &out), 0);
			CHECK_EQ_INT(out.filter, in.filter);
			CHECK_EQ_INT(out.partition, in.partition);
			CHECK_EQ_INT(out.company_prefix, in.company_prefix);
			CHECK_EQ_INT(out.item_ref, in.item_ref);
			CHECK_EQ_INT(out.serial, in.serial);
		}
	}
}

VT_TEST(sgtin96_rejects_bad_header)
{
	uint8_t epc[SGTIN96_EPC_BYTES];
	struct sgtin96 s;

	memcpy(epc, tds_example, sizeof(epc));
	epc[0] = 0x35;	/* GID-96 */
	CHECK_EQ_INT(sgtin96_decode(epc, &s), -EPROTONOSUPPORT);
	epc[0] = 0x36;	/* SGTIN-198 */
	CHECK_EQ_INT(sgtin96_decode(epc, &s), -EPROTONOSUPPORT);
}

VT_TEST(sgtin96_rejects_bad_partition)
{
	uint8_t epc[SGTIN96_EPC_BYTES];
	struct sgtin96 s;

	memcpy(epc, tds_example, sizeof(epc));
	epc[1] |= 0x1c;	/* partition bits = 7 */
	CHECK_EQ_INT(sgtin96_decode(epc, &s), -EINVAL);
	CHECK_EQ_INT(sgtin96_decode(tds_example, &s), 0);
	s.partition = 7;
	CHECK_EQ_INT(sgtin96_encode(&s, epc), -EINVAL);
	CHECK_EQ_INT(sgtin96_from_digits("12345", "12345678", 1, 1, &s), -EINVAL);
}

VT_TEST(sgtin96_rejects_out_of_range_values)
{
	struct sgtin96 s = { .filter = 1, .partition = 0, .company_prefix = 999999999999ull };
	uint8_t epc[SGTIN96_EPC_BYTES];

	CHECK_EQ_INT(sgtin96_encode(&s, epc), 0);
	/* 40 bits of all ones is more than 12 decimal digits. */
	epc[1] |= 0x03;
	epc[2] = epc[3] = epc[4] = epc[5] = 0xff;
	epc[6] |= 0xfc;
	CHECK_EQ_INT(sgtin96_decode(epc, &s), -ERANGE);
	s = (struct sgtin96){ .filter = 1, .partition = 5, .serial = SGTIN96_SERIAL_MAX + 1 };
	CHECK_EQ_INT(sgtin96_encode(&s, epc), -ERANGE);
	s.serial = 0;
	s.item_ref = 1000000;	/* 7 digits where partition 5 allows 6 */
	CHECK_EQ_INT(sgtin96_encode(&s, epc), -ERANGE);
	s.item_ref = 0;
	s.filter = 8;
	CHECK_EQ_INT(sgtin96_encode(&s, epc), -EINVAL);
}

VT_TEST(gtin14_check_digit_is_gs1_mod10)
{
	CHECK_EQ_INT(gtin14_check_digit("8061414112345"), 8);
	CHECK_EQ_INT(gtin14_check_digit("0761234567890"), 0);
	CHECK_EQ_INT(gtin14_check_digit("0400638133123"), 4);
	CHECK(gtin14_valid("80614141123458"));
	CHECK(!gtin14_valid("80614141123457"));
	CHECK(!gtin14_valid("8061414112345"));
	CHECK(!gtin14_valid("8061414112345x"));
}

/* ---- simulated readers --------------------------------------------------- */

VT_TEST(rfid_sim_uses_every_partition_and_some_foreign_epcs)
{
	struct rfid_sim_params p = {
		.seed = 7, .start_utc_ms = INT64_C(1795000000000), .readers = 2,
		.antennas = 4, .items = 200,
	};
	struct rfid_source *src;
	struct rfid_tag_report rep;
	unsigned seen = 0, foreign = 0;

	CHECK_EQ_INT(rfid_sim_create(&p, &src), 0);
	CHECK_EQ_INT(src->ops->next_report(src, INT64_MAX, &rep), -ENOTCONN);
	CHECK_EQ_INT(src->ops->open(src), 0);
	for (int i = 0; i < 20000; i++) {
		struct sgtin96 s;

		CHECK_EQ_INT(src->ops->next_report(src, INT64_MAX, &rep), 1);
		if (sgtin96_decode(rep.epc, &s))
			foreign++;
		else
			seen |= 1u << s.partition;
	}
	src->ops->destroy(src);
	CHECK_EQ_INT(seen, 0x7f);
	CHECK(foreign > 10 && foreign < 100);
}

VT_TEST(rfid_sim_waits_for_its_horizon)
{
	struct rfid_sim_params p = {
		.seed = 1, .start_utc_ms = INT64_C(1795000000000), .readers = 1,
		.antennas = 2, .items = 10,
	};
	struct rfid_source *src;
	struct rfid_tag_report rep;

	CHECK_EQ_INT(rfid_sim_create(&p, &src), 0);
	CHECK_EQ_INT(src->ops->open(src), 0);
	CHECK_EQ_INT(src->ops->next_report(src, p.start_utc_ms * 1000 - 1, &rep), 0);
	CHECK_EQ_INT(src->ops->next_report(src, INT64_MAX, &rep), 1);
	CHECK(rep.utc_us >= p.start_utc_ms * 1000);
	src->ops->destroy(src);
	p.antennas = 5;
	CHECK_EQ_INT(rfid_sim_create(&p, &src), -EINVAL);
}

/* ---- the plugin ---------------------------------------------------------- */

VT_TEST(rfid_same_seed_gives_same_readings)
{
	struct vitrine_ctx *a = fake_new(3000), *b = fake_new(3000);
	struct run_result ra, rb;

	fake_set(a, "limit", "3000");
	fake_set(b, "limit", "3000");
	ra = run_plugin(a, 1000, 50);
	rb = run_plugin(b, 1000, 50);
	CHECK_EQ_INT(ra.init_rc, 0);
	CHECK(ra.finished && rb.finished);
	CHECK_EQ_INT(a->n, 3000);
	CHECK(same_readings(a, b));
	fake_set(b, "seed", "2");
	b->n = 0;
	rb = run_plugin(b, 1000, 50);
	CHECK_EQ_INT(b->n, 3000);
	CHECK(!same_readings(a, b));
	fake_free(a);
	fake_free(b);
}

VT_TEST(rfid_limit_is_exact)
{
	struct vitrine_ctx *ctx = fake_new(2000);
	struct run_result res;

	fake_set(ctx, "limit", "1234");
	fake_set(ctx, "burst", "100");
	res = run_plugin(ctx, 100, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(res.calls, 13);	/* 12 full bursts, then 34 and done */
	CHECK_EQ_INT(ctx->n, 1234);
	fake_free(ctx);
}

VT_TEST(rfid_failures_lose_and_repeat_nothing)
{
	struct vitrine_ctx *a = fake_new(2000), *b = fake_new(2000);
	struct run_result ra, rb;

	fake_set(a, "limit", "2000");
	fake_set(b, "limit", "2000");
	fake_set(b, "fail_every", "150");
	ra = run_plugin(a, 1000, 50);
	rb = run_plugin(b, 1000, 50);
	CHECK(ra.finished && rb.finished);
	CHECK_EQ_INT(ra.failures, 0);
	CHECK(rb.failures >= 12);
	CHECK(strstr(b->log, "failed (Input/output error)"));
	CHECK_EQ_INT(rb.recoveries, rb.failures);
	CHECK(strstr(b->log, "reopened"));
	CHECK(same_readings(a, b));
	fake_free(a);
	fake_free(b);
}

VT_TEST(rfid_readings_are_in_range)
{
	struct vitrine_ctx *ctx = fake_new(6000);
	int64_t prev = INT64_MIN;

	fake_set(ctx, "limit", "6000");
	fake_set(ctx, "readers", "3");
	fake_set(ctx, "antennas", "3");
	fake_set(ctx, "items", "300");
	CHECK(run_plugin(ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->n, 6000);
	for (size_t i = 0; i < ctx->n; i++) {
		const struct vitrine_reading *r = &ctx->readings[i];

		CHECK_EQ_INT(r->kind, VITRINE_KIND_RFID);
		CHECK(r->time_ms >= prev);
		CHECK(r->time_ms >= INT64_C(1795597200000));	/* the start */
		prev = r->time_ms;
		CHECK(r->u.rfid.reader >= 1 && r->u.rfid.reader <= 3);
		CHECK(r->u.rfid.antenna >= 1 && r->u.rfid.antenna <= 3);
		CHECK(r->u.rfid.rssi_cdbm >= -7500 && r->u.rfid.rssi_cdbm <= -3500);
		CHECK(memchr(r->u.rfid.gtin, 0, VITRINE_GTIN_MAX));
		CHECK(gtin14_valid(r->u.rfid.gtin));
		CHECK(r->u.rfid.filter <= 7);
		CHECK(r->u.rfid.serial <= SGTIN96_SERIAL_MAX);
	}
	fake_free(ctx);
}

VT_TEST(rfid_drops_non_sgtin_reports_and_says_so)
{
	struct vitrine_ctx *ctx = fake_new(5000);

	fake_set(ctx, "limit", "5000");
	CHECK(run_plugin(ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->n, 5000);
	CHECK(strstr(ctx->log, "not SGTIN-96"));
	CHECK(!strstr(ctx->log, " 0 non-SGTIN-96"));
	fake_free(ctx);
}

VT_TEST(rfid_speed_paces_readings_on_the_simulated_clock)
{
	struct vitrine_ctx *fast = fake_new(4000), *paced = fake_new(4000);
	const int64_t start = INT64_C(1795597200000);	/* 2026-11-25T09:00:00Z */
	struct run_result res;

	fake_set(fast, "limit", "400");
	fake_set(paced, "limit", "400");
	fake_set(paced, "speed", "60");
	fake_set(fast, "items", "20");	/* about 25 reads per 10 s round */
	fake_set(paced, "items", "20");
	CHECK(run_plugin(fast, 1000, 50).finished);
	/* 20 calls, 100 ms apart: 2 real s = 120 simulated s. */
	res = run_plugin(paced, 20, 100);
	CHECK(!res.finished);
	CHECK(paced->n > 0 && paced->n < 400);
	CHECK(paced->readings[paced->n - 1].time_ms <= start + 120000);
	CHECK(!memcmp(paced->readings, fast->readings,
		      paced->n * sizeof(*paced->readings)));
	fake_free(fast);
	fake_free(paced);
}

VT_TEST(rfid_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "antennas", "5" }, { "readers", "0" }, { "items", "-3" },
		{ "seed", "abc" }, { "speed", "-1" }, { "speed", "fast" },
		{ "start", "2026-02-30T09:00:00Z" }, { "start", "yesterday" },
		{ "source", "llrp" }, { "limit", "12x" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vitrine_ctx *ctx = fake_new(1);
		char key[64];

		fake_set(ctx, bad[i][0], bad[i][1]);
		CHECK_EQ_INT(run_plugin(ctx, 1, 50).init_rc, -EINVAL);
		CHECK_EQ_INT(ctx->errors, 1);
		snprintf(key, sizeof(key), "rfid.%s", bad[i][0]);
		CHECK(strstr(ctx->log, key));
		fake_free(ctx);
	}
}

VT_TEST(rfid_declares_its_config_keys)
{
	int n = 0;

	for (const char *const *k = vitrine_plugin.config_keys; *k; k++)
		n++;
	CHECK_EQ_INT(n, 10);
	CHECK_STR(vitrine_plugin.name, "rfid");
	CHECK_EQ_INT(vitrine_plugin.struct_size, sizeof(struct vitrine_plugin));
}

VT_TEST_MAIN()
