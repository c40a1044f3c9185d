/*
 * arena.h - a bump allocator for the decoded Batch of one message at a
 * time: protobuf-c allocates each reading and each string of a Batch on
 * its own, and frees them one by one, which was a tenth of the
 * aggregator's work per reading. From the arena, an allocation is a
 * pointer bump, and freeing the whole Batch is one reset.
 */
#ifndef VT_AGG_ARENA_H
#define VT_AGG_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define VT_ARENA_FIRST (256 * 1024)	/* kept between messages */

struct vt_arena_chunk;

struct vt_arena {
	struct vt_arena_chunk *first;	/* VT_ARENA_FIRST, kept */
	struct vt_arena_chunk *more;	/* larger ones for a large Batch, freed at reset */
	struct vt_arena_chunk *cur;
	ProtobufCAllocator pb;		/* for protobuf-c: this arena */
};

/* Returns 0 or -ENOMEM. */
int vt_arena_init(struct vt_arena *a);

/* Everything allocated since the last reset is gone; chunks beyond the
 * first are freed. */
void vt_arena_reset(struct vt_arena *a);

void vt_arena_fini(struct vt_arena *a);

/* n bytes aligned for any type, or NULL. */
void *vt_arena_alloc(struct vt_arena *a, size_t n);

#endif /* VT_AGG_ARENA_H */
