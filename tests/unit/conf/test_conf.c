/*
 * test_conf.c - unit tests of the portcullisd.conf parser: defaults, every key,
 * and file:line diagnostics for bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"

static int parse(struct conf *c, const char *text, struct pcl_diag *d, size_t *n)
{
	conf_defaults(c);
	return conf_parse_buffer(c, "test.conf", text, strlen(text), d, 8, n);
}

static void defaults_fail_closed(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_int_equal(c.authorized_default, CONF_AUTH_NONE);
	assert_int_equal(c.present_devices, CONF_PRESENT_APPLY_POLICY);
	assert_int_equal(c.retention_months, 6);
}

static void every_key_is_parsed(void **state)
{
	struct conf c;
	struct pcl_diag d[8];
	size_t n;
	const char *text = "# council PC\n"
			   "rules = /etc/p/rules.conf\n"
			   "audit-log=/var/log/p\n"
			   "  state-dir = /var/lib/p  \n"
			   "control-socket = /run/p.sock\r\n"
			   "authorized-default = internal\n"
			   "present-devices = block\n"
			   "engine-user = nobody\n"
			   "retention = 12 months\n";

	assert_int_equal(parse(&c, text, d, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(c.rules, "/etc/p/rules.conf");
	assert_string_equal(c.audit_log, "/var/log/p");
	assert_string_equal(c.state_dir, "/var/lib/p");
	assert_string_equal(c.control_socket, "/run/p.sock");
	assert_int_equal(c.authorized_default, CONF_AUTH_INTERNAL);
	assert_int_equal(c.present_devices, CONF_PRESENT_BLOCK);
	assert_string_equal(c.engine_user, "nobody");
	assert_int_equal(c.retention_months, 12);
}

/* audit-origin names council and PC as the PC's certificate does; anything else (a path,
 * a third part, upper case, a space) is refused with its line. */
static void audit_origin_is_council_and_pc(void **state)
{
	struct conf c;
	struct pcl_diag d[8];
	size_t n;
	const char *bad[] = {"watton",
			     "watton/",
			     "/pc-1",
			     "watton/pc-1/x",
			     "Watton/pc-1",
			     "watton/-pc",
			     "-w/pc-1",
			     "watton/pc 1",
			     "../etc/pc-1",
			     "watton/pc-1\\x",
			     "w/a234567890123456789012345678901234"
			     "567890123456789012345678901234"};

	assert_int_equal(parse(&c, "retention = 6\n", d, &n), 0);
	assert_string_equal(c.audit_origin, "");
	assert_int_equal(parse(&c, "audit-origin = watton/clerk-pc-1\n", d, &n), 0);
	assert_string_equal(c.audit_origin, "watton/clerk-pc-1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[200];
		snprintf(text, sizeof(text), "\naudit-origin = %s\n", bad[i]);
		assert_int_equal(parse(&c, text, d, &n), -EINVAL);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].line, 2);
		assert_non_null(strstr(d[0].msg, "audit-origin"));
		assert_string_equal(c.audit_origin, "");
	}
}

static void each_error_names_its_line_and_field(void **state)
{
	struct conf c;
	struct pcl_diag d[8];
	size_t n;
	char buf[512];
	const char *text = "rules = relative/path\n"
			   "\n"
			   "authorized-default = some\n"
			   "colour = blue\n"
			   "no equals sign\n"
			   "retention = 0\n";

	assert_int_equal(parse(&c, text, d, &n), -EINVAL);
	assert_int_equal(n, 5);
	pcl_diag_format(&d[0], buf, sizeof(buf));
	assert_string_equal(buf, "test.conf:1: rules: 'relative/path' is not an absolute path");
	pcl_diag_format(&d[1], buf, sizeof(buf));
	assert_string_equal(buf, "test.conf:3: authorized-default: unknown value 'some'");
	pcl_diag_format(&d[2], buf, sizeof(buf));
	assert_string_equal(buf, "test.conf:4: unknown key 'colour'");
	assert_int_equal(d[3].line, 5);
	assert_int_equal(d[4].line, 6);
	/* A failed key keeps its default rather than a half-applied value. */
	assert_string_equal(c.rules, "/etc/portcullis/rules.conf");
}

static void profile_is_a_name_or_an_absolute_path(void **state)
{
	(void)state;
	struct conf c;
	struct pcl_diag d[4];
	size_t n;
	const char *ok1 = "profile = hednesford\n", *ok2 = "profile = /etc/portcullis/x.profile\n",
		   *bad = "\nprofile = ../etc/shadow\n";

	conf_defaults(&c);
	assert_string_equal(c.profile, "");
	assert_int_equal(conf_parse_buffer(&c, "a.conf", ok1, strlen(ok1), d, 4, &n), 0);
	assert_string_equal(c.profile, "hednesford");
	assert_int_equal(conf_parse_buffer(&c, "a.conf", ok2, strlen(ok2), d, 4, &n), 0);
	assert_string_equal(c.profile, "/etc/portcullis/x.profile");
	assert_int_equal(conf_parse_buffer(&c, "a.conf", bad, strlen(bad), d, 4, &n), -EINVAL);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].line, 2);
	assert_non_null(strstr(d[0].msg, "profile"));
}

static void nul_bytes_and_long_lines_are_errors(void **state)
{
	struct conf c;
	struct pcl_diag d[8];
	size_t n;
	char text[3000];

	memset(text, 'a', sizeof(text));
	text[2000] = '\n';
	memcpy(text + 2001, "rules = /x\0y\n", 13);
	conf_defaults(&c);
	assert_int_equal(conf_parse_buffer(&c, "t", text, 2014, d, 8, &n), -EINVAL);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].line, 1);
	assert_int_equal(d[1].line, 2);
}

static void missing_file_is_reported_by_name(void **state)
{
	struct conf c;
	struct pcl_diag d[1];
	size_t n;

	conf_defaults(&c);
	assert_int_equal(conf_load_file(&c, "/nonexistent/p.conf", d, 1, &n), -ENOENT);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].file, "/nonexistent/p.conf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_fail_closed),
	    cmocka_unit_test(every_key_is_parsed),
	    cmocka_unit_test(audit_origin_is_council_and_pc),
	    cmocka_unit_test(each_error_names_its_line_and_field),
	    cmocka_unit_test(profile_is_a_name_or_an_absolute_path),
	    cmocka_unit_test(nul_bytes_and_long_lines_are_errors),
	    cmocka_unit_test(missing_file_is_reported_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
