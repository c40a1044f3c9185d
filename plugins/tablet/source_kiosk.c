/*
 * plugins/tablet/source_kiosk.c - the real kiosks behind the tablet source
 * interface: the intake of what their web app sends, and the queue to the
 * plugin.
 *
 * Two transports hand bytes to the intake: HTTP on 127.0.0.1
 * (kiosk_http.c, in tablet-http.so, loaded on first open when
 * tablet.http_port is set: kiosk_http_load.c) and a Unix-domain socket
 * (kiosk_sock.c). The intake
 * parses and checks them (kiosk_event.c), applies a token bucket per
 * kiosk number and one for all kiosks (plugins/common/rate.c), stamps the agent's
 * receive time (a kiosk's clock is not trusted) and queues the events, all
 * of a request or none; next_event hands them to the plugin's collect.
 * Every request or line, refused ones included, also costs a token of a
 * bucket of requests (kiosk_intake_admit), so that a flood of garbage is
 * answered 429 without being parsed.
 * The queue, the buckets and the parse buffer are allocated at create:
 * nothing per event after that but cJSON's parse tree.
 *
 * A flood degrades this input only: every refusal is counted by reason
 * (the first of each reason is logged with what to fix; the counts every
 * minute when they changed, and at the end), memory is bounded, and each
 * transport bounds its work per poll callback.
 *
 * Never logs what a kiosk sent: a session id is an identifier.
 */
#include "source.h"

#include "kiosk_event.h"
#include "kiosk_http.h"
#include "kiosk_intake.h"
#include "common/rate.h"
#include "kiosk_sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KIOSK_REPORT_EVERY_MS 60000

struct kiosk_intake {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	uint32_t kiosks;
	struct vp_rate per_kiosk[TABLET_KIOSKS_MAX + 1];	/* [0] unused */
	struct vp_rate total;
	struct vp_rate requests;	/* every request or line, refused ones too */
	struct tablet_event batch[KIOSK_EVENT_BATCH_MAX];	/* parse output */
	struct tablet_event *queue;	/* ring of qcap */
	size_t qcap, qhead, qlen;
	/* counters */
	uint64_t taken;			/* events */
	uint64_t refused[KIOSK_R_COUNT];	/* requests or lines */
	uint64_t conn_refused;
	uint64_t refused_reported;	/* refusals at the last report */
	int64_t next_report_ms;
};

struct kiosk_source {
	struct tablet_source base;	/* first: the ops see this */
	struct tablet_kiosk_params p;
	char socket_path[128];
	struct kiosk_intake in;
	const struct kiosk_http_module *http_mod;	/* loaded on first open */
	void *http_handle;
	struct kiosk_http *http;
	struct kiosk_sock *sock;
	int opened;		/* open succeeded once: counts are worth a line */
};

/* ---- counting -------------------------------------------------------------- */

static uint64_t kiosk_refused_total(const struct kiosk_intake *in)
{
	uint64_t n = 0;

	for (int r = 1; r < KIOSK_R_COUNT; r++)
		n += in->refused[r];
	return n;
}

/* "12 events taken, 3 requests or lines refused (gtin 1, rate_limited 2),
 * 0 connections refused" */
static void kiosk_log_counts(struct kiosk_intake *in, const char *when)
{
	char by[512];
	size_t len = 0;

	by[0] = '\0';
	for (int r = 1; r < KIOSK_R_COUNT && len < sizeof(by); r++) {
		int n;

		if (!in->refused[r])
			continue;
		n = snprintf(by + len, sizeof(by) - len, "%s%s %llu", len ? ", " : "",
			     kiosk_reason_name(r), (unsigned long long)in->refused[r]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	in->host->log(in->ctx, VITRINE_LOG_INFO,
		      "kiosk input %s: %llu events taken, %llu requests or lines refused%s%s%s, %llu connections refused",
		      when, (unsigned long long)in->taken,
		      (unsigned long long)kiosk_refused_total(in), len ? " (" : "", by,
		      len ? ")" : "", (unsigned long long)in->conn_refused);
	in->refused_reported = kiosk_refused_total(in);
}

/* index: the bad event of an array, or KIOSK_NO_INDEX. */
#define KIOSK_NO_INDEX ((size_t)-1)

static void kiosk_count(struct kiosk_intake *in, enum kiosk_reason r,
			const char *from, size_t index)
{
	char which[32] = "";

	if (in->refused[r]++)
		return;
	if (index != KIOSK_NO_INDEX)
		snprintf(which, sizeof(which), " (event %zu)", index + 1);
	in->host->log(in->ctx, VITRINE_LOG_WARN,
		      "refused a kiosk %s%s: %s: %s; further refusals are counted by reason, logged each minute and at shutdown",
		      from, which, kiosk_reason_name(r), kiosk_reason_fix(r));
}

void kiosk_intake_refuse(struct kiosk_intake *in, enum kiosk_reason r,
			 const char *from)
{
	kiosk_count(in, r, from, KIOSK_NO_INDEX);
}

void kiosk_intake_conn_refused(struct kiosk_intake *in, const char *from)
{
	if (!in->conn_refused++)
		in->host->log(in->ctx, VITRINE_LOG_WARN,
			      "refused a kiosk %s connection: too many at once (at most %d); counting further ones",
			      from, KIOSK_SOCK_CONN_MAX);
}

/* ---- taking events in ---------------------------------------------------------- */

/* A bucket's burst: twice its rate, and never less than the largest batch,
 * which would otherwise be refused forever (a batch is all or none). */
static uint32_t kiosk_burst(uint32_t rate)
{
	uint64_t burst = (uint64_t)rate * 2;

	return burst < KIOSK_EVENT_BATCH_MAX ? KIOSK_EVENT_BATCH_MAX : (uint32_t)burst;
}

int kiosk_intake_admit(struct kiosk_intake *in, const char *from)
{
	if (!vp_rate_has(&in->requests, 1, in->host->mono_ms(in->ctx))) {
		kiosk_count(in, KIOSK_R_RATE_LIMITED, from, KIOSK_NO_INDEX);
		return 0;
	}
	vp_rate_take(&in->requests, 1);
	return 1;
}

/* All n events of the batch within their kiosks' and the total budget:
 * then they are all charged, else nothing is. */
static int kiosk_rates_allow(struct kiosk_intake *in, size_t n, int64_t mono)
{
	uint32_t need[TABLET_KIOSKS_MAX + 1] = { 0 };

	for (size_t i = 0; i < n; i++)
		need[in->batch[i].kiosk]++;
	if (!vp_rate_has(&in->total, (uint32_t)n, mono))
		return 0;
	for (uint32_t k = 1; k <= in->kiosks; k++)
		if (need[k] && !vp_rate_has(&in->per_kiosk[k], need[k], mono))
			return 0;
	vp_rate_take(&in->total, (uint32_t)n);
	for (uint32_t k = 1; k <= in->kiosks; k++)
		if (need[k])
			vp_rate_take(&in->per_kiosk[k], need[k]);
	return 1;
}

enum kiosk_reason kiosk_intake_submit(struct kiosk_intake *in, const char *text,
				      size_t len, size_t max_events,
				      const char *from, size_t *index)
{
	struct kiosk_event_error err;
	int64_t now;
	size_t n;

	*index = 0;
	if (max_events > KIOSK_EVENT_BATCH_MAX)
		max_events = KIOSK_EVENT_BATCH_MAX;
	if (kiosk_event_parse(text, len, in->kiosks, max_events, in->batch, &n, &err)) {
		*index = err.index;
		kiosk_count(in, err.reason, from,
			    max_events > 1 ? err.index : KIOSK_NO_INDEX);
		return err.reason;
	}
	if (!kiosk_rates_allow(in, n, in->host->mono_ms(in->ctx))) {
		kiosk_count(in, KIOSK_R_RATE_LIMITED, from, KIOSK_NO_INDEX);
		return KIOSK_R_RATE_LIMITED;
	}
	if (in->qcap - in->qlen < n) {
		kiosk_count(in, KIOSK_R_BUSY, from, KIOSK_NO_INDEX);
		return KIOSK_R_BUSY;
	}
	now = in->host->now_ms(in->ctx);
	for (size_t i = 0; i < n; i++) {
		struct tablet_event *ev = &in->queue[(in->qhead + in->qlen++) % in->qcap];

		*ev = in->batch[i];
		ev->ts_ms = now;
	}
	in->taken += n;
	return KIOSK_OK;
}

const struct kiosk_intake_ops kiosk_intake_ops = {
	.admit = kiosk_intake_admit,
	.submit = kiosk_intake_submit,
	.refuse = kiosk_intake_refuse,
	.reason_name = kiosk_reason_name,
	.reason_fix = kiosk_reason_fix,
};

/* ---- the source ops ------------------------------------------------------------ */

static void kiosk_http_stop(struct kiosk_source *ks)
{
	if (ks->http)
		ks->http_mod->close(ks->http);
	ks->http = NULL;
}

static int kiosk_open(struct tablet_source *src)
{
	struct kiosk_source *ks = (struct kiosk_source *)src;
	const struct vitrine_host *host = ks->p.host;
	struct kiosk_env env = { host, ks->p.ctx, ks->p.fd_cb, &ks->in,
				 &kiosk_intake_ops };
	int rc;

	if (ks->p.http_port && !ks->http_mod) {
		rc = kiosk_http_load(&ks->http_mod, &ks->http_handle, host, ks->p.ctx);
		if (rc)
			return rc;
	}
	if (ks->p.http_port && !ks->http) {
		rc = ks->http_mod->open(&ks->http, &env, (uint16_t)ks->p.http_port,
					ks->p.http_max_body);
		if (rc)
			return rc;
		host->log(ks->p.ctx, VITRINE_LOG_INFO,
			  "kiosk HTTP listener on 127.0.0.1:%u ready (POST %s)",
			  ks->p.http_port, KIOSK_HTTP_PATH);
	}
	if (ks->socket_path[0] && !ks->sock) {
		rc = kiosk_sock_open(&ks->sock, &env, ks->socket_path);
		if (rc) {
			kiosk_http_stop(ks);
			return rc;
		}
		host->log(ks->p.ctx, VITRINE_LOG_INFO,
			  "kiosk socket %s ready (JSON lines, one event a line)",
			  ks->socket_path);
	}
	ks->opened = 1;
	return 0;
}

static int kiosk_next_event(struct tablet_source *src, int64_t horizon_ms,
			    struct tablet_event *ev)
{
	struct kiosk_intake *in = &((struct kiosk_source *)src)->in;

	(void)horizon_ms;	/* events are due when they arrive */
	if (!in->qlen)
		return 0;
	*ev = in->queue[in->qhead];
	in->qhead = (in->qhead + 1) % in->qcap;
	in->qlen--;
	return 1;
}

static void kiosk_close(struct tablet_source *src)
{
	struct kiosk_source *ks = (struct kiosk_source *)src;

	kiosk_http_stop(ks);
	kiosk_sock_close(ks->sock);
	ks->sock = NULL;
}

static void kiosk_destroy(struct tablet_source *src)
{
	struct kiosk_source *ks = (struct kiosk_source *)src;

	kiosk_close(src);
	kiosk_http_unload(ks->http_handle);
	if (ks->opened)
		kiosk_log_counts(&ks->in, "in all");
	free(ks->in.queue);
	free(ks);
}

static void kiosk_tick(struct tablet_source *src)
{
	struct kiosk_source *ks = (struct kiosk_source *)src;
	struct kiosk_intake *in = &ks->in;
	int64_t mono = in->host->mono_ms(in->ctx);

	if (ks->http)
		ks->http_mod->run(ks->http, -1);
	if (ks->sock)
		kiosk_sock_tick(ks->sock);
	if (mono < in->next_report_ms)
		return;
	/* Quiet while nothing is refused. */
	if (kiosk_refused_total(in) != in->refused_reported)
		kiosk_log_counts(in, "so far");
	in->next_report_ms = mono + KIOSK_REPORT_EVERY_MS;
}

static void kiosk_fd_ready(struct tablet_source *src, int fd, short revents)
{
	struct kiosk_source *ks = (struct kiosk_source *)src;

	if (ks->http && ks->http_mod->run(ks->http, fd))
		return;
	if (ks->sock)
		kiosk_sock_ready(ks->sock, fd, revents);
}

static const struct tablet_source_ops kiosk_ops = {
	.name = "kiosk",
	.open = kiosk_open,
	.next_event = kiosk_next_event,
	.close = kiosk_close,
	.destroy = kiosk_destroy,
	.tick = kiosk_tick,
	.fd_ready = kiosk_fd_ready,
};

int tablet_kiosk_create(const struct tablet_kiosk_params *p,
			struct tablet_source **out)
{
	struct kiosk_source *ks;
	int64_t mono;

	if (!p->host || !p->fd_cb || p->kiosks < 1 || p->kiosks > TABLET_KIOSKS_MAX ||
	    p->rate < 1 || p->rate_total < 1 || p->http_port > 65535 ||
	    (p->socket_path && strlen(p->socket_path) >= sizeof(ks->socket_path)))
		return -EINVAL;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	ks->base.ops = &kiosk_ops;
	ks->base.epoch_utc_ms = 0;
	ks->p = *p;
	if (p->socket_path)
		memcpy(ks->socket_path, p->socket_path, strlen(p->socket_path) + 1);
	ks->p.socket_path = NULL;	/* borrowed: only the copy is kept */
	ks->in.host = p->host;
	ks->in.ctx = p->ctx;
	ks->in.kiosks = p->kiosks;
	/* Room for the whole burst of all kiosks and one more request: the
	 * plugin drains it every 50 ms, so it fills only if the agent stalls. */
	ks->in.qcap = (size_t)kiosk_burst(p->rate_total) + KIOSK_EVENT_BATCH_MAX;
	ks->in.queue = calloc(ks->in.qcap, sizeof(*ks->in.queue));
	if (!ks->in.queue) {
		free(ks);
		return -ENOMEM;
	}
	mono = p->host->mono_ms(p->ctx);
	for (uint32_t k = 1; k <= p->kiosks; k++)
		vp_rate_init(&ks->in.per_kiosk[k], p->rate, kiosk_burst(p->rate), mono);
	vp_rate_init(&ks->in.total, p->rate_total, kiosk_burst(p->rate_total), mono);
	/* A request carries at least one event: as many requests as events. */
	vp_rate_init(&ks->in.requests, p->rate_total, kiosk_burst(p->rate_total), mono);
	ks->in.next_report_ms = mono + KIOSK_REPORT_EVERY_MS;
	*out = &ks->base;
	return 0;
}
