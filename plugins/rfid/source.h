/*
 * plugins/rfid/source.h - where tag reports come from.
 *
 * A source delivers raw tag reports (EPC bytes, reader, antenna, RSSI, time),
 * oldest first, exactly as a UHF reader reports them; it does not decode the
 * EPC (rfid.c does, so a real reader and the simulation take the same path).
 * Drivers: source_sim.c (simulated readers, for demos and tests) and
 * source_llrp.c (fixed readers over LLRP, TCP 5084). Single-threaded:
 * called from the agent's poll loop only.
 */
#ifndef VT_RFID_SOURCE_H
#define VT_RFID_SOURCE_H

#include <stdint.h>

#include <vitrine/plugin.h>

#define RFID_EPC_BYTES 12

struct rfid_tag_report {
	uint8_t epc[RFID_EPC_BYTES];
	uint16_t epc_bits;	/* 96 for an EPC-96; anything else is not SGTIN-96 */
	uint16_t antenna;	/* antenna port, 1-based (LLRP AntennaID) */
	uint32_t reader;	/* reader number within the store, 1-based */
	int32_t rssi_cdbm;	/* peak RSSI, centi-dBm */
	int64_t mono_us;	/* reader uptime (LLRP Uptime), or 0 */
	int64_t utc_us;		/* LLRP FirstSeenTimestampUTC, or 0 when absent */
	uint32_t reads;		/* LLRP TagSeenCount; 0 is taken as 1 */
	uint32_t dwell_ms;	/* last seen - first seen, when the reader says */
};

struct rfid_source;

struct rfid_source_ops {
	const char *name;
	/* Connect (or reconnect after a failure; state is kept). 0 or -errno. */
	int (*open)(struct rfid_source *src);
	/* Fill *rep with the next report whose time is <= horizon_us (UTC µs)
	 * and return 1; return 0 when none is ready yet; -errno when the source
	 * failed (it is then closed: call open again). A network driver ignores
	 * horizon_us and returns what the reader has already sent. */
	int (*next_report)(struct rfid_source *src, int64_t horizon_us,
			   struct rfid_tag_report *rep);
	void (*close)(struct rfid_source *src);
	/* Free the source (closing it first if needed). */
	void (*destroy)(struct rfid_source *src);
	/* Optional, before destroy at the end: say goodbye. Reports already in
	 * flight keep coming from next_report, which returns -ENOTCONN once
	 * the source has nothing more to say. NULL for the simulation. */
	void (*shutdown)(struct rfid_source *src);
};

/* Drivers embed this as their first member. */
struct rfid_source {
	const struct rfid_source_ops *ops;
	/* UTC ms at mono_us = 0, for reports without utc_us; set by open. */
	int64_t epoch_utc_ms;
};

/* ---- the simulated driver (source_sim.c) ---- */

#define RFID_SIM_CANARIES_MAX 16

struct rfid_sim_params {
	uint64_t seed;
	int64_t start_utc_ms;	/* simulated time of the first read round */
	uint32_t readers;	/* 1..16 */
	uint32_t antennas;	/* 1..4 per reader */
	uint32_t items;		/* tagged items in the store, 1..100000 */
	uint64_t fail_every;	/* fail after every N reports; 0 = never */
	/* Canary tags (the test key rfid.canary): EPCs put into the stock
	 * ahead of the `items` and never hidden, so that their reader reads
	 * each of them in every round. Borrowed for the create call only (the
	 * EPCs are copied); NULL when ncanaries is 0. */
	const uint8_t (*canaries)[RFID_EPC_BYTES];
	uint32_t ncanaries;	/* 0..RFID_SIM_CANARIES_MAX */
};

/* Creates a simulated source; *out is freed with (*out)->ops->destroy.
 * Returns 0, -EINVAL (params out of range) or -ENOMEM. */
int rfid_sim_create(const struct rfid_sim_params *p, struct rfid_source **out);

/* ---- the LLRP driver (source_llrp.c) ---- */

#define RFID_LLRP_READERS_MAX 16
#define RFID_LLRP_HOST_MAX 64

struct rfid_llrp_params {
	const char *readers;	/* "host[:port],...", borrowed for create */
	uint32_t keepalive_ms;	/* asked of each reader; 3 silent periods end
				 * a connection */
	uint32_t max_message;	/* bytes; a longer message ends the connection */
	uint16_t report_n;	/* tags per RO_ACCESS_REPORT (ROReportSpec N) */
	uint32_t rospec_id;
	/* Logs and clocks, borrowed for the source's life. */
	const struct vitrine_host *host;
	struct vitrine_ctx *ctx;
};

/* Creates the driver (no connection is made before the first next_report);
 * *out is freed with (*out)->ops->destroy. Returns 0, -EINVAL (a reader
 * address that does not parse, more than RFID_LLRP_READERS_MAX readers,
 * max_message below 1024, keepalive_ms 0) or -ENOMEM. Reports carry utc_us
 * (converted from the reader's uptime when it has no UTC clock) and
 * reader = the reader's place in the list, from 1. */
int rfid_llrp_create(const struct rfid_llrp_params *p, struct rfid_source **out);

/* Checks a reader list as rfid_llrp_create() reads it; *n readers. Fills
 * hosts and ports when they are not NULL. 0 or -EINVAL. */
int rfid_llrp_parse_readers(const char *list, char hosts[][RFID_LLRP_HOST_MAX],
			    char ports[][8], uint32_t *n);

#endif /* VT_RFID_SOURCE_H */
