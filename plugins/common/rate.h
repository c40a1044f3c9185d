/*
 * plugins/common/rate.h - a token bucket, the rate limit of the plugins'
 * outside inputs: kiosk events per kiosk, in total and per request
 * (tablet/source_kiosk.c), people-counter lines per connection
 * (footfall/counter.c).
 *
 * A bucket holds up to `burst` tokens and gains `rate` a second; an event
 * costs one. Integer arithmetic in thousandths of a token, on the caller's
 * monotonic clock (ms); no allocation, no clock of its own, so the tests
 * drive time by hand.
 */
#ifndef VP_RATE_H
#define VP_RATE_H

#include <stdint.h>

struct vp_rate {
	uint64_t rate;		/* tokens a second */
	uint64_t cap_milli;	/* burst, in thousandths */
	uint64_t milli;		/* tokens now, in thousandths */
	int64_t last_ms;	/* when milli was last brought up to date */
};

/* A full bucket: burst tokens now, rate more a second (rate >= 1). */
void vp_rate_init(struct vp_rate *b, uint32_t rate, uint32_t burst,
		     int64_t now_ms);

/* Whether n tokens are there at now_ms (refills first; takes nothing). */
int vp_rate_has(struct vp_rate *b, uint32_t n, int64_t now_ms);

/* Takes n tokens; call after vp_rate_has() said yes at the same now. */
void vp_rate_take(struct vp_rate *b, uint32_t n);

#endif /* VP_RATE_H */
