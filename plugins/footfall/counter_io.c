/*
 * plugins/footfall/counter_io.c - sockets and serial ports for the people
 * counter source (see counter_io.h). Plain POSIX and termios; everything
 * non-blocking and close-on-exec.
 */
#include "counter_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define COUNTER_IO_BACKLOG 8

static const struct {
	uint32_t bps;
	speed_t code;
} counter_io_speeds[] = {
	{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
	{ 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 },
};

static int counter_io_speed(uint32_t bps, speed_t *code)
{
	for (size_t i = 0; i < sizeof(counter_io_speeds) / sizeof(counter_io_speeds[0]); i++)
		if (counter_io_speeds[i].bps == bps) {
			*code = counter_io_speeds[i].code;
			return 0;
		}
	return -EINVAL;
}

int counter_io_baud_ok(uint32_t speed)
{
	speed_t code;

	return counter_io_speed(speed, &code) == 0;
}

/* "host:port" or "[host]:port" into its two parts. */
static int counter_io_split(const char *addr, char *host, size_t hostlen,
			    const char **port)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t n;

	if (!colon || !colon[1])
		return -EINVAL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (n < 2 || addr[n - 1] != ']')
			return -EINVAL;
		h = addr + 1;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

int counter_io_addr_ok(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[64];
	const char *port;

	if (counter_io_split(addr, host, sizeof(host), &port) ||
	    getaddrinfo(host, port, &hints, &ai))
		return 0;
	freeaddrinfo(ai);
	return 1;
}

static uint16_t counter_io_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int counter_io_listen(const char *addr, int *fd_out, uint16_t *port_out,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[64];
	const char *port;
	int fd = -1, one = 1, rc;

	if (counter_io_split(addr, host, sizeof(host), &port) ||
	    getaddrinfo(host, port, &hints, &ai)) {
		snprintf(err, errlen, "%s is not a numeric address:port", addr);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out_errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, COUNTER_IO_BACKLOG) < 0)
		goto out_errno;
	freeaddrinfo(ai);
	*fd_out = fd;
	*port_out = counter_io_bound_port(fd);
	return 0;

out_errno:
	rc = -errno;
	snprintf(err, errlen, "cannot listen on %s (%s)%s", addr, strerror(errno),
		 errno == EADDRINUSE ? "; another program holds the port" : "");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int counter_io_accept(int listen_fd, int *fd_out, char *peer, size_t peerlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int fd;

	fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	snprintf(peer, peerlen, "%s:%u", host, port);
	*fd_out = fd;
	return 0;
}

static int counter_io_raw(int fd, speed_t code)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	/* With VMIN 0 a read finding nothing returns 0, like end of file;
	 * with 1 (and O_NONBLOCK) it fails with EAGAIN and 0 means hang-up. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, code) < 0 || cfsetospeed(&t, code) < 0 ||
	    tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	tcflush(fd, TCIFLUSH);
	return 0;
}

int counter_io_serial(const char *path, uint32_t speed, int *fd_out,
		      char *err, size_t errlen)
{
	speed_t code;
	int fd, rc;

	if (counter_io_speed(speed, &code)) {
		snprintf(err, errlen, "%s: %u bit/s is not a serial speed", path, speed);
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the serial port %s (%s)%s", path,
			 strerror(errno),
			 errno == ENOENT ? "; is the adapter plugged in?" :
			 errno == EACCES ? "; the agent's user needs the dialout group" : "");
		return rc;
	}
	if (!isatty(fd)) {
		snprintf(err, errlen, "%s is not a serial port (not a terminal device)", path);
		close(fd);
		return -ENOTTY;
	}
	rc = counter_io_raw(fd, code);
	if (rc) {
		snprintf(err, errlen, "cannot set %s to raw mode at %u bit/s (%s)", path, speed,
			 strerror(-rc));
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}
