/*
 * service.c - readiness, status line and watchdog keep-alives for the
 * service manager (see service.h).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "plugset.h"
#include "publish.h"
#include "service.h"
#include "spool.h"

/* Append src to dst (of cap bytes, holding len), control characters as
 * blanks: a STATUS= value is one line. Returns the new length. */
static size_t vt_service_append(char *dst, size_t len, size_t cap, const char *src)
{
	while (*src && len + 1 < cap) {
		unsigned char c = (unsigned char)*src++;

		dst[len++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	dst[len] = '\0';
	return len;
}

/* "plugins: 2 of 3 running (rfid failing)". */
static void vt_service_plugins(const struct vt_plugset *ps, char *out, size_t cap)
{
	const char *trouble = NULL, *what = "";
	int running = 0;

	for (int i = 0; i < ps->n; i++) {
		const struct vitrine_ctx *c = &ps->plugins[i];

		if (c->running && !c->degraded && !c->finished) {
			running++;
		} else if (!trouble && !c->finished) {
			trouble = c->lp.desc.name;
			what = c->degraded ? "failing" : "not started, retrying";
		}
	}
	if (trouble)
		snprintf(out, cap, "plugins: %d of %d running (%s %s)", running, ps->cfg->n_plugins,
			 trouble, what);
	else if (ps->n < ps->cfg->n_plugins)
		snprintf(out, cap, "plugins: %d of %d running (%d could not be loaded: see the log)",
			 running, ps->cfg->n_plugins, ps->cfg->n_plugins - ps->n);
	else
		snprintf(out, cap, "plugins: %d of %d running", running, ps->cfg->n_plugins);
}

/* The state part of the status line; returns whether the agent is ready
 * (holds a session, or has decided to spool). */
static int vt_service_state(struct vt_service *s, const struct vt_pub *pub,
			    const struct vt_plugset *ps, int64_t mono_ms, char *out, size_t cap)
{
	const char *why = vt_pub_last_error(pub);
	char plugins[160];
	size_t n;
	int ready = 1;

	vt_service_plugins(ps, plugins, sizeof(plugins));
	if (vt_pub_connected(pub)) {
		n = (size_t)snprintf(out, cap, "connected to broker %s:%u", s->broker->host,
				     s->broker->port);
	} else if (why[0]) {
		n = (size_t)snprintf(out, cap, "spooling: broker %s:%u unreachable (", s->broker->host,
				     s->broker->port);
		n = vt_service_append(out, n < cap ? n : cap - 1, cap, why);
		n = vt_service_append(out, n, cap, "), retrying");
	} else if (mono_ms - s->started_ms >= VT_SERVICE_READY_WAIT_MS) {
		n = (size_t)snprintf(out, cap, "spooling: no answer from broker %s:%u yet, still trying",
				     s->broker->host, s->broker->port);
	} else {
		n = (size_t)snprintf(out, cap, "connecting to broker %s:%u", s->broker->host,
				     s->broker->port);
		ready = 0;
	}
	n = vt_service_append(out, n < cap ? n : cap - 1, cap, "; ");
	vt_service_append(out, n, cap, plugins);
	return ready;
}

void vt_service_open(struct vt_service *s, const struct vt_hostport *broker, int64_t mono_ms)
{
	char msg[VT_SERVICE_STATUS_MAX];
	int rc;

	memset(s, 0, sizeof(*s));
	s->broker = broker;
	rc = vt_sd_open(&s->sd, mono_ms);
	if (rc < 0)
		VT_WARN("NOTIFY_SOCKET is set but cannot be used (%s); not telling the service manager anything",
			strerror(-rc));
	if (rc <= 0)
		return;
	if (s->sd.keepalive_ms)
		VT_INFO("service manager watchdog: a keep-alive every %lld ms from the main loop",
			(long long)s->sd.keepalive_ms);
	snprintf(msg, sizeof(msg), "STATUS=starting: opening the spool, loading plugins, then broker %s:%u",
		 broker->host, broker->port);
	vt_sd_send(&s->sd, msg);
}

int64_t vt_service_tick(struct vt_service *s, const struct vt_pub *pub,
			const struct vt_plugset *ps, struct vt_spool *spool, int64_t mono_ms)
{
	int64_t wait = vt_sd_keepalive(&s->sd, mono_ms);
	char state[VT_SERVICE_STATUS_MAX], msg[VT_SERVICE_STATUS_MAX + 96];
	int64_t due;
	int ready;

	if (s->sd.fd < 0)
		return wait;
	if (!s->started_ms)	/* the wait for the broker starts with the loop */
		s->started_ms = mono_ms;
	ready = vt_service_state(s, pub, ps, mono_ms, state, sizeof(state));
	/* READY=1 goes with every status while ready: one the service manager
	 * missed is made good at the next (it ignores the repeats). */
	if (ready != s->ready || strcmp(state, s->last_state) != 0 ||
	    mono_ms >= s->next_status_ms) {
		snprintf(msg, sizeof(msg), "%sSTATUS=%s; spool: %llu frames waiting",
			 ready ? "READY=1\n" : "", state,
			 (unsigned long long)vt_spool_stats(spool)->frames);
		vt_sd_send(&s->sd, msg);
		s->ready = ready;
		memcpy(s->last_state, state, sizeof(state));
		s->next_status_ms = mono_ms + VT_SERVICE_STATUS_MS;
	}
	/* Not ready yet: wake when the wait for the broker ends. */
	due = s->ready ? s->next_status_ms : s->started_ms + VT_SERVICE_READY_WAIT_MS;
	if (wait < 0 || due - mono_ms < wait)
		wait = due > mono_ms ? due - mono_ms : 0;
	return wait;
}

void vt_service_reloading(struct vt_service *s, const char *status)
{
	vt_sd_reloading(&s->sd, status);
	s->ready = 0;
}

void vt_service_stopping(struct vt_service *s, const char *status)
{
	char msg[VT_SERVICE_STATUS_MAX];

	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=%s", status);
	vt_sd_send(&s->sd, msg);
}

void vt_service_close(struct vt_service *s)
{
	vt_sd_close(&s->sd);
}
