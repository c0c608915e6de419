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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups_chain_and_verify),
	    cmocka_unit_test(test_groups_across_a_month),
	    cmocka_unit_test(test_a_bad_event_refuses_the_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
