/*
 * abi_major2.c - a plugin claiming a future ABI major: the loader must
 * refuse it and name both versions.
 */
#include "vitrine/plugin.h"

static int m2_init(const struct vitrine_host *host, struct vitrine_ctx *ctx, void **state)
{
	(void)host;
	(void)ctx;
	*state = 0;
	return 0;
}

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = 2,
	.abi_minor = 3,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "abi_major2",
	.init = m2_init,
};
