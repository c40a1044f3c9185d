/*
 * fuzz_conf.c - fuzz target for the configuration parser: the syntax
 * (vt_conf_parse) and every kind of value (vt_conf_apply, on a table of
 * one key per kind), then the agent's own key table with its parsers of
 * custom values (aead, tls_pin, fleet_ops_key...) and its checks across
 * keys (vt_agent_config_parse). Any input must give 0 or a message naming
 * file and line, never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_noop_parse(void *target, const char *value, char *err, size_t errlen)
{
	(void)target;
	(void)value;
	(void)err;
	(void)errlen;
	return 0;
}

struct fuzz_target {
	char *s;
	uint32_t n;
	int b;
	struct vt_hostport hp;
	uint8_t key[32];
	int level;
};

static const struct vt_conf_key fuzz_keys[] = {
	{ "s", VT_CONF_STR, offsetof(struct fuzz_target, s), 0, 0, 0, NULL },
	{ "n", VT_CONF_U32, offsetof(struct fuzz_target, n), 1, 1000, 0, NULL },
	{ "b", VT_CONF_BOOL, offsetof(struct fuzz_target, b), 0, 0, 0, NULL },
	{ "h", VT_CONF_HOSTPORT, offsetof(struct fuzz_target, hp), 0, 0, 0, NULL },
	{ "k", VT_CONF_KEY, offsetof(struct fuzz_target, key), 0, 0, 0, NULL },
	{ "l", VT_CONF_LEVEL, offsetof(struct fuzz_target, level), 0, 0, 0, NULL },
	{ "m", VT_CONF_CUSTOM, 0, 0, 0, VT_CONF_MULTI, fuzz_noop_parse },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_target t;
	struct vt_conf *c = NULL;
	char err[VT_CONF_ERR_MAX];

	if (vt_conf_parse("fuzz.conf", (const char *)data, size, &c, err, sizeof(err)) < 0)
		return 0;
	memset(&t, 0, sizeof(t));
	vt_conf_apply(c, fuzz_keys, &t, err, sizeof(err));
	free(t.s);
	vt_conf_free(c);
	{
		struct vt_agent_config cfg;

		vt_agent_config_parse("agent.conf", (const char *)data, size, &cfg, err,
				      sizeof(err));
		vt_agent_config_free(&cfg);
	}
	return 0;
}
