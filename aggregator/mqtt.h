/*
 * mqtt.h - the aggregator's MQTT client: subscribe to data frames, stay up.
 *
 * MQTT 5 with a persistent session (clean start off, session expiry of a
 * day), so the broker queues QoS 1 frames while the aggregator is down. The
 * subscription is shared ($share/<group>/...) unless no group is given.
 * Reconnects by itself with exponential back-off and jitter (1 s .. 60 s),
 * logging each change of state once. Single-threaded: the caller drives it
 * with vt_agg_mqtt_run(); messages arrive through the callback from there.
 * It also publishes (the acknowledgments, run.c) while connected.
 *
 * It does not look at message contents: receive.c does.
 */
#ifndef VT_AGG_MQTT_H
#define VT_AGG_MQTT_H

#include <stddef.h>
#include <stdint.h>

#define VT_AGG_MQTT_TOPIC "vitrine/v1/+/+/data"
#define VT_AGG_MQTT_SESSION_EXPIRY_S 86400
#define VT_AGG_MQTT_BACKOFF_MIN_MS 1000
#define VT_AGG_MQTT_BACKOFF_MAX_MS 60000

/* topic and payload are borrowed for the call only. */
typedef void (*vt_agg_mqtt_message_fn)(void *ctx, const char *topic, const uint8_t *payload,
				       size_t len);

struct vt_agg_mqtt_opts {
	const char *host;
	uint16_t port;
	const char *client_id;
	const char *shared_group;	/* NULL or "": plain subscription */
	const char *tls_ca;		/* NULL: no TLS */
	const char *tls_cert;
	const char *tls_key;
	int keepalive_s;
	uint32_t max_packet;		/* largest message accepted from the broker */
	vt_agg_mqtt_message_fn on_message;
	void *ctx;			/* handed to on_message, borrowed */
};

struct vt_agg_mqtt;

/* Create the client (no connection yet; the first vt_agg_mqtt_run()
 * connects). opts' strings are copied. Returns 0, -ENOMEM or -VT_EMQTT. */
int vt_agg_mqtt_new(const struct vt_agg_mqtt_opts *opts, struct vt_agg_mqtt **out);

/* Disconnect (if connected) and free. NULL is a no-op. */
void vt_agg_mqtt_free(struct vt_agg_mqtt *m);

/* Do network work for at most timeout_ms: connect when the back-off allows,
 * read and dispatch messages, keep the connection alive. Returns early on a
 * signal. Never fails: trouble turns into a reconnect. */
void vt_agg_mqtt_run(struct vt_agg_mqtt *m, int timeout_ms);

/* 1 when connected and subscribed. */
int vt_agg_mqtt_up(const struct vt_agg_mqtt *m);

/* How many times the client has come up (connected and subscribed) since
 * vt_agg_mqtt_new(): a change means a new connection, after which
 * whatever was published before may need publishing again. */
uint64_t vt_agg_mqtt_connections(const struct vt_agg_mqtt *m);

/* Queue one message (topic and payload copied) for the broker, qos 0..2.
 * Only while up: returns 0, -ENOTCONN when not up, or -VT_EMQTT. A QoS 1
 * message queued here can still be lost with the connection; callers that
 * care publish again after the next connection. */
int vt_agg_mqtt_publish(struct vt_agg_mqtt *m, const char *topic, const uint8_t *payload,
			size_t len, int qos, int retain);

/* The subscription filter in use (for messages). */
const char *vt_agg_mqtt_filter(const struct vt_agg_mqtt *m);

#endif
