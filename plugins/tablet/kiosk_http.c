/*
 * plugins/tablet/kiosk_http.c - POST /v1/events on 127.0.0.1 for the
 * kiosk web app (kiosk_http.h), with libmicrohttpd. Built into
 * tablet-http.so, which tablet.so loads when tablet.http_port is set; it
 * reaches the intake through env->ops only.
 *
 * MHD runs without threads of its own, in epoll mode: its epoll descriptor
 * is watched on the agent's poll loop, MHD_run() is called when it is ready
 * and from the plugin's periodic tick (connection timeouts). The listening
 * socket is made here, bound to 127.0.0.1 only, so that "address in use"
 * can be told apart and named. Limits: KIOSK_HTTP_CONN_MAX connections,
 * an idle one closed after KIOSK_HTTP_TIMEOUT_S, a pool of
 * KIOSK_HTTP_CONN_MEMORY bytes each, and bodies of at most max_body bytes:
 * a larger Content-Length is answered 413 before the body is read (MHD
 * then closes the connection without reading it), a chunked body that
 * grows past it closes the connection.
 *
 * Answers: 204 all events taken; 400 with "event N: <reason>: <fix>";
 * 404 other paths; 405 other methods; 413 body too large; 415 a
 * Content-Type other than application/json or text/plain; 429 rate
 * limited; 503 queue full (both with Retry-After: 1). No CORS headers: the
 * kiosk app sends simple requests (see README.md) and needs no answer.
 *
 * Each request is charged to the intake's bucket of requests as soon as its
 * headers are in (env->ops->admit): over it, 429 before the body.
 *
 * Does not: parse events, count or rate-limit (env->ops->submit).
 * One allocation per request (its body buffer), besides MHD's own.
 */
#include "kiosk_http.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define KIOSK_HTTP_FROM "HTTP request"
#define KIOSK_HTTP_BACKLOG 16
/* MHD_run() again at once while MHD says work is pending, at most this. */
#define KIOSK_HTTP_RUNS 4

enum kiosk_http_answer {
	KIOSK_HTTP_204,
	KIOSK_HTTP_404,
	KIOSK_HTTP_405,
	KIOSK_HTTP_413,
	KIOSK_HTTP_415,
	KIOSK_HTTP_429,
	KIOSK_HTTP_503,
	KIOSK_HTTP_ANSWERS
};

static const struct {
	unsigned status;
	const char *text;
	const char *header, *value;	/* an extra header, or NULL */
} kiosk_http_answers[KIOSK_HTTP_ANSWERS] = {
	[KIOSK_HTTP_204] = { MHD_HTTP_NO_CONTENT, "", NULL, NULL },
	[KIOSK_HTTP_404] = { MHD_HTTP_NOT_FOUND,
		"not found: post kiosk events to " KIOSK_HTTP_PATH "\n", NULL, NULL },
	[KIOSK_HTTP_405] = { MHD_HTTP_METHOD_NOT_ALLOWED,
		"method not allowed: use POST\n", MHD_HTTP_HEADER_ALLOW, "POST" },
	[KIOSK_HTTP_413] = { MHD_HTTP_CONTENT_TOO_LARGE,
		"body too large: see tablet.http_max_body; send fewer events per request\n",
		NULL, NULL },
	[KIOSK_HTTP_415] = { MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		"unsupported Content-Type: send application/json or text/plain\n", NULL, NULL },
	[KIOSK_HTTP_429] = { MHD_HTTP_TOO_MANY_REQUESTS,
		"rate limited: too many events from this kiosk or from all; nothing was taken\n",
		MHD_HTTP_HEADER_RETRY_AFTER, "1" },
	[KIOSK_HTTP_503] = { MHD_HTTP_SERVICE_UNAVAILABLE,
		"busy: the agent's queue is full; nothing was taken\n",
		MHD_HTTP_HEADER_RETRY_AFTER, "1" },
};

struct kiosk_http {
	struct kiosk_env env;
	struct MHD_Daemon *daemon;
	int epoll_fd;
	size_t max_body;
	struct MHD_Response *answers[KIOSK_HTTP_ANSWERS];
};

/* One POST's body, from its headers to its completion. */
struct kiosk_http_req {
	size_t len, cap;
	char body[];
};

/* ---- requests ------------------------------------------------------------------ */

static enum MHD_Result kiosk_http_answer(struct kiosk_http *h,
					 struct MHD_Connection *conn,
					 enum kiosk_http_answer a)
{
	return MHD_queue_response(conn, kiosk_http_answers[a].status, h->answers[a]);
}

/* "application/json" or "text/plain", with any parameters (charset). A
 * missing Content-Type is taken too: sendBeacon() of an ArrayBuffer sends
 * none. */
static int kiosk_http_type_ok(const char *type)
{
	static const char *const ok[] = { "application/json", "text/plain" };

	if (!type)
		return 1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i]);

		if (!strncasecmp(type, ok[i], n) &&
		    (type[n] == '\0' || type[n] == ';' || type[n] == ' '))
			return 1;
	}
	return 0;
}

/* The request's headers are in: refuse it now, or make room for its body. */
static enum MHD_Result kiosk_http_begin(struct kiosk_http *h,
					struct MHD_Connection *conn,
					const char *url, const char *method,
					void **req_cls)
{
	const char *clen, *type;
	unsigned long long want = 0;
	struct kiosk_http_req *rq;

	/* Every request costs a token, whatever its fate: a flood of any
	 * kind is answered 429 before its body is read or parsed. */
	if (!h->env.ops->admit(h->env.intake, KIOSK_HTTP_FROM))
		return kiosk_http_answer(h, conn, KIOSK_HTTP_429);
	if (strcmp(url, KIOSK_HTTP_PATH))
		return kiosk_http_answer(h, conn, KIOSK_HTTP_404);
	if (strcmp(method, MHD_HTTP_METHOD_POST))
		return kiosk_http_answer(h, conn, KIOSK_HTTP_405);
	type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!kiosk_http_type_ok(type)) {
		h->env.ops->refuse(h->env.intake, KIOSK_R_CONTENT_TYPE, KIOSK_HTTP_FROM);
		return kiosk_http_answer(h, conn, KIOSK_HTTP_415);
	}
	clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (clen) {
		char *end;

		errno = 0;
		want = strtoull(clen, &end, 10);
		if (errno || *end || want > h->max_body) {
			/* Answered before the body: MHD closes the connection
			 * instead of reading it. */
			h->env.ops->refuse(h->env.intake, KIOSK_R_TOO_LARGE,
					    KIOSK_HTTP_FROM);
			return kiosk_http_answer(h, conn, KIOSK_HTTP_413);
		}
	}
	rq = malloc(sizeof(*rq) + (clen ? (size_t)want : h->max_body));
	if (!rq)
		return MHD_NO;
	rq->len = 0;
	rq->cap = clen ? (size_t)want : h->max_body;
	*req_cls = rq;
	return MHD_YES;
}

/* The whole body is in: hand it over and answer what became of it. */
static enum MHD_Result kiosk_http_finish(struct kiosk_http *h,
					 struct MHD_Connection *conn,
					 const struct kiosk_http_req *rq)
{
	char text[512];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t index = 0;
	enum kiosk_reason r;
	int n;

	r = h->env.ops->submit(h->env.intake, rq->body, rq->len,
			       KIOSK_EVENT_BATCH_MAX, KIOSK_HTTP_FROM, &index);
	switch (r) {
	case KIOSK_OK:
		return kiosk_http_answer(h, conn, KIOSK_HTTP_204);
	case KIOSK_R_RATE_LIMITED:
		return kiosk_http_answer(h, conn, KIOSK_HTTP_429);
	case KIOSK_R_BUSY:
		return kiosk_http_answer(h, conn, KIOSK_HTTP_503);
	default:
		break;
	}
	n = snprintf(text, sizeof(text), "event %zu: %s: %s; nothing was taken\n",
		     index + 1, h->env.ops->reason_name(r), h->env.ops->reason_fix(r));
	if (n < 0)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strnlen(text, sizeof(text)), text,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result kiosk_http_handle(void *cls, struct MHD_Connection *conn,
					 const char *url, const char *method,
					 const char *version, const char *upload_data,
					 size_t *upload_data_size, void **req_cls)
{
	struct kiosk_http *h = cls;
	struct kiosk_http_req *rq = *req_cls;
	size_t n = *upload_data_size;

	(void)version;
	if (!rq)
		return kiosk_http_begin(h, conn, url, method, req_cls);
	if (!n)
		return kiosk_http_finish(h, conn, rq);
	if (n > rq->cap - rq->len) {
		/* A chunked body past the cap (a Content-Length one cannot
		 * get here): no answer can be queued while data comes in. */
		h->env.ops->refuse(h->env.intake, KIOSK_R_TOO_LARGE, KIOSK_HTTP_FROM);
		return MHD_NO;
	}
	memcpy(rq->body + rq->len, upload_data, n);
	rq->len += n;
	*upload_data_size = 0;
	return MHD_YES;
}

static void kiosk_http_done(void *cls, struct MHD_Connection *conn,
			    void **req_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

/* MHD's own messages (a client that broke the protocol...): debug only,
 * so that a misbehaving client cannot fill the log. */
static void kiosk_http_log(void *cls, const char *fmt, va_list ap)
{
	struct kiosk_http *h = cls;
	char msg[256];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	h->env.host->log(h->env.ctx, VITRINE_LOG_DEBUG, "kiosk HTTP: %s", msg);
}

/* ---- the server -------------------------------------------------------------------- */

static int kiosk_http_listen(struct kiosk_http *h, uint16_t port, int *out)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1;
	int fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, KIOSK_HTTP_BACKLOG) < 0) {
		rc = -errno;
		if (rc == -EADDRINUSE)
			h->env.host->log(h->env.ctx, VITRINE_LOG_ERROR,
					 "cannot listen on 127.0.0.1:%u: address in use; stop the other program or set tablet.http_port",
					 port);
		else
			h->env.host->log(h->env.ctx, VITRINE_LOG_ERROR,
					 "cannot listen on 127.0.0.1:%u: %s; set tablet.http_port (0 turns HTTP off)",
					 port, strerror(-rc));
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int kiosk_http_answers_make(struct kiosk_http *h)
{
	for (int a = 0; a < KIOSK_HTTP_ANSWERS; a++) {
		const char *text = kiosk_http_answers[a].text;
		struct MHD_Response *r;

		r = MHD_create_response_from_buffer(strlen(text), (void *)text,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return -ENOMEM;
		h->answers[a] = r;
		if (*text &&
		    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					    "text/plain; charset=utf-8") != MHD_YES)
			return -ENOMEM;
		if (kiosk_http_answers[a].header &&
		    MHD_add_response_header(r, kiosk_http_answers[a].header,
					    kiosk_http_answers[a].value) != MHD_YES)
			return -ENOMEM;
	}
	return 0;
}

static void kiosk_http_answers_free(struct kiosk_http *h)
{
	for (int a = 0; a < KIOSK_HTTP_ANSWERS; a++) {
		if (h->answers[a])
			MHD_destroy_response(h->answers[a]);
		h->answers[a] = NULL;
	}
}

static int kiosk_http_open(struct kiosk_http **out, const struct kiosk_env *env,
			   uint16_t port, size_t max_body)
{
	const union MHD_DaemonInfo *info;
	struct kiosk_http *h;
	int listen_fd = -1;
	int rc;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->env = *env;
	h->max_body = max_body;
	h->epoll_fd = -1;
	rc = kiosk_http_answers_make(h);
	if (rc)
		goto out_answers;
	rc = kiosk_http_listen(h, port, &listen_fd);
	if (rc)
		goto out_answers;
	h->daemon = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		kiosk_http_handle, h,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)KIOSK_HTTP_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)KIOSK_HTTP_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)KIOSK_HTTP_CONN_MEMORY,
		MHD_OPTION_NOTIFY_COMPLETED, kiosk_http_done, h,
		MHD_OPTION_EXTERNAL_LOGGER, kiosk_http_log, h,
		MHD_OPTION_END);
	if (!h->daemon) {
		/* MHD may or may not have closed the socket it was given; no
		 * descriptor can have been opened since (one thread). */
		if (fcntl(listen_fd, F_GETFD) >= 0)
			close(listen_fd);
		env->host->log(env->ctx, VITRINE_LOG_ERROR,
			       "cannot start the kiosk HTTP server on 127.0.0.1:%u (libmicrohttpd refused; see debug log)",
			       port);
		rc = -EIO;
		goto out_answers;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		rc = -EIO;
		goto out_daemon;
	}
	h->epoll_fd = info->epoll_fd;
	rc = env->host->watch_fd(env->ctx, h->epoll_fd, POLLIN, env->fd_cb);
	if (rc)
		goto out_daemon;
	*out = h;
	return 0;

out_daemon:
	MHD_stop_daemon(h->daemon);	/* closes the listening socket */
out_answers:
	kiosk_http_answers_free(h);
	free(h);
	return rc;
}

static int kiosk_http_run(struct kiosk_http *h, int fd)
{
	MHD_UNSIGNED_LONG_LONG wait_ms;

	if (fd >= 0 && fd != h->epoll_fd)
		return 0;
	for (int i = 0; i < KIOSK_HTTP_RUNS; i++) {
		MHD_run(h->daemon);
		if (MHD_get_timeout(h->daemon, &wait_ms) != MHD_YES || wait_ms > 0)
			break;
	}
	return 1;
}

static void kiosk_http_close(struct kiosk_http *h)
{
	if (!h)
		return;
	h->env.host->watch_fd(h->env.ctx, h->epoll_fd, 0, NULL);
	MHD_stop_daemon(h->daemon);
	kiosk_http_answers_free(h);
	free(h);
}

const struct kiosk_http_module kiosk_http_module = {
	.version = KIOSK_HTTP_MODULE_VERSION,
	.open = kiosk_http_open,
	.close = kiosk_http_close,
	.run = kiosk_http_run,
};
