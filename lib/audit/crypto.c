/*
 * crypto.c - audit trail crypto over OpenSSL libcrypto: SHA-256 record hashes,
 * HMAC-SHA-256 record MACs, HKDF key evolution, Ed25519 checkpoint signatures, hex/base64.
 * Linked by the engine (writer) and the CLI (verifier); inputs are lengths-checked bytes.
 */
#include "audit_int.h"
#include "hex.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "diag.h"

void audit_hex(char out[AUDIT_HEX_LEN + 1], const uint8_t in[AUDIT_HASH_LEN])
{
	pcl_hex_encode(out, in, AUDIT_HASH_LEN);
}

int audit_unhex(uint8_t out[AUDIT_HASH_LEN], const char *in, size_t len)
{
	return pcl_hex_decode(out, AUDIT_HASH_LEN, in, len);
}

static EVP_KDF *hkdf;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void hkdf_fetch(void)
{
	hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL); /* kept for the life of the process */
}

int audit_kdf_next(uint8_t next[32], const uint8_t cur[32], uint64_t epoch)
{
	EVP_KDF_CTX *ctx;
	char info[64];
	uint8_t key[32];
	int n = snprintf(info, sizeof(info), "portcullis audit mac key epoch %llu",
			 (unsigned long long)epoch + 1);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key, 32),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)n),
	    OSSL_PARAM_construct_end(),
	};
	int rc;

	pthread_once(&hkdf_once, hkdf_fetch);
	ctx = hkdf ? EVP_KDF_CTX_new(hkdf) : NULL;
	memcpy(key, cur, 32);
	rc = (ctx && EVP_KDF_derive(ctx, next, 32, params) == 1) ? 0 : -EIO;

	explicit_bzero(key, sizeof(key));
	EVP_KDF_CTX_free(ctx);
	return rc;
}

int audit_ed25519_keygen(uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	size_t l1 = 32, l2 = 32;
	int rc = -EIO;

	if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pk) == 1 &&
	    EVP_PKEY_get_raw_private_key(pk, priv, &l1) == 1 &&
	    EVP_PKEY_get_raw_public_key(pk, pub, &l2) == 1 && l1 == 32 && l2 == 32)
		rc = 0;
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int audit_ed25519_sign(uint8_t sig[64], const uint8_t priv[32], const void *msg, size_t len)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = -EIO;

	if (pk && md && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, msg, len) == 1 && siglen == 64)
		rc = 0;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return rc;
}

bool audit_ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const void *msg, size_t len)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = pk && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(md, sig, 64, msg, len) == 1;

	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return ok;
}

struct audit_hasher {
	EVP_MD *sha;
	EVP_MD_CTX *md;
	EVP_MAC *hmac;
	EVP_MAC_CTX *mac;
	bool keyed;
};

struct audit_hasher *audit_hasher_new(void)
{
	struct audit_hasher *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->sha = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->md = EVP_MD_CTX_new();
	h->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->mac = h->hmac ? EVP_MAC_CTX_new(h->hmac) : NULL;
	if (!h->sha || !h->md || !h->mac) {
		audit_hasher_free(h);
		return NULL;
	}
	return h;
}

void audit_hasher_free(struct audit_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->mac); /* clears the key schedule */
	EVP_MAC_free(h->hmac);
	EVP_MD_CTX_free(h->md);
	EVP_MD_free(h->sha);
	free(h);
}

int audit_hasher_record(struct audit_hasher *h, const char *line, size_t len,
			uint8_t out[AUDIT_HASH_LEN])
{
	if (len < AUDIT_MAC_SUFFIX_LEN + 1)
		return -EINVAL;
	if (EVP_DigestInit_ex(h->md, h->sha, NULL) != 1 ||
	    EVP_DigestUpdate(h->md, line, len - AUDIT_MAC_SUFFIX_LEN) != 1 ||
	    EVP_DigestUpdate(h->md, "}", 1) != 1 || EVP_DigestFinal_ex(h->md, out, NULL) != 1)
		return -EIO;
	return 0;
}

int audit_hasher_set_key(struct audit_hasher *h, const uint8_t key[32])
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};

	h->keyed = EVP_MAC_init(h->mac, key, 32, params) == 1;
	return h->keyed ? 0 : -EIO;
}

int audit_hasher_mac(struct audit_hasher *h, const uint8_t hash[AUDIT_HASH_LEN],
		     uint8_t mac[AUDIT_HASH_LEN])
{
	size_t outl = 0;

	/* Re-initialising without a key reuses the prepared key schedule. */
	if (!h->keyed || EVP_MAC_init(h->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(h->mac, hash, AUDIT_HASH_LEN) != 1 ||
	    EVP_MAC_final(h->mac, mac, &outl, AUDIT_HASH_LEN) != 1 || outl != AUDIT_HASH_LEN)
		return -EIO;
	return 0;
}
