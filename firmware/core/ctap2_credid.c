/*
 * ctap2_credid.c: what a credential carries outside the token: its ID (the private key
 * and policy sealed under the master secret with AES-GCM, bound to the RP ID hash), the
 * token's AAGUID and the big-endian counter of authenticator data. Linked by the token
 * core (MakeCredential, GetAssertion, U2F). An ID comes back from the host: untrusted
 * until it opens under our key and the RP's hash.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

/* AAGUID of the Portcullis token (random, fixed). */
const uint8_t ctap2_aaguid[16] = {0x70, 0x63, 0x6c, 0x2d, 0x74, 0x6f, 0x6b, 0x65,
				  0x6e, 0x9a, 0x4e, 0x21, 0xb3, 0x05, 0x6d, 0x11};

#define WRAP_VERSION 1

static void wrap_key(uint8_t key[32])
{
	static const char label[] = "portcullis credential wrap v1";

	tcrypto_hmac_sha256(store_st.master, sizeof(store_st.master), label, sizeof(label) - 1,
			    key);
}

int ctap2_wrap(const struct ctap2_cred *cred, const uint8_t rp_id_hash[32], uint8_t *id)
{
	uint8_t key[32];

	id[0] = WRAP_VERSION;
	if (hal_rng(id + 1, 12) != 0)
		return CTAP1_ERR_OTHER;
	memcpy(id + 13, cred, sizeof(*cred));
	wrap_key(key);
	tcrypto_gcm_seal(key, id + 1, rp_id_hash, 32, id + 13, sizeof(*cred),
			 id + 13 + sizeof(*cred));
	store_wipe(key, sizeof(key));
	return 0;
}

int ctap2_unwrap(const uint8_t *id, size_t len, const uint8_t rp_id_hash[32],
		 struct ctap2_cred *cred)
{
	uint8_t key[32], buf[sizeof(*cred)];
	int rc;

	if (len != STORE_CRED_ID_LEN || id[0] != WRAP_VERSION)
		return -1;
	memcpy(buf, id + 13, sizeof(buf));
	wrap_key(key);
	rc = tcrypto_gcm_open(key, id + 1, rp_id_hash, 32, buf, sizeof(buf),
			      id + 13 + sizeof(*cred));
	store_wipe(key, sizeof(key));
	if (rc == 0)
		memcpy(cred, buf, sizeof(*cred));
	store_wipe(buf, sizeof(buf));
	return rc;
}

void ctap2_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
