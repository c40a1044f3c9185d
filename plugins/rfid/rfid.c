/*
 * plugins/rfid/rfid.c - the rfid collector plugin: glue between a tag
 * source and the agent.
 *
 * Reads the configuration, starts the source (only the simulated one is
 * built so far), paces it on a simulated clock, decodes each report's EPC as
 * SGTIN-96 and emits one VITRINE_KIND_RFID reading per decoded report.
 * Reports whose EPC is not SGTIN-96 are counted and dropped. It does not
 * filter or aggregate repeated reads of one tag (the aggregator does), and it
 * never logs an EPC or serial: the serial is an identifier that the agent
 * replaces with a keyed digest.
 */
#include <vitrine/plugin.h>

#include "sgtin96.h"
#include "source.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RFID_INTERVAL_MS 50
/* Reports looked at per collect call, as a multiple of burst: bounds the
 * time one call takes even when every report is dropped. */
#define RFID_SCAN_FACTOR 4
/* Simulated times past this (ms) are "everything is due": no overflow. */
#define RFID_FAR_MS 6e15

struct rfid {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct rfid_source *src;
	int src_open;
	int done;
	/* configuration */
	uint64_t seed, limit, burst, fail_every, readers, antennas, items;
	double speed;
	int64_t start_ms;
	/* simulated clock */
	int64_t mono0_ms;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, foreign, invalid, failures;
};

struct rfid_num_key {
	const char *key;
	uint64_t def, min, max;
	size_t off;
};

static const struct rfid_num_key rfid_num_keys[] = {
	{ "seed", 1, 0, UINT64_MAX, offsetof(struct rfid, seed) },
	{ "limit", 0, 0, UINT64_MAX, offsetof(struct rfid, limit) },
	{ "burst", 500, 1, 100000, offsetof(struct rfid, burst) },
	{ "fail_every", 0, 0, UINT64_MAX, offsetof(struct rfid, fail_every) },
	{ "readers", 1, 1, 16, offsetof(struct rfid, readers) },
	{ "antennas", 4, 1, 4, offsetof(struct rfid, antennas) },
	{ "items", 200, 1, 100000, offsetof(struct rfid, items) },
};

static const char *const rfid_config_keys[] = {
	"source", "seed", "speed", "start", "limit", "burst", "fail_every",
	"readers", "antennas", "items", NULL,
};

/* ---- configuration ----------------------------------------------------- */

static int rfid_bad(struct rfid *rf, const char *key, const char *val,
		    const char *expected)
{
	rf->host->log(rf->ctx, VITRINE_LOG_ERROR,
		      "rfid.%s = \"%s\" is invalid: expected %s", key, val,
		      expected);
	return -EINVAL;
}

static int rfid_parse_u64(const char *val, uint64_t min, uint64_t max,
			  uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (val[0] < '0' || val[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int rfid_config_numbers(struct rfid *rf)
{
	char expected[80];
	size_t nkeys = sizeof(rfid_num_keys) / sizeof(rfid_num_keys[0]);

	for (size_t i = 0; i < nkeys; i++) {
		const struct rfid_num_key *k = &rfid_num_keys[i];
		uint64_t *field = (uint64_t *)((char *)rf + k->off);
		const char *val = rf->host->config(rf->ctx, k->key);

		*field = k->def;
		if (!val || !rfid_parse_u64(val, k->min, k->max, field))
			continue;
		snprintf(expected, sizeof(expected), "an integer in %llu..%llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return rfid_bad(rf, k->key, val, expected);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t rfid_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int rfid_days_in_month(int64_t y, int64_t m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DDTHH:MM:SSZ" to UTC ms since the epoch. */
static int rfid_parse_utc(const char *val, int64_t *out_ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	int64_t f[6] = { 0 };
	int n = 0;

	if (strlen(val) != sizeof(shape) - 1)
		return -EINVAL;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] != 'd') {
			if (val[i] != shape[i])
				return -EINVAL;
			n += shape[i + 1] == 'd' || shape[i + 1] == '\0';
			continue;
		}
		if (val[i] < '0' || val[i] > '9')
			return -EINVAL;
		f[n] = f[n] * 10 + (val[i] - '0');
	}
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
	    f[2] > rfid_days_in_month(f[0], f[1]) || f[3] > 23 || f[4] > 59 ||
	    f[5] > 59)
		return -EINVAL;
	*out_ms = ((rfid_days_from_civil(f[0], f[1], f[2]) * 24 + f[3]) * 3600 +
		   f[4] * 60 + f[5]) * 1000;
	return 0;
}

static int rfid_config_clock(struct rfid *rf)
{
	const char *speed = rf->host->config(rf->ctx, "speed");
	const char *start = rf->host->config(rf->ctx, "start");
	char *end;

	rf->speed = 1;
	if (speed) {
		rf->speed = strtod(speed, &end);
		if (*end || end == speed || !(rf->speed >= 0 && rf->speed <= 1e6))
			return rfid_bad(rf, "speed", speed,
					"a number in 0..1000000 (0 = as fast as possible)");
	}
	if (!start || !strcmp(start, "now")) {
		rf->start_ms = rf->host->now_ms(rf->ctx);
		return 0;
	}
	if (rfid_parse_utc(start, &rf->start_ms))
		return rfid_bad(rf, "start", start,
				"\"now\" or UTC time like 2026-11-25T09:00:00Z");
	return 0;
}

static int rfid_configure(struct rfid *rf)
{
	const char *source = rf->host->config(rf->ctx, "source");
	int rc;

	if (source && strcmp(source, "sim"))
		return rfid_bad(rf, "source", source,
				"\"sim\" (the only source built so far)");
	rc = rfid_config_numbers(rf);
	if (!rc)
		rc = rfid_config_clock(rf);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int rfid_start(struct rfid *rf)
{
	struct rfid_sim_params p = {
		.seed = rf->seed,
		.start_utc_ms = rf->start_ms,
		.readers = (uint32_t)rf->readers,
		.antennas = (uint32_t)rf->antennas,
		.items = (uint32_t)rf->items,
		.fail_every = rf->fail_every,
	};
	int rc = rfid_sim_create(&p, &rf->src);

	if (rc)
		return rc;
	rc = rf->src->ops->open(rf->src);
	if (rc) {
		rf->src->ops->destroy(rf->src);
		rf->src = NULL;
		return rc;
	}
	rf->src_open = 1;
	rf->mono0_ms = rf->host->mono_ms(rf->ctx);
	rf->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest simulated time (UTC µs) whose reports may be delivered now. */
static int64_t rfid_horizon_us(struct rfid *rf)
{
	int64_t elapsed = rf->host->mono_ms(rf->ctx) - rf->mono0_ms;
	double sim_ms;

	if (elapsed < 0)
		elapsed = 0;
	sim_ms = (double)rf->start_ms + (double)elapsed * rf->speed;
	/* speed 0, or so far ahead (beyond 200,000 years) that all is due */
	if (rf->speed == 0 || sim_ms >= RFID_FAR_MS)
		return INT64_MAX;
	return (int64_t)sim_ms * 1000 + 999;
}

static int64_t rfid_time_ms(struct rfid *rf, const struct rfid_tag_report *rep)
{
	int64_t t = rep->utc_us ? rep->utc_us / 1000 :
		    rf->src->epoch_utc_ms + rep->mono_us / 1000;

	/* Readers' clocks may step; the readings' clock never goes back. */
	if (t < rf->last_time_ms)
		t = rf->last_time_ms;
	rf->last_time_ms = t;
	return t;
}

static int rfid_reopen(struct rfid *rf)
{
	int rc = rf->src->ops->open(rf->src);

	if (rc) {
		rf->host->log(rf->ctx, VITRINE_LOG_WARN,
			      "tag source \"%s\" still unavailable (%s); retrying",
			      rf->src->ops->name, strerror(-rc));
		return rc;
	}
	rf->src_open = 1;
	rf->host->log(rf->ctx, VITRINE_LOG_INFO,
		      "tag source \"%s\" reopened; resuming after %llu readings",
		      rf->src->ops->name, (unsigned long long)rf->emitted);
	return 0;
}

static int rfid_source_lost(struct rfid *rf, int rc)
{
	rf->failures++;
	rf->host->log(rf->ctx, VITRINE_LOG_WARN,
		      "tag source \"%s\" failed (%s) after %llu readings; closed, reopening on the next collect",
		      rf->src->ops->name, strerror(-rc),
		      (unsigned long long)rf->emitted);
	rf->src->ops->close(rf->src);
	rf->src_open = 0;
	return rc;
}

/* ---- reports to readings ----------------------------------------------- */

static void rfid_drop_foreign(struct rfid *rf, int rc)
{
	if (rf->foreign++)
		return;
	rf->host->log(rf->ctx, VITRINE_LOG_INFO,
		      "dropped a tag report whose EPC is not SGTIN-96 (%s); counting further ones, total logged at shutdown",
		      rc == -EPROTONOSUPPORT ? "other EPC scheme" :
		      rc == -EINVAL ? "bad partition" : "value out of range");
}

/* Returns 1 when a reading was emitted, 0 when the report was dropped. */
static int rfid_handle(struct rfid *rf, const struct rfid_tag_report *rep)
{
	struct vitrine_reading r;
	struct sgtin96 tag;
	int rc = rep->epc_bits == 96 ? sgtin96_decode(rep->epc, &tag) :
				       -EPROTONOSUPPORT;

	if (rc) {
		rfid_drop_foreign(rf, rc);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	if (!rep->antenna || sgtin96_gtin14(&tag, r.u.rfid.gtin)) {
		rf->invalid++;
		return 0;
	}
	r.kind = VITRINE_KIND_RFID;
	r.time_ms = rfid_time_ms(rf, rep);
	r.u.rfid.reader = rep->reader;
	r.u.rfid.antenna = rep->antenna;
	r.u.rfid.rssi_cdbm = rep->rssi_cdbm;
	r.u.rfid.filter = tag.filter;
	r.u.rfid.serial = tag.serial;
	rf->host->emit(rf->ctx, &r);
	rf->emitted++;
	if (rf->limit && rf->emitted >= rf->limit)
		rf->done = 1;
	return 1;
}

/* ---- the plugin callbacks ---------------------------------------------- */

static int rfid_host_ok(const struct vitrine_host *host)
{
	return host && host->abi_major == VITRINE_ABI_MAJOR &&
	       host->struct_size >= offsetof(struct vitrine_host, mono_ms) +
					    sizeof(host->mono_ms);
}

static int rfid_init(const struct vitrine_host *host, struct vitrine_ctx *ctx,
		     void **state)
{
	struct rfid *rf;
	int rc;

	if (!rfid_host_ok(host))
		return -EINVAL;
	rf = calloc(1, sizeof(*rf));
	if (!rf)
		return -ENOMEM;
	rf->host = host;
	rf->ctx = ctx;
	rc = rfid_configure(rf);
	if (rc)
		goto out_free;
	rc = rfid_start(rf);
	if (rc) {
		host->log(ctx, VITRINE_LOG_ERROR, "cannot start the tag source: %s",
			  strerror(-rc));
		goto out_free;
	}
	*state = rf;
	return 0;

out_free:
	free(rf);
	return rc;
}

static int rfid_collect(void *state)
{
	struct rfid *rf = state;
	struct rfid_tag_report rep;
	uint64_t emitted = 0, scanned = 0;
	int64_t horizon;
	int rc;

	if (rf->done)
		return 1;
	/* Reopening is a call of its own: its 0 tells the agent that the
	 * source recovered (see plugin.h); reading resumes on the next call. */
	if (!rf->src_open)
		return rfid_reopen(rf);
	horizon = rfid_horizon_us(rf);
	while (emitted < rf->burst && scanned++ < rf->burst * RFID_SCAN_FACTOR) {
		rc = rf->src->ops->next_report(rf->src, horizon, &rep);
		if (rc < 0)
			return rfid_source_lost(rf, rc);
		if (rc == 0)
			break;
		emitted += (uint64_t)rfid_handle(rf, &rep);
		if (rf->done)
			return 1;
	}
	return 0;
}

static void rfid_fini(void *state)
{
	struct rfid *rf = state;

	if (!rf)
		return;
	rf->host->log(rf->ctx, VITRINE_LOG_INFO,
		      "stopping: %llu readings, %llu non-SGTIN-96 and %llu invalid reports dropped, %llu source failures",
		      (unsigned long long)rf->emitted,
		      (unsigned long long)rf->foreign,
		      (unsigned long long)rf->invalid,
		      (unsigned long long)rf->failures);
	rf->src->ops->destroy(rf->src);
	free(rf);
}

VITRINE_EXPORT const struct vitrine_plugin vitrine_plugin = {
	.abi_major = VITRINE_ABI_MAJOR,
	.abi_minor = VITRINE_ABI_MINOR,
	.struct_size = sizeof(struct vitrine_plugin),
	.name = "rfid",
	.version = "0.1.0",
	.description = "UHF RFID tag reads (SGTIN-96) from readers; simulated source",
	.config_keys = rfid_config_keys,
	.init = rfid_init,
	.collect = rfid_collect,
	.collect_interval_ms = RFID_INTERVAL_MS,
	.fini = rfid_fini,
};
