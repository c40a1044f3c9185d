/*
 * fields.h - the footfall plugin's field declaration (ABI 1.1, struct
 * vitrine_field): every field it fills; docs/PRIVACY.md R9.
 * No identifier.
 *
 * In a header of its own so that the tests and benches that build a
 * privacy stage without loading the plugin use this very table.
 */
#ifndef VT_FOOTFALL_FIELDS_H
#define VT_FOOTFALL_FIELDS_H

#include <stddef.h>

#include <vitrine/plugin.h>

__attribute__((unused)) static const struct vitrine_field footfall_fields[] = {
	{ VITRINE_KIND_FOOTFALL, "door", 0 },
	{ VITRINE_KIND_FOOTFALL, "direction", 0 },
	{ VITRINE_KIND_FOOTFALL, "count", 0 },
	{ 0, NULL, 0 },
};

#endif
