/*
 * plugins/footfall/counter.h - the people-counter source: counts pushed by
 * a commercial counter as lines (counter_line.h) over TCP connections to a
 * listening socket and/or over a serial port, turned into footfall readings
 * (door, direction, count).
 *
 * All I/O is non-blocking. Descriptors are watched through host->watch_fd
 * when the host has it and a slot is free; any that is not is serviced on
 * each footfall_counter_collect() instead. Malformed lines are counted and
 * dropped by reason, the first of each reason logged; so are lines over an
 * input's token bucket (p->rate lines a second, bursts of 5x that).
 * Connections are capped (COUNTER_CONNS_MAX) and closed after
 * COUNTER_IDLE_MS of silence; the listener accepts at most
 * COUNTER_ACCEPTS_PER_CALL a callback and, when the process is out of
 * descriptors, is not watched until the next collect.
 * Single-threaded: the agent's poll loop only.
 */
#ifndef VT_FOOTFALL_COUNTER_H
#define VT_FOOTFALL_COUNTER_H

#include <vitrine/plugin.h>

#include <stdint.h>

#define COUNTER_CONNS_MAX 4
/* Connections accepted per listener callback; the rest wait for the next. */
#define COUNTER_ACCEPTS_PER_CALL 4
#define COUNTER_RATE_DEFAULT 10
#define COUNTER_RATE_MAX 1000
/* Burst = rate x this: 50 lines at the default 10 a second. */
#define COUNTER_RATE_BURST_FACTOR 5
#define COUNTER_IDLE_MS (10 * 60 * 1000)
/* A line's time may be this far ahead of the device's clock... */
#define COUNTER_AHEAD_MS (5 * 60 * 1000)
/* ...or this far behind it. */
#define COUNTER_BEHIND_MS (24 * 3600 * 1000)

struct footfall_counter_params {
	char listen[80];	/* "127.0.0.1:7878"; "" = no TCP listener */
	char serial[128];	/* "/dev/ttyUSB0"; "" = no serial port */
	uint32_t serial_speed;	/* bit/s */
	uint32_t rate;		/* lines a second per input (footfall.counter_rate) */
};

struct footfall_counter;

/* Creates the source; nothing is opened yet. host and ctx are borrowed
 * for its life; cb is what the plugin registers with host->watch_fd, and
 * must call footfall_counter_on_fd(). 0 and *out (free with
 * footfall_counter_destroy()), or -ENOMEM. */
int footfall_counter_create(const struct footfall_counter_params *p,
			    const struct vitrine_host *host, struct vitrine_ctx *ctx,
			    vitrine_fd_cb cb, struct footfall_counter **out);

/* Opens what is not open (listener, serial port), services descriptors
 * that are not watched, closes idle connections. 0, or the -errno of an
 * input that cannot be opened (logged; the others keep working). */
int footfall_counter_collect(struct footfall_counter *c);

/* A watched descriptor is ready. */
void footfall_counter_on_fd(struct footfall_counter *c, int fd, short revents);

/* The port the listener is bound to (0: none yet). */
uint16_t footfall_counter_port(const struct footfall_counter *c);

/* Logs the totals, closes everything; NULL is a no-op. */
void footfall_counter_destroy(struct footfall_counter *c);

#endif /* VT_FOOTFALL_COUNTER_H */
