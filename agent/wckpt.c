/*
 * wckpt.c - the window checkpoint's two slot files (wckpt.h): the writer,
 * which builds the text of a checkpoint in one buffer kept between commits
 * and writes it over the slot not holding the newest intact checkpoint,
 * and the strict reader, which checks a slot whole (size, CRC, every
 * line's syntax and ranges) before it hands any entry to the caller.
 *
 * The writer and the reader share one idea of a valid entry
 * (vt_wckpt_valid): whatever add accepts, load reads back, and the reader
 * accepts only the canonical text the writer would write, so a loaded
 * checkpoint written again is the same bytes but for the generation (and
 * the boot in the header; a version 1 checkpoint comes back as version 2,
 * its entries with the clock fields 0 0).
 *
 * What this file does not do: decide what goes into a checkpoint or what
 * a loaded one means (privacy.c), or log (the caller does).
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

#include "crc32c.h"
#include "vt_os.h"
#include "wckpt.h"

#define VT_WCKPT_MAGIC "vitrine-windows"
#define VT_WCKPT_V1 "v1"
#define VT_WCKPT_VERSION "v2"
#define VT_WCKPT_HEAD_ROOM 128	/* the longest header line is 94 bytes */
#define VT_WCKPT_END_LEN 13	/* "end " + 8 hex digits + "\n" */
#define VT_WCKPT_FIELDS_V1 13	/* tokens of an entry line */
#define VT_WCKPT_FIELDS 15
#define VT_WCKPT_BOOT_HEX (2 * VT_OS_BOOT_ID_LEN)
#define VT_WCKPT_BUF_MIN 4096

struct vt_wckpt {
	char dir[PATH_MAX];
	char path[2][PATH_MAX];
	int fd[2];		/* -1: opened at the next commit to the slot */
	int newest;		/* slot of the newest intact checkpoint; -1: none */
	uint64_t generation;	/* its generation; 0: none */
	uint64_t next_part;	/* of the checkpoint being built */
	uint8_t boot_id[VT_OS_BOOT_ID_LEN];	/* written in the header */
	/* VT_WCKPT_HEAD_ROOM bytes where commit puts the header, the entry
	 * lines (len bytes), room for the end line. Only grows. */
	char *buf;
	size_t len, cap;
};

/* One slot as read from disk. */
enum vt_wckpt_state { VT_WCKPT_ABSENT, VT_WCKPT_DAMAGED, VT_WCKPT_INTACT };

struct vt_wckpt_slot {
	char *data;
	size_t len;
	enum vt_wckpt_state state;
	uint64_t generation, next_part;
};

/* What the header says besides the generation and next part. */
struct vt_wckpt_head {
	int version;		/* 1 or 2 */
	uint8_t boot_id[VT_OS_BOOT_ID_LEN];
};

/* ---- what an entry may hold --------------------------------------------------------- */

/* Plugin names are [a-z0-9_]; labels add what screen names may hold
 * (vt_reading_str_ok: [A-Za-z0-9_./-]; GTINs are digits). */
static int vt_wckpt_chars_ok(const char *s, size_t n, int label)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      (label && ((c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '/'))))
			return 0;
	}
	return 1;
}

/* The ranges of wckpt.h, checked by add and by the reader alike. */
static int vt_wckpt_valid(const struct vt_wckpt_entry *e)
{
	const struct vt_window_cell *c = &e->cell;
	size_t plugin_len = strnlen(e->plugin, VT_WCKPT_PLUGIN_MAX);
	size_t label_len = strnlen(c->label, VT_WINDOW_LABEL_MAX);
	int64_t length_ms;

	if (e->releasing != 0 && e->releasing != 1)
		return 0;
	if (plugin_len == 0 || plugin_len == VT_WCKPT_PLUGIN_MAX ||
	    !vt_wckpt_chars_ok(e->plugin, plugin_len, 0) || label_len == VT_WINDOW_LABEL_MAX ||
	    !vt_wckpt_chars_ok(c->label, label_len, 1))
		return 0;
	if (c->length_s < VT_WCKPT_LENGTH_MIN || c->length_s > VT_WCKPT_LENGTH_MAX ||
	    c->metric < 1 || c->metric >= VT_METRIC_COUNT || c->dim2 > VT_WCKPT_DIM2_MAX ||
	    c->other > 1 || c->count > (uint64_t)INT64_MAX)
		return 0;
	if (e->clock_unsynced > VT_READING_CLOCK_LOST ||
	    (e->clock_unsynced != VT_READING_CLOCK_UNSYNCED && e->start_mono != 0) ||
	    e->start_mono < -VT_WCKPT_MONO_MAX || e->start_mono > VT_WCKPT_MONO_MAX)
		return 0;
	length_ms = (int64_t)c->length_s * 1000;
	return e->start_ms % length_ms == 0 && e->start_ms <= INT64_MAX - length_ms;
}

/* ---- the reader ---------------------------------------------------------------------- */

struct vt_wckpt_tok {
	const char *p;
	size_t n;
};

/* Split the line [p, p + n) ("\n" excluded) into exactly want tokens
 * separated by single spaces. Returns 0 or -1. */
static int vt_wckpt_split(const char *p, size_t n, struct vt_wckpt_tok *t, int want)
{
	size_t start = 0;
	int i = 0;

	for (size_t j = 0; j <= n; j++) {
		if (j < n && p[j] != ' ')
			continue;
		if (j == start || i == want)
			return -1;
		t[i].p = p + start;
		t[i].n = j - start;
		i++;
		start = j + 1;
	}
	return i == want ? 0 : -1;
}

static int vt_wckpt_is(const struct vt_wckpt_tok *t, const char *word)
{
	return t->n == strlen(word) && memcmp(t->p, word, t->n) == 0;
}

/* A canonical unsigned decimal of at most max: "0" or no leading zero. */
static int vt_wckpt_u64(const struct vt_wckpt_tok *t, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (t->n == 0 || t->n > 20 || (t->p[0] == '0' && t->n > 1))
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t d = (uint64_t)(unsigned char)t->p[i] - '0';

		if (d > 9 || d > max || x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* A canonical signed decimal: no "+", no "-0". */
static int vt_wckpt_i64(const struct vt_wckpt_tok *t, int64_t *v)
{
	int neg = t->p[0] == '-';
	struct vt_wckpt_tok mag = { t->p + neg, t->n - (size_t)neg };
	uint64_t x;

	if (vt_wckpt_u64(&mag, (uint64_t)INT64_MAX + (uint64_t)neg, &x) < 0 || (neg && x == 0))
		return -1;
	*v = neg ? -(int64_t)(x - 1) - 1 : (int64_t)x;
	return 0;
}

/* Copy a token into a NUL-terminated field of cap bytes. A NUL inside
 * would hide the rest from vt_wckpt_valid(). */
static int vt_wckpt_copy(char *dst, size_t cap, const char *p, size_t n)
{
	if (n >= cap || memchr(p, '\0', n))
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* The label token (wckpt.h): "-" is empty, "--x" is "-x", "-x" is refused.
 * The characters are checked by vt_wckpt_valid(). */
static int vt_wckpt_label(const struct vt_wckpt_tok *t, char *label)
{
	size_t dash = t->p[0] == '-';

	if (dash && t->n > 1 && t->p[1] != '-')
		return -1;
	return vt_wckpt_copy(label, VT_WINDOW_LABEL_MAX, t->p + dash, t->n - dash);
}

/* One entry line ("\n" excluded) of a version's format into e. Returns 0
 * or -1. */
static int vt_wckpt_parse_entry(const char *p, size_t n, int version, struct vt_wckpt_entry *e)
{
	/* The numbers after start_ms: 32 bits but for count and part. */
	static const uint64_t max[9] = { UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX,
					 UINT32_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX,
					 UINT64_MAX };
	struct vt_wckpt_tok t[VT_WCKPT_FIELDS];
	int fields = version == 1 ? VT_WCKPT_FIELDS_V1 : VT_WCKPT_FIELDS;
	struct vt_window_cell *c = &e->cell;
	uint64_t v[9], unsynced = 0;

	memset(e, 0, sizeof(*e));
	if (vt_wckpt_split(p, n, t, fields) < 0)
		return -1;
	if (vt_wckpt_is(&t[0], "releasing"))
		e->releasing = 1;
	else if (!vt_wckpt_is(&t[0], "open"))
		return -1;
	if (vt_wckpt_copy(e->plugin, sizeof(e->plugin), t[1].p, t[1].n) < 0 ||
	    vt_wckpt_i64(&t[2], &e->start_ms) < 0 ||
	    vt_wckpt_label(&t[fields - 1], c->label) < 0)
		return -1;
	for (int i = 0; i < 9; i++)
		if (vt_wckpt_u64(&t[3 + i], max[i], &v[i]) < 0)
			return -1;
	if (version == 2 && (vt_wckpt_u64(&t[12], VT_READING_CLOCK_LOST, &unsynced) < 0 ||
			     vt_wckpt_i64(&t[13], &e->start_mono) < 0))
		return -1;
	c->length_s = (uint32_t)v[0];
	c->metric = (uint32_t)v[1];
	c->dim1 = (uint32_t)v[2];
	c->dim2 = (uint32_t)v[3];
	c->other = (uint32_t)v[4];
	c->count = v[5];
	c->k = (uint32_t)v[6];
	c->epsilon_milli = (uint32_t)v[7];
	c->part = v[8];
	e->clock_unsynced = (uint32_t)unsynced;
	return vt_wckpt_valid(e) ? 0 : -1;
}

/* 32 lowercase hex digits. */
static int vt_wckpt_boot(const struct vt_wckpt_tok *t, uint8_t id[VT_OS_BOOT_ID_LEN])
{
	if (t->n != VT_WCKPT_BOOT_HEX)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		char ch = t->p[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;

		if (d < 0)
			return -1;
		id[i / 2] = (uint8_t)(i % 2 ? id[i / 2] | d : d << 4);
	}
	return 0;
}

static int vt_wckpt_parse_header(const char *p, size_t n, uint64_t *generation,
				 uint64_t *next_part, struct vt_wckpt_head *head)
{
	struct vt_wckpt_tok t[5];

	memset(head, 0, sizeof(*head));
	if (vt_wckpt_split(p, n, t, 4) == 0 && vt_wckpt_is(&t[1], VT_WCKPT_V1))
		head->version = 1;
	else if (vt_wckpt_split(p, n, t, 5) == 0 && vt_wckpt_is(&t[1], VT_WCKPT_VERSION) &&
		 vt_wckpt_boot(&t[4], head->boot_id) == 0)
		head->version = 2;
	else
		return -1;
	if (!vt_wckpt_is(&t[0], VT_WCKPT_MAGIC) ||
	    vt_wckpt_u64(&t[2], UINT64_MAX, generation) < 0 || *generation == 0 ||
	    vt_wckpt_u64(&t[3], UINT64_MAX, next_part) < 0)
		return -1;
	return 0;
}

/* The end line that seals len bytes of text at data. */
static void vt_wckpt_end_line(const char *data, size_t len, char end[VT_WCKPT_END_LEN + 1])
{
	snprintf(end, VT_WCKPT_END_LEN + 1, "end %08" PRIx32 "\n", vt_crc32c(0, data, len));
}

/* Check data as a whole checkpoint; with fn, hand it the entries (call it
 * only on data already checked). Returns 0 (intact), 1 (damaged), or fn's
 * negative return. */
static int vt_wckpt_parse(const char *data, size_t len, uint64_t *generation,
			  uint64_t *next_part, int (*fn)(void *, const struct vt_wckpt_entry *),
			  void *arg)
{
	const char *end_line, *p, *nl;
	char end[VT_WCKPT_END_LEN + 1];
	struct vt_wckpt_head head;
	struct vt_wckpt_entry e;

	if (len < VT_WCKPT_END_LEN + 1 || len > VT_WCKPT_FILE_MAX)
		return 1;
	end_line = data + len - VT_WCKPT_END_LEN;
	vt_wckpt_end_line(data, (size_t)(end_line - data), end);
	if (end_line[-1] != '\n' || memcmp(end_line, end, VT_WCKPT_END_LEN) != 0)
		return 1;
	nl = memchr(data, '\n', (size_t)(end_line - data));	/* found: end_line[-1] */
	if (nl - data + 1 > VT_WCKPT_LINE_MAX ||
	    vt_wckpt_parse_header(data, (size_t)(nl - data), generation, next_part, &head) < 0)
		return 1;
	for (p = nl + 1; p < end_line; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end_line - p));
		if (nl - p + 1 > VT_WCKPT_LINE_MAX ||
		    vt_wckpt_parse_entry(p, (size_t)(nl - p), head.version, &e) < 0)
			return 1;
		memcpy(e.boot_id, head.boot_id, sizeof(e.boot_id));
		if (fn) {
			int rc = fn(arg, &e);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int vt_wckpt_paths(const char *dir, char path[2][PATH_MAX])
{
	if (snprintf(path[0], PATH_MAX, "%s/" VT_WCKPT_FILE_A, dir) >= PATH_MAX ||
	    snprintf(path[1], PATH_MAX, "%s/" VT_WCKPT_FILE_B, dir) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Read and check both slots. Returns 0 or -errno (caller frees the data). */
static int vt_wckpt_read_slots(char path[2][PATH_MAX], struct vt_wckpt_slot s[2])
{
	for (int i = 0; i < 2; i++) {
		int rc = vt_os_read_file(path[i], VT_WCKPT_FILE_MAX, &s[i].data, &s[i].len);

		if (rc == -ENOENT) {
			s[i].state = VT_WCKPT_ABSENT;
		} else if (rc == -EFBIG) {
			s[i].state = VT_WCKPT_DAMAGED;
		} else if (rc < 0) {
			return rc;
		} else {
			s[i].state = vt_wckpt_parse(s[i].data, s[i].len, &s[i].generation,
						    &s[i].next_part, NULL, NULL)
					     ? VT_WCKPT_DAMAGED
					     : VT_WCKPT_INTACT;
		}
	}
	return 0;
}

/* The intact slot of the highest generation (a on a tie), or -1. */
static int vt_wckpt_newest(const struct vt_wckpt_slot s[2])
{
	if (s[1].state == VT_WCKPT_INTACT &&
	    (s[0].state != VT_WCKPT_INTACT || s[1].generation > s[0].generation))
		return 1;
	return s[0].state == VT_WCKPT_INTACT ? 0 : -1;
}

int vt_wckpt_load(const char *dir, uint64_t *next_part,
		  int (*fn)(void *arg, const struct vt_wckpt_entry *e), void *arg, int *damaged)
{
	struct vt_wckpt_slot s[2];
	char path[2][PATH_MAX];
	uint64_t generation, part;
	int rc, i;

	memset(s, 0, sizeof(s));
	if (next_part)
		*next_part = 0;
	if (damaged)
		*damaged = 0;
	rc = vt_wckpt_paths(dir, path);
	if (rc < 0)
		return rc;
	rc = vt_wckpt_read_slots(path, s);
	if (rc < 0)
		goto out_free;
	if (damaged)
		*damaged = (s[0].state == VT_WCKPT_DAMAGED) + (s[1].state == VT_WCKPT_DAMAGED);
	i = vt_wckpt_newest(s);
	if (i < 0)
		goto out_free;	/* rc is 0: none */
	if (next_part)
		*next_part = s[i].next_part;
	rc = fn ? vt_wckpt_parse(s[i].data, s[i].len, &generation, &part, fn, arg) : 0;
	if (rc == 0)
		rc = 1;
out_free:
	free(s[0].data);
	free(s[1].data);
	return rc;
}

/* ---- the writer ---------------------------------------------------------------------- */

int vt_wckpt_open(struct vt_wckpt **out, const char *dir)
{
	struct vt_wckpt *w = calloc(1, sizeof(*w));
	struct vt_wckpt_slot s[2];
	int rc;

	memset(s, 0, sizeof(s));
	if (!w)
		return -ENOMEM;
	w->fd[0] = w->fd[1] = -1;
	w->cap = VT_WCKPT_BUF_MIN;
	w->buf = malloc(w->cap);
	rc = -ENOMEM;
	if (!w->buf)
		goto out_free;
	rc = -ENAMETOOLONG;
	if (snprintf(w->dir, sizeof(w->dir), "%s", dir) >= (int)sizeof(w->dir))
		goto out_free;
	rc = vt_wckpt_paths(dir, w->path);
	if (rc < 0)
		goto out_free;
	rc = vt_os_mkdir_p(dir, 0700);
	if (rc < 0)
		goto out_free;
	rc = vt_wckpt_read_slots(w->path, s);
	if (rc < 0)
		goto out_free;
	w->newest = vt_wckpt_newest(s);
	w->generation = w->newest < 0 ? 0 : s[w->newest].generation;
	free(s[0].data);
	free(s[1].data);
	*out = w;
	return 0;
out_free:
	free(s[0].data);
	free(s[1].data);
	free(w->buf);
	free(w);
	return rc;
}

void vt_wckpt_close(struct vt_wckpt *w)
{
	if (!w)
		return;
	for (int i = 0; i < 2; i++)
		if (w->fd[i] >= 0)
			close(w->fd[i]);
	free(w->buf);
	free(w);
}

void vt_wckpt_set_boot(struct vt_wckpt *w, const uint8_t boot_id[VT_OS_BOOT_ID_LEN])
{
	memcpy(w->boot_id, boot_id, VT_OS_BOOT_ID_LEN);
}

void vt_wckpt_begin(struct vt_wckpt *w, uint64_t next_part)
{
	w->next_part = next_part;
	w->len = 0;
}

/* The entry line of e, "\n" included, into line; returns its length. */
static size_t vt_wckpt_format(const struct vt_wckpt_entry *e, char *line, size_t cap)
{
	const struct vt_window_cell *c = &e->cell;
	const char *pre = c->label[0] == '-' || !c->label[0] ? "-" : "";

	return (size_t)snprintf(line, cap,
				"%s %s %" PRId64 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
				" %" PRIu32 " %" PRIu64 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu32
				" %" PRId64 " %s%s\n",
				e->releasing ? "releasing" : "open", e->plugin, e->start_ms,
				c->length_s, c->metric, c->dim1, c->dim2, c->other, c->count, c->k,
				c->epsilon_milli, c->part, e->clock_unsynced, e->start_mono, pre,
				c->label);
}

int vt_wckpt_add(struct vt_wckpt *w, const struct vt_wckpt_entry *e)
{
	char line[VT_WCKPT_LINE_MAX + 1];
	size_t n, need;

	if (!vt_wckpt_valid(e))
		return -EINVAL;
	n = vt_wckpt_format(e, line, sizeof(line));	/* < LINE_MAX: fields are bounded */
	need = VT_WCKPT_HEAD_ROOM + w->len + n + VT_WCKPT_END_LEN;
	if (need > VT_WCKPT_FILE_MAX)
		return -EFBIG;
	if (need > w->cap) {
		size_t cap = w->cap * 2 > need ? w->cap * 2 : need;
		char *buf = realloc(w->buf, cap);

		if (!buf)
			return -ENOMEM;
		w->buf = buf;
		w->cap = cap;
	}
	memcpy(w->buf + VT_WCKPT_HEAD_ROOM + w->len, line, n);
	w->len += n;
	return 0;
}

/* Open a slot for writing (creating it 0600) and make its name durable. */
static int vt_wckpt_slot_open(struct vt_wckpt *w, int slot)
{
	struct stat st;
	int fd, rc;

	if (w->fd[slot] >= 0)
		return 0;
	fd = open(w->path[slot], O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out_close;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = vt_os_fsync_dir(w->dir);
	if (rc < 0)
		goto out_close;
	w->fd[slot] = fd;
	return 0;
out_close:
	close(fd);
	return rc;
}

/* data over the slot's content, the rest cut off, all durable. */
static int vt_wckpt_write(struct vt_wckpt *w, int slot, const char *data, size_t len)
{
	int fd, rc;

	rc = vt_wckpt_slot_open(w, slot);
	if (rc < 0)
		return rc;
	fd = w->fd[slot];
	rc = vt_os_pwrite_all(fd, data, len, 0);
	if (rc == 0 && ftruncate(fd, (off_t)len) < 0)
		rc = -errno;
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		/* What reached the disk is unknown: leave the slot not intact
		 * if possible, and start from a fresh descriptor next time. */
		if (ftruncate(fd, 0) == 0)
			(void)fdatasync(fd);
		close(fd);
		w->fd[slot] = -1;
	}
	return rc;
}

int vt_wckpt_commit(struct vt_wckpt *w)
{
	char head[VT_WCKPT_HEAD_ROOM + 1], end[VT_WCKPT_END_LEN + 1];
	char boot[VT_WCKPT_BOOT_HEX + 1];
	uint64_t generation = w->generation == UINT64_MAX ? 1 : w->generation + 1;
	int slot = w->newest == 0 ? 1 : 0;
	char *start;
	size_t hn;
	int rc;

	for (int i = 0; i < VT_OS_BOOT_ID_LEN; i++)
		snprintf(boot + 2 * i, 3, "%02x", w->boot_id[i]);
	hn = (size_t)snprintf(head, sizeof(head),
			      VT_WCKPT_MAGIC " " VT_WCKPT_VERSION " %" PRIu64 " %" PRIu64 " %s\n",
			      generation, w->next_part, boot);
	start = w->buf + VT_WCKPT_HEAD_ROOM - hn;
	memcpy(start, head, hn);
	vt_wckpt_end_line(start, hn + w->len, end);
	memcpy(w->buf + VT_WCKPT_HEAD_ROOM + w->len, end, VT_WCKPT_END_LEN);
	rc = vt_wckpt_write(w, slot, start, hn + w->len + VT_WCKPT_END_LEN);
	/* Past 2^64-1 (a hand-edited file: a commit a second takes longer
	 * than the universe has) the numbering starts again at 1, and the
	 * other slot is cut to nothing, or it would stay the newest. */
	if (rc == 0 && generation == 1 && w->newest >= 0)
		rc = vt_wckpt_write(w, w->newest, "", 0);
	if (rc < 0)
		return rc;
	w->newest = slot;
	w->generation = generation;
	return 0;
}
