/*
 * privacy_test.c - the privacy stage (docs/PRIVACY.md): rotating keys in
 * secret memory (R2-R5), field declarations (R9), the RSSI floor (R10), the
 * opt-out list (R12) and the compiled-in floors of the configuration (R15).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "config.h"
#include "err.h"
#include "optout.h"
#include "privacy.h"
#include "pseudonym.h"
#include "vt_os.h"
#include "rfid/fields.h"
#include "vt_test.h"

#define PSEUDO VT_PRIVACY_PSEUDONYMOUS
#define WALL_SET 1764000000000LL	/* 2025-11-24T16:00:00Z: a set clock */

static struct vitrine_reading rfid_read(uint64_t serial, int32_t rssi)
{
	struct vitrine_reading r = { .kind = VITRINE_KIND_RFID, .time_ms = WALL_SET };

	r.u.rfid.reader = 2;
	r.u.rfid.antenna = 3;
	r.u.rfid.rssi_cdbm = rssi;
	strcpy(r.u.rfid.gtin, "80614141123458");
	r.u.rfid.filter = 3;
	r.u.rfid.serial = serial;
	return r;
}

static struct vt_privacy *new_privacy(const char *optout, struct vt_privacy_source **src)
{
	struct vt_privacy_conf conf = { .rotation_s = 86400, .rssi_floor_cdbm = -7000,
					.optout_path = optout, .window_s = 900, .k = 10 };
	struct vt_privacy *p;
	char err[256];

	if (vt_privacy_new(&p, &conf, err, sizeof(err)) < 0)
		return NULL;
	if (src &&
	    vt_privacy_source_add(p, "rfid", PSEUDO, rfid_fields, src, err, sizeof(err)) < 0) {
		vt_privacy_free(p);
		return NULL;
	}
	return p;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* ---- pseudonym keys (R2-R5) ---- */

VT_TEST(pseudonym_digest_is_hmac_sha256_of_domain_and_value)
{
	struct vt_pseudonym *k;
	uint8_t got[32], want[32], key[32], msg[64];
	const uint8_t *secret;
	size_t len;

	CHECK_EQ_INT(vt_pseudonym_new(&k, 60000), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, WALL_SET, 0, "dom", "ab", 2, "cd", 2, got, 32), 0);
	/* The key is the first member of the secret page. */
	secret = vt_pseudonym_secret_for_test(k, &len);
	memcpy(key, secret, sizeof(key));
	memcpy(msg, "dom\0abcd", 8);
	CHECK_EQ_INT(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, 32, msg,
				     8, want), 0);
	CHECK(memcmp(got, want, 32) == 0);
	CHECK(!all_zero(key, sizeof(key)));
	vt_pseudonym_free(k);
}

VT_TEST(pseudonym_same_value_same_digest_within_a_key_period)
{
	struct vt_pseudonym *k;
	uint8_t a[8], b[8], c[8];

	CHECK_EQ_INT(vt_pseudonym_new(&k, 60000), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 0, "d", "serial-1", 8, NULL, 0, a, 8), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 59999, "d", "serial-1", 8, NULL, 0, b, 8), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 59999, "e", "serial-1", 8, NULL, 0, c, 8), 0);
	CHECK(memcmp(a, b, 8) == 0);
	CHECK(memcmp(a, c, 8) != 0);	/* the domain separates kinds of ids */
	CHECK_EQ_INT(vt_pseudonym_generation(k), 1);
	vt_pseudonym_free(k);
}

/* Digests of 300 inputs, each asked for twice (the second time from the
 * page's memo where it was kept, two inputs on one memo slot included),
 * and of inputs too long to remember: every one is the HMAC. */
VT_TEST(pseudonym_remembered_digests_are_the_hmac)
{
	struct vt_pseudonym *k;
	uint8_t got[8], again[8], want[32], key[32], msg[80];
	const uint8_t *secret;
	char value[60];
	size_t len, n;

	CHECK_EQ_INT(vt_pseudonym_new(&k, 60000), 0);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 300; i++) {
			/* Lengths from 1 to 55: from 50 on (4 + n + 2 > 55) they
			 * do not fit the memo. Asked twice in a row, the second
			 * answer comes from the memo when it fits. */
			n = (size_t)snprintf(value, sizeof(value), "%0*d", 1 + i % 55, i);
			CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 0, "dom", value, n, "\x01\x02", 2,
							 got, sizeof(got)), 0);
			CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 0, "dom", value, n, "\x01\x02", 2,
							 again, sizeof(again)), 0);
			CHECK(memcmp(got, again, sizeof(got)) == 0);
			secret = vt_pseudonym_secret_for_test(k, &len);
			memcpy(key, secret, sizeof(key));
			memcpy(msg, "dom", 4);
			memcpy(msg + 4, value, n);
			memcpy(msg + 4 + n, "\x01\x02", 2);
			CHECK_EQ_INT(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
						     key, 32, msg, 4 + n + 2, want), 0);
			CHECK(memcmp(got, want, sizeof(got)) == 0);
		}
	}
	CHECK_EQ_INT(vt_pseudonym_generation(k), 1);
	vt_pseudonym_free(k);
}

VT_TEST(rotation_makes_digests_before_and_after_unlinkable)
{
	struct vt_pseudonym *k;
	uint8_t before[8], after[8];

	CHECK_EQ_INT(vt_pseudonym_new(&k, 1000), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 0, "d", "tag", 3, NULL, 0, before, 8), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 1000, "d", "tag", 3, NULL, 0, after, 8), 0);
	CHECK(memcmp(before, after, 8) != 0);
	CHECK_EQ_INT(vt_pseudonym_generation(k), 2);
	vt_pseudonym_free(k);
}

VT_TEST(expiry_wipes_the_key_page_even_without_readings)
{
	struct vt_pseudonym *k;
	const void *secret;
	uint8_t d[8];
	size_t len;

	CHECK_EQ_INT(vt_pseudonym_new(&k, 1000), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, 0, 0, "d", "tag", 3, NULL, 0, d, 8), 0);
	secret = vt_pseudonym_secret_for_test(k, &len);
	CHECK(!all_zero(secret, 32));
	CHECK_EQ_INT(vt_pseudonym_expire(k, 999), 0);
	CHECK(vt_pseudonym_live(k));
	CHECK_EQ_INT(vt_pseudonym_expire(k, 1000), 1);
	CHECK(!vt_pseudonym_live(k));
	CHECK(all_zero(secret, len));	/* key, pad states, scratch: all gone */
	vt_pseudonym_free(k);
}

VT_TEST(keys_change_at_each_multiple_of_the_lifetime_on_a_set_clock)
{
	struct vt_pseudonym *k;
	int64_t day = 86400000, midnight = (WALL_SET / day + 1) * day;
	uint8_t a[8], b[8];

	CHECK_EQ_INT(vt_pseudonym_new(&k, day), 0);
	/* Drawn 10 ms before midnight UTC: gone 10 ms later, not 24 h later. */
	CHECK_EQ_INT(vt_pseudonym_digest(k, midnight - 10, 500, "d", "x", 1, NULL, 0, a, 8), 0);
	CHECK_EQ_INT(vt_pseudonym_expire(k, 509), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, midnight, 510, "d", "x", 1, NULL, 0, b, 8), 0);
	CHECK(memcmp(a, b, 8) != 0);
	vt_pseudonym_free(k);
}

VT_TEST(stepping_the_wall_clock_back_does_not_extend_a_key)
{
	struct vt_pseudonym *k;
	uint8_t a[8], b[8];

	CHECK_EQ_INT(vt_pseudonym_new(&k, 1000), 0);
	CHECK_EQ_INT(vt_pseudonym_digest(k, WALL_SET, 0, "d", "x", 1, NULL, 0, a, 8), 0);
	/* The wall clock went back an hour; the monotonic one did not. */
	CHECK_EQ_INT(vt_pseudonym_digest(k, WALL_SET - 3600000, 1000, "d", "x", 1, NULL, 0, b, 8),
		     0);
	CHECK(memcmp(a, b, 8) != 0);
	vt_pseudonym_free(k);
}

/* ---- the privacy stage ---- */

VT_TEST(serial_becomes_a_64_bit_keyed_digest_unique_per_device)
{
	struct vt_privacy_source *s1, *s2;
	struct vt_privacy *p1 = new_privacy(NULL, &s1), *p2 = new_privacy(NULL, &s2);
	struct vitrine_reading in = rfid_read(6789, -5000);
	struct vt_reading a, b, c;
	const char *why = NULL;

	CHECK(p1 && p2);
	CHECK_EQ_INT(VT_DIGEST_LEN, 8);
	CHECK_EQ_INT(vt_privacy_apply(p1, s1, &in, &a, WALL_SET, 0, &why), 0);
	CHECK_EQ_INT(vt_privacy_apply(p1, s1, &in, &b, WALL_SET, 1, &why), 0);
	CHECK(memcmp(a.u.rfid.tag_digest, b.u.rfid.tag_digest, VT_DIGEST_LEN) == 0);
	/* Another device (another random key): another digest. */
	CHECK_EQ_INT(vt_privacy_apply(p2, s2, &in, &c, WALL_SET, 0, &why), 0);
	CHECK(memcmp(a.u.rfid.tag_digest, c.u.rfid.tag_digest, VT_DIGEST_LEN) != 0);
	in.u.rfid.serial = 6790;
	CHECK_EQ_INT(vt_privacy_apply(p1, s1, &in, &c, WALL_SET, 2, &why), 0);
	CHECK(memcmp(a.u.rfid.tag_digest, c.u.rfid.tag_digest, VT_DIGEST_LEN) != 0);
	CHECK_STR(a.u.rfid.gtin, "80614141123458");
	CHECK_EQ_INT(a.u.rfid.rssi_cdbm, -5000);
	vt_privacy_free(p1);
	vt_privacy_free(p2);
}

VT_TEST(plugin_without_field_declarations_is_refused)
{
	struct vt_privacy *p = new_privacy(NULL, NULL);
	static const struct vitrine_field none[] = { { 0, NULL, 0 } };
	struct vt_privacy_source *src;
	char err[256] = "";

	CHECK(p != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "old", PSEUDO, NULL, &src, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "plugin old declares no fields") != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "old", PSEUDO, none, &src, err, sizeof(err)), -VT_EABI);
	vt_privacy_free(p);
}

VT_TEST(a_plugin_registered_again_gets_its_source_back)
{
	struct vt_privacy_source *src, *again;
	struct vt_privacy *p = new_privacy(NULL, &src);
	static const struct vitrine_field fewer[] = {
		{ VITRINE_KIND_RFID, "reader", 0 }, { VITRINE_KIND_RFID, "serial", 1 }, { 0, NULL, 0 },
	};
	char err[256] = "";

	CHECK(p != NULL);
	src->optout = 7;	/* a counter of the first run */
	/* A reload: same name, mode and fields: the same source, counters kept. */
	CHECK_EQ_INT(vt_privacy_source_add(p, "rfid", PSEUDO, rfid_fields, &again, err, sizeof(err)), 0);
	CHECK(again == src);
	CHECK_EQ_INT(again->optout, 7);
	/* Another mode, or other fields: only a restart may do that. */
	CHECK_EQ_INT(vt_privacy_source_add(p, "rfid", VT_PRIVACY_ANONYMOUS, rfid_fields, &again,
					   err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "plugin rfid now runs in another privacy mode or declares other fields") != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "rfid", PSEUDO, fewer, &again, err, sizeof(err)), -EBUSY);
	vt_privacy_free(p);
}

VT_TEST(identifier_declared_as_plain_field_is_refused)
{
	static const struct vitrine_field sneaky[] = {
		{ VITRINE_KIND_RFID, "gtin", 0 },
		{ VITRINE_KIND_RFID, "serial", 0 },
		{ 0, NULL, 0 },
	};
	static const struct vitrine_field unknown[] = {
		{ VITRINE_KIND_RFID, "mac_address", 0 },
		{ 0, NULL, 0 },
	};
	static const struct vitrine_field plain_as_id[] = {
		{ VITRINE_KIND_FOOTFALL, "door", VITRINE_FIELD_IDENTIFIER },
		{ 0, NULL, 0 },
	};
	struct vt_privacy *p = new_privacy(NULL, NULL);
	struct vt_privacy_source *src;
	char err[256] = "";

	CHECK(p != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "x", PSEUDO, sneaky, &src, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "'serial' not as an identifier, but it is one") != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "x", PSEUDO, unknown, &src, err, sizeof(err)), -VT_EABI);
	CHECK(strstr(err, "'mac_address', which kind 3 does not have") != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "x", PSEUDO, plain_as_id, &src, err, sizeof(err)), -VT_EABI);
	vt_privacy_free(p);
}

VT_TEST(undeclared_field_is_dropped_and_counted)
{
	static const struct vitrine_field no_screen[] = {
		{ VITRINE_KIND_TABLET, "kiosk", 0 },
		{ VITRINE_KIND_TABLET, "event", 0 },
		{ 0, NULL, 0 },
	};
	struct vt_privacy *p = new_privacy(NULL, NULL);
	struct vitrine_reading in = { .kind = VITRINE_KIND_TABLET, .time_ms = WALL_SET };
	struct vt_privacy_source *src;
	struct vt_reading out;
	const char *why = NULL;
	char err[256];

	CHECK(p != NULL);
	CHECK_EQ_INT(vt_privacy_source_add(p, "kiosk", PSEUDO, no_screen, &src, err, sizeof(err)), 0);
	in.u.tablet.kiosk = 4;
	in.u.tablet.event = VITRINE_TABLET_SCREEN_VIEW;
	strcpy(in.u.tablet.screen, "secret-screen");
	strcpy(in.u.tablet.session, "abc");
	in.u.tablet.duration_ms = 10;
	CHECK_EQ_INT(vt_privacy_apply(p, src, &in, &out, WALL_SET, 0, &why), 0);
	CHECK_EQ_INT(out.u.tablet.kiosk, 4);
	CHECK_STR(out.u.tablet.screen, "");
	CHECK(all_zero(out.u.tablet.session_digest, VT_DIGEST_LEN));
	CHECK_EQ_INT(out.u.tablet.duration_ms, 0);
	CHECK_EQ_INT(src->undeclared, 3);	/* screen, session, duration */
	/* A kind it did not declare at all is refused. */
	in.kind = VITRINE_KIND_FOOTFALL;
	CHECK_EQ_INT(vt_privacy_apply(p, src, &in, &out, WALL_SET, 0, &why), -VT_EINVAL_READING);
	CHECK(strstr(why, "does not declare") != NULL);
	vt_privacy_free(p);
}

VT_TEST(reads_below_the_rssi_floor_are_withheld)
{
	struct vt_privacy_source *src;
	struct vt_privacy *p = new_privacy(NULL, &src);
	struct vitrine_reading weak = rfid_read(1, -7001), edge = rfid_read(1, -7000);
	struct vt_reading out;
	const char *why = NULL;

	CHECK(p != NULL);
	CHECK_EQ_INT(vt_privacy_apply(p, src, &weak, &out, WALL_SET, 0, &why), VT_PRIVACY_DROPPED);
	CHECK_EQ_INT(vt_privacy_apply(p, src, &edge, &out, WALL_SET, 0, &why), 0);
	CHECK_EQ_INT(src->below_rssi, 1);
	vt_privacy_free(p);
}

VT_TEST(items_on_the_optout_list_are_dropped_first)
{
	char path[512];
	struct vt_privacy_source *src;
	struct vt_privacy *p;
	struct vitrine_reading listed = rfid_read(123456789, -9000);
	struct vitrine_reading other = rfid_read(123456788, -5000);
	struct vt_reading out;
	const char *why = NULL;

	snprintf(path, sizeof(path), "%s/optout", vt_test_tmpdir());
	CHECK_EQ_INT(write_text(path, "# customers who asked\n\n"
				"  (01)80614141123458(21)123456789  # a ring\n"
				"(01)80614141123458(21)5\n"), 0);
	p = new_privacy(path, &src);
	CHECK(p != NULL);
	/* Listed and weak: counted as opt-out, the first rule. */
	CHECK_EQ_INT(vt_privacy_apply(p, src, &listed, &out, WALL_SET, 0, &why),
		     VT_PRIVACY_DROPPED);
	CHECK_EQ_INT(src->optout, 1);
	CHECK_EQ_INT(src->below_rssi, 0);
	CHECK_EQ_INT(vt_privacy_apply(p, src, &other, &out, WALL_SET, 0, &why), 0);
	vt_privacy_free(p);
}

VT_TEST(optout_list_errors_name_file_line_and_expectation)
{
	char path[512], err[600] = "";
	struct vt_optout *o;

	snprintf(path, sizeof(path), "%s/bad-optout", vt_test_tmpdir());
	CHECK_EQ_INT(write_text(path, "(01)80614141123458(21)1\n(01)80614141123459(21)1\n"), 0);
	CHECK_EQ_INT(vt_optout_load(&o, path, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, ":2: GTIN check digit wrong") != NULL);
	CHECK_EQ_INT(write_text(path, "3074257bf7194e4000001a85\n"), 0);
	CHECK_EQ_INT(vt_optout_load(&o, path, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, ":1: expected (01)<14-digit GTIN>(21)<serial>") != NULL);
	CHECK_EQ_INT(write_text(path, "(01)80614141123458(21)274877906944\n"), 0);
	CHECK_EQ_INT(vt_optout_load(&o, path, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "38 bits") != NULL);
	CHECK_EQ_INT(write_text(path, "(01)80614141123458(21)1 (01)80614141123458(21)2\n"), 0);
	CHECK_EQ_INT(vt_optout_load(&o, path, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "one item per line") != NULL);
	CHECK_EQ_INT(vt_optout_gtin_check_digit("8061414112345"), '8');
}

/* ---- anonymous mode ---- */

struct cells {
	struct vt_reading cell[16];
	int n;
};

static int keep_cell(void *arg, const struct vt_reading *cell)
{
	struct cells *c = arg;

	if (cell && c->n < 16)	/* NULL: "seal and sync" (anon.h) */
		c->cell[c->n++] = *cell;
	return 0;
}

VT_TEST(anonymous_mode_sends_counts_per_window_and_no_event)
{
	struct vt_privacy *p = new_privacy(NULL, NULL);
	struct vt_privacy_source *src;
	struct cells got = { .n = 0 };
	struct vt_reading out;
	const char *why = NULL;
	char err[256];

	CHECK(p != NULL);
	vt_privacy_set_sink(p, keep_cell, &got);
	CHECK_EQ_INT(vt_privacy_source_add(p, "rfid", VT_PRIVACY_ANONYMOUS, rfid_fields, &src, err,
					   sizeof(err)), 0);
	/* 12 items, each read 3 times in the first 5 minutes of a window. */
	for (int rep = 0; rep < 3; rep++)
		for (uint64_t item = 1; item <= 12; item++) {
			struct vitrine_reading in = rfid_read(item, -5000);

			in.time_ms = 1764000000000LL + rep * 1000;
			CHECK_EQ_INT(vt_privacy_apply(p, src, &in, &out, WALL_SET, 0, &why),
				     VT_PRIVACY_WINDOWED);
			CHECK(all_zero(&out, sizeof(out)));
		}
	CHECK_EQ_INT(got.n, 0);
	vt_privacy_tick(p, WALL_SET, 0, VT_WINDOW_NOW);
	CHECK_EQ_INT(got.n, 1);
	CHECK_EQ_INT(got.cell[0].kind, VT_KIND_WINDOW);
	CHECK_EQ_INT(got.cell[0].u.window.metric, VT_METRIC_RFID_PRESENCE);
	CHECK_EQ_INT(got.cell[0].u.window.count, 12);
	CHECK_STR(got.cell[0].u.window.label, "80614141123458");
	CHECK_EQ_INT(got.cell[0].u.window.k, 10);
	vt_privacy_free(p);
}

VT_TEST(anonymous_key_changes_with_each_five_minute_slot)
{
	struct vt_privacy *p = new_privacy(NULL, NULL);
	struct vt_privacy_source *src;
	struct cells got = { .n = 0 };
	struct vt_reading out;
	const char *why = NULL;
	char err[256], json[1024];

	CHECK(p != NULL);
	vt_privacy_set_sink(p, keep_cell, &got);
	CHECK_EQ_INT(vt_privacy_source_add(p, "rfid", VT_PRIVACY_ANONYMOUS, rfid_fields, &src, err,
					   sizeof(err)), 0);
	/* The same 10 items in three slots of one window: 30 item-slots, and
	 * a key drawn per slot. */
	for (int slot = 0; slot < 3; slot++)
		for (uint64_t item = 1; item <= 10; item++) {
			struct vitrine_reading in = rfid_read(item, -5000);

			in.time_ms = 1764000000000LL + slot * 300000LL + (int64_t)item;
			CHECK_EQ_INT(vt_privacy_apply(p, src, &in, &out, WALL_SET, 0, &why),
				     VT_PRIVACY_WINDOWED);
		}
	vt_privacy_tick(p, WALL_SET, 0, VT_WINDOW_NOW);
	CHECK_EQ_INT(got.n, 1);
	CHECK_EQ_INT(got.cell[0].u.window.count, 30);
	vt_privacy_status_json(p, json, sizeof(json));
	CHECK(strstr(json, "\"keys_drawn\":3,") != NULL);
	CHECK(strstr(json, "\"modes\":{\"rfid\":\"anonymous\"}") != NULL);
	vt_privacy_free(p);
}

/* ---- R15: floors compiled in ---- */

static int load_conf(const char *extra, struct vt_agent_config *cfg, char *err, size_t len)
{
	char path[512], text[1024];

	snprintf(path, sizeof(path), "%s/agent.conf", vt_test_tmpdir());
	snprintf(text, sizeof(text),
		 "site s\ndevice d\naggregator_key %064d\n%s\n", 0, extra);
	if (write_text(path, text) < 0)
		return -EIO;
	return vt_agent_config_load(path, cfg, err, len);
}

VT_TEST(config_refuses_to_weaken_the_key_rotation_floor)
{
	struct vt_agent_config cfg;
	char err[600] = "";

	CHECK_EQ_INT(load_conf("privacy_key_rotation_s 86401", &cfg, err, sizeof(err)),
		     -VT_ECONFIG);
	CHECK(strstr(err, "agent.conf:4: invalid value for 'privacy_key_rotation_s'") != NULL);
	CHECK(strstr(err, "at most 24 hours") != NULL && strstr(err, "R15") != NULL);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_key_rotation_s 3600", &cfg, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.privacy_key_rotation_s, 3600);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("", &cfg, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.privacy_key_rotation_s, VT_PRIVACY_ROTATION_MAX_S);
	CHECK_EQ_INT(cfg.privacy_rssi_floor_cdbm, VT_PRIVACY_RSSI_FLOOR_DEFAULT);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_rssi_floor_cdbm 10", &cfg, err, sizeof(err)),
		     -VT_ECONFIG);
	vt_agent_config_free(&cfg);
}

VT_TEST(config_refuses_k_below_5_and_windows_under_15_minutes)
{
	struct vt_agent_config cfg;
	char err[600] = "";

	CHECK_EQ_INT(load_conf("privacy_k 4", &cfg, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "'privacy_k' (expected an integer of at least 5") != NULL);
	CHECK(strstr(err, "R6, R15") != NULL);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_window_s 600", &cfg, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "R8, R15") != NULL);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_window_s 1000", &cfg, err, sizeof(err)), -VT_ECONFIG);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_mode incognito", &cfg, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "anonymous (counts per window) or pseudonymous") != NULL);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_epsilon_milli 500", &cfg, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "needs privacy_epsilon_hour_milli") != NULL);
	vt_agent_config_free(&cfg);
	CHECK_EQ_INT(load_conf("privacy_window_s 3600\nprivacy_k 25", &cfg, err, sizeof(err)), 0);
	CHECK_EQ_INT(cfg.privacy_window_s, 3600);
	CHECK_EQ_INT(cfg.privacy_k, 25);
	CHECK_EQ_INT(cfg.privacy_mode, VT_PRIVACY_ANONYMOUS);	/* the default */
	vt_agent_config_free(&cfg);
}

VT_TEST(privacy_stage_refuses_a_rotation_past_the_floor_too)
{
	struct vt_privacy_conf conf = { .rotation_s = 86401, .rssi_floor_cdbm = -7000,
					.window_s = 900, .k = 10 };
	struct vt_privacy *p;
	char err[256] = "";

	CHECK_EQ_INT(vt_privacy_new(&p, &conf, err, sizeof(err)), -VT_ECONFIG);
	CHECK(strstr(err, "R15") != NULL);
	conf.rotation_s = 86400;
	conf.k = 4;
	CHECK_EQ_INT(vt_privacy_new(&p, &conf, err, sizeof(err)), -VT_ECONFIG);
	conf.k = 5;
	conf.window_s = 899;
	CHECK_EQ_INT(vt_privacy_new(&p, &conf, err, sizeof(err)), -VT_ECONFIG);
}

VT_TEST_MAIN()
