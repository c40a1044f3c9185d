/*
 * hot_path.c - make bench's measure of the agent's work per reading, from
 * plugin to sealed frame, without the simulation, the broker or the poll
 * loop: the agent's own pipeline (libvt: validate, privacy in
 * pseudonymous mode, batch, protobuf, zstd, seal, spool append) driven
 * directly with a fixed mix of readings.
 *
 *   hot_path READINGS RUNS SPOOL_DIR
 *
 * One third each of footfall passes, kiosk events and RFID reads, with
 * realistic field values, batches of 1000, the agent's default zstd level
 * and AEAD. The spool goes to SPOOL_DIR (make bench gives it a tmpfs, so
 * the disk is left out). Prints, per run, the process CPU time per
 * reading, then:
 *
 *   hot_path: readings N frames F bytes B us_per_reading_min X median Y
 *
 * Under valgrind --tool=callgrind with two different READINGS, the
 * difference of instructions over the difference of readings is the
 * instruction count per reading (tests/bench/run.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "keys.h"
#include "log.h"
#include "pipeline.h"
#include "privacy.h"
#include "spool.h"
#include "footfall/fields.h"
#include "tablet/fields.h"
#include "rfid/fields.h"

#define HP_KINDS 3
#define HP_MAX_RUNS 15

static const char *const hp_gtins[] = {
	"80614141123458", "03012345123457", "04006381331234", "07612345678900",
	"08012345670451", "03001234567816", "03012341234560", "08012345678129",
};

struct hp_bench {
	struct vt_privacy *privacy;
	struct vt_privacy_source *src[HP_KINDS];
	struct vt_spool *spool;
	struct vt_pipeline *pipeline;
	struct vt_clock *clock;		/* the agent's: every reading is stamped */
};

static double hp_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* v as 32 lowercase hex digits, as snprintf("%032" PRIx64) without its
 * cost: what a plugin does is copy an id it has, not format it. */
static void hp_hex32(uint64_t v, char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 31; i >= 0; i--, v >>= 4)
		out[i] = i >= 16 ? digits[v & 15] : '0';
	out[32] = '\0';
}

/* Reading i of the mix: footfall, kiosk, RFID in turn. The strings are
 * copied, not formatted, so that the harness costs little beside the
 * pipeline it measures. */
static void hp_reading(uint64_t i, struct vitrine_reading *r)
{
	memset(r, 0, sizeof(*r));
	r->time_ms = INT64_C(1795600000000) + (int64_t)(i * 37);
	switch (i % HP_KINDS) {
	case 0:
		r->kind = VITRINE_KIND_FOOTFALL;
		r->u.footfall.door = 1 + (uint32_t)(i / 3 % 2);
		r->u.footfall.direction = 1 + (uint32_t)(i / 6 % 2);
		r->u.footfall.count = 1;
		break;
	case 1:
		r->kind = VITRINE_KIND_TABLET;
		r->u.tablet.kiosk = 1 + (uint32_t)(i / 3 % 2);
		r->u.tablet.event = VITRINE_TABLET_SCREEN_VIEW;
		hp_hex32(i / 30, r->u.tablet.session);
		strcpy(r->u.tablet.screen, i / 3 % 4 ? "collections" : "product");
		r->u.tablet.duration_ms = (uint32_t)(3000 + i % 40000);
		break;
	default:
		r->kind = VITRINE_KIND_RFID;
		r->u.rfid.reader = 1;
		r->u.rfid.antenna = 1 + (uint32_t)(i / 3 % 4);
		r->u.rfid.rssi_cdbm = -6500 + (int32_t)(i % 2000);
		memcpy(r->u.rfid.gtin, hp_gtins[i / 3 % 8], 15);
		r->u.rfid.filter = 1;
		r->u.rfid.serial = (i / 3) % 200 + 1000;
		break;
	}
}

static int hp_open(struct hp_bench *b, const char *dir)
{
	static const struct vitrine_field *const fields[HP_KINDS] = {
		footfall_fields, tablet_fields, rfid_fields,
	};
	static const char *const names[HP_KINDS] = { "footfall", "tablet", "rfid" };
	struct vt_privacy_conf pc = { .rotation_s = 86400, .rssi_floor_cdbm = -7000,
				      .window_s = 900, .k = 10 };
	struct vt_batch_limits lim = { 1000, 65536, 1000000 };
	struct vt_spool_conf sc = { .dir = dir, .max_bytes = UINT64_C(1) << 32, .sync_ms = 1000,
				    .sync_frames = 64, .max_frame = 0 };
	uint8_t dev_priv[VT_KEY_LEN], dev_pub[VT_KEY_LEN], agg_priv[VT_KEY_LEN], agg_pub[VT_KEY_LEN];
	struct vt_pipeline_conf conf = { .site = "cannes-croisette", .device = "pi-01",
					 .state_dir = dir, .batch = lim, .zstd_level = 3,
					 .aead = VT_FRAME_AEAD_CHACHAPOLY,
					 .epoch_max_frames = 100000 };
	char err[256];

	sc.max_frame = (uint32_t)vt_pipeline_frame_bound(&lim, conf.device);
	if (vt_privacy_new(&b->privacy, &pc, err, sizeof(err)) < 0)
		goto fail;
	for (int k = 0; k < HP_KINDS; k++)
		if (vt_privacy_source_add(b->privacy, names[k], VT_PRIVACY_PSEUDONYMOUS, fields[k],
					  &b->src[k], err, sizeof(err)) < 0)
			goto fail;
	if (vt_keys_generate(dev_priv, dev_pub) < 0 || vt_keys_generate(agg_priv, agg_pub) < 0 ||
	    vt_spool_open(&b->spool, &sc) < 0) {
		snprintf(err, sizeof(err), "keys or spool in %s", dir);
		goto fail;
	}
	conf.spool = b->spool;
	conf.device_key = dev_priv;
	conf.aggregator_key = agg_pub;
	conf.privacy = b->privacy;
	if (vt_clock_open(&b->clock, &(struct vt_clock_conf){ 0 }) < 0) {
		snprintf(err, sizeof(err), "clock");
		goto fail;
	}
	vt_clock_tick(b->clock, vt_os_now_ms(), vt_os_mono_ms());
	conf.clock = b->clock;
	if (vt_pipeline_new(&b->pipeline, &conf) < 0) {
		snprintf(err, sizeof(err), "pipeline");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "hot_path: cannot set up: %s\n", err);
	return -1;
}

static void hp_close(struct hp_bench *b)
{
	vt_pipeline_free(b->pipeline);
	vt_clock_free(b->clock);
	vt_spool_close(b->spool);
	vt_privacy_free(b->privacy);
}

/* Push n readings through, sealing every full batch; CPU s spent. */
static double hp_run(struct hp_bench *b, uint64_t first, uint64_t n)
{
	double t0 = hp_cpu_s();
	struct vitrine_reading r;
	const char *why;

	for (uint64_t i = first; i < first + n; i++) {
		hp_reading(i, &r);
		if (vt_pipeline_push(b->pipeline, b->src[i % HP_KINDS], &r, 0, &why) < 0)
			fprintf(stderr, "hot_path: reading %" PRIu64 " refused: %s\n", i, why);
		if (vt_pipeline_flush(b->pipeline, 0, 0) < 0)
			fprintf(stderr, "hot_path: seal failed\n");
	}
	vt_pipeline_flush(b->pipeline, 0, 1);
	return hp_cpu_s() - t0;
}

static int hp_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct hp_bench b = { 0 };
	double us[HP_MAX_RUNS];
	const struct vt_pipeline_stats *st;
	long n, runs;

	if (argc != 4 || (n = atol(argv[1])) <= 0 || (runs = atol(argv[2])) < 1 ||
	    runs > HP_MAX_RUNS) {
		fprintf(stderr, "usage: hot_path READINGS RUNS(1-%d) SPOOL_DIR\n", HP_MAX_RUNS);
		return 2;
	}
	vt_log_init("hot_path", VT_LOG_WARN);
	if (hp_open(&b, argv[3]) < 0) {
		hp_close(&b);
		return 1;
	}
	for (long k = 0; k < runs; k++)
		us[k] = hp_run(&b, (uint64_t)(k * n), (uint64_t)n) * 1e6 / (double)n;
	st = vt_pipeline_stats(b.pipeline);
	qsort(us, (size_t)runs, sizeof(us[0]), hp_cmp);
	printf("hot_path: readings %" PRIu64 " frames %" PRIu64 " bytes %" PRIu64
	       " us_per_reading_min %.3f median %.3f\n",
	       st->readings_sealed, st->frames_sealed, st->bytes_sealed, us[0], us[runs / 2]);
	hp_close(&b);
	return 0;
}
