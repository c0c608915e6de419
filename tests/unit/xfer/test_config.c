/*
 * test_config.c - unit tests of the transfer-logging options, the clamd reply
 * parser and the first-insertion notice. Test program only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "xfer.h"

static int parse(struct xfer_config *c, const char *text, char *msg, size_t len)
{
	struct pcl_diag d = {0};
	xfer_config_defaults(c);
	int rc = xfer_config_parse(c, text, strlen(text), "xfer.conf", &d);
	pcl_diag_format(&d, msg, len);
	return rc;
}

static void defaults_fail_closed_without_scanning(void **state)
{
	struct xfer_config c;
	xfer_config_defaults(&c);
	assert_int_equal(c.on_overflow, XFER_OVERFLOW_FAIL_CLOSED);
	assert_string_equal(c.clamd_socket, "");
	assert_false(c.pseudonymise);
	assert_false(c.unlimited_queue);
}

static void full_file_is_applied(void **state)
{
	struct xfer_config c;
	char msg[600];
	const char *text = "# policy\n"
			   "on-overflow = continue\n"
			   "  clamd-socket=/run/clamav/clamd.ctl  \n"
			   "\n"
			   "retention-days = 180\n"
			   "pseudonymise = yes\n"
			   "pseudonymise-key = 000102030405060708090a0b0c0d0e0f\n"
			   "hash-threads = 4\r\n"
			   "unlimited-queue = yes";
	assert_int_equal(parse(&c, text, msg, sizeof(msg)), 0);
	assert_int_equal(c.on_overflow, XFER_OVERFLOW_CONTINUE);
	assert_string_equal(c.clamd_socket, "/run/clamav/clamd.ctl");
	assert_int_equal(c.retention_days, 180);
	assert_true(c.pseudonymise);
	assert_int_equal(c.pseudo_key_len, 16);
	assert_int_equal(c.pseudo_key[15], 0x0f);
	assert_int_equal(c.hash_threads, 4);
	assert_true(c.unlimited_queue);
	assert_int_equal(xfer_config_check(&c, "xfer.conf", NULL), 0);
	xfer_config_wipe(&c);
	assert_int_equal(c.pseudo_key_len, 0);
	assert_int_equal(c.pseudo_key[15], 0);
}

static void unknown_key_names_file_and_line(void **state)
{
	struct xfer_config c;
	char msg[600];
	assert_int_equal(parse(&c, "retention-days = 30\n\nfoo = bar\n", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "xfer.conf:3: unknown option 'foo'");
}

static void bad_values_name_the_key(void **state)
{
	static const char *const cases[][2] = {
	    {"on-overflow = maybe\n", "xfer.conf:1: on-overflow: expected fail-closed or continue"},
	    {"clamd-socket = relative.sock\n", "xfer.conf:1: clamd-socket"},
	    {"retention-days = 0\n", "xfer.conf:1: retention-days"},
	    {"retention-days = 12x\n", "xfer.conf:1: retention-days"},
	    {"hash-threads = -1\n", "xfer.conf:1: hash-threads"},
	    {"pseudonymise-key = 0011\n", "xfer.conf:1: pseudonymise-key"},
	    {"pseudonymise-key = zz0102030405060708090a0b0c0d0e0f\n",
	     "xfer.conf:1: pseudonymise-key"},
	    {"pseudonymise = perhaps\n", "xfer.conf:1: pseudonymise"},
	    {"just words\n", "xfer.conf:1: expected 'key = value'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xfer_config c;
		char msg[600];
		assert_int_equal(parse(&c, cases[i][0], msg, sizeof(msg)), -EINVAL);
		if (strncmp(msg, cases[i][1], strlen(cases[i][1])) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, msg, cases[i][1]);
	}
}

static void pseudonymise_needs_a_key(void **state)
{
	struct xfer_config c;
	char msg[600];
	assert_int_equal(parse(&c, "pseudonymise = yes\n", msg, sizeof(msg)), 0);
	struct pcl_diag d = {0};
	assert_int_equal(xfer_config_check(&c, "xfer.conf", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "pseudonymise-key"));
}

static void nul_in_line_is_rejected(void **state)
{
	struct xfer_config c;
	struct pcl_diag d = {0};
	xfer_config_defaults(&c);
	const char text[] = "retention-days = 3\0 0\n";
	assert_int_equal(xfer_config_parse(&c, text, sizeof(text) - 1, "x", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "NUL"));
}

static void clamd_ok_is_clean(void **state)
{
	char sig[64];
	const char r[] = "fd[12]: OK";
	assert_int_equal(xfer_clamd_parse_reply(r, sizeof(r), sig, sizeof(sig)), 0);
	assert_string_equal(sig, "");
	assert_int_equal(xfer_clamd_parse_reply("stream: OK\n", 11, sig, sizeof(sig)), 0);
}

static void clamd_found_gives_signature(void **state)
{
	char sig[64];
	const char *r = "fd[12]: Portcullis.Test.Hit.UNOFFICIAL FOUND";
	assert_int_equal(xfer_clamd_parse_reply(r, strlen(r), sig, sizeof(sig)), 1);
	assert_string_equal(sig, "Portcullis.Test.Hit.UNOFFICIAL");
	char small[5];
	assert_int_equal(xfer_clamd_parse_reply(r, strlen(r), small, sizeof(small)), 1);
	assert_string_equal(small, "Port");
}

static void clamd_errors_and_garbage_are_errors(void **state)
{
	char sig[64];
	static const char *const bad[] = {
	    "fd[12]: lstat() failed: No such file or directory. ERROR",
	    "OK",
	    "",
	    "fd[12]: ",
	    "fd[12]:  FOUND",
	    "fd[1]: a\x01b FOUND",
	    "fd[1]: OKAY",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xfer_clamd_parse_reply(bad[i], strlen(bad[i]), sig, sizeof(sig)),
				 -EPROTO);
	const char embedded[] = "fd[1]: O\0K";
	assert_int_equal(xfer_clamd_parse_reply(embedded, sizeof(embedded) - 1, sig, sizeof(sig)),
			 -EPROTO);
}

static void clamd_unreachable_socket_is_an_error(void **state)
{
	char sig[64];
	int rc = xfer_clamd_scan_fd("/nonexistent/clamd.sock", 500, 0, sig, sizeof(sig));
	assert_true(rc < 0);
}

static void proc_status_gives_real_and_effective_uid(void **state)
{
	const char *st = "Name:\tcp\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\n"
			 "Uid:\t1001\t0\t0\t0\nGid:\t100\t100\t100\t100\n";
	uid_t u = 7, e = 7;
	assert_int_equal(xfer_parse_proc_status(st, strlen(st), &u, &e), 0);
	assert_int_equal(u, 1001);
	assert_int_equal(e, 0);
}

static void proc_status_without_uid_line_is_an_error(void **state)
{
	static const char *const bad[] = {
	    "Name:\tcp\nGid:\t1\t1\t1\t1\n",
	    "Name:\tx Uid:\t0\t0\n",	    /* not at a line start */
	    "Uid:\t12\n",		    /* no effective uid */
	    "Uid:\t99999999999\t0\t0\t0\n", /* out of range */
	    "Uid:\t-1\t0\n",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uid_t u, e;
		assert_int_equal(xfer_parse_proc_status(bad[i], strlen(bad[i]), &u, &e), -EPROTO);
	}
	uid_t u, e;
	const char cut[] = "Uid:\t5\t6\t0\t0\n";
	assert_int_equal(xfer_parse_proc_status(cut, 6, &u, &e), -EPROTO); /* "Uid:\t5" */
}

static void notice_states_logging_and_retention(void **state)
{
	char buf[1024];
	int n = xfer_notice_text(90, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_non_null(strstr(buf, "logged"));
	assert_non_null(strstr(buf, "90 days"));
	assert_non_null(strstr(buf, "contents are not recorded"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_fail_closed_without_scanning),
	    cmocka_unit_test(full_file_is_applied),
	    cmocka_unit_test(unknown_key_names_file_and_line),
	    cmocka_unit_test(bad_values_name_the_key),
	    cmocka_unit_test(pseudonymise_needs_a_key),
	    cmocka_unit_test(nul_in_line_is_rejected),
	    cmocka_unit_test(clamd_ok_is_clean),
	    cmocka_unit_test(clamd_found_gives_signature),
	    cmocka_unit_test(clamd_errors_and_garbage_are_errors),
	    cmocka_unit_test(clamd_unreachable_socket_is_an_error),
	    cmocka_unit_test(proc_status_gives_real_and_effective_uid),
	    cmocka_unit_test(proc_status_without_uid_line_is_an_error),
	    cmocka_unit_test(notice_states_logging_and_retention),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
