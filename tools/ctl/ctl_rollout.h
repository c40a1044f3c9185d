/*
 * ctl_rollout.h - the state of one 'rollout', shared by ctl_rollout.c (the
 * command: options, who the members are, the plan) and ctl_rollout_run.c
 * (the waves, and what is done when one fails or all pass).
 */
#ifndef VT_CTL_ROLLOUT_H
#define VT_CTL_ROLLOUT_H

#include "ctl.h"

enum vt_ctl_result {
	VT_CTL_PENDING,
	VT_CTL_APPLIED,
	VT_CTL_FAILED,		/* refused, or rolled back by the device */
	VT_CTL_NO_REPORT,	/* nothing within the wave's time-out */
};

struct vt_ctl_member {
	char site[VT_CTL_ID_MAX + 1];
	char device[VT_CTL_ID_MAX + 1];
	enum vt_ctl_result result;
	int trial_seen;
	int touched;		/* the bundle was published on its topic */
};

struct vt_ctl_rollout {
	/* options; strings borrowed from argv or the conf */
	struct vt_ctl_broker broker;
	const char *group;
	const char *key_path;
	const char *waves;
	const char *file;
	uint32_t max_fail_pct;
	uint32_t wave_timeout_s;
	uint32_t wait_ms;
	int dry_run;
	/* what it works with; all owned */
	struct vt_ctl_bundle_file bf;
	struct vt_sigkey *key;		/* NULL without --key */
	struct vt_ctl_mqtt *mq;
	struct vt_ctl_devlist devs;
	char group_topic[VT_CTL_TOPIC_MAX];
	int collecting;			/* still taking the group topic's retained bundle */
	uint8_t *before;		/* that bundle, or NULL */
	size_t before_len;
	int oom;
	struct vt_ctl_member *members;	/* online members of the group, sorted */
	size_t n_members;
	size_t totals[VT_CTL_MAX_WAVES];
	int n_waves;
	size_t wave_from, wave_to;	/* the members of the wave being watched */
};

/* Run the planned waves over r->members with r->mq connected and the
 * statuses subscribed. Returns the exit status: VT_CTL_OK when every wave
 * passed (the bundle is then retained on the group topic), VT_CTL_FAIL
 * when one did not (what was touched is cleared or rolled back). */
int vt_ctl_rollout_run(struct vt_ctl_rollout *r);

/* A status message arrived on topic (and went into r->devs): look at it
 * now if it is a member of the wave being watched, since the next status
 * may already replace it in the list. */
void vt_ctl_rollout_status(struct vt_ctl_rollout *r, const char *topic);

#endif
