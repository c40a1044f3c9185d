/*
 * platform/linux/sdnotify.c - vt_sd.h on Linux: the notify socket of
 * systemd (or of any service manager that speaks its protocol).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vt_sd.h"

/* A decimal number that is the whole of s, or 0. */
static unsigned long long vt_sd_number(const char *s)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno || *end ? 0 : v;
}

/* NOTIFY_SOCKET into sd->addr: "/path" or "@abstract name". */
static int vt_sd_address(struct vt_sd *sd, const char *name)
{
	size_t len = strlen(name);

	memset(&sd->addr, 0, sizeof(sd->addr));
	sd->addr.sun_family = AF_UNIX;
	if (name[0] != '/' && name[0] != '@')
		return strchr(name, ':') ? -EAFNOSUPPORT : -EINVAL;
	if (len < 2)
		return -EINVAL;
	if (len >= sizeof(sd->addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(sd->addr.sun_path, name, len);
	if (name[0] == '@')
		sd->addr.sun_path[0] = '\0';	/* abstract: no terminating NUL counted */
	else
		len++;
	sd->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	return 0;
}

/* WATCHDOG_USEC for this process: half of it in ms (at least 1), or 0. */
static int64_t vt_sd_watchdog(void)
{
	unsigned long long usec = vt_sd_number(getenv("WATCHDOG_USEC"));
	const char *pid = getenv("WATCHDOG_PID");

	if (!usec)
		return 0;
	if (pid && vt_sd_number(pid) != (unsigned long long)getpid())
		return 0;	/* meant for another process (our parent's, say) */
	return usec / 2000 ? (int64_t)(usec / 2000) : 1;
}

int vt_sd_open(struct vt_sd *sd, int64_t mono_ms)
{
	const char *name = getenv("NOTIFY_SOCKET");
	int rc;

	memset(sd, 0, sizeof(*sd));
	sd->fd = -1;
	if (!name || !*name)
		return 0;
	rc = vt_sd_address(sd, name);
	if (rc < 0)
		return rc;
	sd->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sd->fd < 0)
		return -errno;
	sd->keepalive_ms = vt_sd_watchdog();
	sd->next_keepalive_ms = mono_ms;
	return 1;
}

int vt_sd_send(struct vt_sd *sd, const char *msg)
{
	ssize_t n;

	if (sd->fd < 0)
		return 0;
	do
		n = sendto(sd->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&sd->addr, sd->addr_len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		sd->send_failures++;
		return -errno;
	}
	return 0;
}

int64_t vt_sd_keepalive(struct vt_sd *sd, int64_t mono_ms)
{
	if (sd->fd < 0 || !sd->keepalive_ms)
		return -1;
	if (mono_ms >= sd->next_keepalive_ms) {
		if (vt_sd_send(sd, "WATCHDOG=1") == 0)
			sd->keepalives++;
		sd->next_keepalive_ms = mono_ms + sd->keepalive_ms;
	}
	return sd->next_keepalive_ms - mono_ms;
}

int vt_sd_reloading(struct vt_sd *sd, const char *status)
{
	char msg[512];
	struct timespec ts;

	if (sd->fd < 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu%s%s",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
		 status ? "\nSTATUS=" : "", status ? status : "");
	return vt_sd_send(sd, msg);
}

void vt_sd_close(struct vt_sd *sd)
{
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
}
