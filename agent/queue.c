/*
 * queue.c - bounded FIFO of sealed frames awaiting PUBACK (see queue.h).
 *
 * Frames are acknowledged in any order, so an acknowledged frame in the
 * middle becomes a hole (frame == NULL) that is skipped and reclaimed when it
 * reaches the head.
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

void vt_queue_fini(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		free(q->items[(q->head + i) % q->cap].frame);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

static struct vt_frame_item *vt_queue_at(struct vt_queue *q, size_t i)
{
	return &q->items[(q->head + i) % q->cap];
}

/* Reclaim acknowledged holes at the head. */
static void vt_queue_trim(struct vt_queue *q)
{
	while (q->count > 0 && !vt_queue_at(q, 0)->frame) {
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
}

static void vt_queue_drop(struct vt_queue *q, struct vt_frame_item *it)
{
	q->dropped_frames++;
	q->dropped_readings += it->readings;
	q->bytes -= it->len;
	free(it->frame);
	it->frame = NULL;
}

/* Drop the oldest frame that is not in flight; 0 if one was dropped. */
static int vt_queue_drop_oldest(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);

		if (it->frame && it->mid == 0) {
			vt_queue_drop(q, it);
			vt_queue_trim(q);
			return 0;
		}
	}
	return -1;
}

int vt_queue_push(struct vt_queue *q, uint8_t *frame, size_t len, uint64_t seq,
		  uint32_t readings)
{
	struct vt_frame_item *it;

	while (q->count == q->cap || q->bytes + len > q->max_bytes) {
		if (vt_queue_drop_oldest(q) < 0) {
			q->dropped_frames++;
			q->dropped_readings += readings;
			free(frame);
			return -VT_EFULL;
		}
	}
	it = vt_queue_at(q, q->count);
	*it = (struct vt_frame_item){ frame, len, seq, readings, 0 };
	q->count++;
	q->bytes += len;
	return 0;
}

struct vt_frame_item *vt_queue_next_unsent(struct vt_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);

		if (it->frame && it->mid == 0)
			return it;
	}
	return NULL;
}

int vt_queue_ack(struct vt_queue *q, int mid)
{
	for (size_t i = 0; i < q->count; i++) {
		struct vt_frame_item *it = vt_queue_at(q, i);
		int readings;

		if (!it->frame || it->mid != mid)
			continue;
		readings = (int)it->readings;
		q->bytes -= it->len;
		free(it->frame);
		it->frame = NULL;
		it->mid = 0;
		vt_queue_trim(q);
		return readings;
	}
	return -ENOENT;
}

size_t vt_queue_inflight(const struct vt_queue *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->count; i++) {
		const struct vt_frame_item *it = &q->items[(q->head + i) % q->cap];

		n += it->frame && it->mid != 0;
	}
	return n;
}
