/*
 * fields.h - the rfid plugin's field declaration (ABI 1.1, struct
 * vitrine_field): every field it fills; docs/PRIVACY.md R9.
 * The serial is an identifier, which the agent digests or drops.
 *
 * In a header of its own so that the tests and benches that build a
 * privacy stage without loading the plugin use this very table.
 */
#ifndef VT_RFID_FIELDS_H
#define VT_RFID_FIELDS_H

#include <stddef.h>

#include <vitrine/plugin.h>

__attribute__((unused)) static const struct vitrine_field rfid_fields[] = {
	{ VITRINE_KIND_RFID, "reader", 0 },
	{ VITRINE_KIND_RFID, "antenna", 0 },
	{ VITRINE_KIND_RFID, "rssi_cdbm", 0 },
	{ VITRINE_KIND_RFID, "gtin", 0 },
	{ VITRINE_KIND_RFID, "filter", 0 },
	{ VITRINE_KIND_RFID, "serial", VITRINE_FIELD_IDENTIFIER },
	{ VITRINE_KIND_RFID, "reads", 0 },	/* ABI 1.2: presence readings */
	{ VITRINE_KIND_RFID, "dwell_ms", 0 },
	{ 0, NULL, 0 },
};

#endif
