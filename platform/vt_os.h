/*
 * vt_os.h - the narrow interface between vitrine and the operating system.
 *
 * Everything that touches clocks, randomness or durable files goes through
 * here, so that a port (or a fault-injecting test build) replaces one file:
 * platform/linux/os.c is the real implementation. The build picks the
 * implementation; the code never #ifdefs on the platform.
 */
#ifndef VT_OS_H
#define VT_OS_H

#include <stddef.h>
#include <stdint.h>

/* A wall clock before this (2025-01-01) has not been set: a Raspberry Pi
 * has no real-time clock and boots offline at 1970 or its last shutdown. */
#define VT_OS_CLOCK_SET_MS 1735689600000LL

/* UTC wall clock and monotonic clock (time since boot, suspends included),
 * in milliseconds. */
int64_t vt_os_now_ms(void);
int64_t vt_os_mono_ms(void);

/* Is the wall clock synchronized by an NTP client? (agent/clock.h decides
 * what that means for readings.)
 *
 * vt_os_clock_ntp_synced() reads the kernel's clock discipline without
 * changing it (adjtimex(2) with no mode bit): 1 synchronized, 0 not (yet),
 * or -errno when it cannot be read (-EPERM: a seccomp filter without
 * adjtimex; the systemd unit must allow it, see docs/OPERATIONS.md).
 * vt_os_ntp_synced() is its decision on what adjtimex returned (TIME_OK ..
 * TIME_ERROR, or -errno) and the status word, apart so that tests hand it
 * any state: synchronized = no error, state not TIME_ERROR and STA_UNSYNC
 * clear.
 *
 * vt_os_clock_timesyncd_synced(): 1 when systemd-timesyncd synchronized the
 * clock since boot (it creates /run/systemd/timesync/synchronized), else 0;
 * read without a system call a seccomp filter could refuse. */
int vt_os_clock_ntp_synced(void);
int vt_os_ntp_synced(int adjtimex_result, int status);
int vt_os_clock_timesyncd_synced(void);

#define VT_OS_BOOT_ID_LEN 16
/* The kernel's id of this boot (/proc/sys/kernel/random/boot_id), new at
 * every boot: times since boot (vt_os_mono_ms) of two boots never mix.
 * Returns 0 or -errno. */
int vt_os_boot_id(uint8_t id[VT_OS_BOOT_ID_LEN]);

/* Fill buf with len bytes from the kernel's CSPRNG. Returns 0 or -errno. */
int vt_os_random(void *buf, size_t len);

/* Replace path with data atomically and durably: write a temporary file in
 * the same directory with the given mode, fsync it, rename it over path,
 * fsync the directory. Returns 0 or -errno. */
int vt_os_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Read a whole file of at most max bytes into a new NUL-terminated buffer
 * (caller frees with free()). The buffer is sized to the file when opened,
 * so a file that does not grow meanwhile leaves no other copy in memory.
 * Returns 0, -errno, or -EFBIG past max. */
int vt_os_read_file(const char *path, size_t max, char **data, size_t *len);

/* The directory part of path into dir (n bytes): "." for a bare name,
 * "/" for a file at the root. Returns 0 or -ENAMETOOLONG. */
int vt_os_dir_of(const char *path, char *dir, size_t n);

/* Make dir's entries durable (fsync of the directory): after creating or
 * renaming a file in it. Returns 0 or -errno. */
int vt_os_fsync_dir(const char *dir);

/* All of data to fd (write(2) at its offset, or pwrite(2) at off), going on
 * after short writes and EINTR. Returns 0 or -errno (-EIO: nothing written). */
int vt_os_write_all(int fd, const void *data, size_t len);
int vt_os_pwrite_all(int fd, const void *data, size_t len, uint64_t off);

/* Overwrite path's bytes in place with zeros and sync them (a rename over
 * it would leave the old blocks untouched; flash may still keep old pages
 * in its remapping: best effort). Returns 0 or -errno. */
int vt_os_zero_file(const char *path);

/* The permission bits (st_mode & 0777) of path, or -errno. */
int vt_os_mode(const char *path);
/* chmod(2). Returns 0 or -errno. */
int vt_os_chmod(const char *path, unsigned mode);

/* Create dir (and parents) with mode if missing. Returns 0 or -errno. */
int vt_os_mkdir_p(const char *dir, unsigned mode);

/* Memory for secrets: zeroed, page-aligned, kept out of core dumps and,
 * where the system allows (RLIMIT_MEMLOCK, CAP_IPC_LOCK), locked in RAM so
 * that it never reaches swap. *locked says whether mlock succeeded. NULL
 * when out of memory. vt_os_secret_free() wipes before unmapping. */
void *vt_os_secret_alloc(size_t len, int *locked);
void vt_os_secret_free(void *p, size_t len);

/* Zero-filled memory straight from the kernel, for large tables that are
 * mostly empty (window cells, de-duplication sets): a page costs RAM only
 * once written. vt_os_pages_zero() makes the table zero again by handing
 * its pages back (RAM used drops), without touching them. NULL when out of
 * memory. */
void *vt_os_pages_alloc(size_t len);
void vt_os_pages_zero(void *p, size_t len);
void vt_os_pages_free(void *p, size_t len);

#endif
