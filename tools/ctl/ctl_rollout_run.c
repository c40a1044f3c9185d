/*
 * ctl_rollout_run.c - the waves of a rollout, and their ending.
 *
 * Each wave publishes the group's bundle, retained, on the device topic
 * of its new members (a device takes a bundle signed for one of its groups
 * from any of its topics), then watches their statuses until each reports
 * the bundle's serial as applied (its health check passed), refused or
 * rolled back, or the wave times out. Too many failures stop the rollout:
 * every device topic it wrote is cleared, and with the ops key the
 * group's bundle from before the rollout is signed again as a rollback
 * (new serial, above the rollout's) for the devices that may have taken
 * the new one. When every wave passes, the bundle goes on the group topic,
 * for members offline now and future ones, and the device topics it
 * wrote are cleared: the group topic is the one desired state again.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rollout.h"
#include "vt_os.h"

#define VT_CTL_WATCH_STEP_MS 200
#define VT_CTL_LIST_MAX 20	/* devices named in a report line */

/* Ctrl-C during a wave stops the rollout as a failed wave does (clean-up
 * and rollback included); a second one kills the tool. */
static volatile sig_atomic_t vt_ctl_interrupted;

static void vt_ctl_on_interrupt(int sig)
{
	(void)sig;
	vt_ctl_interrupted = 1;
}

static void vt_ctl_catch_interrupts(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vt_ctl_on_interrupt;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Publish data (len 0: clear) on member m's topic of the bundle's slot. */
static int vt_ctl_rollout_put(struct vt_ctl_rollout *r, const struct vt_ctl_member *m,
			      const uint8_t *data, size_t len)
{
	const struct vt_bundle *b = &r->bf.b;
	char topic[VT_CTL_TOPIC_MAX];

	if (vt_ctl_device_topic(topic, sizeof(topic), m->site, m->device, b->kind, b->name) < 0) {
		vt_ctl_error("no topic for %s/%s", m->site, m->device);
		return -1;
	}
	return vt_ctl_mqtt_publish(r->mq, topic, data, len);
}

/* ---- watching a wave ------------------------------------------------------------------ */

/* The serial running in the bundle's slot, per the status (0: none). */
static uint64_t vt_ctl_rollout_slot(const struct vt_ctl_status *s, const struct vt_bundle *b)
{
	if (b->kind == VT_BUNDLE_CONFIG)
		return s->has_config ? s->config_serial : 0;
	for (int i = 0; i < s->n_bundles; i++)
		if (strcmp(s->bundles[i].name, b->name) == 0)
			return s->bundles[i].serial;
	return 0;
}

static void vt_ctl_rollout_failed(struct vt_ctl_member *m, const char *outcome, const char *why)
{
	m->result = VT_CTL_FAILED;
	printf("  %s/%s: %s: %s\n", m->site, m->device, outcome, why);
}

/* What the member's status says of the rollout's bundle. The slot's
 * running serial, more than fleet.last, tells: a device may report some
 * other offer as its last right after (an older retained bundle of
 * another of its topics, refused as replayed). */
static void vt_ctl_rollout_look(struct vt_ctl_rollout *r, struct vt_ctl_member *m)
{
	const struct vt_ctl_status *s = vt_ctl_devlist_find(&r->devs, m->site, m->device);
	const struct vt_bundle *b = &r->bf.b;
	const struct vt_ctl_fleet_last *l;
	int ours, runs;

	if (!s || s->state != VT_CTL_STATE_ONLINE)
		return;
	l = &s->last;
	ours = l->present && l->serial == b->serial;
	runs = vt_ctl_rollout_slot(s, b) == b->serial;
	if ((runs && !s->trial) || (ours && strcmp(l->outcome, "applied") == 0)) {
		m->result = VT_CTL_APPLIED;
		printf("  %s/%s: applied v%" PRIu32 "\n", m->site, m->device, b->version);
	} else if (ours && (strcmp(l->outcome, "refused") == 0 ||
			    strcmp(l->outcome, "rolled_back") == 0)) {
		vt_ctl_rollout_failed(m, l->outcome, l->reason[0] ? l->reason : "no reason given");
	} else if (m->trial_seen && !runs && !s->trial) {
		vt_ctl_rollout_failed(m, "rolled_back", "it runs its previous bundle again (its status has another outcome since)");
	} else if (runs && !m->trial_seen) {
		m->trial_seen = 1;
		printf("  %s/%s: took it, health check running\n", m->site, m->device);
	}
	fflush(stdout);
}

static int vt_ctl_rollout_member_cmp(const void *key, const void *elem)
{
	const struct vt_ctl_member *a = key, *b = elem;
	int c = strcmp(a->site, b->site);

	return c ? c : strcmp(a->device, b->device);
}

void vt_ctl_rollout_status(struct vt_ctl_rollout *r, const char *topic)
{
	struct vt_ctl_member key, *m;

	if (r->wave_to <= r->wave_from || vt_ctl_status_topic(topic, key.site, key.device) < 0)
		return;
	/* Members are sorted by site, then device. */
	m = bsearch(&key, r->members + r->wave_from, r->wave_to - r->wave_from, sizeof(*m),
		    vt_ctl_rollout_member_cmp);
	if (m && m->result == VT_CTL_PENDING)
		vt_ctl_rollout_look(r, m);
}

/* Members of [from, to) still pending after looking at their statuses. */
static size_t vt_ctl_rollout_pending(struct vt_ctl_rollout *r, size_t from, size_t to)
{
	size_t pending = 0;

	for (size_t i = from; i < to; i++) {
		struct vt_ctl_member *m = &r->members[i];

		if (m->result == VT_CTL_PENDING)
			vt_ctl_rollout_look(r, m);
		pending += m->result == VT_CTL_PENDING;
	}
	return pending;
}

static void vt_ctl_rollout_watch(struct vt_ctl_rollout *r, size_t from, size_t to)
{
	int64_t deadline = vt_os_mono_ms() + (int64_t)r->wave_timeout_s * 1000;

	while (vt_ctl_rollout_pending(r, from, to) && vt_os_mono_ms() < deadline &&
	       !vt_ctl_interrupted)
		vt_ctl_mqtt_run(r->mq, VT_CTL_WATCH_STEP_MS);
	r->wave_from = r->wave_to = 0;
	for (size_t i = from; i < to; i++) {
		struct vt_ctl_member *m = &r->members[i];

		if (m->result != VT_CTL_PENDING)
			continue;
		m->result = VT_CTL_NO_REPORT;
		if (vt_ctl_interrupted)
			printf("  %s/%s: no report yet (interrupted)\n", m->site, m->device);
		else
			printf("  %s/%s: no report within %" PRIu32 " s%s\n", m->site, m->device,
			       r->wave_timeout_s, m->trial_seen ? " (its health check was running)" : "");
	}
}

/* One wave over members [from, to). 0 when it passed, 1 when too many
 * failed, -1 when the broker did not take the publishes. */
static int vt_ctl_rollout_wave(struct vt_ctl_rollout *r, int w, size_t from, size_t to)
{
	size_t applied = 0, failed = 0, silent = 0;
	int stop;

	printf("wave %d/%d: %zu device(s), %zu of %zu in all\n", w + 1, r->n_waves, to - from, to,
	       r->n_members);
	/* Watched from now: a quick device may report before the PUBACKs. */
	r->wave_from = from;
	r->wave_to = to;
	for (size_t i = from; i < to; i++) {
		if (vt_ctl_rollout_put(r, &r->members[i], r->bf.data, r->bf.len) < 0)
			return -1;
		r->members[i].touched = 1;
	}
	if (vt_ctl_mqtt_flush(r->mq) < 0)
		return -1;
	fflush(stdout);
	vt_ctl_rollout_watch(r, from, to);
	for (size_t i = from; i < to; i++) {
		applied += r->members[i].result == VT_CTL_APPLIED;
		failed += r->members[i].result == VT_CTL_FAILED;
		silent += r->members[i].result == VT_CTL_NO_REPORT;
	}
	stop = vt_ctl_waves_too_many(failed + silent, to - from, r->max_fail_pct);
	printf("wave %d/%d: %zu applied, %zu refused or rolled back, %zu no report%s\n", w + 1,
	       r->n_waves, applied, failed, silent,
	       vt_ctl_interrupted ? "; interrupted"
	       : stop ? "; more failures than --max-failures allows" : "");
	return stop || vt_ctl_interrupted;
}

/* ---- ending -------------------------------------------------------------------------- */

/* "  label: s1/d1, s1/d2 (2)" for up to VT_CTL_LIST_MAX members whose
 * result is want; nothing when there is none. */
static void vt_ctl_rollout_list(const struct vt_ctl_rollout *r, enum vt_ctl_result want,
				const char *label)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_members; i++) {
		if (r->members[i].result != want)
			continue;
		if (n == 0)
			printf("  %s: ", label);
		if (n < VT_CTL_LIST_MAX)
			printf("%s%s/%s", n ? ", " : "", r->members[i].site, r->members[i].device);
		else if (n == VT_CTL_LIST_MAX)
			printf(", ...");
		n++;
	}
	if (n)
		printf(" (%zu)\n", n);
}

/* Members whose result is one of the two given. */
static size_t vt_ctl_rollout_count(const struct vt_ctl_rollout *r, enum vt_ctl_result a,
				   enum vt_ctl_result b)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_members; i++)
		n += r->members[i].result == a || r->members[i].result == b;
	return n;
}

/* The group's bundle from before, signed again as a rollback (*out NULL
 * when there is no key or no such bundle). 0 or -1 (printed). */
static int vt_ctl_rollout_resign(struct vt_ctl_rollout *r, uint8_t **out, size_t *len,
				 struct vt_bundle *b)
{
	struct vt_bundle old;
	const char *why;

	*out = NULL;
	if (!r->key || !r->before || vt_bundle_parse(r->before, r->before_len, &old, &why) < 0)
		return 0;
	return vt_ctl_bundle_resign_rollback(&old, VT_BUNDLE_GROUP, r->group, r->bf.b.serial,
					     r->key, out, len, b);
}

/* Why devices that took the bundle keep it, and which. */
static void vt_ctl_rollout_kept(const struct vt_ctl_rollout *r)
{
	uint32_t v = r->bf.b.version;

	if (!vt_ctl_rollout_count(r, VT_CTL_APPLIED, VT_CTL_NO_REPORT))
		return;
	if (!r->key)
		printf("  no --key: devices that applied v%" PRIu32 " keep it (and those that did not report may apply it); to take them back: '" VT_CTL_PROG " rollback --key KEY OLD.vtb' or a rollout with --key\n",
		       v);
	else
		printf("  %s held no bundle before the rollout: nothing to go back to; devices that applied v%" PRIu32 " keep it (and those that did not report may apply it)\n",
		       r->group_topic, v);
	vt_ctl_rollout_list(r, VT_CTL_APPLIED, "applied");
	vt_ctl_rollout_list(r, VT_CTL_NO_REPORT, "no report");
}

static int vt_ctl_rollout_abort(struct vt_ctl_rollout *r)
{
	size_t cleared = 0, back = 0;
	struct vt_bundle rb;
	uint8_t *data;
	size_t len;
	char desc[256];
	int rc;

	printf("stopping the rollout of v%" PRIu32 " to group %s\n", r->bf.b.version, r->group);
	if (vt_ctl_rollout_resign(r, &data, &len, &rb) < 0)
		return VT_CTL_FAIL;
	for (size_t i = 0; i < r->n_members; i++) {
		const struct vt_ctl_member *m = &r->members[i];
		int to_back = data && (m->result == VT_CTL_APPLIED || m->result == VT_CTL_NO_REPORT);

		if (!m->touched)
			continue;
		rc = to_back ? vt_ctl_rollout_put(r, m, data, len) : vt_ctl_rollout_put(r, m, NULL, 0);
		if (rc < 0)
			break;
		back += to_back;
		cleared += !to_back;
	}
	rc = vt_ctl_mqtt_flush(r->mq);
	if (cleared)
		printf("  cleared the bundle from %zu device topic(s)\n", cleared);
	if (data) {
		vt_ctl_bundle_describe(&rb, desc, sizeof(desc));
		printf("  published %s on %zu device topic(s): those that applied v%" PRIu32 " or did not report\n",
		       desc, back, r->bf.b.version);
	} else {
		vt_ctl_rollout_kept(r);
	}
	free(data);
	if (rc < 0)
		vt_ctl_error("the broker did not acknowledge every clean-up publish: check the topics above with mosquitto_sub");
	return VT_CTL_FAIL;
}

static int vt_ctl_rollout_finish(struct vt_ctl_rollout *r)
{
	char desc[256];

	if (vt_ctl_mqtt_publish(r->mq, r->group_topic, r->bf.data, r->bf.len) < 0 ||
	    vt_ctl_mqtt_flush(r->mq) < 0) {
		vt_ctl_error("every wave passed but the bundle could not be retained on %s: publish it with '" VT_CTL_PROG " push %s'",
			     r->group_topic, r->file);
		return VT_CTL_FAIL;
	}
	for (size_t i = 0; i < r->n_members; i++)
		if (r->members[i].touched && vt_ctl_rollout_put(r, &r->members[i], NULL, 0) < 0)
			break;
	if (vt_ctl_mqtt_flush(r->mq) < 0)
		vt_ctl_error("some device topics still hold a copy of the bundle (harmless: same serial)");
	vt_ctl_bundle_describe(&r->bf.b, desc, sizeof(desc));
	printf("done: %s applied on %zu of %zu device(s) in %d wave(s); retained on %s for members offline now and future ones\n",
	       desc, vt_ctl_rollout_count(r, VT_CTL_APPLIED, VT_CTL_APPLIED), r->n_members,
	       r->n_waves, r->group_topic);
	/* Within --max-failures, but worth a look. */
	vt_ctl_rollout_list(r, VT_CTL_FAILED, "refused or rolled back");
	vt_ctl_rollout_list(r, VT_CTL_NO_REPORT, "no report");
	return VT_CTL_OK;
}

int vt_ctl_rollout_run(struct vt_ctl_rollout *r)
{
	vt_ctl_catch_interrupts();
	for (int w = 0; w < r->n_waves; w++) {
		size_t from = w ? r->totals[w - 1] : 0;
		int rc = vt_ctl_rollout_wave(r, w, from, r->totals[w]);

		if (rc != 0)
			return vt_ctl_rollout_abort(r);
	}
	return vt_ctl_rollout_finish(r);
}
