/*
 * abi_nosym.c - a shared object without the vitrine_plugin symbol.
 */
#include "vitrine/plugin.h"

VITRINE_EXPORT int not_a_plugin = 1;
