/*
 * fuzz_llrp.c - libFuzzer target for the rfid plugin's LLRP codec
 * (plugins/rfid/llrp.c). Everything a reader on the shop network sends goes
 * through these parsers.
 *
 * Input: a byte stream as it would arrive on the TCP connection. It is cut
 * into messages by their headers as source_llrp.c does (a header that does
 * not parse, or a length past the end, ends the stream), and each body goes
 * to the parser of its type: RO_ACCESS_REPORT to llrp_report_next() until
 * the end, READER_EVENT_NOTIFICATION to llrp_parse_event(),
 * GET_READER_CAPABILITIES_RESPONSE to llrp_parse_capabilities(), any other
 * type to llrp_parse_status().
 *
 * Checked, with abort() on failure:
 * - every return code is one the header promises;
 * - llrp_report_next() moves its offset forward and never past the body;
 * - a tag's EPC length fits its buffer; texts are printable ASCII and
 *   NUL-terminated within their arrays.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/rfid/llrp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_printable(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

static void fuzz_report(const uint8_t *body, size_t len)
{
	struct llrp_tag tag;
	size_t off = 0, before;
	int rc;

	do {
		before = off;
		rc = llrp_report_next(body, len, &off, &tag);
		if (rc != 1 && rc != 0 && rc != -EPROTO)
			abort();
		if (off > len || (rc == 1 && off <= before))
			abort();
		if (rc == 1 && (tag.epc_bits + 7) / 8 > LLRP_EPC_MAX_BYTES)
			abort();
	} while (rc == 1);
}

static void fuzz_body(uint16_t type, const uint8_t *body, size_t len)
{
	struct llrp_status st;
	struct llrp_capabilities caps;
	struct llrp_event ev;
	int rc;

	switch (type) {
	case LLRP_RO_ACCESS_REPORT:
		fuzz_report(body, len);
		return;
	case LLRP_READER_EVENT_NOTIFICATION:
		rc = llrp_parse_event(body, len, &ev);
		break;
	case LLRP_GET_READER_CAPABILITIES_RESPONSE:
		rc = llrp_parse_capabilities(body, len, &st, &caps);
		if (!rc) {
			fuzz_printable(st.text, sizeof(st.text));
			fuzz_printable(caps.firmware, sizeof(caps.firmware));
		}
		break;
	default:
		rc = llrp_parse_status(body, len, &st);
		if (!rc)
			fuzz_printable(st.text, sizeof(st.text));
		break;
	}
	if (rc != 0 && rc != -EPROTO)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct llrp_header h;
	char name[16];

	while (size >= LLRP_HEADER_LEN) {
		int rc = llrp_header_parse(data, size, &h);

		if (rc == -EPROTO || h.length > size)
			break;
		if (rc)
			abort();
		fuzz_body(h.type, data + LLRP_HEADER_LEN, h.length - LLRP_HEADER_LEN);
		if (!llrp_msg_name(h.type, name, sizeof(name)))
			abort();
		data += h.length;
		size -= h.length;
	}
	return 0;
}
