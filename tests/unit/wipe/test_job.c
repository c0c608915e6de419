/*
 * test_job.c - the job text handed to the wiper: round trip, and every malformed field
 * refused with a diagnostic naming the line and field.
 */
#include "wipe.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define KEYHEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void test_job_round_trips(void **state)
{
	struct wipe_job a = {.size = 64 << 20, .chunk = 1 << 20, .block = 4096, .discard = 1}, b;
	char buf[256];
	struct pcl_diag d = {0};
	int n;

	for (int i = 0; i < WIPE_KEY_LEN; i++)
		a.key[i] = (uint8_t)(i * 7);
	n = wipe_job_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(wipe_job_parse(buf, (size_t)n, &b, &d), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(wipe_job_format(&a, buf, 40), -ENOSPC);
}

static void test_defaults_apply(void **state)
{
	const char *t = "version=1\nkey=" KEYHEX "\nsize=1048576\n";
	struct wipe_job j;

	assert_int_equal(wipe_job_parse(t, strlen(t), &j, NULL), 0);
	assert_int_equal(j.block, 512);
	assert_int_equal(j.chunk, WIPE_CHUNK_DEFAULT);
	assert_int_equal(j.discard, 0);
	assert_int_equal(j.key[31], 0x1f);
}

static void expect_error(const char *t, unsigned line, const char *needle)
{
	struct wipe_job j;
	struct pcl_diag d = {0};

	memset(&j, 0x55, sizeof(j));
	assert_int_equal(wipe_job_parse(t, strlen(t), &j, &d), -EINVAL);
	assert_int_equal(d.line, line);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("diag '%s' lacks '%s'", d.msg, needle);
	/* The partially parsed key never survives a failure. */
	for (size_t i = 0; i < sizeof(j.key); i++)
		assert_int_equal(j.key[i], 0);
}

static void test_malformed_jobs_are_refused(void **state)
{
	expect_error("version=1\nkey=" KEYHEX "\nsize=12x\n", 3, "size: bad number");
	expect_error("version=1\nkey=" KEYHEX "\nsize=1\nsize=2\n", 4, "duplicate field 'size'");
	expect_error("version=1\nkey=" KEYHEX "\ncolour=blue\n", 3, "unknown field 'colour'");
	expect_error("version=1\nkey=abc\nsize=512\n", 2, "key: expected 64 hex digits");
	expect_error("version=1\nkey=" KEYHEX "\nsize=512\nnonsense\n", 4, "expected key=value");
	expect_error("version=2\nkey=" KEYHEX "\nsize=512\n", 1, "version: unsupported");
	expect_error("version=1\nsize=512\n", 2, "missing key");
	expect_error("version=1\nkey=" KEYHEX "\nsize=1000\n", 0, "multiples");
	expect_error("version=1\nkey=" KEYHEX "\nsize=4096\nblock=1000\n", 0, "power-of-two");
	expect_error("version=1\nkey=" KEYHEX "\nsize=99999999999999999999999\n", 3, "bad number");
	expect_error("version=1\nkey=" KEYHEX "\nsize=4096\ndiscard=2\n", 4, "discard");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_job_round_trips),
	    cmocka_unit_test(test_defaults_apply),
	    cmocka_unit_test(test_malformed_jobs_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
