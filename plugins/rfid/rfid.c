/*
 * plugins/rfid/rfid.c - the rfid collector plugin: glue between a tag
 * source and the agent.
 *
 * Reads the configuration, starts the source (the simulated readers, paced
 * on a simulated clock, or real readers over LLRP), decodes each report's
 * EPC as SGTIN-96 and emits one VITRINE_KIND_RFID reading per decoded
 * report, or, with presence windows (rfid.presence_ms, presence.c), one
 * per tag, reader and window. Reports whose EPC is not SGTIN-96 are counted
 * and dropped. It never logs an EPC or serial: the serial is an identifier
 * that the agent replaces with a keyed digest.
 */
#include <vitrine/plugin.h>

#include "fields.h"
#include "presence.h"
#include "sgtin96.h"
#include "source.h"

#include "common/plugin_conf.h"
#include "common/sim_clock.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RFID_INTERVAL_MS 50
/* The longest fini waits for readers to answer CLOSE_CONNECTION. */
#define RFID_DRAIN_MS 1500
/* Reports looked at per collect call, as a multiple of burst: bounds the
 * time one call takes even when every report is dropped. */
#define RFID_SCAN_FACTOR 4

struct rfid {
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
	struct rfid_source *src;
	int src_open;
	int done;
	int failing;		/* failures since the last report */
	/* configuration */
	int source;		/* enum rfid_source_kind */
	const char *llrp_readers;	/* borrowed from the host */
	uint64_t llrp_keepalive_ms, llrp_max_message, llrp_report_n, llrp_rospec_id;
	uint64_t presence_ms, presence_tags;
	struct rfid_presence presence;	/* when presence_ms > 0 */
	int64_t presence_opened_ms;	/* mono time the open window got a read */
	struct vp_sim_conf sim;	/* seed, limit, burst, fail_every */
	uint64_t readers, antennas, items;
	uint8_t canaries[RFID_SIM_CANARIES_MAX][RFID_EPC_BYTES];
	uint32_t ncanaries;	/* rfid.canary: test tags added to the stock */
	struct vp_sim_clock clock;
	int64_t last_time_ms;
	/* counters */
	uint64_t emitted, foreign, invalid, failures;
};

/* The plugin's own numeric keys, after those of vp_conf_sim(). */
static const struct vp_num_key rfid_num_keys[] = {
	{ "readers", 1, 1, 16, offsetof(struct rfid, readers) },
	{ "antennas", 4, 1, 4, offsetof(struct rfid, antennas) },
	{ "items", 200, 1, 100000, offsetof(struct rfid, items) },
};

/* ... and those of the LLRP driver. */
static const struct vp_num_key rfid_llrp_keys[] = {
	{ "llrp_keepalive_ms", 5000, 100, 600000, offsetof(struct rfid, llrp_keepalive_ms) },
	{ "llrp_max_message", 262144, 1024, 16777216, offsetof(struct rfid, llrp_max_message) },
	{ "llrp_report_n", 1, 1, 65535, offsetof(struct rfid, llrp_report_n) },
	{ "llrp_rospec_id", 7601, 1, 4294967295u, offsetof(struct rfid, llrp_rospec_id) },
	/* The default of presence_ms depends on the source (rfid_conf_llrp). */
	{ "presence_ms", 0, 0, 3600000, offsetof(struct rfid, presence_ms) },
	{ "presence_tags", 4096, 16, 1000000, offsetof(struct rfid, presence_tags) },
};

/* Real readers report a tag many times a second: by default their reads
 * are summed up per second. The simulation reads each tag once a round. */
#define RFID_LLRP_PRESENCE_MS 1000

enum rfid_source_kind {
	RFID_SOURCE_SIM = 0,
	RFID_SOURCE_LLRP = 1,
};

static const char *const rfid_sources[] = { "sim", "llrp", NULL };

static const char *const rfid_config_keys[] = {
	VP_SIM_CONFIG_KEYS, "readers", "antennas", "items", "canary",
	"llrp_readers", "llrp_keepalive_ms", "llrp_max_message", "llrp_report_n",
	"llrp_rospec_id", "presence_ms", "presence_tags", NULL,
};

/* ---- configuration ----------------------------------------------------- */

static int rfid_hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One EPC of rfid.canary: 24 hex digits (surrounding blanks allowed) that
 * decode as an SGTIN-96 with a valid GTIN. Returns the error's wording or
 * NULL. */
static const char *rfid_parse_epc(const char *s, size_t len,
				  uint8_t epc[RFID_EPC_BYTES])
{
	struct sgtin96 tag;
	char gtin[SGTIN96_GTIN_LEN + 1];
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		int v = rfid_hex_nibble(s[i]);

		if (s[i] == ' ' || s[i] == '\t')
			continue;
		if (v < 0 || digits == 2 * RFID_EPC_BYTES ||
		    (digits && (s[i - 1] == ' ' || s[i - 1] == '\t')))
			return "24 hex digits";
		if (digits % 2 == 0)
			epc[digits / 2] = (uint8_t)(v << 4);
		else
			epc[digits / 2] |= (uint8_t)v;
		digits++;
	}
	if (digits != 2 * RFID_EPC_BYTES)
		return "24 hex digits";
	if (sgtin96_decode(epc, &tag) || sgtin96_gtin14(&tag, gtin))
		return "an SGTIN-96 EPC (header 30, partition 0-6, fields within their digits)";
	return NULL;
}

/* rfid.canary (test and demo key): a comma-separated list of SGTIN-96 EPCs
 * that the simulation adds to its stock. The message names the entry, not
 * its value: a canary stands for an item's identifier, which is never
 * logged. */
static int rfid_conf_canaries(struct rfid *rf, const struct vp_conf *c)
{
	const char *val = c->host->config(c->ctx, "canary");
	const char *why = NULL;

	rf->ncanaries = 0;
	if (!val)
		return 0;
	for (const char *p = val;; p++) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (rf->ncanaries == RFID_SIM_CANARIES_MAX)
			why = "at most 16 EPCs";
		else
			why = rfid_parse_epc(p, len, rf->canaries[rf->ncanaries]);
		if (why) {
			c->host->log(c->ctx, VITRINE_LOG_ERROR,
				     "%s.canary entry %u is invalid: expected %s, e.g. 3074257BF7194E4000001A85; comma-separated, at most %d (test key; the value is not logged)",
				     c->plugin, rf->ncanaries + 1, why,
				     RFID_SIM_CANARIES_MAX);
			return -EINVAL;
		}
		rf->ncanaries++;
		if (!end)
			break;
		p = end;
	}
	c->host->log(c->ctx, VITRINE_LOG_INFO,
		     "test key %s.canary: %u canary tags added to the simulated stock",
		     c->plugin, rf->ncanaries);
	return 0;
}

/* rfid.llrp_readers: required with source llrp, checked as the driver
 * reads it. */
static int rfid_conf_llrp(struct rfid *rf, const struct vp_conf *c)
{
	const char *val = c->host->config(c->ctx, "llrp_readers");
	uint32_t n;
	int rc = vp_conf_numbers(c, rfid_llrp_keys, VP_ARRAY_SIZE(rfid_llrp_keys), rf);

	if (rc || rf->source != RFID_SOURCE_LLRP)
		return rc;
	if (!c->host->config(c->ctx, "presence_ms"))
		rf->presence_ms = RFID_LLRP_PRESENCE_MS;
	if (!val) {
		c->host->log(c->ctx, VITRINE_LOG_ERROR,
			     "rfid.source is llrp but rfid.llrp_readers is not set: expected the readers' addresses, e.g. rfid.llrp_readers 192.168.1.20,reader2.local:5084");
		return -EINVAL;
	}
	if (rfid_llrp_parse_readers(val, NULL, NULL, &n))
		return vp_conf_bad(c, "llrp_readers", val,
				   "a comma-separated list of at most 16 host, host:port, [IPv6] or [IPv6]:port (port 5084 by default)");
	rf->llrp_readers = val;
	return 0;
}

static int rfid_configure(struct rfid *rf)
{
	struct vp_conf c = { rf->host, rf->ctx, "rfid" };
	int rc = vp_conf_source(&c, rfid_sources, "\"sim\" or \"llrp\"");

	if (rc < 0)
		return rc;
	rf->source = rc;
	rc = vp_conf_sim(&c, &rf->sim);
	if (!rc)
		rc = rfid_conf_llrp(rf, &c);
	if (!rc)
		rc = vp_conf_numbers(&c, rfid_num_keys,
				     VP_ARRAY_SIZE(rfid_num_keys), rf);
	if (!rc)
		rc = rfid_conf_canaries(rf, &c);
	if (!rc)
		rc = vp_sim_clock_config(&rf->clock, &c);
	return rc;
}

/* ---- source and clock -------------------------------------------------- */

static int rfid_create_llrp(struct rfid *rf)
{
	struct rfid_llrp_params p = {
		.readers = rf->llrp_readers,
		.keepalive_ms = (uint32_t)rf->llrp_keepalive_ms,
		.max_message = (uint32_t)rf->llrp_max_message,
		.report_n = (uint16_t)rf->llrp_report_n,
		.rospec_id = (uint32_t)rf->llrp_rospec_id,
		.host = rf->host,
		.ctx = rf->ctx,
	};

	return rfid_llrp_create(&p, &rf->src);
}

static int rfid_create_sim(struct rfid *rf)
{
	struct rfid_sim_params p = {
		.seed = rf->sim.seed,
		.start_utc_ms = rf->clock.start_ms,
		.readers = (uint32_t)rf->readers,
		.antennas = (uint32_t)rf->antennas,
		.items = (uint32_t)rf->items,
		.fail_every = rf->sim.fail_every,
		.canaries = rf->ncanaries ? rf->canaries : NULL,
		.ncanaries = rf->ncanaries,
	};

	return rfid_sim_create(&p, &rf->src);
}

static int rfid_start(struct rfid *rf)
{
	int rc = rf->source == RFID_SOURCE_LLRP ? rfid_create_llrp(rf) :
						  rfid_create_sim(rf);

	if (rc)
		return rc;
	if (rf->presence_ms)
		rc = rfid_presence_init(&rf->presence, (uint32_t)rf->presence_tags,
					(int64_t)rf->presence_ms * 1000);
	if (!rc)
		rc = rf->src->ops->open(rf->src);
	if (rc) {
		rfid_presence_free(&rf->presence);
		rf->src->ops->destroy(rf->src);
		rf->src = NULL;
		return rc;
	}
	rf->src_open = 1;
	vp_sim_clock_start(&rf->clock, rf->host, rf->ctx);
	rf->last_time_ms = INT64_MIN;
	return 0;
}

/* Latest simulated time (UTC µs) whose reports may be delivered now. */
static int64_t rfid_horizon_us(struct rfid *rf)
{
	int64_t sim_ms;

	if (rf->source != RFID_SOURCE_SIM)
		return INT64_MAX;	/* real readers report what they read */
	sim_ms = vp_sim_clock_now_ms(&rf->clock, rf->host, rf->ctx);
	if (sim_ms == INT64_MAX)
		return INT64_MAX;
	return sim_ms * 1000 + 999;
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
	rf->host->log(rf->ctx, rf->failing > 1 ? VITRINE_LOG_DEBUG : VITRINE_LOG_INFO,
		      "tag source \"%s\" reopened; resuming after %llu readings",
		      rf->src->ops->name, (unsigned long long)rf->emitted);
	return 0;
}

/* The first failure since the last report is a warning; while the source
 * stays down (a reader switched off for the night) the agent backs off and
 * each further attempt is logged at debug level only. */
static int rfid_source_lost(struct rfid *rf, int rc)
{
	rf->failures++;
	rf->host->log(rf->ctx, rf->failing++ ? VITRINE_LOG_DEBUG : VITRINE_LOG_WARN,
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
	r.u.rfid.reads = rep->reads;
	r.u.rfid.dwell_ms = rep->dwell_ms;
	rf->host->emit(rf->ctx, &r);
	rf->emitted++;
	if (rf->sim.limit && rf->emitted >= rf->sim.limit)
		rf->done = 1;
	return 1;
}

/* ---- presence windows ---------------------------------------------------- */

/* Emits every presence of the open window. Returns how many. */
static uint64_t rfid_presence_flush(struct rfid *rf)
{
	struct rfid_tag_report rep;
	uint64_t n = 0;

	rfid_presence_close(&rf->presence);
	while (rfid_presence_next(&rf->presence, &rep))
		n += (uint64_t)rfid_handle(rf, &rep);
	return n;
}

/* A report from the source: summed up into the open presence window, or
 * emitted as it is. Returns the readings emitted. */
static uint64_t rfid_take(struct rfid *rf, struct rfid_tag_report *rep)
{
	uint64_t n = 0;
	int opens;

	if (!rf->presence_ms || rep->epc_bits != 96)
		return (uint64_t)rfid_handle(rf, rep);
	if (!rep->utc_us)
		rep->utc_us = rf->src->epoch_utc_ms * 1000 + rep->mono_us;
	opens = rf->presence.count == 0;
	if (rfid_presence_add(&rf->presence, rep)) {
		n = rfid_presence_flush(rf);
		rfid_presence_add(&rf->presence, rep);	/* an empty table takes it */
		opens = 1;
	}
	if (opens)
		rf->presence_opened_ms = rf->host->mono_ms(rf->ctx);
	return n;
}

/* A window with reads is closed presence_ms after its first read came in,
 * even if no later read arrives to close it. */
static uint64_t rfid_presence_tick(struct rfid *rf)
{
	if (!rf->presence_ms || !rf->presence.count ||
	    rf->host->mono_ms(rf->ctx) - rf->presence_opened_ms < (int64_t)rf->presence_ms)
		return 0;
	return rfid_presence_flush(rf);
}

/* ---- the plugin callbacks ---------------------------------------------- */

static int rfid_init(const struct vitrine_host *host, struct vitrine_ctx *ctx,
		     void **state)
{
	struct rfid *rf;
	int rc;

	if (!vp_sim_clock_host_ok(host))
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
	while (emitted < rf->sim.burst &&
	       scanned++ < rf->sim.burst * RFID_SCAN_FACTOR) {
		rc = rf->src->ops->next_report(rf->src, horizon, &rep);
		if (rc < 0)
			return rfid_source_lost(rf, rc);
		if (rc == 0)
			break;
		rf->failing = 0;
		emitted += rfid_take(rf, &rep);
		if (rf->done)
			return 1;
	}
	rfid_presence_tick(rf);
	return rf->done;
}

/* Real readers are asked to stop; what they read until they answer is
 * still emitted (the agent drains its pipeline after fini). */
static void rfid_drain(struct rfid *rf)
{
	struct rfid_tag_report rep;
	struct timespec ts;
	int64_t end;
	int rc;

	if (!rf->src_open || !rf->src->ops->shutdown)
		return;
	rf->src->ops->shutdown(rf->src);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + RFID_DRAIN_MS;
	for (;;) {
		rc = rf->src->ops->next_report(rf->src, INT64_MAX, &rep);
		if (rc == 1) {
			rfid_take(rf, &rep);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (rc < 0 || ts.tv_sec * 1000 + ts.tv_nsec / 1000000 >= end)
			return;
		nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
}

static void rfid_fini(void *state)
{
	struct rfid *rf = state;

	if (!rf)
		return;
	rfid_drain(rf);
	if (rf->presence_ms) {
		rfid_presence_flush(rf);
		rf->host->log(rf->ctx, VITRINE_LOG_INFO,
			      "presence: %llu reads summed up into %llu readings (windows of %llu ms; %llu reads came after their window closed and were counted in the next; %llu closed early, the table of %llu tags being full)",
			      (unsigned long long)rf->presence.reads_in,
			      (unsigned long long)rf->presence.presences_out,
			      (unsigned long long)rf->presence_ms,
			      (unsigned long long)rf->presence.late_reads,
			      (unsigned long long)rf->presence.early_closes,
			      (unsigned long long)rf->presence_tags);
		rfid_presence_free(&rf->presence);
	}
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
	.description = "UHF RFID tag reads (SGTIN-96) from LLRP readers or a simulation",
	.config_keys = rfid_config_keys,
	.init = rfid_init,
	.collect = rfid_collect,
	.collect_interval_ms = RFID_INTERVAL_MS,
	.fini = rfid_fini,
	.fields = rfid_fields,
};
