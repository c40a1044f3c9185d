/*
 * plugins/common/sim_clock.h - the simulated clock that paces a collector
 * plugin's simulated source: it starts at a configured UTC time ("start")
 * and runs `speed` times as fast as the host's monotonic clock (0 = as fast
 * as possible, everything is due at once).
 *
 * Compiled into each plugin; reads "speed" and "start" through plugin_conf
 * and the time from host->now_ms / host->mono_ms. No allocation.
 */
#ifndef VP_SIM_CLOCK_H
#define VP_SIM_CLOCK_H

#include "common/plugin_conf.h"

#include <stdint.h>

struct vp_sim_clock {
	double speed;		/* simulated ms per host ms; 0 = all due */
	int64_t start_ms;	/* simulated UTC ms at vp_sim_clock_start() */
	int64_t mono0_ms;	/* host->mono_ms at vp_sim_clock_start() */
};

/* A host table recent enough to have mono_ms (the clock needs it). */
int vp_sim_clock_host_ok(const struct vitrine_host *host);

/* Reads "speed" (default 1) and "start" (default "now"); 0 or -EINVAL,
 * logged through vp_conf_bad(). */
int vp_sim_clock_config(struct vp_sim_clock *clk, const struct vp_conf *c);

/* Starts the clock at start_ms, now. */
void vp_sim_clock_start(struct vp_sim_clock *clk,
			const struct vitrine_host *host, struct vitrine_ctx *ctx);

/* The simulated UTC time now, in ms; INT64_MAX when everything is due
 * (speed 0, or beyond 200,000 years). */
int64_t vp_sim_clock_now_ms(const struct vp_sim_clock *clk,
			    const struct vitrine_host *host,
			    struct vitrine_ctx *ctx);

#endif /* VP_SIM_CLOCK_H */
