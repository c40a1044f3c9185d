/*
 * arena.c - bump allocation for one decoded Batch at a time (arena.h).
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

struct vt_arena_chunk {
	struct vt_arena_chunk *next;	/* in a->more */
	size_t used, cap;
	alignas(max_align_t) unsigned char mem[];
};

static struct vt_arena_chunk *vt_arena_chunk_new(size_t cap)
{
	struct vt_arena_chunk *c = malloc(sizeof(*c) + cap);

	if (c) {
		c->next = NULL;
		c->used = 0;
		c->cap = cap;
	}
	return c;
}

void *vt_arena_alloc(struct vt_arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct vt_arena_chunk *c = a->cur;
	size_t at, cap;

	if (n > SIZE_MAX / 2)
		return NULL;
	at = (c->used + align - 1) & ~(align - 1);
	if (at > c->cap || n > c->cap - at) {
		/* Twice the last chunk, and at least the request. */
		cap = c->cap * 2 > n ? c->cap * 2 : n;
		c = vt_arena_chunk_new(cap);
		if (!c)
			return NULL;
		c->next = a->more;
		a->more = c;
		a->cur = c;
		at = 0;
	}
	c->used = at + n;
	return c->mem + at;
}

static void *vt_arena_pb_alloc(void *data, size_t n)
{
	return vt_arena_alloc(data, n);
}

static void vt_arena_pb_free(void *data, void *p)
{
	(void)data;	/* everything goes at the next reset */
	(void)p;
}

int vt_arena_init(struct vt_arena *a)
{
	a->first = vt_arena_chunk_new(VT_ARENA_FIRST);
	if (!a->first)
		return -ENOMEM;
	a->more = NULL;
	a->cur = a->first;
	a->pb.alloc = vt_arena_pb_alloc;
	a->pb.free = vt_arena_pb_free;
	a->pb.allocator_data = a;
	return 0;
}

void vt_arena_reset(struct vt_arena *a)
{
	while (a->more) {
		struct vt_arena_chunk *c = a->more;

		a->more = c->next;
		free(c);
	}
	a->first->used = 0;
	a->cur = a->first;
}

void vt_arena_fini(struct vt_arena *a)
{
	if (!a->first)
		return;
	vt_arena_reset(a);
	free(a->first);
	a->first = a->cur = NULL;
}
