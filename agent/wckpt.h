/*
 * wckpt.h - the checkpoint of anonymous-mode windows: the counts of every
 * plugin's open window, and the released cells not yet durable in the
 * spool, written at each group commit so that a SIGKILL or a power cut
 * loses none of the counts accepted so far.
 *
 * Two files in the state directory, windows.ckpt.a and windows.ckpt.b, are
 * written in turn: a commit overwrites the slot that does NOT hold the
 * newest intact checkpoint, so a crash in the middle of a write leaves the
 * previous checkpoint intact in the other slot. Load takes the intact slot
 * with the highest generation.
 *
 * File format (version 2; version 1 is read too). Text, so that an
 * operator can read it: lines ending in "\n" (no "\r", no tab, no empty
 * line), of tokens separated by exactly one space (none leading or
 * trailing):
 *
 *   vitrine-windows v2 <generation> <next_part> <boot_id>
 *   open <plugin> <start_ms> <length_s> <metric> <dim1> <dim2> <other> <count> <k> <epsilon_milli> <part> <unsynced> <start_mono> <label>
 *   releasing <plugin> ... (the same 14 fields)
 *   ...
 *   end <crc>
 *
 * Version 1 has no <boot_id> and no <unsynced> <start_mono> (read as 0 0).
 *
 * - The first line is the header; the last line is "end" and the CRC-32C
 *   (crc32c.h) of every byte before the "end" line, as 8 lowercase hex
 *   digits; nothing follows its "\n". Between them, zero or more entry
 *   lines, "open" (a count of the plugin's open window) or "releasing" (a
 *   released cell awaiting durable delivery), in the order they were
 *   added; load hands them back in that order.
 * - Numbers are decimal in canonical form: "0", or a digit 1-9 followed by
 *   digits, with a "-" before a negative one ("-0" and "+1" are refused).
 *   generation       1 .. 2^64-1, one more at each commit (after 2^64-1,
 *                    1 again, and the other slot is cut to nothing)
 *   next_part        0 .. 2^64-1
 *   plugin           [a-z0-9_]{1,31}
 *   start_ms         a multiple of length_s * 1000 (negative allowed), with
 *                    start_ms + length_s * 1000 <= 2^63-1
 *   length_s         60 .. 86400
 *   metric           1 .. VT_METRIC_COUNT-1 (enum vt_metric)
 *   dim1, k, epsilon_milli   0 .. 2^32-1
 *   dim2             0 .. 7
 *   other            0 or 1
 *   count            0 .. 2^63-1
 *   part             0 .. 2^64-1
 *   boot_id          32 lowercase hex digits: the boot (vt_os_boot_id) the
 *                    start_mono of the entries count in
 *   unsynced         the clock of the reading that opened the window
 *                    (VT_READING_CLOCK_*): 0 trusted, 1 not trusted yet
 *                    (clock.h), 2 not trusted and of no known boot
 *   start_mono       with unsynced 1, the window start's time since boot
 *                    in ms, -2^50 .. 2^50 (before the boot: negative);
 *                    else 0
 *   label            [A-Za-z0-9_./-]{0,31} (screen names; GTINs are
 *                    digits), written as: "-" when empty; with one more
 *                    "-" in front when it starts with "-" (so the label "-"
 *                    is written "--" and "-x" is "--x"); else as it is. A
 *                    token that starts with "-" is thus either "-" or
 *                    starts with "--"; "-x" is refused.
 * - A file is at most VT_WCKPT_FILE_MAX bytes, a line at most
 *   VT_WCKPT_LINE_MAX bytes with its "\n". A slot that breaks any of these
 *   rules is damaged (torn, bad CRC, bad syntax) and is skipped whole: no
 *   entry of it reaches the caller.
 *
 * Only this module reads and writes the files. It does not log: the caller
 * says what load found. It keeps no reading or identifier, only counts.
 */
#ifndef VT_WCKPT_H
#define VT_WCKPT_H

#include <stdint.h>

#include "reading.h"
#include "vt_os.h"

#define VT_WCKPT_FILE_A "windows.ckpt.a"
#define VT_WCKPT_FILE_B "windows.ckpt.b"
#define VT_WCKPT_FILE_MAX (4u << 20)	/* 16 plugins x 2 windows of 520 cells fit twice */
#define VT_WCKPT_LINE_MAX 256		/* the longest entry line is about 215 bytes */
#define VT_WCKPT_LENGTH_MIN 60
#define VT_WCKPT_LENGTH_MAX 86400
#define VT_WCKPT_DIM2_MAX 7
#define VT_WCKPT_PLUGIN_MAX 32
#define VT_WCKPT_MONO_MAX (1LL << 50)

struct vt_wckpt_entry {
	char plugin[VT_WCKPT_PLUGIN_MAX];	/* [a-z0-9_]{1,31} */
	int releasing;		/* 0: a count of the plugin's open window;
				 * 1: a released cell awaiting durable delivery */
	int64_t start_ms;	/* the window's start */
	struct vt_window_cell cell;	/* all fields kept: length_s, metric, dim1, dim2,
					 * label, other, count, k, epsilon_milli, part */
	uint32_t clock_unsynced;	/* the window's clock (window.h) */
	int64_t start_mono;
	/* Set by load: the boot of the checkpoint it came from (all zero for
	 * version 1). add ignores it: the writer's is vt_wckpt_set_boot()'s. */
	uint8_t boot_id[VT_OS_BOOT_ID_LEN];
};

struct vt_wckpt;

/* Writer for dir/windows.ckpt.a and dir/windows.ckpt.b (dir is created
 * 0700 if missing; the files are created 0600). Open reads both slots to
 * find the newest intact checkpoint and its generation; damaged slots are
 * simply overwritten later. *out is freed with vt_wckpt_close(). Returns 0
 * or -errno (a slot that exists but cannot be read, out of memory). */
int vt_wckpt_open(struct vt_wckpt **out, const char *dir);
void vt_wckpt_close(struct vt_wckpt *w);

/* The boot written in the header of the checkpoints committed from now
 * on (all zero until set). */
void vt_wckpt_set_boot(struct vt_wckpt *w, const uint8_t boot_id[VT_OS_BOOT_ID_LEN]);

/* Start a new checkpoint in memory (dropping the one being built);
 * next_part is stored with it. After open, an empty checkpoint with
 * next_part 0 is being built. */
void vt_wckpt_begin(struct vt_wckpt *w, uint64_t next_part);

/* Add one entry (borrowed: copied) to the checkpoint being built. Returns
 * 0, -EINVAL (a field outside the ranges above: a bad plugin name, a label
 * with a forbidden character, releasing not 0/1...; nothing is added),
 * -ENOMEM, or -EFBIG (the file would pass VT_WCKPT_FILE_MAX). The buffer
 * is kept between checkpoints and only grows: once a size has been seen,
 * adding and committing that much again allocates nothing. */
int vt_wckpt_add(struct vt_wckpt *w, const struct vt_wckpt_entry *e);

/* Write the checkpoint being built durably: the whole content to the slot
 * NOT holding the newest intact checkpoint, ftruncate to its length,
 * fdatasync. Returns 0 or -errno; on error the previous checkpoint is
 * still the newest intact one (the slot written is truncated to 0 on a
 * best-effort basis, so that a write reported failed does not come back at
 * load), and commit may be called again. The checkpoint built stays as it
 * is until the next begin. */
int vt_wckpt_commit(struct vt_wckpt *w);

/* Read the newest intact checkpoint of dir: fn is called for each entry in
 * file order (the entry is borrowed for the call; a negative return from
 * fn stops and is returned). *next_part is set (0 when none). Returns 1
 * when a checkpoint was loaded, 0 when there is none, or -errno (a slot
 * that exists but cannot be read: then fn is not called). *damaged counts
 * slots that exist but are not intact (torn, bad CRC, bad syntax, too
 * big): the caller logs it. next_part and damaged may be NULL. Nothing is
 * allocated beyond the files' contents. */
int vt_wckpt_load(const char *dir, uint64_t *next_part,
		  int (*fn)(void *arg, const struct vt_wckpt_entry *e), void *arg, int *damaged);

#endif
