/*
 * zstd_dict.h - a trained zstd dictionary file: read, checked and identified.
 *
 * Small batches compress poorly on their own (a batch of 10 readings has
 * little to find repeats in); a dictionary trained on sample batches
 * (vitrine-ctl train-dict) gives zstd the repeats in advance. The agent
 * compresses with one (zstd_dictionary), the aggregator holds every one it
 * knows (dictionaries), and a frame names its dictionary by id in the zstd
 * frame header (RFC 8878, Dictionary_ID), which the AEAD covers.
 */
#ifndef VT_ZSTD_DICT_H
#define VT_ZSTD_DICT_H

#include <stddef.h>
#include <stdint.h>

/* Larger files are refused: a trained dictionary is 1 to 100 KB. */
#define VT_ZDICT_MAX (1024 * 1024)
/* Ids below are reserved by the zstd format for a public registry, as are
 * ids from 2^31 up; vitrine-ctl train-dict draws them in between. */
#define VT_ZDICT_ID_MIN 32768u
#define VT_ZDICT_ID_MAX 0x7fffffffu

struct vt_zdict {
	uint8_t *buf;		/* the whole file, owned */
	size_t len;
	uint32_t id;		/* never 0 */
};

/* Reads path into d and checks that zstd can load it. On error returns
 * -errno or -VT_ECONFIG with what is wrong in err ("<path>: not a zstd
 * dictionary with an id; train one with 'vitrine-ctl train-dict'"); d is
 * then empty. Free with vt_zdict_free(). */
int vt_zdict_load(const char *path, struct vt_zdict *d, char *err, size_t errlen);

void vt_zdict_free(struct vt_zdict *d);

#endif /* VT_ZSTD_DICT_H */
