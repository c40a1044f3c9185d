/*
 * vt_sd.h - the service manager's notification protocol (systemd's
 * sd_notify(3)), spoken without libsystemd.
 *
 * A service manager that starts the agent with Type=notify sets
 * NOTIFY_SOCKET, a Unix datagram socket ("/run/systemd/notify", or
 * "@name" in the abstract namespace), and with WatchdogSec= also
 * WATCHDOG_USEC (and WATCHDOG_PID, the process it is meant for). The agent
 * sends it text datagrams of "KEY=value" lines: READY=1, STATUS=...,
 * WATCHDOG=1, RELOADING=1, STOPPING=1. Without NOTIFY_SOCKET every call
 * here does nothing and returns 0: the agent runs the same from a shell.
 *
 * What this file does not do: decide when the agent is ready or what its
 * status says (agent/service.h), or send anything from a thread or a
 * timer signal. Keep-alives go out only when the caller's loop calls
 * vt_sd_keepalive(), so that a loop that stops turning stops them and the
 * service manager restarts the agent. The environment is left as it is:
 * the agent executes itself again on a reload (same process id) and goes
 * on notifying from the new image.
 *
 * Sends never block (MSG_DONTWAIT): a service manager too busy to read
 * loses a datagram, and a keep-alive lost that way is sent again half a
 * watchdog interval later.
 */
#ifndef VT_SD_H
#define VT_SD_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct vt_sd {
	int fd;				/* -1: no service manager to tell */
	struct sockaddr_un addr;	/* NOTIFY_SOCKET */
	socklen_t addr_len;
	int64_t keepalive_ms;		/* half of WATCHDOG_USEC, in ms; 0: no watchdog */
	int64_t next_keepalive_ms;	/* monotonic (vt_os_mono_ms) */
	uint64_t keepalives;		/* WATCHDOG=1 sent */
	uint64_t send_failures;
};

/* Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. The first keep-alive
 * is due at mono_ms. Returns 1 when a service manager listens, 0 when
 * none was named (sd->fd == -1), or a negative code when NOTIFY_SOCKET
 * cannot be used (-EINVAL: neither an absolute path nor "@name",
 * -ENAMETOOLONG, -EAFNOSUPPORT: another kind of address such as vsock:,
 * or socket()'s error); sd is then inert too. The watchdog is off
 * (keepalive_ms == 0) when WATCHDOG_USEC is unset, not a positive
 * number, or WATCHDOG_PID names another process. */
int vt_sd_open(struct vt_sd *sd, int64_t mono_ms);

/* Send one datagram of "KEY=value" lines (msg is borrowed). Returns 0
 * (also when there is no service manager) or -errno. */
int vt_sd_send(struct vt_sd *sd, const char *msg);

/* Send WATCHDOG=1 if it is due at mono_ms (and schedule the next one).
 * Returns the milliseconds until the next one is due (0 or more), or -1
 * when there is no watchdog: a loop bounds its poll() timeout by it. */
int64_t vt_sd_keepalive(struct vt_sd *sd, int64_t mono_ms);

/* RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC, as systemd wants it)
 * and STATUS=status (borrowed; NULL: none). READY=1 ends the reload.
 * Returns as vt_sd_send(). */
int vt_sd_reloading(struct vt_sd *sd, const char *status);

/* Close the socket; sd becomes inert. */
void vt_sd_close(struct vt_sd *sd);

#endif
