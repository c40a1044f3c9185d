/*
 * queue.c - bounded FIFO of sealed frames awaiting PUBACK (see queue.h).
 *
 * Frames are usually acknowledged in order (removal at the head is O(1));
 * one acknowledged or dropped out of order is removed by shifting the
 * frames behind it, so the ring never holds holes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "queue.h"

int vt_queue_init(struct vt_queue *q, size_t max_frames, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->items = calloc(max_frames, sizeof(*q->items));
	if (!q->items)
		return -ENOMEM;
	q->cap = max_frames;
	q->max_bytes = max_bytes;
	return 0;
}

static struct vt_frame_item *vt_queue_at(struct vt_queue *q, size_t i)
{
	return &q->items[(q->head + i) % q->cap];
}

void vt_queue_fini(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		free(vt_queue_at(q, i)->frame);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

/* Remove item i, freeing its frame, keeping the others in order. */
static void vt_queue_remove(struct vt_queue *q, size_t i)
{
	q->bytes -= vt_queue_at(q, i)->len;
	q->inflight -= vt_queue_at(q, i)->mid != 0;
	free(vt_queue_at(q, i)->frame);
	if (i == 0) {
		q->head = (q->head + 1) % q->cap;
	} else {
		for (size_t j = i; j + 1 < q->count; j++)
			*vt_queue_at(q, j) = *vt_queue_at(q, j + 1);
	}
	q->count--;
}

/* Drop the oldest frame that is not in flight; 0 if one was dropped. */
static int vt_queue_drop_oldest(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);

		if (it->mid == 0) {
			q->dropped_frames++;
			q->dropped_readings += it->readings;
			vt_queue_remove(q, i);
			return 0;
		}
	}
	return -1;
}

int vt_queue_push(struct vt_queue *q, uint8_t *frame, size_t len, uint64_t seq,
		  uint32_t readings)
{
	while (q->count == q->cap || q->bytes + len > q->max_bytes) {
		if (vt_queue_drop_oldest(q) < 0) {
			q->dropped_frames++;
			q->dropped_readings += readings;
			free(frame);
			return -VT_EFULL;
		}
	}
	*vt_queue_at(q, q->count) = (struct vt_frame_item){ frame, len, seq, readings, 0 };
	q->count++;
	q->bytes += len;
	return 0;
}

struct vt_frame_item *vt_queue_next_unsent(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);

		if (it->mid == 0)
			return it;
	}
	return NULL;
}

int vt_queue_ack(struct vt_queue *q, int mid)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);
		int readings;

		if (it->mid != mid)
			continue;
		readings = (int)it->readings;
		vt_queue_remove(q, i);
		return readings;
	}
	return -ENOENT;
}

void vt_queue_mark_sent(struct vt_queue *q, struct vt_frame_item *it, int mid)
{
	q->inflight += it->mid == 0;
	it->mid = mid;
}
