/*
 * plugins/tablet/kiosk_event.h - kiosk events as the kiosk application
 * sends them (JSON), to struct tablet_event, or the reason they are refused.
 *
 * Pure: bytes in, events or a reason out; no I/O, no clock, no logging, so
 * that it can be fuzzed (tests/fuzz/fuzz_kiosk_event.c). JSON is read with
 * cJSON. The checks of single fields (session id, screen name, GTIN-14)
 * are also what the plugin applies to every event of every source.
 *
 * Also the one list of reasons an event is dropped for, with the name the
 * counters use and the fix an operator or kiosk developer is told: the
 * transports (kiosk_http.c, kiosk_sock.c) and the intake (source_kiosk.c)
 * add their own reasons to it.
 */
#ifndef VT_TABLET_KIOSK_EVENT_H
#define VT_TABLET_KIOSK_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* Most events in one HTTP request (a JSON array). */
#define KIOSK_EVENT_BATCH_MAX 32
/* Longest duration_ms accepted: one day. */
#define KIOSK_DURATION_MAX_MS 86400000u
#define KIOSK_SESSION_MIN 8	/* shortest session id */
/* Longest line on the Unix-domain socket, newline included. */
#define KIOSK_LINE_MAX 4096

enum kiosk_reason {
	KIOSK_OK = 0,
	/* kiosk_event_parse() */
	KIOSK_R_JSON,		/* not JSON, trailing bytes, or \u0000 */
	KIOSK_R_CONTROL,	/* a byte < 0x20 other than tab, CR, LF */
	KIOSK_R_SHAPE,		/* not an object (or array of objects) */
	KIOSK_R_BATCH,		/* empty array, or more than allowed */
	KIOSK_R_MEMBER,		/* unknown member, or one given twice */
	KIOSK_R_KIOSK,
	KIOSK_R_TYPE,
	KIOSK_R_SESSION,
	KIOSK_R_SCREEN,
	KIOSK_R_GTIN,
	KIOSK_R_DURATION,
	/* the transports and the intake */
	KIOSK_R_TOO_LARGE,	/* HTTP body over tablet.http_max_body */
	KIOSK_R_LINE_TOO_LONG,	/* socket line over KIOSK_LINE_MAX */
	KIOSK_R_CONTENT_TYPE,	/* HTTP Content-Type not JSON or text */
	KIOSK_R_RATE_LIMITED,	/* over tablet.rate or tablet.rate_total */
	KIOSK_R_BUSY,		/* the queue to the agent is full */
	KIOSK_R_COUNT
};

struct kiosk_event_error {
	enum kiosk_reason reason;
	size_t index;		/* which event of an array (0-based) */
};

/*
 * Parses text[0..len) (need not be NUL-terminated; borrowed) into out[]:
 * one JSON event object, or, when max_events > 1, an array of 1 to
 * max_events of them. Kiosk numbers must be 1..kiosks. On success returns
 * 0 with *nout events in out (ts_ms 0: the caller stamps the time).
 * Otherwise returns -EINVAL with err set to the first reason found (for an
 * array, of its first bad event); out is then undefined.
 */
int kiosk_event_parse(const char *text, size_t len, uint32_t kiosks,
		      size_t max_events, struct tablet_event *out,
		      size_t *nout, struct kiosk_event_error *err);

/* The counter name of a reason ("gtin", "rate_limited", ...). */
const char *kiosk_reason_name(enum kiosk_reason r);
/* What the sender must fix, one sentence. */
const char *kiosk_reason_fix(enum kiosk_reason r);

/* Field checks shared with the plugin's own validation (tablet.c). */
/* s[0..len) is a session id: 8..63 of A-Z a-z 0-9 - _ . : */
int kiosk_session_valid(const char *s, size_t len);
/* s is a NUL-terminated screen name: 1..31 of A-Z a-z 0-9 - _ . / */
int kiosk_screen_valid(const char *s);
/* gtin is NUL-terminated, 14 digits with a correct GS1 check digit. */
int kiosk_gtin_valid(const char *gtin);

#endif /* VT_TABLET_KIOSK_EVENT_H */
