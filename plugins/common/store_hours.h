/*
 * plugins/common/store_hours.h - the opening hours of the simulated store:
 * Mon-Sat 10:00-19:00, Sun 12:00-18:00, store time = UTC.
 *
 * Compiled into each plugin; the simulated sources use it to make their
 * traffic follow the day. Times are UTC ms since the epoch, >= 0.
 */
#ifndef VP_STORE_HOURS_H
#define VP_STORE_HOURS_H

#include <stdint.h>

#define VP_DAY_MS INT64_C(86400000)
#define VP_HOUR_MS INT64_C(3600000)

/* 0 = Sunday ... 6 = Saturday. */
int vp_store_weekday(int64_t utc_ms);

/* Opening time of the day that contains t. */
int64_t vp_store_open_ms(int64_t t);

/* Closing time of the day that contains t. */
int64_t vp_store_close_ms(int64_t t);

/* The earliest time >= t at which the store is open. */
int64_t vp_store_next_open_ms(int64_t t);

/* Whether the store is open at t. */
int vp_store_is_open(int64_t t);

#endif /* VP_STORE_HOURS_H */
