/*
 * ctl_status.c - a device's retained status document, read with cJSON into
 * struct vt_ctl_status, and the short words vitrine-ctl shows for it (the
 * CONFIG and ALERTS columns).
 *
 * The document comes from the broker, so from anyone who may publish
 * there: nothing in it is trusted. Any payload gives a struct (a bad one
 * is flagged, never fatal); strings are cut to their fields and stripped
 * of what a terminal must not see; numbers out of range count as absent.
 * The document's layout is agent/agent.c's, fleet.c's, tls.c's and clock.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "frame.h"

/* ---- reading fields ---------------------------------------------------------------- */

static const cJSON *vt_ctl_json_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* v if it is an object (an array), else NULL: what cJSON_ArrayForEach
 * may walk. */
static const cJSON *vt_ctl_json_obj(const cJSON *v)
{
	return cJSON_IsObject(v) ? v : NULL;
}

static const cJSON *vt_ctl_json_arr(const cJSON *v)
{
	return cJSON_IsArray(v) ? v : NULL;
}

/* An integral number within [min, max]: 0, or -1 (absent or out of range). */
static int vt_ctl_json_num(const cJSON *v, double min, double max, double *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || d < min || d > max || d != floor(d))
		return -1;
	*out = d;
	return 0;
}

static int vt_ctl_json_i64(const cJSON *o, const char *key, int64_t *out)
{
	double d;

	if (vt_ctl_json_num(vt_ctl_json_get(o, key), -9.0e18, 9.0e18, &d) < 0)
		return -1;
	*out = (int64_t)d;
	return 0;
}

static int vt_ctl_json_u64(const cJSON *o, const char *key, uint64_t *out)
{
	double d;

	if (vt_ctl_json_num(vt_ctl_json_get(o, key), 0, 1.8e19, &d) < 0)
		return -1;
	*out = (uint64_t)d;
	return 0;
}

static int vt_ctl_json_u32(const cJSON *o, const char *key, uint32_t *out)
{
	double d;

	if (vt_ctl_json_num(vt_ctl_json_get(o, key), 0, 4294967295.0, &d) < 0)
		return -1;
	*out = (uint32_t)d;
	return 0;
}

static void vt_ctl_json_str(const cJSON *o, const char *key, char *dst, size_t cap)
{
	const cJSON *v = vt_ctl_json_get(o, key);

	if (cJSON_IsString(v) && v->valuestring)
		vt_ctl_copy_printable(dst, cap, v->valuestring);
}

/* ---- sections ---------------------------------------------------------------------- */

static void vt_ctl_status_spool(struct vt_ctl_status *s, const cJSON *root)
{
	const cJSON *sp = vt_ctl_json_get(root, "spool"), *dr = vt_ctl_json_get(root, "dropped");
	const cJSON *ack = vt_ctl_json_get(root, "last_ack"), *c;

	if (cJSON_IsObject(sp) && vt_ctl_json_u64(sp, "frames", &s->spool_frames) == 0) {
		s->has_spool = 1;
		vt_ctl_json_u64(sp, "readings", &s->spool_readings);
		vt_ctl_json_u64(sp, "bytes", &s->spool_bytes);
		vt_ctl_json_i64(sp, "oldest_age_s", &s->spool_oldest_s);
	}
	s->has_dropped = cJSON_IsObject(dr);
	cJSON_ArrayForEach(c, vt_ctl_json_obj(dr)) {
		double d;

		if (!c->string || vt_ctl_json_num(c, 0, 1.8e19, &d) < 0 || d == 0)
			continue;
		s->dropped_total += (uint64_t)d;
		if (s->n_drops < VT_CTL_MAX_DROPS) {
			struct vt_ctl_drop *e = &s->drops[s->n_drops++];

			vt_ctl_copy_printable(e->name, sizeof(e->name), c->string);
			e->count = (uint64_t)d;
		}
	}
	if (cJSON_IsObject(ack) && vt_ctl_json_u64(ack, "seq", &s->ack_seq) == 0) {
		s->has_ack = 1;
		vt_ctl_json_i64(ack, "age_s", &s->ack_age_s);
	}
}

static void vt_ctl_status_tls(struct vt_ctl_status *s, const cJSON *root)
{
	const cJSON *tls = vt_ctl_json_get(root, "tls");

	s->tls_off = cJSON_IsNull(tls);
	if (!cJSON_IsObject(tls) || vt_ctl_json_i64(tls, "days_left", &s->tls_days_left) < 0)
		return;
	s->has_tls = 1;
	vt_ctl_json_str(tls, "cert_not_after", s->cert_not_after, sizeof(s->cert_not_after));
}

static void vt_ctl_status_clock(struct vt_ctl_status *s, const cJSON *root)
{
	const cJSON *clock = vt_ctl_json_get(root, "clock");
	char state[16] = "";

	s->clock_unsynced_s = -1;
	vt_ctl_json_str(clock, "state", state, sizeof(state));
	if (!state[0])
		return;
	s->has_clock = 1;
	s->clock_unsynced = strcmp(state, "unsynced") == 0;
	vt_ctl_json_i64(clock, "unsynced_for_s", &s->clock_unsynced_s);
	vt_ctl_json_u64(clock, "flagged", &s->clock_flagged);
}

static void vt_ctl_status_plugins(struct vt_ctl_status *s, const cJSON *root)
{
	const cJSON *pl = vt_ctl_json_get(root, "plugins"), *c;

	cJSON_ArrayForEach(c, vt_ctl_json_obj(pl)) {
		struct vt_ctl_plugin_state *p;

		if (!c->string || !cJSON_IsString(c) || s->n_plugins >= VT_CTL_MAX_PLUGINS)
			continue;
		p = &s->plugins[s->n_plugins++];
		vt_ctl_copy_printable(p->name, sizeof(p->name), c->string);
		vt_ctl_copy_printable(p->state, sizeof(p->state), c->valuestring);
	}
}

static void vt_ctl_status_groups(struct vt_ctl_status *s, const cJSON *fleet)
{
	const cJSON *g = vt_ctl_json_get(fleet, "groups"), *c;

	cJSON_ArrayForEach(c, vt_ctl_json_arr(g)) {
		if (!cJSON_IsString(c) || !c->valuestring || !vt_frame_id_valid(c->valuestring) ||
		    s->n_groups >= VT_CTL_MAX_GROUPS)
			continue;
		snprintf(s->groups[s->n_groups++], sizeof(s->groups[0]), "%s", c->valuestring);
	}
}

static void vt_ctl_status_bundles(struct vt_ctl_status *s, const cJSON *fleet)
{
	const cJSON *cfg = vt_ctl_json_get(fleet, "config");
	const cJSON *pl = vt_ctl_json_get(fleet, "plugins"), *c;

	if (cJSON_IsObject(cfg) && vt_ctl_json_u32(cfg, "version", &s->config_version) == 0) {
		s->has_config = 1;
		vt_ctl_json_u64(cfg, "serial", &s->config_serial);
	}
	cJSON_ArrayForEach(c, vt_ctl_json_obj(pl)) {
		struct vt_ctl_plugin_bundle *b;

		if (!c->string || !cJSON_IsObject(c) || s->n_bundles >= VT_CTL_MAX_PLUGINS)
			continue;
		b = &s->bundles[s->n_bundles++];
		vt_ctl_copy_printable(b->name, sizeof(b->name), c->string);
		vt_ctl_json_u32(c, "version", &b->version);
		vt_ctl_json_u64(c, "serial", &b->serial);
	}
}

static void vt_ctl_status_last(struct vt_ctl_status *s, const cJSON *fleet)
{
	const cJSON *last = vt_ctl_json_get(fleet, "last");
	struct vt_ctl_fleet_last *l = &s->last;

	if (!cJSON_IsObject(last))
		return;
	vt_ctl_json_str(last, "outcome", l->outcome, sizeof(l->outcome));
	if (!l->outcome[0])
		return;
	l->present = 1;
	vt_ctl_json_str(last, "kind", l->kind, sizeof(l->kind));
	vt_ctl_json_str(last, "name", l->name, sizeof(l->name));
	vt_ctl_json_u32(last, "version", &l->version);
	vt_ctl_json_u64(last, "serial", &l->serial);
	vt_ctl_json_i64(last, "at_ms", &l->at_ms);
	vt_ctl_json_str(last, "reason", l->reason, sizeof(l->reason));
}

static void vt_ctl_status_fleet(struct vt_ctl_status *s, const cJSON *root)
{
	const cJSON *fleet = vt_ctl_json_get(root, "fleet");
	int64_t keys;

	if (!cJSON_IsObject(fleet))
		return;
	s->has_fleet = 1;
	vt_ctl_status_groups(s, fleet);
	if (vt_ctl_json_i64(fleet, "keys", &keys) == 0 && keys >= 0 && keys < 1000)
		s->keys = (int)keys;
	vt_ctl_status_bundles(s, fleet);
	s->trial = cJSON_IsTrue(vt_ctl_json_get(fleet, "trial"));
	vt_ctl_status_last(s, fleet);
}

static void vt_ctl_status_fill(struct vt_ctl_status *s, const cJSON *root)
{
	vt_ctl_json_str(root, "state", s->state_word, sizeof(s->state_word));
	if (!s->state_word[0]) {
		s->state = VT_CTL_STATE_BAD;
		return;
	}
	s->state = strcmp(s->state_word, "online") == 0 ? VT_CTL_STATE_ONLINE
		   : strcmp(s->state_word, "offline") == 0 ? VT_CTL_STATE_OFFLINE
		   : VT_CTL_STATE_OTHER;
	vt_ctl_json_str(root, "version", s->version, sizeof(s->version));
	vt_ctl_json_i64(root, "time", &s->time_s);
	vt_ctl_json_i64(root, "uptime_s", &s->uptime_s);
	vt_ctl_status_spool(s, root);
	vt_ctl_status_tls(s, root);
	vt_ctl_status_clock(s, root);
	vt_ctl_status_fleet(s, root);
	vt_ctl_status_plugins(s, root);
}

/* ---- the struct -------------------------------------------------------------------- */

void vt_ctl_status_clear(struct vt_ctl_status *s)
{
	char site[sizeof(s->site)], device[sizeof(s->device)];

	memcpy(site, s->site, sizeof(site));
	memcpy(device, s->device, sizeof(device));
	free(s->raw);
	memset(s, 0, sizeof(*s));
	memcpy(s->site, site, sizeof(site));
	memcpy(s->device, device, sizeof(device));
	s->time_s = -1;
	s->uptime_s = -1;
	s->keys = -1;
	s->spool_oldest_s = -1;
	s->ack_age_s = -1;
}

int vt_ctl_status_parse(struct vt_ctl_status *s, const char *payload, size_t len)
{
	cJSON *root;

	vt_ctl_status_clear(s);
	if (len == 0)
		return 0;
	s->raw = malloc(len + 1);
	if (!s->raw)
		return -ENOMEM;
	memcpy(s->raw, payload, len);
	s->raw[len] = '\0';
	s->raw_len = len;
	root = cJSON_ParseWithLength(payload, len);
	if (cJSON_IsObject(root))
		vt_ctl_status_fill(s, root);
	else
		s->state = VT_CTL_STATE_BAD;
	cJSON_Delete(root);
	return 0;
}

int vt_ctl_status_in_group(const struct vt_ctl_status *s, const char *group)
{
	for (int i = 0; i < s->n_groups; i++)
		if (strcmp(s->groups[i], group) == 0)
			return 1;
	return 0;
}

int vt_ctl_status_topic(const char *topic, char site[VT_CTL_ID_MAX + 1],
			char device[VT_CTL_ID_MAX + 1])
{
	static const char prefix[] = "vitrine/v1/";
	const char *p = topic, *slash;
	size_t n;

	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	p += sizeof(prefix) - 1;
	for (int i = 0; i < 2; i++) {
		char *dst = i ? device : site;

		slash = strchr(p, '/');
		if (!slash)
			return -1;
		n = (size_t)(slash - p);
		if (n == 0 || n > VT_CTL_ID_MAX)
			return -1;
		memcpy(dst, p, n);
		dst[n] = '\0';
		if (!vt_frame_id_valid(dst))
			return -1;
		p = slash + 1;
	}
	return strcmp(p, "status") == 0 ? 0 : -1;
}

/* ---- words for people ---------------------------------------------------------------- */

struct vt_ctl_words {
	char *buf;
	size_t cap, n;
};

__attribute__((format(printf, 2, 3)))
static void vt_ctl_words_add(struct vt_ctl_words *w, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (w->n + 1 >= w->cap)
		return;
	if (w->n)
		w->buf[w->n++] = ',';
	va_start(ap, fmt);
	k = vsnprintf(w->buf + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		w->n += (size_t)k < w->cap - w->n ? (size_t)k : w->cap - w->n - 1;
	w->buf[w->n] = '\0';
}

static void vt_ctl_status_fleet_alerts(const struct vt_ctl_status *s, struct vt_ctl_words *w)
{
	const struct vt_ctl_fleet_last *l = &s->last;

	if (s->trial)
		vt_ctl_words_add(w, "trial");
	if (l->present && (strcmp(l->outcome, "refused") == 0 ||
			   strcmp(l->outcome, "rolled_back") == 0))
		vt_ctl_words_add(w, "%s v%" PRIu32, l->outcome, l->version);
}

void vt_ctl_status_alerts(const struct vt_ctl_status *s, char *buf, size_t cap)
{
	struct vt_ctl_words w = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	if (s->state == VT_CTL_STATE_BAD)
		vt_ctl_words_add(&w, "bad-status");
	else if (s->state == VT_CTL_STATE_OFFLINE)
		vt_ctl_words_add(&w, "offline");
	else if (s->state == VT_CTL_STATE_OTHER)
		vt_ctl_words_add(&w, "state:%s", s->state_word);
	vt_ctl_status_fleet_alerts(s, &w);
	if (s->dropped_total)
		vt_ctl_words_add(&w, "dropped");
	for (int i = 0; i < s->n_plugins; i++)
		if (strcmp(s->plugins[i].state, "ok") != 0 &&
		    strcmp(s->plugins[i].state, "finished") != 0)
			vt_ctl_words_add(&w, "plugin:%s", s->plugins[i].name);
	if (s->has_tls && s->tls_days_left < 30)
		vt_ctl_words_add(&w, "cert:%" PRId64 "d", s->tls_days_left);
	if (s->clock_unsynced)
		vt_ctl_words_add(&w, "clock-unsynced");
	if (s->has_fleet && s->keys == 0)
		vt_ctl_words_add(&w, "no-ops-key");
	if (w.n == 0)
		snprintf(buf, cap, "-");
}

void vt_ctl_status_config(const struct vt_ctl_status *s, char *buf, size_t cap)
{
	if (!s->has_fleet)
		snprintf(buf, cap, "-");
	else if (s->has_config)
		snprintf(buf, cap, "v%" PRIu32 "%s", s->config_version, s->trial ? "*" : "");
	else
		snprintf(buf, cap, "local%s", s->trial ? "*" : "");
}
