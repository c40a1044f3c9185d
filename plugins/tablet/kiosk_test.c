/*
 * plugins/tablet/kiosk_test.c - tests for the real kiosks' source: the
 * event parser (every reason to refuse, the boundaries, batches), the
 * token buckets, and the plugin with tablet.source kiosk fed through a
 * real Unix-domain socket in process.
 *
 * Linked into plugin_tablet_test with tablet_test.c (which has main()).
 * HTTP is tested with real clients in tests/integration/kiosk.sh; here
 * only a full batch under a small rate, over a raw TCP client.
 */
#include <vitrine/plugin.h>

#include "kiosk_event.h"
#include "common/rate.h"
#include "source.h"
#include "vt_test.h"

#include "common/test_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SESSION "web-2026:abc.def_9"

static int parse(const char *json, uint32_t kiosks, size_t max,
		 struct tablet_event *out, size_t *n, struct kiosk_event_error *err)
{
	return kiosk_event_parse(json, strlen(json), kiosks, max, out, n, err);
}

/* The reason json is refused for, as a socket line (max 1) or an HTTP
 * body (max KIOSK_EVENT_BATCH_MAX), with 4 kiosks; KIOSK_OK if taken. */
static enum kiosk_reason reason_of(const char *json, size_t max)
{
	static struct tablet_event ev[KIOSK_EVENT_BATCH_MAX];
	struct kiosk_event_error err;
	size_t n;

	if (parse(json, 4, max, ev, &n, &err) == 0)
		return KIOSK_OK;
	return err.reason;
}

VT_TEST(kiosk_event_takes_each_type)
{
	struct tablet_event ev[1];
	struct kiosk_event_error err;
	size_t n;

	CHECK_EQ_INT(parse("{\"kiosk\":3,\"type\":\"session_start\",\"session\":\"" SESSION "\"}",
			   4, 1, ev, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(ev[0].kiosk, 3);
	CHECK_EQ_INT(ev[0].type, VITRINE_TABLET_SESSION_START);
	CHECK_STR(ev[0].session, SESSION);
	CHECK_EQ_INT(ev[0].duration_ms, 0);
	CHECK_EQ_INT(ev[0].ts_ms, 0);
	CHECK(!ev[0].screen[0] && !ev[0].gtin[0]);

	CHECK_EQ_INT(parse(" {\"type\":\"screen_view\",\"kiosk\":1,\"screen\":\"care-guide/silk.v2\","
			   "\"duration_ms\":4200,\"session\":\"" SESSION "\"}\r\n",
			   4, 1, ev, &n, &err), 0);
	CHECK_EQ_INT(ev[0].type, VITRINE_TABLET_SCREEN_VIEW);
	CHECK_STR(ev[0].screen, "care-guide/silk.v2");
	CHECK_EQ_INT(ev[0].duration_ms, 4200);

	CHECK_EQ_INT(parse("{\"kiosk\":4,\"type\":\"product_lookup\",\"session\":\"" SESSION "\","
			   "\"gtin\":\"03012345123457\",\"duration_ms\":9000}", 4, 1, ev, &n, &err), 0);
	CHECK_EQ_INT(ev[0].type, VITRINE_TABLET_PRODUCT_LOOKUP);
	CHECK_STR(ev[0].gtin, "03012345123457");

	CHECK_EQ_INT(parse("{\"kiosk\":1,\"type\":\"session_end\",\"session\":\"" SESSION "\","
			   "\"duration_ms\":61000}", 4, 1, ev, &n, &err), 0);
	CHECK_EQ_INT(ev[0].type, VITRINE_TABLET_SESSION_END);
	CHECK_EQ_INT(ev[0].duration_ms, 61000);
}

VT_TEST(kiosk_event_boundaries_taken)
{
	static const char *const ok[] = {
		/* session of 8 and of 63 characters, every allowed character */
		"{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"aZ09-_.:\"}",
		"{\"kiosk\":1,\"type\":\"session_start\",\"session\":\""
		"012345678901234567890123456789012345678901234567890123456789012\"}",
		/* kiosk = tablet.kiosks, written as 4.0 too */
		"{\"kiosk\":4,\"type\":\"session_start\",\"session\":\"" SESSION "\"}",
		"{\"kiosk\":4.0,\"type\":\"session_start\",\"session\":\"" SESSION "\"}",
		/* screen of 31 characters */
		"{\"kiosk\":1,\"type\":\"screen_view\",\"session\":\"" SESSION "\","
		"\"screen\":\"abcdefghijklmnopqrstuvwxyz01234\"}",
		/* duration 0 and one day */
		"{\"kiosk\":1,\"type\":\"session_end\",\"session\":\"" SESSION "\",\"duration_ms\":0}",
		"{\"kiosk\":1,\"type\":\"session_end\",\"session\":\"" SESSION "\",\"duration_ms\":86400000}",
		/* GTIN with check digit 0 */
		"{\"kiosk\":1,\"type\":\"product_lookup\",\"session\":\"" SESSION "\",\"gtin\":\"07612345678900\"}",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (reason_of(ok[i], 1) != KIOSK_OK)
			printf("refused: %s (%s)\n", ok[i], kiosk_reason_name(reason_of(ok[i], 1)));
		CHECK_EQ_INT(reason_of(ok[i], 1), KIOSK_OK);
	}
}

#define EV(members) "{\"kiosk\":1,\"session\":\"" SESSION "\"," members "}"

VT_TEST(kiosk_event_refuses_each_reason)
{
	static const struct {
		const char *json;
		enum kiosk_reason want;
	} bad[] = {
		{ "", KIOSK_R_JSON },
		{ "{", KIOSK_R_JSON },
		{ "{\"kiosk\":1,}", KIOSK_R_JSON },
		{ EV("\"type\":\"session_start\"") " x", KIOSK_R_JSON },
		{ EV("\"type\":\"session_start\"") "{}", KIOSK_R_JSON },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcdefgh\\u0000xyz\"}",
		  KIOSK_R_JSON },
		{ "42", KIOSK_R_SHAPE },
		{ "null", KIOSK_R_SHAPE },
		{ "\"session_start\"", KIOSK_R_SHAPE },
		{ "[" EV("\"type\":\"session_start\"") "]", KIOSK_R_SHAPE },	/* socket */
		{ EV("\"type\":\"session_start\",\"ts\":1795000000000"), KIOSK_R_MEMBER },
		{ EV("\"type\":\"session_start\",\"Kiosk\":1"), KIOSK_R_MEMBER },
		{ EV("\"type\":\"session_start\",\"kiosk\":2"), KIOSK_R_MEMBER },
		{ "{\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":0,\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":5,\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":-1,\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":1.5,\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":\"1\",\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ "{\"kiosk\":1e300,\"type\":\"session_start\",\"session\":\"" SESSION "\"}", KIOSK_R_KIOSK },
		{ EV("\"duration_ms\":1"), KIOSK_R_TYPE },
		{ EV("\"type\":\"login\""), KIOSK_R_TYPE },
		{ EV("\"type\":\"SESSION_START\""), KIOSK_R_TYPE },
		{ EV("\"type\":1"), KIOSK_R_TYPE },
		{ "{\"kiosk\":1,\"type\":\"session_start\"}", KIOSK_R_SESSION },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcdefg\"}", KIOSK_R_SESSION },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\""
		  "0123456789012345678901234567890123456789012345678901234567890123\"}", KIOSK_R_SESSION },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcd efgh\"}", KIOSK_R_SESSION },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcd\\u00e9fgh\"}", KIOSK_R_SESSION },
		{ "{\"kiosk\":1,\"type\":\"session_start\",\"session\":12345678}", KIOSK_R_SESSION },
		{ EV("\"type\":\"screen_view\""), KIOSK_R_SCREEN },
		{ EV("\"type\":\"screen_view\",\"screen\":\"\""), KIOSK_R_SCREEN },
		{ EV("\"type\":\"screen_view\",\"screen\":\"abcdefghijklmnopqrstuvwxyz012345\""),
		  KIOSK_R_SCREEN },
		{ EV("\"type\":\"screen_view\",\"screen\":\"a:b\""), KIOSK_R_SCREEN },
		{ EV("\"type\":\"screen_view\",\"screen\":7"), KIOSK_R_SCREEN },
		{ EV("\"type\":\"session_start\",\"screen\":\"home\""), KIOSK_R_SCREEN },
		{ EV("\"type\":\"product_lookup\""), KIOSK_R_GTIN },
		{ EV("\"type\":\"product_lookup\",\"gtin\":\"03012345123458\""), KIOSK_R_GTIN },
		{ EV("\"type\":\"product_lookup\",\"gtin\":\"3012345123457\""), KIOSK_R_GTIN },
		{ EV("\"type\":\"product_lookup\",\"gtin\":\"030123451234570\""), KIOSK_R_GTIN },
		{ EV("\"type\":\"product_lookup\",\"gtin\":\"0301234512345x\""), KIOSK_R_GTIN },
		{ EV("\"type\":\"product_lookup\",\"gtin\":3012345123457"), KIOSK_R_GTIN },
		{ EV("\"type\":\"screen_view\",\"screen\":\"home\",\"gtin\":\"03012345123457\""),
		  KIOSK_R_GTIN },
		{ EV("\"type\":\"session_end\",\"duration_ms\":-1"), KIOSK_R_DURATION },
		{ EV("\"type\":\"session_end\",\"duration_ms\":1.5"), KIOSK_R_DURATION },
		{ EV("\"type\":\"session_end\",\"duration_ms\":86400001"), KIOSK_R_DURATION },
		{ EV("\"type\":\"session_end\",\"duration_ms\":\"100\""), KIOSK_R_DURATION },
		{ EV("\"type\":\"session_end\",\"duration_ms\":null"), KIOSK_R_DURATION },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum kiosk_reason got = reason_of(bad[i].json, 1);

		if (got != bad[i].want)
			printf("%s: want %s, got %s\n", bad[i].json,
			       kiosk_reason_name(bad[i].want), kiosk_reason_name(got));
		CHECK_EQ_INT(got, bad[i].want);
	}
}

VT_TEST(kiosk_event_batches_up_to_the_max)
{
	static struct tablet_event ev[KIOSK_EVENT_BATCH_MAX];
	static char json[64 * 1024];
	const char *one = EV("\"type\":\"session_start\"");
	struct kiosk_event_error err;
	size_t len = 0, n;

	json[len++] = '[';
	for (int i = 0; i < KIOSK_EVENT_BATCH_MAX; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len, "%s%s", i ? "," : "", one);
	json[len++] = ']';
	json[len] = '\0';
	CHECK_EQ_INT(parse(json, 4, KIOSK_EVENT_BATCH_MAX, ev, &n, &err), 0);
	CHECK_EQ_INT(n, KIOSK_EVENT_BATCH_MAX);
	/* one more is too many */
	snprintf(json + len - 1, sizeof(json) - len + 1, ",%s]", one);
	CHECK_EQ_INT(parse(json, 4, KIOSK_EVENT_BATCH_MAX, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_BATCH);
	CHECK_EQ_INT(err.index, KIOSK_EVENT_BATCH_MAX);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(reason_of("[]", KIOSK_EVENT_BATCH_MAX), KIOSK_R_BATCH);
	CHECK_EQ_INT(reason_of(" [ ] ", KIOSK_EVENT_BATCH_MAX), KIOSK_R_BATCH);
}

VT_TEST(kiosk_event_batch_names_its_first_bad_event)
{
	static struct tablet_event ev[KIOSK_EVENT_BATCH_MAX];
	struct kiosk_event_error err;
	size_t n;

	CHECK_EQ_INT(parse("[" EV("\"type\":\"session_start\"") ","
			   EV("\"type\":\"product_lookup\",\"gtin\":\"03012345123458\"") ","
			   EV("\"type\":\"login\"") "]",
			   4, KIOSK_EVENT_BATCH_MAX, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_GTIN);
	CHECK_EQ_INT(err.index, 1);
	CHECK_EQ_INT(parse("[" EV("\"type\":\"session_start\"") ",5]",
			   4, KIOSK_EVENT_BATCH_MAX, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_SHAPE);
	CHECK_EQ_INT(err.index, 1);
	/* the text need not be NUL-terminated: only len bytes are read */
	CHECK_EQ_INT(kiosk_event_parse(EV("\"type\":\"session_start\"") "garbage",
				       strlen(EV("\"type\":\"session_start\"")), 4, 1, ev, &n,
				       &err), 0);
}

VT_TEST(kiosk_reasons_have_names_and_fixes)
{
	for (int r = 1; r < KIOSK_R_COUNT; r++) {
		CHECK(kiosk_reason_name(r)[0] && strcmp(kiosk_reason_name(r), "unknown"));
		CHECK(strlen(kiosk_reason_fix(r)) > 20);
		for (int s = 1; s < r; s++)
			CHECK(strcmp(kiosk_reason_name(r), kiosk_reason_name(s)));
	}
	CHECK_STR(kiosk_reason_name(KIOSK_R_COUNT), "unknown");
}

/* ---- token buckets ------------------------------------------------------------ */

VT_TEST(rate_bucket_allows_a_burst_then_the_rate)
{
	struct vp_rate b;

	vp_rate_init(&b, 5, 10, 1000);
	CHECK(vp_rate_has(&b, 10, 1000));
	CHECK(!vp_rate_has(&b, 11, 1000));
	vp_rate_take(&b, 10);
	CHECK(!vp_rate_has(&b, 1, 1000));
	CHECK(!vp_rate_has(&b, 1, 1199));	/* 5/s: one token every 200 ms */
	CHECK(vp_rate_has(&b, 1, 1200));
	CHECK(!vp_rate_has(&b, 2, 1200));
	vp_rate_take(&b, 1);
	CHECK(!vp_rate_has(&b, 1, 900));	/* the clock went back: nothing */
	CHECK(vp_rate_has(&b, 10, 1000000));	/* full again, never more */
	CHECK(!vp_rate_has(&b, 11, INT64_MAX));
}

/* ---- the plugin with tablet.source kiosk, over a real socket --------------------- */

/* The agent's poll loop, a few rounds, without collecting. */
static void poll_rounds(void *state, int rounds)
{
	for (int r = 0; r < rounds; r++)
		vp_fake_poll(state);
}

/* The agent's poll loop, a few rounds, then one collect. */
static int pump(void *state, int rounds)
{
	poll_rounds(state, rounds);
	return vitrine_plugin.collect(state);
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

VT_TEST(kiosk_source_takes_socket_lines_and_counts_refusals)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(100);
	static char long_line[KIOSK_LINE_MAX + 100];
	char path[100];
	struct stat st;
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	snprintf(path, sizeof(path), "%s/kiosk.sock", vt_test_tmpdir());
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", path);
	vp_fake_set(ctx, "rate", "2");	/* burst 32: never less than a batch */
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK(strstr(ctx->log, "ready (JSON lines"));
	CHECK(strstr(ctx->log, "has no effect with tablet.source kiosk"));	/* start, speed */
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0660);
	fd = sock_connect(path);
	CHECK(fd >= 0);

	/* a good line, an over-long one, a good one: two readings */
	memset(long_line, 'x', sizeof(long_line));
	long_line[sizeof(long_line) - 1] = '\n';
	CHECK_EQ_INT(send_all(fd, EV("\"type\":\"session_start\"") "\n", strlen(EV("\"type\":\"session_start\"")) + 1), 0);
	CHECK_EQ_INT(send_all(fd, long_line, sizeof(long_line)), 0);
	CHECK_EQ_INT(send_all(fd, "\n" EV("\"type\":\"screen_view\",\"screen\":\"home\"") "\n",
			      strlen(EV("\"type\":\"screen_view\",\"screen\":\"home\"")) + 2), 0);
	pump(state, 10);
	CHECK_EQ_INT(ctx->n, 2);
	CHECK_EQ_INT(ctx->readings[0].u.tablet.event, VITRINE_TABLET_SESSION_START);
	CHECK_STR(ctx->readings[1].u.tablet.screen, "home");
	CHECK_EQ_INT(ctx->readings[1].time_ms, INT64_C(1795000000000));	/* receive time */
	CHECK(strstr(ctx->log, "refused a kiosk socket line: line_too_long"));

	/* kiosk 1 has 30 of its 32 tokens left: 30 more taken, then refused */
	for (int i = 0; i < 32; i++)
		CHECK_EQ_INT(send_all(fd, EV("\"type\":\"session_end\"") "\n",
				      strlen(EV("\"type\":\"session_end\"")) + 1), 0);
	pump(state, 10);
	CHECK_EQ_INT(ctx->n, 32);
	CHECK(strstr(ctx->log, "rate_limited"));

	/* a minute later the counts are logged once, by reason */
	ctx->mono_ms += 60000;
	pump(state, 1);
	CHECK(strstr(ctx->log, "kiosk input so far: 32 events taken, 3 requests or lines refused (line_too_long 1, rate_limited 2)"));
	pump(state, 1);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "kiosk input so far"), 1);

	close(fd);
	vitrine_plugin.fini(state);
	CHECK(strstr(ctx->log, "kiosk input in all: 32 events taken"));
	CHECK_EQ_INT(vp_fake_watching(), 0);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);	/* removed at close */
	CHECK(!strstr(ctx->log, SESSION));
	CHECK_EQ_INT(ctx->errors, 0);
	vp_fake_free(ctx);
}

VT_TEST(kiosk_source_replaces_a_stale_socket_only)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(1);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[100];
	void *state = NULL;
	int stale;

	host.watch_fd = vp_fake_watch_fd;
	snprintf(path, sizeof(path), "%s/stale.sock", vt_test_tmpdir());
	/* a socket file nobody listens on, as a killed agent leaves it */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(stale >= 0);
	CHECK_EQ_INT(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(stale);
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", path);
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK(strstr(ctx->log, "replaced the stale kiosk socket"));
	/* a second source on the same path: in use, refused */
	{
		struct vitrine_ctx *ctx2 = vp_fake_new(1);
		void *state2 = NULL;

		vp_fake_set(ctx2, "source", "kiosk");
		vp_fake_set(ctx2, "http_port", "0");
		vp_fake_set(ctx2, "socket", path);
		CHECK_EQ_INT(vitrine_plugin.init(&host, ctx2, &state2), -EADDRINUSE);
		CHECK(strstr(ctx2->log, "another process listens on it"));
		vp_fake_free(ctx2);
	}
	vitrine_plugin.fini(state);
	/* a file that is not a socket is never removed */
	CHECK_EQ_INT(close(creat(path, 0600)), 0);
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), -EEXIST);
	CHECK(strstr(ctx->log, "a file that is not a socket is there"));
	CHECK_EQ_INT(access(path, F_OK), 0);
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_free(ctx);
}

VT_TEST(kiosk_source_rejects_bad_config)
{
	static const char *const bad[][2] = {
		{ "http_port", "65536" }, { "http_max_body", "100" },
		{ "http_max_body", "65537" }, { "rate", "0" },
		{ "rate_total", "5001" }, { "socket", "kiosk.sock" },
		{ "socket", "/a/path/that/is/longer/than/a/sockaddr_un/can/hold/"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vitrine_ctx *ctx = vp_fake_new(1);
		struct vp_run_result res;
		char name[64];

		vp_fake_set(ctx, "source", "kiosk");
		vp_fake_set(ctx, bad[i][0], bad[i][1]);
		res = vp_run_plugin(&vitrine_plugin, ctx, 1, 50);
		snprintf(name, sizeof(name), "tablet.%s", bad[i][0]);
		CHECK_EQ_INT(res.init_rc, -EINVAL);
		CHECK_EQ_INT(ctx->errors, 1);
		CHECK(strstr(ctx->log, name));
		vp_fake_free(ctx);
	}
}

VT_TEST(kiosk_source_needs_a_way_in)
{
	struct vitrine_ctx *ctx = vp_fake_new(1);

	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", "off");
	CHECK_EQ_INT(vp_run_plugin(&vitrine_plugin, ctx, 1, 50).init_rc, -EINVAL);
	CHECK(strstr(ctx->log, "no way for the kiosks to send events"));
	vp_fake_free(ctx);
	/* and an agent without watch_fd (the fake host has none) is told */
	ctx = vp_fake_new(1);
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", "/tmp/unused.sock");
	CHECK_EQ_INT(vp_run_plugin(&vitrine_plugin, ctx, 1, 50).init_rc, -ENOTSUP);
	CHECK(strstr(ctx->log, "needs an agent that watches descriptors"));
	vp_fake_free(ctx);
}

/* ---- control bytes, request budget, EMFILE, batches over HTTP, limit -------------- */

VT_TEST(kiosk_event_refuses_raw_control_bytes)
{
	static const char nul[] = "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcdefgh\0xyz\"}";
	static const char bell[] = "{\"kiosk\":1,\"type\":\"session_start\",\"session\":\"abcdefgh\ayz\"}";
	static const char esc_out[] = "{\"kiosk\":1,\x1b\"type\":\"session_start\",\"session\":\"abcdefghi\"}";
	static const char blanks[] = "\t{\"kiosk\":1,\r\n\"type\":\"session_start\",\"session\":\"abcdefghi\"}\r\n";
	struct tablet_event ev[2];
	struct kiosk_event_error err;
	size_t n;

	/* a raw NUL inside a string: cJSON would cut the session to "abcdefgh" */
	CHECK_EQ_INT(kiosk_event_parse(nul, sizeof(nul) - 1, 4, 1, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_CONTROL);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(kiosk_event_parse(nul, sizeof(nul) - 1, 4, 2, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_CONTROL);
	CHECK_EQ_INT(kiosk_event_parse(bell, sizeof(bell) - 1, 4, 1, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_CONTROL);
	CHECK_EQ_INT(kiosk_event_parse(esc_out, sizeof(esc_out) - 1, 4, 1, ev, &n, &err), -EINVAL);
	CHECK_EQ_INT(err.reason, KIOSK_R_CONTROL);
	/* tab, CR and LF between values are JSON blanks */
	CHECK_EQ_INT(kiosk_event_parse(blanks, sizeof(blanks) - 1, 4, 1, ev, &n, &err), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_STR(kiosk_reason_name(KIOSK_R_CONTROL), "control_character");
}

VT_TEST(kiosk_refused_lines_cost_requests_too)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(10);
	char path[100], junk[64 * 8];
	size_t len = 0;
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	snprintf(path, sizeof(path), "%s/flood.sock", vt_test_tmpdir());
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", path);
	vp_fake_set(ctx, "rate_total", "1");	/* 32 requests at once, 1 a second */
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	fd = sock_connect(path);
	CHECK(fd >= 0);
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(junk + len, sizeof(junk) - len, "garbage\n");
	CHECK_EQ_INT(send_all(fd, junk, len), 0);
	pump(state, 10);
	CHECK(strstr(ctx->log, "refused a kiosk socket line: rate_limited"));
	/* a valid line a second later is taken: one request, one event */
	ctx->mono_ms += 1000;
	CHECK_EQ_INT(send_all(fd, EV("\"type\":\"session_start\"") "\n",
			      strlen(EV("\"type\":\"session_start\"")) + 1), 0);
	pump(state, 10);
	CHECK_EQ_INT(ctx->n, 1);
	close(fd);
	vitrine_plugin.fini(state);
	CHECK(strstr(ctx->log, "kiosk input in all: 1 events taken, 40 requests or lines refused (invalid_json 32, rate_limited 8)"));
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_free(ctx);
}

VT_TEST(kiosk_socket_out_of_descriptors_does_not_spin)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(10);
	struct rlimit old, low;
	char path[100];
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	snprintf(path, sizeof(path), "%s/emfile.sock", vt_test_tmpdir());
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", path);
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK_EQ_INT(vp_fake_watching(), 1);
	fd = sock_connect(path);	/* queued: not accepted yet */
	CHECK(fd >= 0);
	CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)vp_lowest_free_fd();
	CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
	poll_rounds(state, 3);	/* accept fails once: the listener is set aside */
	CHECK_EQ_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
	CHECK_EQ_INT(vp_fake_watching(), 0);
	CHECK_EQ_INT(vp_count_substr(ctx->log, "cannot accept a connection"), 1);
	/* the next collect watches it again, and the client is served */
	CHECK_EQ_INT(send_all(fd, EV("\"type\":\"session_start\"") "\n",
			      strlen(EV("\"type\":\"session_start\"")) + 1), 0);
	pump(state, 1);
	CHECK_EQ_INT(vp_fake_watching(), 1);
	pump(state, 10);
	CHECK_EQ_INT(ctx->n, 1);
	close(fd);
	vitrine_plugin.fini(state);
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_free(ctx);
}

static uint16_t free_tcp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* POSTs body to the plugin's HTTP endpoint, pumping the loop until the
 * answer is in; its status, or -1. */
static int http_post(void *state, uint16_t port, const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char req[4096], resp[512];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int status = -1, n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		goto out;
	n = snprintf(req, sizeof(req),
		     "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
	for (int i = 0; i < 50 && send_all(fd, req, (size_t)n); i++)
		poll_rounds(state, 1);	/* not connected yet */
	for (int i = 0; i < 100 && !memchr(resp, '\n', got); i++) {
		ssize_t k;

		poll_rounds(state, 1);
		k = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (k > 0)
			got += (size_t)k;
	}
	resp[got] = '\0';
	if (got > 12 && !strncmp(resp, "HTTP/1.1 ", 9))
		status = atoi(resp + 9);
out:
	close(fd);
	return status;
}

VT_TEST(kiosk_http_batch_over_a_small_rate_is_taken)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(100);
	char body[KIOSK_EVENT_BATCH_MAX * 80 + 4], port_s[8];
	uint16_t port = free_tcp_port();
	size_t len = 0;
	void *state = NULL;

	CHECK(port != 0);
	host.watch_fd = vp_fake_watch_fd;
	snprintf(port_s, sizeof(port_s), "%u", port);
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", port_s);
	vp_fake_set(ctx, "socket", "off");
	vp_fake_set(ctx, "rate", "1");
	vp_fake_set(ctx, "rate_total", "1");
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	body[len++] = '[';
	for (int i = 0; i < KIOSK_EVENT_BATCH_MAX; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%s", i ? "," : "",
					EV("\"type\":\"session_start\""));
	snprintf(body + len, sizeof(body) - len, "]");
	/* the largest batch fits every bucket, however small the rate */
	CHECK_EQ_INT(http_post(state, port, body), 204);
	/* then the buckets are empty: one more event is refused */
	CHECK_EQ_INT(http_post(state, port, EV("\"type\":\"session_end\"")), 429);
	pump(state, 1);
	CHECK_EQ_INT(ctx->n, KIOSK_EVENT_BATCH_MAX);
	vitrine_plugin.fini(state);
	CHECK_EQ_INT(vp_fake_watching(), 0);
	vp_fake_free(ctx);
}

VT_TEST(kiosk_limit_does_not_apply_and_fini_emits_what_was_taken)
{
	struct vitrine_host host = vp_fake_host;
	struct vitrine_ctx *ctx = vp_fake_new(100);
	const char *line = EV("\"type\":\"session_start\"") "\n";
	char path[100];
	void *state = NULL;
	int fd;

	host.watch_fd = vp_fake_watch_fd;
	snprintf(path, sizeof(path), "%s/limit.sock", vt_test_tmpdir());
	vp_fake_set(ctx, "source", "kiosk");
	vp_fake_set(ctx, "http_port", "0");
	vp_fake_set(ctx, "socket", path);
	vp_fake_set(ctx, "limit", "2");
	CHECK_EQ_INT(vitrine_plugin.init(&host, ctx, &state), 0);
	CHECK(strstr(ctx->log, "tablet.limit has no effect with tablet.source kiosk"));
	fd = sock_connect(path);
	CHECK(fd >= 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(send_all(fd, line, strlen(line)), 0);
	CHECK_EQ_INT(pump(state, 10), 0);	/* not finished */
	CHECK_EQ_INT(ctx->n, 4);
	/* taken (a client would have had 204) but not collected yet: fini
	 * emits them */
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(send_all(fd, line, strlen(line)), 0);
	poll_rounds(state, 10);
	CHECK_EQ_INT(ctx->n, 4);
	close(fd);
	vitrine_plugin.fini(state);
	CHECK_EQ_INT(ctx->n, 7);
	vp_fake_free(ctx);
}
