/*
 * plugins/common/plugin_conf.h - configuration helpers shared by the
 * collector plugins: numeric keys with ranges and defaults, ISO-8601 UTC
 * times, the "source" key and the error message an operator sees.
 *
 * Compiled into each plugin (it is not part of the agent): it only calls
 * the host table that vitrine/plugin.h defines. Every error is logged as
 * `<plugin>.<key> = "<value>" is invalid: expected <what>` and returned as
 * -EINVAL.
 */
#ifndef VP_PLUGIN_CONF_H
#define VP_PLUGIN_CONF_H

#include <vitrine/plugin.h>

#include <stddef.h>
#include <stdint.h>

/* The keys every simulated collector reads before its own ones. */
#define VP_SIM_CONFIG_KEYS \
	"source", "seed", "speed", "start", "limit", "burst", "fail_every"

#define VP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where configuration comes from and whom errors name; all borrowed. */
struct vp_conf {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	const char *plugin;	/* "footfall": prefixes the key in messages */
};

/* A numeric key: its default, its range and where it goes in `base`. */
struct vp_num_key {
	const char *key;
	uint64_t def, min, max;
	size_t off;		/* offsetof() a uint64_t in the plugin's state */
};

/* The numeric keys all simulated collectors share (vp_conf_sim()). */
struct vp_sim_conf {
	uint64_t seed, limit, burst, fail_every;
};

/* Logs that `key` = `val` is invalid and what was expected; -EINVAL. */
int vp_conf_bad(const struct vp_conf *c, const char *key, const char *val,
		const char *expected);

/* A decimal integer in min..max, digits only; 0 or -EINVAL (*out untouched). */
int vp_parse_u64(const char *val, uint64_t min, uint64_t max, uint64_t *out);

/* "YYYY-MM-DDTHH:MM:SSZ" (1970 or later) to UTC ms; 0 or -EINVAL. */
int vp_parse_utc(const char *val, int64_t *out_ms);

/* Sets each key's field in `base` to its value or default; the first bad
 * one is logged and gives -EINVAL. */
int vp_conf_numbers(const struct vp_conf *c, const struct vp_num_key *keys,
		    size_t nkeys, void *base);

/* "source": the index in `names` (NULL-terminated, names[0] the default)
 * of its value, 0 when the key is absent; -EINVAL (logged with `expected`,
 * e.g. "\"sim\" or \"llrp\"") for any other value. */
int vp_conf_source(const struct vp_conf *c, const char *const *names,
		   const char *expected);

/* "source": absent or "sim" (the only source built so far). */
int vp_conf_source_sim(const struct vp_conf *c);

/* seed, limit, burst and fail_every with the shared defaults and ranges. */
int vp_conf_sim(const struct vp_conf *c, struct vp_sim_conf *sim);

#endif /* VP_PLUGIN_CONF_H */
