/*
 * publish.h - the publisher: the publish queue to the MQTT broker.
 *
 * libmosquitto driven from the agent's own poll() loop (no thread): the loop
 * asks for the socket and the events wanted, and calls vt_pub_io() and
 * vt_pub_tick(). Frames go out at QoS 1 on vitrine/v1/<site>/<device>/data,
 * at most max_inflight at a time; a PUBACK frees the frame. The connection
 * is retried with exponential back-off and jitter (1 s doubling to 60 s);
 * each change of state is logged once. A retained status message on
 * .../status says "online" (with counters), and the broker publishes the
 * will "offline" if the device vanishes.
 */
#ifndef VT_PUBLISH_H
#define VT_PUBLISH_H

#include <stdint.h>

#include "conf.h"
#include "queue.h"

struct vt_pub_conf {
	struct vt_hostport broker;
	const char *client_id;
	const char *site;
	const char *device;
	uint32_t keepalive_s;
	uint32_t max_inflight;
	const char *tls_ca;	/* NULL: plain TCP */
	const char *tls_cert;
	const char *tls_key;
};

struct vt_pub_stats {
	uint64_t frames_published;	/* handed to the broker */
	uint64_t frames_acked;		/* PUBACK received */
	uint64_t readings_acked;
	uint64_t connects;
	uint64_t disconnects;
};

struct vt_pub;

/* queue is borrowed and must outlive the publisher. */
int vt_pub_new(struct vt_pub **out, const struct vt_pub_conf *conf, struct vt_queue *queue);
void vt_pub_free(struct vt_pub *p);

/* Socket to poll (-1 when none) and the events wanted. */
int vt_pub_fd(struct vt_pub *p, short *events);
/* The socket is ready with revents. */
void vt_pub_io(struct vt_pub *p, short revents, int64_t mono_ms);
/* Timers: reconnect when due, keepalive, publish what the window allows.
 * Returns the milliseconds until it next needs to run. */
int64_t vt_pub_tick(struct vt_pub *p, int64_t mono_ms);

int vt_pub_connected(const struct vt_pub *p);
/* Publish a retained status document (JSON text). */
int vt_pub_status(struct vt_pub *p, const char *json);
/* Disconnect cleanly (the will is not sent; status set to "offline"). */
void vt_pub_shutdown(struct vt_pub *p);
const struct vt_pub_stats *vt_pub_stats(const struct vt_pub *p);

#endif
