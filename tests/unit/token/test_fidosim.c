/*
 * test_fidosim.c: lib/fidosim path handling and failure without a simulator.
 * Linked by the token unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fido.h>

#include "fidosim.h"

static void sim_paths_are_recognised(void **state)
{
	assert_true(fidosim_is_sim_path("sim:/run/portcullis/token.sock"));
	assert_true(fidosim_is_sim_path("sim:relative.sock"));
	assert_false(fidosim_is_sim_path("sim:"));
	assert_false(fidosim_is_sim_path("/dev/hidraw0"));
	assert_false(fidosim_is_sim_path("SIM:/x"));
	assert_false(fidosim_is_sim_path(NULL));
}

static void open_fails_cleanly_without_a_simulator(void **state)
{
	fido_dev_t *d = fido_dev_new();

	assert_non_null(d);
	assert_int_not_equal(fidosim_dev_open(d, "sim:/nonexistent/token.sock"), FIDO_OK);
	assert_int_not_equal(fidosim_dev_open(d, "/nonexistent/hidraw"), FIDO_OK);
	assert_int_equal(fidosim_dev_open(NULL, "sim:/x"), FIDO_ERR_INVALID_ARGUMENT);
	assert_int_equal(fidosim_dev_open(d, NULL), FIDO_ERR_INVALID_ARGUMENT);
	fido_dev_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sim_paths_are_recognised),
	    cmocka_unit_test(open_fails_cleanly_without_a_simulator),
	};

	fido_init(0);
	return cmocka_run_group_tests_name("token_fidosim", tests, NULL, NULL);
}
