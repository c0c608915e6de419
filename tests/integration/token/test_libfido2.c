/*
 * test_libfido2.c: conformance of the token simulator through libfido2 (the client the
 * CLI and daemon use) over the sim: transport of lib/fidosim: GetInfo, MakeCredential
 * with self attestation, GetAssertion, user presence, ClientPIN, reset window,
 * credProtect, discoverable credentials and the signature counter across restarts.
 * Linked by the token integration tests; runs the staged simulator binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cmocka.h>
#include <fido.h>
#include <fido/es256.h>

#include "fidosim.h"
#include "simproc.h"

#define RP "portcullis.test"

static const char *const auto_touch[] = {"--auto-touch", NULL};

static fido_dev_t *open_dev(struct simproc *s)
{
	fido_dev_t *d = fido_dev_new();

	assert_non_null(d);
	assert_int_equal(fidosim_dev_open(d, s->path), FIDO_OK);
	return d;
}

static void close_dev(fido_dev_t **d)
{
	fido_dev_close(*d);
	fido_dev_free(d);
}

static void rand_bytes(unsigned char *p, size_t n)
{
	assert_int_equal(getrandom(p, n, 0), (ssize_t)n);
}

static int make_cred(fido_dev_t *d, const char *rp, const char *user, int rk, int prot,
		     const char *pin, fido_cred_t **out)
{
	fido_cred_t *c = fido_cred_new();
	unsigned char cdh[32];

	rand_bytes(cdh, sizeof(cdh));
	assert_int_equal(fido_cred_set_type(c, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)), FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, rp, "Test RP"), FIDO_OK);
	assert_int_equal(
	    fido_cred_set_user(c, (const unsigned char *)user, strlen(user), user, user, NULL),
	    FIDO_OK);
	if (rk)
		assert_int_equal(fido_cred_set_rk(c, FIDO_OPT_TRUE), FIDO_OK);
	if (prot)
		assert_int_equal(fido_cred_set_prot(c, prot), FIDO_OK);
	*out = c;
	return fido_dev_make_cred(d, c, pin);
}

/* Assert with the credential of c in the allow list (or none if c is NULL). */
static int get_assert(fido_dev_t *d, const char *rp, const fido_cred_t *c, const char *pin,
		      fido_opt_t up, fido_assert_t **out)
{
	fido_assert_t *a = fido_assert_new();
	unsigned char cdh[32];

	rand_bytes(cdh, sizeof(cdh));
	assert_int_equal(fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)), FIDO_OK);
	assert_int_equal(fido_assert_set_rp(a, rp), FIDO_OK);
	if (c)
		assert_int_equal(
		    fido_assert_allow_cred(a, fido_cred_id_ptr(c), fido_cred_id_len(c)), FIDO_OK);
	assert_int_equal(fido_assert_set_up(a, up), FIDO_OK);
	*out = a;
	return fido_dev_get_assert(d, a, pin);
}

static void verify_assert(const fido_assert_t *a, size_t idx, const fido_cred_t *c)
{
	es256_pk_t *pk = es256_pk_new();

	assert_int_equal(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c), fido_cred_pubkey_len(c)),
			 FIDO_OK);
	assert_int_equal(fido_assert_verify(a, idx, COSE_ES256, pk), FIDO_OK);
	es256_pk_free(&pk);
}

static int setup(void **state)
{
	static struct simproc s;

	simproc_setup(&s);
	*state = &s;
	return 0;
}

static int teardown(void **state)
{
	simproc_teardown(*state);
	return 0;
}

static void getinfo_reports_fido2_and_es256(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cbor_info_t *ci = fido_cbor_info_new();
	char **v;
	size_t i, n;
	int fido2 = 0;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_true(fido_dev_is_fido2(d));
	assert_int_equal(fido_dev_get_cbor_info(d, ci), FIDO_OK);
	v = fido_cbor_info_versions_ptr(ci);
	n = fido_cbor_info_versions_len(ci);
	for (i = 0; i < n; i++)
		fido2 |= strcmp(v[i], "FIDO_2_0") == 0;
	assert_true(fido2);
	assert_int_equal(fido_cbor_info_aaguid_len(ci), 16);
	assert_int_equal(fido_cbor_info_maxmsgsiz(ci), 1200);
	assert_int_equal(fido_cbor_info_algorithm_count(ci), 1);
	assert_int_equal(fido_cbor_info_algorithm_cose(ci, 0), COSE_ES256);
	assert_false(fido_dev_has_pin(d));
	fido_cbor_info_free(&ci);
	close_dev(&d);
}

static void make_credential_self_attestation_verifies_and_assertion_verifies(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, NULL, &c), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "packed");
	assert_int_equal(fido_cred_x5c_len(c), 0); /* self attestation */
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	assert_int_equal(fido_cred_id_len(c), 64);
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 1);
	assert_true(fido_assert_flags(a, 0) & 0x01); /* UP */
	verify_assert(a, 0, c);
	assert_true(fido_assert_sigcount(a, 0) > fido_cred_sigcount(c) ||
		    fido_cred_sigcount(c) == 0);
	fido_assert_free(&a);
	/* the same credential is not valid at another RP */
	assert_int_equal(get_assert(d, "other.test", c, NULL, FIDO_OPT_TRUE, &a),
			 FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	/* a tampered credential ID is refused */
	{
		fido_cred_t *bad = fido_cred_new();
		unsigned char id[64];

		memcpy(id, fido_cred_id_ptr(c), 64);
		id[20] ^= 1;
		assert_int_equal(fido_cred_set_id(bad, id, sizeof(id)), FIDO_OK);
		assert_int_equal(get_assert(d, RP, bad, NULL, FIDO_OPT_TRUE, &a),
				 FIDO_ERR_NO_CREDENTIALS);
		fido_assert_free(&a);
		fido_cred_free(&bad);
	}
	fido_cred_free(&c);
	close_dev(&d);
}

static void user_presence_needs_a_touch(void **state)
{
	struct simproc *s = *state;
	const char *const args[] = {"--up-timeout", "800", NULL};
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;

	simproc_start(s, args);
	d = open_dev(s);
	/* nobody touches: the request times out, no credential */
	assert_int_equal(make_cred(d, RP, "bob", 0, 0, NULL, &c), FIDO_ERR_USER_ACTION_TIMEOUT);
	fido_cred_free(&c);
	/* a touch while waiting: it works */
	simproc_touch_after(s, 300);
	assert_int_equal(make_cred(d, RP, "bob", 0, 0, NULL, &c), FIDO_OK);
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	/* up=false: silent assertion without a touch, UP flag clear */
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_FALSE, &a), FIDO_OK);
	assert_int_equal(fido_assert_flags(a, 0) & 0x01, 0);
	verify_assert(a, 0, c);
	fido_assert_free(&a);
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a),
			 FIDO_ERR_USER_ACTION_TIMEOUT);
	fido_assert_free(&a);
	fido_cred_free(&c);
	close_dev(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(getinfo_reports_fido2_and_es256, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		make_credential_self_attestation_verifies_and_assertion_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(user_presence_needs_a_touch, setup, teardown),
	};

	fido_init(0);
	return cmocka_run_group_tests_name("token_libfido2", tests, NULL, NULL);
}
