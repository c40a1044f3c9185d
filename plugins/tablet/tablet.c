/*
 * plugins/tablet/tablet.c - the tablet collector plugin: glue between a
 * kiosk event source and the agent.
 *
 * Reads the configuration, starts the source (tablet.source: the simulated
 * kiosks, paced on a simulated clock, or the real ones, whose web app
 * sends events over HTTP or a Unix-domain socket: source_kiosk.c), passes
 * on the readiness of the descriptors a source watches, checks every event
 * (kind, NUL-terminated strings, GTIN-14 check digit) and emits one
 * VITRINE_KIND_TABLET reading per valid event; invalid events are counted
 * and dropped. It does not build sessions or dwell statistics (the
 * aggregator does) and never logs a session id: it is an identifier that
 * the agent replaces with a keyed digest.
 */
#include <vitrine/plugin.h>

#include "fields.h"
#include "kiosk_event.h"
#include "source.h"

#include "common/plugin_conf.h"
#include "common/sim_clock.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define TABLET_INTERVAL_MS 50
/* Events looked at per collect call, as a multiple of burst. */
#define TABLET_SCAN_FACTOR 4

enum tablet_source_kind {
	TABLET_SOURCE_SIM,
	TABLET_SOURCE_KIOSK,
};

/* tablet.source values, in enum tablet_source_kind order; [0] the default. */
static const char *const tablet_sources[] = { "sim", "kiosk", NULL };

#define TABLET_SOCKET_DEFAULT "/run/vitrine/kiosk.sock"

struct tablet {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct tablet_source *src;
	int src_open;
	int done;
	/* configuration */
	int source;		/* enum tablet_source_kind */
	struct vp_sim_conf sim;	/* seed, limit, burst, fail_every */
	uint64_t kiosks;
	/* the real kiosks */
	uint64_t http_port, http_max_body, rate, rate_total;
	const char *socket_path;	/* borrowed from the host; NULL = off */
	char canaries[TABLET_SIM_CANARIES_MAX][VITRINE_SESSION_MAX];
	uint32_t ncanaries;	/* tablet.canary: test ids of the first sessions */
	struct vp_sim_clock clock;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, invalid, failures;
};

/* The plugin's own numeric keys, after those of vp_conf_sim(). */
static const struct vp_num_key tablet_num_keys[] = {
	{ "kiosks", 2, 1, TABLET_KIOSKS_MAX, offsetof(struct tablet, kiosks) },
};

/* The real kiosks' numeric keys. */
static const struct vp_num_key tablet_kiosk_keys[] = {
	{ "http_port", 8787, 0, 65535, offsetof(struct tablet, http_port) },
	/* 64 KiB: room for a full batch many times over, and a bound on
	 * what a refused request costs to read and parse. */
	{ "http_max_body", 16384, 256, 65536, offsetof(struct tablet, http_max_body) },
	{ "rate", 20, 1, 1000, offsetof(struct tablet, rate) },
	{ "rate_total", 200, 1, 5000, offsetof(struct tablet, rate_total) },
};

static const char *const tablet_config_keys[] = {
	VP_SIM_CONFIG_KEYS, "kiosks", "canary",
	"http_port", "http_max_body", "socket", "rate", "rate_total", NULL,
};

/* Keys that only one kind of source reads, NULL-terminated. */
static const char *const tablet_sim_only_keys[] = {
	"seed", "speed", "start", "limit", "fail_every", "canary", NULL,
};
static const char *const tablet_kiosk_only_keys[] = {
	"http_port", "http_max_body", "socket", "rate", "rate_total", NULL,
};

/* ---- configuration ----------------------------------------------------- */

/* Shortest canary id: a shorter one could turn up by chance in what a
 * privacy test searches. */
#define TABLET_CANARY_MIN KIOSK_SESSION_MIN

/* One session id of tablet.canary, blanks around it dropped, into out.
 * Returns 0, or -EINVAL when it is not 8..63 id characters. */
static int tablet_parse_canary(const char *s, size_t len,
			       char out[VITRINE_SESSION_MAX])
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	/* A canary stands for a session id: the same rule as the kiosks'. */
	if (!kiosk_session_valid(s, len))
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* tablet.canary (test and demo key): a comma-separated list of session ids
 * that the simulation gives its first sessions. The message names the
 * entry, not its value: a canary stands for a session id, which is never
 * logged. */
static int tablet_conf_canaries(struct tablet *tb, const struct vp_conf *c)
{
	const char *val = c->host->config(c->ctx, "canary");

	tb->ncanaries = 0;
	if (!val)
		return 0;
	for (const char *p = val;; p++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (tb->ncanaries == TABLET_SIM_CANARIES_MAX ||
		    tablet_parse_canary(p, len, tb->canaries[tb->ncanaries])) {
			c->host->log(c->ctx, VITRINE_LOG_ERROR,
				     "%s.canary entry %u is invalid: expected session ids of %d to %d characters (letters, digits, - _ . :), e.g. 32 hex digits; comma-separated, at most %d (test key; the value is not logged)",
				     c->plugin, tb->ncanaries + 1, TABLET_CANARY_MIN,
				     VITRINE_SESSION_MAX - 1, TABLET_SIM_CANARIES_MAX);
			return -EINVAL;
		}
		tb->ncanaries++;
		if (!end)
			break;
		p = end;
	}
	c->host->log(c->ctx, VITRINE_LOG_INFO,
		     "test key %s.canary: the first %u sessions use canary ids",
		     c->plugin, tb->ncanaries);
	return 0;
}

/* Keys set for the other kind of source are not errors (an operator
 * switching tablet.source keeps them), but they do nothing: say so. */
static void tablet_conf_unused(const struct vp_conf *c, int source,
			       const char *const *keys)
{
	for (; *keys; keys++)
		if (c->host->config(c->ctx, *keys))
			c->host->log(c->ctx, VITRINE_LOG_WARN,
				     "%s.%s has no effect with %s.source %s; ignored",
				     c->plugin, *keys, c->plugin, tablet_sources[source]);
}

/* tablet.socket: "off", or an absolute path that fits a sockaddr_un. */
static int tablet_conf_socket(struct tablet *tb, const struct vp_conf *c)
{
	const char *val = c->host->config(c->ctx, "socket");

	tb->socket_path = val ? val : TABLET_SOCKET_DEFAULT;
	if (!strcmp(tb->socket_path, "off")) {
		tb->socket_path = NULL;
		return 0;
	}
	if (tb->socket_path[0] != '/' ||
	    strlen(tb->socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return vp_conf_bad(c, "socket", tb->socket_path,
				   "\"off\" or an absolute path of at most 107 bytes");
	return 0;
}

static int tablet_conf_kiosk(struct tablet *tb, const struct vp_conf *c)
{
	int rc = vp_conf_numbers(c, tablet_kiosk_keys,
				 VP_ARRAY_SIZE(tablet_kiosk_keys), tb);

	if (!rc)
		rc = tablet_conf_socket(tb, c);
	if (!rc && !tb->http_port && !tb->socket_path) {
		c->host->log(c->ctx, VITRINE_LOG_ERROR,
			     "%s.source kiosk with %s.http_port 0 and %s.socket off: no way for the kiosks to send events; set one of them",
			     c->plugin, c->plugin, c->plugin);
		rc = -EINVAL;
	}
	return rc;
}

static int tablet_configure(struct tablet *tb)
{
	struct vp_conf c = { tb->host, tb->ctx, "tablet" };
	int rc = vp_conf_source(&c, tablet_sources, "\"sim\" or \"kiosk\"");

	if (rc < 0)
		return rc;
	tb->source = rc;
	rc = vp_conf_sim(&c, &tb->sim);
	if (!rc)
		rc = vp_conf_numbers(&c, tablet_num_keys,
				     VP_ARRAY_SIZE(tablet_num_keys), tb);
	if (rc)
		return rc;
	if (tb->source == TABLET_SOURCE_KIOSK) {
		tablet_conf_unused(&c, tb->source, tablet_sim_only_keys);
		return tablet_conf_kiosk(tb, &c);
	}
	tablet_conf_unused(&c, tb->source, tablet_kiosk_only_keys);
	rc = tablet_conf_canaries(tb, &c);
	if (!rc)
		rc = vp_sim_clock_config(&tb->clock, &c);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

/* The agent calls this when a descriptor the source watches is ready. */
static void tablet_fd_ready(void *state, int fd, short revents)
{
	struct tablet *tb = state;

	if (tb && tb->src && tb->src_open && tb->src->ops->fd_ready)
		tb->src->ops->fd_ready(tb->src, fd, revents);
}

static int tablet_create_source(struct tablet *tb)
{
	struct tablet_sim_params sim = {
		.seed = tb->sim.seed,
		.start_utc_ms = tb->clock.start_ms,
		.kiosks = (uint32_t)tb->kiosks,
		.fail_every = tb->sim.fail_every,
		.canaries = tb->ncanaries ? tb->canaries : NULL,
		.ncanaries = tb->ncanaries,
	};
	struct tablet_kiosk_params kiosk = {
		.host = tb->host,
		.ctx = tb->ctx,
		.fd_cb = tablet_fd_ready,
		.kiosks = (uint32_t)tb->kiosks,
		.http_port = (uint32_t)tb->http_port,
		.http_max_body = (uint32_t)tb->http_max_body,
		.socket_path = tb->socket_path,
		.rate = (uint32_t)tb->rate,
		.rate_total = (uint32_t)tb->rate_total,
	};

	if (tb->source == TABLET_SOURCE_KIOSK)
		return tablet_kiosk_create(&kiosk, &tb->src);
	return tablet_sim_create(&sim, &tb->src);
}

static int tablet_start(struct tablet *tb)
{
	int rc = tablet_create_source(tb);

	if (rc)
		return rc;
	rc = tb->src->ops->open(tb->src);
	if (rc) {
		tb->src->ops->destroy(tb->src);
		tb->src = NULL;
		return rc;
	}
	tb->src_open = 1;
	if (tb->source == TABLET_SOURCE_SIM)
		vp_sim_clock_start(&tb->clock, tb->host, tb->ctx);
	tb->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest time on the source's clock whose events may be delivered now. */
static int64_t tablet_horizon_ms(struct tablet *tb)
{
	int64_t sim_ms;

	if (tb->source != TABLET_SOURCE_SIM)
		return INT64_MAX;	/* events are due when they arrive */
	sim_ms = vp_sim_clock_now_ms(&tb->clock, tb->host, tb->ctx);

	if (sim_ms == INT64_MAX)
		return INT64_MAX;
	return sim_ms - tb->src->epoch_utc_ms;
}

static int tablet_reopen(struct tablet *tb)
{
	int rc = tb->src->ops->open(tb->src);

	if (rc) {
		tb->host->log(tb->ctx, VITRINE_LOG_WARN,
			      "kiosk source \"%s\" still unavailable (%s); retrying",
			      tb->src->ops->name, strerror(-rc));
		return rc;
	}
	tb->src_open = 1;
	tb->host->log(tb->ctx, VITRINE_LOG_INFO,
		      "kiosk source \"%s\" reopened; resuming after %llu readings",
		      tb->src->ops->name, (unsigned long long)tb->emitted);
	return 0;
}

static int tablet_source_lost(struct tablet *tb, int rc)
{
	tb->failures++;
	tb->host->log(tb->ctx, VITRINE_LOG_WARN,
		      "kiosk source \"%s\" failed (%s) after %llu readings; closed, reopening on the next collect",
		      tb->src->ops->name, strerror(-rc),
		      (unsigned long long)tb->emitted);
	tb->src->ops->close(tb->src);
	tb->src_open = 0;
	return rc;
}

/* ---- events to readings ------------------------------------------------ */

static int tablet_has_text(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	return len > 0 && len < size;
}

static int tablet_event_valid(const struct tablet_event *ev)
{
	if (!ev->kiosk || !tablet_has_text(ev->session, sizeof(ev->session)))
		return 0;
	switch (ev->type) {
	case VITRINE_TABLET_SESSION_START:
	case VITRINE_TABLET_SESSION_END:
		return 1;
	case VITRINE_TABLET_SCREEN_VIEW:
		return tablet_has_text(ev->screen, sizeof(ev->screen));
	case VITRINE_TABLET_PRODUCT_LOOKUP:
		return kiosk_gtin_valid(ev->gtin);
	default:
		return 0;
	}
}

static void tablet_emit(struct tablet *tb, const struct tablet_event *ev)
{
	struct vitrine_reading r;
	struct vitrine_tablet *t = &r.u.tablet;
	int64_t time_ms = tb->src->epoch_utc_ms + ev->ts_ms;

	/* Kiosks' clocks may step; the readings' clock never goes back. */
	if (time_ms < tb->last_time_ms)
		time_ms = tb->last_time_ms;
	tb->last_time_ms = time_ms;
	memset(&r, 0, sizeof(r));
	r.kind = VITRINE_KIND_TABLET;
	r.time_ms = time_ms;
	t->kiosk = ev->kiosk;
	t->event = ev->type;
	t->duration_ms = ev->duration_ms;
	/* Lengths were checked by tablet_event_valid(). */
	memcpy(t->session, ev->session, strlen(ev->session) + 1);
	if (ev->type == VITRINE_TABLET_SCREEN_VIEW)
		memcpy(t->screen, ev->screen, strlen(ev->screen) + 1);
	if (ev->type == VITRINE_TABLET_PRODUCT_LOOKUP)
		memcpy(t->gtin, ev->gtin, VITRINE_GTIN_MAX);
	tb->host->emit(tb->ctx, &r);
	tb->emitted++;
	/* Only the simulation finishes: the real kiosks were answered 204
	 * for every event queued, so none may be left behind. */
	if (tb->source == TABLET_SOURCE_SIM && tb->sim.limit &&
	    tb->emitted >= tb->sim.limit)
		tb->done = 1;
}

/* Returns 1 when a reading was emitted, 0 when the event was dropped. */
static int tablet_handle(struct tablet *tb, const struct tablet_event *ev)
{
	if (tablet_event_valid(ev)) {
		tablet_emit(tb, ev);
		return 1;
	}
	if (!tb->invalid++)
		tb->host->log(tb->ctx, VITRINE_LOG_WARN,
			      "dropped an invalid event from kiosk %u (type %u); counting further ones, total logged at shutdown",
			      ev->kiosk, ev->type);
	return 0;
}

/* ---- the plugin callbacks ---------------------------------------------- */

static int tablet_host_watches(const struct vitrine_host *host)
{
	return host->struct_size >= offsetof(struct vitrine_host, watch_fd) +
					    sizeof(host->watch_fd) &&
	       host->watch_fd;
}

static int tablet_init(const struct vitrine_host *host, struct vitrine_ctx *ctx,
		       void **state)
{
	struct tablet *tb;
	int rc;

	if (!vp_sim_clock_host_ok(host))
		return -EINVAL;
	tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->host = host;
	tb->ctx = ctx;
	rc = tablet_configure(tb);
	if (rc)
		goto out_free;
	if (tb->source == TABLET_SOURCE_KIOSK && !tablet_host_watches(host)) {
		host->log(ctx, VITRINE_LOG_ERROR,
			  "tablet.source kiosk needs an agent that watches descriptors (host->watch_fd); use tablet.source sim");
		rc = -ENOTSUP;
		goto out_free;
	}
	rc = tablet_start(tb);
	if (rc) {
		host->log(ctx, VITRINE_LOG_ERROR, "cannot start the kiosk source: %s",
			  strerror(-rc));
		goto out_free;
	}
	*state = tb;
	return 0;

out_free:
	free(tb);
	return rc;
}

static int tablet_collect(void *state)
{
	struct tablet *tb = state;
	struct tablet_event ev;
	uint64_t emitted = 0, scanned = 0;
	int64_t horizon;
	int rc;

	if (tb->done)
		return 1;
	/* Reopening is a call of its own: its 0 tells the agent that the
	 * source recovered (see plugin.h); reading resumes on the next call. */
	if (!tb->src_open)
		return tablet_reopen(tb);
	if (tb->src->ops->tick)
		tb->src->ops->tick(tb->src);
	horizon = tablet_horizon_ms(tb);
	while (emitted < tb->sim.burst &&
	       scanned++ < tb->sim.burst * TABLET_SCAN_FACTOR) {
		rc = tb->src->ops->next_event(tb->src, horizon, &ev);
		if (rc < 0)
			return tablet_source_lost(tb, rc);
		if (rc == 0)
			break;
		emitted += (uint64_t)tablet_handle(tb, &ev);
		if (tb->done)
			return 1;
	}
	return 0;
}

/* The real kiosks were told their events were taken: stop listening, then
 * hand over what is still queued (the pipeline flushes after fini). */
static void tablet_drain(struct tablet *tb)
{
	struct tablet_event ev;

	if (tb->source != TABLET_SOURCE_KIOSK || !tb->src_open)
		return;
	tb->src->ops->close(tb->src);
	tb->src_open = 0;
	while (tb->src->ops->next_event(tb->src, INT64_MAX, &ev) == 1)
		tablet_handle(tb, &ev);
}

static void tablet_fini(void *state)
{
	struct tablet *tb = state;

	if (!tb)
		return;
	tablet_drain(tb);
	tb->host->log(tb->ctx, VITRINE_LOG_INFO,
		      "stopping: %llu readings, %llu invalid events dropped, %llu source failures",
		      (unsigned long long)tb->emitted,
		      (unsigned long long)tb->invalid,
		      (unsigned long long)tb->failures);
	tb->src->ops->destroy(tb->src);
	free(tb);
}

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = VITRINE_ABI_MAJOR,
	.abi_minor = VITRINE_ABI_MINOR,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "tablet",
	.version = "0.1.0",
	.description = "in-store kiosk sessions, screen views and product lookups; simulated kiosks or the real ones (HTTP on 127.0.0.1, Unix-domain socket)",
	.config_keys = tablet_config_keys,
	.init = tablet_init,
	.collect = tablet_collect,
	.collect_interval_ms = TABLET_INTERVAL_MS,
	.fini = tablet_fini,
	.fields = tablet_fields,
};
