/*
 * plugins/tablet/kiosk_rate.h - token buckets that limit how many kiosk
 * events are taken in: one per kiosk number and one for all kiosks
 * (source_kiosk.c).
 *
 * A bucket holds up to `burst` tokens and gains `rate` a second; an event
 * costs one. Integer arithmetic in thousandths of a token, on the caller's
 * monotonic clock (ms); no allocation, no clock of its own, so the tests
 * drive time by hand.
 */
#ifndef VT_TABLET_KIOSK_RATE_H
#define VT_TABLET_KIOSK_RATE_H

#include <stdint.h>

struct kiosk_rate {
	uint64_t rate;		/* tokens a second */
	uint64_t cap_milli;	/* burst, in thousandths */
	uint64_t milli;		/* tokens now, in thousandths */
	int64_t last_ms;	/* when milli was last brought up to date */
};

/* A full bucket: burst tokens now, rate more a second (rate >= 1). */
void kiosk_rate_init(struct kiosk_rate *b, uint32_t rate, uint32_t burst,
		     int64_t now_ms);

/* Whether n tokens are there at now_ms (refills first; takes nothing). */
int kiosk_rate_has(struct kiosk_rate *b, uint32_t n, int64_t now_ms);

/* Takes n tokens; call after kiosk_rate_has() said yes at the same now. */
void kiosk_rate_take(struct kiosk_rate *b, uint32_t n);

#endif /* VT_TABLET_KIOSK_RATE_H */
