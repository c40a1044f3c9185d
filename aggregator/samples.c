/*
 * samples.c - keep sample batches for vitrine-ctl train-dict (samples.h).
 *
 * The Batches are what the devices sent, anonymized on the device, and
 * what the database holds anyway; the files are 0600 all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "samples.h"

void vt_agg_samples_keep(struct vt_agg_samples *s, const char *device, uint64_t seq,
			 const uint8_t *buf, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd;

	if (!s->dir || !s->left)
		return;
	if (snprintf(path, sizeof(path), "%s/%s-%llu.pb", s->dir, device,
		     (unsigned long long)seq) >= (int)sizeof(path))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno != EEXIST && !s->warned) {
			VT_WARN("sample_dir: cannot create %s: %s; no more samples are kept this run",
				path, strerror(errno));
			s->warned = 1;
			s->left = 0;
		}
		return;
	}
	n = write(fd, buf, len);
	if (close(fd) < 0 || n != (ssize_t)len) {
		unlink(path);
		if (!s->warned)
			VT_WARN("sample_dir: cannot write %s (disk full?); no more samples are kept this run",
				path);
		s->warned = 1;
		s->left = 0;
		return;
	}
	if (--s->left == 0)
		VT_INFO("sample_dir %s: kept the run's sample_frames batches; train with 'vitrine-ctl train-dict -o FILE %s'",
			s->dir, s->dir);
}
