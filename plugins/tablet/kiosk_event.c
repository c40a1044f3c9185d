/*
 * plugins/tablet/kiosk_event.c - the kiosk application's JSON events to
 * struct tablet_event, or the reason they are refused (kiosk_event.h).
 *
 * The schema is strict: only the six known members, each once, with the
 * members a type needs and no others. A typo ("sesion") or a member this
 * version does not know (a timestamp, a customer's e-mail) refuses the
 * event rather than being dropped in silence: the kiosk developer sees it
 * at once, and nothing unexpected is ever taken in. A new member means a
 * new version of the API (/v2/), not a silent change.
 *
 * Does not: read sockets, stamp times, count or log (source_kiosk.c does).
 */
#include "kiosk_event.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static const struct {
	const char *name;
	const char *fix;
} kiosk_reasons[KIOSK_R_COUNT] = {
	[KIOSK_OK] = { "ok", "nothing" },
	[KIOSK_R_JSON] = { "invalid_json",
		"send one JSON value in UTF-8 with nothing after it (and no \\u0000)" },
	[KIOSK_R_CONTROL] = { "control_character",
		"send no control bytes (below 0x20) but tab, CR and LF between values; inside strings escape them" },
	[KIOSK_R_SHAPE] = { "not_an_event",
		"send an event object {\"kiosk\":1,\"type\":...,\"session\":...} (over HTTP also an array of them)" },
	[KIOSK_R_BATCH] = { "batch_size",
		"send 1 to " STR(KIOSK_EVENT_BATCH_MAX) " events per HTTP request, one per socket line" },
	[KIOSK_R_MEMBER] = { "unknown_member",
		"use only the members kiosk, type, session, screen, gtin and duration_ms, each once (no time: the agent stamps it)" },
	[KIOSK_R_KIOSK] = { "kiosk",
		"set \"kiosk\" to the kiosk's number, an integer from 1 to tablet.kiosks" },
	[KIOSK_R_TYPE] = { "type",
		"set \"type\" to session_start, session_end, screen_view or product_lookup" },
	[KIOSK_R_SESSION] = { "session",
		"set \"session\" to the session id, 8 to 63 letters, digits, '-', '_', '.' or ':'" },
	[KIOSK_R_SCREEN] = { "screen",
		"give \"screen\" (1 to 31 letters, digits, '-', '_', '.' or '/') with screen_view events, and only with them" },
	[KIOSK_R_GTIN] = { "gtin",
		"give \"gtin\" (14 digits with a correct GS1 check digit) with product_lookup events, and only with them" },
	[KIOSK_R_DURATION] = { "duration_ms",
		"set \"duration_ms\" to whole milliseconds from 0 to " STR(KIOSK_DURATION_MAX_MS) ", or leave it out" },
	[KIOSK_R_TOO_LARGE] = { "body_too_large",
		"send at most tablet.http_max_body bytes per HTTP request (fewer events per batch)" },
	[KIOSK_R_LINE_TOO_LONG] = { "line_too_long",
		"send one event per line, at most " STR(KIOSK_LINE_MAX) " bytes with its newline" },
	[KIOSK_R_CONTENT_TYPE] = { "content_type",
		"send the body as Content-Type application/json or text/plain" },
	[KIOSK_R_RATE_LIMITED] = { "rate_limited",
		"send fewer events or requests: at most tablet.rate events a second per kiosk (bursts of twice that, at least 32) and tablet.rate_total events, and requests, for all kiosks" },
	[KIOSK_R_BUSY] = { "busy",
		"nothing on the kiosk's side: the agent's queue was full; send again later" },
};

const char *kiosk_reason_name(enum kiosk_reason r)
{
	return (unsigned)r < KIOSK_R_COUNT ? kiosk_reasons[r].name : "unknown";
}

const char *kiosk_reason_fix(enum kiosk_reason r)
{
	return (unsigned)r < KIOSK_R_COUNT ? kiosk_reasons[r].fix : "unknown";
}

/* ---- single fields ---------------------------------------------------------- */

static int kiosk_alnum(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

int kiosk_session_valid(const char *s, size_t len)
{
	if (len < KIOSK_SESSION_MIN || len >= VITRINE_SESSION_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!kiosk_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.' && s[i] != ':')
			return 0;
	return 1;
}

/* The agent's own reading check (agent/reading.c) allows the same set. */
int kiosk_screen_valid(const char *s)
{
	size_t len = strnlen(s, VITRINE_SCREEN_MAX);

	if (len == 0 || len >= VITRINE_SCREEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!kiosk_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.' && s[i] != '/')
			return 0;
	return 1;
}

int kiosk_gtin_valid(const char *gtin)
{
	unsigned sum = 0;

	if (strnlen(gtin, VITRINE_GTIN_MAX) != VITRINE_GTIN_MAX - 1)
		return 0;
	for (int i = 0; i < 14; i++) {
		if (gtin[i] < '0' || gtin[i] > '9')
			return 0;
		/* GS1 mod 10: weight 3 next to the check digit, then alternate */
		if (i < 13)
			sum += (unsigned)(gtin[i] - '0') * (i % 2 == 0 ? 3 : 1);
	}
	return gtin[13] - '0' == (int)((10 - sum % 10) % 10);
}

/* ---- one event object --------------------------------------------------------- */

enum kiosk_member {
	KIOSK_M_KIOSK,
	KIOSK_M_TYPE,
	KIOSK_M_SESSION,
	KIOSK_M_SCREEN,
	KIOSK_M_GTIN,
	KIOSK_M_DURATION,
	KIOSK_M_COUNT
};

static const char *const kiosk_members[KIOSK_M_COUNT] = {
	"kiosk", "type", "session", "screen", "gtin", "duration_ms",
};

static const char *const kiosk_types[] = {
	[VITRINE_TABLET_SESSION_START] = "session_start",
	[VITRINE_TABLET_SESSION_END] = "session_end",
	[VITRINE_TABLET_SCREEN_VIEW] = "screen_view",
	[VITRINE_TABLET_PRODUCT_LOOKUP] = "product_lookup",
};

/* A JSON number that is a whole number in min..max. */
static int kiosk_integer(const cJSON *item, double min, double max,
			 uint32_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return 0;
	d = item->valuedouble;
	if (!(d >= min && d <= max) || d != (double)(uint32_t)d)
		return 0;
	*out = (uint32_t)d;
	return 1;
}

static uint32_t kiosk_type(const cJSON *item)
{
	if (!cJSON_IsString(item))
		return 0;
	for (uint32_t t = VITRINE_TABLET_SESSION_START;
	     t <= VITRINE_TABLET_PRODUCT_LOOKUP; t++)
		if (!strcmp(item->valuestring, kiosk_types[t]))
			return t;
	return 0;
}

/* An optional string member that only `type` may carry: it must be there
 * and valid for that type, and absent for the others. */
static int kiosk_typed_string(const cJSON *item, int wanted, char *out,
			      size_t size, int (*valid)(const char *))
{
	if (!wanted)
		return item == NULL;
	if (!cJSON_IsString(item) || strlen(item->valuestring) >= size ||
	    !valid(item->valuestring))
		return 0;
	memcpy(out, item->valuestring, strlen(item->valuestring) + 1);
	return 1;
}

static enum kiosk_reason kiosk_event_one(const cJSON *obj, uint32_t kiosks,
					 struct tablet_event *ev)
{
	const cJSON *m[KIOSK_M_COUNT] = { 0 };
	const cJSON *child;
	size_t len;

	for (child = obj->child; child; child = child->next) {
		int k = 0;

		while (k < KIOSK_M_COUNT &&
		       (!child->string || strcmp(child->string, kiosk_members[k])))
			k++;
		if (k == KIOSK_M_COUNT || m[k])
			return KIOSK_R_MEMBER;
		m[k] = child;
	}
	memset(ev, 0, sizeof(*ev));
	if (!kiosk_integer(m[KIOSK_M_KIOSK], 1, kiosks, &ev->kiosk))
		return KIOSK_R_KIOSK;
	ev->type = kiosk_type(m[KIOSK_M_TYPE]);
	if (!ev->type)
		return KIOSK_R_TYPE;
	if (!cJSON_IsString(m[KIOSK_M_SESSION]))
		return KIOSK_R_SESSION;
	len = strlen(m[KIOSK_M_SESSION]->valuestring);
	if (!kiosk_session_valid(m[KIOSK_M_SESSION]->valuestring, len))
		return KIOSK_R_SESSION;
	memcpy(ev->session, m[KIOSK_M_SESSION]->valuestring, len + 1);
	if (!kiosk_typed_string(m[KIOSK_M_SCREEN],
				ev->type == VITRINE_TABLET_SCREEN_VIEW, ev->screen,
				sizeof(ev->screen), kiosk_screen_valid))
		return KIOSK_R_SCREEN;
	if (!kiosk_typed_string(m[KIOSK_M_GTIN],
				ev->type == VITRINE_TABLET_PRODUCT_LOOKUP, ev->gtin,
				sizeof(ev->gtin), kiosk_gtin_valid))
		return KIOSK_R_GTIN;
	if (m[KIOSK_M_DURATION] &&
	    !kiosk_integer(m[KIOSK_M_DURATION], 0, KIOSK_DURATION_MAX_MS,
			   &ev->duration_ms))
		return KIOSK_R_DURATION;
	return KIOSK_OK;
}

/* ---- the whole input ----------------------------------------------------------- */

/* cJSON turns \u0000 into a NUL that would cut a string short without a
 * word; no valid event needs it (no field allows a backslash either). */
static int kiosk_has_nul_escape(const char *text, size_t len)
{
	static const char esc[] = "\\u0000";

	for (size_t i = 0; i + sizeof(esc) - 1 <= len; i++)
		if (text[i] == '\\' && !memcmp(text + i, esc, sizeof(esc) - 1))
			return 1;
	return 0;
}

/* cJSON takes a raw control byte inside a string, and a raw NUL ends the
 * string there without a word: refuse any byte below 0x20 but the blanks
 * JSON allows between values, anywhere in the input. */
static int kiosk_has_control(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n')
			return 1;
	}
	return 0;
}

static int kiosk_only_blanks(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

static int kiosk_fail(struct kiosk_event_error *err, enum kiosk_reason r,
		      size_t index)
{
	err->reason = r;
	err->index = index;
	return -EINVAL;
}

int kiosk_event_parse(const char *text, size_t len, uint32_t kiosks,
		      size_t max_events, struct tablet_event *out,
		      size_t *nout, struct kiosk_event_error *err)
{
	const char *end = NULL;
	cJSON *root;
	const cJSON *item;
	enum kiosk_reason r;
	size_t n = 0;
	int rc = 0;

	*nout = 0;
	if (!len || kiosk_has_nul_escape(text, len))
		return kiosk_fail(err, KIOSK_R_JSON, 0);
	if (kiosk_has_control(text, len))
		return kiosk_fail(err, KIOSK_R_CONTROL, 0);
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root)
		return kiosk_fail(err, KIOSK_R_JSON, 0);
	if (!end || end < text || end > text + len || !kiosk_only_blanks(end, text + len)) {
		rc = kiosk_fail(err, KIOSK_R_JSON, 0);
		goto out_free;
	}
	if (cJSON_IsObject(root)) {
		r = max_events ? kiosk_event_one(root, kiosks, &out[0]) : KIOSK_R_BATCH;
		if (r != KIOSK_OK) {
			rc = kiosk_fail(err, r, 0);
			goto out_free;
		}
		n = 1;
		goto out_done;
	}
	if (!cJSON_IsArray(root) || max_events < 2) {
		rc = kiosk_fail(err, KIOSK_R_SHAPE, 0);
		goto out_free;
	}
	for (item = root->child; item; item = item->next, n++) {
		if (n == max_events) {
			rc = kiosk_fail(err, KIOSK_R_BATCH, n);
			goto out_free;
		}
		r = cJSON_IsObject(item) ? kiosk_event_one(item, kiosks, &out[n])
					 : KIOSK_R_SHAPE;
		if (r != KIOSK_OK) {
			rc = kiosk_fail(err, r, n);
			goto out_free;
		}
	}
	if (!n) {
		rc = kiosk_fail(err, KIOSK_R_BATCH, 0);
		goto out_free;
	}
out_done:
	*nout = n;
	err->reason = KIOSK_OK;
	err->index = 0;
out_free:
	cJSON_Delete(root);
	return rc;
}
