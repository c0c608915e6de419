/*
 * test_textesc.c - unit tests of the report escaping: every HTML-special character becomes
 * its entity, CSV cells are quoted with quotes doubled, and a cell that a spreadsheet would
 * run as a formula is shown as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "textesc.h"

static char out[512];

static const char *run(void (*fn)(FILE *, const char *), const char *in)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	assert_non_null(f);
	fn(f, in);
	fclose(f);
	return out;
}

static void html_escapes_every_special_character(void **state)
{
	(void)state;
	assert_string_equal(run(pcl_html_text, "<script>alert('x\" & y')</script>"),
			    "&lt;script&gt;alert(&#39;x&quot; &amp; y&#39;)&lt;/script&gt;");
	assert_string_equal(run(pcl_html_text, "Cllr Brown"), "Cllr Brown");
	assert_null(pcl_html_entity('a'));
	assert_string_equal(pcl_html_entity('&'), "&amp;");
}

static void csv_quotes_and_doubles_quotes(void **state)
{
	(void)state;
	assert_string_equal(run(pcl_csv_cell, "a \"b\", c"), "\"a \"\"b\"\", c\"");
	assert_string_equal(run(pcl_csv_cell, "two\nlines"), "\"two\nlines\"");
	assert_string_equal(run(pcl_csv_cell, ""), "\"\"");
}

static void csv_formulas_are_shown_as_text(void **state)
{
	(void)state;
	assert_string_equal(run(pcl_csv_cell, "=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
	assert_string_equal(run(pcl_csv_cell, "+1"), "\"'+1\"");
	assert_string_equal(run(pcl_csv_cell, "-1"), "\"'-1\"");
	assert_string_equal(run(pcl_csv_cell, "@SUM(A1)"), "\"'@SUM(A1)\"");
	assert_string_equal(run(pcl_csv_cell, "\tx"), "\"'\tx\"");
	assert_string_equal(run(pcl_csv_cell, "a=b"), "\"a=b\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(html_escapes_every_special_character),
	    cmocka_unit_test(csv_quotes_and_doubles_quotes),
	    cmocka_unit_test(csv_formulas_are_shown_as_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
