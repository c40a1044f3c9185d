/*
 * spool.h - the crash-safe spool of sealed frames, on disk.
 *
 * Every sealed frame is appended to a segment file in the spool directory
 * and stays there until the aggregator acknowledges that its database holds
 * it (ack.h). The spool is the only queue between sealer and broker: the
 * publisher reads frames back from it, and after a reconnect or an ack
 * time-out it rewinds to the first unacknowledged frame.
 *
 * Segment files are named by the sequence number of their first record
 * (%016llx.vts) and hold records
 *
 *   length u32 | CRC-32C u32 | seq u64 | wall_ms i64 | readings u32 | frame
 *
 * all big-endian; length counts from seq to the end of the frame, and the
 * CRC covers the length field and those bytes. A frame is *durable* (the
 * durability point of docs/PROTOCOL.md) once the fsync of a group commit
 * covers it; only durable frames are handed to the publisher.
 *
 * At open, a torn tail (a record cut by a crash) is cut off, and a damaged
 * record in the middle is skipped (resynchronising on the next record whose
 * CRC verifies) and counted; nothing in a spool can crash the agent.
 * Bounded by bytes and by age: the oldest segment goes first, and every
 * frame dropped this way is counted by reason. The highest acknowledgment
 * is saved in the file "acked" (about once a second, not fsynced), so that
 * a restart does not send the acknowledged frames of a partly acknowledged
 * segment again; losing it costs duplicates, never data.
 */
#ifndef VT_SPOOL_H
#define VT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define VT_SPOOL_HEADER 8		/* length + CRC */
#define VT_SPOOL_META 20		/* seq + wall_ms + readings */
#define VT_SPOOL_BODY_MAX (16u << 20)	/* largest record body accepted at open */

enum vt_spool_drop {
	VT_SPOOL_DROP_FULL = 0,		/* over spool_max_bytes, or the disk is full */
	VT_SPOOL_DROP_AGE,		/* older than spool_max_age_s */
	VT_SPOOL_DROP_CORRUPT,		/* damaged on disk (found at open) */
	VT_SPOOL_DROP_WRITE,		/* could not be written at all */
	VT_SPOOL_DROP_COUNT
};

struct vt_spool_conf {
	const char *dir;		/* created if missing (0700) */
	uint64_t max_bytes;		/* bound on the segment files' total size */
	uint64_t max_age_ms;		/* 0: no age bound */
	uint32_t sync_ms;		/* group commit: fsync within this; 0: every frame */
	uint32_t sync_frames;		/* ... or once this many frames wait */
	uint32_t max_frame;		/* largest frame append() accepts */
};

struct vt_spool_stats {
	/* Waiting for the aggregator's acknowledgment. */
	uint64_t frames, readings, bytes;
	int64_t oldest_wall_ms;		/* append time of the oldest, 0 if none */
	uint64_t acked_seq;		/* highest acknowledgment applied */
	uint64_t dropped_frames[VT_SPOOL_DROP_COUNT];
	uint64_t dropped_readings[VT_SPOOL_DROP_COUNT]; /* unknown for CORRUPT */
	uint64_t corrupt_bytes;		/* skipped in the middle of segments */
	uint64_t cut_bytes;		/* torn tails cut at open */
	uint64_t appended_frames, appended_bytes, fsyncs;
	uint64_t retired_frames, retired_readings;	/* acknowledged and deleted */
};

/* One record as the publisher sees it. */
struct vt_spool_rec {
	uint64_t seq;
	uint32_t readings;
	const uint8_t *frame;		/* valid until the next spool call */
	size_t len;
};

struct vt_spool;

/* Open (scan, repair) the spool in conf->dir. What was cut or skipped is
 * in the stats and logged. Returns 0 or -errno (directory unusable). */
int vt_spool_open(struct vt_spool **out, const struct vt_spool_conf *conf);
/* Sync what is pending and close. NULL is a no-op. */
void vt_spool_close(struct vt_spool *s);

/* Append one sealed frame. Makes room by dropping the oldest segments
 * (counted) when over max_bytes or when the disk is full. Returns 0, or a
 * negative code when the frame could not be written (counted as
 * VT_SPOOL_DROP_WRITE). */
int vt_spool_append(struct vt_spool *s, uint64_t seq, uint32_t readings, int64_t wall_ms,
		    const uint8_t *frame, size_t len, int64_t mono_ms);

/* Group commit: fsync if due at mono_ms (or if force and anything waits);
 * also saves the acknowledgment when it changed. Returns 0 or -errno (the
 * frames stay unsynced and are retried). */
int vt_spool_sync(struct vt_spool *s, int64_t mono_ms, int force);
/* Milliseconds until a sync is due, -1 if nothing waits. */
int64_t vt_spool_ms_left(const struct vt_spool *s, int64_t mono_ms);

/* Drop what is older than max_age_ms at wall_ms (counted). */
void vt_spool_expire(struct vt_spool *s, int64_t wall_ms);

/* The delivery chain (batch.proto): the last appended seq (0 if unknown)
 * and the lowest seq still waiting (next_seq when nothing waits). */
uint64_t vt_spool_last_seq(const struct vt_spool *s);
uint64_t vt_spool_floor(const struct vt_spool *s, uint64_t next_seq);

/* The next durable frame not yet handed to the publisher, read from disk.
 * Returns 1 (rec filled), 0 (none), or a negative code when it cannot be
 * read now (memory, descriptors): it stays, try again later. A frame that
 * reads back damaged is skipped and counted as corrupt. */
int vt_spool_peek(struct vt_spool *s, struct vt_spool_rec *rec);
/* The peeked frame was handed to the publisher. */
void vt_spool_advance(struct vt_spool *s);
/* Start again from the first unacknowledged frame. */
void vt_spool_rewind(struct vt_spool *s);
/* Frames handed to the publisher and not yet acknowledged. */
uint64_t vt_spool_outstanding(const struct vt_spool *s);

/* The aggregator acknowledged everything up to seq: retire those frames and
 * delete the segments left empty. Returns the number of frames retired. */
uint64_t vt_spool_ack(struct vt_spool *s, uint64_t seq);

/* The counters, with oldest_wall_ms brought up to date. */
const struct vt_spool_stats *vt_spool_stats(struct vt_spool *s);
const char *vt_spool_drop_name(enum vt_spool_drop why);

/* Visit every intact, unacknowledged record of the spool in dir without
 * changing it (for "vitrine-agent --spool"); fn returns non-zero to stop.
 * Fills stats with what an open would find (frames, readings, bytes,
 * acked_seq, corrupt and cut). */
int vt_spool_inspect(const char *dir, struct vt_spool_stats *stats,
		     int (*fn)(void *arg, uint64_t seq, uint32_t readings, int64_t wall_ms,
			       size_t len), void *arg);

#endif
