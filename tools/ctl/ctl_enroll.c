/*
 * ctl_enroll.c - 'enroll': add a device's public key to the aggregator's
 * configuration, as the line "device <id> <64 hex digits>".
 *
 * The file is read, checked and replaced atomically (a temporary file in
 * the same directory, renamed over it, with the same mode and, as root,
 * the same owner). The aggregator's own loader (agg_config.c) checks the
 * result, so a line it would refuse is never written. A device already
 * there with the same key is a success; with another key, a refusal: a
 * re-keyed device is a decision for a person (remove its line first).
 * Two enrolls of the same file at the same time are not serialized.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agg_config.h"
#include "ctl.h"
#include "err.h"
#include "frame.h"
#include "keys.h"
#include "vt_os.h"

#define VT_CTL_AGG_CONFIG_MAX (64u << 20)

struct vt_ctl_enroll {
	const char *config;
	char id[VT_CTL_ID_MAX + 1];
	char hex[2 * VT_KEY_LEN + 1];
	int has_id, has_hex;
};

/* ---- the device line ---------------------------------------------------------------- */

static int vt_ctl_enroll_id(struct vt_ctl_enroll *e, const char *id, size_t n)
{
	if (n == 0 || n > VT_CTL_ID_MAX)
		return -1;
	memcpy(e->id, id, n);
	e->id[n] = '\0';
	e->has_id = 1;
	return vt_frame_id_valid(e->id) ? 0 : -1;
}

static int vt_ctl_enroll_hex(struct vt_ctl_enroll *e, const char *hex, size_t n)
{
	uint8_t key[VT_KEY_LEN];

	if (n != 2 * VT_KEY_LEN)
		return -1;
	memcpy(e->hex, hex, n);
	e->hex[n] = '\0';
	e->has_hex = 1;
	if (vt_hex_decode(e->hex, key, VT_KEY_LEN) < 0)
		return -1;
	vt_hex_encode(key, VT_KEY_LEN, e->hex);	/* lowercase, as the agent prints it */
	return 0;
}

/* "device <id> <hex>", as vitrine-agent --pubkey prints it. */
static int vt_ctl_enroll_line(struct vt_ctl_enroll *e, const char *line)
{
	const char *p = line + strspn(line, " \t"), *id, *hex;
	size_t idn, hexn;

	if (strncmp(p, "device", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -1;
	id = p + 6 + strspn(p + 6, " \t");
	idn = strcspn(id, " \t");
	hex = id + idn + strspn(id + idn, " \t");
	hexn = strcspn(hex, " \t\r\n");
	if (hex[hexn + strspn(hex + hexn, " \t\r\n")] != '\0')
		return -1;
	return vt_ctl_enroll_id(e, id, idn) < 0 || vt_ctl_enroll_hex(e, hex, hexn) < 0 ? -1 : 0;
}

/* ---- the file ---------------------------------------------------------------------- */

/* Is the device there already? 0 no, 1 with this key (said), -1 with
 * another key or the file does not parse (said). */
static int vt_ctl_enroll_present(const struct vt_ctl_enroll *e, const char *path,
				 const char *text, size_t len)
{
	char err[VT_CONF_ERR_MAX];
	struct vt_conf *c;
	int rc = 0;

	if (vt_conf_parse(path, text, len, &c, err, sizeof(err)) < 0) {
		vt_ctl_error("%s; fix the file first", err);
		return -1;
	}
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const struct vt_conf_entry *d = &c->entries[i];
		size_t idn = strcspn(d->value, " \t");
		const char *hex = d->value + idn + strspn(d->value + idn, " \t");

		if (strcmp(d->key, "device") != 0 || idn != strlen(e->id) ||
		    strncmp(d->value, e->id, idn) != 0)
			continue;
		if (strcasecmp(hex, e->hex) == 0) {
			printf("device %s is already enrolled in %s (line %d) with this key\n", e->id,
			       path, d->line);
			rc = 1;
		} else {
			vt_ctl_error("%s:%d: device %s is already enrolled with another key; if it was re-keyed on purpose, remove that line first",
				     path, d->line, e->id);
			rc = -1;
		}
	}
	vt_conf_free(c);
	return rc;
}

/* Would the aggregator load text? Says why not. */
static int vt_ctl_enroll_loads(const char *path, const char *text, size_t len,
			       const char *what)
{
	struct vt_agg_config cfg;
	char err[VT_CONF_ERR_MAX];
	int rc;

	rc = vt_agg_config_parse(path, text, len, &cfg, err, sizeof(err));
	vt_agg_config_free(&cfg);
	if (rc < 0)
		vt_ctl_error("%s %s: %s", path, what, err);
	return rc < 0 ? -1 : 0;
}

/* Replace path with text, keeping its mode and (as root) its owner. */
static int vt_ctl_enroll_write(const char *path, const char *text, size_t len)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		vt_ctl_error("%s: %s", path, strerror(errno));
		return -1;
	}
	rc = vt_os_write_file_atomic(path, text, len, st.st_mode & 07777);
	if (rc < 0) {
		vt_ctl_error("%s: cannot replace it: %s (its directory must be writable)", path,
			     vt_strerror(rc));
		return -1;
	}
	if (geteuid() == 0 && chown(path, st.st_uid, st.st_gid) < 0)
		vt_ctl_error("%s: written, but its owner could not be restored: %s", path,
			     strerror(errno));
	return 0;
}

/* The file with the line appended: *out (malloc'ed) of *out_len bytes. */
static int vt_ctl_enroll_append(const struct vt_ctl_enroll *e, const char *text, size_t len,
				char **out, size_t *out_len)
{
	size_t cap = len + 2 * VT_KEY_LEN + VT_CTL_ID_MAX + 16;
	char *buf = malloc(cap);
	int n;

	if (!buf)
		return -1;
	memcpy(buf, text, len);
	n = snprintf(buf + len, cap - len, "%sdevice %s %s\n", len && text[len - 1] != '\n' ? "\n" : "",
		     e->id, e->hex);
	*out = buf;
	*out_len = len + (size_t)n;
	return 0;
}

static int vt_ctl_enroll_run(const struct vt_ctl_enroll *e)
{
	char real[PATH_MAX], *text = NULL, *next = NULL;
	size_t len, next_len;
	int rc = VT_CTL_FAIL, present = 0;

	/* Through a symbolic link, replace the file it names, not the link. */
	if (!realpath(e->config, real)) {
		vt_ctl_error("%s: %s", e->config, strerror(errno));
		return VT_CTL_FAIL;
	}
	rc = vt_os_read_file(real, VT_CTL_AGG_CONFIG_MAX, &text, &len);
	if (rc < 0) {
		vt_ctl_error("%s: %s", e->config, vt_strerror(rc));
		return VT_CTL_FAIL;
	}
	rc = VT_CTL_FAIL;
	present = vt_ctl_enroll_present(e, e->config, text, len);
	if (present)
		goto out_free;
	if (vt_ctl_enroll_loads(e->config, text, len, "does not load as it is; fix it first") < 0 ||
	    vt_ctl_enroll_append(e, text, len, &next, &next_len) < 0 ||
	    vt_ctl_enroll_loads(e->config, next, next_len, "would not load with the new line") < 0 ||
	    vt_ctl_enroll_write(real, next, next_len) < 0)
		goto out_free;
	printf("enrolled device %s in %s\n"
	       "restart vitrine-aggregator to take it (systemctl restart vitrine-aggregator): it reads its devices at start, and SIGHUP would stop it\n",
	       e->id, e->config);
	rc = VT_CTL_OK;
out_free:
	if (present == 1)
		rc = VT_CTL_OK;
	free(next);
	free(text);
	return rc;
}

/* ---- the command ---------------------------------------------------------------------- */

static int vt_ctl_enroll_opt(struct vt_ctl_enroll *e, int opt, const char *arg, char **argv)
{
	switch (opt) {
	case 'h':
		return vt_ctl_help_ok("enroll");
	case VT_CTL_OPT_AGG_CONFIG:
		e->config = arg;
		return VT_CTL_GO;
	case VT_CTL_OPT_DEVICE:
		if (vt_ctl_enroll_id(e, arg, strlen(arg)) < 0)
			return vt_ctl_usage("enroll", "--device '%s': expected a device id, 1 to 64 of A-Z a-z 0-9 . _ -",
					    arg);
		return VT_CTL_GO;
	case VT_CTL_OPT_PUBKEY:
		if (vt_ctl_enroll_hex(e, arg, strlen(arg)) < 0)
			return vt_ctl_usage("enroll", "--pubkey: expected the device's public key, 64 hex digits (vitrine-agent --pubkey)");
		return VT_CTL_GO;
	case VT_CTL_OPT_LINE:
		if (e->has_id || e->has_hex || vt_ctl_enroll_line(e, arg) < 0)
			return vt_ctl_usage("enroll", "--line: expected \"device <id> <64 hex digits>\" as vitrine-agent --pubkey prints it, instead of --device and --pubkey");
		return VT_CTL_GO;
	default:
		return vt_ctl_bad_option("enroll", argv, opt);
	}
}

int vt_ctl_cmd_enroll(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "aggregator-config", required_argument, NULL, VT_CTL_OPT_AGG_CONFIG },
		{ "device", required_argument, NULL, VT_CTL_OPT_DEVICE },
		{ "pubkey", required_argument, NULL, VT_CTL_OPT_PUBKEY },
		{ "line", required_argument, NULL, VT_CTL_OPT_LINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_enroll e;
	int opt, rc;

	(void)conf;
	memset(&e, 0, sizeof(e));
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		rc = vt_ctl_enroll_opt(&e, opt, optarg, argv);
		if (rc != VT_CTL_GO)
			return rc;
	}
	if (!e.config)
		return vt_ctl_usage("enroll", "--aggregator-config FILE is required (e.g. " VT_AGG_DEFAULT_CONFIG ")");
	if (!e.has_id || !e.has_hex)
		return vt_ctl_usage("enroll", "expected --device ID and --pubkey HEX, or --line \"device ID HEX\"");
	if (optind != argc)
		return vt_ctl_usage("enroll", "unexpected argument '%s'", argv[optind]);
	return vt_ctl_enroll_run(&e);
}
