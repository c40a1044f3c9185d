/*
 * noise.c - discrete Laplace noise on counts under an hourly budget (noise.h).
 *
 * The sampler follows C. Canonne, G. Kamath, T. Steinke, "The Discrete
 * Gaussian for Differential Privacy", NeurIPS 2020 (arXiv:2004.00010):
 * Algorithm 2 draws from the discrete Laplace distribution of scale t/s,
 * P(Z = k) proportional to e^(-|k| s/t), using only uniform integers and
 * Bernoulli(e^-gamma) coins for rational gamma (their Algorithm 1), so it is
 * exact and needs no floating point; floating-point Laplace samplers leak
 * through the gaps in the doubles they can produce (Mironov, CCS 2012).
 * Here eps = epsilon_milli / 1000, so the scale 1/eps is 1000 /
 * epsilon_milli, reduced to lowest terms t / s.
 *
 * Uniform integers are drawn from 32 random bits by rejection (no modulo
 * bias). The bits come from an AES-256 CTR-DRBG, 1 KiB at a time into a
 * pool, seeded from mbedTLS's entropy collector: the OS source mbedTLS polls
 * itself, plus vt_os_random() so that a port where mbedTLS has no platform
 * entropy still has a strong source.
 *
 * Every loop of the sampler ends with probability 1 but not surely, so each
 * is capped; the caps are chosen so that reaching one has probability below
 * 1e-25 with a working DRBG, and hitting one returns -VT_ECRYPTO instead of
 * a truncated (biased) sample. All intermediate values stay below 2^17.
 *
 * The sampler's running time depends on the value drawn. This is accepted:
 * releases happen once per window and nobody outside the device can time one.
 *
 * The budget survives restarts through vt_noise_save_word() and
 * vt_noise_restore_word(): the caller stores the word durably after each
 * release (anon.c does, in state_dir/noise), so restarting the agent does
 * not hand out a fresh budget for the hour.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "err.h"
#include "noise.h"
#include "vt_os.h"

#if defined(MBEDTLS_CTR_DRBG_USE_128_BIT_KEY)
#error "vitrine's noise wants the AES-256 CTR-DRBG; this mbedTLS is built for AES-128"
#endif

#define VT_NOISE_PERSONAL "vitrine noise v1"
#define VT_NOISE_POOL_LEN 1024	/* = MBEDTLS_CTR_DRBG_MAX_REQUEST */
#define VT_NOISE_OS_THRESHOLD 32	/* bytes vt_os_random() must give per seeding */
#define VT_NOISE_EPS_DEN 1000u	/* epsilon_milli's denominator */

/*
 * Loop caps. Uniform draws reject with probability < 2^-15 (the range is
 * below 2^17), so 16 tries fail with probability < 2^-240. The coin loop of
 * Algorithm 1 reaches k with probability gamma^(k-1) / (k-1)! <= 1/63! at
 * k = 64. The geometric count V reaches 64 with probability e^-64 ~ 1e-28.
 * An attempt of Algorithm 2 is accepted with probability at least
 * (1 - 1/e) / 2 > 0.31, so 256 attempts all fail with probability < 1e-40.
 */
#define VT_NOISE_UNIFORM_TRIES 16
#define VT_NOISE_COIN_MAX 64
#define VT_NOISE_GEOMETRIC_MAX 64
#define VT_NOISE_ATTEMPTS_MAX 256

struct vt_noise {
	struct vt_noise_conf conf;
	uint32_t lap_t, lap_s;		/* scale 1/eps = lap_t / lap_s, lowest terms */

	int64_t hour;			/* hour index being charged; -1 before any release */
	uint32_t spent_milli;		/* in that hour */
	uint32_t releases_hour;
	uint64_t releases_total;
	uint64_t refused_total;

	mbedtls_ctr_drbg_context drbg;
	mbedtls_entropy_context entropy; /* seeds and reseeds the agent's DRBG */
	uint64_t test_seed;		/* vt_noise_new_seeded_for_tests() only */
	uint64_t test_block;
	size_t pool_pos;		/* next unused byte of pool */
	uint8_t pool[VT_NOISE_POOL_LEN];
};

/* ---- creation ------------------------------------------------------------- */

static uint32_t vt_noise_gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static bool vt_noise_conf_valid(const struct vt_noise_conf *conf)
{
	return conf && conf->epsilon_milli >= VT_NOISE_EPSILON_MILLI_MIN &&
	       conf->epsilon_milli <= VT_NOISE_EPSILON_MILLI_MAX &&
	       conf->budget_milli_per_hour >= conf->epsilon_milli;
}

/* A checked configuration, DRBG and entropy collector initialised, not seeded. */
static int vt_noise_alloc(struct vt_noise **out, const struct vt_noise_conf *conf)
{
	struct vt_noise *n;
	uint32_t g;

	if (!vt_noise_conf_valid(conf))
		return -VT_ECONFIG;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->conf = *conf;
	g = vt_noise_gcd(VT_NOISE_EPS_DEN, conf->epsilon_milli);
	n->lap_t = VT_NOISE_EPS_DEN / g;
	n->lap_s = conf->epsilon_milli / g;
	n->hour = -1;
	n->pool_pos = sizeof(n->pool);	/* empty: the first draw fills it */
	mbedtls_ctr_drbg_init(&n->drbg);
	mbedtls_entropy_init(&n->entropy);
	*out = n;
	return 0;
}

static int vt_noise_seed(struct vt_noise *n, int (*f_entropy)(void *, unsigned char *, size_t),
			 void *p_entropy)
{
	if (mbedtls_ctr_drbg_seed(&n->drbg, f_entropy, p_entropy,
				  (const unsigned char *)VT_NOISE_PERSONAL,
				  sizeof(VT_NOISE_PERSONAL) - 1) != 0)
		return -VT_ECRYPTO;
	return 0;
}

static int vt_noise_os_source(void *data, unsigned char *output, size_t len, size_t *olen)
{
	(void)data;
	if (vt_os_random(output, len) != 0)
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	*olen = len;
	return 0;
}

int vt_noise_new(struct vt_noise **out, const struct vt_noise_conf *conf)
{
	struct vt_noise *n;
	int rc;

	*out = NULL;
	rc = vt_noise_alloc(&n, conf);
	if (rc)
		return rc;
	if (mbedtls_entropy_add_source(&n->entropy, vt_noise_os_source, NULL,
				       VT_NOISE_OS_THRESHOLD, MBEDTLS_ENTROPY_SOURCE_STRONG) != 0) {
		rc = -VT_ECRYPTO;
		goto out_free;
	}
	rc = vt_noise_seed(n, mbedtls_entropy_func, &n->entropy);
	if (rc)
		goto out_free;
	*out = n;
	return 0;

out_free:
	vt_noise_free(n);
	return rc;
}

/*
 * The tests' entropy source: SHA-256(label || seed || block number), block
 * after block, so the DRBG's seed and every reseed depend on the seed alone.
 */
static int vt_noise_test_entropy(void *ctx, unsigned char *buf, size_t len)
{
	static const char label[] = "vitrine noise test seed";
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	struct vt_noise *n = ctx;
	uint8_t input[sizeof(label) + 16], block[32];
	int rc = 0;

	memcpy(input, label, sizeof(label));
	for (int i = 0; i < 8; i++)
		input[sizeof(label) + i] = (uint8_t)(n->test_seed >> (8 * i));
	while (len > 0 && rc == 0) {
		size_t take = len < sizeof(block) ? len : sizeof(block);

		for (int i = 0; i < 8; i++)
			input[sizeof(label) + 8 + i] = (uint8_t)(n->test_block >> (8 * i));
		n->test_block++;
		if (!md || mbedtls_md(md, input, sizeof(input), block) != 0) {
			rc = MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
			break;
		}
		memcpy(buf, block, take);
		buf += take;
		len -= take;
	}
	mbedtls_platform_zeroize(block, sizeof(block));
	return rc;
}

int vt_noise_new_seeded_for_tests(struct vt_noise **out, const struct vt_noise_conf *conf,
				  uint64_t seed)
{
	struct vt_noise *n;
	int rc;

	*out = NULL;
	rc = vt_noise_alloc(&n, conf);
	if (rc)
		return rc;
	n->test_seed = seed;
	rc = vt_noise_seed(n, vt_noise_test_entropy, n);
	if (rc)
		goto out_free;
	*out = n;
	return 0;

out_free:
	vt_noise_free(n);
	return rc;
}

void vt_noise_free(struct vt_noise *n)
{
	if (!n)
		return;
	mbedtls_ctr_drbg_free(&n->drbg);	/* zeroizes the DRBG state */
	mbedtls_entropy_free(&n->entropy);
	mbedtls_platform_zeroize(n, sizeof(*n));	/* and the unused pool bytes */
	free(n);
}

/* ---- random integers and coins --------------------------------------------- */

static int vt_noise_u32(struct vt_noise *n, uint32_t *r)
{
	const uint8_t *p;

	if (n->pool_pos + 4 > sizeof(n->pool)) {
		if (mbedtls_ctr_drbg_random(&n->drbg, n->pool, sizeof(n->pool)) != 0)
			return -VT_ECRYPTO;
		n->pool_pos = 0;
	}
	p = n->pool + n->pool_pos;
	*r = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	n->pool_pos += 4;
	return 0;
}

/* *u uniform in 0..m-1 (m >= 1): 32-bit draws below the largest multiple of
 * m that fits, so that every residue is equally likely. */
static int vt_noise_uniform(struct vt_noise *n, uint32_t m, uint32_t *u)
{
	const uint64_t span = (uint64_t)1 << 32;
	uint64_t limit;

	if (m == 0)
		return -EINVAL;
	if (m == 1) {
		*u = 0;
		return 0;
	}
	limit = span - span % m;
	for (int i = 0; i < VT_NOISE_UNIFORM_TRIES; i++) {
		uint32_t r;
		int rc = vt_noise_u32(n, &r);

		if (rc)
			return rc;
		if (r < limit) {
			*u = r % m;
			return 0;
		}
	}
	return -VT_ECRYPTO;
}

/* *b ~ Bernoulli(num / den), 0 <= num <= den. */
static int vt_noise_bernoulli(struct vt_noise *n, uint32_t num, uint32_t den, bool *b)
{
	uint32_t u;
	int rc = vt_noise_uniform(n, den, &u);

	if (rc == 0)
		*b = u < num;
	return rc;
}

/*
 * *b ~ Bernoulli(exp(-num / den)) for 0 <= num <= den (Algorithm 1 of the
 * paper, gamma <= 1 branch: the number k of the first failed coin of
 * Bernoulli(gamma / k), k = 1, 2, ..., is odd with probability e^-gamma).
 * Algorithm 2 never needs gamma > 1, so that branch is left out.
 */
static int vt_noise_bern_exp(struct vt_noise *n, uint32_t num, uint32_t den, bool *b)
{
	if (den == 0 || num > den)
		return -EINVAL;
	for (uint32_t k = 1; k <= VT_NOISE_COIN_MAX; k++) {
		uint64_t kden = (uint64_t)den * k;
		bool a;
		int rc;

		if (kden > UINT32_MAX)
			return -EOVERFLOW;
		rc = vt_noise_bernoulli(n, num, (uint32_t)kden, &a);
		if (rc)
			return rc;
		if (!a) {
			*b = k & 1;
			return 0;
		}
	}
	return -VT_ECRYPTO;
}

/* *v ~ Geometric: the number of Bernoulli(e^-1) successes before a failure. */
static int vt_noise_geometric(struct vt_noise *n, uint32_t *v)
{
	for (uint32_t i = 0; i < VT_NOISE_GEOMETRIC_MAX; i++) {
		bool a;
		int rc = vt_noise_bern_exp(n, 1, 1, &a);

		if (rc)
			return rc;
		if (!a) {
			*v = i;
			return 0;
		}
	}
	return -VT_ECRYPTO;
}

/*
 * One attempt of Algorithm 2. X = U + t V is geometric with ratio e^(-1/t)
 * (U uniform below t, kept with probability e^(-U/t), V geometric with ratio
 * e^-1); Y = floor(X / s) is then geometric with ratio e^(-s/t); a random
 * sign, refusing -0 so that 0 is not counted twice, makes it two-sided.
 * Returns 1 and sets *z when the attempt is accepted, 0 when it is rejected,
 * or a negative code.
 */
static int vt_noise_attempt(struct vt_noise *n, int64_t *z)
{
	uint32_t u, v, sign;
	uint64_t x, y;
	bool keep;
	int rc;

	rc = vt_noise_uniform(n, n->lap_t, &u);
	if (rc == 0)
		rc = vt_noise_bern_exp(n, u, n->lap_t, &keep);
	if (rc || !keep)
		return rc;
	rc = vt_noise_geometric(n, &v);
	if (rc == 0)
		rc = vt_noise_uniform(n, 2, &sign);
	if (rc)
		return rc;
	/* u < t <= 1000 and v < 64: x < 65000, no overflow. */
	x = u + (uint64_t)n->lap_t * v;
	y = x / n->lap_s;
	if (sign && y == 0)
		return 0;
	*z = sign ? -(int64_t)y : (int64_t)y;
	return 1;
}

int vt_noise_sample(struct vt_noise *n, int64_t *z)
{
	for (int i = 0; i < VT_NOISE_ATTEMPTS_MAX; i++) {
		int rc = vt_noise_attempt(n, z);

		if (rc < 0)
			return rc;
		if (rc == 1)
			return 0;
	}
	return -VT_ECRYPTO;
}

/* ---- the hourly budget -------------------------------------------------------- */

/* The UTC hour of now_ms (Unix time has no leap seconds, so hours are exact
 * multiples of 3600000 ms). A time before the epoch cannot be a real one
 * and counts as the epoch's hour. */
static int64_t vt_noise_hour_of(int64_t now_ms)
{
	return now_ms < 0 ? 0 : now_ms / VT_NOISE_HOUR_MS;
}

/* Starts charging now_ms's hour if it is later than the current one. */
static void vt_noise_roll_hour(struct vt_noise *n, int64_t now_ms)
{
	int64_t hour = vt_noise_hour_of(now_ms);

	if (hour > n->hour) {
		n->hour = hour;
		n->spent_milli = 0;
		n->releases_hour = 0;
	}
}

int vt_noise_release(struct vt_noise *n, int64_t now_ms, int64_t count, int64_t *noised)
{
	int64_t z, value;
	int rc;

	if (count < 0 || count > VT_NOISE_COUNT_MAX)
		return -EINVAL;
	vt_noise_roll_hour(n, now_ms);
	if (n->conf.budget_milli_per_hour - n->spent_milli < n->conf.epsilon_milli) {
		n->refused_total++;
		return VT_NOISE_BUDGET_SPENT;
	}
	rc = vt_noise_sample(n, &z);
	if (rc)
		return rc;
	n->spent_milli += n->conf.epsilon_milli;
	n->releases_hour++;
	n->releases_total++;
	value = count + z;	/* |z| < 65000: no overflow below VT_NOISE_COUNT_MAX */
	*noised = value < 0 ? 0 : value;
	return 0;
}

struct vt_noise_stats vt_noise_stats(const struct vt_noise *n, int64_t now_ms)
{
	int64_t hour = vt_noise_hour_of(now_ms);
	struct vt_noise_stats s = {
		.epsilon_milli = n->conf.epsilon_milli,
		.budget_milli_per_hour = n->conf.budget_milli_per_hour,
		.releases_total = n->releases_total,
		.refused_total = n->refused_total,
	};

	if (hour > n->hour) {
		s.hour_start_ms = hour * VT_NOISE_HOUR_MS;
	} else {
		s.hour_start_ms = n->hour * VT_NOISE_HOUR_MS;
		s.spent_milli = n->spent_milli;
		s.releases_hour = n->releases_hour;
	}
	return s;
}

/* Hour index in the high 40 bits, thousandths spent in the low 24. */
#define VT_NOISE_WORD_SPENT_BITS 24

uint64_t vt_noise_save_word(const struct vt_noise *n)
{
	if (n->hour < 0)
		return 0;
	return (uint64_t)n->hour << VT_NOISE_WORD_SPENT_BITS | n->spent_milli;
}

void vt_noise_restore_word(struct vt_noise *n, uint64_t word)
{
	int64_t hour = (int64_t)(word >> VT_NOISE_WORD_SPENT_BITS);
	uint32_t spent = (uint32_t)(word & ((1u << VT_NOISE_WORD_SPENT_BITS) - 1));

	if (word == 0 || hour < n->hour)
		return;
	n->hour = hour;
	n->spent_milli = spent < n->conf.budget_milli_per_hour ? spent
							       : n->conf.budget_milli_per_hour;
}
