/*
 * bench_token.c: speed of the token core on the host: makeCredential and getAssertion
 * per second (in-process through ctap2_request on the test board layer, and end to end
 * through libfido2 and the simulator socket), with OpenSSL's P-256 ECDSA signing as the
 * reference peer for BearSSL's. --one-assertion performs exactly one getAssertion for
 * callgrind. Linked by the benchmark build only; trusts its arguments.
 *
 *   bench_token [--seconds S] [--sim sim:/path/sock] [--one-assertion]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ec.h>
#include <fido.h>

#include "cbor.h"
#include "ctapreq.h"
#include "fidosim.h"
#include "tcrypto.h"
#include "test_hal.h"
#include "token.h"

static const struct token_config cfg = {.up_timeout_ms = 1000, .reset_window_ms = 10000};
static uint8_t cred_id[64];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t mc_req(uint8_t *buf, size_t cap)
{
	static const uint8_t cdh[32] = {7};

	return ctapreq_make_credential(buf, cap, cdh, "bench.test");
}

static size_t ga_req(uint8_t *buf, size_t cap)
{
	static const uint8_t cdh[32] = {9};
	struct cbor_enc e;

	buf[0] = 0x02;
	cbor_enc_init(&e, buf + 1, cap - 1);
	cbor_put_map(&e, 3);
	cbor_put_uint(&e, 1);
	cbor_put_text(&e, "bench.test");
	cbor_put_uint(&e, 2);
	cbor_put_bytes(&e, cdh, 32);
	cbor_put_uint(&e, 3);
	cbor_put_array(&e, 1);
	cbor_put_map(&e, 2);
	cbor_put_text(&e, "id");
	cbor_put_bytes(&e, cred_id, sizeof(cred_id));
	cbor_put_text(&e, "type");
	cbor_put_text(&e, "public-key");
	return e.len + 1;
}

static void boot(void)
{
	uint8_t req[256], resp[1200];
	size_t n;

	thal_deterministic = 1;
	thal_reset(4096, 16, 4);
	if (token_init(&cfg) != 0)
		exit(1);
	thal_auto_touch = 1;
	n = ctap2_request(req, mc_req(req, sizeof(req)), resp, sizeof(resp));
	{
		/* {1: fmt, 2: authData, ...}: the credential ID is at offset 55 of authData */
		struct cbor_dec d;
		struct cbor_item it;

		cbor_dec_init(&d, resp + 1, n - 1);
		if (resp[0] != 0 || cbor_next(&d, &it) || cbor_skip(&d) || cbor_skip(&d) ||
		    cbor_skip(&d) || cbor_next(&d, &it) || it.major != CBOR_BYTES || it.val < 119) {
			fprintf(stderr, "bench_token: makeCredential failed (0x%02x)\n", resp[0]);
			exit(1);
		}
		memcpy(cred_id, it.ptr + 55, sizeof(cred_id));
	}
}

static double rate(const uint8_t *req, size_t len, double secs)
{
	uint8_t resp[1200];
	double t0 = now(), t;
	long n = 0;

	do {
		if (ctap2_request(req, len, resp, sizeof(resp)) < 2 || resp[0] != 0) {
			fprintf(stderr, "bench_token: request failed (0x%02x)\n", resp[0]);
			exit(1);
		}
		n++;
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

static double bearssl_sign_rate(double secs)
{
	uint8_t sk[32], pub[65], hash[32] = {1}, sig[72];
	double t0 = now(), t;
	long n = 0;

	if (tcrypto_p256_keygen(sk, pub) != 0)
		exit(1);
	do {
		if (tcrypto_p256_sign(sk, hash, sig) == 0)
			exit(1);
		n++;
		t = now() - t0;
	} while (t < secs);
	return (double)n / t;
}

static double openssl_sign_rate(double secs)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	unsigned char hash[32] = {1}, sig[80];
	double t0 = now(), t;
	long n = 0;

	if (!key || !ctx || EVP_PKEY_sign_init(ctx) != 1)
		exit(1);
	do {
		size_t len = sizeof(sig);

		if (EVP_PKEY_sign(ctx, sig, &len, hash, sizeof(hash)) != 1)
			exit(1);
		n++;
		t = now() - t0;
	} while (t < secs);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return (double)n / t;
}

static double sim_rate(const char *path, int make, double secs)
{
	fido_dev_t *d = fido_dev_new();
	fido_cred_t *c = fido_cred_new();
	unsigned char cdh[32] = {3};
	double t0, t;
	long n = 0;

	if (fidosim_dev_open(d, path) != FIDO_OK) {
		fprintf(stderr, "bench_token: cannot open %s\n", path);
		exit(1);
	}
	fido_cred_set_type(c, COSE_ES256);
	fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh));
	fido_cred_set_rp(c, "bench.test", NULL);
	fido_cred_set_user(c, (const unsigned char *)"u", 1, "u", NULL, NULL);
	if (fido_dev_make_cred(d, c, NULL) != FIDO_OK)
		exit(1);
	t0 = now();
	do {
		int rc;

		if (make) {
			fido_cred_t *x = fido_cred_new();

			fido_cred_set_type(x, COSE_ES256);
			fido_cred_set_clientdata_hash(x, cdh, sizeof(cdh));
			fido_cred_set_rp(x, "bench.test", NULL);
			fido_cred_set_user(x, (const unsigned char *)"u", 1, "u", NULL, NULL);
			rc = fido_dev_make_cred(d, x, NULL);
			fido_cred_free(&x);
		} else {
			fido_assert_t *a = fido_assert_new();

			fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh));
			fido_assert_set_rp(a, "bench.test");
			fido_assert_allow_cred(a, fido_cred_id_ptr(c), fido_cred_id_len(c));
			rc = fido_dev_get_assert(d, a, NULL);
			fido_assert_free(&a);
		}
		if (rc != FIDO_OK)
			exit(1);
		n++;
		t = now() - t0;
	} while (t < secs);
	fido_cred_free(&c);
	fido_dev_close(d);
	fido_dev_free(&d);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	uint8_t req[256];
	const char *sim = NULL;
	double secs = 2.0, mc, ga, br, ossl;
	int i, one = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--sim") == 0 && i + 1 < argc)
			sim = argv[++i];
		else if (strcmp(argv[i], "--one-assertion") == 0)
			one = 1;
		else {
			fprintf(stderr, "usage: bench_token [--seconds S] [--sim sim:/path] "
					"[--one-assertion]\n");
			return 2;
		}
	}
	boot();
	if (one) {
		uint8_t resp[1200];
		size_t n = ctap2_request(req, ga_req(req, sizeof(req)), resp, sizeof(resp));

		return n > 1 && resp[0] == 0 ? 0 : 1;
	}
	mc = rate(req, mc_req(req, sizeof(req)), secs);
	ga = rate(req, ga_req(req, sizeof(req)), secs);
	br = bearssl_sign_rate(secs);
	ossl = openssl_sign_rate(secs);
	printf("| in-process makeCredential (keygen, wrap, attest) | %.0f ops/s |\n", mc);
	printf("| in-process getAssertion (unwrap, counter, sign) | %.0f ops/s |\n", ga);
	printf("| BearSSL P-256 ECDSA sign (i31, the token's) | %.0f ops/s |\n", br);
	printf("| OpenSSL P-256 ECDSA sign (peer) | %.0f ops/s |\n", ossl);
	printf("| ratio BearSSL / OpenSSL signing | %.3f |\n", br / ossl);
	if (sim) {
		fido_init(0);
		printf("| libfido2 + simulator makeCredential | %.0f ops/s |\n",
		       sim_rate(sim, 1, secs));
		printf("| libfido2 + simulator getAssertion | %.0f ops/s |\n",
		       sim_rate(sim, 0, secs));
	}
	return 0;
}
