/*
 * fuzz_optout.c - libFuzzer target for the opt-out list's reader
 * (vt_optout_load): the file of items never to count, which shop staff
 * edit by hand. Any content must load or be refused with "file:line:";
 * a loaded list must answer look-ups.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optout.h"

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_optout *o = NULL;
	char path[128], err[512];

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/vt-fuzz-optout-XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	if (fuzz_write_file(fuzz_dir, "optout", data, size) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/optout", fuzz_dir);
	if (vt_optout_load(&o, path, err, sizeof(err)) == 0) {
		(void)vt_optout_match_sgtin(o, "09506000134352", 1234);
		(void)vt_optout_match_sgtin(o, "00000000000000", 0);
		vt_optout_free(o);
	} else if (strncmp(err, path, strlen(path)) != 0) {
		abort();	/* every refusal names the file */
	}
	return 0;
}
