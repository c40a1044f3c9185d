/*
 * ctl_status_test.c - vitrine-ctl's reading of device statuses (any input
 * gives a struct, the columns and alerts say what they should), its list
 * of devices, its bundle topics and its rollout wave plans.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "vt_test.h"

#define ONLINE_STATUS                                                                      \
	"{\"state\":\"online\",\"version\":\"0.1.0\",\"time\":1764150000,\"uptime_s\":3600,"    \
	"\"readings\":51234,\"spool\":{\"frames\":2,\"readings\":812,\"bytes\":9311,"         \
	"\"oldest_age_s\":1},\"dropped\":{\"full\":0,\"too_old\":0,\"corrupt\":0,"            \
	"\"write_error\":0,\"seal\":0},\"last_ack\":{\"seq\":40,\"age_s\":0},"                \
	"\"tls\":{\"cert_not_after\":\"2026-03-01T00:00:00Z\",\"days_left\":94},"             \
	"\"fleet\":{\"groups\":[\"pilot\",\"cannes\"],\"keys\":1,"                            \
	"\"config\":{\"version\":7,\"serial\":1764150000123},"                                \
	"\"plugins\":{\"footfall\":{\"version\":2,\"serial\":1764150000001}},\"trial\":false," \
	"\"last\":{\"outcome\":\"applied\",\"kind\":\"config\",\"name\":\"\",\"version\":7,"  \
	"\"serial\":1764150000123,\"at_ms\":1764150000999,\"reason\":\"\"}},"                 \
	"\"plugins\":{\"footfall\":\"ok\",\"tablet\":\"ok\",\"rfid\":\"finished\"}}"

static int parse(struct vt_ctl_status *s, const char *json)
{
	memset(s, 0, sizeof(*s));
	return vt_ctl_status_parse(s, json, strlen(json));
}

VT_TEST(ctl_status_reads_an_online_status)
{
	struct vt_ctl_status s;
	char buf[256];

	CHECK_EQ_INT(parse(&s, ONLINE_STATUS), 0);
	CHECK_EQ_INT(s.state, VT_CTL_STATE_ONLINE);
	CHECK_STR(s.version, "0.1.0");
	CHECK_EQ_INT(s.time_s, 1764150000);
	CHECK_EQ_INT(s.n_groups, 2);
	CHECK_STR(s.groups[1], "cannes");
	CHECK(vt_ctl_status_in_group(&s, "pilot"));
	CHECK(!vt_ctl_status_in_group(&s, "pilo"));
	CHECK_EQ_INT(s.keys, 1);
	CHECK_EQ_INT(s.config_version, 7);
	CHECK(s.config_serial == 1764150000123ULL);
	CHECK_EQ_INT(s.n_bundles, 1);
	CHECK_STR(s.bundles[0].name, "footfall");
	CHECK(s.last.present);
	CHECK_STR(s.last.outcome, "applied");
	CHECK(s.last.serial == 1764150000123ULL);
	CHECK_EQ_INT(s.spool_frames, 2);
	CHECK_EQ_INT(s.tls_days_left, 94);
	CHECK_EQ_INT(s.n_plugins, 3);
	vt_ctl_status_config(&s, buf, sizeof(buf));
	CHECK_STR(buf, "v7");
	vt_ctl_status_alerts(&s, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	vt_ctl_status_clear(&s);
}

VT_TEST(ctl_status_alerts_name_each_problem)
{
	const char *json =
		"{\"state\":\"online\",\"time\":1,\"dropped\":{\"full\":3},"
		"\"tls\":{\"cert_not_after\":\"x\",\"days_left\":12},"
		"\"fleet\":{\"groups\":[],\"keys\":0,\"config\":null,\"plugins\":{},\"trial\":true,"
		"\"last\":{\"outcome\":\"rolled_back\",\"kind\":\"config\",\"name\":\"\",\"version\":7,"
		"\"serial\":5,\"at_ms\":6,\"reason\":\"plugin tablet is failing\"}},"
		"\"clock\":{\"state\":\"unsynced\",\"require_sync\":true,\"unsynced_for_s\":42,"
		"\"flagged\":345,\"corrected\":0},"
		"\"plugins\":{\"footfall\":\"ok\",\"tablet\":\"degraded\"}}";
	struct vt_ctl_status s;
	char buf[256];

	CHECK_EQ_INT(parse(&s, json), 0);
	vt_ctl_status_alerts(&s, buf, sizeof(buf));
	CHECK_STR(buf, "trial,rolled_back v7,dropped,plugin:tablet,cert:12d,clock-unsynced,no-ops-key");
	CHECK_EQ_INT(s.clock_unsynced_s, 42);
	CHECK_EQ_INT(s.clock_flagged, 345);
	vt_ctl_status_config(&s, buf, sizeof(buf));
	CHECK_STR(buf, "local*");
	CHECK_STR(s.last.reason, "plugin tablet is failing");
	vt_ctl_status_clear(&s);
}

VT_TEST(ctl_status_offline_keeps_only_the_state)
{
	struct vt_ctl_status s;
	char buf[64];

	CHECK_EQ_INT(parse(&s, "{\"state\":\"offline\"}"), 0);
	CHECK_EQ_INT(s.state, VT_CTL_STATE_OFFLINE);
	CHECK_EQ_INT(s.time_s, -1);
	vt_ctl_status_alerts(&s, buf, sizeof(buf));
	CHECK_STR(buf, "offline");
	vt_ctl_status_config(&s, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	vt_ctl_status_clear(&s);
}

VT_TEST(ctl_status_survives_malformed_input)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "42", "\"online\"", "{\"state\":7}", "{\"stat\":\"online\"}",
		"{\"state\":\"online\",\"fleet\":[1,2]}", "{\"state\":\"online\",\"time\":1e999}",
		("{\"state\":\"online\",\"fleet\":{\"groups\":[1,null,\"../x\",\"ok\"],\"keys\":-3,"
		 "\"config\":{\"version\":-1},\"last\":{\"outcome\":5,\"serial\":\"x\"}}}"),
		"{\"state\":\"online\",\"plugins\":{\"a\":1,\"b\":{}},\"dropped\":{\"x\":-5}}",
		"{\"state\":\"on\\u0000line\\u001b[2J\"}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	};
	struct vt_ctl_status s;
	char buf[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(parse(&s, bad[i]), 0);
		vt_ctl_status_alerts(&s, buf, sizeof(buf));
		vt_ctl_status_config(&s, buf, sizeof(buf));
		for (size_t k = 0; k < strlen(s.state_word); k++)
			CHECK(s.state_word[k] >= 0x20 && s.state_word[k] < 0x7f);
		vt_ctl_status_clear(&s);
	}
	CHECK_EQ_INT(parse(&s, "{\"stat\":1}"), 0);
	CHECK_EQ_INT(s.state, VT_CTL_STATE_BAD);
	vt_ctl_status_alerts(&s, buf, sizeof(buf));
	CHECK_STR(buf, "bad-status");
	vt_ctl_status_clear(&s);
	CHECK_EQ_INT(parse(&s, "{\"state\":\"online\",\"fleet\":{\"groups\":[1,\"../x\",\"ok\"]}}"), 0);
	CHECK_EQ_INT(s.n_groups, 1);
	CHECK_STR(s.groups[0], "ok");
	vt_ctl_status_clear(&s);
}

VT_TEST(ctl_status_topic_gives_site_and_device)
{
	char site[65], device[65];

	CHECK_EQ_INT(vt_ctl_status_topic("vitrine/v1/cannes-1/pi.3/status", site, device), 0);
	CHECK_STR(site, "cannes-1");
	CHECK_STR(device, "pi.3");
	CHECK(vt_ctl_status_topic("vitrine/v1/a/b/data", site, device) < 0);
	CHECK(vt_ctl_status_topic("vitrine/v1/a/status", site, device) < 0);
	CHECK(vt_ctl_status_topic("vitrine/v1/a/b/c/status", site, device) < 0);
	CHECK(vt_ctl_status_topic("vitrine/v1//b/status", site, device) < 0);
	CHECK(vt_ctl_status_topic("vitrine/v2/a/b/status", site, device) < 0);
}

VT_TEST(ctl_devlist_keeps_devices_sorted_and_forgets_cleared_ones)
{
	struct vt_ctl_devlist l = { 0 };
	const char *on = "{\"state\":\"online\"}";

	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/v1/s2/a/status", (const uint8_t *)on, strlen(on)), 0);
	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/v1/s1/b/status", (const uint8_t *)on, strlen(on)), 0);
	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/v1/s1/a/status", (const uint8_t *)"x", 1), 0);
	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/groups/g/bundle/config", (const uint8_t *)on, strlen(on)), 0);
	CHECK_EQ_INT(l.n, 3);
	CHECK_STR(l.v[0]->device, "a");
	CHECK_STR(l.v[0]->site, "s1");
	CHECK_EQ_INT(l.v[0]->state, VT_CTL_STATE_BAD);
	CHECK_STR(l.v[2]->site, "s2");
	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/v1/s1/a/status", (const uint8_t *)on, strlen(on)), 0);
	CHECK_EQ_INT(vt_ctl_devlist_find(&l, "s1", "a")->state, VT_CTL_STATE_ONLINE);
	CHECK_EQ_INT(vt_ctl_devlist_offer(&l, "vitrine/v1/s1/b/status", NULL, 0), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK(vt_ctl_devlist_find(&l, "s1", "b") == NULL);
	vt_ctl_devlist_free(&l);
}

VT_TEST(ctl_bundle_topics_follow_the_target)
{
	char t[VT_CTL_TOPIC_MAX];

	CHECK_EQ_INT(vt_ctl_slot_topic(t, sizeof(t), VT_BUNDLE_GROUP, "pilot", VT_BUNDLE_CONFIG, ""), 0);
	CHECK_STR(t, "vitrine/groups/pilot/bundle/config");
	CHECK_EQ_INT(vt_ctl_slot_topic(t, sizeof(t), VT_BUNDLE_DEVICE, "s1/d1", VT_BUNDLE_PLUGIN,
				       "footfall"), 0);
	CHECK_STR(t, "vitrine/v1/s1/d1/cmd/bundle/plugin/footfall");
	CHECK(vt_ctl_slot_topic(t, sizeof(t), VT_BUNDLE_DEVICE, "s1", VT_BUNDLE_CONFIG, "") < 0);
	CHECK(vt_ctl_slot_topic(t, sizeof(t), VT_BUNDLE_GROUP, "a/b", VT_BUNDLE_CONFIG, "") < 0);
	CHECK(vt_ctl_slot_topic(t, sizeof(t), VT_BUNDLE_GROUP, "g", VT_BUNDLE_PLUGIN, "Bad") < 0);
}

VT_TEST(ctl_waves_are_cumulative_and_rounded_up)
{
	size_t t[VT_CTL_MAX_WAVES];
	char err[256];

	CHECK_EQ_INT(vt_ctl_waves_plan("1,10%,100%", 50, t, VT_CTL_MAX_WAVES, err, sizeof(err)), 3);
	CHECK_EQ_INT(t[0], 1);
	CHECK_EQ_INT(t[1], 5);
	CHECK_EQ_INT(t[2], 50);
	/* 10% of 5 is 1 device, already there: that wave is left out. */
	CHECK_EQ_INT(vt_ctl_waves_plan("1,10%,100%", 5, t, VT_CTL_MAX_WAVES, err, sizeof(err)), 2);
	CHECK_EQ_INT(t[0], 1);
	CHECK_EQ_INT(t[1], 5);
	CHECK_EQ_INT(vt_ctl_waves_plan("1%,100%", 101, t, VT_CTL_MAX_WAVES, err, sizeof(err)), 2);
	CHECK_EQ_INT(t[0], 2);
	CHECK_EQ_INT(vt_ctl_waves_plan("10,3,100%", 4, t, VT_CTL_MAX_WAVES, err, sizeof(err)), 1);
	CHECK_EQ_INT(t[0], 4);
	CHECK_EQ_INT(vt_ctl_waves_plan("100%", 0, t, VT_CTL_MAX_WAVES, err, sizeof(err)), 0);
}

VT_TEST(ctl_waves_refuse_bad_lists)
{
	static const char *const bad[] = { "", "1,10%", "0,100%", "1,,100%", "1,0%,100%",
					   "1,101%,100%", "a,100%", "100", "1,100%,", "-1,100%",
					   "100%%" };
	size_t t[VT_CTL_MAX_WAVES];
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(vt_ctl_waves_plan(bad[i], 10, t, VT_CTL_MAX_WAVES, err, sizeof(err)), -1);
	CHECK(strstr(err, "100%") != NULL);
}

VT_TEST(ctl_waves_stop_above_the_failure_budget)
{
	CHECK(vt_ctl_waves_too_many(1, 10, 0));
	CHECK(!vt_ctl_waves_too_many(0, 10, 0));
	CHECK(!vt_ctl_waves_too_many(1, 10, 10));
	CHECK(vt_ctl_waves_too_many(2, 10, 10));
	CHECK(!vt_ctl_waves_too_many(5, 5, 100));
}

VT_TEST(ctl_ages_read_like_people_say_them)
{
	char buf[32];

	vt_ctl_format_age(1000, 988, buf, sizeof(buf));
	CHECK_STR(buf, "12s ago");
	vt_ctl_format_age(1000, 820, buf, sizeof(buf));
	CHECK_STR(buf, "3m ago");
	vt_ctl_format_age(10000, 2800, buf, sizeof(buf));
	CHECK_STR(buf, "2h ago");
	vt_ctl_format_age(1000, 2000, buf, sizeof(buf));
	CHECK_STR(buf, "0s ago");
}

VT_TEST_MAIN()
