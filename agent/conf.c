/*
 * conf.c - the "key value" configuration syntax (see conf.h).
 *
 * This file parses lines and checks them against a table of known keys; it
 * knows nothing about what the keys mean. Messages always carry
 * "file:line:" so an operator can go straight to the mistake.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "err.h"
#include "frame.h"
#include "keys.h"
#include "log.h"
#include "vt_os.h"

#define VT_CONF_MAX_BYTES (1024 * 1024)
#define VT_CONF_MAX_LINE 4096

__attribute__((format(printf, 5, 6)))
static int vt_conf_error(char *err, size_t errlen, const char *path, int line,
			 const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!err || errlen == 0)
		return -VT_ECONFIG;
	if (line > 0)
		n = snprintf(err, errlen, "%s:%d: ", path, line);
	else
		n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return -VT_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -VT_ECONFIG;
}

static int vt_conf_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static int vt_conf_push(struct vt_conf *c, const char *key, size_t klen, const char *val,
			size_t vlen, int line)
{
	struct vt_conf_entry *e;

	if ((c->n & 15) == 0) {
		struct vt_conf_entry *ne = realloc(c->entries, (c->n + 16) * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		c->entries = ne;
	}
	e = &c->entries[c->n];
	e->key = strndup(key, klen);
	e->value = strndup(val, vlen);
	e->path = c->path;
	e->line = line;
	e->used = 0;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

/* Split one line (without its newline) into key and value. */
static int vt_conf_line(struct vt_conf *c, const char *s, size_t len, int line,
			char *err, size_t errlen)
{
	size_t i = 0, k0, k1, v0, v1;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	k0 = i;
	while (i < len && s[i] != ' ' && s[i] != '\t')
		i++;
	k1 = i;
	for (size_t j = k0; j < k1; j++) {
		if (!vt_conf_key_char((unsigned char)s[j]))
			return vt_conf_error(err, errlen, c->path, line,
					     "invalid character in key '%.*s' (expected lowercase letters, digits, '_' and '.')",
					     (int)(k1 - k0 > 64 ? 64 : k1 - k0), s + k0);
	}
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	v0 = i;
	v1 = len;
	/* A '#' after a blank starts a comment. */
	for (size_t j = v0; j < len; j++) {
		if (s[j] == '#' && (s[j - 1] == ' ' || s[j - 1] == '\t')) {
			v1 = j;
			break;
		}
	}
	while (v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t' || s[v1 - 1] == '\r'))
		v1--;
	for (size_t j = v0; j < v1; j++) {
		if ((unsigned char)s[j] < 0x20 && s[j] != '\t')
			return vt_conf_error(err, errlen, c->path, line,
					     "control character in value of '%.*s'",
					     (int)(k1 - k0), s + k0);
	}
	if (v1 == v0)
		return vt_conf_error(err, errlen, c->path, line,
				     "key '%.*s' has no value (expected 'key value')",
				     (int)(k1 - k0 > 64 ? 64 : k1 - k0), s + k0);
	if (vt_conf_push(c, s + k0, k1 - k0, s + v0, v1 - v0, line) < 0)
		return -ENOMEM;
	return 0;
}

int vt_conf_parse(const char *path, const char *text, size_t len, struct vt_conf **out,
		  char *err, size_t errlen)
{
	struct vt_conf *c;
	size_t pos = 0;
	int line = 0, rc = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path) {
		rc = -ENOMEM;
		goto out_free;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;

		line++;
		if (memchr(text + pos, '\0', end - pos)) {
			rc = vt_conf_error(err, errlen, path, line, "NUL byte in line");
			goto out_free;
		}
		if (end - pos > VT_CONF_MAX_LINE) {
			rc = vt_conf_error(err, errlen, path, line,
					   "line longer than %d bytes", VT_CONF_MAX_LINE);
			goto out_free;
		}
		rc = vt_conf_line(c, text + pos, end - pos, line, err, errlen);
		if (rc < 0)
			goto out_free;
		pos = end + 1;
	}
	*out = c;
	return 0;
out_free:
	vt_conf_free(c);
	return rc;
}

int vt_conf_load(const char *path, struct vt_conf **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = vt_os_read_file(path, VT_CONF_MAX_BYTES, &text, &len);
	if (rc < 0) {
		vt_conf_error(err, errlen, path, 0, "cannot read: %s", vt_strerror(rc));
		return rc;
	}
	rc = vt_conf_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

void vt_conf_free(struct vt_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	free(c->entries);
	free(c->path);
	free(c->overlay_path);
	free(c);
}

static int vt_conf_in(const char *const *list, const char *key)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], key) == 0)
			return 1;
	return 0;
}

static int vt_conf_top_sets(const struct vt_conf *top, const char *key)
{
	for (size_t i = 0; i < top->n; i++)
		if (strcmp(top->entries[i].key, key) == 0)
			return 1;
	return 0;
}

int vt_conf_overlay(struct vt_conf *base, struct vt_conf *top, const char *const *reserved,
		    char *err, size_t errlen)
{
	struct vt_conf_entry *ne;
	size_t kept = 0;
	int rc = 0;

	for (size_t i = 0; i < top->n; i++) {
		if (vt_conf_in(reserved, top->entries[i].key)) {
			rc = vt_conf_error(err, errlen, top->path, top->entries[i].line,
					   "'%s' belongs to the device's own configuration (%s), not to a fleet bundle",
					   top->entries[i].key, base->path);
			goto out;
		}
	}
	ne = realloc(base->entries, (base->n + top->n + 1) * sizeof(*ne));
	if (!ne) {
		rc = -ENOMEM;
		goto out;
	}
	base->entries = ne;
	for (size_t i = 0; i < base->n; i++) {
		if (vt_conf_top_sets(top, ne[i].key)) {
			free(ne[i].key);
			free(ne[i].value);
			continue;
		}
		ne[kept++] = ne[i];
	}
	for (size_t i = 0; i < top->n; i++) {
		ne[kept] = top->entries[i];
		ne[kept++].path = top->path;
	}
	base->n = kept;
	free(base->overlay_path);
	base->overlay_path = top->path;
	top->path = NULL;
	top->n = 0;
out:
	vt_conf_free(top);
	return rc;
}

struct vt_conf_entry *vt_conf_find(struct vt_conf *c, const char *key)
{
	for (size_t i = c->n; i > 0; i--)
		if (strcmp(c->entries[i - 1].key, key) == 0)
			return &c->entries[i - 1];
	return NULL;
}

int vt_conf_parse_hostport(const char *s, uint16_t default_port, struct vt_hostport *hp)
{
	const char *host = s, *colon = NULL;
	size_t hlen;
	char *end;
	unsigned long port = default_port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(rb - host);
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb[1] != '\0')
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			return -EINVAL;	/* bare IPv6 needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(hp->host))
		return -EINVAL;
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port == 0 || port > 65535)
			return -EINVAL;
	}
	memcpy(hp->host, host, hlen);
	hp->host[hlen] = '\0';
	hp->port = (uint16_t)port;
	return 0;
}

static int vt_conf_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* Store one value; on failure write what was expected into err. */
static int vt_conf_set(const struct vt_conf_key *k, void *target, const char *v,
		       char *err, size_t errlen)
{
	char *field = (char *)target + k->offset;

	switch (k->type) {
	case VT_CONF_ID:
		if (!vt_frame_id_valid(v)) {
			snprintf(err, errlen, "1 to 64 of A-Z a-z 0-9 . _ -");
			return -EINVAL;
		}
		/* fall through */
	case VT_CONF_STR: {
		char *dup = strdup(v);

		if (!dup)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case VT_CONF_U32: {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (v[0] == '-' || errno || *end || end == v || n < k->min || n > k->max) {
			snprintf(err, errlen, "an integer from %u to %u", k->min, k->max);
			return -EINVAL;
		}
		*(uint32_t *)field = (uint32_t)n;
		return 0;
	}
	case VT_CONF_BOOL:
		if (vt_conf_parse_bool(v, (int *)field) < 0) {
			snprintf(err, errlen, "yes or no");
			return -EINVAL;
		}
		return 0;
	case VT_CONF_HOSTPORT:
		if (vt_conf_parse_hostport(v, 1883, (struct vt_hostport *)field) < 0) {
			snprintf(err, errlen, "host:port, e.g. 127.0.0.1:1883 or [::1]:8883");
			return -EINVAL;
		}
		return 0;
	case VT_CONF_KEY:
		if (vt_hex_decode(v, (uint8_t *)field, VT_KEY_LEN) < 0) {
			snprintf(err, errlen, "a public key of 64 hex digits");
			return -EINVAL;
		}
		return 0;
	case VT_CONF_LEVEL: {
		int level = vt_log_parse_level(v);

		if (level < 0) {
			snprintf(err, errlen, "error, warn, info or debug");
			return -EINVAL;
		}
		*(int *)field = level;
		return 0;
	}
	case VT_CONF_CUSTOM:
		return k->parse(target, v, err, errlen);
	}
	return -EINVAL;
}

int vt_conf_unknown(const struct vt_conf_entry *e,
		    const char *const *expected, char *err, size_t errlen)
{
	char list[VT_CONF_ERR_MAX / 2];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; expected && expected[i]; i++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", expected[i]);

		if (n < 0 || (size_t)n >= sizeof(list) - used) {
			snprintf(list + sizeof(list) - 5, 5, "...");
			break;
		}
		used += (size_t)n;
	}
	return vt_conf_error(err, errlen, e->path, e->line,
			     "unknown key '%.64s' (expected one of: %s)", e->key, list);
}

static const struct vt_conf_key *vt_conf_lookup(const struct vt_conf_key *keys, const char *name)
{
	for (size_t i = 0; keys[i].name; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int vt_conf_unknown_in_table(const struct vt_conf_entry *e,
				    const struct vt_conf_key *keys, char *err, size_t errlen)
{
	const char *names[64];
	size_t n = 0;

	for (size_t i = 0; keys[i].name && n < 63; i++)
		names[n++] = keys[i].name;
	names[n] = NULL;
	return vt_conf_unknown(e, names, err, errlen);
}

int vt_conf_apply(struct vt_conf *c, const struct vt_conf_key *keys, void *target,
		  char *err, size_t errlen)
{
	char expected[VT_CONF_ERR_MAX / 2];

	for (size_t i = 0; i < c->n; i++) {
		struct vt_conf_entry *e = &c->entries[i];
		const struct vt_conf_key *k;
		int rc;

		if (strchr(e->key, '.'))
			continue;
		k = vt_conf_lookup(keys, e->key);
		if (!k)
			return vt_conf_unknown_in_table(e, keys, err, errlen);
		if (!(k->flags & VT_CONF_MULTI)) {
			for (size_t j = 0; j < i; j++)
				if (strcmp(c->entries[j].key, e->key) == 0)
					return vt_conf_error(err, errlen, e->path, e->line,
							     "'%s' already set on line %d (expected once)",
							     e->key, c->entries[j].line);
		}
		expected[0] = '\0';
		rc = vt_conf_set(k, target, e->value, expected, sizeof(expected));
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			return vt_conf_error(err, errlen, e->path, e->line,
					     "invalid value for '%s' (expected %s)", e->key,
					     expected[0] ? expected : "a valid value");
		e->used = 1;
	}
	for (size_t i = 0; keys[i].name; i++) {
		if ((keys[i].flags & VT_CONF_REQUIRED) && !vt_conf_find(c, keys[i].name))
			return vt_conf_error(err, errlen, c->path, 0,
					     "missing required key '%s'", keys[i].name);
	}
	return 0;
}
