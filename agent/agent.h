/*
 * agent.h - the agent's run time: plugins, pipeline and publisher on one
 * poll() loop, in one thread.
 */
#ifndef VT_AGENT_H
#define VT_AGENT_H

#include <signal.h>

#include "config.h"

struct vt_fleet_state;

struct vt_agent_opts {
	const char *config_path;	/* to check fleet configuration bundles */
	struct vt_fleet_state *fleet;	/* from vt_fleet_boot(); taken */
	const char *tap_path;	/* write every reading as CSV here (tests, debugging) */
	int exit_when_done;	/* exit 0 once every plugin finished and all is acked */
	volatile sig_atomic_t *stop;	/* set by the signal handler */
	volatile sig_atomic_t *reload;	/* SIGHUP: check config_path, restart */
};

/* Run until *stop (or done). Returns 0, VT_AGENT_RESTART when a fleet
 * bundle was taken or rolled back, or *reload was set and config_path
 * passed every check of --check-config (the caller executes the agent
 * again), or a negative code when start-up failed (the message is
 * logged). */
#define VT_AGENT_RESTART 1
int vt_agent_run(struct vt_agent_config *cfg, const struct vt_agent_opts *opts);

/* --check-config: load each plugin and check its "<name>.<key>" entries;
 * also flag keys of plugins no 'plugin' line loads. Errors on stderr. */
int vt_agent_check_plugins(struct vt_agent_config *cfg);

#endif
