/*
 * spool.c - segment files of sealed frames, repaired at open (spool.h).
 *
 * In memory the spool keeps, per segment, an index of its records (16-32
 * bytes each), so that acknowledgments, rewinds and drops never read the
 * files; frames are read back with pread() only when they are published.
 * Records before a segment's `done` mark are acknowledged (or dropped);
 * the publisher's cursor (cur_seg, cur_rec) runs between that mark and the
 * last durable record. Only the last segment is ever written to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "be.h"
#include "crc32c.h"
#include "err.h"
#include "log.h"
#include "spool.h"
#include "vt_os.h"

#define VT_SPOOL_REC_MIN (VT_SPOOL_HEADER + VT_SPOOL_META)
#define VT_SPOOL_SEG_MIN 4096u
#define VT_SPOOL_SEG_MAX (4u << 20)
#define VT_SPOOL_SUFFIX ".vts"
#define VT_SPOOL_LOG_MS 60000
#define VT_SPOOL_ACKED_FILE "acked"
#define VT_SPOOL_ACKED_MS 1000	/* save the ack at most this often */

/* Errors that can repeat with every frame: one line a minute. */
#define VT_SPOOL_ERR(s, ...)                                                   \
	do {                                                                   \
		if (vt_ratelimit_ok(&(s)->rl, vt_os_mono_ms(), VT_SPOOL_LOG_MS)) \
			VT_ERROR(__VA_ARGS__);                                 \
	} while (0)

struct vt_spool_idx {
	uint64_t seq;
	int64_t wall_ms;
	uint32_t off;		/* of the record header in its segment */
	uint32_t len;		/* frame bytes */
	uint32_t readings;
	uint32_t dead;		/* unreadable: dropped, never sent */
};

struct vt_spool_seg {
	uint64_t id;		/* first seq when created; the file name */
	uint64_t size;		/* bytes of valid records in the file */
	struct vt_spool_idx *recs;
	size_t n, cap;
	size_t done;		/* records acknowledged or dropped */
};

struct vt_spool {
	struct vt_spool_conf conf;
	char *dir;
	struct vt_spool_seg *segs;
	size_t nseg, segcap;
	uint64_t disk_bytes;	/* sum of segment sizes */
	uint64_t seg_limit;	/* start a new segment beyond this */
	int fd;			/* the last segment, open for writing; -1: none */
	int dir_dirty;		/* a segment was created since the last sync */
	size_t synced;		/* records of the last segment covered by fsync */
	uint32_t unsynced;
	int64_t unsynced_since;
	size_t cur_seg, cur_rec;
	int rfd;		/* read side of segment rfd_id, -1: none */
	uint64_t rfd_id;
	uint8_t *buf;		/* read buffer: one record */
	size_t bufcap;
	uint64_t last_seq;
	uint64_t acked_saved;	/* the value in ACKED_FILE */
	int64_t acked_saved_ms;
	struct vt_ratelimit rl, drop_rl;
	struct vt_spool_stats st;
};

static const char *const vt_spool_drop_names[VT_SPOOL_DROP_COUNT] = {
	[VT_SPOOL_DROP_FULL] = "full",
	[VT_SPOOL_DROP_AGE] = "too_old",
	[VT_SPOOL_DROP_CORRUPT] = "corrupt",
	[VT_SPOOL_DROP_WRITE] = "write_error",
};

const char *vt_spool_drop_name(enum vt_spool_drop why)
{
	return why < VT_SPOOL_DROP_COUNT ? vt_spool_drop_names[why] : "?";
}

/* ---- record encoding --------------------------------------------------------------- */

/* The CRC of a record: its length field, then the body. */
static uint32_t vt_spool_crc(const uint8_t *len_field, const uint8_t *body, size_t body_len)
{
	return vt_crc32c(vt_crc32c(0, len_field, 4), body, body_len);
}

static void vt_spool_encode_head(uint8_t head[VT_SPOOL_REC_MIN], uint64_t seq, int64_t wall_ms,
				 uint32_t readings, const uint8_t *frame, size_t len)
{
	uint32_t crc;

	vt_put_be32(head, (uint32_t)(VT_SPOOL_META + len));
	vt_put_be64(head + 8, seq);
	vt_put_be64(head + 16, (uint64_t)wall_ms);
	vt_put_be32(head + 24, readings);
	crc = vt_crc32c(vt_crc32c(vt_crc32c(0, head, 4), head + 8, VT_SPOOL_META), frame, len);
	vt_put_be32(head + 4, crc);
}

/* Is there a valid record at off (after seq `after`)? Fills idx. */
static int vt_spool_rec_at(const uint8_t *data, size_t size, size_t off, uint64_t after,
			   struct vt_spool_idx *idx)
{
	const uint8_t *p = data + off;
	uint32_t len;

	if (size - off < VT_SPOOL_REC_MIN)
		return 0;
	len = vt_get_be32(p);
	if (len < VT_SPOOL_META || len > VT_SPOOL_BODY_MAX || len > size - off - VT_SPOOL_HEADER)
		return 0;
	idx->seq = vt_get_be64(p + 8);
	if (idx->seq <= after)
		return 0;
	if (vt_spool_crc(p, p + VT_SPOOL_HEADER, len) != vt_get_be32(p + 4))
		return 0;
	idx->wall_ms = (int64_t)vt_get_be64(p + 16);
	idx->readings = vt_get_be32(p + 24);
	idx->off = (uint32_t)off;
	idx->len = len - VT_SPOOL_META;
	idx->dead = 0;
	return 1;
}

/* ---- scanning a segment ------------------------------------------------------------ */

struct vt_spool_scan {
	uint64_t last_seq;	/* in: records must follow it; out: the last good one */
	size_t valid_end;	/* end of the last good record */
	uint64_t corrupt_regions, corrupt_bytes, cut_bytes;
};

typedef int (*vt_spool_rec_fn)(void *arg, const struct vt_spool_idx *idx);

/* Walk the records of one segment image; damaged bytes between good records
 * are a corrupt region, damaged bytes after the last good one a torn tail. */
static int vt_spool_scan_image(const uint8_t *data, size_t size, struct vt_spool_scan *sc,
			       vt_spool_rec_fn fn, void *arg)
{
	struct vt_spool_idx idx;
	size_t off = 0;

	sc->valid_end = 0;
	while (off < size) {
		size_t next = off;
		int rc;

		while (next < size && !vt_spool_rec_at(data, size, next, sc->last_seq, &idx))
			next++;
		if (next >= size) {
			sc->cut_bytes += size - off;
			break;
		}
		if (next > off) {
			sc->corrupt_regions++;
			sc->corrupt_bytes += next - off;
		}
		rc = fn(arg, &idx);
		if (rc)
			return rc;
		sc->last_seq = idx.seq;
		off = next + VT_SPOOL_REC_MIN + idx.len;
		sc->valid_end = off;
	}
	return 0;
}

static int vt_spool_seg_name(uint64_t *id, const char *name)
{
	char *end;

	if (strlen(name) != 16 + strlen(VT_SPOOL_SUFFIX) || strcmp(name + 16, VT_SPOOL_SUFFIX))
		return 0;
	if (strspn(name, "0123456789abcdef") != 16)
		return 0;
	*id = strtoull(name, &end, 16);
	return 1;
}

static int vt_spool_cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The segment ids found in dir, sorted. */
static int vt_spool_list(const char *dir, uint64_t **ids, size_t *n)
{
	size_t cap = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	*ids = NULL;
	*n = 0;
	if (!d)
		return -errno;
	/* A listing cut short must not read as a spool with fewer segments:
	 * readdir() says so only through errno (EOVERFLOW, say, for a 32-bit
	 * build without 64-bit file offsets on a filesystem of large inodes). */
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		uint64_t id;

		if (!vt_spool_seg_name(&id, e->d_name))
			continue;
		if (*n == cap) {
			uint64_t *grown = realloc(*ids, (cap ? 2 * cap : 16) * sizeof(**ids));

			if (!grown) {
				closedir(d);
				return -ENOMEM;
			}
			*ids = grown;
			cap = cap ? 2 * cap : 16;
		}
		(*ids)[(*n)++] = id;
	}
	if (errno) {
		int err = -errno;

		closedir(d);
		free(*ids);
		*ids = NULL;
		*n = 0;
		return err;
	}
	closedir(d);
	if (*n > 1)
		qsort(*ids, *n, sizeof(**ids), vt_spool_cmp_id);
	return 0;
}

static void vt_spool_path(char *buf, size_t len, const char *dir, uint64_t id)
{
	snprintf(buf, len, "%s/%016" PRIx64 VT_SPOOL_SUFFIX, dir, id);
}

/* ---- the saved acknowledgment ------------------------------------------------------ */

/* The highest ack applied, saved next to the segments so that a restart
 * does not send acknowledged frames of a partly acknowledged segment again.
 * Not fsynced: losing it costs duplicates, not data. 0 when absent. */
static uint64_t vt_spool_load_acked(const char *dir)
{
	char path[PATH_MAX], *text, *end;
	uint64_t v = 0;
	size_t len;

	snprintf(path, sizeof(path), "%s/" VT_SPOOL_ACKED_FILE, dir);
	if (vt_os_read_file(path, 32, &text, &len) < 0)
		return 0;
	v = strtoull(text, &end, 10);
	if (end == text || (*end && *end != '\n'))
		v = 0;
	free(text);
	return v;
}

static void vt_spool_save_acked(struct vt_spool *s, int64_t mono_ms)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[32];
	int fd, n, ok;

	if (snprintf(path, sizeof(path), "%s/" VT_SPOOL_ACKED_FILE, s->dir) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/" VT_SPOOL_ACKED_FILE ".tmp", s->dir) >= (int)sizeof(tmp))
		return;
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", s->st.acked_seq);
	s->acked_saved_ms = mono_ms;	/* on failure too: retry in a second */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ok = write(fd, text, (size_t)n) == n;
	ok &= close(fd) == 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return;
	}
	s->acked_saved = s->st.acked_seq;
}

/* ---- open and close ---------------------------------------------------------------- */

static int vt_spool_idx_push(void *arg, const struct vt_spool_idx *idx)
{
	struct vt_spool_seg *g = arg;

	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		struct vt_spool_idx *grown = realloc(g->recs, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		g->recs = grown;
		g->cap = cap;
	}
	g->recs[g->n++] = *idx;
	return 0;
}

static struct vt_spool_seg *vt_spool_seg_add(struct vt_spool *s, uint64_t id)
{
	struct vt_spool_seg *g;

	if (s->nseg == s->segcap) {
		size_t cap = s->segcap ? 2 * s->segcap : 16;
		struct vt_spool_seg *grown = realloc(s->segs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		s->segs = grown;
		s->segcap = cap;
	}
	g = &s->segs[s->nseg++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	return g;
}

static void vt_spool_count_pending(struct vt_spool *s, const struct vt_spool_idx *r, int sign)
{
	uint64_t bytes = VT_SPOOL_REC_MIN + (uint64_t)r->len;

	if (sign > 0) {
		s->st.frames++;
		s->st.readings += r->readings;
		s->st.bytes += bytes;
	} else {
		s->st.frames--;
		s->st.readings -= r->readings;
		s->st.bytes -= bytes;
	}
}

/* Load one segment file: index its records, cut a torn tail, make what
 * survived durable. An empty or all-damaged segment is removed. */
static int vt_spool_load(struct vt_spool *s, uint64_t id, struct vt_spool_scan *sc)
{
	char path[PATH_MAX];
	char *data = NULL;
	size_t size = 0;
	uint64_t cut_before = sc->cut_bytes, bad_before = sc->corrupt_regions;
	struct vt_spool_seg *g;
	int rc, fd;

	vt_spool_path(path, sizeof(path), s->dir, id);
	rc = vt_os_read_file(path, (size_t)VT_SPOOL_BODY_MAX * 8, &data, &size);
	if (rc < 0) {
		VT_WARN("spool: cannot read %s: %s; skipping it", path, vt_strerror(rc));
		return 0;
	}
	g = vt_spool_seg_add(s, id);
	if (!g) {
		free(data);
		return -ENOMEM;
	}
	rc = vt_spool_scan_image((const uint8_t *)data, size, sc, vt_spool_idx_push, g);
	free(data);
	if (rc < 0)
		return rc;
	g->size = sc->valid_end;
	if (sc->cut_bytes != cut_before || sc->corrupt_regions != bad_before)
		VT_WARN("spool: %s damaged: %llu bytes of torn tail cut, %llu damaged regions skipped; %zu intact frames kept",
			path, (unsigned long long)(sc->cut_bytes - cut_before),
			(unsigned long long)(sc->corrupt_regions - bad_before), g->n);
	if (g->n == 0) {
		unlink(path);
		free(g->recs);
		s->nseg--;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (size != g->size && ftruncate(fd, (off_t)g->size) < 0)
			VT_WARN("spool: cannot cut %s: %s", path, strerror(errno));
		fsync(fd);
		close(fd);
	}
	s->disk_bytes += g->size;
	for (size_t i = 0; i < g->n; i++)
		vt_spool_count_pending(s, &g->recs[i], 1);
	return 0;
}

static int vt_spool_scan_dir(struct vt_spool *s)
{
	struct vt_spool_scan sc = { 0 };
	uint64_t *ids;
	size_t n;
	int rc;

	rc = vt_spool_list(s->dir, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = vt_spool_load(s, ids[i], &sc);
	free(ids);
	if (rc < 0)
		return rc;
	s->last_seq = sc.last_seq;
	s->st.cut_bytes = sc.cut_bytes;
	s->st.corrupt_bytes = sc.corrupt_bytes;
	s->st.dropped_frames[VT_SPOOL_DROP_CORRUPT] = sc.corrupt_regions;
	return 0;
}

/* Segments of 1/16 of the bound, or of the space the file system has
 * left if that is smaller, so that a full disk always has an old segment
 * to give up: dropping it frees room for new frames. */
static void vt_spool_size_segments(struct vt_spool *s)
{
	uint64_t limit = s->conf.max_bytes / 16;
	struct statvfs fs;

	if (statvfs(s->dir, &fs) == 0) {
		uint64_t room = (uint64_t)fs.f_bavail * fs.f_frsize + s->disk_bytes;

		if (room / 16 < limit)
			limit = room / 16;
	}
	if (limit < VT_SPOOL_SEG_MIN)
		limit = VT_SPOOL_SEG_MIN;
	if (limit > VT_SPOOL_SEG_MAX)
		limit = VT_SPOOL_SEG_MAX;
	s->seg_limit = limit;
}

int vt_spool_open(struct vt_spool **out, const struct vt_spool_conf *conf)
{
	struct vt_spool *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->conf = *conf;
	s->fd = s->rfd = -1;
	s->dir = strdup(conf->dir);
	s->bufcap = VT_SPOOL_REC_MIN + (size_t)conf->max_frame;
	s->buf = malloc(s->bufcap);
	if (!s->dir || !s->buf) {
		rc = -ENOMEM;
		goto out_free;
	}
	s->conf.dir = s->dir;
	rc = vt_os_mkdir_p(s->dir, 0700);
	if (rc == 0)
		rc = vt_spool_scan_dir(s);
	if (rc == 0) {
		vt_spool_size_segments(s);
		s->acked_saved = vt_spool_load_acked(s->dir);
		vt_spool_ack(s, s->acked_saved);
		/* Acknowledged frames were sealed here, even if none is left. */
		if (s->acked_saved > s->last_seq)
			s->last_seq = s->acked_saved;
		s->st.retired_frames = s->st.retired_readings = 0;
	}
	if (rc < 0)
		goto out_free;
	*out = s;
	return 0;
out_free:
	vt_spool_close(s);
	return rc;
}

void vt_spool_close(struct vt_spool *s)
{
	if (!s)
		return;
	vt_spool_sync(s, 0, 1);
	if (s->st.acked_seq != s->acked_saved)
		vt_spool_save_acked(s, 0);
	if (s->fd >= 0)
		close(s->fd);
	if (s->rfd >= 0)
		close(s->rfd);
	for (size_t i = 0; i < s->nseg; i++)
		free(s->segs[i].recs);
	free(s->segs);
	free(s->buf);
	free(s->dir);
	free(s);
}

/* ---- dropping and retiring --------------------------------------------------------- */

static struct vt_spool_seg *vt_spool_active(struct vt_spool *s)
{
	return s->fd >= 0 ? &s->segs[s->nseg - 1] : NULL;
}

/* Delete the first segment (all its records are done). */
static void vt_spool_remove_first(struct vt_spool *s)
{
	char path[PATH_MAX];
	struct vt_spool_seg *g = &s->segs[0];

	if (s->fd >= 0 && s->nseg == 1) {
		close(s->fd);
		s->fd = -1;
		s->synced = 0;
		s->unsynced = 0;
	}
	if (s->rfd >= 0 && s->rfd_id == g->id) {
		close(s->rfd);
		s->rfd = -1;
	}
	vt_spool_path(path, sizeof(path), s->dir, g->id);
	if (unlink(path) < 0 && errno != ENOENT)
		VT_WARN("spool: cannot delete %s: %s", path, strerror(errno));
	s->disk_bytes -= g->size;
	free(g->recs);
	memmove(&s->segs[0], &s->segs[1], (s->nseg - 1) * sizeof(*s->segs));
	s->nseg--;
	if (s->cur_seg > 0)
		s->cur_seg--;
	else
		s->cur_rec = s->nseg ? s->segs[0].done : 0;
}

/* Drop the oldest segment and count what it still held. */
static void vt_spool_drop_first(struct vt_spool *s, enum vt_spool_drop why)
{
	struct vt_spool_seg *g = &s->segs[0];
	uint64_t frames = 0, readings = 0;

	for (size_t i = g->done; i < g->n; i++) {
		if (g->recs[i].dead)
			continue;
		frames++;
		readings += g->recs[i].readings;
		vt_spool_count_pending(s, &g->recs[i], -1);
	}
	g->done = g->n;
	s->st.dropped_frames[why] += frames;
	s->st.dropped_readings[why] += readings;
	if (frames && vt_ratelimit_ok(&s->drop_rl, vt_os_mono_ms(), VT_SPOOL_LOG_MS))
		VT_WARN("spool %s: dropped the oldest %llu frames (%llu readings); %llu frames dropped for this reason so far",
			vt_spool_drop_name(why), (unsigned long long)frames,
			(unsigned long long)readings, (unsigned long long)s->st.dropped_frames[why]);
	vt_spool_remove_first(s);
}

uint64_t vt_spool_ack(struct vt_spool *s, uint64_t seq)
{
	uint64_t retired = 0;

	if (seq > s->st.acked_seq)
		s->st.acked_seq = seq;
	while (s->nseg > 0) {
		struct vt_spool_seg *g = &s->segs[0];

		while (g->done < g->n && g->recs[g->done].seq <= seq) {
			struct vt_spool_idx *r = &g->recs[g->done++];

			if (r->dead)
				continue;
			vt_spool_count_pending(s, r, -1);
			s->st.retired_frames++;
			s->st.retired_readings += r->readings;
			retired++;
		}
		if (g->done < g->n)
			break;
		/* Fully acknowledged, even the one being written: delete it, so
		 * that a restart does not find (and send) those frames again. */
		vt_spool_remove_first(s);
	}
	if (s->nseg > 0 && s->cur_seg == 0 && s->cur_rec < s->segs[0].done)
		s->cur_rec = s->segs[0].done;
	return retired;
}

void vt_spool_expire(struct vt_spool *s, int64_t wall_ms)
{
	if (wall_ms < VT_OS_CLOCK_SET_MS)
		return;
	while (s->conf.max_age_ms && s->nseg > 0) {
		struct vt_spool_seg *g = &s->segs[0];
		int64_t newest = g->n ? g->recs[g->n - 1].wall_ms : wall_ms;

		/* A segment written before the clock was set has no known age. */
		if (newest < VT_OS_CLOCK_SET_MS || wall_ms - newest <= (int64_t)s->conf.max_age_ms)
			break;
		vt_spool_drop_first(s, VT_SPOOL_DROP_AGE);
	}
}

/* ---- appending and syncing --------------------------------------------------------- */

int vt_spool_sync(struct vt_spool *s, int64_t mono_ms, int force)
{
	if (s->st.acked_seq != s->acked_saved &&
	    (force || mono_ms - s->acked_saved_ms >= VT_SPOOL_ACKED_MS))
		vt_spool_save_acked(s, mono_ms);
	if (s->fd < 0 || s->unsynced == 0)
		return 0;
	if (!force && s->conf.sync_ms && s->unsynced < s->conf.sync_frames &&
	    mono_ms - s->unsynced_since < (int64_t)s->conf.sync_ms)
		return 0;
	if (fdatasync(s->fd) < 0) {
		int rc = -errno;

		VT_SPOOL_ERR(s, "spool: fsync failed: %s; frames wait in memory", strerror(errno));
		return rc;
	}
	if (s->dir_dirty) {
		int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		s->dir_dirty = 0;
	}
	s->st.fsyncs++;
	s->synced = s->segs[s->nseg - 1].n;
	s->unsynced = 0;
	return 0;
}

int64_t vt_spool_ms_left(const struct vt_spool *s, int64_t mono_ms)
{
	int64_t left;

	if (s->fd < 0 || s->unsynced == 0)
		return -1;
	left = s->unsynced_since + s->conf.sync_ms - mono_ms;
	return left > 0 ? left : 0;
}

/* Close the last segment (synced first) so the next append starts one. */
static int vt_spool_roll(struct vt_spool *s)
{
	int rc = vt_spool_sync(s, 0, 1);

	if (rc < 0)
		return rc;
	close(s->fd);
	s->fd = -1;
	s->synced = 0;
	return 0;
}

static int vt_spool_new_segment(struct vt_spool *s, uint64_t seq)
{
	char path[PATH_MAX];
	int fd;

	vt_spool_path(path, sizeof(path), s->dir, seq);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (!vt_spool_seg_add(s, seq)) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	s->fd = fd;
	s->synced = 0;
	s->dir_dirty = 1;
	return 0;
}

/* Make room for need more bytes under max_bytes; never drops the only
 * segment being written to while it holds unsent frames... unless it is
 * the only thing left to drop. */
static void vt_spool_make_room(struct vt_spool *s, uint64_t need)
{
	while (s->nseg > 0 && s->disk_bytes + need > s->conf.max_bytes)
		vt_spool_drop_first(s, VT_SPOOL_DROP_FULL);
}

static int vt_spool_write(struct vt_spool *s, uint64_t seq, uint32_t readings, int64_t wall_ms,
			  const uint8_t *frame, size_t len)
{
	uint8_t head[VT_SPOOL_REC_MIN];
	struct vt_spool_seg *g = vt_spool_active(s);
	struct iovec iov[2] = { { head, sizeof(head) }, { (void *)frame, len } };
	size_t total = sizeof(head) + len;
	struct vt_spool_idx idx = { seq, wall_ms, 0, (uint32_t)len, readings, 0 };
	ssize_t n;
	int rc;

	if (g && g->n > 0 && g->size + total > s->seg_limit) {
		rc = vt_spool_roll(s);
		if (rc < 0)
			return rc;
		g = NULL;
	}
	if (!g) {
		rc = vt_spool_new_segment(s, seq);
		if (rc < 0)
			return rc;
		g = vt_spool_active(s);
	}
	vt_spool_encode_head(head, seq, wall_ms, readings, frame, len);
	n = pwritev(s->fd, iov, 2, (off_t)g->size);
	if (n != (ssize_t)total) {
		rc = n < 0 ? -errno : -ENOSPC;
		if (ftruncate(s->fd, (off_t)g->size) < 0)
			VT_WARN("spool: cannot undo a partial write: %s", strerror(errno));
		return rc;
	}
	idx.off = (uint32_t)g->size;
	rc = vt_spool_idx_push(g, &idx);
	if (rc < 0)
		return rc;	/* the bytes stay in the file; open() will find them */
	g->size += total;
	s->disk_bytes += total;
	return 0;
}

int vt_spool_append(struct vt_spool *s, uint64_t seq, uint32_t readings, int64_t wall_ms,
		    const uint8_t *frame, size_t len, int64_t mono_ms)
{
	uint64_t total = VT_SPOOL_REC_MIN + (uint64_t)len;
	int rc;

	if (len > s->conf.max_frame || seq <= s->last_seq) {
		rc = len > s->conf.max_frame ? -VT_ETOOBIG : -EINVAL;
		goto out_drop;
	}
	vt_spool_make_room(s, total);
	rc = vt_spool_write(s, seq, readings, wall_ms, frame, len);
	/* The disk is full before our bound: give up the oldest segments, at
	 * most those we had (the disk may be full of something else). */
	for (size_t tries = s->nseg; (rc == -ENOSPC || rc == -EDQUOT) && tries > 0 &&
				      s->nseg > 0 && s->segs[0].n > 0; tries--) {
		vt_spool_drop_first(s, VT_SPOOL_DROP_FULL);
		rc = vt_spool_write(s, seq, readings, wall_ms, frame, len);
	}
	if (rc < 0)
		goto out_drop;
	s->last_seq = seq;
	s->st.appended_frames++;
	s->st.appended_bytes += total;
	s->st.frames++;
	s->st.readings += readings;
	s->st.bytes += total;
	if (s->unsynced++ == 0)
		s->unsynced_since = mono_ms;
	return vt_spool_sync(s, mono_ms, 0);
out_drop:
	s->st.dropped_frames[VT_SPOOL_DROP_WRITE]++;
	s->st.dropped_readings[VT_SPOOL_DROP_WRITE] += readings;
	VT_SPOOL_ERR(s, "spool: cannot store frame %llu (%u readings): %s; %llu frames lost this way",
		    (unsigned long long)seq, readings, vt_strerror(rc),
		    (unsigned long long)s->st.dropped_frames[VT_SPOOL_DROP_WRITE]);
	return rc;
}

/* ---- reading back ------------------------------------------------------------------ */

uint64_t vt_spool_last_seq(const struct vt_spool *s)
{
	return s->last_seq;
}

uint64_t vt_spool_floor(const struct vt_spool *s, uint64_t next_seq)
{
	for (size_t i = 0; i < s->nseg; i++) {
		const struct vt_spool_seg *g = &s->segs[i];

		for (size_t r = g->done; r < g->n; r++)
			if (!g->recs[r].dead)
				return g->recs[r].seq;
	}
	return next_seq;
}

/* Records of segment i that may be handed out (durable ones). */
static size_t vt_spool_sendable(const struct vt_spool *s, size_t i)
{
	return s->fd >= 0 && i == s->nseg - 1 ? s->synced : s->segs[i].n;
}

static int vt_spool_read_fd(struct vt_spool *s, size_t i)
{
	char path[PATH_MAX];

	if (s->fd >= 0 && i == s->nseg - 1)
		return s->fd;
	if (s->rfd >= 0 && s->rfd_id == s->segs[i].id)
		return s->rfd;
	if (s->rfd >= 0)
		close(s->rfd);
	vt_spool_path(path, sizeof(path), s->dir, s->segs[i].id);
	s->rfd = open(path, O_RDONLY | O_CLOEXEC);
	s->rfd_id = s->segs[i].id;
	return s->rfd;
}

/* An indexed record could not be read back: never send it, count it. */
static void vt_spool_kill(struct vt_spool *s, struct vt_spool_idx *r, const char *why)
{
	r->dead = 1;
	vt_spool_count_pending(s, r, -1);
	s->st.dropped_frames[VT_SPOOL_DROP_CORRUPT]++;
	s->st.dropped_readings[VT_SPOOL_DROP_CORRUPT] += r->readings;
	VT_SPOOL_ERR(s, "spool: frame %llu unreadable (%s); dropped", (unsigned long long)r->seq, why);
}

/* Room in the read buffer for a record of total bytes. */
static int vt_spool_buf(struct vt_spool *s, size_t total)
{
	uint8_t *b;

	if (total <= s->bufcap)
		return 0;
	b = realloc(s->buf, total);
	if (!b)
		return -ENOMEM;
	s->buf = b;
	s->bufcap = total;
	return 0;
}

int vt_spool_peek(struct vt_spool *s, struct vt_spool_rec *rec)
{
	for (;;) {
		struct vt_spool_idx *r, check;
		size_t total;
		ssize_t n;
		int fd, rc;

		while (s->cur_seg < s->nseg && s->cur_rec >= vt_spool_sendable(s, s->cur_seg)) {
			if (s->cur_seg + 1 >= s->nseg)
				return 0;
			s->cur_rec = s->segs[++s->cur_seg].done;
		}
		if (s->cur_seg >= s->nseg)
			return 0;
		r = &s->segs[s->cur_seg].recs[s->cur_rec];
		if (r->dead) {
			s->cur_rec++;
			continue;
		}
		total = VT_SPOOL_REC_MIN + r->len;
		rc = vt_spool_buf(s, total);
		fd = rc < 0 ? -1 : vt_spool_read_fd(s, s->cur_seg);
		if (fd < 0) {
			/* Out of memory or descriptors: the frame waits, we retry. */
			rc = rc < 0 ? rc : -errno;
			VT_SPOOL_ERR(s, "spool: cannot read frame %llu back: %s; will retry",
				     (unsigned long long)r->seq, vt_strerror(rc));
			return rc;
		}
		n = pread(fd, s->buf, total, r->off);
		if (n < 0 && errno != EIO) {
			rc = -errno;
			VT_SPOOL_ERR(s, "spool: cannot read frame %llu back: %s; will retry",
				     (unsigned long long)r->seq, strerror(errno));
			return rc;
		}
		if (n != (ssize_t)total || !vt_spool_rec_at(s->buf, total, 0, r->seq - 1, &check) ||
		    check.seq != r->seq) {
			vt_spool_kill(s, r, n < 0 ? "I/O error" : "damaged on disk");
			s->cur_rec++;
			continue;
		}
		rec->seq = r->seq;
		rec->readings = r->readings;
		rec->frame = s->buf + VT_SPOOL_REC_MIN;
		rec->len = r->len;
		return 1;
	}
}

void vt_spool_advance(struct vt_spool *s)
{
	if (s->cur_seg < s->nseg)
		s->cur_rec++;
}

void vt_spool_rewind(struct vt_spool *s)
{
	s->cur_seg = 0;
	s->cur_rec = s->nseg ? s->segs[0].done : 0;
}

uint64_t vt_spool_outstanding(const struct vt_spool *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nseg && i <= s->cur_seg; i++) {
		const struct vt_spool_seg *g = &s->segs[i];
		size_t end = i == s->cur_seg ? s->cur_rec : g->n;

		for (size_t r = g->done; r < end && r < g->n; r++)
			n += !g->recs[r].dead;
	}
	return n;
}

const struct vt_spool_stats *vt_spool_stats(struct vt_spool *s)
{
	s->st.oldest_wall_ms = 0;
	for (size_t i = 0; i < s->nseg && !s->st.oldest_wall_ms; i++) {
		const struct vt_spool_seg *g = &s->segs[i];

		for (size_t r = g->done; r < g->n; r++)
			if (!g->recs[r].dead) {
				s->st.oldest_wall_ms = g->recs[r].wall_ms;
				break;
			}
	}
	return &s->st;
}

/* ---- inspection -------------------------------------------------------------------- */

struct vt_spool_visit {
	uint64_t acked;
	struct vt_spool_stats *st;
	int (*fn)(void *, uint64_t, uint32_t, int64_t, size_t);
	void *arg;
};

static int vt_spool_visit_rec(void *arg, const struct vt_spool_idx *idx)
{
	struct vt_spool_visit *v = arg;

	if (idx->seq <= v->acked)
		return 0;
	v->st->frames++;
	v->st->readings += idx->readings;
	v->st->bytes += VT_SPOOL_REC_MIN + (uint64_t)idx->len;
	if (!v->st->oldest_wall_ms)
		v->st->oldest_wall_ms = idx->wall_ms;
	return v->fn ? v->fn(v->arg, idx->seq, idx->readings, idx->wall_ms, idx->len) : 0;
}

int vt_spool_inspect(const char *dir, struct vt_spool_stats *stats,
		     int (*fn)(void *arg, uint64_t seq, uint32_t readings, int64_t wall_ms,
			       size_t len), void *arg)
{
	struct vt_spool_visit v = { vt_spool_load_acked(dir), stats, fn, arg };
	struct vt_spool_scan sc = { 0 };
	uint64_t *ids;
	size_t n;
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = vt_spool_list(dir, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[PATH_MAX];
		char *data;
		size_t size;

		vt_spool_path(path, sizeof(path), dir, ids[i]);
		rc = vt_os_read_file(path, (size_t)VT_SPOOL_BODY_MAX * 8, &data, &size);
		if (rc == -ENOENT) {	/* retired by the running agent meanwhile */
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		rc = vt_spool_scan_image((const uint8_t *)data, size, &sc, vt_spool_visit_rec, &v);
		free(data);
	}
	free(ids);
	stats->acked_seq = v.acked;
	stats->cut_bytes = sc.cut_bytes;
	stats->corrupt_bytes = sc.corrupt_bytes;
	stats->dropped_frames[VT_SPOOL_DROP_CORRUPT] = sc.corrupt_regions;
	return rc < 0 ? rc : 0;
}
