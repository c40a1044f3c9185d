/*
 * plugset.c - the collector plugins the agent runs, and their swap on a
 * reload (plugset.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "loader.h"
#include "log.h"
#include "plugset.h"

void vt_plugset_init(struct vt_plugset *ps, struct vt_agent_config *cfg,
		     struct vt_privacy *privacy, struct vt_pipeline *pipeline)
{
	memset(ps, 0, sizeof(*ps));
	ps->cfg = cfg;
	ps->privacy = privacy;
	ps->pipeline = pipeline;
}

/* A plugin's privacy mode: "<name>.privacy_mode", else the agent's. */
static int vt_plugset_mode(const struct vt_agent_config *cfg, const char *plugin, int *mode,
			   char *err, size_t errlen)
{
	struct vt_conf_entry *e;
	char key[64];

	*mode = cfg->privacy_mode;
	snprintf(key, sizeof(key), "%.40s.privacy_mode", plugin);
	e = vt_conf_find(cfg->raw, key);
	if (!e)
		return 0;
	e->used = 1;
	*mode = vt_privacy_mode_parse(e->value);
	if (*mode)
		return 0;
	snprintf(err, errlen, "%s:%d: invalid value for '%s' (expected anonymous or pseudonymous)",
		 e->path, e->line, key);
	return -VT_ECONFIG;
}

int vt_plugset_privacy_source(const struct vt_agent_config *cfg, struct vt_privacy *p,
			      const struct vitrine_plugin *desc,
			      struct vt_privacy_source **src, char *err, size_t errlen)
{
	int mode, rc;

	rc = vt_plugset_mode(cfg, desc->name, &mode, err, errlen);
	if (rc == 0)
		rc = vt_privacy_source_add(p, desc->name, mode, desc->fields, src, err, errlen);
	return rc;
}

static int vt_plugset_has(const struct vt_plugset *ps, const char *name)
{
	for (int i = 0; i < ps->n; i++)
		if (strcmp(ps->plugins[i].lp.desc.name, name) == 0)
			return 1;
	return 0;
}

/* Load plugin number i of ps->cfg into the next free context and start
 * it. Returns 0, or a negative code when it was refused (logged); -EBUSY
 * when only a restart can run it (its privacy mode or fields changed). */
static int vt_plugset_load_one(struct vt_plugset *ps, int i, int64_t mono_ms)
{
	struct vitrine_ctx *ctx = &ps->plugins[ps->n];
	char err[VT_CONF_ERR_MAX];
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	rc = vt_loader_open(ps->cfg->plugin_dir, ps->cfg->plugins[i], &ctx->lp, err, sizeof(err));
	if (rc < 0) {
		VT_ERROR("%s; running without it", err);
		return rc;
	}
	if (vt_plugset_has(ps, ctx->lp.desc.name)) {
		VT_ERROR("%s: a plugin named %s is already loaded; running without this one",
			 ctx->lp.path, ctx->lp.desc.name);
		vt_loader_close(&ctx->lp);
		return -VT_ECONFIG;
	}
	ctx->conf = ps->cfg->raw;
	ctx->pipeline = ps->pipeline;
	snprintf(ctx->prefix, sizeof(ctx->prefix), "%.30s.", ctx->lp.desc.name);
	for (int f = 0; f < VT_HOST_MAX_FDS; f++)
		ctx->fds[f].fd = -1;
	rc = vt_host_check_keys(ctx, err, sizeof(err));
	if (rc == 0)
		rc = vt_plugset_privacy_source(ps->cfg, ps->privacy, &ctx->lp.desc, &ctx->privacy,
					       err, sizeof(err));
	if (rc < 0) {
		VT_ERROR("%s; plugin %s not started", err, ctx->lp.desc.name);
		vt_loader_close(&ctx->lp);
		return rc;
	}
	ps->n++;
	vt_host_start(ctx, mono_ms);
	return 0;
}

void vt_plugset_load(struct vt_plugset *ps, int64_t mono_ms)
{
	for (int i = 0; i < ps->cfg->n_plugins; i++)
		vt_plugset_load_one(ps, i, mono_ms);
	VT_INFO("%d of %d configured plugins loaded", ps->n, ps->cfg->n_plugins);
}

void vt_plugset_stop(struct vt_plugset *ps)
{
	for (int i = 0; i < ps->n; i++)
		vt_host_stop(&ps->plugins[i]);
}

static void vt_plugset_unload(struct vt_plugset *ps)
{
	for (int i = 0; i < ps->n; i++)
		vt_loader_close(&ps->plugins[i].lp);
	ps->n = 0;
}

void vt_plugset_close(struct vt_plugset *ps)
{
	vt_plugset_unload(ps);
	if (ps->owned) {
		vt_agent_config_free(ps->owned);
		free(ps->owned);
		ps->owned = NULL;
	}
}

/* An entry that is the agent's, not a plugin's: a key without a dot other
 * than "plugin" and "plugin_dir", and every "<plugin>.privacy_mode" (the
 * privacy stage takes a mode once). */
static int vt_plugset_core_key(const char *key)
{
	const char *dot = strchr(key, '.');

	if (dot)
		return strcmp(dot, ".privacy_mode") == 0;
	return strcmp(key, "plugin") != 0 && strcmp(key, "plugin_dir") != 0;
}

/* The index of the next core entry of c from i, or c->n. */
static size_t vt_plugset_next_core(const struct vt_conf *c, size_t i)
{
	while (i < c->n && !vt_plugset_core_key(c->entries[i].key))
		i++;
	return i;
}

int vt_plugset_only_plugins_differ(const struct vt_agent_config *running,
				   const struct vt_agent_config *next)
{
	const struct vt_conf *a = running->raw, *b = next->raw;
	size_t i = vt_plugset_next_core(a, 0), j = vt_plugset_next_core(b, 0);

	while (i < a->n && j < b->n) {
		if (strcmp(a->entries[i].key, b->entries[j].key) != 0 ||
		    strcmp(a->entries[i].value, b->entries[j].value) != 0)
			return 0;
		i = vt_plugset_next_core(a, i + 1);
		j = vt_plugset_next_core(b, j + 1);
	}
	return i == a->n && j == b->n;
}

int vt_plugset_swap(struct vt_plugset *ps, struct vt_agent_config *next, int64_t mono_ms)
{
	int was = ps->n, refused = 0;

	vt_plugset_stop(ps);
	vt_plugset_unload(ps);
	if (ps->owned) {
		vt_agent_config_free(ps->owned);
		free(ps->owned);
	}
	ps->cfg = ps->owned = next;
	for (int i = 0; i < next->n_plugins; i++)
		refused += vt_plugset_load_one(ps, i, mono_ms) == -EBUSY;
	VT_INFO("reloaded: %d plugins stopped, %d of %d configured started", was, ps->n,
		next->n_plugins);
	return refused;
}
