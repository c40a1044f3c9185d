/*
 * reading.h - a reading inside the agent, after the privacy stage.
 *
 * struct vitrine_reading (plugin.h) is what plugins hand in; it may hold raw
 * identifiers. struct vt_reading is what the rest of the pipeline sees: the
 * same fields, with every identifier replaced by a keyed digest. Nothing
 * downstream of privacy.c can reach a raw identifier because this type has
 * no field to hold one.
 */
#ifndef VT_READING_H
#define VT_READING_H

#include <stdint.h>
#include <stdio.h>

#include "vitrine/plugin.h"

#define VT_DIGEST_LEN 8	/* truncated HMAC-SHA256: 64 bits (R5) */
/* The longest presence an RFID reading may stand for. */
#define VT_READING_DWELL_MAX_MS 86400000u
/* A reading's time: from 1970 (a Pi before its clock is set) to 2^50 ms
 * (year 37,000), so that the clock stage's arithmetic cannot overflow. */
#define VT_READING_TIME_MAX_MS (INT64_C(1) << 50)

/* An internal kind, never a plugin's: one cell of an aggregate window
 * (anonymous mode, window.h). Its time_ms is the window's start. */
#define VT_KIND_WINDOW 16

/* What a window cell counts (readings.proto, enum Metric). */
enum vt_metric {
	VT_METRIC_FOOTFALL_PASSES = 1,		/* dim1 door, dim2 direction */
	VT_METRIC_KIOSK_SESSIONS = 2,		/* dim1 kiosk */
	VT_METRIC_KIOSK_SCREEN_VIEWS = 3,	/* dim1 kiosk, label screen */
	VT_METRIC_KIOSK_LOOKUPS = 4,		/* dim1 kiosk, label GTIN */
	VT_METRIC_KIOSK_SESSION_LENGTH = 5,	/* dim1 kiosk, dim2 bucket */
	VT_METRIC_RFID_PRESENCE = 6,		/* dim1 reader, label GTIN */
	VT_METRIC_COUNT
};

#define VT_WINDOW_LABEL_MAX VITRINE_SCREEN_MAX

struct vt_window_cell {
	uint32_t length_s;
	uint32_t metric;	/* enum vt_metric */
	uint32_t dim1, dim2;
	char label[VT_WINDOW_LABEL_MAX];
	uint32_t other;		/* 1: cells below k merged (dim1 0, label "") */
	uint64_t count;
	uint32_t k;
	uint32_t epsilon_milli;	/* 0: no noise */
	uint64_t part;		/* release id: the same window sent again after a
				 * crash has the same part (the aggregator keeps one) */
};

#define VT_READING_CLOCK_OK 0		/* stamped on a trusted clock */
#define VT_READING_CLOCK_UNSYNCED 1	/* flagged, mono_ms since this boot */
#define VT_READING_CLOCK_LOST 2		/* flagged, no time since this boot known
					 * (an earlier boot's): never corrected */

struct vt_reading {
	uint32_t kind;		/* enum vitrine_kind, or VT_KIND_WINDOW */
	/* VT_READING_CLOCK_*: time_ms is from a clock not trusted yet
	 * (clock.h); with _UNSYNCED, mono_ms is the reading's time since this
	 * boot (vt_os_mono_ms; a window's start may precede the boot). */
	uint32_t clock_unsynced;
	int64_t time_ms;
	int64_t mono_ms;
	union {
		struct vitrine_footfall footfall;
		struct {
			uint32_t kiosk;
			uint32_t event;
			uint8_t session_digest[VT_DIGEST_LEN];
			char screen[VITRINE_SCREEN_MAX];
			char gtin[VITRINE_GTIN_MAX];
			uint32_t duration_ms;
		} tablet;
		struct {
			uint32_t reader;
			uint32_t antenna;
			int32_t rssi_cdbm;
			char gtin[VITRINE_GTIN_MAX];
			uint32_t filter;
			uint8_t tag_digest[VT_DIGEST_LEN];
			uint32_t reads;		/* 0: one read */
			uint32_t dwell_ms;
		} rfid;
		struct vt_window_cell window;
	} u;
};

/* Check a plugin's reading: known kind, enums in range, strings terminated
 * and made of allowed characters. Returns 0 or VT_EINVAL_READING with a
 * short static reason in *why. */
int vt_reading_validate(const struct vitrine_reading *r, const char **why);

/* Names used on the wire-side CSV (export/tap) and in reports. */
const char *vt_reading_direction_name(uint32_t direction);
const char *vt_reading_tablet_event_name(uint32_t event);
const char *vt_reading_metric_name(uint32_t metric);

/* One CSV line (docs/AGGREGATOR.md "export"), newline included; a reading
 * flagged clock_unsynced ends in ",unsynced". */
int vt_reading_write_csv(FILE *f, const char *site, const char *device,
			 const struct vt_reading *r);

#endif
