/*
 * ctl_devices.c - 'devices': every device's retained status, one line
 * each (a table sorted by site then device, or JSON lines), with the few
 * words that need an operator's attention in ALERTS.
 *
 * Only what the broker retains is shown: a device that never connected
 * is not there, one that left shows its site and device (from the topic)
 * and nothing else. Rows are formatted twice (widths, then printing)
 * rather than kept, so a large fleet costs no more memory than its
 * statuses.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "frame.h"
#include "vt_os.h"

#define VT_CTL_COLS 9
#define VT_CTL_DEFAULT_WAIT_MS 1500

struct vt_ctl_row {
	char groups[VT_CTL_MAX_GROUPS * (VT_CTL_ID_MAX + 1) + 2];
	char last_seen[24];
	char config[24];
	char spool[24];
	char alerts[512];
	const char *cells[VT_CTL_COLS];
};

static const char *const vt_ctl_headers[VT_CTL_COLS] = {
	"SITE", "DEVICE", "GROUPS", "ONLINE", "LAST_SEEN", "VERSION", "CONFIG", "SPOOL", "ALERTS",
};

static const char *vt_ctl_online_word(const struct vt_ctl_status *s)
{
	return s->state == VT_CTL_STATE_ONLINE ? "yes" : s->state == VT_CTL_STATE_OFFLINE ? "no" : "?";
}

static void vt_ctl_row_groups(const struct vt_ctl_status *s, char *buf, size_t cap)
{
	size_t n = 0;

	snprintf(buf, cap, "-");
	for (int i = 0; i < s->n_groups && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "", s->groups[i]);
}

static void vt_ctl_row_fill(struct vt_ctl_row *r, const struct vt_ctl_status *s, int64_t now_s)
{
	vt_ctl_row_groups(s, r->groups, sizeof(r->groups));
	if (s->state != VT_CTL_STATE_OFFLINE && s->time_s >= 0)
		vt_ctl_format_age(now_s, s->time_s, r->last_seen, sizeof(r->last_seen));
	else
		snprintf(r->last_seen, sizeof(r->last_seen), "-");
	vt_ctl_status_config(s, r->config, sizeof(r->config));
	if (s->has_spool)
		snprintf(r->spool, sizeof(r->spool), "%" PRIu64, s->spool_frames);
	else
		snprintf(r->spool, sizeof(r->spool), "-");
	vt_ctl_status_alerts(s, r->alerts, sizeof(r->alerts));
	r->cells[0] = s->site;
	r->cells[1] = s->device;
	r->cells[2] = r->groups;
	r->cells[3] = vt_ctl_online_word(s);
	r->cells[4] = r->last_seen;
	r->cells[5] = s->version[0] ? s->version : "-";
	r->cells[6] = r->config;
	r->cells[7] = r->spool;
	r->cells[8] = r->alerts;
}

static void vt_ctl_row_print(const char *const *cells, const int *width)
{
	for (int c = 0; c < VT_CTL_COLS - 1; c++)
		printf("%-*s  ", width[c], cells[c]);
	printf("%s\n", cells[VT_CTL_COLS - 1]);
}

static int vt_ctl_devices_keep(const struct vt_ctl_status *s, const char *group)
{
	return s->state != VT_CTL_STATE_NONE && (!group || vt_ctl_status_in_group(s, group));
}

static size_t vt_ctl_devices_table(const struct vt_ctl_devlist *l, const char *group)
{
	int64_t now_s = vt_os_now_ms() / 1000;
	int width[VT_CTL_COLS];
	struct vt_ctl_row r;
	size_t shown = 0;

	for (int c = 0; c < VT_CTL_COLS; c++)
		width[c] = (int)strlen(vt_ctl_headers[c]);
	for (size_t i = 0; i < l->n; i++) {
		if (!vt_ctl_devices_keep(l->v[i], group))
			continue;
		vt_ctl_row_fill(&r, l->v[i], now_s);
		for (int c = 0; c < VT_CTL_COLS; c++)
			if ((int)strlen(r.cells[c]) > width[c])
				width[c] = (int)strlen(r.cells[c]);
	}
	vt_ctl_row_print(vt_ctl_headers, width);
	for (size_t i = 0; i < l->n; i++) {
		if (!vt_ctl_devices_keep(l->v[i], group))
			continue;
		vt_ctl_row_fill(&r, l->v[i], now_s);
		vt_ctl_row_print(r.cells, width);
		shown++;
	}
	return shown;
}

/* ---- JSON lines ---------------------------------------------------------------------- */

static cJSON *vt_ctl_json_alerts(const char *alerts)
{
	cJSON *a = cJSON_CreateArray();
	char word[512];
	const char *p = alerts;

	while (a && strcmp(alerts, "-") != 0 && *p) {
		size_t n = strcspn(p, ",");

		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		cJSON_AddItemToArray(a, cJSON_CreateString(word));
		p += n + (p[n] == ',');
	}
	return a;
}

/* The raw status: parsed again when it is JSON, else as a printable string. */
static cJSON *vt_ctl_json_raw(const struct vt_ctl_status *s)
{
	cJSON *v;
	char *text;

	if (s->state != VT_CTL_STATE_BAD)
		return cJSON_ParseWithLength(s->raw, s->raw_len);
	text = malloc(s->raw_len + 1);
	if (!text)
		return NULL;
	vt_ctl_copy_printable(text, s->raw_len + 1, s->raw);
	v = cJSON_CreateString(text);
	free(text);
	return v;
}

/* A cell as a string, or null when it shows "-" (unknown). */
static void vt_ctl_json_cell(cJSON *o, const char *key, const char *cell)
{
	if (strcmp(cell, "-") == 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, cell);
}

static cJSON *vt_ctl_json_row(const struct vt_ctl_status *s, const struct vt_ctl_row *r,
			      int64_t now_s)
{
	cJSON *o = cJSON_CreateObject(), *g;

	cJSON_AddStringToObject(o, "site", s->site);
	cJSON_AddStringToObject(o, "device", s->device);
	g = cJSON_AddArrayToObject(o, "groups");
	for (int i = 0; g && i < s->n_groups; i++)
		cJSON_AddItemToArray(g, cJSON_CreateString(s->groups[i]));
	if (s->state == VT_CTL_STATE_ONLINE || s->state == VT_CTL_STATE_OFFLINE)
		cJSON_AddBoolToObject(o, "online", s->state == VT_CTL_STATE_ONLINE);
	else
		cJSON_AddNullToObject(o, "online");
	vt_ctl_json_cell(o, "last_seen", r->last_seen);
	if (strcmp(r->last_seen, "-") != 0)
		cJSON_AddNumberToObject(o, "last_seen_s", (double)(now_s - s->time_s));
	else
		cJSON_AddNullToObject(o, "last_seen_s");
	vt_ctl_json_cell(o, "version", r->cells[5]);
	vt_ctl_json_cell(o, "config", r->config);
	if (s->has_spool)
		cJSON_AddNumberToObject(o, "spool", (double)s->spool_frames);
	else
		cJSON_AddNullToObject(o, "spool");
	cJSON_AddItemToObject(o, "alerts", vt_ctl_json_alerts(r->alerts));
	cJSON_AddItemToObject(o, "status", vt_ctl_json_raw(s));
	return o;
}

static size_t vt_ctl_devices_json(const struct vt_ctl_devlist *l, const char *group)
{
	int64_t now_s = vt_os_now_ms() / 1000;
	struct vt_ctl_row r;
	size_t shown = 0;

	for (size_t i = 0; i < l->n; i++) {
		cJSON *o;
		char *line;

		if (!vt_ctl_devices_keep(l->v[i], group))
			continue;
		vt_ctl_row_fill(&r, l->v[i], now_s);
		o = vt_ctl_json_row(l->v[i], &r, now_s);
		line = o ? cJSON_PrintUnformatted(o) : NULL;
		if (line) {
			printf("%s\n", line);
			shown++;
		}
		cJSON_free(line);
		cJSON_Delete(o);
	}
	return shown;
}

/* ---- the command ----------------------------------------------------------------------- */

int vt_ctl_cmd_devices(const struct vt_ctl_conf *conf, int argc, char **argv)
{
	static const struct option longopts[] = {
		VT_CTL_BROKER_LONGOPTS,
		{ "group", required_argument, NULL, VT_CTL_OPT_GROUP },
		{ "json", no_argument, NULL, VT_CTL_OPT_JSON },
		{ "wait-ms", required_argument, NULL, VT_CTL_OPT_WAIT_MS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vt_ctl_devlist l = { 0 };
	struct vt_ctl_broker br;
	const char *group = NULL;
	uint32_t wait_ms = VT_CTL_DEFAULT_WAIT_MS;
	int opt, rc, json = 0;
	size_t shown;

	vt_ctl_broker_init(&br, conf);
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return vt_ctl_help_ok("devices");
		if (opt == VT_CTL_OPT_GROUP) {
			if (!vt_frame_id_valid(optarg))
				return vt_ctl_usage("devices", "--group '%s': expected a group id, 1 to 64 of A-Z a-z 0-9 . _ -",
						    optarg);
			group = optarg;
		} else if (opt == VT_CTL_OPT_JSON) {
			json = 1;
		} else if (opt == VT_CTL_OPT_WAIT_MS) {
			if (vt_ctl_parse_u32(optarg, 1, 3600000, &wait_ms) < 0)
				return vt_ctl_usage("devices", "--wait-ms '%s': expected milliseconds, 1 to 3600000",
						    optarg);
		} else {
			rc = vt_ctl_broker_opt(&br, "devices", opt, optarg);
			if (rc <= 0)
				return rc < 0 ? VT_CTL_USAGE : vt_ctl_bad_option("devices", argv, opt);
		}
	}
	if (vt_ctl_broker_check(&br, "devices") < 0)
		return VT_CTL_USAGE;
	if (optind != argc)
		return vt_ctl_usage("devices", "unexpected argument '%s'", argv[optind]);
	if (vt_ctl_devlist_fetch(&l, &br, VT_CTL_STATUS_FILTER, (int)wait_ms) < 0)
		return VT_CTL_FAIL;
	shown = json ? vt_ctl_devices_json(&l, group) : vt_ctl_devices_table(&l, group);
	if (!shown)
		fprintf(stderr, VT_CTL_PROG ": no device status retained on %s:%u%s%s\n", br.hp.host,
			br.hp.port, group ? " in group " : "", group ? group : "");
	vt_ctl_devlist_free(&l);
	return VT_CTL_OK;
}
