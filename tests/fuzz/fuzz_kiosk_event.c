/*
 * fuzz_kiosk_event.c - libFuzzer target for the tablet plugin's kiosk
 * event parser (plugins/tablet/kiosk_event.c). Its input comes from the
 * kiosk web app over HTTP or a Unix-domain socket: anything local can
 * send it.
 *
 * Input: one selector byte, then the bytes as a kiosk sends them. The
 * selector's bit 0x20 clear (an upper-case letter) parses like an HTTP
 * body (an event or an array of up to KIOSK_EVENT_BATCH_MAX), set (lower
 * case) like a socket line (one event); its low 5 bits + 1 are the kiosks
 * configured (tablet.kiosks). 'D' = HTTP, 5 kiosks; 'd' = socket, 5.
 * The text is copied to a buffer of exactly its size, without a NUL, so
 * that ASan sees any read past it.
 *
 * Checked, with abort() on failure:
 * - a refusal gives a parse reason and an index within the batch;
 * - every accepted event is within bounds: kiosk 1..kiosks, a known type,
 *   NUL-terminated strings, a session id of 8..63 allowed characters, a
 *   screen name exactly for screen views and a GTIN-14 with a correct
 *   check digit (computed here) exactly for lookups, duration in range,
 *   time 0 (the intake stamps it);
 * - accepted input holds no NUL (nor another control byte but tab, CR
 *   and LF): a raw NUL inside a string would cut it short in silence;
 * - each accepted event, written back as JSON, parses to itself.
 *
 * What this file does not do: the transports, rate limits or queue
 * (source_kiosk.c, kiosk_http.c, kiosk_sock.c; tests/integration/kiosk.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/tablet/kiosk_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static int fuzz_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			return 0;
	return 1;
}

/* Accepted input has no byte below 0x20 but tab, CR and LF: no NUL. */
static void fuzz_no_control(const char *text, size_t len)
{
	if (memchr(text, '\0', len))
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\t' &&
		    text[i] != '\r' && text[i] != '\n')
			abort();
}

/* GS1 mod 10, written out again so a mistake in kiosk_gtin_valid() shows. */
static int fuzz_gtin_ok(const char *g)
{
	unsigned sum = 0;

	if (strlen(g) != 14)
		return 0;
	for (int i = 0; i < 14; i++)
		if (g[i] < '0' || g[i] > '9')
			return 0;
	for (int i = 0; i < 13; i++)
		sum += (unsigned)(g[i] - '0') * (i % 2 ? 1u : 3u);
	return g[13] - '0' == (int)((10 - sum % 10) % 10);
}

static void fuzz_event_ok(const struct tablet_event *ev, uint32_t kiosks)
{
	size_t len;

	if (ev->kiosk < 1 || ev->kiosk > kiosks || ev->ts_ms != 0 ||
	    ev->type < VITRINE_TABLET_SESSION_START ||
	    ev->type > VITRINE_TABLET_PRODUCT_LOOKUP ||
	    ev->duration_ms > KIOSK_DURATION_MAX_MS)
		abort();
	if (!fuzz_terminated(ev->session, sizeof(ev->session)) ||
	    !fuzz_terminated(ev->screen, sizeof(ev->screen)) ||
	    !fuzz_terminated(ev->gtin, sizeof(ev->gtin)))
		abort();
	len = strlen(ev->session);
	if (len < 8 || len > 63 || !fuzz_chars(ev->session, "-_.:"))
		abort();
	if (ev->type == VITRINE_TABLET_SCREEN_VIEW) {
		if (!ev->screen[0] || !fuzz_chars(ev->screen, "-_./"))
			abort();
	} else if (ev->screen[0]) {
		abort();
	}
	if (ev->type == VITRINE_TABLET_PRODUCT_LOOKUP) {
		if (!fuzz_gtin_ok(ev->gtin))
			abort();
	} else if (ev->gtin[0]) {
		abort();
	}
}

/* The event as a kiosk would send it, parsed again: the same event. */
static void fuzz_round_trip(const struct tablet_event *ev, uint32_t kiosks)
{
	static const char *const types[] = {
		"", "session_start", "session_end", "screen_view", "product_lookup",
	};
	struct tablet_event back;
	struct kiosk_event_error err;
	char json[512];
	size_t n;
	int len;

	len = snprintf(json, sizeof(json),
		       "{\"kiosk\":%u,\"type\":\"%s\",\"session\":\"%s\"%s%s%s%s%s%s,\"duration_ms\":%u}",
		       ev->kiosk, types[ev->type], ev->session,
		       ev->screen[0] ? ",\"screen\":\"" : "", ev->screen,
		       ev->screen[0] ? "\"" : "", ev->gtin[0] ? ",\"gtin\":\"" : "",
		       ev->gtin, ev->gtin[0] ? "\"" : "", ev->duration_ms);
	if (len < 0 || (size_t)len >= sizeof(json))
		abort();
	if (kiosk_event_parse(json, (size_t)len, kiosks, 1, &back, &n, &err) != 0 || n != 1)
		abort();
	if (back.kiosk != ev->kiosk || back.type != ev->type ||
	    strcmp(back.session, ev->session) || strcmp(back.screen, ev->screen) ||
	    strcmp(back.gtin, ev->gtin) || back.duration_ms != ev->duration_ms)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tablet_event events[KIOSK_EVENT_BATCH_MAX];
	struct kiosk_event_error err = { KIOSK_OK, 0 };
	size_t max_events, n = 0;
	uint32_t kiosks;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	max_events = (data[0] & 0x20) ? 1 : KIOSK_EVENT_BATCH_MAX;
	kiosks = (uint32_t)(data[0] & 0x1f) + 1;
	text = malloc(size - 1 ? size - 1 : 1);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	rc = kiosk_event_parse(text, size - 1, kiosks, max_events, events, &n, &err);
	if (rc != 0) {
		if (n != 0 || err.reason < KIOSK_R_JSON || err.reason > KIOSK_R_DURATION ||
		    err.index > max_events)
			abort();
	} else {
		if (n < 1 || n > max_events || err.reason != KIOSK_OK)
			abort();
		fuzz_no_control(text, size - 1);
		for (size_t i = 0; i < n; i++) {
			fuzz_event_ok(&events[i], kiosks);
			fuzz_round_trip(&events[i], kiosks);
		}
	}
	free(text);
	return 0;
}
