/*
 * egress_test.c - the hash-chained egress log (agent/egress.h): records
 * are appended at most once per interval and only after egress, the chain
 * verifies across restarts and rotation, and every kind of damage shows
 * where it is: an edited line, a removed line, a forged line, a cut tail
 * (against the published head), a torn last line (cut at open, the chain
 * goes on); the reader refuses anything but the documented form, and
 * sha256sum alone can check the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "egress.h"
#include "err.h"
#include "log.h"
#include "vt_os.h"
#include "vt_test.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define test_sha256 mbedtls_sha256
#else
#define test_sha256 mbedtls_sha256_ret
#endif

#define T0 1748772000000LL	/* 2025-06-01T10:00:00Z */
#define MIN 60000LL
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"
#define ZEROS63 "000000000000000000000000000000000000000000000000000000000000000"	/* one digit short */

static char dir[300];

static struct vt_egress_conf conf_in(const char *name)
{
	struct vt_egress_conf c = { .dir = dir, .interval_ms = MIN, .max_bytes = 0 };

	vt_log_level = -1;	/* the damage below is deliberate */
	snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), name);
	return c;
}

static void path_of(char *buf, size_t len, const char *file)
{
	snprintf(buf, len, "%s/%s", dir, file);
}

/* The lines of dir/file (without "\n"), at most max of them. */
static int read_lines(const char *file, char lines[][VT_EGRESS_LINE_MAX + 2], int max)
{
	char path[400];
	FILE *f;
	int n = 0;

	path_of(path, sizeof(path), file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fgets(lines[n], VT_EGRESS_LINE_MAX + 2, f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

/* Replace dir/file with these lines, each followed by "\n". */
static int write_lines(const char *file, char lines[][VT_EGRESS_LINE_MAX + 2], int n)
{
	char path[400];
	FILE *f;
	int ok = 1;

	path_of(path, sizeof(path), file);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (int i = 0; i < n; i++)
		ok &= fprintf(f, "%s\n", lines[i]) > 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

static int append_text(const char *file, const char *text)
{
	char path[400];
	FILE *f;
	int ok;

	path_of(path, sizeof(path), file);
	f = fopen(path, "a");
	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

static long file_size(const char *file)
{
	char path[400];
	struct stat st;

	path_of(path, sizeof(path), file);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* SHA-256 of text as lowercase hex. */
static void sha_hex(const char *text, size_t len, char hex[65])
{
	uint8_t h[32];

	test_sha256((const unsigned char *)text, len, h, 0);
	vt_egress_hex(h, hex);
}

/* body is a line up to and including "prev=<hex>": append its hash. */
static void seal(char *line, const char *body)
{
	char hex[65];

	sha_hex(body, strlen(body), hex);
	sprintf(line, "%s hash=%s", body, hex);
}

/* n records, one a minute from T0, of one or two categories; closed. */
static int make_log(struct vt_egress_conf *c, int n)
{
	struct vt_egress *e;

	if (vt_egress_open(&e, c) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		int64_t now = T0 + i * MIN;

		if (vt_egress_add(e, "footfall.events", 1, 40 + (uint64_t)i, 900, now) < 0 ||
		    (i % 2 && vt_egress_add(e, "status", 1, 1, 300, now) < 0) ||
		    vt_egress_tick(e, now) < 0) {
			vt_egress_close(e);
			return -1;
		}
	}
	vt_egress_close(e);
	return 0;
}

static int verify(struct vt_egress_report *rep)
{
	return vt_egress_verify(dir, NULL, rep);
}

/* verify's printed report, in buf. */
static int verify_text(char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	int rc;

	if (!f)
		return -ENOMEM;
	rc = vt_egress_verify(dir, f, NULL);
	fclose(f);
	buf[len - 1] = '\0';
	return rc;
}

static char lines[40][VT_EGRESS_LINE_MAX + 2];

VT_TEST(egress_appends_at_most_once_per_interval_and_only_after_egress)
{
	struct vt_egress_conf c = conf_in("interval");
	struct vt_egress *e;

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0), 0);
	CHECK_EQ_INT(vt_egress_ms_left(e, T0), -1);
	CHECK_EQ_INT(file_size(VT_EGRESS_FILE), 0);	/* nothing left: no record */

	CHECK_EQ_INT(vt_egress_add(e, "footfall.events", 1, 10, 500, T0), 0);
	CHECK_EQ_INT(vt_egress_ms_left(e, T0), 0);	/* the first record of a run at once */
	CHECK_EQ_INT(vt_egress_tick(e, T0), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 1);

	CHECK_EQ_INT(vt_egress_add(e, "footfall.events", 1, 10, 500, T0 + 1000), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + 1000), 0);
	CHECK_EQ_INT(vt_egress_ms_left(e, T0 + 1000), MIN - 1000);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + MIN - 1), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 1);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + MIN), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 2);

	/* Quiet minutes, and all-zero counts, write nothing. */
	CHECK_EQ_INT(vt_egress_tick(e, T0 + 5 * MIN), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 0, 0, 0, T0 + 5 * MIN), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + 6 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 6 * MIN), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 2);

	/* After a quiet spell the next egress is recorded at once... */
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 6 * MIN), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + 6 * MIN), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 3);
	/* ... and shutdown writes what is pending whatever the interval. */
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 6 * MIN + 1), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 + 6 * MIN + 1), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 3);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 6 * MIN + 1), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 4);
	CHECK_EQ_INT(vt_egress_stats(e)->records, 4);
	vt_egress_close(e);
}

VT_TEST(egress_clock_set_back_does_not_stall_records)
{
	struct vt_egress_conf c = conf_in("clock_back");
	struct vt_egress *e;

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 - 3600000), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 - 3600000), 0);	/* not in an hour */
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 2);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 - 3599000), 0);
	CHECK_EQ_INT(vt_egress_tick(e, T0 - 3599000), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 2);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(NULL), 0);
}

VT_TEST(egress_line_has_the_documented_form_and_hash)
{
	struct vt_egress_conf c = conf_in("form");
	struct vt_egress *e;
	char want[VT_EGRESS_LINE_MAX], hex[65];
	uint8_t head[32];
	uint64_t seq;

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, head, &seq);
	vt_egress_hex(head, hex);
	CHECK_EQ_INT(seq, 0);
	CHECK_STR(hex, ZEROS);
	CHECK_EQ_INT(vt_egress_add(e, "footfall.events", 12, 480, 9311, T0), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 402, T0 + 5000), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + MIN), 0);
	vt_egress_head(e, head, &seq);
	vt_egress_close(e);

	seal(want, "v1 1 2025-06-01T10:00:00Z 2025-06-01T10:01:00Z footfall.events=12/480/9311 "
		   "status=1/1/402 prev=" ZEROS);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 1);
	CHECK_STR(lines[0], want);
	CHECK_EQ_INT(file_size(VT_EGRESS_FILE), strlen(want) + 1);
	CHECK_EQ_INT(seq, 1);
	vt_egress_hex(head, hex);
	CHECK_STR(hex, strrchr(want, '=') + 1);
}

VT_TEST(egress_log_checks_with_sha256sum_as_documented)
{
	struct vt_egress_conf c = conf_in("shell");
	char cmd[1200], out[512] = "";
	size_t n;
	FILE *p;

	CHECK_EQ_INT(make_log(&c, 5), 0);
	/* The loop of egress.h, as an auditor would paste it. */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && cat egress.log.1 egress.log 2>/dev/null | while IFS= read -r l; do\n"
		 "  h=$(printf '%%s' \"${l%% hash=*}\" | sha256sum | cut -c1-64)\n"
		 "  p=${l##* prev=}; p=${p%%%% *}\n"
		 "  [ \"$h\" = \"${l##* hash=}\" ] || echo \"hash mismatch: $l\"\n"
		 "  [ -z \"$last\" ] || [ \"$p\" = \"$last\" ] || echo \"prev mismatch: $l\"\n"
		 "  last=${l##* hash=}\n"
		 "done; echo checked", dir);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	CHECK_EQ_INT(pclose(p), 0);
	CHECK_STR(out, "checked\n");

	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	lines[2][30] ^= 1;	/* a byte of the end time */
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	CHECK(strncmp(out, "hash mismatch: v1 3 ", 20) == 0);
}

VT_TEST(egress_chain_verifies_after_records_and_a_restart)
{
	struct vt_egress_conf c = conf_in("restart");
	struct vt_egress_report rep;
	struct vt_egress *e;
	uint8_t head[32], again[32];
	uint64_t seq;

	CHECK_EQ_INT(make_log(&c, 3), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_opened(e)->breaks, 0);
	CHECK_EQ_INT(vt_egress_opened(e)->records, 3);
	vt_egress_head(e, head, &seq);
	CHECK_EQ_INT(seq, 3);
	CHECK(memcmp(head, vt_egress_opened(e)->head, 32) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(vt_egress_add(e, "footfall.events", 2, 50, 1000, T0 + (10 + i) * MIN), 0);
		CHECK_EQ_INT(vt_egress_tick(e, T0 + (10 + i) * MIN), 0);
	}
	vt_egress_head(e, head, &seq);
	vt_egress_close(e);

	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.breaks, 0);
	CHECK_EQ_INT(rep.records, 6);
	CHECK_EQ_INT(rep.first_seq, 1);
	CHECK_EQ_INT(rep.head_seq, 6);
	CHECK_EQ_INT(seq, 6);
	CHECK(memcmp(rep.head, head, 32) == 0);
	CHECK_EQ_INT(rep.first_ms, T0);
	CHECK_EQ_INT(rep.last_ms, T0 + 12 * MIN);
	CHECK_EQ_INT(rep.ncats, 2);
	CHECK_STR(rep.cats[0].name, "footfall.events");
	CHECK_EQ_INT(rep.cats[0].frames, 3 + 6);
	CHECK_EQ_INT(rep.cats[0].items, 40 + 41 + 42 + 150);
	CHECK_EQ_INT(rep.cats[0].bytes, 2700 + 3000);
	CHECK_STR(rep.cats[1].name, "status");
	CHECK_EQ_INT(rep.cats[1].frames, 1);

	/* A second restart with nothing sent changes nothing. */
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, again, &seq);
	vt_egress_close(e);
	CHECK_EQ_INT(seq, 6);
	CHECK(memcmp(again, head, 32) == 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 6);
}

VT_TEST(egress_flipped_byte_in_a_middle_line_is_reported_at_that_line)
{
	struct vt_egress_conf c = conf_in("flip");
	struct vt_egress_report rep;
	struct vt_egress *e;
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 6), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 6);
	strstr(lines[2], "=1/")[1] = '7';	/* footfall.events=7/...: more frames */
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 6), 0);

	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.breaks, 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_BAD_HASH);
	CHECK_STR(rep.break_file, "egress.log");
	CHECK_EQ_INT(rep.break_line, 3);
	CHECK_EQ_INT(rep.records, 5);	/* the altered line is not counted */
	CHECK_EQ_INT(verify_text(text, sizeof(text)), 1);
	CHECK(strstr(text, "broken    egress.log:3: hash mismatch") != NULL);
	CHECK(strstr(text, "chain     BROKEN in 1 place, first at egress.log:3") != NULL);

	/* The agent keeps the evidence and goes on after it. */
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_opened(e)->breaks, 1);
	CHECK_EQ_INT(vt_egress_opened(e)->break_line, 3);
	CHECK_EQ_INT(vt_egress_opened(e)->cut_bytes, 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 20 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 20 * MIN), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.breaks, 1);
	CHECK_EQ_INT(rep.head_seq, 7);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 7);
}

VT_TEST(egress_deleted_middle_line_is_reported_as_a_seq_gap)
{
	struct vt_egress_conf c = conf_in("delete");
	struct vt_egress_report rep;

	CHECK_EQ_INT(make_log(&c, 6), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 6);
	memmove(lines[3], lines[4], 2 * sizeof(lines[0]));
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);

	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.breaks, 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_SEQ_GAP);
	CHECK_EQ_INT(rep.break_line, 4);
	CHECK(strstr(rep.break_detail, "expected 4, found 5") != NULL);
}

VT_TEST(egress_forged_line_with_its_own_hash_breaks_the_next_prev)
{
	struct vt_egress_conf c = conf_in("forge");
	struct vt_egress_report rep;
	char body[VT_EGRESS_LINE_MAX];

	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	/* Line 3 rewritten with smaller counts and a correct hash of its own. */
	snprintf(body, sizeof(body), "%.*s", (int)(strstr(lines[2], " hash=") - lines[2]),
		 lines[2]);
	memcpy(strstr(body, "=1/"), "=0/", 3);
	seal(lines[2], body);
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);

	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.breaks, 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_BAD_PREV);
	CHECK_EQ_INT(rep.break_line, 4);
}

VT_TEST(egress_cut_tail_shows_as_a_head_older_than_the_published_one)
{
	struct vt_egress_conf c = conf_in("cut_tail");
	struct vt_egress_report rep;
	struct vt_egress *e;
	uint8_t published[32], head[32];
	uint64_t published_seq, seq;

	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, published, &published_seq);	/* what the status said */
	vt_egress_close(e);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 4), 0);

	/* The rest of the chain is fine: only the head tells. */
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(published_seq, 5);
	CHECK_EQ_INT(rep.head_seq, 4);
	CHECK(memcmp(rep.head, published, 32) != 0);

	/* Nor can the agent hide it by going on: seq 5 comes back with
	 * another hash than the one published. */
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 30 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 30 * MIN), 0);
	vt_egress_head(e, head, &seq);
	vt_egress_close(e);
	CHECK_EQ_INT(seq, 5);
	CHECK(memcmp(head, published, 32) != 0);
}

VT_TEST(egress_torn_last_line_is_cut_at_open_and_the_chain_continues)
{
	struct vt_egress_conf c = conf_in("torn");
	struct vt_egress_report rep;
	struct vt_egress *e;
	long good;
	uint64_t seq;
	uint8_t head[32];

	CHECK_EQ_INT(make_log(&c, 3), 0);
	good = file_size(VT_EGRESS_FILE);
	CHECK_EQ_INT(append_text(VT_EGRESS_FILE, "v1 4 2025-06-01T10:0"), 0);

	CHECK_EQ_INT(verify(&rep), 1);	/* the auditor sees it as it is */
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_TORN);
	CHECK_EQ_INT(rep.break_line, 4);

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_opened(e)->breaks, 0);
	CHECK_EQ_INT(vt_egress_opened(e)->cut_line, 4);
	CHECK_EQ_INT(vt_egress_opened(e)->cut_bytes, 20);
	CHECK_EQ_INT(file_size(VT_EGRESS_FILE), good);
	vt_egress_head(e, head, &seq);
	CHECK_EQ_INT(seq, 3);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 30 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 30 * MIN), 0);
	vt_egress_close(e);

	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.records, 4);
	CHECK_EQ_INT(rep.head_seq, 4);
}

VT_TEST(egress_damaged_last_line_is_cut_at_open_and_the_chain_continues)
{
	struct vt_egress_conf c = conf_in("damaged_last");
	struct vt_egress_report rep;
	struct vt_egress *e;

	CHECK_EQ_INT(make_log(&c, 4), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 4);
	lines[3][strlen(lines[3]) - 1] ^= 1;	/* last hex digit of its hash */
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 4), 0);
	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_BAD_HASH);

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_opened(e)->breaks, 0);
	CHECK_EQ_INT(vt_egress_opened(e)->cut_line, 4);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 30 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 30 * MIN), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_seq, 4);
}

VT_TEST(egress_rotation_keeps_the_chain_across_both_files)
{
	struct vt_egress_conf c = conf_in("rotate");
	char old[40][VT_EGRESS_LINE_MAX + 2];
	struct vt_egress_report rep;
	struct vt_egress *e;
	int n_old, n_cur;
	uint64_t seq;
	uint8_t head[32];

	c.max_bytes = 700;	/* three lines of one category */
	CHECK_EQ_INT(make_log(&c, 10), 0);
	n_old = read_lines(VT_EGRESS_OLD_FILE, old, 40);
	n_cur = read_lines(VT_EGRESS_FILE, lines, 40);
	CHECK(n_old >= 1 && n_cur >= 1);
	CHECK(file_size(VT_EGRESS_FILE) <= 700 && file_size(VT_EGRESS_OLD_FILE) <= 700);
	/* The new file's first prev is the old file's last hash. */
	CHECK(strncmp(strstr(lines[0], " prev=") + 6, strstr(old[n_old - 1], " hash=") + 6,
		      64) == 0);

	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_seq, 10);
	CHECK_EQ_INT(rep.records, n_old + n_cur);
	CHECK_EQ_INT(rep.first_seq, 10 - n_old - n_cur + 1);	/* older ones rotated out */

	/* A restart goes on from there, and rotates again. */
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, head, &seq);
	CHECK_EQ_INT(seq, 10);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + (20 + i) * MIN), 0);
		CHECK_EQ_INT(vt_egress_tick(e, T0 + (20 + i) * MIN), 0);
	}
	CHECK(vt_egress_stats(e)->rotations >= 1);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_seq, 14);
}

VT_TEST(egress_crash_between_rotation_and_next_record_continues_from_old_file)
{
	struct vt_egress_conf c = conf_in("rotate_crash");
	struct vt_egress_report rep;
	struct vt_egress *e;
	char from[400], to[400];
	uint64_t seq;
	uint8_t head[32];

	CHECK_EQ_INT(make_log(&c, 3), 0);
	path_of(from, sizeof(from), VT_EGRESS_FILE);
	path_of(to, sizeof(to), VT_EGRESS_OLD_FILE);
	CHECK_EQ_INT(rename(from, to), 0);	/* renamed, new file not yet made */
	CHECK_EQ_INT(verify(&rep), 0);

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, head, &seq);
	CHECK_EQ_INT(seq, 3);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 30 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 30 * MIN), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.records, 4);
	CHECK_EQ_INT(rep.old_lines, 3);
	CHECK_EQ_INT(rep.cur_lines, 1);
}

VT_TEST(egress_missing_old_file_is_reported_when_the_chain_starts_late)
{
	struct vt_egress_conf c = conf_in("no_history");
	struct vt_egress_report rep;
	char path[400];

	c.max_bytes = 700;
	CHECK_EQ_INT(make_log(&c, 6), 0);
	path_of(path, sizeof(path), VT_EGRESS_OLD_FILE);
	CHECK_EQ_INT(unlink(path), 0);
	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_NO_HISTORY);
	CHECK_STR(rep.break_file, "egress.log");
	CHECK_EQ_INT(rep.break_line, 1);
}

VT_TEST(egress_refuses_bad_category_names)
{
	static const char *const bad[] = {
		"", "Footfall", "foot fall", "a=b", "a/b", "x\n", "tab\t", "ü",
		"a2345678901234567890123456789012",	/* 32 characters */
	};
	struct vt_egress_conf c = conf_in("names");
	struct vt_egress *e;

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(vt_egress_add(e, bad[i], 1, 1, 1, T0), -EINVAL);
	CHECK_EQ_INT(vt_egress_add(e, NULL, 1, 1, 1, T0), -EINVAL);
	CHECK_EQ_INT(vt_egress_stats(e)->refused, 10);
	CHECK_EQ_INT(vt_egress_ms_left(e, T0), -1);	/* nothing counted */
	CHECK_EQ_INT(vt_egress_add(e, "a234567890123456789012345678901", 1, 1, 1, T0), 0);
	CHECK_EQ_INT(vt_egress_add(e, "footfall.windows_v2", 1, 1, 1, T0), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(NULL), 0);
}

VT_TEST(egress_refuses_a_seventeenth_category_cleanly)
{
	struct vt_egress_conf c = conf_in("full");
	struct vt_egress_report rep;
	struct vt_egress *e;
	char name[32];

	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	for (int i = 0; i < VT_EGRESS_MAX_CATS; i++) {
		snprintf(name, sizeof(name), "plugin%02d.events_of_a_long_name", i);
		CHECK_EQ_INT(vt_egress_add(e, name, UINT64_MAX, UINT64_MAX, UINT64_MAX, T0), 0);
	}
	CHECK_EQ_INT(vt_egress_add(e, "one.too.many", 1, 1, 1, T0), -VT_EFULL);
	CHECK_EQ_INT(vt_egress_add(e, "plugin03.events_of_a_long_name", 1, 1, 1, T0), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0), 0);
	CHECK_EQ_INT(vt_egress_add(e, "one.too.many", 1, 1, 1, T0), -VT_EFULL);
	vt_egress_close(e);

	/* The longest line there can be: 16 long names, saturated counts. */
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.ncats, 16);
	CHECK_EQ_INT(rep.cats[3].frames, VT_EGRESS_COUNT_MAX);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 1);
	CHECK(strlen(lines[0]) <= VT_EGRESS_LINE_MAX);
}

VT_TEST(egress_files_are_mode_0600)
{
	struct vt_egress_conf c = conf_in("mode");
	struct vt_egress *e;
	struct stat st;
	char path[400];
	mode_t old = umask(0);

	c.max_bytes = 400;
	CHECK_EQ_INT(make_log(&c, 3), 0);
	umask(old);
	path_of(path, sizeof(path), VT_EGRESS_FILE);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	path_of(path, sizeof(path), VT_EGRESS_OLD_FILE);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);

	/* A file someone made readable is closed again at open. */
	path_of(path, sizeof(path), VT_EGRESS_FILE);
	CHECK_EQ_INT(chmod(path, 0644), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
}

/* Line 2 of a log whose line 1 is good: does the reader refuse it? */
static int line2_refused(const char *line2_body, int sealed)
{
	struct vt_egress_report rep;
	char first[VT_EGRESS_LINE_MAX], second[VT_EGRESS_LINE_MAX + 80];
	char path[400];
	FILE *f;

	seal(first, "v1 1 2025-06-01T10:00:00Z 2025-06-01T10:01:00Z status=1/1/300 prev=" ZEROS);
	if (sealed)
		seal(second, line2_body);
	else
		snprintf(second, sizeof(second), "%s", line2_body);
	path_of(path, sizeof(path), VT_EGRESS_FILE);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n%s\n", first, second);
	fclose(f);
	if (verify(&rep) != 1)
		return 0;
	return rep.first_break == VT_EGRESS_BAD_SYNTAX && rep.break_line == 2 &&
	       rep.breaks == 1;
}

VT_TEST(egress_reader_refuses_anything_but_the_documented_form)
{
	static const char *const bodies[] = {
		"v1 02 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
		"v1 2 2025-02-30T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
		"v1 2 1969-12-31T23:59:59Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T24:00:00Z status=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 status=1/1/1 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z Status=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/-3 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/00 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/12345678901234567890 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z  status=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z\tstatus=1/1/300 prev=%s",
		"v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z prev=%s",
		"v2 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
		"v1 0 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s",
	};
	char prev[65], first[VT_EGRESS_LINE_MAX], body[VT_EGRESS_LINE_MAX + 80];
	char line[VT_EGRESS_LINE_MAX + 80], many[VT_EGRESS_LINE_MAX];
	size_t n;

	conf_in("strict");
	CHECK_EQ_INT(vt_os_mkdir_p(dir, 0700), 0);
	seal(first, "v1 1 2025-06-01T10:00:00Z 2025-06-01T10:01:00Z status=1/1/300 prev=" ZEROS);
	snprintf(prev, sizeof(prev), "%s", strrchr(first, '=') + 1);

	/* The same line in the documented form is accepted. */
	snprintf(body, sizeof(body),
		 "v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s", prev);
	CHECK_EQ_INT(line2_refused(body, 1), 0);
	CHECK_EQ_INT(verify(NULL), 0);

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(body, sizeof(body), bodies[i], prev);
		if (!line2_refused(body, 1)) {
			printf("  accepted: %s\n", body);
			CHECK(0);
		}
	}
	/* Uppercase hex, a trailing space, a CR, no hash. */
	snprintf(body, sizeof(body),
		 "v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z status=1/1/300 prev=%s", prev);
	seal(line, body);
	for (char *p = strrchr(line, '='); *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	CHECK(line2_refused(line, 0));
	seal(line, body);
	strcat(line, " ");
	CHECK(line2_refused(line, 0));
	seal(line, body);
	strcat(line, "\r");
	CHECK(line2_refused(line, 0));
	CHECK(line2_refused(body, 0));
	/* 17 categories. */
	n = (size_t)snprintf(many, sizeof(many), "v1 2 2025-06-01T10:01:00Z 2025-06-01T10:02:00Z");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, " c%d=1/1/1", i);
	snprintf(many + n, sizeof(many) - n, " prev=%s", prev);
	CHECK(line2_refused(many, 1));
}

VT_TEST(egress_reader_survives_binary_and_overlong_lines)
{
	struct vt_egress_conf c = conf_in("binary");
	struct vt_egress_report rep;
	struct vt_egress *e;
	char path[400], junk[5000];
	FILE *f;

	CHECK_EQ_INT(make_log(&c, 2), 0);
	path_of(path, sizeof(path), VT_EGRESS_FILE);
	f = fopen(path, "a");
	CHECK(f != NULL);
	memset(junk, 'x', sizeof(junk));
	fwrite(junk, 1, sizeof(junk), f);	/* one line of 5000 bytes */
	fputc('\n', f);
	fwrite("\0\0v1 \n\n", 1, 7, f);
	fclose(f);
	CHECK_EQ_INT(make_log(&c, 1), 0);	/* the agent goes on after it */

	CHECK_EQ_INT(verify(&rep), 1);
	CHECK_EQ_INT(rep.first_break, VT_EGRESS_BAD_SYNTAX);
	CHECK_EQ_INT(rep.break_line, 3);
	CHECK(strstr(rep.break_detail, "longer than") != NULL);
	CHECK_EQ_INT(rep.breaks, 2);	/* the cut one was the blank last line */
	CHECK_EQ_INT(rep.head_seq, 3);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_opened(e)->breaks, 2);
	vt_egress_close(e);
}

VT_TEST(egress_verify_without_a_log_says_so)
{
	char text[512];

	conf_in("none");
	CHECK_EQ_INT(vt_os_mkdir_p(dir, 0700), 0);
	CHECK_EQ_INT(verify(NULL), -ENOENT);
	CHECK_EQ_INT(verify_text(text, sizeof(text)), -ENOENT);
	CHECK(strstr(text, "not found") != NULL);
}

VT_TEST(egress_verify_prints_a_summary_an_operator_can_read)
{
	struct vt_egress_conf c = conf_in("print");
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 3), 0);
	CHECK_EQ_INT(verify_text(text, sizeof(text)), 0);
	CHECK(strstr(text, "records   3, seq 1..3\n") != NULL);
	CHECK(strstr(text, "period    2025-06-01T10:00:00Z .. 2025-06-01T10:02:00Z\n") != NULL);
	CHECK(strstr(text, "category  footfall.events      frames 3 items 123 bytes 2700\n") != NULL);
	CHECK(strstr(text, "head      seq 3 hash ") != NULL);
	CHECK(strstr(text, "chain     intact") != NULL);
}

/* ---- a head published earlier (vt_egress_verify_head, "--egress --head") ---------- */

/* want from line (a record of the log as read by read_lines). */
static void head_of(const char *line, struct vt_egress_head_check *want)
{
	char text[100];
	const char *why;

	snprintf(text, sizeof(text), "%.*s:%s", (int)strcspn(line + 3, " "), line + 3,
		 strstr(line, " hash=") + 6);
	if (vt_egress_head_parse(text, want, &why) < 0)
		memset(want, 0xee, sizeof(*want));
}

/* vt_egress_verify_head's printed report, in buf. */
static int verify_head_text(const struct vt_egress_head_check *want, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");
	int rc;

	if (!f)
		return -ENOMEM;
	rc = vt_egress_verify_head(dir, f, want, NULL);
	fclose(f);
	buf[len - 1] = '\0';
	return rc;
}

/* Rewrite lines[from..n-1] as a forger would: each line's hash recomputed,
 * and each prev set to the hash of the line before. */
static void rechain(int from, int n)
{
	char body[VT_EGRESS_LINE_MAX];

	for (int i = from; i < n; i++) {
		char *prev = strstr(lines[i], " prev=") + 6;

		if (i > 0)
			memcpy(prev, strstr(lines[i - 1], " hash=") + 6, 64);
		snprintf(body, sizeof(body), "%.*s", (int)(prev + 64 - lines[i]), lines[i]);
		seal(lines[i], body);
	}
}

VT_TEST(egress_head_parse_takes_seq_colon_hex_and_refuses_the_rest)
{
	static const char *const bad[] = {
		"", "5", "5:", ":" ZEROS, "05:" ZEROS, "-5:" ZEROS, "+5:" ZEROS, " 5:" ZEROS,
		"5 :" ZEROS, "5: " ZEROS, "5:" ZEROS " ", "5:" ZEROS "0", "5:" ZEROS63,
		"5:g" ZEROS63, "5:" ZEROS63 "\n", "12345678901234567890:" ZEROS, "5:" ZEROS ":",
		"5:5:" ZEROS, "0:1" ZEROS63,	/* seq 0 is the empty log: its hash is zeros */
	};
	struct vt_egress_head_check want;
	const char *why;
	char text[100];

	CHECK_EQ_INT(vt_egress_head_parse("7:" ZEROS, &want, &why), 0);
	CHECK_EQ_INT(want.seq, 7);
	CHECK_EQ_INT(vt_egress_head_parse("0:" ZEROS, &want, &why), 0);
	CHECK_EQ_INT(want.seq, 0);
	CHECK_EQ_INT(vt_egress_head_parse("9999999999999999999:" ZEROS, &want, &why), 0);
	CHECK_EQ_INT(want.seq, VT_EGRESS_COUNT_MAX);
	/* Either case; the hash as vt_egress_hex() writes it. */
	CHECK_EQ_INT(vt_egress_head_parse("12:5DAE9B62000000000000000000000000000000000000000000000000000000Ff",
					  &want, &why), 0);
	vt_egress_hex(want.hash, text);
	CHECK_STR(text, "5dae9b62000000000000000000000000000000000000000000000000000000ff");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (vt_egress_head_parse(bad[i], &want, &why) != -EINVAL || !why) {
			printf("  accepted: '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK_EQ_INT(vt_egress_head_parse(NULL, &want, &why), -EINVAL);
}

VT_TEST(egress_head_published_and_kept_is_present)
{
	struct vt_egress_conf c = conf_in("head_present");
	struct vt_egress_head_check want = { 0 }, older, empty = { 0 };
	struct vt_egress_report rep;
	struct vt_egress *e;
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, want.hash, &want.seq);	/* what the status said */
	vt_egress_close(e);
	CHECK_EQ_INT(want.seq, 5);

	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_PRESENT);
	CHECK_EQ_INT(rep.want.seq, 5);
	CHECK_EQ_INT(rep.seq_lo, 1);
	CHECK_EQ_INT(rep.seq_hi, 5);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 0);
	CHECK(strstr(text, "chain     intact") != NULL);
	CHECK(strstr(text, "checked   head seq 5: present\n") != NULL);

	/* An older head stays in the log as records are added after it. */
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	head_of(lines[1], &older);
	CHECK_EQ_INT(older.seq, 2);
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &older, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_PRESENT);
	/* So does the empty log's head, which every chain starts from. */
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &empty, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_PRESENT);

	/* Without a head, nothing is looked for and nothing is printed. */
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_UNCHECKED);
	CHECK_EQ_INT(verify_text(text, sizeof(text)), 0);
	CHECK(strstr(text, "checked") == NULL);
}

VT_TEST(egress_head_past_the_end_says_the_log_was_cut)
{
	struct vt_egress_conf c = conf_in("head_cut");
	struct vt_egress_head_check want;
	struct vt_egress_report rep;
	struct vt_egress *e;
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, want.hash, &want.seq);
	vt_egress_close(e);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 3), 0);

	/* The chain that is left verifies: only the head tells. */
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 1);
	CHECK_EQ_INT(rep.breaks, 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_CUT);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 1);
	CHECK(strstr(text, "checked   head seq 5: MISSING: the log ends at seq 3: it was cut after the head was published\n") != NULL);

	/* An empty file is cut too. */
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 0), 0);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 1);
	CHECK(strstr(text, "head seq 5: MISSING: the log holds no record: it was cut") != NULL);

	/* Records the agent writes after the cut reuse the seq, not the hash. */
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 4), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	CHECK_EQ_INT(vt_egress_add(e, "status", 1, 1, 300, T0 + 30 * MIN), 0);
	CHECK_EQ_INT(vt_egress_flush(e, T0 + 30 * MIN), 0);
	vt_egress_close(e);
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_seq, 5);
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 1);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_REWRITTEN);
}

VT_TEST(egress_head_in_a_rewritten_chain_has_another_hash)
{
	struct vt_egress_conf c = conf_in("head_rewritten");
	struct vt_egress_head_check want, before;
	struct vt_egress_report rep;
	struct vt_egress *e;
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(vt_egress_open(&e, &c), 0);
	vt_egress_head(e, want.hash, &want.seq);
	vt_egress_close(e);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	head_of(lines[1], &before);
	/* Line 3 says less left, and every hash from there is recomputed. */
	memcpy(strstr(lines[2], "=1/"), "=0/", 3);
	rechain(2, 5);
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);

	/* A forger's chain verifies... */
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK_EQ_INT(rep.head_seq, 5);
	/* ... but not against the head published before the rewrite. */
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 1);
	CHECK_EQ_INT(rep.breaks, 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_REWRITTEN);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 1);
	CHECK(strstr(text, "checked   head seq 5: the record has another hash: the log was rewritten") != NULL);
	/* A head from before the rewritten record is still there. */
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &before, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_PRESENT);

	/* A line edited in place (hash not recomputed) is not the head either. */
	c = conf_in("head_edited");
	CHECK_EQ_INT(make_log(&c, 5), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 5);
	head_of(lines[4], &want);
	strstr(lines[4], "=1/")[1] = '7';
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 1);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_REWRITTEN);
}

VT_TEST(egress_head_whose_line_was_deleted_is_missing)
{
	struct vt_egress_conf c = conf_in("head_removed");
	struct vt_egress_head_check want;
	struct vt_egress_report rep;
	char text[4096];

	CHECK_EQ_INT(make_log(&c, 6), 0);
	CHECK_EQ_INT(read_lines(VT_EGRESS_FILE, lines, 40), 6);
	head_of(lines[3], &want);
	memmove(lines[3], lines[4], 2 * sizeof(lines[0]));
	CHECK_EQ_INT(write_lines(VT_EGRESS_FILE, lines, 5), 0);

	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 1);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_REMOVED);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 1);
	CHECK(strstr(text, "checked   head seq 4: MISSING: no line has that seq (the log holds seq 1..6)") != NULL);
}

VT_TEST(egress_head_older_than_the_oldest_record_kept_cannot_be_told)
{
	struct vt_egress_conf c = conf_in("head_rotated");
	struct vt_egress_head_check want = { .seq = 1 }, just_before;
	struct vt_egress_report rep;
	char text[4096], head[100];
	const char *why;

	c.max_bytes = 700;	/* three lines of one category a file */
	CHECK_EQ_INT(make_log(&c, 10), 0);
	CHECK_EQ_INT(verify(&rep), 0);
	CHECK(rep.first_seq > 2);
	memset(want.hash, 0x5a, 32);	/* whatever it was: it is gone */

	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &want, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_ROTATED);
	CHECK_EQ_INT(verify_head_text(&want, text, sizeof(text)), 0);
	CHECK(strstr(text, "checked   head seq 1: older than the oldest record kept (rotated out") != NULL);
	CHECK(strstr(text, "cannot tell") != NULL);

	/* The record just before the oldest one kept is named by its prev. */
	CHECK(read_lines(VT_EGRESS_OLD_FILE, lines, 40) >= 1);
	snprintf(head, sizeof(head), "%llu:%.64s", (unsigned long long)rep.seq_lo - 1,
		 strstr(lines[0], " prev=") + 6);
	CHECK_EQ_INT(vt_egress_head_parse(head, &just_before, &why), 0);
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &just_before, &rep), 0);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_PRESENT);
	CHECK_EQ_INT(verify_head_text(&just_before, text, sizeof(text)), 0);
	CHECK(strstr(text, ": present (rotated out, but seq ") != NULL);
	just_before.hash[0] ^= 1;
	CHECK_EQ_INT(vt_egress_verify_head(dir, NULL, &just_before, &rep), 1);
	CHECK_EQ_INT(rep.head_verdict, VT_EGRESS_HEAD_REWRITTEN);
}

VT_TEST_MAIN()
