/*
 * ctl_bundle.c - bundles as vitrine-ctl handles them: read a bundle file,
 * load an ops key, sign (and sign again as a rollback), describe a bundle
 * in one line, and name the retained topic of a slot.
 *
 * The format itself is agent/bundle.c's; the topics are the device's
 * contract (fleet.h, docs/OPERATIONS.md). Errors are printed here, naming
 * the file, so that commands only decide the exit status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "err.h"
#include "frame.h"
#include "vt_os.h"

/* A bundle file holds at most its payload plus the header and trailer. */
#define VT_CTL_BUNDLE_FILE_MAX (VT_BUNDLE_MAX_PAYLOAD + 1024)

int vt_ctl_is_bundle(const uint8_t *data, size_t len)
{
	return len >= 4 && memcmp(data, VT_BUNDLE_MAGIC, 4) == 0;
}

int vt_ctl_bundle_load(const char *path, struct vt_ctl_bundle_file *f)
{
	const char *why = NULL;
	char *data;
	int rc;

	memset(f, 0, sizeof(*f));
	f->path = path;
	rc = vt_os_read_file(path, VT_CTL_BUNDLE_FILE_MAX, &data, &f->len);
	if (rc < 0) {
		vt_ctl_error("%s: %s", path, rc == -EFBIG ? "too large for a bundle (expected at most 4 MiB of payload)"
					      : vt_strerror(rc));
		return -1;
	}
	f->data = (uint8_t *)data;
	if (vt_bundle_parse(f->data, f->len, &f->b, &why) < 0) {
		vt_ctl_error("%s: not a valid vitrine bundle: %s (expected a file written by '" VT_CTL_PROG " sign')",
			     path, why);
		vt_ctl_bundle_file_free(f);
		return -1;
	}
	return 0;
}

void vt_ctl_bundle_file_free(struct vt_ctl_bundle_file *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

/* Is path a PEM public key? (Given where the private key was expected.) */
static int vt_ctl_key_is_public(const char *path)
{
	char *pem;
	size_t len;
	int yes;

	if (vt_os_read_file(path, 16384, &pem, &len) < 0)
		return 0;
	yes = strstr(pem, "-----BEGIN PUBLIC KEY-----") != NULL;
	free(pem);
	return yes;
}

int vt_ctl_key_load(const char *path, int is_private, struct vt_sigkey **k)
{
	char err[512];
	int rc;

	if (is_private && vt_ctl_key_is_public(path)) {
		vt_ctl_error("%s is a public key; signing needs the private key ('" VT_CTL_PROG " keygen --key')",
			     path);
		return -1;
	}
	rc = vt_sigkey_load(path, is_private, k, err, sizeof(err));
	if (rc == -EPERM) {
		vt_ctl_error("%s: group or others may read this private key; run 'chmod 600 %s' (and keep it offline)",
			     path, path);
		return -1;
	}
	if (rc < 0) {
		vt_ctl_error("%s (expected a PEM ECDSA P-256 %s key from '" VT_CTL_PROG " keygen')",
			     err, is_private ? "private" : "public");
		return -1;
	}
	return 0;
}

uint64_t vt_ctl_serial_now(void)
{
	int64_t ms = vt_os_now_ms();

	return ms > 0 ? (uint64_t)ms : 1;
}

int vt_ctl_bundle_sign(const struct vt_bundle *tmpl, const struct vt_sigkey *key, uint8_t **out,
		       size_t *out_len, struct vt_bundle *parsed)
{
	const char *why;
	int rc;

	rc = vt_bundle_encode(tmpl, key, out, out_len);
	if (rc < 0) {
		vt_ctl_error("cannot sign the bundle: %s", vt_strerror(rc));
		return -1;
	}
	if (vt_bundle_parse(*out, *out_len, parsed, &why) < 0) {
		vt_ctl_error("the signed bundle does not parse again (%s): this is a bug", why);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int vt_ctl_bundle_resign_rollback(const struct vt_bundle *old, int target_type,
				  const char *target, uint64_t min_serial,
				  const struct vt_sigkey *key, uint8_t **out, size_t *out_len,
				  struct vt_bundle *parsed)
{
	struct vt_bundle b = *old;
	uint64_t now = vt_ctl_serial_now();

	b.flags |= VT_BUNDLE_ROLLBACK;
	/* A device takes only a serial above every one it tried in the slot. */
	b.serial = now > min_serial ? now : min_serial + 1;
	if (b.serial <= old->serial)
		b.serial = old->serial + 1;
	if (target) {
		b.target_type = target_type;
		snprintf(b.target, sizeof(b.target), "%s", target);
	}
	return vt_ctl_bundle_sign(&b, key, out, out_len, parsed);
}

void vt_ctl_key_id_hex(const uint8_t id[VT_SIGKEY_ID_LEN], char hex[2 * VT_SIGKEY_ID_LEN + 1])
{
	for (int i = 0; i < VT_SIGKEY_ID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

void vt_ctl_bundle_describe(const struct vt_bundle *b, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s bundle%s%s v%" PRIu32 " for %s %s (serial %" PRIu64 ")",
		 b->flags & VT_BUNDLE_ROLLBACK ? "rollback " : "", vt_bundle_kind_name(b->kind),
		 b->name[0] ? " " : "", b->name, b->version,
		 b->target_type == VT_BUNDLE_GROUP ? "group" : "device", b->target, b->serial);
}

/* "config" or "plugin/<name>": the end of every bundle topic. */
static int vt_ctl_slot_suffix(char *buf, size_t cap, int kind, const char *name)
{
	int n;

	if (kind == VT_BUNDLE_CONFIG)
		n = snprintf(buf, cap, "config");
	else if (kind == VT_BUNDLE_PLUGIN && name && vt_bundle_name_ok(name))
		n = snprintf(buf, cap, "plugin/%s", name);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

int vt_ctl_device_topic(char *buf, size_t cap, const char *site, const char *device, int kind,
			const char *name)
{
	char slot[64];
	int n;

	if (vt_ctl_slot_suffix(slot, sizeof(slot), kind, name) < 0 || !vt_frame_id_valid(site) ||
	    !vt_frame_id_valid(device))
		return -1;
	n = snprintf(buf, cap, "vitrine/v1/%s/%s/cmd/bundle/%s", site, device, slot);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

int vt_ctl_slot_topic(char *buf, size_t cap, int target_type, const char *target, int kind,
		      const char *name)
{
	char site[VT_CTL_ID_MAX + 1], device[VT_CTL_ID_MAX + 1], slot[64];
	int n;

	if (target_type == VT_BUNDLE_DEVICE) {
		if (vt_ctl_split_device(target, site, device) < 0)
			return -1;
		return vt_ctl_device_topic(buf, cap, site, device, kind, name);
	}
	if (target_type != VT_BUNDLE_GROUP || !vt_frame_id_valid(target) ||
	    vt_ctl_slot_suffix(slot, sizeof(slot), kind, name) < 0)
		return -1;
	n = snprintf(buf, cap, "vitrine/groups/%s/bundle/%s", target, slot);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}
