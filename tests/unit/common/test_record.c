/*
 * test_record.c - unit test of the audit record header builder: the fields come in the
 * order the trail documents, outcome and reason only when given, and a record without a
 * kind or action is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "record.h"

static const char *text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void header_in_order_with_optional_fields(void **state)
{
	struct json_object *rec = json_object_new_object();

	(void)state;
	assert_int_equal(
	    pcl_record_head(rec, PCL_KIND_EVENT, "device-blocked", "failure", "rule \"x\" matched"),
	    0);
	assert_string_equal(text(rec), "{\"event.action\":\"device-blocked\",\"event.outcome\":"
				       "\"failure\",\"event.kind\":\"event\",\"event.reason\":"
				       "\"rule \\\"x\\\" matched\"}");
	json_object_put(rec);
	rec = json_object_new_object();
	assert_int_equal(pcl_record_head(rec, PCL_KIND_ALERT, "audit-clock-jump", NULL, NULL), 0);
	assert_string_equal(text(rec),
			    "{\"event.action\":\"audit-clock-jump\",\"event.kind\":\"alert\"}");
	assert_int_equal(pcl_record_head(rec, NULL, "x", NULL, NULL), -EINVAL);
	assert_int_equal(pcl_record_head(rec, PCL_KIND_EVENT, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(pcl_record_head(NULL, PCL_KIND_EVENT, "x", NULL, NULL), -EINVAL);
	json_object_put(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(header_in_order_with_optional_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
