/*
 * log.c - operator-facing log lines on stderr (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int vt_log_level = VT_LOG_INFO;
static const char *vt_log_prog = "vitrine";

static const char *const vt_log_names[] = { "error", "warn", "info", "debug" };

void vt_log_init(const char *progname, int level)
{
	vt_log_prog = progname;
	vt_log_level = level;
}

int vt_log_parse_level(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, vt_log_names[i]) == 0)
			return i;
	return -1;
}

void vt_log_write(int level, const char *fmt, ...)
{
	char stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	/* Under systemd, journald stamps lines itself. */
	if (!getenv("JOURNAL_STREAM")) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	flockfile(stderr);
	fprintf(stderr, "%s%s[%d] %s: ", stamp, vt_log_prog, (int)getpid(),
		vt_log_names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

int vt_ratelimit_ok(struct vt_ratelimit *rl, int64_t now_ms, int64_t interval_ms)
{
	if (rl->last_ms != 0 && now_ms - rl->last_ms < interval_ms) {
		rl->suppressed++;
		return 0;
	}
	rl->last_ms = now_ms;
	return 1;
}
