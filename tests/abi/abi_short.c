/*
 * abi_short.c - a plugin whose struct_size is smaller than ABI 1.0 needs.
 */
#include "vitrine/plugin.h"

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = 1,
	.abi_minor = 0,
	.struct_size = 16,
	.name = "abi_short",
};
