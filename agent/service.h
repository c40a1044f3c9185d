/*
 * service.h - what the agent tells the service manager that runs it
 * (systemd with Type=notify and WatchdogSec=, platform/vt_sd.h), from its
 * main loop:
 *
 *   READY=1     once the plugins are loaded and either the broker session
 *               is up or the agent has decided to collect into the spool:
 *               the broker refused or could not be reached, or gave no
 *               answer for VT_SERVICE_READY_WAIT_MS from the first turn of
 *               the main loop. A broker that is away never holds up the
 *               start: spooling is normal operation. READY=1 is repeated
 *               with every STATUS= while ready (systemd ignores repeats).
 *   STATUS=...  one line an operator can act on ("connected to broker
 *               10.0.0.2:8883; plugins: 3 of 3 running; spool: 0 frames
 *               waiting", "spooling: broker ... unreachable (Connection
 *               refused), retrying; ..."), sent when the state changes and
 *               refreshed every VT_SERVICE_STATUS_MS for the spool's depth.
 *   WATCHDOG=1  every half watchdog interval, from vt_service_tick() only:
 *               a loop that stops turning stops the keep-alives.
 *   RELOADING=1 on SIGHUP and before the agent executes itself again;
 *               READY=1 follows once the reloaded agent is ready again.
 *   STOPPING=1  when a stop begins (SIGTERM), before the drain.
 *
 * Without a service manager (no NOTIFY_SOCKET) all of this costs a few
 * comparisons per turn and sends nothing.
 */
#ifndef VT_SERVICE_H
#define VT_SERVICE_H

#include <stdint.h>

#include "conf.h"
#include "vt_sd.h"

/* The longest the agent waits for its first broker session before it
 * says it is ready (and spooling). */
#define VT_SERVICE_READY_WAIT_MS 10000
/* How often an unchanged STATUS= is sent again, for its numbers. */
#define VT_SERVICE_STATUS_MS 30000
#define VT_SERVICE_STATUS_MAX 512

struct vt_pub;
struct vt_plugset;
struct vt_spool;

struct vt_service {
	struct vt_sd sd;
	const struct vt_hostport *broker;	/* borrowed: the agent's configuration */
	int ready;				/* READY=1 sent since the last (re)load */
	int64_t started_ms;			/* first turn of the loop (plugins loaded) */
	int64_t next_status_ms;
	char last_state[VT_SERVICE_STATUS_MAX];	/* the last STATUS= without its numbers */
};

/* Open the notify socket (if any), say the agent is starting and log the
 * watchdog's interval. broker is borrowed and must outlive s. */
void vt_service_open(struct vt_service *s, const struct vt_hostport *broker, int64_t mono_ms);

/* Once per turn of the main loop, after the publisher's tick and before
 * poll(): the keep-alive if due, READY=1 when the agent has become ready,
 * STATUS= when it changed. All arguments are borrowed for the call.
 * Returns the milliseconds until it must run again (the next keep-alive),
 * or -1 when nothing is due. */
int64_t vt_service_tick(struct vt_service *s, const struct vt_pub *pub,
			const struct vt_plugset *ps, struct vt_spool *spool,
			int64_t mono_ms);

/* RELOADING=1 with STATUS=status (borrowed): the next vt_service_tick()
 * that finds the agent ready sends READY=1 again. */
void vt_service_reloading(struct vt_service *s, const char *status);

/* STOPPING=1 with STATUS=status (borrowed). */
void vt_service_stopping(struct vt_service *s, const char *status);

void vt_service_close(struct vt_service *s);

#endif
