/*
 * ctap2.c: CTAP2 command dispatch, authenticatorGetInfo and authenticatorReset; the
 * commands are in ctap2_cred.c, ctap2_assert.c and ctap2_pin.c, the parsing they share in
 * ctap2_parse.c and credential IDs in ctap2_credid.c. Linked by the token core. Requests are
 * untrusted host bytes: validated as canonical CBOR before any field is read.
 */
#include <string.h>

#include "ctap2_int.h"
#include "ctap_status.h"
#include "hal.h"
#include "tcrypto.h"

struct token_config ctap2_config;

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
