/*
 * fuzz_ctl_acl.c - libFuzzer target for vitrine-ctl acl's inventory reader
 * and ACL writer (vt_ctl_acl_make). Any input is refused or gives an ACL;
 * a refusal names the file; an ACL holds only comments, "user NAME" lines
 * and "topic read|write|readwrite TOPIC" lines after a user line (nothing
 * for anonymous clients, no pattern, no deny), names without blanks or
 * control characters, and a device (a section commented "# device") gets no
 * wildcard but the trailing /# of its bundle topics and no topic outside
 * its own vitrine/v1/<site>/<device>/ and vitrine/groups/<group>/bundle/.
 *
 * Seeds: tests/fuzz/corpus/ctl_acl/, inventories good and bad.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_acl_name(const char *s, size_t n)
{
	if (n == 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] == 0x7f)
			abort();
}

/* A device's topic: under its own prefix or a group's bundles; '+' never,
 * '#' only as the last level. */
static void fuzz_acl_device_topic(const char *user, size_t user_len, const char *t, size_t n)
{
	const char *hash = memchr(t, '#', n);

	if (memchr(t, '+', n) || (hash && (hash != t + n - 1 || hash[-1] != '/')))
		abort();
	if (n > 11 + user_len && memcmp(t, "vitrine/v1/", 11) == 0 &&
	    memcmp(t + 11, user, user_len) == 0 && t[11 + user_len] == '/')
		return;
	if (n > 15 && memcmp(t, "vitrine/groups/", 15) == 0 && hash &&
	    n > 24 && memcmp(t + n - 9, "/bundle/#", 9) == 0)
		return;
	abort();
}

static void fuzz_acl_check(const char *acl, size_t len)
{
	const char *user = NULL, *p = acl, *end = acl + len;
	size_t user_len = 0;
	int device = 0;	/* the section's comment said "# device" */

	if (memchr(acl, '\0', len))
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (!nl)
			abort();	/* every line ends */
		n = (size_t)(nl - p);
		if (n == 0) {
			/* a blank line */
		} else if (p[0] == '#') {
			device = n == 8 && memcmp(p, "# device", 8) == 0;
		} else if (n > 5 && memcmp(p, "user ", 5) == 0) {
			user = p + 5;
			user_len = n - 5;
			fuzz_acl_name(user, user_len);
		} else if (user && n > 6 && memcmp(p, "topic ", 6) == 0) {
			const char *a = p + 6, *t = memchr(a, ' ', n - 6);
			size_t alen, tlen;

			if (!t)
				abort();
			alen = (size_t)(t - a);
			t++;
			tlen = (size_t)(nl - t);
			if (!((alen == 4 && !memcmp(a, "read", 4)) || (alen == 5 && !memcmp(a, "write", 5)) ||
			      (alen == 9 && !memcmp(a, "readwrite", 9))))
				abort();
			fuzz_acl_name(t, tlen);
			if (device)
				fuzz_acl_device_topic(user, user_len, t, tlen);
		} else {
			abort();	/* a topic before any user, or another kind of line */
		}
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_ctl_acl_counts counts;
	char err[VT_CONF_ERR_MAX], *acl = NULL;
	size_t len = 0;
	int rc;

	rc = vt_ctl_acl_make("fleet.conf", (const char *)data, size, &acl, &len, &counts, err,
			     sizeof(err));
	if (rc < 0) {
		if (acl || (rc == -VT_ECONFIG && strncmp(err, "fleet.conf", 10) != 0))
			abort();
		return 0;
	}
	fuzz_acl_check(acl, len);
	free(acl);
	return 0;
}
