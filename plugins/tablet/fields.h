/*
 * fields.h - the tablet plugin's field declaration (ABI 1.1, struct
 * vitrine_field): every field it fills; docs/PRIVACY.md R9.
 * The session id is an identifier, which the agent digests or drops.
 *
 * In a header of its own so that the tests and benches that build a
 * privacy stage without loading the plugin use this very table.
 */
#ifndef VT_TABLET_FIELDS_H
#define VT_TABLET_FIELDS_H

#include <stddef.h>

#include <vitrine/plugin.h>

__attribute__((unused)) static const struct vitrine_field tablet_fields[] = {
	{ VITRINE_KIND_TABLET, "kiosk", 0 },
	{ VITRINE_KIND_TABLET, "event", 0 },
	{ VITRINE_KIND_TABLET, "session", VITRINE_FIELD_IDENTIFIER },
	{ VITRINE_KIND_TABLET, "screen", 0 },
	{ VITRINE_KIND_TABLET, "gtin", 0 },
	{ VITRINE_KIND_TABLET, "duration_ms", 0 },
	{ 0, NULL, 0 },
};

#endif
