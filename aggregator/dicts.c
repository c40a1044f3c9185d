/*
 * dicts.c - the zstd dictionaries the aggregator holds (dicts.h).
 *
 * A small array kept sorted by id; each entry is a digested ZSTD_DDict,
 * made once. Files are never read again once held: a dictionary is
 * immutable, named by its id, and a changed file under an old id would
 * make old frames undecodable, so it is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicts.h"
#include "err.h"
#include "log.h"
#include "zstd_dict.h"

struct vt_agg_dict {
	uint32_t id;
	ZSTD_DDict *ddict;
	char name[256];			/* its file, in dir */
};

struct vt_agg_dicts {
	char *dir;			/* NULL: none */
	struct vt_agg_dict items[VT_AGG_DICTS_MAX];
	size_t n;
	int64_t scanned_ms;		/* mono time of the last read of dir */
};

static long vt_agg_dicts_index(const struct vt_agg_dicts *d, uint32_t id)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->items[mid].id == id)
			return (long)mid;
		if (d->items[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;	/* where it would go, encoded */
}

static int vt_agg_dicts_is_zdict(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".zdict") == 0;
}

/* dir/name into the set. A second file with an id already held is refused
 * (which of the two would be right cannot be told). */
static int vt_agg_dicts_add(struct vt_agg_dicts *d, const char *name, char *err, size_t errlen)
{
	char path[4096];
	struct vt_zdict z;
	long at;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", d->dir, name) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", d->dir, name);
		return -VT_ECONFIG;
	}
	rc = vt_zdict_load(path, &z, err, errlen);
	if (rc < 0)
		return rc;
	at = vt_agg_dicts_index(d, z.id);
	if (at >= 0) {
		snprintf(err, errlen, "%s: dictionary id %u is held already, from %s: one file per id",
			 path, z.id, d->items[at].name);
		rc = -VT_ECONFIG;
		goto out;
	}
	if (d->n == VT_AGG_DICTS_MAX) {
		snprintf(err, errlen, "%s: more than %d dictionaries: remove old ones", path,
			 VT_AGG_DICTS_MAX);
		rc = -VT_ECONFIG;
		goto out;
	}
	at = -at - 1;
	memmove(&d->items[at + 1], &d->items[at], (d->n - (size_t)at) * sizeof(d->items[0]));
	d->items[at].id = z.id;
	snprintf(d->items[at].name, sizeof(d->items[at].name), "%s", name);
	d->items[at].ddict = ZSTD_createDDict(z.buf, z.len);
	if (!d->items[at].ddict) {
		memmove(&d->items[at], &d->items[at + 1], (d->n - (size_t)at) * sizeof(d->items[0]));
		snprintf(err, errlen, "%s: zstd refused the dictionary", path);
		rc = -VT_ECONFIG;
		goto out;
	}
	d->n++;
	VT_INFO("zstd dictionary %u from %s (%zu bytes)", z.id, path, z.len);
out:
	vt_zdict_free(&z);
	return rc;
}

static int vt_agg_dicts_has_file(const struct vt_agg_dicts *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->items[i].name, name) == 0)
			return 1;
	return 0;
}

/* Reads the *.zdict files of dir not read before. strict: the first bad
 * file is the error; otherwise bad files are logged and skipped. */
static int vt_agg_dicts_scan(struct vt_agg_dicts *d, int strict, char *err, size_t errlen)
{
	struct dirent **ents = NULL;
	int n, rc = 0;

	n = scandir(d->dir, &ents, NULL, alphasort);
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "dictionaries %s: cannot list it: %s", d->dir, strerror(errno));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0 && vt_agg_dicts_is_zdict(ents[i]->d_name) &&
		    !vt_agg_dicts_has_file(d, ents[i]->d_name)) {
			int r = vt_agg_dicts_add(d, ents[i]->d_name, err, errlen);

			if (r < 0 && strict)
				rc = r;
			else if (r < 0)
				VT_WARN("%s; skipped", err);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int vt_agg_dicts_open(struct vt_agg_dicts **out, const char *dir, char *err, size_t errlen)
{
	struct vt_agg_dicts *d = calloc(1, sizeof(*d));
	int rc = -ENOMEM;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	if (dir) {
		d->dir = strdup(dir);
		if (!d->dir)
			goto out_free;
		rc = vt_agg_dicts_scan(d, 1, err, errlen);
		if (rc < 0)
			goto out_free;
	}
	*out = d;
	return 0;
out_free:
	vt_agg_dicts_free(d);
	return rc;
}

void vt_agg_dicts_free(struct vt_agg_dicts *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		ZSTD_freeDDict(d->items[i].ddict);
	free(d->dir);
	free(d);
}

const ZSTD_DDict *vt_agg_dicts_find(struct vt_agg_dicts *d, uint32_t id, int64_t mono_ms)
{
	char err[300];
	long at = vt_agg_dicts_index(d, id);

	if (at >= 0)
		return d->items[at].ddict;
	if (!d->dir || (d->scanned_ms && mono_ms - d->scanned_ms < VT_AGG_DICTS_RESCAN_MS))
		return NULL;
	d->scanned_ms = mono_ms;
	if (vt_agg_dicts_scan(d, 0, err, sizeof(err)) < 0)
		VT_WARN("%s", err);
	at = vt_agg_dicts_index(d, id);
	return at >= 0 ? d->items[at].ddict : NULL;
}

size_t vt_agg_dicts_count(const struct vt_agg_dicts *d)
{
	return d->n;
}
