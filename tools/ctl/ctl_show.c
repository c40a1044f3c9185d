/*
 * ctl_show.c - 'show': one device's retained status, as a summary for
 * people or as the raw JSON document.
 *
 * It subscribes to that device's status topic only, so it answers as fast
 * as the broker sends one retained message.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "vt_os.h"

#define VT_CTL_SHOW_WAIT_MS 1500

static void vt_ctl_format_duration(int64_t s, char *buf, size_t cap)
{
	if (s < 0)
		snprintf(buf, cap, "?");
	else if (s < 60)
		snprintf(buf, cap, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, cap, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, cap, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, cap, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static void vt_ctl_show_head(const struct vt_ctl_status *s)
{
	char age[32], when[40], up[32];

	printf("%s/%s: %s", s->site, s->device, s->state_word);
	if (s->version[0])
		printf(", vitrine-agent %s", s->version);
	printf("\n");
	if (s->time_s >= 0) {
		vt_ctl_format_age(vt_os_now_ms() / 1000, s->time_s, age, sizeof(age));
		vt_ctl_format_utc(s->time_s * 1000, 0, when, sizeof(when));
		vt_ctl_format_duration(s->uptime_s, up, sizeof(up));
		printf("  last status     %s (%s), up %s\n", age, when, up);
	}
}

static void vt_ctl_show_bundles(const struct vt_ctl_status *s)
{
	char when[40];

	printf("  groups          ");
	for (int i = 0; i < s->n_groups; i++)
		printf("%s%s", i ? ", " : "", s->groups[i]);
	printf("%s\n", s->n_groups ? "" : "none");
	if (s->keys >= 0)
		printf("  ops keys        %d%s\n", s->keys,
		       s->keys == 0 ? " (fleet updates are off: no fleet_ops_key)" : "");
	if (s->has_config) {
		vt_ctl_format_utc((int64_t)s->config_serial, 0, when, sizeof(when));
		printf("  config          v%" PRIu32 " (serial %" PRIu64 ", signed %s)\n",
		       s->config_version, s->config_serial, when);
	} else {
		printf("  config          local (agent.conf only, no config bundle)\n");
	}
	printf("  plugin bundles  ");
	for (int i = 0; i < s->n_bundles; i++)
		printf("%s%s v%" PRIu32 " (serial %" PRIu64 ")", i ? ", " : "", s->bundles[i].name,
		       s->bundles[i].version, s->bundles[i].serial);
	printf("%s\n", s->n_bundles ? "" : "none");
	printf("  trial           %s\n", s->trial ? "yes: a bundle is in its health check" : "no");
}

static void vt_ctl_show_last(const struct vt_ctl_status *s)
{
	const struct vt_ctl_fleet_last *l = &s->last;
	char when[40];

	if (!l->present) {
		printf("  last bundle     none since the device's state was created\n");
		return;
	}
	vt_ctl_format_utc(l->at_ms, 0, when, sizeof(when));
	printf("  last bundle     %s: %s%s%s v%" PRIu32 " (serial %" PRIu64 ") at %s\n", l->outcome,
	       l->kind, l->name[0] ? " " : "", l->name, l->version, l->serial, when);
	if (l->reason[0])
		printf("                  reason: %s\n", l->reason);
}

static void vt_ctl_show_data(const struct vt_ctl_status *s)
{
	if (s->has_spool)
		printf("  spool           %" PRIu64 " frames, %" PRIu64 " readings, %" PRIu64
		       " bytes, oldest %" PRId64 " s\n",
		       s->spool_frames, s->spool_readings, s->spool_bytes, s->spool_oldest_s);
	if (s->has_dropped) {
		printf("  dropped         ");
		for (int i = 0; i < s->n_drops; i++)
			printf("%s%s %" PRIu64, i ? ", " : "", s->drops[i].name, s->drops[i].count);
		printf("%s\n", s->n_drops ? " readings" : "none");
	}
	if (s->has_ack)
		printf("  last ack        seq %" PRIu64 ", %" PRId64 " s ago\n", s->ack_seq,
		       s->ack_age_s);
	if (s->has_tls)
		printf("  tls             client certificate valid until %s (%" PRId64 " days left)\n",
		       s->cert_not_after, s->tls_days_left);
	else if (s->tls_off)
		printf("  tls             no client certificate\n");
	if (s->has_clock && s->clock_unsynced) {
		char since[32];

		vt_ctl_format_duration(s->clock_unsynced_s, since, sizeof(since));
		printf("  clock           unsynced since %s: %" PRIu64
		       " readings flagged, corrected once NTP sets the clock\n",
		       since, s->clock_flagged);
	} else if (s->has_clock) {
		printf("  clock           synced\n");
	}
	printf("  plugins         ");
	for (int i = 0; i < s->n_plugins; i++)
		printf("%s%s %s", i ? ", " : "", s->plugins[i].name, s->plugins[i].state);
	printf("%s\n", s->n_plugins ? "" : "none");
}

static int vt_ctl_show_human(const struct vt_ctl_status *s)
{
	char alerts[512];

	vt_ctl_status_alerts(s, alerts, sizeof(alerts));
	if (s->state == VT_CTL_STATE_OFFLINE) {
		printf("%s/%s: offline\n"
		       "  its last word was a clean stop or its MQTT will: nothing more is retained\n"
		       "  alerts          %s\n",
		       s->site, s->device, alerts);
		return VT_CTL_OK;
	}
	vt_ctl_show_head(s);
	if (s->has_fleet) {
		vt_ctl_show_bundles(s);
		vt_ctl_show_last(s);
	}
	vt_ctl_show_data(s);
	printf("  alerts          %s\n", alerts);
	return VT_CTL_OK;
}

static int vt_ctl_show_one(const struct vt_ctl_status *s, const char *topic, int json)
{
	if (!s) {
		vt_ctl_error("no status retained on %s (the device never connected to this broker, or its status was cleared)",
			     topic);
		return VT_CTL_FAIL;
	}
	if (s->state == VT_CTL_STATE_BAD) {
		vt_ctl_error("%s/%s: the retained status (%zu bytes) is not a JSON status document",
			     s->site, s->device, s->raw_len);
		return VT_CTL_FAIL;
	}
	if (json) {
		fwrite(s->raw, 1, s->raw_len, stdout);
		putchar('\n');
		return VT_CTL_OK;
	}
	return vt_ctl_show_human(s);
}

int vt_ctl_cmd_show(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_BROKER_LONGOPTS,
		{ "json", no_argument, NULL, VT_CTL_OPT_JSON },
		{ "wait-ms", required_argument, NULL, VT_CTL_OPT_WAIT_MS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char site[VT_CTL_ID_MAX + 1], device[VT_CTL_ID_MAX + 1], topic[VT_CTL_TOPIC_MAX];
	struct vt_ctl_devlist l = { 0 };
	struct vt_ctl_broker br;
	uint32_t wait_ms = VT_CTL_SHOW_WAIT_MS;
	int opt, rc, json = 0;

	vt_ctl_broker_init(&br, conf);
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("show");
		if (opt == VT_CTL_OPT_JSON) {
			json = 1;
		} else if (opt == VT_CTL_OPT_WAIT_MS) {
			if (vt_ctl_parse_u32(optarg, 1, 3600000, &wait_ms) < 0)
				return vt_ctl_usage("show", "--wait-ms '%s': expected milliseconds, 1 to 3600000",
						    optarg);
		} else {
			rc = vt_ctl_broker_opt(&br, "show", opt, optarg);
			if (rc <= 0)
				return rc < 0 ? VT_CTL_USAGE : vt_ctl_bad_option("show", argv, opt);
		}
	}
	if (vt_ctl_broker_check(&br, "show") < 0)
		return VT_CTL_USAGE;
	if (optind != argc - 1)
		return vt_ctl_usage("show", "expected one SITE/DEVICE");
	if (vt_ctl_split_device(argv[optind], site, device) < 0)
		return vt_ctl_usage("show", "'%s': expected SITE/DEVICE, two ids of 1 to 64 of A-Z a-z 0-9 . _ -",
				    argv[optind]);
	snprintf(topic, sizeof(topic), "vitrine/v1/%s/%s/status", site, device);
	if (vt_ctl_devlist_fetch(&l, &br, topic, (int)wait_ms) < 0)
		return VT_CTL_FAIL;
	rc = vt_ctl_show_one(vt_ctl_devlist_find(&l, site, device), topic, json);
	vt_ctl_devlist_free(&l);
	return rc;
}
