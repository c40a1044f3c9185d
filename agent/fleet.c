/*
 * fleet.c - taking, trying and rolling back fleet bundles (fleet.h).
 *
 * Three parts: start-up (vt_fleet_boot: the running bundles into the
 * configuration, trials that cannot start rolled back), offers (a bundle
 * from the broker checked and installed), and the trial (health watched
 * each turn, then commit or roll back).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fleet.h"
#include "log.h"
#include "vt_os.h"

#define VT_FLEET_DIR "fleet"
#define VT_FLEET_LOG_MS 60000

#define VT_FLEET_PENDING 8

struct vt_fleet_msg {
	uint8_t *buf;
	size_t len;
	uint64_t serial;	/* as the bundle says, unverified: for the order */
};

struct vt_fleet {
	const struct vt_agent_config *cfg;
	const char *config_path;
	struct vt_fleet_state st;
	struct vt_sigkey *keys[VT_AGENT_MAX_OPS_KEYS];
	int n_keys;
	char topic_buf[VT_FLEET_MAX_TOPICS][VT_FLEET_TOPIC_MAX];
	const char *topics[VT_FLEET_MAX_TOPICS];
	int n_topics;
	int64_t trial_end_ms;		/* 0: not started (or no trial) */
	int trial_connected;		/* the broker was reached during the trial */
	int restart;
	int changed;
	struct vt_fleet_msg pending[VT_FLEET_PENDING];	/* offered during a trial */
	int n_pending;
	struct vt_ratelimit refuse_rl;
};

/* ---- state changes ----------------------------------------------------------------- */

static void vt_fleet_result(struct vt_fleet_state *st, int outcome, const struct vt_bundle *b,
			    const char *reason)
{
	struct vt_fleet_result *r = &st->last;

	memset(r, 0, sizeof(*r));
	r->outcome = outcome;
	r->wall_ms = vt_os_now_ms();
	if (b) {
		r->kind = b->kind;
		snprintf(r->name, sizeof(r->name), "%s", b->name);
		r->version = b->version;
		r->serial = b->serial;
	}
	snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "");
}

/* Put the slot under trial back to its previous bundle. */
static void vt_fleet_rollback(struct vt_fleet_state *st, const char *reason)
{
	struct vt_fleet_slot *s = &st->slots[st->trial_slot];
	struct vt_bundle b;
	const char *why;

	if (s->cur && vt_bundle_parse(s->cur, s->cur_len, &b, &why) == 0)
		vt_fleet_result(st, VT_FLEET_ROLLED_BACK, &b, reason);
	else
		vt_fleet_result(st, VT_FLEET_ROLLED_BACK, NULL, reason);
	VT_ERROR("fleet: %s bundle%s%s version %u rolled back: %s", vt_bundle_kind_name(s->kind),
		 s->name[0] ? " " : "", s->name, st->last.version, reason);
	free(s->cur);
	s->cur = s->prev;
	s->cur_len = s->prev_len;
	s->prev = NULL;
	s->prev_len = 0;
	st->trial_slot = -1;
	st->trial_starts = 0;
}

static void vt_fleet_save(const char *dir, const struct vt_fleet_state *st)
{
	int rc = vt_fleet_state_write(dir, st);

	if (rc < 0)
		VT_ERROR("fleet: cannot write %s/%s: %s", dir, VT_FLEET_STATE_FILE,
			 vt_strerror(rc));
}

/* ---- plugins shipped by bundle ----------------------------------------------------- */

/* The file name of a plugin bundle's shared object: <name>-<serial>.so. */
#define VT_FLEET_SO_NAME "%s-%" PRIu64 ".so"

static int vt_fleet_so_path(char *buf, size_t len, const char *state_dir, const char *name,
			    uint64_t serial)
{
	return snprintf(buf, len, "%s/" VT_FLEET_DIR "/" VT_FLEET_SO_NAME, state_dir, name,
			serial) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Write a plugin bundle's shared object where the loader will find it. */
static int vt_fleet_so_write(const char *state_dir, const struct vt_bundle *b, char *path,
			     size_t len)
{
	char dir[4096];
	struct stat sb;
	int rc;

	rc = vt_fleet_so_path(path, len, state_dir, b->name, b->serial);
	if (rc < 0)
		return rc;
	if (stat(path, &sb) == 0 && (size_t)sb.st_size == b->payload_len)
		return 0;
	snprintf(dir, sizeof(dir), "%s/" VT_FLEET_DIR, state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return vt_os_write_file_atomic(path, b->payload, b->payload_len, 0600);
}

static int vt_fleet_so_used(const struct vt_fleet_state *st, const char *file)
{
	for (int i = 0; i < st->n_slots; i++) {
		const struct vt_fleet_slot *s = &st->slots[i];
		const uint8_t *bufs[2] = { s->cur, s->prev };
		size_t lens[2] = { s->cur_len, s->prev_len };

		for (int j = 0; j < 2; j++) {
			struct vt_bundle b;
			const char *why;
			char want[128];

			if (!bufs[j] || vt_bundle_parse(bufs[j], lens[j], &b, &why) < 0)
				continue;
			snprintf(want, sizeof(want), VT_FLEET_SO_NAME, b.name, b.serial);
			if (strcmp(want, file) == 0)
				return 1;
		}
	}
	return 0;
}

/* Remove the shared objects of bundles no slot holds any more. */
static void vt_fleet_so_gc(const char *state_dir, const struct vt_fleet_state *st)
{
	char dir[4096], path[4400];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" VT_FLEET_DIR, state_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || vt_fleet_so_used(st, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

/* Does the plugin line p name plugin `name` ("name", ".../name.so")? */
static int vt_fleet_plugin_line_is(const char *p, const char *name)
{
	const char *base = strrchr(p, '/');
	size_t n = strlen(name);

	base = base ? base + 1 : p;
	return strncmp(base, name, n) == 0 && (base[n] == '\0' || strcmp(base + n, ".so") == 0);
}

/* Point cfg's plugin lines at the running plugin bundles. */
static int vt_fleet_plugins_into(struct vt_agent_config *cfg, const struct vt_fleet_slot *s,
				 char *err, size_t errlen)
{
	struct vt_bundle b;
	const char *why;
	char path[4096];
	int rc;

	if (vt_bundle_parse(s->cur, s->cur_len, &b, &why) < 0) {
		snprintf(err, errlen, "plugin bundle %s: %s", s->name, why);
		return -VT_EFRAME;
	}
	rc = vt_fleet_so_write(cfg->state_dir, &b, path, sizeof(path));
	if (rc < 0) {
		snprintf(err, errlen, "cannot write plugin bundle %s to %.200s: %s", s->name, path,
			 vt_strerror(rc));
		return rc;
	}
	for (int i = 0; i < cfg->n_plugins; i++) {
		char *dup;

		if (!vt_fleet_plugin_line_is(cfg->plugins[i], s->name))
			continue;
		dup = strdup(path);
		if (!dup)
			return -ENOMEM;
		free(cfg->plugins[i]);
		cfg->plugins[i] = dup;
	}
	return 0;
}

/* ---- the configuration ------------------------------------------------------------- */

static void vt_fleet_label(char *buf, size_t len, const struct vt_bundle *b)
{
	snprintf(buf, len, "fleet config bundle v%u (serial %" PRIu64 ")", b->version, b->serial);
}

/* Load config_path with the running bundles of st into cfg (replaced on
 * success only). */
static int vt_fleet_load(const char *config_path, struct vt_agent_config *cfg,
			 const struct vt_fleet_state *st, char *err, size_t errlen)
{
	const struct vt_fleet_slot *cs = NULL;
	struct vt_agent_config next;
	struct vt_bundle b;
	const char *why;
	char label[128];
	int rc;

	for (int i = 0; i < st->n_slots; i++)
		if (st->slots[i].kind == VT_BUNDLE_CONFIG && st->slots[i].cur)
			cs = &st->slots[i];
	if (cs) {
		if (vt_bundle_parse(cs->cur, cs->cur_len, &b, &why) < 0) {
			snprintf(err, errlen, "config bundle: %s", why);
			return -VT_EFRAME;
		}
		vt_fleet_label(label, sizeof(label), &b);
		rc = vt_agent_config_load_overlay(config_path, (const char *)b.payload,
						  b.payload_len, label, &next, err, errlen);
	} else {
		rc = vt_agent_config_load(config_path, &next, err, errlen);
	}
	for (int i = 0; rc == 0 && i < st->n_slots; i++)
		if (st->slots[i].kind == VT_BUNDLE_PLUGIN && st->slots[i].cur)
			rc = vt_fleet_plugins_into(&next, &st->slots[i], err, errlen);
	if (rc < 0) {
		vt_agent_config_free(&next);
		return rc;
	}
	vt_agent_config_free(cfg);
	*cfg = next;
	return 0;
}

int vt_fleet_config(const struct vt_fleet *f, struct vt_agent_config *cfg, char *err,
		    size_t errlen)
{
	return vt_fleet_load(f->config_path, cfg, &f->st, err, errlen);
}

void vt_fleet_boot(const char *config_path, struct vt_agent_config *cfg,
		   struct vt_fleet_state *st)
{
	char why[VT_CONF_ERR_MAX];
	int dirty = 0;

	vt_fleet_state_init(st);
	if (vt_fleet_state_read(cfg->state_dir, st, why, sizeof(why)) < 0) {
		VT_ERROR("fleet: %s; running %s and the installed plugins without any bundle",
			 why, config_path);
		return;
	}
	if (st->trial_slot >= 0 && ++st->trial_starts > VT_FLEET_MAX_STARTS) {
		snprintf(why, sizeof(why),
			 "the agent did not stay up through its health check (%u starts)",
			 st->trial_starts - 1);
		vt_fleet_rollback(st, why);
	}
	dirty = st->trial_slot >= 0 || st->last.outcome == VT_FLEET_ROLLED_BACK;
	while (vt_fleet_load(config_path, cfg, st, why, sizeof(why)) < 0) {
		if (st->trial_slot < 0) {
			VT_ERROR("fleet: the installed bundles no longer load (%s); running %s alone",
				 why, config_path);
			break;
		}
		vt_fleet_rollback(st, why);
		dirty = 1;
	}
	if (dirty)
		vt_fleet_save(cfg->state_dir, st);
	vt_fleet_so_gc(cfg->state_dir, st);
}

/* ---- offers ------------------------------------------------------------------------ */

static int vt_fleet_for_me(const struct vt_fleet *f, const struct vt_bundle *b)
{
	const struct vt_agent_config *cfg = f->cfg;
	size_t sl = strlen(cfg->site);

	if (b->target_type == VT_BUNDLE_DEVICE)
		return strncmp(b->target, cfg->site, sl) == 0 && b->target[sl] == '/' &&
		       strcmp(b->target + sl + 1, cfg->device) == 0;
	for (int i = 0; i < cfg->n_groups; i++)
		if (strcmp(cfg->groups[i], b->target) == 0)
			return 1;
	return 0;
}

/* A shared object for this machine: ELF, same class, byte order and
 * machine as the running agent. */
static const char *vt_fleet_check_so(const struct vt_bundle *b)
{
	uint8_t self[20];
	int fd, ok;

	if (b->payload_len < 64 || memcmp(b->payload, "\177ELF", 4) != 0)
		return "the plugin is not an ELF shared object";
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;	/* cannot tell: the trial will */
	ok = read(fd, self, sizeof(self)) == (ssize_t)sizeof(self);
	close(fd);
	if (ok && (memcmp(self + 4, b->payload + 4, 2) != 0 ||
		   memcmp(self + 18, b->payload + 18, 2) != 0))
		return "the plugin is built for another machine (ELF class, byte order or machine differ)";
	if (b->payload[16] != 3 || b->payload[17] != 0)
		return "the plugin is not a shared object (ELF type)";
	return NULL;
}

/* Checks of the content; writes the reason into why. */
static int vt_fleet_check_content(struct vt_fleet *f, const struct vt_bundle *b, char *why,
				  size_t len)
{
	struct vt_agent_config tmp;
	const char *bad;
	char label[128];
	int rc;

	if (b->kind == VT_BUNDLE_PLUGIN) {
		bad = vt_fleet_check_so(b);
		if (bad)
			snprintf(why, len, "%s", bad);
		return bad ? -EINVAL : 0;
	}
	vt_fleet_label(label, sizeof(label), b);
	rc = vt_agent_config_load_overlay(f->config_path, (const char *)b->payload, b->payload_len,
					  label, &tmp, why, len);
	vt_agent_config_free(&tmp);
	return rc;
}

static void vt_fleet_refuse(struct vt_fleet *f, const struct vt_bundle *b, const char *why,
			    int persist)
{
	if (vt_ratelimit_ok(&f->refuse_rl, vt_os_mono_ms(), VT_FLEET_LOG_MS))
		VT_WARN("fleet: %s bundle%s%s version %u (serial %" PRIu64 ") refused: %s",
			b ? vt_bundle_kind_name(b->kind) : "a", b && b->name[0] ? " " : "",
			b ? b->name : "", b ? b->version : 0, b ? b->serial : 0, why);
	vt_fleet_result(&f->st, VT_FLEET_REFUSED, b, why);
	if (persist)
		vt_fleet_save(f->cfg->state_dir, &f->st);
	f->changed = 1;
}

static uint32_t vt_fleet_cur_version(const struct vt_fleet_slot *s)
{
	struct vt_bundle b;
	const char *why;

	if (!s->cur || vt_bundle_parse(s->cur, s->cur_len, &b, &why) < 0)
		return 0;
	return b.version;
}

/* Install b (verified and checked) in its slot and start a trial. */
static int vt_fleet_install(struct vt_fleet *f, struct vt_fleet_slot *s, const uint8_t *buf,
			    size_t len, const struct vt_bundle *b)
{
	struct vt_fleet_slot was = *s;
	struct vt_fleet_result last = f->st.last;
	char path[4096];
	uint8_t *copy;
	int rc;

	if (b->kind == VT_BUNDLE_PLUGIN) {
		rc = vt_fleet_so_write(f->cfg->state_dir, b, path, sizeof(path));
		if (rc < 0)
			return rc;
	}

	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	vt_fleet_state_note(s, b->serial);
	s->prev = s->cur;
	s->prev_len = s->cur_len;
	s->cur = copy;
	s->cur_len = len;
	f->st.trial_slot = (int)(s - f->st.slots);
	f->st.trial_starts = 0;
	vt_fleet_result(&f->st, VT_FLEET_TRIAL, b, NULL);
	rc = vt_fleet_state_write(f->cfg->state_dir, &f->st);
	if (rc < 0) {
		/* Not on disk, so not taken: what runs stays as it was, and the
		 * bundle will be tried again when it comes again. */
		free(copy);
		*s = was;
		f->st.trial_slot = -1;
		f->st.last = last;
		return rc;
	}
	free(was.prev);
	return 0;
}

/* Verified and addressed to us: the slot's rules, then the content. */
static void vt_fleet_take(struct vt_fleet *f, const uint8_t *buf, size_t len,
			  const struct vt_bundle *b)
{
	struct vt_fleet_slot *s = vt_fleet_state_slot(&f->st, b->kind, b->name, 1);
	char why[VT_CONF_ERR_MAX];
	uint32_t running;
	int rc;

	if (!s) {
		vt_fleet_refuse(f, b, "too many plugin bundles", 0);
		return;
	}
	if (b->serial <= s->high_serial) {
		/* The retained copies of what runs, of what was refused or rolled
		 * back, of a group's bundle a device bundle superseded, come again
		 * at every connection: say nothing about those. */
		if (!vt_fleet_state_seen(s, b->serial)) {
			vt_fleet_state_note(s, b->serial);
			vt_fleet_refuse(f, b, "replayed or superseded: its serial is older than a bundle already tried here", 1);
		}
		return;
	}
	running = vt_fleet_cur_version(s);
	if (b->version < running && !(b->flags & VT_BUNDLE_ROLLBACK)) {
		snprintf(why, sizeof(why),
			 "version %u is older than the running %u (sign it as a rollback to go back on purpose)",
			 b->version, running);
		vt_fleet_state_note(s, b->serial);
		vt_fleet_refuse(f, b, why, 1);
		return;
	}
	if (vt_fleet_check_content(f, b, why, sizeof(why)) < 0) {
		vt_fleet_state_note(s, b->serial);
		vt_fleet_refuse(f, b, why, 1);
		return;
	}
	rc = vt_fleet_install(f, s, buf, len, b);
	if (rc < 0) {
		VT_ERROR("fleet: cannot install the %s bundle version %u: %s", vt_bundle_kind_name(b->kind),
			 b->version, vt_strerror(rc));
		return;
	}
	VT_INFO("fleet: %s bundle%s%s version %u (serial %" PRIu64 ") installed; restarting to try it for %u s",
		vt_bundle_kind_name(b->kind), b->name[0] ? " " : "", b->name, b->version, b->serial,
		f->cfg->fleet_trial_s);
	f->restart = 1;
}

/* One change at a time: keep what comes during a trial for after it (the
 * newest VT_FLEET_PENDING messages). */
static void vt_fleet_hold(struct vt_fleet *f, const uint8_t *payload, size_t len)
{
	struct vt_fleet_msg *m;
	struct vt_bundle b;
	const char *why;

	if (f->n_pending == VT_FLEET_PENDING) {
		free(f->pending[0].buf);
		memmove(f->pending, f->pending + 1, (VT_FLEET_PENDING - 1) * sizeof(*m));
		f->n_pending--;
	}
	m = &f->pending[f->n_pending];
	m->buf = malloc(len);
	if (!m->buf)
		return;
	memcpy(m->buf, payload, len);
	m->len = len;
	m->serial = vt_bundle_parse(payload, len, &b, &why) == 0 ? b.serial : 0;
	f->n_pending++;
}

static int vt_fleet_msg_newer_first(const void *a, const void *b)
{
	const struct vt_fleet_msg *x = a, *y = b;

	return x->serial < y->serial ? 1 : x->serial > y->serial ? -1 : 0;
}

/* After a trial that kept its bundle: what came meanwhile, newest first,
 * until one is taken (then the restart brings the retained ones again). */
static void vt_fleet_release(struct vt_fleet *f)
{
	int n = f->n_pending;

	f->n_pending = 0;
	qsort(f->pending, (size_t)n, sizeof(f->pending[0]), vt_fleet_msg_newer_first);
	for (int i = 0; i < n; i++) {
		if (!f->restart)
			vt_fleet_offer(f, "(held during the trial)", f->pending[i].buf,
				       f->pending[i].len);
		free(f->pending[i].buf);
	}
}

void vt_fleet_offer(struct vt_fleet *f, const char *topic, const uint8_t *payload, size_t len)
{
	struct vt_bundle b;
	const char *why;
	int rc;

	if (len == 0)
		return;		/* a retained bundle cleared by ops */
	if (f->restart)
		return;		/* retained bundles come again after the restart */
	if (f->st.trial_slot >= 0) {
		vt_fleet_hold(f, payload, len);
		return;
	}
	if (vt_bundle_parse(payload, len, &b, &why) < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "malformed bundle on %s: %s", topic, why);
		vt_fleet_refuse(f, NULL, msg, 0);
		return;
	}
	if (f->n_keys == 0) {
		vt_fleet_refuse(f, &b, "no fleet_ops_key is configured: fleet updates are off", 0);
		return;
	}
	rc = vt_bundle_verify(&b, f->keys, f->n_keys);
	if (rc < 0) {
		vt_fleet_refuse(f, &b, rc == -ENOKEY ? "signed by a key that is not a fleet_ops_key"
						     : "the signature does not verify (altered or forged)",
				0);
		return;
	}
	if (!vt_fleet_for_me(f, &b)) {
		vt_fleet_refuse(f, &b, "addressed to another device or group", 0);
		return;
	}
	vt_fleet_take(f, payload, len, &b);
}

/* ---- trial ------------------------------------------------------------------------- */

/* NULL while healthy; the reason once not. final: the trial time is up. */
static const char *vt_fleet_unhealthy(const struct vt_fleet *f, const struct vt_fleet_health *h,
				      int final, char *buf, size_t len)
{
	if (h->plugins_loaded < h->plugins_configured) {
		snprintf(buf, len, "%d of %d plugins did not start", h->plugins_configured -
			 h->plugins_loaded, h->plugins_configured);
		return buf;
	}
	if (!final)
		return NULL;
	if (h->plugin_failing) {
		snprintf(buf, len, "plugin %s is failing", h->plugin_failing);
		return buf;
	}
	if (!f->trial_connected)
		return "the broker could not be reached";
	if (h->readings < f->cfg->fleet_health_readings) {
		snprintf(buf, len, "%" PRIu64 " readings in %u s, %u needed", h->readings,
			 f->cfg->fleet_trial_s, f->cfg->fleet_health_readings);
		return buf;
	}
	return NULL;
}

int vt_fleet_tick(struct vt_fleet *f, const struct vt_fleet_health *h, int64_t mono_ms)
{
	char buf[160];
	const char *bad;
	int final;

	if (f->restart)
		return 1;
	if (f->st.trial_slot < 0) {
		if (f->n_pending)
			vt_fleet_release(f);
		return f->restart;
	}
	if (!f->trial_end_ms)
		f->trial_end_ms = mono_ms + (int64_t)f->cfg->fleet_trial_s * 1000;
	f->trial_connected |= h->connected;
	final = mono_ms >= f->trial_end_ms;
	bad = vt_fleet_unhealthy(f, h, final, buf, sizeof(buf));
	if (bad) {
		vt_fleet_rollback(&f->st, bad);
		vt_fleet_save(f->cfg->state_dir, &f->st);
		f->restart = 1;
		return 1;
	}
	if (final) {
		struct vt_fleet_slot *s = &f->st.slots[f->st.trial_slot];
		struct vt_bundle b;
		const char *why;

		if (vt_bundle_parse(s->cur, s->cur_len, &b, &why) == 0)
			vt_fleet_result(&f->st, VT_FLEET_APPLIED, &b, NULL);
		f->st.last.outcome = VT_FLEET_APPLIED;
		f->st.trial_slot = -1;
		f->st.trial_starts = 0;
		vt_fleet_save(f->cfg->state_dir, &f->st);
		VT_INFO("fleet: %s bundle%s%s version %u passed its health check", vt_bundle_kind_name(s->kind),
			s->name[0] ? " " : "", s->name, f->st.last.version);
		f->trial_end_ms = 0;
		f->changed = 1;
	}
	return 0;
}

int64_t vt_fleet_ms_left(const struct vt_fleet *f, int64_t mono_ms)
{
	if (f->st.trial_slot < 0 || !f->trial_end_ms)
		return f->n_pending ? 0 : -1;
	return f->trial_end_ms > mono_ms ? f->trial_end_ms - mono_ms : 0;
}

int vt_fleet_changed(struct vt_fleet *f)
{
	int c = f->changed;

	f->changed = 0;
	return c;
}

/* ---- set-up and status ------------------------------------------------------------- */

int vt_fleet_check_keys(const struct vt_agent_config *cfg)
{
	char err[VT_CONF_ERR_MAX];
	int bad = 0;

	for (int i = 0; i < cfg->n_ops_keys; i++) {
		struct vt_sigkey *k;

		if (vt_sigkey_load(cfg->ops_keys[i], 0, &k, err, sizeof(err)) < 0) {
			fprintf(stderr, "vitrine-agent: fleet_ops_key %s\n", err);
			bad++;
			continue;
		}
		vt_sigkey_free(k);
	}
	return bad ? -VT_ECONFIG : 0;
}

int vt_fleet_new(struct vt_fleet **out, const char *config_path,
		 const struct vt_agent_config *cfg, struct vt_fleet_state *st)
{
	struct vt_fleet *f = calloc(1, sizeof(*f));
	char err[VT_CONF_ERR_MAX];
	int rc;

	if (!f) {
		vt_fleet_state_free(st);
		return -ENOMEM;
	}
	f->cfg = cfg;
	f->config_path = config_path;
	f->st = *st;
	vt_fleet_state_init(st);
	for (int i = 0; i < cfg->n_ops_keys; i++) {
		rc = vt_sigkey_load(cfg->ops_keys[i], 0, &f->keys[f->n_keys], err, sizeof(err));
		if (rc < 0) {
			VT_ERROR("fleet_ops_key %s", err);
			vt_fleet_free(f);
			return -VT_ECONFIG;
		}
		f->n_keys++;
	}
	snprintf(f->topic_buf[0], VT_FLEET_TOPIC_MAX, "vitrine/v1/%s/%s/cmd/bundle/#", cfg->site,
		 cfg->device);
	for (int i = 0; i < cfg->n_groups; i++)
		snprintf(f->topic_buf[i + 1], VT_FLEET_TOPIC_MAX, "vitrine/groups/%s/bundle/#",
			 cfg->groups[i]);
	f->n_topics = 1 + cfg->n_groups;
	for (int i = 0; i < f->n_topics; i++)
		f->topics[i] = f->topic_buf[i];
	if (f->st.trial_slot >= 0)
		VT_INFO("fleet: trying the new %s bundle for %u s", vt_bundle_kind_name(
			f->st.slots[f->st.trial_slot].kind), cfg->fleet_trial_s);
	*out = f;
	return 0;
}

void vt_fleet_free(struct vt_fleet *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->n_keys; i++)
		vt_sigkey_free(f->keys[i]);
	vt_fleet_state_free(&f->st);
	for (int i = 0; i < f->n_pending; i++)
		free(f->pending[i].buf);
	free(f);
}

int vt_fleet_topics(const struct vt_fleet *f, const char *const **topics)
{
	*topics = f->topics;
	return f->n_topics;
}

/* s as a JSON string (quotes included) into out. */
static size_t vt_fleet_json_str(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	if (cap < 3)
		return 0;
	out[n++] = '"';
	for (; *s && n + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

struct vt_fleet_out {
	char *p;
	size_t n, cap;
};

static void vt_fleet_put(struct vt_fleet_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vt_fleet_put(struct vt_fleet_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n = o->n + (size_t)k < o->cap ? o->n + (size_t)k : o->cap - 1;
}

static void vt_fleet_put_str(struct vt_fleet_out *o, const char *s)
{
	o->n += vt_fleet_json_str(o->p + o->n, o->cap - o->n, s);
}

static void vt_fleet_status_slots(const struct vt_fleet *f, struct vt_fleet_out *o)
{
	int plugins = 0;

	vt_fleet_put(o, ",\"config\":");
	for (int i = 0; i < f->st.n_slots; i++) {
		const struct vt_fleet_slot *s = &f->st.slots[i];
		struct vt_bundle b;
		const char *why;

		if (s->kind != VT_BUNDLE_CONFIG)
			continue;
		if (s->cur && vt_bundle_parse(s->cur, s->cur_len, &b, &why) == 0) {
			vt_fleet_put(o, "{\"version\":%u,\"serial\":%" PRIu64 "}", b.version, b.serial);
			goto plugins;
		}
	}
	vt_fleet_put(o, "null");
plugins:
	vt_fleet_put(o, ",\"plugins\":{");
	for (int i = 0; i < f->st.n_slots; i++) {
		const struct vt_fleet_slot *s = &f->st.slots[i];
		struct vt_bundle b;
		const char *why;

		if (s->kind != VT_BUNDLE_PLUGIN || !s->cur ||
		    vt_bundle_parse(s->cur, s->cur_len, &b, &why) < 0)
			continue;
		vt_fleet_put(o, "%s\"%s\":{\"version\":%u,\"serial\":%" PRIu64 "}", plugins++ ? "," : "",
			     b.name, b.version, b.serial);
	}
	vt_fleet_put(o, "}");
}

size_t vt_fleet_status_json(const struct vt_fleet *f, char *json, size_t cap)
{
	struct vt_fleet_out o = { json, 0, cap };
	const struct vt_fleet_result *r = &f->st.last;

	if (cap)
		json[0] = '\0';
	vt_fleet_put(&o, ",\"fleet\":{\"groups\":[");
	for (int i = 0; i < f->cfg->n_groups; i++) {
		vt_fleet_put(&o, i ? "," : "");
		vt_fleet_put_str(&o, f->cfg->groups[i]);
	}
	vt_fleet_put(&o, "],\"keys\":%d", f->n_keys);
	vt_fleet_status_slots(f, &o);
	vt_fleet_put(&o, ",\"trial\":%s,\"last\":", f->st.trial_slot >= 0 ? "true" : "false");
	if (!r->outcome) {
		vt_fleet_put(&o, "null}");
		return o.n;
	}
	vt_fleet_put(&o, "{\"outcome\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"version\":%u,"
		     "\"serial\":%" PRIu64 ",\"at_ms\":%" PRId64 ",\"reason\":",
		     vt_fleet_outcome_name(r->outcome), vt_bundle_kind_name(r->kind), r->name,
		     r->version, r->serial, r->wall_ms);
	vt_fleet_put_str(&o, r->reason);
	vt_fleet_put(&o, "}}");
	return o.n;
}
