/*
 * samples.h - sample batches for training a zstd dictionary: the
 * decompressed Batch of stored frames, one file each, in the aggregator's
 * sample_dir (vitrine-ctl train-dict reads them).
 */
#ifndef VT_AGG_SAMPLES_H
#define VT_AGG_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

struct vt_agg_samples {
	const char *dir;	/* borrowed; NULL: keep none */
	uint32_t left;		/* how many more to keep */
	int warned;		/* a write failed once: said, not again */
};

/* Keeps buf[len] as dir/<device>-<seq>.pb (mode 0600, an existing file is
 * left as it is) while any are left. Best effort: a failure is logged
 * once and costs nothing else. */
void vt_agg_samples_keep(struct vt_agg_samples *s, const char *device, uint64_t seq,
			 const uint8_t *buf, size_t len);

#endif /* VT_AGG_SAMPLES_H */
