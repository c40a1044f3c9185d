/*
 * plugins/rfid/source_llrp.c - the LLRP driver of the rfid plugin: tag
 * reports from fixed UHF readers over TCP (port 5084), behind the same
 * struct rfid_source_ops as the simulation.
 *
 * One connection per reader, each a small state machine driven from
 * next_report (called by the plugin's collect, every 50 ms): connect
 * (non-blocking), wait for the reader's ConnectionAttemptEvent,
 * GET_READER_CAPABILITIES, SET_READER_CONFIG (keepalives), DELETE_ROSPEC,
 * ADD_ROSPEC, ENABLE_ROSPEC, START_ROSPEC, then RO_ACCESS_REPORTs until the
 * connection ends. KEEPALIVEs are answered; a reader silent for three
 * keepalive periods is dropped and reconnected. A reader that fails is
 * retried after 1, 2, 4 ... 60 s (with jitter) while the others keep
 * running; next_report fails only when no reader is up, so that the plugin
 * shows as degraded and the agent backs off. shutdown sends DELETE_ROSPEC
 * and CLOSE_CONNECTION; the reports still in flight are read until the
 * reader answers.
 *
 * A message is taken whole into a buffer of rfid.llrp_max_message bytes; a
 * longer one, or one that breaks the framing, ends the connection (a TCP
 * stream cannot be resynchronized). A malformed TagReportData is counted
 * and the rest of its report skipped. Nothing here logs an EPC.
 */
#include "llrp.h"
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LLRP_STEP_TIMEOUT_MS 5000	/* each request of the set-up */
#define LLRP_BACKOFF_MIN_MS 1000
#define LLRP_BACKOFF_MAX_MS 60000
#define LLRP_CLOSE_WAIT_MS 1000
#define LLRP_TX_BYTES 512		/* the longest request is ADD_ROSPEC */
#define LLRP_DWELL_MAX_US 3600000000ull	/* longer from one report: a bad clock */

enum llrp_state {
	LLRP_DOWN,		/* waiting for retry_at */
	LLRP_CONNECTING,
	LLRP_AWAIT_ATTEMPT,	/* the reader's ConnectionAttemptEvent */
	LLRP_AWAIT_RESPONSE,	/* of request `step` */
	LLRP_RUNNING,
	LLRP_CLOSING,		/* CLOSE_CONNECTION sent (shutdown) */
	LLRP_CLOSED,		/* after shutdown: never reconnected */
};

/* The set-up, in order. */
static const uint16_t llrp_steps[] = {
	LLRP_GET_READER_CAPABILITIES, LLRP_SET_READER_CONFIG, LLRP_DELETE_ROSPEC,
	LLRP_ADD_ROSPEC, LLRP_ENABLE_ROSPEC, LLRP_START_ROSPEC,
};
#define LLRP_NSTEPS (sizeof(llrp_steps) / sizeof(llrp_steps[0]))

struct llrp_conn {
	struct rfid_llrp *src;
	uint32_t reader;		/* 1-based, in configuration order */
	char host[RFID_LLRP_HOST_MAX];
	char port[8];
	int fd;
	enum llrp_state state;
	unsigned step;			/* index in llrp_steps */
	uint32_t next_id;
	int64_t deadline_ms;		/* of the current state (mono) */
	int64_t last_rx_ms;
	int64_t retry_at_ms;
	int64_t backoff_ms;
	int64_t epoch_utc_us;		/* reader uptime 0 in UTC µs */
	int utc_clock;
	int was_up;			/* reached RUNNING since the last failure */
	int eof;			/* the stream ended: 0, -1 (closed) or errno */
	char why[128];			/* the last failure, for the logs */
	uint8_t *rx;			/* max_message bytes */
	size_t rx_len;
	size_t report_len;		/* > 0: an RO_ACCESS_REPORT being read */
	size_t report_off;		/* next TagReportData in its body */
	uint8_t tx[LLRP_TX_BYTES];
	size_t tx_len;
};

struct rfid_llrp {
	struct rfid_source base;
	struct rfid_llrp_params p;
	struct llrp_conn conns[RFID_LLRP_READERS_MAX];
	uint32_t nconns;
	uint32_t next_conn;		/* round robin of next_report */
	uint64_t jitter;		/* xorshift state for the backoff */
	uint64_t malformed, unknown, keepalives;
	int logged_malformed, logged_unknown;
};

/* ---- logging and time ---------------------------------------------------- */

static int64_t llrp_mono(const struct rfid_llrp *s)
{
	return s->p.host->mono_ms(s->p.ctx);
}

#define LLRP_LOG(s, lvl, ...) (s)->p.host->log((s)->p.ctx, (lvl), __VA_ARGS__)

/* ---- connection life ------------------------------------------------------- */

static void llrp_conn_reset(struct llrp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rx_len = 0;
	c->report_len = 0;
	c->tx_len = 0;
	c->eof = 0;
}

/* Ends the connection after a failure and plans the next attempt. The
 * first failure after the reader was up is a warning, with what to check;
 * repeated ones while it stays down are logged at debug level only. */
static void llrp_fail(struct llrp_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void llrp_fail(struct llrp_conn *c, const char *fmt, ...)
{
	struct rfid_llrp *s = c->src;
	char why[sizeof(c->why)];
	int64_t delay;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	llrp_conn_reset(c);
	c->backoff_ms = c->was_up || !c->backoff_ms ? LLRP_BACKOFF_MIN_MS :
			c->backoff_ms * 2 > LLRP_BACKOFF_MAX_MS ? LLRP_BACKOFF_MAX_MS :
			c->backoff_ms * 2;
	s->jitter ^= s->jitter << 13;
	s->jitter ^= s->jitter >> 7;
	s->jitter ^= s->jitter << 17;
	delay = c->backoff_ms - c->backoff_ms / 4 +
		(int64_t)(s->jitter % (uint64_t)(c->backoff_ms / 2 + 1));
	c->retry_at_ms = llrp_mono(s) + delay;
	c->state = LLRP_DOWN;
	LLRP_LOG(s, c->was_up || strcmp(why, c->why) ? VITRINE_LOG_WARN : VITRINE_LOG_DEBUG,
		 "reader %u (%s:%s): %s; reconnecting in %lld ms",
		 c->reader, c->host, c->port, why, (long long)delay);
	snprintf(c->why, sizeof(c->why), "%s", why);
	c->was_up = 0;
}

static int llrp_send(struct llrp_conn *c, int len)
{
	ssize_t n;

	if (len < 0 || (size_t)len > sizeof(c->tx) - c->tx_len)
		return -ENOSPC;
	c->tx_len += (size_t)len;
	n = send(c->fd, c->tx, c->tx_len, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -errno;
	if (n > 0) {
		memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
		c->tx_len -= (size_t)n;
	}
	return 0;
}

/* Writes the next request into tx and sends what it can. */
static int llrp_request(struct llrp_conn *c, uint16_t type)
{
	struct rfid_llrp *s = c->src;
	uint8_t *out = c->tx + c->tx_len;
	size_t room = sizeof(c->tx) - c->tx_len;
	uint32_t id = ++c->next_id;
	int len;

	switch (type) {
	case LLRP_GET_READER_CAPABILITIES:
		len = llrp_build_get_capabilities(out, room, id);
		break;
	case LLRP_SET_READER_CONFIG:
		len = llrp_build_set_config(out, room, id, s->p.keepalive_ms);
		break;
	case LLRP_ADD_ROSPEC:
		len = llrp_build_add_rospec(out, room, id, s->p.rospec_id, s->p.report_n);
		break;
	default:
		len = llrp_build_rospec_op(out, room, type, id, s->p.rospec_id);
		break;
	}
	return llrp_send(c, len);
}

static void llrp_connect(struct llrp_conn *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int rc, one = 1;

	rc = getaddrinfo(c->host, c->port, &hints, &ai);
	if (rc) {
		llrp_fail(c, "cannot resolve the address (%s); check rfid.readers",
			  gai_strerror(rc));
		return;
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		freeaddrinfo(ai);
		llrp_fail(c, "cannot create a socket (%s)", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc && errno != EINPROGRESS) {
		llrp_fail(c, "cannot connect (%s); is the reader on and LLRP enabled?",
			  strerror(errno));
		return;
	}
	c->state = LLRP_CONNECTING;
	c->deadline_ms = llrp_mono(c->src) + LLRP_STEP_TIMEOUT_MS;
}

static void llrp_connected(struct llrp_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		llrp_fail(c, "cannot connect (%s); is the reader on and LLRP enabled?",
			  strerror(err ? err : errno));
		return;
	}
	c->state = LLRP_AWAIT_ATTEMPT;
	c->deadline_ms = llrp_mono(c->src) + LLRP_STEP_TIMEOUT_MS;
	c->last_rx_ms = llrp_mono(c->src);
}

/* ---- messages from the reader ------------------------------------------- */

static void llrp_on_event(struct llrp_conn *c, const uint8_t *body, size_t len)
{
	struct rfid_llrp *s = c->src;
	struct llrp_event ev;
	int rc;

	if (llrp_parse_event(body, len, &ev)) {
		llrp_fail(c, "malformed READER_EVENT_NOTIFICATION");
		return;
	}
	if (ev.conn_close) {
		llrp_fail(c, "the reader is closing the connection");
		return;
	}
	if (!ev.conn_attempt || c->state != LLRP_AWAIT_ATTEMPT)
		return;
	if (ev.conn_status != LLRP_CONN_SUCCESS) {
		llrp_fail(c, "the reader refused the connection (status %u: %s)",
			  ev.conn_status,
			  ev.conn_status == LLRP_CONN_CLIENT_INITIATED_EXISTS ||
			  ev.conn_status == LLRP_CONN_READER_INITIATED_EXISTS ?
			  "another client is connected; LLRP allows one" :
			  "see the reader's log");
		return;
	}
	/* Readers without a UTC clock time reports by their uptime. */
	if (ev.uptime_us)
		c->epoch_utc_us = s->p.host->now_ms(s->p.ctx) * 1000 -
				  (int64_t)(ev.uptime_us & INT64_MAX);
	c->state = LLRP_AWAIT_RESPONSE;
	c->step = 0;
	c->deadline_ms = llrp_mono(s) + LLRP_STEP_TIMEOUT_MS;
	rc = llrp_request(c, llrp_steps[0]);
	if (rc)
		llrp_fail(c, "cannot send GET_READER_CAPABILITIES (%s)", strerror(-rc));
}

static void llrp_log_capabilities(struct llrp_conn *c, const struct llrp_capabilities *caps)
{
	LLRP_LOG(c->src, VITRINE_LOG_INFO,
		 "reader %u (%s:%s): manufacturer %u (IANA enterprise number), model %u, firmware \"%s\", %u antennas, %s clock",
		 c->reader, c->host, c->port, caps->manufacturer, caps->model,
		 caps->firmware, caps->max_antennas, caps->utc_clock ? "UTC" : "uptime");
}

static void llrp_on_response(struct llrp_conn *c, const struct llrp_header *h,
			     const uint8_t *body, size_t len)
{
	struct rfid_llrp *s = c->src;
	uint16_t req = llrp_steps[c->step];
	struct llrp_capabilities caps;
	struct llrp_status st;
	char name[16];
	int rc;

	if (c->state != LLRP_AWAIT_RESPONSE || h->type != LLRP_RESPONSE_OF(req))
		return;		/* a late answer to an earlier connection's request */
	if (req == LLRP_GET_READER_CAPABILITIES) {
		rc = llrp_parse_capabilities(body, len, &st, &caps);
		if (!rc && !st.code) {
			c->utc_clock = caps.utc_clock;
			llrp_log_capabilities(c, &caps);
		}
	} else {
		rc = llrp_parse_status(body, len, &st);
	}
	if (rc) {
		llrp_fail(c, "malformed %s", llrp_msg_name(h->type, name, sizeof(name)));
		return;
	}
	/* DELETE_ROSPEC of a ROSpec the reader does not have fails: fine. */
	if (st.code && req != LLRP_DELETE_ROSPEC) {
		llrp_fail(c, "%s refused (status %u: %s)",
			  llrp_msg_name(req, name, sizeof(name)), st.code, st.text);
		return;
	}
	if (++c->step == LLRP_NSTEPS) {
		c->state = LLRP_RUNNING;
		c->was_up = 1;
		c->backoff_ms = 0;
		c->why[0] = '\0';
		LLRP_LOG(s, VITRINE_LOG_INFO, "reader %u (%s:%s): inventory running (ROSpec %u)",
			 c->reader, c->host, c->port, s->p.rospec_id);
		return;
	}
	c->deadline_ms = llrp_mono(s) + LLRP_STEP_TIMEOUT_MS;
	rc = llrp_request(c, llrp_steps[c->step]);
	if (rc)
		llrp_fail(c, "cannot send %s (%s)",
			  llrp_msg_name(llrp_steps[c->step], name, sizeof(name)), strerror(-rc));
}

static void llrp_count_unknown(struct llrp_conn *c, uint16_t type)
{
	char name[16];

	c->src->unknown++;
	if (c->src->logged_unknown++)
		return;
	LLRP_LOG(c->src, VITRINE_LOG_INFO,
		 "reader %u: ignored a message of %s (not used by this client); counting further ones",
		 c->reader, llrp_msg_name(type, name, sizeof(name)));
}

/* One whole message at c->rx. Returns 1 when it is an RO_ACCESS_REPORT
 * left in rx to be read tag by tag, 0 when it was handled. */
static int llrp_dispatch(struct llrp_conn *c, const struct llrp_header *h)
{
	const uint8_t *body = c->rx + LLRP_HEADER_LEN;
	size_t len = h->length - LLRP_HEADER_LEN;
	struct llrp_status st;
	int n;

	switch (h->type) {
	case LLRP_RO_ACCESS_REPORT:
		if (c->state != LLRP_RUNNING && c->state != LLRP_CLOSING)
			return 0;	/* from a ROSpec of an earlier session */
		c->report_len = h->length;
		c->report_off = 0;
		return 1;
	case LLRP_KEEPALIVE:
		c->src->keepalives++;
		n = llrp_build_empty(c->tx + c->tx_len, sizeof(c->tx) - c->tx_len,
				     LLRP_KEEPALIVE_ACK, h->id);
		n = llrp_send(c, n);
		if (n)
			llrp_fail(c, "cannot answer a KEEPALIVE (%s)", strerror(-n));
		return 0;
	case LLRP_READER_EVENT_NOTIFICATION:
		if (c->state != LLRP_CLOSING)
			llrp_on_event(c, body, len);
		return 0;
	case LLRP_CLOSE_CONNECTION_RESPONSE:
		if (c->state != LLRP_CLOSING)
			break;
		LLRP_LOG(c->src, VITRINE_LOG_INFO, "reader %u (%s:%s): connection closed",
			 c->reader, c->host, c->port);
		llrp_conn_reset(c);
		c->state = LLRP_CLOSED;
		return 0;
	case LLRP_ERROR_MESSAGE:
		if (c->state == LLRP_CLOSING)
			return 0;
		if (llrp_parse_status(body, len, &st))
			st = (struct llrp_status){ 0, "malformed" };
		llrp_fail(c, "the reader sent ERROR_MESSAGE (status %u: %s)", st.code, st.text);
		return 0;
	default:
		if (c->state == LLRP_AWAIT_RESPONSE &&
		    h->type == LLRP_RESPONSE_OF(llrp_steps[c->step])) {
			llrp_on_response(c, h, body, len);
			return 0;
		}
		break;
	}
	if (c->state != LLRP_CLOSING)
		llrp_count_unknown(c, h->type);
	return 0;
}

/* Whether rx starts with a whole message (or a header that will fail). */
static int llrp_whole_message(const struct llrp_conn *c)
{
	struct llrp_header h;

	if (c->rx_len < LLRP_HEADER_LEN)
		return 0;
	return llrp_header_parse(c->rx, c->rx_len, &h) < 0 || h.length <= c->rx_len;
}

/* Consumes the message at the head of rx. */
static void llrp_consume(struct llrp_conn *c, size_t len)
{
	memmove(c->rx, c->rx + len, c->rx_len - len);
	c->rx_len -= len;
}

/* Handles whole messages in rx until an RO_ACCESS_REPORT is found (1), rx
 * holds no whole message (0), or the connection failed (-1). */
static int llrp_process(struct llrp_conn *c)
{
	struct rfid_llrp *s = c->src;
	struct llrp_header h;
	int rc;

	while (c->fd >= 0 && c->rx_len >= LLRP_HEADER_LEN) {
		rc = llrp_header_parse(c->rx, c->rx_len, &h);
		if (rc) {
			llrp_fail(c, "protocol error: a message header with version %u and length %u (expected version 1, length >= 10); is this an LLRP 1.0.1 reader?",
				  h.version, h.length);
			return -1;
		}
		if (h.length > s->p.max_message) {
			llrp_fail(c, "protocol error: a %u-byte message, above rfid.llrp_max_message (%u)",
				  h.length, s->p.max_message);
			return -1;
		}
		if (c->rx_len < h.length)
			return 0;
		if (llrp_dispatch(c, &h))
			return 1;
		if (c->fd >= 0)
			llrp_consume(c, h.length);
	}
	return c->fd >= 0 ? 0 : -1;
}

/* Reads what the socket has, up to the room left in rx. */
static void llrp_receive(struct llrp_conn *c)
{
	struct rfid_llrp *s = c->src;
	ssize_t n;

	while (c->fd >= 0 && !c->eof && c->rx_len < s->p.max_message) {
		n = recv(c->fd, c->rx + c->rx_len, s->p.max_message - c->rx_len, 0);
		if (n > 0) {
			c->rx_len += (size_t)n;
			c->last_rx_ms = llrp_mono(s);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		/* What came before the end is handled first (a refusal
		 * arrives just before the reader closes). */
		c->eof = n == 0 ? -1 : errno;
		return;
	}
}

static void llrp_end_of_stream(struct llrp_conn *c)
{
	if (c->state == LLRP_CLOSING) {
		llrp_conn_reset(c);
		c->state = LLRP_CLOSED;
	} else if (c->eof == -1) {
		llrp_fail(c, "the reader closed the connection");
	} else {
		llrp_fail(c, "connection lost (%s)", strerror(c->eof));
	}
}

/* Timers of the current state: set-up steps, keepalive silence, retry. */
static void llrp_timers(struct llrp_conn *c, int64_t now)
{
	struct rfid_llrp *s = c->src;
	int64_t silent = 3 * (int64_t)s->p.keepalive_ms;
	char name[16];

	switch (c->state) {
	case LLRP_DOWN:
		if (now >= c->retry_at_ms)
			llrp_connect(c);
		break;
	case LLRP_CONNECTING:
		if (now >= c->deadline_ms)
			llrp_fail(c, "connection timed out; is the reader reachable?");
		break;
	case LLRP_AWAIT_ATTEMPT:
		if (now >= c->deadline_ms)
			llrp_fail(c, "no ConnectionAttemptEvent within %d s; is this an LLRP reader?",
				  LLRP_STEP_TIMEOUT_MS / 1000);
		break;
	case LLRP_AWAIT_RESPONSE:
		if (now >= c->deadline_ms)
			llrp_fail(c, "no answer to %s within %d s",
				  llrp_msg_name(llrp_steps[c->step], name, sizeof(name)),
				  LLRP_STEP_TIMEOUT_MS / 1000);
		break;
	case LLRP_RUNNING:
		if (now - c->last_rx_ms > silent)
			llrp_fail(c, "the reader stopped answering (nothing for %lld ms, keepalive every %u ms)",
				  (long long)(now - c->last_rx_ms), s->p.keepalive_ms);
		break;
	case LLRP_CLOSING:
		if (now >= c->deadline_ms) {
			LLRP_LOG(s, VITRINE_LOG_INFO,
				 "reader %u (%s:%s): no answer to CLOSE_CONNECTION; closed anyway",
				 c->reader, c->host, c->port);
			llrp_conn_reset(c);
			c->state = LLRP_CLOSED;
		}
		break;
	case LLRP_CLOSED:
		break;
	}
}

/* Moves one connection on: I/O, messages, timers. */
static void llrp_drive(struct llrp_conn *c)
{
	struct pollfd pfd;

	llrp_timers(c, llrp_mono(c->src));
	if (c->fd < 0)
		return;
	pfd = (struct pollfd){ .fd = c->fd,
			       .events = (short)(POLLIN | (c->state == LLRP_CONNECTING ||
							   c->tx_len ? POLLOUT : 0)) };
	if (poll(&pfd, 1, 0) <= 0)
		return;
	if (c->state == LLRP_CONNECTING) {
		if (pfd.revents & (POLLOUT | POLLERR | POLLHUP))
			llrp_connected(c);
		return;
	}
	if (c->tx_len && (pfd.revents & POLLOUT)) {
		int rc = llrp_send(c, 0);

		if (rc)
			llrp_fail(c, "connection lost while sending (%s)", strerror(-rc));
	}
	if (c->fd >= 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)))
		llrp_receive(c);
}

/* ---- the source ops ----------------------------------------------------------- */

static int llrp_open(struct rfid_source *base)
{
	struct rfid_llrp *s = (struct rfid_llrp *)base;
	int64_t now = llrp_mono(s);

	/* The agent's own backoff has passed: try every reader now. */
	for (uint32_t i = 0; i < s->nconns; i++) {
		struct llrp_conn *c = &s->conns[i];

		if (c->state == LLRP_DOWN)
			c->retry_at_ms = now;
	}
	return 0;
}

static void llrp_fill(struct llrp_conn *c, const struct llrp_tag *t,
		      struct rfid_tag_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (t->epc_bits == 96)
		memcpy(rep->epc, t->epc, RFID_EPC_BYTES);
	rep->epc_bits = t->epc_bits;
	rep->antenna = t->antenna;
	rep->reader = c->reader;
	rep->rssi_cdbm = t->has_rssi ? t->peak_rssi * 100 : 0;
	if (t->first_utc_us && t->first_utc_us <= INT64_MAX)
		rep->utc_us = (int64_t)t->first_utc_us;
	else if (t->first_uptime_us && t->first_uptime_us <= INT64_MAX / 2)
		rep->utc_us = c->epoch_utc_us + (int64_t)t->first_uptime_us;
	else
		rep->utc_us = c->src->p.host->now_ms(c->src->p.ctx) * 1000;
	rep->reads = t->seen_count ? t->seen_count : 1;
	/* Last seen, when on the same clock as first seen and not absurd. */
	if (t->first_utc_us && t->last_utc_us >= t->first_utc_us &&
	    t->last_utc_us - t->first_utc_us < LLRP_DWELL_MAX_US)
		rep->dwell_ms = (uint32_t)((t->last_utc_us - t->first_utc_us) / 1000);
	else if (!t->first_utc_us && t->first_uptime_us && t->last_uptime_us >= t->first_uptime_us &&
		 t->last_uptime_us - t->first_uptime_us < LLRP_DWELL_MAX_US)
		rep->dwell_ms = (uint32_t)((t->last_uptime_us - t->first_uptime_us) / 1000);
}

/* The next tag of the report being read at c, or 0 when it is done. */
static int llrp_next_tag(struct llrp_conn *c, struct rfid_tag_report *rep)
{
	struct rfid_llrp *s = c->src;
	const uint8_t *body = c->rx + LLRP_HEADER_LEN;
	size_t len = c->report_len - LLRP_HEADER_LEN;
	struct llrp_tag tag;
	int rc = llrp_report_next(body, len, &c->report_off, &tag);

	if (rc == 1) {
		llrp_fill(c, &tag, rep);
		return 1;
	}
	if (rc < 0) {
		s->malformed++;
		if (!s->logged_malformed++)
			LLRP_LOG(s, VITRINE_LOG_WARN,
				 "reader %u: dropped the rest of a malformed RO_ACCESS_REPORT (a TagReportData without EPC or with a bad length); counting further ones",
				 c->reader);
	}
	llrp_consume(c, c->report_len);
	c->report_len = 0;
	return 0;
}

static int llrp_conn_next(struct llrp_conn *c, struct rfid_tag_report *rep)
{
	for (;;) {
		if (c->report_len && llrp_next_tag(c, rep))
			return 1;
		if (c->report_len)
			continue;
		if (llrp_process(c) == 1)
			continue;
		if (c->fd >= 0 && c->eof)
			llrp_end_of_stream(c);
		return 0;
	}
}

static int llrp_next_report(struct rfid_source *base, int64_t horizon_us,
			    struct rfid_tag_report *rep)
{
	struct rfid_llrp *s = (struct rfid_llrp *)base;
	uint32_t up = 0;

	(void)horizon_us;	/* a reader reports what it has read */
	for (uint32_t k = 0; k < s->nconns; k++) {
		struct llrp_conn *c = &s->conns[(s->next_conn + k) % s->nconns];

		/* I/O and timers only once what was received is handled:
		 * not a poll() and a recv() per buffered tag. */
		if (!c->report_len && !llrp_whole_message(c))
			llrp_drive(c);
		if (llrp_conn_next(c, rep)) {
			s->next_conn = (s->next_conn + k + 1) % s->nconns;
			return 1;
		}
		up += c->state != LLRP_DOWN && c->state != LLRP_CLOSED;
	}
	/* Each reader's failure was logged above; the plugin is degraded
	 * only when none is up. */
	return up ? 0 : -ENOTCONN;
}

/* Asks each reader that is connected to forget our ROSpec and to close;
 * reports still in flight keep coming from next_report until its
 * CLOSE_CONNECTION_RESPONSE (or LLRP_CLOSE_WAIT_MS). Readers that are down
 * are not retried. */
static void llrp_shutdown(struct rfid_source *base)
{
	struct rfid_llrp *s = (struct rfid_llrp *)base;

	for (uint32_t i = 0; i < s->nconns; i++) {
		struct llrp_conn *c = &s->conns[i];
		int len;

		if (c->fd < 0 || c->state == LLRP_CONNECTING || c->eof) {
			llrp_conn_reset(c);
			c->state = LLRP_CLOSED;
			continue;
		}
		len = llrp_build_rospec_op(c->tx + c->tx_len, sizeof(c->tx) - c->tx_len,
					   LLRP_DELETE_ROSPEC, ++c->next_id, s->p.rospec_id);
		if (len >= 0)
			c->tx_len += (size_t)len;
		len = llrp_build_empty(c->tx + c->tx_len, sizeof(c->tx) - c->tx_len,
				       LLRP_CLOSE_CONNECTION, ++c->next_id);
		c->state = LLRP_CLOSING;
		c->deadline_ms = llrp_mono(s) + LLRP_CLOSE_WAIT_MS;
		if (llrp_send(c, len)) {
			llrp_conn_reset(c);
			c->state = LLRP_CLOSED;
		}
	}
}

/* Drops every connection at once; open() reconnects. */
static void llrp_close(struct rfid_source *base)
{
	struct rfid_llrp *s = (struct rfid_llrp *)base;

	for (uint32_t i = 0; i < s->nconns; i++) {
		struct llrp_conn *c = &s->conns[i];

		llrp_conn_reset(c);
		c->state = LLRP_DOWN;
		c->retry_at_ms = llrp_mono(s);
	}
}

static void llrp_destroy(struct rfid_source *base)
{
	struct rfid_llrp *s = (struct rfid_llrp *)base;

	if (!s)
		return;
	llrp_close(base);
	for (uint32_t i = 0; i < s->nconns; i++)
		free(s->conns[i].rx);
	LLRP_LOG(s, VITRINE_LOG_INFO,
		 "LLRP: %llu malformed reports, %llu ignored messages, %llu keepalives answered",
		 (unsigned long long)s->malformed, (unsigned long long)s->unknown,
		 (unsigned long long)s->keepalives);
	free(s);
}

static const struct rfid_source_ops llrp_ops = {
	.name = "llrp",
	.open = llrp_open,
	.next_report = llrp_next_report,
	.close = llrp_close,
	.destroy = llrp_destroy,
	.shutdown = llrp_shutdown,
};

/* ---- configuration ---------------------------------------------------------- */

/* "host", "host:port", "[v6]" or "[v6]:port" into c; 0 or -EINVAL. */
static int llrp_parse_reader(const char *s, size_t len, struct llrp_conn *c)
{
	const char *colon, *host = s;
	size_t hlen;
	char *end;
	unsigned long port = LLRP_PORT;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--, host++;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len && *s == '[') {
		const char *close = memchr(s, ']', len);

		if (!close)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1 < s + len ? close + 1 : NULL;
		if (colon && *colon != ':')
			return -EINVAL;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon ? (size_t)(colon - s) : len;
		if (colon && memchr(colon + 1, ':', len - hlen - 1))
			return -EINVAL;	/* a bare IPv6 address: needs [] */
	}
	if (!hlen || hlen >= sizeof(c->host))
		return -EINVAL;
	if (colon) {
		char digits[8];
		size_t dlen = (size_t)(s + len - colon - 1);

		if (!dlen || dlen >= sizeof(digits))
			return -EINVAL;
		memcpy(digits, colon + 1, dlen);
		digits[dlen] = '\0';
		port = strtoul(digits, &end, 10);
		if (*end || digits[0] < '0' || digits[0] > '9' || !port || port > 65535)
			return -EINVAL;
	}
	memcpy(c->host, host, hlen);
	c->host[hlen] = '\0';
	snprintf(c->port, sizeof(c->port), "%lu", port);
	return 0;
}

int rfid_llrp_parse_readers(const char *list, char hosts[][RFID_LLRP_HOST_MAX],
			    char ports[][8], uint32_t *n)
{
	struct llrp_conn c;

	*n = 0;
	for (const char *p = list;; p++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (*n == RFID_LLRP_READERS_MAX || llrp_parse_reader(p, len, &c))
			return -EINVAL;
		if (hosts) {
			memcpy(hosts[*n], c.host, sizeof(c.host));
			memcpy(ports[*n], c.port, sizeof(c.port));
		}
		(*n)++;
		if (!end)
			return 0;
		p = end;
	}
}

int rfid_llrp_create(const struct rfid_llrp_params *p, struct rfid_source **out)
{
	char hosts[RFID_LLRP_READERS_MAX][RFID_LLRP_HOST_MAX];
	char ports[RFID_LLRP_READERS_MAX][8];
	struct rfid_llrp *s;
	uint32_t n;

	if (!p->readers || rfid_llrp_parse_readers(p->readers, hosts, ports, &n) ||
	    p->max_message < 1024 || !p->keepalive_ms)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &llrp_ops;
	s->p = *p;
	s->p.readers = NULL;	/* borrowed for create only */
	s->nconns = n;
	s->jitter = (uint64_t)p->host->now_ms(p->ctx) | 1;
	for (uint32_t i = 0; i < n; i++)
		s->conns[i].fd = -1;
	for (uint32_t i = 0; i < n; i++) {
		struct llrp_conn *c = &s->conns[i];

		c->src = s;
		c->reader = i + 1;
		memcpy(c->host, hosts[i], sizeof(c->host));
		memcpy(c->port, ports[i], sizeof(c->port));
		c->retry_at_ms = llrp_mono(s);
		c->rx = malloc(p->max_message);
		if (!c->rx) {
			llrp_destroy(&s->base);
			return -ENOMEM;
		}
	}
	*out = &s->base;
	return 0;
}
