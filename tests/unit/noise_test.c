/*
 * noise_test.c - privacy rule R7 (agent/noise.h): the discrete Laplace
 * sampler has the distribution it claims, checked statistically on a fixed
 * seed (chi-square on the PMF, mean, variance) at epsilons whose scale 1/eps
 * is an integer (0.5, 1) and is not (0.3, 1.5); a seed reproduces its
 * sequence; the hourly budget is spent, refused, reported and renewed as
 * noise.h says; released counts are never negative; bad configurations are
 * refused.
 *
 * Doubles appear here only, to compute what the sampler should produce.
 * The figures measured are printed (lines that run.sh does not count).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "noise.h"
#include "vt_test.h"

#define SEED 20200401u
#define SAMPLES 200000
#define KMAX 10		/* |k| up to this get a bin of their own, if expected >= 5 */
#define MIN_EXPECTED 5.0
/* Upper 1e-6 quantile of the standard normal, for the chi-square limit. */
#define Z_1E6 4.753424
#define T0_MS 1767225600000LL	/* 2026-01-01T00:00:00Z, an hour boundary */

static struct vt_noise *seeded(uint32_t eps_milli, uint32_t budget_milli, uint64_t seed)
{
	struct vt_noise_conf conf = { eps_milli, budget_milli };
	struct vt_noise *n = NULL;

	if (vt_noise_new_seeded_for_tests(&n, &conf, seed) != 0)
		return NULL;
	return n;
}

/* ---- the distribution ------------------------------------------------------- */

struct fit {
	double chi2, chi2_limit;
	int df;
	double mean, mean_se;
	double var, var_theory;
};

/* P(Z = k) and P(Z > k) for k >= 0, with q = e^-eps. */
static double pmf(double q, int k)
{
	return (1 - q) / (1 + q) * pow(q, k);
}

static double tail_above(double q, int k)
{
	return pmf(q, k + 1) / (1 - q);
}

/* Wilson-Hilferty: the chi-square value exceeded with probability 1e-6. */
static double chi2_limit(int df)
{
	double a = 2.0 / (9.0 * df);
	double c = 1 - a + Z_1E6 * sqrt(a);

	return df * c * c * c;
}

/*
 * Draws SAMPLES values at eps_milli from a seeded instance and fits them:
 * bins k = -kmax..kmax and the two tails beyond, kmax <= KMAX lowered until
 * every bin expects at least MIN_EXPECTED.
 */
static int fit_sampler(uint32_t eps_milli, uint64_t seed, struct fit *f)
{
	static uint32_t hist[2 * KMAX + 1];
	uint32_t below = 0, above = 0;
	double q = exp(-(double)eps_milli / 1000.0);
	double sum = 0, sumsq = 0;
	struct vt_noise *n = seeded(eps_milli, eps_milli, seed);
	int kmax = KMAX, rc = 0;

	if (!n)
		return -1;
	memset(hist, 0, sizeof(hist));
	for (int i = 0; i < SAMPLES && rc == 0; i++) {
		int64_t z;

		rc = vt_noise_sample(n, &z);
		sum += (double)z;
		sumsq += (double)z * (double)z;
		if (z < -KMAX)
			below++;
		else if (z > KMAX)
			above++;
		else
			hist[z + KMAX]++;
	}
	vt_noise_free(n);
	if (rc)
		return rc;

	while (kmax > 0 && (SAMPLES * pmf(q, kmax) < MIN_EXPECTED ||
			    SAMPLES * tail_above(q, kmax) < MIN_EXPECTED))
		kmax--;
	for (int k = kmax + 1; k <= KMAX; k++) {
		below += hist[-k + KMAX];
		above += hist[k + KMAX];
	}
	f->chi2 = 0;
	for (int k = -kmax; k <= kmax; k++) {
		double e = SAMPLES * pmf(q, k < 0 ? -k : k);

		f->chi2 += (hist[k + KMAX] - e) * (hist[k + KMAX] - e) / e;
	}
	for (int side = 0; side < 2; side++) {
		double e = SAMPLES * tail_above(q, kmax);
		double o = side ? above : below;

		f->chi2 += (o - e) * (o - e) / e;
	}
	f->df = 2 * kmax + 3 - 1;
	f->chi2_limit = chi2_limit(f->df);
	f->mean = sum / SAMPLES;
	f->var = sumsq / SAMPLES - f->mean * f->mean;
	f->var_theory = 2 * q / ((1 - q) * (1 - q));
	f->mean_se = sqrt(f->var_theory / SAMPLES);
	printf("  eps %u/1000: %d samples, chi2 %.2f (df %d, limit %.2f for p 1e-6), "
	       "mean %+.5f (se %.5f), variance %.4f vs %.4f (%+.2f%%)\n",
	       eps_milli, SAMPLES, f->chi2, f->df, f->chi2_limit, f->mean, f->mean_se, f->var,
	       f->var_theory, 100 * (f->var / f->var_theory - 1));
	return 0;
}

static int fit_ok(const struct fit *f)
{
	return f->chi2 < f->chi2_limit && fabs(f->mean) < 5 * f->mean_se &&
	       fabs(f->var / f->var_theory - 1) < 0.03;
}

VT_TEST(noise_sampler_matches_discrete_laplace_at_eps_0_5)
{
	struct fit f;

	CHECK_EQ_INT(fit_sampler(500, SEED, &f), 0);
	CHECK(f.df >= 20);	/* all of |k| <= 10 had a bin */
	CHECK(fit_ok(&f));
}

VT_TEST(noise_sampler_matches_discrete_laplace_at_eps_1)
{
	struct fit f;

	CHECK_EQ_INT(fit_sampler(1000, SEED + 1, &f), 0);
	CHECK(fit_ok(&f));
}

/* Scale 1/eps = 2/3: Y = floor(X / s) with s = 3 is exercised. */
VT_TEST(noise_sampler_matches_discrete_laplace_at_eps_1_5_a_non_integer_scale)
{
	struct fit f;

	CHECK_EQ_INT(fit_sampler(1500, SEED + 2, &f), 0);
	CHECK(fit_ok(&f));
}

/* Scale 10/3: both the uniform U < t and the division by s are exercised. */
VT_TEST(noise_sampler_matches_discrete_laplace_at_eps_0_3_a_non_integer_scale)
{
	struct fit f;

	CHECK_EQ_INT(fit_sampler(300, SEED + 3, &f), 0);
	CHECK(fit_ok(&f));
}

/* The fit must be able to fail: the same draws shifted by one, or with
 * every value doubled, are far outside it. */
VT_TEST(noise_fit_rejects_a_wrong_distribution)
{
	static uint32_t hist[2 * KMAX + 1];
	double q = exp(-0.5), chi2_shift = 0, chi2_double = 0;
	struct vt_noise *n = seeded(500, 500, SEED);
	int lim = 6;	/* |k| <= 6, tails ignored: enough to see the damage */

	CHECK(n != NULL);
	memset(hist, 0, sizeof(hist));
	for (int i = 0; i < SAMPLES / 4; i++) {
		int64_t z;

		CHECK_EQ_INT(vt_noise_sample(n, &z), 0);
		if (z >= -KMAX && z <= KMAX)
			hist[z + KMAX]++;
	}
	vt_noise_free(n);
	for (int k = -lim; k <= lim; k++) {
		double e = SAMPLES / 4 * pmf(q, k < 0 ? -k : k);
		double shifted = hist[k - 1 + KMAX];
		double doubled = (k % 2 == 0) ? hist[k / 2 + KMAX] : 0;

		chi2_shift += (shifted - e) * (shifted - e) / e;
		chi2_double += (doubled - e) * (doubled - e) / e;
	}
	printf("  wrong distributions: chi2 %.1f (shifted), %.1f (doubled), limit %.2f\n",
	       chi2_shift, chi2_double, chi2_limit(2 * lim));
	CHECK(chi2_shift > chi2_limit(2 * lim));
	CHECK(chi2_double > chi2_limit(2 * lim));
}

/* The loop caps must not be reached at the ends of the allowed range:
 * eps 0.001 (scale 1000, t = 1000) and eps 20 (t = 1, s = 20). */
VT_TEST(noise_sampler_works_at_the_extreme_epsilons)
{
	struct vt_noise *n;
	double sum = 0, sumsq = 0, var, theory;
	int zeros = 0, draws = 20000;
	int64_t z;

	n = seeded(VT_NOISE_EPSILON_MILLI_MIN, VT_NOISE_EPSILON_MILLI_MIN, SEED);
	CHECK(n != NULL);
	for (int i = 0; i < draws; i++) {
		CHECK_EQ_INT(vt_noise_sample(n, &z), 0);
		sum += (double)z;
		sumsq += (double)z * (double)z;
	}
	vt_noise_free(n);
	var = sumsq / draws - (sum / draws) * (sum / draws);
	theory = 2 * exp(-0.001) / ((1 - exp(-0.001)) * (1 - exp(-0.001)));
	printf("  eps 0.001: variance %.0f vs %.0f (%+.1f%%)\n", var, theory,
	       100 * (var / theory - 1));
	CHECK(fabs(var / theory - 1) < 0.2);	/* 4 standard errors at 20000 draws */

	n = seeded(VT_NOISE_EPSILON_MILLI_MAX, VT_NOISE_EPSILON_MILLI_MAX, SEED);
	CHECK(n != NULL);
	for (int i = 0; i < draws; i++) {
		CHECK_EQ_INT(vt_noise_sample(n, &z), 0);
		zeros += z == 0;
	}
	vt_noise_free(n);
	/* P(Z != 0) = 2e^-20 / (1 + e^-20) ~ 4e-9. */
	CHECK_EQ_INT(zeros, draws);
}

/* ---- seeds ------------------------------------------------------------------ */

static int draw(struct vt_noise *n, int64_t *z, int count)
{
	for (int i = 0; i < count; i++)
		if (vt_noise_sample(n, &z[i]) != 0)
			return -1;
	return 0;
}

VT_TEST(noise_same_seed_gives_the_same_sequence_and_other_seeds_differ)
{
	static int64_t a[5000], b[5000], c[5000];
	struct vt_noise *na = seeded(500, 500, 7), *nb = seeded(500, 500, 7);
	struct vt_noise *nc = seeded(500, 500, 8);
	int same_ac = 0;

	CHECK(na && nb && nc);
	CHECK(draw(na, a, 5000) == 0 && draw(nb, b, 5000) == 0 && draw(nc, c, 5000) == 0);
	vt_noise_free(na);
	vt_noise_free(nb);
	vt_noise_free(nc);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	for (int i = 0; i < 5000; i++)
		same_ac += a[i] == c[i];
	/* Two independent draws agree with probability sum P(k)^2 ~ 0.12. */
	CHECK(same_ac < 5000 / 4);
}

VT_TEST(noise_sampler_is_not_the_identity)
{
	struct vt_noise *n = seeded(500, 500, SEED);
	int nonzero = 0, negative = 0, positive = 0;

	CHECK(n != NULL);
	for (int i = 0; i < 1000; i++) {
		int64_t z;

		CHECK_EQ_INT(vt_noise_sample(n, &z), 0);
		nonzero += z != 0;
		negative += z < 0;
		positive += z > 0;
	}
	vt_noise_free(n);
	/* P(Z = 0) = (1 - e^-0.5) / (1 + e^-0.5) ~ 0.245 */
	CHECK(nonzero > 600 && nonzero < 900);
	CHECK(negative > 250 && positive > 250);
}

/* The agent's constructor: OS entropy, so two instances draw differently. */
VT_TEST(noise_agent_constructor_draws_from_os_entropy)
{
	static int64_t a[1000], b[1000];
	struct vt_noise_conf conf = { 500, 500 };
	struct vt_noise *na = NULL, *nb = NULL;
	int same = 0, nonzero = 0;

	CHECK_EQ_INT(vt_noise_new(&na, &conf), 0);
	CHECK_EQ_INT(vt_noise_new(&nb, &conf), 0);
	CHECK(draw(na, a, 1000) == 0 && draw(nb, b, 1000) == 0);
	vt_noise_free(na);
	vt_noise_free(nb);
	for (int i = 0; i < 1000; i++) {
		same += a[i] == b[i];
		nonzero += a[i] != 0;
	}
	CHECK(same < 1000 / 4);
	CHECK(nonzero > 600);
}

/* ---- the budget ------------------------------------------------------------- */

VT_TEST(noise_fifth_release_of_an_hour_is_refused_when_the_budget_holds_four)
{
	struct vt_noise *n = seeded(250, 1000, SEED);
	struct vt_noise_stats s;
	int64_t out;

	CHECK(n != NULL);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(vt_noise_release(n, T0_MS + 60000 * i, 100, &out), 0);
		s = vt_noise_stats(n, T0_MS + 60000 * i);
		CHECK_EQ_INT(s.spent_milli, 250 * (i + 1));
		CHECK_EQ_INT(s.releases_hour, i + 1);
	}
	out = -42;
	CHECK_EQ_INT(vt_noise_release(n, T0_MS + 300000, 100, &out), VT_NOISE_BUDGET_SPENT);
	CHECK_EQ_INT(out, -42);	/* untouched: nothing to publish */
	CHECK_EQ_INT(vt_noise_release(n, T0_MS + VT_NOISE_HOUR_MS - 1, 100, &out),
		     VT_NOISE_BUDGET_SPENT);
	s = vt_noise_stats(n, T0_MS + VT_NOISE_HOUR_MS - 1);
	CHECK_EQ_INT(s.epsilon_milli, 250);
	CHECK_EQ_INT(s.budget_milli_per_hour, 1000);
	CHECK_EQ_INT(s.spent_milli, 1000);
	CHECK_EQ_INT(s.releases_hour, 4);
	CHECK_EQ_INT(s.releases_total, 4);
	CHECK_EQ_INT(s.refused_total, 2);
	CHECK_EQ_INT(s.hour_start_ms, T0_MS);
	vt_noise_free(n);
}

VT_TEST(noise_next_utc_hour_renews_the_budget)
{
	struct vt_noise *n = seeded(250, 1000, SEED);
	struct vt_noise_stats s;
	int64_t out;

	CHECK(n != NULL);
	/* Start mid-hour: the hour is the UTC hour, not an hour from the first release. */
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(vt_noise_release(n, T0_MS + 1800000, 7, &out), 0);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS + 1800000, 7, &out), VT_NOISE_BUDGET_SPENT);

	/* Before any release in the new hour, stats already show it unspent. */
	s = vt_noise_stats(n, T0_MS + VT_NOISE_HOUR_MS);
	CHECK_EQ_INT(s.spent_milli, 0);
	CHECK_EQ_INT(s.releases_hour, 0);
	CHECK_EQ_INT(s.hour_start_ms, T0_MS + VT_NOISE_HOUR_MS);
	CHECK_EQ_INT(s.refused_total, 1);

	CHECK_EQ_INT(vt_noise_release(n, T0_MS + VT_NOISE_HOUR_MS, 7, &out), 0);
	s = vt_noise_stats(n, T0_MS + VT_NOISE_HOUR_MS + 1);
	CHECK_EQ_INT(s.spent_milli, 250);
	CHECK_EQ_INT(s.releases_hour, 1);
	CHECK_EQ_INT(s.releases_total, 5);
	CHECK_EQ_INT(s.refused_total, 1);	/* a total: not reset by the hour */
	CHECK_EQ_INT(s.hour_start_ms, T0_MS + VT_NOISE_HOUR_MS);
	vt_noise_free(n);
}

VT_TEST(noise_clock_stepped_back_does_not_renew_the_budget)
{
	struct vt_noise *n = seeded(500, 1000, SEED);
	struct vt_noise_stats s;
	int64_t out;

	CHECK(n != NULL);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS + VT_NOISE_HOUR_MS, 1, &out), 0);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS + VT_NOISE_HOUR_MS, 1, &out), 0);
	/* An hour earlier, or before 1970: still the later hour's budget. */
	CHECK_EQ_INT(vt_noise_release(n, T0_MS, 1, &out), VT_NOISE_BUDGET_SPENT);
	CHECK_EQ_INT(vt_noise_release(n, -1, 1, &out), VT_NOISE_BUDGET_SPENT);
	s = vt_noise_stats(n, T0_MS);
	CHECK_EQ_INT(s.spent_milli, 1000);
	CHECK_EQ_INT(s.hour_start_ms, T0_MS + VT_NOISE_HOUR_MS);
	CHECK_EQ_INT(s.refused_total, 2);
	vt_noise_free(n);
}

VT_TEST(noise_released_counts_are_never_negative)
{
	/* eps 0.1: noise of standard deviation ~14 on counts near zero. */
	struct vt_noise *n = seeded(100, 100 * 30000, SEED);
	int zeros = 0, moved = 0;

	CHECK(n != NULL);
	for (int i = 0; i < 30000; i++) {
		int64_t count = i % 3, out = -1;

		CHECK_EQ_INT(vt_noise_release(n, T0_MS, count, &out), 0);
		CHECK(out >= 0);
		zeros += out == 0;
		moved += out != count;
	}
	vt_noise_free(n);
	/* About half the draws are clamped to zero, and the noise is real. */
	CHECK(zeros > 30000 / 3 && zeros < 2 * 30000 / 3);
	CHECK(moved > 30000 / 2);
}

VT_TEST(noise_release_adds_noise_around_the_count)
{
	struct vt_noise *n = seeded(1000, 1000 * 10000, SEED);
	double sum = 0;
	int moved = 0;

	CHECK(n != NULL);
	for (int i = 0; i < 10000; i++) {
		int64_t out;

		CHECK_EQ_INT(vt_noise_release(n, T0_MS, 1000, &out), 0);
		sum += (double)out;
		moved += out != 1000;
	}
	vt_noise_free(n);
	/* P(Z != 0) at eps 1 is ~0.54; mean 1000 within 5 standard errors. */
	CHECK(moved > 5000 && moved < 5800);
	CHECK(fabs(sum / 10000 - 1000) < 5 * sqrt(1.8407 / 10000));
}

VT_TEST(noise_release_refuses_negative_or_huge_counts_without_spending)
{
	struct vt_noise *n = seeded(500, 500, SEED);
	struct vt_noise_stats s;
	int64_t out = -42;

	CHECK(n != NULL);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS, -1, &out), -EINVAL);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS, VT_NOISE_COUNT_MAX + 1, &out), -EINVAL);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS, INT64_MAX, &out), -EINVAL);
	CHECK_EQ_INT(out, -42);
	s = vt_noise_stats(n, T0_MS);
	CHECK_EQ_INT(s.spent_milli, 0);
	CHECK_EQ_INT(s.refused_total, 0);
	CHECK_EQ_INT(vt_noise_release(n, T0_MS, VT_NOISE_COUNT_MAX, &out), 0);
	CHECK(out > VT_NOISE_COUNT_MAX - 100000 && out < VT_NOISE_COUNT_MAX + 100000);
	vt_noise_free(n);
}

VT_TEST(noise_bad_configurations_are_refused)
{
	static const struct vt_noise_conf bad[] = {
		{ 0, 1000 },		/* eps 0: no privacy loss claimed, infinite noise */
		{ 20001, 40000 },	/* above the maximum */
		{ UINT32_MAX, UINT32_MAX },
		{ 500, 499 },		/* not even one release per hour */
		{ 500, 0 },
	};
	static const struct vt_noise_conf good[] = {
		{ 1, 1 }, { 20000, 20000 }, { 500, UINT32_MAX }, { 999, 1000 },
	};
	static char sentinel;
	struct vt_noise *n = (struct vt_noise *)&sentinel;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(vt_noise_new_seeded_for_tests(&n, &bad[i], SEED), -VT_ECONFIG);
		CHECK(n == NULL);
		n = (struct vt_noise *)&sentinel;
		CHECK_EQ_INT(vt_noise_new(&n, &bad[i]), -VT_ECONFIG);
		CHECK(n == NULL);
	}
	CHECK_EQ_INT(vt_noise_new(&n, NULL), -VT_ECONFIG);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ_INT(vt_noise_new_seeded_for_tests(&n, &good[i], SEED), 0);
		vt_noise_free(n);
	}
	vt_noise_free(NULL);
}

VT_TEST_MAIN()
