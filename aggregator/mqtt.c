/*
 * mqtt.c - libmosquitto client for the aggregator (see mqtt.h).
 *
 * A small state machine: DOWN (waiting for the next attempt), CONNECTING
 * (TCP up, waiting for CONNACK and SUBACK) and UP. Every failure goes back
 * to DOWN with the next attempt scheduled by an exponential back-off with
 * jitter, so a fleet of aggregators restarted together does not hammer the
 * broker in step. The operator sees one line per change of state; the
 * attempts in between are at debug level.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "err.h"
#include "log.h"
#include "mqtt.h"
#include "vt_os.h"

#define VT_AGG_MQTT_CONNACK_TIMEOUT_MS 10000

enum vt_agg_mqtt_state {
	VT_MQ_DOWN,
	VT_MQ_CONNECTING,
	VT_MQ_UP,
};

enum vt_agg_mqtt_logged {
	VT_MQ_LOGGED_NONE,
	VT_MQ_LOGGED_DOWN,
	VT_MQ_LOGGED_UP,
};

struct vt_agg_mqtt {
	struct mosquitto *mosq;
	struct vt_agg_mqtt_opts opts;	/* strings point into the copies below */
	char *host, *client_id, *tls_ca, *tls_cert, *tls_key;
	char filter[256];
	enum vt_agg_mqtt_state state;
	enum vt_agg_mqtt_logged logged;
	int64_t next_attempt_ms;	/* mono */
	int64_t connect_started_ms;
	unsigned attempts;		/* failures since the last UP */
	uint64_t connections;		/* times UP was reached */
	int session_present;
	int lost;			/* set by the disconnect callback */
	char why[160];			/* reason of the last failure */
};

/* ---- state changes ----------------------------------------------------------- */

static int64_t vt_agg_mqtt_backoff(unsigned attempts)
{
	int64_t delay = VT_AGG_MQTT_BACKOFF_MIN_MS;
	uint32_t r = 0;

	for (unsigned i = 0; i < attempts && delay < VT_AGG_MQTT_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > VT_AGG_MQTT_BACKOFF_MAX_MS)
		delay = VT_AGG_MQTT_BACKOFF_MAX_MS;
	/* Jitter: somewhere in [delay/2, delay]. */
	if (vt_os_random(&r, sizeof(r)) < 0)
		r = (uint32_t)vt_os_mono_ms();
	return delay / 2 + (int64_t)(r % (uint32_t)(delay / 2 + 1));
}

__attribute__((format(printf, 2, 3)))
static void vt_agg_mqtt_fail(struct vt_agg_mqtt *m, const char *fmt, ...)
{
	int64_t delay;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	if (m->state != VT_MQ_DOWN)
		mosquitto_disconnect_v5(m->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
	m->state = VT_MQ_DOWN;
	delay = vt_agg_mqtt_backoff(m->attempts);
	m->attempts++;
	m->next_attempt_ms = vt_os_mono_ms() + delay;
	if (m->logged != VT_MQ_LOGGED_DOWN) {
		VT_WARN("broker %s:%u: %s; reconnecting with back-off (%d s .. %d s), frames wait in the broker's session",
			m->opts.host, m->opts.port, m->why, VT_AGG_MQTT_BACKOFF_MIN_MS / 1000,
			VT_AGG_MQTT_BACKOFF_MAX_MS / 1000);
		m->logged = VT_MQ_LOGGED_DOWN;
	} else {
		VT_DEBUG("broker %s:%u: %s; next attempt in %lld ms", m->opts.host, m->opts.port,
			 m->why, (long long)delay);
	}
}

static void vt_agg_mqtt_became_up(struct vt_agg_mqtt *m)
{
	m->state = VT_MQ_UP;
	m->attempts = 0;
	m->connections++;
	if (m->logged != VT_MQ_LOGGED_UP) {
		VT_INFO("connected to broker %s:%u (%s), subscribed to %s", m->opts.host,
			m->opts.port, m->session_present ? "session resumed" : "new session",
			m->filter);
		m->logged = VT_MQ_LOGGED_UP;
	}
}

/* ---- libmosquitto callbacks ------------------------------------------------------ */

static void vt_agg_mqtt_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
				   const mosquitto_property *props)
{
	struct vt_agg_mqtt *m = obj;
	int sub;

	(void)props;
	if (rc != 0) {
		vt_agg_mqtt_fail(m, "connection refused (%s)", mosquitto_reason_string(rc));
		return;
	}
	m->session_present = flags & 1;
	sub = mosquitto_subscribe_v5(mosq, NULL, m->filter, 1, 0, NULL);
	if (sub != MOSQ_ERR_SUCCESS)
		vt_agg_mqtt_fail(m, "cannot subscribe to %s (%s)", m->filter,
				 mosquitto_strerror(sub));
}

static void vt_agg_mqtt_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n,
				     const int *granted, const mosquitto_property *props)
{
	struct vt_agg_mqtt *m = obj;

	(void)mosq;
	(void)mid;
	(void)props;
	if (n < 1 || granted[0] > 2) {
		vt_agg_mqtt_fail(m, "subscription to %s refused (%s)", m->filter,
				 n < 1 ? "no reason" : mosquitto_reason_string(granted[0]));
		return;
	}
	if (granted[0] < 1)
		VT_WARN("broker %s:%u granted QoS 0 only for %s: frames can be lost while we are away",
			m->opts.host, m->opts.port, m->filter);
	vt_agg_mqtt_became_up(m);
}

static void vt_agg_mqtt_on_disconnect(struct mosquitto *mosq, void *obj, int rc,
				      const mosquitto_property *props)
{
	struct vt_agg_mqtt *m = obj;

	(void)mosq;
	(void)props;
	if (m->state == VT_MQ_DOWN)
		return;		/* our own disconnect */
	m->lost = 1;
	snprintf(m->why, sizeof(m->why), "connection lost (%s)",
		 rc == MOSQ_ERR_CONN_LOST ? "closed by peer" : mosquitto_reason_string(rc));
}

static void vt_agg_mqtt_on_message(struct mosquitto *mosq, void *obj,
				   const struct mosquitto_message *msg,
				   const mosquitto_property *props)
{
	struct vt_agg_mqtt *m = obj;

	(void)mosq;
	(void)props;
	if (!msg->topic || msg->payloadlen < 0)
		return;
	m->opts.on_message(m->opts.ctx, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

/* ---- life cycle ----------------------------------------------------------------- */

static int vt_agg_mqtt_copy(struct vt_agg_mqtt *m, const struct vt_agg_mqtt_opts *o)
{
	m->opts = *o;
	m->host = strdup(o->host);
	m->client_id = strdup(o->client_id);
	m->tls_ca = o->tls_ca ? strdup(o->tls_ca) : NULL;
	m->tls_cert = o->tls_cert ? strdup(o->tls_cert) : NULL;
	m->tls_key = o->tls_key ? strdup(o->tls_key) : NULL;
	if (!m->host || !m->client_id || (o->tls_ca && !m->tls_ca) ||
	    (o->tls_cert && !m->tls_cert) || (o->tls_key && !m->tls_key))
		return -ENOMEM;
	m->opts.host = m->host;
	m->opts.client_id = m->client_id;
	m->opts.tls_ca = m->tls_ca;
	m->opts.tls_cert = m->tls_cert;
	m->opts.tls_key = m->tls_key;
	m->opts.shared_group = NULL;	/* only used for the filter */
	if (o->shared_group && o->shared_group[0])
		snprintf(m->filter, sizeof(m->filter), "$share/%s/%s", o->shared_group,
			 VT_AGG_MQTT_TOPIC);
	else
		snprintf(m->filter, sizeof(m->filter), "%s", VT_AGG_MQTT_TOPIC);
	return 0;
}

static int vt_agg_mqtt_setup(struct vt_agg_mqtt *m)
{
	int rc;

	/* clean_session false = MQTT 5 clean start off: keep our session. */
	m->mosq = mosquitto_new(m->client_id, false, m);
	if (!m->mosq)
		return errno == ENOMEM ? -ENOMEM : -VT_EMQTT;
	rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	if (rc == MOSQ_ERR_SUCCESS && m->tls_ca)
		rc = mosquitto_tls_set(m->mosq, m->tls_ca, NULL, m->tls_cert, m->tls_key, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		VT_ERROR("MQTT client setup failed: %s", mosquitto_strerror(rc));
		return -VT_EMQTT;
	}
	mosquitto_connect_v5_callback_set(m->mosq, vt_agg_mqtt_on_connect);
	mosquitto_subscribe_v5_callback_set(m->mosq, vt_agg_mqtt_on_subscribe);
	mosquitto_disconnect_v5_callback_set(m->mosq, vt_agg_mqtt_on_disconnect);
	mosquitto_message_v5_callback_set(m->mosq, vt_agg_mqtt_on_message);
	return 0;
}

int vt_agg_mqtt_new(const struct vt_agg_mqtt_opts *opts, struct vt_agg_mqtt **out)
{
	struct vt_agg_mqtt *m;
	int rc;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	mosquitto_lib_init();
	rc = vt_agg_mqtt_copy(m, opts);
	if (rc == 0)
		rc = vt_agg_mqtt_setup(m);
	if (rc < 0) {
		vt_agg_mqtt_free(m);
		return rc;
	}
	m->state = VT_MQ_DOWN;
	m->next_attempt_ms = 0;
	*out = m;
	return 0;
}

void vt_agg_mqtt_free(struct vt_agg_mqtt *m)
{
	if (!m)
		return;
	if (m->mosq) {
		if (m->state != VT_MQ_DOWN) {
			m->state = VT_MQ_DOWN;
			mosquitto_disconnect_v5(m->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
			/* Let the DISCONNECT leave before the socket closes. */
			mosquitto_loop(m->mosq, 100, 1);
		}
		mosquitto_destroy(m->mosq);
	}
	mosquitto_lib_cleanup();
	free(m->host);
	free(m->client_id);
	free(m->tls_ca);
	free(m->tls_cert);
	free(m->tls_key);
	free(m);
}

/* ---- driving ---------------------------------------------------------------------- */

static void vt_agg_mqtt_connect(struct vt_agg_mqtt *m)
{
	mosquitto_property *props = NULL;
	int rc;

	rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					  VT_AGG_MQTT_SESSION_EXPIRY_S);
	if (rc == MOSQ_ERR_SUCCESS && m->opts.max_packet)
		rc = mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE,
						  m->opts.max_packet);
	if (rc == MOSQ_ERR_SUCCESS) {
		VT_DEBUG("connecting to broker %s:%u", m->opts.host, m->opts.port);
		errno = 0;
		rc = mosquitto_connect_bind_v5(m->mosq, m->opts.host, m->opts.port,
					       m->opts.keepalive_s, NULL, props);
	}
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_agg_mqtt_fail(m, "cannot connect (%s)",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return;
	}
	m->state = VT_MQ_CONNECTING;
	m->lost = 0;
	m->connect_started_ms = vt_os_mono_ms();
}

static void vt_agg_mqtt_sleep(int ms)
{
	if (ms > 0)
		poll(NULL, 0, ms);	/* a signal ends it early, as wanted */
}

void vt_agg_mqtt_run(struct vt_agg_mqtt *m, int timeout_ms)
{
	int64_t now = vt_os_mono_ms();
	int rc;

	if (m->state == VT_MQ_DOWN) {
		if (now < m->next_attempt_ms) {
			int64_t wait = m->next_attempt_ms - now;

			vt_agg_mqtt_sleep(wait < timeout_ms ? (int)wait : timeout_ms);
			return;
		}
		vt_agg_mqtt_connect(m);
		if (m->state == VT_MQ_DOWN)
			return;
	}
	rc = mosquitto_loop(m->mosq, timeout_ms, 1);
	if (m->state == VT_MQ_DOWN)
		return;		/* a callback already failed */
	if (rc != MOSQ_ERR_SUCCESS || m->lost) {
		char why[sizeof(m->why)];

		if (m->lost)
			memcpy(why, m->why, sizeof(why));
		else
			snprintf(why, sizeof(why), "connection lost (%s)",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		vt_agg_mqtt_fail(m, "%s", why);
		return;
	}
	if (m->state == VT_MQ_CONNECTING &&
	    vt_os_mono_ms() - m->connect_started_ms > VT_AGG_MQTT_CONNACK_TIMEOUT_MS)
		vt_agg_mqtt_fail(m, "no CONNACK/SUBACK within %d s",
				 VT_AGG_MQTT_CONNACK_TIMEOUT_MS / 1000);
}

int vt_agg_mqtt_up(const struct vt_agg_mqtt *m)
{
	return m->state == VT_MQ_UP;
}

const char *vt_agg_mqtt_filter(const struct vt_agg_mqtt *m)
{
	return m->filter;
}

uint64_t vt_agg_mqtt_connections(const struct vt_agg_mqtt *m)
{
	return m->connections;
}

int vt_agg_mqtt_publish(struct vt_agg_mqtt *m, const char *topic, const uint8_t *payload,
			size_t len, int qos, int retain)
{
	int rc;

	if (m->state != VT_MQ_UP)
		return -ENOTCONN;
	if (len > (size_t)INT32_MAX)
		return -VT_EMQTT;
	rc = mosquitto_publish_v5(m->mosq, NULL, topic, (int)len, payload, qos, retain != 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		VT_DEBUG("broker %s:%u: publish to %s failed (%s)", m->opts.host, m->opts.port,
			 topic, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return rc == MOSQ_ERR_NOMEM ? -ENOMEM : -VT_EMQTT;
	}
	return 0;
}
