/*
 * fuzz_wckpt.c - libFuzzer target for the window checkpoint's reader
 * (wckpt.h): the input is what windows.ckpt.a (and .b) hold at start-up.
 * vt_wckpt_load() must read it without crashing; every entry it hands out
 * must be within the documented ranges; and a writer opened on the same
 * directory, given the loaded entries, must commit a checkpoint that loads
 * back as the same entries and next_part, in the other slot, one
 * generation on, with the same entry lines byte for byte (the reader
 * accepts only the canonical text the writer writes).
 *
 * The first byte of the input says how it becomes the files: bit 0 set,
 * the rest is split at its first NUL byte into slot a (before) and slot b
 * (after), else it is all slot a and there is no slot b; bit 1 set, a slot
 * that ends in "end " + 8 characters + "\n" gets the right CRC there, so
 * that the fuzzer gets past the checksum to the syntax.
 *
 * Built with -DFUZZ_WCKPT_GENERATE this file is instead the seed generator:
 * `fuzz_wckpt_gen DIR` writes checkpoints made by the real module, and
 * torn, flipped, non-canonical and junk variants of them, into DIR.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "wckpt.h"

#include "fuzz_file.h"
#define WCKPT_ENTRY_PART 41
#include "wckpt_entry.h"

#define FUZZ_T0 1795604400000LL	/* a multiple of 900 s */

static char fuzz_dir[64];

static void fuzz_clean(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/" VT_WCKPT_FILE_A, dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" VT_WCKPT_FILE_B, dir);
	unlink(path);
}

static void fuzz_remove_dir(void)
{
	fuzz_clean(fuzz_dir);
	rmdir(fuzz_dir);
}

/* On tmpfs when there is one: every run commits, with fdatasync. */
static const char *fuzz_wckpt_dir(void)
{
	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/vt-fuzz-wckpt-XXXXXX");
		if (!mkdtemp(fuzz_dir)) {
			snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/vt-fuzz-wckpt-XXXXXX");
			if (!mkdtemp(fuzz_dir))
				abort();
		}
		atexit(fuzz_remove_dir);
	}
	return fuzz_dir;
}

#ifndef FUZZ_WCKPT_GENERATE
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A slot's text ending in "end " + 8 characters + "\n": put the CRC of
 * what comes before it there, as the writer would. In place. */
static void fuzz_reseal(char *text, size_t len)
{
	char hex[9];

	if (len < 13 || memcmp(text + len - 13, "end ", 4) != 0 || text[len - 1] != '\n')
		return;
	snprintf(hex, sizeof(hex), "%08" PRIx32, vt_crc32c(0, text, len - 13));
	memcpy(text + len - 9, hex, 8);
}

struct fuzz_entries {
	struct vt_wckpt_entry *e;
	size_t n, cap;
};

static int fuzz_chars_ok(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      (extra && (strchr(extra, c) || (c >= 'A' && c <= 'Z')))))
			return 0;
	}
	return 1;
}

/* The ranges of wckpt.h, checked here independently of the module. */
static void fuzz_check(const struct vt_wckpt_entry *e)
{
	const struct vt_window_cell *c = &e->cell;
	size_t pn = strnlen(e->plugin, sizeof(e->plugin));
	size_t ln = strnlen(c->label, sizeof(c->label));
	int64_t length_ms = (int64_t)c->length_s * 1000;

	if (pn == 0 || pn >= sizeof(e->plugin) || !fuzz_chars_ok(e->plugin, pn, NULL) ||
	    ln >= sizeof(c->label) || !fuzz_chars_ok(c->label, ln, "-./") ||
	    (e->releasing != 0 && e->releasing != 1) || c->length_s < 60 || c->length_s > 86400 ||
	    c->metric < 1 || c->metric >= VT_METRIC_COUNT || c->dim2 > 7 || c->other > 1 ||
	    c->count > (uint64_t)INT64_MAX || e->start_ms % length_ms != 0 ||
	    e->start_ms > INT64_MAX - length_ms)
		abort();
}

static int fuzz_collect(void *arg, const struct vt_wckpt_entry *e)
{
	struct fuzz_entries *l = arg;

	fuzz_check(e);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vt_wckpt_entry *ne = realloc(l->e, cap * sizeof(*ne));

		if (!ne)
			abort();
		l->e = ne;
		l->cap = cap;
	}
	/* Whole struct: the reader zeroes what the text does not fill. */
	l->e[l->n++] = *e;
	return 0;
}

/* A slot's current text (NUL-terminated), or -1 if there is none. */
static int fuzz_read(const char *dir, const char *name, char **text, size_t *len)
{
	char path[128];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		abort();
	*text = malloc((size_t)n + 1);
	if (!*text || fread(*text, 1, (size_t)n, f) != (size_t)n)
		abort();
	(*text)[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return 0;
}

/* The entry lines of an intact slot's text: after the header, before
 * the end line. */
static const char *fuzz_body(const char *text, size_t len, size_t *n)
{
	const char *nl = memchr(text, '\n', len);

	if (!nl || len < 13 || (size_t)(nl + 1 - text) > len - 13)
		abort();
	*n = len - 13 - (size_t)(nl + 1 - text);
	return nl + 1;
}

static uint64_t fuzz_generation(const char *text)
{
	uint64_t gen;
	int version;

	if (sscanf(text, "vitrine-windows v%d %" SCNu64, &version, &gen) != 2)
		abort();
	return gen;
}

/* Version 1 is read and written again as version 2: its entry lines gain
 * the clock fields, so only the entries loaded back can be compared. */
static int fuzz_is_v1(const char *text)
{
	return strncmp(text, "vitrine-windows v1 ", 19) == 0;
}

/* The writer went to the slot x that did not hold the newest checkpoint:
 * x holds the loaded entry lines byte for byte, one generation on, and
 * the other slot is as the input left it (or cut to nothing, when the
 * generation started again at 1). With nothing loaded, x is slot a at
 * generation 1. */
static void fuzz_check_slots(const char *dir, char *const in[2], const size_t in_len[2],
			     int loaded)
{
	static const char *const names[2] = { VT_WCKPT_FILE_A, VT_WCKPT_FILE_B };
	char *now[2] = { NULL, NULL };
	size_t now_len[2] = { 0, 0 }, bn, on;
	int x = -1, changed[2] = { 0, 0 };

	for (int i = 0; i < 2; i++) {
		if (fuzz_read(dir, names[i], &now[i], &now_len[i]) < 0) {
			if (in[i])
				abort();	/* a slot vanished */
			continue;
		}
		changed[i] = !in[i] || now_len[i] != in_len[i] ||
			     memcmp(now[i], in[i], in_len[i]) != 0;
		if (changed[i] && now_len[i] > 0) {
			if (x >= 0)
				abort();
			x = i;
		}
	}
	if (x < 0)
		abort();
	if (!loaded) {
		if (x != 0 || fuzz_generation(now[0]) != 1 || changed[1])
			abort();
	} else {
		const char *b = fuzz_body(now[x], now_len[x], &bn);
		const char *o;
		uint64_t old_gen;

		if (!in[!x])
			abort();
		o = fuzz_body(in[!x], in_len[!x], &on);
		old_gen = fuzz_generation(in[!x]);
		if ((!fuzz_is_v1(in[!x]) && (bn != on || memcmp(b, o, bn) != 0)) ||
		    fuzz_generation(now[x]) != (old_gen == UINT64_MAX ? 1 : old_gen + 1) ||
		    changed[!x] != (old_gen == UINT64_MAX))
			abort();
	}
	free(now[0]);
	free(now[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_wckpt_dir();
	struct fuzz_entries first = { NULL, 0, 0 }, again = { NULL, 0, 0 };
	char *in[2] = { NULL, NULL };
	size_t in_len[2] = { 0, 0 };
	uint64_t next_part, next_again;
	struct vt_wckpt *w;
	int mode = size > 0 ? data[0] : 0, rc, damaged;

	fuzz_clean(dir);
	if (size > 0) {
		data++;
		size--;
	}
	in_len[0] = size;
	if (mode & 1) {
		const uint8_t *nul = memchr(data, 0, size);

		in_len[0] = nul ? (size_t)(nul - data) : size;
		in_len[1] = nul ? size - in_len[0] - 1 : 0;
	}
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !(mode & 1))
			break;
		in[i] = malloc(in_len[i] + 1);
		if (!in[i])
			abort();
		memcpy(in[i], data + (i ? in_len[0] + 1 : 0), in_len[i]);
		in[i][in_len[i]] = '\0';	/* for fuzz_generation() */
		if (mode & 2)
			fuzz_reseal(in[i], in_len[i]);
		if (fuzz_write_file(dir, i ? VT_WCKPT_FILE_B : VT_WCKPT_FILE_A,
				    (const uint8_t *)in[i], in_len[i]) < 0)
			abort();
	}

	rc = vt_wckpt_load(dir, &next_part, fuzz_collect, &first, &damaged);
	if ((rc != 0 && rc != 1) || damaged < 0 || damaged > 1 + !!(mode & 1) ||
	    (rc == 0 && (next_part != 0 || first.n != 0)))
		abort();

	/* Write back what was loaded: it must come back as it was. */
	if (vt_wckpt_open(&w, dir) < 0)
		abort();
	if (first.n)	/* the boot of the entries' times since boot */
		vt_wckpt_set_boot(w, first.e[0].boot_id);
	vt_wckpt_begin(w, next_part);
	for (size_t i = 0; i < first.n; i++)
		if (vt_wckpt_add(w, &first.e[i]) < 0)
			abort();
	if (vt_wckpt_commit(w) < 0)
		abort();
	vt_wckpt_close(w);
	if (vt_wckpt_load(dir, &next_again, fuzz_collect, &again, NULL) != 1 ||
	    next_again != next_part || again.n != first.n ||
	    (first.n && memcmp(first.e, again.e, first.n * sizeof(*first.e)) != 0))
		abort();
	fuzz_check_slots(dir, in, in_len, rc == 1);

	free(first.e);
	free(again.e);
	free(in[0]);
	free(in[1]);
	fuzz_clean(dir);
	return 0;
}

#else /* FUZZ_WCKPT_GENERATE */

static char gen_a[65536], gen_b[65536];
static size_t gen_a_len, gen_b_len;

static size_t gen_slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(buf + 1, 1, cap - 2, f);	/* buf[0]: the mode byte */
	fclose(f);
	return n;
}

/* Two commits by the real writer: slot a a checkpoint of every kind of
 * entry (generation 1), slot b the same with more counts (generation 2). */
static int gen_make(int many)
{
	const char *dir = fuzz_wckpt_dir();
	struct vt_wckpt_entry e[8];
	struct vt_wckpt *w;
	int n = 0, rc = 0;

	fuzz_clean(dir);
	e[n++] = wckpt_entry("footfall", 0, FUZZ_T0, 1, 3, 1, "", 42);
	e[n++] = wckpt_entry("tablet", 0, FUZZ_T0, 3, 2, 0, "home/menu.v2", 7);
	e[n++] = wckpt_entry("tablet", 1, FUZZ_T0 - 900000, 4, 2, 0, "04012345678901", 5);
	e[n] = wckpt_entry("tablet", 0, FUZZ_T0, 5, 0, 5, "", 9);
	e[n++].cell.other = 1;
	e[n++] = wckpt_entry("rfid", 1, -900000, 6, 4294967295u, 0, "-", 0);
	e[n++] = wckpt_entry("rfid", 0, FUZZ_T0, 6, 1, 0, "--x", 9223372036854775000ull);
	e[n] = wckpt_entry("kiosk_2", 0, FUZZ_T0, 2, 1, 0, "", 1);
	e[n].cell.length_s = 60;
	e[n++].cell.part = UINT64_MAX;
	if (vt_wckpt_open(&w, dir) < 0)
		return -1;
	for (int c = 0; c < 2 && rc == 0; c++) {
		vt_wckpt_begin(w, 100 + (uint64_t)c);
		for (int r = 0; r < (many ? 40 : 1); r++)
			for (int i = 0; i < n && rc == 0; i++) {
				e[i].cell.count += (uint64_t)c;
				e[i].cell.dim1 += (uint32_t)r;
				rc = vt_wckpt_add(w, &e[i]);
			}
		if (rc == 0)
			rc = vt_wckpt_commit(w);
	}
	vt_wckpt_close(w);
	gen_a_len = gen_slurp(dir, VT_WCKPT_FILE_A, gen_a, sizeof(gen_a));
	gen_b_len = gen_slurp(dir, VT_WCKPT_FILE_B, gen_b, sizeof(gen_b));
	fuzz_clean(dir);
	return rc < 0 || !gen_a_len || !gen_b_len ? -1 : 0;
}

/* mode, then text (len bytes). */
static int gen_write(const char *dir, const char *name, char mode, const char *text, size_t len)
{
	static char buf[2 * sizeof(gen_a)];

	buf[0] = mode;
	memcpy(buf + 1, text, len);
	return fuzz_write_file(dir, name, (const uint8_t *)buf, len + 1);
}

/* Mode 1: slot a, NUL, slot b. */
static int gen_pair(const char *dir, const char *name, char mode, size_t b_len)
{
	static char buf[2 * sizeof(gen_a)];

	memcpy(buf, gen_a + 1, gen_a_len);
	buf[gen_a_len] = '\0';
	memcpy(buf + gen_a_len + 1, gen_b + 1, b_len);
	return gen_write(dir, name, mode, buf, gen_a_len + 1 + b_len);
}

/* A handmade slot with a placeholder CRC for mode 2 to fill in. */
static int gen_text(const char *dir, const char *name, const char *lines)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "%send 00000000\n", lines);

	return gen_write(dir, name, 2, buf, (size_t)n);
}

#define GEN_HEAD "vitrine-windows v1 3 17\n"
#define GEN_HEAD_V2 "vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
#define GEN_LINE "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -\n"

int main(int argc, char **argv)
{
	const char *d = argc == 2 ? argv[1] : NULL;
	char flipped[sizeof(gen_a)];
	char big[400];
	int bad = 0;

	if (!d || gen_make(0) < 0) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	bad |= gen_write(d, "valid", 0, gen_a + 1, gen_a_len);
	bad |= gen_write(d, "valid_resealed", 2, gen_a + 1, gen_a_len);
	bad |= gen_pair(d, "two_slots", 1, gen_b_len);
	bad |= gen_pair(d, "two_slots_newest_torn", 1, gen_b_len / 2);
	bad |= gen_write(d, "torn", 0, gen_a + 1, gen_a_len - 30);
	memcpy(flipped, gen_a + 1, gen_a_len);
	flipped[gen_a_len / 2] ^= 1;
	bad |= gen_write(d, "flipped_byte", 0, flipped, gen_a_len);
	bad |= gen_write(d, "flipped_byte_resealed", 2, flipped, gen_a_len);
	bad |= gen_write(d, "empty_file", 0, "", 0);
	bad |= gen_write(d, "junk", 0, "hello\n", 6);
	bad |= gen_text(d, "no_entries", GEN_HEAD);
	bad |= gen_text(d, "v2_clock", GEN_HEAD_V2
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 0 0 -\n"
			"open rfid 900000 900 6 1 0 0 12 5 0 8 1 600000 03012345678901\n"
			"releasing tablet -900000 900 3 2 0 1 0 5 0 9 1 -300000 --\n"
			"open footfall 0 900 1 3 1 0 42 5 1000 7 2 0 -\n");
	bad |= gen_text(d, "v2_mono_without_flag", GEN_HEAD_V2
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 0 5 -\n");
	bad |= gen_text(d, "v2_lost_with_mono", GEN_HEAD_V2
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 2 5 -\n");
	bad |= gen_text(d, "v2_boot_upper_case", "vitrine-windows v2 3 17 A7C275B277F843F9BA6D46CDF8B9C2BC\n");
	bad |= gen_text(d, "v2_v1_entry", GEN_HEAD_V2 GEN_LINE);
	bad |= gen_text(d, "handmade", GEN_HEAD GEN_LINE
			"releasing tablet -900000 900 3 2 0 1 0 5 0 18446744073709551615 --\n");
	bad |= gen_text(d, "negative_zero", GEN_HEAD
			"open footfall -0 900 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "label_single_dash_prefix", GEN_HEAD
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -x\n");
	bad |= gen_text(d, "leading_zero", GEN_HEAD
			"open footfall 1795604400000 900 1 03 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "start_not_multiple", GEN_HEAD
			"open footfall 1795604400001 900 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "count_too_big", GEN_HEAD
			"open footfall 1795604400000 900 1 3 1 0 9223372036854775808 5 1000 7 -\n");
	bad |= gen_text(d, "start_max", GEN_HEAD
			"open footfall 9223372036854660000 60 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "start_end_overflows", GEN_HEAD
			"open footfall 9223372036854720000 60 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "start_min", GEN_HEAD
			"open footfall -9223372036854720000 60 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "generation_last", "vitrine-windows v1 18446744073709551615 17\n"
			GEN_LINE);
	bad |= gen_text(d, "double_space", GEN_HEAD
			"open footfall  1795604400000 900 1 3 1 0 42 5 1000 7 -\n");
	bad |= gen_text(d, "generation_zero", "vitrine-windows v1 0 17\n" GEN_LINE);
	memset(big, 'a', sizeof(big));
	memcpy(big, GEN_HEAD "open ", sizeof(GEN_HEAD "open ") - 1);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	bad |= gen_text(d, "overlong_line", big);
	if (gen_make(1) < 0)
		return 1;
	bad |= gen_write(d, "many_entries", 0, gen_a + 1, gen_a_len);
	return bad ? 1 : 0;
}
#endif
