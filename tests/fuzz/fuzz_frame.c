/*
 * fuzz_frame.c - libFuzzer target for the aggregator's frame path: parse the
 * header of untrusted bytes, derive the epoch key from the (attacker-chosen)
 * ephemeral public key and a fixed registered device key, and open the body.
 *
 * The fixed keys are the RFC 7748 section 6.1 pairs (aggregator = Alice,
 * device = Bob), so seed frames sealed by the real vt_sealer with them get
 * past the tag and let mutations explore what lies behind it. The key of the
 * last (eph_pub, device, epoch) is cached: most mutations keep those and the
 * two X25519 operations would otherwise dominate each run.
 *
 * Built with -DFUZZ_FRAME_GENERATE this file is instead the seed corpus
 * generator: `fuzz_frame_gen DIR` writes valid frames (both AEADs, both
 * codecs, empty and 64-byte device ids) and some broken ones into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "keys.h"

#include "fuzz_file.h"
#include "fuzz_keys.h"

struct fuzz_key_cache {
	int valid;
	int rc;
	uint8_t eph_pub[VT_KEY_LEN];
	char device[VT_FRAME_DEVICE_MAX + 1];
	uint32_t epoch;
	uint8_t key[VT_KEY_LEN];
};

static int fuzz_epoch_key(const struct vt_frame_header *h, uint8_t key[VT_KEY_LEN])
{
	static struct fuzz_key_cache c;

	if (!c.valid || c.epoch != h->epoch || strcmp(c.device, h->device) != 0 ||
	    memcmp(c.eph_pub, h->eph_pub, VT_KEY_LEN) != 0) {
		c.rc = vt_frame_key_aggregator(fuzz_agg_priv, h->eph_pub, fuzz_dev_pub,
					       h->device, h->epoch, c.key);
		memcpy(c.eph_pub, h->eph_pub, VT_KEY_LEN);
		memcpy(c.device, h->device, sizeof(c.device));
		c.epoch = h->epoch;
		c.valid = 1;
	}
	memcpy(key, c.key, VT_KEY_LEN);
	return c.rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_frame_header h;
	uint8_t key[VT_KEY_LEN];
	uint8_t *out;
	size_t body, cap, out_len = 0;
	int rc;

	rc = vt_frame_parse_header(data, size, &h);
	if (rc < 0) {
		if (rc != -VT_EFRAME)
			abort();
		return 0;
	}
	if (h.header_len > size || strlen(h.device) != h.device_len || !vt_frame_id_valid(h.device))
		abort();
	if (fuzz_epoch_key(&h, key) < 0)
		return 0;
	/* Exactly the room the plaintext needs, so ASan sees any overflow. */
	body = size - h.header_len;
	cap = body >= VT_FRAME_TAG_LEN ? body - VT_FRAME_TAG_LEN : 0;
	out = malloc(cap ? cap : 1);
	if (!out)
		return 0;
	rc = vt_frame_open(key, &h, data, size, out, cap, &out_len);
	if (rc != 0 && rc != -VT_EAUTH && rc != -VT_EFRAME)
		abort();
	if (rc == 0 && out_len + h.header_len + VT_FRAME_TAG_LEN != size)
		abort();
	if (rc != 0 && out_len != 0)
		abort();
	free(out);
	return 0;
}

#ifdef FUZZ_FRAME_GENERATE
static int gen_frame(const char *device, int aead, int codec, uint64_t seq, const char *payload,
		     uint8_t *out, size_t cap, size_t *len)
{
	uint8_t agg_pub[VT_KEY_LEN];
	struct vt_sealer *s;
	int rc;

	rc = vt_keys_public(fuzz_agg_priv, agg_pub);
	if (rc < 0)
		return rc;
	rc = vt_sealer_new(&s, device, 1, aead, fuzz_dev_priv, agg_pub);
	if (rc < 0)
		return rc;
	rc = vt_sealer_seal(s, seq, codec, (const uint8_t *)payload, strlen(payload), out, cap,
			    len);
	vt_sealer_free(s);
	return rc;
}

int main(int argc, char **argv)
{
	static const char long_id[] =
		"store-0001.entrance_left-beam.sensor_ABCDEFGHIJKLMNOPQRSTUVWXYZ0";
	uint8_t frame[512], junk[96];
	size_t len;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	bad |= gen_frame("shop-17", 0, 1, 1, "\x28\xb5\x2f\xfd zstd-ish readings", frame,
			 sizeof(frame), &len);
	bad |= fuzz_write_file(argv[1], "chachapoly_zstd", frame, len);
	bad |= fuzz_write_file(argv[1], "truncated_in_tag", frame, len - 5);
	bad |= fuzz_write_file(argv[1], "truncated_in_header", frame, 30);
	frame[len - 1] ^= 1;
	bad |= fuzz_write_file(argv[1], "bad_tag", frame, len);
	bad |= gen_frame("shop-17", 1, 1, 2, "aes-gcm body", frame, sizeof(frame), &len);
	bad |= fuzz_write_file(argv[1], "aesgcm_zstd", frame, len);
	bad |= gen_frame("a", 0, 0, 0xffffffffffffffffull, "", frame, sizeof(frame), &len);
	bad |= fuzz_write_file(argv[1], "chachapoly_empty_codec_none", frame, len);
	bad |= gen_frame(long_id, 1, 0, 77, "64-byte device id", frame, sizeof(frame), &len);
	bad |= fuzz_write_file(argv[1], "aesgcm_long_device_id", frame, len);
	/* A low-order ephemeral key (u = 0): derivation must fail cleanly. */
	memset(frame + VT_FRAME_HEADER_LEN(strlen(long_id)) - VT_KEY_LEN, 0, VT_KEY_LEN);
	bad |= fuzz_write_file(argv[1], "low_order_eph", frame, len);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 151 + 7);
	bad |= fuzz_write_file(argv[1], "garbage", junk, sizeof(junk));
	memcpy(junk, "VT\x01\x0f\x40", 5);
	bad |= fuzz_write_file(argv[1], "bad_flags", junk, sizeof(junk));
	bad |= fuzz_write_file(argv[1], "magic_only", (const uint8_t *)"VT", 2);
	return bad ? 1 : 0;
}
#endif
