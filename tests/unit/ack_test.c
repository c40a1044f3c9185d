/*
 * ack_test.c - the acknowledgment message and its MAC (agent/ack.h): both
 * ends derive the same key, a good message round-trips, and everything else
 * is refused: another key, another topic, any single flipped bit, any other
 * length, and a wrong magic or version even under a valid MAC.
 */
#include <stdint.h>
#include <string.h>

#include <mbedtls/md.h>

#include "ack.h"
#include "err.h"
#include "keys.h"
#include "vt_test.h"

#define DEVICE "pi-door-1"
#define TOPIC "vitrine/v1/cannes-croisette/" DEVICE "/ack"

struct pair {
	uint8_t agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
	uint8_t dev_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN];
	uint8_t agg_key[VT_KEY_LEN], dev_key[VT_KEY_LEN];
};

/* Both key pairs and the ack key as each side derives it. */
static int pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	if (vt_keys_generate(p->agg_priv, p->agg_pub) || vt_keys_generate(p->dev_priv, p->dev_pub))
		return -1;
	if (vt_ack_key(p->agg_priv, p->dev_pub, DEVICE, p->agg_key) ||
	    vt_ack_key(p->dev_priv, p->agg_pub, DEVICE, p->dev_key))
		return -1;
	return 0;
}

VT_TEST(ack_key_is_the_same_on_both_sides_and_bound_to_the_device)
{
	struct pair p;
	uint8_t other[VT_KEY_LEN];
	static const uint8_t zero[VT_KEY_LEN];

	CHECK(pair_init(&p) == 0);
	CHECK(memcmp(p.agg_key, p.dev_key, VT_KEY_LEN) == 0);
	CHECK(memcmp(p.agg_key, zero, VT_KEY_LEN) != 0);
	/* Another device id (same keys) gives another key. */
	CHECK(vt_ack_key(p.agg_priv, p.dev_pub, "pi-door-2", other) == 0);
	CHECK(memcmp(other, p.agg_key, VT_KEY_LEN) != 0);
	/* A low-order public key or an invalid id gives none. */
	CHECK(vt_ack_key(p.agg_priv, zero, DEVICE, other) < 0);
	CHECK(vt_ack_key(p.agg_priv, p.dev_pub, "bad/id", other) < 0);
	CHECK(vt_ack_key(p.agg_priv, p.dev_pub, "", other) < 0);
}

VT_TEST(ack_round_trips_from_aggregator_to_device)
{
	static const uint64_t seqs[] = { 0, 1, 1001, 0x0102030405060708ULL, UINT64_MAX };
	struct pair p;
	uint8_t msg[VT_ACK_LEN];

	CHECK(pair_init(&p) == 0);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		uint64_t got = 42;

		vt_ack_encode(p.agg_key, TOPIC, seqs[i], msg);
		CHECK(msg[0] == 'V' && msg[1] == 'A' && msg[2] == 1);
		CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got), 0);
		CHECK(got == seqs[i]);
	}
	/* Big-endian on the wire. */
	vt_ack_encode(p.agg_key, TOPIC, 0x0102030405060708ULL, msg);
	for (int i = 0; i < 8; i++)
		CHECK_EQ_INT(msg[3 + i], i + 1);
}

VT_TEST(ack_with_another_key_is_refused)
{
	struct pair p, q;
	uint8_t msg[VT_ACK_LEN];
	uint64_t got = 42;

	CHECK(pair_init(&p) == 0);
	CHECK(pair_init(&q) == 0);
	vt_ack_encode(q.agg_key, TOPIC, 7, msg);
	CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got), -VT_EAUTH);
	CHECK_EQ_INT(got, 42);
}

VT_TEST(ack_on_another_topic_is_refused)
{
	static const char *const topics[] = {
		"vitrine/v1/cannes-croisette/pi-door-2/ack",	/* another device */
		"vitrine/v1/nice-massena/" DEVICE "/ack",	/* another site */
		"vitrine/v1/cannes-croisette/" DEVICE "/ac",
		"vitrine/v1/cannes-croisette/" DEVICE "/ack/",
		"",
	};
	struct pair p;
	uint8_t msg[VT_ACK_LEN];
	uint64_t got = 42;

	CHECK(pair_init(&p) == 0);
	vt_ack_encode(p.agg_key, TOPIC, 7, msg);
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		CHECK_EQ_INT(vt_ack_decode(p.dev_key, topics[i], msg, sizeof(msg), &got), -VT_EAUTH);
	CHECK_EQ_INT(got, 42);
}

VT_TEST(ack_with_any_one_bit_flipped_is_refused)
{
	struct pair p;
	uint8_t msg[VT_ACK_LEN];
	uint64_t got = 42;

	CHECK(pair_init(&p) == 0);
	vt_ack_encode(p.agg_key, TOPIC, 1001, msg);
	for (size_t bit = 0; bit < 8 * sizeof(msg); bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got) < 0);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK_EQ_INT(got, 42);
	CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got), 0);
	CHECK_EQ_INT(got, 1001);
}

VT_TEST(ack_of_any_other_length_is_refused)
{
	struct pair p;
	uint8_t msg[VT_ACK_LEN + 8];
	uint64_t got = 42;

	CHECK(pair_init(&p) == 0);
	vt_ack_encode(p.agg_key, TOPIC, 5, msg);
	memset(msg + VT_ACK_LEN, 0, 8);
	for (size_t len = 0; len <= sizeof(msg); len++) {
		if (len == VT_ACK_LEN)
			continue;
		CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, len, &got), -VT_EDECODE);
	}
	CHECK_EQ_INT(got, 42);
}

/* The MAC as ack.h specifies it, so that a message with another magic or
 * version can carry a valid one: the format check must refuse it alone. */
static int mac_by_hand(const uint8_t key[VT_KEY_LEN], const char *topic, uint8_t msg[VT_ACK_LEN])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	uint8_t input[128], full[32];
	size_t n = strlen(topic);

	if (!md || n + 1 + 11 > sizeof(input))
		return -1;
	memcpy(input, topic, n);
	input[n] = 0;
	memcpy(input + n + 1, msg, 11);
	if (mbedtls_md_hmac(md, key, VT_KEY_LEN, input, n + 12, full) != 0)
		return -1;
	memcpy(msg + 11, full, 16);
	return 0;
}

VT_TEST(ack_with_wrong_magic_or_version_is_refused_even_with_a_valid_mac)
{
	static const uint8_t heads[][3] = {
		{ 'V', 'T', 1 },	/* a frame's magic */
		{ 'v', 'A', 1 },
		{ 'V', 'A', 0 },
		{ 'V', 'A', 2 },
	};
	struct pair p;
	uint8_t msg[VT_ACK_LEN];
	uint64_t got = 42;

	CHECK(pair_init(&p) == 0);
	/* The hand-made MAC is the real one: the genuine header passes. */
	vt_ack_encode(p.agg_key, TOPIC, 9, msg);
	CHECK(mac_by_hand(p.agg_key, TOPIC, msg) == 0);
	CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got), 0);
	CHECK_EQ_INT(got, 9);
	got = 42;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		memcpy(msg, heads[i], 3);
		CHECK(mac_by_hand(p.agg_key, TOPIC, msg) == 0);
		CHECK_EQ_INT(vt_ack_decode(p.dev_key, TOPIC, msg, sizeof(msg), &got), -VT_EDECODE);
	}
	CHECK_EQ_INT(got, 42);
}

VT_TEST_MAIN()
