/*
 * state.c - durable counters: sequence reservation and key epoch (state.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "vt_os.h"

static int vt_state_path(char *buf, size_t len, const char *dir, const char *name)
{
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int vt_state_load(const char *dir, const char *name, uint64_t *value)
{
	char path[PATH_MAX], *text = NULL, *end;
	size_t len;
	int rc;

	rc = vt_state_path(path, sizeof(path), dir, name);
	if (rc < 0)
		return rc;
	rc = vt_os_read_file(path, 64, &text, &len);
	if (rc == -ENOENT) {
		*value = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	errno = 0;
	*value = strtoull(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n'))
		rc = -EINVAL;
	free(text);
	return rc;
}

int vt_state_store(const char *dir, const char *name, uint64_t value)
{
	char path[PATH_MAX], text[32];
	int n, rc;

	rc = vt_state_path(path, sizeof(path), dir, name);
	if (rc < 0)
		return rc;
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n", value);
	return vt_os_write_file_atomic(path, text, (size_t)n, 0600);
}

int vt_seq_open(struct vt_seq *s, const char *dir, uint32_t block)
{
	uint64_t stored;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = vt_state_load(dir, "seq", &stored);
	if (rc < 0)
		return rc;
	s->dir = strdup(dir);
	if (!s->dir)
		return -ENOMEM;
	/* Everything below the stored mark may have been used before. */
	s->next = stored ? stored : 1;
	s->reserved = s->next;
	s->block = block ? block : 1;
	return 0;
}

int vt_seq_take(struct vt_seq *s, uint64_t *seq)
{
	if (s->next >= s->reserved) {
		uint64_t mark = s->next + s->block;
		int rc = vt_state_store(s->dir, "seq", mark);

		if (rc < 0)
			return rc;
		s->reserved = mark;
	}
	*seq = s->next++;
	return 0;
}

void vt_seq_close(struct vt_seq *s)
{
	free(s->dir);
	s->dir = NULL;
}

void vt_state_dir_private(const char *dir)
{
	int mode = vt_os_mode(dir);

	if (mode < 0 || !(mode & 077))
		return;
	if (vt_os_chmod(dir, 0700) < 0)
		VT_WARN("%s is open to group or others (mode %03o) and cannot be narrowed: make it 0700, it holds keys and data",
			dir, (unsigned)mode);
	else
		VT_WARN("%s was open to group or others (mode %03o): narrowed to 0700, it holds keys and data",
			dir, (unsigned)mode);
}
