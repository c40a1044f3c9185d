/*
 * ctl_acl.c - 'acl': the broker's access control list, a mosquitto
 * acl_file made from an inventory of the fleet (its devices and their
 * groups, its aggregators, its ops tools).
 *
 * The broker knows each client by its certificate's CN (mosquitto.conf:
 * require_certificate true, use_identity_as_username true). A device's CN
 * is "<site>/<device>"; an aggregator's or an ops tool's is the name the
 * inventory gives it. Each gets the topics of its role (docs/PROTOCOL.md)
 * and nothing more:
 *   device      write its data and status (retained; its will too), read
 *               its ack, its cmd/bundle/# and its groups' bundle/#
 *   aggregator  read vitrine/v1/+/+/data, write vitrine/v1/+/+/ack
 *   ops         read vitrine/v1/+/+/status, write vitrine/v1/+/+/cmd/bundle/#,
 *               readwrite vitrine/groups/#
 * No line applies to anonymous clients, and a CN without a section can
 * neither publish nor receive anything.
 *
 * What mosquitto 2.0 (2.0.11) does with such a file, as
 * tests/integration/broker_acl.sh shows:
 * - acl_file is not consulted on SUBSCRIBE: every subscription is granted
 *   (the SUBACK grants QoS 1 even to a CN without a section), and each
 *   message, retained ones included, is checked for "read" against its own
 *   topic when it would be delivered. The aggregator's shared subscription
 *   $share/<group>/vitrine/v1/+/+/data therefore needs no line of its own:
 *   the filter, $share prefix and all, is never compared with acl_file; the
 *   messages it brings are, by their topics. A device subscribed to
 *   vitrine/# receives only what it may read.
 * - a refused publish is dropped; the QoS 1 PUBACK still says success to an
 *   MQTT 3.1.1 client (the agent), and "not authorized" (reason 135) to an
 *   MQTT 5 one (vitrine-ctl); the broker logs "Denied PUBLISH" at debug.
 * - SIGHUP reloads acl_file and applies it to the clients connected.
 *
 * The output has no date in it: the same inventory gives the same file,
 * so that a change shows as a diff. This file neither makes certificates
 * nor talks to the broker.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"	/* VT_AGENT_MAX_GROUPS */
#include "ctl.h"
#include "err.h"
#include "frame.h"
#include "vt_os.h"

/* A broker user name is a certificate CN: at most 64 characters
 * (RFC 5280's ub-common-name; openssl refuses a longer one). */
#define VT_CTL_ACL_NAME_MAX 64
#define VT_CTL_ACL_SHOW_MAX 80		/* how much of a bad value a message quotes */
#define VT_CTL_ACL_INVENTORY_MAX (16u << 20)

enum vt_ctl_acl_role { VT_CTL_ACL_DEVICE, VT_CTL_ACL_AGGREGATOR, VT_CTL_ACL_OPS };

/* One broker user: a device, an aggregator or an ops tool. */
struct vt_ctl_acl_user {
	enum vt_ctl_acl_role role;
	char name[2 * VT_CTL_ID_MAX + 2];	/* its CN; "site/device" for a device */
	char groups[VT_AGENT_MAX_GROUPS][VT_CTL_ID_MAX + 1];
	int n_groups;
	int line;
};

/* The inventory, checked. users is owned; path is borrowed. */
struct vt_ctl_acl_inv {
	const char *path;
	struct vt_ctl_acl_user *users;
	size_t n;
	struct vt_ctl_acl_counts counts;
};

static const char *const vt_ctl_acl_keys[] = { "device", "aggregator", "ops", NULL };

/* ---- reading the inventory ------------------------------------------------------------ */

/* "path:line: what" into err; returns -VT_ECONFIG. */
__attribute__((format(printf, 4, 5)))
static int vt_ctl_acl_err(char *err, size_t errlen, const struct vt_conf_entry *e,
			  const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "%s:%d: ", e->path, e->line);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -VT_ECONFIG;
}

/* The n bytes at s, fit for a message (printable, cut short). */
static void vt_ctl_acl_show(char dst[VT_CTL_ACL_SHOW_MAX], const char *s, size_t n)
{
	char tmp[VT_CTL_ACL_SHOW_MAX];

	if (n > sizeof(tmp) - 1)
		n = sizeof(tmp) - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	vt_ctl_copy_printable(dst, VT_CTL_ACL_SHOW_MAX, tmp);
}

/* A name mosquitto's acl_file can carry on a "user" line and a
 * certificate can carry as its CN: 1 to 64 bytes, no blank, no control
 * character (UTF-8 is fine). */
static int vt_ctl_acl_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VT_CTL_ACL_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

/* "g1,g2" after a device: valid ids, each once, at most as many as an
 * agent takes. */
static int vt_ctl_acl_groups(struct vt_ctl_acl_user *u, const struct vt_conf_entry *e,
			     const char *list, char *err, size_t errlen)
{
	char shown[VT_CTL_ACL_SHOW_MAX];
	const char *p = list;

	if (list[strcspn(list, " \t")] != '\0')
		return vt_ctl_acl_err(err, errlen, e,
				      "expected 'device SITE/DEVICE [GROUP,GROUP...]': the groups are one word, separated by commas without blanks");
	while (*p) {
		size_t n = strcspn(p, ",");

		vt_ctl_acl_show(shown, p, n);
		if (u->n_groups == VT_AGENT_MAX_GROUPS)
			return vt_ctl_acl_err(err, errlen, e,
					      "device %s has more than %d groups (an agent takes %d)",
					      u->name, VT_AGENT_MAX_GROUPS, VT_AGENT_MAX_GROUPS);
		if (n == 0 || n > VT_CTL_ID_MAX)
			goto out_bad;
		memcpy(u->groups[u->n_groups], p, n);
		u->groups[u->n_groups][n] = '\0';
		if (!vt_frame_id_valid(u->groups[u->n_groups]))
			goto out_bad;
		for (int i = 0; i < u->n_groups; i++)
			if (strcmp(u->groups[i], u->groups[u->n_groups]) == 0)
				return vt_ctl_acl_err(err, errlen, e,
						      "group '%s' is listed twice for device %s",
						      shown, u->name);
		u->n_groups++;
		p += n;
		if (*p == ',' && *++p == '\0')
			goto out_bad;	/* a trailing comma: an empty group */
	}
	return 0;
out_bad:
	return vt_ctl_acl_err(err, errlen, e,
			      "group '%s': expected a group id, 1 to 64 of A-Z a-z 0-9 . _ - (groups separated by commas)",
			      shown);
}

/* "device SITE/DEVICE [GROUP,GROUP...]". */
static int vt_ctl_acl_device(struct vt_ctl_acl_user *u, const struct vt_conf_entry *e,
			     char *err, size_t errlen)
{
	char site[VT_CTL_ID_MAX + 1], device[VT_CTL_ID_MAX + 1], shown[VT_CTL_ACL_SHOW_MAX];
	const char *v = e->value;
	size_t n = strcspn(v, " \t");

	vt_ctl_acl_show(shown, v, n);
	if (n >= sizeof(u->name))
		goto out_bad;
	memcpy(u->name, v, n);
	u->name[n] = '\0';
	if (vt_ctl_split_device(u->name, site, device) < 0)
		goto out_bad;
	if (n > VT_CTL_ACL_NAME_MAX)
		return vt_ctl_acl_err(err, errlen, e,
				      "device %s: its certificate's CN, \"<site>/<device>\", would be %zu characters; a CN holds at most %d (shorten the site or device id)",
				      u->name, n, VT_CTL_ACL_NAME_MAX);
	return vt_ctl_acl_groups(u, e, v + n + strspn(v + n, " \t"), err, errlen);
out_bad:
	return vt_ctl_acl_err(err, errlen, e,
			      "'%s': expected SITE/DEVICE, two ids of 1 to 64 of A-Z a-z 0-9 . _ - (then the device's groups, if any, as GROUP,GROUP)",
			      shown);
}

/* "aggregator NAME" or "ops NAME". */
static int vt_ctl_acl_service(struct vt_ctl_acl_user *u, const struct vt_conf_entry *e,
			      char *err, size_t errlen)
{
	char shown[VT_CTL_ACL_SHOW_MAX];

	if (!vt_ctl_acl_name_ok(e->value)) {
		vt_ctl_acl_show(shown, e->value, strlen(e->value));
		return vt_ctl_acl_err(err, errlen, e,
				      "'%s': expected the CN of the %s's client certificate, 1 to %d bytes without blanks or control characters",
				      shown, u->role == VT_CTL_ACL_OPS ? "ops tool" : "aggregator",
				      VT_CTL_ACL_NAME_MAX);
	}
	strcpy(u->name, e->value);	/* fits: at most VT_CTL_ACL_NAME_MAX */
	return 0;
}

static int vt_ctl_acl_entry(struct vt_ctl_acl_inv *inv, const struct vt_conf_entry *e,
			    char *err, size_t errlen)
{
	struct vt_ctl_acl_user *u = &inv->users[inv->n];
	int rc;

	memset(u, 0, sizeof(*u));
	u->line = e->line;
	if (strcmp(e->key, "device") == 0) {
		u->role = VT_CTL_ACL_DEVICE;
		rc = vt_ctl_acl_device(u, e, err, errlen);
	} else if (strcmp(e->key, "aggregator") == 0) {
		u->role = VT_CTL_ACL_AGGREGATOR;
		rc = vt_ctl_acl_service(u, e, err, errlen);
	} else if (strcmp(e->key, "ops") == 0) {
		u->role = VT_CTL_ACL_OPS;
		rc = vt_ctl_acl_service(u, e, err, errlen);
	} else {
		return vt_conf_unknown(e, vt_ctl_acl_keys, err, errlen);
	}
	if (rc == 0)
		inv->n++;
	return rc;
}

/* ---- whole-inventory checks --------------------------------------------------------- */

static int vt_ctl_acl_by_name(const void *a, const void *b)
{
	const struct vt_ctl_acl_user *x = *(const struct vt_ctl_acl_user *const *)a;
	const struct vt_ctl_acl_user *y = *(const struct vt_ctl_acl_user *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static const char *vt_ctl_acl_role_name(enum vt_ctl_acl_role role)
{
	return role == VT_CTL_ACL_DEVICE ? "device" :
	       role == VT_CTL_ACL_AGGREGATOR ? "aggregator" : "ops tool";
}

/* Say why two lines name the same broker user (later, at its line). */
static int vt_ctl_acl_twice(const struct vt_ctl_acl_inv *inv, const struct vt_ctl_acl_user *first,
			    const struct vt_ctl_acl_user *later, char *err, size_t errlen)
{
	struct vt_conf_entry at = { .path = inv->path, .line = later->line };

	if (first->role == VT_CTL_ACL_DEVICE && later->role == VT_CTL_ACL_DEVICE)
		return vt_ctl_acl_err(err, errlen, &at, "device %s is listed twice (first on line %d)",
				      later->name, first->line);
	return vt_ctl_acl_err(err, errlen, &at,
			      "%s '%s' has the name of the %s on line %d: each client needs a certificate, and a CN, of its own",
			      vt_ctl_acl_role_name(later->role), later->name,
			      vt_ctl_acl_role_name(first->role), first->line);
}

/* No broker user twice: the earliest line where one repeats is refused. */
static int vt_ctl_acl_unique(const struct vt_ctl_acl_inv *inv, char *err, size_t errlen)
{
	const struct vt_ctl_acl_user **v, *first = NULL, *later = NULL;

	if (inv->n < 2)
		return 0;
	v = malloc(inv->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++)
		v[i] = &inv->users[i];
	qsort(v, inv->n, sizeof(*v), vt_ctl_acl_by_name);
	for (size_t i = 1; i < inv->n; i++) {
		if (strcmp(v[i - 1]->name, v[i]->name) != 0)
			continue;
		if (!later || v[i]->line < later->line) {
			first = v[i - 1];
			later = v[i];
		}
	}
	free(v);
	return later ? vt_ctl_acl_twice(inv, first, later, err, errlen) : 0;
}

static int vt_ctl_acl_by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Count the devices, users of each role and distinct groups. */
static int vt_ctl_acl_count(struct vt_ctl_acl_inv *inv)
{
	struct vt_ctl_acl_counts *c = &inv->counts;
	const char **groups;
	size_t n = 0;

	groups = malloc((inv->n * VT_AGENT_MAX_GROUPS + 1) * sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (size_t i = 0; i < inv->n; i++) {
		const struct vt_ctl_acl_user *u = &inv->users[i];

		c->devices += u->role == VT_CTL_ACL_DEVICE;
		c->aggregators += u->role == VT_CTL_ACL_AGGREGATOR;
		c->ops += u->role == VT_CTL_ACL_OPS;
		for (int g = 0; g < u->n_groups; g++)
			groups[n++] = u->groups[g];
	}
	qsort(groups, n, sizeof(*groups), vt_ctl_acl_by_string);
	for (size_t i = 0; i < n; i++)
		c->groups += i == 0 || strcmp(groups[i - 1], groups[i]) != 0;
	free(groups);
	return 0;
}

/* ---- writing the acl_file ------------------------------------------------------------ */

static void vt_ctl_acl_write_header(FILE *f, const struct vt_ctl_acl_inv *inv)
{
	char path[1024];

	/* A newline in the path must not end the comment. */
	vt_ctl_copy_printable(path, sizeof(path), inv->path);
	fprintf(f,
		"# mosquitto acl_file for vitrine, generated by " VT_CTL_PROG " acl (" VT_VERSION ")\n"
		"# from %s. Do not edit: change the inventory, run " VT_CTL_PROG " acl\n"
		"# again and reload mosquitto (SIGHUP).\n"
		"#\n"
		"# User names are client certificate CNs (use_identity_as_username true);\n"
		"# a device's CN is <site>/<device>. No line applies to anonymous clients,\n"
		"# and a CN without a section below can neither publish nor receive.\n"
		"# %zu device%s, %zu group%s, %zu aggregator user%s, %zu ops user%s.\n",
		path, inv->counts.devices, inv->counts.devices == 1 ? "" : "s",
		inv->counts.groups, inv->counts.groups == 1 ? "" : "s", inv->counts.aggregators,
		inv->counts.aggregators == 1 ? "" : "s", inv->counts.ops,
		inv->counts.ops == 1 ? "" : "s");
}

static void vt_ctl_acl_write_user(FILE *f, const struct vt_ctl_acl_user *u)
{
	const char *n = u->name;

	fprintf(f, "\n# %s\nuser %s\n", vt_ctl_acl_role_name(u->role), n);
	switch (u->role) {
	case VT_CTL_ACL_DEVICE:
		fprintf(f, "topic write vitrine/v1/%s/data\n", n);
		fprintf(f, "topic write vitrine/v1/%s/status\n", n);
		fprintf(f, "topic read vitrine/v1/%s/ack\n", n);
		fprintf(f, "topic read vitrine/v1/%s/cmd/bundle/#\n", n);
		for (int g = 0; g < u->n_groups; g++)
			fprintf(f, "topic read vitrine/groups/%s/bundle/#\n", u->groups[g]);
		break;
	case VT_CTL_ACL_AGGREGATOR:
		fputs("topic read vitrine/v1/+/+/data\n"
		      "topic write vitrine/v1/+/+/ack\n", f);
		break;
	case VT_CTL_ACL_OPS:
		fputs("topic read vitrine/v1/+/+/status\n"
		      "topic write vitrine/v1/+/+/cmd/bundle/#\n"
		      "topic readwrite vitrine/groups/#\n", f);
		break;
	}
}

/* The file: header, aggregators, ops tools, then devices, each in the
 * inventory's order. */
static int vt_ctl_acl_write(const struct vt_ctl_acl_inv *inv, char **out, size_t *out_len)
{
	static const enum vt_ctl_acl_role order[] = { VT_CTL_ACL_AGGREGATOR, VT_CTL_ACL_OPS,
						      VT_CTL_ACL_DEVICE };
	FILE *f = open_memstream(out, out_len);
	int bad;

	if (!f)
		return -ENOMEM;
	vt_ctl_acl_write_header(f, inv);
	for (size_t r = 0; r < sizeof(order) / sizeof(order[0]); r++)
		for (size_t i = 0; i < inv->n; i++)
			if (inv->users[i].role == order[r])
				vt_ctl_acl_write_user(f, &inv->users[i]);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int vt_ctl_acl_make(const char *path, const char *text, size_t len, char **out,
		    size_t *out_len, struct vt_ctl_acl_counts *counts, char *err, size_t errlen)
{
	struct vt_ctl_acl_inv inv = { .path = path };
	struct vt_conf *c = NULL;
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = vt_conf_parse(path, text, len, &c, err, errlen);
	if (rc < 0)
		return rc;
	if (c->n == 0) {
		snprintf(err, errlen, "%s: no device, aggregator or ops line: the ACL would let no one do anything",
			 path);
		rc = -VT_ECONFIG;
		goto out_conf;
	}
	inv.users = calloc(c->n, sizeof(*inv.users));
	if (!inv.users) {
		rc = -ENOMEM;
		goto out_conf;
	}
	for (size_t i = 0; i < c->n; i++) {
		rc = vt_ctl_acl_entry(&inv, &c->entries[i], err, errlen);
		if (rc < 0)
			goto out_users;
	}
	rc = vt_ctl_acl_unique(&inv, err, errlen);
	if (rc == 0)
		rc = vt_ctl_acl_count(&inv);
	if (rc == 0)
		rc = vt_ctl_acl_write(&inv, out, out_len);
	if (rc == 0)
		*counts = inv.counts;
out_users:
	free(inv.users);
out_conf:
	vt_conf_free(c);
	return rc;
}

/* ---- the command ------------------------------------------------------------------------ */

static int vt_ctl_acl_output(const char *out_path, const char *acl, size_t len,
			     const struct vt_ctl_acl_counts *n)
{
	int rc;

	if (!out_path) {
		if (fwrite(acl, 1, len, stdout) != len || fflush(stdout) != 0) {
			vt_ctl_error("cannot write the ACL on stdout: %s", strerror(errno));
			return VT_CTL_FAIL;
		}
		return VT_CTL_OK;
	}
	rc = vt_os_write_file_atomic(out_path, acl, len, 0644);
	if (rc < 0) {
		vt_ctl_error("%s: cannot write the ACL: %s", out_path, vt_strerror(rc));
		return VT_CTL_FAIL;
	}
	fprintf(stderr, "%s: %zu device%s, %zu group%s, %zu aggregator user%s, %zu ops user%s\n",
		out_path, n->devices, n->devices == 1 ? "" : "s", n->groups,
		n->groups == 1 ? "" : "s", n->aggregators, n->aggregators == 1 ? "" : "s",
		n->ops, n->ops == 1 ? "" : "s");
	return VT_CTL_OK;
}

static int vt_ctl_acl_run(const char *inv_path, const char *out_path)
{
	struct vt_ctl_acl_counts counts = { 0 };
	char err[VT_CONF_ERR_MAX], *text = NULL, *acl = NULL;
	size_t len, acl_len;
	int rc;

	rc = vt_os_read_file(inv_path, VT_CTL_ACL_INVENTORY_MAX, &text, &len);
	if (rc < 0) {
		vt_ctl_error("%s: cannot read the inventory: %s", inv_path, vt_strerror(rc));
		return VT_CTL_FAIL;
	}
	rc = vt_ctl_acl_make(inv_path, text, len, &acl, &acl_len, &counts, err, sizeof(err));
	free(text);
	if (rc == -VT_ECONFIG) {
		vt_ctl_error("%s", err);
		return VT_CTL_USAGE;
	}
	if (rc < 0) {
		vt_ctl_error("%s: %s", inv_path, vt_strerror(rc));
		return VT_CTL_FAIL;
	}
	rc = vt_ctl_acl_output(out_path, acl, acl_len, &counts);
	free(acl);
	return rc;
}

int vt_ctl_cmd_acl(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL;
	int opt;

	(void)conf;
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("acl");
		if (opt != 'o')
			return vt_ctl_bad_option("acl", argv, opt);
		out_path = optarg;
	}
	if (optind != argc - 1)
		return vt_ctl_usage("acl", "expected one INVENTORY file (device, aggregator and ops lines)");
	return vt_ctl_acl_run(argv[optind], out_path);
}
