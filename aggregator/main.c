/*
 * main.c - the vitrine-aggregator command line.
 *
 * Parses options, loads the configuration and dispatches to a command:
 * run (run.c), keygen/pubkey (here: a few lines over keys.h), report and
 * export --kpi (kpi_cmd.c), export and stats (report.c), watch (watch.c,
 * with kpi_cmd.c's panel; the refresh loop is here), gaps (gaps.c),
 * windows (windows.c). Exit
 * status: 0 success, 1 failure at run time, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agg_config.h"
#include "err.h"
#include "frame.h"
#include "gaps.h"
#include "keys.h"
#include "kpi_cmd.h"
#include "kpi_out.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "runas.h"
#include "store.h"
#include "vt_os.h"
#include "watch.h"
#include "windows.h"

#define VT_AGG_PROG "vitrine-aggregator"
#define VT_AGG_EXIT_FAIL 1
#define VT_AGG_EXIT_USAGE 2

struct vt_agg_cli {
	const char *config_path;
	const char *command;
	int check_config;
	int force;
	unsigned interval_s;
	unsigned count;		/* watch: refreshes, 0 = until a signal */
	const char *device;	/* gaps, windows: only this device */
	int json;		/* gaps, windows, export --kpi: one JSON object per line */
	int period_set;		/* --period given */
	struct vt_kpi_cmd kc;	/* report, export --kpi, watch: the key figures */
};

static volatile sig_atomic_t vt_agg_stop;

static void vt_agg_on_signal(int sig)
{
	(void)sig;
	vt_agg_stop = 1;
}

static void vt_agg_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vt_agg_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut a poll() short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void vt_agg_help(FILE *f)
{
	fputs("NAME\n"
	      "  " VT_AGG_PROG " - receive, verify and store vitrine data frames\n"
	      "\n"
	      "SYNOPSIS\n"
	      "  " VT_AGG_PROG " [-c FILE] [run]\n"
	      "  " VT_AGG_PROG " [-c FILE] keygen [--force]\n"
	      "  " VT_AGG_PROG " [-c FILE] pubkey\n"
	      "  " VT_AGG_PROG " [-c FILE] report [--html FILE] [PERIOD OPTIONS]\n"
	      "  " VT_AGG_PROG " [-c FILE] export --kpi all|NAME [--period hour|day|week]\n"
	      "                     [--json] [PERIOD OPTIONS]\n"
	      "  " VT_AGG_PROG " [-c FILE] watch [--interval S] [--count N] [--tz ZONE] [--k N]\n"
	      "  " VT_AGG_PROG " [-c FILE] gaps [--device ID] [--json]\n"
	      "  " VT_AGG_PROG " [-c FILE] windows [--device ID] [--json]\n"
	      "  " VT_AGG_PROG " [-c FILE] export | stats\n"
	      "  " VT_AGG_PROG " [-c FILE] --check-config\n"
	      "  " VT_AGG_PROG " --help | --version\n"
	      "\n"
	      "DESCRIPTION\n"
	      "  The receiving side of vitrine. It subscribes (MQTT 5, QoS 1, persistent\n"
	      "  session, shared subscription) to vitrine/v1/<site>/<device>/data, opens each\n"
	      "  frame with the aggregator's private key and the device's registered public\n"
	      "  key, rejects bad tags, unknown devices and undecodable payloads (counted,\n"
	      "  logged at most once per device per minute), and stores readings in SQLite\n"
	      "  (WAL), committing in groups. A frame already stored (a device resends what\n"
	      "  it has not seen acknowledged) is a duplicate: counted, not stored, logged at\n"
	      "  info level at most once per device per minute.\n"
	      "\n"
	      "  After each commit it acknowledges, per device, the highest sequence number\n"
	      "  up to which everything the device still meant to deliver is in the\n"
	      "  database (its watermark): on vitrine/v1/<site>/<device>/ack, QoS 1,\n"
	      "  retained, with a MAC only that device can check. The device then deletes\n"
	      "  those frames from its spool. Nothing is acknowledged before it is\n"
	      "  committed; after each (re)connection every watermark is published again.\n"
	      "  The other commands read the database and can run while 'run' does.\n"
	      "\n"
	      "COMMANDS\n"
	      "  run       subscribe and store until SIGINT or SIGTERM (the default)\n"
	      "  keygen    create the aggregator key pair: the private key goes to key_file\n"
	      "            (mode 0600; an existing file is kept unless --force), the public\n"
	      "            key is printed on stdout as 64 hex digits, for the agents'\n"
	      "            aggregator_key\n"
	      "  pubkey    print the public key of key_file\n"
	      "  report    the key figures of each store (docs/KPIS.md), from window counts\n"
	      "            and events alike: per day, footfall in and out, peak occupancy,\n"
	      "            mean dwell (Little's law), kiosk sessions, engagement (sessions\n"
	      "            per visitor) and the change against the same weekday of the 4\n"
	      "            previous weeks; per hour (for up to two days), footfall,\n"
	      "            occupancy, sessions, lookups and engagement; the top products\n"
	      "            by RFID presence and by kiosk lookups; kiosk session lengths.\n"
	      "            By default the day of the newest data. A figure resting on fewer\n"
	      "            than --k counts prints as '-'. With --html FILE, also a\n"
	      "            self-contained HTML page with charts (no script, works offline)\n"
	      "  watch     live view, refreshed every --interval seconds until SIGINT or\n"
	      "            SIGTERM: per store, the key figures of the day of the newest data\n"
	      "            (in, out, inside now, peak, kiosk sessions, engagement, top\n"
	      "            product); the accepted/rejected/duplicate frame counters, then\n"
	      "            - counts per window (anonymous mode): per site and window among\n"
	      "              the 6 newest window starts stored (within a day of the\n"
	      "              newest), footfall in and out, kiosk sessions, screens viewed,\n"
	      "              product lookups, RFID items present and the top product (by\n"
	      "              lookups, else presence); parts and 'other' cells added up;\n"
	      "              counts below k are merged into 'other' or withheld\n"
	      "            - events (pseudonymous mode), if any: per site and minute of the\n"
	      "              10 minutes up to the newest event, footfall, tablet events, RFID\n"
	      "              reads, and the top 5 products by RFID reads\n"
	      "            Each part ends at its newest data, not at the wall clock, so\n"
	      "            simulations and replays show.\n"
	      "  export --kpi all|NAME\n"
	      "            the key figures per store and --period (hour by default) over all\n"
	      "            the data (or --since/--until), CSV with a header line, or JSON\n"
	      "            lines with --json; columns site, period, start, end (ISO 8601\n"
	      "            with the offset of --tz), kpi, unit, gtin, zone, bucket, weeks,\n"
	      "            value, suppressed (value empty / null when below --k). NAME:\n"
	      "            footfall_in, footfall_out, occupancy_peak, occupancy_end,\n"
	      "            dwell_mean, kiosk_sessions, kiosk_screens, kiosk_lookups,\n"
	      "            engagement, footfall_in_prev_weeks, footfall_in_change,\n"
	      "            session_length, product_presence, zone_presence, product_lookups\n"
	      "  export    every stored reading as a CSV line, sorted in byte order (LC_ALL=C):\n"
	      "              footfall,SITE,DEVICE,TIME_MS,DOOR,in|out,COUNT\n"
	      "              tablet,SITE,DEVICE,TIME_MS,KIOSK,EVENT,SESSION_DIGEST,SCREEN,GTIN,DURATION_MS\n"
	      "              rfid,SITE,DEVICE,TIME_MS,READER,ANTENNA,RSSI_CDBM,GTIN,FILTER,TAG_DIGEST,READS,DWELL_MS\n"
	      "              window,SITE,DEVICE,START_MS,LENGTH_S,METRIC,DIM1,DIM2,LABEL,OTHER,\n"
	      "                COUNT,K,EPSILON_MILLI   (one line per stored part)\n"
	      "            digests in lowercase hex; OTHER 0 or 1; no header line\n"
	      "  gaps      per device: the site of its latest frame, the first and last\n"
	      "            sequence numbers stored, how many frames are stored, its\n"
	      "            watermark (acked) and how many numbers are missing; then each\n"
	      "            range of numbers absent between the first and the last, with\n"
	      "            its kind:\n"
	      "              skipped  never used or given up by the device: the next\n"
	      "                       frame's prev_seq jumps over it (numbers reserved\n"
	      "                       before a crash), or it lies below a later frame's\n"
	      "                       floor_seq (frames the device dropped)\n"
	      "              missing  not received: lost on the way or still in flight\n"
	      "            With --json, one object per device and line:\n"
	      "              {\"device\":ID,\"site\":SITE,\"first\":N,\"last\":N,\"stored\":N,\n"
	      "               \"acked\":N,\"missing\":N,\"gaps\":[{\"from\":N,\"to\":N,\n"
	      "               \"count\":N,\"kind\":\"skipped\"|\"missing\"},...]}\n"
	      "            Exit status 1 when --device names a device with no stored frame.\n"
	      "  windows   the counts per time window of devices in anonymous mode: per\n"
	      "            site, device, window start (UTC), length (s), metric, dim1,\n"
	      "            dim2, label and other (yes: the cell into which values seen\n"
	      "            fewer than k times were merged), the SUM of the counts stored\n"
	      "            (a device restarted mid-window sends it in parts, which add\n"
	      "            up; a copy of a part sent again after a crash is stored\n"
	      "            once), how many parts, and the weakest protection among them:\n"
	      "            the smallest k and the largest epsilon ('-': no noise).\n"
	      "            Metrics: footfall_passes, kiosk_sessions, kiosk_screen_views,\n"
	      "            kiosk_lookups, kiosk_session_length, rfid_presence. With\n"
	      "            --json, one object per cell and line:\n"
	      "              {\"site\":SITE,\"device\":ID,\"start_ms\":N,\"start\":ISO,\n"
	      "               \"length_s\":N,\"metric\":NAME,\"dim1\":N,\"dim2\":N,\n"
	      "               \"label\":TEXT,\"other\":BOOL,\"count\":N,\"parts\":N,\"k\":N,\n"
	      "               \"epsilon_milli\":N}\n"
	      "  stats     the counters: frames_ok, readings_ok, readings_skipped,\n"
	      "            window_cells_duplicate (cells of a window sent again after a\n"
	      "            crash, with the same part: stored once) and rejected_<reason>\n"
	      "            for topic_mismatch, bad_frame, unknown_device, bad_key,\n"
	      "            bad_tag, decode and duplicate; then each device's\n"
	      "            watermark (the highest sequence number acknowledged) and site\n"
	      "\n"
	      "OPTIONS\n"
	      "  -c, --config FILE   configuration file [" VT_AGG_DEFAULT_CONFIG "]\n"
	      "      --check-config  validate the configuration and exit (0 valid, 2 not)\n"
	      "      --force         keygen: replace an existing key_file\n"
	      "  PERIOD OPTIONS (report, export --kpi):\n"
	      "      --since DATE    from DATE (YYYY-MM-DD[THH:MM[:SS]], local time of --tz)\n"
	      "      --until DATE    up to DATE, exclusive; a date alone includes that whole\n"
	      "                      day; periods are rounded out to whole hours, days, weeks\n"
	      "      --tz ZONE       cut days and hours in ZONE, e.g. Europe/Paris [UTC]\n"
	      "      --k N           withhold figures resting on fewer than N counts [10];\n"
	      "                      5 at least, the devices' floor (also for watch)\n"
	      "      --site ID       only the store ID\n"
	      "      --period P      export --kpi: hour, day or week [hour]\n"
	      "      --html FILE     report: also write the HTML report to FILE\n"
	      "      --interval S    watch: refresh period in seconds [1]\n"
	      "      --count N       watch: stop after N refreshes [0 = until a signal]\n"
	      "      --device ID     gaps, windows: only the device ID\n"
	      "      --json          gaps, windows, export --kpi: one JSON object per line\n"
	      "  -h, --help          this help\n"
	      "  -V, --version       print the version\n"
	      "\n",
	      f);
	vt_agg_config_help(f);
	fputs("\n"
	      "FILES\n"
	      "  " VT_AGG_DEFAULT_CONFIG "   default configuration\n"
	      "  key_file            the private key, one line of 64 hex digits, mode 0600\n"
	      "  database            SQLite database with its -wal and -shm files; an older\n"
	      "                      schema is upgraded in place by 'run'\n"
	      "\n"
	      "EXIT STATUS\n"
	      "  0  success\n"
	      "  1  failure at run time (database, key file, broker set-up)\n"
	      "  2  usage or configuration error (\"file:line: what was expected\")\n"
	      "\n"
	      "EXAMPLES\n"
	      "  " VT_AGG_PROG " -c agg.conf keygen > agg.pub\n"
	      "  " VT_AGG_PROG " -c agg.conf --check-config\n"
	      "  " VT_AGG_PROG " -c agg.conf run\n"
	      "  " VT_AGG_PROG " -c agg.conf report --tz Europe/Paris --html today.html\n"
	      "  " VT_AGG_PROG " -c agg.conf report --since 2024-05-01 --until 2024-05-07\n"
	      "  " VT_AGG_PROG " -c agg.conf export --kpi all --period day > kpis.csv\n"
	      "  " VT_AGG_PROG " -c agg.conf export --kpi footfall_in --json --site shop-1\n"
	      "  " VT_AGG_PROG " -c agg.conf export > readings.csv\n"
	      "  " VT_AGG_PROG " -c agg.conf gaps --device pi-door-1\n"
	      "  " VT_AGG_PROG " -c agg.conf gaps --json | jq 'select(.missing > 0)'\n"
	      "  " VT_AGG_PROG " -c agg.conf windows --device pi-door-1\n"
	      "\n"
	      "  A minimal agg.conf:\n"
	      "    database  /var/lib/vitrine/aggregator.db\n"
	      "    key_file  /etc/vitrine/aggregator.key\n"
	      "    broker    127.0.0.1:1883\n"
	      "    device    pi-door-1  <its 64-hex public key>\n"
	      "\n"
	      "SEE ALSO\n"
	      "  docs/AGGREGATOR.md, docs/KPIS.md, docs/PROTOCOL.md, vitrine-agent(1)\n",
	      f);
}

static int vt_agg_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, VT_AGG_PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" VT_AGG_PROG " --help'.\n");
	return VT_AGG_EXIT_USAGE;
}

static int vt_agg_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

enum {
	OPT_CHECK = 256,
	OPT_FORCE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_INTERVAL,
	OPT_COUNT,
	OPT_DEVICE,
	OPT_JSON,
	OPT_TZ,
	OPT_K,
	OPT_SITE,
	OPT_KPI,
	OPT_PERIOD,
	OPT_HTML,
};

/* Returns -1 to go on, or an exit status. */
static int vt_agg_parse_args(int argc, char **argv, struct vt_agg_cli *cli)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "tz", required_argument, NULL, OPT_TZ },
		{ "k", required_argument, NULL, OPT_K },
		{ "site", required_argument, NULL, OPT_SITE },
		{ "kpi", required_argument, NULL, OPT_KPI },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->config_path = optarg;
			break;
		case OPT_CHECK:
			cli->check_config = 1;
			break;
		case OPT_FORCE:
			cli->force = 1;
			break;
		case OPT_SINCE:
			if (vt_report_parse_time(optarg, 0, &cli->kc.since_wall) < 0)
				return vt_agg_usage("--since: expected YYYY-MM-DD[THH:MM[:SS]], got '%s'",
						    optarg);
			cli->kc.has_since = 1;
			break;
		case OPT_UNTIL:
			if (vt_report_parse_time(optarg, 1, &cli->kc.until_wall) < 0)
				return vt_agg_usage("--until: expected YYYY-MM-DD[THH:MM[:SS]], got '%s'",
						    optarg);
			cli->kc.has_until = 1;
			break;
		case OPT_INTERVAL:
			if (vt_agg_parse_uint(optarg, 1, 3600, &cli->interval_s) < 0)
				return vt_agg_usage("--interval: expected seconds from 1 to 3600, got '%s'",
						    optarg);
			break;
		case OPT_COUNT:
			if (vt_agg_parse_uint(optarg, 0, 1000000, &cli->count) < 0)
				return vt_agg_usage("--count: expected a number, got '%s'", optarg);
			break;
		case OPT_DEVICE:
			if (!vt_frame_id_valid(optarg))
				return vt_agg_usage("--device: expected a device id (1 to 64 of A-Z a-z 0-9 . _ -), got '%s'",
						    optarg);
			cli->device = optarg;
			break;
		case OPT_JSON:
			cli->json = cli->kc.json = 1;
			break;
		case OPT_TZ:
			cli->kc.tz = optarg;
			break;
		case OPT_K:
			if (vt_agg_parse_uint(optarg, VT_KPI_K_MIN, 1000000, &cli->kc.k) < 0)
				return vt_agg_usage("--k: expected a number of at least 5 (the privacy floor), got '%s'",
						    optarg);
			break;
		case OPT_SITE:
			if (!vt_frame_id_valid(optarg))
				return vt_agg_usage("--site: expected a site id (1 to 64 of A-Z a-z 0-9 . _ -), got '%s'",
						    optarg);
			cli->kc.site = optarg;
			break;
		case OPT_KPI:
			if (strcmp(optarg, "all") != 0 && !vt_kpi_known(optarg))
				return vt_agg_usage("--kpi: expected 'all' or a figure of docs/KPIS.md (footfall_in, engagement, product_presence, ...), got '%s'",
						    optarg);
			cli->kc.kpi = optarg;
			break;
		case OPT_PERIOD:
			if (vt_kpi_parse_period(optarg, &cli->kc.period) < 0)
				return vt_agg_usage("--period: expected hour, day or week, got '%s'", optarg);
			cli->period_set = 1;
			break;
		case OPT_HTML:
			cli->kc.html = optarg;
			break;
		case 'h':
			vt_agg_help(stdout);
			return 0;
		case 'V':
			printf(VT_AGG_PROG " " VT_VERSION "\n");
			return 0;
		default:
			return vt_agg_usage("%s", "invalid option");
		}
	}
	if (optind < argc)
		cli->command = argv[optind++];
	if (optind < argc)
		return vt_agg_usage("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Options that only make sense with one command. */
static int vt_agg_check_args(const struct vt_agg_cli *cli)
{
	static const char *const commands[] = {
		"run", "keygen", "pubkey", "report", "watch", "export", "stats", "gaps", "windows",
		NULL,
	};
	int known = 0;

	for (int i = 0; commands[i]; i++)
		known |= strcmp(cli->command, commands[i]) == 0;
	if (!known)
		return vt_agg_usage("unknown command '%s' (expected run, keygen, pubkey, report, watch, export, stats, gaps or windows)",
				    cli->command);
	const struct vt_kpi_cmd *kc = &cli->kc;
	int report = strcmp(cli->command, "report") == 0;
	int kpi_export = strcmp(cli->command, "export") == 0 && kc->kpi;
	int watch = strcmp(cli->command, "watch") == 0;
	int gaps_windows = strcmp(cli->command, "gaps") == 0 || strcmp(cli->command, "windows") == 0;

	if (cli->force && strcmp(cli->command, "keygen") != 0)
		return vt_agg_usage("%s", "--force only applies to keygen");
	if ((kc->has_since || kc->has_until || kc->site) && !report && !kpi_export)
		return vt_agg_usage("%s", "--since, --until and --site only apply to report and export --kpi");
	if ((kc->tz || kc->k) && !report && !kpi_export && !watch)
		return vt_agg_usage("%s", "--tz and --k only apply to report, export --kpi and watch");
	if (cli->period_set && !kpi_export)
		return vt_agg_usage("%s", "--period only applies to export --kpi");
	if (kc->html && !report)
		return vt_agg_usage("%s", "--html only applies to report");
	if (kc->kpi && strcmp(cli->command, "export") != 0)
		return vt_agg_usage("%s", "--kpi only applies to export");
	if (cli->device && !gaps_windows)
		return vt_agg_usage("%s", "--device only applies to gaps and windows");
	if (cli->json && !gaps_windows && !kpi_export)
		return vt_agg_usage("%s", "--json only applies to gaps, windows and export --kpi");
	return -1;
}

/* ---- commands ------------------------------------------------------------------- */

static int vt_agg_cmd_keygen(const struct vt_agg_config *cfg, int force)
{
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];
	char hex[2 * VT_KEY_LEN + 1];
	struct stat sb;
	int rc;

	if (!force && lstat(cfg->key_file, &sb) == 0) {
		fprintf(stderr,
			VT_AGG_PROG ": %s already exists; not replacing it (use --force, and give the devices the new public key)\n",
			cfg->key_file);
		return VT_AGG_EXIT_FAIL;
	}
	rc = vt_keys_generate(priv, pub);
	if (rc == 0)
		rc = vt_keys_save(cfg->key_file, priv, 1);
	vt_keys_wipe(priv, sizeof(priv));
	if (rc < 0) {
		fprintf(stderr, VT_AGG_PROG ": cannot write %s: %s\n", cfg->key_file,
			vt_strerror(rc));
		return VT_AGG_EXIT_FAIL;
	}
	vt_hex_encode(pub, VT_KEY_LEN, hex);
	printf("%s\n", hex);
	return 0;
}

static int vt_agg_load_key(const struct vt_agg_config *cfg, uint8_t priv[VT_KEY_LEN])
{
	int rc = vt_keys_load(cfg->key_file, priv, 1);

	if (rc < 0)
		fprintf(stderr, VT_AGG_PROG ": cannot load key_file %s: %s%s\n", cfg->key_file,
			vt_strerror(rc),
			rc == -ENOENT ? " (create it with 'keygen')"
			: rc == -EPERM ? " (it must be readable by its owner only: chmod 600)" : "");
	return rc;
}

static int vt_agg_cmd_pubkey(const struct vt_agg_config *cfg)
{
	uint8_t priv[VT_KEY_LEN], pub[VT_KEY_LEN];
	char hex[2 * VT_KEY_LEN + 1];
	int rc;

	rc = vt_agg_load_key(cfg, priv);
	if (rc == 0)
		rc = vt_keys_public(priv, pub);
	vt_keys_wipe(priv, sizeof(priv));
	if (rc < 0)
		return VT_AGG_EXIT_FAIL;
	vt_hex_encode(pub, VT_KEY_LEN, hex);
	printf("%s\n", hex);
	return 0;
}

/* As root with `user`: become that user once the key is read (key_file
 * may stay root's alone), before the database is opened; the folders it
 * writes (the database's, sample_dir) must be the user's. */
static int vt_agg_drop_root(const struct vt_agg_config *cfg, const char *path)
{
	static const struct vt_runas_who agg = { "the aggregator", "vitrine-aggregator" };
	char db_dir[4096], err[600];
	const char *dirs[3] = { db_dir, cfg->sample_dir, NULL };

	if (vt_os_dir_of(cfg->database, db_dir, sizeof(db_dir)) < 0) {
		fprintf(stderr, VT_AGG_PROG ": database %s: path too long\n", cfg->database);
		return -1;
	}
	if (vt_runas_user(&agg, cfg->user, dirs, path, err, sizeof(err)) < 0) {
		fprintf(stderr, VT_AGG_PROG ": %s\n", err);
		return -1;
	}
	return 0;
}

static int vt_agg_cmd_run(const struct vt_agg_config *cfg, const char *path)
{
	uint8_t priv[VT_KEY_LEN];
	int rc;

	if (vt_agg_load_key(cfg, priv) < 0)
		return VT_AGG_EXIT_FAIL;
	if (vt_agg_drop_root(cfg, path) < 0) {
		vt_keys_wipe(priv, sizeof(priv));
		return VT_AGG_EXIT_USAGE;
	}
	vt_agg_signals();
	rc = vt_agg_run(cfg, priv, &vt_agg_stop);
	vt_keys_wipe(priv, sizeof(priv));
	return rc < 0 ? VT_AGG_EXIT_FAIL : 0;
}

static int vt_agg_watch_loop(sqlite3 *db, const struct vt_agg_cli *cli)
{
	int clear = isatty(STDOUT_FILENO);
	unsigned shown = 0;

	vt_agg_signals();
	while (!vt_agg_stop) {
		/* The events shown end at the newest event, not at the wall
		 * clock, so a simulation running ahead of time or a replay of
		 * old data is shown too (window counts: watch.c anchors them
		 * on the newest window start). */
		int64_t latest = vt_watch_latest_ms(db);

		if (clear)
			fputs(VT_WATCH_CLEAR, stdout);
		if (vt_kpi_cmd_panel(db, &cli->kc, stdout) < 0 ||
		    vt_watch_once(db, stdout, latest > 0 ? latest : vt_os_now_ms(), 0) < 0)
			return VT_AGG_EXIT_FAIL;
		if (cli->count && ++shown >= cli->count)
			break;
		if (!clear)
			fputs("\n", stdout);
		poll(NULL, 0, (int)(cli->interval_s ? cli->interval_s : 1) * 1000);
	}
	return 0;
}

/* The exit status of a key-figures command's result. */
static int vt_agg_kpi_status(int rc)
{
	return rc == -EINVAL ? VT_AGG_EXIT_USAGE : rc < 0 ? VT_AGG_EXIT_FAIL : 0;
}

/* report, watch, export, stats, gaps, windows: read-only on the database. */
static int vt_agg_cmd_read(const struct vt_agg_cli *cli, const struct vt_agg_config *cfg)
{
	struct vt_store *st = NULL;
	char err[512];
	sqlite3 *db;
	int rc;

	if (vt_store_open(cfg->database, VT_STORE_READONLY, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, VT_AGG_PROG ": %s\n", err);
		return VT_AGG_EXIT_FAIL;
	}
	db = vt_store_db(st);
	if (strcmp(cli->command, "report") == 0)
		rc = vt_agg_kpi_status(vt_kpi_cmd_report(db, &cli->kc, stdout));
	else if (strcmp(cli->command, "watch") == 0)
		rc = vt_agg_watch_loop(db, cli);
	else if (strcmp(cli->command, "export") == 0 && cli->kc.kpi)
		rc = vt_agg_kpi_status(vt_kpi_cmd_export(db, &cli->kc, stdout));
	else if (strcmp(cli->command, "export") == 0)
		rc = vt_report_export(db, stdout) < 0 ? VT_AGG_EXIT_FAIL : 0;
	else if (strcmp(cli->command, "gaps") == 0)
		rc = vt_gaps_report(db, stdout, cli->device, cli->json) < 0 ? VT_AGG_EXIT_FAIL : 0;
	else if (strcmp(cli->command, "windows") == 0)
		rc = vt_windows_report(db, stdout, cli->device, cli->json) < 0 ? VT_AGG_EXIT_FAIL : 0;
	else
		rc = vt_report_stats(db, stdout) < 0 ? VT_AGG_EXIT_FAIL : 0;
	vt_store_close(st);
	return rc;
}

static int vt_agg_dispatch(const struct vt_agg_cli *cli, const struct vt_agg_config *cfg)
{
	if (strcmp(cli->command, "run") == 0)
		return vt_agg_cmd_run(cfg, cli->config_path);
	if (strcmp(cli->command, "keygen") == 0)
		return vt_agg_cmd_keygen(cfg, cli->force);
	if (strcmp(cli->command, "pubkey") == 0)
		return vt_agg_cmd_pubkey(cfg);
	return vt_agg_cmd_read(cli, cfg);
}

int main(int argc, char **argv)
{
	struct vt_agg_cli cli = {
		.config_path = VT_AGG_DEFAULT_CONFIG,
		.command = "run",
		.interval_s = 1,
	};
	struct vt_agg_config cfg;
	char err[VT_CONF_ERR_MAX];
	int rc;

	vt_log_init(VT_AGG_PROG, VT_LOG_INFO);
	rc = vt_agg_parse_args(argc, argv, &cli);
	if (rc >= 0)
		return rc;
	if (!cli.check_config && (rc = vt_agg_check_args(&cli)) >= 0)
		return rc;
	err[0] = '\0';
	rc = vt_agg_config_load(cli.config_path, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, VT_AGG_PROG ": %s\n", err[0] ? err : vt_strerror(rc));
		vt_agg_config_free(&cfg);
		return VT_AGG_EXIT_USAGE;
	}
	if (cli.check_config && vt_runas_check_user(cfg.user, cli.config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, VT_AGG_PROG ": %s\n", err);
		rc = VT_AGG_EXIT_USAGE;
	} else if (cli.check_config) {
		printf("%s: configuration valid (%zu devices registered)\n", cli.config_path,
		       cfg.n_devices);
		rc = 0;
	} else {
		vt_log_init(VT_AGG_PROG, cfg.log_level);
		rc = vt_agg_dispatch(&cli, &cfg);
	}
	vt_agg_config_free(&cfg);
	return rc;
}
