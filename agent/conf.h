/*
 * conf.h - the configuration file syntax shared by vitrine's binaries.
 *
 * Syntax (docs/CONFIG.md): one setting per line, "key value"; the value is
 * the rest of the line with surrounding blanks removed. '#' starts a comment
 * at the start of a line or after a blank. Blank lines are ignored. Keys are
 * [a-z0-9_.]+; a key with a dot ("footfall.seed") belongs to a plugin.
 *
 * Parsing is in two steps: vt_conf_parse() splits lines (syntax errors), then
 * vt_conf_apply() checks them against a table of known keys and fills a
 * struct (unknown keys, bad values, missing required keys). Every error names
 * file and line and what was expected.
 */
#ifndef VT_CONF_H
#define VT_CONF_H

#include <stddef.h>
#include <stdint.h>

#define VT_CONF_ERR_MAX 512

struct vt_conf_entry {
	char *key;
	char *value;
	const char *path;	/* the file it came from, for messages (borrowed) */
	int line;
	int used;	/* set by vt_conf_apply / plugin look-ups */
};

struct vt_conf {
	char *path;	/* as given, for messages */
	char *overlay_path;	/* the overlay's, after vt_conf_overlay() */
	struct vt_conf_entry *entries;
	size_t n;
};

/* Parse text (len bytes, need not be NUL-terminated) named path. On error
 * returns VT_ECONFIG with "path:line: what" in err. Caller frees *out with
 * vt_conf_free(). */
int vt_conf_parse(const char *path, const char *text, size_t len, struct vt_conf **out,
		  char *err, size_t errlen);

/* Read and parse a file. -errno when unreadable (message in err too). */
int vt_conf_load(const char *path, struct vt_conf **out, char *err, size_t errlen);

void vt_conf_free(struct vt_conf *c);

/* Lay top over base: every key top sets replaces all of base's lines of
 * that key (a repeated key such as 'plugin' is replaced as a whole), the
 * rest of base stays. A key listed in reserved (NULL-terminated) may not
 * appear in top: VT_ECONFIG, naming top's file and line. top is consumed
 * (freed) either way. */
int vt_conf_overlay(struct vt_conf *base, struct vt_conf *top, const char *const *reserved,
		    char *err, size_t errlen);

/* Last entry with this exact key, or NULL. */
struct vt_conf_entry *vt_conf_find(struct vt_conf *c, const char *key);

enum vt_conf_type {
	VT_CONF_STR,	/* char *, strdup'ed (caller frees) */
	VT_CONF_ID,	/* char *, a site/device id: [A-Za-z0-9._-]{1,64} */
	VT_CONF_U32,	/* uint32_t within [min, max] */
	VT_CONF_BOOL,	/* int: yes/no/true/false/on/off/1/0 */
	VT_CONF_HOSTPORT, /* struct vt_hostport */
	VT_CONF_KEY,	/* uint8_t[32] from 64 hex digits */
	VT_CONF_LEVEL,	/* int log level: error/warn/info/debug */
	VT_CONF_CUSTOM,	/* parse(target, value, err, errlen) */
};

#define VT_CONF_REQUIRED 1
#define VT_CONF_MULTI 2		/* may repeat (CUSTOM only) */

struct vt_hostport {
	char host[256];
	uint16_t port;
};

struct vt_conf_key {
	const char *name;
	enum vt_conf_type type;
	size_t offset;		/* into the target struct */
	uint32_t min, max;	/* U32 bounds */
	int flags;
	/* CUSTOM: returns 0 or writes what was expected into err. */
	int (*parse)(void *target, const char *value, char *err, size_t errlen);
};

/* Apply entries to target using keys (terminated by a NULL name). Entries
 * with a dot in their key are left for plugins. Returns 0 or VT_ECONFIG
 * with "path:line: ..." in err. */
int vt_conf_apply(struct vt_conf *c, const struct vt_conf_key *keys, void *target,
		  char *err, size_t errlen);

/* Parse "host:port" or "[v6]:port" or "host" (default_port). 0 or -EINVAL. */
int vt_conf_parse_hostport(const char *s, uint16_t default_port, struct vt_hostport *hp);

/* Report an unknown key at entry e, listing the expected ones. */
int vt_conf_unknown(const struct vt_conf_entry *e,
		    const char *const *expected, char *err, size_t errlen);

#endif
