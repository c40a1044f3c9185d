/*
 * main.c - vitrine-agent's command line: options, signals, exit status.
 *
 * Exit status: 0 success, 1 run-time failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "devkey.h"
#include "egress.h"
#include "err.h"
#include "fleet.h"
#include "log.h"
#include "runas.h"
#include "spool.h"
#include "vt_os.h"
#include "vitrine/plugin.h"

#define VT_DEFAULT_CONFIG "/etc/vitrine/agent.conf"

static volatile sig_atomic_t vt_stop, vt_reload;

static void vt_on_signal(int sig)
{
	if (sig == SIGHUP)
		vt_reload = 1;
	else
		vt_stop = 1;
}

static void vt_usage(FILE *f)
{
	fputs("NAME\n"
	      "  vitrine-agent - collect boutique sensor readings, anonymize, seal and publish them\n"
	      "\n"
	      "SYNOPSIS\n"
	      "  vitrine-agent [-c FILE] [--tap FILE] [--exit-when-done] [-v]\n"
	      "  vitrine-agent [-c FILE] --keygen [--force] | --pubkey | --check-config\n"
	      "  vitrine-agent [-c FILE] --spool [--records] | --egress [--head SEQ:HEX]\n"
	      "  vitrine-agent --help | --version\n"
	      "\n"
	      "DESCRIPTION\n"
	      "  Loads the collector plugins named in the configuration (footfall, tablet, rfid, ...),\n"
	      "  keeps only the fields each plugin declares, drops RFID reads of opted-out items and of\n"
	      "  tags outside the shop (RSSI floor), replaces every identifier (RFID serial, kiosk\n"
	      "  session id) by a 64-bit keyed digest under random keys that live in RAM only and\n"
	      "  rotate at least daily (docs/PRIVACY.md), batches readings into protobuf, compresses\n"
	      "  them with zstd, seals each batch with ChaCha20-Poly1305 under a key only the\n"
	      "  aggregator can derive, and publishes it at MQTT QoS 1 on\n"
	      "  vitrine/v1/<site>/<device>/data. Every sealed frame is first written to a\n"
	      "  crash-safe spool on disk (fsync by group commit) and stays there until the\n"
	      "  aggregator acknowledges, with a message only it can authenticate, that its database\n"
	      "  holds it; unacknowledged frames are sent again after a reconnection or a time-out.\n"
	      "  When the broker is away it keeps collecting into the spool (bounded by bytes and\n"
	      "  age; the oldest frames are dropped first, counted and logged) and reconnects by\n"
	      "  itself with back-off.\n"
	      "  With fleet_ops_key set, it takes configuration and plugin bundles signed by the ops\n"
	      "  team from vitrine/v1/<site>/<device>/cmd/bundle/# and vitrine/groups/<group>/bundle/#,\n"
	      "  restarts itself into them, checks its own health for fleet_trial_s, and rolls back\n"
	      "  by itself if it is not healthy (docs/OPERATIONS.md, vitrine-ctl(1)).\n"
	      "\n"
	      "OPTIONS\n"
	      "  -c, --config FILE   configuration file [" VT_DEFAULT_CONFIG "]\n"
	      "      --check-config  validate the configuration and exit (0 valid, 2 invalid)\n"
	      "      --keygen        create the device key pair in state_dir and\n"
	      "                      print the 'device' line to add to the aggregator's configuration\n"
	      "      --force         with --keygen: replace existing keys\n"
	      "      --pubkey        print the device's public key line\n"
	      "      --tap FILE      also write what may leave the device, as CSV lines in the format\n"
	      "                      of 'vitrine-aggregator export': each event (pseudonymous mode)\n"
	      "                      or window count (anonymous mode); for tests and audits;\n"
	      "                      appended to, so that it spans the agent's fleet restarts\n"
	      "      --exit-when-done  exit once every plugin's source has finished and the aggregator\n"
	      "                      acknowledged every frame (simulations with a limit)\n"
	      "      --spool         print what the spool holds (frames, readings, bytes, oldest,\n"
	      "                      damage) and exit; read-only, so safe while the agent runs\n"
	      "      --records       with --spool: one line per intact frame: seq, readings, bytes,\n"
	      "                      time it was spooled (UTC ms)\n"
	      "      --egress        check the egress log (what left the device, when, how much;\n"
	      "                      hash-chained) and print its summary; exit 0 if intact, 1 if\n"
	      "                      broken, 2 if it cannot be read; read-only\n"
	      "      --head SEQ:HEX  with --egress: also check that the log still holds a head the\n"
	      "                      device published earlier (the status's \"egress\" seq and\n"
	      "                      head, from the retained status or an archive): prints\n"
	      "                      'present', 'MISSING' (cut or removed), 'another hash'\n"
	      "                      (rewritten), or 'cannot tell' for a head older than the\n"
	      "                      oldest record kept (rotated out; exit 0); exit 1 if missing\n"
	      "                      or rewritten, 2 if SEQ:HEX is malformed\n"
	      "  -v, --verbose       log at debug level (overrides log_level)\n"
	      "  -h, --help          this text\n"
	      "  -V, --version       version and plugin ABI\n"
	      "\n",
	      f);
	vt_agent_config_help(f);
	fputs("\n"
	      "FILES\n"
	      "  " VT_DEFAULT_CONFIG "          configuration\n"
	      "  <state_dir>/device.key     X25519 private key of the device (0600)\n"
	      "  <privacy_optout>           items never to count; keep it 0600 (docs/PRIVACY.md)\n"
	      "  <state_dir>/seq, epoch     sequence reservation and key epoch counters\n"
	      "  <spool_dir>/*.vts          spooled frames awaiting the aggregator's ack\n"
	      "  <state_dir>/windows.ckpt.a, .b  anonymous mode: counts of the open windows\n"
	      "                             (written at each group commit, restored at start)\n"
	      "  <state_dir>/egress.log     what left the device, one hash-chained line a minute\n"
	      "                             at most (and egress.log.1, the previous file)\n"
	      "  <state_dir>/fleet.state    signed bundles installed by the fleet: the running and\n"
	      "                             the previous configuration and plugins, and the\n"
	      "                             outcome of the last one (docs/OPERATIONS.md)\n"
	      "  <state_dir>/fleet/*.so     the plugins of those bundles\n"
	      "\n"
	      "SIGNALS\n"
	      "  SIGINT, SIGTERM  stop collecting, seal and spool the open batch, fsync, wait up to\n"
	      "                   3 s for acknowledgments, exit; what is unacknowledged is sent at\n"
	      "                   the next start. SIGKILL or a power cut lose at most the frames\n"
	      "                   not yet fsynced (spool_sync_ms)\n"
	      "  SIGHUP           reload: check the configuration file as --check-config does; if\n"
	      "                   it fails, log why and keep running as before. If only plugins\n"
	      "                   changed (plugin lines, plugin_dir, <plugin>.<key>), stop every\n"
	      "                   plugin and start those of the file, keeping the broker session,\n"
	      "                   the open batch and the windows; otherwise execute the agent again\n"
	      "                   in place (same process id; the spool and the window checkpoint\n"
	      "                   keep every reading)\n"
	      "\n"
	      "ENVIRONMENT\n"
	      "  NOTIFY_SOCKET    set by systemd for Type=notify (the vitrine-agent unit): the\n"
	      "                   agent says READY=1 once its plugins are loaded and the broker\n"
	      "                   session is up or it has decided to spool, keeps a STATUS= line,\n"
	      "                   says RELOADING=1 on SIGHUP and STOPPING=1 on SIGTERM\n"
	      "  WATCHDOG_USEC    set by systemd for WatchdogSec=: a keep-alive from the main\n"
	      "                   loop every half of it (none when WATCHDOG_PID is another\n"
	      "                   process)\n"
	      "\n"
	      "EXIT STATUS\n"
	      "  0 success, 1 run-time failure (--egress: the log is broken, or lacks the\n"
	      "  --head given), 2 usage or configuration error (--egress: no log could be read)\n"
	      "\n"
	      "EXAMPLE\n"
	      "  vitrine-agent -c /etc/vitrine/agent.conf --keygen >> aggregator-devices.conf\n"
	      "  vitrine-agent -c /etc/vitrine/agent.conf --check-config && systemctl start vitrine-agent\n",
	      f);
}

struct vt_cli {
	const char *config;
	const char *tap;
	int check, keygen, force, pubkey, exit_when_done, verbose, spool, records, egress;
	const char *head;		/* --head SEQ:HEX, checked with --egress */
	struct vt_egress_head_check want;
};

static int vt_parse_args(int argc, char **argv, struct vt_cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "keygen", no_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "pubkey", no_argument, NULL, 'p' },
		{ "tap", required_argument, NULL, 't' },
		{ "exit-when-done", no_argument, NULL, 'x' },
		{ "spool", no_argument, NULL, 's' },
		{ "records", no_argument, NULL, 'r' },
		{ "egress", no_argument, NULL, 'e' },
		{ "head", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli->config = VT_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli->config = optarg; break;
		case 'C': cli->check = 1; break;
		case 'k': cli->keygen = 1; break;
		case 'f': cli->force = 1; break;
		case 'p': cli->pubkey = 1; break;
		case 't': cli->tap = optarg; break;
		case 'x': cli->exit_when_done = 1; break;
		case 's': cli->spool = 1; break;
		case 'r': cli->records = 1; break;
		case 'e': cli->egress = 1; break;
		case 'H': cli->head = optarg; break;
		case 'v': cli->verbose = 1; break;
		case 'h': vt_usage(stdout); exit(0);
		case 'V':
			printf("vitrine-agent %s (plugin ABI %d.%d)\n", VT_VERSION, VITRINE_ABI_MAJOR,
			       VITRINE_ABI_MINOR);
			exit(0);
		default:
			fprintf(stderr, "Try 'vitrine-agent --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vitrine-agent: unexpected argument '%s'\nTry 'vitrine-agent --help'.\n",
			argv[optind]);
		return -1;
	}
	if (cli->head) {
		const char *why;

		if (!cli->egress) {
			fprintf(stderr, "vitrine-agent: --head goes with --egress\nTry 'vitrine-agent --help'.\n");
			return -1;
		}
		if (vt_egress_head_parse(cli->head, &cli->want, &why) < 0) {
			fprintf(stderr, "vitrine-agent: --head '%s': %s\nTry 'vitrine-agent --help'.\n",
				cli->head, why);
			return -1;
		}
	}
	return 0;
}

static int vt_print_record(void *arg, uint64_t seq, uint32_t readings, int64_t wall_ms,
			   size_t len)
{
	(void)arg;
	printf("%" PRIu64 " %" PRIu32 " %zu %" PRId64 "\n", seq, readings, len, wall_ms);
	return 0;
}

/* --spool: what a start would find in the spool, without changing it. */
static int vt_spool_report(const struct vt_agent_config *cfg, int records)
{
	struct vt_spool_stats st;
	int rc;

	if (records)
		printf("# seq readings bytes spooled_at_ms\n");
	rc = vt_spool_inspect(cfg->spool_dir, &st, records ? vt_print_record : NULL, NULL);
	if (rc < 0) {
		fprintf(stderr, "vitrine-agent: cannot read the spool %s: %s\n", cfg->spool_dir,
			vt_strerror(rc));
		return rc;
	}
	printf("%s%s: %" PRIu64 " frames, %" PRIu64 " readings, %" PRIu64 " bytes",
	       records ? "# " : "", cfg->spool_dir, st.frames, st.readings, st.bytes);
	if (st.frames)
		printf(", oldest spooled %" PRId64 " s ago",
		       (vt_os_now_ms() - st.oldest_wall_ms) / 1000);
	printf("; damage: %" PRIu64 " regions (%" PRIu64 " bytes) to skip, %" PRIu64
	       " bytes of torn tail to cut\n",
	       st.dropped_frames[VT_SPOOL_DROP_CORRUPT], st.corrupt_bytes, st.cut_bytes);
	return 0;
}

static void vt_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vt_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Without a command option, the agent runs. */
static int vt_runs(const struct vt_cli *cli)
{
	return !cli->check && !cli->keygen && !cli->pubkey && !cli->spool && !cli->egress;
}

/* Run the agent: agent.conf with the fleet's bundles (fleet.h). When a
 * bundle was taken or rolled back, the agent executes itself again with
 * the same arguments: a fresh start is the one way to change a setting or a
 * plugin that the tests and the crash recovery already cover. */
static int vt_run(const struct vt_cli *cli, char **argv)
{
	struct vt_agent_config cfg;
	struct vt_fleet_state fleet;
	char err[VT_CONF_ERR_MAX];
	int rc;

	/* The user first, by agent.conf alone (a bundle may not set it): the
	 * fleet state and the spool are written as it. */
	rc = vt_agent_config_load(cli->config, &cfg, err, sizeof(err));
	if (rc == 0)
		rc = vt_runas(&cfg, cli->config, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vitrine-agent: %s\n", err);
		vt_agent_config_free(&cfg);
		return 2;
	}
	vt_fleet_boot(cli->config, &cfg, &fleet);
	vt_log_level = cli->verbose ? VT_LOG_DEBUG : cfg.log_level;
	vt_signals();
	/* No core dump: raw identifiers pass through the agent's memory
	 * (docs/PRIVACY.md R1, R3). After vt_runas: a change of user resets
	 * this flag. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fprintf(stderr, "vitrine-agent: cannot disable core dumps: %s\n", strerror(errno));
	rc = vt_agent_run(&cfg, &(struct vt_agent_opts){ .config_path = cli->config,
							 .fleet = &fleet,
							 .tap_path = cli->tap,
							 .exit_when_done = cli->exit_when_done,
							 .stop = &vt_stop,
							 .reload = &vt_reload });
	vt_fleet_state_free(&fleet);
	vt_agent_config_free(&cfg);
	if (rc == VT_AGENT_RESTART && !vt_stop) {
		VT_INFO("restarting to run %s", vt_reload ? "the reloaded configuration" :
							 "what the fleet installed");
		execv("/proc/self/exe", argv);
		VT_ERROR("cannot execute the agent again: %s", strerror(errno));
		return 1;
	}
	return rc == -VT_ECONFIG ? 2 : rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct vt_agent_config cfg;
	struct vt_cli cli = { 0 };
	char err[VT_CONF_ERR_MAX];
	int rc;

	vt_log_init("vitrine-agent", VT_LOG_INFO);
	if (vt_parse_args(argc, argv, &cli) < 0)
		return 2;
	if (vt_runs(&cli))
		return vt_run(&cli, argv);
	rc = vt_agent_config_load(cli.config, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vitrine-agent: %s\n", err);
		vt_agent_config_free(&cfg);
		return 2;
	}
	vt_log_level = cli.verbose ? VT_LOG_DEBUG : cfg.log_level;
	if (cli.check) {
		if (vt_runas_check(&cfg, cli.config, err, sizeof(err)) < 0) {
			fprintf(stderr, "vitrine-agent: %s\n", err);
			vt_agent_config_free(&cfg);
			return 2;
		}
		if (vt_agent_check_plugins(&cfg) < 0 || vt_fleet_check_keys(&cfg) < 0) {
			vt_agent_config_free(&cfg);
			return 2;
		}
		printf("%s: configuration valid (site %s, device %s, %d plugins)\n", cli.config,
		       cfg.site, cfg.device, cfg.n_plugins);
		rc = 0;
	} else if (cli.keygen) {
		rc = vt_devkey_generate(&cfg, cli.force);
	} else if (cli.pubkey) {
		rc = vt_devkey_print(&cfg);
	} else if (cli.spool) {
		rc = vt_spool_report(&cfg, cli.records);
	} else if (cli.egress) {
		rc = vt_egress_verify_head(cfg.state_dir, stdout, cli.head ? &cli.want : NULL, NULL);
		vt_agent_config_free(&cfg);
		return rc < 0 ? 2 : rc;
	}
	vt_agent_config_free(&cfg);
	return rc == -VT_ECONFIG ? 2 : rc < 0 ? 1 : 0;
}
