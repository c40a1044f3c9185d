/*
 * config.c - the agent's configuration keys and their defaults.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "frame.h"
#include "log.h"
#include "privacy.h"

#ifndef VT_PLUGIN_DIR
#define VT_PLUGIN_DIR "/usr/local/lib/vitrine/plugins"
#endif

#define OFF(f) offsetof(struct vt_agent_config, f)

static int vt_config_plugin(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	if (cfg->n_plugins >= VT_AGENT_MAX_PLUGINS) {
		snprintf(err, errlen, "at most %d plugin lines", VT_AGENT_MAX_PLUGINS);
		return -EINVAL;
	}
	if (strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(value) &&
	    !strchr(value, '/')) {
		snprintf(err, errlen, "a plugin name ([a-z0-9_]+) or a path to a .so");
		return -EINVAL;
	}
	cfg->plugins[cfg->n_plugins] = strdup(value);
	if (!cfg->plugins[cfg->n_plugins])
		return -ENOMEM;
	cfg->n_plugins++;
	return 0;
}

/* A repeated string key into a bounded array. */
static int vt_config_push(char **arr, int *n, int max, const char *value, char *err,
			  size_t errlen, const char *what)
{
	if (*n >= max) {
		snprintf(err, errlen, "at most %d %s lines", max, what);
		return -EINVAL;
	}
	arr[*n] = strdup(value);
	if (!arr[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int vt_config_group(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	if (!vt_frame_id_valid(value)) {
		snprintf(err, errlen, "a group name: 1 to 64 of A-Z a-z 0-9 . _ -");
		return -EINVAL;
	}
	for (int i = 0; i < cfg->n_groups; i++) {
		if (strcmp(cfg->groups[i], value) == 0) {
			snprintf(err, errlen, "a group not already named");
			return -EINVAL;
		}
	}
	return vt_config_push(cfg->groups, &cfg->n_groups, VT_AGENT_MAX_GROUPS, value, err,
			      errlen, "group");
}

static int vt_config_ops_key(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	return vt_config_push(cfg->ops_keys, &cfg->n_ops_keys, VT_AGENT_MAX_OPS_KEYS, value, err,
			      errlen, "fleet_ops_key");
}

static int vt_config_aead(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	if (strcmp(value, "chacha20-poly1305") == 0)
		cfg->aead = VT_FRAME_AEAD_CHACHAPOLY;
	else if (strcmp(value, "aes-256-gcm") == 0)
		cfg->aead = VT_FRAME_AEAD_AESGCM;
	else {
		snprintf(err, errlen, "chacha20-poly1305 or aes-256-gcm");
		return -EINVAL;
	}
	return 0;
}

static int vt_config_tls_pin(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	return vt_tls_pins_parse(value, &cfg->tls_pins, err, errlen);
}

/* Strict decimal integer in [min, max]; 0 or -EINVAL. */
static int vt_config_int(const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* R15: the key lifetime is bounded by a floor compiled in; a value past it
 * is refused, never clamped, so that nobody believes it took effect. */
static int vt_config_rotation(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;
	long v;

	if (vt_config_int(value, VT_PRIVACY_ROTATION_MIN_S, VT_PRIVACY_ROTATION_MAX_S, &v) < 0) {
		snprintf(err, errlen,
			 "seconds from %d to %d: pseudonym keys live at most 24 hours, a floor compiled into the agent (docs/PRIVACY.md R4, R15)",
			 VT_PRIVACY_ROTATION_MIN_S, VT_PRIVACY_ROTATION_MAX_S);
		return -EINVAL;
	}
	cfg->privacy_key_rotation_s = (uint32_t)v;
	return 0;
}

static int vt_config_rssi_floor(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;
	long v;

	if (vt_config_int(value, -15000, 0, &v) < 0) {
		snprintf(err, errlen, "centi-dBm from -15000 to 0, e.g. -7000 for -70 dBm");
		return -EINVAL;
	}
	cfg->privacy_rssi_floor_cdbm = (int32_t)v;
	return 0;
}

static int vt_config_mode(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;

	cfg->privacy_mode = vt_privacy_mode_parse(value);
	if (!cfg->privacy_mode) {
		snprintf(err, errlen, "anonymous (counts per window) or pseudonymous (events with rotating digests)");
		return -EINVAL;
	}
	return 0;
}

/* R8, R15: windows of at least 15 minutes, made of 5-minute key slots. */
static int vt_config_window(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;
	long v;

	if (vt_config_int(value, VT_PRIVACY_WINDOW_MIN_S, VT_PRIVACY_WINDOW_MAX_S, &v) < 0 ||
	    v % VT_PRIVACY_ANON_ROTATION_S) {
		snprintf(err, errlen,
			 "seconds from %d to %d, a multiple of %d: windows are at least 15 minutes, a floor compiled into the agent (docs/PRIVACY.md R8, R15)",
			 VT_PRIVACY_WINDOW_MIN_S, VT_PRIVACY_WINDOW_MAX_S, VT_PRIVACY_ANON_ROTATION_S);
		return -EINVAL;
	}
	cfg->privacy_window_s = (uint32_t)v;
	return 0;
}

/* R6, R15: no count below k = 5 ever leaves. */
static int vt_config_k(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agent_config *cfg = target;
	long v;

	if (vt_config_int(value, VT_PRIVACY_K_MIN, 1000000, &v) < 0) {
		snprintf(err, errlen,
			 "an integer of at least %d: counts below k are never sent, a floor compiled into the agent (docs/PRIVACY.md R6, R15)",
			 VT_PRIVACY_K_MIN);
		return -EINVAL;
	}
	cfg->privacy_k = (uint32_t)v;
	return 0;
}

static const struct vt_conf_key vt_agent_keys[] = {
	{ "site", VT_CONF_ID, OFF(site), 0, 0, VT_CONF_REQUIRED, NULL },
	{ "device", VT_CONF_ID, OFF(device), 0, 0, VT_CONF_REQUIRED, NULL },
	{ "broker", VT_CONF_HOSTPORT, OFF(broker), 0, 0, 0, NULL },
	{ "client_id", VT_CONF_STR, OFF(client_id), 0, 0, 0, NULL },
	{ "aggregator_key", VT_CONF_KEY, OFF(aggregator_key), 0, 0, VT_CONF_REQUIRED, NULL },
	{ "state_dir", VT_CONF_STR, OFF(state_dir), 0, 0, 0, NULL },
	{ "user", VT_CONF_STR, OFF(user), 0, 0, 0, NULL },
	{ "plugin_dir", VT_CONF_STR, OFF(plugin_dir), 0, 0, 0, NULL },
	{ "plugin", VT_CONF_CUSTOM, 0, 0, 0, VT_CONF_MULTI, vt_config_plugin },
	{ "batch_max_readings", VT_CONF_U32, OFF(batch_max_readings), 1, 100000, 0, NULL },
	{ "batch_max_bytes", VT_CONF_U32, OFF(batch_max_bytes), 256, 4194304, 0, NULL },
	{ "batch_max_age_ms", VT_CONF_U32, OFF(batch_max_age_ms), 1, 3600000, 0, NULL },
	{ "spool_dir", VT_CONF_STR, OFF(spool_dir), 0, 0, 0, NULL },
	{ "spool_max_bytes", VT_CONF_U32, OFF(spool_max_bytes), 65536, 4294967295u, 0, NULL },
	{ "spool_max_age_s", VT_CONF_U32, OFF(spool_max_age_s), 0, 315360000, 0, NULL },
	{ "spool_sync_ms", VT_CONF_U32, OFF(spool_sync_ms), 0, 60000, 0, NULL },
	{ "spool_sync_frames", VT_CONF_U32, OFF(spool_sync_frames), 1, 1000000, 0, NULL },
	{ "ack_timeout_s", VT_CONF_U32, OFF(ack_timeout_s), 1, 3600, 0, NULL },
	{ "max_inflight", VT_CONF_U32, OFF(max_inflight), 1, 65535, 0, NULL },
	{ "keepalive_s", VT_CONF_U32, OFF(keepalive_s), 5, 65535, 0, NULL },
	{ "zstd_level", VT_CONF_U32, OFF(zstd_level), 1, 19, 0, NULL },
	{ "zstd_dictionary", VT_CONF_STR, OFF(zstd_dictionary), 0, 0, 0, NULL },
	{ "aead", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_aead },
	{ "epoch_max_frames", VT_CONF_U32, OFF(epoch_max_frames), 1, 4294967295u, 0, NULL },
	{ "status_interval_s", VT_CONF_U32, OFF(status_interval_s), 1, 86400, 0, NULL },
	{ "clock_require_sync", VT_CONF_BOOL, OFF(clock_require_sync), 0, 0, 0, NULL },
	{ "log_level", VT_CONF_LEVEL, OFF(log_level), 0, 0, 0, NULL },
	{ "tls_ca", VT_CONF_STR, OFF(tls_ca), 0, 0, 0, NULL },
	{ "tls_cert", VT_CONF_STR, OFF(tls_cert), 0, 0, 0, NULL },
	{ "tls_key", VT_CONF_STR, OFF(tls_key), 0, 0, 0, NULL },
	{ "tls_pin", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_tls_pin },
	{ "privacy_mode", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_mode },
	{ "privacy_window_s", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_window },
	{ "privacy_k", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_k },
	{ "privacy_epsilon_milli", VT_CONF_U32, OFF(privacy_epsilon_milli), 0, 20000, 0, NULL },
	{ "privacy_epsilon_hour_milli", VT_CONF_U32, OFF(privacy_epsilon_hour_milli), 1, 1000000, 0,
	  NULL },
	{ "privacy_key_rotation_s", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_rotation },
	{ "privacy_rssi_floor_cdbm", VT_CONF_CUSTOM, 0, 0, 0, 0, vt_config_rssi_floor },
	{ "privacy_optout", VT_CONF_STR, OFF(privacy_optout), 0, 0, 0, NULL },
	{ "group", VT_CONF_CUSTOM, 0, 0, 0, VT_CONF_MULTI, vt_config_group },
	{ "fleet_ops_key", VT_CONF_CUSTOM, 0, 0, 0, VT_CONF_MULTI, vt_config_ops_key },
	{ "fleet_trial_s", VT_CONF_U32, OFF(fleet_trial_s), 5, 86400, 0, NULL },
	{ "fleet_health_readings", VT_CONF_U32, OFF(fleet_health_readings), 0, 1000000000, 0,
	  NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

const char *const vt_agent_config_reserved[] = {
	"site", "device", "client_id", "state_dir", "user", "spool_dir", "tls_ca", "tls_cert",
	"tls_key", "tls_pin", "group", "fleet_ops_key", NULL,
};

static int vt_config_defaults(struct vt_agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vt_conf_parse_hostport("127.0.0.1:1883", 1883, &cfg->broker);
	cfg->state_dir = strdup("/var/lib/vitrine");
	cfg->plugin_dir = strdup(VT_PLUGIN_DIR);
	cfg->batch_max_readings = 500;
	cfg->batch_max_bytes = 65536;
	cfg->batch_max_age_ms = 2000;
	cfg->spool_max_bytes = 64 * 1024 * 1024;
	cfg->spool_max_age_s = 7 * 86400;
	cfg->spool_sync_ms = 1000;
	cfg->spool_sync_frames = 64;
	cfg->ack_timeout_s = 30;
	cfg->max_inflight = 20;
	cfg->keepalive_s = 30;
	cfg->zstd_level = 3;
	cfg->epoch_max_frames = 100000;
	cfg->status_interval_s = 60;
	cfg->aead = VT_FRAME_AEAD_CHACHAPOLY;
	cfg->log_level = VT_LOG_INFO;
	cfg->privacy_mode = VT_PRIVACY_ANONYMOUS;
	cfg->privacy_window_s = VT_PRIVACY_WINDOW_MIN_S;
	cfg->privacy_k = VT_PRIVACY_K_DEFAULT;
	cfg->privacy_key_rotation_s = VT_PRIVACY_ROTATION_MAX_S;
	cfg->privacy_rssi_floor_cdbm = VT_PRIVACY_RSSI_FLOOR_DEFAULT;
	cfg->fleet_trial_s = 60;
	cfg->fleet_health_readings = 1;
	return cfg->state_dir && cfg->plugin_dir ? 0 : -ENOMEM;
}

/* Cross-key checks that no single key can do. */
static int vt_config_check(struct vt_agent_config *cfg, char *err, size_t errlen)
{
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		snprintf(err, errlen, "%s: tls_cert and tls_key go together (expected both or neither)",
			 cfg->raw->path);
		return -VT_ECONFIG;
	}
	if (cfg->tls_pins.n && !cfg->tls_ca) {
		snprintf(err, errlen, "%s: tls_pin needs tls_ca (a pin checks the broker's key on a TLS connection)",
			 cfg->raw->path);
		return -VT_ECONFIG;
	}
	if (cfg->tls_cert && !cfg->tls_ca) {
		snprintf(err, errlen, "%s: tls_cert needs tls_ca (expected the CA of the broker)",
			 cfg->raw->path);
		return -VT_ECONFIG;
	}
	if (strlen(cfg->site) + strlen(cfg->device) > 120) {
		snprintf(err, errlen, "%s: site and device together longer than 120 characters",
			 cfg->raw->path);
		return -VT_ECONFIG;
	}
	if (cfg->privacy_epsilon_milli) {
		if (!cfg->privacy_epsilon_hour_milli) {
			snprintf(err, errlen,
				 "%s: privacy_epsilon_milli needs privacy_epsilon_hour_milli, the budget per hour (expected both)",
				 cfg->raw->path);
			return -VT_ECONFIG;
		}
		if (cfg->privacy_epsilon_hour_milli < cfg->privacy_epsilon_milli) {
			snprintf(err, errlen,
				 "%s: privacy_epsilon_hour_milli (%u) below privacy_epsilon_milli (%u): no count could ever be released",
				 cfg->raw->path, cfg->privacy_epsilon_hour_milli,
				 cfg->privacy_epsilon_milli);
			return -VT_ECONFIG;
		}
	}
	if (!cfg->spool_dir) {
		char dir[4096];

		if (snprintf(dir, sizeof(dir), "%s/spool", cfg->state_dir) >= (int)sizeof(dir)) {
			snprintf(err, errlen, "%s: state_dir too long", cfg->raw->path);
			return -VT_ECONFIG;
		}
		cfg->spool_dir = strdup(dir);
		if (!cfg->spool_dir)
			return -ENOMEM;
	}
	if (!cfg->client_id) {
		char id[256];

		snprintf(id, sizeof(id), "vitrine-%s-%s", cfg->site, cfg->device);
		cfg->client_id = strdup(id);
		if (!cfg->client_id)
			return -ENOMEM;
	}
	return 0;
}

/* cfg->raw parsed: its values into cfg, then the checks across keys. */
static int vt_config_finish(struct vt_agent_config *cfg, char *err, size_t errlen)
{
	int rc = vt_conf_apply(cfg->raw, vt_agent_keys, cfg, err, errlen);

	return rc < 0 ? rc : vt_config_check(cfg, err, errlen);
}

int vt_agent_config_load_overlay(const char *path, const char *text, size_t len,
				 const char *label, struct vt_agent_config *cfg, char *err,
				 size_t errlen)
{
	struct vt_conf *top;
	int rc;

	rc = vt_config_defaults(cfg);
	if (rc < 0)
		return rc;
	rc = vt_conf_load(path, &cfg->raw, err, errlen);
	if (rc < 0)
		return rc;
	if (label) {
		rc = vt_conf_parse(label, text, len, &top, err, errlen);
		if (rc < 0)
			return rc;
		rc = vt_conf_overlay(cfg->raw, top, vt_agent_config_reserved, err, errlen);
		if (rc < 0)
			return rc;
	}
	return vt_config_finish(cfg, err, errlen);
}

int vt_agent_config_parse(const char *path, const char *text, size_t len,
			  struct vt_agent_config *cfg, char *err, size_t errlen)
{
	int rc = vt_config_defaults(cfg);

	if (rc == 0)
		rc = vt_conf_parse(path, text, len, &cfg->raw, err, errlen);
	return rc < 0 ? rc : vt_config_finish(cfg, err, errlen);
}

int vt_agent_config_load(const char *path, struct vt_agent_config *cfg, char *err,
			 size_t errlen)
{
	return vt_agent_config_load_overlay(path, NULL, 0, NULL, cfg, err, errlen);
}

void vt_agent_config_free(struct vt_agent_config *cfg)
{
	free(cfg->site);
	free(cfg->device);
	free(cfg->client_id);
	free(cfg->state_dir);
	free(cfg->user);
	free(cfg->spool_dir);
	free(cfg->plugin_dir);
	free(cfg->zstd_dictionary);
	for (int i = 0; i < cfg->n_plugins; i++)
		free(cfg->plugins[i]);
	free(cfg->tls_ca);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->privacy_optout);
	for (int i = 0; i < cfg->n_groups; i++)
		free(cfg->groups[i]);
	for (int i = 0; i < cfg->n_ops_keys; i++)
		free(cfg->ops_keys[i]);
	vt_conf_free(cfg->raw);
	memset(cfg, 0, sizeof(*cfg));
}

void vt_agent_config_help(FILE *f)
{
	fputs("CONFIGURATION KEYS (one 'key value' per line, '#' comments)\n"
	      "  site ID               store identifier, e.g. cannes-croisette (required)\n"
	      "  device ID             this device's identifier (required)\n"
	      "  aggregator_key HEX    the aggregator's X25519 public key, 64 hex digits (required)\n"
	      "  broker HOST:PORT      MQTT broker [127.0.0.1:1883]\n"
	      "  client_id TEXT        MQTT client id [vitrine-<site>-<device>]\n"
	      "  state_dir DIR         keys, sequence and epoch counters [/var/lib/vitrine]\n"
	      "  user NAME             started as root, run as this user (its groups too),\n"
	      "                        after making state_dir and spool_dir its own when\n"
	      "                        missing; root without it: a warning [none]\n"
	      "  plugin_dir DIR        where NAME.so plugins live [" VT_PLUGIN_DIR "]\n"
	      "  plugin NAME|PATH      load a collector plugin (repeat for several)\n"
	      "  NAME.KEY VALUE        a setting of plugin NAME (see the plugin's README)\n"
	      "  batch_max_readings N  seal a frame after N readings [500]\n"
	      "  batch_max_bytes N     ... or about N encoded bytes [65536]\n"
	      "  batch_max_age_ms N    ... or when the oldest reading is N ms old [2000]\n"
	      "  spool_dir DIR         crash-safe spool of sealed frames [<state_dir>/spool]\n"
	      "  spool_max_bytes N     spool bound on disk [67108864]; beyond, oldest dropped and counted\n"
	      "  spool_max_age_s N     ... and age, 0 for none [604800]\n"
	      "  spool_sync_ms N       group commit: fsync within N ms, 0 for every frame [1000]\n"
	      "  spool_sync_frames N   ... or once N frames wait [64]\n"
	      "  ack_timeout_s N       resend unacknowledged frames after N s without an ack [30]\n"
	      "  max_inflight N        QoS 1 messages awaiting PUBACK [20]\n"
	      "  keepalive_s N         MQTT keepalive [30]\n"
	      "  zstd_level N          1 (fast) .. 19 (small) [3]\n"
	      "  zstd_dictionary FILE  compress with this dictionary (vitrine-ctl train-dict);\n"
	      "                        the aggregator must hold it too [none]\n"
	      "  aead NAME             chacha20-poly1305 | aes-256-gcm [chacha20-poly1305]\n"
	      "  epoch_max_frames N    new ephemeral key after N frames [100000]\n"
	      "  status_interval_s N   retained status message period [60]\n"
	      "  clock_require_sync yes|no  trust the wall clock only once an NTP client has\n"
	      "                        synchronized it, not as soon as it is past 2025 (a\n"
	      "                        Raspberry Pi: fake-hwclock restores a plausible but\n"
	      "                        wrong time); readings taken before are flagged and\n"
	      "                        corrected once it is [no]\n"
	      "  log_level LEVEL       error | warn | info | debug [info]\n"
	      "  tls_ca FILE           enable TLS to the broker, trusting this CA\n"
	      "  tls_cert FILE         client certificate (with tls_key)\n"
	      "  tls_key FILE          client private key\n"
	      "  tls_pin sha256//B64[;...]  the broker's public key must be one of these\n"
	      "                        (SHA-256 of its SubjectPublicKeyInfo, base64) [none]\n"
	      "  privacy_mode MODE     anonymous: only counts per window leave the device;\n"
	      "                        pseudonymous: events with rotating 64-bit digests\n"
	      "                        [anonymous]; NAME.privacy_mode sets one plugin's mode\n"
	      "  privacy_window_s N    anonymous windows, 900..86400, a multiple of 300 [900]\n"
	      "  privacy_k N           counts below N are merged or not sent, >= 5 [10]\n"
	      "  privacy_epsilon_milli N  discrete Laplace noise on counts, epsilon in\n"
	      "                        thousandths; 0 for none [0]\n"
	      "  privacy_epsilon_hour_milli N  epsilon budget per hour (each released count\n"
	      "                        spends privacy_epsilon_milli); counts beyond it are withheld\n"
	      "  privacy_key_rotation_s N  pseudonym key lifetime, 60..86400 [86400]; keys also\n"
	      "                        change at each multiple of N on the UTC clock\n"
	      "  privacy_rssi_floor_cdbm N  RFID reads weaker than N centi-dBm are ignored as\n"
	      "                        outside the shop [-7000]\n"
	      "  privacy_optout FILE   items not to count, one (01)<GTIN>(21)<serial> per line\n"
	      "  group NAME            a fleet group this device belongs to (repeat, up to 8)\n"
	      "  fleet_ops_key FILE    PEM public key of the ops team: signed bundles from it\n"
	      "                        are applied (repeat, up to 4); none: fleet updates off\n"
	      "  fleet_trial_s N       after a bundle, the health check lasts N s [60]\n"
	      "  fleet_health_readings N  ... and needs N readings from the plugins [1]\n"
	      "  Keys a fleet bundle may not set: site device client_id state_dir user\n"
	      "  spool_dir tls_ca tls_cert tls_key tls_pin group fleet_ops_key (docs/OPERATIONS.md)\n",
	      f);
}
