/*
 * ctl_opts.c - vitrine-ctl's option plumbing: the optional ctl.conf, the
 * broker options every networked command takes, number and id parsing,
 * usage and error messages, and the few formats shared by the outputs.
 *
 * It knows no command: each command parses its own options with
 * getopt_long and hands the broker ones here.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "err.h"
#include "frame.h"

#define OFF(f) offsetof(struct vt_ctl_conf, f)

static const struct vt_conf_key vt_ctl_conf_keys[] = {
	{ "broker", VT_CONF_HOSTPORT, OFF(broker), 0, 0, 0, NULL },
	{ "tls_ca", VT_CONF_STR, OFF(tls_ca), 0, 0, 0, NULL },
	{ "tls_cert", VT_CONF_STR, OFF(tls_cert), 0, 0, 0, NULL },
	{ "tls_key", VT_CONF_STR, OFF(tls_key), 0, 0, 0, NULL },
	{ "client_id", VT_CONF_STR, OFF(client_id), 0, 0, 0, NULL },
	{ "timeout_s", VT_CONF_U32, OFF(timeout_s), 1, 3600, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static void vt_ctl_conf_defaults(struct vt_ctl_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	vt_conf_parse_hostport("127.0.0.1:1883", 1883, &conf->broker);
	conf->timeout_s = VT_CTL_DEFAULT_TIMEOUT_S;
}

/* The file to read: explicit or from the environment (then it must be
 * there), or the default one when it exists. */
static const char *vt_ctl_conf_path(const char *path, char *buf, size_t cap)
{
	const char *env = getenv("VITRINE_CTL_CONFIG"), *home = getenv("HOME");

	if (path)
		return path;
	if (env && env[0])
		return env;
	if (!home || !home[0])
		return NULL;
	if (snprintf(buf, cap, "%s/.config/vitrine/ctl.conf", home) >= (int)cap)
		return NULL;
	return access(buf, F_OK) == 0 ? buf : NULL;
}

/* conf.h leaves dotted keys to plugins; ctl.conf has none. */
static int vt_ctl_conf_dotted(const struct vt_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (strchr(c->entries[i].key, '.')) {
			vt_ctl_error("%s:%d: unknown key '%s' (expected broker, tls_ca, tls_cert, tls_key, client_id or timeout_s)",
				     c->path, c->entries[i].line, c->entries[i].key);
			return -1;
		}
	return 0;
}

int vt_ctl_conf_load(const char *path, struct vt_ctl_conf *conf)
{
	char buf[4096], err[VT_CONF_ERR_MAX];
	int rc;

	vt_ctl_conf_defaults(conf);
	path = vt_ctl_conf_path(path, buf, sizeof(buf));
	if (!path)
		return 0;
	rc = vt_conf_load(path, &conf->raw, err, sizeof(err));
	if (rc == 0)
		rc = vt_conf_apply(conf->raw, vt_ctl_conf_keys, conf, err, sizeof(err));
	if (rc < 0) {
		vt_ctl_error("%s", err);
		return VT_CTL_USAGE;
	}
	return vt_ctl_conf_dotted(conf->raw) < 0 ? VT_CTL_USAGE : 0;
}

void vt_ctl_conf_free(struct vt_ctl_conf *conf)
{
	free(conf->tls_ca);
	free(conf->tls_cert);
	free(conf->tls_key);
	free(conf->client_id);
	vt_conf_free(conf->raw);
	memset(conf, 0, sizeof(*conf));
}

void vt_ctl_broker_init(struct vt_ctl_broker *b, const struct vt_ctl_conf *conf)
{
	memset(b, 0, sizeof(*b));
	b->hp = conf->broker;
	b->tls_ca = conf->tls_ca;
	b->tls_cert = conf->tls_cert;
	b->tls_key = conf->tls_key;
	b->timeout_s = conf->timeout_s ? conf->timeout_s : VT_CTL_DEFAULT_TIMEOUT_S;
	snprintf(b->client_id_buf, sizeof(b->client_id_buf), VT_CTL_PROG "-%ld", (long)getpid());
	b->client_id = conf->client_id ? conf->client_id : b->client_id_buf;
}

int vt_ctl_broker_opt(struct vt_ctl_broker *b, const char *cmd, int code, const char *arg)
{
	switch (code) {
	case VT_CTL_OPT_BROKER:
		if (vt_conf_parse_hostport(arg, 1883, &b->hp) < 0) {
			vt_ctl_usage(cmd, "--broker '%s': expected HOST:PORT, e.g. 127.0.0.1:1883 or [::1]:8883",
				     arg);
			return -1;
		}
		return 1;
	case VT_CTL_OPT_TLS_CA:
		b->tls_ca = arg;
		return 1;
	case VT_CTL_OPT_TLS_CERT:
		b->tls_cert = arg;
		return 1;
	case VT_CTL_OPT_TLS_KEY:
		b->tls_key = arg;
		return 1;
	case VT_CTL_OPT_CLIENT_ID:
		if (!arg[0] || strlen(arg) > 128) {
			vt_ctl_usage(cmd, "--client-id: expected 1 to 128 characters");
			return -1;
		}
		b->client_id = arg;
		return 1;
	case VT_CTL_OPT_TIMEOUT:
		if (vt_ctl_parse_u32(arg, 1, 3600, &b->timeout_s) < 0) {
			vt_ctl_usage(cmd, "--timeout '%s': expected seconds, 1 to 3600", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

int vt_ctl_broker_check(const struct vt_ctl_broker *b, const char *cmd)
{
	if (!b->tls_cert != !b->tls_key) {
		vt_ctl_usage(cmd, "--tls-cert and --tls-key go together (expected both or neither)");
		return -1;
	}
	if (b->tls_cert && !b->tls_ca) {
		vt_ctl_usage(cmd, "--tls-cert needs --tls-ca (expected the CA of the broker)");
		return -1;
	}
	return 0;
}

int vt_ctl_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, VT_CTL_PROG "%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" VT_CTL_PROG "%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return VT_CTL_USAGE;
}

void vt_ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs(VT_CTL_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int vt_ctl_bad_option(const char *cmd, char **argv, int opt)
{
	const char *what = optind > 0 ? argv[optind - 1] : "?";
	int is_long = what[0] == '-' && what[1] == '-';

	if (opt == ':' && is_long)
		return vt_ctl_usage(cmd, "option '%s' needs a value", what);
	if (opt == ':')
		return vt_ctl_usage(cmd, "option -%c needs a value", optopt);
	if (!is_long && optopt > 0 && optopt < 0x100)
		return vt_ctl_usage(cmd, "unknown option -%c", optopt);
	return vt_ctl_usage(cmd, "unknown option '%s'", what);
}

int vt_ctl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int vt_ctl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (vt_ctl_parse_u64(s, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int vt_ctl_split_device(const char *s, char site[VT_CTL_ID_MAX + 1],
			char device[VT_CTL_ID_MAX + 1])
{
	const char *slash = strchr(s, '/');
	size_t n;

	if (!slash)
		return -1;
	n = (size_t)(slash - s);
	if (n == 0 || n > VT_CTL_ID_MAX || strlen(slash + 1) > VT_CTL_ID_MAX)
		return -1;
	memcpy(site, s, n);
	site[n] = '\0';
	strcpy(device, slash + 1);
	return vt_frame_id_valid(site) && vt_frame_id_valid(device) ? 0 : -1;
}

void vt_ctl_copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i;

	if (!cap)
		return;
	for (i = 0; src && src[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

void vt_ctl_format_utc(int64_t ms, int with_ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char day[40];

	if (ms < 0 || !gmtime_r(&t, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(buf, cap, "?");
		return;
	}
	if (with_ms)
		snprintf(buf, cap, "%s.%03d UTC", day, (int)(ms % 1000));
	else
		snprintf(buf, cap, "%s UTC", day);
}

void vt_ctl_format_age(int64_t now_s, int64_t then_s, char *buf, size_t cap)
{
	int64_t age = now_s - then_s;

	if (age < 0)
		age = 0;	/* the device's clock is ahead of ours */
	if (age < 60)
		snprintf(buf, cap, "%" PRId64 "s ago", age);
	else if (age < 3600)
		snprintf(buf, cap, "%" PRId64 "m ago", age / 60);
	else if (age < 86400)
		snprintf(buf, cap, "%" PRId64 "h ago", age / 3600);
	else
		snprintf(buf, cap, "%" PRId64 "d ago", age / 86400);
}
