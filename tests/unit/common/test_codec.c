/*
 * test_codec.c - unit tests of the hex and base64 codecs: each round-trips every length
 * and byte value, and the decoders refuse every other spelling of a value (upper-case
 * hex, odd lengths, base64 without padding, with white space, with stray bits under the
 * padding, with '=' inside) and bytes that do not fit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"
#include "hex.h"

static void hex_round_trips_and_is_lower_case(void **state)
{
	uint8_t in[256], out[256];
	char text[513];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= sizeof(in); n += 17) {
		pcl_hex_encode(text, in, n);
		assert_int_equal(strlen(text), 2 * n);
		assert_int_equal(strspn(text, "0123456789abcdef"), 2 * n);
		assert_int_equal(pcl_hex_decode(out, n, text, 2 * n), 0);
		assert_memory_equal(out, in, n);
	}
	pcl_hex_encode(text, (const uint8_t[]){0x00, 0x0f, 0xa0, 0xff}, 4);
	assert_string_equal(text, "000fa0ff");
}

static void hex_decode_refuses_other_spellings(void **state)
{
	uint8_t out[4] = {1, 2, 3, 4};

	(void)state;
	assert_int_equal(pcl_hex_decode(out, 2, "00FF", 4), -EINVAL);
	assert_memory_equal(out, "\0\0\3\4", 4); /* wiped on failure: it may be a key */
	assert_int_equal(pcl_hex_decode(out, 2, "00ff0", 5), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, "00f", 3), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, " 0ff", 4), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, "+0ff", 4), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, "0g00", 4), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, "00\0f", 4), -EINVAL);
	assert_int_equal(pcl_hex_decode(out, 2, "0a1b", 4), 0);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0x1b);
	assert_int_equal(pcl_hex_digit('F'), 15);
	assert_int_equal(pcl_hex_digit('a'), 10);
	assert_int_equal(pcl_hex_digit('9'), 9);
	assert_int_equal(pcl_hex_digit('g'), -1);
}

static void b64_round_trips_every_length(void **state)
{
	uint8_t in[64], out[64];
	char text[PCL_B64_LEN(64) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t n = 1; n <= sizeof(in); n++) {
		int l = pcl_b64_encode(in, n, text, sizeof(text));

		assert_int_equal(l, PCL_B64_LEN(n));
		assert_int_equal(strlen(text), (size_t)l);
		memset(out, 0, sizeof(out));
		assert_int_equal(pcl_b64_decode(text, (size_t)l, out, sizeof(out)), (int)n);
		assert_memory_equal(out, in, n);
	}
	assert_int_equal(pcl_b64_encode("hi", 2, text, sizeof(text)), 4);
	assert_string_equal(text, "aGk=");
	assert_int_equal(pcl_b64_encode("\xfb\xff", 2, text, sizeof(text)), 4);
	assert_string_equal(text, "+/8=");
	assert_int_equal(pcl_b64_encode("hi", 2, text, 4), -ENOSPC);
}

static void b64_decode_refuses_every_other_spelling(void **state)
{
	static const char *const bad[] = {
	    "",	    "aGk",  "aGk==",	"a=k=", "aG*=", "aG k", "aGk=\n", "aGl=", /* stray bits */
	    "aR==", "=aGk", "aGk=aGk=", "a===", "====", "aG-_", "aGk\0",
	};
	uint8_t out[8];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);

		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			len = 4; /* a NUL inside */
		assert_int_equal(pcl_b64_decode(bad[i], len, out, sizeof(out)), -EINVAL);
	}
	assert_int_equal(pcl_b64_decode("aQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'i');
	assert_int_equal(pcl_b64_decode("aA==", 4, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'h');
	memcpy(out, "xyz", 3);
	assert_int_equal(pcl_b64_decode("aGk=", 4, out, 1), -ENOSPC);
	assert_memory_equal(out, "xyz", 3); /* untouched when it does not fit */
	assert_int_equal(pcl_b64_decode("aGk=", 4, out, 2), 2);
	assert_memory_equal(out, "hi", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hex_round_trips_and_is_lower_case),
	    cmocka_unit_test(hex_decode_refuses_other_spellings),
	    cmocka_unit_test(b64_round_trips_every_length),
	    cmocka_unit_test(b64_decode_refuses_every_other_spelling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
