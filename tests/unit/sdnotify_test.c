/*
 * sdnotify_test.c - the service manager's notify protocol (platform/vt_sd.h)
 * against a datagram socket of the test's own: NOTIFY_SOCKET as a path and
 * as an abstract name, the addresses refused, WATCHDOG_USEC and
 * WATCHDOG_PID, the keep-alive schedule (driven by the clock values passed
 * in, never the wall clock), RELOADING=1 with MONOTONIC_USEC, and a
 * service manager that went away.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vt_sd.h"
#include "vt_test.h"

/* A listening datagram socket at name ("@x": abstract); -1 on failure. */
static int listener(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t alen;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || len >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, name, len);
	if (name[0] == '@')
		a.sun_path[0] = '\0';
	else
		len++;
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '/')
		unlink(name);
	if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram as a string, "" when none is waiting. */
static const char *next_message(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void environment(const char *socket_name, const char *usec, const char *pid)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (socket_name)
		setenv("NOTIFY_SOCKET", socket_name, 1);
	if (usec)
		setenv("WATCHDOG_USEC", usec, 1);
	if (pid)
		setenv("WATCHDOG_PID", pid, 1);
}

static const char *socket_path(void)
{
	static char path[300];

	snprintf(path, sizeof(path), "%s/notify", vt_test_tmpdir());
	return path;
}

VT_TEST(sd_without_notify_socket_sends_nothing_and_succeeds)
{
	struct vt_sd sd;

	environment(NULL, "2000000", NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 0);
	CHECK_EQ_INT(sd.fd, -1);
	CHECK_EQ_INT(vt_sd_send(&sd, "READY=1"), 0);
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 0), -1);
	CHECK_EQ_INT(vt_sd_reloading(&sd, "x"), 0);
	vt_sd_close(&sd);
	environment("", NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 0);
}

VT_TEST(sd_sends_to_a_socket_path)
{
	struct vt_sd sd;
	int fd = listener(socket_path());

	CHECK(fd >= 0);
	environment(socket_path(), NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(vt_sd_send(&sd, "READY=1\nSTATUS=connected"), 0);
	CHECK_STR(next_message(fd), "READY=1\nSTATUS=connected");
	CHECK_STR(next_message(fd), "");
	vt_sd_close(&sd);
	CHECK_EQ_INT(sd.fd, -1);
	close(fd);
}

VT_TEST(sd_sends_to_an_abstract_name)
{
	char name[64];
	struct vt_sd sd;
	int fd;

	snprintf(name, sizeof(name), "@vt-sdnotify-test-%d", (int)getpid());
	fd = listener(name);
	CHECK(fd >= 0);
	environment(name, NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(vt_sd_send(&sd, "STOPPING=1"), 0);
	CHECK_STR(next_message(fd), "STOPPING=1");
	vt_sd_close(&sd);
	close(fd);
}

VT_TEST(sd_refuses_addresses_it_cannot_use)
{
	char longname[200];
	struct vt_sd sd;

	environment("relative/notify", NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), -EINVAL);
	CHECK_EQ_INT(sd.fd, -1);
	CHECK_EQ_INT(vt_sd_send(&sd, "READY=1"), 0);	/* inert, not an error */
	environment("@", NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), -EINVAL);
	environment("vsock:2:1234", NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), -EAFNOSUPPORT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	environment(longname, NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), -ENAMETOOLONG);
}

VT_TEST(sd_keepalive_every_half_watchdog_interval)
{
	struct vt_sd sd;
	int fd = listener(socket_path());

	CHECK(fd >= 0);
	environment(socket_path(), "2000000", NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 5000), 1);
	CHECK_EQ_INT(sd.keepalive_ms, 1000);
	/* The first is due at once, then one each 1000 ms. */
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 5000), 1000);
	CHECK_STR(next_message(fd), "WATCHDOG=1");
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 5400), 600);
	CHECK_STR(next_message(fd), "");
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 5999), 1);
	CHECK_STR(next_message(fd), "");
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 6000), 1000);
	CHECK_STR(next_message(fd), "WATCHDOG=1");
	/* A late turn sends at once and counts the next from then. */
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 9000), 1000);
	CHECK_STR(next_message(fd), "WATCHDOG=1");
	CHECK_STR(next_message(fd), "");
	CHECK_EQ_INT(sd.keepalives, 3);
	vt_sd_close(&sd);
	close(fd);
}

VT_TEST(sd_watchdog_only_for_this_process_and_a_valid_interval)
{
	static const char *const bad_usec[] = { "0", "", "abc", "-5", "12x", " 100" };
	char pid[32];
	struct vt_sd sd;
	int fd = listener(socket_path());

	CHECK(fd >= 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	environment(socket_path(), "30000000", pid);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(sd.keepalive_ms, 15000);
	vt_sd_close(&sd);
	/* WATCHDOG_PID of another process: no keep-alives at all. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	environment(socket_path(), "30000000", pid);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(sd.keepalive_ms, 0);
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 0), -1);
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 100000), -1);
	CHECK_STR(next_message(fd), "");
	vt_sd_close(&sd);
	for (size_t i = 0; i < sizeof(bad_usec) / sizeof(bad_usec[0]); i++) {
		environment(socket_path(), bad_usec[i], NULL);
		CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
		CHECK_EQ_INT(sd.keepalive_ms, 0);
		vt_sd_close(&sd);
	}
	/* Below 2 ms, every millisecond rather than never. */
	environment(socket_path(), "1500", NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(sd.keepalive_ms, 1);
	vt_sd_close(&sd);
	close(fd);
}

VT_TEST(sd_reloading_carries_the_monotonic_clock_and_a_status)
{
	struct timespec ts;
	unsigned long long usec, now;
	struct vt_sd sd;
	const char *m;
	char *end;
	int fd = listener(socket_path());

	CHECK(fd >= 0);
	environment(socket_path(), NULL, NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	CHECK_EQ_INT(vt_sd_reloading(&sd, "reloading: SIGHUP"), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	m = next_message(fd);
	CHECK(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	usec = strtoull(m + 27, &end, 10);
	CHECK(usec <= now && now - usec < 10000000ULL);
	CHECK_STR(end, "\nSTATUS=reloading: SIGHUP");
	CHECK_EQ_INT(vt_sd_reloading(&sd, NULL), 0);
	m = next_message(fd);
	CHECK(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	CHECK(strchr(m + 27, '\n') == NULL);
	vt_sd_close(&sd);
	close(fd);
}

VT_TEST(sd_service_manager_gone_is_an_error_and_keepalives_go_on)
{
	struct vt_sd sd;
	int fd = listener(socket_path());

	CHECK(fd >= 0);
	environment(socket_path(), "2000000", NULL);
	CHECK_EQ_INT(vt_sd_open(&sd, 0), 1);
	close(fd);
	unlink(socket_path());
	CHECK(vt_sd_send(&sd, "READY=1") < 0);
	CHECK_EQ_INT(sd.send_failures, 1);
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 0), 1000);
	CHECK_EQ_INT(sd.keepalives, 0);
	/* It comes back (systemd re-executed itself): the next one arrives. */
	fd = listener(socket_path());
	CHECK(fd >= 0);
	CHECK_EQ_INT(vt_sd_keepalive(&sd, 1000), 1000);
	CHECK_STR(next_message(fd), "WATCHDOG=1");
	vt_sd_close(&sd);
	close(fd);
}

VT_TEST_MAIN()
