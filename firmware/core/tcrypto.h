/*
 * tcrypto.h: the token core's only door to cryptography: thin wrappers over BearSSL
 * (SHA-256, HMAC, HKDF, AES-256-GCM/CBC, P-256 ECDSA and ECDH) plus a constant-time
 * comparison. Linked by the token core. Inputs come from the core, which has checked
 * lengths; peer public keys are validated here (BearSSL rejects off-curve points).
 */
#ifndef PCL_TCRYPTO_H
#define PCL_TCRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define TCRYPTO_P256_PUB_LEN 65 /* 0x04 | X | Y */
#define TCRYPTO_SIG_MAX	     72

void tcrypto_sha256(const void *data, size_t len, uint8_t out[32]);
void tcrypto_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
			 uint8_t out[32]);
/* HMAC over two parts (data1 || data2). */
void tcrypto_hmac_sha256_2(const void *key, size_t klen, const void *d1, size_t l1, const void *d2,
			   size_t l2, uint8_t out[32]);
/* HKDF-SHA-256 with a 32-byte all-zero salt (CTAP PIN protocol 2). */
void tcrypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info, uint8_t *out,
			 size_t outlen);

/* New P-256 key from hal_rng. Returns 0 or CTAP1_ERR_OTHER when the RNG fails. */
int tcrypto_p256_keygen(uint8_t sk[32], uint8_t pub[TCRYPTO_P256_PUB_LEN]);
int tcrypto_p256_pub(const uint8_t sk[32], uint8_t pub[TCRYPTO_P256_PUB_LEN]);
/* ECDSA over a SHA-256 digest; DER signature. Returns its length, 0 on failure. */
size_t tcrypto_p256_sign(const uint8_t sk[32], const uint8_t hash[32],
			 uint8_t sig[TCRYPTO_SIG_MAX]);
/* ECDH: x coordinate of sk * peer. Returns 0, or -1 for an invalid peer point. */
int tcrypto_p256_ecdh(const uint8_t sk[32], const uint8_t peer[TCRYPTO_P256_PUB_LEN],
		      uint8_t z[32]);

/* AES-256-GCM, 12-byte nonce, 16-byte tag; in place. open returns 0 or -1 (bad tag). */
void tcrypto_gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aadlen, uint8_t *buf, size_t len, uint8_t tag[16]);
int tcrypto_gcm_open(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aadlen,
		     uint8_t *buf, size_t len, const uint8_t tag[16]);
/* AES-256-CBC in place, len a multiple of 16. */
void tcrypto_cbc_encrypt(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf, size_t len);
void tcrypto_cbc_decrypt(const uint8_t key[32], const uint8_t iv[16], uint8_t *buf, size_t len);

/* 1 if equal; time depends only on n. */
int tcrypto_ct_equal(const void *a, const void *b, size_t n);

#endif /* PCL_TCRYPTO_H */
