/*
 * test_usbdev_hash.c - cmocka tests of the USBGuard-compatible device hash.
 * The expected values were printed by Debian's usbguard 1.1.2
 * (`usbguard generate-policy` under umockdev-run) for the same inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "usbdev.h"

/* The fixtures are lower-case hex; n bytes, or an assertion failure. */
static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	assert_int_equal(pcl_hex_decode(out, n, h, strlen(h)), 0);
	return n;
}

static const char root_hub[] = "12010002090001406b1d02000106010203010902190001010080320904000001"
			       "090000000705810304000c";
static const char stick[] = "1201000200000040810767550001010203010902200001010080320904000002"
			    "080650000705810200020007050202000200";

static void test_root_hub_hash_matches_usbguard(void **state)
{
	uint8_t d[128];
	size_t n = unhex(root_hub, d);
	char h[48];

	(void)state;
	assert_int_equal(
	    usbdev_hash("xHCI Host Controller", "1d6b", "0002", "0000:00:14.0", d, n, h), 0);
	assert_string_equal(h, "eS4qZavZPoQWZl6KcqYoHFr4MU8JAU0oho6oYZvtC6k=");
	/* a kernel update changes a root hub's bcdDevice, not its hash */
	d[12] = 0x02;
	d[13] = 0x06;
	assert_int_equal(
	    usbdev_hash("xHCI Host Controller", "1d6b", "0002", "0000:00:14.0", d, n, h), 0);
	assert_string_equal(h, "eS4qZavZPoQWZl6KcqYoHFr4MU8JAU0oho6oYZvtC6k=");
}

static void test_stick_hash_matches_usbguard(void **state)
{
	uint8_t d[128];
	size_t n = unhex(stick, d);
	char h[48];

	(void)state;
	assert_int_equal(
	    usbdev_hash("Cruzer Blade", "0781", "5567", "4C530001230122111234", d, n, h), 0);
	assert_string_equal(h, "/rPBc/FvUebd6kfBhSU/BJ6qkBiw8P7WQWfjvMZoYQE=");
	/* any field of the identity changes it */
	assert_int_equal(
	    usbdev_hash("Cruzer Blade", "0781", "5567", "4C530001230122111235", d, n, h), 0);
	assert_string_not_equal(h, "/rPBc/FvUebd6kfBhSU/BJ6qkBiw8P7WQWfjvMZoYQE=");
	d[12] ^= 1; /* bcdDevice of a non-root-hub device counts */
	assert_int_equal(
	    usbdev_hash("Cruzer Blade", "0781", "5567", "4C530001230122111234", d, n, h), 0);
	assert_string_not_equal(h, "/rPBc/FvUebd6kfBhSU/BJ6qkBiw8P7WQWfjvMZoYQE=");
}

static void test_controller_path_hash_matches_usbguard(void **state)
{
	char h[48];

	(void)state;
	assert_int_equal(usbdev_hash_string("/devices/pci0000:00/0000:00:14.0", h), 0);
	assert_string_equal(h, "rV9bfLq7c2eA4tYjVjwO4bxhm+y6GgZpl9J60L0fBkY=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root_hub_hash_matches_usbguard),
	    cmocka_unit_test(test_stick_hash_matches_usbguard),
	    cmocka_unit_test(test_controller_path_hash_matches_usbguard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
