/*
 * plugins/common/store_hours.c - the opening hours of the simulated store
 * (see store_hours.h).
 */
#include "common/store_hours.h"

int vp_store_weekday(int64_t utc_ms)
{
	return (int)((utc_ms / VP_DAY_MS + 4) % 7);	/* 1970-01-01: Thursday */
}

int64_t vp_store_open_ms(int64_t t)
{
	int64_t day = t - t % VP_DAY_MS;

	return day + (vp_store_weekday(day) == 0 ? 12 : 10) * VP_HOUR_MS;
}

int64_t vp_store_close_ms(int64_t t)
{
	int64_t day = t - t % VP_DAY_MS;

	return day + (vp_store_weekday(day) == 0 ? 18 : 19) * VP_HOUR_MS;
}

int64_t vp_store_next_open_ms(int64_t t)
{
	int64_t day = t - t % VP_DAY_MS;

	for (;;) {
		if (t < vp_store_open_ms(day))
			return vp_store_open_ms(day);
		if (t < vp_store_close_ms(day))
			return t;
		day += VP_DAY_MS;
		t = day;
	}
}

int vp_store_is_open(int64_t t)
{
	return t >= vp_store_open_ms(t) && t < vp_store_close_ms(t);
}
