/*
 * plugins/footfall/counter.c - the people-counter source (see counter.h):
 * inputs (one listener, its connections, one serial port), the bytes of
 * each input cut into lines, lines into readings, each input's lines
 * through its own token bucket (plugins/common/rate.c).
 *
 * What it does not do: parse a line (counter_line.c) or set up sockets and
 * terminals (counter_io.c).
 */
#include "counter.h"

#include "counter_io.h"
#include "counter_line.h"
#include "common/rate.h"
#include "source.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reasons to drop a line beyond the parser's. */
enum {
	COUNTER_DROP_TIME = COUNTER_LINE_STATUSES,	/* time too far from ours */
	COUNTER_DROP_CUT,	/* no newline before the connection closed */
	COUNTER_DROP_RATE,	/* over footfall.counter_rate */
	COUNTER_DROP_REASONS,
};

/* The agent refuses a footfall reading of more people than this. */
#define COUNTER_READING_MAX 1000
#define COUNTER_READ_CHUNK 512
#define COUNTER_READS_PER_CALL 8

struct counter_input {
	int fd;			/* -1: closed */
	int watched;		/* registered with host->watch_fd */
	int discarding;		/* inside an over-long line: skip to LF */
	int64_t last_rx_ms;	/* host->mono_ms of the last byte */
	struct vp_rate rate;	/* lines taken from this input */
	size_t len;
	char name[64];		/* "127.0.0.1:40212" or the device path */
	char buf[COUNTER_LINE_MAX + 1];	/* + a CR */
};

struct footfall_counter {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	vitrine_fd_cb cb;
	struct footfall_counter_params p;
	struct counter_input listener;	/* only fd, watched and name are used */
	int listener_paused;	/* unwatched after EMFILE until the next collect */
	uint16_t port;
	struct counter_input serial;
	struct counter_input conns[COUNTER_CONNS_MAX];
	/* the last failure logged per input, so a retry repeats nothing */
	char listen_error[FOOTFALL_ERROR_MAX], serial_error[FOOTFALL_ERROR_MAX];
	uint64_t lines, readings, people, accepted, refused, open_failures;
	uint64_t accept_failures;
	uint64_t dropped[COUNTER_DROP_REASONS];
};

static const char *counter_drop_reason(int why)
{
	if (why == COUNTER_DROP_TIME)
		return "time more than 5 min ahead of or 24 h behind the device's clock";
	if (why == COUNTER_DROP_CUT)
		return "no newline before the connection closed";
	if (why == COUNTER_DROP_RATE)
		return "rate_limited: over footfall.counter_rate lines a second";
	return counter_line_reason(why);
}

/* ---- descriptors ----------------------------------------------------- */

static int counter_can_watch(const struct footfall_counter *c)
{
	const struct vitrine_host *h = c->host;

	return h->struct_size >= offsetof(struct vitrine_host, watch_fd) + sizeof(h->watch_fd) &&
	       h->watch_fd;
}

static void counter_watch(struct footfall_counter *c, struct counter_input *in)
{
	in->watched = counter_can_watch(c) &&
		      c->host->watch_fd(c->ctx, in->fd, POLLIN, c->cb) == 0;
}

static void counter_input_close(struct footfall_counter *c, struct counter_input *in)
{
	if (in->fd < 0)
		return;
	if (in->watched)
		c->host->watch_fd(c->ctx, in->fd, 0, c->cb);
	close(in->fd);
	in->fd = -1;
	in->watched = 0;
	in->len = 0;
	in->discarding = 0;
}

static void counter_input_start(struct footfall_counter *c, struct counter_input *in,
				int fd, const char *name)
{
	in->fd = fd;
	in->len = 0;
	in->discarding = 0;
	in->last_rx_ms = c->host->mono_ms(c->ctx);
	vp_rate_init(&in->rate, c->p.rate, c->p.rate * COUNTER_RATE_BURST_FACTOR, in->last_rx_ms);
	snprintf(in->name, sizeof(in->name), "%s", name);
	counter_watch(c, in);
}

/* ---- lines to readings ------------------------------------------------ */

static void counter_drop(struct footfall_counter *c, const struct counter_input *in, int why)
{
	if (c->dropped[why]++ == 0)
		c->host->log(c->ctx, VITRINE_LOG_WARN,
			     "counter line from %s dropped (%s); further lines dropped for this reason are only counted",
			     in->name, counter_drop_reason(why));
}

/* Emits n people through door in one direction, in readings the agent
 * accepts (at most COUNTER_READING_MAX people each). */
static void counter_emit(struct footfall_counter *c, uint32_t door, uint32_t dir,
			 uint32_t n, int64_t t_ms)
{
	struct vitrine_reading r;

	while (n) {
		uint32_t k = n > COUNTER_READING_MAX ? COUNTER_READING_MAX : n;

		memset(&r, 0, sizeof(r));
		r.kind = VITRINE_KIND_FOOTFALL;
		r.time_ms = t_ms;
		r.u.footfall.door = door;
		r.u.footfall.direction = dir;
		r.u.footfall.count = k;
		if (c->host->emit(c->ctx, &r) == 0) {
			c->readings++;
			c->people += k;
		}
		n -= k;
	}
}

static void counter_line(struct footfall_counter *c, struct counter_input *in,
			 const char *text, size_t len)
{
	struct counter_line l;
	int64_t now = c->host->now_ms(c->ctx);
	int st = counter_line_parse(text, len, &l);

	if (st == COUNTER_LINE_BLANK)
		return;		/* a keep-alive costs nothing */
	if (!vp_rate_has(&in->rate, 1, c->host->mono_ms(c->ctx))) {
		counter_drop(c, in, COUNTER_DROP_RATE);
		return;
	}
	vp_rate_take(&in->rate, 1);
	if (st != COUNTER_LINE_OK) {
		counter_drop(c, in, st);
		return;
	}
	if (l.has_time && (l.time_ms > now + COUNTER_AHEAD_MS || l.time_ms < now - COUNTER_BEHIND_MS)) {
		counter_drop(c, in, COUNTER_DROP_TIME);
		return;
	}
	c->lines++;
	counter_emit(c, l.door, VITRINE_DIR_IN, l.in, l.has_time ? l.time_ms : now);
	counter_emit(c, l.door, VITRINE_DIR_OUT, l.out, l.has_time ? l.time_ms : now);
}

/* Cuts bytes into lines; an over-long line is dropped once, up to its LF. */
static void counter_bytes(struct footfall_counter *c, struct counter_input *in,
			  const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n') {
			if (!in->discarding)
				counter_line(c, in, in->buf, in->len);
			in->discarding = 0;
			in->len = 0;
		} else if (in->discarding) {
			continue;
		} else if (in->len < sizeof(in->buf)) {
			in->buf[in->len++] = b[i];
		} else {
			counter_drop(c, in, COUNTER_LINE_TOO_LONG);
			in->discarding = 1;
			in->len = 0;
		}
	}
}

/* ---- inputs ------------------------------------------------------------ */

static void counter_conn_closed(struct footfall_counter *c, struct counter_input *in,
				const char *why)
{
	if (in->len && !in->discarding)
		counter_drop(c, in, COUNTER_DROP_CUT);
	c->host->log(c->ctx, VITRINE_LOG_DEBUG, "counter connection from %s closed (%s)",
		     in->name, why);
	counter_input_close(c, in);
}

static void counter_serial_lost(struct footfall_counter *c, const char *why)
{
	c->host->log(c->ctx, VITRINE_LOG_WARN,
		     "serial port %s lost (%s); reopening it on the next collect",
		     c->serial.name, why);
	counter_input_close(c, &c->serial);
	c->serial_error[0] = '\0';
}

/* Reads what is there; 0, or -errno (EOF is -EPIPE) when the input ended. */
static int counter_drain(struct footfall_counter *c, struct counter_input *in)
{
	char chunk[COUNTER_READ_CHUNK];

	for (int i = 0; i < COUNTER_READS_PER_CALL; i++) {
		ssize_t n = read(in->fd, chunk, sizeof(chunk));

		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0)
			return -EPIPE;
		in->last_rx_ms = c->host->mono_ms(c->ctx);
		counter_bytes(c, in, chunk, (size_t)n);
	}
	return 0;
}

static void counter_service(struct footfall_counter *c, struct counter_input *in,
			    short revents)
{
	int rc = counter_drain(c, in);

	if (in == &c->serial) {
		if (rc || (revents & (POLLHUP | POLLERR)))
			counter_serial_lost(c, rc && rc != -EPIPE ? strerror(-rc) : "hang-up");
		return;
	}
	if (rc)
		counter_conn_closed(c, in, rc == -EPIPE ? "end of stream" : strerror(-rc));
}

static struct counter_input *counter_free_conn(struct footfall_counter *c)
{
	for (int i = 0; i < COUNTER_CONNS_MAX; i++)
		if (c->conns[i].fd < 0)
			return &c->conns[i];
	return NULL;
}

/* Out of descriptors: the connection stays queued and the listener
 * readable, so poll() would call back at once, forever. Stop watching it;
 * the next collect watches it again (counter_rearm()). */
static void counter_pause(struct footfall_counter *c, int rc)
{
	if (c->accept_failures++ == 0)
		c->host->log(c->ctx, VITRINE_LOG_WARN,
			     "cannot accept a counter connection on %s (%s); not accepting until the next collect (further ones are only counted)",
			     c->p.listen, strerror(-rc));
	if (!c->listener.watched)
		return;
	c->host->watch_fd(c->ctx, c->listener.fd, 0, c->cb);
	c->listener.watched = 0;
	c->listener_paused = 1;
}

static void counter_rearm(struct footfall_counter *c)
{
	if (!c->listener_paused || c->listener.fd < 0)
		return;
	c->listener_paused = 0;
	counter_watch(c, &c->listener);
}

static void counter_accept(struct footfall_counter *c)
{
	char peer[64];
	int fd, rc = 0;

	for (int n = 0; n < COUNTER_ACCEPTS_PER_CALL; n++) {
		struct counter_input *in;

		rc = counter_io_accept(c->listener.fd, &fd, peer, sizeof(peer));
		if (rc)
			break;
		in = counter_free_conn(c);
		if (!in) {
			if (c->refused++ % 100 == 0)
				c->host->log(c->ctx, VITRINE_LOG_WARN,
					     "counter connection from %s refused: %d already open, the most accepted (%llu refused so far)",
					     peer, COUNTER_CONNS_MAX, (unsigned long long)c->refused);
			close(fd);
			continue;
		}
		c->accepted++;
		counter_input_start(c, in, fd, peer);
		c->host->log(c->ctx, VITRINE_LOG_DEBUG, "counter connection from %s", peer);
	}
	if (rc == -EMFILE || rc == -ENFILE)
		counter_pause(c, rc);
}

/* ---- opening --------------------------------------------------------- */

/* Logs an open failure unless it is the one logged last time. */
static void counter_open_failed(struct footfall_counter *c, char *last, const char *err)
{
	c->open_failures++;
	if (!strcmp(last, err))
		return;
	snprintf(last, FOOTFALL_ERROR_MAX, "%s", err);
	c->host->log(c->ctx, VITRINE_LOG_ERROR, "%s; retrying", err);
}

static int counter_open_listener(struct footfall_counter *c)
{
	char err[FOOTFALL_ERROR_MAX];
	int fd, rc;

	if (!c->p.listen[0] || c->listener.fd >= 0)
		return 0;
	rc = counter_io_listen(c->p.listen, &fd, &c->port, err, sizeof(err));
	if (rc) {
		counter_open_failed(c, c->listen_error, err);
		return rc;
	}
	c->listen_error[0] = '\0';
	counter_input_start(c, &c->listener, fd, c->p.listen);
	c->host->log(c->ctx, VITRINE_LOG_INFO,
		     "listening for people-counter lines on %s (port %u)", c->p.listen, c->port);
	return 0;
}

static int counter_open_serial(struct footfall_counter *c)
{
	char err[FOOTFALL_ERROR_MAX];
	int fd, rc;

	if (!c->p.serial[0] || c->serial.fd >= 0)
		return 0;
	rc = counter_io_serial(c->p.serial, c->p.serial_speed, &fd, err, sizeof(err));
	if (rc) {
		counter_open_failed(c, c->serial_error, err);
		return rc;
	}
	c->serial_error[0] = '\0';
	counter_input_start(c, &c->serial, fd, c->p.serial);
	c->host->log(c->ctx, VITRINE_LOG_INFO,
		     "reading people-counter lines from %s at %u bit/s", c->p.serial,
		     c->p.serial_speed);
	return 0;
}

/* ---- the interface --------------------------------------------------- */

int footfall_counter_create(const struct footfall_counter_params *p,
			    const struct vitrine_host *host, struct vitrine_ctx *ctx,
			    vitrine_fd_cb cb, struct footfall_counter **out)
{
	struct footfall_counter *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->host = host;
	c->ctx = ctx;
	c->cb = cb;
	c->p = *p;
	if (!c->p.rate)
		c->p.rate = COUNTER_RATE_DEFAULT;
	c->listener.fd = -1;
	c->serial.fd = -1;
	for (int i = 0; i < COUNTER_CONNS_MAX; i++)
		c->conns[i].fd = -1;
	*out = c;
	return 0;
}

static void counter_close_idle(struct footfall_counter *c)
{
	int64_t now = c->host->mono_ms(c->ctx);

	for (int i = 0; i < COUNTER_CONNS_MAX; i++) {
		struct counter_input *in = &c->conns[i];

		if (in->fd >= 0 && now - in->last_rx_ms > COUNTER_IDLE_MS)
			counter_conn_closed(c, in, "silent for 10 minutes");
	}
}

int footfall_counter_collect(struct footfall_counter *c)
{
	int rc = counter_open_listener(c);
	int rc_serial = counter_open_serial(c);

	counter_rearm(c);
	if (c->listener.fd >= 0 && !c->listener.watched && !c->listener_paused)
		counter_accept(c);
	for (int i = 0; i < COUNTER_CONNS_MAX; i++)
		if (c->conns[i].fd >= 0 && !c->conns[i].watched)
			counter_service(c, &c->conns[i], 0);
	if (c->serial.fd >= 0 && !c->serial.watched)
		counter_service(c, &c->serial, 0);
	counter_close_idle(c);
	return rc ? rc : rc_serial;
}

void footfall_counter_on_fd(struct footfall_counter *c, int fd, short revents)
{
	if (fd == c->listener.fd) {
		counter_accept(c);
		return;
	}
	if (fd == c->serial.fd) {
		counter_service(c, &c->serial, revents);
		return;
	}
	for (int i = 0; i < COUNTER_CONNS_MAX; i++)
		if (c->conns[i].fd == fd) {
			counter_service(c, &c->conns[i], revents);
			return;
		}
}

uint16_t footfall_counter_port(const struct footfall_counter *c)
{
	return c->listener.fd >= 0 ? c->port : 0;
}

/* "3 lines dropped (2 door not in 1..255, 1 ...)": the dropped lines by
 * reason. */
static void counter_drops_text(const struct footfall_counter *c, char *buf, size_t len)
{
	uint64_t total = 0;
	size_t used;
	int first = 1;

	for (int i = 0; i < COUNTER_DROP_REASONS; i++)
		total += c->dropped[i];
	used = (size_t)snprintf(buf, len, "%llu lines dropped", (unsigned long long)total);
	for (int i = 0; i < COUNTER_DROP_REASONS && used < len; i++) {
		if (!c->dropped[i])
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%llu %s", first ? " (" : ", ",
					 (unsigned long long)c->dropped[i], counter_drop_reason(i));
		first = 0;
	}
	if (!first && used < len)
		snprintf(buf + used, len - used, ")");
}

void footfall_counter_destroy(struct footfall_counter *c)
{
	char drops[512];

	if (!c)
		return;
	counter_drops_text(c, drops, sizeof(drops));
	c->host->log(c->ctx, VITRINE_LOG_INFO,
		     "stopping: %llu counter lines, %llu readings (%llu people), %s, %llu connections accepted, %llu refused, %llu failed accepts, %llu failed opens",
		     (unsigned long long)c->lines, (unsigned long long)c->readings,
		     (unsigned long long)c->people, drops,
		     (unsigned long long)c->accepted, (unsigned long long)c->refused,
		     (unsigned long long)c->accept_failures,
		     (unsigned long long)c->open_failures);
	for (int i = 0; i < COUNTER_CONNS_MAX; i++)
		counter_input_close(c, &c->conns[i]);
	counter_input_close(c, &c->serial);
	counter_input_close(c, &c->listener);
	free(c);
}
