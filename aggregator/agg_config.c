/*
 * config.c - the aggregator's configuration keys and their defaults.
 *
 * Per-key checks go through vt_conf_apply() and its key table; what needs
 * several keys at once (TLS files, duplicate devices) is checked after, and
 * still names the line at fault.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_config.h"
#include "err.h"
#include "frame.h"
#include "keys.h"
#include "log.h"

#define OFF(f) offsetof(struct vt_agg_config, f)

/* "device <id> <64 hex digits>" */
static int vt_agg_config_device(void *target, const char *value, char *err, size_t errlen)
{
	struct vt_agg_config *cfg = target;
	struct vt_agg_device *d;
	size_t idlen = strcspn(value, " \t");
	const char *hex = value + idlen;

	hex += strspn(hex, " \t");
	if (idlen == 0 || idlen > VT_FRAME_DEVICE_MAX || *hex == '\0') {
		snprintf(err, errlen, "'<device id> <public key, 64 hex digits>'");
		return -EINVAL;
	}
	if (cfg->n_devices >= VT_AGG_MAX_DEVICES) {
		snprintf(err, errlen, "at most %d device lines", VT_AGG_MAX_DEVICES);
		return -EINVAL;
	}
	if (cfg->n_devices == cfg->cap_devices) {
		size_t cap = cfg->cap_devices ? cfg->cap_devices * 2 : 16;

		d = realloc(cfg->devices, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		cfg->devices = d;
		cfg->cap_devices = cap;
	}
	d = &cfg->devices[cfg->n_devices];
	memset(d, 0, sizeof(*d));
	memcpy(d->id, value, idlen);
	if (!vt_frame_id_valid(d->id)) {
		snprintf(err, errlen, "a device id of 1 to 64 of A-Z a-z 0-9 . _ -, then its key");
		return -EINVAL;
	}
	if (strlen(hex) != 2 * VT_KEY_LEN || vt_hex_decode(hex, d->pub, VT_KEY_LEN) < 0) {
		snprintf(err, errlen, "the device's public key as 64 hex digits after its id");
		return -EINVAL;
	}
	cfg->n_devices++;
	return 0;
}

static const struct vt_conf_key vt_agg_keys[] = {
	{ "broker", VT_CONF_HOSTPORT, OFF(broker), 0, 0, 0, NULL },
	{ "client_id", VT_CONF_STR, OFF(client_id), 0, 0, 0, NULL },
	{ "database", VT_CONF_STR, OFF(database), 0, 0, VT_CONF_REQUIRED, NULL },
	{ "key_file", VT_CONF_STR, OFF(key_file), 0, 0, VT_CONF_REQUIRED, NULL },
	{ "device", VT_CONF_CUSTOM, 0, 0, 0, VT_CONF_MULTI, vt_agg_config_device },
	{ "shared_group", VT_CONF_STR, OFF(shared_group), 0, 0, 0, NULL },
	{ "commit_interval_ms", VT_CONF_U32, OFF(commit_interval_ms), 0, 60000, 0, NULL },
	{ "stats_interval_s", VT_CONF_U32, OFF(stats_interval_s), 0, 86400, 0, NULL },
	{ "log_level", VT_CONF_LEVEL, OFF(log_level), 0, 0, 0, NULL },
	{ "tls_ca", VT_CONF_STR, OFF(tls_ca), 0, 0, 0, NULL },
	{ "tls_cert", VT_CONF_STR, OFF(tls_cert), 0, 0, 0, NULL },
	{ "tls_key", VT_CONF_STR, OFF(tls_key), 0, 0, 0, NULL },
	{ "user", VT_CONF_STR, OFF(user), 0, 0, 0, NULL },
	{ "dictionaries", VT_CONF_STR, OFF(dictionaries), 0, 0, 0, NULL },
	{ "sample_dir", VT_CONF_STR, OFF(sample_dir), 0, 0, 0, NULL },
	{ "sample_frames", VT_CONF_U32, OFF(sample_frames), 0, 1000000, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static int vt_agg_config_defaults(struct vt_agg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	vt_conf_parse_hostport("127.0.0.1:1883", 1883, &cfg->broker);
	cfg->client_id = strdup("vitrine-aggregator");
	cfg->shared_group = strdup("vitrine");
	cfg->commit_interval_ms = 200;
	cfg->stats_interval_s = 60;
	cfg->sample_frames = 1000;
	cfg->log_level = VT_LOG_INFO;
	return cfg->client_id && cfg->shared_group ? 0 : -ENOMEM;
}

__attribute__((format(printf, 5, 6)))
static int vt_agg_config_error(struct vt_agg_config *cfg, const char *key, char *err,
			       size_t errlen, const char *fmt, ...)
{
	struct vt_conf_entry *e = vt_conf_find(cfg->raw, key);
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s:%d: ", cfg->raw->path, e ? e->line : 0);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -VT_ECONFIG;
}

/* Line of the n-th (0-based) "device" entry whose id is id. */
static int vt_agg_config_device_line(const struct vt_agg_config *cfg, const char *id, int nth)
{
	size_t idlen = strlen(id);

	for (size_t i = 0; i < cfg->raw->n; i++) {
		const struct vt_conf_entry *e = &cfg->raw->entries[i];

		if (strcmp(e->key, "device") == 0 && strncmp(e->value, id, idlen) == 0 &&
		    (e->value[idlen] == ' ' || e->value[idlen] == '\t') && nth-- == 0)
			return e->line;
	}
	return 0;
}

static int vt_agg_config_devices(struct vt_agg_config *cfg, char *err, size_t errlen)
{
	vt_agg_devices_sort(cfg->devices, cfg->n_devices);
	for (size_t i = 1; i < cfg->n_devices; i++) {
		if (strcmp(cfg->devices[i - 1].id, cfg->devices[i].id) == 0) {
			const char *id = cfg->devices[i].id;

			snprintf(err, errlen,
				 "%s:%d: device '%s' already registered on line %d (expected each device once)",
				 cfg->raw->path, vt_agg_config_device_line(cfg, id, 1), id,
				 vt_agg_config_device_line(cfg, id, 0));
			return -VT_ECONFIG;
		}
	}
	return 0;
}

/* Cross-key checks that no single key can do. */
static int vt_agg_config_check(struct vt_agg_config *cfg, char *err, size_t errlen)
{
	const char *g = cfg->shared_group;

	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		return vt_agg_config_error(cfg, cfg->tls_cert ? "tls_cert" : "tls_key", err,
					   errlen,
					   "tls_cert and tls_key go together (expected both or neither)");
	if (cfg->tls_cert && !cfg->tls_ca)
		return vt_agg_config_error(cfg, "tls_cert", err, errlen,
					   "tls_cert needs tls_ca (expected the CA of the broker)");
	if (g && strcmp(g, "none") == 0) {
		free(cfg->shared_group);
		cfg->shared_group = NULL;
	} else if (g && (strpbrk(g, "/+#") || strlen(g) > 64)) {
		return vt_agg_config_error(cfg, "shared_group", err, errlen,
					   "invalid value for 'shared_group' (expected a name without '/', '+' or '#', or 'none')");
	}
	return vt_agg_config_devices(cfg, err, errlen);
}

static int vt_agg_config_finish(struct vt_agg_config *cfg, char *err, size_t errlen)
{
	int rc = vt_conf_apply(cfg->raw, vt_agg_keys, cfg, err, errlen);

	if (rc < 0)
		return rc;
	/* The aggregator has no plugins: a dotted key is a mistake. */
	for (size_t i = 0; i < cfg->raw->n; i++) {
		if (!cfg->raw->entries[i].used) {
			const char *names[sizeof(vt_agg_keys) / sizeof(vt_agg_keys[0])];

			for (size_t k = 0; k < sizeof(vt_agg_keys) / sizeof(vt_agg_keys[0]); k++)
				names[k] = vt_agg_keys[k].name;
			return vt_conf_unknown(&cfg->raw->entries[i], names, err, errlen);
		}
	}
	return vt_agg_config_check(cfg, err, errlen);
}

int vt_agg_config_parse(const char *path, const char *text, size_t len,
			struct vt_agg_config *cfg, char *err, size_t errlen)
{
	int rc = vt_agg_config_defaults(cfg);

	if (rc < 0)
		return rc;
	rc = vt_conf_parse(path, text, len, &cfg->raw, err, errlen);
	if (rc < 0)
		return rc;
	return vt_agg_config_finish(cfg, err, errlen);
}

int vt_agg_config_load(const char *path, struct vt_agg_config *cfg, char *err, size_t errlen)
{
	int rc = vt_agg_config_defaults(cfg);

	if (rc < 0)
		return rc;
	rc = vt_conf_load(path, &cfg->raw, err, errlen);
	if (rc < 0)
		return rc;
	return vt_agg_config_finish(cfg, err, errlen);
}

void vt_agg_config_free(struct vt_agg_config *cfg)
{
	free(cfg->client_id);
	free(cfg->database);
	free(cfg->key_file);
	free(cfg->devices);
	free(cfg->shared_group);
	free(cfg->tls_ca);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->user);
	free(cfg->dictionaries);
	free(cfg->sample_dir);
	vt_conf_free(cfg->raw);
	memset(cfg, 0, sizeof(*cfg));
}

void vt_agg_config_help(FILE *f)
{
	fputs("CONFIGURATION KEYS (one 'key value' per line, '#' starts a comment)\n"
	      "  database PATH          SQLite database, created if missing (required)\n"
	      "  key_file PATH          the aggregator's X25519 private key, mode 0600 (required;\n"
	      "                         created by 'keygen')\n"
	      "  device ID HEX          a registered device and its public key, 64 hex digits;\n"
	      "                         repeat for each device. Frames from others are rejected\n"
	      "  broker HOST:PORT       MQTT broker [127.0.0.1:1883]\n"
	      "  client_id TEXT         MQTT client id; the broker keeps this id's session\n"
	      "                         (and queues its frames) for a day [vitrine-aggregator]\n"
	      "  shared_group NAME      MQTT 5 shared subscription group, so several aggregators\n"
	      "                         split the load; 'none' for a plain subscription [vitrine]\n"
	      "  commit_interval_ms N   group commit: frames are committed together every N ms,\n"
	      "                         0 commits each frame [200]\n"
	      "  stats_interval_s N     log one line of counters every N s, 0 never [60]\n"
	      "  log_level LEVEL        error | warn | info | debug [info]\n"
	      "  tls_ca FILE            enable TLS to the broker, trusting this CA\n"
	      "  tls_cert FILE          client certificate (with tls_key and tls_ca)\n"
	      "  tls_key FILE           client private key\n"
	      "  user NAME              started as root: become this user once key_file is\n"
	      "                         read; the database's folder and sample_dir must be\n"
	      "                         its own [none: a warning as root]\n"
	      "  dictionaries DIR       zstd dictionaries (*.zdict, vitrine-ctl train-dict) that\n"
	      "                         devices compress with; read again when a frame names\n"
	      "                         one not held [none]\n"
	      "  sample_dir DIR         keep the Batches of the first sample_frames frames\n"
	      "                         stored in each run, one file each, to train a\n"
	      "                         dictionary on [none]\n"
	      "  sample_frames N        [1000]\n",
	      f);
}
