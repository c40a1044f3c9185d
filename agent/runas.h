/*
 * runas.h - least privilege for an agent started as root: it becomes the
 * user named by `user` in agent.conf (with that user's groups, so that
 * gpio and dialout still open the sensors) before it writes anything, and
 * can never get root back. Under systemd the unit does this instead
 * (User=vitrine); docs/SECURITY.md, "Least privilege".
 */
#ifndef VT_RUNAS_H
#define VT_RUNAS_H

#include <stddef.h>

#include "config.h"

/* Who is changing user, for the messages. */
struct vt_runas_who {
	const char *what;	/* "the agent" */
	const char *unit;	/* its systemd unit, "vitrine-agent" */
};

/* The same for any program: dirs are the folders it writes (NULL-ended).
 * Used by vt_runas() and by the aggregator (aggregator.conf's user). */
int vt_runas_user(const struct vt_runas_who *who, const char *user, const char *const *dirs,
		  const char *path, char *err, size_t errlen);

/* The user exists (NULL or "": nothing to check). 0 or -VT_ECONFIG. */
int vt_runas_check_user(const char *user, const char *path, char *err, size_t errlen);

/* Called once, first thing when the agent runs (before the fleet state or
 * the spool is touched). As root with cfg->user set: make cfg->state_dir
 * and cfg->spool_dir the user's when missing, refuse them (or a file
 * directly in them) when they belong to anyone else, then change to the
 * user for good. As root without it: a warning. Not as root: nothing to
 * do (a warning when the user named is not the one running). Returns 0,
 * or -VT_ECONFIG with err saying what to fix. */
int vt_runas(const struct vt_agent_config *cfg, const char *path, char *err, size_t errlen);

/* --check-config: the user named exists. Returns 0, or -VT_ECONFIG with
 * err. */
int vt_runas_check(const struct vt_agent_config *cfg, const char *path, char *err, size_t errlen);

#endif
