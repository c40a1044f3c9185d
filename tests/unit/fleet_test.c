/*
 * fleet_test.c - the fleet state file (fleet_state.c), configuration
 * overlays (vt_conf_overlay) and the start-up side of fleet.c: the running
 * bundle laid over agent.conf, a trial that cannot start rolled back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "conf.h"
#include "config.h"
#include "err.h"
#include "fleet.h"
#include "fleet_state.h"
#include "vt_os.h"
#include "vt_test.h"

static struct vt_sigkey *ops_key(void)
{
	static struct vt_sigkey *k;

	if (!k && vt_sigkey_generate(&k) < 0)
		return NULL;
	return k;
}

/* A signed config bundle for group "pilot" (caller frees). */
static uint8_t *config_bundle(const char *text, uint32_t version, uint64_t serial, size_t *len)
{
	struct vt_bundle b = { .kind = VT_BUNDLE_CONFIG, .target_type = VT_BUNDLE_GROUP,
			       .serial = serial, .version = version, .target = "pilot",
			       .payload = (const uint8_t *)text, .payload_len = strlen(text) };
	uint8_t *buf = NULL;

	if (vt_bundle_encode(&b, ops_key(), &buf, len) < 0)
		return NULL;
	return buf;
}

VT_TEST(state_round_trip)
{
	struct vt_fleet_state st, got;
	struct vt_fleet_slot *s;
	const char *why = NULL;
	uint8_t *buf;
	size_t len;

	vt_fleet_state_init(&st);
	s = vt_fleet_state_slot(&st, VT_BUNDLE_CONFIG, "", 1);
	CHECK(s != NULL);
	s->cur = config_bundle("batch_max_readings 10\n", 3, 300, &s->cur_len);
	s->prev = config_bundle("batch_max_readings 20\n", 2, 200, &s->prev_len);
	s->high_serial = 300;
	st.trial_slot = 0;
	st.trial_starts = 2;
	st.last.outcome = VT_FLEET_TRIAL;
	st.last.kind = VT_BUNDLE_CONFIG;
	st.last.version = 3;
	st.last.serial = 300;
	strcpy(st.last.reason, "a \"quoted\" reason");
	CHECK(s->cur && s->prev);
	CHECK_EQ_INT(vt_fleet_state_encode(&st, &buf, &len), 0);
	CHECK_EQ_INT(vt_fleet_state_decode(buf, len, &got, &why), 0);
	CHECK_EQ_INT(got.n_slots, 1);
	CHECK(got.slots[0].cur_len == s->cur_len &&
	      memcmp(got.slots[0].cur, s->cur, s->cur_len) == 0);
	CHECK(got.slots[0].prev_len == s->prev_len);
	CHECK(got.slots[0].high_serial == 300);
	CHECK_EQ_INT(got.trial_slot, 0);
	CHECK_EQ_INT(got.trial_starts, 2);
	CHECK_EQ_INT(got.last.outcome, VT_FLEET_TRIAL);
	CHECK_STR(got.last.reason, "a \"quoted\" reason");
	vt_fleet_state_free(&got);
	/* Any damage is caught by the checksum or the layout. */
	for (size_t i = 0; i < len; i += 7) {
		buf[i] ^= 0x20;
		CHECK(vt_fleet_state_decode(buf, len, &got, &why) < 0);
		buf[i] ^= 0x20;
	}
	CHECK(vt_fleet_state_decode(buf, len - 1, &got, &why) < 0);
	free(buf);
	vt_fleet_state_free(&st);
}

VT_TEST(state_file_missing_is_empty)
{
	struct vt_fleet_state st;
	char err[256];

	CHECK_EQ_INT(vt_fleet_state_read(vt_test_tmpdir(), &st, err, sizeof(err)), 0);
	CHECK_EQ_INT(st.n_slots, 0);
	CHECK_EQ_INT(st.trial_slot, -1);
}

VT_TEST(overlay_replaces_keys_whole)
{
	static const char base_text[] = "site s\nplugin footfall\nplugin rfid\nzstd_level 3\n";
	static const char top_text[] = "plugin tablet\nzstd_level 9\n";
	static const char *const reserved[] = { "site", NULL };
	struct vt_conf *base, *top;
	char err[256];
	int plugins = 0;

	CHECK_EQ_INT(vt_conf_parse("agent.conf", base_text, strlen(base_text), &base, err,
				   sizeof(err)), 0);
	CHECK_EQ_INT(vt_conf_parse("bundle", top_text, strlen(top_text), &top, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(vt_conf_overlay(base, top, reserved, err, sizeof(err)), 0);
	for (size_t i = 0; i < base->n; i++) {
		if (strcmp(base->entries[i].key, "plugin") == 0) {
			plugins++;
			CHECK_STR(base->entries[i].value, "tablet");
			CHECK_STR(base->entries[i].path, "bundle");
		}
	}
	CHECK_EQ_INT(plugins, 1);
	CHECK_STR(vt_conf_find(base, "zstd_level")->value, "9");
	CHECK_STR(vt_conf_find(base, "site")->path, "agent.conf");
	vt_conf_free(base);
}

VT_TEST(overlay_refuses_reserved_keys)
{
	static const char top_text[] = "zstd_level 9\nsite elsewhere\n";
	static const char *const reserved[] = { "device", "site", NULL };
	struct vt_conf *base, *top;
	char err[256];

	CHECK_EQ_INT(vt_conf_parse("agent.conf", "site s\n", 7, &base, err, sizeof(err)), 0);
	CHECK_EQ_INT(vt_conf_parse("bundle v2", top_text, strlen(top_text), &top, err,
				   sizeof(err)), 0);
	CHECK_EQ_INT(vt_conf_overlay(base, top, reserved, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "bundle v2:2:") != NULL);
	CHECK(strstr(err, "'site'") != NULL);
	CHECK_STR(vt_conf_find(base, "site")->value, "s");
	vt_conf_free(base);
}

/* agent.conf in the test's directory; returns its path. */
static const char *write_agent_conf(void)
{
	static char path[512];
	char text[1024];
	int n;

	snprintf(path, sizeof(path), "%s/agent.conf", vt_test_tmpdir());
	n = snprintf(text, sizeof(text),
		     "site s1\ndevice d1\nstate_dir %s\ngroup pilot\n"
		     "aggregator_key 0900000000000000000000000000000000000000000000000000000000000000\n"
		     "batch_max_readings 500\n",
		     vt_test_tmpdir());
	return vt_os_write_file_atomic(path, text, (size_t)n, 0600) == 0 ? path : NULL;
}

/* fleet.state with one config bundle under trial (and prev if given). */
static int write_trial(const char *text, const char *prev_text, uint32_t starts)
{
	struct vt_fleet_state st;
	struct vt_fleet_slot *s;
	int rc;

	vt_fleet_state_init(&st);
	s = vt_fleet_state_slot(&st, VT_BUNDLE_CONFIG, "", 1);
	s->cur = config_bundle(text, 5, 500, &s->cur_len);
	if (prev_text)
		s->prev = config_bundle(prev_text, 4, 400, &s->prev_len);
	s->high_serial = 500;
	st.trial_slot = 0;
	st.trial_starts = starts;
	rc = vt_fleet_state_write(vt_test_tmpdir(), &st);
	vt_fleet_state_free(&st);
	return rc;
}

VT_TEST(boot_lays_the_bundle_over_agent_conf)
{
	const char *conf = write_agent_conf();
	struct vt_agent_config cfg;
	struct vt_fleet_state st;
	char err[512];

	CHECK(conf != NULL);
	CHECK_EQ_INT(write_trial("batch_max_readings 42\n", NULL, 0), 0);
	CHECK_EQ_INT(vt_agent_config_load(conf, &cfg, err, sizeof(err)), 0);
	vt_fleet_boot(conf, &cfg, &st);
	CHECK_EQ_INT(cfg.batch_max_readings, 42);
	CHECK_STR(cfg.site, "s1");
	CHECK_EQ_INT(st.trial_slot, 0);
	CHECK_EQ_INT(st.trial_starts, 1);	/* this start counts */
	vt_agent_config_free(&cfg);
	vt_fleet_state_free(&st);
}

static void check_rolled_back(int *vt_failed, const char *text, uint32_t starts,
			      const char *reason_part)
{
	const char *conf = write_agent_conf();
	struct vt_agent_config cfg;
	struct vt_fleet_state st, disk;
	char err[512];

	CHECK(conf != NULL);
	CHECK_EQ_INT(write_trial(text, "batch_max_readings 77\n", starts), 0);
	CHECK_EQ_INT(vt_agent_config_load(conf, &cfg, err, sizeof(err)), 0);
	vt_fleet_boot(conf, &cfg, &st);
	/* The previous bundle runs again, and the outcome is on disk. */
	CHECK_EQ_INT(cfg.batch_max_readings, 77);
	CHECK_EQ_INT(st.trial_slot, -1);
	CHECK_EQ_INT(st.last.outcome, VT_FLEET_ROLLED_BACK);
	CHECK_EQ_INT(st.last.version, 5);
	CHECK(strstr(st.last.reason, reason_part) != NULL);
	CHECK_EQ_INT(vt_fleet_state_read(vt_test_tmpdir(), &disk, err, sizeof(err)), 0);
	CHECK_EQ_INT(disk.last.outcome, VT_FLEET_ROLLED_BACK);
	CHECK(disk.slots[0].high_serial == 500);	/* never tried again */
	vt_agent_config_free(&cfg);
	vt_fleet_state_free(&st);
	vt_fleet_state_free(&disk);
}

VT_TEST(boot_rolls_back_a_bundle_that_does_not_load)
{
	check_rolled_back(vt_failed, "batch_max_readings many\n", 0, ":1: invalid value");
}

VT_TEST(boot_rolls_back_a_weaker_privacy_floor)
{
	check_rolled_back(vt_failed, "privacy_k 2\n", 0, "privacy_k");
}

VT_TEST(boot_rolls_back_reserved_keys)
{
	check_rolled_back(vt_failed, "device d2\n", 0, "device's own configuration");
}

VT_TEST(boot_rolls_back_a_crash_loop)
{
	check_rolled_back(vt_failed, "batch_max_readings 42\n", VT_FLEET_MAX_STARTS,
			  "did not stay up");
}

VT_TEST_MAIN()
