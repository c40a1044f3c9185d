/*
 * ctl_sign.c - making bundles: 'keygen' (an ops key pair), 'sign' (a
 * configuration or a plugin into a signed bundle file), and the signing
 * options and checks that 'push' shares to sign and publish in one go.
 *
 * The checks run before the key is touched and name the file: a
 * configuration is text that parses (conf.h), sets no key a bundle may not
 * set (vt_agent_config_reserved) and, with --against, loads laid over a
 * device's agent.conf exactly as the device will lay it; a plugin is an
 * ELF shared object with a valid name. The device checks all of this again.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ctl.h"
#include "err.h"
#include "frame.h"
#include "vt_os.h"

/* ---- options ----------------------------------------------------------------------- */

int vt_ctl_sign_opt(struct vt_ctl_sign_opts *o, const char *cmd, int code, const char *arg)
{
	char site[VT_CTL_ID_MAX + 1], device[VT_CTL_ID_MAX + 1];

	switch (code) {
	case VT_CTL_OPT_KEY:
		o->key_path = arg;
		return 1;
	case VT_CTL_OPT_GROUP:
		if (!vt_frame_id_valid(arg))
			goto bad_group;
		o->group = arg;
		return 1;
	case VT_CTL_OPT_DEVICE:
		if (vt_ctl_split_device(arg, site, device) < 0)
			goto bad_device;
		o->device = arg;
		return 1;
	case VT_CTL_OPT_VERSION:
		if (vt_ctl_parse_u32(arg, 0, UINT32_MAX, &o->version) < 0)
			goto bad_version;
		o->has_version = 1;
		return 1;
	case VT_CTL_OPT_ROLLBACK:
		o->rollback = 1;
		return 1;
	case VT_CTL_OPT_NAME:
		if (!vt_bundle_name_ok(arg))
			goto bad_name;
		o->name = arg;
		return 1;
	case VT_CTL_OPT_SERIAL:
		if (vt_ctl_parse_u64(arg, 1, INT64_MAX, &o->serial) < 0)
			goto bad_serial;
		return 1;
	case VT_CTL_OPT_AGAINST:
		o->against = arg;
		return 1;
	default:
		return 0;
	}
bad_group:
	vt_ctl_usage(cmd, "--group '%s': expected a group id, 1 to 64 of A-Z a-z 0-9 . _ -", arg);
	return -1;
bad_device:
	vt_ctl_usage(cmd, "--device '%s': expected SITE/DEVICE, two ids of 1 to 64 of A-Z a-z 0-9 . _ -",
		     arg);
	return -1;
bad_version:
	vt_ctl_usage(cmd, "--version '%s': expected a whole number, 0 to 4294967295", arg);
	return -1;
bad_name:
	vt_ctl_usage(cmd, "--name '%s': expected a plugin name, 1 to 32 of a-z 0-9 _", arg);
	return -1;
bad_serial:
	vt_ctl_usage(cmd, "--serial '%s': expected a whole number above 0 (UTC ms by convention)",
		     arg);
	return -1;
}

int vt_ctl_sign_any(const struct vt_ctl_sign_opts *o)
{
	return o->key_path || o->group || o->device || o->has_version || o->rollback || o->name ||
	       o->serial || o->against;
}

int vt_ctl_sign_check(const struct vt_ctl_sign_opts *o, const char *cmd)
{
	if (!o->key_path)
		return vt_ctl_usage(cmd, "--key FILE is required (the ops private key from '" VT_CTL_PROG " keygen')");
	if (!o->has_version)
		return vt_ctl_usage(cmd, "--version N is required (the version people see, e.g. 7)");
	if (!o->group == !o->device)
		return vt_ctl_usage(cmd, "expected one target: --group GROUP or --device SITE/DEVICE");
	return 0;
}

/* ---- content checks ------------------------------------------------------------------ */

static int vt_ctl_is_plugin_file(const char *path, const uint8_t *data, size_t len)
{
	size_t n = strlen(path);

	return (n > 3 && strcmp(path + n - 3, ".so") == 0) ||
	       (len >= 4 && memcmp(data, "\177ELF", 4) == 0);
}

/* The plugin's name: --name, or the file's base name without ".so". */
static int vt_ctl_plugin_name(const struct vt_ctl_sign_opts *o, const char *path, char *name,
			      size_t cap)
{
	const char *base = strrchr(path, '/');
	size_t n;

	if (o->name) {
		snprintf(name, cap, "%s", o->name);
		return 0;
	}
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".so") == 0)
		n -= 3;
	snprintf(name, cap, "%.*s", (int)n, base);
	if (n < cap && vt_bundle_name_ok(name))
		return 0;
	vt_ctl_error("%s: '%.*s' is not a plugin name (expected 1 to 32 of a-z 0-9 _); give it with --name",
		     path, (int)(n > 40 ? 40 : n), base);
	return -1;
}

static int vt_ctl_check_plugin(const struct vt_ctl_sign_opts *o, const char *path,
			       const uint8_t *data, size_t len)
{
	if (o->against) {
		vt_ctl_error("%s: --against checks a configuration; this is a plugin", path);
		return -1;
	}
	/* e_type (offset 16) must be ET_DYN, as the device checks. */
	if (len < 64 || memcmp(data, "\177ELF", 4) != 0 || data[16] != 3 || data[17] != 0) {
		vt_ctl_error("%s: not an ELF shared object (expected a plugin .so built for the devices)",
			     path);
		return -1;
	}
	return 0;
}

/* Keys that make a device what it is may only come from its agent.conf. */
static int vt_ctl_check_reserved(const struct vt_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; vt_agent_config_reserved[k]; k++)
			if (strcmp(c->entries[i].key, vt_agent_config_reserved[k]) == 0) {
				vt_ctl_error("%s:%d: '%s' cannot come from a bundle (identity, state, TLS, groups and ops keys stay in each device's agent.conf)",
					     c->path, c->entries[i].line, c->entries[i].key);
				return -1;
			}
	return 0;
}

static int vt_ctl_check_against(const char *against, const char *path, const uint8_t *data,
				size_t len)
{
	struct vt_agent_config cfg;
	char err[VT_CONF_ERR_MAX];
	int rc;

	rc = vt_agent_config_load_overlay(against, (const char *)data, len, path, &cfg, err,
					  sizeof(err));
	vt_agent_config_free(&cfg);
	if (rc < 0) {
		vt_ctl_error("%s (laid over %s, as a device would)", err, against);
		return -1;
	}
	return 0;
}

static int vt_ctl_check_config(const struct vt_ctl_sign_opts *o, const char *path,
			       const uint8_t *data, size_t len)
{
	const uint8_t *nul = memchr(data, '\0', len);
	char err[VT_CONF_ERR_MAX];
	struct vt_conf *c;
	int rc;

	if (o->name) {
		vt_ctl_error("%s: --name is for plugins; this is a configuration (a plugin file ends in .so)",
			     path);
		return -1;
	}
	if (nul) {
		vt_ctl_error("%s: a NUL byte at offset %zu (expected a text configuration, or a .so plugin)",
			     path, (size_t)(nul - data));
		return -1;
	}
	if (vt_conf_parse(path, (const char *)data, len, &c, err, sizeof(err)) < 0) {
		vt_ctl_error("%s", err);
		return -1;
	}
	rc = vt_ctl_check_reserved(c);
	vt_conf_free(c);
	if (rc == 0 && o->against)
		rc = vt_ctl_check_against(o->against, path, data, len);
	return rc;
}

/* ---- signing ------------------------------------------------------------------------- */

/* The bundle's fields but its payload. */
static int vt_ctl_sign_template(const struct vt_ctl_sign_opts *o, const char *path,
				const uint8_t *data, size_t len, struct vt_bundle *b)
{
	memset(b, 0, sizeof(*b));
	b->flags = o->rollback ? VT_BUNDLE_ROLLBACK : 0;
	b->version = o->version;
	b->serial = o->serial ? o->serial : vt_ctl_serial_now();
	b->target_type = o->group ? VT_BUNDLE_GROUP : VT_BUNDLE_DEVICE;
	snprintf(b->target, sizeof(b->target), "%s", o->group ? o->group : o->device);
	b->payload = data;
	b->payload_len = len;
	if (vt_ctl_is_plugin_file(path, data, len)) {
		b->kind = VT_BUNDLE_PLUGIN;
		if (vt_ctl_plugin_name(o, path, b->name, sizeof(b->name)) < 0)
			return -1;
		return vt_ctl_check_plugin(o, path, data, len);
	}
	b->kind = VT_BUNDLE_CONFIG;
	return vt_ctl_check_config(o, path, data, len);
}

int vt_ctl_sign_file(const struct vt_ctl_sign_opts *o, const char *path, uint8_t **out,
		     size_t *out_len, struct vt_bundle *parsed)
{
	struct vt_sigkey *key = NULL;
	struct vt_bundle tmpl;
	char *data;
	size_t len;
	int rc;

	rc = vt_os_read_file(path, VT_BUNDLE_MAX_PAYLOAD, &data, &len);
	if (rc < 0) {
		vt_ctl_error("%s: %s", path, rc == -EFBIG ? "larger than a bundle carries (4 MiB)"
						     : vt_strerror(rc));
		return -1;
	}
	rc = -1;
	if (vt_ctl_is_bundle((const uint8_t *)data, len)) {
		vt_ctl_error("%s is already a signed bundle (to sign its content again as a rollback: '" VT_CTL_PROG " rollback')",
			     path);
		goto out_free;
	}
	if (vt_ctl_sign_template(o, path, (const uint8_t *)data, len, &tmpl) < 0 ||
	    vt_ctl_key_load(o->key_path, 1, &key) < 0)
		goto out_free;
	rc = vt_ctl_bundle_sign(&tmpl, key, out, out_len, parsed);
out_free:
	vt_sigkey_free(key);
	free(data);
	return rc;
}

/* ---- sign ---------------------------------------------------------------------------- */

int vt_ctl_cmd_sign(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_SIGN_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_sign_opts o = { 0 };
	const char *out_path = NULL;
	char desc[256], id[2 * VT_SIGKEY_ID_LEN + 1];
	struct vt_bundle b;
	uint8_t *out;
	size_t len;
	int opt, rc;

	(void)conf;
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("sign");
		if (opt == 'o') {
			out_path = optarg;
			continue;
		}
		rc = vt_ctl_sign_opt(&o, "sign", opt, optarg);
		if (rc < 0)
			return VT_CTL_USAGE;
		if (rc == 0)
			return vt_ctl_bad_option("sign", argv, opt);
	}
	rc = vt_ctl_sign_check(&o, "sign");
	if (rc)
		return rc;
	if (!out_path)
		return vt_ctl_usage("sign", "-o OUT.vtb is required (where to write the bundle)");
	if (optind != argc - 1)
		return vt_ctl_usage("sign", "expected one FILE to sign (a configuration, or a plugin .so)");
	if (vt_ctl_sign_file(&o, argv[optind], &out, &len, &b) < 0)
		return VT_CTL_FAIL;
	rc = vt_os_write_file_atomic(out_path, out, len, 0644);
	free(out);
	if (rc < 0) {
		vt_ctl_error("%s: cannot write the bundle: %s", out_path, vt_strerror(rc));
		return VT_CTL_FAIL;
	}
	vt_ctl_bundle_describe(&b, desc, sizeof(desc));
	vt_ctl_key_id_hex(b.key_id, id);
	printf("%s: %s, %zu bytes of payload, signed by key %s\n", out_path, desc, b.payload_len, id);
	return VT_CTL_OK;
}

/* ---- keygen -------------------------------------------------------------------------- */

static void vt_ctl_keygen_report(const struct vt_sigkey *k, const char *key_path,
				 const char *pub_path)
{
	uint8_t id[VT_SIGKEY_ID_LEN];
	char hex[2 * VT_SIGKEY_ID_LEN + 1];

	vt_sigkey_id(k, id);
	vt_ctl_key_id_hex(id, hex);
	printf("ops key %s\n"
	       "  %s  private key (0600): keep it offline, it signs what every device runs\n"
	       "  %s  public key: install it on each device as /etc/vitrine/ops.pub and add\n"
	       "  this line to each agent.conf:\n"
	       "    fleet_ops_key /etc/vitrine/ops.pub\n",
	       hex, key_path, pub_path);
}

int vt_ctl_cmd_keygen(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, VT_CTL_OPT_KEY },
		{ "pub", required_argument, NULL, VT_CTL_OPT_PUB },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_path = NULL, *pub_path = NULL;
	struct vt_sigkey *k = NULL;
	struct stat st;
	int opt, rc;

	(void)conf;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("keygen");
		if (opt == VT_CTL_OPT_KEY)
			key_path = optarg;
		else if (opt == VT_CTL_OPT_PUB)
			pub_path = optarg;
		else
			return vt_ctl_bad_option("keygen", argv, opt);
	}
	if (!key_path || !pub_path)
		return vt_ctl_usage("keygen", "expected --key FILE and --pub FILE (the private and the public key to write)");
	if (optind != argc)
		return vt_ctl_usage("keygen", "unexpected argument '%s'", argv[optind]);
	if (stat(key_path, &st) == 0) {
		vt_ctl_error("%s exists: refusing to replace a private key (bundles signed with it would no longer verify); choose another name",
			     key_path);
		return VT_CTL_FAIL;
	}
	rc = vt_sigkey_generate(&k);
	if (rc == 0)
		rc = vt_sigkey_save(k, key_path, pub_path);
	if (rc < 0) {
		vt_ctl_error("cannot write the key pair to %s and %s: %s", key_path, pub_path,
			     vt_strerror(rc));
		vt_sigkey_free(k);
		return VT_CTL_FAIL;
	}
	vt_ctl_keygen_report(k, key_path, pub_path);
	vt_sigkey_free(k);
	return VT_CTL_OK;
}
