/*
 * abi_badname.c - the ABI 1.1 plugin under a name that breaks plugin.h's
 * rule ([a-z0-9_]+): the loader must refuse it, since the name prefixes
 * config keys and names the plugin's entries in the window checkpoint.
 */
#define ABI_PLUGIN_NAME "Door-Counter"
#include "abi_v1_1.c"
