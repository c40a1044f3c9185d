/*
 * publish.c - libmosquitto on the agent's poll loop (see publish.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mosquitto.h>

#include "ack.h"
#include "err.h"
#include "log.h"
#include "publish.h"
#include "vt_os.h"

#define VT_PUB_BACKOFF_MIN_MS 1000
#define VT_PUB_BACKOFF_MAX_MS 60000
#define VT_PUB_TOPIC_MAX 200
#define VT_PUB_ACK_TIMEOUT_MAX_MS 600000
#define VT_PUB_SUBACK_WAIT_MS 2000	/* then publish without the retained ack */
#define VT_PUB_LOG_MS 60000
#define VT_PUB_MAX_TOPICS 16		/* besides the ack topic */

enum vt_pub_state {
	VT_PUB_IDLE,		/* waiting for the next attempt */
	VT_PUB_CONNECTING,	/* TCP/TLS/CONNECT in progress */
	VT_PUB_CONNECTED,	/* CONNACK accepted */
};

struct vt_pub {
	struct vt_pub_conf conf;
	struct mosquitto *mosq;
	struct vt_spool *spool;
	enum vt_pub_state state;
	int stale_client;	/* the client saw a connection: make a fresh one */
	int subscribed;		/* SUBACK for the ack topic received */
	int64_t connected_ms;
	uint32_t inflight;	/* published, PUBACK awaited */
	uint64_t max_published_seq;
	int64_t ack_progress_ms; /* last ack that retired frames, or last rewind */
	uint32_t ack_timeout_ms; /* current time-out; doubles while none come */
	uint8_t ack_key[VT_KEY_LEN];
	struct vt_ratelimit ack_rl;
	int ever_connected;
	int outage_logged;	/* the current outage was logged */
	int64_t next_attempt_ms;
	int64_t down_since_ms;
	uint32_t backoff_ms;
	char topic_data[VT_PUB_TOPIC_MAX];
	char topic_status[VT_PUB_TOPIC_MAX];
	char topic_ack[VT_PUB_TOPIC_MAX];
	char last_error[512];	/* why the last connection failed, in words */
	char tls_error[160];	/* what OpenSSL said during this attempt */
	char pin_error[512];	/* why tls_pin refused the broker */
	struct vt_tls_pin_guard pin_guard;	/* tls_pin in the client's handshakes */
	int tls_hostname;	/* libmosquitto: the broker's name did not match */
	int attempt_errno;	/* connect() failed inside mosquitto_connect_async() */
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

/* libmosquitto's own log: it is where OpenSSL's reason for a failed
 * handshake goes ("OpenSSL Error[0]: error:0A000086:SSL
 * routines::certificate verify failed"), the return code saying only
 * "A TLS error occurred". Keep the reason for vt_pub_reason(). */
static void vt_pub_on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	struct vt_pub *p = obj;
	const char *why;

	(void)mosq;
	if (!(level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)))
		return;
	VT_DEBUG("libmosquitto: %s", str);
	if (strstr(str, "host name verification failed"))
		p->tls_hostname = 1;
	if (strncmp(str, "OpenSSL Error", 13) == 0 && !p->tls_error[0]) {
		why = strrchr(str, ':');	/* "...:SSL routines::<reason>" */
		snprintf(p->tls_error, sizeof(p->tls_error), "%s", why ? why + 1 : str);
	}
}

/* Why tls_pin refused the broker, into pin_error: got is the broker's
 * pin, "" when its key could not be read. */
static const char *vt_pub_pin_error(struct vt_pub *p, const char *got)
{
	if (got[0])
		snprintf(p->pin_error, sizeof(p->pin_error),
			 "TLS: the broker's public key %s is not one of tls_pin: another server holds a certificate for '%s', or the broker's key changed (then add its pin)",
			 got, p->conf.broker.host);
	else
		snprintf(p->pin_error, sizeof(p->pin_error),
			 "TLS: the broker's certificate could not be read to check tls_pin");
	return p->pin_error;
}

/* A failed or lost connection in words, with a hint when it failed before
 * the broker's CONNACK, TLS or not; for MOSQ_ERR_ERRNO, errno says why.
 * Returns p->last_error (or p->pin_error when tls_pin refused it). */
static const char *vt_pub_reason(struct vt_pub *p, int rc)
{
	const struct vt_pub_conf *c = &p->conf;
	int err = rc == MOSQ_ERR_ERRNO ? errno : 0;
	int connecting = p->state != VT_PUB_CONNECTED;
	char *out = p->last_error, lib[96];
	size_t cap = sizeof(p->last_error);
	int closed;

	if (connecting && p->pin_guard.refused)
		return vt_pub_pin_error(p, p->pin_guard.got);
	if (connecting && p->attempt_errno) {	/* the real cause, see vt_pub_attempt() */
		rc = MOSQ_ERR_ERRNO;
		err = p->attempt_errno;
	}
	snprintf(lib, sizeof(lib), "%s", rc == MOSQ_ERR_ERRNO ? strerror(err) : mosquitto_strerror(rc));
	closed = rc == MOSQ_ERR_CONN_LOST || err == ECONNRESET || err == EPIPE;
	if (!connecting)
		snprintf(out, cap, "%s", lib);
	else if (!c->tls_ca)
		snprintf(out, cap, closed ? "%s before the broker answered: if port %u expects TLS, set tls_ca" : "%s",
			 lib, c->broker.port);
	else if (p->tls_hostname || p->pin_guard.hostname)
		snprintf(out, cap, "TLS: the broker's certificate does not name the host '%s' of 'broker': its subjectAltName must hold that name or address, or set 'broker' to a name it holds",
			 c->broker.host);
	else if (strstr(p->tls_error, "certificate verify failed"))
		snprintf(out, cap, "TLS: the broker's certificate does not verify against tls_ca %s: is that the CA that issued the broker's certificate, and is the broker's certificate within its dates?",
			 c->tls_ca);
	else if (strstr(p->tls_error, "alert"))
		snprintf(out, cap, "TLS: the broker refused this device (\"%s\"): check tls_cert %s against the CA the broker trusts for clients (its cafile), and its dates",
			 p->tls_error, c->tls_cert ? c->tls_cert : "(none configured)");
	else if (p->tls_error[0])
		snprintf(out, cap, "TLS: %s; check tls_ca %s and that the broker's certificate names '%s'",
			 p->tls_error, c->tls_ca, c->broker.host);
	else if (rc == MOSQ_ERR_TLS)
		snprintf(out, cap, "TLS error; check that tls_ca %s issued the broker's certificate and that the certificate names the host '%s' of 'broker'",
			 c->tls_ca, c->broker.host);
	else if (rc == MOSQ_ERR_PROTOCOL || closed)
		snprintf(out, cap, "%s during the TLS handshake: is port %u a TLS listener? (a broker that refuses tls_cert %s also ends it so; its log says why)",
			 lib, c->broker.port, c->tls_cert ? c->tls_cert : "(none configured)");
	else
		snprintf(out, cap, "%s", lib);
	return out;
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
		VT_WARN("broker %s:%u %s (%s); collecting into the spool (%llu frames waiting), retrying with back-off",
			p->conf.broker.host, p->conf.broker.port,
			p->ever_connected ? "lost" : "unreachable", why,
			(unsigned long long)vt_spool_stats(p->spool)->frames);
		p->outage_logged = 1;
	}
	if (why != p->last_error)
		snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	p->stale_client = 1;
	vt_pub_schedule(p, now);
}

/* The ack topic and the fleet's, in one SUBSCRIBE. */
static int vt_pub_subscribe(struct vt_pub *p)
{
	char *subs[1 + VT_PUB_MAX_TOPICS];
	int n = 0;

	subs[n++] = p->topic_ack;
	for (int i = 0; i < p->conf.n_topics && i < VT_PUB_MAX_TOPICS; i++)
		subs[n++] = (char *)p->conf.topics[i];
	return mosquitto_subscribe_multiple(p->mosq, NULL, n, subs, 1, 0, NULL);
}

/* tls_pin, again once the broker answered CONNECT (the handshake checked
 * it first, vt_tls_pin_arm): the broker's key must be one of the pins
 * before anything is subscribed or published. Returns 1 when it is not
 * (the connection is then dropped and counted as a failed attempt). */
static int vt_pub_pin_refused(struct vt_pub *p)
{
	char got[VT_TLS_PIN_TEXT];

	if (vt_tls_pin_check(p->mosq, &p->conf.tls_pins, got, sizeof(got)) == 0)
		return 0;
	mosquitto_disconnect(p->mosq);
	vt_pub_lost(p, vt_pub_pin_error(p, got));
	return 1;
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
	if (p->conf.tls_pins.n && vt_pub_pin_refused(p))
		return;
	p->stats.connects++;
	p->state = VT_PUB_CONNECTED;
	p->connected_ms = now;
	p->subscribed = 0;
	p->backoff_ms = VT_PUB_BACKOFF_MIN_MS;
	rc = vt_pub_subscribe(p);
	if (rc != MOSQ_ERR_SUCCESS)
		VT_WARN("cannot subscribe to %s: %s", p->topic_ack, mosquitto_strerror(rc));
	/* Whatever was sent before may not have reached the aggregator. */
	vt_spool_rewind(p->spool);
	p->ack_progress_ms = now;
	if (p->ever_connected)
		VT_INFO("broker %s:%u connected again after %lld s; %llu frames waiting in the spool",
			p->conf.broker.host, p->conf.broker.port,
			(long long)((now - p->down_since_ms) / 1000),
			(unsigned long long)vt_spool_stats(p->spool)->frames);
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
	vt_pub_lost(p, rc == 0 ? "closed" : vt_pub_reason(p, rc));
}

static void vt_pub_on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct vt_pub *p = obj;

	(void)mosq;
	(void)mid;
	if (p->inflight > 0)
		p->inflight--;
	p->stats.frames_puback++;
}

static void vt_pub_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n,
				const int *granted)
{
	struct vt_pub *p = obj;

	(void)mosq;
	(void)mid;
	if (n < 1 || granted[0] > 1)
		VT_WARN("broker refused the subscription to %s: acknowledgments cannot arrive, every frame stays in the spool (check the broker's ACL)",
			p->topic_ack);
	for (int i = 1; i < n && i - 1 < p->conf.n_topics; i++)
		if (granted[i] > 1)
			VT_WARN("broker refused the subscription to %s: fleet bundles cannot arrive (check the broker's ACL)",
				p->conf.topics[i - 1]);
	p->subscribed = 1;
}

/* An acknowledgment from the aggregator: retire what it covers. */
static void vt_pub_on_message(struct mosquitto *mosq, void *obj,
			      const struct mosquitto_message *m)
{
	struct vt_pub *p = obj;
	int64_t now = vt_os_mono_ms();
	size_t len = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
	uint64_t seq, retired;

	(void)mosq;
	if (strcmp(m->topic, p->topic_ack) != 0) {
		if (p->conf.on_message)
			p->conf.on_message(p->conf.on_message_ctx, m->topic, m->payload, len);
		return;
	}
	if (vt_ack_decode(p->ack_key, m->topic, m->payload, len, &seq) < 0) {
		p->stats.acks_rejected++;
		if (vt_ratelimit_ok(&p->ack_rl, now, VT_PUB_LOG_MS))
			VT_WARN("ignoring an acknowledgment on %s that does not verify (%llu so far): not from our aggregator, aggregator_key is wrong, or an ack retained from before this device's key was replaced",
				p->topic_ack, (unsigned long long)p->stats.acks_rejected);
		return;
	}
	if (seq > p->max_published_seq && seq > vt_spool_last_seq(p->spool)) {
		/* Authentic but about frames never sealed here (a restored or
		 * copied state_dir?): never let it retire what was not sent. */
		if (vt_ratelimit_ok(&p->ack_rl, now, VT_PUB_LOG_MS))
			VT_WARN("the aggregator acknowledges up to %llu, beyond the newest frame of this device (%llu): was state_dir restored from an older copy? Taking it as %llu",
				(unsigned long long)seq,
				(unsigned long long)vt_spool_last_seq(p->spool),
				(unsigned long long)vt_spool_last_seq(p->spool));
		seq = vt_spool_last_seq(p->spool);
	}
	p->stats.acks++;
	if (!p->stats.last_ack_mono_ms)
		VT_INFO("aggregator acknowledges frames up to %llu", (unsigned long long)seq);
	p->stats.last_ack_mono_ms = now;
	if (seq > p->stats.last_ack_seq)
		p->stats.last_ack_seq = seq;
	retired = vt_spool_ack(p->spool, seq);
	if (retired) {
		p->stats.frames_acked += retired;
		p->ack_progress_ms = now;
		p->ack_timeout_ms = p->conf.ack_timeout_ms;
	}
}

static int vt_pub_setup(struct vt_pub *p)
{
	int rc;

	mosquitto_connect_callback_set(p->mosq, vt_pub_on_connect);
	mosquitto_disconnect_callback_set(p->mosq, vt_pub_on_disconnect);
	mosquitto_publish_callback_set(p->mosq, vt_pub_on_publish);
	mosquitto_subscribe_callback_set(p->mosq, vt_pub_on_subscribe);
	mosquitto_message_callback_set(p->mosq, vt_pub_on_message);
	mosquitto_log_callback_set(p->mosq, vt_pub_on_log);
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
	if (p->conf.tls_pins.n && vt_tls_pin_arm(p->mosq, &p->conf.tls_pins, p->conf.broker.host,
						   &p->pin_guard) < 0) {
		VT_ERROR("MQTT client setup failed: cannot check tls_pin during the TLS handshake");
		return -VT_EMQTT;
	}
	return 0;
}

/* A new MQTT client: nothing of an earlier connection survives in it, so
 * the spool alone decides what is sent. */
static int vt_pub_client(struct vt_pub *p)
{
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	p->mosq = mosquitto_new(p->conf.client_id, true, p);
	p->stale_client = 0;
	p->inflight = 0;
	if (!p->mosq)
		return errno ? -errno : -ENOMEM;
	return vt_pub_setup(p);
}

int vt_pub_new(struct vt_pub **out, const struct vt_pub_conf *conf, struct vt_spool *spool)
{
	struct vt_pub *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	p->conf.ack_key = NULL;
	memcpy(p->ack_key, conf->ack_key, VT_KEY_LEN);
	p->spool = spool;
	p->backoff_ms = VT_PUB_BACKOFF_MIN_MS;
	p->ack_timeout_ms = conf->ack_timeout_ms;
	snprintf(p->topic_data, sizeof(p->topic_data), "vitrine/v1/%s/%s/data", conf->site,
		 conf->device);
	snprintf(p->topic_status, sizeof(p->topic_status), "vitrine/v1/%s/%s/status",
		 conf->site, conf->device);
	snprintf(p->topic_ack, sizeof(p->topic_ack), "vitrine/v1/%s/%s/ack", conf->site,
		 conf->device);
	mosquitto_lib_init();
	rc = vt_pub_client(p);
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
	vt_keys_wipe(p->ack_key, sizeof(p->ack_key));
	free(p);
}

static void vt_pub_attempt(struct vt_pub *p)
{
	int rc;

	if (p->stale_client && vt_pub_client(p) < 0) {
		vt_pub_lost(p, "cannot create an MQTT client");
		return;
	}
	p->tls_error[0] = '\0';
	p->tls_hostname = 0;
	p->pin_guard.refused = p->pin_guard.hostname = 0;
	p->pin_guard.got[0] = '\0';
	if (!p->ever_connected && !p->outage_logged)
		VT_INFO("connecting to broker %s:%u%s", p->conf.broker.host, p->conf.broker.port,
			p->conf.tls_ca ? " (TLS)" : "");
	errno = 0;
	rc = mosquitto_connect_async(p->mosq, p->conf.broker.host, p->conf.broker.port,
				     (int)p->conf.keepalive_s);
	/* With TLS, libmosquitto writes its ClientHello at once: on a local
	 * network that write can take the connection's refusal, which every
	 * later error then hides ("Broken pipe"). Keep it. */
	p->attempt_errno = rc == MOSQ_ERR_SUCCESS && (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
						      errno == ENETUNREACH || errno == ETIMEDOUT)
				   ? errno : 0;
	if (rc != MOSQ_ERR_SUCCESS) {
		vt_pub_lost(p, vt_pub_reason(p, rc));
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
	vt_pub_lost(p, vt_pub_reason(p, rc));
}

/* libmosquitto 2.0 takes a TLS handshake that fails on the socket itself
 * (SSL_ERROR_SYSCALL: connection refused, reset, closed) for "try again"
 * and keeps waiting: poll() would then return at once, forever, and the
 * outage would never be logged. So while connecting, a socket in error is
 * taken as a failure here: its pending error before libmosquitto reads
 * (which would take it), a hang-up after. */
static int vt_pub_connect_failed(struct vt_pub *p, short revents, int read_errno)
{
	int fd = mosquitto_socket(p->mosq), err = 0;
	socklen_t len = sizeof(err);

	if (p->state != VT_PUB_CONNECTING || !(revents & (POLLERR | POLLHUP)) || fd < 0)
		return 0;
	if (read_errno < 0) {	/* before the read */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || !err)
			return 0;
		errno = err;
		vt_pub_lost(p, vt_pub_reason(p, MOSQ_ERR_ERRNO));
		return 1;
	}
	errno = read_errno;
	vt_pub_lost(p, vt_pub_reason(p, read_errno && read_errno != EAGAIN ? MOSQ_ERR_ERRNO
									   : MOSQ_ERR_CONN_LOST));
	return 1;
}

void vt_pub_io(struct vt_pub *p, short revents, int64_t mono_ms)
{
	int read_errno, rc;

	(void)mono_ms;
	if (p->state == VT_PUB_IDLE || vt_pub_connect_failed(p, revents, -1))
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		errno = 0;
		rc = mosquitto_loop_read(p->mosq, 1);
		read_errno = errno;
		vt_pub_check(p, rc);
		if (vt_pub_connect_failed(p, revents, read_errno))
			return;
	}
	if (p->state != VT_PUB_IDLE && (revents & POLLOUT))
		vt_pub_check(p, mosquitto_loop_write(p->mosq, 1));
}

/* Hand durable frames to libmosquitto while the in-flight window allows. */
static void vt_pub_pump(struct vt_pub *p, int64_t now)
{
	struct vt_spool_rec rec;

	if (!p->subscribed && now - p->connected_ms < VT_PUB_SUBACK_WAIT_MS)
		return;	/* the retained ack comes right after the SUBACK */
	while (p->inflight < p->conf.max_inflight && vt_spool_peek(p->spool, &rec) == 1) {
		int rc = mosquitto_publish(p->mosq, NULL, p->topic_data, (int)rec.len, rec.frame,
					   1, false);

		if (rc != MOSQ_ERR_SUCCESS) {
			vt_pub_check(p, rc);	/* the frame stays in the spool */
			return;
		}
		vt_spool_advance(p->spool);
		p->inflight++;
		p->stats.frames_published++;
		if (rec.seq <= p->max_published_seq)
			p->stats.frames_resent++;
		else
			p->max_published_seq = rec.seq;
	}
}

/* No ack for a while although frames are out: send them all again. */
static void vt_pub_ack_timeout(struct vt_pub *p, int64_t now)
{
	uint64_t out = vt_spool_outstanding(p->spool);

	if (!out || now - p->ack_progress_ms < (int64_t)p->ack_timeout_ms)
		return;
	VT_WARN("no acknowledgment from the aggregator for %u s with %llu frames sent; sending them again (next time-out %u s)",
		p->ack_timeout_ms / 1000, (unsigned long long)out,
		(p->ack_timeout_ms * 2 > VT_PUB_ACK_TIMEOUT_MAX_MS ? VT_PUB_ACK_TIMEOUT_MAX_MS
								   : p->ack_timeout_ms * 2) / 1000);
	vt_spool_rewind(p->spool);
	p->ack_progress_ms = now;
	p->ack_timeout_ms = p->ack_timeout_ms * 2 > VT_PUB_ACK_TIMEOUT_MAX_MS
				    ? VT_PUB_ACK_TIMEOUT_MAX_MS : p->ack_timeout_ms * 2;
}

int64_t vt_pub_tick(struct vt_pub *p, int64_t mono_ms)
{
	vt_tls_watch(&p->conf.tls_client, vt_os_now_ms() / 1000);
	if (p->state == VT_PUB_IDLE) {
		if (mono_ms >= p->next_attempt_ms)
			vt_pub_attempt(p);
		if (p->state == VT_PUB_IDLE)
			return p->next_attempt_ms - mono_ms;
	}
	vt_pub_check(p, mosquitto_loop_misc(p->mosq));
	if (p->state == VT_PUB_CONNECTED) {
		vt_pub_ack_timeout(p, mono_ms);
		vt_pub_pump(p, mono_ms);
	}
	/* Flush what the pump queued without waiting for the next poll. */
	if (p->state != VT_PUB_IDLE && mosquitto_want_write(p->mosq))
		vt_pub_check(p, mosquitto_loop_write(p->mosq, 1));
	if (p->state == VT_PUB_CONNECTED && !p->subscribed)
		return 100;
	return 1000;
}

int vt_pub_connected(const struct vt_pub *p)
{
	return p->state == VT_PUB_CONNECTED;
}

const char *vt_pub_last_error(const struct vt_pub *p)
{
	return p->last_error;
}

int vt_pub_status(struct vt_pub *p, const char *json)
{
	int rc;

	if (p->state != VT_PUB_CONNECTED)
		return -ENOTCONN;
	rc = mosquitto_publish(p->mosq, NULL, p->topic_status, (int)strlen(json), json, 1, true);
	if (rc != MOSQ_ERR_SUCCESS)
		return -VT_EMQTT;
	p->inflight++;	/* its PUBACK comes through vt_pub_on_publish too */
	return 0;
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

const struct vt_tls_cert *vt_pub_tls(const struct vt_pub *p)
{
	return &p->conf.tls_client;
}
