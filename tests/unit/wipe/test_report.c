/*
 * test_report.c - the wiper's JSON report lines: each kind round-trips, and lines a
 * compromised wiper could send (wrong types, impossible values, an "ok" that did not
 * verify everything, trailing bytes) are refused.
 */
#include "wipe.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_progress_round_trips(void **state)
{
	struct wipe_report a = {.kind = WIPE_REPORT_PROGRESS}, b;
	char line[1024];
	int n;

	a.progress.phase = WIPE_PHASE_VERIFY;
	a.progress.done = 1 << 20;
	a.progress.total = 64 << 20;
	a.progress.rate = 123456789.5;
	a.progress.eta = 12.25;
	a.progress.elapsed = 3.5;
	n = wipe_report_format(&a, line, sizeof(line));
	assert_true(n > 0 && line[n - 1] == '\n');
	assert_int_equal(wipe_report_parse(line, (size_t)n, &b, NULL), 0);
	assert_int_equal(b.kind, WIPE_REPORT_PROGRESS);
	assert_int_equal(b.progress.phase, WIPE_PHASE_VERIFY);
	assert_true(b.progress.done == a.progress.done && b.progress.total == a.progress.total);
	assert_true(b.progress.rate == 123456789.5 && b.progress.eta == 12.25);
}

static void test_result_round_trips(void **state)
{
	struct wipe_report a = {.kind = WIPE_REPORT_RESULT, .time = 1700000000}, b;
	char line[2048];
	int n;

	a.result.status = WIPE_ERR_WRAPPED;
	a.result.written = 4096;
	a.result.first_bad = 512;
	a.result.first_bad_block = 1;
	a.result.wrapped_to = 2048;
	strcpy(a.result.reason, "read back the pattern of byte 2048 \"quoted\"");
	n = wipe_report_format(&a, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(wipe_report_parse(line, (size_t)n, &b, NULL), 0);
	assert_int_equal(b.kind, WIPE_REPORT_RESULT);
	assert_int_equal(b.result.status, WIPE_ERR_WRAPPED);
	assert_true(b.result.wrapped_to == 2048 && b.result.first_bad_block == 1);
	assert_string_equal(b.result.reason, a.result.reason);
	assert_true(b.time == 1700000000);
}

static void test_start_round_trips(void **state)
{
	struct wipe_report a = {.kind = WIPE_REPORT_START, .size = 1ull << 40, .time = 5}, b;
	char line[256];
	int n = wipe_report_format(&a, line, sizeof(line));

	assert_int_equal(wipe_report_parse(line, (size_t)n, &b, NULL), 0);
	assert_true(b.kind == WIPE_REPORT_START && b.size == 1ull << 40);
}

static void expect_bad(const char *line, const char *needle)
{
	struct wipe_report r;
	struct pcl_diag d = {0};

	assert_int_equal(wipe_report_parse(line, strlen(line), &r, &d), -EINVAL);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("diag '%s' lacks '%s' for %s", d.msg, needle, line);
}

#define RES                                                                                        \
	"\"err\":0,\"written\":10,\"verified\":10,\"first_bad\":0,\"first_bad_block\":0,"          \
	"\"wrapped_to\":0,\"discarded\":false,\"write_seconds\":1,\"verify_seconds\":1,"           \
	"\"time\":1"

static void test_bad_lines_are_refused(void **state)
{
	expect_bad("", "empty");
	expect_bad("[1,2]", "not one JSON object");
	expect_bad("{\"event\":\"start\",\"size\":1,\"time\":1} trailing", "not one JSON object");
	expect_bad("{\"event\":\"start\",\"size\":\"big\",\"time\":1}", "'size'");
	expect_bad("{\"event\":\"start\",\"size\":-1,\"time\":1}", "'size': out of range");
	expect_bad("{\"event\":\"explode\"}", "unknown 'explode'");
	expect_bad("{\"event\":\"progress\",\"phase\":\"write\",\"done\":5,\"total\":4,\"rate\":1,"
		   "\"eta\":1,\"elapsed\":1}",
		   "larger than 'total'");
	expect_bad("{\"event\":\"progress\",\"phase\":\"dance\",\"done\":1,\"total\":4}",
		   "unknown 'dance'");
	expect_bad("{\"event\":\"result\",\"status\":\"great\",\"reason\":\"\"," RES "}",
		   "unknown 'great'");
	expect_bad("{\"event\":\"result\",\"status\":\"ok\",\"reason\":\"but\"," RES "}",
		   "status 'ok'");
	expect_bad("{\"event\":\"result\",\"status\":\"ok\",\"reason\":\"\",\"err\":0,"
		   "\"written\":10,\"verified\":9,\"first_bad\":0,\"first_bad_block\":0,"
		   "\"wrapped_to\":0,\"discarded\":false,\"write_seconds\":1,\"verify_seconds\":1,"
		   "\"time\":1}",
		   "short verify");
	expect_bad("{\"event\":\"result\",\"status\":\"io-error\",\"reason\":\"a\\u0007b\"," RES
		   "}",
		   "control character");
	expect_bad("{\"event\":\"result\",\"status\":\"io-error\",\"reason\":\"a\\u0000b\"," RES
		   "}",
		   "NUL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_progress_round_trips),
	    cmocka_unit_test(test_result_round_trips),
	    cmocka_unit_test(test_start_round_trips),
	    cmocka_unit_test(test_bad_lines_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
