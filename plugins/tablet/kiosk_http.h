/*
 * plugins/tablet/kiosk_http.h - the kiosk events' HTTP endpoint on
 * 127.0.0.1 (libmicrohttpd, driven from the agent's poll loop; see
 * kiosk_http.c), and how source_kiosk.c finds it (kiosk_http_load.c).
 *
 * kiosk_http.c is built into tablet-http.so, beside tablet.so, and loaded
 * only when tablet.http_port is set: libmicrohttpd brings GnuTLS, nettle
 * and p11-kit with it, about 2.4 MB of an agent's VmRSS that an agent
 * whose kiosks use the socket, or a simulated one, does not need. Its
 * functions are reached through one exported table, kiosk_http_module.
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

/* The module's file, in the directory tablet.so was loaded from. */
#define KIOSK_HTTP_MODULE_FILE "tablet-http.so"
/* Changes with struct kiosk_http_module, struct kiosk_env or struct
 * kiosk_intake_ops: a module of another version is refused. */
#define KIOSK_HTTP_MODULE_VERSION 1

struct kiosk_http;

struct kiosk_http_module {
	uint32_t version;	/* KIOSK_HTTP_MODULE_VERSION */

	/* Listens on 127.0.0.1:port and watches the server's descriptor.
	 * env is copied. Logs what went wrong ("address in use; set
	 * tablet.http_port") and returns -errno; 0 with *out set (free
	 * with close()). */
	int (*open)(struct kiosk_http **out, const struct kiosk_env *env,
		    uint16_t port, size_t max_body);

	/* Stops watching, closes every connection and the listener, frees
	 * h (NULL: no-op). */
	void (*close)(struct kiosk_http *h);

	/* Lets the server work: on readiness of its descriptor (returns 0
	 * when fd is not h's; fd < 0 always runs it), and from the
	 * periodic tick for its timeouts. */
	int (*run)(struct kiosk_http *h, int fd);
};

/* Defined by kiosk_http.c. tablet.so does not link that file: there the
 * declaration is weak and the address NULL, and kiosk_http_load() opens
 * the module. The plugin's unit tests link it, and use it directly. */
extern const struct kiosk_http_module kiosk_http_module
	__attribute__((weak, visibility("default")));

/* The module: linked in, or dlopen()ed from the directory of the shared
 * object this code is in. Logs what is missing and what to do, and
 * returns -ENOENT or -EPROTO; 0 with *mod and *handle (NULL when linked
 * in) set. */
int kiosk_http_load(const struct kiosk_http_module **mod, void **handle,
		    const struct vitrine_host *host, struct vitrine_ctx *ctx);

/* dlclose()s what kiosk_http_load() opened (NULL: no-op). */
void kiosk_http_unload(void *handle);

#endif /* VT_TABLET_KIOSK_HTTP_H */
