/*
 * plugins/tablet/kiosk_rate.c - token buckets for the kiosk event intake
 * (kiosk_rate.h).
 */
#include "kiosk_rate.h"

void kiosk_rate_init(struct kiosk_rate *b, uint32_t rate, uint32_t burst,
		     int64_t now_ms)
{
	b->rate = rate;
	b->cap_milli = (uint64_t)burst * 1000;
	b->milli = b->cap_milli;
	b->last_ms = now_ms;
}

static void kiosk_rate_refill(struct kiosk_rate *b, int64_t now_ms)
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

int kiosk_rate_has(struct kiosk_rate *b, uint32_t n, int64_t now_ms)
{
	kiosk_rate_refill(b, now_ms);
	return b->milli >= (uint64_t)n * 1000;
}

void kiosk_rate_take(struct kiosk_rate *b, uint32_t n)
{
	uint64_t cost = (uint64_t)n * 1000;

	b->milli = b->milli >= cost ? b->milli - cost : 0;
}
