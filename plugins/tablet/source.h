/*
 * plugins/tablet/source.h - where kiosk interaction events come from.
 *
 * A source delivers the events of every in-store kiosk (session start and
 * end, screen views, product lookups), oldest first, each with the time it
 * happened on the source's clock. Drivers: source_sim.c (simulated kiosks,
 * for demos and tests) and source_kiosk.c (the real kiosks: their web app
 * posts events over HTTP on 127.0.0.1 or writes JSON lines to a
 * Unix-domain socket). The plugin validates every event again (a source is
 * not trusted to get fields right). Single-threaded: the agent's poll loop
 * only.
 */
#ifndef VT_TABLET_SOURCE_H
#define VT_TABLET_SOURCE_H

#include <stdint.h>

#include <vitrine/plugin.h>

struct tablet_event {
	uint32_t kiosk;			  /* 1-based */
	uint32_t type;			  /* enum vitrine_tablet_event */
	char session[VITRINE_SESSION_MAX]; /* the kiosk's session id */
	char screen[VITRINE_SCREEN_MAX];   /* SCREEN_VIEW: screen name */
	char gtin[VITRINE_GTIN_MAX];	   /* PRODUCT_LOOKUP: GTIN-14 */
	uint32_t duration_ms;		   /* view: time on screen; lookup: time
					    * on the product; end: session length */
	int64_t ts_ms;			   /* source clock: UTC ms =
					    * epoch_utc_ms + ts_ms */
};

struct tablet_source;

struct tablet_source_ops {
	const char *name;
	/* Start (or restart after a failure; state is kept). 0 or -errno. */
	int (*open)(struct tablet_source *src);
	/* Fill *ev with the next event whose time is <= horizon_ms and return
	 * 1; return 0 when none is ready; -errno when the source failed (it is
	 * then closed: call open again). A socket driver ignores horizon_ms
	 * and returns what the kiosks have already sent. */
	int (*next_event)(struct tablet_source *src, int64_t horizon_ms,
			  struct tablet_event *ev);
	void (*close)(struct tablet_source *src);
	/* Free the source (closing it first if needed). */
	void (*destroy)(struct tablet_source *src);
	/* Optional (NULL in the simulation). Once per collect call, before
	 * next_event: timers (HTTP timeouts, the counters' log). */
	void (*tick)(struct tablet_source *src);
	/* Optional: a descriptor the source registered with host->watch_fd
	 * is ready (the plugin's watch callback passes it on). */
	void (*fd_ready)(struct tablet_source *src, int fd, short revents);
};

/* Drivers embed this as their first member. */
struct tablet_source {
	const struct tablet_source_ops *ops;
	/* UTC ms at ts_ms = 0 of the source's clock; set by open. */
	int64_t epoch_utc_ms;
};

/* ---- the simulated driver (source_sim.c) ---- */

#define TABLET_KIOSKS_MAX 32
#define TABLET_SIM_CANARIES_MAX 16

struct tablet_sim_params {
	uint64_t seed;
	int64_t start_utc_ms;	/* simulated time the store's day starts from */
	uint32_t kiosks;	/* 1..TABLET_KIOSKS_MAX */
	uint64_t fail_every;	/* fail after every N events; 0 = never */
	/* Canary session ids (the test key tablet.canary), NUL-terminated:
	 * the first sessions started (kiosk 1, 2, ... at create, then in the
	 * order sessions end) use them in turn instead of random ids. Borrowed
	 * for the create call only (copied); NULL when ncanaries is 0. */
	const char (*canaries)[VITRINE_SESSION_MAX];
	uint32_t ncanaries;	/* 0..TABLET_SIM_CANARIES_MAX */
};

/* Creates a simulated source; *out is freed with (*out)->ops->destroy.
 * Its clock is UTC ms (epoch_utc_ms = 0). Returns 0, -EINVAL or -ENOMEM. */
int tablet_sim_create(const struct tablet_sim_params *p,
		      struct tablet_source **out);

/* The simulated catalogue: GTIN-14 number i (0 <= i < count), or NULL. */
const char *tablet_sim_product(unsigned i);

/* ---- the real kiosks (source_kiosk.c) ---- */

struct tablet_kiosk_params {
	/* Borrowed, for the source's life: the host table and context (to
	 * watch descriptors, log, read the clocks) and the callback to watch
	 * them with, which must call ops->fd_ready. */
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	vitrine_fd_cb fd_cb;
	uint32_t kiosks;	/* kiosk numbers 1..kiosks are accepted */
	uint32_t http_port;	/* on 127.0.0.1; 0 = no HTTP */
	uint32_t http_max_body;	/* bytes per request */
	const char *socket_path; /* NULL = no socket; copied */
	uint32_t rate;		/* events a second per kiosk; burst 2 x rate */
	uint32_t rate_total;	/* events a second for all; burst 2 x */
};

/* Creates the kiosk source (listening starts at open); *out is freed with
 * (*out)->ops->destroy. Its events carry the agent's receive time (UTC ms,
 * epoch_utc_ms = 0). Returns 0, -EINVAL or -ENOMEM. */
int tablet_kiosk_create(const struct tablet_kiosk_params *p,
			struct tablet_source **out);

#endif /* VT_TABLET_SOURCE_H */
