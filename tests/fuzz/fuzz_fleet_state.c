/*
 * fuzz_fleet_state.c - libFuzzer target for the reader of fleet.state
 * (vt_fleet_state_decode): the file a device reads at every start. Any
 * input must be refused or decoded; a decoded state must encode to a file
 * that decodes to the same encoding.
 *
 * The first byte of the input is a flag: bit 0 set, the last 4 bytes of
 * the rest are replaced by the right CRC-32C, so that the fuzzer gets past
 * the checksum to the records.
 *
 * Built with -DFUZZ_FLEET_STATE_GENERATE this file is instead the seed
 * generator: `fuzz_fleet_state_gen DIR` writes states made by the real
 * module into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "crc32c.h"
#include "fleet_state.h"

#include "fuzz_file.h"

#ifndef FUZZ_FLEET_STATE_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_fleet_state st, again;
	const char *why;
	uint8_t *copy, *enc, *enc2;
	size_t len, len2;

	if (size < 1)
		return 0;
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= 4)
		vt_put_be32(copy + size - 5, vt_crc32c(0, copy, size - 5));
	if (vt_fleet_state_decode(copy, size - 1, &st, &why) == 0) {
		if (vt_fleet_state_encode(&st, &enc, &len) < 0 ||
		    vt_fleet_state_decode(enc, len, &again, &why) < 0 ||
		    vt_fleet_state_encode(&again, &enc2, &len2) < 0)
			abort();
		if (len != len2 || memcmp(enc, enc2, len) != 0)
			abort();
		free(enc);
		free(enc2);
		vt_fleet_state_free(&again);
		vt_fleet_state_free(&st);
	}
	free(copy);
	return 0;
}

#else /* FUZZ_FLEET_STATE_GENERATE */

static int fuzz_fleet_seed(const char *dir, const char *name, const struct vt_fleet_state *st)
{
	uint8_t *buf, *in;
	size_t len;
	int bad;

	if (vt_fleet_state_encode(st, &buf, &len) < 0)
		return -1;
	in = malloc(len + 1);
	if (!in)
		return -1;
	in[0] = 1;
	memcpy(in + 1, buf, len);
	bad = fuzz_write_file(dir, name, in, len + 1);
	free(in);
	free(buf);
	return bad;
}

static uint8_t *fuzz_fleet_bundle(const char *text, uint32_t version, size_t *len)
{
	struct vt_bundle b = { .kind = VT_BUNDLE_CONFIG, .target_type = VT_BUNDLE_GROUP,
			       .serial = 1000 + version, .version = version, .target = "pilot",
			       .payload = (const uint8_t *)text, .payload_len = strlen(text) };
	struct vt_sigkey *k;
	uint8_t *buf = NULL;

	if (vt_sigkey_generate(&k) < 0)
		return NULL;
	if (vt_bundle_encode(&b, k, &buf, len) < 0)
		buf = NULL;
	vt_sigkey_free(k);
	return buf;
}

int main(int argc, char **argv)
{
	struct vt_fleet_state st;
	struct vt_fleet_slot *s;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	vt_fleet_state_init(&st);
	bad |= fuzz_fleet_seed(argv[1], "empty", &st);
	s = vt_fleet_state_slot(&st, VT_BUNDLE_CONFIG, "", 1);
	s->cur = fuzz_fleet_bundle("zstd_level 9\n", 2, &s->cur_len);
	s->prev = fuzz_fleet_bundle("zstd_level 3\n", 1, &s->prev_len);
	s->high_serial = 1002;
	st.trial_slot = 0;
	st.trial_starts = 1;
	st.last = (struct vt_fleet_result){ .outcome = VT_FLEET_TRIAL, .kind = VT_BUNDLE_CONFIG,
					    .version = 2, .serial = 1002, .wall_ms = 1764150000000 };
	bad |= fuzz_fleet_seed(argv[1], "trial", &st);
	st.trial_slot = -1;
	st.last.outcome = VT_FLEET_ROLLED_BACK;
	strcpy(st.last.reason, "plugin rfid is failing");
	s = vt_fleet_state_slot(&st, VT_BUNDLE_PLUGIN, "rfid", 1);
	s->high_serial = 77;
	bad |= fuzz_fleet_seed(argv[1], "rolled_back", &st);
	vt_fleet_state_free(&st);
	return bad ? 1 : 0;
}
#endif
