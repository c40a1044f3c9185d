/*
 * state.h - small durable counters in the agent's state directory.
 *
 * The sequence number must never repeat for one device, even across a crash
 * or a power cut, because the aggregator rejects a repeated number as a
 * replay and because (seq, epoch key) is the AEAD nonce. So the agent
 * persists a *reserved* high-water mark ahead of use: it writes
 * "next + block" durably, then hands out numbers up to it without touching
 * the disk. A crash loses at most `block` numbers (a gap the aggregator can
 * see), never reuses one. The key epoch is a counter bumped at every start.
 */
#ifndef VT_STATE_H
#define VT_STATE_H

#include <stdint.h>

/* Make an existing directory of the agent's (state_dir, spool_dir) private:
 * a mode that lets group or others in is narrowed to 0700, with a warning
 * naming the old mode (keys, spool and checkpoint live there). */
void vt_state_dir_private(const char *dir);

/* Read the decimal counter in dir/name (0 when the file does not exist). */
int vt_state_load(const char *dir, const char *name, uint64_t *value);
/* Write it durably (atomic rename + fsync). */
int vt_state_store(const char *dir, const char *name, uint64_t value);

struct vt_seq {
	char *dir;
	uint64_t next;		/* next number to hand out */
	uint64_t reserved;	/* numbers < reserved are safe to use */
	uint32_t block;
};

/* Resume the sequence from dir ("seq" file). Caller frees with vt_seq_close. */
int vt_seq_open(struct vt_seq *s, const char *dir, uint32_t block);
/* Next sequence number; persists a new reservation when needed. */
int vt_seq_take(struct vt_seq *s, uint64_t *seq);
void vt_seq_close(struct vt_seq *s);

#endif
