/*
 * plugins/footfall/footfall_sources_test.c - tests for the real footfall
 * sources: the GPIO driver over the replay provider (recorded edges with
 * bounce, U-turns and a stuck beam give the expected passes; missing chips
 * and lines give clear errors), the libgpiod provider on a chip that does
 * not exist, the counter line parser, and the people counter over TCP and
 * over a serial port (a pty pair, which is a real terminal).
 *
 * Linked into plugin_footfall_test with footfall_test.c (which has main).
 * The plugin is driven through `vitrine_plugin` with the fake host of
 * plugins/common/test_host.c, or a copy of it that can watch descriptors.
 */
#include <vitrine/plugin.h>

#include "counter_line.h"
#include "gpio_replay_file.h"
#include "vt_test.h"

#include "common/test_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define START_MS INT64_C(1795597200000)	/* 2026-11-25T09:00:00Z */

/* ---- helpers ------------------------------------------------------------- */

static const char *write_file(const char *name, const char *text)
{
	static char path[8][300];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 300, "%s/%s", vt_test_tmpdir(), name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	return p;
}

/* One person through a door whose beams are lines a and b of chip: first
 * beam down at t, second lag later, first up 400 ms after t, second up. */
static void replay_pass(FILE *f, const char *chip, int first, int second, long t,
			long lag, int active_low)
{
	const char *brk = active_low ? "falling" : "rising";
	const char *clr = active_low ? "rising" : "falling";

	fprintf(f, "%ld %s %d %s\n", t, chip, first, brk);
	fprintf(f, "%ld %s %d %s\n", t + lag, chip, second, brk);
	fprintf(f, "%ld %s %d %s\n", t + 400000, chip, first, clr);
	fprintf(f, "%ld %s %d %s\n", t + 400000 + lag, chip, second, clr);
}

/* Door 1 = gpiochip0 lines 17 (A) and 27 (B): two in (the first with a
 * bouncing beam A), one out, a U-turn, beam A blocked for five minutes
 * while 100 people squeeze past on B, one more in once it clears. */
static const char *write_door_day(void)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/day.replay", vt_test_tmpdir());
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs("# a recorded day at door 1\nchip gpiochip0 54\n\n", f);
	fputs("1000000 gpiochip0 17 falling\n1000020 gpiochip0 17 rising\n"
	      "1000040 gpiochip0 17 falling\t# bounce\n1000900 gpiochip0 17 rising\n"
	      "1001000 gpiochip0 17 falling\n1080000 gpiochip0 27 falling\n"
	      "1400000 gpiochip0 17 rising\n1480000 gpiochip0 27 rising\n", f);
	replay_pass(f, "gpiochip0", 17, 27, 3000000, 70000, 1);
	replay_pass(f, "gpiochip0", 27, 17, 5000000, 90000, 1);
	fputs("7000000 gpiochip0 17 falling\n7300000 gpiochip0 17 rising\n", f);
	fputs("10000000 gpiochip0 17 falling\n", f);
	for (long i = 0; i < 100; i++)
		fprintf(f, "%ld gpiochip0 27 falling\n%ld gpiochip0 27 rising\n",
			20000000 + i * 2500000, 20300000 + i * 2500000);
	fputs("310000000 gpiochip0 17 rising\n", f);
	replay_pass(f, "gpiochip0", 17, 27, 320000000, 80000, 1);
	fputs("end 330000000\n", f);
	fclose(f);
	return strdup(path);
}

static void expect_reading(int *vt_failed, const struct vitrine_reading *r, uint32_t door,
			   uint32_t dir, int64_t t_ms)
{
	CHECK_EQ_INT(r->kind, VITRINE_KIND_FOOTFALL);
	CHECK_EQ_INT(r->u.footfall.door, door);
	CHECK_EQ_INT(r->u.footfall.direction, dir);
	CHECK_EQ_INT(r->u.footfall.count, 1);
	CHECK_EQ_INT(r->time_ms, t_ms);
}

#define EXPECT(r, door, dir, t)                                                \
	do {                                                                   \
		expect_reading(vt_failed, (r), (door), (dir), (t));            \
		if (*vt_failed)                                                \
			return;                                                \
	} while (0)

/* ---- the GPIO driver over the replay provider ---------------------------- */

VT_TEST(gpio_replay_day_gives_the_passes_and_reports_the_stuck_beam_once)
{
	char *path = (char *)write_door_day();
	struct vitrine_ctx *ctx = vp_fake_new(100);
	struct vp_run_result res;

	CHECK(path);
	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", "gpiochip0 17 27");
	vp_fake_set(ctx, "gpio_replay", path);
	res = vp_run_plugin(&vitrine_plugin, ctx, 50, 50);
	CHECK_EQ_INT(res.init_rc, 0);
	CHECK(res.finished);	/* the replay ended */
	CHECK_EQ_INT(res.failures, 0);
	CHECK_EQ_INT(ctx->n, 4);
	EXPECT(&ctx->readings[0], 1, VITRINE_DIR_IN, START_MS + 1480);
	EXPECT(&ctx->readings[1], 1, VITRINE_DIR_IN, START_MS + 3470);
	EXPECT(&ctx->readings[2], 1, VITRINE_DIR_OUT, START_MS + 5490);
	EXPECT(&ctx->readings[3], 1, VITRINE_DIR_IN, START_MS + 320480);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "door 1 beam A blocked for more than 120000 ms"), 1);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "door 1 beam A is clear again"), 1);
	CHECK(strstr(ctx->log, "stopping: 4 passes, 1 U-turns, 1 stuck beams, 0 invalid edges, 0 source failures"));
	vp_fake_free(ctx);
	free(path);
}

VT_TEST(gpio_beam_blocked_at_open_is_seen_from_its_level)
{
	/* Beam A is blocked when the line is requested (its first edge is
	 * "rising": it was low, and active_low); it clears 150 s later. */
	const char *path = write_file("blocked.replay",
				      "chip gpiochip0 54\n"
				      "150000000 gpiochip0 17 rising\n"
				      "160000000 gpiochip0 17 falling\n160070000 gpiochip0 27 falling\n"
				      "160400000 gpiochip0 17 rising\n160470000 gpiochip0 27 rising\n"
				      "end 170000000\n");
	struct vitrine_ctx *ctx = vp_fake_new(10);
	struct vp_run_result res;

	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", "gpiochip0 17 27");
	vp_fake_set(ctx, "gpio_replay", path);
	res = vp_run_plugin(&vitrine_plugin, ctx, 50, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(ctx->n, 1);
	EXPECT(&ctx->readings[0], 1, VITRINE_DIR_IN, START_MS + 160470);
	/* blocked from the start: stuck after 120 s, clear again at 150 s */
	CHECK_EQ_INT(vp_count_substr(ctx->log, "door 1 beam A blocked for more than 120000 ms"), 1);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "door 1 beam A is clear again"), 1);
	vp_fake_free(ctx);
}

/* replay_pass() writes edges person by person: the file wants them in
 * time order. Sorts the edge lines of text (chip lines have no time and
 * stay first) and writes them to a file. */
static const char *write_sorted(const char *name, char *text)
{
	char *lines[64], *save = NULL, sorted[4096] = "";
	int n = 0;

	for (char *l = strtok_r(text, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && atol(lines[j - 1]) > atol(lines[j]); j--) {
			char *x = lines[j];

			lines[j] = lines[j - 1];
			lines[j - 1] = x;
		}
	for (int i = 0; i < n; i++)
		strcat(strcat(sorted, lines[i]), "\n");
	return write_file(name, sorted);
}

VT_TEST(gpio_replay_merges_lines_of_two_chips_oldest_first)
{
	char text[4096];
	FILE *f = fmemopen(text, sizeof(text), "w");
	struct vitrine_ctx *ctx = vp_fake_new(100);
	struct vp_run_result res;

	CHECK(f);
	/* Receivers that drive their line high when the beam breaks. */
	fputs("chip gpiochip0 54\nchip pinctrl-bcm2711 58\n", f);
	replay_pass(f, "gpiochip0", 5, 6, 1000000, 80000, 0);	/* door 1 in */
	replay_pass(f, "pinctrl-bcm2711", 22, 23, 1100000, 90000, 0);	/* door 2 out */
	replay_pass(f, "pinctrl-bcm2711", 23, 22, 2000000, 80000, 0);	/* door 2 in */
	replay_pass(f, "gpiochip0", 6, 5, 2050000, 90000, 0);	/* door 1 out */
	fclose(f);
	vp_fake_set(ctx, "gpio_replay", write_sorted("two.replay", text));
	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", "gpiochip0 5 6");
	vp_fake_set(ctx, "door2", "pinctrl-bcm2711 23 22");
	vp_fake_set(ctx, "active_low", "0");
	res = vp_run_plugin(&vitrine_plugin, ctx, 50, 50);
	CHECK(res.finished);
	CHECK_EQ_INT(ctx->n, 4);
	EXPECT(&ctx->readings[0], 1, VITRINE_DIR_IN, START_MS + 1480);
	EXPECT(&ctx->readings[1], 2, VITRINE_DIR_OUT, START_MS + 1590);
	EXPECT(&ctx->readings[2], 2, VITRINE_DIR_IN, START_MS + 2480);
	EXPECT(&ctx->readings[3], 1, VITRINE_DIR_OUT, START_MS + 2540);
	vp_fake_free(ctx);
}

VT_TEST(gpio_replay_paced_at_speed_delivers_as_time_passes)
{
	const char *path = write_file("paced.replay",
				      "chip gpiochip0 54\n"
				      "0 gpiochip0 17 falling\n80000 gpiochip0 27 falling\n"
				      "400000 gpiochip0 17 rising\n480000 gpiochip0 27 rising\n"
				      "end 500000\n");
	struct vitrine_ctx *ctx = vp_fake_new(10);
	struct vp_run_result res;

	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", "gpiochip0 17 27");
	vp_fake_set(ctx, "gpio_replay", path);
	vp_fake_set(ctx, "speed", "5");	/* the half second in 0.1 s of real time */
	res = vp_run_plugin(&vitrine_plugin, ctx, 1, 50);
	CHECK(!res.finished);	/* the recording has not happened yet */
	CHECK_EQ_INT(ctx->n, 0);
	{
		void *state = NULL;
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		int rc = 0;

		ctx->n = 0;
		CHECK_EQ_INT(vitrine_plugin.init(&vp_fake_host, ctx, &state), 0);
		for (int i = 0; i < 100 && rc != 1; i++) {
			rc = vitrine_plugin.collect(state);
			nanosleep(&pause, NULL);
		}
		vitrine_plugin.fini(state);
		CHECK_EQ_INT(rc, 1);
	}
	CHECK_EQ_INT(ctx->n, 1);
	EXPECT(&ctx->readings[0], 1, VITRINE_DIR_IN, START_MS + 480);
	vp_fake_free(ctx);
}

/* init succeeds, every collect fails with -ENODEV, the message is clear. */
static void check_open_error(int *vt_failed, const char *door1, const char *replay,
			     const char *message)
{
	struct vitrine_ctx *ctx = vp_fake_new(10);
	struct vp_run_result res;

	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", door1);
	if (replay)
		vp_fake_set(ctx, "gpio_replay", replay);
	res = vp_run_plugin(&vitrine_plugin, ctx, 3, 50);
	if (!strstr(ctx->log, message))
		fprintf(stderr, "expected \"%s\" in:\n%s", message, ctx->log);
	CHECK_EQ_INT(res.init_rc, 0);
	CHECK_EQ_INT(res.failures, 3);
	CHECK_EQ_INT(ctx->n, 0);
	CHECK_EQ_INT(vp_count_substr(ctx->log, message), 1);	/* not repeated */
	CHECK_EQ_INT(vp_count_substr(ctx->log, "still unavailable (No such device)"), 3);
	CHECK(strstr(ctx->log, "4 source failures"));
	vp_fake_free(ctx);
}

VT_TEST(gpio_missing_line_or_chip_is_named_with_the_key_to_check)
{
	const char *path = write_file("chips.replay", "chip gpiochip0 54\n");

	check_open_error(vt_failed, "gpiochip0 17 99", path,
			 "door 1 beam B: gpiochip0 line 99 does not exist (the chip has 54 lines); check footfall.door1");
	if (*vt_failed)
		return;
	check_open_error(vt_failed, "gpiochip4 17 27", path,
			 "door 1 beam A: gpiochip4 does not exist");
}

VT_TEST(gpiod_provider_names_a_chip_that_does_not_exist)
{
	check_open_error(vt_failed, "gpiochip77 17 27", NULL,
			 "beam source \"gpio\" cannot open: door 1 beam A: gpiochip77 does not exist (no /dev/gpiochip77");
}

VT_TEST(gpio_bad_replay_file_is_refused_with_its_line)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);
	void *state = NULL;

	vp_fake_set(ctx, "source", "gpio");
	vp_fake_set(ctx, "door1", "gpiochip0 17 27");
	vp_fake_set(ctx, "gpio_replay",
		    write_file("bad.replay", "chip gpiochip0 54\n10 gpiochip0 17 falling\n5 gpiochip0 17 rising\n"));
	CHECK_EQ_INT(vitrine_plugin.init(&vp_fake_host, ctx, &state), -EINVAL);
	CHECK(strstr(ctx->log, "bad.replay: line 3: time 5 is before the previous edge's"));
	vp_fake_free(ctx);
}

/* init with the given keys (pairs, NULL-ended) fails with -EINVAL and one
 * error naming footfall.<named>. */
static int refused(const char *named, ...)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);
	char want[64];
	void *state = NULL;
	va_list ap;
	int rc, ok;

	va_start(ap, named);
	for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *))
		vp_fake_set(ctx, k, va_arg(ap, const char *));
	va_end(ap);
	rc = vitrine_plugin.init(&vp_fake_host, ctx, &state);
	snprintf(want, sizeof(want), "footfall.%s = ", named);
	ok = rc == -EINVAL && ctx->errors == 1 && strstr(ctx->log, want);
	if (!ok)
		fprintf(stderr, "%s: init %d, %d errors:\n%s", named, rc, ctx->errors, ctx->log);
	if (rc == 0)
		vitrine_plugin.fini(state);
	vp_fake_free(ctx);
	return ok;
}

VT_TEST(gpio_and_counter_reject_bad_config)
{
	CHECK(refused("source", "source", "gpio", NULL));	/* no door */
	CHECK(refused("door1", "source", "gpio", "door1", "gpiochip0 17", NULL));
	CHECK(refused("door1", "source", "gpio", "door1", "gpiochip0 17 17", NULL));
	CHECK(refused("door2", "source", "gpio", "door1", "gpiochip0 17 27", "door2",
		      "gpiochip0 22 27", NULL));
	CHECK(refused("door3", "source", "gpio", "door3", "gpiochip0 17 -1", NULL));
	CHECK(refused("bias", "source", "gpio", "door1", "gpiochip0 17 27", "bias", "up", NULL));
	CHECK(refused("active_low", "source", "gpio", "door1", "gpiochip0 17 27",
		      "active_low", "2", NULL));
	CHECK(refused("debounce_ms", "debounce_ms", "1001", NULL));
	CHECK(refused("counter_listen", "source", "counter", "counter_listen", "localhost:7878",
		      NULL));
	CHECK(refused("counter_listen", "source", "counter", "counter_listen", "off", NULL));
	CHECK(refused("counter_serial", "source", "counter", "counter_serial",
		      "/dev/ttyUSB0 9601", NULL));
	CHECK(refused("counter_serial", "source", "counter", "counter_serial", "ttyUSB0 9600",
		      NULL));
}

/* ---- the counter line parser --------------------------------------------- */

VT_TEST(counter_line_parser_accepts_the_protocol_and_refuses_the_rest)
{
	static const struct {
		const char *line;
		int status;
		uint32_t door, in, out;
	} cases[] = {
		{ "1 3 2", COUNTER_LINE_OK, 1, 3, 2 },
		{ "255\t0  1000\r", COUNTER_LINE_OK, 255, 0, 1000 },
		{ "  7 1 0  ", COUNTER_LINE_OK, 7, 1, 0 },
		{ "", COUNTER_LINE_BLANK, 0, 0, 0 },
		{ " \t\r", COUNTER_LINE_BLANK, 0, 0, 0 },
		{ "0 1 1", COUNTER_LINE_DOOR, 0, 0, 0 },
		{ "256 1 1", COUNTER_LINE_DOOR, 0, 0, 0 },
		{ "+1 1 1", COUNTER_LINE_DOOR, 0, 0, 0 },
		{ "1 -1 1", COUNTER_LINE_COUNT, 0, 0, 0 },
		{ "1 1 1001", COUNTER_LINE_COUNT, 0, 0, 0 },
		{ "1 1001 0", COUNTER_LINE_COUNT, 0, 0, 0 },
		{ "1 1 100000", COUNTER_LINE_COUNT, 0, 0, 0 },
		{ "1 1 99999999999999999999", COUNTER_LINE_COUNT, 0, 0, 0 },
		{ "1 1", COUNTER_LINE_FIELDS, 0, 0, 0 },
		{ "1 1 1 2026-11-25T09:00:00Z x", COUNTER_LINE_FIELDS, 0, 0, 0 },
		{ "1 1 1 2026-11-25_09:00:00", COUNTER_LINE_TIME, 0, 0, 0 },
		{ "1 1 1 2026-02-30T09:00:00Z", COUNTER_LINE_TIME, 0, 0, 0 },
		{ "1 1 1\x01", COUNTER_LINE_NOT_TEXT, 0, 0, 0 },
		{ "1 1 1 caf\xc3\xa9", COUNTER_LINE_NOT_TEXT, 0, 0, 0 },
	};
	struct counter_line l;
	char long_line[COUNTER_LINE_MAX + 2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = counter_line_parse(cases[i].line, strlen(cases[i].line), &l);

		if (st != cases[i].status)
			fprintf(stderr, "\"%s\": %s\n", cases[i].line, counter_line_reason(st));
		CHECK_EQ_INT(st, cases[i].status);
		if (st != COUNTER_LINE_OK)
			continue;
		CHECK_EQ_INT(l.door, cases[i].door);
		CHECK_EQ_INT(l.in, cases[i].in);
		CHECK_EQ_INT(l.out, cases[i].out);
		CHECK_EQ_INT(l.has_time, 0);
	}
	CHECK_EQ_INT(counter_line_parse("2 0 1 2026-11-25T09:00:00Z", 26, &l), COUNTER_LINE_OK);
	CHECK_EQ_INT(l.has_time, 1);
	CHECK_EQ_INT(l.time_ms, START_MS);
	CHECK_EQ_INT(counter_line_parse("1 1\0 1", 6, &l), COUNTER_LINE_NOT_TEXT);
	memset(long_line, ' ', sizeof(long_line));
	memcpy(long_line, "1 1 1", 5);
	CHECK_EQ_INT(counter_line_parse(long_line, COUNTER_LINE_MAX, &l), COUNTER_LINE_OK);
	CHECK_EQ_INT(counter_line_parse(long_line, COUNTER_LINE_MAX + 1, &l),
		     COUNTER_LINE_TOO_LONG);
	long_line[COUNTER_LINE_MAX] = '\r';
	CHECK_EQ_INT(counter_line_parse(long_line, COUNTER_LINE_MAX + 1, &l), COUNTER_LINE_OK);
}

VT_TEST(gpio_replay_file_parser_refuses_what_the_format_does_not_allow)
{
	static const struct {
		const char *text;
		const char *error;	/* NULL: valid */
	} cases[] = {
		{ "chip a 2\n0 a 1 rising\n", NULL },
		{ "# nothing\n\n", NULL },
		{ "0 a 1 rising\n", "line 1: chip a not declared" },
		{ "chip a 2\n0 a 2 rising\n", "line 2: line must be 0..1 on chip a" },
		{ "chip a 2\nchip a 3\n", "line 2: chip a declared twice" },
		{ "chip a 0\n", "line 1: line count must be 1..1024" },
		{ "chip a/b 2\n", "line 1: chip name" },
		{ "chip a 2\n0 a 1 up\n", "line 2: edge must be rising or falling" },
		{ "chip a 2\nend 5\n1 a 0 rising\n", "line 3: an edge after end" },
		{ "chip a 2\n9 a 0 rising\nend 5\n", "line 3: end 5 is before the last edge" },
		{ "chip a 2\n1000000000000001 a 0 rising\n", "line 2: time must be" },
		{ "chip a 2\n0 a 0 rising extra\n", "line 2: expected" },
		{ "chip a 2\r\n0\ta\t0\tfalling\r\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gpio_replay_file f;
		char err[200] = "";
		int rc = gpio_replay_file_parse(cases[i].text, strlen(cases[i].text), &f, err,
						sizeof(err));

		if (cases[i].error ? rc == 0 || !strstr(err, cases[i].error) : rc != 0)
			fprintf(stderr, "case %zu: rc %d, \"%s\"\n", i, rc, err);
		if (cases[i].error) {
			CHECK_EQ_INT(rc, -EINVAL);
			CHECK(strstr(err, cases[i].error));
			CHECK(f.events == NULL);
		} else {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(f.end_us, (f.nevents ? f.events[f.nevents - 1].t_us : 0) + 1000000);
			gpio_replay_file_free(&f);
		}
	}
}

/* ---- the people counter ---------------------------------------------------- */

/* One turn of the agent's loop: poll, then collect. */
static int loop_once(void *state)
{
	vp_fake_poll(state);
	return vitrine_plugin.collect(state);
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);

		if (k <= 0)
			abort();
		s += k;
		n -= (size_t)k;
	}
}

/* The port from "listening for people-counter lines on ... (port N)". */
static uint16_t logged_port(const struct vitrine_ctx *ctx)
{
	const char *p = strstr(ctx->log, "(port ");

	return p ? (uint16_t)atoi(p + 6) : 0;
}

/* Sums of people per door and direction over the recorded readings. */
static uint32_t people(const struct vitrine_ctx *ctx, uint32_t door, uint32_t dir)
{
	uint32_t n = 0;

	for (size_t i = 0; i < ctx->n && i < ctx->cap; i++)
		if (ctx->readings[i].u.footfall.door == door &&
		    ctx->readings[i].u.footfall.direction == dir)
			n += ctx->readings[i].u.footfall.count;
	return n;
}

VT_TEST(counter_over_tcp_emits_valid_lines_and_drops_the_rest)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(100);
	char line[256], t[32], junk[300];
	time_t when = (time_t)(1795000000 - 3600);	/* the fake now, less an hour */
	void *state = NULL;
	int conn[5];

	host.watch_fd = vp_fake_watch_fd;
	vp_fake_unwatch_all();
	vp_fake_set(ctx, "source", "counter");
	vp_fake_set(ctx, "counter_listen", "127.0.0.1:0");
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK_EQ_INT(vp_fake_watching(), 1);
	CHECK(logged_port(ctx) != 0);
	conn[0] = tcp_connect(logged_port(ctx));
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
	snprintf(line, sizeof(line), "1 3 2\r\n2 0 1 %s\nhello\n1 2\n300 1 1\n\n\x01\n"
		 "1 1 1 2030-01-01T00:00:00Z\n1 1000 0\n1 1001 0\n", t);
	send_all(conn[0], line, strlen(line));
	memset(junk, 'x', sizeof(junk));
	send_all(conn[0], junk, sizeof(junk));
	send_all(conn[0], "\n1 0 1\n1 4", 10);	/* the last line is cut */
	for (int i = 0; i < 50 && people(ctx, 1, VITRINE_DIR_OUT) < 3; i++)
		loop_once(state);
	CHECK_EQ_INT(vp_fake_watching(), 2);
	close(conn[0]);
	for (int i = 0; i < 50 && vp_fake_watching() > 1; i++)
		loop_once(state);
	CHECK_EQ_INT(vp_fake_watching(), 1);
	CHECK_EQ_INT(people(ctx, 1, VITRINE_DIR_IN), 1003);
	CHECK_EQ_INT(people(ctx, 1, VITRINE_DIR_OUT), 3);
	CHECK_EQ_INT(people(ctx, 2, VITRINE_DIR_OUT), 1);
	CHECK_EQ_INT(ctx->n, 5);	/* a count of 0 makes no reading */
	CHECK_EQ_INT(ctx->readings[2].time_ms, (int64_t)when * 1000);
	CHECK(strstr(ctx->log, "counter line from 127.0.0.1:"));
	CHECK_EQ_INT(vp_count_substr(ctx->log, "dropped (not \"<door> <in> <out> [<time>]\")"), 1);
	/* Five connections: the fifth is refused, the others still served. */
	for (int i = 0; i < 5; i++)
		conn[i] = tcp_connect(logged_port(ctx));
	for (int i = 0; i < 10; i++)
		loop_once(state);
	CHECK(strstr(ctx->log, "refused: 4 already open"));
	send_all(conn[3], "3 1 0\n", 6);
	for (int i = 0; i < 50 && people(ctx, 3, VITRINE_DIR_IN) < 1; i++)
		loop_once(state);
	CHECK_EQ_INT(people(ctx, 3, VITRINE_DIR_IN), 1);
	vitrine_plugin.fini(state);
	CHECK_EQ_INT(vp_fake_watching(), 0);
	CHECK(strstr(ctx->log, "stopping: 5 counter lines, 6 readings (1008 people), 8 lines dropped (1 line longer than 128 bytes, 1 byte that is not printable ASCII, 2 not \"<door> <in> <out> [<time>]\", 1 door not in 1..255, 1 count not in 0..1000, 1 time more than 5 min ahead"));
	CHECK(strstr(ctx->log, "1 no newline before the connection closed), 5 connections accepted, 1 refused, 0 failed accepts"));
	for (int i = 0; i < 5; i++)
		close(conn[i]);
	vp_fake_free(ctx);
}

VT_TEST(counter_lines_over_the_rate_are_dropped)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(200);
	char lines[60 * 8];
	size_t len = 0;
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	vp_fake_unwatch_all();
	vp_fake_set(ctx, "source", "counter");
	vp_fake_set(ctx, "counter_listen", "127.0.0.1:0");
	vp_fake_set(ctx, "counter_rate", "2");	/* burst 10 */
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	fd = tcp_connect(logged_port(ctx));
	/* 15 lines at once, blank keep-alives between them (free): 10 taken */
	for (int i = 0; i < 15; i++)
		len += (size_t)snprintf(lines + len, sizeof(lines) - len, "1 1 0\n\n");
	send_all(fd, lines, len);
	for (int i = 0; i < 20; i++)
		loop_once(state);
	CHECK_EQ_INT(people(ctx, 1, VITRINE_DIR_IN), 10);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "rate_limited"), 1);	/* the first */
	/* a second later: 2 more tokens */
	ctx->mono_ms += 1000;
	send_all(fd, "1 1 0\n1 1 0\n1 1 0\n", 18);
	for (int i = 0; i < 20 && people(ctx, 1, VITRINE_DIR_IN) < 12; i++)
		loop_once(state);
	for (int i = 0; i < 3; i++)
		loop_once(state);
	CHECK_EQ_INT(people(ctx, 1, VITRINE_DIR_IN), 12);
	close(fd);
	vitrine_plugin.fini(state);
	CHECK(strstr(ctx->log, "6 rate_limited: over footfall.counter_rate lines a second"));
	vp_fake_free(ctx);
	for (int i = 0; i < 2; i++) {
		ctx = vp_fake_new(1);
		vp_fake_set(ctx, "source", "counter");
		vp_fake_set(ctx, "counter_rate", i ? "1001" : "0");
		CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), -EINVAL);
		CHECK(strstr(ctx->log, "footfall.counter_rate"));
		vp_fake_free(ctx);
	}
}

VT_TEST(counter_listener_out_of_descriptors_does_not_spin)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(10);
	struct rlimit old, low;
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	vp_fake_unwatch_all();
	vp_fake_set(ctx, "source", "counter");
	vp_fake_set(ctx, "counter_listen", "127.0.0.1:0");
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK_EQ_INT(vp_fake_watching(), 1);
	fd = tcp_connect(logged_port(ctx));	/* queued: not accepted yet */
	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)vp_lowest_free_fd();
	CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
	vp_fake_poll(state);	/* accept fails: the listener is set aside */
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_poll(state);
	CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "cannot accept a counter connection"), 1);
	CHECK(strstr(ctx->log, "not accepting until the next collect"));
	/* the next collect watches it again, and the connection is served */
	send_all(fd, "6 2 0\n", 6);
	for (int i = 0; i < 50 && people(ctx, 6, VITRINE_DIR_IN) < 2; i++)
		loop_once(state);
	CHECK_EQ_INT(people(ctx, 6, VITRINE_DIR_IN), 2);
	close(fd);
	vitrine_plugin.fini(state);
	CHECK(strstr(ctx->log, "1 failed accepts"));
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_free(ctx);
}

VT_TEST(counter_over_a_serial_port_reads_lines_and_reports_its_loss)
{
	struct vitrine_ctx *ctx = vp_fake_new(100);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	char dev[128], conf[160];
	void *state = NULL;
	int rc = 0;

	CHECK(master >= 0);
	CHECK(grantpt(master) == 0 && unlockpt(master) == 0);
	CHECK(ptsname_r(master, dev, sizeof(dev)) == 0);
	snprintf(conf, sizeof(conf), "%s 9600", dev);
	vp_fake_set(ctx, "source", "counter");
	vp_fake_set(ctx, "counter_listen", "off");
	vp_fake_set(ctx, "counter_serial", conf);
	CHECK_EQ_INT(vitrine_plugin.init(&vp_fake_host, ctx, &state), 0);
	CHECK(strstr(ctx->log, "at 9600 bit/s"));
	send_all(master, "4 2 1\r\n4 bad 1\n5 0 3\n", 21);
	for (int i = 0; i < 50 && people(ctx, 5, VITRINE_DIR_OUT) < 3; i++)
		loop_once(state);
	CHECK_EQ_INT(people(ctx, 4, VITRINE_DIR_IN), 2);
	CHECK_EQ_INT(people(ctx, 4, VITRINE_DIR_OUT), 1);
	CHECK_EQ_INT(people(ctx, 5, VITRINE_DIR_OUT), 3);
	CHECK(strstr(ctx->log, "dropped (count not in 0..1000)"));
	close(master);	/* the adapter is unplugged */
	for (int i = 0; i < 50 && rc >= 0; i++)
		rc = loop_once(state);
	CHECK(rc < 0);
	CHECK(strstr(ctx->log, "lost ("));
	CHECK(strstr(ctx->log, "cannot open the serial port"));
	vitrine_plugin.fini(state);
	vp_fake_free(ctx);
}
