/*
 * acks.h - per-device acknowledgment watermarks: the rule, the acks table,
 * and which acknowledgments are due for publishing.
 *
 * The watermark A of a device is the highest sequence number up to which
 * everything the device still meant to deliver is stored. A frame (seq s,
 * prev_seq p, floor_seq f) moves it in two ways (docs/AGGREGATOR.md):
 *   - floor: A = max(A, f - 1) when f > 0 (the device gave up or committed
 *     everything below f);
 *   - advance: while the stored frame n with the smallest seq above A has
 *     n.seq == A + 1, or n.prev != 0 and n.prev <= A (the numbers between
 *     were never used: the reservation skipped after a crash), A = n.seq.
 * A only grows. The rule's result does not depend on arrival order.
 *
 * The store (store.c) calls vt_acks_track/stored/duplicate while it inserts
 * frames, vt_acks_prepare_commit() inside the group transaction (which
 * advances and writes the acks rows), then vt_acks_committed(). Only
 * committed watermarks are ever handed out for publishing, so an ack never
 * claims a frame that is not in the database. This file does not talk MQTT
 * or know any key: vt_acks_flush() hands each due (device, site, A) to the
 * caller's function.
 */
#ifndef VT_AGG_ACKS_H
#define VT_AGG_ACKS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct vt_acks;

/* Prepare statements on db (borrowed, must outlive the result) and load
 * the acks table. Returns 0, -ENOMEM or -VT_EDB. Free with vt_acks_free(). */
int vt_acks_open(sqlite3 *db, struct vt_acks **out);

/* Finalize and free. NULL is a no-op. */
void vt_acks_free(struct vt_acks *a);

/* The slot of device (a valid id, copied), created if new. Call before
 * inserting a frame, so that nothing can fail once it is stored. Returns
 * the slot (>= 0) or -ENOMEM. */
long vt_acks_track(struct vt_acks *a, const char *device);

/* A frame of slot's device was stored in the open transaction (its
 * savepoint released): apply its floor, note its site (copied) and mark the
 * device for the advance at commit. */
void vt_acks_stored(struct vt_acks *a, long slot, const char *site, uint64_t seq,
		    uint64_t prev_seq, uint64_t floor_seq);

/* slot's device sent a frame that is already stored: its (committed)
 * watermark becomes due again at the next commit, if it has one. */
void vt_acks_duplicate(struct vt_acks *a, long slot);

/* Inside the group transaction, just before COMMIT: advance the watermark
 * of every device stored to in this group (one indexed query per step) and
 * write its acks row. Returns 0 or -VT_EDB (then roll back and call
 * vt_acks_committed(a, 0)). */
int vt_acks_prepare_commit(struct vt_acks *a);

/* After the COMMIT: ok = 1 makes the advanced watermarks the committed ones
 * and due for publishing; ok = 0 (rolled back) forgets them. */
void vt_acks_committed(struct vt_acks *a, int ok);

/* Publishes one acknowledgment; device and site are borrowed for the call.
 * Returns 0 when handed over, or a negative code (it stays due). */
typedef int (*vt_acks_publish_fn)(void *arg, const char *device, const char *site,
				  uint64_t seq);

/* Hand every due acknowledgment (committed watermark) to publish, in the
 * order they became due. Stops at the first failure; the rest stay due.
 * Returns the number handed over, or the failure's code. */
int vt_acks_flush(struct vt_acks *a, vt_acks_publish_fn publish, void *arg);

/* Make every device with a watermark due (after a (re)connection: the
 * retained acks may be gone, and a publish may have been lost). */
void vt_acks_all_due(struct vt_acks *a);

/* How many acknowledgments are due. */
size_t vt_acks_due(const struct vt_acks *a);

/* The committed watermark of device: 0 when it has none. */
uint64_t vt_acks_get(const struct vt_acks *a, const char *device);

#endif
