/*
 * watch.h - "vitrine-aggregator watch": the live view of the database, one
 * screen per refresh, for an operator who wants to see data arrive.
 *
 * Read-only, like report.h (the caller opens the database read-only, so it
 * can run next to "vitrine-aggregator run"); times are UTC. The refresh
 * loop, its interval and the terminal are the caller's (main.c).
 */
#ifndef VT_AGG_WATCH_H
#define VT_AGG_WATCH_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/* Home the cursor and clear the terminal: the start of each screen. */
#define VT_WATCH_CLEAR "\033[H\033[2J"

/* One screen of the live view: a header line saying which mode the figures
 * come from, the frame counters (duplicates apart from rejections), then
 * - if window counts are stored (anonymous mode): per site, one line per
 *   window among the 6 newest window starts stored (within 24 hours of the
 *   newest), with footfall in and out, kiosk sessions, screens viewed,
 *   product lookups, RFID item-presence and the top product (parts and
 *   "other" cells added up), and a footnote on what k withholds;
 * - if events lie in the 10 minutes up to now_ms (pseudonymous mode): per
 *   site and minute, footfall, tablet events and RFID reads, and the top 5
 *   products by RFID reads.
 * Each section is anchored on its own newest data: the window section on
 * the newest window start stored, the event section on now_ms (give it
 * vt_watch_latest_ms()). clear: start with an ANSI clear. Returns 0,
 * -ENOMEM or -VT_EDB (said on stderr: for instance a sum beyond 2^63 - 1). */
int vt_watch_once(sqlite3 *db, FILE *out, int64_t now_ms, int clear);

/* Time (UTC ms) of the newest stored event (footfall, tablet, RFID), or 0
 * if none: the anchor of watch's event section. Window cells do not count
 * (watch anchors them on their own newest start). */
int64_t vt_watch_latest_ms(sqlite3 *db);

#endif
