/*
 * zstd_dict.c - read and identify a trained zstd dictionary file (zstd_dict.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zdict.h>
#include <zstd.h>

#include "err.h"
#include "zstd_dict.h"

/* The whole regular file at path, at most VT_ZDICT_MAX bytes. */
static int vt_zdict_read(const char *path, struct vt_zdict *d, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 8 || st.st_size > VT_ZDICT_MAX) {
		snprintf(err, errlen, "%s: not a zstd dictionary (a regular file of 8 bytes to %d KiB)",
			 path, VT_ZDICT_MAX / 1024);
		rc = -VT_ECONFIG;
		goto out_close;
	}
	d->buf = malloc((size_t)st.st_size);
	if (!d->buf) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	n = read(fd, d->buf, (size_t)st.st_size);
	if (n != st.st_size) {
		rc = n < 0 ? -errno : -EIO;
		snprintf(err, errlen, "cannot read %s: %s", path,
			 n < 0 ? strerror(errno) : "short read (file changed?)");
		goto out_close;
	}
	d->len = (size_t)n;
out_close:
	close(fd);
	return rc;
}

int vt_zdict_load(const char *path, struct vt_zdict *d, char *err, size_t errlen)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = vt_zdict_read(path, d, err, errlen);
	if (rc == 0) {
		d->id = ZDICT_getDictID(d->buf, d->len);
		if (d->id == 0) {
			snprintf(err, errlen,
				 "%s: not a zstd dictionary with an id; train one with 'vitrine-ctl train-dict'",
				 path);
			rc = -VT_ECONFIG;
		}
	}
	if (rc == 0) {
		/* The magic and id say nothing of the rest: a damaged or
		 * truncated file would make every ZSTD_compress2() fail. */
		ZSTD_DDict *dd = ZSTD_createDDict(d->buf, d->len);

		if (!dd) {
			snprintf(err, errlen,
				 "%s: dictionary %u is damaged or truncated (zstd cannot load its tables); copy it again from where it was trained",
				 path, d->id);
			rc = -VT_ECONFIG;
		}
		ZSTD_freeDDict(dd);
	}
	if (rc < 0)
		vt_zdict_free(d);
	return rc;
}

void vt_zdict_free(struct vt_zdict *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}
