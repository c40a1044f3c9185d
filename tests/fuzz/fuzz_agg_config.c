/*
 * fuzz_agg_config.c - libFuzzer target for the aggregator's configuration
 * (vt_agg_config_parse): its keys and its registry of devices, the
 * "device <id> <public key>" lines that vitrine-ctl enroll appends. Any
 * input must load or be refused with a message naming the file; a loaded
 * registry holds only valid ids, sorted and without repeats (the receiver
 * binary-searches it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg_config.h"
#include "conf.h"
#include "frame.h"
#include "receive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_agg_config cfg;
	char err[VT_CONF_ERR_MAX];

	memset(&cfg, 0, sizeof(cfg));
	if (vt_agg_config_parse("fuzz.conf", (const char *)data, size, &cfg, err,
				sizeof(err)) == 0) {
		for (size_t i = 0; i < cfg.n_devices; i++) {
			if (!vt_frame_id_valid(cfg.devices[i].id))
				abort();
			if (i && strcmp(cfg.devices[i - 1].id, cfg.devices[i].id) >= 0)
				abort();
		}
	} else if (strncmp(err, "fuzz.conf", 9) != 0) {
		abort();	/* every refusal names the file */
	}
	vt_agg_config_free(&cfg);
	return 0;
}
