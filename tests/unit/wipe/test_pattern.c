/*
 * test_pattern.c - the keyed wipe pattern: deterministic from key and offset, different
 * for every block and every key, and invertible to the offset it was made for.
 */
#include "wipe.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t key1[WIPE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t key2[WIPE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 10};

static void test_same_key_and_offset_give_same_bytes(void **state)
{
	struct wipe_pattern *a, *b;
	uint8_t x[4096], y[4096];

	assert_int_equal(wipe_pattern_new(&a, key1), 0);
	assert_int_equal(wipe_pattern_new(&b, key1), 0);
	assert_int_equal(wipe_pattern_fill(a, 1 << 20, x, sizeof(x)), 0);
	assert_int_equal(wipe_pattern_fill(b, 1 << 20, y, sizeof(y)), 0);
	assert_memory_equal(x, y, sizeof(x));
	/* Refilling with the same generator gives the same bytes again. */
	assert_int_equal(wipe_pattern_fill(a, 1 << 20, y, sizeof(y)), 0);
	assert_memory_equal(x, y, sizeof(x));
	wipe_pattern_free(&a);
	wipe_pattern_free(&b);
	assert_null(a);
}

static void test_pattern_is_position_addressed(void **state)
{
	struct wipe_pattern *p;
	uint8_t *whole = malloc(65536), part[512];

	assert_int_equal(wipe_pattern_new(&p, key1), 0);
	assert_int_equal(wipe_pattern_fill(p, 0, whole, 65536), 0);
	/* A fill starting mid-device equals the same slice of a fill from 0. */
	assert_int_equal(wipe_pattern_fill(p, 8192 + 512, part, sizeof(part)), 0);
	assert_memory_equal(part, whole + 8192 + 512, sizeof(part));
	wipe_pattern_free(&p);
	free(whole);
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void test_every_unit_differs(void **state)
{
	struct wipe_pattern *p;
	size_t n = 1 << 20;
	uint8_t *buf = malloc(n);

	assert_int_equal(wipe_pattern_new(&p, key1), 0);
	assert_int_equal(wipe_pattern_fill(p, 0, buf, n), 0);
	/* Blocks 0 and 1 differ, and no 16-byte unit repeats anywhere in 1 MiB. */
	assert_memory_not_equal(buf, buf + 512, 512);
	qsort(buf, n / 16, 16, cmp16);
	for (size_t i = 16; i < n; i += 16)
		assert_memory_not_equal(buf + i - 16, buf + i, 16);
	wipe_pattern_free(&p);
	free(buf);
}

static void test_different_keys_differ(void **state)
{
	struct wipe_pattern *a, *b;
	uint8_t x[512], y[512];

	assert_int_equal(wipe_pattern_new(&a, key1), 0);
	assert_int_equal(wipe_pattern_new(&b, key2), 0);
	assert_int_equal(wipe_pattern_fill(a, 0, x, sizeof(x)), 0);
	assert_int_equal(wipe_pattern_fill(b, 0, y, sizeof(y)), 0);
	assert_memory_not_equal(x, y, sizeof(x));
	wipe_pattern_free(&a);
	wipe_pattern_free(&b);
}

static void test_locate_recovers_the_offset(void **state)
{
	struct wipe_pattern *p, *other;
	uint8_t buf[64], zero[16] = {0};
	uint64_t off = 0;
	const uint64_t big = 64ull << 30; /* 64 GiB into the device */

	assert_int_equal(wipe_pattern_new(&p, key1), 0);
	assert_int_equal(wipe_pattern_new(&other, key2), 0);
	assert_int_equal(wipe_pattern_fill(p, big, buf, sizeof(buf)), 0);
	assert_int_equal(wipe_pattern_locate(p, buf + 32, &off), 0);
	assert_true(off == big + 32);
	/* Zeros and another key's pattern are not ours. */
	assert_int_equal(wipe_pattern_locate(p, zero, &off), -ENOENT);
	assert_int_equal(wipe_pattern_locate(other, buf, &off), -ENOENT);
	wipe_pattern_free(&p);
	wipe_pattern_free(&other);
}

static void test_unaligned_offset_is_refused(void **state)
{
	struct wipe_pattern *p;
	uint8_t buf[32];

	assert_int_equal(wipe_pattern_new(&p, key1), 0);
	assert_int_equal(wipe_pattern_fill(p, 8, buf, sizeof(buf)), -EINVAL);
	wipe_pattern_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_key_and_offset_give_same_bytes),
	    cmocka_unit_test(test_pattern_is_position_addressed),
	    cmocka_unit_test(test_every_unit_differs),
	    cmocka_unit_test(test_different_keys_differ),
	    cmocka_unit_test(test_locate_recovers_the_offset),
	    cmocka_unit_test(test_unaligned_offset_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
