/*
 * plugins/tablet/kiosk_http.h - the kiosk events' HTTP endpoint on
 * 127.0.0.1 (libmicrohttpd, driven from the agent's poll loop; see
 * kiosk_http.c). Used by source_kiosk.c only.
 */
#ifndef VT_TABLET_KIOSK_HTTP_H
#define VT_TABLET_KIOSK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "kiosk_intake.h"

#define KIOSK_HTTP_PATH "/v1/events"
#define KIOSK_HTTP_CONN_MAX 16		/* connections at once */
#define KIOSK_HTTP_TIMEOUT_S 10		/* an idle connection is closed */
#define KIOSK_HTTP_CONN_MEMORY 16384	/* MHD's per-connection pool */

struct kiosk_http;

/* Listens on 127.0.0.1:port and watches the server's descriptor. env is
 * copied. Logs what went wrong ("address in use; set tablet.http_port")
 * and returns -errno; 0 with *out set (free with kiosk_http_close()). */
int kiosk_http_open(struct kiosk_http **out, const struct kiosk_env *env,
		    uint16_t port, size_t max_body);

/* Stops watching, closes every connection and the listener, frees h
 * (NULL: no-op). */
void kiosk_http_close(struct kiosk_http *h);

/* Lets the server work: on readiness of its descriptor (returns 0 when fd
 * is not h's; fd < 0 always runs it), and from the periodic tick for its
 * timeouts. */
int kiosk_http_run(struct kiosk_http *h, int fd);

#endif /* VT_TABLET_KIOSK_HTTP_H */
