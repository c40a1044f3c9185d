/*
 * queue.h - the bounded in-memory queue between sealer and publisher.
 *
 * Holds sealed frames in sequence order until the broker acknowledges them
 * (PUBACK). Bounded by frame count and bytes; when full, the oldest frame
 * not in flight is dropped and its readings are counted as dropped — never
 * silently. (A later issue replaces this with the crash-safe spool; the
 * interface stays.)
 */
#ifndef VT_QUEUE_H
#define VT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct vt_frame_item {
	uint8_t *frame;		/* owned by the queue */
	size_t len;
	uint64_t seq;
	uint32_t readings;
	int mid;		/* MQTT message id while in flight, else 0 */
};

struct vt_queue {
	struct vt_frame_item *items;	/* ring */
	size_t cap, head, count;
	size_t bytes, max_bytes;
	size_t inflight;		/* items with mid != 0 */
	uint64_t dropped_frames, dropped_readings;
};

int vt_queue_init(struct vt_queue *q, size_t max_frames, size_t max_bytes);
void vt_queue_fini(struct vt_queue *q);

/* Append a frame (takes ownership of frame, a malloc'd buffer). Drops the
 * oldest frames not in flight to make room. Returns 0, or VT_EFULL when
 * nothing could be dropped (the new frame is then freed and counted). */
int vt_queue_push(struct vt_queue *q, uint8_t *frame, size_t len, uint64_t seq,
		  uint32_t readings);

/* The oldest frame not yet in flight, or NULL. */
struct vt_frame_item *vt_queue_next_unsent(struct vt_queue *q);

/* The broker acknowledged message id mid: free that frame. Returns the
 * number of readings it held, or -ENOENT. */
int vt_queue_ack(struct vt_queue *q, int mid);

/* The frame was handed to MQTT under message id mid (non-zero). */
void vt_queue_mark_sent(struct vt_queue *q, struct vt_frame_item *it, int mid);

#endif
