/*
 * abi_badname.c - the ABI 1.1 plugin under a name that breaks plugin.h's
 * rule ([a-z0-9_]+): the loader must refuse it, since the name prefixes
 * config keys and names the plugin's entries in the window checkpoint.
 */
#define ABI_PLUGIN_NAME "Door-Counter"
#include "include-1.1/vitrine/plugin.h"	/* first: abi_v1_1.c's is then skipped */
#include "abi_v1_1.c"
