/*
 * agent.c - the poll() loop that drives plugins, pipeline and publisher.
 *
 * Order of one turn: plugins collect (readings flow synchronously through
 * the pipeline into the spool), age-due batches are sealed, the spool's
 * group commit runs if due, the publisher connects / publishes / keeps
 * alive, then we sleep in poll() until the earliest of: a socket is ready,
 * a plugin is due, a batch is due, a group commit is due, the publisher's
 * next timer.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ack.h"
#include "agent.h"
#include "clock.h"
#include "devkey.h"
#include "egress.h"
#include "err.h"
#include "fleet.h"
#include "frame.h"
#include "host.h"
#include "log.h"
#include "pipeline.h"
#include "plugset.h"
#include "publish.h"
#include "service.h"
#include "tls.h"
#include "vt_os.h"

#define VT_AGENT_DRAIN_MS 3000
#define VT_AGENT_EXPIRE_MS 60000	/* how often the spool's age bound is applied */
#define VT_AGENT_MAX_POLL (1 + VT_AGENT_MAX_PLUGINS * VT_HOST_MAX_FDS)

struct vt_agent {
	struct vt_agent_config *cfg;
	const struct vt_agent_opts *opts;
	struct vt_spool *spool;
	struct vt_privacy *privacy;
	struct vt_egress *egress;
	struct vt_pipeline *pipeline;
	struct vt_pub *pub;
	struct vt_fleet *fleet;
	struct vt_clock *clock;		/* is the wall clock trusted (clock.h) */
	uint8_t ack_key[VT_KEY_LEN];
	struct vt_plugset ps;
	FILE *tap;
	int64_t started_ms;
	int64_t next_status_ms;
	int64_t next_expire_ms;
	int status_sent;
	int restart;		/* a fleet bundle changed what runs */
	struct vt_service svc;	/* READY=1, STATUS=, keep-alives (systemd) */
};

static struct vt_privacy_conf vt_agent_privacy_conf(const struct vt_agent_config *cfg)
{
	return (struct vt_privacy_conf){
		.rotation_s = cfg->privacy_key_rotation_s,
		.rssi_floor_cdbm = cfg->privacy_rssi_floor_cdbm,
		.optout_path = cfg->privacy_optout,
		.window_s = cfg->privacy_window_s,
		.k = cfg->privacy_k,
		.epsilon_milli = cfg->privacy_epsilon_milli,
		.budget_milli = cfg->privacy_epsilon_hour_milli,
		.checkpoint_ms = cfg->spool_sync_ms > 100 ? cfg->spool_sync_ms : 100,
	};
}

static int vt_agent_privacy(struct vt_agent *a)
{
	struct vt_privacy_conf pc = vt_agent_privacy_conf(a->cfg);

	pc.state_dir = a->cfg->state_dir;	/* --check-config writes no checkpoint */
	char err[VT_CONF_ERR_MAX];
	int rc;

	vt_devkey_remove_old_pseudonym_key(a->cfg);
	rc = vt_privacy_new(&a->privacy, &pc, err, sizeof(err));
	if (rc < 0)
		VT_ERROR("cannot start the privacy stage: %s", err);
	return rc;
}

static int vt_agent_spool(struct vt_agent *a)
{
	const struct vt_agent_config *cfg = a->cfg;
	struct vt_batch_limits lim = { cfg->batch_max_readings, cfg->batch_max_bytes,
				       cfg->batch_max_age_ms };
	struct vt_spool_conf sc = {
		.dir = cfg->spool_dir,
		.max_bytes = cfg->spool_max_bytes,
		.max_age_ms = (uint64_t)cfg->spool_max_age_s * 1000,
		.sync_ms = cfg->spool_sync_ms,
		.sync_frames = cfg->spool_sync_frames,
		.max_frame = (uint32_t)vt_pipeline_frame_bound(&lim, cfg->device),
	};
	const struct vt_spool_stats *st;
	int rc;

	rc = sc.max_frame ? vt_spool_open(&a->spool, &sc) : -ENOMEM;
	if (rc < 0) {
		VT_ERROR("cannot open the spool in %s: %s", cfg->spool_dir, vt_strerror(rc));
		return rc;
	}
	vt_spool_expire(a->spool, vt_os_now_ms());
	st = vt_spool_stats(a->spool);
	if (st->frames)
		VT_INFO("spool %s: %llu frames (%llu readings, %llu bytes) from before wait for the aggregator",
			cfg->spool_dir, (unsigned long long)st->frames,
			(unsigned long long)st->readings, (unsigned long long)st->bytes);
	return 0;
}

static int vt_agent_pipeline(struct vt_agent *a)
{
	struct vt_agent_config *cfg = a->cfg;
	uint8_t dev[VT_KEY_LEN];
	struct vt_zdict dict = { 0 };
	char err[300];
	struct vt_pipeline_conf pc = {
		.site = cfg->site,
		.device = cfg->device,
		.state_dir = cfg->state_dir,
		.batch = { cfg->batch_max_readings, cfg->batch_max_bytes, cfg->batch_max_age_ms },
		.spool = a->spool,
		.zstd_level = (int)cfg->zstd_level,
		.aead = cfg->aead,
		.epoch_max_frames = cfg->epoch_max_frames,
		.device_key = dev,
		.aggregator_key = cfg->aggregator_key,
		.privacy = a->privacy,
		.egress = a->egress,
		.clock = a->clock,
		.tap = a->tap,
	};
	int rc;

	if (cfg->zstd_dictionary) {
		rc = vt_zdict_load(cfg->zstd_dictionary, &dict, err, sizeof(err));
		if (rc < 0) {
			VT_ERROR("zstd_dictionary: %s; or remove the zstd_dictionary line", err);
			return rc;
		}
		pc.dict = &dict;
		VT_INFO("compressing with zstd dictionary %u (%s, %zu bytes): the aggregator needs it in its dictionaries directory",
			dict.id, cfg->zstd_dictionary, dict.len);
	}
	rc = vt_devkey_load(cfg, dev);
	if (rc == 0 && (rc = vt_ack_key(dev, cfg->aggregator_key, cfg->device, a->ack_key)) < 0)
		VT_ERROR("aggregator_key is not a usable X25519 public key");
	if (rc == 0)
		rc = vt_pipeline_new(&a->pipeline, &pc);
	vt_keys_wipe(dev, sizeof(dev));
	vt_zdict_free(&dict);
	if (rc < 0)
		VT_ERROR("cannot start the pipeline (state in %s): %s", cfg->state_dir,
			 vt_strerror(rc));
	return rc;
}

/* The spool part of the status document. */
static size_t vt_agent_status_spool(struct vt_agent *a, char *json, size_t cap, int64_t now)
{
	const struct vt_spool_stats *sp = vt_spool_stats(a->spool);
	const struct vt_pub_stats *bs = vt_pub_stats(a->pub);
	int64_t wall = vt_os_now_ms();
	size_t n;

	n = (size_t)snprintf(json, cap,
		"\"spool\":{\"frames\":%llu,\"readings\":%llu,\"bytes\":%llu,\"oldest_age_s\":%lld},"
		"\"dropped\":{",
		(unsigned long long)sp->frames, (unsigned long long)sp->readings,
		(unsigned long long)sp->bytes,
		(long long)(sp->oldest_wall_ms ? (wall - sp->oldest_wall_ms) / 1000 : 0));
	for (int i = 0; i < VT_SPOOL_DROP_COUNT && n < cap; i++)
		n += (size_t)snprintf(json + n, cap - n, "\"%s\":%llu,", vt_spool_drop_name(i),
				      (unsigned long long)sp->dropped_readings[i]);
	if (n < cap)
		n += (size_t)snprintf(json + n, cap - n,
			"\"seal\":%llu},\"last_ack\":{\"seq\":%llu,\"age_s\":%lld},",
			(unsigned long long)vt_pipeline_stats(a->pipeline)->readings_seal_dropped,
			(unsigned long long)bs->last_ack_seq,
			(long long)(bs->last_ack_mono_ms ? (now - bs->last_ack_mono_ms) / 1000 : -1));
	return n < cap ? n : cap - 1;
}

/* The egress log's head, which the aggregator keeps: a log cut or
 * rewritten on the device no longer contains it (egress.h). */
static size_t vt_agent_status_egress(struct vt_agent *a, char *json, size_t cap)
{
	uint8_t hash[32];
	char hex[65];
	uint64_t seq;
	int n;

	vt_egress_head(a->egress, hash, &seq);
	vt_egress_hex(hash, hex);
	n = snprintf(json, cap, ",\"egress\":{\"seq\":%llu,\"head\":\"%s\",\"breaks\":%llu}",
		     (unsigned long long)seq, hex,
		     (unsigned long long)vt_egress_opened(a->egress)->breaks);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

static void vt_agent_status(struct vt_agent *a, int64_t now)
{
	const struct vt_pipeline_stats *ps = vt_pipeline_stats(a->pipeline);
	const struct vt_pub_stats *bs = vt_pub_stats(a->pub);
	char json[4096];
	size_t n;

	n = (size_t)snprintf(json, sizeof(json),
		"{\"state\":\"online\",\"version\":\"%s\",\"time\":%lld,\"uptime_s\":%lld,"
		"\"epoch\":%u,\"readings\":%llu,\"invalid\":%llu,\"frames_sealed\":%llu,"
		"\"frames_acked\":%llu,",
		VT_VERSION, (long long)(vt_os_now_ms() / 1000),
		(long long)((now - a->started_ms) / 1000), vt_pipeline_epoch(a->pipeline),
		(unsigned long long)ps->readings_in, (unsigned long long)ps->readings_invalid,
		(unsigned long long)ps->frames_sealed, (unsigned long long)bs->frames_acked);
	n += vt_agent_status_spool(a, json + n, sizeof(json) - n, now);
	n += vt_privacy_status_json(a->privacy, json + n, sizeof(json) - n);
	n += vt_agent_status_egress(a, json + n, sizeof(json) - n);
	n += vt_tls_status_json(vt_pub_tls(a->pub), vt_os_now_ms() / 1000, json + n,
				sizeof(json) - n);
	n += vt_fleet_status_json(a->fleet, json + n, sizeof(json) - n);
	n += vt_clock_status_json(a->clock, now, json + n, sizeof(json) - n);
	if (n < sizeof(json) - 64)
		n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"plugins\":{");
	for (int i = 0; i < a->ps.n && n < sizeof(json) - 64; i++) {
		const struct vitrine_ctx *c = &a->ps.plugins[i];

		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"%s\":\"%s\"", i ? "," : "",
				      c->lp.desc.name,
				      c->degraded ? "degraded" : c->finished ? "finished" : "ok");
	}
	if (n < sizeof(json) - 3)
		snprintf(json + n, sizeof(json) - n, "}}");
	if (vt_pub_status(a->pub, json) == 0) {
		a->status_sent = 1;
		vt_egress_add(a->egress, "status", 1, 1, strlen(json), vt_os_now_ms());
	}
}

static int vt_agent_done(struct vt_agent *a)
{
	for (int i = 0; i < a->ps.n; i++)
		if (!a->ps.plugins[i].finished)
			return 0;
	return vt_spool_stats(a->spool)->frames == 0 && vt_pipeline_ms_left(a->pipeline, 0) < 0;
}

/* The aggregator waits for frames this device gave up (dropped, or lost to
 * spool damage), and no frame sealed since says so: its watermark would
 * never pass them. Seal one, empty if need be, that carries the floor. */
static void vt_agent_chain(struct vt_agent *a, int64_t now)
{
	const struct vt_pub_stats *bs = vt_pub_stats(a->pub);
	uint64_t floor = vt_spool_floor(a->spool, 0);

	if (!bs->last_ack_mono_ms || !floor || bs->last_ack_seq + 1 >= floor ||
	    vt_pipeline_floor_sealed(a->pipeline) >= floor)
		return;
	VT_INFO("the aggregator acknowledged up to %llu and waits for frames no longer in the spool (dropped or damaged); telling it the spool now starts at %llu",
		(unsigned long long)bs->last_ack_seq, (unsigned long long)floor);
	vt_pipeline_seal_chain(a->pipeline, now);
}

static int64_t vt_min_wait(int64_t a, int64_t b)
{
	if (b < 0)
		return a;
	return b < a ? b : a;
}

/* One poll(): fill the set, wait, dispatch. */
static void vt_agent_poll(struct vt_agent *a, int64_t wait_ms)
{
	struct pollfd pfd[VT_AGENT_MAX_POLL];
	struct vt_host_fd *owner[VT_AGENT_MAX_POLL];
	struct vitrine_ctx *ctx_of[VT_AGENT_MAX_POLL];
	int n = 0, pub_idx = -1;
	short ev;
	int fd = vt_pub_fd(a->pub, &ev);

	if (fd >= 0) {
		pfd[n] = (struct pollfd){ fd, ev, 0 };
		pub_idx = n++;
	}
	for (int i = 0; i < a->ps.n; i++) {
		for (int f = 0; f < VT_HOST_MAX_FDS; f++) {
			struct vt_host_fd *w = &a->ps.plugins[i].fds[f];

			if (!w->cb || !a->ps.plugins[i].running)
				continue;
			owner[n] = w;
			ctx_of[n] = &a->ps.plugins[i];
			pfd[n++] = (struct pollfd){ w->fd, w->events, 0 };
		}
	}
	if (poll(pfd, (nfds_t)n, (int)wait_ms) <= 0)
		return;
	/* The wait may have seen an NTP step: before the plugins stamp. */
	vt_clock_observe(a->clock, vt_os_now_ms(), vt_os_mono_ms());
	for (int i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (i == pub_idx)
			vt_pub_io(a->pub, pfd[i].revents, vt_os_mono_ms());
		else if (owner[i]->cb)
			owner[i]->cb(ctx_of[i]->state, pfd[i].fd, pfd[i].revents);
	}
}

/* The fleet's trial watches this; returns 1 when the agent must restart. */
static int vt_agent_fleet(struct vt_agent *a, int64_t now)
{
	struct vt_fleet_health h = {
		.plugins_configured = a->ps.cfg->n_plugins,
		.plugins_loaded = a->ps.n,
		.readings = vt_pipeline_stats(a->pipeline)->readings_in,
		.connected = vt_pub_connected(a->pub),
	};

	for (int i = 0; i < a->ps.n; i++)
		if (a->ps.plugins[i].degraded)
			h.plugin_failing = a->ps.plugins[i].lp.desc.name;
	if (!vt_fleet_tick(a->fleet, &h, now))
		return 0;
	a->restart = 1;
	return 1;
}

/* SIGHUP: the operator edited agent.conf. It is loaded with the fleet's
 * running bundles, as at start, and checked as --check-config does; one
 * that fails changes nothing (the agent keeps running what it runs). When
 * only plugins changed (their lines and keys), they are swapped in
 * process: the broker session, the open batch and the windows stay.
 * Otherwise the agent executes itself again in place (same process id;
 * the spool and the window checkpoint carry every reading across).
 * Returns 1 when the agent must restart; *reload then stays set, for the
 * caller to say why. */
static int vt_agent_reload(struct vt_agent *a)
{
	struct vt_agent_config *next = calloc(1, sizeof(*next));
	char err[VT_CONF_ERR_MAX];
	int ok = 0;

	VT_INFO("SIGHUP: checking %s", a->opts->config_path);
	if (!next)
		VT_ERROR("SIGHUP: out of memory; still running the configuration loaded before");
	else if (vt_fleet_config(a->fleet, next, err, sizeof(err)) < 0)
		VT_ERROR("SIGHUP: %s; still running the configuration loaded before", err);
	else if (vt_agent_check_plugins(next) < 0 || vt_fleet_check_keys(next) < 0)
		VT_ERROR("SIGHUP: %s does not pass its checks (errors above); still running the configuration loaded before",
			 a->opts->config_path);
	else
		ok = 1;
	if (ok && vt_plugset_only_plugins_differ(a->cfg, next)) {
		VT_INFO("SIGHUP: %s is valid and changes only plugins: swapping them", a->opts->config_path);
		ok = vt_plugset_swap(&a->ps, next, vt_os_mono_ms()) > 0;
		if (!ok) {
			*a->opts->reload = 0;
			a->status_sent = 0;
			return 0;
		}
		VT_WARN("SIGHUP: a plugin changed its privacy mode or fields; restarting in place to run it");
		a->restart = 1;
		return 1;
	}
	if (next)
		vt_agent_config_free(next);
	free(next);
	if (!ok) {
		*a->opts->reload = 0;	/* a later SIGHUP checks again */
		return 0;
	}
	VT_INFO("SIGHUP: %s is valid and changes more than plugins; restarting in place to run it (readings are kept)",
		a->opts->config_path);
	a->restart = 1;
	return 1;
}

static void vt_agent_on_message(void *ctx, const char *topic, const uint8_t *payload,
				size_t len)
{
	struct vt_agent *a = ctx;

	vt_fleet_offer(a->fleet, topic, payload, len);
}

/* One turn of the loop; returns 1 when the agent should exit. */
static int vt_agent_turn(struct vt_agent *a)
{
	int64_t now = vt_os_mono_ms();
	int64_t wait = 1000;

	vt_clock_observe(a->clock, vt_os_now_ms(), now);
	for (int i = 0; i < a->ps.n; i++) {
		vt_host_collect(&a->ps.plugins[i], now);
		wait = vt_min_wait(wait, vt_host_ms_left(&a->ps.plugins[i], now));
	}
	if (vt_clock_tick(a->clock, vt_os_now_ms(), now))
		vt_pipeline_clock_synced(a->pipeline, now);
	vt_privacy_tick(a->privacy, vt_os_now_ms(), now, VT_WINDOW_IF_IDLE);
	vt_egress_tick(a->egress, vt_os_now_ms());
	wait = vt_min_wait(wait, vt_egress_ms_left(a->egress, vt_os_now_ms()));
	vt_pipeline_flush(a->pipeline, now, 0);
	wait = vt_min_wait(wait, vt_pipeline_ms_left(a->pipeline, now));
	vt_agent_chain(a, now);
	vt_spool_sync(a->spool, now, 0);
	wait = vt_min_wait(wait, vt_spool_ms_left(a->spool, now));
	if (now >= a->next_expire_ms) {
		vt_spool_expire(a->spool, vt_os_now_ms());
		a->next_expire_ms = now + VT_AGENT_EXPIRE_MS;
	}
	wait = vt_min_wait(wait, vt_pub_tick(a->pub, now));
	if (vt_agent_fleet(a, now))
		return 1;
	if (a->opts->reload && *a->opts->reload) {
		vt_service_reloading(&a->svc, "reloading: SIGHUP, checking the configuration file");
		if (vt_agent_reload(a))
			return 1;
	}
	wait = vt_min_wait(wait, vt_fleet_ms_left(a->fleet, now));
	if (vt_fleet_changed(a->fleet))
		a->status_sent = 0;
	if (vt_pub_connected(a->pub) && (now >= a->next_status_ms || !a->status_sent)) {
		vt_agent_status(a, now);
		a->next_status_ms = now + (int64_t)a->cfg->status_interval_s * 1000;
	}
	wait = vt_min_wait(wait, vt_service_tick(&a->svc, a->pub, &a->ps, a->spool,
						 vt_os_mono_ms()));
	if (a->opts->exit_when_done) {
		int all_finished = 1;

		for (int i = 0; i < a->ps.n; i++)
			all_finished &= a->ps.plugins[i].finished;
		if (all_finished) {
			vt_privacy_tick(a->privacy, vt_os_now_ms(), now, VT_WINDOW_NOW);
			vt_pipeline_flush(a->pipeline, now, 1);
			vt_spool_sync(a->spool, now, 1);
		}
		if (vt_agent_done(a))
			return 1;
	}
	vt_agent_poll(a, wait < 0 ? 0 : wait);
	return 0;
}

/* Make everything durable, then give the aggregator a short chance to
 * acknowledge what is waiting. What it does not stays in the spool. */
static void vt_agent_drain(struct vt_agent *a)
{
	int64_t until = vt_os_mono_ms() + VT_AGENT_DRAIN_MS;
	const struct vt_spool_stats *st;

	/* Windows that ended go now; an open one waits in the checkpoint for
	 * the next start, so that no count covers a part of a window (R8). */
	vt_privacy_tick(a->privacy, vt_os_now_ms(), vt_os_mono_ms(), VT_WINDOW_IF_ENDED);
	vt_pipeline_flush(a->pipeline, vt_os_mono_ms(), 1);
	vt_spool_sync(a->spool, 0, 1);
	while (vt_spool_stats(a->spool)->frames > 0 && vt_pub_connected(a->pub) &&
	       vt_os_mono_ms() < until) {
		int64_t wait = vt_pub_tick(a->pub, vt_os_mono_ms());

		vt_agent_poll(a, wait > 100 ? 100 : wait);
	}
	st = vt_spool_stats(a->spool);
	if (st->frames > 0)
		VT_INFO("%llu frames (%llu readings) not yet acknowledged stay in the spool for the next start",
			(unsigned long long)st->frames, (unsigned long long)st->readings);
}

/* What the privacy stage withheld, per plugin that withheld anything. */
static void vt_agent_summary_privacy(struct vt_agent *a)
{
	const struct vt_privacy_source *src;
	size_t n = vt_privacy_sources(a->privacy, &src);

	for (size_t i = 0; i < n; i++) {
		if (src[i].anon) {
			const struct vt_window_stats *w = vt_anon_plugin_stats(src[i].anon);

			VT_INFO("privacy: plugin %s (anonymous): %llu windows released as %llu counts; %llu counts below k merged, %llu withheld below k, %llu withheld for lack of noise budget",
				src[i].name, (unsigned long long)w->windows,
				(unsigned long long)w->cells, (unsigned long long)w->merged,
				(unsigned long long)w->suppressed, (unsigned long long)w->refused);
		}
		if (!src[i].optout && !src[i].below_rssi && !src[i].undeclared)
			continue;
		VT_INFO("privacy: plugin %s: %llu reads withheld (%llu on the opt-out list, %llu below the RSSI floor), %llu undeclared fields dropped",
			src[i].name, (unsigned long long)(src[i].optout + src[i].below_rssi),
			(unsigned long long)src[i].optout, (unsigned long long)src[i].below_rssi,
			(unsigned long long)src[i].undeclared);
	}
}

static void vt_agent_summary(struct vt_agent *a)
{
	const struct vt_pipeline_stats *ps = vt_pipeline_stats(a->pipeline);
	const struct vt_pub_stats *bs = vt_pub_stats(a->pub);
	const struct vt_spool_stats *sp = vt_spool_stats(a->spool);
	uint64_t dropped = ps->readings_seal_dropped;
	struct rusage ru;
	double cpu_s;

	for (int i = 0; i < VT_SPOOL_DROP_COUNT; i++)
		dropped += sp->dropped_readings[i];
	getrusage(RUSAGE_SELF, &ru);
	cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
	VT_INFO("stopped: %llu readings accepted, %llu invalid, %llu frames sealed (%llu bytes), %llu frames published (%llu resent), %llu acknowledged by the aggregator (%llu readings), %llu readings dropped (%llu frames damaged in the spool), %llu spooled (%llu bytes, %llu fsyncs); cpu %.3f s",
		(unsigned long long)ps->readings_in, (unsigned long long)ps->readings_invalid,
		(unsigned long long)ps->frames_sealed, (unsigned long long)ps->bytes_sealed,
		(unsigned long long)bs->frames_published, (unsigned long long)bs->frames_resent,
		(unsigned long long)sp->retired_frames, (unsigned long long)sp->retired_readings,
		(unsigned long long)dropped,
		(unsigned long long)sp->dropped_frames[VT_SPOOL_DROP_CORRUPT],
		(unsigned long long)sp->appended_frames, (unsigned long long)sp->appended_bytes,
		(unsigned long long)sp->fsyncs, cpu_s);
	vt_agent_summary_privacy(a);
}

static int vt_agent_start(struct vt_agent *a)
{
	struct vt_agent_config *cfg = a->cfg;
	struct vt_pub_conf bc = {
		.broker = cfg->broker,
		.client_id = cfg->client_id,
		.site = cfg->site,
		.device = cfg->device,
		.keepalive_s = cfg->keepalive_s,
		.max_inflight = cfg->max_inflight,
		.ack_timeout_ms = cfg->ack_timeout_s * 1000,
		.ack_key = a->ack_key,
		.tls_ca = cfg->tls_ca,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.tls_pins = cfg->tls_pins,
	};
	int rc;

	rc = vt_tls_startup(&(struct vt_tls_files){ cfg->tls_ca, cfg->tls_cert, cfg->tls_key },
			    &bc.tls_client);
	if (rc < 0)
		return rc;
	if (a->opts->tap_path) {
		a->tap = fopen(a->opts->tap_path, "a");
		if (!a->tap) {
			rc = -errno;
			VT_ERROR("cannot open tap file %s: %s", a->opts->tap_path, strerror(errno));
			return rc;
		}
	}
	vt_state_dir_private(cfg->state_dir);
	vt_state_dir_private(cfg->spool_dir);
	rc = vt_agent_spool(a);
	if (rc < 0)
		return rc;
	rc = vt_agent_privacy(a);
	if (rc < 0)
		return rc;
	rc = vt_egress_open(&a->egress, &(struct vt_egress_conf){ .dir = cfg->state_dir });
	if (rc < 0) {
		VT_ERROR("cannot keep the egress log in %s: %s (docs/PRIVACY.md R14); not starting",
			 cfg->state_dir, vt_strerror(rc));
		return rc;
	}
	/* Before the pipeline: every reading is stamped by it. */
	rc = vt_clock_open(&a->clock, &(struct vt_clock_conf){
		.require_sync = cfg->clock_require_sync, .state_dir = cfg->state_dir });
	if (rc < 0)
		return rc;
	vt_clock_tick(a->clock, vt_os_now_ms(), vt_os_mono_ms());
	rc = vt_agent_pipeline(a);
	if (rc < 0)
		return rc;
	if (vt_clock_trusted(a->clock))	/* a correction an earlier run owes */
		vt_pipeline_clock_synced(a->pipeline, vt_os_mono_ms());
	rc = vt_fleet_new(&a->fleet, a->opts->config_path, cfg, a->opts->fleet);
	if (rc < 0)
		return rc;
	bc.n_topics = vt_fleet_topics(a->fleet, &bc.topics);
	bc.on_message = vt_agent_on_message;
	bc.on_message_ctx = a;
	rc = vt_pub_new(&a->pub, &bc, a->spool);
	if (rc < 0)
		return rc;
	a->started_ms = vt_os_mono_ms();
	VT_INFO("vitrine-agent %s: site %s, device %s, key epoch %u", VT_VERSION, cfg->site,
		cfg->device, vt_pipeline_epoch(a->pipeline));
	vt_plugset_init(&a->ps, cfg, a->privacy, a->pipeline);
	vt_plugset_load(&a->ps, a->started_ms);
	return 0;
}

int vt_agent_check_plugins(struct vt_agent_config *cfg)
{
	struct vt_privacy_conf pc = vt_agent_privacy_conf(cfg);
	struct vt_privacy_source *src;
	struct vt_privacy *privacy;
	struct vt_tls_cert tls_client;
	char err[VT_CONF_ERR_MAX];
	int bad = 0;

	if (vt_tls_startup(&(struct vt_tls_files){ cfg->tls_ca, cfg->tls_cert, cfg->tls_key },
			   &tls_client) < 0)
		bad++;
	if (vt_privacy_new(&privacy, &pc, err, sizeof(err)) < 0) {
		fprintf(stderr, "vitrine-agent: %s\n", err);
		return -VT_ECONFIG;
	}

	for (int i = 0; i < cfg->n_plugins; i++) {
		struct vitrine_ctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		if (vt_loader_open(cfg->plugin_dir, cfg->plugins[i], &ctx.lp, err, sizeof(err)) < 0) {
			fprintf(stderr, "vitrine-agent: %s\n", err);
			bad++;
			continue;
		}
		ctx.conf = cfg->raw;
		snprintf(ctx.prefix, sizeof(ctx.prefix), "%.30s.", ctx.lp.desc.name);
		if (vt_host_check_keys(&ctx, err, sizeof(err)) < 0 ||
		    vt_plugset_privacy_source(cfg, privacy, &ctx.lp.desc, &src, err, sizeof(err)) < 0) {
			fprintf(stderr, "vitrine-agent: %s\n", err);
			bad++;
		}
		vt_loader_close(&ctx.lp);
	}
	vt_privacy_free(privacy);
	/* A key for a plugin that is not loaded is a typo or a leftover. */
	for (size_t i = 0; i < cfg->raw->n; i++) {
		const struct vt_conf_entry *e = &cfg->raw->entries[i];
		size_t len = strcspn(e->key, ".");
		int known = 0;

		if (!e->key[len])
			continue;
		for (int p = 0; p < cfg->n_plugins; p++) {
			const char *base = strrchr(cfg->plugins[p], '/');

			base = base ? base + 1 : cfg->plugins[p];
			known |= strncmp(base, e->key, len) == 0 &&
				 (base[len] == '\0' || strcmp(base + len, ".so") == 0);
		}
		if (!known) {
			fprintf(stderr, "vitrine-agent: %s:%d: key '%s' is for plugin '%.*s', which no 'plugin' line loads\n",
				e->path, e->line, e->key, (int)len, e->key);
			bad++;
		}
	}
	return bad ? -VT_ECONFIG : 0;
}

int vt_agent_run(struct vt_agent_config *cfg, const struct vt_agent_opts *opts)
{
	struct vt_agent *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->opts = opts;
	vt_service_open(&a->svc, &cfg->broker, vt_os_mono_ms());
	rc = vt_agent_start(a);
	if (rc < 0)
		goto out;
	while (!*opts->stop && !vt_agent_turn(a))
		;
	if (a->restart && !*opts->stop)
		vt_service_reloading(&a->svc, "reloading: restarting in place to run the new configuration");
	else
		vt_service_stopping(&a->svc, "stopping: sealing the open batch, syncing the spool, waiting up to 3 s for acknowledgments");
	vt_plugset_stop(&a->ps);
	vt_agent_drain(a);
	vt_agent_summary(a);
	vt_pub_shutdown(a->pub);
out:
	vt_plugset_close(&a->ps);
	vt_pub_free(a->pub);
	vt_fleet_free(a->fleet);
	vt_pipeline_free(a->pipeline);
	vt_clock_free(a->clock);
	vt_egress_close(a->egress);	/* writes what is pending */
	vt_privacy_free(a->privacy);
	vt_spool_close(a->spool);
	vt_keys_wipe(a->ack_key, sizeof(a->ack_key));
	if (a->tap)
		fclose(a->tap);
	vt_service_close(&a->svc);
	if (rc == 0 && a->restart)
		rc = VT_AGENT_RESTART;
	free(a);
	return rc;
}
