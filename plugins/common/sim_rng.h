/*
 * plugins/common/sim_rng.h - the PRNG of the simulated sources: splitmix64,
 * uniform integers in a range, uniform doubles, and independent streams
 * derived from one seed.
 *
 * Header-only (static inline: it is on every simulated reading's path) and
 * compiled into each plugin. Deterministic on every platform: same seed,
 * same sequence. Not for anything secret. Without libm: a plugin that
 * links it maps 400 kB more of shared code for the one logarithm the
 * simulations need (make bench, memory at rest).
 */
#ifndef VP_SIM_RNG_H
#define VP_SIM_RNG_H

#include <stdint.h>
#include <string.h>

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

/* -ln(1 - u) for u in [0, 1): an exponential draw of mean 1 (a Poisson
 * process's wait), to about 1e-15. 1 - u = m * 2^e with m in [1, 2), read
 * off the IEEE 754 bits; ln(m) = 2 atanh(s), s = (m - 1) / (m + 1) < 1/3,
 * by its series (the 20th term is below 1e-19). */
static inline double vp_rng_exp(double u)
{
	double x = 1.0 - u, m, s, s2, term, sum = 0;
	uint64_t bits;
	int e;

	if (x <= 0)
		return 40.0;	/* u = 1 is not drawn; 40 means "never" */
	memcpy(&bits, &x, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1023) << 52);
	memcpy(&m, &bits, sizeof(m));
	s = (m - 1) / (m + 1);
	s2 = s * s;
	term = s;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return -(e * 0.69314718055994530942 + 2 * sum);
}

/* The seed of stream i (0-based; one per door, kiosk, reader) from `seed`. */
static inline uint64_t vp_rng_stream(uint64_t seed, uint32_t i)
{
	return seed ^ (UINT64_C(0x5851f42d4c957f2d) * (i + 1));
}

#endif /* VP_SIM_RNG_H */
