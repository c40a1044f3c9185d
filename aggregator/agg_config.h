/*
 * agg_config.h - vitrine-aggregator's configuration: keys, defaults, checks.
 *
 * The syntax is conf.h's ("key value" lines); this file only knows the
 * aggregator's keys. docs/AGGREGATOR.md and --help list them; keep the
 * three in step. It does not read the key file or open anything.
 */
#ifndef VT_AGG_CONFIG_H
#define VT_AGG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "receive.h"

#define VT_AGG_DEFAULT_CONFIG "/etc/vitrine/aggregator.conf"
#define VT_AGG_MAX_DEVICES 100000

struct vt_agg_config {
	struct vt_hostport broker;
	char *client_id;
	char *database;
	char *key_file;
	struct vt_agg_device *devices;	/* sorted by id after load */
	size_t n_devices;
	size_t cap_devices;
	char *shared_group;		/* NULL: plain subscription */
	uint32_t commit_interval_ms;
	uint32_t stats_interval_s;	/* 0: no stats lines */
	int log_level;
	char *tls_ca;
	char *tls_cert;
	char *tls_key;
	char *user;			/* started as root: become this user */
	char *dictionaries;		/* directory of *.zdict files, or NULL */
	char *sample_dir;		/* where to keep sample batches, or NULL */
	uint32_t sample_frames;		/* at most this many a run */
	struct vt_conf *raw;
};

/* Load and check path into cfg. On error returns -VT_ECONFIG (or -errno)
 * with "path:line: what was expected" in err; cfg must still be freed.
 * Free with vt_agg_config_free(). */
int vt_agg_config_load(const char *path, struct vt_agg_config *cfg, char *err, size_t errlen);

/* Same, from text in memory (tests). */
int vt_agg_config_parse(const char *path, const char *text, size_t len,
			struct vt_agg_config *cfg, char *err, size_t errlen);

void vt_agg_config_free(struct vt_agg_config *cfg);

/* The key reference printed by --help. */
void vt_agg_config_help(FILE *f);

#endif
