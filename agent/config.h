/*
 * config.h - the agent's configuration: keys, defaults, validation.
 *
 * docs/CONFIG.md lists every key; vt_agent_config_help() prints the same
 * table for --help. Plugin keys ("<plugin>.<key>") are checked later against
 * what each loaded plugin declares.
 */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "keys.h"
#include "tls_pin.h"

#define VT_AGENT_MAX_PLUGINS 16
#define VT_AGENT_MAX_GROUPS 8
#define VT_AGENT_MAX_OPS_KEYS 4

struct vt_agent_config {
	char *site;
	char *device;
	struct vt_hostport broker;
	char *client_id;
	char *state_dir;
	char *user;			/* started as root: become this user */
	char *plugin_dir;
	char *plugins[VT_AGENT_MAX_PLUGINS];
	int plugin_lines[VT_AGENT_MAX_PLUGINS];
	int n_plugins;
	uint8_t aggregator_key[VT_KEY_LEN];
	uint32_t batch_max_readings;
	uint32_t batch_max_bytes;
	uint32_t batch_max_age_ms;
	char *spool_dir;
	uint32_t spool_max_bytes;
	uint32_t spool_max_age_s;
	uint32_t spool_sync_ms;
	uint32_t spool_sync_frames;
	uint32_t ack_timeout_s;
	uint32_t max_inflight;
	uint32_t keepalive_s;
	uint32_t zstd_level;
	char *zstd_dictionary;		/* trained dictionary file, or NULL */
	uint32_t epoch_max_frames;
	uint32_t status_interval_s;
	int clock_require_sync;		/* trust the clock only once NTP synced it */
	int aead;
	int log_level;
	struct vt_tls_pins tls_pins;	/* tls_pin: the broker's keys, n = 0: none */
	char *tls_ca;
	char *tls_cert;
	char *tls_key;
	int privacy_mode;		/* enum vt_privacy_mode, for every plugin */
	uint32_t privacy_window_s;
	uint32_t privacy_k;
	uint32_t privacy_epsilon_milli;
	uint32_t privacy_epsilon_hour_milli;
	uint32_t privacy_key_rotation_s;
	int32_t privacy_rssi_floor_cdbm;
	char *privacy_optout;
	char *groups[VT_AGENT_MAX_GROUPS];	/* fleet groups (docs/OPERATIONS.md) */
	int n_groups;
	char *ops_keys[VT_AGENT_MAX_OPS_KEYS];	/* paths of the ops public keys */
	int n_ops_keys;
	uint32_t fleet_trial_s;
	uint32_t fleet_health_readings;
	struct vt_conf *raw;	/* kept for plugin keys */
};

/* Load and validate path. On error returns VT_ECONFIG (or -errno) with
 * "path:line: ..." in err. Free with vt_agent_config_free(). */
int vt_agent_config_load(const char *path, struct vt_agent_config *cfg, char *err,
			 size_t errlen);
void vt_agent_config_free(struct vt_agent_config *cfg);

/* The same, with a fleet bundle's configuration text (len bytes, named
 * label in messages) laid over path's (vt_conf_overlay): what it sets
 * replaces path's lines of the same key; keys that make the device what it
 * is (identity, state, trust, groups: vt_agent_config_reserved) may only
 * come from path. */
int vt_agent_config_load_overlay(const char *path, const char *text, size_t len,
				 const char *label, struct vt_agent_config *cfg, char *err,
				 size_t errlen);

/* The same as vt_agent_config_load(), from text[len] in memory named path
 * in messages (the fuzz target). */
int vt_agent_config_parse(const char *path, const char *text, size_t len,
			  struct vt_agent_config *cfg, char *err, size_t errlen);

/* NULL-terminated list of the keys a bundle may not set. */
extern const char *const vt_agent_config_reserved[];

/* The key reference printed by --help. */
void vt_agent_config_help(FILE *f);

#endif
