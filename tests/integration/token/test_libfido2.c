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

static int retries(fido_dev_t *d)
{
	int n = -1;

	assert_int_equal(fido_dev_get_retry_count(d, &n), FIDO_OK);
	return n;
}

static void restart(struct simproc *s, fido_dev_t **d, const char *const *args)
{
	close_dev(d);
	simproc_stop(s);
	simproc_start(s, args);
	*d = open_dev(s);
}

static void pin_set_change_wrong_and_lockout(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;
	int i;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_int_equal(fido_dev_set_pin(d, "12", NULL), FIDO_ERR_PIN_POLICY_VIOLATION);
	assert_int_equal(fido_dev_set_pin(d, "1234", NULL), FIDO_OK);
	assert_true(fido_dev_has_pin(d));
	assert_int_equal(retries(d), 8);
	/* setting it again is not allowed: change needs the old PIN */
	assert_int_equal(fido_dev_set_pin(d, "4321", NULL), FIDO_ERR_NOT_ALLOWED);
	/* with a PIN set, make credential needs it */
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, NULL, &c), FIDO_ERR_PIN_REQUIRED);
	fido_cred_free(&c);
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, "1234", &c), FIDO_OK);
	assert_true(fido_cred_flags(c) & 0x04); /* UV: PIN verified */
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	assert_int_equal(get_assert(d, RP, c, "1234", FIDO_OPT_TRUE, &a), FIDO_OK);
	assert_true(fido_assert_flags(a, 0) & 0x04);
	verify_assert(a, 0, c);
	fido_assert_free(&a);
	/* a wrong PIN costs a retry; the right one restores them */
	assert_int_equal(get_assert(d, RP, c, "9999", FIDO_OPT_TRUE, &a), FIDO_ERR_PIN_INVALID);
	fido_assert_free(&a);
	assert_int_equal(retries(d), 7);
	assert_int_equal(fido_dev_set_pin(d, "5678", "0000"), FIDO_ERR_PIN_INVALID);
	assert_int_equal(retries(d), 6);
	assert_int_equal(fido_dev_set_pin(d, "5678", "1234"), FIDO_OK);
	assert_int_equal(retries(d), 8);
	assert_int_equal(get_assert(d, RP, c, "1234", FIDO_OPT_TRUE, &a), FIDO_ERR_PIN_INVALID);
	fido_assert_free(&a);
	assert_int_equal(get_assert(d, RP, c, "5678", FIDO_OPT_TRUE, &a), FIDO_OK);
	fido_assert_free(&a);
	/* three wrong PINs in one power cycle block PIN entry until the next one */
	for (i = 0; i < 2; i++)
		assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_AUTH_BLOCKED);
	assert_int_equal(fido_dev_set_pin(d, "1111", "5678"), FIDO_ERR_PIN_AUTH_BLOCKED);
	assert_int_equal(retries(d), 5);
	restart(s, &d, auto_touch);
	assert_int_equal(retries(d), 5); /* persistent across power cycles */
	for (i = 0; i < 2; i++)
		assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_AUTH_BLOCKED);
	restart(s, &d, auto_touch);
	assert_int_equal(retries(d), 2);
	assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_INVALID);
	assert_int_equal(fido_dev_set_pin(d, "1111", "0000"), FIDO_ERR_PIN_BLOCKED);
	assert_int_equal(retries(d), 0);
	/* blocked: even the right PIN is refused */
	assert_int_equal(get_assert(d, RP, c, "5678", FIDO_OPT_TRUE, &a), FIDO_ERR_PIN_BLOCKED);
	fido_assert_free(&a);
	fido_cred_free(&c);
	close_dev(&d);
}

static void reset_only_within_window_after_power_up(void **state)
{
	struct simproc *s = *state;
	const char *const late[] = {"--auto-touch", "--reset-window", "0", NULL};
	const char *const early[] = {"--auto-touch", "--reset-window", "5000", NULL};
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;

	simproc_start(s, late);
	d = open_dev(s);
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, NULL, &c), FIDO_OK);
	assert_int_equal(fido_dev_set_pin(d, "1234", NULL), FIDO_OK);
	assert_int_equal(fido_dev_reset(d), FIDO_ERR_NOT_ALLOWED);
	assert_true(fido_dev_has_pin(d));
	restart(s, &d, early);
	assert_int_equal(fido_dev_reset(d), FIDO_OK);
	close_dev(&d);
	d = open_dev(s);
	assert_false(fido_dev_has_pin(d));
	/* the old credential was wrapped under the old master secret */
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a), FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	fido_cred_free(&c);
	close_dev(&d);
}

static void cred_protect_limits_use_without_pin(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c2, *c3;
	fido_assert_t *a;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_int_equal(make_cred(d, RP, "two", 1, FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID, NULL, &c2),
			 FIDO_OK);
	assert_int_equal(fido_cred_prot(c2), FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID);
	assert_int_equal(fido_cred_verify_self(c2), FIDO_OK);
	assert_int_equal(make_cred(d, RP, "three", 1, FIDO_CRED_PROT_UV_REQUIRED, NULL, &c3),
			 FIDO_OK);
	assert_int_equal(fido_cred_prot(c3), FIDO_CRED_PROT_UV_REQUIRED);
	/* no PIN: neither is discoverable */
	assert_int_equal(get_assert(d, RP, NULL, NULL, FIDO_OPT_TRUE, &a), FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	/* by ID: level 2 works, level 3 does not */
	assert_int_equal(get_assert(d, RP, c2, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	verify_assert(a, 0, c2);
	fido_assert_free(&a);
	assert_int_equal(get_assert(d, RP, c3, NULL, FIDO_OPT_TRUE, &a), FIDO_ERR_NO_CREDENTIALS);
	fido_assert_free(&a);
	/* with the PIN both are found, newest first */
	assert_int_equal(fido_dev_set_pin(d, "1234", NULL), FIDO_OK);
	assert_int_equal(get_assert(d, RP, NULL, "1234", FIDO_OPT_TRUE, &a), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 2);
	verify_assert(a, 0, c3);
	verify_assert(a, 1, c2);
	fido_assert_free(&a);
	fido_cred_free(&c2);
	fido_cred_free(&c3);
	close_dev(&d);
}

static void discoverable_credentials_and_get_next_assertion(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c1, *c2, *c3, *other;
	fido_assert_t *a;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_int_equal(make_cred(d, RP, "alice", 1, 0, NULL, &c1), FIDO_OK);
	assert_int_equal(make_cred(d, RP, "carol", 1, 0, NULL, &c2), FIDO_OK);
	assert_int_equal(make_cred(d, "elsewhere.test", "alice", 1, 0, NULL, &other), FIDO_OK);
	assert_int_equal(get_assert(d, RP, NULL, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 2);
	assert_int_equal(fido_assert_user_id_len(a, 0), 5);
	assert_memory_equal(fido_assert_user_id_ptr(a, 0), "carol", 5);
	assert_memory_equal(fido_assert_user_id_ptr(a, 1), "alice", 5);
	verify_assert(a, 0, c2);
	verify_assert(a, 1, c1);
	assert_true(fido_assert_sigcount(a, 1) > fido_assert_sigcount(a, 0));
	fido_assert_free(&a);
	/* same user at the same RP replaces the slot */
	assert_int_equal(make_cred(d, RP, "alice", 1, 0, NULL, &c3), FIDO_OK);
	assert_int_equal(get_assert(d, RP, NULL, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	assert_int_equal(fido_assert_count(a), 2);
	verify_assert(a, 0, c3);
	fido_assert_free(&a);
	fido_cred_free(&c1);
	fido_cred_free(&c2);
	fido_cred_free(&c3);
	fido_cred_free(&other);
	close_dev(&d);
}

static void counter_is_monotonic_across_restarts(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;
	uint32_t last;
	int i;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, NULL, &c), FIDO_OK);
	last = fido_cred_sigcount(c);
	for (i = 0; i < 4; i++) {
		assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
		verify_assert(a, 0, c);
		assert_true(fido_assert_sigcount(a, 0) > last);
		last = fido_assert_sigcount(a, 0);
		fido_assert_free(&a);
		restart(s, &d, auto_touch);
	}
	fido_cred_free(&c);
	close_dev(&d);
}

static void u2f_register_and_authenticate_through_ctap1(void **state)
{
	struct simproc *s = *state;
	fido_dev_t *d;
	fido_cred_t *c;
	fido_assert_t *a;

	simproc_start(s, auto_touch);
	d = open_dev(s);
	fido_dev_force_u2f(d);
	assert_int_equal(make_cred(d, RP, "alice", 0, 0, NULL, &c), FIDO_OK);
	assert_string_equal(fido_cred_fmt(c), "fido-u2f");
	assert_true(fido_cred_x5c_len(c) > 0);
	assert_int_equal(fido_cred_verify(c), FIDO_OK);
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	verify_assert(a, 0, c);
	fido_assert_free(&a);
	close_dev(&d);
	/* the U2F key handle also works over CTAP2 */
	d = open_dev(s);
	assert_int_equal(get_assert(d, RP, c, NULL, FIDO_OPT_TRUE, &a), FIDO_OK);
	verify_assert(a, 0, c);
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
	    cmocka_unit_test_setup_teardown(pin_set_change_wrong_and_lockout, setup, teardown),
	    cmocka_unit_test_setup_teardown(reset_only_within_window_after_power_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(cred_protect_limits_use_without_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(discoverable_credentials_and_get_next_assertion, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(counter_is_monotonic_across_restarts, setup, teardown),
	    cmocka_unit_test_setup_teardown(u2f_register_and_authenticate_through_ctap1, setup,
					    teardown),
	};

	fido_init(0);
	return cmocka_run_group_tests_name("token_libfido2", tests, NULL, NULL);
}
