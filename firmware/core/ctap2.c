/*
 * ctap2.c: CTAP2 command dispatch, authenticatorGetInfo, authenticatorReset, the
 * credential-ID wrapping and request map parsing shared by the other commands.
 * Linked by the token core. Requests are untrusted host bytes: validated as canonical
 * CBOR before any field is read.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

/* AAGUID of the Portcullis token (random, fixed). */
const uint8_t ctap2_aaguid[16] = {0x70, 0x63, 0x6c, 0x2d, 0x74, 0x6f, 0x6b, 0x65,
				  0x6e, 0x9a, 0x4e, 0x21, 0xb3, 0x05, 0x6d, 0x11};

struct token_config ctap2_config;

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

int ctap2_get(struct cbor_dec *d, uint8_t major, struct cbor_item *it)
{
	if (cbor_next(d, it) != 0)
		return CTAP2_ERR_INVALID_CBOR;
	if (it->major != major)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	return 0;
}

int ctap2_get_bool(struct cbor_dec *d, int *b)
{
	struct cbor_item it;
	int rc = ctap2_get(d, CBOR_SIMPLE, &it);

	if (rc)
		return rc;
	if (it.val != CBOR_TRUE && it.val != CBOR_FALSE)
		return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
	*b = it.val == CBOR_TRUE;
	return 0;
}

int ctap2_parse_map(const uint8_t *buf, size_t len, ctap2_field_fn fn, void *ctx)
{
	struct cbor_dec d;
	struct cbor_item it, key;
	uint64_t i;
	int rc;

	rc = cbor_validate(buf, len, CBOR_MAX_DEPTH);
	if (rc)
		return rc;
	cbor_dec_init(&d, buf, len);
	rc = ctap2_get(&d, CBOR_MAP, &it);
	if (rc)
		return rc;
	for (i = 0; i < it.val; i++) {
		const uint8_t *before;

		if (cbor_next(&d, &key) != 0)
			return CTAP2_ERR_INVALID_CBOR;
		if (key.major != CBOR_UINT)
			return CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		before = d.p;
		rc = fn(ctx, key.val, &d);
		if (rc)
			return rc;
		if (d.p == before && cbor_skip(&d) != 0) /* unknown key: ignored */
			return CTAP2_ERR_INVALID_CBOR;
	}
	return 0;
}

static int get_info(struct cbor_enc *e)
{
	cbor_put_map(e, 10);
	cbor_put_uint(e, 1); /* versions */
	cbor_put_array(e, 3);
	cbor_put_text(e, "U2F_V2");
	cbor_put_text(e, "FIDO_2_0");
	cbor_put_text(e, "FIDO_2_1");
	cbor_put_uint(e, 2); /* extensions */
	cbor_put_array(e, 1);
	cbor_put_text(e, "credProtect");
	cbor_put_uint(e, 3);
	cbor_put_bytes(e, ctap2_aaguid, sizeof(ctap2_aaguid));
	cbor_put_uint(e, 4); /* options, canonical key order */
	cbor_put_map(e, 5);
	cbor_put_text(e, "rk");
	cbor_put_bool(e, 1);
	cbor_put_text(e, "up");
	cbor_put_bool(e, 1);
	cbor_put_text(e, "plat");
	cbor_put_bool(e, 0);
	cbor_put_text(e, "clientPin");
	cbor_put_bool(e, store_st.pin_set);
	cbor_put_text(e, "pinUvAuthToken");
	cbor_put_bool(e, 1);
	cbor_put_uint(e, 5);
	cbor_put_uint(e, CTAPHID_MAX_MSG);
	cbor_put_uint(e, 6); /* pinUvAuthProtocols, preferred first */
	cbor_put_array(e, 2);
	cbor_put_uint(e, 2);
	cbor_put_uint(e, 1);
	cbor_put_uint(e, 7); /* maxCredentialCountInList */
	cbor_put_uint(e, 8);
	cbor_put_uint(e, 8); /* maxCredentialIdLength */
	cbor_put_uint(e, STORE_CRED_ID_LEN);
	cbor_put_uint(e, 9);
	cbor_put_array(e, 1);
	cbor_put_text(e, "usb");
	cbor_put_uint(e, 10); /* algorithms */
	cbor_put_array(e, 1);
	cbor_put_map(e, 2);
	cbor_put_text(e, "alg");
	cbor_put_int(e, -7);
	cbor_put_text(e, "type");
	cbor_put_text(e, "public-key");
	return 0;
}

static int reset(void)
{
	int rc;

	if (hal_time_ms() >= ctap2_config.reset_window_ms)
		return CTAP2_ERR_NOT_ALLOWED;
	rc = ctaphid_user_presence();
	if (rc == CTAP2_ERR_USER_ACTION_TIMEOUT)
		return CTAP2_ERR_USER_ACTION_TIMEOUT;
	if (rc)
		return rc;
	rc = store_reset();
	if (rc)
		return rc;
	ctap2_assert_forget();
	ctap2_pin_init();
	return 0;
}

int ctap2_init(const struct token_config *cfg)
{
	int rc;

	ctap2_config = *cfg;
	rc = store_init();
	if (rc)
		return rc;
	ctap2_assert_forget();
	ctap2_pin_init();
	return 0;
}

size_t ctap2_request(const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	struct cbor_enc e;
	int rc;

	cbor_enc_init(&e, resp + 1, cap - 1);
	if (req[0] != CTAP2_GET_NEXT_ASSERTION)
		ctap2_assert_forget();
	switch (req[0]) {
	case CTAP2_GET_INFO:
		rc = len == 1 ? get_info(&e) : CTAP1_ERR_INVALID_LENGTH;
		break;
	case CTAP2_MAKE_CREDENTIAL:
		rc = ctap2_make_credential(req + 1, len - 1, &e);
		break;
	case CTAP2_GET_ASSERTION:
		rc = ctap2_get_assertion(req + 1, len - 1, &e);
		break;
	case CTAP2_GET_NEXT_ASSERTION:
		rc = len == 1 ? ctap2_get_next_assertion(&e) : CTAP1_ERR_INVALID_LENGTH;
		break;
	case CTAP2_CLIENT_PIN:
		rc = ctap2_client_pin(req + 1, len - 1, &e);
		break;
	case CTAP2_RESET:
		rc = len == 1 ? reset() : CTAP1_ERR_INVALID_LENGTH;
		break;
	case CTAP2_SELECTION: /* "is this the key?": a touch answers */
		rc = len == 1 ? ctaphid_user_presence() : CTAP1_ERR_INVALID_LENGTH;
		break;
	default:
		rc = CTAP1_ERR_INVALID_COMMAND;
		break;
	}
	if (rc == 0 && e.err)
		rc = CTAP2_ERR_REQUEST_TOO_LARGE;
	if (rc) {
		store_wipe(resp, cap);
		resp[0] = (uint8_t)rc;
		return 1;
	}
	resp[0] = CTAP2_OK;
	return e.len + 1;
}
