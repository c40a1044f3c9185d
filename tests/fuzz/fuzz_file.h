/*
 * fuzz_file.h - write one input to DIR/NAME: what the seed generators (and
 * fuzz_spool, which hands its input to the spool as a file) need.
 */
#ifndef VT_FUZZ_FILE_H
#define VT_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>

/* Returns 0, or -1 with the reason on stderr. */
__attribute__((unused)) static int fuzz_write_file(const char *dir, const char *name,
						    const uint8_t *data, size_t len)
{
	char path[512];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok) {
		perror(path);
		return -1;
	}
	return 0;
}

#endif
