/*
 * plugins/tablet/kiosk_sock.h - the kiosk events' Unix-domain socket:
 * a stream socket where local clients write JSON lines, one event a line
 * (kiosk_sock.c). Used by source_kiosk.c only.
 */
#ifndef VT_TABLET_KIOSK_SOCK_H
#define VT_TABLET_KIOSK_SOCK_H

#include "kiosk_intake.h"

/* Most clients connected at once; one more is accepted and closed. The
 * agent watches at most 8 descriptors per plugin: this, the listener and
 * the HTTP server's must fit. */
#define KIOSK_SOCK_CONN_MAX 4

struct kiosk_sock;

/* Creates the socket at path (mode 0660; a stale socket file left by a
 * dead process is replaced, anything else there is refused), listens and
 * watches it. env is copied, path too. Logs what went wrong and returns
 * -errno; 0 with *out set (free with kiosk_sock_close()). */
int kiosk_sock_open(struct kiosk_sock **out, const struct kiosk_env *env,
		    const char *path);

/* Stops watching, closes every connection and the listener, removes the
 * socket file (if it is still the one it made) and frees s (NULL: no-op). */
void kiosk_sock_close(struct kiosk_sock *s);

/* From the plugin's periodic tick: watches the listener again after it was
 * set aside because the process was out of descriptors (EMFILE, ENFILE). */
void kiosk_sock_tick(struct kiosk_sock *s);

/* Handles readiness of fd; returns 0 when fd is not one of s's. */
int kiosk_sock_ready(struct kiosk_sock *s, int fd, short revents);

#endif /* VT_TABLET_KIOSK_SOCK_H */
