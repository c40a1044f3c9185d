/*
 * abi_v1_1.c - a minimal plugin built against ABI 1.1 (the first with field
 * declarations), kept so that every later agent proves it still loads it.
 * It emits one footfall reading per collect, up to abi_v1_1.limit.
 */
#include <stdlib.h>

/* tests/abi/include-1.1/vitrine/plugin.h: the header as released. */
#include <vitrine/plugin.h>

#if VITRINE_ABI_MAJOR != 1 || VITRINE_ABI_MINOR != 1
#error "abi_v1_1.c must be built against tests/abi/include-1.1"
#endif

#ifndef ABI_PLUGIN_NAME
#define ABI_PLUGIN_NAME "abi_v1_1"
#endif

struct abi_state {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	int left;
};

static int abi_init(const struct vitrine_host *host, struct vitrine_ctx *ctx, void **state)
{
	struct abi_state *s = calloc(1, sizeof(*s));
	const char *limit;

	if (!s)
		return -12;
	s->host = host;
	s->ctx = ctx;
	limit = host->config(ctx, "limit");
	s->left = limit ? atoi(limit) : 3;
	*state = s;
	return 0;
}

static int abi_collect(void *state)
{
	struct abi_state *s = state;
	struct vitrine_reading r = { .kind = VITRINE_KIND_FOOTFALL };

	if (s->left <= 0)
		return 1;
	r.time_ms = s->host->now_ms(s->ctx);
	r.u.footfall.door = 1;
	r.u.footfall.direction = VITRINE_DIR_IN;
	r.u.footfall.count = 1;
	s->left--;
	return s->host->emit(s->ctx, &r) == 0 ? 0 : -5;
}

static void abi_fini(void *state)
{
	free(state);
}

static const char *const abi_keys[] = { "limit", NULL };

static const struct vitrine_field abi_fields[] = {
	{ VITRINE_KIND_FOOTFALL, "door", 0 },
	{ VITRINE_KIND_FOOTFALL, "direction", 0 },
	{ VITRINE_KIND_FOOTFALL, "count", 0 },
	{ 0, NULL, 0 },
};

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = 1,
	.abi_minor = 1,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = ABI_PLUGIN_NAME,
	.version = "1.1.0",
	.description = "ABI 1.1 compatibility plugin",
	.config_keys = abi_keys,
	.init = abi_init,
	.collect = abi_collect,
	.collect_interval_ms = 10,
	.fini = abi_fini,
	.fields = abi_fields,
};
