/*
 * plugins/common/sim_rng.h - the PRNG of the simulated sources: splitmix64,
 * uniform integers in a range, uniform doubles, and independent streams
 * derived from one seed.
 *
 * Header-only (static inline: it is on every simulated reading's path) and
 * compiled into each plugin. Deterministic on every platform: same seed,
 * same sequence. Not for anything secret.
 */
#ifndef VP_SIM_RNG_H
#define VP_SIM_RNG_H

#include <stdint.h>

/* The next 64 random bits of the stream `*state` (splitmix64). */
static inline uint64_t vp_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* An integer in lo..hi (inclusive; hi >= lo). */
static inline int64_t vp_rng_range(uint64_t *state, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(vp_rng_next(state) % (uint64_t)(hi - lo + 1));
}

/* A double in [0, 1) with 53 random bits. */
static inline double vp_rng_unit(uint64_t *state)
{
	return (double)(vp_rng_next(state) >> 11) * 0x1p-53;
}

/* The seed of stream i (0-based; one per door, kiosk, reader) from `seed`. */
static inline uint64_t vp_rng_stream(uint64_t seed, uint32_t i)
{
	return seed ^ (UINT64_C(0x5851f42d4c957f2d) * (i + 1));
}

#endif /* VP_SIM_RNG_H */
