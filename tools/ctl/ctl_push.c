/*
 * ctl_push.c - 'push' (publish a signed bundle retained where its target
 * looks, signing it first if given a plain file; or clear such a topic)
 * and 'rollback' (sign an older bundle's content again with the rollback
 * flag and a new serial, and publish it).
 *
 * Each publish is retained at QoS 1 and the command waits for its PUBACK
 * before saying it is done. Staged rollouts with health checks are
 * ctl_rollout.c's; push goes straight to the target.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "err.h"
#include "vt_os.h"

struct vt_ctl_push {
	struct vt_ctl_broker broker;
	struct vt_ctl_sign_opts sign;
	const char *out_path;	/* -o: keep the bundle signed here */
	int clear;
	int kind;		/* --kind, with --clear */
	const char *file;
};

/* Connect, publish once (len 0 clears), wait for the PUBACK. 0 or -1. */
static int vt_ctl_publish_one(const struct vt_ctl_broker *b, const char *topic,
			      const uint8_t *data, size_t len)
{
	struct vt_ctl_mqtt *m;
	int rc = -1;

	if (vt_ctl_mqtt_connect(&m, b, NULL, NULL) < 0)
		return -1;
	if (vt_ctl_mqtt_publish(m, topic, data, len) == 0 && vt_ctl_mqtt_flush(m) == 0)
		rc = 0;
	vt_ctl_mqtt_close(m);
	return rc;
}

/* Write a bundle signed here to the -o file, if one was asked for. */
static int vt_ctl_push_keep(const char *out_path, const uint8_t *data, size_t len)
{
	int rc;

	if (!out_path)
		return 0;
	rc = vt_os_write_file_atomic(out_path, data, len, 0644);
	if (rc < 0)
		vt_ctl_error("%s: cannot write the bundle: %s", out_path, vt_strerror(rc));
	return rc < 0 ? -1 : 0;
}

/* Publish a parsed bundle on the topic its target implies. */
static int vt_ctl_push_bundle(const struct vt_ctl_broker *br, const struct vt_bundle *b,
			      const uint8_t *data, size_t len)
{
	char topic[VT_CTL_TOPIC_MAX], desc[256];

	if (vt_ctl_slot_topic(topic, sizeof(topic), b->target_type, b->target, b->kind,
			      b->name) < 0) {
		vt_ctl_error("no topic for target '%s'", b->target);
		return -1;
	}
	if (vt_ctl_publish_one(br, topic, data, len) < 0)
		return -1;
	vt_ctl_bundle_describe(b, desc, sizeof(desc));
	printf("published %s on %s (retained)\n", desc, topic);
	return 0;
}

/* ---- push ---------------------------------------------------------------------------- */

static int vt_ctl_push_clear(struct vt_ctl_push *p)
{
	const struct vt_ctl_sign_opts *o = &p->sign;
	char topic[VT_CTL_TOPIC_MAX];

	if (!o->group == !o->device)
		return vt_ctl_usage("push", "--clear needs one target: --group GROUP or --device SITE/DEVICE");
	if (!p->kind)
		return vt_ctl_usage("push", "--clear needs --kind config or --kind plugin --name NAME");
	if ((p->kind == VT_BUNDLE_PLUGIN) != (o->name != NULL))
		return vt_ctl_usage("push", "--name goes with --kind plugin (and only with it)");
	if (o->key_path || o->has_version || o->rollback || o->serial || o->against || p->file ||
	    p->out_path)
		return vt_ctl_usage("push", "--clear takes only a target, --kind and --name");
	if (vt_ctl_slot_topic(topic, sizeof(topic), o->group ? VT_BUNDLE_GROUP : VT_BUNDLE_DEVICE,
			      o->group ? o->group : o->device, p->kind, o->name) < 0)
		return vt_ctl_usage("push", "no topic for this target");
	if (vt_ctl_publish_one(&p->broker, topic, NULL, 0) < 0)
		return VT_CTL_FAIL;
	printf("cleared %s (devices keep running what they run; new ones will not get it)\n",
	       topic);
	return VT_CTL_OK;
}

static int vt_ctl_push_signed(struct vt_ctl_push *p)
{
	struct vt_ctl_bundle_file f;
	int rc;

	if (vt_ctl_sign_any(&p->sign) || p->out_path)
		return vt_ctl_usage("push", "%s is already a signed bundle: signing options and -o apply to a plain file",
				    p->file);
	if (vt_ctl_bundle_load(p->file, &f) < 0)
		return VT_CTL_FAIL;
	rc = vt_ctl_push_bundle(&p->broker, &f.b, f.data, f.len);
	vt_ctl_bundle_file_free(&f);
	return rc < 0 ? VT_CTL_FAIL : VT_CTL_OK;
}

static int vt_ctl_push_unsigned(struct vt_ctl_push *p)
{
	struct vt_bundle b;
	uint8_t *data;
	size_t len;
	int rc;

	if (!p->sign.key_path || !p->sign.has_version || !p->sign.group == !p->sign.device)
		return vt_ctl_usage("push", "%s is not a signed bundle: to sign and push it give --key, --version and --group or --device",
				    p->file);
	if (vt_ctl_sign_file(&p->sign, p->file, &data, &len, &b) < 0)
		return VT_CTL_FAIL;
	rc = vt_ctl_push_keep(p->out_path, data, len);
	if (rc == 0)
		rc = vt_ctl_push_bundle(&p->broker, &b, data, len);
	free(data);
	return rc < 0 ? VT_CTL_FAIL : VT_CTL_OK;
}

/* Is the file a bundle? Reads its first bytes only. -1 when unreadable. */
static int vt_ctl_file_is_bundle(const char *path)
{
	uint8_t head[4];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		vt_ctl_error("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	return vt_ctl_is_bundle(head, n);
}

static int vt_ctl_push_opt(struct vt_ctl_push *p, int opt, const char *arg, char **argv)
{
	int rc;

	if (opt == 'h')
		return vt_ctl_help_ok("push");
	if (opt == 'o') {
		p->out_path = arg;
		return VT_CTL_GO;
	}
	if (opt == VT_CTL_OPT_CLEAR) {
		p->clear = 1;
		return VT_CTL_GO;
	}
	if (opt == VT_CTL_OPT_KIND) {
		p->kind = strcmp(arg, "config") == 0 ? VT_BUNDLE_CONFIG
			  : strcmp(arg, "plugin") == 0 ? VT_BUNDLE_PLUGIN : 0;
		if (!p->kind)
			return vt_ctl_usage("push", "--kind '%s': expected config or plugin", arg);
		return VT_CTL_GO;
	}
	rc = vt_ctl_broker_opt(&p->broker, "push", opt, arg);
	if (rc == 0)
		rc = vt_ctl_sign_opt(&p->sign, "push", opt, arg);
	if (rc < 0)
		return VT_CTL_USAGE;
	return rc ? VT_CTL_GO : vt_ctl_bad_option("push", argv, opt);
}

int vt_ctl_cmd_push(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_BROKER_LONGOPTS,
		VT_CTL_SIGN_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "clear", no_argument, NULL, VT_CTL_OPT_CLEAR },
		{ "kind", required_argument, NULL, VT_CTL_OPT_KIND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_push p;
	int opt, rc;

	memset(&p, 0, sizeof(p));
	vt_ctl_broker_init(&p.broker, conf);
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		rc = vt_ctl_push_opt(&p, opt, optarg, argv);
		if (rc != VT_CTL_GO)
			return rc;
	}
	if (vt_ctl_broker_check(&p.broker, "push") < 0)
		return VT_CTL_USAGE;
	if (optind < argc - 1)
		return vt_ctl_usage("push", "expected one FILE, got '%s' too", argv[optind + 1]);
	p.file = optind < argc ? argv[optind] : NULL;
	if (p.clear)
		return vt_ctl_push_clear(&p);
	if (!p.file)
		return vt_ctl_usage("push", "expected a BUNDLE (or a FILE to sign and push)");
	if (p.kind)
		return vt_ctl_usage("push", "--kind goes with --clear");
	rc = vt_ctl_file_is_bundle(p.file);
	if (rc < 0)
		return VT_CTL_FAIL;
	return rc ? vt_ctl_push_signed(&p) : vt_ctl_push_unsigned(&p);
}

/* ---- rollback ------------------------------------------------------------------------ */

static int vt_ctl_rollback_run(const struct vt_ctl_broker *br, const char *key_path,
			       const char *out_path, const char *file)
{
	struct vt_ctl_bundle_file f;
	struct vt_sigkey *key = NULL;
	struct vt_bundle b;
	uint8_t *data = NULL;
	size_t len;
	int rc = VT_CTL_FAIL;

	if (vt_ctl_bundle_load(file, &f) < 0)
		return VT_CTL_FAIL;
	if (vt_ctl_key_load(key_path, 1, &key) < 0)
		goto out_free;
	if (vt_ctl_bundle_resign_rollback(&f.b, 0, NULL, 0, key, &data, &len, &b) < 0)
		goto out_free;
	if (vt_ctl_push_keep(out_path, data, len) < 0 || vt_ctl_push_bundle(br, &b, data, len) < 0)
		goto out_free;
	printf("its devices take v%u again even if they run a later version (each restarts into a health check)\n",
	       b.version);
	rc = VT_CTL_OK;
out_free:
	free(data);
	vt_sigkey_free(key);
	vt_ctl_bundle_file_free(&f);
	return rc;
}

int vt_ctl_cmd_rollback(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_BROKER_LONGOPTS,
		{ "key", required_argument, NULL, VT_CTL_OPT_KEY },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_broker br;
	const char *key_path = NULL, *out_path = NULL;
	int opt, rc;

	vt_ctl_broker_init(&br, conf);
	while ((opt = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("rollback");
		if (opt == VT_CTL_OPT_KEY) {
			key_path = optarg;
			continue;
		}
		if (opt == 'o') {
			out_path = optarg;
			continue;
		}
		rc = vt_ctl_broker_opt(&br, "rollback", opt, optarg);
		if (rc < 0)
			return VT_CTL_USAGE;
		if (rc == 0)
			return vt_ctl_bad_option("rollback", argv, opt);
	}
	if (vt_ctl_broker_check(&br, "rollback") < 0)
		return VT_CTL_USAGE;
	if (!key_path)
		return vt_ctl_usage("rollback", "--key FILE is required (the ops private key)");
	if (optind != argc - 1)
		return vt_ctl_usage("rollback", "expected one BUNDLE: the older bundle to go back to");
	return vt_ctl_rollback_run(&br, key_path, out_path, argv[optind]);
}
