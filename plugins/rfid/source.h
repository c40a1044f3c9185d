/*
 * plugins/rfid/source.h - where tag reports come from.
 *
 * A source delivers raw tag reports (EPC bytes, reader, antenna, RSSI, time),
 * oldest first, exactly as a UHF reader reports them; it does not decode the
 * EPC (rfid.c does, so a real reader and the simulation take the same path).
 * Drivers: source_sim.c (simulated readers, for demos and tests); an LLRP
 * driver (TCP 5084, RO_ACCESS_REPORT -> TagReportData) will implement the
 * same ops. Single-threaded: called from the agent's poll loop only.
 */
#ifndef VT_RFID_SOURCE_H
#define VT_RFID_SOURCE_H

#include <stdint.h>

#define RFID_EPC_BYTES 12

struct rfid_tag_report {
	uint8_t epc[RFID_EPC_BYTES];
	uint16_t epc_bits;	/* 96 for an EPC-96; anything else is not SGTIN-96 */
	uint16_t antenna;	/* antenna port, 1-based (LLRP AntennaID) */
	uint32_t reader;	/* reader number within the store, 1-based */
	int32_t rssi_cdbm;	/* peak RSSI, centi-dBm */
	int64_t mono_us;	/* reader uptime (LLRP Uptime), or 0 */
	int64_t utc_us;		/* LLRP FirstSeenTimestampUTC, or 0 when absent */
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

#endif /* VT_RFID_SOURCE_H */
