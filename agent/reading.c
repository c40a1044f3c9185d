/*
 * reading.c - validation of plugin readings and their CSV form.
 *
 * Validation is the agent's first line of defence against a buggy plugin:
 * a reading that fails here is counted and dropped, never batched.
 */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "reading.h"

/* A terminated string of at most cap-1 bytes, each allowed by the class. */
static int vt_reading_str_ok(const char *s, size_t cap, int digits_only)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (digits_only ? (c < '0' || c > '9')
				: !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
				    c == '.' || c == '/'))
			return 0;
	}
	return 1;
}

static int vt_reading_gtin_ok(const char *g)
{
	size_t n = strnlen(g, VITRINE_GTIN_MAX);

	return vt_reading_str_ok(g, VITRINE_GTIN_MAX, 1) && (n == 0 || n == 14);
}

static int vt_reading_fail(const char **why, const char *reason)
{
	*why = reason;
	return -VT_EINVAL_READING;
}

int vt_reading_validate(const struct vitrine_reading *r, const char **why)
{
	if (r->time_ms < 0 || r->time_ms > VT_READING_TIME_MAX_MS)
		return vt_reading_fail(why, "time before 1970 or after 2^50 ms");
	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		if (r->u.footfall.direction != VITRINE_DIR_IN &&
		    r->u.footfall.direction != VITRINE_DIR_OUT)
			return vt_reading_fail(why, "footfall direction not in/out");
		if (r->u.footfall.door > 255 || r->u.footfall.count == 0 ||
		    r->u.footfall.count > 1000)
			return vt_reading_fail(why, "footfall door or count out of range");
		return 0;
	case VITRINE_KIND_TABLET:
		if (r->u.tablet.event < VITRINE_TABLET_SESSION_START ||
		    r->u.tablet.event > VITRINE_TABLET_PRODUCT_LOOKUP)
			return vt_reading_fail(why, "tablet event unknown");
		if (strnlen(r->u.tablet.session, VITRINE_SESSION_MAX) == VITRINE_SESSION_MAX)
			return vt_reading_fail(why, "tablet session not terminated");
		if (!vt_reading_str_ok(r->u.tablet.screen, VITRINE_SCREEN_MAX, 0))
			return vt_reading_fail(why, "tablet screen name invalid");
		if (!vt_reading_gtin_ok(r->u.tablet.gtin))
			return vt_reading_fail(why, "tablet gtin not 14 digits");
		return 0;
	case VITRINE_KIND_RFID:
		if (r->u.rfid.antenna == 0 || r->u.rfid.antenna > 64 || r->u.rfid.filter > 7)
			return vt_reading_fail(why, "rfid antenna or filter out of range");
		if (r->u.rfid.rssi_cdbm > 0 || r->u.rfid.rssi_cdbm < -15000)
			return vt_reading_fail(why, "rfid rssi out of range");
		if (!vt_reading_gtin_ok(r->u.rfid.gtin))
			return vt_reading_fail(why, "rfid gtin not 14 digits");
		if (r->u.rfid.serial >> 38)
			return vt_reading_fail(why, "rfid serial wider than 38 bits");
		if (r->u.rfid.dwell_ms > VT_READING_DWELL_MAX_MS)
			return vt_reading_fail(why, "rfid dwell longer than a day");
		return 0;
	}
	return vt_reading_fail(why, "unknown kind");
}

const char *vt_reading_direction_name(uint32_t direction)
{
	return direction == VITRINE_DIR_IN ? "in" : direction == VITRINE_DIR_OUT ? "out" : "";
}

const char *vt_reading_tablet_event_name(uint32_t event)
{
	static const char *const names[] = {
		"", "session_start", "session_end", "screen_view", "product_lookup",
	};

	return event < sizeof(names) / sizeof(names[0]) ? names[event] : "";
}

const char *vt_reading_metric_name(uint32_t metric)
{
	static const char *const names[] = {
		"", "footfall_passes", "kiosk_sessions", "kiosk_screen_views", "kiosk_lookups",
		"kiosk_session_length", "rfid_presence",
	};

	return metric < sizeof(names) / sizeof(names[0]) ? names[metric] : "";
}

static void vt_reading_hex(FILE *f, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", d[i]);
}

int vt_reading_write_csv(FILE *f, const char *site, const char *device,
			 const struct vt_reading *r)
{
	/* The line ends in ",unsynced" for a flagged reading: every case
	 * below prints its last field without the newline. */
	const char *end = r->clock_unsynced ? ",unsynced\n" : "\n";

	switch (r->kind) {
	case VITRINE_KIND_FOOTFALL:
		fprintf(f, "footfall,%s,%s,%lld,%u,%s,%u%s", site, device,
			(long long)r->time_ms, r->u.footfall.door,
			vt_reading_direction_name(r->u.footfall.direction),
			r->u.footfall.count, end);
		break;
	case VITRINE_KIND_TABLET:
		fprintf(f, "tablet,%s,%s,%lld,%u,%s,", site, device, (long long)r->time_ms,
			r->u.tablet.kiosk, vt_reading_tablet_event_name(r->u.tablet.event));
		vt_reading_hex(f, r->u.tablet.session_digest, VT_DIGEST_LEN);
		fprintf(f, ",%s,%s,%u%s", r->u.tablet.screen, r->u.tablet.gtin,
			r->u.tablet.duration_ms, end);
		break;
	case VITRINE_KIND_RFID:
		fprintf(f, "rfid,%s,%s,%lld,%u,%u,%d,%s,%u,", site, device,
			(long long)r->time_ms, r->u.rfid.reader, r->u.rfid.antenna,
			r->u.rfid.rssi_cdbm, r->u.rfid.gtin, r->u.rfid.filter);
		vt_reading_hex(f, r->u.rfid.tag_digest, VT_DIGEST_LEN);
		fprintf(f, ",%u,%u%s", r->u.rfid.reads, r->u.rfid.dwell_ms, end);
		break;
	case VT_KIND_WINDOW: {
		const struct vt_window_cell *w = &r->u.window;

		fprintf(f, "window,%s,%s,%lld,%u,%s,%u,%u,%s,%u,%llu,%u,%u%s", site, device,
			(long long)r->time_ms, w->length_s, vt_reading_metric_name(w->metric),
			w->dim1, w->dim2, w->label, w->other, (unsigned long long)w->count, w->k,
			w->epsilon_milli, end);
		break;
	}
	default:
		return -EINVAL;
	}
	return ferror(f) ? -EIO : 0;
}
