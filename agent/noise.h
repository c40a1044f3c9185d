/*
 * noise.h - privacy rule R7: discrete Laplace noise on counts, under an
 * hourly privacy budget.
 *
 * A count released through vt_noise_release() gets an integer Z added with
 * P(Z = k) = (1 - e^-eps) / (1 + e^-eps) * e^(-eps * |k|), the discrete
 * Laplace (two-sided geometric) mechanism, which makes the release
 * eps-differentially private for counts where one person changes the count by
 * at most one. Each release spends eps from the budget of the current UTC
 * hour; when what is left is less than eps the release is refused and the
 * caller must suppress the count (not publish it raw). Sampling is exact and
 * uses integer arithmetic only; randomness comes from an AES-256 CTR-DRBG
 * seeded from OS entropy (noise.c says how).
 *
 * epsilon is given in thousandths ("milli"): 500 means eps = 0.5.
 *
 * What this does not do: decide which counts get noise (window.c), or
 * store the budget itself: vt_noise_save_word() / vt_noise_restore_word()
 * give the caller (anon.c) what to keep across restarts. Not thread-safe:
 * one owner calls it.
 */
#ifndef VT_NOISE_H
#define VT_NOISE_H

#include <errno.h>
#include <stdint.h>

/* Bounds of epsilon per release, in thousandths: 0.001 .. 20. */
#define VT_NOISE_EPSILON_MILLI_MIN 1u
#define VT_NOISE_EPSILON_MILLI_MAX 20000u

/* Largest count vt_noise_release() takes; far beyond any real count, and
 * far enough from INT64_MAX that adding noise cannot overflow. */
#define VT_NOISE_COUNT_MAX (INT64_MAX / 2)

/* vt_noise_release()'s answer when this hour's budget is spent: the count
 * must be suppressed. The refusal is counted (refused_total). */
#define VT_NOISE_BUDGET_SPENT (-EAGAIN)

#define VT_NOISE_HOUR_MS 3600000LL

struct vt_noise;

struct vt_noise_conf {
	uint32_t epsilon_milli;		/* spent by each release; 1..20000 */
	uint32_t budget_milli_per_hour;	/* >= epsilon_milli */
};

/* For the status message. All budget figures are in thousandths. */
struct vt_noise_stats {
	uint32_t epsilon_milli;		/* per release, as configured */
	uint32_t budget_milli_per_hour;	/* as configured */
	uint32_t spent_milli;		/* in the hour starting at hour_start_ms */
	uint32_t releases_hour;		/* releases made in that hour */
	uint64_t releases_total;	/* since creation */
	uint64_t refused_total;		/* refused for lack of budget, since creation */
	int64_t hour_start_ms;		/* UTC, ms since the epoch */
};

/*
 * The agent's constructor: the DRBG is seeded from OS entropy. conf is
 * borrowed (copied). On success *out is the caller's, freed with
 * vt_noise_free(); on failure *out is NULL. Returns 0, -VT_ECONFIG (epsilon outside
 * VT_NOISE_EPSILON_MILLI_MIN..MAX, or budget below epsilon), -ENOMEM or
 * -VT_ECRYPTO (no entropy, DRBG seeding failed). Allocates; nothing else
 * here does.
 */
int vt_noise_new(struct vt_noise **out, const struct vt_noise_conf *conf);

/*
 * FOR TESTS ONLY; the agent must never call this. Like vt_noise_new(), but
 * the DRBG is seeded with bytes derived from seed alone, so the noise is
 * reproducible, and therefore predictable by anyone who knows or guesses
 * the seed: it gives no privacy at all.
 */
int vt_noise_new_seeded_for_tests(struct vt_noise **out, const struct vt_noise_conf *conf,
				  uint64_t seed);

/* Frees n and wipes the DRBG state and the buffered random bytes. NULL is a
 * no-op. */
void vt_noise_free(struct vt_noise *n);

/*
 * Release count (0..VT_NOISE_COUNT_MAX) at wall-clock time now_ms (UTC, ms
 * since the epoch). If the budget left in now_ms's hour is at least
 * epsilon_milli, spends it and sets *noised to count + Z clamped at 0:
 * counts are never negative (clamping is post-processing: it costs no
 * privacy, but biases small counts upward). Returns 0,
 * VT_NOISE_BUDGET_SPENT (nothing spent, *noised untouched: suppress the
 * count), -EINVAL (count out of range) or -VT_ECRYPTO (the DRBG failed, or
 * a sampler loop hit its cap, which a working DRBG practically never makes
 * it do; nothing spent, nothing to publish).
 *
 * The hour only moves forward: a clock stepped back into an earlier hour
 * keeps charging the later hour, so that a clock change cannot hand out a
 * second budget for the same hour.
 */
int vt_noise_release(struct vt_noise *n, int64_t now_ms, int64_t count, int64_t *noised);

/*
 * One draw of Z, spending no budget. For tests (the statistical checks of
 * the sampler) and diagnostics only: publishing a count noised with this
 * bypasses the budget. Returns 0 or -VT_ECRYPTO.
 */
int vt_noise_sample(struct vt_noise *n, int64_t *z);

/* The figures for the status message, as of now_ms: if now_ms is in a later
 * hour than the last release, that hour's spending (zero) is reported.
 * Changes nothing. */
struct vt_noise_stats vt_noise_stats(const struct vt_noise *n, int64_t now_ms);

/* The hour being charged and what it has spent, as one word to store
 * durably after releases (0: nothing spent yet), and its restoration at
 * start: a restart must not hand out a fresh budget for the same hour.
 * Restoring an older hour than the one charged changes nothing. */
uint64_t vt_noise_save_word(const struct vt_noise *n);
void vt_noise_restore_word(struct vt_noise *n, uint64_t word);

#endif
