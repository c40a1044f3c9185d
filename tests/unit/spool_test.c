/*
 * spool_test.c - the on-disk spool: frames survive a reopen, only durable
 * frames are handed out, acknowledgments retire them, a torn tail is cut
 * and a damaged record skipped with a count, the byte and age bounds drop
 * the oldest with a count (a full file system: tests/fault/disk_full.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "err.h"
#include "spool.h"
#include "vt_os.h"
#include "vt_test.h"

static char dir[300];
static int64_t T0 = VT_OS_CLOCK_SET_MS;	/* wall time of "seq 0" */

static struct vt_spool_conf conf_in(const char *name)
{
	struct vt_spool_conf c = {
		.dir = dir,
		.max_bytes = 1 << 20,
		.max_age_ms = 0,
		.sync_ms = 1000,
		.sync_frames = 1000,
		.max_frame = 4096,
	};

	snprintf(dir, sizeof(dir), "%s/%s", vt_test_tmpdir(), name);
	return c;
}

/* A frame whose bytes say which seq it belongs to. */
static size_t frame_for(uint64_t seq, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
	return len;
}

static int append(struct vt_spool *s, uint64_t seq, size_t len)
{
	uint8_t buf[4096];

	frame_for(seq, buf, len);
	return vt_spool_append(s, seq, (uint32_t)seq % 7 + 1, T0 + 1000 * (int64_t)seq, buf, len,
			       0);
}

/* Peek and advance through everything durable; check each frame's bytes. */
static int drain(struct vt_spool *s, uint64_t *seqs, int max)
{
	struct vt_spool_rec r;
	uint8_t want[4096];
	int n = 0;

	while (n < max && vt_spool_peek(s, &r) == 1) {
		frame_for(r.seq, want, r.len);
		if (memcmp(want, r.frame, r.len) != 0 || r.readings != r.seq % 7 + 1)
			return -1;
		seqs[n++] = r.seq;
		vt_spool_advance(s);
	}
	return n;
}

/* The path of the only (or first) segment file in dir. */
static void first_segment(char *path, size_t len)
{
	snprintf(path, len, "%s/%016llx.vts", dir, 1ULL);
}

VT_TEST(crc32c_matches_rfc3720_check_value)
{
	CHECK_EQ_INT(vt_crc32c(0, "123456789", 9), 0xE3069283u);
	CHECK_EQ_INT(vt_crc32c(vt_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

VT_TEST(frames_survive_reopen_in_order_and_ack_retires_them)
{
	struct vt_spool_conf c = conf_in("reopen");
	struct vt_spool *s;
	uint64_t seqs[64];
	char path[400];

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 20; q++)
		CHECK_EQ_INT(append(s, q, 100 + q), 0);
	CHECK_EQ_INT(drain(s, seqs, 64), 0);	/* nothing durable yet */
	CHECK_EQ_INT(vt_spool_sync(s, 0, 1), 0);
	CHECK_EQ_INT(drain(s, seqs, 64), 20);
	CHECK_EQ_INT(seqs[0], 1);
	CHECK_EQ_INT(seqs[19], 20);
	CHECK_EQ_INT(vt_spool_outstanding(s), 20);
	CHECK_EQ_INT(vt_spool_ack(s, 8), 8);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 12);
	CHECK_EQ_INT(vt_spool_floor(s, 21), 9);
	CHECK_EQ_INT(vt_spool_last_seq(s), 20);
	vt_spool_close(s);

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	/* The ack was saved: only the unacknowledged frames come back. */
	CHECK_EQ_INT(vt_spool_stats(s)->acked_seq, 8);
	CHECK_EQ_INT(vt_spool_ack(s, 8), 0);
	CHECK_EQ_INT(drain(s, seqs, 64), 12);
	CHECK_EQ_INT(seqs[0], 9);
	CHECK_EQ_INT(vt_spool_last_seq(s), 20);
	CHECK_EQ_INT(append(s, 20, 10), -EINVAL);	/* sequence must grow */
	CHECK_EQ_INT(append(s, 1021, 10), 0);
	vt_spool_close(s);

	/* Without the saved ack (lost in a crash) they come back too: the
	 * aggregator counts the duplicates. Nothing is lost either way. */
	snprintf(path, sizeof(path), "%s/acked", dir);
	CHECK(unlink(path) == 0);
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(drain(s, seqs, 64), 21);
	CHECK_EQ_INT(vt_spool_ack(s, 1021), 21);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 0);
	vt_spool_close(s);
	/* Everything acknowledged: no segment is left on disk, and the saved
	 * ack still says where the sequence got to (the next frame's prev). */
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 0);
	CHECK_EQ_INT(vt_spool_last_seq(s), 1021);
	vt_spool_close(s);
}

VT_TEST(rewind_hands_out_unacknowledged_frames_again)
{
	struct vt_spool_conf c = conf_in("rewind");
	struct vt_spool *s;
	uint64_t seqs[64];

	c.sync_ms = 0;	/* fsync per frame */
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 10; q++)
		CHECK_EQ_INT(append(s, q, 50), 0);
	CHECK_EQ_INT(vt_spool_stats(s)->fsyncs, 10);
	CHECK_EQ_INT(drain(s, seqs, 64), 10);
	CHECK_EQ_INT(vt_spool_ack(s, 4), 4);
	vt_spool_rewind(s);
	CHECK_EQ_INT(drain(s, seqs, 64), 6);
	CHECK_EQ_INT(seqs[0], 5);
	vt_spool_close(s);
}

VT_TEST(torn_tail_is_cut_and_appends_continue)
{
	struct vt_spool_conf c = conf_in("torn");
	struct vt_spool *s;
	char path[400];
	struct stat st;
	uint64_t seqs[64];

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 5; q++)
		CHECK_EQ_INT(append(s, q, 200), 0);
	vt_spool_close(s);
	first_segment(path, sizeof(path));
	CHECK(stat(path, &st) == 0);
	CHECK(truncate(path, st.st_size - 7) == 0);

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 4);
	CHECK_EQ_INT(vt_spool_stats(s)->cut_bytes, 228 - 7);
	CHECK_EQ_INT(vt_spool_stats(s)->dropped_frames[VT_SPOOL_DROP_CORRUPT], 0);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ_INT(st.st_size, 4 * 228);	/* cut on disk too */
	CHECK_EQ_INT(append(s, 1001, 200), 0);
	vt_spool_close(s);
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(drain(s, seqs, 64), 5);
	CHECK_EQ_INT(seqs[4], 1001);
	vt_spool_close(s);
}

VT_TEST(damaged_record_in_the_middle_is_skipped_and_counted)
{
	struct vt_spool_conf c = conf_in("flip");
	struct vt_spool *s;
	struct vt_spool_stats seen;
	char path[400];
	uint64_t seqs[64];
	int fd;
	uint8_t b;

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 5; q++)
		CHECK_EQ_INT(append(s, q, 200), 0);
	vt_spool_close(s);
	first_segment(path, sizeof(path));
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	/* One byte of record 3's frame, then its length field. */
	CHECK(pread(fd, &b, 1, 2 * 228 + 100) == 1);
	b ^= 0x10;
	CHECK(pwrite(fd, &b, 1, 2 * 228 + 100) == 1);
	b = 0xff;
	CHECK(pwrite(fd, &b, 1, 3 * 228) == 1);
	close(fd);

	CHECK_EQ_INT(vt_spool_inspect(dir, &seen, NULL, NULL), 0);
	CHECK_EQ_INT(seen.frames, 3);
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(vt_spool_stats(s)->dropped_frames[VT_SPOOL_DROP_CORRUPT], 1);
	CHECK_EQ_INT(vt_spool_stats(s)->corrupt_bytes, 2 * 228);
	CHECK_EQ_INT(drain(s, seqs, 64), 3);
	CHECK_EQ_INT(seqs[0], 1);
	CHECK_EQ_INT(seqs[1], 2);
	CHECK_EQ_INT(seqs[2], 5);
	CHECK_EQ_INT(vt_spool_floor(s, 6), 1);
	CHECK_EQ_INT(vt_spool_ack(s, 2), 2);
	CHECK_EQ_INT(vt_spool_floor(s, 6), 5);	/* 3 and 4 are given up */
	vt_spool_close(s);
}

VT_TEST(byte_bound_drops_oldest_segments_with_a_count)
{
	struct vt_spool_conf c = conf_in("bound");
	const struct vt_spool_stats *st;
	struct vt_spool *s;
	uint64_t seqs[512];
	int n;

	c.max_bytes = 64 * 1024;
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 300; q++)
		CHECK_EQ_INT(append(s, q, 1000), 0);
	CHECK_EQ_INT(vt_spool_sync(s, 0, 1), 0);
	st = vt_spool_stats(s);
	CHECK(st->bytes <= c.max_bytes);
	CHECK(st->dropped_frames[VT_SPOOL_DROP_FULL] > 0);
	CHECK_EQ_INT(st->frames + st->dropped_frames[VT_SPOOL_DROP_FULL], 300);
	n = drain(s, seqs, 512);
	CHECK_EQ_INT((uint64_t)n, st->frames);
	CHECK_EQ_INT(seqs[n - 1], 300);	/* the newest are kept */
	CHECK_EQ_INT(seqs[0], 300 - n + 1);
	vt_spool_close(s);
}

VT_TEST(age_bound_drops_old_frames_with_a_count)
{
	struct vt_spool_conf c = conf_in("age");
	struct vt_spool *s;

	c.max_bytes = 64 * 1024;	/* 4 KiB segments */
	c.max_age_ms = 50000;
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	for (uint64_t q = 1; q <= 100; q++)	/* wall time = T0 + 1000 * seq */
		CHECK_EQ_INT(append(s, q, 500), 0);
	vt_spool_expire(s, 1000000);	/* the clock is not set: no age known */
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 100);
	vt_spool_expire(s, T0 + 100000);
	CHECK(vt_spool_stats(s)->dropped_frames[VT_SPOOL_DROP_AGE] > 0);
	CHECK(vt_spool_floor(s, 101) >= 40);
	CHECK(vt_spool_floor(s, 101) <= 50);
	vt_spool_expire(s, T0 + 1000000);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 0);
	CHECK_EQ_INT(vt_spool_stats(s)->dropped_frames[VT_SPOOL_DROP_AGE], 100);
	CHECK_EQ_INT(append(s, 101, 500), 0);	/* and it goes on */
	vt_spool_close(s);

	/* Frames stamped before the clock was set are never aged out. */
	c = conf_in("age_unset");
	c.max_age_ms = 1000;
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	T0 = 5000;
	CHECK_EQ_INT(append(s, 1, 500), 0);
	T0 = VT_OS_CLOCK_SET_MS;
	vt_spool_expire(s, T0 + 86400000);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 1);
	vt_spool_close(s);
}

VT_TEST(garbage_files_do_not_stop_the_spool)
{
	struct vt_spool_conf c = conf_in("garbage");
	struct vt_spool *s;
	char path[400];
	uint8_t junk[5000];
	FILE *f;

	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	vt_spool_close(s);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7919 >> 3);
	snprintf(path, sizeof(path), "%s/%016llx.vts", dir, 5ULL);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fwrite(junk, 1, sizeof(junk), f);
	fclose(f);
	CHECK_EQ_INT(vt_spool_open(&s, &c), 0);
	CHECK_EQ_INT(vt_spool_stats(s)->frames, 0);
	CHECK_EQ_INT(vt_spool_stats(s)->cut_bytes, sizeof(junk));
	CHECK(access(path, F_OK) != 0);	/* nothing intact: removed */
	CHECK_EQ_INT(append(s, 9, 100), 0);
	vt_spool_close(s);
}

VT_TEST_MAIN()
