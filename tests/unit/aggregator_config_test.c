/*
 * aggregator_config_test.c - the aggregator's configuration keys: defaults,
 * device registration, and errors that name file, line and what was
 * expected.
 */
#include <string.h>

#include "agg_config.h"
#include "err.h"
#include "keys.h"
#include "log.h"
#include "vt_test.h"

#define KEY_A "0d04670aa085263932ec58f0699211fc838cb2ba472059731c33334cc137013b"
#define KEY_B "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f"

static int parse(const char *text, struct vt_agg_config *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	return vt_agg_config_parse("agg.conf", text, strlen(text), cfg, err, errlen);
}

VT_TEST(config_defaults_apply_with_only_required_keys)
{
	struct vt_agg_config cfg;
	char err[512];

	CHECK(parse("database /tmp/a.db\nkey_file /tmp/a.key\n", &cfg, err, sizeof(err)) == 0);
	CHECK_STR(cfg.broker.host, "127.0.0.1");
	CHECK_EQ_INT(cfg.broker.port, 1883);
	CHECK_STR(cfg.client_id, "vitrine-aggregator");
	CHECK_STR(cfg.shared_group, "vitrine");
	CHECK_EQ_INT(cfg.commit_interval_ms, 200);
	CHECK_EQ_INT(cfg.stats_interval_s, 60);
	CHECK_EQ_INT(cfg.log_level, VT_LOG_INFO);
	CHECK_EQ_INT(cfg.n_devices, 0);
	CHECK(cfg.tls_ca == NULL);
	vt_agg_config_free(&cfg);
}

VT_TEST(config_device_lines_register_sorted_keys)
{
	struct vt_agg_config cfg;
	uint8_t want[VT_KEY_LEN];
	char err[512];

	CHECK(parse("database a.db\nkey_file a.key\n"
		    "device pi-z " KEY_A "\n"
		    "device\tpi-a   " KEY_B "  # the till\n"
		    "broker [::1]:8883\nshared_group none\ncommit_interval_ms 0\n"
		    "tls_ca ca.pem\ntls_cert c.pem\ntls_key k.pem\nlog_level debug\n",
		    &cfg, err, sizeof(err)) == 0);
	CHECK_EQ_INT(cfg.n_devices, 2);
	CHECK_STR(cfg.devices[0].id, "pi-a");
	CHECK_STR(cfg.devices[1].id, "pi-z");
	CHECK(vt_hex_decode(KEY_B, want, VT_KEY_LEN) == 0);
	CHECK(memcmp(cfg.devices[0].pub, want, VT_KEY_LEN) == 0);
	CHECK_STR(cfg.broker.host, "::1");
	CHECK_EQ_INT(cfg.broker.port, 8883);
	CHECK(cfg.shared_group == NULL);
	CHECK_EQ_INT(cfg.commit_interval_ms, 0);
	CHECK_EQ_INT(cfg.log_level, VT_LOG_DEBUG);
	vt_agg_config_free(&cfg);
}

struct bad_case {
	const char *text;
	const char *error;
};

VT_TEST(config_errors_name_line_and_expectation)
{
	static const struct bad_case cases[] = {
		{ "key_file k\n", "agg.conf: missing required key 'database'" },
		{ "database d\nkey_file k\nfoo 1\n", "agg.conf:3: unknown key 'foo'" },
		{ "database d\nkey_file k\nfooplugin.x 1\n", "agg.conf:3: unknown key 'fooplugin.x'" },
		{ "database d\nkey_file k\ndevice pi-a\n", "agg.conf:3: invalid value for 'device'" },
		{ "database d\nkey_file k\ndevice pi-a 1234\n", "agg.conf:3: invalid value for 'device' (expected the device's public key as 64 hex digits" },
		{ "database d\nkey_file k\ndevice pi/a " KEY_A "\n", "agg.conf:3: invalid value for 'device' (expected a device id" },
		{ "database d\nkey_file k\ndevice pi-a " KEY_A "\n\ndevice pi-a " KEY_B "\n",
		  "agg.conf:5: device 'pi-a' already registered on line 3" },
		{ "database d\nkey_file k\ncommit_interval_ms 99999999\n", "agg.conf:3: invalid value for 'commit_interval_ms' (expected an integer from 0 to 60000)" },
		{ "database d\nkey_file k\nbroker host:0\n", "agg.conf:3: invalid value for 'broker'" },
		{ "database d\nkey_file k\ntls_cert c.pem\n", "agg.conf:3: tls_cert and tls_key go together" },
		{ "database d\nkey_file k\ntls_key x\ntls_cert c\n", "agg.conf:4: tls_cert needs tls_ca" },
		{ "database d\nkey_file k\nshared_group a/b\n", "agg.conf:3: invalid value for 'shared_group'" },
		{ "database d\ndatabase e\nkey_file k\n", "agg.conf:2: 'database' already set on line 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vt_agg_config cfg;
		char err[512];
		int rc = parse(cases[i].text, &cfg, err, sizeof(err));

		vt_agg_config_free(&cfg);
		if (rc != -VT_ECONFIG || strncmp(err, cases[i].error, strlen(cases[i].error)) != 0)
			printf("case %zu: rc %d, got \"%s\"\n", i, rc, err);
		CHECK_EQ_INT(rc, -VT_ECONFIG);
		CHECK(strncmp(err, cases[i].error, strlen(cases[i].error)) == 0);
	}
}

VT_TEST_MAIN()
