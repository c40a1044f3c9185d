/*
 * wckpt_test.c - the window checkpoint (agent/wckpt.h): every field comes
 * back as it was added, commits alternate between the two slots and the
 * newest intact one wins, a torn or corrupted or half-written newest slot
 * falls back to the previous checkpoint and is counted as damaged, a failed
 * commit leaves the previous checkpoint the newest, add refuses what the
 * reader would refuse, and the reader takes exactly the documented text:
 * version 2, with each window's clock and the boot (clock.h), and version 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "wckpt.h"
#include "vt_test.h"
#include "fuzz/wckpt_entry.h"

#define T0 1795604400000LL	/* a multiple of 900 s */
#define MAXE 64

static char dir[300];

static const char *dir_in(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), name);
	return dir;
}

static void path_of(char *buf, size_t len, const char *file)
{
	snprintf(buf, len, "%s/%s", dir, file);
}

struct got {
	struct vt_wckpt_entry e[MAXE];
	int n;
	int stop_after;		/* > 0: return -EIO when this many were seen */
};

static int collect(void *arg, const struct vt_wckpt_entry *e)
{
	struct got *g = arg;

	if (g->n < MAXE)
		g->e[g->n] = *e;
	g->n++;
	if (g->stop_after > 0 && g->n == g->stop_after)
		return -EIO;
	return 0;
}

/* Commit these entries with next_part through w. */
static int commit(struct vt_wckpt *w, uint64_t next_part, const struct vt_wckpt_entry *e, int n)
{
	vt_wckpt_begin(w, next_part);
	for (int i = 0; i < n; i++) {
		int rc = vt_wckpt_add(w, &e[i]);

		if (rc < 0)
			return rc;
	}
	return vt_wckpt_commit(w);
}

static int same(const struct vt_wckpt_entry *a, const struct vt_wckpt_entry *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static long read_file(const char *file, char *buf, size_t cap)
{
	char path[400];
	FILE *f;
	size_t n;

	path_of(path, sizeof(path), file);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static int write_file(const char *file, const char *data, size_t len)
{
	char path[400];
	FILE *f;
	int ok;

	path_of(path, sizeof(path), file);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

/* body (header and entry lines) followed by its correct end line. */
static int write_sealed(const char *file, const char *body)
{
	char text[4096];
	int n = snprintf(text, sizeof(text), "%s", body);

	n += snprintf(text + n, sizeof(text) - (size_t)n, "end %08" PRIx32 "\n",
		      vt_crc32c(0, body, strlen(body)));
	return write_file(file, text, (size_t)n);
}

/* The generation in the header of a slot, or 0. */
static uint64_t generation_of(const char *file)
{
	char text[4096];
	uint64_t gen = 0, part;
	int version;

	if (read_file(file, text, sizeof(text)) < 0 ||
	    sscanf(text, "vitrine-windows v%d %" SCNu64 " %" SCNu64, &version, &gen, &part) != 3)
		return 0;
	return gen;
}

static struct vt_wckpt_entry fields[9];

static int every_field(void)
{
	const int64_t big = INT64_MAX / 60000 * 60000 - 60000;	/* end still fits */
	int n = 0;

	fields[n++] = wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 3, 1, "", 42);
	fields[n++] = wckpt_entry("tablet", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 2, 0,
			    "home/menu.v2-A_b", 0);
	fields[n++] = wckpt_entry("tablet", 1, T0 - 900000, VT_METRIC_KIOSK_LOOKUPS, 2, 0,
			    "04012345678901", 9);
	fields[n] = wckpt_entry("tablet", 0, T0, VT_METRIC_KIOSK_SESSION_LENGTH, 0, 7, "", 6);
	fields[n++].cell.other = 1;
	fields[n++] = wckpt_entry("rfid_1", 1, -900000, VT_METRIC_RFID_PRESENCE, UINT32_MAX, 0, "-",
			    (uint64_t)INT64_MAX);
	fields[n++] = wckpt_entry("x", 0, 0, VT_METRIC_KIOSK_SESSIONS, 0, 0, "--x", 1);
	fields[n++] = wckpt_entry("abcdefghijklmnopqrstuvwxyz_0123", 0, T0,
			    VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0, "0123456789012345678901234567890",
			    5);
	fields[n] = wckpt_entry("edge", 1, big, VT_METRIC_FOOTFALL_PASSES, 1, 2, "-a", 3);
	fields[n].cell.length_s = 60;
	fields[n].cell.k = UINT32_MAX;
	fields[n].cell.epsilon_milli = 0;
	fields[n++].cell.part = UINT64_MAX;
	fields[n] = wckpt_entry("edge", 0, -(INT64_MAX / 86400000) * 86400000, VT_METRIC_KIOSK_SESSIONS,
			  0, 0, "", 0);
	fields[n].cell.length_s = 86400;
	fields[n].cell.k = 0;
	fields[n++].cell.part = 0;
	return n;
}

VT_TEST(wckpt_round_trips_every_field)
{
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	uint64_t next_part = 1;
	int n = every_field(), damaged = -1;

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("fields")), 0);
	CHECK_EQ_INT(commit(w, UINT64_MAX, fields, n), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 1);
	CHECK_EQ_INT(damaged, 0);
	CHECK(next_part == UINT64_MAX);
	CHECK_EQ_INT(g.n, n);
	for (int i = 0; i < n; i++)
		CHECK(same(&g.e[i], &fields[i]));
}

VT_TEST(wckpt_labels_starting_with_a_dash_are_escaped_unambiguously)
{
	char text[4096];
	struct vt_wckpt *w;
	struct vt_wckpt_entry e[4] = {
		wckpt_entry("t", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0, "", 1),
		wckpt_entry("t", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0, "-", 2),
		wckpt_entry("t", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0, "--", 3),
		wckpt_entry("t", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0, "a-", 4),
	};

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("dash")), 0);
	CHECK_EQ_INT(commit(w, 0, e, 4), 0);
	vt_wckpt_close(w);
	CHECK(read_file(VT_WCKPT_FILE_A, text, sizeof(text)) > 0);
	CHECK(strstr(text, " 7 0 0 -\nopen ") != NULL);
	CHECK(strstr(text, " 7 0 0 --\nopen ") != NULL);
	CHECK(strstr(text, " 7 0 0 ---\nopen ") != NULL);
	CHECK(strstr(text, " 7 0 0 a-\nend ") != NULL);
}

VT_TEST(wckpt_empty_checkpoint_loads_with_its_next_part)
{
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	uint64_t next_part = 0;

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("empty")), 0);
	CHECK_EQ_INT(commit(w, 12, NULL, 0), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, NULL), 1);
	CHECK_EQ_INT(next_part, 12);
	CHECK_EQ_INT(g.n, 0);
}

VT_TEST(wckpt_commits_alternate_slots_and_the_newest_generation_wins)
{
	struct vt_wckpt_entry e[3] = {
		wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 10),
		wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 20),
		wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 30),
	};
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	uint64_t next_part;

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("alternate")), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(commit(w, 100 + (uint64_t)i, &e[i], 1), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_A), 3);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_B), 2);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, NULL), 1);
	CHECK_EQ_INT(next_part, 102);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(g.e[0].cell.count, 30);

	/* A writer opened again goes on from the newest: slot b, generation 4. */
	CHECK_EQ_INT(vt_wckpt_open(&w, dir), 0);
	CHECK_EQ_INT(commit(w, 103, &e[0], 1), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_A), 3);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_B), 4);
	g.n = 0;
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, NULL), 1);
	CHECK_EQ_INT(next_part, 103);
	CHECK_EQ_INT(g.e[0].cell.count, 10);
}

/* Two commits (A: count 1, next_part 5 in slot a; B: count 2, 6 in slot
 * b), then damage applied to slot b; load must give A. */
static int two_commits(const char *name)
{
	struct vt_wckpt_entry a = wckpt_entry("rfid", 0, T0, VT_METRIC_RFID_PRESENCE, 4, 0,
					"04012345678901", 1);
	struct vt_wckpt_entry b = a;
	struct vt_wckpt *w;
	int rc;

	b.cell.count = 2;
	if (vt_wckpt_open(&w, dir_in(name)) < 0)
		return -1;
	rc = commit(w, 5, &a, 1);
	if (rc == 0)
		rc = commit(w, 6, &b, 1);
	vt_wckpt_close(w);
	return rc;
}

static int loads_a(int *damaged)
{
	struct got g = { .n = 0 };
	uint64_t next_part;

	return vt_wckpt_load(dir, &next_part, collect, &g, damaged) == 1 && next_part == 5 &&
	       g.n == 1 && g.e[0].cell.count == 1;
}

VT_TEST(wckpt_torn_newest_slot_falls_back_to_the_previous_checkpoint)
{
	char path[400];
	int damaged = 0;

	CHECK_EQ_INT(two_commits("torn"), 0);
	path_of(path, sizeof(path), VT_WCKPT_FILE_B);
	CHECK_EQ_INT(truncate(path, 60), 0);	/* inside the entry line */
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);
}

VT_TEST(wckpt_flipped_byte_falls_back_to_the_previous_checkpoint)
{
	char text[4096];
	long n;
	int damaged = 0;

	CHECK_EQ_INT(two_commits("flipped"), 0);
	n = read_file(VT_WCKPT_FILE_B, text, sizeof(text));
	CHECK(n > 40);
	text[n - 20] ^= 0x01;	/* a digit of the count line, still a digit or not */
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_B, text, (size_t)n), 0);
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);
}

VT_TEST(wckpt_no_file_loads_nothing)
{
	struct got g = { .n = 0 };
	uint64_t next_part = 9;
	int damaged = 9;

	CHECK_EQ_INT(vt_wckpt_load(dir_in("nothing"), &next_part, collect, &g, &damaged), 0);
	CHECK_EQ_INT(next_part, 0);
	CHECK_EQ_INT(damaged, 0);
	CHECK_EQ_INT(g.n, 0);
}

VT_TEST(wckpt_both_slots_damaged_load_nothing)
{
	struct got g = { .n = 0 };
	uint64_t next_part = 9;
	char path[400];
	int damaged = 0;

	CHECK_EQ_INT(two_commits("both"), 0);
	path_of(path, sizeof(path), VT_WCKPT_FILE_A);
	CHECK_EQ_INT(truncate(path, 0), 0);
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_B, "junk\n", 5), 0);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 0);
	CHECK_EQ_INT(damaged, 2);
	CHECK_EQ_INT(next_part, 0);
	CHECK_EQ_INT(g.n, 0);
}

VT_TEST(wckpt_callback_error_stops_load)
{
	struct got g = { .n = 0, .stop_after = 2 };
	struct vt_wckpt *w;
	int n = every_field();

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("stop")), 0);
	CHECK_EQ_INT(commit(w, 1, fields, n), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, NULL), -EIO);
	CHECK_EQ_INT(g.n, 2);
}

VT_TEST(wckpt_add_refuses_entries_the_format_cannot_hold)
{
	struct vt_wckpt_entry good = wckpt_entry("tablet", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0,
					   "home", 3);
	struct vt_wckpt_entry bad[20];
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	int n = 0;

	for (int i = 0; i < 20; i++)
		bad[i] = good;
	strcpy(bad[n++].plugin, "");
	strcpy(bad[n++].plugin, "Tablet");
	strcpy(bad[n++].plugin, "tab let");
	memset(bad[n++].plugin, 'a', VT_WCKPT_PLUGIN_MAX);	/* not terminated */
	strcpy(bad[n++].cell.label, "home page");
	strcpy(bad[n++].cell.label, "caf\xc3\xa9");
	strcpy(bad[n++].cell.label, "a\nopen");
	memset(bad[n++].cell.label, 'a', VT_WINDOW_LABEL_MAX);	/* not terminated */
	bad[n++].cell.metric = 0;
	bad[n++].cell.metric = VT_METRIC_COUNT;
	bad[n++].cell.dim2 = 8;
	bad[n++].cell.other = 2;
	bad[n++].cell.count = (uint64_t)INT64_MAX + 1;
	bad[n++].cell.length_s = 59;
	bad[n++].cell.length_s = 86401;
	bad[n++].start_ms = T0 + 1000;
	bad[n++].releasing = 2;
	bad[n++].start_ms = INT64_MAX / 900000 * 900000;	/* its end overflows */
	bad[n++].start_ms = -1;
	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("refused")), 0);
	vt_wckpt_begin(w, 1);
	CHECK_EQ_INT(vt_wckpt_add(w, &good), 0);
	for (int i = 0; i < n; i++)
		CHECK_EQ_INT(vt_wckpt_add(w, &bad[i]), -EINVAL);
	CHECK_EQ_INT(vt_wckpt_add(w, &good), 0);
	CHECK_EQ_INT(vt_wckpt_commit(w), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, NULL), 1);
	CHECK_EQ_INT(g.n, 2);
}

VT_TEST(wckpt_add_refuses_a_checkpoint_past_the_size_bound)
{
	struct vt_wckpt_entry e = wckpt_entry("tablet", 0, T0, VT_METRIC_KIOSK_SCREEN_VIEWS, 1, 0,
					"0123456789012345678901234567890", 3);
	struct vt_wckpt *w;
	int rc = 0;
	long added = 0;

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("big")), 0);
	vt_wckpt_begin(w, 1);
	while (rc == 0 && added < 100000) {
		rc = vt_wckpt_add(w, &e);
		added += rc == 0;
	}
	CHECK_EQ_INT(rc, -EFBIG);
	CHECK_EQ_INT(vt_wckpt_commit(w), 0);
	vt_wckpt_close(w);
	{
		struct got g = { .n = 0 };

		CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, NULL), 1);
		CHECK_EQ_INT(g.n, added);
	}
}

VT_TEST(wckpt_files_are_mode_0600)
{
	struct vt_wckpt_entry e = wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 1);
	struct vt_wckpt *w;
	struct stat st;
	char path[400];
	mode_t old = umask(0);

	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("mode")), 0);
	CHECK_EQ_INT(commit(w, 1, &e, 1), 0);
	CHECK_EQ_INT(commit(w, 2, &e, 1), 0);
	vt_wckpt_close(w);
	umask(old);
	path_of(path, sizeof(path), VT_WCKPT_FILE_A);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	path_of(path, sizeof(path), VT_WCKPT_FILE_B);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	/* A slot found with a wider mode is narrowed at the next write to it. */
	CHECK_EQ_INT(chmod(path, 0644), 0);
	CHECK_EQ_INT(vt_wckpt_open(&w, dir), 0);
	CHECK_EQ_INT(commit(w, 3, &e, 1), 0);	/* a */
	CHECK_EQ_INT(commit(w, 4, &e, 1), 0);	/* b */
	vt_wckpt_close(w);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
}

VT_TEST(wckpt_crash_mid_write_keeps_the_previous_checkpoint)
{
	struct vt_wckpt_entry a = wckpt_entry("tablet", 0, T0, VT_METRIC_KIOSK_SESSIONS, 1, 0, "", 1);
	struct vt_wckpt_entry b[3] = { a, a, a };
	char text[4096];
	struct vt_wckpt *w;
	int damaged = 0;
	long n;

	/* What B's write would put in slot b, made in another directory. */
	for (int i = 0; i < 3; i++)
		b[i].cell.count = 2;
	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("crash_b")), 0);
	CHECK_EQ_INT(commit(w, 0, &a, 1), 0);
	CHECK_EQ_INT(commit(w, 6, b, 3), 0);
	vt_wckpt_close(w);
	n = read_file(VT_WCKPT_FILE_B, text, sizeof(text));
	CHECK(n > 100);

	/* Commit A, then B's write stops half-way (a crash): A is loaded. */
	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("crash")), 0);
	CHECK_EQ_INT(commit(w, 5, &a, 1), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_B, text, (size_t)n / 2), 0);
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);
	/* All but the end line's newline is still not intact. */
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_B, text, (size_t)n - 1), 0);
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);

	/* After restart, the writer overwrites the half-written slot. */
	CHECK_EQ_INT(vt_wckpt_open(&w, dir), 0);
	CHECK_EQ_INT(commit(w, 7, b, 3), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_B), 2);
	{
		struct got g = { .n = 0 };
		uint64_t next_part;

		CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 1);
		CHECK_EQ_INT(damaged, 0);
		CHECK_EQ_INT(next_part, 7);
		CHECK_EQ_INT(g.n, 3);
	}
}

VT_TEST(wckpt_failed_commit_leaves_the_previous_checkpoint_newest)
{
	struct vt_wckpt_entry e[40];
	struct rlimit old, lim;
	struct vt_wckpt *w;
	int damaged = 0, rc;

	for (int i = 0; i < 40; i++)
		e[i] = wckpt_entry("rfid", 0, T0, VT_METRIC_RFID_PRESENCE, 4, 0, "04012345678901", 2);
	e[0].cell.count = 1;
	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("failed")), 0);
	CHECK_EQ_INT(commit(w, 5, e, 1), 0);
	/* A file size limit makes the write of B fail part-way (EFBIG). */
	CHECK_EQ_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 1000;
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = commit(w, 6, e + 1, 39);
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_EQ_INT(rc, -EFBIG);
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);	/* slot b, cut to nothing */
	/* The same checkpoint committed again goes to the same slot. */
	CHECK_EQ_INT(vt_wckpt_commit(w), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_B), 2);
	{
		struct got g = { .n = 0 };
		uint64_t next_part;

		CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 1);
		CHECK_EQ_INT(next_part, 6);
		CHECK_EQ_INT(g.n, 39);
	}
}

#define HEAD "vitrine-windows v1 3 17\n"
#define LINE "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -\n"

VT_TEST(wckpt_reads_the_documented_format)
{
	struct got g = { .n = 0 };
	uint64_t next_part;
	int damaged;

	dir_in("format");
	CHECK_EQ_INT(mkdir(dir, 0700), 0);
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A,
				  HEAD LINE
				  "releasing tablet -900000 900 3 2 0 1 0 5 0 18446744073709551615 --\n"),
		     0);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 1);
	CHECK_EQ_INT(damaged, 0);
	CHECK_EQ_INT(next_part, 17);
	CHECK_EQ_INT(g.n, 2);
	CHECK_STR(g.e[0].plugin, "footfall");
	CHECK_EQ_INT(g.e[0].releasing, 0);
	CHECK(g.e[0].start_ms == T0);
	CHECK_EQ_INT(g.e[0].cell.length_s, 900);
	CHECK_EQ_INT(g.e[0].cell.metric, 1);
	CHECK_EQ_INT(g.e[0].cell.dim1, 3);
	CHECK_EQ_INT(g.e[0].cell.dim2, 1);
	CHECK_EQ_INT(g.e[0].cell.other, 0);
	CHECK_EQ_INT(g.e[0].cell.count, 42);
	CHECK_EQ_INT(g.e[0].cell.k, 5);
	CHECK_EQ_INT(g.e[0].cell.epsilon_milli, 1000);
	CHECK_EQ_INT(g.e[0].cell.part, 7);
	CHECK_STR(g.e[0].cell.label, "");
	CHECK_EQ_INT(g.e[1].releasing, 1);
	CHECK(g.e[1].start_ms == -900000);
	CHECK_EQ_INT(g.e[1].cell.other, 1);
	CHECK(g.e[1].cell.part == UINT64_MAX);
	CHECK_STR(g.e[1].cell.label, "-");

	/* Equal generations: slot a is taken. */
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_B, HEAD), 0);
	g.n = 0;
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, NULL), 1);
	CHECK_EQ_INT(g.n, 2);
}

VT_TEST(wckpt_reader_refuses_anything_but_the_canonical_text)
{
	static const char *const bad[] = {
		"vitrine-windows v1 0 17\n",		/* generation 0 */
		"vitrine-windows v2 3 17\n",
		"vitrine-windows v1 3 17 \n",
		"vitrine-windows v1 03 17\n",
		"vitrine-windows v1 3 18446744073709551616\n",
		"vitrine-windows  v1 3 17\n",
		"vitrine-windows v1 3 17\r\n",
		HEAD "\n",				/* an empty line */
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 - x\n",
		HEAD "opened footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open Footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall +1795604400000 900 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall -0 900 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604401000 900 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 59 1 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 0 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 7 3 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 4294967296 1 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 3 8 0 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 3 1 2 42 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 9223372036854775808 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 042 5 1000 7 -\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 -x\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 a b\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 a\tb\n",
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 "
		     "01234567890123456789012345678901\n",	/* 32 characters */
		HEAD "open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 a\n" LINE LINE "x",
	};
	char text[4096];
	int damaged;

	dir_in("strict");
	CHECK_EQ_INT(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		damaged = 0;
		CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A, bad[i]), 0);
		if (vt_wckpt_load(dir, NULL, NULL, NULL, &damaged) != 0 || damaged != 1) {
			printf("  accepted: %s", bad[i]);
			CHECK(0);
		}
	}
	/* Bytes after the end line; an upper-case CRC; no header at all. */
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A, HEAD LINE), 0);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, NULL, NULL, &damaged), 1);
	CHECK(read_file(VT_WCKPT_FILE_A, text, sizeof(text)) > 0);
	strcat(text, "x\n");
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_A, text, strlen(text)), 0);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, NULL, NULL, &damaged), 0);
	snprintf(text, sizeof(text), HEAD "end %08" PRIX32 "\n", vt_crc32c(0, HEAD, strlen(HEAD)));
	CHECK(strpbrk(text + strlen(HEAD), "ABCDEF") != NULL);
	CHECK_EQ_INT(write_file(VT_WCKPT_FILE_A, text, strlen(text)), 0);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, NULL, NULL, &damaged), 0);
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A, ""), 0);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, NULL, NULL, &damaged), 0);
	CHECK_EQ_INT(damaged, 1);
}

VT_TEST(wckpt_slot_past_the_size_bound_is_damaged)
{
	char path[400];
	int damaged = 0;

	CHECK_EQ_INT(two_commits("huge"), 0);
	path_of(path, sizeof(path), VT_WCKPT_FILE_B);
	CHECK_EQ_INT(truncate(path, VT_WCKPT_FILE_MAX + 1), 0);
	CHECK(loads_a(&damaged));
	CHECK_EQ_INT(damaged, 1);
}

VT_TEST(wckpt_generation_starts_again_after_the_last)
{
	struct vt_wckpt_entry e = wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 8);
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	uint64_t next_part;
	int damaged = 0;

	dir_in("wrap");
	CHECK_EQ_INT(mkdir(dir, 0700), 0);
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A, "vitrine-windows v1 18446744073709551615 3\n"), 0);
	CHECK_EQ_INT(vt_wckpt_open(&w, dir), 0);
	CHECK_EQ_INT(commit(w, 4, &e, 1), 0);
	vt_wckpt_close(w);
	CHECK_EQ_INT(generation_of(VT_WCKPT_FILE_B), 1);
	CHECK_EQ_INT(vt_wckpt_load(dir, &next_part, collect, &g, &damaged), 1);
	CHECK_EQ_INT(damaged, 1);	/* slot a, cut to nothing */
	CHECK_EQ_INT(next_part, 4);
	CHECK_EQ_INT(g.n, 1);
}

/* Version 2: each window's clock (clock.h) and the boot it counts in. */
VT_TEST(wckpt_keeps_each_window_clock_and_the_boot_it_counts_in)
{
	static const uint8_t boot[VT_OS_BOOT_ID_LEN] = { 0xa7, 0xc2, 0x75, 0xb2, 0x77, 0xf8, 0x43,
							 0xf9, 0xba, 0x6d, 0x46, 0xcd, 0xf8, 0xb9,
							 0xc2, 0xbc };
	struct vt_wckpt_entry e[3] = {
		wckpt_entry("footfall", 0, T0, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 42),
		wckpt_entry("footfall", 1, 900000, VT_METRIC_FOOTFALL_PASSES, 1, 1, "", 12),
		wckpt_entry("tablet", 1, 0, VT_METRIC_KIOSK_SESSIONS, 2, 0, "", 9),
	};
	struct got g = { .n = 0 };
	struct vt_wckpt *w;
	char text[4096];
	int damaged;

	e[1].clock_unsynced = 1;
	e[1].start_mono = 600000;
	e[2].clock_unsynced = 2;	/* an earlier boot's: no time since boot */
	e[0].clock_unsynced = 1;
	e[0].start_mono = -300000;	/* began before the boot */
	CHECK_EQ_INT(vt_wckpt_open(&w, dir_in("clock")), 0);
	vt_wckpt_set_boot(w, boot);
	CHECK_EQ_INT(commit(w, 5, e, 3), 0);
	vt_wckpt_close(w);
	CHECK(read_file(VT_WCKPT_FILE_A, text, sizeof(text)) > 0);
	CHECK(strstr(text, "vitrine-windows v2 1 5 a7c275b277f843f9ba6d46cdf8b9c2bc\n") == text);
	CHECK(strstr(text, "releasing footfall 900000 900 1 1 1 0 12 5 1000 7 1 600000 -\n") != NULL);
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, &damaged), 1);
	CHECK_EQ_INT(g.n, 3);
	for (int i = 0; i < 3; i++) {
		CHECK(memcmp(g.e[i].boot_id, boot, sizeof(boot)) == 0);
		memset(g.e[i].boot_id, 0, sizeof(boot));
		CHECK(same(&g.e[i], &e[i]));
	}
	/* A version 1 file has no clock: every window was on a trusted one. */
	CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_B, "vitrine-windows v1 9 5\n" LINE), 0);
	g.n = 0;
	CHECK_EQ_INT(vt_wckpt_load(dir, NULL, collect, &g, &damaged), 1);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(g.e[0].clock_unsynced, 0);
	CHECK(g.e[0].start_mono == 0);
	/* What add refuses, load refuses. */
	CHECK_EQ_INT(vt_wckpt_open(&w, dir), 0);
	vt_wckpt_begin(w, 5);
	e[0].clock_unsynced = 3;
	CHECK_EQ_INT(vt_wckpt_add(w, &e[0]), -EINVAL);
	e[0].clock_unsynced = 0;
	e[0].start_mono = 5;
	CHECK_EQ_INT(vt_wckpt_add(w, &e[0]), -EINVAL);
	e[0].clock_unsynced = 2;
	CHECK_EQ_INT(vt_wckpt_add(w, &e[0]), -EINVAL);
	e[0].clock_unsynced = 1;
	e[0].start_mono = -VT_WCKPT_MONO_MAX - 1;
	CHECK_EQ_INT(vt_wckpt_add(w, &e[0]), -EINVAL);
	vt_wckpt_close(w);
	{
		char path[400];

		static const char *const bad[] = {
			"vitrine-windows v2 3 17\n",
			"vitrine-windows v2 3 17 A7C275B277F843F9BA6D46CDF8B9C2BC\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2b\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n" LINE,
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 3 0 -\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 0 5 -\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 2 5 -\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 1 1125899906842625 -\n",
			"vitrine-windows v2 3 17 a7c275b277f843f9ba6d46cdf8b9c2bc\n"
			"open footfall 1795604400000 900 1 3 1 0 42 5 1000 7 1 -0 -\n",
		};

		path_of(path, sizeof(path), VT_WCKPT_FILE_B);
		CHECK_EQ_INT(unlink(path), 0);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_EQ_INT(write_sealed(VT_WCKPT_FILE_A, bad[i]), 0);
			if (vt_wckpt_load(dir, NULL, NULL, NULL, &damaged) != 0 || damaged != 1) {
				printf("  accepted: %s", bad[i]);
				CHECK(0);
			}
		}
	}
}

VT_TEST_MAIN()
