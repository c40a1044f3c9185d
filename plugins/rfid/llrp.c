/*
 * plugins/rfid/llrp.c - the LLRP 1.0.1 binary encoding (llrp.h): framing,
 * builders of the client's requests, parsers of the reader's messages.
 *
 * Type numbers, layouts and TV lengths are those of the LLRP 1.0.1
 * specification (EPCglobal, "Low Level Reader Protocol (LLRP) Version
 * 1.0.1", sections 16 and 17). Parsers walk parameters with
 * llrp_param_next(), which checks every length against what is left.
 */
#include "llrp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- big-endian reads ------------------------------------------------------ */

static uint16_t llrp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t llrp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t llrp_get64(const uint8_t *p)
{
	return (uint64_t)llrp_get32(p) << 32 | llrp_get32(p + 4);
}

int llrp_header_parse(const uint8_t *buf, size_t len, struct llrp_header *h)
{
	uint16_t first;

	if (len < LLRP_HEADER_LEN)
		return -EAGAIN;
	first = llrp_get16(buf);
	h->version = (uint8_t)(first >> 10 & 7);
	h->type = first & 0x3ff;
	h->length = llrp_get32(buf + 2);
	h->id = llrp_get32(buf + 6);
	if (h->version != LLRP_VERSION || h->length < LLRP_HEADER_LEN)
		return -EPROTO;
	return 0;
}

/* ---- the writer --------------------------------------------------------------- */

void llrp_w_init(struct llrp_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = 0;
}

void llrp_w_bytes(struct llrp_writer *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = 1;
		return;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void llrp_w_u8(struct llrp_writer *w, uint8_t v)
{
	llrp_w_bytes(w, &v, 1);
}

void llrp_w_u16(struct llrp_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	llrp_w_bytes(w, b, sizeof(b));
}

void llrp_w_u32(struct llrp_writer *w, uint32_t v)
{
	llrp_w_u16(w, (uint16_t)(v >> 16));
	llrp_w_u16(w, (uint16_t)v);
}

void llrp_w_u64(struct llrp_writer *w, uint64_t v)
{
	llrp_w_u32(w, (uint32_t)(v >> 32));
	llrp_w_u32(w, (uint32_t)v);
}

size_t llrp_w_msg_begin(struct llrp_writer *w, uint16_t type, uint32_t id)
{
	size_t at = w->len;

	llrp_w_u16(w, (uint16_t)(LLRP_VERSION << 10 | (type & 0x3ff)));
	llrp_w_u32(w, 0);	/* length, written by llrp_w_msg_end() */
	llrp_w_u32(w, id);
	return at;
}

void llrp_w_msg_end(struct llrp_writer *w, size_t at)
{
	uint32_t n = (uint32_t)(w->len - at);

	if (w->overflow)
		return;
	w->buf[at + 2] = (uint8_t)(n >> 24);
	w->buf[at + 3] = (uint8_t)(n >> 16);
	w->buf[at + 4] = (uint8_t)(n >> 8);
	w->buf[at + 5] = (uint8_t)n;
}

size_t llrp_w_tlv_begin(struct llrp_writer *w, uint16_t type)
{
	size_t at = w->len;

	llrp_w_u16(w, type & 0x3ff);
	llrp_w_u16(w, 0);	/* length, written by llrp_w_tlv_end() */
	return at;
}

void llrp_w_tlv_end(struct llrp_writer *w, size_t at)
{
	size_t n = w->len - at;

	if (w->overflow)
		return;
	if (n > UINT16_MAX) {
		w->overflow = 1;
		return;
	}
	w->buf[at + 2] = (uint8_t)(n >> 8);
	w->buf[at + 3] = (uint8_t)n;
}

int llrp_w_finish(const struct llrp_writer *w)
{
	if (w->overflow || w->len > INT32_MAX)
		return -ENOSPC;
	return (int)w->len;
}

/* ---- the client's requests ---------------------------------------------------- */

int llrp_build_empty(uint8_t *buf, size_t cap, uint16_t type, uint32_t id)
{
	struct llrp_writer w;

	llrp_w_init(&w, buf, cap);
	llrp_w_msg_end(&w, llrp_w_msg_begin(&w, type, id));
	return llrp_w_finish(&w);
}

int llrp_build_get_capabilities(uint8_t *buf, size_t cap, uint32_t id)
{
	struct llrp_writer w;
	size_t m;

	llrp_w_init(&w, buf, cap);
	m = llrp_w_msg_begin(&w, LLRP_GET_READER_CAPABILITIES, id);
	llrp_w_u8(&w, 1);	/* RequestedData: General Device Capabilities */
	llrp_w_msg_end(&w, m);
	return llrp_w_finish(&w);
}

int llrp_build_set_config(uint8_t *buf, size_t cap, uint32_t id,
			  uint32_t keepalive_ms)
{
	struct llrp_writer w;
	size_t m, p;

	llrp_w_init(&w, buf, cap);
	m = llrp_w_msg_begin(&w, LLRP_SET_READER_CONFIG, id);
	llrp_w_u8(&w, 0);	/* ResetToFactoryDefault 0, reserved */
	p = llrp_w_tlv_begin(&w, LLRP_P_KEEPALIVE_SPEC);
	llrp_w_u8(&w, 1);	/* KeepaliveTriggerType: periodic */
	llrp_w_u32(&w, keepalive_ms);
	llrp_w_tlv_end(&w, p);
	llrp_w_msg_end(&w, m);
	return llrp_w_finish(&w);
}

int llrp_build_rospec_op(uint8_t *buf, size_t cap, uint16_t type, uint32_t id,
			 uint32_t rospec_id)
{
	struct llrp_writer w;
	size_t m;

	llrp_w_init(&w, buf, cap);
	m = llrp_w_msg_begin(&w, type, id);
	llrp_w_u32(&w, rospec_id);
	llrp_w_msg_end(&w, m);
	return llrp_w_finish(&w);
}

/* TagReportContentSelector flags, from the most significant bit. */
#define LLRP_SEL_ANTENNA_ID (1u << 12)
#define LLRP_SEL_PEAK_RSSI (1u << 10)
#define LLRP_SEL_FIRST_SEEN (1u << 9)
#define LLRP_SEL_LAST_SEEN (1u << 8)
#define LLRP_SEL_SEEN_COUNT (1u << 7)

static void llrp_w_boundary(struct llrp_writer *w)
{
	size_t b = llrp_w_tlv_begin(w, LLRP_P_RO_BOUNDARY_SPEC), t;

	t = llrp_w_tlv_begin(w, LLRP_P_ROSPEC_START_TRIGGER);
	llrp_w_u8(w, 0);	/* Null: started by START_ROSPEC */
	llrp_w_tlv_end(w, t);
	t = llrp_w_tlv_begin(w, LLRP_P_ROSPEC_STOP_TRIGGER);
	llrp_w_u8(w, 0);	/* Null: runs until STOP_ROSPEC */
	llrp_w_u32(w, 0);	/* DurationTriggerValue */
	llrp_w_tlv_end(w, t);
	llrp_w_tlv_end(w, b);
}

static void llrp_w_aispec(struct llrp_writer *w)
{
	size_t a = llrp_w_tlv_begin(w, LLRP_P_AI_SPEC), t;

	llrp_w_u16(w, 1);	/* AntennaCount */
	llrp_w_u16(w, 0);	/* AntennaID 0: every antenna */
	t = llrp_w_tlv_begin(w, LLRP_P_AI_SPEC_STOP_TRIGGER);
	llrp_w_u8(w, 0);	/* Null: ends with the ROSpec */
	llrp_w_u32(w, 0);	/* DurationTrigger */
	llrp_w_tlv_end(w, t);
	t = llrp_w_tlv_begin(w, LLRP_P_INVENTORY_PARAMETER_SPEC);
	llrp_w_u16(w, 1);	/* InventoryParameterSpecID */
	llrp_w_u8(w, 1);	/* ProtocolID: EPCGlobal Class 1 Gen 2 */
	llrp_w_tlv_end(w, t);
	llrp_w_tlv_end(w, a);
}

static void llrp_w_report_spec(struct llrp_writer *w, uint16_t report_n)
{
	size_t r = llrp_w_tlv_begin(w, LLRP_P_RO_REPORT_SPEC), s;

	llrp_w_u8(w, 2);	/* Upon N tags or end of ROSpec */
	llrp_w_u16(w, report_n ? report_n : 1);
	s = llrp_w_tlv_begin(w, LLRP_P_TAG_REPORT_CONTENT_SELECTOR);
	llrp_w_u16(w, LLRP_SEL_ANTENNA_ID | LLRP_SEL_PEAK_RSSI |
			      LLRP_SEL_FIRST_SEEN | LLRP_SEL_LAST_SEEN |
			      LLRP_SEL_SEEN_COUNT);
	llrp_w_tlv_end(w, s);
	llrp_w_tlv_end(w, r);
}

int llrp_build_add_rospec(uint8_t *buf, size_t cap, uint32_t id,
			  uint32_t rospec_id, uint16_t report_n)
{
	struct llrp_writer w;
	size_t m, r;

	llrp_w_init(&w, buf, cap);
	m = llrp_w_msg_begin(&w, LLRP_ADD_ROSPEC, id);
	r = llrp_w_tlv_begin(&w, LLRP_P_ROSPEC);
	llrp_w_u32(&w, rospec_id);
	llrp_w_u8(&w, 0);	/* Priority */
	llrp_w_u8(&w, 0);	/* CurrentState: Disabled */
	llrp_w_boundary(&w);
	llrp_w_aispec(&w);
	llrp_w_report_spec(&w, report_n);
	llrp_w_tlv_end(&w, r);
	llrp_w_msg_end(&w, m);
	return llrp_w_finish(&w);
}

/* ---- walking parameters ------------------------------------------------------- */

/* Value length of a TV parameter, or 0 for a type this client cannot
 * skip (LLRP 1.0.1 table 17 and the C1G2 TVs of 16.3). */
static size_t llrp_tv_len(uint16_t type)
{
	switch (type) {
	case LLRP_P_ANTENNA_ID:
	case 7:		/* ChannelIndex */
	case LLRP_P_TAG_SEEN_COUNT:
	case 10:	/* InventoryParameterSpecID */
	case 11:	/* C1G2 CRC */
	case 12:	/* C1G2 PC */
	case 14:	/* SpecIndex */
	case 15:	/* ClientRequestOpSpecResult */
	case 17:	/* OpSpecID */
		return 2;
	case LLRP_P_FIRST_SEEN_UTC:
	case LLRP_P_FIRST_SEEN_UPTIME:
	case LLRP_P_LAST_SEEN_UTC:
	case LLRP_P_LAST_SEEN_UPTIME:
		return 8;
	case LLRP_P_PEAK_RSSI:
		return 1;
	case 9:		/* ROSpecID */
	case 16:	/* AccessSpecID */
	case 18:	/* C1G2SingulationDetails */
		return 4;
	case LLRP_P_EPC_96:
		return 12;
	default:
		return 0;
	}
}

int llrp_param_next(const uint8_t *buf, size_t len, size_t *off,
		    struct llrp_param *p)
{
	size_t at = *off, left;

	if (at >= len)
		return 0;
	left = len - at;
	if (buf[at] & 0x80) {
		p->type = buf[at] & 0x7f;
		p->tv = 1;
		p->len = llrp_tv_len(p->type);
		if (!p->len || p->len > left - 1)
			return -EPROTO;
		p->value = buf + at + 1;
		*off = at + 1 + p->len;
		return 1;
	}
	if (left < 4)
		return -EPROTO;
	p->type = llrp_get16(buf + at) & 0x3ff;
	p->tv = 0;
	p->len = llrp_get16(buf + at + 2);
	if (p->len < 4 || p->len > left || p->type < 128)
		return -EPROTO;
	p->value = buf + at + 4;
	p->len -= 4;
	*off = at + 4 + p->len;
	return 1;
}

/* Copies n bytes of UTF-8 text as printable ASCII ('?' for anything else),
 * truncated to fit out. */
static void llrp_copy_text(char *out, size_t size, const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[i] = '\0';
}

static int llrp_status_value(const struct llrp_param *p, struct llrp_status *st)
{
	size_t n;

	if (p->len < 4)
		return -EPROTO;
	st->code = llrp_get16(p->value);
	n = llrp_get16(p->value + 2);
	if (n > p->len - 4)
		return -EPROTO;
	llrp_copy_text(st->text, sizeof(st->text), p->value + 4, n);
	return 0;
}

int llrp_parse_status(const uint8_t *body, size_t len, struct llrp_status *st)
{
	struct llrp_param p;
	size_t off = 0;
	int rc;

	while ((rc = llrp_param_next(body, len, &off, &p)) == 1)
		if (!p.tv && p.type == LLRP_P_LLRP_STATUS)
			return llrp_status_value(&p, st);
	return -EPROTO;
}

static int llrp_general_caps(const struct llrp_param *p,
			     struct llrp_capabilities *caps)
{
	size_t n;

	/* MaxNumberOfAntennaSupported, flags, manufacturer, model, then the
	 * firmware version as u16 count + UTF-8; sub-parameters follow. */
	if (p->len < 14)
		return -EPROTO;
	caps->max_antennas = llrp_get16(p->value);
	caps->utc_clock = (p->value[2] & 0x40) != 0;
	caps->manufacturer = llrp_get32(p->value + 4);
	caps->model = llrp_get32(p->value + 8);
	n = llrp_get16(p->value + 12);
	if (n > p->len - 14)
		return -EPROTO;
	llrp_copy_text(caps->firmware, sizeof(caps->firmware), p->value + 14, n);
	return 0;
}

int llrp_parse_capabilities(const uint8_t *body, size_t len,
			    struct llrp_status *st,
			    struct llrp_capabilities *caps)
{
	struct llrp_param p;
	size_t off = 0;
	int rc, have_status = 0, have_caps = 0;

	memset(caps, 0, sizeof(*caps));
	while ((rc = llrp_param_next(body, len, &off, &p)) == 1) {
		if (p.tv)
			continue;
		if (p.type == LLRP_P_LLRP_STATUS && !have_status) {
			if (llrp_status_value(&p, st))
				return -EPROTO;
			have_status = 1;
		} else if (p.type == LLRP_P_GENERAL_DEVICE_CAPABILITIES &&
			   !have_caps) {
			if (llrp_general_caps(&p, caps))
				return -EPROTO;
			have_caps = 1;
		}
	}
	if (rc < 0 || !have_status || (st->code == 0 && !have_caps))
		return -EPROTO;
	return 0;
}

static int llrp_event_data(const struct llrp_param *d, struct llrp_event *ev)
{
	struct llrp_param p;
	size_t off = 0;
	int rc;

	while ((rc = llrp_param_next(d->value, d->len, &off, &p)) == 1) {
		if (p.tv)
			return -EPROTO;
		switch (p.type) {
		case LLRP_P_UTC_TIMESTAMP:
		case LLRP_P_UPTIME:
			if (p.len != 8)
				return -EPROTO;
			if (p.type == LLRP_P_UTC_TIMESTAMP)
				ev->utc_us = llrp_get64(p.value);
			else
				ev->uptime_us = llrp_get64(p.value);
			break;
		case LLRP_P_CONNECTION_ATTEMPT_EVENT:
			if (p.len != 2)
				return -EPROTO;
			ev->conn_attempt = 1;
			ev->conn_status = llrp_get16(p.value);
			break;
		case LLRP_P_CONNECTION_CLOSE_EVENT:
			ev->conn_close = 1;
			break;
		default:	/* other events: not a client's concern */
			break;
		}
	}
	return rc;
}

int llrp_parse_event(const uint8_t *body, size_t len, struct llrp_event *ev)
{
	struct llrp_param p;
	size_t off = 0;
	int rc, found = 0;

	memset(ev, 0, sizeof(*ev));
	while ((rc = llrp_param_next(body, len, &off, &p)) == 1) {
		if (p.tv || p.type != LLRP_P_READER_EVENT_NOTIFICATION_DATA)
			continue;
		if (llrp_event_data(&p, ev))
			return -EPROTO;
		found = 1;
	}
	return rc < 0 || !found ? -EPROTO : 0;
}

/* ---- tag reports ------------------------------------------------------------------ */

static int llrp_epc_data(const struct llrp_param *p, struct llrp_tag *tag)
{
	size_t bits, bytes;

	if (p->len < 2)
		return -EPROTO;
	bits = llrp_get16(p->value);
	bytes = (bits + 7) / 8;
	if (bytes > LLRP_EPC_MAX_BYTES || bytes > p->len - 2)
		return -EPROTO;
	memcpy(tag->epc, p->value + 2, bytes);
	tag->epc_bits = (uint16_t)bits;
	return 0;
}

/* One TV field of a TagReportData. */
static void llrp_tag_tv(const struct llrp_param *p, struct llrp_tag *tag)
{
	switch (p->type) {
	case LLRP_P_EPC_96:
		memcpy(tag->epc, p->value, 12);
		tag->epc_bits = 96;
		break;
	case LLRP_P_ANTENNA_ID:
		tag->antenna = llrp_get16(p->value);
		break;
	case LLRP_P_PEAK_RSSI:
		tag->has_rssi = 1;
		tag->peak_rssi = (int8_t)p->value[0];
		break;
	case LLRP_P_TAG_SEEN_COUNT:
		tag->seen_count = llrp_get16(p->value);
		break;
	case LLRP_P_FIRST_SEEN_UTC:
		tag->first_utc_us = llrp_get64(p->value);
		break;
	case LLRP_P_FIRST_SEEN_UPTIME:
		tag->first_uptime_us = llrp_get64(p->value);
		break;
	case LLRP_P_LAST_SEEN_UTC:
		tag->last_utc_us = llrp_get64(p->value);
		break;
	case LLRP_P_LAST_SEEN_UPTIME:
		tag->last_uptime_us = llrp_get64(p->value);
		break;
	default:	/* ROSpecID, ChannelIndex, C1G2 PC/CRC, ... */
		break;
	}
}

static int llrp_tag_data(const struct llrp_param *d, struct llrp_tag *tag)
{
	struct llrp_param p;
	size_t off = 0;
	int rc, have_epc = 0;

	memset(tag, 0, sizeof(*tag));
	while ((rc = llrp_param_next(d->value, d->len, &off, &p)) == 1) {
		if (p.tv) {
			have_epc |= p.type == LLRP_P_EPC_96;
			llrp_tag_tv(&p, tag);
		} else if (p.type == LLRP_P_EPC_DATA) {
			if (llrp_epc_data(&p, tag))
				return -EPROTO;
			have_epc = 1;
		}
	}
	return rc < 0 || !have_epc ? -EPROTO : 0;
}

int llrp_report_next(const uint8_t *body, size_t len, size_t *off,
		     struct llrp_tag *tag)
{
	struct llrp_param p;
	int rc;

	while ((rc = llrp_param_next(body, len, off, &p)) == 1) {
		if (p.tv)
			return -EPROTO;
		if (p.type == LLRP_P_TAG_REPORT_DATA)
			return llrp_tag_data(&p, tag) ? -EPROTO : 1;
	}
	return rc;
}

const char *llrp_msg_name(uint16_t type, char *buf, size_t size)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ LLRP_GET_READER_CAPABILITIES, "GET_READER_CAPABILITIES" },
		{ LLRP_SET_READER_CONFIG, "SET_READER_CONFIG" },
		{ LLRP_CLOSE_CONNECTION_RESPONSE, "CLOSE_CONNECTION_RESPONSE" },
		{ LLRP_GET_READER_CAPABILITIES_RESPONSE, "GET_READER_CAPABILITIES_RESPONSE" },
		{ LLRP_SET_READER_CONFIG_RESPONSE, "SET_READER_CONFIG_RESPONSE" },
		{ LLRP_CLOSE_CONNECTION, "CLOSE_CONNECTION" },
		{ LLRP_ADD_ROSPEC, "ADD_ROSPEC" },
		{ LLRP_DELETE_ROSPEC, "DELETE_ROSPEC" },
		{ LLRP_START_ROSPEC, "START_ROSPEC" },
		{ LLRP_STOP_ROSPEC, "STOP_ROSPEC" },
		{ LLRP_ENABLE_ROSPEC, "ENABLE_ROSPEC" },
		{ LLRP_ADD_ROSPEC_RESPONSE, "ADD_ROSPEC_RESPONSE" },
		{ LLRP_DELETE_ROSPEC_RESPONSE, "DELETE_ROSPEC_RESPONSE" },
		{ LLRP_START_ROSPEC_RESPONSE, "START_ROSPEC_RESPONSE" },
		{ LLRP_STOP_ROSPEC_RESPONSE, "STOP_ROSPEC_RESPONSE" },
		{ LLRP_ENABLE_ROSPEC_RESPONSE, "ENABLE_ROSPEC_RESPONSE" },
		{ LLRP_RO_ACCESS_REPORT, "RO_ACCESS_REPORT" },
		{ LLRP_KEEPALIVE, "KEEPALIVE" },
		{ LLRP_READER_EVENT_NOTIFICATION, "READER_EVENT_NOTIFICATION" },
		{ LLRP_KEEPALIVE_ACK, "KEEPALIVE_ACK" },
		{ LLRP_ERROR_MESSAGE, "ERROR_MESSAGE" },
		{ LLRP_CUSTOM_MESSAGE, "CUSTOM_MESSAGE" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, size, "type %u", type);
	return buf;
}
