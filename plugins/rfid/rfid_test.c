/*
 * plugins/rfid/rfid_test.c - tests for the SGTIN-96 codec, the simulated
 * readers and the rfid plugin.
 *
 * The plugin is linked in directly and driven through `vitrine_plugin` with a
 * fake host (plugins/common/test_host.c) that records every emitted reading,
 * the monotonic time it was emitted at, and every log line; the test moves
 * its clock by hand.
 */
#include <vitrine/plugin.h>

#include "sgtin96.h"
#include "source.h"
#include "vt_test.h"

#include "common/test_host.h"

#include <errno.h>

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
	CHECK(vp_same_seed_same_readings(&vitrine_plugin, "3000", "2"));
}

VT_TEST(rfid_limit_is_exact)
{
	struct vitrine_ctx *ctx = vp_fake_new(2000);
	struct vp_run_result res;

	vp_fake_set(ctx, "limit", "1234");
	vp_fake_set(ctx, "burst", "100");
	res = vp_run_plugin(&vitrine_plugin, ctx, 100, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(res.calls, 13);	/* 12 full bursts, then 34 and done */
	CHECK_EQ_INT(ctx->n, 1234);
	vp_fake_free(ctx);
}

VT_TEST(rfid_failures_lose_and_repeat_nothing)
{
	CHECK(vp_failures_lose_nothing(&vitrine_plugin, "2000", "150", -12));
}

VT_TEST(rfid_readings_are_in_range)
{
	struct vitrine_ctx *ctx = vp_fake_new(6000);
	int64_t prev = INT64_MIN;

	vp_fake_set(ctx, "limit", "6000");
	vp_fake_set(ctx, "readers", "3");
	vp_fake_set(ctx, "antennas", "3");
	vp_fake_set(ctx, "items", "300");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
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
	vp_fake_free(ctx);
}

VT_TEST(rfid_drops_non_sgtin_reports_and_says_so)
{
	struct vitrine_ctx *ctx = vp_fake_new(5000);

	vp_fake_set(ctx, "limit", "5000");
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->n, 5000);
	CHECK(strstr(ctx->log, "not SGTIN-96"));
	CHECK(!strstr(ctx->log, " 0 non-SGTIN-96"));
	vp_fake_free(ctx);
}

VT_TEST(rfid_speed_paces_readings_on_the_simulated_clock)
{
	struct vitrine_ctx *fast = vp_fake_new(4000), *paced = vp_fake_new(4000);
	const int64_t start = INT64_C(1795597200000);	/* 2026-11-25T09:00:00Z */
	struct vp_run_result res;

	vp_fake_set(fast, "limit", "400");
	vp_fake_set(paced, "limit", "400");
	vp_fake_set(paced, "speed", "60");
	vp_fake_set(fast, "items", "20");	/* about 25 reads per 10 s round */
	vp_fake_set(paced, "items", "20");
	CHECK(vp_run_plugin(&vitrine_plugin, fast, 1000, 50).finished);
	/* 20 calls, 100 ms apart: 2 real s = 120 simulated s. */
	res = vp_run_plugin(&vitrine_plugin, paced, 20, 100);
	CHECK(!res.finished);
	CHECK(paced->n > 0 && paced->n < 400);
	CHECK(paced->readings[paced->n - 1].time_ms <= start + 120000);
	CHECK(!memcmp(paced->readings, fast->readings,
		      paced->n * sizeof(*paced->readings)));
	vp_fake_free(fast);
	vp_fake_free(paced);
}

VT_TEST(rfid_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "antennas", "5" }, { "readers", "0" }, { "items", "-3" },
		{ "seed", "abc" }, { "speed", "-1" }, { "speed", "fast" },
		{ "start", "2026-02-30T09:00:00Z" }, { "start", "yesterday" },
		{ "source", "llrp" }, { "limit", "12x" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vp_rejects_config(&vitrine_plugin, bad[i][0], bad[i][1]));
}

/* ---- canary tags (test key rfid.canary) ---------------------------------- */

/* GTIN 70614141123451, serials 187598700526 and 124921732674; GTIN
 * 08012345678990, serial 251228068653: products not in the catalogue. */
#define CANARY_EPCS "3034257BF6B7A66BADC0FFEE, 3034257bf6b7a65d15ea5e42,3029DD92B14E18FA7E5C1B2D"
static const struct {
	const char *gtin;
	uint64_t serial;
} canaries[] = {
	{ "70614141123451", UINT64_C(187598700526) },
	{ "70614141123451", UINT64_C(124921732674) },
	{ "08012345678990", UINT64_C(251228068653) },
};

static size_t canary_reads(const struct vitrine_ctx *ctx, size_t i)
{
	size_t n = 0;

	for (size_t k = 0; k < ctx->n && k < ctx->cap; k++)
		n += !strcmp(ctx->readings[k].u.rfid.gtin, canaries[i].gtin) &&
		     ctx->readings[k].u.rfid.serial == canaries[i].serial;
	return n;
}

VT_TEST(rfid_canary_tags_are_read_every_round)
{
	struct vitrine_ctx *ctx = vp_fake_new(3000);
	int64_t span_ms;

	vp_fake_set(ctx, "limit", "3000");
	vp_fake_set(ctx, "readers", "2");
	vp_fake_set(ctx, "canary", CANARY_EPCS);
	CHECK(vp_run_plugin(&vitrine_plugin, ctx, 1000, 50).finished);
	CHECK_EQ_INT(ctx->errors, 0);
	CHECK(strstr(ctx->log, "3 canary tags"));
	span_ms = ctx->readings[ctx->n - 1].time_ms - ctx->readings[0].time_ms;
	CHECK(span_ms > 60000);
	/* One round every 10 s, each canary read at least once per round. */
	for (size_t i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++)
		CHECK(canary_reads(ctx, i) >= (size_t)(span_ms / 10000));
	vp_fake_free(ctx);
}

VT_TEST(rfid_canary_keeps_the_simulation_deterministic)
{
	struct vitrine_ctx *a = vp_fake_new(2000), *b = vp_fake_new(2000);
	struct vitrine_ctx *plain = vp_fake_new(2000);

	vp_fake_set(a, "limit", "2000");
	vp_fake_set(b, "limit", "2000");
	vp_fake_set(plain, "limit", "2000");
	vp_fake_set(a, "canary", CANARY_EPCS);
	vp_fake_set(b, "canary", CANARY_EPCS);
	CHECK(vp_run_plugin(&vitrine_plugin, a, 1000, 50).finished);
	CHECK(vp_run_plugin(&vitrine_plugin, b, 1000, 50).finished);
	CHECK(vp_run_plugin(&vitrine_plugin, plain, 1000, 50).finished);
	CHECK(vp_same_readings(a, b));
	CHECK(!vp_same_readings(a, plain));
	CHECK_EQ_INT(canary_reads(plain, 0), 0);
	vp_fake_free(a);
	vp_fake_free(b);
	vp_fake_free(plain);
}

VT_TEST(rfid_rejects_bad_canary)
{
	static const char *const bad[] = {
		"3034257BF6B7A66BADC0FFE",		/* 23 digits */
		"3034257BF6B7A66BADC0FFEE0",		/* 25 digits */
		"3034257BF6B7A66BADC0FFEG",		/* not hex */
		"3034257BF6B7 A66BADC0FFEE",		/* blank inside */
		"3534257BF6B7A66BADC0FFEE",		/* GID-96 header */
		"303C257BF6B7A66BADC0FFEE",		/* partition 7 */
		"3034257BF6B7A66BADC0FFEE,",		/* empty entry */
		"",
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,"
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,"
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,"
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,"
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE,"
		"3034257BF6B7A66BADC0FFEE,3034257BF6B7A66BADC0FFEE",	/* 17 */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(vp_rejects_config(&vitrine_plugin, "canary", bad[i]));
}

VT_TEST(rfid_canary_error_names_the_entry_not_the_epc)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);

	vp_fake_set(ctx, "canary", "3034257BF6B7A66BADC0FFEE,3534257BF6B7A66BADC0FFEE");
	CHECK_EQ_INT(vp_run_plugin(&vitrine_plugin, ctx, 1, 50).init_rc, -EINVAL);
	CHECK(strstr(ctx->log, "rfid.canary entry 2 is invalid"));
	CHECK(!strstr(ctx->log, "BADC0FFEE"));
	vp_fake_free(ctx);
}

VT_TEST(rfid_declares_its_config_keys)
{
	int n = 0;

	for (const char *const *k = vitrine_plugin.config_keys; *k; k++)
		n++;
	CHECK_EQ_INT(n, 18);
	CHECK_STR(vitrine_plugin.name, "rfid");
	CHECK_EQ_INT(vitrine_plugin.struct_size, sizeof(struct vitrine_plugin));
}

VT_TEST_MAIN()
