/*
 * plugins/common/rate.c - a token bucket in thousandths of a token
 * (rate.h). Compiled into each plugin that limits an input.
 */
#include "common/rate.h"

void vp_rate_init(struct vp_rate *b, uint32_t rate, uint32_t burst,
		     int64_t now_ms)
{
	b->rate = rate;
	b->cap_milli = (uint64_t)burst * 1000;
	b->milli = b->cap_milli;
	b->last_ms = now_ms;
}

static void vp_rate_refill(struct vp_rate *b, int64_t now_ms)
{
	uint64_t elapsed;

	/* A clock that went back (it should not) refills nothing. */
	if (now_ms <= b->last_ms)
		return;
	elapsed = (uint64_t)(now_ms - b->last_ms);
	b->last_ms = now_ms;
	/* A full bucket cannot overflow: cap the time, then the tokens. */
	if (elapsed >= b->cap_milli / b->rate + 1) {
		b->milli = b->cap_milli;
		return;
	}
	b->milli += elapsed * b->rate;
	if (b->milli > b->cap_milli)
		b->milli = b->cap_milli;
}

int vp_rate_has(struct vp_rate *b, uint32_t n, int64_t now_ms)
{
	vp_rate_refill(b, now_ms);
	return b->milli >= (uint64_t)n * 1000;
}

void vp_rate_take(struct vp_rate *b, uint32_t n)
{
	uint64_t cost = (uint64_t)n * 1000;

	b->milli = b->milli >= cost ? b->milli - cost : 0;
}
