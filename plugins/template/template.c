/*
 * template.c - the smallest complete vitrine collector plugin: a door that
 * someone walks in through every template.every_ms, template.limit times.
 * Copy this folder, rename, and put your sensor where collect() is.
 * Build: make (needs `pkg-config vitrine-plugin`); docs/PLUGINS.md.
 */
#include <vitrine/plugin.h>

#include <errno.h>
#include <stdlib.h>

struct tpl {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	long left;
};

static int tpl_init(const struct vitrine_host *host, struct vitrine_ctx *ctx, void **state)
{
	const char *limit = host->config(ctx, "limit");
	struct tpl *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->host = host;
	t->ctx = ctx;
	t->left = limit ? strtol(limit, NULL, 10) : 10;
	if (t->left < 1) {
		host->log(ctx, VITRINE_LOG_ERROR, "template.limit must be 1 or more");
		free(t);
		return -EINVAL;
	}
	*state = t;
	return 0;
}

static int tpl_collect(void *state)
{
	struct tpl *t = state;
	struct vitrine_reading r = { .kind = VITRINE_KIND_FOOTFALL };

	r.time_ms = t->host->now_ms(t->ctx);
	r.u.footfall = (struct vitrine_footfall){ .door = 1, .direction = VITRINE_DIR_IN, .count = 1 };
	if (t->host->emit(t->ctx, &r))
		return -EIO;
	return --t->left > 0 ? 0 : 1;	/* 1: finished */
}

static void tpl_fini(void *state)
{
	free(state);
}

static const char *const tpl_keys[] = { "limit", NULL };	/* template.limit */
/* Every field collect() fills; an identifier would be flagged so. */
static const struct vitrine_field tpl_fields[] = {
	{ VITRINE_KIND_FOOTFALL, "door", 0 }, { VITRINE_KIND_FOOTFALL, "direction", 0 },
	{ VITRINE_KIND_FOOTFALL, "count", 0 }, { 0, NULL, 0 },
};

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = VITRINE_ABI_MAJOR,
	.abi_minor = VITRINE_ABI_MINOR,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "template",
	.version = "0.1.0",
	.description = "a door walked through every 100 ms (the plugin template)",
	.config_keys = tpl_keys,
	.init = tpl_init,
	.collect = tpl_collect,
	.collect_interval_ms = 100,
	.fini = tpl_fini,
	.fields = tpl_fields,
};
