/*
 * fleet.h - the device's side of fleet operations: signed bundles from the
 * broker, applied atomically, kept only if the agent stays healthy.
 *
 * Desired state is published retained (docs/OPERATIONS.md): for the device
 * on vitrine/v1/<site>/<device>/cmd/bundle/..., for each of its groups on
 * vitrine/groups/<group>/bundle/...; a device that was offline converges
 * when it reconnects. A bundle is taken when its signature verifies with
 * one of the ops keys in agent.conf, it is addressed to this device or one
 * of its groups, its serial is above every serial tried in its slot, its
 * version is not below the running one (unless signed as a rollback), and
 * its content passes the same checks as a start (a configuration laid over
 * agent.conf loads, privacy floors included; a plugin is a shared object
 * for this machine). Otherwise it is refused, and the status says why.
 *
 * Taking a bundle writes fleet.state (fleet_state.h) with a trial and asks
 * the agent to restart itself (the spool and the window checkpoint carry
 * every reading over a restart). During the trial (fleet_trial_s) the new
 * agent must load every plugin, keep them out of trouble, reach the broker
 * (once: an outage later in the trial is not the bundle's doing) and see
 * fleet_health_readings readings; it then commits. Otherwise, or
 * if it cannot even start (bad configuration, a plugin that does not load,
 * three starts without finishing the trial: a crash loop), it puts the
 * previous bundle back, restarts, and reports "rolled_back" with the
 * reason.
 */
#ifndef VT_FLEET_H
#define VT_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fleet_state.h"

#define VT_FLEET_MAX_TOPICS (1 + VT_AGENT_MAX_GROUPS)
#define VT_FLEET_TOPIC_MAX 200
#define VT_FLEET_MAX_STARTS 3	/* starts within one trial before a rollback */

struct vt_fleet;

/* Before the agent runs, with cfg config_path as the caller loaded it
 * (vt_agent_config_load; the caller has seen it load, and changed user by
 * it): read fleet.state, count this start against a trial (rolling back
 * after VT_FLEET_MAX_STARTS), and load cfg again with the running
 * configuration bundle laid over config_path and the running plugin
 * bundles in place of their plugin lines. A bundle that does not load
 * during its trial is rolled back here; when none loads, cfg stays
 * config_path alone. *st receives the state (free it with
 * vt_fleet_state_free, or hand it to vt_fleet_new). */
void vt_fleet_boot(const char *config_path, struct vt_agent_config *cfg,
		   struct vt_fleet_state *st);

/* agent.conf (config_path of vt_fleet_new) loaded anew with the bundles
 * that run now, into *cfg (zeroed by the caller; free with
 * vt_agent_config_free()): what a restart would run. 0 or a negative code
 * with "file:line: ..." in err. */
int vt_fleet_config(const struct vt_fleet *f, struct vt_agent_config *cfg, char *err,
		    size_t errlen);

/* --check-config: can every fleet_ops_key be read? Errors on stderr;
 * returns 0 or -VT_ECONFIG. */
int vt_fleet_check_keys(const struct vt_agent_config *cfg);

/* The run-time side; takes st. Loads the ops keys of cfg (borrowed, must
 * outlive the fleet). Returns 0 or a negative code (logged). */
int vt_fleet_new(struct vt_fleet **out, const char *config_path,
		 const struct vt_agent_config *cfg, struct vt_fleet_state *st);
void vt_fleet_free(struct vt_fleet *f);

/* The topics to subscribe to (borrowed strings). */
int vt_fleet_topics(const struct vt_fleet *f, const char *const **topics);

/* A message on one of those topics. */
void vt_fleet_offer(struct vt_fleet *f, const char *topic, const uint8_t *payload, size_t len);

struct vt_fleet_health {
	int plugins_configured;
	int plugins_loaded;
	const char *plugin_failing;	/* name of one degraded plugin, or NULL */
	uint64_t readings;
	int connected;			/* broker session up */
};

/* Each turn. Returns 1 when the agent must restart (a bundle was taken, or
 * a trial failed and was rolled back), 0 otherwise. */
int vt_fleet_tick(struct vt_fleet *f, const struct vt_fleet_health *h, int64_t mono_ms);

/* Milliseconds until the trial ends, or -1. */
int64_t vt_fleet_ms_left(const struct vt_fleet *f, int64_t mono_ms);

/* Set when something the status shows changed since the last call. */
int vt_fleet_changed(struct vt_fleet *f);

/* ,"fleet":{...} for the status document; returns the length written. */
size_t vt_fleet_status_json(const struct vt_fleet *f, char *json, size_t cap);

#endif
