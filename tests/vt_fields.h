/*
 * vt_fields.h - the field declarations (ABI 1.1, struct vitrine_field) of
 * the three plugins, as the agent receives them, for the tests and benches
 * that build a privacy stage without loading the plugins themselves.
 *
 * They mirror plugins/<name>/<name>.c on purpose: a plugin owns its
 * declaration, and a change there that these copies do not follow shows up
 * in tests/integration, which loads the real plugins.
 */
#ifndef VT_FIELDS_H
#define VT_FIELDS_H

#include <stddef.h>

#include <vitrine/plugin.h>

__attribute__((unused)) static const struct vitrine_field vt_fields_footfall[] = {
	{ VITRINE_KIND_FOOTFALL, "door", 0 },
	{ VITRINE_KIND_FOOTFALL, "direction", 0 },
	{ VITRINE_KIND_FOOTFALL, "count", 0 },
	{ 0, NULL, 0 },
};

__attribute__((unused)) static const struct vitrine_field vt_fields_tablet[] = {
	{ VITRINE_KIND_TABLET, "kiosk", 0 },
	{ VITRINE_KIND_TABLET, "event", 0 },
	{ VITRINE_KIND_TABLET, "session", VITRINE_FIELD_IDENTIFIER },
	{ VITRINE_KIND_TABLET, "screen", 0 },
	{ VITRINE_KIND_TABLET, "gtin", 0 },
	{ VITRINE_KIND_TABLET, "duration_ms", 0 },
	{ 0, NULL, 0 },
};

__attribute__((unused)) static const struct vitrine_field vt_fields_rfid[] = {
	{ VITRINE_KIND_RFID, "reader", 0 },
	{ VITRINE_KIND_RFID, "antenna", 0 },
	{ VITRINE_KIND_RFID, "rssi_cdbm", 0 },
	{ VITRINE_KIND_RFID, "gtin", 0 },
	{ VITRINE_KIND_RFID, "filter", 0 },
	{ VITRINE_KIND_RFID, "serial", VITRINE_FIELD_IDENTIFIER },
	{ 0, NULL, 0 },
};

#endif
