/*
 * host.h - plugin instances and the host function table they are given.
 *
 * One struct vitrine_ctx per loaded plugin: its descriptor, its state, its
 * schedule (next collect, back-off while its source is failing), the file
 * descriptors it watches and its counters. host.c implements every
 * function of struct vitrine_host on top of it.
 */
#ifndef VT_HOST_H
#define VT_HOST_H

#include <poll.h>
#include <stdint.h>

#include "conf.h"
#include "loader.h"
#include "pipeline.h"

#define VT_HOST_MAX_FDS 8

struct vt_host_fd {
	int fd;
	short events;
	vitrine_fd_cb cb;
};

struct vitrine_ctx {
	struct vt_loaded_plugin lp;
	struct vt_conf *conf;		/* borrowed: the agent's file */
	struct vt_pipeline *pipeline;	/* borrowed */
	struct vt_privacy_source *privacy; /* borrowed: the agent's privacy stage owns it */
	void *state;
	int running;		/* init succeeded and fini not yet called */
	int finished;		/* collect returned 1 */
	int degraded;		/* source failing */
	int64_t next_collect_ms;
	uint32_t backoff_ms;
	int64_t next_init_ms;	/* init failed: retry then */
	struct vt_host_fd fds[VT_HOST_MAX_FDS];
	uint64_t emitted;
	uint64_t invalid;
	uint64_t failures;
	char prefix[40];	/* "<name>." for config keys */
};

/* The table handed to every plugin. */
extern const struct vitrine_host vt_host_table;

/* Check the agent file's "<name>.<key>" entries against the plugin's
 * declared keys. Returns 0 or VT_ECONFIG with "file:line: ..." in err. */
int vt_host_check_keys(struct vitrine_ctx *ctx, char *err, size_t errlen);

/* Call init (now or after its back-off); returns 0 when running. */
int vt_host_start(struct vitrine_ctx *ctx, int64_t mono_ms);

/* Call collect if due; handles failure, recovery and back-off. */
void vt_host_collect(struct vitrine_ctx *ctx, int64_t mono_ms);

/* Milliseconds until this plugin next needs the loop (-1: never). */
int64_t vt_host_ms_left(const struct vitrine_ctx *ctx, int64_t mono_ms);

void vt_host_stop(struct vitrine_ctx *ctx);

#endif
