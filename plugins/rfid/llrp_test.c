/*
 * plugins/rfid/llrp_test.c - tests of the LLRP codec (llrp.c): the bytes of
 * the client's requests, and the parsing of reader messages, well-formed
 * and broken. Linked into plugin_rfid_test with rfid_test.c.
 */
#include "llrp.h"
#include "vt_test.h"

#include <errno.h>

static int hexeq(const uint8_t *buf, int len, const char *hex)
{
	char out[1024];

	if (len < 0 || (size_t)len * 2 >= sizeof(out))
		return 0;
	for (int i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02X", buf[i]);
	if (strcmp(out, hex))
		fprintf(stderr, "got      %s\nexpected %s\n", out, hex);
	return !strcmp(out, hex);
}

VT_TEST(llrp_header_carries_version_type_length_and_id)
{
	uint8_t buf[64];
	struct llrp_header h;
	int n = llrp_build_rospec_op(buf, sizeof(buf), LLRP_START_ROSPEC, 0x01020304, 7601);

	/* 0x0416 = version 1 << 10 | type 22; length 14; id; ROSpecID 7601 */
	CHECK(hexeq(buf, n, "04160000000E0102030400001DB1"));
	CHECK_EQ_INT(llrp_header_parse(buf, (size_t)n, &h), 0);
	CHECK_EQ_INT(h.type, LLRP_START_ROSPEC);
	CHECK_EQ_INT(h.length, 14);
	CHECK_EQ_INT(h.id, 0x01020304);
	CHECK_EQ_INT(llrp_header_parse(buf, 9, &h), -EAGAIN);
	buf[0] = 0x08;		/* version 2 (LLRP 1.1) */
	CHECK_EQ_INT(llrp_header_parse(buf, (size_t)n, &h), -EPROTO);
	buf[0] = 0x04;
	buf[5] = 9;		/* shorter than a header */
	CHECK_EQ_INT(llrp_header_parse(buf, (size_t)n, &h), -EPROTO);
}

VT_TEST(llrp_add_rospec_is_laid_out_as_the_spec_says)
{
	uint8_t buf[256];
	int n = llrp_build_add_rospec(buf, sizeof(buf), 5, 7601, 1);

	CHECK(hexeq(buf, n,
		    "0414" "0000004B" "00000005"	/* ADD_ROSPEC, 75 bytes, id 5 */
		    "00B10041" "00001DB1" "00" "00"	/* ROSpec 65, id, prio, disabled */
		    "00B20012"				/* ROBoundarySpec 18 */
		    "00B30005" "00"			/*  start trigger: null */
		    "00B60009" "00" "00000000"		/*  stop trigger: null */
		    "00B70018" "0001" "0000"		/* AISpec 24, 1 antenna: all */
		    "00B80009" "00" "00000000"		/*  AISpec stop: null */
		    "00BA0007" "0001" "01"		/*  InventoryParameterSpec, C1G2 */
		    "00ED000D" "02" "0001"		/* ROReportSpec: N tags or end, N=1 */
		    "00EE0006" "1780"));		/*  selector: ant, rssi, first, last, count */
	CHECK_EQ_INT(llrp_build_add_rospec(buf, 60, 5, 7601, 1), -ENOSPC);
}

VT_TEST(llrp_keepalive_spec_and_capability_request)
{
	uint8_t buf[64];

	CHECK(hexeq(buf, llrp_build_set_config(buf, sizeof(buf), 2, 5000),
		    "0403" "00000014" "00000002" "00" "00DC0009" "01" "00001388"));
	CHECK(hexeq(buf, llrp_build_get_capabilities(buf, sizeof(buf), 1),
		    "0401" "0000000B" "00000001" "01"));
	CHECK(hexeq(buf, llrp_build_empty(buf, sizeof(buf), LLRP_KEEPALIVE_ACK, 9),
		    "0448" "0000000A" "00000009"));
}

/* An RO_ACCESS_REPORT body with the given TagReportData contents. */
static size_t report(uint8_t *buf, size_t cap, const char *const *tags, int ntags)
{
	struct llrp_writer w;

	llrp_w_init(&w, buf, cap);
	for (int i = 0; i < ntags; i++) {
		size_t p = llrp_w_tlv_begin(&w, LLRP_P_TAG_REPORT_DATA);

		for (const char *h = tags[i]; h[0] && h[1]; h += 2) {
			unsigned v;

			sscanf(h, "%2x", &v);
			llrp_w_u8(&w, (uint8_t)v);
		}
		llrp_w_tlv_end(&w, p);
	}
	return (size_t)llrp_w_finish(&w);
}

VT_TEST(llrp_report_yields_each_tag_with_its_fields)
{
	static const char *const tags[] = {
		/* EPC-96, antenna 2, RSSI -52, first seen UTC, seen 3 */
		"8D3074257BF7194E4000001A85" "810002" "86CC" "820006465D6F8A7C00" "880003",
		/* EPCData 128 bits, antenna 1, uptime */
		"00F10016" "0080" "E2801160600002054E3A3B1C5D6E7F80" "810001"
		"830000000000002710",
	};
	uint8_t buf[256];
	size_t len = report(buf, sizeof(buf), tags, 2), off = 0;
	struct llrp_tag t;

	CHECK_EQ_INT(llrp_report_next(buf, len, &off, &t), 1);
	CHECK_EQ_INT(t.epc_bits, 96);
	CHECK_EQ_INT(t.epc[0], 0x30);
	CHECK_EQ_INT(t.epc[11], 0x85);
	CHECK_EQ_INT(t.antenna, 2);
	CHECK_EQ_INT(t.has_rssi, 1);
	CHECK_EQ_INT(t.peak_rssi, -52);
	CHECK_EQ_INT(t.first_utc_us, 0x0006465D6F8A7C00ull);
	CHECK_EQ_INT(t.seen_count, 3);
	CHECK_EQ_INT(llrp_report_next(buf, len, &off, &t), 1);
	CHECK_EQ_INT(t.epc_bits, 128);
	CHECK_EQ_INT(t.epc[0], 0xE2);
	CHECK_EQ_INT(t.antenna, 1);
	CHECK_EQ_INT(t.has_rssi, 0);
	CHECK_EQ_INT(t.first_uptime_us, 10000);
	CHECK_EQ_INT(t.first_utc_us, 0);
	CHECK_EQ_INT(llrp_report_next(buf, len, &off, &t), 0);
}

VT_TEST(llrp_report_refuses_broken_tag_data)
{
	static const char *const no_epc[] = { "810002" "86CC" };
	static const char *const unknown_tv[] = { "8D3074257BF7194E4000001A85" "FF00" };
	static const char *const long_epc[] = { "00F10006" "0200" };	/* 512 bits */
	static const char *const short_epc[] = { "00F10008" "0060" "3074" }; /* 96 bits, 2 bytes */
	static const char *const cut_tv[] = { "8D3074257BF7" };
	const char *const *cases[] = { no_epc, unknown_tv, long_epc, short_epc, cut_tv };
	uint8_t buf[256];
	struct llrp_tag t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = report(buf, sizeof(buf), cases[i], 1), off = 0;

		if (llrp_report_next(buf, len, &off, &t) != -EPROTO)
			fprintf(stderr, "case %zu accepted\n", i);
		CHECK_EQ_INT(llrp_report_next(buf, len, &(size_t){ 0 }, &t), -EPROTO);
	}
}

VT_TEST(llrp_param_walk_checks_every_length)
{
	/* TLV of length 3 (< its own header), of a length past the end, and a
	 * TLV type below 128. */
	static const uint8_t below_header[] = { 0x00, 0xF0, 0x00, 0x03 };
	static const uint8_t past_end[] = { 0x00, 0xF0, 0x00, 0x08, 0x81, 0x00 };
	static const uint8_t low_type[] = { 0x00, 0x05, 0x00, 0x04 };
	struct llrp_param p;
	size_t off;

	off = 0;
	CHECK_EQ_INT(llrp_param_next(below_header, sizeof(below_header), &off, &p), -EPROTO);
	off = 0;
	CHECK_EQ_INT(llrp_param_next(past_end, sizeof(past_end), &off, &p), -EPROTO);
	off = 0;
	CHECK_EQ_INT(llrp_param_next(low_type, sizeof(low_type), &off, &p), -EPROTO);
	off = 0;
	CHECK_EQ_INT(llrp_param_next(low_type, 3, &off, &p), -EPROTO);
	off = sizeof(low_type);
	CHECK_EQ_INT(llrp_param_next(low_type, sizeof(low_type), &off, &p), 0);
}

VT_TEST(llrp_status_and_event_parse)
{
	uint8_t buf[128];
	struct llrp_writer w;
	struct llrp_status st;
	struct llrp_event ev;
	size_t p, q;

	llrp_w_init(&w, buf, sizeof(buf));
	p = llrp_w_tlv_begin(&w, LLRP_P_LLRP_STATUS);
	llrp_w_u16(&w, 100);
	llrp_w_u16(&w, 6);
	llrp_w_bytes(&w, "bad\x01id", 6);
	llrp_w_tlv_end(&w, p);
	CHECK_EQ_INT(llrp_parse_status(buf, w.len, &st), 0);
	CHECK_EQ_INT(st.code, 100);
	CHECK_STR(st.text, "bad?id");
	buf[7] = 60;		/* description longer than the parameter */
	CHECK_EQ_INT(llrp_parse_status(buf, w.len, &st), -EPROTO);
	CHECK_EQ_INT(llrp_parse_status(buf, 0, &st), -EPROTO);

	llrp_w_init(&w, buf, sizeof(buf));
	p = llrp_w_tlv_begin(&w, LLRP_P_READER_EVENT_NOTIFICATION_DATA);
	q = llrp_w_tlv_begin(&w, LLRP_P_UPTIME);
	llrp_w_u64(&w, 123456789);
	llrp_w_tlv_end(&w, q);
	q = llrp_w_tlv_begin(&w, LLRP_P_CONNECTION_ATTEMPT_EVENT);
	llrp_w_u16(&w, LLRP_CONN_CLIENT_INITIATED_EXISTS);
	llrp_w_tlv_end(&w, q);
	llrp_w_tlv_end(&w, p);
	CHECK_EQ_INT(llrp_parse_event(buf, w.len, &ev), 0);
	CHECK_EQ_INT(ev.uptime_us, 123456789);
	CHECK_EQ_INT(ev.conn_attempt, 1);
	CHECK_EQ_INT(ev.conn_status, LLRP_CONN_CLIENT_INITIATED_EXISTS);
	CHECK_EQ_INT(llrp_parse_event(buf, w.len - 1, &ev), -EPROTO);
}
