/*
 * fuzz_ack.c - libFuzzer target for the agent's reader of acknowledgments
 * (vt_ack_decode): any input on the ack topic must be refused or decoded,
 * and only an input with a valid MAC under the device's key may decode.
 *
 * Built with -DFUZZ_ACK_GENERATE this file is instead the seed generator:
 * `fuzz_ack_gen DIR` writes a valid ack and some broken ones into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "err.h"

#include "fuzz_file.h"
#include "fuzz_keys.h"

#define FUZZ_ACK_TOPIC "vitrine/v1/shop-17/pi-01/ack"

static int fuzz_ack_key(uint8_t key[VT_KEY_LEN])
{
	static uint8_t cached[VT_KEY_LEN];
	static int ready;
	uint8_t agg_pub[VT_KEY_LEN];

	if (!ready) {
		if (vt_keys_public(fuzz_agg_priv, agg_pub) < 0 ||
		    vt_ack_key(fuzz_dev_priv, agg_pub, "pi-01", cached) < 0)
			return -1;
		ready = 1;
	}
	memcpy(key, cached, VT_KEY_LEN);
	return 0;
}

#ifndef FUZZ_ACK_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[VT_KEY_LEN], again[VT_ACK_LEN];
	uint64_t seq;

	if (fuzz_ack_key(key) < 0)
		abort();
	if (vt_ack_decode(key, FUZZ_ACK_TOPIC, data, size, &seq) == 0) {
		/* Whatever decodes must be exactly what the aggregator makes. */
		vt_ack_encode(key, FUZZ_ACK_TOPIC, seq, again);
		if (size != VT_ACK_LEN || memcmp(again, data, size) != 0)
			abort();
	}
	return 0;
}

#else /* FUZZ_ACK_GENERATE */

int main(int argc, char **argv)
{
	uint8_t key[VT_KEY_LEN], ack[VT_ACK_LEN];
	int bad = 0;

	if (argc != 2 || fuzz_ack_key(key) < 0) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	vt_ack_encode(key, FUZZ_ACK_TOPIC, 123456, ack);
	bad |= fuzz_write_file(argv[1], "valid", ack, sizeof(ack));
	bad |= fuzz_write_file(argv[1], "short", ack, sizeof(ack) - 1);
	ack[5] ^= 1;
	bad |= fuzz_write_file(argv[1], "seq_altered", ack, sizeof(ack));
	return bad ? 1 : 0;
}
#endif
