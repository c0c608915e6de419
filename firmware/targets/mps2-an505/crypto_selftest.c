/*
 * crypto_selftest.c: proves the Cortex-M33 toolchain and Debian's BearSSL build under
 * `qemu-system-arm -M mps2-an505`: a SHA-256 known answer, P-256 key generation, ECDSA
 * sign and verify on the target, a tampered signature rejected, and the public key and
 * signature printed (semihosting) so the host re-verifies them with OpenSSL. Linked only
 * into the crypto-selftest QEMU image; no external input. The DRBG seed is fixed: this is
 * a test image, never a token.
 */
#include <bearssl.h>
#include <stdio.h>
#include <string.h>

#include "an505.h"

static void hex(const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;
	printf("%s=", label);
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	return ok ? 0 : 1;
}

int main(void)
{
	static const unsigned char abc_sha256[32] = {
	    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	    0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	    0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	static const char msg[] = "portcullis token self-test";
	const br_ec_impl *ec = &br_ec_p256_m31;
	br_sha256_context sha;
	br_hmac_drbg_context drbg;
	br_ec_private_key sk;
	br_ec_public_key pk;
	unsigned char skbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pkbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char h[32], sig[80];
	size_t siglen;
	uint32_t ipt, t0, t1;
	int fails = 0;

	an505_timer_start();
	ipt = an505_insn_per_tick();
	printf("insn_per_tick=%lu\n", (unsigned long)ipt);

	br_sha256_init(&sha);
	br_sha256_update(&sha, "abc", 3);
	br_sha256_out(&sha, h);
	fails += check(memcmp(h, abc_sha256, 32) == 0, "sha256 known answer");

	br_hmac_drbg_init(&drbg, &br_sha256_vtable, "fixed test seed", 15);
	fails +=
	    check(br_ec_keygen(&drbg.vtable, ec, &sk, skbuf, BR_EC_secp256r1) == 32, "p256 keygen");
	fails += check(br_ec_compute_pub(ec, &pk, pkbuf, &sk) == 65, "p256 public key");

	br_sha256_init(&sha);
	br_sha256_update(&sha, msg, sizeof msg - 1);
	br_sha256_out(&sha, h);
	t0 = an505_ticks();
	siglen = br_ecdsa_i31_sign_asn1(ec, &br_sha256_vtable, h, &sk, sig);
	t1 = an505_ticks();
	fails += check(siglen > 0, "ecdsa p256 sign");
	printf("sign_insn=%lu\n", (unsigned long)((t1 - t0) * ipt));

	t0 = an505_ticks();
	fails += check(br_ecdsa_i31_vrfy_asn1(ec, h, 32, &pk, sig, siglen) == 1,
		       "ecdsa p256 verify on target");
	t1 = an505_ticks();
	printf("verify_insn=%lu\n", (unsigned long)((t1 - t0) * ipt));
	sig[siglen - 1] ^= 1;
	fails += check(br_ecdsa_i31_vrfy_asn1(ec, h, 32, &pk, sig, siglen) == 0,
		       "tampered signature rejected");
	sig[siglen - 1] ^= 1;

	printf("msg=%s\n", msg);
	hex("pub", pk.q, pk.qlen);
	hex("sig", sig, siglen);
	memset(skbuf, 0, sizeof skbuf);
	printf("%s\n", fails ? "SELFTEST FAILED" : "SELFTEST OK");
	return fails ? 1 : 0;
}
