/*
 * tools/llrp-sim/llrp_sim.c - vitrine-llrp-sim, a UHF RFID reader that
 * speaks LLRP 1.0.1 over TCP, for the tests and for `make run` when no real
 * reader is configured.
 *
 * It plays one fixed reader: it accepts one client at a time (a second one
 * is told "another client is connected", as LLRP requires), greets it with
 * a ConnectionAttemptEvent, answers GET_READER_CAPABILITIES,
 * SET_READER_CONFIG, ADD/DELETE/ENABLE/START/STOP_ROSPEC and
 * CLOSE_CONNECTION, sends KEEPALIVEs at the period the client asked for,
 * and once its ROSpec is started streams RO_ACCESS_REPORTs of the tags the
 * rfid plugin's own simulation (plugins/rfid/source_sim.c) reads in real
 * time. Faults for the tests (--stall-after, --garbage-after,
 * --drop-after, --bad-report-every, --refuse) hit the first session only,
 * so that the client's recovery can be watched.
 *
 * Built with the plugin's codec (plugins/rfid/llrp.c); the reader-side
 * messages are built here. Never installed.
 */
#include "rfid/llrp.h"
#include "rfid/sgtin96.h"
#include "rfid/source.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SIM_RX_BYTES 65536
#define SIM_TX_BYTES 65536
/* Tags whose report is not yet handed to the socket: a report partly
 * sent, the rest of tx and one being filled hold fewer than
 * 3 * SIM_TX_BYTES / 43 (the smallest TagReportData this reader writes)
 * = 4572 tags. */
#define SIM_PENDING_TAGS 8192
#define SIM_MANUFACTURER 0	/* no IANA number: a simulation */
#define SIM_MODEL 1

struct sim_opts {
	const char *listen_addr;
	int port;
	uint64_t seed, limit;
	uint32_t items, antennas;
	int uptime_clock, refuse;
	uint64_t stall_after, garbage_after, drop_after, bad_every, unknown_after;
	const char *report_file;
	double speed;		/* simulated seconds per second */
	uint64_t max_rate;	/* tags sent per real second at most */
	int64_t start_us;	/* simulated UTC time at start; 0 = now */
};

/* A line of --report-file, written once the bytes of its report up to
 * `end` (counted from the session's first byte) have left tx. */
struct sim_tag_line {
	uint64_t end;		/* UINT64_MAX: its report is still being filled */
	char text[88];
};

struct sim {
	struct sim_opts o;
	int lfd, cfd;
	int sessions;
	int running;		/* our ROSpec is started */
	uint32_t rospec_id;	/* 0: none added */
	int enabled;
	uint32_t keepalive_ms;
	int64_t next_keepalive_ms;
	uint32_t msg_id;
	uint16_t report_n;
	uint8_t rx[SIM_RX_BYTES];
	size_t rx_len;
	uint8_t tx[SIM_TX_BYTES];
	size_t tx_len;
	uint8_t batch[SIM_TX_BYTES];	/* RO_ACCESS_REPORT being filled */
	struct llrp_writer bw;
	size_t batch_at;
	uint16_t batch_tags;
	struct rfid_source *src;
	int64_t boot_us;	/* UTC µs at the reader's uptime 0 */
	int64_t real_start_us;	/* wall clock when the simulated one started */
	uint64_t sent, sent_session, reports, acks, bad_sent;
	uint64_t missed;	/* read above max_rate or with a full buffer */
	int64_t rate_second;	/* real second of rate_sent */
	uint64_t rate_sent;
	int stalled;
	FILE *report_log;
	struct sim_tag_line *pend;	/* ring of SIM_PENDING_TAGS */
	uint32_t pend_head, pend_n;
	uint64_t tx_queued, tx_sent;	/* bytes of this session */
};

static volatile sig_atomic_t sim_stop, sim_pause;

static void sim_on_signal(int sig)
{
	if (sig == SIGUSR1)
		sim_pause = 1;
	else
		sim_stop = 1;
}

static int64_t sim_utc_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The reader's clock: the wall clock, or a simulated one (--start,
 * --speed) for demos that replay a day faster. */
static int64_t sim_clock_us(const struct sim *s)
{
	int64_t real = sim_utc_us();

	if (!s->o.start_us && s->o.speed == 1)
		return real;
	return s->o.start_us + (int64_t)((double)(real - s->real_start_us) * s->o.speed);
}

static int64_t sim_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ------------------------------------------------------------------ */

/* --report-file gets the tags whose reports have left tx: a reader killed
 * with reports in its buffer never sent those tags. */
static void sim_pend_write(struct sim *s)
{
	while (s->pend_n && s->pend[s->pend_head].end <= s->tx_sent) {
		fputs(s->pend[s->pend_head].text, s->report_log);
		s->pend_head = (s->pend_head + 1) % SIM_PENDING_TAGS;
		s->pend_n--;
	}
}

/* The tags of the report being filled end at byte `end` of the session:
 * they are the newest pending ones, those not yet given an end. */
static void sim_pend_mark(struct sim *s, uint64_t end)
{
	for (uint32_t i = s->pend_n; i > 0; i--) {
		struct sim_tag_line *l = &s->pend[(s->pend_head + i - 1) % SIM_PENDING_TAGS];

		if (l->end != UINT64_MAX)
			break;
		l->end = end;
	}
}

/* Ends the session: what tx still held was never sent, nor its tags. */
static void sim_close_client(struct sim *s)
{
	if (s->cfd >= 0)
		close(s->cfd);
	s->cfd = -1;
	s->tx_len = 0;
	s->batch_tags = 0;
	s->pend_n = 0;
}

static void sim_flush(struct sim *s)
{
	ssize_t n;

	if (s->cfd < 0 || !s->tx_len)
		return;
	n = send(s->cfd, s->tx, s->tx_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0) {
		memmove(s->tx, s->tx + n, s->tx_len - (size_t)n);
		s->tx_len -= (size_t)n;
		s->tx_sent += (uint64_t)n;
		sim_pend_write(s);
	}
}

/* Appends a built message to tx; a client too slow to keep up loses the
 * connection, as with a real reader whose buffer overflows. */
static void sim_queue(struct sim *s, const uint8_t *msg, int len)
{
	if (len < 0 || (size_t)len > sizeof(s->tx) - s->tx_len) {
		fprintf(stderr, "llrp-sim: client too slow, output buffer full; closing\n");
		sim_close_client(s);
		return;
	}
	memcpy(s->tx + s->tx_len, msg, (size_t)len);
	s->tx_len += (size_t)len;
	s->tx_queued += (uint64_t)len;
	sim_flush(s);
}

static void sim_w_status(struct llrp_writer *w, uint16_t code, const char *text)
{
	size_t p = llrp_w_tlv_begin(w, LLRP_P_LLRP_STATUS);

	llrp_w_u16(w, code);
	llrp_w_u16(w, (uint16_t)strlen(text));
	llrp_w_bytes(w, text, strlen(text));
	llrp_w_tlv_end(w, p);
}

static void sim_w_timestamp(struct sim *s, struct llrp_writer *w)
{
	size_t p = llrp_w_tlv_begin(w, s->o.uptime_clock ? LLRP_P_UPTIME : LLRP_P_UTC_TIMESTAMP);
	int64_t now = sim_clock_us(s);

	llrp_w_u64(w, (uint64_t)(s->o.uptime_clock ? now - s->boot_us : now));
	llrp_w_tlv_end(w, p);
}

static void sim_send_status(struct sim *s, uint16_t type, uint32_t id, uint16_t code,
			    const char *text)
{
	uint8_t buf[512];
	struct llrp_writer w;
	size_t m;

	llrp_w_init(&w, buf, sizeof(buf));
	m = llrp_w_msg_begin(&w, type, id);
	sim_w_status(&w, code, text);
	llrp_w_msg_end(&w, m);
	sim_queue(s, buf, llrp_w_finish(&w));
}

/* A READER_EVENT_NOTIFICATION with a ConnectionAttemptEvent into buf[128];
 * its length. */
static int sim_build_event(struct sim *s, uint16_t conn_status, uint8_t *buf)
{
	struct llrp_writer w;
	size_t m, d, e;

	llrp_w_init(&w, buf, 128);
	m = llrp_w_msg_begin(&w, LLRP_READER_EVENT_NOTIFICATION, ++s->msg_id);
	d = llrp_w_tlv_begin(&w, LLRP_P_READER_EVENT_NOTIFICATION_DATA);
	sim_w_timestamp(s, &w);
	e = llrp_w_tlv_begin(&w, LLRP_P_CONNECTION_ATTEMPT_EVENT);
	llrp_w_u16(&w, conn_status);
	llrp_w_tlv_end(&w, e);
	llrp_w_tlv_end(&w, d);
	llrp_w_msg_end(&w, m);
	return llrp_w_finish(&w);
}

static void sim_send_event(struct sim *s, uint16_t conn_status)
{
	uint8_t buf[128];

	sim_queue(s, buf, sim_build_event(s, conn_status, buf));
}

static void sim_send_capabilities(struct sim *s, uint32_t id)
{
	static const char firmware[] = "vitrine-llrp-sim 1";
	uint8_t buf[256];
	struct llrp_writer w;
	size_t m, c;

	llrp_w_init(&w, buf, sizeof(buf));
	m = llrp_w_msg_begin(&w, LLRP_GET_READER_CAPABILITIES_RESPONSE, id);
	sim_w_status(&w, 0, "");
	c = llrp_w_tlv_begin(&w, LLRP_P_GENERAL_DEVICE_CAPABILITIES);
	llrp_w_u16(&w, (uint16_t)s->o.antennas);
	llrp_w_u16(&w, s->o.uptime_clock ? 0 : 0x4000);	/* HasUTCClockCapability */
	llrp_w_u32(&w, SIM_MANUFACTURER);
	llrp_w_u32(&w, SIM_MODEL);
	llrp_w_u16(&w, (uint16_t)strlen(firmware));
	llrp_w_bytes(&w, firmware, strlen(firmware));
	llrp_w_tlv_end(&w, c);
	llrp_w_msg_end(&w, m);
	sim_queue(s, buf, llrp_w_finish(&w));
}

/* ---- tag reports --------------------------------------------------------------- */

static void sim_batch_flush(struct sim *s)
{
	int len;

	if (!s->batch_tags)
		return;
	llrp_w_msg_end(&s->bw, s->batch_at);
	len = llrp_w_finish(&s->bw);
	sim_pend_mark(s, s->tx_queued + (uint64_t)(len > 0 ? len : 0));
	sim_queue(s, s->batch, len);
	s->reports++;
	s->batch_tags = 0;
}

/* A tag put in the report being filled: its line waits for the report to
 * be sent (sim_pend_write). */
static void sim_log_report(struct sim *s, const struct rfid_tag_report *r)
{
	struct sgtin96 tag;
	struct sim_tag_line *l;
	char epc[2 * RFID_EPC_BYTES + 1];

	if (!s->report_log)
		return;
	if (s->pend_n == SIM_PENDING_TAGS) {	/* cannot happen: see its size */
		fprintf(stderr, "llrp-sim: too many tags waiting to be sent\n");
		exit(1);
	}
	l = &s->pend[(s->pend_head + s->pend_n++) % SIM_PENDING_TAGS];
	for (int i = 0; i < RFID_EPC_BYTES; i++)
		snprintf(epc + 2 * i, 3, "%02X", r->epc[i]);
	l->end = UINT64_MAX;
	snprintf(l->text, sizeof(l->text), "%lld %u %d %s %s\n", (long long)r->utc_us,
		 r->antenna, r->rssi_cdbm / 100, epc,
		 sgtin96_decode(r->epc, &tag) ? "foreign" : "sgtin");
}

static void sim_add_tag(struct sim *s, const struct rfid_tag_report *r)
{
	struct llrp_writer *w = &s->bw;
	int bad = s->sessions == 1 && s->o.bad_every &&
		  (s->sent_session + 1) % s->o.bad_every == 0;
	uint64_t t = (uint64_t)(s->o.uptime_clock ? r->utc_us - s->boot_us : r->utc_us);
	size_t p;

	if (!s->batch_tags) {
		llrp_w_init(w, s->batch, sizeof(s->batch));
		s->batch_at = llrp_w_msg_begin(w, LLRP_RO_ACCESS_REPORT, ++s->msg_id);
	}
	p = llrp_w_tlv_begin(w, LLRP_P_TAG_REPORT_DATA);
	if (!bad) {
		llrp_w_u8(w, 0x80 | LLRP_P_EPC_96);
		llrp_w_bytes(w, r->epc, RFID_EPC_BYTES);
	}
	llrp_w_u8(w, 0x80 | LLRP_P_ANTENNA_ID);
	llrp_w_u16(w, r->antenna);
	llrp_w_u8(w, 0x80 | LLRP_P_PEAK_RSSI);
	llrp_w_u8(w, (uint8_t)(int8_t)(r->rssi_cdbm / 100));
	llrp_w_u8(w, 0x80 | (s->o.uptime_clock ? LLRP_P_FIRST_SEEN_UPTIME : LLRP_P_FIRST_SEEN_UTC));
	llrp_w_u64(w, t);
	llrp_w_u8(w, 0x80 | (s->o.uptime_clock ? LLRP_P_LAST_SEEN_UPTIME : LLRP_P_LAST_SEEN_UTC));
	llrp_w_u64(w, t);
	llrp_w_u8(w, 0x80 | LLRP_P_TAG_SEEN_COUNT);
	llrp_w_u16(w, 1);
	llrp_w_tlv_end(w, p);
	if (bad)
		s->bad_sent++;
	else
		sim_log_report(s, r);
	s->sent++;
	s->sent_session++;
	/* A malformed tag ends its report at the client: send it alone. */
	if (++s->batch_tags >= s->report_n || bad)
		sim_batch_flush(s);
}

/* The first session's faults, once its client has seen n tags. */
static int sim_fault(struct sim *s)
{
	uint64_t n = s->sent_session;

	if (s->sessions != 1)
		return 0;
	if (s->o.stall_after && n >= s->o.stall_after && !s->stalled) {
		fprintf(stderr, "llrp-sim: stalling after %llu tags\n", (unsigned long long)n);
		s->stalled = 1;
	}
	if (s->stalled)
		return 1;
	if (s->o.garbage_after && n >= s->o.garbage_after) {
		static const uint8_t garbage[LLRP_HEADER_LEN] = { 0x1c, 0x3d, 0, 0, 0, 10 };

		fprintf(stderr, "llrp-sim: sending a version-7 header after %llu tags\n",
			(unsigned long long)n);
		sim_queue(s, garbage, sizeof(garbage));
		s->o.garbage_after = 0;
		s->stalled = 1;	/* nothing after it could be read */
		return 1;
	}
	if (s->o.unknown_after && n >= s->o.unknown_after) {
		uint8_t msg[LLRP_HEADER_LEN + 4];
		struct llrp_writer w;
		size_t m;

		/* A well-framed message of a type no client knows (77). */
		llrp_w_init(&w, msg, sizeof(msg));
		m = llrp_w_msg_begin(&w, 77, ++s->msg_id);
		llrp_w_u32(&w, 0xdeadbeef);
		llrp_w_msg_end(&w, m);
		sim_queue(s, msg, llrp_w_finish(&w));
		s->o.unknown_after = 0;
		return 0;
	}
	if (s->o.drop_after && n >= s->o.drop_after) {
		fprintf(stderr, "llrp-sim: dropping the connection after %llu tags\n",
			(unsigned long long)n);
		sim_close_client(s);
		s->o.drop_after = 0;
		return 1;
	}
	return 0;
}

/* Reads the simulation up to now; streams what it read while a client runs
 * our ROSpec, drops it otherwise (nobody asked the reader to read). */
static void sim_inventory(struct sim *s)
{
	struct rfid_tag_report r;
	int64_t now = sim_clock_us(s);

	while (s->src->ops->next_report(s->src, now, &r) == 1) {
		if (s->o.limit && s->sent >= s->o.limit)
			continue;
		if (s->cfd < 0 || !s->running || sim_fault(s))
			continue;
		/* A real reader singulates so many tags a second and buffers
		 * so many reports: beyond that (a demo at high speed, a slow
		 * client) reads are missed, as in a crowded field. */
		if (sim_mono_ms() / 1000 != s->rate_second) {
			s->rate_second = sim_mono_ms() / 1000;
			s->rate_sent = 0;
		}
		if (s->rate_sent >= s->o.max_rate || s->tx_len > sizeof(s->tx) / 2) {
			s->missed++;
			continue;
		}
		s->rate_sent++;
		sim_add_tag(s, &r);
		if (s->cfd < 0)
			break;
	}
	if (s->cfd >= 0)
		sim_batch_flush(s);
}

/* ---- requests from the client ------------------------------------------------------ */

/* ADD_ROSPEC: the ROSpec's id and its ROReportSpec's N. */
static int sim_read_rospec(struct sim *s, const uint8_t *body, size_t len, uint32_t *id)
{
	struct llrp_param p, q;
	size_t off = 0, in = 0;

	if (llrp_param_next(body, len, &off, &p) != 1 || p.tv || p.type != LLRP_P_ROSPEC ||
	    p.len < 6)
		return -1;
	*id = (uint32_t)p.value[0] << 24 | (uint32_t)p.value[1] << 16 |
	      (uint32_t)p.value[2] << 8 | p.value[3];
	in = 6;
	s->report_n = 1;
	while (llrp_param_next(p.value, p.len, &in, &q) == 1)
		if (!q.tv && q.type == LLRP_P_RO_REPORT_SPEC && q.len >= 3)
			s->report_n = (uint16_t)(q.value[1] << 8 | q.value[2]);
	if (!s->report_n)
		s->report_n = 1;
	return *id ? 0 : -1;
}

static uint32_t sim_u32_body(const uint8_t *body, size_t len)
{
	if (len < 4)
		return UINT32_MAX;
	return (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 | (uint32_t)body[2] << 8 | body[3];
}

static void sim_set_config(struct sim *s, const struct llrp_header *h,
			   const uint8_t *body, size_t len)
{
	struct llrp_param p;
	size_t off = 1;

	while (len >= 1 && llrp_param_next(body, len, &off, &p) == 1)
		if (!p.tv && p.type == LLRP_P_KEEPALIVE_SPEC && p.len == 5 && p.value[0] == 1)
			s->keepalive_ms = sim_u32_body(p.value + 1, 4);
	s->next_keepalive_ms = sim_mono_ms() + s->keepalive_ms;
	sim_send_status(s, LLRP_SET_READER_CONFIG_RESPONSE, h->id, 0, "");
}

static void sim_rospec_op(struct sim *s, const struct llrp_header *h, uint32_t id)
{
	uint16_t resp = (uint16_t)LLRP_RESPONSE_OF(h->type);

	if (h->type == LLRP_DELETE_ROSPEC && (id == 0 || id == s->rospec_id) && s->rospec_id) {
		s->rospec_id = 0;
		s->running = s->enabled = 0;
	} else if (!s->rospec_id || id != s->rospec_id) {
		sim_send_status(s, resp, h->id, 100, "no such ROSpec");
		return;
	} else if (h->type == LLRP_ENABLE_ROSPEC) {
		s->enabled = 1;
	} else if (h->type == LLRP_START_ROSPEC) {
		if (!s->enabled) {
			sim_send_status(s, resp, h->id, 100, "ROSpec not enabled");
			return;
		}
		s->running = 1;
	} else if (h->type == LLRP_STOP_ROSPEC) {
		s->running = 0;
	}
	sim_send_status(s, resp, h->id, 0, "");
}

static void sim_request(struct sim *s, const struct llrp_header *h, const uint8_t *body,
			size_t len)
{
	uint32_t id;

	switch (h->type) {
	case LLRP_GET_READER_CAPABILITIES:
		sim_send_capabilities(s, h->id);
		break;
	case LLRP_SET_READER_CONFIG:
		sim_set_config(s, h, body, len);
		break;
	case LLRP_ADD_ROSPEC:
		if (s->rospec_id || sim_read_rospec(s, body, len, &id)) {
			sim_send_status(s, LLRP_ADD_ROSPEC_RESPONSE, h->id, 100,
					s->rospec_id ? "a ROSpec exists" : "bad ROSpec");
			break;
		}
		s->rospec_id = id;
		sim_send_status(s, LLRP_ADD_ROSPEC_RESPONSE, h->id, 0, "");
		break;
	case LLRP_DELETE_ROSPEC:
	case LLRP_ENABLE_ROSPEC:
	case LLRP_START_ROSPEC:
	case LLRP_STOP_ROSPEC:
		sim_rospec_op(s, h, sim_u32_body(body, len));
		break;
	case LLRP_KEEPALIVE_ACK:
		s->acks++;
		break;
	case LLRP_CLOSE_CONNECTION:
		sim_send_status(s, LLRP_CLOSE_CONNECTION_RESPONSE, h->id, 0, "");
		fprintf(stderr, "llrp-sim: the client closed the connection cleanly (CLOSE_CONNECTION) after %llu tags\n",
			(unsigned long long)s->sent_session);
		sim_close_client(s);
		break;
	default:
		sim_send_status(s, LLRP_ERROR_MESSAGE, h->id, 109, "unsupported message");
		break;
	}
}

static void sim_end_session(struct sim *s, const char *why)
{
	fprintf(stderr, "llrp-sim: session %d ended (%s) after %llu tags\n", s->sessions, why,
		(unsigned long long)s->sent_session);
	sim_close_client(s);
}

static void sim_receive(struct sim *s)
{
	struct llrp_header h;
	ssize_t n = recv(s->cfd, s->rx + s->rx_len, sizeof(s->rx) - s->rx_len, MSG_DONTWAIT);

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		sim_end_session(s, n ? strerror(errno) : "the client went away");
		return;
	}
	s->rx_len += (size_t)n;
	while (s->cfd >= 0 && s->rx_len >= LLRP_HEADER_LEN) {
		if (llrp_header_parse(s->rx, s->rx_len, &h) || h.length > sizeof(s->rx)) {
			sim_end_session(s, "a malformed message from the client");
			return;
		}
		if (s->rx_len < h.length)
			return;
		if (!s->stalled)
			sim_request(s, &h, s->rx + LLRP_HEADER_LEN, h.length - LLRP_HEADER_LEN);
		memmove(s->rx, s->rx + h.length, s->rx_len - h.length);
		s->rx_len -= h.length;
	}
}

static void sim_accept(struct sim *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->cfd >= 0 || s->o.refuse) {
		/* Told directly, past tx: a session that runs keeps its bytes. */
		uint8_t buf[128];
		int len = sim_build_event(s, s->o.refuse ? LLRP_CONN_OTHER_FAILURE :
						  LLRP_CONN_CLIENT_INITIATED_EXISTS, buf);

		if (len > 0 && send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) != len)
			fprintf(stderr, "llrp-sim: could not tell a refused client why\n");
		close(fd);
		fprintf(stderr, "llrp-sim: refused a connection\n");
		return;
	}
	s->cfd = fd;
	s->sessions++;
	s->stalled = 0;
	s->sent_session = 0;
	s->rx_len = s->tx_len = 0;
	s->tx_queued = s->tx_sent = 0;
	s->pend_n = 0;
	s->running = s->enabled = 0;
	s->keepalive_ms = 0;
	s->batch_tags = 0;
	/* A real reader keeps its ROSpecs across connections; this one too. */
	fprintf(stderr, "llrp-sim: session %d: client connected\n", s->sessions);
	sim_send_event(s, LLRP_CONN_SUCCESS);
}

static void sim_keepalive(struct sim *s)
{
	uint8_t buf[LLRP_HEADER_LEN];

	if (s->cfd < 0 || !s->keepalive_ms || s->stalled || sim_mono_ms() < s->next_keepalive_ms)
		return;
	s->next_keepalive_ms = sim_mono_ms() + s->keepalive_ms;
	sim_queue(s, buf, llrp_build_empty(buf, sizeof(buf), LLRP_KEEPALIVE, ++s->msg_id));
}

/* ---- set-up ---------------------------------------------------------------------------- */

static int sim_listen(struct sim *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->o.port) };
	socklen_t alen = sizeof(a);
	int one = 1;

	if (inet_pton(AF_INET, s->o.listen_addr, &a.sin_addr) != 1) {
		fprintf(stderr, "llrp-sim: --listen %s is not an IPv4 address\n", s->o.listen_addr);
		return -1;
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->lfd < 0)
		return -1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, 4) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "llrp-sim: cannot listen on %s:%d: %s\n", s->o.listen_addr,
			s->o.port, strerror(errno));
		return -1;
	}
	printf("listening on %s:%u\n", s->o.listen_addr, ntohs(a.sin_port));
	fflush(stdout);
	return 0;
}

static void sim_usage(FILE *f)
{
	fprintf(f,
		"usage: vitrine-llrp-sim [options]\n"
		"\n"
		"A simulated UHF RFID reader speaking LLRP 1.0.1 over TCP, for tests and demos.\n"
		"It streams the tags of the rfid plugin's simulated store, in real time, to one\n"
		"client at a time once the client has added, enabled and started a ROSpec.\n"
		"\n"
		"  --listen ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
		"  --port N            TCP port (default 5084; 0 picks a free one). The port is\n"
		"                      printed on stdout as \"listening on ADDR:PORT\"\n"
		"  --seed N            seed of the simulated store (default 1)\n"
		"  --items N           tagged items, 1..100000 (default 200)\n"
		"  --antennas N        antennas, 1..4 (default 4)\n"
		"  --uptime            no UTC clock: time reports by uptime, as some readers do\n"
		"  --limit N           send at most N tags in all, then only keepalives\n"
		"  --start TIME        the reader's clock starts at this UTC time, e.g.\n"
		"                      2026-11-25T09:50:00Z (default: now)\n"
		"  --speed X           simulated seconds per second, 0.01..10000 (default 1)\n"
		"  --max-rate N        tags sent per second at most (default 1000, as a real\n"
		"                      reader); reads beyond it are missed and counted\n"
		"  --report-file F     append each tag sent: UTC-us antenna dBm EPC sgtin|foreign\n"
		"                      (SIGUSR1 stops the reader where the file matches what was sent)\n"
		"faults, first session only:\n"
		"  --stall-after N     after N tags, go silent (no reports, no keepalives)\n"
		"  --garbage-after N   after N tags, send a header of LLRP version 7\n"
		"  --drop-after N      after N tags, close the connection without a word\n"
		"  --bad-report-every K  every K-th TagReportData has no EPC\n"
		"  --unknown-after N   after N tags, send one message of an unknown type (77)\n"
		"  --refuse            refuse every connection (ConnectionAttemptEvent status 3)\n"
		"\n"
		"SIGTERM or SIGINT ends it with a summary on stderr.\n");
}

static int sim_parse_u64(const char *arg, const char *opt, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' || v > max) {
		fprintf(stderr, "vitrine-llrp-sim: %s %s: expected a number up to %llu\n", opt,
			arg, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int sim_parse_time(const char *arg, int64_t *out_us)
{
	struct tm tm = { 0 };
	char z = 0;
	time_t t;

	if (sscanf(arg, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z' ||
	    tm.tm_year < 1970) {
		fprintf(stderr, "vitrine-llrp-sim: --start %s: expected a UTC time like 2026-11-25T09:50:00Z\n",
			arg);
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	*out_us = (int64_t)t * 1000000;
	return 0;
}

static int sim_parse_speed(const char *arg, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (*end || end == arg || !(v >= 0.01 && v <= 10000)) {
		fprintf(stderr, "vitrine-llrp-sim: --speed %s: expected a number from 0.01 to 10000\n",
			arg);
		return -1;
	}
	*out = v;
	return 0;
}

static int sim_options(int argc, char **argv, struct sim_opts *o)
{
	static const struct option longs[] = {
		{ "listen", 1, NULL, 'l' }, { "port", 1, NULL, 'p' },
		{ "seed", 1, NULL, 's' }, { "items", 1, NULL, 'i' },
		{ "antennas", 1, NULL, 'a' }, { "uptime", 0, NULL, 'u' },
		{ "limit", 1, NULL, 'n' }, { "report-file", 1, NULL, 'r' },
		{ "stall-after", 1, NULL, 'S' }, { "garbage-after", 1, NULL, 'G' },
		{ "drop-after", 1, NULL, 'D' }, { "bad-report-every", 1, NULL, 'B' },
		{ "refuse", 0, NULL, 'R' }, { "help", 0, NULL, 'h' },
		{ "start", 1, NULL, 'T' }, { "speed", 1, NULL, 'X' },
		{ "max-rate", 1, NULL, 'M' }, { "unknown-after", 1, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	*o = (struct sim_opts){ .listen_addr = "127.0.0.1", .port = LLRP_PORT, .seed = 1,
				.items = 200, .antennas = 4, .speed = 1, .max_rate = 1000 };
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		const char *opt = argv[optind - 1];
		int rc = 0;

		switch (ch) {
		case 'l': o->listen_addr = optarg; break;
		case 'p': rc = sim_parse_u64(optarg, opt, 65535, &v); o->port = (int)v; break;
		case 's': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->seed); break;
		case 'i': rc = sim_parse_u64(optarg, opt, 100000, &v); o->items = (uint32_t)v; break;
		case 'a': rc = sim_parse_u64(optarg, opt, 4, &v); o->antennas = (uint32_t)v; break;
		case 'u': o->uptime_clock = 1; break;
		case 'n': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->limit); break;
		case 'r': o->report_file = optarg; break;
		case 'S': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->stall_after); break;
		case 'G': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->garbage_after); break;
		case 'D': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->drop_after); break;
		case 'B': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->bad_every); break;
		case 'R': o->refuse = 1; break;
		case 'T': rc = sim_parse_time(optarg, &o->start_us); break;
		case 'X': rc = sim_parse_speed(optarg, &o->speed); break;
		case 'M': rc = sim_parse_u64(optarg, opt, 1000000, &o->max_rate); break;
		case 'U': rc = sim_parse_u64(optarg, opt, UINT64_MAX, &o->unknown_after); break;
		case 'h': sim_usage(stdout); exit(0);
		default: sim_usage(stderr); return -1;
		}
		if (rc)
			return -1;
	}
	if (optind != argc || !o->items || !o->antennas) {
		sim_usage(stderr);
		return -1;
	}
	return 0;
}

static int sim_start(struct sim *s)
{
	struct rfid_sim_params p = {
		.seed = s->o.seed,
		.start_utc_ms = (s->o.start_us ? s->o.start_us : sim_utc_us()) / 1000,
		.readers = 1,
		.antennas = s->o.antennas,
		.items = s->o.items,
	};

	s->cfd = -1;
	s->real_start_us = sim_utc_us();
	s->boot_us = sim_clock_us(s) - 3600 * INT64_C(1000000);	/* up for an hour */
	if (s->o.report_file) {
		s->report_log = fopen(s->o.report_file, "a");
		if (!s->report_log) {
			fprintf(stderr, "llrp-sim: cannot open %s: %s\n", s->o.report_file,
				strerror(errno));
			return -1;
		}
		setvbuf(s->report_log, NULL, _IOLBF, 0);
		s->pend = calloc(SIM_PENDING_TAGS, sizeof(*s->pend));
		if (!s->pend) {
			fprintf(stderr, "llrp-sim: out of memory\n");
			return -1;
		}
	}
	if (rfid_sim_create(&p, &s->src) || s->src->ops->open(s->src))
		return -1;
	return sim_listen(s);
}

int main(int argc, char **argv)
{
	static struct sim s;	/* large buffers: not on the stack */
	struct sigaction sa = { .sa_handler = sim_on_signal };

	if (sim_options(argc, argv, &s.o))
		return 2;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (sim_start(&s))
		return 1;
	while (!sim_stop) {
		struct pollfd pfd[2] = { { .fd = s.lfd, .events = POLLIN },
					 { .fd = s.cfd, .events = POLLIN } };

		if (poll(pfd, s.cfd >= 0 ? 2 : 1, 10) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			sim_accept(&s);
		if (s.cfd >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			sim_receive(&s);
		sim_inventory(&s);
		sim_keepalive(&s);
		sim_flush(&s);
		/* SIGUSR1: stop here, where --report-file lists exactly the
		 * tags handed to the socket (a test then kills the reader). */
		if (sim_pause) {
			sim_pause = 0;
			raise(SIGSTOP);
		}
	}
	fprintf(stderr, "llrp-sim: %llu tags sent (%llu malformed) in %llu reports over %d sessions, %llu missed (rate or buffer), %llu keepalive acks\n",
		(unsigned long long)s.sent, (unsigned long long)s.bad_sent,
		(unsigned long long)s.reports, s.sessions, (unsigned long long)s.missed,
		(unsigned long long)s.acks);
	if (s.report_log)
		fclose(s.report_log);
	free(s.pend);
	s.src->ops->destroy(s.src);
	return 0;
}
