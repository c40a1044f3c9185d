/*
 * ctl_rollout.c - 'rollout': a group-targeted bundle taken to the group's
 * devices in waves, each wave watched through the devices' statuses
 * before the next (ctl_rollout_run.c runs them).
 *
 * This file reads the options, checks the bundle against the group,
 * collects the statuses and the group's currently retained bundle of the
 * same slot (the desired state before the rollout, kept for a rollback),
 * picks the members (online devices whose status lists the group, by
 * site then device) and plans the waves.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rollout.h"
#include "frame.h"

#define VT_CTL_ROLLOUT_WAIT_MS 1500
#define VT_CTL_ROLLOUT_WAVES "1,10%,100%"

/* "5" or "5%". */
static int vt_ctl_rollout_pct(const char *arg, uint32_t *pct)
{
	char num[8];
	size_t n = strlen(arg);

	if (n && arg[n - 1] == '%')
		n--;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, arg, n);
	num[n] = '\0';
	return vt_ctl_parse_u32(num, 0, 100, pct);
}

static int vt_ctl_rollout_opt(struct vt_ctl_rollout *r, int opt, const char *arg, char **argv)
{
	int rc;

	switch (opt) {
	case 'h':
		return vt_ctl_help_ok("rollout");
	case VT_CTL_OPT_GROUP:
		if (!vt_frame_id_valid(arg))
			return vt_ctl_usage("rollout", "--group '%s': expected a group id, 1 to 64 of A-Z a-z 0-9 . _ -",
					    arg);
		r->group = arg;
		return VT_CTL_GO;
	case VT_CTL_OPT_WAVES:
		r->waves = arg;
		return VT_CTL_GO;
	case VT_CTL_OPT_KEY:
		r->key_path = arg;
		return VT_CTL_GO;
	case VT_CTL_OPT_DRY_RUN:
		r->dry_run = 1;
		return VT_CTL_GO;
	case VT_CTL_OPT_MAX_FAILURES:
		if (vt_ctl_rollout_pct(arg, &r->max_fail_pct) < 0)
			return vt_ctl_usage("rollout", "--max-failures '%s': expected a percentage, 0 to 100", arg);
		return VT_CTL_GO;
	case VT_CTL_OPT_WAVE_TIMEOUT:
		if (vt_ctl_parse_u32(arg, 1, 86400, &r->wave_timeout_s) < 0)
			return vt_ctl_usage("rollout", "--wave-timeout '%s': expected seconds, 1 to 86400", arg);
		return VT_CTL_GO;
	case VT_CTL_OPT_WAIT_MS:
		if (vt_ctl_parse_u32(arg, 1, 3600000, &r->wait_ms) < 0)
			return vt_ctl_usage("rollout", "--wait-ms '%s': expected milliseconds, 1 to 3600000", arg);
		return VT_CTL_GO;
	}
	rc = vt_ctl_broker_opt(&r->broker, "rollout", opt, arg);
	if (rc < 0)
		return VT_CTL_USAGE;
	return rc ? VT_CTL_GO : vt_ctl_bad_option("rollout", argv, opt);
}

static int vt_ctl_rollout_args(struct vt_ctl_rollout *r, const struct vt_ctl_conf *conf,
			       int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_BROKER_LONGOPTS,
		{ "group", required_argument, NULL, VT_CTL_OPT_GROUP },
		{ "waves", required_argument, NULL, VT_CTL_OPT_WAVES },
		{ "max-failures", required_argument, NULL, VT_CTL_OPT_MAX_FAILURES },
		{ "wave-timeout", required_argument, NULL, VT_CTL_OPT_WAVE_TIMEOUT },
		{ "key", required_argument, NULL, VT_CTL_OPT_KEY },
		{ "wait-ms", required_argument, NULL, VT_CTL_OPT_WAIT_MS },
		{ "dry-run", no_argument, NULL, VT_CTL_OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t totals[VT_CTL_MAX_WAVES];
	char err[256];
	int opt, rc;

	vt_ctl_broker_init(&r->broker, conf);
	r->waves = VT_CTL_ROLLOUT_WAVES;
	r->wave_timeout_s = 120;
	r->wait_ms = VT_CTL_ROLLOUT_WAIT_MS;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		rc = vt_ctl_rollout_opt(r, opt, optarg, argv);
		if (rc != VT_CTL_GO)
			return rc;
	}
	if (vt_ctl_broker_check(&r->broker, "rollout") < 0)
		return VT_CTL_USAGE;
	if (!r->group)
		return vt_ctl_usage("rollout", "--group GROUP is required (the group the bundle is signed for)");
	if (vt_ctl_waves_plan(r->waves, 1, totals, VT_CTL_MAX_WAVES, err, sizeof(err)) < 0)
		return vt_ctl_usage("rollout", "--waves '%s': %s", r->waves, err);
	if (optind != argc - 1)
		return vt_ctl_usage("rollout", "expected one BUNDLE (signed for the group with '" VT_CTL_PROG " sign --group')");
	r->file = argv[optind];
	return VT_CTL_GO;
}

/* The bundle, the key, and the group topic of the bundle's slot. */
static int vt_ctl_rollout_load(struct vt_ctl_rollout *r)
{
	const struct vt_bundle *b = &r->bf.b;

	if (vt_ctl_bundle_load(r->file, &r->bf) < 0)
		return VT_CTL_FAIL;
	if (b->target_type != VT_BUNDLE_GROUP || strcmp(b->target, r->group) != 0)
		return vt_ctl_usage("rollout", "%s is signed for %s %s, not for group %s", r->file,
				    b->target_type == VT_BUNDLE_GROUP ? "group" : "device", b->target,
				    r->group);
	if (r->key_path && vt_ctl_key_load(r->key_path, 1, &r->key) < 0)
		return VT_CTL_FAIL;
	if (vt_ctl_slot_topic(r->group_topic, sizeof(r->group_topic), VT_BUNDLE_GROUP, r->group,
			      b->kind, b->name) < 0)
		return vt_ctl_usage("rollout", "no topic for group %s", r->group);
	return VT_CTL_GO;
}

/* Statuses go to the device list; the group topic's retained bundle is
 * kept while collecting (later, it is our own publish coming back). */
static void vt_ctl_rollout_on_msg(void *ctx, const char *topic, const uint8_t *payload,
				  size_t len)
{
	struct vt_ctl_rollout *r = ctx;

	if (strcmp(topic, r->group_topic) != 0) {
		vt_ctl_devlist_on_msg(&r->devs, topic, payload, len);
		vt_ctl_rollout_status(r, topic);
		return;
	}
	if (!r->collecting)
		return;
	free(r->before);
	r->before = NULL;
	r->before_len = 0;
	if (len == 0)
		return;
	r->before = malloc(len);
	if (!r->before) {
		r->oom = 1;
		return;
	}
	memcpy(r->before, payload, len);
	r->before_len = len;
}

static int vt_ctl_rollout_collect(struct vt_ctl_rollout *r)
{
	r->collecting = 1;
	if (vt_ctl_mqtt_connect(&r->mq, &r->broker, vt_ctl_rollout_on_msg, r) < 0 ||
	    vt_ctl_mqtt_subscribe(r->mq, r->group_topic) < 0 ||
	    vt_ctl_mqtt_subscribe(r->mq, VT_CTL_STATUS_FILTER) < 0 ||
	    vt_ctl_mqtt_settle(r->mq, VT_CTL_SETTLE_MS, (int)r->wait_ms) < 0)
		return -1;
	r->collecting = 0;
	if (r->oom || r->devs.oom) {
		vt_ctl_error("out of memory while collecting statuses");
		return -1;
	}
	return 0;
}

static int vt_ctl_rollout_members(struct vt_ctl_rollout *r)
{
	const struct vt_ctl_devlist *l = &r->devs;

	r->members = calloc(l->n ? l->n : 1, sizeof(*r->members));
	if (!r->members) {
		vt_ctl_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct vt_ctl_status *s = l->v[i];
		struct vt_ctl_member *m;

		if (s->state != VT_CTL_STATE_ONLINE || !vt_ctl_status_in_group(s, r->group))
			continue;
		m = &r->members[r->n_members++];
		memcpy(m->site, s->site, sizeof(m->site));
		memcpy(m->device, s->device, sizeof(m->device));
	}
	return 0;
}

static void vt_ctl_rollout_intro(const struct vt_ctl_rollout *r)
{
	struct vt_bundle old;
	const char *why;
	char desc[256];

	vt_ctl_bundle_describe(&r->bf.b, desc, sizeof(desc));
	printf("rollout of %s\n", desc);
	if (r->before && vt_bundle_parse(r->before, r->before_len, &old, &why) == 0) {
		vt_ctl_bundle_describe(&old, desc, sizeof(desc));
		printf("  %s retains %s\n", r->group_topic, desc);
	} else {
		printf("  %s retains %s\n", r->group_topic, r->before ? "something that is not a bundle" : "nothing");
	}
	printf("  %zu online member(s) of group %s; waves of", r->n_members, r->group);
	for (int w = 0; w < r->n_waves; w++)
		printf(" %zu", r->totals[w] - (w ? r->totals[w - 1] : 0));
	printf(" device(s)\n");
}

static void vt_ctl_rollout_plan_print(const struct vt_ctl_rollout *r)
{
	for (int w = 0; w < r->n_waves; w++) {
		printf("wave %d/%d:", w + 1, r->n_waves);
		for (size_t i = w ? r->totals[w - 1] : 0; i < r->totals[w]; i++)
			printf(" %s/%s", r->members[i].site, r->members[i].device);
		printf("\n");
	}
	printf("dry run: nothing published\n");
}

/* A device takes only a serial above every one it tried in the slot: a
 * bundle older than the group's would be refused by every member. */
static int vt_ctl_rollout_newer(const struct vt_ctl_rollout *r)
{
	struct vt_bundle old;
	const char *why;

	if (!r->before || vt_bundle_parse(r->before, r->before_len, &old, &why) < 0 ||
	    old.serial <= r->bf.b.serial)
		return 0;
	vt_ctl_error("%s: serial %" PRIu64 " is not above the serial %" PRIu64 " of the bundle %s retains: devices would refuse it as replayed (sign it again, or '" VT_CTL_PROG " rollback' it)",
		     r->file, r->bf.b.serial, old.serial, r->group_topic);
	return -1;
}

static int vt_ctl_rollout_prepare(struct vt_ctl_rollout *r)
{
	char err[256];

	if (vt_ctl_rollout_collect(r) < 0 || vt_ctl_rollout_members(r) < 0 ||
	    vt_ctl_rollout_newer(r) < 0)
		return VT_CTL_FAIL;
	r->n_waves = vt_ctl_waves_plan(r->waves, r->n_members, r->totals, VT_CTL_MAX_WAVES, err,
				       sizeof(err));
	if (r->n_waves < 0)
		return vt_ctl_usage("rollout", "--waves '%s': %s", r->waves, err);
	if (r->n_members == 0) {
		vt_ctl_error("no online device reports group %s: nothing to roll out to or watch (to publish for devices that come later: '" VT_CTL_PROG " push %s')",
			     r->group, r->file);
		return VT_CTL_FAIL;
	}
	vt_ctl_rollout_intro(r);
	if (r->dry_run) {
		vt_ctl_rollout_plan_print(r);
		return VT_CTL_OK;
	}
	return VT_CTL_GO;
}

int vt_ctl_cmd_rollout(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	struct vt_ctl_rollout r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = vt_ctl_rollout_args(&r, conf, argc, argv);
	if (rc == VT_CTL_GO)
		rc = vt_ctl_rollout_load(&r);
	if (rc == VT_CTL_GO)
		rc = vt_ctl_rollout_prepare(&r);
	if (rc == VT_CTL_GO)
		rc = vt_ctl_rollout_run(&r);
	vt_ctl_mqtt_close(r.mq);
	vt_ctl_devlist_free(&r.devs);
	free(r.members);
	free(r.before);
	vt_sigkey_free(r.key);
	vt_ctl_bundle_file_free(&r.bf);
	return rc;
}
