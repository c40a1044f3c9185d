/*
 * plugins/common/test_host.h - the fake host the plugin test programs drive
 * a plugin with: it records every emitted reading, the monotonic time it was
 * emitted at, and every log line; the test sets config keys and moves the
 * monotonic clock by hand (now_ms is fixed).
 *
 * Linked into each plugin's test program (<name>_TEST_SRCS), never into a
 * plugin .so. It defines struct vitrine_ctx, which the agent keeps opaque.
 */
#ifndef VP_TEST_HOST_H
#define VP_TEST_HOST_H

#include <vitrine/plugin.h>

#include <stddef.h>
#include <stdint.h>

#define VP_FAKE_KEYS 16
#define VP_FAKE_LOG_BYTES 8192

struct vitrine_ctx {
	const char *keys[VP_FAKE_KEYS];
	const char *vals[VP_FAKE_KEYS];	/* borrowed: string literals */
	int nkeys;
	struct vitrine_reading *readings;	/* the first cap readings */
	int64_t *emitted_at;	/* mono_ms when each reading was emitted */
	size_t n, cap;		/* n counts all, even past cap */
	int64_t mono_ms;
	char log[VP_FAKE_LOG_BYTES];	/* one line a message, truncated */
	size_t log_len;
	int errors;		/* messages at VITRINE_LOG_ERROR */
};

extern const struct vitrine_host vp_fake_host;

/* A host context that keeps up to cap readings, with mono_ms 1000, start
 * "2026-11-25T09:00:00Z" and speed "0". Aborts when out of memory; free
 * with vp_fake_free(). */
struct vitrine_ctx *vp_fake_new(size_t cap);
void vp_fake_free(struct vitrine_ctx *ctx);

/* Sets or replaces a config key; key and val are borrowed. */
void vp_fake_set(struct vitrine_ctx *ctx, const char *key, const char *val);

struct vp_run_result {
	int init_rc;
	int finished;		/* collect returned 1 */
	int failures;		/* collect returned < 0 */
	int recoveries;		/* collect returned 0 right after a failure */
	int calls;
};

/* init, collect until finished or max_calls, fini; mono advances step_ms. */
struct vp_run_result vp_run_plugin(const struct vitrine_plugin *plugin,
				   struct vitrine_ctx *ctx, int max_calls,
				   int64_t step_ms);

/* Whether init with `key` = `val` (on top of vp_fake_new()'s keys) fails
 * with -EINVAL and logs exactly one error, naming "<plugin>.<key>". Says
 * what went wrong on stderr when it did not. */
int vp_rejects_config(const struct vitrine_plugin *plugin, const char *key,
		      const char *val);

/* Whether `limit` readings from the default seed come out identical twice,
 * and different with seed `other_seed`. Says what differed on stderr. */
int vp_same_seed_same_readings(const struct vitrine_plugin *plugin, const char *limit,
			       const char *other_seed);

/* Whether a run with fail_every = `fail_every` fails exactly `failures`
 * times (or at least -failures times when negative), logs each failure
 * and reopen, recovers each time, and emits exactly the readings of a run
 * without failures. Says what went wrong on stderr. */
int vp_failures_lose_nothing(const struct vitrine_plugin *plugin, const char *limit,
			     const char *fail_every, int failures);

/* Whether a and b recorded the same readings. */
int vp_same_readings(const struct vitrine_ctx *a, const struct vitrine_ctx *b);

/* Descriptors a plugin watches, for tests that drive them as the agent's
 * poll loop would: set host.watch_fd = vp_fake_watch_fd, then call
 * vp_fake_poll(state) for each turn. At most VP_FAKE_WATCH_MAX at once,
 * the agent's own limit per plugin. One table for the whole program. */
#define VP_FAKE_WATCH_MAX 8
int vp_fake_watch_fd(struct vitrine_ctx *ctx, int fd, short events, vitrine_fd_cb cb);

/* Forget every watched descriptor (a test that starts afresh). */
void vp_fake_unwatch_all(void);

/* How many descriptors are watched now. */
int vp_fake_watching(void);

/* One turn of the poll loop: waits up to 20 ms for the watched
 * descriptors (or sleeps 20 ms when there are none) and calls the
 * callbacks of those that are ready, with state. */
void vp_fake_poll(void *state);

/* The lowest free descriptor number: with RLIMIT_NOFILE set to it, the
 * next accept() fails with EMFILE (tests of listeners out of descriptors). */
int vp_lowest_free_fd(void);

/* How many times needle occurs in hay. */
size_t vp_count_substr(const char *hay, const char *needle);

#endif /* VP_TEST_HOST_H */
