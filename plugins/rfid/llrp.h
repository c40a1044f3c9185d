/*
 * plugins/rfid/llrp.h - the binary encoding of LLRP 1.0.1 (EPCglobal Low
 * Level Reader Protocol, the protocol of fixed UHF readers such as Impinj
 * Speedway/R700 and Zebra FX), as much of it as a tag-reading client needs:
 * message framing, the requests the client sends, the parsing of what a
 * reader sends back, and the few reader-side messages the simulator
 * (tools/llrp-sim) and the tests build.
 *
 * Pure: no I/O, no allocation, no clock. Every parser takes a buffer and its
 * length, never reads outside it, and returns -EPROTO for anything that does
 * not follow the encoding (tests/fuzz/fuzz_llrp.c).
 *
 * Wire format (LLRP 1.0.1, section 14, all big-endian):
 *   message   = 3 bits reserved | 3 bits version (1) | 10 bits type,
 *               u32 length (header included), u32 message id, body
 *   TLV param = 6 bits reserved | 10 bits type, u16 length (header
 *               included), value; types 128..2047
 *   TV param  = 1 | 7 bits type, value of a length fixed by the type;
 *               types 1..127
 */
#ifndef VT_RFID_LLRP_H
#define VT_RFID_LLRP_H

#include <stddef.h>
#include <stdint.h>

#define LLRP_PORT 5084
#define LLRP_VERSION 1		/* 1.0.1 */
#define LLRP_HEADER_LEN 10

enum llrp_msg_type {
	LLRP_GET_READER_CAPABILITIES = 1,
	LLRP_SET_READER_CONFIG = 3,
	LLRP_CLOSE_CONNECTION_RESPONSE = 4,
	LLRP_GET_READER_CAPABILITIES_RESPONSE = 11,
	LLRP_SET_READER_CONFIG_RESPONSE = 13,
	LLRP_CLOSE_CONNECTION = 14,
	LLRP_ADD_ROSPEC = 20,
	LLRP_DELETE_ROSPEC = 21,
	LLRP_START_ROSPEC = 22,
	LLRP_STOP_ROSPEC = 23,
	LLRP_ENABLE_ROSPEC = 24,
	LLRP_ADD_ROSPEC_RESPONSE = 30,
	LLRP_DELETE_ROSPEC_RESPONSE = 31,
	LLRP_START_ROSPEC_RESPONSE = 32,
	LLRP_STOP_ROSPEC_RESPONSE = 33,
	LLRP_ENABLE_ROSPEC_RESPONSE = 34,
	LLRP_RO_ACCESS_REPORT = 61,
	LLRP_KEEPALIVE = 62,
	LLRP_READER_EVENT_NOTIFICATION = 63,
	LLRP_KEEPALIVE_ACK = 72,
	LLRP_ERROR_MESSAGE = 100,
	LLRP_CUSTOM_MESSAGE = 1023,
};

/* The response type of a request: its type + 10 (14 -> 4 for CLOSE). */
#define LLRP_RESPONSE_OF(t) ((t) == LLRP_CLOSE_CONNECTION ? LLRP_CLOSE_CONNECTION_RESPONSE : (t) + 10)

enum llrp_param_type {
	/* TV */
	LLRP_P_ANTENNA_ID = 1,
	LLRP_P_FIRST_SEEN_UTC = 2,
	LLRP_P_FIRST_SEEN_UPTIME = 3,
	LLRP_P_LAST_SEEN_UTC = 4,
	LLRP_P_LAST_SEEN_UPTIME = 5,
	LLRP_P_PEAK_RSSI = 6,
	LLRP_P_TAG_SEEN_COUNT = 8,
	LLRP_P_EPC_96 = 13,
	/* TLV */
	LLRP_P_UTC_TIMESTAMP = 128,
	LLRP_P_UPTIME = 129,
	LLRP_P_GENERAL_DEVICE_CAPABILITIES = 137,
	LLRP_P_ROSPEC = 177,
	LLRP_P_RO_BOUNDARY_SPEC = 178,
	LLRP_P_ROSPEC_START_TRIGGER = 179,
	LLRP_P_ROSPEC_STOP_TRIGGER = 182,
	LLRP_P_AI_SPEC = 183,
	LLRP_P_AI_SPEC_STOP_TRIGGER = 184,
	LLRP_P_INVENTORY_PARAMETER_SPEC = 186,
	LLRP_P_KEEPALIVE_SPEC = 220,
	LLRP_P_RO_REPORT_SPEC = 237,
	LLRP_P_TAG_REPORT_CONTENT_SELECTOR = 238,
	LLRP_P_TAG_REPORT_DATA = 240,
	LLRP_P_EPC_DATA = 241,
	LLRP_P_READER_EVENT_NOTIFICATION_DATA = 246,
	LLRP_P_CONNECTION_ATTEMPT_EVENT = 256,
	LLRP_P_CONNECTION_CLOSE_EVENT = 257,
	LLRP_P_LLRP_STATUS = 287,
	LLRP_P_CUSTOM = 1023,
};

/* ConnectionAttemptEvent status (14.2.6.x): 0 is the only one that lets a
 * client in. */
enum llrp_conn_status {
	LLRP_CONN_SUCCESS = 0,
	LLRP_CONN_READER_INITIATED_EXISTS = 1,
	LLRP_CONN_CLIENT_INITIATED_EXISTS = 2,
	LLRP_CONN_OTHER_FAILURE = 3,
	LLRP_CONN_ANOTHER_ATTEMPTED = 4,
};

struct llrp_header {
	uint16_t type;		/* enum llrp_msg_type */
	uint8_t version;
	uint32_t length;	/* of the whole message, header included */
	uint32_t id;
};

/* Reads a header from the first LLRP_HEADER_LEN bytes of buf. Returns 0,
 * -EAGAIN when len < LLRP_HEADER_LEN, -EPROTO when the version is not 1 or
 * the length is below LLRP_HEADER_LEN. */
int llrp_header_parse(const uint8_t *buf, size_t len, struct llrp_header *h);

/* ---- building messages ---------------------------------------------------- */

/* A writer over a caller's buffer: overflow is remembered, not reported at
 * each call; llrp_w_finish() reports it. */
struct llrp_writer {
	uint8_t *buf;		/* borrowed */
	size_t cap, len;
	int overflow;
};

void llrp_w_init(struct llrp_writer *w, uint8_t *buf, size_t cap);
void llrp_w_u8(struct llrp_writer *w, uint8_t v);
void llrp_w_u16(struct llrp_writer *w, uint16_t v);
void llrp_w_u32(struct llrp_writer *w, uint32_t v);
void llrp_w_u64(struct llrp_writer *w, uint64_t v);
void llrp_w_bytes(struct llrp_writer *w, const void *p, size_t n);
/* A message or TLV parameter: begin returns where its length goes, end
 * writes it. */
size_t llrp_w_msg_begin(struct llrp_writer *w, uint16_t type, uint32_t id);
void llrp_w_msg_end(struct llrp_writer *w, size_t at);
size_t llrp_w_tlv_begin(struct llrp_writer *w, uint16_t type);
void llrp_w_tlv_end(struct llrp_writer *w, size_t at);
/* The number of bytes written, or -ENOSPC when the buffer was too small. */
int llrp_w_finish(const struct llrp_writer *w);

/* A message with an empty body (KEEPALIVE, KEEPALIVE_ACK, CLOSE_CONNECTION,
 * ENABLE_EVENTS_AND_REPORTS). Each builder returns the message's length in
 * buf, or -ENOSPC. */
int llrp_build_empty(uint8_t *buf, size_t cap, uint16_t type, uint32_t id);

/* GET_READER_CAPABILITIES asking for the general device capabilities. */
int llrp_build_get_capabilities(uint8_t *buf, size_t cap, uint32_t id);

/* SET_READER_CONFIG: no factory reset, a periodic KeepaliveSpec. */
int llrp_build_set_config(uint8_t *buf, size_t cap, uint32_t id,
			  uint32_t keepalive_ms);

/* DELETE_ROSPEC, ENABLE_ROSPEC, START_ROSPEC or STOP_ROSPEC of one ROSpec
 * (DELETE with rospec_id 0 deletes them all). */
int llrp_build_rospec_op(uint8_t *buf, size_t cap, uint16_t type, uint32_t id,
			 uint32_t rospec_id);

/* ADD_ROSPEC: a disabled ROSpec started by START_ROSPEC and never stopped,
 * one AISpec over all antennas (antenna id 0) running until the ROSpec
 * stops, EPC Class 1 Gen 2, a report after every report_n tags (at least
 * 1) carrying antenna, peak RSSI, first- and last-seen times and the seen
 * count. */
int llrp_build_add_rospec(uint8_t *buf, size_t cap, uint32_t id,
			  uint32_t rospec_id, uint16_t report_n);

/* ---- parsing what a reader sends ----------------------------------------- */

/* One parameter of a message body or of a parameter's value. For a TV
 * parameter value points after its type byte. */
struct llrp_param {
	uint16_t type;
	int tv;
	const uint8_t *value;	/* borrowed from the buffer being walked */
	size_t len;		/* of value */
};

/* The parameter at *off in buf[0..len); advances *off past it. Returns 1,
 * 0 at the end, -EPROTO when it is truncated, its length is impossible or
 * it is a TV parameter of a type whose length this client does not know. */
int llrp_param_next(const uint8_t *buf, size_t len, size_t *off,
		    struct llrp_param *p);

struct llrp_status {
	uint16_t code;		/* 0 = M_Success */
	char text[96];		/* ErrorDescription, printable ASCII only */
};

/* The LLRPStatus among the parameters of a response's (or
 * ERROR_MESSAGE's) body. Returns 0, or -EPROTO when it is missing or
 * malformed. */
int llrp_parse_status(const uint8_t *body, size_t len, struct llrp_status *st);

struct llrp_capabilities {
	uint16_t max_antennas;
	int utc_clock;		/* HasUTCClockCapability */
	uint32_t manufacturer;	/* IANA private enterprise number */
	uint32_t model;
	char firmware[32];	/* printable ASCII only */
};

/* GET_READER_CAPABILITIES_RESPONSE: its status and, when the status is a
 * success, its GeneralDeviceCapabilities. 0 or -EPROTO. */
int llrp_parse_capabilities(const uint8_t *body, size_t len,
			    struct llrp_status *st,
			    struct llrp_capabilities *caps);

struct llrp_event {
	uint64_t utc_us;	/* the notification's UTCTimestamp, or 0 */
	uint64_t uptime_us;	/* or its Uptime, or 0 */
	int conn_attempt;	/* a ConnectionAttemptEvent came: */
	uint16_t conn_status;	/*   its status (enum llrp_conn_status) */
	int conn_close;		/* a ConnectionCloseEvent came */
};

/* READER_EVENT_NOTIFICATION. 0 or -EPROTO. */
int llrp_parse_event(const uint8_t *body, size_t len, struct llrp_event *ev);

#define LLRP_EPC_MAX_BYTES 62	/* the longest EPC of Gen2 (496 bits) */

/* One TagReportData of an RO_ACCESS_REPORT. */
struct llrp_tag {
	uint8_t epc[LLRP_EPC_MAX_BYTES];
	uint16_t epc_bits;
	uint16_t antenna;	/* 0 when absent */
	int has_rssi;
	int8_t peak_rssi;	/* dBm */
	uint16_t seen_count;	/* 0 when absent */
	uint64_t first_utc_us, first_uptime_us;	/* 0 when absent */
	uint64_t last_utc_us, last_uptime_us;
};

/* The next TagReportData of an RO_ACCESS_REPORT's body, from *off (start at
 * 0); advances *off. Returns 1, 0 at the end, -EPROTO when the body or the
 * TagReportData is malformed (no EPC, an EPC longer than 496 bits, ...).
 * Other parameters of the body (RFSurveyReportData, Custom) are skipped. */
int llrp_report_next(const uint8_t *body, size_t len, size_t *off,
		     struct llrp_tag *tag);

/* A name for a message type, for logs ("RO_ACCESS_REPORT", "type 77"). buf
 * holds at least 16 bytes and is used only for unknown types. */
const char *llrp_msg_name(uint16_t type, char *buf, size_t size);

#endif /* VT_RFID_LLRP_H */
