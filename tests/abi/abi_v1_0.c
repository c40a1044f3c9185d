/*
 * abi_v1_0.c - a minimal plugin as built against ABI 1.0, kept so that every
 * later agent proves what it does with plugins of the first released ABI:
 * the loader accepts the struct, and the privacy stage refuses the plugin
 * because ABI 1.0 had no field declarations (docs/PRIVACY.md R9).
 * It emits one footfall reading per collect, up to abi_v1_0.limit.
 */
#include <stddef.h>
#include <stdlib.h>

/* tests/abi/include-1.0/vitrine/plugin.h: the header as released. */
#include <vitrine/plugin.h>

#if VITRINE_ABI_MAJOR != 1 || VITRINE_ABI_MINOR != 0
#error "abi_v1_0.c must be built against tests/abi/include-1.0"
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

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = 1,
	.abi_minor = 0,
	.struct_size = sizeof(struct vitrine_plugin),	/* ended at fini */
	.name = "abi_v1_0",
	.version = "1.0.0",
	.description = "ABI 1.0 compatibility plugin",
	.config_keys = abi_keys,
	.init = abi_init,
	.collect = abi_collect,
	.collect_interval_ms = 10,
	.fini = abi_fini,
};
