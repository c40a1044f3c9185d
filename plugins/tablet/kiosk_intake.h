/*
 * plugins/tablet/kiosk_intake.h - what the kiosk transports (kiosk_http.c,
 * kiosk_sock.c) share with the kiosk source (source_kiosk.c): where they
 * hand the bytes a kiosk sent, and how they report what they refused.
 *
 * The intake parses and checks (kiosk_event.c), applies the rate limits
 * (plugins/common/rate.c), stamps the receive time and queues the events for the
 * plugin's next collect, all or none of a request; it counts every refusal
 * by reason and logs the first of each reason. Transports only move bytes,
 * and charge each request or line to the intake first (kiosk_intake_admit).
 */
#ifndef VT_TABLET_KIOSK_INTAKE_H
#define VT_TABLET_KIOSK_INTAKE_H

#include <stddef.h>

#include <vitrine/plugin.h>

#include "kiosk_event.h"

struct kiosk_intake;	/* source_kiosk.c */

struct kiosk_intake_ops;

/* What a transport needs from its source; all borrowed. */
struct kiosk_env {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	vitrine_fd_cb fd_cb;		/* the callback to watch descriptors with */
	struct kiosk_intake *intake;
	/* The functions below, for a transport in another shared object
	 * (tablet-http.so), which cannot link against tablet.so's. */
	const struct kiosk_intake_ops *ops;
};

/*
 * Charges one request or line, whatever becomes of it, to the bucket of
 * requests (tablet.rate_total a second). Returns 1 when there was a token;
 * 0 when not (counted as rate_limited, logged the first time naming
 * `from`): the transport then refuses it unread or unparsed (HTTP 429).
 * Transports call it before kiosk_intake_submit() or kiosk_intake_refuse().
 */
int kiosk_intake_admit(struct kiosk_intake *in, const char *from);

/*
 * Takes one HTTP body or socket line (text[0..len), borrowed): an event,
 * or with max_events > 1 an array of up to max_events. Returns KIOSK_OK
 * when every event was queued, else the reason none was (already counted
 * and, the first time, logged naming `from`); *index is then the bad
 * event of an array (0-based).
 */
enum kiosk_reason kiosk_intake_submit(struct kiosk_intake *in, const char *text,
				      size_t len, size_t max_events,
				      const char *from, size_t *index);

/* Counts (and the first time logs) a request or line that a transport
 * refused before parsing it, for reason r. */
void kiosk_intake_refuse(struct kiosk_intake *in, enum kiosk_reason r,
			 const char *from);

/* Counts a connection refused because the transport had too many. */
void kiosk_intake_conn_refused(struct kiosk_intake *in, const char *from);

/* What kiosk_http.c calls, as a table (kiosk_intake_ops, in
 * source_kiosk.c): three of the intake's functions above, and
 * kiosk_event.c's words for a reason. */
struct kiosk_intake_ops {
	int (*admit)(struct kiosk_intake *in, const char *from);
	enum kiosk_reason (*submit)(struct kiosk_intake *in, const char *text,
				    size_t len, size_t max_events,
				    const char *from, size_t *index);
	void (*refuse)(struct kiosk_intake *in, enum kiosk_reason r,
		       const char *from);
	const char *(*reason_name)(enum kiosk_reason r);
	const char *(*reason_fix)(enum kiosk_reason r);
};

extern const struct kiosk_intake_ops kiosk_intake_ops;

#endif /* VT_TABLET_KIOSK_INTAKE_H */
