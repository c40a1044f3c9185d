/*
 * ctl_inspect.c - 'inspect': what a bundle file holds, where it would be
 * published, and (with --pub) whether its signature verifies.
 *
 * Read-only; it signs nothing and talks to no broker.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "err.h"

static void vt_ctl_inspect_print(const struct vt_ctl_bundle_file *f)
{
	const struct vt_bundle *b = &f->b;
	char when[64], id[2 * VT_SIGKEY_ID_LEN + 1], topic[VT_CTL_TOPIC_MAX];

	vt_ctl_format_utc((int64_t)b->serial, 1, when, sizeof(when));
	vt_ctl_key_id_hex(b->key_id, id);
	if (vt_ctl_slot_topic(topic, sizeof(topic), b->target_type, b->target, b->kind, b->name) < 0)
		snprintf(topic, sizeof(topic), "?");
	printf("file       %s (%zu bytes)\n", f->path, f->len);
	printf("kind       %s\n", vt_bundle_kind_name(b->kind));
	printf("target     %s %s\n", b->target_type == VT_BUNDLE_GROUP ? "group" : "device",
	       b->target);
	printf("name       %s\n", b->name[0] ? b->name : "-");
	printf("version    %" PRIu32 "\n", b->version);
	printf("serial     %" PRIu64 " (signed %s)\n", b->serial, when);
	printf("flags      %s\n", b->flags & VT_BUNDLE_ROLLBACK ? "rollback" : "none");
	printf("payload    %zu bytes\n", b->payload_len);
	printf("key id     %s\n", id);
	printf("topic      %s\n", topic);
}

/* Check the signature with the public key in pub_path; the verdict goes
 * to out (stderr when stdout carries the payload). 0 or -1 (printed). */
static int vt_ctl_inspect_verify(const struct vt_ctl_bundle_file *f, const char *pub_path,
				 FILE *out)
{
	char want[2 * VT_SIGKEY_ID_LEN + 1], have[2 * VT_SIGKEY_ID_LEN + 1];
	uint8_t id[VT_SIGKEY_ID_LEN];
	struct vt_sigkey *key;
	int rc;

	if (vt_ctl_key_load(pub_path, 0, &key) < 0)
		return -1;
	rc = vt_bundle_verify(&f->b, &key, 1);
	vt_sigkey_id(key, id);
	vt_ctl_key_id_hex(id, have);
	vt_ctl_key_id_hex(f->b.key_id, want);
	vt_sigkey_free(key);
	if (rc == 0) {
		fprintf(out, "signature  valid (key %s, %s)\n", have, pub_path);
		return 0;
	}
	fprintf(out, "signature  INVALID\n");
	if (rc == -ENOKEY)
		vt_ctl_error("%s is signed by key %s, but %s is key %s", f->path, want, pub_path, have);
	else
		vt_ctl_error("%s: the signature does not verify with %s (key %s): the bundle was altered after signing",
			     f->path, pub_path, have);
	return -1;
}

int vt_ctl_cmd_inspect(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pub", required_argument, NULL, VT_CTL_OPT_PUB },
		{ "payload", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_bundle_file f;
	const char *pub_path = NULL;
	int opt, payload = 0, rc = VT_CTL_OK;

	(void)conf;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("inspect");
		if (opt == VT_CTL_OPT_PUB)
			pub_path = optarg;
		else if (opt == 'p')
			payload = 1;
		else
			return vt_ctl_bad_option("inspect", argv, opt);
	}
	if (optind != argc - 1)
		return vt_ctl_usage("inspect", "expected one BUNDLE file");
	if (vt_ctl_bundle_load(argv[optind], &f) < 0)
		return VT_CTL_FAIL;
	if (payload) {
		if (fwrite(f.b.payload, 1, f.b.payload_len, stdout) != f.b.payload_len)
			rc = VT_CTL_FAIL;
	} else {
		vt_ctl_inspect_print(&f);
	}
	if (pub_path && vt_ctl_inspect_verify(&f, pub_path, payload ? stderr : stdout) < 0)
		rc = VT_CTL_FAIL;
	vt_ctl_bundle_file_free(&f);
	return rc;
}
