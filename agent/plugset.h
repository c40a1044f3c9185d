/*
 * plugset.h - the set of collector plugins the agent runs: loaded from the
 * configuration at start, each registered with the privacy stage, stopped
 * and unloaded at the end, and swapped for the plugins of an edited
 * configuration on SIGHUP without stopping the agent.
 *
 * A reload keeps everything that is not a plugin: the broker session, the
 * pipeline with its open batch, the spool, the privacy stage. Every plugin
 * is stopped (fini: what it emits then is delivered as always) and the new
 * configuration's plugins are started. A plugin that runs again finds its
 * privacy source as it left it (the open anonymous window keeps its
 * counts); one that is gone leaves its source idle, its window released as
 * windows close. Anything else that changed needs a restart.
 */
#ifndef VT_PLUGSET_H
#define VT_PLUGSET_H

#include <stdint.h>

#include "config.h"
#include "host.h"
#include "privacy.h"

struct vt_pipeline;

struct vt_plugset {
	struct vitrine_ctx plugins[VT_AGENT_MAX_PLUGINS];
	int n;
	/* The configuration the plugins read their keys from: the agent's
	 * (borrowed) until a reload, then the reloaded one (owned). */
	struct vt_agent_config *cfg;
	struct vt_agent_config *owned;
	struct vt_privacy *privacy;	/* borrowed */
	struct vt_pipeline *pipeline;	/* borrowed */
};

/* An empty set over cfg, privacy and pipeline (all borrowed). */
void vt_plugset_init(struct vt_plugset *ps, struct vt_agent_config *cfg,
		     struct vt_privacy *privacy, struct vt_pipeline *pipeline);

/* Load and start every plugin of ps->cfg; a refused one is logged and
 * skipped. */
void vt_plugset_load(struct vt_plugset *ps, int64_t mono_ms);

/* Call every plugin's fini (what they emit goes into the pipeline). */
void vt_plugset_stop(struct vt_plugset *ps);

/* Unload every plugin and free a reloaded configuration. */
void vt_plugset_close(struct vt_plugset *ps);

/* Register a loaded plugin with the privacy stage in its mode
 * ("<name>.privacy_mode" of cfg, else the agent's). 0 or a negative code
 * with "file:line: ..." or the reason in err. */
int vt_plugset_privacy_source(const struct vt_agent_config *cfg, struct vt_privacy *p,
			      const struct vitrine_plugin *desc,
			      struct vt_privacy_source **src, char *err, size_t errlen);

/* Whether next differs from running only in its plugins: the "plugin"
 * lines, plugin_dir and the "<plugin>.<key>" entries. */
int vt_plugset_only_plugins_differ(const struct vt_agent_config *running,
				   const struct vt_agent_config *next);

/* Stop every plugin, then run those of next (taken: freed by the set).
 * next must have passed --check-config's checks and differ only in its
 * plugins. Returns how many of its plugins only a restart can run (a new
 * build of a plugin that declares other fields), 0 when all is done. */
int vt_plugset_swap(struct vt_plugset *ps, struct vt_agent_config *next, int64_t mono_ms);

#endif /* VT_PLUGSET_H */
