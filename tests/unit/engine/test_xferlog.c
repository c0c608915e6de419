/*
 * test_xferlog.c - a transfer log's file records taken as one group
 * (daemon/engine_xferlog.c), on its own: the run of file records at the start of a read
 * is one group, stopped by any other record, an incomplete line or 64 records; each record
 * carries the device's fields, the volume and port (the engine's, over any the watcher
 * claims; given once for the group and laid after each record's own, none of which it
 * has), and the watcher's clock as event.created; a line that is not a file record is
 * left to the caller; a group the trail refuses is taken record by record. The engine's
 * recording is a seam here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_xferlog.h"
#include "jsonx.h"

#define MAXREC 200

static struct json_object *got[MAXREC];
static size_t n_got, n_groups, n_single;
static int group_rc;

/* A record as the trail writes a group's: its own fields, then the engine's, none twice. */
static struct json_object *whole(struct json_object *rec, struct json_object *common)
{
	struct json_object *o = json_object_new_object();

	json_object_object_foreach(rec, k, v)
	{
		json_object_object_add(o, k, json_object_get(v));
	}
	json_object_object_foreach(common, ck, cv)
	{
		assert_false(json_object_object_get_ex(rec, ck, NULL));
		json_object_object_add(o, ck, json_object_get(cv));
	}
	return o;
}

int engine_record_group(struct engine *e, struct json_object *const *recs, size_t n,
			struct json_object *common)
{
	(void)e;
	assert_non_null(common);
	if (group_rc != 0)
		return group_rc;
	n_groups++;
	for (size_t i = 0; i < n && n_got < MAXREC; i++)
		got[n_got++] = whole(recs[i], common);
	return 0;
}

int engine_record_grouped(struct engine *e, struct json_object *rec)
{
	(void)e;
	n_single++;
	if (n_got < MAXREC)
		got[n_got++] = json_object_get(rec);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	for (size_t i = 0; i < n_got; i++)
		json_object_put(got[i]);
	n_got = n_groups = n_single = 0;
	group_rc = 0;
	return 0;
}

static struct exlog_src source(void)
{
	struct json_object *dev = json_object_new_object();

	jsonx_set_str(dev, "volume.serial_number", "AA00000000011111");
	jsonx_set_str(dev, "volume.device_name", "1-2");
	jsonx_set_str(dev, "usb.port", "1-2");
	jsonx_set_str(dev, "portcullis.state", "allowed");
	return (struct exlog_src){dev, "sdb1", "1-2"};
}

#define WRITTEN(p)                                                                                 \
	"{\"@timestamp\":\"2026-12-06T01:00:00.000Z\",\"event.action\":\"file-written\","          \
	"\"file.path\":\"" p "\",\"user.id\":4242,\"device.serial_number\":\"FROMWATCH\"}\n"

static void a_run_of_file_records_is_one_group(void **state)
{
	char buf[] = WRITTEN("a")
	    WRITTEN("b") "{\"event.action\":\"file-read\",\"file.path\":\"c\"}\n"
			 "{\"event.action\":\"xfer-watch-stopped\"}\n" WRITTEN("d") "{\"event.act";
	struct exlog_src src = source();
	bool written = false;

	(void)state;
	char *rest = exlog_take(NULL, &src, buf, &written);
	assert_true(written);
	assert_int_equal(n_groups, 1);
	assert_int_equal(n_got, 3);
	assert_string_equal(
	    rest, "{\"event.action\":\"xfer-watch-stopped\"}\n" WRITTEN("d") "{\"event.act");
	assert_string_equal(jsonx_get_str(got[0], "file.path"), "a");
	assert_string_equal(jsonx_get_str(got[2], "event.action"), "file-read");
	for (size_t i = 0; i < 2; i++) {
		struct json_object *r = got[i];
		assert_string_equal(jsonx_get_str(r, "volume.serial_number"), "AA00000000011111");
		assert_string_equal(jsonx_get_str(r, "volume.device_name"), "sdb1");
		assert_string_equal(jsonx_get_str(r, "usb.port"), "1-2");
		assert_string_equal(jsonx_get_str(r, "event.created"), "2026-12-06T01:00:00.000Z");
		assert_false(json_object_object_get_ex(r, "@timestamp", NULL));
		/* What the watcher says of itself is kept; the gate's fields are the gate's. */
		assert_string_equal(jsonx_get_str(r, "device.serial_number"), "FROMWATCH");
	}
	/* The line after the other record starts the next group; an incomplete one waits. */
	char *next = strchr(rest, '\n') + 1;
	written = false;
	assert_ptr_equal(exlog_take(NULL, &src, next, &written), strstr(next, "{\"event.act"));
	assert_true(written);
	assert_int_equal(n_groups, 2);
	assert_int_equal(n_got, 4);
	json_object_put(src.device);
}

static void a_line_that_is_not_a_file_record_is_left(void **state)
{
	static const char *const lines[] = {
	    "not json\n",
	    "[1,2]\n",
	    "{\"event.action\":\"xfer-overflow\"}\n",
	    "{\"event.action\":7}\n",
	    "{\"progress\":{\"done\":1},\"event.action\":\"file-written\"}\n",
	    "{\"event\":{\"action\":\"file-written\"}}\n",
	    "{\"event.action\":\"file-written\",\"event\":{\"action\":\"wipe-done\"}}\n",
	    "\n",
	};
	struct exlog_src src = {NULL, "sdb1", "1-2"};

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char buf[256];
		bool written = false;
		snprintf(buf, sizeof(buf), "%s%s", lines[i], WRITTEN("x"));
		assert_ptr_equal(exlog_take(NULL, &src, buf, &written), buf);
		assert_false(written);
		/* Left whole, newline included. */
		assert_memory_equal(buf, lines[i], strlen(lines[i]));
	}
	assert_int_equal(n_got, 0);
}

static void a_group_holds_at_most_64(void **state)
{
	static char buf[100 * 200];
	struct exlog_src src = {NULL, "sdb1", "1-2"};
	size_t len = 0;
	bool written = false;

	(void)state;
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(
		    buf + len, sizeof(buf) - len,
		    "{\"event.action\":\"file-deleted\",\"file.path\":\"%d\"}\n", i);
	char *rest = exlog_take(NULL, &src, buf, &written);
	assert_false(written);
	assert_int_equal(n_got, 64);
	assert_int_equal(n_groups, 1);
	rest = exlog_take(NULL, &src, rest, &written);
	assert_int_equal(n_got, 100);
	assert_string_equal(rest, "");
	assert_string_equal(jsonx_get_str(got[99], "file.path"), "99");
	assert_string_equal(jsonx_get_str(got[0], "usb.port"), "1-2");
}

static void a_refused_group_is_taken_record_by_record(void **state)
{
	char buf[] = WRITTEN("a") WRITTEN("b") WRITTEN("c");
	struct exlog_src src = {NULL, "sdb1", "1-2"};
	bool written = false;

	(void)state;
	group_rc = -EINVAL;
	assert_string_equal(exlog_take(NULL, &src, buf, &written), "");
	assert_int_equal(n_groups, 0);
	assert_int_equal(n_single, 3);
	assert_int_equal(n_got, 3);
	assert_string_equal(jsonx_get_str(got[1], "file.path"), "b");
	/* Each whole: the engine's fields laid on it, last. */
	for (size_t i = 0; i < 3; i++) {
		const char *last = NULL;
		assert_string_equal(jsonx_get_str(got[i], "volume.device_name"), "sdb1");
		assert_string_equal(jsonx_get_str(got[i], "usb.port"), "1-2");
		json_object_object_foreach(got[i], k, v)
		{
			(void)v;
			last = k;
		}
		assert_string_equal(last, "usb.port");
	}
}

static void the_engines_fields_win_over_the_watchers(void **state)
{
	char buf[] = "{\"event.action\":\"file-written\",\"file.path\":\"a\","
		     "\"volume.serial_number\":\"FORGED\",\"usb\":{\"hash\":\"forged\"},"
		     "\"usb.port\":\"9-9\",\"portcullis.state\":\"forged\","
		     "\"volume.device_name\":\"sdz\",\"approval.approver\":\"mallory\","
		     "\"portcullis.approval.id\":\"forged\",\"user.id\":4242}\n" WRITTEN(
			 "b") "{\"event.action\":\"file-read\",\"file.path\":\"c\","
			      "\"portcullis.helper_fields_refused\":[]}\n";
	struct exlog_src src = source();
	bool written = false;

	(void)state;
	assert_string_equal(exlog_take(NULL, &src, buf, &written), "");
	assert_int_equal(n_got, 3);
	struct json_object *r = got[0], *refused;
	assert_string_equal(jsonx_get_str(r, "volume.serial_number"), "AA00000000011111");
	assert_string_equal(jsonx_get_str(r, "usb.port"), "1-2");
	assert_string_equal(jsonx_get_str(r, "portcullis.state"), "allowed");
	assert_string_equal(jsonx_get_str(r, "volume.device_name"), "sdb1");
	/* Not one of the device's fields here, but the engine's namespace: dropped. */
	assert_false(json_object_object_get_ex(r, "usb.hash", NULL));
	assert_int_equal(json_object_get_int(json_object_object_get(r, "user.id")), 4242);
	assert_true(json_object_object_get_ex(r, "portcullis.helper_fields_refused", &refused));
	assert_false(json_object_object_get_ex(r, "approval.approver", NULL));
	assert_false(json_object_object_get_ex(r, "portcullis.approval.id", NULL));
	assert_int_equal(json_object_array_length(refused), 7);
	const char *names = json_object_to_json_string(refused);
	static const char *const want[] = {
	    "volume.serial_number",  "usb.hash",	   "usb.port",
	    "portcullis.state",	     "volume.device_name", "approval.approver",
	    "portcullis.approval.id"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_non_null(strstr(names, want[i]));
	/* A record that claims nothing of the engine's is not marked, nor can it mark itself. */
	assert_false(json_object_object_get_ex(got[1], "portcullis.helper_fields_refused", NULL));
	assert_true(
	    json_object_object_get_ex(got[2], "portcullis.helper_fields_refused", &refused));
	assert_string_equal(json_object_to_json_string(refused),
			    "[ \"portcullis.helper_fields_refused\" ]");
	json_object_put(src.device);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(a_run_of_file_records_is_one_group, reset),
	    cmocka_unit_test_teardown(a_line_that_is_not_a_file_record_is_left, reset),
	    cmocka_unit_test_teardown(a_group_holds_at_most_64, reset),
	    cmocka_unit_test_teardown(a_refused_group_is_taken_record_by_record, reset),
	    cmocka_unit_test_teardown(the_engines_fields_win_over_the_watchers, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
