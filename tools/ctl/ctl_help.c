/*
 * ctl_help.c - vitrine-ctl's manual: the tool's page and one page per
 * command, printed by --help (and by 'vitrine-ctl help COMMAND').
 *
 * Kept in one file so that the pages read alike and stay in step with
 * each other; the commands only call vt_ctl_help_ok().
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define VT_CTL_BROKER_HELP                                                                  \
	"BROKER OPTIONS\n"                                                                  \
	"  --broker HOST:PORT   the MQTT broker [127.0.0.1:1883]; [v6]:PORT for IPv6\n"       \
	"  --tls-ca FILE        use TLS, trusting the broker's certificate from this CA\n"    \
	"  --tls-cert FILE      client certificate (with --tls-key), if the broker asks\n"    \
	"  --tls-key FILE       its private key\n"                                             \
	"  --client-id ID       MQTT client id [vitrine-ctl-<pid>]; the session is clean\n"   \
	"  --timeout SECONDS    how long to wait for the broker's CONNACK, SUBACK and\n"      \
	"                       PUBACKs [10]\n"                                                \
	"  Defaults for these come from ctl.conf when there is one (see vitrine-ctl --help).\n"

static const char vt_ctl_help_tool[] =
	"NAME\n"
	"  vitrine-ctl - sign, publish and roll out fleet bundles; list and inspect devices;\n"
	"  enroll devices at the aggregator; write the broker's access control list\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl [-c FILE] COMMAND [OPTIONS] [ARGS]\n"
	"  vitrine-ctl COMMAND --help\n"
	"  vitrine-ctl --help | --version\n"
	"\n"
	"DESCRIPTION\n"
	"  The ops team's tool for a fleet of vitrine agents. Desired state is a signed\n"
	"  bundle (a configuration laid over each device's agent.conf, or a plugin .so)\n"
	"  retained on the MQTT broker: for a group on vitrine/groups/<group>/bundle/...,\n"
	"  for one device on vitrine/v1/<site>/<device>/cmd/bundle/... A device takes a\n"
	"  bundle signed by one of its fleet_ops_key keys and addressed to it or to one of\n"
	"  its groups, tries it in a health check, and keeps it or rolls back by itself;\n"
	"  its retained status (vitrine/v1/<site>/<device>/status) says which.\n"
	"\n"
	"COMMANDS\n"
	"  keygen    create the ops signing key pair (ECDSA P-256, PEM)\n"
	"  sign      sign a configuration or a plugin into a bundle file\n"
	"  inspect   show what a bundle file holds; verify its signature\n"
	"  push      publish a bundle where its target looks (or sign and publish a file;\n"
	"            or clear such a topic)\n"
	"  rollout   take a group's bundle to its devices in waves, watching each wave\n"
	"  rollback  sign an older bundle's content again as a rollback and publish it\n"
	"  devices   list the devices' retained statuses, with what needs attention\n"
	"  show      one device's status in full\n"
	"  enroll    add a device's public key to the aggregator's configuration\n"
	"  acl       write the broker's access control list (a mosquitto acl_file) from\n"
	"            the fleet's inventory\n"
	"\n"
	"OPTIONS\n"
	"  -c, --config FILE  read broker defaults from FILE (below)\n"
	"  -h, --help         this text; 'vitrine-ctl COMMAND --help' for a command's\n"
	"  -V, --version      the version\n"
	"\n"
	"FILES\n"
	"  ~/.config/vitrine/ctl.conf, or $VITRINE_CTL_CONFIG, or -c FILE: optional\n"
	"  defaults for the broker options, one \"key value\" a line (as agent.conf):\n"
	"    broker HOST:PORT, tls_ca FILE, tls_cert FILE, tls_key FILE, client_id ID,\n"
	"    timeout_s N. Options given on the command line win.\n"
	"\n"
	"EXIT STATUS\n"
	"  0 done, 1 failed (the message says what and where), 2 usage error\n"
	"\n"
	"EXAMPLES\n"
	"  vitrine-ctl keygen --key ops.key --pub ops.pub\n"
	"  vitrine-ctl sign --key ops.key --group pilot --version 7 -o cfg-v7.vtb pilot.conf\n"
	"  vitrine-ctl rollout --broker mqtt.example:8883 --tls-ca ca.pem --group pilot \\\n"
	"      --waves 1,10%,100% --key ops.key cfg-v7.vtb\n"
	"  vitrine-ctl devices --group pilot\n"
	"\n"
	"SEE ALSO\n"
	"  vitrine-agent(1), vitrine-aggregator(1), docs/OPERATIONS.md\n";

static const char vt_ctl_help_keygen[] =
	"NAME\n"
	"  vitrine-ctl keygen - create the ops signing key pair\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl keygen --key PRIVATE.key --pub PUBLIC.pub\n"
	"\n"
	"DESCRIPTION\n"
	"  Writes a new ECDSA P-256 private key (PEM, mode 0600) and its public key (PEM,\n"
	"  0644), and prints the key id (16 hex digits) that bundles name. An existing\n"
	"  private key file is never replaced. Keep the private key offline: whoever holds\n"
	"  it decides what every device runs. Install the public key on each device and\n"
	"  name it in agent.conf: fleet_ops_key /etc/vitrine/ops.pub (up to 4 keys, so\n"
	"  that a new key can be added before the old one is retired).\n"
	"\n"
	"OPTIONS\n"
	"  --key FILE   the private key to create (refused if FILE exists)\n"
	"  --pub FILE   the public key to write\n";

static const char vt_ctl_help_sign[] =
	"NAME\n"
	"  vitrine-ctl sign - sign a configuration or a plugin into a bundle file\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl sign --key FILE (--group GROUP | --device SITE/DEVICE) --version N\n"
	"                   [--rollback] [--name PLUGIN] [--serial N] [--against AGENT.CONF]\n"
	"                   -o OUT.vtb FILE\n"
	"\n"
	"DESCRIPTION\n"
	"  FILE ending in .so (or starting as an ELF file) becomes a plugin bundle, named\n"
	"  --name or after the file (footfall.so: footfall); anything else is a\n"
	"  configuration bundle: text in agent.conf's syntax whose keys replace the same\n"
	"  keys of each device's agent.conf. It may not set site, device, client_id,\n"
	"  state_dir, spool_dir, tls_ca, tls_cert, tls_key, group or fleet_ops_key.\n"
	"  The bundle is written to OUT (0644) and described in one line.\n"
	"\n"
	"OPTIONS\n"
	"  --key FILE            the ops private key (from keygen)\n"
	"  --group GROUP         address the bundle to the devices of GROUP\n"
	"  --device SITE/DEVICE  or to one device\n"
	"  --version N           the version people see; a device refuses a version below\n"
	"                        the one it runs, unless --rollback\n"
	"  --rollback            sign it as a deliberate step back to an older version\n"
	"  --name PLUGIN         the plugin's name ([a-z0-9_], up to 32) if not the file's\n"
	"  --serial N            the serial [now, in UTC ms]; a device takes only a serial\n"
	"                        above every one it tried for the same slot\n"
	"  --against AGENT.CONF  also check that the configuration, laid over this\n"
	"                        agent.conf, loads as a device would load it\n"
	"  -o, --output OUT.vtb  where to write the bundle\n"
	"\n"
	"EXAMPLES\n"
	"  vitrine-ctl sign --key ops.key --group pilot --version 7 -o cfg-v7.vtb pilot.conf\n"
	"  vitrine-ctl sign --key ops.key --device cannes-1/pi-3 --version 2 -o fp.vtb footfall.so\n";

static const char vt_ctl_help_inspect[] =
	"NAME\n"
	"  vitrine-ctl inspect - show what a bundle file holds\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl inspect [--pub FILE] [--payload] BUNDLE\n"
	"\n"
	"DESCRIPTION\n"
	"  Prints the bundle's kind, target, plugin name, version, serial (and the UTC time\n"
	"  it stands for), flags, payload size, the id of the key that signed it, and the\n"
	"  topic push would publish it on.\n"
	"\n"
	"OPTIONS\n"
	"  --pub FILE   also verify the signature with this public (or private) key;\n"
	"               exit 1 when it does not verify or another key signed it\n"
	"  --payload    print the payload (the configuration text, or the .so) instead\n";

static const char vt_ctl_help_push[] =
	"NAME\n"
	"  vitrine-ctl push - publish a bundle where its target looks for it\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl push [BROKER OPTIONS] BUNDLE\n"
	"  vitrine-ctl push [BROKER OPTIONS] --key FILE --version N (--group G | --device S/D)\n"
	"                   [--rollback] [--name P] [--serial N] [--against CONF] [-o OUT] FILE\n"
	"  vitrine-ctl push [BROKER OPTIONS] --clear (--group G | --device S/D)\n"
	"                   --kind config | --kind plugin --name P\n"
	"\n"
	"DESCRIPTION\n"
	"  Publishes a signed bundle retained at QoS 1 on the topic its target implies:\n"
	"  vitrine/groups/<group>/bundle/config (or .../bundle/plugin/<name>) for a group,\n"
	"  vitrine/v1/<site>/<device>/cmd/bundle/... for a device, and waits for the\n"
	"  broker's acknowledgment. Every device of the target takes it at once; use\n"
	"  'rollout' to go in waves. A FILE that is not a bundle is signed first, with the\n"
	"  options of 'sign' (-o keeps a copy of the signed bundle: keep it, it is what\n"
	"  'rollback' needs later). --clear empties such a topic: devices keep running what\n"
	"  they run, devices that come later no longer get it.\n"
	"\n"
	"OPTIONS\n"
	"  the signing options of 'vitrine-ctl sign --help', and:\n"
	"  -o, --output FILE   write the bundle signed here to FILE too\n"
	"  --clear             publish an empty retained message on the slot's topic\n"
	"  --kind KIND         with --clear: config or plugin\n"
	"\n"
	VT_CTL_BROKER_HELP;

static const char vt_ctl_help_rollout[] =
	"NAME\n"
	"  vitrine-ctl rollout - take a group's bundle to its devices in waves\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl rollout [BROKER OPTIONS] --group GROUP [--waves LIST]\n"
	"                      [--max-failures PCT] [--wave-timeout S] [--key FILE]\n"
	"                      [--wait-ms N] [--dry-run] BUNDLE\n"
	"\n"
	"DESCRIPTION\n"
	"  BUNDLE must be signed for --group. The members are the devices whose retained\n"
	"  status is online and lists GROUP, taken by site then device. Each wave publishes\n"
	"  the bundle retained on its new members' own topics\n"
	"  (vitrine/v1/<site>/<device>/cmd/bundle/...), then watches their statuses until\n"
	"  each reports the bundle's serial as applied (its health check passed: success),\n"
	"  refused or rolled_back (failure), or the wave times out (failure: no report).\n"
	"  A line is printed per device as its result comes in, and one per wave.\n"
	"\n"
	"  When a wave's failures exceed --max-failures, the rollout stops: the bundle is\n"
	"  cleared from every device topic the rollout wrote, and with --key the bundle the\n"
	"  group topic held before the rollout is signed again as a rollback (its version,\n"
	"  a new serial) and published on the topics of the devices that applied the new\n"
	"  one or did not report, so that they go back; exit 1. When every wave passes,\n"
	"  the bundle is retained on vitrine/groups/<group>/bundle/... for members offline\n"
	"  now and future ones, the device topics are cleared, and the exit status is 0.\n"
	"  Ctrl-C (or SIGTERM) during a wave stops the rollout as a failed wave does; a\n"
	"  second one ends the tool at once, leaving the device topics as they are.\n"
	"\n"
	"OPTIONS\n"
	"  --group GROUP        the group (the bundle's target)\n"
	"  --waves LIST         cumulative wave sizes: a number of devices or a percentage\n"
	"                       of the members, rounded up; each brings the total up to\n"
	"                       that size; the last must be 100% [1,10%,100%]\n"
	"  --max-failures PCT   failures tolerated in a wave, in % of its size [0]\n"
	"  --wave-timeout S     how long a wave may take; allow the devices' fleet_trial_s\n"
	"                       and a restart [120]\n"
	"  --key FILE           the ops private key, to roll back when a wave fails\n"
	"  --wait-ms N          how long to collect the statuses first [1500]\n"
	"  --dry-run            print the members and the waves, publish nothing\n"
	"\n"
	VT_CTL_BROKER_HELP
	"\n"
	"EXIT STATUS\n"
	"  0 every wave passed, 1 the rollout stopped or failed, 2 usage error\n";

static const char vt_ctl_help_rollback[] =
	"NAME\n"
	"  vitrine-ctl rollback - go back to an older bundle on purpose\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl rollback [BROKER OPTIONS] --key FILE [-o OUT] BUNDLE\n"
	"\n"
	"DESCRIPTION\n"
	"  Signs BUNDLE's content (an older bundle file the ops team kept) again, with the\n"
	"  same target, kind, name and version, the rollback flag (so that devices running\n"
	"  a later version take it) and a new serial (now, in UTC ms), and publishes it\n"
	"  like push.\n"
	"\n"
	"OPTIONS\n"
	"  --key FILE          the ops private key\n"
	"  -o, --output FILE   keep a copy of the rollback bundle\n"
	"\n"
	VT_CTL_BROKER_HELP;

static const char vt_ctl_help_devices[] =
	"NAME\n"
	"  vitrine-ctl devices - list the devices' retained statuses\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl devices [BROKER OPTIONS] [--group GROUP] [--json] [--wait-ms N]\n"
	"\n"
	"DESCRIPTION\n"
	"  Collects the statuses retained on vitrine/v1/+/+/status (until none came for\n"
	"  300 ms, at most --wait-ms) and prints, sorted by site then device:\n"
	"    SITE DEVICE GROUPS ONLINE LAST_SEEN VERSION CONFIG SPOOL ALERTS\n"
	"  LAST_SEEN is the age of the status's time; CONFIG the running configuration\n"
	"  bundle (v7), or local when it runs its agent.conf alone, with a * during a\n"
	"  health check; SPOOL the frames waiting for the aggregator. A device whose last\n"
	"  word was offline shows only its site and device. ALERTS lists: offline, trial,\n"
	"  'refused vN' and 'rolled_back vN' (its last bundle), dropped (readings were\n"
	"  dropped), plugin:NAME (a plugin neither ok nor finished), cert:Nd (the client\n"
	"  certificate expires in under 30 days), clock-unsynced (its clock is not\n"
	"  trusted yet: readings wait flagged), no-ops-key (fleet updates are off),\n"
	"  bad-status (the retained status is not a status document), or '-'.\n"
	"\n"
	"OPTIONS\n"
	"  --group GROUP   only devices whose status lists GROUP (offline ones do not)\n"
	"  --json          one JSON object a line: the columns as fields (groups and\n"
	"                  alerts as arrays, online true/false/null, last_seen_s) and the\n"
	"                  status itself under \"status\"\n"
	"  --wait-ms N     the longest to wait for retained statuses [1500]\n"
	"\n"
	VT_CTL_BROKER_HELP;

static const char vt_ctl_help_show[] =
	"NAME\n"
	"  vitrine-ctl show - one device's status\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl show [BROKER OPTIONS] [--json] [--wait-ms N] SITE/DEVICE\n"
	"\n"
	"DESCRIPTION\n"
	"  Prints the device's retained status: state, agent version, uptime, groups,\n"
	"  ops keys, the configuration and plugin bundles it runs, its last bundle's\n"
	"  outcome and reason, spool, dropped readings, TLS certificate expiry, plugins and\n"
	"  alerts. Exit 1 when no status is retained or it is not a status document.\n"
	"\n"
	"OPTIONS\n"
	"  --json        print the status document as retained\n"
	"  --wait-ms N   the longest to wait for it [1500]\n"
	"\n"
	VT_CTL_BROKER_HELP;

static const char vt_ctl_help_enroll[] =
	"NAME\n"
	"  vitrine-ctl enroll - register a device's key at the aggregator\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl enroll --aggregator-config FILE --device ID --pubkey HEX\n"
	"  vitrine-ctl enroll --aggregator-config FILE --line \"device ID HEX\"\n"
	"\n"
	"DESCRIPTION\n"
	"  Appends \"device ID HEX\" to the aggregator's configuration, which it replaces\n"
	"  atomically, keeping its mode and owner, once the aggregator's own checks pass on\n"
	"  the result. HEX is the device's X25519 public key, 64 hex digits, as\n"
	"  'vitrine-agent --pubkey' prints it (the whole line can go to --line). A device\n"
	"  already enrolled with the same key is fine (exit 0); with another key it is\n"
	"  refused (exit 1): remove the old line first if the device was re-keyed on\n"
	"  purpose. The aggregator reads its devices when it starts: restart it.\n"
	"\n"
	"OPTIONS\n"
	"  --aggregator-config FILE   e.g. /etc/vitrine/aggregator.conf\n"
	"  --device ID                the device id (agent.conf's device)\n"
	"  --pubkey HEX               its public key\n"
	"  --line \"device ID HEX\"     both at once\n"
	"\n"
	"EXAMPLE\n"
	"  vitrine-ctl enroll --aggregator-config /etc/vitrine/aggregator.conf \\\n"
	"      --line \"$(ssh pi-3 vitrine-agent --pubkey)\"\n";

static const char vt_ctl_help_acl[] =
	"NAME\n"
	"  vitrine-ctl acl - the broker's access control list, from the fleet's inventory\n"
	"\n"
	"SYNOPSIS\n"
	"  vitrine-ctl acl [-o FILE] INVENTORY\n"
	"\n"
	"DESCRIPTION\n"
	"  Writes a mosquitto acl_file in which each device may publish its own data and\n"
	"  status and read its own ack, its own bundles and its groups' bundles; each\n"
	"  aggregator may read every device's data and write acks; each ops tool may read\n"
	"  statuses and write bundles. Nothing else: no topic is open to anonymous\n"
	"  clients, and a certificate whose CN has no section can do nothing.\n"
	"\n"
	"  The broker must name each client after its certificate's CN. In\n"
	"  mosquitto.conf, on the TLS listener:\n"
	"    require_certificate true\n"
	"    use_identity_as_username true\n"
	"    acl_file /etc/mosquitto/vitrine.acl\n"
	"    allow_anonymous false\n"
	"  A device's certificate has CN <site>/<device>, as in its agent.conf (e.g.\n"
	"  cannes-croisette/pi-01); an aggregator's or an ops tool's, the name the\n"
	"  inventory gives it. When the fleet changes, run acl again and reload\n"
	"  mosquitto (SIGHUP): it reads acl_file again and applies it to connected\n"
	"  clients too.\n"
	"\n"
	"INVENTORY\n"
	"  One \"key value\" a line, as agent.conf; '#' starts a comment. Each repeatable:\n"
	"    device SITE/DEVICE [GROUP,GROUP...]   a device and its groups (its agent.conf's\n"
	"                                          group lines)\n"
	"    aggregator NAME                       the CN of an aggregator's certificate\n"
	"    ops NAME                              the CN of an ops tool's certificate\n"
	"  Ids are 1 to 64 of A-Z a-z 0-9 . _ -, and a CN at most 64 characters, so\n"
	"  <site>/<device> must fit in 64. NAME has no blank or control character. A\n"
	"  device listed twice, or one name for two clients, is refused.\n"
	"\n"
	"OPTIONS\n"
	"  -o, --output FILE   write FILE (replaced atomically, mode 0644) instead of\n"
	"                      stdout, and say on stderr how many devices, groups,\n"
	"                      aggregator and ops users it holds\n"
	"\n"
	"EXIT STATUS\n"
	"  0 written, 1 the inventory could not be read or FILE written, 2 the inventory\n"
	"  is refused (the message says FILE:LINE: what was expected)\n"
	"\n"
	"EXAMPLE\n"
	"  # fleet.conf\n"
	"  device cannes-croisette/pi-01 pilot,cannes\n"
	"  device cannes-croisette/pi-02 pilot\n"
	"  aggregator vitrine-aggregator\n"
	"  ops vitrine-ops\n"
	"\n"
	"  vitrine-ctl acl -o /etc/mosquitto/vitrine.acl fleet.conf && systemctl reload mosquitto\n";

static const struct {
	const char *cmd;
	const char *text;
} vt_ctl_pages[] = {
	{ "keygen", vt_ctl_help_keygen },     { "sign", vt_ctl_help_sign },
	{ "inspect", vt_ctl_help_inspect },   { "push", vt_ctl_help_push },
	{ "rollout", vt_ctl_help_rollout },   { "rollback", vt_ctl_help_rollback },
	{ "devices", vt_ctl_help_devices },   { "show", vt_ctl_help_show },
	{ "enroll", vt_ctl_help_enroll },     { "acl", vt_ctl_help_acl },
};

int vt_ctl_help(const char *cmd, FILE *f)
{
	if (!cmd) {
		fputs(vt_ctl_help_tool, f);
		return 0;
	}
	for (size_t i = 0; i < sizeof(vt_ctl_pages) / sizeof(vt_ctl_pages[0]); i++)
		if (strcmp(cmd, vt_ctl_pages[i].cmd) == 0) {
			fputs(vt_ctl_pages[i].text, f);
			return 0;
		}
	return -1;
}

int vt_ctl_help_ok(const char *cmd)
{
	vt_ctl_help(cmd, stdout);
	return VT_CTL_OK;
}
