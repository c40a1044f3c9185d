/*
 * bundle.c - the fleet bundle format: parse, verify, encode (bundle.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "bundle.h"
#include "err.h"
#include "frame.h"

#define VT_BUNDLE_FIXED 20	/* magic .. version */
#define VT_BUNDLE_TRAILER (VT_SIGKEY_ID_LEN + VT_SIGKEY_SIG_LEN)

int vt_bundle_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= VT_BUNDLE_MAX_NAME &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

const char *vt_bundle_kind_name(int kind)
{
	return kind == VT_BUNDLE_CONFIG ? "config" : kind == VT_BUNDLE_PLUGIN ? "plugin" : "?";
}

/* "site/device": two ids. */
static int vt_bundle_device_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	char site[65];
	size_t n;

	if (!slash)
		return 0;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(site))
		return 0;
	memcpy(site, s, n);
	site[n] = '\0';
	return vt_frame_id_valid(site) && vt_frame_id_valid(slash + 1);
}

/* A length-prefixed string of at most max bytes, copied NUL-terminated. */
static int vt_bundle_str(const uint8_t **p, const uint8_t *end, char *out, size_t max)
{
	size_t n;

	if (end - *p < 1)
		return -1;
	n = **p;
	(*p)++;
	if (n > max || (size_t)(end - *p) < n || memchr(*p, '\0', n))
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

static int vt_bundle_fail(const char **why, const char *reason)
{
	*why = reason;
	return -VT_EFRAME;
}

static const char *vt_bundle_check_fields(const struct vt_bundle *b)
{
	if (b->kind != VT_BUNDLE_CONFIG && b->kind != VT_BUNDLE_PLUGIN)
		return "unknown kind";
	if (b->flags & ~VT_BUNDLE_ROLLBACK)
		return "unknown flags";
	if (b->target_type == VT_BUNDLE_GROUP ? !vt_frame_id_valid(b->target)
	    : b->target_type == VT_BUNDLE_DEVICE ? !vt_bundle_device_ok(b->target) : 1)
		return "bad target";
	if (b->kind == VT_BUNDLE_CONFIG ? b->name[0] != '\0' : !vt_bundle_name_ok(b->name))
		return "bad plugin name";
	if (b->payload_len > VT_BUNDLE_MAX_PAYLOAD)
		return "payload too large";
	return NULL;
}

int vt_bundle_parse(const uint8_t *buf, size_t len, struct vt_bundle *b, const char **why)
{
	const uint8_t *p = buf + VT_BUNDLE_FIXED, *end = buf + len;
	const char *bad;
	uint32_t plen;

	memset(b, 0, sizeof(*b));
	if (len < VT_BUNDLE_FIXED + VT_BUNDLE_TRAILER)
		return vt_bundle_fail(why, "truncated");
	if (memcmp(buf, VT_BUNDLE_MAGIC, 4) != 0)
		return vt_bundle_fail(why, "not a vitrine bundle (magic)");
	b->kind = buf[4];
	b->flags = buf[5];
	b->target_type = buf[6];
	if (buf[7] != 0)
		return vt_bundle_fail(why, "reserved byte set");
	b->serial = vt_get_be64(buf + 8);
	b->version = vt_get_be32(buf + 16);
	end -= VT_BUNDLE_TRAILER;
	if (vt_bundle_str(&p, end, b->target, VT_BUNDLE_MAX_TARGET) < 0 ||
	    vt_bundle_str(&p, end, b->name, VT_BUNDLE_MAX_NAME) < 0)
		return vt_bundle_fail(why, "truncated target or name");
	if (end - p < 4)
		return vt_bundle_fail(why, "truncated payload length");
	plen = vt_get_be32(p);
	p += 4;
	if (plen != (size_t)(end - p))
		return vt_bundle_fail(why, "payload length does not match the bundle's size");
	b->payload = p;
	b->payload_len = plen;
	bad = vt_bundle_check_fields(b);
	if (bad)
		return vt_bundle_fail(why, bad);
	memcpy(b->key_id, end, VT_SIGKEY_ID_LEN);
	b->signed_part = buf;
	b->signed_len = len - VT_SIGKEY_SIG_LEN;
	b->sig = end + VT_SIGKEY_ID_LEN;
	return 0;
}

int vt_bundle_verify(const struct vt_bundle *b, struct vt_sigkey *const *keys, int n)
{
	uint8_t id[VT_SIGKEY_ID_LEN];

	for (int i = 0; i < n; i++) {
		vt_sigkey_id(keys[i], id);
		if (memcmp(id, b->key_id, sizeof(id)) == 0)
			return vt_sigkey_verify(keys[i], b->signed_part, b->signed_len, b->sig);
	}
	return -ENOKEY;
}

int vt_bundle_encode(const struct vt_bundle *b, const struct vt_sigkey *key, uint8_t **out,
		     size_t *out_len)
{
	size_t tlen = strlen(b->target), nlen = strlen(b->name), len;
	uint8_t *buf, *p;
	int rc;

	if (vt_bundle_check_fields(b) || tlen > VT_BUNDLE_MAX_TARGET)
		return -EINVAL;
	len = VT_BUNDLE_FIXED + 1 + tlen + 1 + nlen + 4 + b->payload_len + VT_BUNDLE_TRAILER;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, VT_BUNDLE_MAGIC, 4);
	buf[4] = (uint8_t)b->kind;
	buf[5] = (uint8_t)b->flags;
	buf[6] = (uint8_t)b->target_type;
	buf[7] = 0;
	vt_put_be64(buf + 8, b->serial);
	vt_put_be32(buf + 16, b->version);
	p = buf + VT_BUNDLE_FIXED;
	*p++ = (uint8_t)tlen;
	memcpy(p, b->target, tlen);
	p += tlen;
	*p++ = (uint8_t)nlen;
	memcpy(p, b->name, nlen);
	p += nlen;
	vt_put_be32(p, (uint32_t)b->payload_len);
	p += 4;
	if (b->payload_len)
		memcpy(p, b->payload, b->payload_len);
	p += b->payload_len;
	vt_sigkey_id(key, p);
	p += VT_SIGKEY_ID_LEN;
	rc = vt_sigkey_sign(key, buf, (size_t)(p - buf), p);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
