/*
 * test_ctap2.c: CTAP2 command semantics of the token core that clients rarely exercise:
 * key store full, excluded credentials, unsupported algorithms and options, invalid
 * credProtect levels, the touch probe with an empty pinUvAuthParam, GetNextAssertion
 * expiry, the reset window and RNG failure. Linked by the token unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbor.h"
#include "ctap_status.h"
#include "store.h"
#include "token.h"
#include "tokentest.h"

static const uint8_t cdh[32] = {0x42};

struct mc_opts {
	const char *user;
	int rk;
	int64_t alg;
	int up_option;		/* put "up" in options */
	int uv_option;		/* put "uv": true in options */
	int prot;		/* credProtect level, 0: none */
	const uint8_t *exclude; /* credential ID to exclude */
	int empty_pin_param;
};

static size_t mc(uint8_t *buf, size_t cap, const struct mc_opts *o)
{
	struct cbor_enc e;
	int nopts = o->rk + o->up_option + o->uv_option;
	size_t n =
	    4 + (o->exclude != NULL) + (o->prot != 0) + (nopts > 0) + 2 * (o->empty_pin_param != 0);

	buf[0] = 0x01;
	cbor_enc_init(&e, buf + 1, cap - 1);
	cbor_put_map(&e, n);
	cbor_put_uint(&e, 1);
	cbor_put_bytes(&e, cdh, sizeof(cdh));
	cbor_put_uint(&e, 2);
	cbor_put_map(&e, 1);
	cbor_put_text(&e, "id");
	cbor_put_text(&e, "rp.test");
	cbor_put_uint(&e, 3);
	cbor_put_map(&e, 1);
	cbor_put_text(&e, "id");
	cbor_put_bytes(&e, o->user, strlen(o->user));
	cbor_put_uint(&e, 4);
	cbor_put_array(&e, 1);
	cbor_put_map(&e, 2);
	cbor_put_text(&e, "alg");
	cbor_put_int(&e, o->alg ? o->alg : -7);
	cbor_put_text(&e, "type");
	cbor_put_text(&e, "public-key");
	if (o->exclude) {
		cbor_put_uint(&e, 5);
		cbor_put_array(&e, 1);
		cbor_put_map(&e, 2);
		cbor_put_text(&e, "id");
		cbor_put_bytes(&e, o->exclude, STORE_CRED_ID_LEN);
		cbor_put_text(&e, "type");
		cbor_put_text(&e, "public-key");
	}
	if (o->prot) {
		cbor_put_uint(&e, 6);
		cbor_put_map(&e, 1);
		cbor_put_text(&e, "credProtect");
		cbor_put_uint(&e, (uint64_t)o->prot);
	}
	if (nopts) {
		cbor_put_uint(&e, 7);
		cbor_put_map(&e, (size_t)nopts);
		if (o->rk) {
			cbor_put_text(&e, "rk");
			cbor_put_bool(&e, 1);
		}
		if (o->up_option) {
			cbor_put_text(&e, "up");
			cbor_put_bool(&e, 1);
		}
		if (o->uv_option) {
			cbor_put_text(&e, "uv");
			cbor_put_bool(&e, 1);
		}
	}
	if (o->empty_pin_param) {
		cbor_put_uint(&e, 8);
		cbor_put_bytes(&e, NULL, 0);
		cbor_put_uint(&e, 9);
		cbor_put_uint(&e, 2);
	}
	assert_false(e.err);
	return e.len + 1;
}

static uint8_t run(const uint8_t *req, size_t len, uint8_t *resp, size_t *n)
{
	static uint8_t buf[1200];

	if (!resp)
		resp = buf;
	*(n ? n : &(size_t){0}) = ctap2_request(req, len, resp, 1200);
	return resp[0];
}

/* The credential ID from a MakeCredential response. */
static void cred_id_of(const uint8_t *resp, size_t n, uint8_t *id)
{
	struct cbor_dec d;
	struct cbor_item it;

	cbor_dec_init(&d, resp + 1, n - 1);
	assert_int_equal(cbor_next(&d, &it), 0);
	assert_int_equal(cbor_skip(&d) | cbor_skip(&d) | cbor_skip(&d), 0);
	assert_int_equal(cbor_next(&d, &it), 0);
	memcpy(id, it.ptr + 55, STORE_CRED_ID_LEN);
}

static void key_store_full_after_all_slots(void **state)
{
	uint8_t req[512];
	char user[8];
	int i;

	tt_boot();
	thal_auto_touch = 1;
	for (i = 0; i < STORE_RK_SLOTS; i++) {
		struct mc_opts o = {.user = user, .rk = 1};

		user[0] = (char)('a' + i);
		user[1] = 0;
		assert_int_equal(run(req, mc(req, sizeof(req), &o), NULL, NULL), CTAP2_OK);
	}
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "z", .rk = 1}), NULL, NULL),
	    CTAP2_ERR_KEY_STORE_FULL);
	/* the same user replaces its slot instead */
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "c", .rk = 1}), NULL, NULL),
	    CTAP2_OK);
	/* non-discoverable credentials need no slot */
	assert_int_equal(run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "z"}), NULL, NULL),
			 CTAP2_OK);
}

static void excluded_credential_is_refused(void **state)
{
	uint8_t req[512], resp[1200], id[STORE_CRED_ID_LEN];
	size_t n;

	tt_boot();
	thal_auto_touch = 1;
	assert_int_equal(run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "u"}), resp, &n),
			 CTAP2_OK);
	cred_id_of(resp, n, id);
	assert_int_equal(run(req,
			     mc(req, sizeof(req), &(struct mc_opts){.user = "u", .exclude = id}),
			     NULL, NULL),
			 CTAP2_ERR_CREDENTIAL_EXCLUDED);
	id[40] ^= 0x80; /* not ours any more: no exclusion */
	assert_int_equal(run(req,
			     mc(req, sizeof(req), &(struct mc_opts){.user = "u", .exclude = id}),
			     NULL, NULL),
			 CTAP2_OK);
}

static void unsupported_algorithms_and_options(void **state)
{
	uint8_t req[512];

	tt_boot();
	thal_auto_touch = 1;
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "u", .alg = -8}), NULL, NULL),
	    CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	assert_int_equal(run(req,
			     mc(req, sizeof(req), &(struct mc_opts){.user = "u", .up_option = 1}),
			     NULL, NULL),
			 CTAP2_ERR_INVALID_OPTION);
	assert_int_equal(run(req,
			     mc(req, sizeof(req), &(struct mc_opts){.user = "u", .uv_option = 1}),
			     NULL, NULL),
			 CTAP2_ERR_INVALID_OPTION);
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "u", .prot = 4}), NULL, NULL),
	    CTAP2_ERR_INVALID_OPTION);
	/* getAssertion has no "rk" option */
	{
		static const uint8_t ga[] = {
		    0x02, 0xa3, 0x01, 0x61, 'r',  0x02, 0x58, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    0,	  0,	0,    0,    0,	  0,	0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    0,	  0,	0x05, 0xa1, 0x62, 'r',	'k',  0xf5};

		assert_int_equal(run(ga, sizeof(ga), NULL, NULL), CTAP2_ERR_UNSUPPORTED_OPTION);
	}
}

static void empty_pin_param_probes_for_a_touch(void **state)
{
	uint8_t req[512];
	struct mc_opts o = {.user = "u", .empty_pin_param = 1};

	tt_boot();
	assert_int_equal(run(req, mc(req, sizeof(req), &o), NULL, NULL),
			 CTAP2_ERR_USER_ACTION_TIMEOUT);
	thal_auto_touch = 1;
	assert_int_equal(run(req, mc(req, sizeof(req), &o), NULL, NULL), CTAP2_ERR_PIN_NOT_SET);
}

static void get_next_assertion_expires(void **state)
{
	static const uint8_t ga[] = {
	    0x02, 0xa2, 0x01, 0x67, 'r', 'p', '.', 't', 'e', 's', 't', 0x02, 0x58, 0x20, 0, 0,
	    0,	  0,	0,    0,    0,	 0,   0,   0,	0,   0,	  0,   0,    0,	   0,	 0, 0,
	    0,	  0,	0,    0,    0,	 0,   0,   0,	0,   0,	  0,   0,    0,	   0};
	uint8_t req[512];

	tt_boot();
	thal_auto_touch = 1;
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "a", .rk = 1}), NULL, NULL),
	    CTAP2_OK);
	assert_int_equal(
	    run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "b", .rk = 1}), NULL, NULL),
	    CTAP2_OK);
	assert_int_equal(run(ga, sizeof(ga), NULL, NULL), CTAP2_OK);
	thal_now += 31000;
	assert_int_equal(run((const uint8_t[]){0x08}, 1, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	/* and any other command in between ends the sequence */
	assert_int_equal(run(ga, sizeof(ga), NULL, NULL), CTAP2_OK);
	assert_int_equal(run((const uint8_t[]){0x04}, 1, NULL, NULL), CTAP2_OK);
	assert_int_equal(run((const uint8_t[]){0x08}, 1, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	assert_int_equal(run(ga, sizeof(ga), NULL, NULL), CTAP2_OK);
	assert_int_equal(run((const uint8_t[]){0x08}, 1, NULL, NULL), CTAP2_OK);
	assert_int_equal(run((const uint8_t[]){0x08}, 1, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
}

static void reset_needs_window_and_touch(void **state)
{
	uint8_t master[32];

	tt_boot();
	memcpy(master, store_st.master, 32);
	thal_now = 500;
	assert_int_equal(run((const uint8_t[]){0x07}, 1, NULL, NULL),
			 CTAP2_ERR_USER_ACTION_TIMEOUT);
	assert_memory_equal(store_st.master, master, 32);
	thal_now = 10000;
	thal_auto_touch = 1;
	assert_int_equal(run((const uint8_t[]){0x07}, 1, NULL, NULL), CTAP2_ERR_NOT_ALLOWED);
	assert_int_equal(tt_reboot(), 0);
	thal_auto_touch = 1;
	assert_int_equal(run((const uint8_t[]){0x07}, 1, NULL, NULL), CTAP2_OK);
	assert_memory_not_equal(store_st.master, master, 32);
}

static void rng_failure_fails_the_request(void **state)
{
	uint8_t req[512];

	tt_boot();
	thal_auto_touch = 1;
	thal_rng_fail = 1;
	assert_int_equal(run(req, mc(req, sizeof(req), &(struct mc_opts){.user = "u"}), NULL, NULL),
			 CTAP1_ERR_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(key_store_full_after_all_slots),
	    cmocka_unit_test(excluded_credential_is_refused),
	    cmocka_unit_test(unsupported_algorithms_and_options),
	    cmocka_unit_test(empty_pin_param_probes_for_a_touch),
	    cmocka_unit_test(get_next_assertion_expires),
	    cmocka_unit_test(reset_needs_window_and_touch),
	    cmocka_unit_test(rng_failure_fails_the_request),
	};
	int rc = cmocka_run_group_tests_name("token_ctap2", tests, NULL, NULL);

	thal_free();
	return rc;
}
