/*
 * fuzz_spool.c - libFuzzer target for the spool's reader: the input is the
 * content of a segment file found at start-up. vt_spool_inspect() and
 * vt_spool_open() must scan it without crashing, keep only records whose
 * CRC verifies, and leave a spool that can be read back, acknowledged and
 * appended to.
 *
 * Built with -DFUZZ_SPOOL_GENERATE this file is instead the seed generator:
 * `fuzz_spool_gen DIR` writes a segment made by the real spool (and a
 * truncated and a damaged copy) into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

#include "fuzz_file.h"

#define FUZZ_SEGMENT "0000000000000001.vts"

static char fuzz_dir[64];

static const char *fuzz_spool_dir(void)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/vt-fuzz-spool-XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	return fuzz_dir;
}

static const struct vt_spool_conf fuzz_conf = {
	.max_bytes = 1 << 20,
	.sync_ms = 0,
	.sync_frames = 1,
	.max_frame = 65536,
};

#ifndef FUZZ_SPOOL_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Remove what the spool left (segments, saved ack) so each run starts
 * empty and a crash reproduces from its input alone. */
static void fuzz_clean(const char *dir)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -f %s/*.vts %s/acked %s/acked.tmp", dir, dir, dir);
	if (system(cmd) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_spool_conf c = fuzz_conf;
	struct vt_spool_stats seen;
	struct vt_spool_rec rec;
	struct vt_spool *s;
	uint64_t frames = 0, last = 0;
	static const uint8_t frame[] = "VT frame";

	vt_log_level = -1;
	c.dir = fuzz_spool_dir();
	if (fuzz_write_file(c.dir, FUZZ_SEGMENT, data, size) < 0)
		abort();
	if (vt_spool_inspect(c.dir, &seen, NULL, NULL) < 0)
		abort();
	if (vt_spool_open(&s, &c) < 0)
		abort();
	while (vt_spool_peek(s, &rec) == 1) {
		if (rec.seq <= last)	/* the scan keeps sequence order */
			abort();
		last = rec.seq;
		frames++;
		vt_spool_advance(s);
	}
	if (frames != seen.frames)
		abort();
	vt_spool_ack(s, last / 2);
	if (vt_spool_append(s, vt_spool_last_seq(s) + 1, 1, 0, frame, sizeof(frame), 0) < 0 &&
	    vt_spool_last_seq(s) < UINT64_MAX)
		abort();
	vt_spool_close(s);
	fuzz_clean(c.dir);
	return 0;
}

#else /* FUZZ_SPOOL_GENERATE */

static int gen_copy(const char *from_dir, const char *to_dir, const char *name, size_t cut,
		    long flip)
{
	char path[512];
	uint8_t buf[65536];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", from_dir, FUZZ_SEGMENT);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (cut && cut < len)
		len = cut;
	if (flip >= 0 && (size_t)flip < len)
		buf[flip] ^= 0x5a;
	return fuzz_write_file(to_dir, name, buf, len);
}

int main(int argc, char **argv)
{
	struct vt_spool_conf c = fuzz_conf;
	uint8_t frame[300];
	struct vt_spool *s;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	c.dir = fuzz_spool_dir();
	if (vt_spool_open(&s, &c) < 0)
		return 1;
	for (uint64_t seq = 1; seq <= 6; seq++) {
		for (size_t i = 0; i < sizeof(frame); i++)
			frame[i] = (uint8_t)(seq + i);
		bad |= vt_spool_append(s, seq, (uint32_t)seq, 1764000000000 + (int64_t)seq, frame,
				       40 * seq, 0) < 0;
	}
	vt_spool_close(s);
	bad |= gen_copy(c.dir, argv[1], "six_records", 0, -1);
	bad |= gen_copy(c.dir, argv[1], "torn_tail", 700, -1);
	bad |= gen_copy(c.dir, argv[1], "flipped_in_third", 0, 2 * 28 + 40 + 80 + 10);
	bad |= gen_copy(c.dir, argv[1], "flipped_length", 0, 28 + 40);
	bad |= gen_copy(c.dir, argv[1], "one_header", 20, -1);
	return bad ? 1 : 0;
}
#endif
