/*
 * fleet_state.c - the fleet state file: encode, decode, read, write
 * (fleet_state.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "crc32c.h"
#include "err.h"
#include "fleet_state.h"
#include "vt_os.h"

#define VT_FS_MAGIC "VTFS"
#define VT_FS_VERSION 1
#define VT_FS_MAX_BYTES (VT_FLEET_MAX_SLOTS * 2 * (VT_BUNDLE_MAX_PAYLOAD + 512) + 4096)

enum { VT_FS_SLOT = 1, VT_FS_CUR, VT_FS_PREV, VT_FS_TRIAL, VT_FS_RESULT };

void vt_fleet_state_init(struct vt_fleet_state *st)
{
	memset(st, 0, sizeof(*st));
	st->trial_slot = -1;
}

void vt_fleet_state_free(struct vt_fleet_state *st)
{
	for (int i = 0; i < st->n_slots; i++) {
		free(st->slots[i].cur);
		free(st->slots[i].prev);
	}
	vt_fleet_state_init(st);
}

const char *vt_fleet_outcome_name(int outcome)
{
	static const char *const names[] = { "none", "applied", "trial", "refused",
					     "rolled_back" };

	return outcome >= 0 && outcome <= VT_FLEET_ROLLED_BACK ? names[outcome] : "?";
}

struct vt_fleet_slot *vt_fleet_state_slot(struct vt_fleet_state *st, int kind, const char *name,
					  int create)
{
	struct vt_fleet_slot *s;

	for (int i = 0; i < st->n_slots; i++)
		if (st->slots[i].kind == kind && strcmp(st->slots[i].name, name) == 0)
			return &st->slots[i];
	if (!create || st->n_slots >= VT_FLEET_MAX_SLOTS || strlen(name) > VT_BUNDLE_MAX_NAME)
		return NULL;
	s = &st->slots[st->n_slots++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	strcpy(s->name, name);
	return s;
}

void vt_fleet_state_note(struct vt_fleet_slot *s, uint64_t serial)
{
	if (serial > s->high_serial)
		s->high_serial = serial;
	if (vt_fleet_state_seen(s, serial))
		return;
	if (s->n_seen == VT_FLEET_SEEN) {
		memmove(s->seen, s->seen + 1, (VT_FLEET_SEEN - 1) * sizeof(s->seen[0]));
		s->n_seen--;
	}
	s->seen[s->n_seen++] = serial;
}

int vt_fleet_state_seen(const struct vt_fleet_slot *s, uint64_t serial)
{
	for (int i = 0; i < s->n_seen; i++)
		if (s->seen[i] == serial)
			return 1;
	return 0;
}

/* ---- encoding ---------------------------------------------------------------------- */

struct vt_fs_buf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void vt_fs_put(struct vt_fs_buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		uint8_t *np;

		while (cap < b->len + len)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void vt_fs_u8(struct vt_fs_buf *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	vt_fs_put(b, &c, 1);
}

static void vt_fs_u32(struct vt_fs_buf *b, uint32_t v)
{
	uint8_t x[4];

	vt_put_be32(x, v);
	vt_fs_put(b, x, 4);
}

static void vt_fs_u64(struct vt_fs_buf *b, uint64_t v)
{
	uint8_t x[8];

	vt_put_be64(x, v);
	vt_fs_put(b, x, 8);
}

static void vt_fs_str(struct vt_fs_buf *b, const char *s)
{
	size_t n = strlen(s);

	vt_fs_u8(b, (unsigned)n);
	vt_fs_put(b, s, n);
}

static void vt_fs_record(struct vt_fs_buf *b, int tag, const uint8_t *data, size_t len)
{
	vt_fs_u8(b, (unsigned)tag);
	vt_fs_u32(b, (uint32_t)len);
	vt_fs_put(b, data, len);
}

/* A record whose body is built in a scratch buffer first. */
static void vt_fs_record_of(struct vt_fs_buf *b, int tag, struct vt_fs_buf *body)
{
	if (body->failed)
		b->failed = 1;
	vt_fs_record(b, tag, body->p, body->len);
	free(body->p);
	*body = (struct vt_fs_buf){ 0 };
}

int vt_fleet_state_encode(const struct vt_fleet_state *st, uint8_t **out, size_t *len)
{
	struct vt_fs_buf b = { 0 }, body = { 0 };
	const struct vt_fleet_result *r = &st->last;

	vt_fs_put(&b, VT_FS_MAGIC, 4);
	vt_fs_u8(&b, VT_FS_VERSION);
	for (int i = 0; i < st->n_slots; i++) {
		const struct vt_fleet_slot *s = &st->slots[i];

		vt_fs_u8(&body, (unsigned)s->kind);
		vt_fs_str(&body, s->name);
		vt_fs_u64(&body, s->high_serial);
		vt_fs_u8(&body, (unsigned)s->n_seen);
		for (int j = 0; j < s->n_seen; j++)
			vt_fs_u64(&body, s->seen[j]);
		vt_fs_record_of(&b, VT_FS_SLOT, &body);
		if (s->cur)
			vt_fs_record(&b, VT_FS_CUR, s->cur, s->cur_len);
		if (s->prev)
			vt_fs_record(&b, VT_FS_PREV, s->prev, s->prev_len);
	}
	if (st->trial_slot >= 0) {
		vt_fs_u8(&body, (unsigned)st->trial_slot);
		vt_fs_u32(&body, st->trial_starts);
		vt_fs_record_of(&b, VT_FS_TRIAL, &body);
	}
	if (r->outcome) {
		vt_fs_u8(&body, (unsigned)r->outcome);
		vt_fs_u8(&body, (unsigned)r->kind);
		vt_fs_u32(&body, r->version);
		vt_fs_u64(&body, r->serial);
		vt_fs_u64(&body, (uint64_t)r->wall_ms);
		vt_fs_str(&body, r->name);
		vt_fs_str(&body, r->reason);
		vt_fs_record_of(&b, VT_FS_RESULT, &body);
	}
	vt_fs_u32(&b, vt_crc32c(0, b.p, b.len));
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- decoding ---------------------------------------------------------------------- */

struct vt_fs_in {
	const uint8_t *p, *end;
};

static int vt_fs_get(struct vt_fs_in *in, void *out, size_t n)
{
	if ((size_t)(in->end - in->p) < n)
		return -1;
	memcpy(out, in->p, n);
	in->p += n;
	return 0;
}

static int vt_fs_get_str(struct vt_fs_in *in, char *out, size_t max)
{
	uint8_t n;

	if (vt_fs_get(in, &n, 1) < 0 || n > max || vt_fs_get(in, out, n) < 0 ||
	    memchr(out, '\0', n))
		return -1;
	out[n] = '\0';
	return 0;
}

static int vt_fs_get_u32(struct vt_fs_in *in, uint32_t *v)
{
	uint8_t x[4];

	if (vt_fs_get(in, x, 4) < 0)
		return -1;
	*v = vt_get_be32(x);
	return 0;
}

static int vt_fs_get_u64(struct vt_fs_in *in, uint64_t *v)
{
	uint8_t x[8];

	if (vt_fs_get(in, x, 8) < 0)
		return -1;
	*v = vt_get_be64(x);
	return 0;
}

static const char *vt_fs_slot(struct vt_fs_in *in, struct vt_fleet_state *st)
{
	struct vt_fleet_slot *s;
	uint8_t kind;
	char name[VT_BUNDLE_MAX_NAME + 1];
	uint64_t high, seen[VT_FLEET_SEEN];
	uint8_t n_seen;

	if (vt_fs_get(in, &kind, 1) < 0 || vt_fs_get_str(in, name, VT_BUNDLE_MAX_NAME) < 0 ||
	    vt_fs_get_u64(in, &high) < 0 || vt_fs_get(in, &n_seen, 1) < 0 ||
	    n_seen > VT_FLEET_SEEN)
		return "bad slot record";
	for (int i = 0; i < n_seen; i++)
		if (vt_fs_get_u64(in, &seen[i]) < 0)
			return "bad slot record";
	if (in->p != in->end)
		return "bad slot record";
	if (kind != VT_BUNDLE_CONFIG && kind != VT_BUNDLE_PLUGIN)
		return "unknown slot kind";
	if (vt_fleet_state_slot(st, kind, name, 0))
		return "slot named twice";
	s = vt_fleet_state_slot(st, kind, name, 1);
	if (!s)
		return "too many slots";
	s->high_serial = high;
	memcpy(s->seen, seen, n_seen * sizeof(seen[0]));
	s->n_seen = n_seen;
	return NULL;
}

/* A bundle of the current slot; parsed, so that what is later applied from
 * it has the layout the fleet code expects. */
static const char *vt_fs_bundle(struct vt_fs_in *in, struct vt_fleet_state *st, int tag)
{
	struct vt_fleet_slot *s = st->n_slots ? &st->slots[st->n_slots - 1] : NULL;
	size_t len = (size_t)(in->end - in->p);
	struct vt_bundle b;
	const char *why;
	uint8_t **dst;
	uint8_t *copy;

	if (!s)
		return "bundle before any slot";
	dst = tag == VT_FS_CUR ? &s->cur : &s->prev;
	if (*dst)
		return "bundle given twice";
	if (vt_bundle_parse(in->p, len, &b, &why) < 0)
		return why;
	if (b.kind != s->kind || strcmp(b.name, s->name) != 0)
		return "bundle of another slot";
	copy = malloc(len ? len : 1);
	if (!copy)
		return "out of memory";
	memcpy(copy, in->p, len);
	*dst = copy;
	if (tag == VT_FS_CUR)
		s->cur_len = len;
	else
		s->prev_len = len;
	in->p = in->end;
	return NULL;
}

static const char *vt_fs_trial(struct vt_fs_in *in, struct vt_fleet_state *st)
{
	uint8_t slot;

	if (vt_fs_get(in, &slot, 1) < 0 || vt_fs_get_u32(in, &st->trial_starts) < 0 ||
	    in->p != in->end)
		return "bad trial record";
	if (slot >= st->n_slots)
		return "trial of an unknown slot";
	st->trial_slot = slot;
	return NULL;
}

static const char *vt_fs_result(struct vt_fs_in *in, struct vt_fleet_state *st)
{
	struct vt_fleet_result *r = &st->last;
	uint8_t outcome, kind;
	uint64_t wall;

	if (vt_fs_get(in, &outcome, 1) < 0 || vt_fs_get(in, &kind, 1) < 0 ||
	    vt_fs_get_u32(in, &r->version) < 0 || vt_fs_get_u64(in, &r->serial) < 0 ||
	    vt_fs_get_u64(in, &wall) < 0 || vt_fs_get_str(in, r->name, VT_BUNDLE_MAX_NAME) < 0 ||
	    vt_fs_get_str(in, r->reason, VT_FLEET_REASON_MAX) < 0 || in->p != in->end)
		return "bad result record";
	if (outcome < VT_FLEET_APPLIED || outcome > VT_FLEET_ROLLED_BACK)
		return "unknown outcome";
	r->outcome = outcome;
	r->kind = kind;
	r->wall_ms = (int64_t)wall;
	return NULL;
}

static const char *vt_fs_records(struct vt_fs_in *in, struct vt_fleet_state *st)
{
	while (in->p < in->end) {
		struct vt_fs_in rec;
		uint8_t tag;
		uint32_t len;
		const char *why;

		if (vt_fs_get(in, &tag, 1) < 0 || vt_fs_get_u32(in, &len) < 0 ||
		    len > (size_t)(in->end - in->p))
			return "truncated record";
		rec = (struct vt_fs_in){ in->p, in->p + len };
		in->p += len;
		switch (tag) {
		case VT_FS_SLOT: why = vt_fs_slot(&rec, st); break;
		case VT_FS_CUR:
		case VT_FS_PREV: why = vt_fs_bundle(&rec, st, tag); break;
		case VT_FS_TRIAL: why = vt_fs_trial(&rec, st); break;
		case VT_FS_RESULT: why = vt_fs_result(&rec, st); break;
		default: why = "unknown record";
		}
		if (why)
			return why;
	}
	return NULL;
}

int vt_fleet_state_decode(const uint8_t *buf, size_t len, struct vt_fleet_state *st,
			  const char **why)
{
	struct vt_fs_in in;

	vt_fleet_state_init(st);
	if (len < 9 || memcmp(buf, VT_FS_MAGIC, 4) != 0 || buf[4] != VT_FS_VERSION) {
		*why = "not a fleet state file (magic or version)";
		return -VT_EFRAME;
	}
	if (vt_crc32c(0, buf, len - 4) != vt_get_be32(buf + len - 4)) {
		*why = "checksum mismatch";
		return -VT_EFRAME;
	}
	in = (struct vt_fs_in){ buf + 5, buf + len - 4 };
	*why = vt_fs_records(&in, st);
	if (*why) {
		vt_fleet_state_free(st);
		return -VT_EFRAME;
	}
	return 0;
}

static int vt_fs_path(char *buf, size_t len, const char *dir)
{
	return snprintf(buf, len, "%s/%s", dir, VT_FLEET_STATE_FILE) >= (int)len ? -ENAMETOOLONG
										  : 0;
}

int vt_fleet_state_read(const char *dir, struct vt_fleet_state *st, char *err, size_t errlen)
{
	char path[4096];
	char *data = NULL;
	const char *why;
	size_t len = 0;
	int rc;

	vt_fleet_state_init(st);
	rc = vt_fs_path(path, sizeof(path), dir);
	if (rc == 0)
		rc = vt_os_read_file(path, VT_FS_MAX_BYTES, &data, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, VT_FLEET_STATE_FILE, vt_strerror(rc));
		return rc;
	}
	rc = vt_fleet_state_decode((const uint8_t *)data, len, st, &why);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(data);
	return rc;
}

int vt_fleet_state_write(const char *dir, const struct vt_fleet_state *st)
{
	char path[4096];
	uint8_t *buf;
	size_t len;
	int rc;

	rc = vt_fs_path(path, sizeof(path), dir);
	if (rc < 0)
		return rc;
	rc = vt_fleet_state_encode(st, &buf, &len);
	if (rc < 0)
		return rc;
	rc = vt_os_write_file_atomic(path, buf, len, 0600);
	free(buf);
	return rc;
}
