/*
 * main.c - vitrine-ctl's entry point: global options (-c, --help,
 * --version), then hands the rest of the command line to the command.
 *
 * Exit status: 0 done, 1 failed, 2 usage error (ctl.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>

#include "ctl.h"
#include "log.h"

typedef int (*vt_ctl_cmd_fn)(const struct vt_ctl_conf *conf, int argc, char **argv);

static const struct {
	const char *name;
	vt_ctl_cmd_fn fn;
} vt_ctl_cmds[] = {
	{ "keygen", vt_ctl_cmd_keygen },	{ "sign", vt_ctl_cmd_sign },
	{ "inspect", vt_ctl_cmd_inspect },	{ "push", vt_ctl_cmd_push },
	{ "rollout", vt_ctl_cmd_rollout },	{ "rollback", vt_ctl_cmd_rollback },
	{ "devices", vt_ctl_cmd_devices },	{ "show", vt_ctl_cmd_show },
	{ "enroll", vt_ctl_cmd_enroll },	{ "acl", vt_ctl_cmd_acl },
	{ "train-dict", vt_ctl_cmd_train_dict },
};

static vt_ctl_cmd_fn vt_ctl_find(const char *name)
{
	for (size_t i = 0; i < sizeof(vt_ctl_cmds) / sizeof(vt_ctl_cmds[0]); i++)
		if (strcmp(name, vt_ctl_cmds[i].name) == 0)
			return vt_ctl_cmds[i].fn;
	return NULL;
}

static int vt_ctl_version(void)
{
	int major, minor, rev;

	mosquitto_lib_version(&major, &minor, &rev);
	printf(VT_CTL_PROG " " VT_VERSION " (libmosquitto %d.%d.%d)\n", major, minor, rev);
	return VT_CTL_OK;
}

/* "help [COMMAND]", as a command. */
static int vt_ctl_help_cmd(int argc, char **argv)
{
	if (argc < 2)
		return vt_ctl_help_ok(NULL);
	if (vt_ctl_help(argv[1], stdout) < 0)
		return vt_ctl_usage(NULL, "no command '%s'", argv[1]);
	return VT_CTL_OK;
}

/* Global options, up to the command's name. Returns VT_CTL_GO with
 * *config set, or an exit status. */
static int vt_ctl_global(int argc, char **argv, const char **config)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* '+': stop at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+:c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			return vt_ctl_help_ok(NULL);
		case 'V':
			return vt_ctl_version();
		default:
			return vt_ctl_bad_option(NULL, argv, opt);
		}
	}
	if (optind >= argc)
		return vt_ctl_usage(NULL, "expected a command: keygen, sign, inspect, push, rollout, rollback, devices, show, enroll, acl or train-dict");
	return VT_CTL_GO;
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	struct vt_ctl_conf conf;
	vt_ctl_cmd_fn fn;
	int rc, first;

	opterr = 0;
	vt_log_init(VT_CTL_PROG, VT_LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	rc = vt_ctl_global(argc, argv, &config);
	if (rc != VT_CTL_GO)
		return rc;
	first = optind;
	if (strcmp(argv[first], "help") == 0)
		return vt_ctl_help_cmd(argc - first, argv + first);
	fn = vt_ctl_find(argv[first]);
	if (!fn)
		return vt_ctl_usage(NULL, "no command '%s'", argv[first]);
	rc = vt_ctl_conf_load(config, &conf);
	if (rc != 0)
		return rc;
	if (mosquitto_lib_init() != MOSQ_ERR_SUCCESS) {
		vt_ctl_error("libmosquitto did not initialize");
		vt_ctl_conf_free(&conf);
		return VT_CTL_FAIL;
	}
	optind = 0;	/* glibc: start afresh at the command's argv[1] */
	rc = fn(&conf, argc - first, argv + first);
	mosquitto_lib_cleanup();
	vt_ctl_conf_free(&conf);
	return rc;
}
