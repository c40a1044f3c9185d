/*
 * plugins/common/plugin_conf.c - configuration helpers shared by the
 * collector plugins: numeric keys with ranges and defaults, ISO-8601 UTC
 * times, the "source" key and the one error message format.
 *
 * Linked into each plugin .so; see plugin_conf.h.
 */
#include "common/plugin_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct vp_num_key vp_sim_keys[] = {
	{ "seed", 1, 0, UINT64_MAX, offsetof(struct vp_sim_conf, seed) },
	{ "limit", 0, 0, UINT64_MAX, offsetof(struct vp_sim_conf, limit) },
	{ "burst", 500, 1, 100000, offsetof(struct vp_sim_conf, burst) },
	{ "fail_every", 0, 0, UINT64_MAX, offsetof(struct vp_sim_conf, fail_every) },
};

int vp_conf_bad(const struct vp_conf *c, const char *key, const char *val,
		const char *expected)
{
	c->host->log(c->ctx, VITRINE_LOG_ERROR,
		     "%s.%s = \"%s\" is invalid: expected %s", c->plugin, key,
		     val, expected);
	return -EINVAL;
}

int vp_parse_u64(const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int vp_conf_numbers(const struct vp_conf *c, const struct vp_num_key *keys,
		    size_t nkeys, void *base)
{
	char expected[80];

	for (size_t i = 0; i < nkeys; i++) {
		const struct vp_num_key *k = &keys[i];
		uint64_t *field = (uint64_t *)((char *)base + k->off);
		const char *val = c->host->config(c->ctx, k->key);

		*field = k->def;
		if (!val || !vp_parse_u64(val, k->min, k->max, field))
			continue;
		snprintf(expected, sizeof(expected), "an integer in %llu..%llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return vp_conf_bad(c, k->key, val, expected);
	}
	return 0;
}

int vp_conf_sim(const struct vp_conf *c, struct vp_sim_conf *sim)
{
	return vp_conf_numbers(c, vp_sim_keys, VP_ARRAY_SIZE(vp_sim_keys), sim);
}

int vp_conf_source(const struct vp_conf *c, const char *const *names,
		   const char *expected)
{
	const char *source = c->host->config(c->ctx, "source");

	if (!source)
		return 0;
	for (int i = 0; names[i]; i++)
		if (!strcmp(source, names[i]))
			return i;
	return vp_conf_bad(c, "source", source, expected);
}

int vp_conf_source_sim(const struct vp_conf *c)
{
	static const char *const sim_only[] = { "sim", NULL };

	return vp_conf_source(c, sim_only, "\"sim\" (the only source built so far)");
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t vp_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int vp_days_in_month(int64_t y, int64_t m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

int vp_parse_utc(const char *val, int64_t *out_ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int64_t f[6] = { 0 };
	int n = 0;

	if (strlen(val) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] != 'd') {
			if (val[i] != shape[i])
				return -EINVAL;
			n += shape[i + 1] == 'd' || shape[i + 1] == '\0';
			continue;
		}
		if (val[i] < '0' || val[i] > '9')
			return -EINVAL;
		f[n] = f[n] * 10 + (val[i] - '0');
	}
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
	    f[2] > vp_days_in_month(f[0], f[1]) || f[3] > 23 || f[4] > 59 ||
	    f[5] > 59)
		return -EINVAL;
	*out_ms = ((vp_days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 3600 +
		   f[4] * 60 + f[5]) * 1000;
	return 0;
}
