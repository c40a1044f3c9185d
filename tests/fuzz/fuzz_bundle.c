/*
 * fuzz_bundle.c - libFuzzer target for the reader of fleet bundles
 * (vt_bundle_parse, vt_bundle_verify): what arrives on a device's bundle
 * topics from the broker. Any input must be refused or parsed; a parsed
 * bundle must encode back to the same bytes up to its key id (the reader
 * accepts only what the writer writes), and must not verify under a key
 * drawn at start (nobody can sign for it).
 *
 * Built with -DFUZZ_BUNDLE_GENERATE this file is instead the seed
 * generator: `fuzz_bundle_gen DIR` writes config and plugin bundles, for a
 * group and a device, into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "err.h"

#include "fuzz_file.h"

static struct vt_sigkey *fuzz_bundle_key(void)
{
	static struct vt_sigkey *key;

	if (!key && vt_sigkey_generate(&key) < 0)
		abort();
	return key;
}

#ifndef FUZZ_BUNDLE_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_sigkey *key = fuzz_bundle_key();
	struct vt_bundle b;
	const char *why;
	uint8_t *again;
	size_t len;

	if (vt_bundle_parse(data, size, &b, &why) < 0)
		return 0;
	if (vt_bundle_verify(&b, &key, 1) == 0)
		abort();
	if (vt_bundle_encode(&b, key, &again, &len) < 0)
		abort();
	if (len != size || memcmp(again, data, size - VT_SIGKEY_ID_LEN - VT_SIGKEY_SIG_LEN) != 0)
		abort();
	free(again);
	return 0;
}

#else /* FUZZ_BUNDLE_GENERATE */

static int fuzz_bundle_seed(const char *dir, const char *name, const struct vt_bundle *b)
{
	uint8_t *buf;
	size_t len;
	int bad;

	if (vt_bundle_encode(b, fuzz_bundle_key(), &buf, &len) < 0)
		return -1;
	bad = fuzz_write_file(dir, name, buf, len);
	free(buf);
	return bad;
}

int main(int argc, char **argv)
{
	static const char conf[] = "batch_max_readings 100\nfootfall.doors 2\n";
	static const uint8_t elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	struct vt_bundle b = { .kind = VT_BUNDLE_CONFIG, .target_type = VT_BUNDLE_GROUP,
			       .serial = 1764150000123ULL, .version = 7, .target = "pilot",
			       .payload = (const uint8_t *)conf, .payload_len = sizeof(conf) - 1 };
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	bad |= fuzz_bundle_seed(argv[1], "config_group", &b);
	b.flags = VT_BUNDLE_ROLLBACK;
	b.target_type = VT_BUNDLE_DEVICE;
	strcpy(b.target, "cannes-croisette/pi-01");
	bad |= fuzz_bundle_seed(argv[1], "config_device_rollback", &b);
	b.flags = 0;
	b.kind = VT_BUNDLE_PLUGIN;
	strcpy(b.name, "footfall");
	b.payload = elf;
	b.payload_len = sizeof(elf);
	bad |= fuzz_bundle_seed(argv[1], "plugin_device", &b);
	return bad ? 1 : 0;
}
#endif
