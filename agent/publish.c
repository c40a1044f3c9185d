/*
 * publish.c - libmosquitto on the agent's poll loop (see publish.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "err.h"
#include "log.h"
#include "publish.h"
#include "vt_os.h"

#define VT_PUB_BACKOFF_MIN_MS 1000
#define VT_PUB_BACKOFF_MAX_MS 60000
#define VT_PUB_TOPIC_MAX 200

enum vt_pub_state {
	VT_PUB_IDLE,		/* waiting for the next attempt */
	VT_PUB_CONNECTING,	/* TCP/TLS/CONNECT in progress */
	VT_PUB_CONNECTED,	/* CONNACK accepted */
};

struct vt_pub {
	struct vt_pub_conf conf;
	struct mosquitto *mosq;
	struct vt_queue *queue;
	enum vt_pub_state state;
	int ever_connected;
	int outage_logged;	/* the current outage was logged */
	int64_t next_attempt_ms;
	int64_t down_since_ms;
	uint32_t backoff_ms;
	char topic_data[VT_PUB_TOPIC_MAX];
	char topic_status[VT_PUB_TOPIC_MAX];
	char last_error[128];
	struct vt_pub_stats stats;
};

static const char *vt_pub_offline = "{\"state\":\"offline\"}";

/* Exponential back-off with +-25 % jitter so a fleet does not reconnect in
 * lock-step after a broker restart. */
static void vt_pub_schedule(struct vt_pub *p, int64_t now)
{
	uint32_t jitter = 0;
	uint32_t delay;

	vt_os_random(&jitter, sizeof(jitter));
	delay = p->backoff_ms / 4 * 3 + jitter % (p->backoff_ms / 2 + 1);
	p->next_attempt_ms = now + delay;
	p->backoff_ms = p->backoff_ms * 2 > VT_PUB_BACKOFF_MAX_MS ? VT_PUB_BACKOFF_MAX_MS
								 : p->backoff_ms * 2;
	p->state = VT_PUB_IDLE;
}

/* Called on every way of losing (or failing to get) a connection. */
static void vt_pub_lost(struct vt_pub *p, const char *why)
{
	int64_t now = vt_os_mono_ms();

	if (p->state == VT_PUB_CONNECTED) {
		p->stats.disconnects++;
		p->down_since_ms = now;
		p->outage_logged = 0;
	}
	if (!p->outage_logged) {
		VT_WARN("broker %s:%u %s (%s); collecting and queueing (%zu frames), retrying with back-off",
			p->conf.broker.host, p->conf.broker.port,
			p->ever_connected ? "lost" : "unreachable", why, p->queue->count);
		p->outage_logged = 1;
	}
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	vt_pub_schedule(p, now);
}

static void vt_pub_on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct vt_pub *p = obj;
	int64_t now = vt_os_mono_ms();

	(void)mosq;
	if (rc != 0) {
		mosquitto_disconnect(p->mosq);
		vt_pub_lost(p, mosquitto_connack_string(rc));
		return;
	}
	p->stats.connects++;
	p->state = VT_PUB_CONNECTED;
	p->backoff_ms = VT_PUB_BACKOFF_MIN_MS;
	if (p->ever_connected)
		VT_INFO("broker %s:%u connected again after %lld s; %zu frames queued",
			p->conf.broker.host, p->conf.broker.port,
			(long long)((now - p->down_since_ms) / 1000), p->queue->count);
	else
		VT_INFO("broker %s:%u connected; publishing on %s", p->conf.broker.host,
			p->conf.broker.port, p->topic_data);
	p->ever_connected = 1;
	p->outage_logged = 0;
}

static void vt_pub_on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct vt_pub *p = obj;

	(void)mosq;
	if (p->state == VT_PUB_IDLE)
		return;
	vt_pub_lost(p, rc == 0 ? "closed" : mosquitto_strerror(rc));
}

static void vt_pub_on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct vt_pub *p = obj;
	int readings;

	(void)mosq;
	readings = vt_queue_ack(p->queue, mid);
	if (readings >= 0) {
		p->stats.frames_acked++;
		p->stats.readings_acked += (uint64_t)readings;
	}
}

static int vt_pub_setup(struct vt_pub *p)
{
	int rc;

	mosquitto_connect_callback_set(p->mosq, vt_pub_on_connect);
	mosquitto_disconnect_callback_set(p->mosq, vt_pub_on_disconnect);
	mosquitto_publish_callback_set(p->mosq, vt_pub_on_publish);
	mosquitto_max_inflight_messages_set(p->mosq, p->conf.max_inflight);
	rc = mosquitto_will_set(p->mosq, p->topic_status, (int)strlen(vt_pub_offline),
				vt_pub_offline, 1, true);
	if (rc == MOSQ_ERR_SUCCESS && p->conf.tls_ca)
		rc = mosquitto_tls_set(p->mosq, p->conf.tls_ca, NULL, p->conf.tls_cert,
				       p->conf.tls_key, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		VT_ERROR("MQTT client setup failed: %s", mosquitto_strerror(rc));
		return -VT_EMQTT;
	}
	return 0;
}

int vt_pub_new(struct vt_pub **out, const struct vt_pub_conf *conf, struct vt_queue *queue)
{
	struct vt_pub *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->queue = queue;
	p->backoff_ms = VT_PUB_BACKOFF_MIN_MS;
	snprintf(p->topic_data, sizeof(p->topic_data), "vitrine/v1/%s/%s/data", conf->site,
		 conf->device);
	snprintf(p->topic_status, sizeof(p->topic_status), "vitrine/v1/%s/%s/status",
		 conf->site, conf->device);
	mosquitto_lib_init();
	p->mosq = mosquitto_new(conf->client_id, true, p);
	if (!p->mosq) {
		rc = -errno;
		goto out_free;
	}
	rc = vt_pub_setup(p);
	if (rc < 0)
		goto out_free;
	p->state = VT_PUB_IDLE;
	p->next_attempt_ms = vt_os_mono_ms();
	p->down_since_ms = p->next_attempt_ms;
	*out = p;
	return 0;
out_free:
	vt_pub_free(p);
	return rc;
}

void vt_pub_free(struct vt_pub *p)
{
	if (!p)
		return;
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	mosquitto_lib_cleanup();
	free(p);
}

static void vt_pub_attempt(struct vt_pub *p)
{
	int rc;

	if (!p->ever_connected && !p->outage_logged)
		VT_INFO("connecting to broker %s:%u%s", p->conf.broker.host, p->conf.broker.port,
			p->conf.tls_ca ? " (TLS)" : "");
	rc = mosquitto_connect_async(p->mosq, p->conf.broker.host, p->conf.broker.port,
				     (int)p->conf.keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_pub_lost(p, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return;
	}
	p->state = VT_PUB_CONNECTING;
}

int vt_pub_fd(struct vt_pub *p, short *events)
{
	int fd;

	if (p->state == VT_PUB_IDLE)
		return -1;
	fd = mosquitto_socket(p->mosq);
	*events = POLLIN;
	if (mosquitto_want_write(p->mosq))
		*events |= POLLOUT;
	return fd;
}

static void vt_pub_check(struct vt_pub *p, int rc)
{
	if (rc == MOSQ_ERR_SUCCESS || p->state == VT_PUB_IDLE)
		return;
	vt_pub_lost(p, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

void vt_pub_io(struct vt_pub *p, short revents, int64_t mono_ms)
{
	(void)mono_ms;
	if (p->state == VT_PUB_IDLE)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR))
		vt_pub_check(p, mosquitto_loop_read(p->mosq, 1));
	if (p->state != VT_PUB_IDLE && (revents & POLLOUT))
		vt_pub_check(p, mosquitto_loop_write(p->mosq, 1));
}

/* Hand queued frames to libmosquitto while the in-flight window allows. */
static void vt_pub_pump(struct vt_pub *p)
{
	struct vt_frame_item *it;

	while (p->queue->inflight < p->conf.max_inflight &&
	       (it = vt_queue_next_unsent(p->queue)) != NULL) {
		int mid = 0;
		int rc = mosquitto_publish(p->mosq, &mid, p->topic_data, (int)it->len,
					   it->frame, 1, false);

		if (rc != MOSQ_ERR_SUCCESS) {
			vt_pub_check(p, rc);
			return;
		}
		vt_queue_mark_sent(p->queue, it, mid);
		p->stats.frames_published++;
	}
}

int64_t vt_pub_tick(struct vt_pub *p, int64_t mono_ms)
{
	if (p->state == VT_PUB_IDLE) {
		if (mono_ms >= p->next_attempt_ms)
			vt_pub_attempt(p);
		if (p->state == VT_PUB_IDLE)
			return p->next_attempt_ms - mono_ms;
	}
	vt_pub_check(p, mosquitto_loop_misc(p->mosq));
	if (p->state == VT_PUB_CONNECTED)
		vt_pub_pump(p);
	/* Flush what the pump queued without waiting for the next poll. */
	if (p->state != VT_PUB_IDLE && mosquitto_want_write(p->mosq))
		vt_pub_check(p, mosquitto_loop_write(p->mosq, 1));
	return 1000;
}

int vt_pub_connected(const struct vt_pub *p)
{
	return p->state == VT_PUB_CONNECTED;
}

int vt_pub_status(struct vt_pub *p, const char *json)
{
	int rc;

	if (p->state != VT_PUB_CONNECTED)
		return -ENOTCONN;
	rc = mosquitto_publish(p->mosq, NULL, p->topic_status, (int)strlen(json), json, 1, true);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -VT_EMQTT;
}

void vt_pub_shutdown(struct vt_pub *p)
{
	if (p->state != VT_PUB_CONNECTED)
		return;
	vt_pub_status(p, vt_pub_offline);
	p->state = VT_PUB_IDLE;	/* a planned disconnect is not an outage */
	mosquitto_disconnect(p->mosq);
	mosquitto_loop_write(p->mosq, 1);
}

const struct vt_pub_stats *vt_pub_stats(const struct vt_pub *p)
{
	return &p->stats;
}
