/*
 * plugins/common/sim_link.h - the link of a simulated source: open or
 * closed, and the failure it injects after every `fail_every` deliveries so
 * that a plugin's recovery path runs. A failure closes the link; the plugin
 * reopens it. Nothing is lost or repeated across a failure: the source only
 * checks before it hands out anything.
 *
 * Header-only and compiled into each plugin's simulated source.
 */
#ifndef VP_SIM_LINK_H
#define VP_SIM_LINK_H

#include <errno.h>
#include <stdint.h>

struct vp_sim_link {
	int open;
	uint64_t fail_every;	/* 0 = never fail */
	uint64_t since_fail;	/* deliveries counted by the source */
};

/* 0 when the source may deliver; -ENOTCONN when closed; -EIO (and closed)
 * when fail_every deliveries have been counted since the last failure. */
static inline int vp_sim_link_check(struct vp_sim_link *l)
{
	if (!l->open)
		return -ENOTCONN;
	if (l->fail_every && l->since_fail >= l->fail_every) {
		l->since_fail = 0;
		l->open = 0;
		return -EIO;
	}
	return 0;
}

#endif /* VP_SIM_LINK_H */
