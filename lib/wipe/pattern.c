/*
 * pattern.c - the keyed wipe pattern: AES-256-CTR keystream (OpenSSL) whose 128-bit
 * counter is the device byte offset / 16, so every 16 bytes of the medium carry a
 * value that only this key produces at this address. Decrypting a unit read back
 * recovers the address it was written for (wrapped fake-capacity media).
 * Linked by portcullis-wiper and tests; the key comes from the parent (trusted), the
 * data given to wipe_pattern_locate comes from the medium (untrusted, any bytes).
 */
#include "wipe.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

struct wipe_pattern {
	EVP_CIPHER_CTX *ctr; /* keystream */
	EVP_CIPHER_CTX *ecb; /* inverse, for locate */
};

static void counter_iv(uint64_t unit, uint8_t iv[16])
{
	memset(iv, 0, 8);
	for (int i = 0; i < 8; i++)
		iv[15 - i] = (uint8_t)(unit >> (8 * i));
}

int wipe_pattern_new(struct wipe_pattern **out, const uint8_t key[WIPE_KEY_LEN])
{
	struct wipe_pattern *p = calloc(1, sizeof(*p));
	uint8_t iv[16] = {0};

	*out = NULL;
	if (p == NULL)
		return -ENOMEM;
	p->ctr = EVP_CIPHER_CTX_new();
	p->ecb = EVP_CIPHER_CTX_new();
	if (p->ctr == NULL || p->ecb == NULL ||
	    EVP_EncryptInit_ex(p->ctr, EVP_aes_256_ctr(), NULL, key, iv) != 1 ||
	    EVP_DecryptInit_ex(p->ecb, EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(p->ecb, 0) != 1) {
		wipe_pattern_free(&p);
		return -EIO;
	}
	*out = p;
	return 0;
}

void wipe_pattern_free(struct wipe_pattern **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free((*pp)->ctr);
	EVP_CIPHER_CTX_free((*pp)->ecb);
	free(*pp);
	*pp = NULL;
}

int wipe_pattern_fill(struct wipe_pattern *p, uint64_t offset, uint8_t *buf, size_t len)
{
	uint8_t iv[16];

	if (offset % 16 != 0)
		return -EINVAL;
	counter_iv(offset / 16, iv);
	if (EVP_EncryptInit_ex(p->ctr, NULL, NULL, NULL, iv) != 1)
		return -EIO;
	memset(buf, 0, len);
	while (len > 0) {
		int n = len > (size_t)(INT_MAX & ~15) ? (INT_MAX & ~15) : (int)len;
		int outl = 0;

		if (EVP_EncryptUpdate(p->ctr, buf, &outl, buf, n) != 1 || outl != n)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int wipe_pattern_locate(struct wipe_pattern *p, const uint8_t unit[16], uint64_t *offset)
{
	uint8_t ctr[16];
	int outl = 0;
	uint64_t v = 0;

	if (EVP_DecryptUpdate(p->ecb, ctr, &outl, unit, 16) != 1 || outl != 16)
		return -EIO;
	/* Offsets below 2^68 bytes have a zero upper half: anything else is foreign data. */
	for (int i = 0; i < 8; i++)
		if (ctr[i] != 0)
			return -ENOENT;
	if (ctr[8] & 0xF0)
		return -ENOENT;
	for (int i = 8; i < 16; i++)
		v = (v << 8) | ctr[i];
	*offset = v * 16;
	return 0;
}
