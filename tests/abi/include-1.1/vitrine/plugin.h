/*
 * vitrine/plugin.h - the collector plugin ABI.
 *
 * This is the only header a plugin includes. A plugin is a shared object that
 * exports exactly one symbol, `vitrine_plugin` (a const struct vitrine_plugin).
 * The agent hands the plugin a table of host functions (struct vitrine_host):
 * plugins never call into the agent by symbol, never see keys and never decide
 * privacy on their own: fields marked "identifier" below are pseudonymized by
 * the agent before anything is batched.
 *
 * Versioning: VITRINE_ABI_MAJOR changes when an existing field changes meaning
 * or moves; the loader refuses any other major. New fields are only ever added
 * at the end of a struct, and each struct carries its own size, so an older
 * plugin (smaller struct_size) still loads into a newer agent. One exception,
 * for privacy: since ABI 1.1 a plugin must declare the fields it emits
 * (struct vitrine_field); the agent refuses a plugin that declares none.
 *
 * Threading: the agent is single-threaded. Every callback runs on the agent's
 * poll() loop and must not block; a plugin that needs to wait registers a file
 * descriptor (host->watch_fd) or asks for a periodic call (collect_interval_ms).
 */
#ifndef VITRINE_PLUGIN_H
#define VITRINE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VITRINE_ABI_MAJOR 1
#define VITRINE_ABI_MINOR 1

/* Name of the one symbol a plugin exports. */
#define VITRINE_PLUGIN_SYMBOL "vitrine_plugin"

#if defined(__GNUC__)
#define VITRINE_EXPORT __attribute__((visibility("default")))
#define VITRINE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VITRINE_EXPORT
#define VITRINE_PRINTF(a, b)
#endif

/* ---- readings ------------------------------------------------------------ */

enum vitrine_kind {
	VITRINE_KIND_FOOTFALL = 1,
	VITRINE_KIND_TABLET = 2,
	VITRINE_KIND_RFID = 3,
};

enum vitrine_direction {
	VITRINE_DIR_IN = 1,
	VITRINE_DIR_OUT = 2,
};

/* A pass through a door, as seen by a pair of beam-break sensors. */
struct vitrine_footfall {
	uint32_t door;		/* door number within the store, 0..255 */
	uint32_t direction;	/* enum vitrine_direction */
	uint32_t count;		/* people in this event (1 for a beam pair) */
};

enum vitrine_tablet_event {
	VITRINE_TABLET_SESSION_START = 1,
	VITRINE_TABLET_SESSION_END = 2,
	VITRINE_TABLET_SCREEN_VIEW = 3,
	VITRINE_TABLET_PRODUCT_LOOKUP = 4,
};

#define VITRINE_SESSION_MAX 64	/* bytes, NUL included */
#define VITRINE_SCREEN_MAX 32
#define VITRINE_GTIN_MAX 15	/* GTIN-14 + NUL */

/* One interaction on an in-store kiosk. */
struct vitrine_tablet {
	uint32_t kiosk;			/* kiosk number within the store */
	uint32_t event;			/* enum vitrine_tablet_event */
	char session[VITRINE_SESSION_MAX]; /* IDENTIFIER: kiosk session id */
	char screen[VITRINE_SCREEN_MAX];   /* screen name, SCREEN_VIEW only */
	char gtin[VITRINE_GTIN_MAX];	   /* 14 digits, PRODUCT_LOOKUP only */
	uint32_t duration_ms;		   /* time on screen / session length */
};

/* One read of a UHF tag carrying an SGTIN-96 EPC, already decoded by the
 * plugin. The serial number identifies one physical item (and so, possibly,
 * the person carrying it): the agent replaces it with a keyed digest. */
struct vitrine_rfid {
	uint32_t reader;	/* reader number within the store */
	uint32_t antenna;	/* antenna port, 1-based as in LLRP */
	int32_t rssi_cdbm;	/* received strength, centi-dBm (-6550 = -65.5 dBm) */
	char gtin[VITRINE_GTIN_MAX]; /* product: GTIN-14 from company prefix + item ref */
	uint32_t filter;	/* SGTIN filter value, 0..7 */
	uint64_t serial;	/* IDENTIFIER: SGTIN-96 serial (38 bits) */
};

struct vitrine_reading {
	uint32_t kind;		/* enum vitrine_kind */
	int64_t time_ms;	/* UTC, milliseconds since the Unix epoch */
	union {
		struct vitrine_footfall footfall;
		struct vitrine_tablet tablet;
		struct vitrine_rfid rfid;
	} u;
};

/* ---- field declarations (ABI 1.1) ----------------------------------------- */

/* A plugin lists every field it fills, by kind and by the member's name in
 * that kind's struct above ("door", "serial", ...), and flags the
 * identifiers. The agent checks the list at load against its own (a field
 * that is an identifier must be declared as one), zeroes any field a
 * reading fills that the plugin did not declare (counted and logged), and
 * alone decides what becomes of identifiers (docs/PRIVACY.md, R9). */
enum vitrine_field_flags {
	VITRINE_FIELD_IDENTIFIER = 1,
};

struct vitrine_field {
	uint32_t kind;		/* enum vitrine_kind */
	const char *name;	/* member name; NULL ends the list */
	uint32_t flags;		/* enum vitrine_field_flags */
};

/* ---- host side ----------------------------------------------------------- */

enum vitrine_log_level {
	VITRINE_LOG_ERROR = 0,
	VITRINE_LOG_WARN = 1,
	VITRINE_LOG_INFO = 2,
	VITRINE_LOG_DEBUG = 3,
};

/* Opaque handle the host gives each plugin instance; pass it back on every call. */
struct vitrine_ctx;

/* Called when a watched descriptor is ready; revents as in poll(2). */
typedef void (*vitrine_fd_cb)(void *state, int fd, short revents);

struct vitrine_host {
	uint32_t abi_major;
	uint32_t struct_size;	/* sizeof(struct vitrine_host) of the agent */

	/* Hand one reading to the pipeline. The reading is copied: the plugin
	 * keeps ownership of r. Returns 0, or a negative code when the reading
	 * is invalid (counted and dropped by the agent). Never blocks. */
	int (*emit)(struct vitrine_ctx *ctx, const struct vitrine_reading *r);

	/* Log a message under the plugin's name. */
	void (*log)(struct vitrine_ctx *ctx, int level, const char *fmt, ...)
		VITRINE_PRINTF(3, 4);

	/* Value of "<plugin>.<key>" in the agent's configuration, or NULL.
	 * The string is borrowed and lives until fini. */
	const char *(*config)(struct vitrine_ctx *ctx, const char *key);

	/* Wall clock (UTC ms) and monotonic clock (ms). */
	int64_t (*now_ms)(struct vitrine_ctx *ctx);
	int64_t (*mono_ms)(struct vitrine_ctx *ctx);

	/* Watch fd for events (POLLIN/POLLOUT); cb(state, fd, revents) is called
	 * from the poll loop. events = 0 stops watching. Returns 0 or -errno. */
	int (*watch_fd)(struct vitrine_ctx *ctx, int fd, short events, vitrine_fd_cb cb);

	/* For fd-driven plugins: the source failed (reader unplugged, socket
	 * closed...) or recovered. The agent logs each change of state once and
	 * shows it in the device status. (A collect callback reports the same by
	 * its return value.) */
	void (*source_failed)(struct vitrine_ctx *ctx, const char *reason);
	void (*source_ok)(struct vitrine_ctx *ctx);
};

/* ---- plugin side --------------------------------------------------------- */

struct vitrine_plugin {
	uint32_t abi_major;	/* VITRINE_ABI_MAJOR the plugin was built against */
	uint32_t abi_minor;
	uint32_t struct_size;	/* sizeof(struct vitrine_plugin) of the plugin */
	const char *name;	/* [a-z0-9_]+, also the config prefix */
	const char *version;
	const char *description;
	/* NULL-terminated list of the keys the plugin reads with host->config;
	 * the agent refuses any other "<name>.<key>" naming file and line. */
	const char *const *config_keys;

	/* Start the source. *state is the plugin's own; returned on every call.
	 * Return 0, or a negative errno: the agent logs it and retries later. */
	int (*init)(const struct vitrine_host *host, struct vitrine_ctx *ctx, void **state);

	/* Called every collect_interval_ms (0: never). Returns 0 when all is
	 * well. A negative code reports a source failure: the agent logs it once,
	 * marks the plugin degraded and backs off (next call after 1 s, 2 s,
	 * 4 s ... at most 60 s); collect should try to reopen its source, and the
	 * first 0 it returns afterwards is logged as a recovery. 1 means the
	 * source is finished (a simulation that reached its limit): the agent
	 * stops calling collect. Plugin state is kept across failures. */
	int (*collect)(void *state);
	uint32_t collect_interval_ms;

	/* Release everything; after fini the plugin may be unloaded. */
	void (*fini)(void *state);

	/* ABI 1.1: the fields this plugin emits, ended by { 0, NULL, 0 }. */
	const struct vitrine_field *fields;
};

/* The one symbol a plugin defines (with VITRINE_EXPORT). */
extern const struct vitrine_plugin vitrine_plugin;

#ifdef __cplusplus
}
#endif
#endif /* VITRINE_PLUGIN_H */
