/*
 * optout.c - load and match the opt-out list (optout.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "be.h"
#include "err.h"
#include "log.h"
#include "optout.h"
#include "pseudonym.h"
#include "vt_os.h"

#define VT_OPTOUT_DIGEST 16
#define VT_OPTOUT_SERIAL_MAX ((1ULL << 38) - 1)	/* SGTIN-96 serial: 38 bits */
#define VT_OPTOUT_DOMAIN "optout.sgtin"

struct vt_optout {
	struct vt_pseudonym *key;	/* never expires */
	uint8_t (*digests)[VT_OPTOUT_DIGEST];	/* sorted */
	size_t n, cap;
};

char vt_optout_gtin_check_digit(const char *gtin13)
{
	int sum = 0;

	for (int i = 0; i < 13; i++)
		sum += (gtin13[12 - i] - '0') * (i % 2 == 0 ? 3 : 1);
	return (char)('0' + (10 - sum % 10) % 10);
}

static int vt_optout_digest(struct vt_optout *o, const char *gtin, uint64_t serial,
			    uint8_t out[VT_OPTOUT_DIGEST])
{
	uint8_t serial_be[8];

	vt_put_be64(serial_be, serial);
	return vt_pseudonym_digest(o->key, 0, 0, VT_OPTOUT_DOMAIN, gtin, 14, serial_be,
				   sizeof(serial_be), out, VT_OPTOUT_DIGEST);
}

static int vt_optout_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* One entry "(01)<14 digits>(21)<serial>" into gtin and serial. */
static int vt_optout_parse(const char *line, size_t len, char gtin[15], uint64_t *serial,
			   const char **why)
{
	size_t slen = len - 22;

	*why = "expected (01)<14-digit GTIN>(21)<serial>";
	if (len < 23 || len > 22 + 12 || memcmp(line, "(01)", 4) != 0 ||
	    memcmp(line + 18, "(21)", 4) != 0 || !vt_optout_digits(line + 4, 14) ||
	    !vt_optout_digits(line + 22, slen))
		return -1;
	memcpy(gtin, line + 4, 14);
	gtin[14] = '\0';
	if (vt_optout_gtin_check_digit(gtin) != gtin[13]) {
		*why = "GTIN check digit wrong (GS1 mod-10)";
		return -1;
	}
	*serial = 0;
	for (size_t i = 0; i < slen; i++)
		*serial = *serial * 10 + (uint64_t)(line[22 + i] - '0');
	if (*serial > VT_OPTOUT_SERIAL_MAX) {
		*why = "serial above 274877906943 (38 bits, SGTIN-96)";
		return -1;
	}
	return 0;
}

static int vt_optout_add(struct vt_optout *o, const char *gtin, uint64_t serial)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		void *p = realloc(o->digests, cap * VT_OPTOUT_DIGEST);

		if (!p)
			return -ENOMEM;
		o->digests = p;
		o->cap = cap;
	}
	return vt_optout_digest(o, gtin, serial, o->digests[o->n++]);
}

static int vt_optout_cmp(const void *a, const void *b)
{
	return memcmp(a, b, VT_OPTOUT_DIGEST);
}

/* Every line of text (NUL-terminated, modified in place). */
static int vt_optout_lines(struct vt_optout *o, const char *path, char *text, char *err,
			   size_t errlen)
{
	char gtin[15];
	uint64_t serial;
	int lineno = 0, rc = 0;

	for (char *line = text, *next; line && rc == 0; line = next) {
		const char *why, *rest;
		size_t len;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t\r");
		if (*line == '\0' || *line == '#')
			continue;
		len = strcspn(line, " \t\r#");
		rest = line + len + strspn(line + len, " \t\r");
		if (*rest != '\0' && *rest != '#') {
			snprintf(err, errlen, "%s:%d: one item per line: expected (01)<GTIN>(21)<serial>",
				 path, lineno);
			rc = -VT_ECONFIG;
			break;
		}
		if (vt_optout_parse(line, len, gtin, &serial, &why) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -VT_ECONFIG;
		} else if (o->n >= VT_OPTOUT_MAX_ENTRIES) {
			snprintf(err, errlen, "%s:%d: more than %d items", path, lineno,
				 VT_OPTOUT_MAX_ENTRIES);
			rc = -VT_ECONFIG;
		} else {
			rc = vt_optout_add(o, gtin, serial);
		}
	}
	mbedtls_platform_zeroize(gtin, sizeof(gtin));
	mbedtls_platform_zeroize(&serial, sizeof(serial));
	return rc;
}

int vt_optout_load(struct vt_optout **out, const char *path, char *err, size_t errlen)
{
	struct vt_optout *o = calloc(1, sizeof(*o));
	char *text = NULL;
	size_t len = 0;
	int mode, rc;

	if (!o)
		return -ENOMEM;
	rc = vt_pseudonym_new(&o->key, 0);
	if (rc < 0 || !path)
		goto out;
	mode = vt_os_mode(path);
	if (mode > 0 && (mode & 077))
		VT_WARN("%s holds item serials and is readable by group or others: chmod 600 it",
			path);
	rc = vt_os_read_file(path, VT_OPTOUT_MAX_BYTES, &text, &len);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read the opt-out list: %s", path,
			 rc == -EFBIG ? "larger than 4 MiB" : strerror(-rc));
		goto out;
	}
	rc = vt_optout_lines(o, path, text, err, errlen);
	if (rc == 0 && o->n)
		qsort(o->digests, o->n, VT_OPTOUT_DIGEST, vt_optout_cmp);
out:
	if (text) {
		mbedtls_platform_zeroize(text, len);
		free(text);
	}
	if (rc < 0) {
		vt_optout_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

void vt_optout_free(struct vt_optout *o)
{
	if (!o)
		return;
	vt_pseudonym_free(o->key);
	free(o->digests);
	free(o);
}

int vt_optout_match_sgtin(struct vt_optout *o, const char *gtin, uint64_t serial)
{
	uint8_t d[VT_OPTOUT_DIGEST];
	int rc;

	if (o->n == 0)
		return 0;
	rc = vt_optout_digest(o, gtin, serial, d);
	if (rc < 0)
		return rc;
	return bsearch(d, o->digests, o->n, VT_OPTOUT_DIGEST, vt_optout_cmp) != NULL;
}

size_t vt_optout_count(const struct vt_optout *o)
{
	return o->n;
}

int vt_optout_locked(const struct vt_optout *o)
{
	return vt_pseudonym_locked(o->key);
}
