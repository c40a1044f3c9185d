/*
 * ctl_dict.c - 'train-dict': a zstd dictionary for small batches, trained
 * on sample batches (the Batch messages that the aggregator keeps in its
 * sample_dir, or any files of them).
 *
 * A batch of ten readings has few repeats of its own for zstd to find; a
 * dictionary holds the repeats of typical batches (field tags, site and
 * device ids, plugin names, common values) once, on both sides. The
 * dictionary gets an id from the private range of the zstd format (32768
 * to 2^31 - 1; a random one below 65536 unless --id is given, so that it
 * costs two bytes in each frame), which each frame then names. Training
 * is ZDICT_trainFromBuffer(); ZDICT_finalizeDictionary() then gives the
 * trained content its id and its statistics for the agent's level.
 *
 * What the dictionary gains is measured on the samples themselves and
 * said on stderr: their size compressed alone, and with it.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zdict.h>
#include <zstd.h>

#include "ctl.h"
#include "vt_os.h"
#include "zstd_dict.h"

#define VT_CTL_DICT_SAMPLES_MAX (64u << 20)	/* bytes of samples, in all */
#define VT_CTL_DICT_SAMPLE_MAX (4u << 20)	/* one sample: the aggregator's cap */
#define VT_CTL_DICT_COUNT_MAX 100000u
#define VT_CTL_DICT_SIZE_DEFAULT 16384u
#define VT_CTL_DICT_SIZE_MIN 1024u
#define VT_CTL_DICT_SIZE_MAX (512u << 10)
#define VT_CTL_DICT_LEVEL_DEFAULT 3		/* the agent's zstd_level default */

/* The samples, end to end, and each one's size. */
struct vt_ctl_dict_set {
	uint8_t *buf;
	size_t len, cap;
	size_t *sizes;
	unsigned n, n_cap;
};

static int vt_ctl_dict_add(struct vt_ctl_dict_set *s, const char *path)
{
	char *data;
	size_t len;
	int rc;

	rc = vt_os_read_file(path, VT_CTL_DICT_SAMPLE_MAX, &data, &len);
	if (rc < 0) {
		vt_ctl_error("cannot read sample %s: %s", path,
			     rc == -EFBIG ? "larger than 4 MiB, not a batch" : strerror(-rc));
		return VT_CTL_FAIL;
	}
	if (len == 0) {		/* nothing to learn from */
		free(data);
		return VT_CTL_OK;
	}
	if (s->len + len > VT_CTL_DICT_SAMPLES_MAX || s->n == VT_CTL_DICT_COUNT_MAX) {
		free(data);
		vt_ctl_error("more than %u MiB or %u samples: give fewer", VT_CTL_DICT_SAMPLES_MAX >> 20,
			     VT_CTL_DICT_COUNT_MAX);
		return VT_CTL_FAIL;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1u << 20;
		uint8_t *b;

		while (cap < s->len + len)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b)
			goto out_nomem;
		s->buf = b;
		s->cap = cap;
	}
	if (s->n == s->n_cap) {
		size_t *z = realloc(s->sizes, (s->n_cap ? s->n_cap * 2 : 256) * sizeof(*z));

		if (!z)
			goto out_nomem;
		s->sizes = z;
		s->n_cap = s->n_cap ? s->n_cap * 2 : 256;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->sizes[s->n++] = len;
	free(data);
	return VT_CTL_OK;
out_nomem:
	free(data);
	vt_ctl_error("out of memory reading the samples");
	return VT_CTL_FAIL;
}

/* Every regular file directly in dir, in name order. */
static int vt_ctl_dict_add_dir(struct vt_ctl_dict_set *s, const char *dir)
{
	char path[PATH_MAX];
	struct dirent **ents = NULL;
	struct stat st;
	int n, rc = VT_CTL_OK;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		vt_ctl_error("cannot list %s: %s", dir, strerror(errno));
		return VT_CTL_FAIL;
	}
	for (int i = 0; i < n; i++) {
		if (rc == VT_CTL_OK && ents[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rc = vt_ctl_dict_add(s, path);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int vt_ctl_dict_gather(struct vt_ctl_dict_set *s, int argc, char **argv)
{
	struct stat st;
	int rc = VT_CTL_OK;

	for (int i = 0; i < argc && rc == VT_CTL_OK; i++) {
		if (stat(argv[i], &st) < 0) {
			vt_ctl_error("cannot read sample %s: %s", argv[i], strerror(errno));
			return VT_CTL_FAIL;
		}
		rc = S_ISDIR(st.st_mode) ? vt_ctl_dict_add_dir(s, argv[i]) : vt_ctl_dict_add(s, argv[i]);
	}
	return rc;
}

/* The samples' total size compressed one by one at level, with dict or
 * without (NULL); 0 on failure. */
static size_t vt_ctl_dict_measure(const struct vt_ctl_dict_set *s, const uint8_t *dict,
				  size_t dict_len, int level)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t out_cap = ZSTD_compressBound(VT_CTL_DICT_SAMPLE_MAX);
	uint8_t *out = malloc(out_cap);
	size_t total = 0, off = 0, n;

	if (!cctx || !out ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
	    (dict && ZSTD_isError(ZSTD_CCtx_loadDictionary(cctx, dict, dict_len))))
		goto out;
	for (unsigned i = 0; i < s->n; i++) {
		n = ZSTD_compress2(cctx, out, out_cap, s->buf + off, s->sizes[i]);
		if (ZSTD_isError(n)) {
			total = 0;
			goto out;
		}
		total += n;
		off += s->sizes[i];
	}
out:
	free(out);
	ZSTD_freeCCtx(cctx);
	return total;
}

/* Trains into dict[size]; returns its length, 0 after an error message. */
static size_t vt_ctl_dict_train(const struct vt_ctl_dict_set *s, uint8_t *dict, size_t size,
				uint32_t id, int level)
{
	ZDICT_params_t params = { .compressionLevel = level, .dictID = id };
	size_t n, hdr;

	n = ZDICT_trainFromBuffer(dict, size, s->buf, s->sizes, s->n);
	if (ZDICT_isError(n)) {
		vt_ctl_error("zstd could not train a dictionary on %u samples (%zu bytes): %s; give more samples (a few hundred batches or more), or a smaller --size",
			     s->n, s->len, ZDICT_getErrorName(n));
		return 0;
	}
	/* Again with our id, the trained content kept as it is. */
	hdr = ZDICT_getDictHeaderSize(dict, n);
	if (ZDICT_isError(hdr) || hdr >= n)
		goto out_bad;
	n = ZDICT_finalizeDictionary(dict, size, dict + hdr, n - hdr, s->buf, s->sizes, s->n,
				     params);
	if (ZDICT_isError(n) || ZDICT_getDictID(dict, n) != id)
		goto out_bad;
	return n;
out_bad:
	vt_ctl_error("zstd could not finalize the dictionary: %s",
		     ZDICT_isError(n) ? ZDICT_getErrorName(n) : "its id did not take");
	return 0;
}

/* A random id in [32768, 65535]: two bytes in each frame's header. */
static int vt_ctl_dict_pick_id(uint32_t *id)
{
	uint16_t r;

	if (vt_os_random(&r, sizeof(r)) < 0)
		return -1;
	*id = VT_ZDICT_ID_MIN + (r % 32768u);
	return 0;
}

struct vt_ctl_dict_opts {
	const char *out;
	uint32_t id;		/* 0: pick one */
	size_t size;
	int level;
};

static int vt_ctl_dict_run(const struct vt_ctl_dict_opts *o, int argc, char **argv)
{
	struct vt_ctl_dict_set s = { 0 };
	uint8_t *dict = NULL;
	size_t n, plain, with;
	uint32_t id = o->id;
	int rc;

	rc = vt_ctl_dict_gather(&s, argc, argv);
	if (rc != VT_CTL_OK)
		goto out;
	rc = VT_CTL_FAIL;
	if (s.n < 8) {
		vt_ctl_error("%u samples: too few to train on; collect a few hundred batches (aggregator sample_dir)",
			     s.n);
		goto out;
	}
	if (!id && vt_ctl_dict_pick_id(&id) < 0) {
		vt_ctl_error("cannot draw a dictionary id: %s", strerror(errno));
		goto out;
	}
	dict = malloc(o->size);
	if (!dict) {
		vt_ctl_error("out of memory");
		goto out;
	}
	n = vt_ctl_dict_train(&s, dict, o->size, id, o->level);
	if (!n)
		goto out;
	rc = vt_os_write_file_atomic(o->out, dict, n, 0644);
	if (rc < 0) {
		vt_ctl_error("cannot write %s: %s", o->out, strerror(-rc));
		rc = VT_CTL_FAIL;
		goto out;
	}
	plain = vt_ctl_dict_measure(&s, NULL, 0, o->level);
	with = vt_ctl_dict_measure(&s, dict, n, o->level);
	fprintf(stderr, VT_CTL_PROG ": wrote %s: zstd dictionary %u, %zu bytes, from %u samples (%zu bytes)\n",
		o->out, id, n, s.n, s.len);
	if (plain && with)
		fprintf(stderr, VT_CTL_PROG ": the samples compress to %.1f bytes each with it, %.1f without (level %d)\n",
			(double)with / s.n, (double)plain / s.n, o->level);
	fprintf(stderr, VT_CTL_PROG ": install it in the aggregator's dictionaries directory first (copy, then rename to *.zdict), then set zstd_dictionary on the devices\n");
	rc = VT_CTL_OK;
out:
	free(dict);
	free(s.buf);
	free(s.sizes);
	return rc;
}

int vt_ctl_cmd_train_dict(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_dict_opts o = { NULL, 0, VT_CTL_DICT_SIZE_DEFAULT, VT_CTL_DICT_LEVEL_DEFAULT };
	uint32_t v;
	int opt;

	(void)conf;
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return vt_ctl_help_ok("train-dict");
		case 'o':
			o.out = optarg;
			break;
		case 'i':
			if (vt_ctl_parse_u32(optarg, VT_ZDICT_ID_MIN, VT_ZDICT_ID_MAX, &o.id) < 0)
				return vt_ctl_usage("train-dict", "--id: a number from 32768 to 2147483647 (the zstd format reserves the others)");
			break;
		case 's':
			if (vt_ctl_parse_u32(optarg, VT_CTL_DICT_SIZE_MIN, VT_CTL_DICT_SIZE_MAX, &v) < 0)
				return vt_ctl_usage("train-dict", "--size: bytes, from 1024 to 524288");
			o.size = v;
			break;
		case 'l':
			if (vt_ctl_parse_u32(optarg, 1, 19, &v) < 0)
				return vt_ctl_usage("train-dict", "--level: 1 to 19, the devices' zstd_level");
			o.level = (int)v;
			break;
		default:
			return vt_ctl_bad_option("train-dict", argv, opt);
		}
	}
	if (!o.out)
		return vt_ctl_usage("train-dict", "expected -o FILE, where to write the dictionary");
	if (optind >= argc)
		return vt_ctl_usage("train-dict", "expected SAMPLE files or directories (the aggregator's sample_dir)");
	return vt_ctl_dict_run(&o, argc - optind, argv + optind);
}
