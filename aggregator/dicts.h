/*
 * dicts.h - the zstd dictionaries the aggregator holds, by id: every
 * *.zdict file in its 'dictionaries' directory (agent/zstd_dict.h says
 * what they are for).
 *
 * A frame names its dictionary by id in its zstd frame header. An id not
 * held makes the directory be read again, at most once every
 * VT_AGG_DICTS_RESCAN_MS, so that a dictionary copied in while the
 * aggregator runs is taken without a restart.
 */
#ifndef VT_AGG_DICTS_H
#define VT_AGG_DICTS_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#define VT_AGG_DICTS_RESCAN_MS 10000
#define VT_AGG_DICTS_MAX 256

struct vt_agg_dicts;

/* Reads every *.zdict file in dir (NULL: none, ever). A file that is not a
 * dictionary, or a second file with an id already held, is an error:
 * returns -VT_ECONFIG or -errno with "dir/file: what" in err. 0 with *out
 * set otherwise (free with vt_agg_dicts_free()). */
int vt_agg_dicts_open(struct vt_agg_dicts **out, const char *dir, char *err, size_t errlen);

void vt_agg_dicts_free(struct vt_agg_dicts *d);

/* The dictionary with this id, or NULL. On a miss, reads the directory for
 * new files if it was not read in the last VT_AGG_DICTS_RESCAN_MS (mono_ms
 * is now); a bad new file is then logged and skipped. */
const ZSTD_DDict *vt_agg_dicts_find(struct vt_agg_dicts *d, uint32_t id, int64_t mono_ms);

/* How many are held. */
size_t vt_agg_dicts_count(const struct vt_agg_dicts *d);

#endif /* VT_AGG_DICTS_H */
