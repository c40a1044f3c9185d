/*
 * egress.c - the egress log's writer (egress.h), what the agent runs every
 * minute: counting egress in memory, appending one hash-chained record per
 * interval (one write() and fdatasync()), rotating egress.log to
 * egress.log.1, and at open cutting a torn last line and continuing the
 * chain after the last record.
 *
 * It does not read the log itself: at open the reader (egress_verify.c,
 * through egress_line.h) checks it and says where the chain goes on, and
 * a line is built from the same time, category and hash pieces the reader
 * checks it against.
 *
 * What this file does not do: parse lines (egress_text.c) or verify the
 * chain (egress_verify.c), publish the head (agent.c puts it in the
 * status), or keep published heads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "egress.h"
#include "egress_line.h"
#include "err.h"
#include "log.h"
#include "vt_os.h"

#define VT_EGRESS_LOG_MS 600000		/* repeated errors: one line per 10 min */

#define VT_EGRESS_ERR(e, ...)                                                  \
	do {                                                                   \
		if (vt_ratelimit_ok(&(e)->rl, vt_os_mono_ms(), VT_EGRESS_LOG_MS)) \
			VT_ERROR(__VA_ARGS__);                                 \
	} while (0)

/* A category's counts since the last record. */
struct vt_egress_cat {
	char name[VT_EGRESS_CAT_LEN + 1];
	uint64_t frames, items, bytes;
	int pending;
};

struct vt_egress {
	char path[PATH_MAX], old_path[PATH_MAX], dir[PATH_MAX];
	int fd;				/* egress.log, O_APPEND; -1: reopen at next append */
	uint64_t size;
	uint64_t max_bytes;
	int64_t interval_ms;
	struct vt_egress_cat cats[VT_EGRESS_MAX_CATS];
	unsigned ncats;
	int pending;			/* something was added since the last record */
	int64_t start_ms;		/* first add since the last record */
	int64_t last_ms;		/* last append attempt of this run */
	int written;			/* last_ms is set */
	uint64_t head_seq;
	uint8_t head[32];
	struct vt_egress_report opened;
	struct vt_egress_stats st;
	struct vt_ratelimit rl;
	char line[VT_EGRESS_LINE_MAX + 2];
};

/* ---- open and close ------------------------------------------------------------------ */

/* Open egress.log for appending (creating it 0600) and make its directory
 * entry durable, so that a record synced into it is found after a crash. */
static int vt_egress_open_file(struct vt_egress *e)
{
	struct stat st;
	int rc;

	e->fd = open(e->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (e->fd < 0)
		return -errno;
	if (fstat(e->fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out_close;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(e->fd, 0600) < 0) {
		rc = -errno;
		goto out_close;
	}
	e->size = (uint64_t)st.st_size;
	rc = vt_os_fsync_dir(e->dir);
	if (rc < 0)
		goto out_close;
	return 0;
out_close:
	close(e->fd);
	e->fd = -1;
	return rc;
}

/* Cut the torn last line found by the scan. */
static int vt_egress_cut(struct vt_egress *e, const struct vt_egress_line_cut *cut)
{
	int fd = open(e->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)cut->off) < 0 || fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Say what open found, for the operator. */
static void vt_egress_log_open(const struct vt_egress *e, const struct vt_egress_line_cut *cut)
{
	const struct vt_egress_report *rep = &e->opened;

	if (cut->found && cut->torn)
		VT_WARN("egress: %s: cut the torn last line (line %" PRIu64 ", %" PRIu64 " bytes without an end of line), as a crash or power loss during a write leaves it; the log continues from seq %" PRIu64,
			e->path, cut->line, cut->bytes, e->head_seq);
	else if (cut->found)
		VT_ERROR("egress: %s: cut the last line (line %" PRIu64 ", %" PRIu64 " bytes: %s), which a crash does not explain (damage or an edit; the head published earlier will not match); the log continues from seq %" PRIu64,
			 e->path, cut->line, cut->bytes, cut->why, e->head_seq);
	if (rep->breaks)
		VT_ERROR("egress: %s/%s:%" PRIu64 ": chain broken: %s (%u broken place%s in all); the lines stay as evidence and the log continues after them; run vitrine-agent --egress for the full report",
			 e->dir, rep->break_file, rep->break_line, rep->break_detail, rep->breaks,
			 rep->breaks == 1 ? "" : "s");
}

/* Verify what is there, cut a torn tail, and find where the chain goes on. */
static int vt_egress_resume(struct vt_egress *e)
{
	struct vt_egress_line_cut cut;
	int rc;

	rc = vt_egress_line_scan(e->dir, &e->opened, &cut, &e->head_seq, e->head);
	if (rc < 0) {
		VT_ERROR("egress: cannot read the egress log in %s: %s; not recording egress",
			 e->dir, vt_strerror(rc));
		return rc;
	}
	if (cut.found) {
		rc = vt_egress_cut(e, &cut);
		if (rc < 0) {
			VT_ERROR("egress: cannot cut the torn last line of %s: %s; not recording egress",
				 e->path, vt_strerror(rc));
			return rc;
		}
		e->opened.cut_bytes = cut.bytes;
		e->opened.cut_line = cut.line;
	}
	vt_egress_log_open(e, &cut);
	return 0;
}

int vt_egress_open(struct vt_egress **out, const struct vt_egress_conf *conf)
{
	struct vt_egress *e = calloc(1, sizeof(*e));
	int rc = -ENAMETOOLONG;

	if (!e)
		return -ENOMEM;
	e->fd = -1;
	e->interval_ms = conf->interval_ms > 0 ? conf->interval_ms : VT_EGRESS_INTERVAL_MS;
	e->max_bytes = conf->max_bytes ? conf->max_bytes : VT_EGRESS_MAX_BYTES;
	if (snprintf(e->dir, sizeof(e->dir), "%s", conf->dir) >= (int)sizeof(e->dir) ||
	    snprintf(e->path, sizeof(e->path), "%s/" VT_EGRESS_FILE, conf->dir) >=
		    (int)sizeof(e->path) ||
	    snprintf(e->old_path, sizeof(e->old_path), "%s/" VT_EGRESS_OLD_FILE, conf->dir) >=
		    (int)sizeof(e->old_path))
		goto out_free;
	rc = vt_os_mkdir_p(e->dir, 0700);
	if (rc < 0) {
		VT_ERROR("egress: cannot create %s: %s; not recording egress", e->dir,
			 vt_strerror(rc));
		goto out_free;
	}
	rc = vt_egress_resume(e);
	if (rc < 0)
		goto out_free;
	rc = vt_egress_open_file(e);
	if (rc < 0) {
		VT_ERROR("egress: cannot open %s for appending: %s; not recording egress", e->path,
			 vt_strerror(rc));
		goto out_free;
	}
	*out = e;
	return 0;
out_free:
	free(e);
	return rc;
}

void vt_egress_close(struct vt_egress *e)
{
	if (!e)
		return;
	if (e->pending)
		vt_egress_flush(e, vt_os_now_ms());
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

/* ---- counting ---------------------------------------------------------------------- */

static struct vt_egress_cat *vt_egress_find(struct vt_egress *e, const char *name)
{
	for (unsigned i = 0; i < e->ncats; i++)
		if (strcmp(e->cats[i].name, name) == 0)
			return &e->cats[i];
	return NULL;
}

static struct vt_egress_cat *vt_egress_register(struct vt_egress *e, const char *name)
{
	struct vt_egress_cat *c;

	if (!vt_egress_line_cat_valid(name)) {
		e->st.refused++;
		VT_EGRESS_ERR(e, "egress: refused a category name that is not [a-z0-9_.]{1,31}; that egress is not recorded (a bug in the caller)");
		return NULL;
	}
	if (e->ncats == VT_EGRESS_MAX_CATS) {
		e->st.refused++;
		VT_EGRESS_ERR(e, "egress: refused category %s: all %d categories are taken; that egress is not recorded (a bug in the caller)",
			      name, VT_EGRESS_MAX_CATS);
		return NULL;
	}
	c = &e->cats[e->ncats++];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);	/* length checked above */
	return c;
}

static uint64_t vt_egress_count_add(uint64_t a, uint64_t b)
{
	return b > VT_EGRESS_COUNT_MAX - a ? VT_EGRESS_COUNT_MAX : a + b;
}

int vt_egress_add(struct vt_egress *e, const char *category, uint64_t frames, uint64_t items,
		  uint64_t bytes, int64_t now_ms)
{
	struct vt_egress_cat *c = category ? vt_egress_find(e, category) : NULL;

	if (!c) {
		c = vt_egress_register(e, category);
		if (!c)
			return vt_egress_line_cat_valid(category) ? -VT_EFULL : -EINVAL;
	}
	if (!frames && !items && !bytes)
		return 0;
	c->frames = vt_egress_count_add(c->frames, frames);
	c->items = vt_egress_count_add(c->items, items);
	c->bytes = vt_egress_count_add(c->bytes, bytes);
	c->pending = 1;
	if (!e->pending)
		e->start_ms = now_ms;
	e->pending = 1;
	return 0;
}

/* ---- appending --------------------------------------------------------------------- */

/* The pending record as a line in e->line, its hash in hash. Returns the
 * length, "\n" included. */
static size_t vt_egress_format(struct vt_egress *e, int64_t now_ms, uint8_t hash[32])
{
	char start[VT_EGRESS_LINE_TIME_LEN + 1], end[VT_EGRESS_LINE_TIME_LEN + 1], hex[65];
	size_t cap = sizeof(e->line), n;

	vt_egress_line_time(e->start_ms, start);
	vt_egress_line_time(now_ms, end);
	n = (size_t)snprintf(e->line, cap, "v1 %" PRIu64 " %s %s", e->head_seq + 1, start, end);
	for (unsigned i = 0; i < e->ncats; i++) {
		const struct vt_egress_cat *c = &e->cats[i];

		if (c->pending)
			n += (size_t)snprintf(e->line + n, cap - n,
					      " %s=%" PRIu64 "/%" PRIu64 "/%" PRIu64, c->name,
					      c->frames, c->items, c->bytes);
	}
	vt_egress_hex(e->head, hex);
	n += (size_t)snprintf(e->line + n, cap - n, " prev=%s", hex);
	(void)vt_egress_line_hash(e->line, n, hash);
	vt_egress_hex(hash, hex);
	n += (size_t)snprintf(e->line + n, cap - n, " hash=%s\n", hex);
	return n;	/* < cap: 16 categories of the longest names fit */
}

/* egress.log becomes egress.log.1; a new egress.log is opened. If the
 * rename fails the log goes on in the same file, past its bound: a record
 * lost is worse than a file too big. */
static int vt_egress_rotate(struct vt_egress *e)
{
	close(e->fd);
	e->fd = -1;
	if (rename(e->path, e->old_path) < 0)
		VT_EGRESS_ERR(e, "egress: cannot rename %s to %s: %s; the log grows past %" PRIu64 " bytes meanwhile",
			      e->path, e->old_path, strerror(errno), e->max_bytes);
	else
		e->st.rotations++;
	return vt_egress_open_file(e);
}

/* Write the line and make it durable; on failure leave the file as it was. */
static int vt_egress_write(struct vt_egress *e, size_t len)
{
	int rc = 0;

	if (e->fd < 0)
		rc = vt_egress_open_file(e);
	else if (e->size > 0 && e->size + len > e->max_bytes)
		rc = vt_egress_rotate(e);
	if (rc < 0)
		return rc;
	rc = vt_os_write_all(e->fd, e->line, len);
	if (rc == 0 && fdatasync(e->fd) < 0)
		rc = -errno;
	if (rc < 0 && ftruncate(e->fd, (off_t)e->size) < 0) {
		/* What is on disk is unknown: start from the file next time. */
		close(e->fd);
		e->fd = -1;
	}
	return rc;
}

static int vt_egress_append(struct vt_egress *e, int64_t now_ms)
{
	uint8_t hash[32];
	size_t len;
	int rc;

	e->last_ms = now_ms;
	e->written = 1;
	if (e->head_seq >= VT_EGRESS_COUNT_MAX) {
		VT_EGRESS_ERR(e, "egress: %s: seq %" PRIu64 " is the last one the format allows; not recording egress",
			      e->path, e->head_seq);
		return -EOVERFLOW;
	}
	len = vt_egress_format(e, now_ms, hash);
	rc = vt_egress_write(e, len);
	if (rc < 0) {
		e->st.write_errors++;
		VT_EGRESS_ERR(e, "egress: cannot append to %s: %s; the counts are kept and written with the next record in %lld s",
			      e->path, vt_strerror(rc), (long long)(e->interval_ms / 1000));
		return rc;
	}
	e->size += len;
	e->head_seq++;
	memcpy(e->head, hash, 32);
	e->st.records++;
	e->pending = 0;
	for (unsigned i = 0; i < e->ncats; i++) {
		e->cats[i].frames = e->cats[i].items = e->cats[i].bytes = 0;
		e->cats[i].pending = 0;
	}
	return 0;
}

int64_t vt_egress_ms_left(const struct vt_egress *e, int64_t now_ms)
{
	if (!e->pending)
		return -1;
	if (!e->written || now_ms < e->last_ms || now_ms - e->last_ms >= e->interval_ms)
		return 0;
	return e->last_ms + e->interval_ms - now_ms;
}

int vt_egress_tick(struct vt_egress *e, int64_t now_ms)
{
	if (vt_egress_ms_left(e, now_ms) != 0)
		return 0;
	return vt_egress_append(e, now_ms);
}

int vt_egress_flush(struct vt_egress *e, int64_t now_ms)
{
	return e->pending ? vt_egress_append(e, now_ms) : 0;
}

void vt_egress_head(const struct vt_egress *e, uint8_t hash[32], uint64_t *seq)
{
	memcpy(hash, e->head, 32);
	*seq = e->head_seq;
}

const struct vt_egress_report *vt_egress_opened(const struct vt_egress *e)
{
	return &e->opened;
}

const struct vt_egress_stats *vt_egress_stats(const struct vt_egress *e)
{
	return &e->st;
}
