/*
 * tcrypto.c: BearSSL wrappers for the token core (see tcrypto.h). Linked by the token
 * core. No primitive is implemented here; secrets in local contexts are wiped.
 */
#include <string.h>

#include <bearssl.h>

#include "hal.h"
#include "store.h"
#include "tcrypto.h"
#include "ctap_status.h"

void tcrypto_sha256(const void *data, size_t len, uint8_t out[32])
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

void tcrypto_hmac_sha256_2(const void *key, size_t klen, const void *d1, size_t l1, const void *d2,
			   size_t l2, uint8_t out[32])
{
	br_hmac_key_context kc;
	br_hmac_context c;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
	br_hmac_init(&c, &kc, 0);
	br_hmac_update(&c, d1, l1);
	if (l2)
		br_hmac_update(&c, d2, l2);
	br_hmac_out(&c, out);
	store_wipe(&kc, sizeof(kc));
	store_wipe(&c, sizeof(c));
}

void tcrypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
			 uint8_t out[32])
{
	tcrypto_hmac_sha256_2(key, klen, data, len, NULL, 0, out);
}

void tcrypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info, uint8_t *out,
			 size_t outlen)
{
	static const uint8_t salt[32];
	br_hkdf_context c;

	br_hkdf_init(&c, &br_sha256_vtable, salt, sizeof(salt));
	br_hkdf_inject(&c, ikm, ikmlen);
	br_hkdf_flip(&c);
	br_hkdf_produce(&c, info, strlen(info), out, outlen);
	store_wipe(&c, sizeof(c));
}

int tcrypto_p256_keygen(uint8_t sk[32], uint8_t pub[TCRYPTO_P256_PUB_LEN])
{
	br_hmac_drbg_context drbg;
	br_ec_private_key key;
	uint8_t seed[48];
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	size_t n;

	if (hal_rng(seed, sizeof(seed)) != 0)
		return CTAP1_ERR_OTHER;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, sizeof(seed));
	n = br_ec_keygen(&drbg.vtable, &br_ec_p256_m31, &key, kbuf, BR_EC_secp256r1);
	store_wipe(seed, sizeof(seed));
	store_wipe(&drbg, sizeof(drbg));
	if (n != 32) {
		store_wipe(kbuf, sizeof(kbuf));
		return CTAP1_ERR_OTHER;
	}
	memcpy(sk, key.x, 32);
	store_wipe(kbuf, sizeof(kbuf));
	return tcrypto_p256_pub(sk, pub);
}

int tcrypto_p256_pub(const uint8_t sk[32], uint8_t pub[TCRYPTO_P256_PUB_LEN])
{
	br_ec_private_key key;
	br_ec_public_key pk;
	uint8_t kbuf[BR_EC_KBUF_PUB_MAX_SIZE];

	key.curve = BR_EC_secp256r1;
	key.x = (unsigned char *)(uintptr_t)sk;
	key.xlen = 32;
	if (br_ec_compute_pub(&br_ec_p256_m31, &pk, kbuf, &key) != TCRYPTO_P256_PUB_LEN)
		return CTAP1_ERR_OTHER;
	memcpy(pub, kbuf, TCRYPTO_P256_PUB_LEN);
	return 0;
}

size_t tcrypto_p256_sign(const uint8_t sk[32], const uint8_t hash[32], uint8_t sig[TCRYPTO_SIG_MAX])
{
	br_ec_private_key key;

	key.curve = BR_EC_secp256r1;
	key.x = (unsigned char *)(uintptr_t)sk;
	key.xlen = 32;
	return br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, hash, &key, sig);
}

int tcrypto_p256_ecdh(const uint8_t sk[32], const uint8_t peer[TCRYPTO_P256_PUB_LEN], uint8_t z[32])
{
	uint8_t pt[TCRYPTO_P256_PUB_LEN];
	uint32_t ok;

	memcpy(pt, peer, sizeof(pt));
	ok = br_ec_p256_m31.mul(pt, sizeof(pt), sk, 32, BR_EC_secp256r1);
	if (ok != 1) {
		store_wipe(pt, sizeof(pt));
		return -1;
	}
	memcpy(z, pt + 1, 32);
	store_wipe(pt, sizeof(pt));
	return 0;
}

static void gcm_start(br_gcm_context *g, br_aes_ct_ctr_keys *k, const uint8_t key[32],
		      const uint8_t nonce[12], const void *aad, size_t aadlen)
{
	br_aes_ct_ctr_init(k, key, 32);
	br_gcm_init(g, &k->vtable, br_ghash_ctmul);
	br_gcm_reset(g, nonce, 12);
	br_gcm_aad_inject(g, aad, aadlen);
	br_gcm_flip(g);
}

void tcrypto_gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aadlen, uint8_t *buf, size_t len, uint8_t tag[16])
{
	br_aes_ct_ctr_keys k;
	br_gcm_context g;

	gcm_start(&g, &k, key, nonce, aad, aadlen);
	br_gcm_run(&g, 1, buf, len);
	br_gcm_get_tag(&g, tag);
	store_wipe(&k, sizeof(k));
	store_wipe(&g, sizeof(g));
}

int tcrypto_gcm_open(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aadlen,
		     uint8_t *buf, size_t len, const uint8_t tag[16])
{
	br_aes_ct_ctr_keys k;
	br_gcm_context g;
	uint32_t ok;

	gcm_start(&g, &k, key, nonce, aad, aadlen);
	br_gcm_run(&g, 0, buf, len);
	ok = br_gcm_check_tag(&g, tag);
	store_wipe(&k, sizeof(k));
	store_wipe(&g, sizeof(g));
	if (!ok) {
		store_wipe(buf, len);
		return -1;
	}
	return 0;
}

void tcrypto_cbc_encrypt(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf, size_t len)
{
	br_aes_ct_cbcenc_keys k;
	uint8_t v[16];

	memcpy(v, iv, 16);
	br_aes_ct_cbcenc_init(&k, key, 32);
	br_aes_ct_cbcenc_run(&k, v, buf, len);
	store_wipe(&k, sizeof(k));
}

void tcrypto_cbc_decrypt(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf, size_t len)
{
	br_aes_ct_cbcdec_keys k;
	uint8_t v[16];

	memcpy(v, iv, 16);
	br_aes_ct_cbcdec_init(&k, key, 32);
	br_aes_ct_cbcdec_run(&k, v, buf, len);
	store_wipe(&k, sizeof(k));
}

int tcrypto_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}
