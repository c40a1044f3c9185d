/*
 * fuzz_egress.c - libFuzzer target for the egress log's reader: the input
 * is the content of egress.log found at start-up. vt_egress_verify() and
 * vt_egress_open() must read it without crashing, and the agent must be
 * able to go on: a record appended after open verifies as the chain's
 * continuation (it adds no break, and it is the new head).
 *
 * The first byte of the input says how it becomes the file, so that the
 * fuzzer gets past the hashes to the chain logic: '0' (or any byte % 3 ==
 * 0) writes the rest as it is; '1' first recomputes the hash of every line
 * that ends in " hash=" and 64 characters; '2' also sets each such line's
 * prev to the hash of the line before, as a forger would.
 *
 * Built with -DFUZZ_EGRESS_GENERATE this file is instead the seed generator:
 * `fuzz_egress_gen DIR` writes a log made by the real module, and damaged,
 * forged, torn and junk variants of it, into DIR.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "egress.h"
#include "log.h"

#include "fuzz_file.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define fuzz_sha256 mbedtls_sha256
#else
#define fuzz_sha256 mbedtls_sha256_ret
#endif

#define FUZZ_T0 1748772000000LL	/* 2025-06-01T10:00:00Z */

static char fuzz_dir[64];

static void fuzz_clean(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/" VT_EGRESS_FILE, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" VT_EGRESS_OLD_FILE, dir);
	unlink(path);
}

static void fuzz_remove_dir(void)
{
	fuzz_clean(fuzz_dir);
	rmdir(fuzz_dir);
}

static const char *fuzz_egress_dir(void)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/vt-fuzz-egress-XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_remove_dir);
	}
	return fuzz_dir;
}

#ifndef FUZZ_EGRESS_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The line [p, end) ends in " hash=" + 64 characters, after " prev=" + 64
 * characters? Then point at both hex fields. */
static int fuzz_fields(char *p, char *end, char **prev, char **hash)
{
	if (end - p < 6 + 64 + 6 + 64 || memcmp(end - 70, " hash=", 6) != 0 ||
	    memcmp(end - 140, " prev=", 6) != 0)
		return 0;
	*hash = end - 64;
	*prev = end - 134;
	return 1;
}

/* Mode 1: recompute each hash; mode 2: and relink each prev. In place:
 * the hex fields keep their length. */
static void fuzz_reseal(char *text, size_t len, int relink)
{
	char *p = text, *end = text + len, hex[65] = "";
	uint8_t hash[32];

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		char *prev, *h;

		if (fuzz_fields(p, eol, &prev, &h)) {
			if (relink && hex[0])
				memcpy(prev, hex, 64);
			fuzz_sha256((const unsigned char *)p, (size_t)(h - 6 - p), hash, 0);
			vt_egress_hex(hash, hex);
			memcpy(h, hex, 64);
		}
		p = eol + 1;
	}
}

static FILE *fuzz_out(void)
{
	static FILE *devnull;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	return devnull;
}

/* What the file holds as the fuzzer meant it. */
static void fuzz_prepare(const char *dir, const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	if (size > 0 && data[0] % 3)
		fuzz_reseal(text + 1, size - 1, data[0] % 3 == 2);
	if (fuzz_write_file(dir, VT_EGRESS_FILE, (const uint8_t *)text + (size > 0),
			    size - (size > 0)) < 0)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vt_egress_conf conf = { .dir = fuzz_egress_dir(), .interval_ms = 60000 };
	struct vt_egress_report before, opened, after;
	struct vt_egress *e;
	uint8_t head[32], next[32];
	uint64_t seq, next_seq;
	int rc;

	vt_log_level = -1;
	fuzz_prepare(conf.dir, data, size);
	rc = vt_egress_verify(conf.dir, fuzz_out(), &before);
	if (rc != 0 && rc != 1)
		abort();
	if (vt_egress_open(&e, &conf) < 0)
		abort();
	opened = *vt_egress_opened(e);
	/* Open sees what verify saw, less a torn tail it cut. */
	if (opened.breaks > before.breaks ||
	    (!opened.cut_bytes && (opened.breaks != before.breaks ||
				   opened.records != before.records)))
		abort();
	vt_egress_head(e, head, &seq);
	vt_egress_add(e, "fuzz.events", 1, 2, 3, FUZZ_T0);
	vt_egress_add(e, "status", 1, 1, 300, FUZZ_T0);
	rc = vt_egress_flush(e, FUZZ_T0 + 60000);
	if ((rc == 0) != (seq < VT_EGRESS_COUNT_MAX))
		abort();
	vt_egress_head(e, next, &next_seq);
	vt_egress_close(e);
	if (rc == 0) {
		/* The new record continues the chain: no new break, new head. */
		if (vt_egress_verify(conf.dir, NULL, &after) < 0 || after.breaks != opened.breaks ||
		    after.head_seq != seq + 1 || next_seq != seq + 1 ||
		    memcmp(after.head, next, 32) != 0)
			abort();
	}
	fuzz_clean(conf.dir);
	return 0;
}

#else /* FUZZ_EGRESS_GENERATE */

static char gen_log[16384];
static size_t gen_len;

/* A log made by the real module: 6 records, 3 categories. */
static int gen_make(void)
{
	struct vt_egress_conf conf = { .dir = fuzz_egress_dir() };
	struct vt_egress *e;
	char path[128];
	FILE *f;

	fuzz_clean(conf.dir);
	if (vt_egress_open(&e, &conf) < 0)
		return -1;
	for (int i = 0; i < 6; i++) {
		int64_t now = FUZZ_T0 + i * 60000;

		vt_egress_add(e, "footfall.events", 1, 40 + (uint64_t)i, 900, now);
		if (i % 2)
			vt_egress_add(e, "rfid.events", 2, 17, 1500, now);
		if (i == 4)
			vt_egress_add(e, "status", 1, 1, 402, now);
		vt_egress_tick(e, now);
	}
	vt_egress_close(e);
	snprintf(path, sizeof(path), "%s/" VT_EGRESS_FILE, conf.dir);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	gen_len = fread(gen_log + 1, 1, sizeof(gen_log) - 2, f);
	fclose(f);
	fuzz_clean(conf.dir);
	return gen_len ? 0 : -1;
}

/* The offset of line n (0-based) in the log. */
static size_t gen_line(int n)
{
	const char *p = gen_log + 1;

	while (n-- > 0)
		p = strchr(p, '\n') + 1;
	return (size_t)(p - gen_log);
}

/* The mode byte, then the first len bytes of the log. */
static int gen_write(const char *dir, const char *name, char mode, size_t len)
{
	gen_log[0] = mode;
	return fuzz_write_file(dir, name, (const uint8_t *)gen_log, len + 1);
}

/* The real log, then with text from..to replaced by with. */
static int gen_edit(const char *dir, const char *name, char mode, size_t from, size_t to,
		    const char *with)
{
	char saved[sizeof(gen_log)];
	size_t n = strlen(with), len = gen_len - (to - from) + n;
	int rc;

	memcpy(saved, gen_log, sizeof(saved));
	memmove(gen_log + from + n, gen_log + to, gen_len + 1 - to);
	memcpy(gen_log + from, with, n);
	rc = gen_write(dir, name, mode, len);
	memcpy(gen_log, saved, sizeof(saved));
	return rc;
}

/* nlines made-up records of ncats categories each (c<line>_<i>), with
 * placeholder hashes for the target's mode '2' to compute. */
static int gen_synthetic(const char *dir, const char *name, int nlines, int ncats)
{
	static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
	char text[8192];
	size_t n = 1;

	text[0] = '2';
	for (int l = 0; l < nlines; l++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "v1 %d 2025-06-01T10:00:00Z 2025-06-01T10:01:00Z", l + 1);
		for (int i = 0; i < ncats; i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, " c%d_%d=1/2/3", l, i);
		n += (size_t)snprintf(text + n, sizeof(text) - n, " prev=%s hash=%s\n", zeros, zeros);
	}
	return fuzz_write_file(dir, name, (const uint8_t *)text, n);
}

int main(int argc, char **argv)
{
	const char *d = argc == 2 ? argv[1] : NULL;
	char big[3000];
	int bad = 0;

	if (!d || gen_make() < 0) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad |= gen_write(d, "valid", '0', gen_len);
	bad |= gen_write(d, "valid_resealed", '1', gen_len);
	bad |= gen_write(d, "torn_tail", '0', gen_len - 40);
	bad |= gen_write(d, "empty", '0', 0);
	/* Line 3 (seq 3) with 7 frames instead of 1: as is, and resealed. */
	bad |= gen_edit(d, "flipped_count", '0', gen_line(2) + 63, gen_line(2) + 64, "7");
	bad |= gen_edit(d, "flipped_count_resealed", '1', gen_line(2) + 63, gen_line(2) + 64,
			"7");
	bad |= gen_edit(d, "line_deleted_relinked", '2', gen_line(3), gen_line(4), "");
	bad |= gen_edit(d, "seq_repeated_relinked", '2', gen_line(4) + 3, gen_line(4) + 4, "4");
	bad |= gen_edit(d, "seq_last_resealed", '1', gen_line(5) + 3, gen_line(5) + 4,
			"9999999999999999999");
	bad |= gen_edit(d, "junk_line", '0', gen_line(2), gen_line(2), "hello\n");
	bad |= gen_edit(d, "overlong_line", '0', gen_line(1), gen_line(1), big);
	bad |= gen_edit(d, "bad_date_resealed", '1', gen_line(0) + 5, gen_line(0) + 15,
			"2025-02-30");
	bad |= gen_edit(d, "last_hash_flipped", '0', gen_len - 1, gen_len,
			gen_log[gen_len - 1] == '0' ? "1" : "0");
	bad |= gen_edit(d, "starts_at_seq_3", '0', gen_line(0), gen_line(2), "");
	bad |= gen_synthetic(d, "seventeen_categories", 1, 17);
	bad |= gen_synthetic(d, "thirty_six_categories", 3, 12);
	return bad ? 1 : 0;
}
#endif
