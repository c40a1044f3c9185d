/*
 * publish.h - the publisher: from the spool to the MQTT broker, and back
 * the aggregator's acknowledgments.
 *
 * libmosquitto driven from the agent's own poll() loop (no thread): the loop
 * asks for the socket and the events wanted, and calls vt_pub_io() and
 * vt_pub_tick(). Durable frames are read from the spool and published at
 * QoS 1 on vitrine/v1/<site>/<device>/data, at most max_inflight awaiting
 * the broker's PUBACK. A PUBACK frees a slot of that window and nothing
 * else: a frame leaves the spool only when the aggregator's authenticated
 * ack on .../ack (ack.h) says its database holds it. After every
 * (re)connection, and when acks stop coming for ack_timeout_ms while frames
 * are outstanding (doubling up to 10 minutes), the spool is rewound and
 * every unacknowledged frame is sent again; the aggregator drops and counts
 * the duplicates. A lost connection is retried with exponential back-off
 * and jitter (1 s doubling to 60 s), with a fresh MQTT client so that no
 * frame is ever held or dropped inside the library. Each change of state is
 * logged once, in words: when TLS fails, with what OpenSSL said (which
 * libmosquitto passes to its log callback only) and where to look. While
 * running, the client certificate's expiry is watched (tls.h). A retained
 * status message on .../status says "online" (with
 * counters), and the broker publishes the will "offline" if the device
 * vanishes.
 */
#ifndef VT_PUBLISH_H
#define VT_PUBLISH_H

#include <stdint.h>

#include "conf.h"
#include "keys.h"
#include "spool.h"
#include "tls.h"
#include "tls_pin.h"

struct vt_pub_conf {
	struct vt_hostport broker;
	const char *client_id;
	const char *site;
	const char *device;
	uint32_t keepalive_s;
	uint32_t max_inflight;
	uint32_t ack_timeout_ms;
	const uint8_t *ack_key;	/* VT_KEY_LEN bytes, copied (and wiped at free) */
	const char *tls_ca;	/* NULL: plain TCP */
	const char *tls_cert;
	const char *tls_key;
	struct vt_tls_pins tls_pins;	/* the broker's keys (tls_pin); n = 0: any */
	struct vt_tls_cert tls_client;	/* from vt_tls_startup(); copied */
	/* More topics to subscribe to (fleet bundles; borrowed, outlive the
	 * publisher), and where their messages go. */
	const char *const *topics;
	int n_topics;
	void (*on_message)(void *ctx, const char *topic, const uint8_t *payload, size_t len);
	void *on_message_ctx;
};

struct vt_pub_stats {
	uint64_t frames_published;	/* handed to the broker, resends included */
	uint64_t frames_puback;		/* PUBACK received */
	uint64_t frames_resent;		/* published again after a rewind */
	uint64_t acks;			/* valid acks from the aggregator */
	uint64_t acks_rejected;		/* acks whose MAC did not verify */
	uint64_t frames_acked;		/* retired from the spool by acks */
	uint64_t last_ack_seq;
	int64_t last_ack_mono_ms;	/* 0: none yet */
	uint64_t connects;
	uint64_t disconnects;
};

struct vt_pub;

/* spool is borrowed and must outlive the publisher. */
int vt_pub_new(struct vt_pub **out, const struct vt_pub_conf *conf, struct vt_spool *spool);
void vt_pub_free(struct vt_pub *p);

/* Socket to poll (-1 when none) and the events wanted. */
int vt_pub_fd(struct vt_pub *p, short *events);
/* The socket is ready with revents. */
void vt_pub_io(struct vt_pub *p, short revents, int64_t mono_ms);
/* Timers: reconnect when due, keepalive, ack time-out, publish what the
 * window allows. Returns the milliseconds until it next needs to run. */
int64_t vt_pub_tick(struct vt_pub *p, int64_t mono_ms);

int vt_pub_connected(const struct vt_pub *p);
/* Why the last connection attempt failed or the last session was lost, in
 * words (as logged); "" until one has. Borrowed: valid until the next call
 * into the publisher. */
const char *vt_pub_last_error(const struct vt_pub *p);
/* Publish a retained status document (JSON text). */
int vt_pub_status(struct vt_pub *p, const char *json);
/* Disconnect cleanly (the will is not sent; status set to "offline"). */
void vt_pub_shutdown(struct vt_pub *p);
const struct vt_pub_stats *vt_pub_stats(const struct vt_pub *p);
/* The client certificate's expiry, for the status (borrowed). */
const struct vt_tls_cert *vt_pub_tls(const struct vt_pub *p);

#endif
