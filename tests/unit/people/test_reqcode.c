/*
 * test_reqcode.c - unit tests of the request code (lib/common/reqcode.c): the documented
 * derivation, its alphabet, and refusal of malformed hashes and typed codes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "reqcode.h"

/* Vectors computed independently (Python hashlib) from the derivation in reqcode.h. */
static void derivation_matches_the_documented_vectors(void **state)
{
	char code[PCL_REQUEST_CODE_LEN];

	(void)state;
	assert_int_equal(pcl_request_code("kV9XZ/9gqRgm1kUJy6e2OBNwRDfyWcqmmeaUwG7uOeQ=", code), 0);
	assert_string_equal(code, "GV59-CHKQ");
	assert_int_equal(pcl_request_code("A", code), 0);
	assert_string_equal(code, "N33W-7HXC");
}

static void different_devices_get_different_codes(void **state)
{
	char a[PCL_REQUEST_CODE_LEN], b[PCL_REQUEST_CODE_LEN];

	(void)state;
	assert_int_equal(pcl_request_code("4xWRwHQrCKR0FxnHxS8y6JW0og6rj7xaxFRcLeJFxcA=", a), 0);
	assert_int_equal(pcl_request_code("rV9bfLq7c2eA4tYjVjwO4bxhm+y6GgZpl9J60L0fBkY=", b), 0);
	assert_string_not_equal(a, b);
}

static void codes_use_only_unambiguous_digits(void **state)
{
	char code[PCL_REQUEST_CODE_LEN], hash[8];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		snprintf(hash, sizeof(hash), "h%d", i);
		assert_int_equal(pcl_request_code(hash, code), 0);
		assert_int_equal(strlen(code), 9);
		assert_int_equal(code[4], '-');
		for (int k = 0; k < 9; k++)
			if (k != 4)
				assert_null(strchr("ILOUilou", code[k]));
	}
}

static void malformed_hashes_are_refused(void **state)
{
	char code[PCL_REQUEST_CODE_LEN], longer[200];

	(void)state;
	assert_int_equal(pcl_request_code(NULL, code), -EINVAL);
	assert_int_equal(pcl_request_code("", code), -EINVAL);
	assert_string_equal(code, "");
	assert_int_equal(pcl_request_code("abc\n", code), -EINVAL);
	assert_int_equal(pcl_request_code("a b", code), -EINVAL);
	assert_int_equal(pcl_request_code("\x1b[31m", code), -EINVAL);
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(pcl_request_code(longer, code), -EINVAL);
	longer[128] = '\0';
	assert_int_equal(pcl_request_code(longer, code), 0);
}

static void typed_codes_are_normalised(void **state)
{
	char code[PCL_REQUEST_CODE_LEN];

	(void)state;
	assert_int_equal(pcl_request_code_normalise("gv59chkq", code), 0);
	assert_string_equal(code, "GV59-CHKQ");
	assert_int_equal(pcl_request_code_normalise(" GV59 - CHKQ ", code), 0);
	assert_string_equal(code, "GV59-CHKQ");
	/* Crockford look-alikes: I and L read as 1, O as 0. */
	assert_int_equal(pcl_request_code_normalise("iLo0-AAAA", code), 0);
	assert_string_equal(code, "1100-AAAA");
}

static void malformed_typed_codes_are_refused(void **state)
{
	char code[PCL_REQUEST_CODE_LEN];

	(void)state;
	assert_int_equal(pcl_request_code_normalise(NULL, code), -EINVAL);
	assert_int_equal(pcl_request_code_normalise("GV59-CHK", code), -EINVAL);
	assert_int_equal(pcl_request_code_normalise("GV59-CHKQQ", code), -EINVAL);
	assert_int_equal(pcl_request_code_normalise("GV59-CHKU", code), -EINVAL);
	assert_int_equal(pcl_request_code_normalise("GV59_CHKQ", code), -EINVAL);
	assert_string_equal(code, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(derivation_matches_the_documented_vectors),
	    cmocka_unit_test(different_devices_get_different_codes),
	    cmocka_unit_test(codes_use_only_unambiguous_digits),
	    cmocka_unit_test(malformed_hashes_are_refused),
	    cmocka_unit_test(typed_codes_are_normalised),
	    cmocka_unit_test(malformed_typed_codes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
