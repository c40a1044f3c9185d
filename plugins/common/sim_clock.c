/*
 * plugins/common/sim_clock.c - the simulated clock that paces a collector
 * plugin's simulated source (see sim_clock.h).
 */
#include "common/sim_clock.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Simulated times past this (ms) are "everything is due": no overflow. */
#define VP_SIM_FAR_MS 6e15

int vp_sim_clock_host_ok(const struct vitrine_host *host)
{
	return host && host->abi_major == VITRINE_ABI_MAJOR &&
	       host->struct_size >= offsetof(struct vitrine_host, mono_ms) +
					    sizeof(host->mono_ms);
}

int vp_sim_clock_config(struct vp_sim_clock *clk, const struct vp_conf *c)
{
	const char *speed = c->host->config(c->ctx, "speed");
	const char *start = c->host->config(c->ctx, "start");
	char *end;

	clk->speed = 1;
	if (speed) {
		clk->speed = strtod(speed, &end);
		if (*end || end == speed || !(clk->speed >= 0 && clk->speed <= 1e6))
			return vp_conf_bad(c, "speed", speed,
					   "a number in 0..1000000 (0 = as fast as possible)");
	}
	if (!start || !strcmp(start, "now")) {
		clk->start_ms = c->host->now_ms(c->ctx);
		return 0;
	}
	if (vp_parse_utc(start, &clk->start_ms))
		return vp_conf_bad(c, "start", start,
				   "\"now\" or UTC time like 2026-11-25T09:00:00Z");
	return 0;
}

void vp_sim_clock_start(struct vp_sim_clock *clk,
			const struct vitrine_host *host, struct vitrine_ctx *ctx)
{
	clk->mono0_ms = host->mono_ms(ctx);
}

int64_t vp_sim_clock_now_ms(const struct vp_sim_clock *clk,
			    const struct vitrine_host *host,
			    struct vitrine_ctx *ctx)
{
	int64_t elapsed = host->mono_ms(ctx) - clk->mono0_ms;
	double sim_ms;

	if (elapsed < 0)
		elapsed = 0;
	sim_ms = (double)clk->start_ms + (double)elapsed * clk->speed;
	/* speed 0, or so far ahead (beyond 200,000 years) that all is due */
	if (clk->speed == 0 || sim_ms >= VP_SIM_FAR_MS)
		return INT64_MAX;
	return (int64_t)sim_ms;
}
