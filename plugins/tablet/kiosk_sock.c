/*
 * plugins/tablet/kiosk_sock.c - the Unix-domain socket kiosk clients write
 * JSON lines to, one event a line (kiosk_sock.h).
 *
 * Non-blocking throughout, on the agent's poll loop: the listener and each
 * connection are watched with host->watch_fd. A callback does one read of
 * at most KIOSK_LINE_MAX bytes, so a flooding client costs a bounded
 * amount of work per poll and cannot starve the rest of the agent; the
 * listener accepts at most KIOSK_SOCK_ACCEPTS_PER_CALL connections a
 * callback, and when the process is out of descriptors (EMFILE, ENFILE) it
 * is not watched until the next tick, so poll() does not spin. Each
 * connection has one line buffer, allocated with the socket: a line that
 * does not fit is counted (line_too_long) and skipped up to its newline;
 * the next line is read as usual. Nothing is written back to clients.
 *
 * Does not: parse or check events (kiosk_intake_submit() does), or speak
 * HTTP (kiosk_http.c).
 */
#include "kiosk_sock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KIOSK_SOCK_BACKLOG 8
#define KIOSK_SOCK_MODE 0660
#define KIOSK_SOCK_ACCEPTS_PER_CALL 4

struct kiosk_sock_conn {
	int fd;			/* -1: slot free */
	int discarding;		/* skipping the rest of an over-long line */
	size_t len;		/* bytes of the current line in line[] */
	char line[KIOSK_LINE_MAX];
};

struct kiosk_sock {
	struct kiosk_env env;
	int listen_fd;
	int listen_paused;	/* not watched after EMFILE; see kiosk_sock_tick */
	uint64_t pauses;
	dev_t dev;		/* the socket file made, to remove only it */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct kiosk_sock_conn conns[KIOSK_SOCK_CONN_MAX];
};

#define KIOSK_SOCK_FROM "socket line"

/* ---- the socket file ----------------------------------------------------- */

/* Clears the way for bind: nothing there, or a socket nobody listens on
 * (left by an agent that was killed), which is removed. */
static int kiosk_sock_clear(struct kiosk_sock *s, const struct sockaddr_un *sa)
{
	const struct vitrine_host *host = s->env.host;
	struct stat st;
	int probe, rc;

	if (lstat(s->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		host->log(s->env.ctx, VITRINE_LOG_ERROR,
			  "cannot create the kiosk socket %s: a file that is not a socket is there; remove it or set tablet.socket",
			  s->path);
		return -EEXIST;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	rc = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? errno : 0;
	close(probe);
	if (rc == ENOENT)
		return 0;	/* gone meanwhile */
	if (rc == 0 || rc == EAGAIN) {
		host->log(s->env.ctx, VITRINE_LOG_ERROR,
			  "cannot create the kiosk socket %s: another process listens on it; stop it or set tablet.socket",
			  s->path);
		return -EADDRINUSE;
	}
	if (rc != ECONNREFUSED)
		return -rc;
	if (unlink(s->path) < 0 && errno != ENOENT)
		return -errno;
	host->log(s->env.ctx, VITRINE_LOG_INFO,
		  "replaced the stale kiosk socket %s (nobody listened on it)", s->path);
	return 0;
}

static int kiosk_sock_listen(struct kiosk_sock *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	rc = kiosk_sock_clear(s, &sa);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The file gets its mode at bind: no moment with a wider one. The
	 * agent is single-threaded, so the process-wide umask is safe here. */
	old_mask = umask(0777 & ~KIOSK_SOCK_MODE);
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_mask);
	if (rc)
		goto out_close;
	if (listen(fd, KIOSK_SOCK_BACKLOG) < 0 || stat(s->path, &st) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->listen_fd = fd;
	return 0;

out_unlink:
	unlink(s->path);
out_close:
	close(fd);
	return rc;
}

int kiosk_sock_open(struct kiosk_sock **out, const struct kiosk_env *env,
		    const char *path)
{
	struct kiosk_sock *s;
	int rc;

	if (strlen(path) >= sizeof(s->path) || path[0] == '\0') {
		env->host->log(env->ctx, VITRINE_LOG_ERROR,
			       "cannot create the kiosk socket: tablet.socket must be a path of 1 to %zu bytes",
			       sizeof(s->path) - 1);
		return -ENAMETOOLONG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->env = *env;
	s->listen_fd = -1;
	for (int i = 0; i < KIOSK_SOCK_CONN_MAX; i++)
		s->conns[i].fd = -1;
	memcpy(s->path, path, strlen(path) + 1);
	rc = kiosk_sock_listen(s);
	if (rc) {
		if (rc != -EEXIST && rc != -EADDRINUSE)
			env->host->log(env->ctx, VITRINE_LOG_ERROR,
				       "cannot create the kiosk socket %s: %s; check that its directory exists and is writable, or set tablet.socket",
				       path, strerror(-rc));
		goto out_free;
	}
	rc = env->host->watch_fd(env->ctx, s->listen_fd, POLLIN, env->fd_cb);
	if (rc)
		goto out_listener;
	*out = s;
	return 0;

out_listener:
	close(s->listen_fd);
	unlink(s->path);
out_free:
	free(s);
	return rc;
}

/* ---- connections ------------------------------------------------------------- */

static void kiosk_sock_drop(struct kiosk_sock *s, struct kiosk_sock_conn *c)
{
	s->env.host->watch_fd(s->env.ctx, c->fd, 0, NULL);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->discarding = 0;
}

/* Out of descriptors: the pending connection stays queued and the
 * listener stays readable, so poll() would call back at once, forever.
 * Stop watching it until the next tick (kiosk_sock_tick()). */
static void kiosk_sock_pause(struct kiosk_sock *s, int err)
{
	if (s->listen_paused)
		return;
	s->env.host->watch_fd(s->env.ctx, s->listen_fd, 0, NULL);
	s->listen_paused = 1;
	if (!s->pauses++)
		s->env.host->log(s->env.ctx, VITRINE_LOG_WARN,
				 "kiosk socket %s: cannot accept a connection (%s); not accepting until the next collect (further ones are not logged)",
				 s->path, strerror(err));
}

static void kiosk_sock_accept(struct kiosk_sock *s)
{
	/* A few per call: the rest waits for the next poll. */
	for (int n = 0; n < KIOSK_SOCK_ACCEPTS_PER_CALL; n++) {
		struct kiosk_sock_conn *c = NULL;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				kiosk_sock_pause(s, errno);
			return;	/* EAGAIN, or an aborted connection */
		}
		for (int i = 0; i < KIOSK_SOCK_CONN_MAX && !c; i++)
			if (s->conns[i].fd < 0)
				c = &s->conns[i];
		if (!c || s->env.host->watch_fd(s->env.ctx, fd, POLLIN, s->env.fd_cb)) {
			close(fd);
			kiosk_intake_conn_refused(s->env.intake, "socket");
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->discarding = 0;
	}
}

void kiosk_sock_tick(struct kiosk_sock *s)
{
	if (!s->listen_paused)
		return;
	if (s->env.host->watch_fd(s->env.ctx, s->listen_fd, POLLIN, s->env.fd_cb))
		return;		/* no slot: try again on the next tick */
	s->listen_paused = 0;
}

static void kiosk_sock_line(struct kiosk_sock *s, const char *line, size_t len)
{
	size_t index;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == len)
		return;		/* blank lines are allowed and ignored */
	if (!kiosk_intake_admit(s->env.intake, KIOSK_SOCK_FROM))
		return;		/* over the request budget: not parsed */
	kiosk_intake_submit(s->env.intake, line, len, 1, KIOSK_SOCK_FROM, &index);
}

/* The complete lines of c->line[0..total), then what is left of a line. */
static void kiosk_sock_lines(struct kiosk_sock *s, struct kiosk_sock_conn *c,
			     size_t total)
{
	size_t start = 0;

	for (size_t i = c->len; i < total; i++) {
		if (c->line[i] != '\n')
			continue;
		if (c->discarding)
			c->discarding = 0;	/* the long line ends here */
		else
			kiosk_sock_line(s, c->line + start, i - start);
		start = i + 1;
	}
	if (c->discarding) {
		c->len = 0;
		return;
	}
	c->len = total - start;
	if (start && c->len)
		memmove(c->line, c->line + start, c->len);
	if (c->len == sizeof(c->line)) {
		if (kiosk_intake_admit(s->env.intake, KIOSK_SOCK_FROM))
			kiosk_intake_refuse(s->env.intake, KIOSK_R_LINE_TOO_LONG,
					    KIOSK_SOCK_FROM);
		c->discarding = 1;
		c->len = 0;
	}
}

static void kiosk_sock_read(struct kiosk_sock *s, struct kiosk_sock_conn *c)
{
	ssize_t n = read(c->fd, c->line + c->len, sizeof(c->line) - c->len);

	if (n > 0) {
		kiosk_sock_lines(s, c, c->len + (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/* End of stream (or a reset): a last line without its newline counts. */
	if (n == 0 && c->len && !c->discarding)
		kiosk_sock_line(s, c->line, c->len);
	kiosk_sock_drop(s, c);
}

int kiosk_sock_ready(struct kiosk_sock *s, int fd, short revents)
{
	(void)revents;	/* a read tells EOF and errors apart */
	if (fd == s->listen_fd) {
		kiosk_sock_accept(s);
		return 1;
	}
	for (int i = 0; i < KIOSK_SOCK_CONN_MAX; i++)
		if (s->conns[i].fd == fd) {
			kiosk_sock_read(s, &s->conns[i]);
			return 1;
		}
	return 0;
}

void kiosk_sock_close(struct kiosk_sock *s)
{
	struct stat st;

	if (!s)
		return;
	for (int i = 0; i < KIOSK_SOCK_CONN_MAX; i++)
		if (s->conns[i].fd >= 0)
			kiosk_sock_drop(s, &s->conns[i]);
	if (!s->listen_paused)
		s->env.host->watch_fd(s->env.ctx, s->listen_fd, 0, NULL);
	close(s->listen_fd);
	/* Another agent may have replaced the file since: leave that one. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
}
