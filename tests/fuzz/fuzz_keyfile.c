/*
 * fuzz_keyfile.c - libFuzzer target for the key files the agent reads:
 * X25519 keys as one line of hex (vt_keys_load: device.key, and the
 * aggregator's key_file) and PEM ops public keys (vt_sigkey_load, through
 * mbedTLS: fleet_ops_key). Any content must load or be refused; a loaded
 * X25519 key is 32 bytes of what the file's hex says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys.h"
#include "sigkey.h"

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_sigkey *k = NULL;
	uint8_t key[VT_KEY_LEN], again[VT_KEY_LEN];
	char path[128], err[512], hex[2 * VT_KEY_LEN + 1];

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/vt-fuzz-keyfile-XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	if (fuzz_write_file(fuzz_dir, "key", data, size) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/key", fuzz_dir);
	if (chmod(path, 0600) < 0)
		abort();
	if (vt_keys_load(path, key, 1) == 0) {
		/* What loaded is what the file's first 64 characters say. */
		if (size < 2 * VT_KEY_LEN)
			abort();
		memcpy(hex, data, 2 * VT_KEY_LEN);
		hex[2 * VT_KEY_LEN] = '\0';
		if (vt_hex_decode(hex, again, VT_KEY_LEN) < 0 || memcmp(key, again, VT_KEY_LEN) != 0)
			abort();
	}
	if (vt_sigkey_load(path, 0, &k, err, sizeof(err)) == 0)
		vt_sigkey_free(k);
	return 0;
}
