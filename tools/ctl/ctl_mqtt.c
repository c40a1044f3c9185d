/*
 * ctl_mqtt.c - vitrine-ctl's short MQTT sessions on libmosquitto.
 *
 * The tool drives mosquitto_loop() itself, without threads: each wait
 * (CONNACK, SUBACK, PUBACKs, a quiet spell after retained messages) runs
 * the loop until its condition holds or its deadline passes. MQTT 5 is
 * used so that a broker's refusal of a publish (an ACL) comes back as a
 * PUBACK reason code instead of being silently dropped. A connection lost
 * after the first CONNACK is retried once a second, subscriptions made
 * again; the waits' deadlines bound the whole. Errors are printed here,
 * naming the broker.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "ctl.h"
#include "vt_os.h"

#define VT_CTL_MQTT_KEEPALIVE_S 30
#define VT_CTL_MQTT_MAX_FILTERS 4
#define VT_CTL_MQTT_STEP_MS 50
#define VT_CTL_MQTT_RETRY_MS 1000

struct vt_ctl_mqtt {
	struct mosquitto *mosq;
	const struct vt_ctl_broker *b;
	vt_ctl_mqtt_msg_fn on_msg;
	void *ctx;
	int conn_rc;		/* -1 until a CONNACK, then its reason code */
	int established;	/* the first CONNACK was a success */
	int lost_logged;
	int64_t next_retry_ms;
	char filters[VT_CTL_MQTT_MAX_FILTERS][VT_CTL_TOPIC_MAX];
	int n_filters;
	int sub_mid;
	int sub_rc;		/* -1 until the SUBACK of sub_mid */
	unsigned pending;	/* publishes waiting for their PUBACK */
	unsigned refused;	/* PUBACKs with an error reason */
	char refused_why[96];
	int64_t last_msg_ms;
};

/* ---- callbacks ------------------------------------------------------------------ */

static void vt_ctl_mqtt_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
				   const mosquitto_property *props)
{
	struct vt_ctl_mqtt *m = obj;

	(void)flags;
	(void)props;
	m->conn_rc = rc;
	if (rc != 0 || !m->established)
		return;
	fprintf(stderr, VT_CTL_PROG ": reconnected to broker %s:%u\n", m->b->hp.host, m->b->hp.port);
	m->lost_logged = 0;
	for (int i = 0; i < m->n_filters; i++)
		mosquitto_subscribe_v5(mosq, NULL, m->filters[i], 1, 0, NULL);
}

static void vt_ctl_mqtt_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n,
				     const int *granted, const mosquitto_property *props)
{
	struct vt_ctl_mqtt *m = obj;

	(void)mosq;
	(void)props;
	if (mid == m->sub_mid)
		m->sub_rc = n >= 1 ? granted[0] : MQTT_RC_UNSPECIFIED;
}

static void vt_ctl_mqtt_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason,
				   const mosquitto_property *props)
{
	struct vt_ctl_mqtt *m = obj;

	(void)mosq;
	(void)mid;
	(void)props;
	if (m->pending)
		m->pending--;
	if (reason >= 0x80) {
		m->refused++;
		snprintf(m->refused_why, sizeof(m->refused_why), "%s", mosquitto_reason_string(reason));
	}
}

static void vt_ctl_mqtt_on_message(struct mosquitto *mosq, void *obj,
				   const struct mosquitto_message *msg,
				   const mosquitto_property *props)
{
	struct vt_ctl_mqtt *m = obj;

	(void)mosq;
	(void)props;
	m->last_msg_ms = vt_os_mono_ms();
	if (!msg->topic || msg->payloadlen < 0 || !m->on_msg)
		return;
	m->on_msg(m->ctx, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

/* ---- the loop ----------------------------------------------------------------- */

static const char *vt_ctl_mqtt_strerror(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* What to check when the first connection fails with rc. */
static const char *vt_ctl_mqtt_hint(const struct vt_ctl_broker *b, int rc)
{
	if (rc != MOSQ_ERR_PROTOCOL && rc != MOSQ_ERR_CONN_LOST && rc != MOSQ_ERR_TLS)
		return "";
	if (b->tls_ca && !b->tls_cert)
		return ": does the broker want a client certificate (--tls-cert, --tls-key)? Is it TLS on this port?";
	if (b->tls_ca)
		return ": is it TLS on this port, and does --tls-ca name the CA of its certificate?";
	return ": an MQTT broker there? Does it want TLS (--tls-ca)?";
}

/* After a loss: try again once a second, without busy-looping. */
static void vt_ctl_mqtt_recover(struct vt_ctl_mqtt *m, int rc, int ms)
{
	int64_t now = vt_os_mono_ms();

	if (!m->lost_logged) {
		fprintf(stderr, VT_CTL_PROG ": connection to broker %s:%u lost (%s); reconnecting\n",
			m->b->hp.host, m->b->hp.port, vt_ctl_mqtt_strerror(rc));
		m->lost_logged = 1;
	}
	if (now < m->next_retry_ms) {
		int64_t wait = m->next_retry_ms - now;

		usleep((useconds_t)(wait < ms ? wait : ms) * 1000);
		return;
	}
	m->next_retry_ms = now + VT_CTL_MQTT_RETRY_MS;
	mosquitto_reconnect(m->mosq);
}

/* One turn of the network loop, at most ms. -1 when the connection failed
 * before it was ever established. */
static int vt_ctl_mqtt_step(struct vt_ctl_mqtt *m, int ms)
{
	int rc = mosquitto_loop(m->mosq, ms, 1);

	if (rc == MOSQ_ERR_SUCCESS)
		return 0;
	if (!m->established) {
		vt_ctl_error("broker %s:%u: connection failed (%s)%s", m->b->hp.host, m->b->hp.port,
			     vt_ctl_mqtt_strerror(rc), vt_ctl_mqtt_hint(m->b, rc));
		return -1;
	}
	vt_ctl_mqtt_recover(m, rc, ms);
	return 0;
}

/* Run the loop until done(m) or the deadline (mono ms): 0, -ETIMEDOUT or
 * -1. */
static int vt_ctl_mqtt_wait(struct vt_ctl_mqtt *m, int (*done)(const struct vt_ctl_mqtt *),
			    int64_t deadline)
{
	while (!done(m)) {
		int64_t left = deadline - vt_os_mono_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		if (vt_ctl_mqtt_step(m, left < VT_CTL_MQTT_STEP_MS ? (int)left : VT_CTL_MQTT_STEP_MS) < 0)
			return -1;
	}
	return 0;
}

static int64_t vt_ctl_mqtt_deadline(const struct vt_ctl_mqtt *m)
{
	return vt_os_mono_ms() + (int64_t)m->b->timeout_s * 1000;
}

static int vt_ctl_mqtt_connacked(const struct vt_ctl_mqtt *m)
{
	return m->conn_rc >= 0;
}

static int vt_ctl_mqtt_subacked(const struct vt_ctl_mqtt *m)
{
	return m->sub_rc >= 0;
}

static int vt_ctl_mqtt_flushed(const struct vt_ctl_mqtt *m)
{
	return m->pending == 0;
}

/* ---- the session ------------------------------------------------------------------ */

/* A TLS file named by option opt (NULL: not given) must be readable. */
static int vt_ctl_mqtt_readable(const char *opt, const char *path)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	vt_ctl_error("%s %s: %s", opt, path, strerror(errno));
	return -1;
}

static int vt_ctl_mqtt_setup(struct vt_ctl_mqtt *m)
{
	const struct vt_ctl_broker *b = m->b;
	int rc;

	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(m->mosq, vt_ctl_mqtt_on_connect);
	mosquitto_subscribe_v5_callback_set(m->mosq, vt_ctl_mqtt_on_subscribe);
	mosquitto_publish_v5_callback_set(m->mosq, vt_ctl_mqtt_on_publish);
	mosquitto_message_v5_callback_set(m->mosq, vt_ctl_mqtt_on_message);
	if (!b->tls_ca)
		return 0;
	if (vt_ctl_mqtt_readable("--tls-ca", b->tls_ca) < 0 ||
	    vt_ctl_mqtt_readable("--tls-cert", b->tls_cert) < 0 ||
	    vt_ctl_mqtt_readable("--tls-key", b->tls_key) < 0)
		return -1;
	rc = mosquitto_tls_set(m->mosq, b->tls_ca, NULL, b->tls_cert, b->tls_key, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_ctl_error("TLS set-up with --tls-ca %s failed (%s)", b->tls_ca,
			     mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

static int vt_ctl_mqtt_handshake(struct vt_ctl_mqtt *m)
{
	const struct vt_ctl_broker *b = m->b;
	int rc;

	m->conn_rc = -1;
	rc = mosquitto_connect(m->mosq, b->hp.host, b->hp.port, VT_CTL_MQTT_KEEPALIVE_S);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_ctl_error("broker %s:%u: cannot connect (%s)", b->hp.host, b->hp.port,
			     vt_ctl_mqtt_strerror(rc));
		return -1;
	}
	rc = vt_ctl_mqtt_wait(m, vt_ctl_mqtt_connacked, vt_ctl_mqtt_deadline(m));
	if (rc == -ETIMEDOUT)
		vt_ctl_error("broker %s:%u: no CONNACK within %u s (an MQTT broker there? TLS where it expects plain, or the reverse?)",
			     b->hp.host, b->hp.port, b->timeout_s);
	if (rc < 0)
		return -1;
	if (m->conn_rc != 0) {
		vt_ctl_error("broker %s:%u refused the connection (%s)", b->hp.host, b->hp.port,
			     mosquitto_reason_string(m->conn_rc));
		return -1;
	}
	m->established = 1;
	return 0;
}

int vt_ctl_mqtt_connect(struct vt_ctl_mqtt **out, const struct vt_ctl_broker *b,
			vt_ctl_mqtt_msg_fn on_msg, void *ctx)
{
	struct vt_ctl_mqtt *m = calloc(1, sizeof(*m));

	if (!m) {
		vt_ctl_error("out of memory");
		return -1;
	}
	m->b = b;
	m->on_msg = on_msg;
	m->ctx = ctx;
	m->mosq = mosquitto_new(b->client_id, true, m);
	if (!m->mosq) {
		vt_ctl_error("cannot create an MQTT client (%s)", strerror(errno));
		goto out_free;
	}
	if (vt_ctl_mqtt_setup(m) < 0 || vt_ctl_mqtt_handshake(m) < 0)
		goto out_free;
	*out = m;
	return 0;
out_free:
	vt_ctl_mqtt_close(m);
	return -1;
}

int vt_ctl_mqtt_subscribe(struct vt_ctl_mqtt *m, const char *filter)
{
	int rc;

	if (m->n_filters >= VT_CTL_MQTT_MAX_FILTERS ||
	    strlen(filter) >= sizeof(m->filters[0])) {
		vt_ctl_error("too many subscriptions (this is a bug)");
		return -1;
	}
	snprintf(m->filters[m->n_filters++], sizeof(m->filters[0]), "%s", filter);
	m->sub_rc = -1;
	rc = mosquitto_subscribe_v5(m->mosq, &m->sub_mid, filter, 1, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_ctl_error("cannot subscribe to %s (%s)", filter, vt_ctl_mqtt_strerror(rc));
		return -1;
	}
	rc = vt_ctl_mqtt_wait(m, vt_ctl_mqtt_subacked, vt_ctl_mqtt_deadline(m));
	if (rc == -ETIMEDOUT)
		vt_ctl_error("broker %s:%u: no SUBACK for %s within %u s", m->b->hp.host,
			     m->b->hp.port, filter, m->b->timeout_s);
	if (rc < 0)
		return -1;
	if (m->sub_rc >= 0x80) {
		vt_ctl_error("broker %s:%u refused the subscription to %s (%s): check its ACL for this client",
			     m->b->hp.host, m->b->hp.port, filter, mosquitto_reason_string(m->sub_rc));
		return -1;
	}
	return 0;
}

int vt_ctl_mqtt_publish(struct vt_ctl_mqtt *m, const char *topic, const void *payload,
			size_t len)
{
	int rc;

	if (len > (size_t)MQTT_MAX_PAYLOAD) {
		vt_ctl_error("%s: %zu bytes is more than MQTT carries", topic, len);
		return -1;
	}
	rc = mosquitto_publish_v5(m->mosq, NULL, topic, (int)len, len ? payload : NULL, 1, true,
				  NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_ctl_error("cannot publish on %s (%s)", topic, vt_ctl_mqtt_strerror(rc));
		return -1;
	}
	m->pending++;
	return 0;
}

int vt_ctl_mqtt_flush(struct vt_ctl_mqtt *m)
{
	int rc = vt_ctl_mqtt_wait(m, vt_ctl_mqtt_flushed, vt_ctl_mqtt_deadline(m));

	if (rc == -ETIMEDOUT)
		vt_ctl_error("broker %s:%u: %u publish(es) not acknowledged within %u s; they may or may not be retained",
			     m->b->hp.host, m->b->hp.port, m->pending, m->b->timeout_s);
	if (rc < 0)
		return -1;
	if (m->refused) {
		vt_ctl_error("broker %s:%u refused %u publish(es) (%s): check its ACL for this client",
			     m->b->hp.host, m->b->hp.port, m->refused, m->refused_why);
		m->refused = 0;
		return -1;
	}
	return 0;
}

int vt_ctl_mqtt_settle(struct vt_ctl_mqtt *m, int quiet_ms, int max_ms)
{
	int64_t start = vt_os_mono_ms(), now = start;

	if (m->last_msg_ms < start)
		m->last_msg_ms = start;
	while (now - m->last_msg_ms < quiet_ms && now - start < max_ms) {
		if (vt_ctl_mqtt_step(m, VT_CTL_MQTT_STEP_MS) < 0)
			return -1;
		now = vt_os_mono_ms();
	}
	return 0;
}

int vt_ctl_mqtt_run(struct vt_ctl_mqtt *m, int ms)
{
	int64_t end = vt_os_mono_ms() + ms, left;

	while ((left = end - vt_os_mono_ms()) > 0)
		if (vt_ctl_mqtt_step(m, left < VT_CTL_MQTT_STEP_MS ? (int)left : VT_CTL_MQTT_STEP_MS) < 0)
			return -1;
	return 0;
}

void vt_ctl_mqtt_close(struct vt_ctl_mqtt *m)
{
	if (!m)
		return;
	if (m->mosq) {
		if (m->established)
			mosquitto_disconnect_v5(m->mosq, MQTT_RC_NORMAL_DISCONNECTION, NULL);
		mosquitto_destroy(m->mosq);
	}
	free(m);
}
