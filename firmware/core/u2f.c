/*
 * u2f.c: CTAP1/U2F over CTAPHID_MSG (FIDO U2F raw messages): VERSION, REGISTER and
 * AUTHENTICATE (check-only, enforce and don't-enforce presence). Key handles are the
 * same wrapped credential IDs as CTAP2, bound to the application parameter.
 * Linked by the token core. APDUs are untrusted host bytes; every length is checked.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"
#include "u2f.h"

#define INS_REGISTER	 0x01
#define INS_AUTHENTICATE 0x02
#define INS_VERSION	 0x03

#define SW_NO_ERROR	   0x9000
#define SW_CONDITIONS	   0x6985
#define SW_WRONG_DATA	   0x6a80
#define SW_WRONG_LENGTH	   0x6700
#define SW_CLA_UNSUPPORTED 0x6e00
#define SW_INS_UNSUPPORTED 0x6d00

static size_t sw(uint8_t *out, size_t n, uint16_t code)
{
	out[n] = (uint8_t)(code >> 8);
	out[n + 1] = (uint8_t)code;
	return n + 2;
}

/* Parse short or extended APDU framing; sets data/len. Returns 0 or -1. */
static int apdu_data(const uint8_t *a, size_t n, const uint8_t **data, size_t *len)
{
	size_t lc;

	if (n == 4) {
		*data = a + 4;
		*len = 0;
		return 0;
	}
	if (n >= 7 && a[4] == 0) { /* extended: 00 Lc1 Lc2 data [Le1 Le2] */
		lc = (size_t)a[5] << 8 | a[6];
		if (n == 7 && lc != 0) { /* 4 header + 00 Le1 Le2: no data */
			*data = a + 7;
			*len = 0;
			return 0;
		}
		if (7 + lc != n && 7 + lc + 2 != n)
			return -1;
		*data = a + 7;
		*len = lc;
		return 0;
	}
	lc = a[4]; /* short: Lc data [Le] */
	if (n == 5) {
		*data = a + 5;
		*len = 0;
		return 0;
	}
	if (5 + lc != n && 5 + lc + 1 != n)
		return -1;
	*data = a + 5;
	*len = lc;
	return 0;
}

static size_t reg(const uint8_t *d, size_t len, uint8_t *out, size_t cap)
{
	struct ctap2_cred cred;
	uint8_t pub[65], tbs[1 + 32 + 32 + STORE_CRED_ID_LEN + 65], hash[32];
	uint8_t sig[TCRYPTO_SIG_MAX], serial[8];
	size_t n = 0, certlen, siglen;

	if (len != 64)
		return sw(out, 0, SW_WRONG_LENGTH);
	if (hal_button_poll() != 1)
		return sw(out, 0, SW_CONDITIONS);
	memset(&cred, 0, sizeof(cred));
	if (tcrypto_p256_keygen(cred.sk, pub) != 0 || hal_rng(serial, sizeof(serial)) != 0)
		goto fail;
	out[n++] = 0x05;
	memcpy(out + n, pub, 65);
	n += 65;
	out[n++] = STORE_CRED_ID_LEN;
	if (ctap2_wrap(&cred, d + 32, out + n) != 0)
		goto fail;
	tbs[0] = 0x00;
	memcpy(tbs + 1, d + 32, 32); /* application parameter */
	memcpy(tbs + 33, d, 32);     /* challenge parameter */
	memcpy(tbs + 65, out + n, STORE_CRED_ID_LEN);
	memcpy(tbs + 65 + STORE_CRED_ID_LEN, pub, 65);
	n += STORE_CRED_ID_LEN;
	certlen = u2f_build_cert(cred.sk, pub, serial, out + n, cap - n - TCRYPTO_SIG_MAX - 2);
	if (certlen == 0)
		goto fail;
	n += certlen;
	tcrypto_sha256(tbs, sizeof(tbs), hash);
	siglen = tcrypto_p256_sign(cred.sk, hash, sig);
	store_wipe(&cred, sizeof(cred));
	if (siglen == 0)
		return sw(out, 0, 0x6f00);
	memcpy(out + n, sig, siglen);
	return sw(out, n + siglen, SW_NO_ERROR);
fail:
	store_wipe(&cred, sizeof(cred));
	return sw(out, 0, 0x6f00);
}

static size_t auth(uint8_t p1, const uint8_t *d, size_t len, uint8_t *out)
{
	struct ctap2_cred cred;
	uint8_t tbs[32 + 1 + 4 + 32], hash[32], sig[TCRYPTO_SIG_MAX];
	uint32_t counter;
	size_t siglen;

	if (len < 65 || len != 65u + d[64])
		return sw(out, 0, SW_WRONG_LENGTH);
	if (p1 != 0x03 && p1 != 0x07 && p1 != 0x08)
		return sw(out, 0, SW_WRONG_DATA);
	if (ctap2_unwrap(d + 65, d[64], d + 32, &cred) != 0)
		return sw(out, 0, SW_WRONG_DATA);
	if (cred.cred_protect == 3) { /* userVerificationRequired: never over CTAP1 */
		store_wipe(&cred, sizeof(cred));
		return sw(out, 0, SW_WRONG_DATA);
	}
	if (p1 == 0x07 || (p1 == 0x03 && hal_button_poll() != 1)) {
		store_wipe(&cred, sizeof(cred));
		return sw(out, 0, SW_CONDITIONS);
	}
	if (store_counter_next(&counter) != 0) {
		store_wipe(&cred, sizeof(cred));
		return sw(out, 0, 0x6f00);
	}
	memcpy(tbs, d + 32, 32);
	tbs[32] = p1 == 0x03 ? 0x01 : 0x00;
	ctap2_put_be32(tbs + 33, counter);
	memcpy(tbs + 37, d, 32);
	tcrypto_sha256(tbs, sizeof(tbs), hash);
	siglen = tcrypto_p256_sign(cred.sk, hash, sig);
	store_wipe(&cred, sizeof(cred));
	if (siglen == 0)
		return sw(out, 0, 0x6f00);
	memcpy(out, tbs + 32, 5);
	memcpy(out + 5, sig, siglen);
	return sw(out, 5 + siglen, SW_NO_ERROR);
}

size_t u2f_request(const uint8_t *apdu, size_t len, uint8_t *resp, size_t cap)
{
	const uint8_t *data;
	size_t dlen;

	if (cap < 512)
		return 0;
	if (len < 4 || apdu_data(apdu, len, &data, &dlen) != 0)
		return sw(resp, 0, SW_WRONG_LENGTH);
	if (apdu[0] != 0)
		return sw(resp, 0, SW_CLA_UNSUPPORTED);
	switch (apdu[1]) {
	case INS_VERSION:
		if (dlen != 0)
			return sw(resp, 0, SW_WRONG_LENGTH);
		memcpy(resp, "U2F_V2", 6);
		return sw(resp, 6, SW_NO_ERROR);
	case INS_REGISTER:
		return reg(data, dlen, resp, cap);
	case INS_AUTHENTICATE:
		return auth(apdu[2], data, dlen, resp);
	default:
		return sw(resp, 0, SW_INS_UNSUPPORTED);
	}
}
