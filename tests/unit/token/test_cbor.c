/*
 * test_cbor.c: the token's CBOR encoder and validating decoder, and the CTAP2 status
 * codes for malformed requests: wrong types, deep nesting, huge lengths, duplicate and
 * unordered keys, non-canonical encodings, missing parameters. Linked by the token unit
 * tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbor.h"
#include "ctap_status.h"
#include "token.h"
#include "tokentest.h"

#define V(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void encoder_uses_shortest_heads(void **state)
{
	uint8_t buf[64];
	struct cbor_enc e;
	static const uint8_t want[] = {0x00, 0x17, 0x18, 0x18, 0x18, 0xff, 0x19, 0x01, 0x00, 0x1a,
				       0x00, 0x01, 0x00, 0x00, 0x20, 0x37, 0x38, 0x18, 0x43, 'a',
				       'b',  'c',  0x62, 'h',  'i',  0xa1, 0x80, 0xf5, 0xf4};

	cbor_enc_init(&e, buf, sizeof(buf));
	cbor_put_uint(&e, 0);
	cbor_put_uint(&e, 23);
	cbor_put_uint(&e, 24);
	cbor_put_uint(&e, 255);
	cbor_put_uint(&e, 256);
	cbor_put_uint(&e, 65536);
	cbor_put_int(&e, -1);
	cbor_put_int(&e, -24);
	cbor_put_int(&e, -25);
	cbor_put_bytes(&e, "abc", 3);
	cbor_put_text(&e, "hi");
	cbor_put_map(&e, 1);
	cbor_put_array(&e, 0);
	cbor_put_bool(&e, 1);
	cbor_put_bool(&e, 0);
	assert_false(e.err);
	assert_int_equal(e.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(cbor_validate(buf + 22, 3, CBOR_MAX_DEPTH), 0);
	assert_int_equal(cbor_validate(buf + 25, 2, CBOR_MAX_DEPTH), CTAP1_ERR_INVALID_LENGTH);
}

static void encoder_reports_overflow(void **state)
{
	uint8_t buf[4];
	struct cbor_enc e;

	cbor_enc_init(&e, buf, sizeof(buf));
	cbor_put_bytes(&e, "abcdef", 6);
	assert_true(e.err);
}

static void validator_accepts_canonical_items(void **state)
{
	assert_int_equal(cbor_validate(V(0xa2, 0x01, 0x02, 0x03, 0x04), CBOR_MAX_DEPTH), 0);
	/* length-first order: "id" (3 bytes encoded) before "type" */
	assert_int_equal(
	    cbor_validate(V(0xa2, 0x62, 'i', 'd', 0x01, 0x64, 't', 'y', 'p', 'e', 0x02),
			  CBOR_MAX_DEPTH),
	    0);
	assert_int_equal(cbor_validate(V(0x81, 0x81, 0x81, 0x80), CBOR_MAX_DEPTH), 0);
	assert_int_equal(cbor_validate(V(0xf6), CBOR_MAX_DEPTH), 0);
}

static void validator_refuses_malformed_items(void **state)
{
	/* non-shortest heads */
	assert_int_equal(cbor_validate(V(0x18, 0x05), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0x19, 0x00, 0x10), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0x41 - 1 + 0x18, 0x01, 'a'), 4), CTAP2_ERR_INVALID_CBOR);
	/* indefinite lengths, reserved values, tags, floats, bad simple values */
	assert_int_equal(cbor_validate(V(0x5f, 0x41, 'a', 0xff), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0x1c), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0xc0, 0x00), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0xf9, 0x3c, 0x00), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0xe0), 4), CTAP2_ERR_INVALID_CBOR);
	/* duplicate and unordered keys */
	assert_int_equal(cbor_validate(V(0xa2, 0x01, 0x02, 0x01, 0x03), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(cbor_validate(V(0xa2, 0x02, 0x02, 0x01, 0x03), 4), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(
	    cbor_validate(V(0xa2, 0x64, 't', 'y', 'p', 'e', 0x02, 0x62, 'i', 'd', 0x01), 4),
	    CTAP2_ERR_INVALID_CBOR);
	/* nesting deeper than allowed */
	assert_int_equal(cbor_validate(V(0x81, 0x81, 0x81, 0x81, 0x80), 4), CTAP2_ERR_INVALID_CBOR);
	/* huge and truncated lengths */
	assert_int_equal(cbor_validate(V(0x5a, 0xff, 0xff, 0xff, 0xff), 4),
			 CTAP1_ERR_INVALID_LENGTH);
	assert_int_equal(cbor_validate(V(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 4),
			 CTAP1_ERR_INVALID_LENGTH);
	assert_int_equal(cbor_validate(V(0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 4),
			 CTAP1_ERR_INVALID_LENGTH);
	assert_int_equal(cbor_validate(V(0x19, 0x01), 4), CTAP1_ERR_INVALID_LENGTH);
	assert_int_equal(cbor_validate(NULL, 0, 4), CTAP1_ERR_INVALID_LENGTH);
	/* trailing bytes after the item */
	assert_int_equal(cbor_validate(V(0x01, 0x02), 4), CTAP2_ERR_INVALID_CBOR);
}

static uint8_t status_of(const uint8_t *req, size_t len)
{
	uint8_t resp[1200];

	assert_true(ctap2_request(req, len, resp, sizeof(resp)) >= 1);
	return resp[0];
}

static void ctap2_requests_get_the_status_the_spec_names(void **state)
{
	tt_boot();
	thal_auto_touch = 1;
	assert_int_equal(status_of(V(0x42)), CTAP1_ERR_INVALID_COMMAND);
	assert_int_equal(status_of(V(0x04, 0x00)), CTAP1_ERR_INVALID_LENGTH);
	/* makeCredential: not a map; empty map; cdh of the wrong type */
	assert_int_equal(status_of(V(0x01, 0x80)), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	assert_int_equal(status_of(V(0x01, 0xa0)), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(status_of(V(0x01, 0xa1, 0x01, 0x61, 'x')), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* text key at the top level */
	assert_int_equal(status_of(V(0x01, 0xa1, 0x61, 'a', 0x01)), CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	/* duplicate keys and non-canonical integers */
	assert_int_equal(status_of(V(0x02, 0xa2, 0x01, 0x60, 0x01, 0x60)), CTAP2_ERR_INVALID_CBOR);
	assert_int_equal(status_of(V(0x02, 0xa1, 0x18, 0x01, 0x60)), CTAP2_ERR_INVALID_CBOR);
	/* getAssertion without clientDataHash; with a short one */
	assert_int_equal(status_of(V(0x02, 0xa1, 0x01, 0x61, 'r')), CTAP2_ERR_MISSING_PARAMETER);
	assert_int_equal(status_of(V(0x02, 0xa2, 0x01, 0x61, 'r', 0x02, 0x41, 0x00)),
			 CTAP1_ERR_INVALID_LENGTH);
	/* clientPIN: unknown subcommand, unsupported protocol, missing subcommand */
	assert_int_equal(status_of(V(0x06, 0xa2, 0x01, 0x01, 0x02, 0x11)),
			 CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(status_of(V(0x06, 0xa2, 0x01, 0x07, 0x02, 0x02)),
			 CTAP1_ERR_INVALID_PARAMETER);
	assert_int_equal(status_of(V(0x06, 0xa1, 0x01, 0x01)), CTAP2_ERR_MISSING_PARAMETER);
	/* getNextAssertion with nothing to continue */
	assert_int_equal(status_of(V(0x08)), CTAP2_ERR_NOT_ALLOWED);
}

static void every_response_is_canonical_cbor(void **state)
{
	uint8_t resp[1200];
	size_t n;

	tt_boot();
	n = ctap2_request((const uint8_t[]){0x04}, 1, resp, sizeof(resp));
	assert_int_equal(resp[0], 0);
	assert_int_equal(cbor_validate(resp + 1, n - 1, CBOR_MAX_DEPTH), 0);
	n = ctap2_request(V(0x06, 0xa2, 0x01, 0x02, 0x02, 0x02), resp, sizeof(resp));
	assert_int_equal(resp[0], 0);
	assert_int_equal(cbor_validate(resp + 1, n - 1, CBOR_MAX_DEPTH), 0);
	n = ctap2_request(V(0x06, 0xa2, 0x01, 0x01, 0x02, 0x01), resp, sizeof(resp));
	assert_int_equal(resp[0], 0);
	assert_int_equal(n, 4); /* {3: 8} */
	assert_memory_equal(resp + 1, ((const uint8_t[]){0xa1, 0x03, 0x08}), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encoder_uses_shortest_heads),
	    cmocka_unit_test(encoder_reports_overflow),
	    cmocka_unit_test(validator_accepts_canonical_items),
	    cmocka_unit_test(validator_refuses_malformed_items),
	    cmocka_unit_test(ctap2_requests_get_the_status_the_spec_names),
	    cmocka_unit_test(every_response_is_canonical_cbor),
	};
	int rc = cmocka_run_group_tests_name("token_cbor", tests, NULL, NULL);

	thal_free();
	return rc;
}
