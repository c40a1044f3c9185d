/*
 * frame_test.c - sealing, parsing and opening frames (frame.c): round trips
 * for both AEADs, the key schedule against an independently computed vector,
 * and rejection of every flipped bit, every truncation and malformed headers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "keys.h"
#include "vt_test.h"

#define DEVICE "shop-17.door_A"
#define EPOCH 42u
#define PAYLOAD "28 b5 2f fd: pretend zstd"

struct party {
	uint8_t dev_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN];
	uint8_t agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
};

static int party_init(struct party *p)
{
	return vt_keys_generate(p->dev_priv, p->dev_pub) == 0 &&
	       vt_keys_generate(p->agg_priv, p->agg_pub) == 0;
}

static int is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Seal PAYLOAD as DEVICE/EPOCH with seq into frame (cap bytes). */
static int seal_one(const struct party *p, int aead, uint64_t seq, uint8_t *frame, size_t cap,
		    size_t *len)
{
	struct vt_sealer *s;
	int rc;

	rc = vt_sealer_new(&s, DEVICE, EPOCH, aead, p->dev_priv, p->agg_pub);
	if (rc < 0)
		return rc;
	rc = vt_sealer_seal(s, seq, VT_FRAME_CODEC_ZSTD, (const uint8_t *)PAYLOAD,
			    strlen(PAYLOAD), frame, cap, len);
	vt_sealer_free(s);
	return rc;
}

/* What the aggregator does with a frame: parse, derive, open. */
static int open_as_aggregator(const struct party *p, const uint8_t dev_pub[VT_KEY_LEN],
			      const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
			      size_t *out_len)
{
	struct vt_frame_header h;
	uint8_t key[VT_KEY_LEN];
	int rc;

	*out_len = 0;
	rc = vt_frame_parse_header(frame, len, &h);
	if (rc < 0)
		return rc;
	rc = vt_frame_key_aggregator(p->agg_priv, h.eph_pub, dev_pub, h.device, h.epoch, key);
	if (rc < 0)
		return rc;
	rc = vt_frame_open(key, &h, frame, len, out, cap, out_len);
	vt_keys_wipe(key, sizeof(key));
	return rc;
}

static void round_trip(int *vt_failed, int aead)
{
	struct party p;
	uint8_t frame[256], out[256];
	size_t len, out_len;

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, aead, 1, frame, sizeof(frame), &len), 0);
	CHECK_EQ_INT(len, strlen(PAYLOAD) + VT_FRAME_OVERHEAD(strlen(DEVICE)));
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, out, sizeof(out), &out_len), 0);
	CHECK_EQ_INT(out_len, strlen(PAYLOAD));
	CHECK(memcmp(out, PAYLOAD, out_len) == 0);
	/* The body is encrypted, not copied. */
	CHECK(memmem(frame, len, PAYLOAD, strlen(PAYLOAD)) == NULL);
}

VT_TEST(chachapoly_frame_round_trips)
{
	round_trip(vt_failed, VT_FRAME_AEAD_CHACHAPOLY);
}

VT_TEST(aesgcm_frame_round_trips)
{
	round_trip(vt_failed, VT_FRAME_AEAD_AESGCM);
}

/* The pipeline compresses into the frame and seals there: a payload at
 * out + header, longer than a few blocks and of no block's multiple,
 * comes back whole. */
static void round_trip_in_place(int *vt_failed, int aead)
{
	struct party p;
	struct vt_sealer *s;
	uint8_t frame[1200], body[1001], out[1001];
	size_t hlen = VT_FRAME_HEADER_LEN(strlen(DEVICE)), len, out_len;
	int rc;

	CHECK(party_init(&p));
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 3);
	memcpy(frame + hlen, body, sizeof(body));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, aead, p.dev_priv, p.agg_pub), 0);
	rc = vt_sealer_seal(s, 5, VT_FRAME_CODEC_ZSTD, frame + hlen, sizeof(body), frame,
			    sizeof(frame), &len);
	vt_sealer_free(s);
	CHECK_EQ_INT(rc, 0);
	CHECK(memcmp(frame + hlen, body, 64) != 0);
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, out, sizeof(out), &out_len), 0);
	CHECK_EQ_INT(out_len, sizeof(body));
	CHECK(memcmp(out, body, sizeof(body)) == 0);
}

VT_TEST(chachapoly_seals_in_place)
{
	round_trip_in_place(vt_failed, VT_FRAME_AEAD_CHACHAPOLY);
}

VT_TEST(aesgcm_seals_in_place)
{
	round_trip_in_place(vt_failed, VT_FRAME_AEAD_AESGCM);
}

VT_TEST(empty_payload_round_trips)
{
	struct party p;
	struct vt_sealer *s;
	uint8_t frame[128];
	size_t len, out_len;
	int rc;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, VT_FRAME_AEAD_CHACHAPOLY, p.dev_priv,
				   p.agg_pub), 0);
	rc = vt_sealer_seal(s, 9, VT_FRAME_CODEC_ZSTD, NULL, 0, frame, sizeof(frame), &len);
	vt_sealer_free(s);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(len, VT_FRAME_OVERHEAD(strlen(DEVICE)));
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, NULL, 0, &out_len), 0);
	CHECK_EQ_INT(out_len, 0);
}

VT_TEST(aggregator_key_equals_device_key)
{
	struct party p;
	uint8_t eph_priv[VT_KEY_LEN], eph_pub[VT_KEY_LEN];
	uint8_t k_dev[VT_KEY_LEN], k_agg[VT_KEY_LEN], k_other[VT_KEY_LEN];

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_keys_generate(eph_priv, eph_pub), 0);
	CHECK_EQ_INT(vt_frame_key_device(eph_priv, p.dev_priv, p.agg_pub, DEVICE, EPOCH, k_dev), 0);
	CHECK_EQ_INT(vt_frame_key_aggregator(p.agg_priv, eph_pub, p.dev_pub, DEVICE, EPOCH, k_agg),
		     0);
	CHECK(memcmp(k_dev, k_agg, VT_KEY_LEN) == 0);
	/* Device id and epoch are bound into the key. */
	CHECK_EQ_INT(vt_frame_key_aggregator(p.agg_priv, eph_pub, p.dev_pub, DEVICE, EPOCH + 1,
					     k_other), 0);
	CHECK(memcmp(k_agg, k_other, VT_KEY_LEN) != 0);
	CHECK_EQ_INT(vt_frame_key_aggregator(p.agg_priv, eph_pub, p.dev_pub, "shop-18.door_A",
					     EPOCH, k_other), 0);
	CHECK(memcmp(k_agg, k_other, VT_KEY_LEN) != 0);
}

/*
 * Known-answer frames computed outside mbedTLS (Python "cryptography":
 * X25519, HKDF-SHA256, ChaCha20Poly1305 / AESGCM) from the RFC 7748 keys,
 * aggregator = Alice, device = Bob, ephemeral scalar = bytes 1..32.
 */
static const char kat_device[] = "store-042.door_A";
static const char kat_eph_priv[] =
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
static const char kat_key[] = "14baa2757f693f7868c44033e1cf7ed340f04cb7e32b790ced47374a4906e280";
static const char kat_chachapoly[] =
	"565401011073746f72652d3034322e646f6f725f41000000070102030405060708"
	"07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"
	"4f1bfdce9fe39689bded03cb87ee8d6a536ff21e3b940921342913b2495d4291b301ef1b";
static const char kat_aesgcm[] =
	"565401051073746f72652d3034322e646f6f725f41000000070102030405060708"
	"07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"
	"9df2711213abb5e2e23c77e35de6d2ca93485a5ce0b3a25840be48299d9e8d90f89a5450";
static const char kat_agg_priv[] =
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char kat_agg_pub[] =
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char kat_dev_priv[] =
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char kat_dev_pub[] =
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";

VT_TEST(epoch_key_matches_independent_vector_on_both_sides)
{
	uint8_t eph_priv[VT_KEY_LEN], eph_pub[VT_KEY_LEN], dev_priv[VT_KEY_LEN];
	uint8_t dev_pub[VT_KEY_LEN], agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
	uint8_t want[VT_KEY_LEN], key[VT_KEY_LEN];

	CHECK_EQ_INT(vt_hex_decode(kat_eph_priv, eph_priv, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_dev_priv, dev_priv, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_dev_pub, dev_pub, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_agg_priv, agg_priv, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_agg_pub, agg_pub, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_key, want, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_keys_public(eph_priv, eph_pub), 0);
	CHECK_EQ_INT(vt_frame_key_device(eph_priv, dev_priv, agg_pub, kat_device, 7, key), 0);
	CHECK(memcmp(key, want, VT_KEY_LEN) == 0);
	CHECK_EQ_INT(vt_frame_key_aggregator(agg_priv, eph_pub, dev_pub, kat_device, 7, key), 0);
	CHECK(memcmp(key, want, VT_KEY_LEN) == 0);
}

static void open_kat(int *vt_failed, const char *hex, int aead)
{
	uint8_t frame[128], out[64], agg_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN];
	struct vt_frame_header h;
	uint8_t key[VT_KEY_LEN];
	size_t len = strlen(hex) / 2, out_len;

	CHECK(len <= sizeof(frame));
	CHECK_EQ_INT(vt_hex_decode(hex, frame, len), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_agg_priv, agg_priv, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_hex_decode(kat_dev_pub, dev_pub, VT_KEY_LEN), 0);
	CHECK_EQ_INT(vt_frame_parse_header(frame, len, &h), 0);
	CHECK_EQ_INT(h.aead, aead);
	CHECK_EQ_INT(h.seq, 0x0102030405060708ull);
	CHECK_EQ_INT(vt_frame_key_aggregator(agg_priv, h.eph_pub, dev_pub, h.device, h.epoch, key),
		     0);
	CHECK_EQ_INT(vt_frame_open(key, &h, frame, len, out, sizeof(out), &out_len), 0);
	CHECK_EQ_INT(out_len, strlen("vitrine test payload"));
	CHECK(memcmp(out, "vitrine test payload", out_len) == 0);
}

VT_TEST(opens_chachapoly_frame_sealed_by_independent_implementation)
{
	open_kat(vt_failed, kat_chachapoly, VT_FRAME_AEAD_CHACHAPOLY);
}

VT_TEST(opens_aesgcm_frame_sealed_by_independent_implementation)
{
	open_kat(vt_failed, kat_aesgcm, VT_FRAME_AEAD_AESGCM);
}

VT_TEST(header_fields_parse_back_exactly)
{
	struct party p;
	struct vt_sealer *s;
	struct vt_frame_header h, h2;
	uint8_t frame[256], frame2[256];
	size_t len, len2;
	const uint64_t seq = 0xfedcba9876543210ull;
	int rc;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, 0xdeadbeefu, VT_FRAME_AEAD_AESGCM, p.dev_priv,
				   p.agg_pub), 0);
	rc = vt_sealer_seal(s, seq, VT_FRAME_CODEC_ZSTD, (const uint8_t *)PAYLOAD,
			    strlen(PAYLOAD), frame, sizeof(frame), &len);
	if (rc == 0)
		rc = vt_sealer_seal(s, seq + 1, 0, (const uint8_t *)"x", 1, frame2,
				    sizeof(frame2), &len2);
	vt_sealer_free(s);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(vt_frame_parse_header(frame, len, &h), 0);
	CHECK_EQ_INT(h.version, VT_FRAME_VERSION);
	CHECK_EQ_INT(h.codec, VT_FRAME_CODEC_ZSTD);
	CHECK_EQ_INT(h.aead, VT_FRAME_AEAD_AESGCM);
	CHECK_EQ_INT(h.device_len, strlen(DEVICE));
	CHECK_STR(h.device, DEVICE);
	CHECK_EQ_INT(h.epoch, 0xdeadbeefu);
	CHECK(h.seq == seq);
	CHECK_EQ_INT(h.header_len, VT_FRAME_HEADER_LEN(strlen(DEVICE)));
	CHECK(memcmp(frame, "VT", 2) == 0);
	/* Both frames of one epoch carry the same ephemeral key, read back
	 * from bytes 17+n. */
	CHECK_EQ_INT(vt_frame_parse_header(frame2, len2, &h2), 0);
	CHECK_EQ_INT(h2.codec, 0);
	CHECK(h2.seq == seq + 1);
	CHECK(memcmp(h.eph_pub, h2.eph_pub, VT_KEY_LEN) == 0);
	CHECK(memcmp(h.eph_pub, frame + 17 + strlen(DEVICE), VT_KEY_LEN) == 0);
	CHECK(!is_zero(h.eph_pub, VT_KEY_LEN));
}

VT_TEST(each_epoch_draws_a_new_ephemeral_key)
{
	struct party p;
	struct vt_frame_header h1, h2;
	uint8_t f1[256], f2[256];
	size_t l1, l2;

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_CHACHAPOLY, 1, f1, sizeof(f1), &l1), 0);
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_CHACHAPOLY, 1, f2, sizeof(f2), &l2), 0);
	CHECK_EQ_INT(vt_frame_parse_header(f1, l1, &h1), 0);
	CHECK_EQ_INT(vt_frame_parse_header(f2, l2, &h2), 0);
	CHECK(memcmp(h1.eph_pub, h2.eph_pub, VT_KEY_LEN) != 0);
	CHECK(memcmp(f1 + h1.header_len, f2 + h2.header_len, l1 - h1.header_len) != 0);
}

static void flip_every_bit(int *vt_failed, int aead)
{
	struct party p;
	uint8_t frame[256], out[256];
	size_t len, out_len;

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, aead, 5, frame, sizeof(frame), &len), 0);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			frame[i] ^= (uint8_t)(1u << bit);
			memset(out, 0xaa, sizeof(out));
			rc = open_as_aggregator(&p, p.dev_pub, frame, len, out, sizeof(out),
						&out_len);
			frame[i] ^= (uint8_t)(1u << bit);
			CHECK(rc == -VT_EFRAME || rc == -VT_EAUTH || rc == -VT_ECRYPTO);
			CHECK_EQ_INT(out_len, 0);
			/* A body or tag bit must fail exactly on the tag. */
			if (i >= VT_FRAME_HEADER_LEN(strlen(DEVICE)))
				CHECK_EQ_INT(rc, -VT_EAUTH);
			if (rc == -VT_EAUTH)
				CHECK(is_zero(out, strlen(PAYLOAD)));
		}
	}
	/* And the untouched frame still opens. */
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, out, sizeof(out), &out_len), 0);
}

VT_TEST(chachapoly_frame_with_any_flipped_bit_is_rejected)
{
	flip_every_bit(vt_failed, VT_FRAME_AEAD_CHACHAPOLY);
}

VT_TEST(aesgcm_frame_with_any_flipped_bit_is_rejected)
{
	flip_every_bit(vt_failed, VT_FRAME_AEAD_AESGCM);
}

VT_TEST(frame_from_another_device_key_fails_authentication)
{
	struct party p;
	uint8_t frame[256], out[256], other_priv[VT_KEY_LEN], other_pub[VT_KEY_LEN];
	size_t len, out_len;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_keys_generate(other_priv, other_pub), 0);
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_CHACHAPOLY, 1, frame, sizeof(frame), &len), 0);
	memset(out, 0xaa, sizeof(out));
	CHECK_EQ_INT(open_as_aggregator(&p, other_pub, frame, len, out, sizeof(out), &out_len),
		     -VT_EAUTH);
	CHECK_EQ_INT(out_len, 0);
	CHECK(is_zero(out, strlen(PAYLOAD)));
}

VT_TEST(frame_for_another_aggregator_fails_authentication)
{
	struct party p, q;
	uint8_t frame[256], out[256];
	size_t len, out_len;

	CHECK(party_init(&p));
	CHECK(party_init(&q));
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_AESGCM, 1, frame, sizeof(frame), &len), 0);
	CHECK_EQ_INT(open_as_aggregator(&q, p.dev_pub, frame, len, out, sizeof(out), &out_len),
		     -VT_EAUTH);
}

VT_TEST(truncated_frames_of_every_length_are_rejected)
{
	struct party p;
	uint8_t frame[256], out[256];
	size_t len, out_len;
	size_t hlen = VT_FRAME_HEADER_LEN(strlen(DEVICE));

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_CHACHAPOLY, 3, frame, sizeof(frame), &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		/* An exact-size heap copy, so that ASan sees any over-read. */
		uint8_t *copy = malloc(cut ? cut : 1);
		int rc;

		CHECK(copy != NULL);
		memcpy(copy, frame, cut);
		rc = open_as_aggregator(&p, p.dev_pub, copy, cut, out, sizeof(out), &out_len);
		free(copy);
		if (cut < hlen + VT_FRAME_TAG_LEN)
			CHECK_EQ_INT(rc, -VT_EFRAME);
		else
			CHECK_EQ_INT(rc, -VT_EAUTH);
	}
}

VT_TEST(seal_into_too_small_buffer_is_enospc)
{
	struct party p;
	struct vt_sealer *s;
	uint8_t frame[256];
	size_t need = strlen(PAYLOAD) + VT_FRAME_OVERHEAD(strlen(DEVICE)), len = 1;
	int small, zero, huge, fits;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, VT_FRAME_AEAD_CHACHAPOLY, p.dev_priv,
				   p.agg_pub), 0);
	small = vt_sealer_seal(s, 1, 1, (const uint8_t *)PAYLOAD, strlen(PAYLOAD), frame,
			       need - 1, &len);
	zero = vt_sealer_seal(s, 1, 1, (const uint8_t *)PAYLOAD, strlen(PAYLOAD), frame, 0, &len);
	huge = vt_sealer_seal(s, 1, 1, (const uint8_t *)PAYLOAD, SIZE_MAX - 8, frame,
			      sizeof(frame), &len);
	/* A refused seal does not burn the sequence number. */
	fits = vt_sealer_seal(s, 1, 1, (const uint8_t *)PAYLOAD, strlen(PAYLOAD), frame, need,
			      &len);
	vt_sealer_free(s);
	CHECK_EQ_INT(small, -ENOSPC);
	CHECK_EQ_INT(zero, -ENOSPC);
	CHECK_EQ_INT(huge, -ENOSPC);
	CHECK_EQ_INT(fits, 0);
	CHECK_EQ_INT(len, need);
}

VT_TEST(open_into_too_small_buffer_is_enospc)
{
	struct party p;
	uint8_t frame[256], out[256];
	size_t len, out_len;

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_CHACHAPOLY, 1, frame, sizeof(frame), &len), 0);
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, out, strlen(PAYLOAD) - 1,
					&out_len), -ENOSPC);
	CHECK_EQ_INT(open_as_aggregator(&p, p.dev_pub, frame, len, out, strlen(PAYLOAD),
					&out_len), 0);
}

VT_TEST(sealer_refuses_to_reuse_a_sequence_number)
{
	struct party p;
	struct vt_sealer *s;
	uint8_t frame[256];
	size_t len;
	int first, again, back, next;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, VT_FRAME_AEAD_CHACHAPOLY, p.dev_priv,
				   p.agg_pub), 0);
	first = vt_sealer_seal(s, 10, 1, (const uint8_t *)"a", 1, frame, sizeof(frame), &len);
	again = vt_sealer_seal(s, 10, 1, (const uint8_t *)"b", 1, frame, sizeof(frame), &len);
	back = vt_sealer_seal(s, 9, 1, (const uint8_t *)"b", 1, frame, sizeof(frame), &len);
	next = vt_sealer_seal(s, 11, 1, (const uint8_t *)"b", 1, frame, sizeof(frame), &len);
	vt_sealer_free(s);
	CHECK_EQ_INT(first, 0);
	CHECK_EQ_INT(again, -EINVAL);
	CHECK_EQ_INT(back, -EINVAL);
	CHECK_EQ_INT(next, 0);
}

VT_TEST(sealer_rejects_bad_device_aead_and_codec)
{
	struct party p;
	struct vt_sealer *s = (struct vt_sealer *)&p;
	uint8_t frame[256];
	size_t len;
	int rc;

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, "bad/id", EPOCH, 0, p.dev_priv, p.agg_pub), -EINVAL);
	CHECK(s == NULL);
	CHECK_EQ_INT(vt_sealer_new(&s, "", EPOCH, 0, p.dev_priv, p.agg_pub), -EINVAL);
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, 2, p.dev_priv, p.agg_pub), -EINVAL);
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, 0, p.dev_priv, p.agg_pub), 0);
	rc = vt_sealer_seal(s, 1, 2, (const uint8_t *)"a", 1, frame, sizeof(frame), &len);
	vt_sealer_free(s);
	CHECK_EQ_INT(rc, -EINVAL);
}

VT_TEST(sealer_with_low_order_aggregator_key_fails)
{
	struct party p;
	struct vt_sealer *s = NULL;
	uint8_t zero[VT_KEY_LEN] = { 0 };

	CHECK(party_init(&p));
	CHECK_EQ_INT(vt_sealer_new(&s, DEVICE, EPOCH, 0, p.dev_priv, zero), -VT_ECRYPTO);
	CHECK(s == NULL);
}

VT_TEST(device_id_validation_accepts_only_1_to_64_safe_chars)
{
	char id[80];

	CHECK(vt_frame_id_valid("a"));
	CHECK(vt_frame_id_valid("Shop-17.door_A"));
	CHECK(vt_frame_id_valid("0.9_-Zz"));
	memset(id, 'x', 64);
	id[64] = '\0';
	CHECK(vt_frame_id_valid(id));
	id[64] = 'x';
	id[65] = '\0';
	CHECK(!vt_frame_id_valid(id));
	CHECK(!vt_frame_id_valid(""));
	CHECK(!vt_frame_id_valid(NULL));
	CHECK(!vt_frame_id_valid("a b"));
	CHECK(!vt_frame_id_valid("a/b"));
	CHECK(!vt_frame_id_valid("../x"));
	CHECK(!vt_frame_id_valid("caf\xc3\xa9"));
	CHECK(!vt_frame_id_valid("a\nb"));
	CHECK(!vt_frame_id_valid("a+b"));
}

/* A minimal well-formed header (device "d") with its tag-sized body. */
static size_t good_header(uint8_t *buf)
{
	memset(buf, 0, 80);
	memcpy(buf, "VT\x01\x01\x01" "d", 6);
	buf[6 + 4 + 7] = 1; /* seq 1 */
	return VT_FRAME_HEADER_LEN(1) + VT_FRAME_TAG_LEN;
}

VT_TEST(parse_rejects_malformed_headers)
{
	struct vt_frame_header h;
	uint8_t buf[80];
	size_t len = good_header(buf);

	CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), 0);
	CHECK_STR(h.device, "d");
	CHECK(h.seq == 1);
	buf[0] = 'X';
	CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), -VT_EFRAME);
	len = good_header(buf);
	buf[2] = 2; /* version */
	CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), -VT_EFRAME);
	buf[2] = 0;
	CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), -VT_EFRAME);
	for (unsigned flags = 0; flags < 256; flags++) {
		unsigned codec = flags & 3, aead = (flags >> 2) & 3;
		int ok = flags < 16 && codec <= 1 && aead <= 1;

		good_header(buf);
		buf[3] = (uint8_t)flags;
		CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), ok ? 0 : -VT_EFRAME);
		if (ok) {
			CHECK_EQ_INT(h.codec, codec);
			CHECK_EQ_INT(h.aead, aead);
		}
	}
	good_header(buf);
	buf[4] = 0; /* empty device id */
	CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), -VT_EFRAME);
	buf[4] = 65;
	CHECK_EQ_INT(vt_frame_parse_header(buf, sizeof(buf), &h), -VT_EFRAME);
	buf[4] = 1;
	for (int c = 0; c < 256; c++) {
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		buf[5] = (uint8_t)c;
		CHECK_EQ_INT(vt_frame_parse_header(buf, len, &h), ok ? 0 : -VT_EFRAME);
	}
}

VT_TEST(parse_rejects_device_length_past_the_buffer)
{
	struct vt_frame_header h;
	uint8_t buf[80];
	uint8_t *exact;

	good_header(buf);
	buf[4] = 2; /* claims 2 bytes of id: header now 51, buffer 50 */
	buf[6] = 'e';
	exact = malloc(VT_FRAME_HEADER_LEN(1));
	CHECK(exact != NULL);
	memcpy(exact, buf, VT_FRAME_HEADER_LEN(1));
	CHECK_EQ_INT(vt_frame_parse_header(exact, VT_FRAME_HEADER_LEN(1), &h), -VT_EFRAME);
	free(exact);
	CHECK_EQ_INT(vt_frame_parse_header(NULL, 0, &h), -VT_EFRAME);
	CHECK_EQ_INT(vt_frame_parse_header(buf, 4, &h), -VT_EFRAME);
}

VT_TEST(open_zeroes_output_on_bad_tag)
{
	struct party p;
	struct vt_frame_header h;
	uint8_t frame[256], out[256], key[VT_KEY_LEN];
	size_t len, out_len = 99;

	CHECK(party_init(&p));
	CHECK_EQ_INT(seal_one(&p, VT_FRAME_AEAD_AESGCM, 1, frame, sizeof(frame), &len), 0);
	CHECK_EQ_INT(vt_frame_parse_header(frame, len, &h), 0);
	CHECK_EQ_INT(vt_frame_key_aggregator(p.agg_priv, h.eph_pub, p.dev_pub, h.device, h.epoch,
					     key), 0);
	frame[len - 1] ^= 0x80;
	memset(out, 0xaa, sizeof(out));
	CHECK_EQ_INT(vt_frame_open(key, &h, frame, len, out, sizeof(out), &out_len), -VT_EAUTH);
	CHECK_EQ_INT(out_len, 0);
	CHECK(is_zero(out, len - h.header_len - VT_FRAME_TAG_LEN));
}

VT_TEST_MAIN()
