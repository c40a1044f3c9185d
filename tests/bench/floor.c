/*
 * floor.c - the memory floor of vitrine-agent, for make bench: a program
 * that links the agent's libraries (libmosquitto with the OpenSSL it pulls
 * in, protobuf-c, zstd, mbedTLS) and does what the agent must do with each
 * before its first reading (initialize, create a client, a compression
 * context, a seeded random generator), then waits for SIGTERM.
 *
 * The agent's idle memory is measured against this program's, in the same
 * run, so the difference is what vitrine itself costs.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/x509_crt.h>
#include <mosquitto.h>
#include <protobuf-c/protobuf-c.h>
#include <zstd.h>

static volatile sig_atomic_t floor_stop;

static void floor_on_term(int sig)
{
	(void)sig;
	floor_stop = 1;
}

int main(void)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt crt;
	struct mosquitto *mosq;
	ZSTD_CCtx *zstd;
	int rc = 1;

	signal(SIGTERM, floor_on_term);
	mosquitto_lib_init();
	mosq = mosquitto_new("vitrine-floor", true, NULL);
	zstd = ZSTD_createCCtx();
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_x509_crt_init(&crt);
	if (!mosq || !zstd ||
	    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0) {
		fprintf(stderr, "floor: initialization failed\n");
		goto out;
	}
	printf("floor: ready (protobuf-c %s)\n", protobuf_c_version());
	fflush(stdout);
	while (!floor_stop)
		pause();
	rc = 0;
out:
	mbedtls_x509_crt_free(&crt);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	ZSTD_freeCCtx(zstd);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	return rc;
}
