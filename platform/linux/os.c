/*
 * platform/linux/os.c - vt_os.h on Linux (glibc or musl).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "vt_os.h"

static int64_t vt_os_clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vt_os_now_ms(void)
{
	return vt_os_clock_ms(CLOCK_REALTIME);
}

/* CLOCK_BOOTTIME, not CLOCK_MONOTONIC: it goes on during a suspend, so a
 * key's lifetime (pseudonym.h) and every timer count the time asleep. */
int64_t vt_os_mono_ms(void)
{
	return vt_os_clock_ms(CLOCK_BOOTTIME);
}

int vt_os_ntp_synced(int adjtimex_result, int status)
{
	if (adjtimex_result < 0)
		return adjtimex_result;
	return adjtimex_result != TIME_ERROR && !(status & STA_UNSYNC);
}

int vt_os_clock_ntp_synced(void)
{
	struct timex tx = { .modes = 0 };	/* read only */
	int rc = adjtimex(&tx);

	return vt_os_ntp_synced(rc < 0 ? -errno : rc, tx.status);
}

int vt_os_clock_timesyncd_synced(void)
{
	return access("/run/systemd/timesync/synchronized", F_OK) == 0;
}

/* "a7c275b2-77f8-43f9-ba6d-46cdf8b9c2bc\n": 32 hex digits and dashes. */
int vt_os_boot_id(uint8_t id[VT_OS_BOOT_ID_LEN])
{
	char text[64];
	size_t n = 0;
	ssize_t len;
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len < 0)
		return -EIO;
	for (ssize_t i = 0; i < len && n < 2 * VT_OS_BOOT_ID_LEN; i++) {
		int c = text[i], v;

		if (c == '-' || c == '\n')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -EINVAL;
		id[n / 2] = (uint8_t)(n % 2 ? id[n / 2] | v : v << 4);
		n++;
	}
	return n == 2 * VT_OS_BOOT_ID_LEN ? 0 : -EINVAL;
}

int vt_os_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vt_os_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vt_os_pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int vt_os_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int vt_os_dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else if ((size_t)(slash - path) < n)
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
	else
		return -ENAMETOOLONG;
	return 0;
}

static int vt_os_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int rc = vt_os_dir_of(path, dir, sizeof(dir));

	return rc < 0 ? rc : vt_os_fsync_dir(dir);
}

int vt_os_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX];
	int fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	rc = vt_os_write_all(fd, data, len);
	if (rc == 0 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return rc;
	}
	return vt_os_fsync_dir_of(path);
}

int vt_os_read_file(const char *path, size_t max, char **data, size_t *len)
{
	char *buf = NULL;
	size_t used = 0, cap = 0;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Sized to the file: read into one buffer, no copy left behind by a
	 * realloc (the opt-out list wipes its buffer after use). */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max) {
		cap = (size_t)st.st_size + 2;
		buf = malloc(cap);
		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf;

			if (cap > max + 1) {
				rc = -EFBIG;
				goto out;
			}
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int vt_os_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return (int)(st.st_mode & 0777);
}

int vt_os_chmod(const char *path, unsigned mode)
{
	return chmod(path, (mode_t)mode) < 0 ? -errno : 0;
}

int vt_os_mkdir_p(const char *dir, unsigned mode)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void *vt_os_secret_alloc(size_t len, int *locked)
{
	void *p;

	*locked = 0;
	if (len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Best effort both: an unprivileged process may have a tiny
	 * RLIMIT_MEMLOCK; the caller reports whether the lock held. */
	(void)madvise(p, len, MADV_DONTDUMP);
	*locked = mlock(p, len) == 0;
	return p;
}

void vt_os_secret_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	(void)munlock(p, len);
	munmap(p, len);
}

void *vt_os_pages_alloc(size_t len)
{
	void *p;

	if (len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void vt_os_pages_zero(void *p, size_t len)
{
	/* A private anonymous mapping reads as zeros after MADV_DONTNEED;
	 * should it fail (it does not on Linux), write the zeros. */
	if (p && madvise(p, len, MADV_DONTNEED) != 0)
		memset(p, 0, len);
}

void vt_os_pages_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* Overwrite a file's bytes in place with zeros and sync them (a rename over
 * it would leave the old blocks untouched). On flash storage the old pages
 * may still survive in the card's remapping: best effort. */
int vt_os_zero_file(const char *path)
{
	static const uint8_t zero[512];
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	for (off_t off = 0; rc == 0 && off < st.st_size; off += (off_t)sizeof(zero)) {
		size_t n = (size_t)(st.st_size - off) < sizeof(zero) ? (size_t)(st.st_size - off)
								    : sizeof(zero);

		rc = vt_os_pwrite_all(fd, zero, n, (uint64_t)off);
	}
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
