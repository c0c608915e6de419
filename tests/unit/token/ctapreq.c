/*
 * ctapreq.c - CTAP2 requests for the token's tests and benchmark (see ctapreq.h).
 * Test code only; inputs are the tests' own constants.
 */
#include "ctapreq.h"

#include <string.h>

#include "cbor.h"

/* MakeCredential with user id `user` (ulen bytes); rk: a resident (discoverable) one. */
static size_t make_credential(uint8_t *buf, size_t cap, const uint8_t cdh[32], const char *rp_id,
			      const char *user, size_t ulen, int rk)
{
	struct cbor_enc e;

	if (cap < 2)
		return 0;
	buf[0] = 0x01; /* authenticatorMakeCredential */
	cbor_enc_init(&e, buf + 1, cap - 1);
	cbor_put_map(&e, rk ? 5 : 4);
	cbor_put_uint(&e, 1);
	cbor_put_bytes(&e, cdh, 32);
	cbor_put_uint(&e, 2);
	cbor_put_map(&e, 1);
	cbor_put_text(&e, "id");
	cbor_put_text(&e, rp_id);
	cbor_put_uint(&e, 3);
	cbor_put_map(&e, 1);
	cbor_put_text(&e, "id");
	cbor_put_bytes(&e, user, ulen);
	cbor_put_uint(&e, 4);
	cbor_put_array(&e, 1);
	cbor_put_map(&e, 2);
	cbor_put_text(&e, "alg");
	cbor_put_int(&e, -7);
	cbor_put_text(&e, "type");
	cbor_put_text(&e, "public-key");
	if (rk) {
		cbor_put_uint(&e, 7);
		cbor_put_map(&e, 1);
		cbor_put_text(&e, "rk");
		cbor_put_bool(&e, 1);
	}
	return e.err ? 0 : e.len + 1;
}

size_t ctapreq_make_credential(uint8_t *buf, size_t cap, const uint8_t cdh[32], const char *rp_id)
{
	return make_credential(buf, cap, cdh, rp_id, "u", 1, 0);
}

size_t ctapreq_make_resident(uint8_t *buf, size_t cap, const uint8_t cdh[32], const char *rp_id,
			     const char *user)
{
	return make_credential(buf, cap, cdh, rp_id, user, strlen(user), 1);
}
