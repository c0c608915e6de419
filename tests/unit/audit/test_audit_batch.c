/*
 * test_audit_batch.c - records appended as one group (audit_append_group): each is framed,
 * chained and MACed like any other and the trail verifies, in order, between ordinary
 * appends, over a month's boundary between groups and after a reopen; a group with one bad
 * event (not an object, a reserved name, too long) is refused whole, nothing written.
 * Test-only code (cmocka).
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
#include <json-c/json.h>

#include "helpers.h"

#define N 150

static struct json_object *file_event(unsigned i)
{
	struct json_object *ev = json_object_new_object();
	char path[64];

	snprintf(path, sizeof(path), "batch/f%04u", i);
	json_object_object_add(ev, "event.action", json_object_new_string("file-written"));
	json_object_object_add(ev, "file.path", json_object_new_string(path));
	json_object_object_add(ev, "file.size", json_object_new_int(4096));
	return ev;
}

static void put_all(struct json_object **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(evs[i]);
}

/* The file.path of every record line of the segment, in order. */
static size_t paths_in(const struct trail *t, const char *month, char out[][32], size_t max)
{
	char seg[256], **lines;
	size_t n, k = 0;

	seg_path(t, month, seg, sizeof(seg));
	n = file_lines(seg, &lines);
	for (size_t i = 0; i < n && k < max; i++) {
		struct json_object *o = json_tokener_parse(lines[i]), *p;
		if (o && json_object_object_get_ex(o, "file.path", &p) &&
		    strncmp(json_object_get_string(p), "batch/", 6) == 0)
			snprintf(out[k++], 32, "%s", json_object_get_string(p));
		json_object_put(o);
	}
	free_lines(lines, n);
	return k;
}

static void test_groups_chain_and_verify(void **state)
{
	struct json_object *evs[N];
	static char got[N + 4][32];
	struct trail t;
	struct vres v;

	(void)state;
	trail_init(&t, 1764547200 + 86400); /* 2025-12-02 */
	for (unsigned i = 0; i < N; i++)
		evs[i] = file_event(i);
	trail_append(&t, 1, "clerk");
	assert_int_equal(audit_append_group(t.log, evs, 64), 0);
	assert_int_equal(audit_last_seq(t.log), 1 + 64);
	trail_append(&t, 1, "clerk");
	assert_int_equal(audit_append_group(t.log, evs + 64, N - 64), 0);
	assert_int_equal(audit_append_group(t.log, evs, 0), 0);
	assert_int_equal(audit_last_seq(t.log), 2 + N);
	audit_close(&t.log);
	size_t k = paths_in(&t, "2025-12", got, N + 4);
	assert_int_equal(k, N);
	for (unsigned i = 0; i < N; i++) {
		char want[32];
		snprintf(want, sizeof(want), "batch/f%04u", i);
		assert_string_equal(got[i], want);
	}
	/* Reopened, the chain carries on from the group's last record. */
	trail_open(&t);
	assert_int_equal(audit_last_seq(t.log), 2 + N);
	assert_int_equal(audit_append_group(t.log, evs, 3), 0);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.failures, 0);
	assert_int_equal(v.r.last_seq, 2 + N + 3);
	put_all(evs, N);
	trail_fini(&t);
}

/* Groups on both sides of a month's end: each goes to its own month's segment. */
static void test_groups_across_a_month(void **state)
{
	struct json_object *evs[8];
	static char got[16][32];
	struct trail t;
	struct vres v;

	(void)state;
	trail_init(&t, 1764547200 - 5); /* 2025-11-30 23:59:55 */
	for (unsigned i = 0; i < 8; i++)
		evs[i] = file_event(i);
	assert_int_equal(audit_append_group(t.log, evs, 4), 0);
	t.now += 10; /* 2025-12-01 */
	assert_int_equal(audit_append_group(t.log, evs + 4, 4), 0);
	audit_close(&t.log);
	assert_int_equal(paths_in(&t, "2025-11", got, 16), 4);
	assert_int_equal(paths_in(&t, "2025-12", got, 16), 4);
	assert_string_equal(got[0], "batch/f0004");
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.failures, 0);
	put_all(evs, 8);
	trail_fini(&t);
}

/* One bad event refuses the whole group: nothing of it is in the trail. */
static void test_a_bad_event_refuses_the_group(void **state)
{
	struct json_object *evs[5];
	struct trail t;
	struct vres v;
	char *big = malloc(AUDIT_RECORD_MAX);

	(void)state;
	assert_non_null(big);
	trail_init(&t, 1764547200 + 86400);
	trail_append(&t, 1, "clerk");
	for (unsigned i = 0; i < 5; i++)
		evs[i] = file_event(i);
	/* Not an object. */
	json_object_put(evs[3]);
	evs[3] = json_object_new_array();
	assert_int_equal(audit_append_group(t.log, evs, 5), -EINVAL);
	assert_int_equal(audit_last_seq(t.log), 1);
	/* A name the frame reserves. */
	json_object_put(evs[3]);
	evs[3] = file_event(3);
	json_object_object_add(evs[3], "seq", json_object_new_int(99));
	assert_int_equal(audit_append_group(t.log, evs, 5), -EINVAL);
	assert_int_equal(audit_last_seq(t.log), 1);
	/* Fields that fit a line, but not once framed. */
	json_object_put(evs[3]);
	evs[3] = file_event(3);
	memset(big, 'a', AUDIT_RECORD_MAX - 200);
	big[AUDIT_RECORD_MAX - 200] = '\0';
	json_object_object_add(evs[3], "message", json_object_new_string(big));
	assert_int_equal(audit_append_group(t.log, evs, 5), -E2BIG);
	assert_int_equal(audit_last_seq(t.log), 1);
	/* The same group without it is taken whole. */
	assert_int_equal(audit_append_group(t.log, evs, 3), 0);
	assert_int_equal(audit_last_seq(t.log), 4);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 4);
	put_all(evs, 5);
	free(big);
	trail_fini(&t);
}

/* The fields every record of a stream shares (a stick's identity). */
static struct json_object *common_fields(void)
{
	struct json_object *c = json_object_new_object(), *ifs = json_object_new_array();

	json_object_object_add(c, "volume.serial_number", json_object_new_string("AA0011"));
	json_object_array_add(ifs, json_object_new_string("08:06:50"));
	json_object_object_add(c, "usb.interfaces", ifs);
	json_object_object_add(c, "usb.port", json_object_new_string("1-2"));
	json_object_object_add(c, "rule.id", json_object_new_string("rules.conf:3"));
	return c;
}

/* A group with common fields: each line is one JSON object holding the event's members
 * and then the common ones, each once, after its own salt; the salts of the group (drawn
 * together) all differ; the events are left as they were; the trail verifies. */
static void test_common_fields_follow_each_record(void **state)
{
	static const char *const own[] = {"event.action", "file.path", "file.size"},
				 *const shared[] = {"volume.serial_number", "usb.interfaces",
						    "usb.port", "rule.id"};
	struct json_object *evs[41], *common = common_fields();
	char seg[256], **lines, salts[41][33];
	struct trail t;
	struct vres v;

	(void)state;
	trail_init(&t, 1764547200 + 86400);
	for (unsigned i = 0; i < 40; i++)
		evs[i] = file_event(i);
	evs[40] = json_object_new_object(); /* no members of its own */
	assert_int_equal(audit_append_group_common(t.log, evs, 41, common), 0);
	assert_int_equal(audit_last_seq(t.log), 41);
	assert_int_equal(json_object_object_length(evs[0]), 3);
	audit_close(&t.log);
	seg_path(&t, "2025-12", seg, sizeof(seg));
	size_t n = file_lines(seg, &lines), k = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(lines[i]), *c;
		assert_non_null(o);
		if (!json_object_object_get_ex(o, "rule.id", NULL)) {
			json_object_put(o);
			continue; /* not one of the group */
		}
		/* Between its salt and its MAC: its own members, then the common ones. */
		const char *keys[16];
		size_t nk = 0, at = 0;
		bool in = false;
		json_object_object_foreach(o, key, val)
		{
			(void)val;
			if (strcmp(key, "mac") == 0)
				in = false;
			if (in && nk < 16)
				keys[nk++] = key;
			if (strcmp(key, "salt") == 0)
				in = true;
		}
		assert_int_equal(nk, (k < 40 ? 3 : 0) + 4);
		for (size_t j = 0; k < 40 && j < 3; j++)
			assert_string_equal(keys[at++], own[j]);
		for (size_t j = 0; j < 4; j++) {
			char quoted[64];
			assert_string_equal(keys[at++], shared[j]);
			/* Once in the line (a second would be hidden by the parser). */
			snprintf(quoted, sizeof(quoted), "\"%s\":", shared[j]);
			char *first = strstr(lines[i], quoted);
			assert_non_null(first);
			assert_null(strstr(first + 1, quoted));
		}
		assert_true(json_object_object_get_ex(o, "usb.interfaces", &c));
		assert_string_equal(json_object_to_json_string(c), "[ \"08:06:50\" ]");
		snprintf(salts[k], sizeof(salts[k]), "%s",
			 json_object_get_string(json_object_object_get(o, "salt")));
		assert_int_equal(strlen(salts[k]), 32);
		for (size_t j = 0; j < k; j++)
			assert_string_not_equal(salts[j], salts[k]);
		k++;
		json_object_put(o);
	}
	assert_int_equal(k, 41);
	free_lines(lines, n);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.failures, 0);
	assert_int_equal(v.r.records, 41);
	put_all(evs, 41);
	json_object_put(common);
	trail_fini(&t);
}

/* Common fields that would make a bad record refuse the group: a member an event has
 * too, a name the frame reserves, not an object, too long once added to an event. */
static void test_bad_common_fields_refuse_the_group(void **state)
{
	struct json_object *evs[3], *common;
	struct trail t;
	struct vres v;
	char *big = malloc(AUDIT_RECORD_MAX);

	(void)state;
	assert_non_null(big);
	trail_init(&t, 1764547200 + 86400);
	for (unsigned i = 0; i < 3; i++)
		evs[i] = file_event(i);
	json_object_object_add(evs[2], "usb.port", json_object_new_string("9-9"));
	common = common_fields();
	assert_int_equal(audit_append_group_common(t.log, evs, 3, common), -EINVAL);
	json_object_object_del(evs[2], "usb.port");
	json_object_object_add(common, "mac", json_object_new_string("00"));
	assert_int_equal(audit_append_group_common(t.log, evs, 3, common), -EINVAL);
	json_object_put(common);
	common = json_object_new_array();
	assert_int_equal(audit_append_group_common(t.log, evs, 3, common), -EINVAL);
	json_object_put(common);
	common = common_fields();
	memset(big, 'a', AUDIT_RECORD_MAX - 400);
	big[AUDIT_RECORD_MAX - 400] = '\0';
	json_object_object_add(common, "message", json_object_new_string(big));
	assert_int_equal(audit_append_group_common(t.log, evs, 3, common), -E2BIG);
	assert_int_equal(audit_last_seq(t.log), 0);
	/* Without the long field, the same group is taken whole. */
	json_object_object_del(common, "message");
	assert_int_equal(audit_append_group_common(t.log, evs, 3, common), 0);
	assert_int_equal(audit_last_seq(t.log), 3);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 3);
	put_all(evs, 3);
	json_object_put(common);
	free(big);
	trail_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups_chain_and_verify),
	    cmocka_unit_test(test_groups_across_a_month),
	    cmocka_unit_test(test_a_bad_event_refuses_the_group),
	    cmocka_unit_test(test_common_fields_follow_each_record),
	    cmocka_unit_test(test_bad_common_fields_refuse_the_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
