/*
 * conf_test.c - the configuration syntax and the agent's key table: every
 * error names file, line and what was expected.
 */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "config.h"
#include "err.h"
#include "vt_test.h"

#define AGG_KEY "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"

static int load_text(const char *text, struct vt_agent_config *cfg, char *err, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/agent.conf", vt_test_tmpdir());
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	fclose(f);
	return vt_agent_config_load(path, cfg, err, len);
}

VT_TEST(conf_parses_keys_values_and_comments)
{
	const char *text = "# comment\n\n  site  cannes-1 # trailing\nplugin_dir /a b/c\n";
	struct vt_conf *c;
	char err[256];

	CHECK_EQ_INT(vt_conf_parse("x.conf", text, strlen(text), &c, err, sizeof(err)), 0);
	CHECK_EQ_INT(c->n, 2);
	CHECK_STR(c->entries[0].key, "site");
	CHECK_STR(c->entries[0].value, "cannes-1");
	CHECK_EQ_INT(c->entries[0].line, 3);
	CHECK_STR(c->entries[1].value, "/a b/c");
	vt_conf_free(c);
}

VT_TEST(conf_key_without_value_names_line)
{
	const char *text = "site a\n\nbroker\n";
	struct vt_conf *c = NULL;
	char err[256];

	CHECK_EQ_INT(vt_conf_parse("agent.conf", text, strlen(text), &c, err, sizeof(err)),
		     -VT_ECONFIG);
	CHECK(strstr(err, "agent.conf:3: key 'broker' has no value") == err);
}

VT_TEST(conf_rejects_bad_key_characters_and_nul)
{
	struct vt_conf *c = NULL;
	char err[256];

	CHECK(vt_conf_parse("a.conf", "Site x\n", 7, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "a.conf:1: invalid character in key 'Site'") == err);
	CHECK(vt_conf_parse("a.conf", "site x\0y\n", 9, &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "a.conf:1: NUL") == err);
}

VT_TEST(config_unknown_key_lists_expected_ones)
{
	struct vt_agent_config cfg;
	char err[512];
	int rc = load_text("site s\ndevice d\naggregator_key " AGG_KEY "\n\n\n\n\n\n\n\n\nbrokr x:1\n",
			   &cfg, err, sizeof(err));

	CHECK_EQ_INT(rc, -VT_ECONFIG);
	CHECK(strstr(err, "agent.conf:12: unknown key 'brokr' (expected one of: site, device, broker,") != NULL);
	vt_agent_config_free(&cfg);
}

VT_TEST(config_bad_values_say_what_was_expected)
{
	struct vt_agent_config cfg;
	char err[512];

	CHECK(load_text("site s\ndevice d\naggregator_key " AGG_KEY "\nbatch_max_readings 0\n", &cfg,
			err, sizeof(err)) < 0);
	CHECK(strstr(err, "agent.conf:4: invalid value for 'batch_max_readings' (expected an integer from 1 to 100000)") != NULL);
	vt_agent_config_free(&cfg);
	CHECK(load_text("site s\ndevice d\naggregator_key abc\n", &cfg, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":3: invalid value for 'aggregator_key' (expected a public key of 64 hex digits)") != NULL);
	vt_agent_config_free(&cfg);
	CHECK(load_text("site bad/site\n", &cfg, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":1: invalid value for 'site'") != NULL);
	vt_agent_config_free(&cfg);
	CHECK(load_text("site s\ndevice d\naggregator_key " AGG_KEY "\nbroker host:99999\n", &cfg,
			err, sizeof(err)) < 0);
	CHECK(strstr(err, ":4: invalid value for 'broker' (expected host:port") != NULL);
	vt_agent_config_free(&cfg);
}

VT_TEST(config_missing_required_key_and_duplicates)
{
	struct vt_agent_config cfg;
	char err[512];

	CHECK(load_text("site s\ndevice d\n", &cfg, err, sizeof(err)) < 0);
	CHECK(strstr(err, "missing required key 'aggregator_key'") != NULL);
	vt_agent_config_free(&cfg);
	CHECK(load_text("site s\nsite t\n", &cfg, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":2: 'site' already set on line 1") != NULL);
	vt_agent_config_free(&cfg);
}

VT_TEST(config_defaults_and_plugins)
{
	struct vt_agent_config cfg;
	char err[512];

	CHECK_EQ_INT(load_text("site s\ndevice d\naggregator_key " AGG_KEY
			       "\nplugin rfid\nplugin footfall\nrfid.seed 4\naead aes-256-gcm\n",
			       &cfg, err, sizeof(err)), 0);
	CHECK_STR(cfg.broker.host, "127.0.0.1");
	CHECK_EQ_INT(cfg.broker.port, 1883);
	CHECK_EQ_INT(cfg.n_plugins, 2);
	CHECK_STR(cfg.plugins[1], "footfall");
	CHECK_EQ_INT(cfg.aead, 1);
	CHECK_EQ_INT(cfg.batch_max_readings, 500);
	CHECK_STR(cfg.client_id, "vitrine-s-d");
	CHECK_EQ_INT(cfg.aggregator_key[0], 0x85);
	vt_agent_config_free(&cfg);
}

VT_TEST(hostport_accepts_ipv6_and_default_port)
{
	struct vt_hostport hp;

	CHECK_EQ_INT(vt_conf_parse_hostport("[::1]:8883", 1883, &hp), 0);
	CHECK_STR(hp.host, "::1");
	CHECK_EQ_INT(hp.port, 8883);
	CHECK_EQ_INT(vt_conf_parse_hostport("broker.local", 1883, &hp), 0);
	CHECK_EQ_INT(hp.port, 1883);
	CHECK(vt_conf_parse_hostport("::1:80", 1883, &hp) < 0);
	CHECK(vt_conf_parse_hostport("h:0", 1883, &hp) < 0);
	CHECK(vt_conf_parse_hostport(":80", 1883, &hp) < 0);
}

VT_TEST_MAIN()
