/*
 * log.h - operator-facing logging for the agent and the aggregator.
 *
 * One line per event on stderr (journald adds its own time stamp when run
 * under systemd; elsewhere we add an ISO-8601 UTC one). VT_LOG checks the
 * level before formatting anything. Never log a key, a payload or a raw
 * identifier: log counters.
 */
#ifndef VT_LOG_H
#define VT_LOG_H

#include <stdint.h>

enum vt_log_level {
	VT_LOG_ERROR = 0,
	VT_LOG_WARN = 1,
	VT_LOG_INFO = 2,
	VT_LOG_DEBUG = 3,
};

extern int vt_log_level;

/* Program name shown on each line ("vitrine-agent"); borrowed, static. */
void vt_log_init(const char *progname, int level);

/* Parse "error|warn|info|debug"; returns the level or -1. */
int vt_log_parse_level(const char *name);

void vt_log_write(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define VT_LOG(level, ...)                                                     \
	do {                                                                   \
		if ((level) <= vt_log_level)                                   \
			vt_log_write((level), __VA_ARGS__);                    \
	} while (0)

#define VT_ERROR(...) VT_LOG(VT_LOG_ERROR, __VA_ARGS__)
#define VT_WARN(...) VT_LOG(VT_LOG_WARN, __VA_ARGS__)
#define VT_INFO(...) VT_LOG(VT_LOG_INFO, __VA_ARGS__)
#define VT_DEBUG(...) VT_LOG(VT_LOG_DEBUG, __VA_ARGS__)

/*
 * A rate limiter for messages that could repeat (one bad device, one flaky
 * broker): vt_ratelimit_ok() returns 1 at most once per interval and counts
 * what it suppressed, so the next message can say "(N more suppressed)".
 */
struct vt_ratelimit {
	int64_t last_ms;
	uint32_t suppressed;
};

int vt_ratelimit_ok(struct vt_ratelimit *rl, int64_t now_ms, int64_t interval_ms);

#endif
