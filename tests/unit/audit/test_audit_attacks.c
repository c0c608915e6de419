/*
 * test_audit_attacks.c - the attacks the audit trail must expose: an edited byte, a
 * deleted record, reordered records, a truncated tail (against a checkpoint held by the
 * collector), a replaced segment, records and checkpoints re-signed with a later stolen
 * key, and forged or premature purge records. Test-only code (cmocka).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "audit_int.h"
#include "helpers.h"

static size_t jan_lines(struct trail *t, char ***lines, char *path, size_t len)
{
	seg_path(t, "2026-01", path, len);
	return file_lines(path, lines);
}

static void build(struct trail *t)
{
	trail_init(t, T0);
	trail_append(t, 14, "clerk");
	assert_int_equal(audit_checkpoint(t->log), 0); /* seq 15 */
	trail_append(t, 14, "cllr.smith");
	assert_int_equal(audit_checkpoint(t->log), 0); /* seq 30 */
	trail_append(t, 5, "clerk");
	audit_close(&t->log);
}

static void test_edited_byte_detected(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	build(&t);
	n = jan_lines(&t, &l, path, sizeof(path));
	replace_in(l[9], "a.txt", "b.txt");
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "seq 10: MAC does not verify");
	expect_failure(&v, "seq 11: prev does not match seq 10");
	free_lines(l, n);
	trail_fini(&t);
}

static void test_deleted_record_detected(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	build(&t);
	n = jan_lines(&t, &l, path, sizeof(path));
	free(l[9]);
	memmove(&l[9], &l[10], (n - 10) * sizeof(char *));
	write_lines(path, l, n - 1);
	verify_dir(&t, &v);
	expect_failure(&v, "seq 11: gap: records 10..10 missing");
	free_lines(l, n - 1);
	trail_fini(&t);
}

static void test_reordered_records_detected(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l, *tmp;
	size_t n;

	(void)state;
	build(&t);
	n = jan_lines(&t, &l, path, sizeof(path));
	tmp = l[20];
	l[20] = l[21];
	l[21] = tmp;
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "seq 22: gap: records 21..21 missing");
	expect_failure(&v, "seq 21: out of order or replaced");
	free_lines(l, n);
	trail_fini(&t);
}

static void test_truncated_tail_detected_against_held_checkpoint(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l, early[2048], late[2048];
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 20, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_last_checkpoint(t.log, early, sizeof(early)), 0);
	trail_append(&t, 10, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_last_checkpoint(t.log, late, sizeof(late)), 0);
	trail_append(&t, 3, "clerk");
	audit_close(&t.log);
	n = jan_lines(&t, &l, path, sizeof(path));
	write_lines(path, l, 25); /* the attacker drops the last 9 records */
	const char *files[] = {path};
	verify_files(&t, files, 1, NULL, &v);
	assert_int_equal(v.rc, 0); /* what is left is consistent on its own... */
	verify_files(&t, files, 1, early, &v);
	assert_int_equal(v.rc, 0);
	verify_files(&t, files, 1, late, &v); /* ...but not with the collector's checkpoint */
	expect_failure(&v, "truncated: checkpoint covers 31 records, trail ends at 25");
	free_lines(l, n);
	trail_fini(&t);
}

static void test_replaced_segment_detected(void **state)
{
	struct trail a, b;
	struct vres v;
	char pa[256], pb[256], *data;
	size_t len;

	(void)state;
	trail_init(&a, T0);
	trail_init(&b, T0);
	trail_append(&a, 5, "clerk");
	trail_append(&b, 5, "clerk");
	a.now += 31 * DAY;
	trail_append(&a, 5, "clerk");
	audit_close(&a.log);
	seg_path(&a, "2026-01", pa, sizeof(pa));
	seg_path(&b, "2026-01", pb, sizeof(pb));
	data = slurp_file(pb, &len);
	write_file(pa, data, len); /* a well-formed segment, but another trail's */
	free(data);
	verify_dir(&a, &v);
	expect_failure(&v, "seq 1: MAC does not verify");
	expect_failure(&v, "seq 6: prev does not match seq 5");
	trail_fini(&a);
	trail_fini(&b);
}

static void test_rewritten_with_later_key_detected(void **state)
{
	struct trail t;
	struct vres v;
	struct audit_state stolen;
	char path[256], **l, *note, vkey[512];
	struct json_object *o;
	size_t n, tl;

	(void)state;
	build(&t); /* epochs 0, 1 and now 2 */
	assert_int_equal(audit_state_load(t.dir, &stolen), 0);
	assert_int_equal(stolen.epoch, 2);
	n = jan_lines(&t, &l, path, sizeof(path));

	/* An epoch-0 record edited and sealed with the stolen epoch-2 MAC key. */
	replace_in(l[2], "a.txt", "z.txt");
	reseal(l[2], stolen.mac_key);

	/* The epoch-0 checkpoint re-signed with the stolen epoch-2 signing key. */
	assert_int_equal(audit_record_parse(l[14], strlen(l[14]), &o, NULL), 0);
	struct json_object *s;
	assert_true(json_object_object_get_ex(o, "audit.checkpoint", &s));
	const char *old = json_object_get_string(s);
	const char *sep = strstr(old, "\n\n");
	char *text = strndup(old, (size_t)(sep - old) + 1);
	assert_int_equal(
	    audit_note_sign(&note, text, "portcullis/unit-host", stolen.sign_priv, stolen.sign_pub),
	    0);
	assert_int_equal(
	    audit_note_verify(note, strlen(note), "portcullis/unit-host", stolen.sign_pub, &tl), 0);
	assert_int_equal(
	    audit_vkey_format(vkey, sizeof(vkey), "portcullis/unit-host", stolen.sign_pub), 0);
	json_object_object_add(o, "audit.checkpoint", json_object_new_string(note));
	json_object_object_add(o, "audit.key", json_object_new_string(vkey));
	free(l[14]);
	l[14] = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	reseal(l[14], stolen.mac_key);
	json_object_put(o);
	free(note);
	free(text);
	write_lines(path, l, n);

	verify_dir(&t, &v);
	expect_failure(&v, "seq 3: MAC does not verify under the epoch 0 key");
	expect_failure(&v, "seq 15: MAC does not verify under the epoch 0 key");
	expect_failure(&v, "seq 15: signed with a key not certified for epoch 0");
	audit_state_wipe(&stolen);
	free_lines(l, n);
	trail_fini(&t);
}

/* Three months of records; returns with the trail closed. */
static void three_months(struct trail *t)
{
	trail_init(t, T0);
	for (int m = 0; m < 3; m++) {
		trail_append(t, 4, "clerk");
		assert_int_equal(audit_tick(t->log), 0);
		t->now += 31 * DAY;
	}
	audit_close(&t->log);
}

static void test_premature_purge_with_stolen_key_detected(void **state)
{
	struct trail t;
	struct vres v;
	char path[256];

	(void)state;
	three_months(&t); /* Jan, Feb, Mar; now mid-April */
	t.now -= 31 * DAY;
	/* Root with the current keys runs the writer with a 1-month retention. */
	t.cfg.retention_months = 1;
	trail_open(&t);
	assert_int_equal(audit_tick(t.log), 0);
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	assert_int_not_equal(access(path, F_OK), 0);
	verify_dir(&t, &v);
	expect_failure(&v,
		       "purge of records up to 2026-02 at 2026-03 breaks the 6-month retention");
	expect_failure(&v, "no signed purge record accounts for them");
	trail_fini(&t);
}

static void test_honest_purge_verifies(void **state)
{
	struct trail t;
	struct vres v;
	char path[256];

	(void)state;
	trail_init(&t, T0);
	for (int m = 0; m < 9; m++) { /* Jan .. Sep 2026 */
		trail_append(&t, 3, "clerk");
		assert_int_equal(audit_tick(t.log), 0);
		t.now += 31 * DAY;
	}
	audit_close(&t.log);
	seg_path(&t, "2026-02", path, sizeof(path));
	assert_int_not_equal(access(path, F_OK), 0);
	seg_path(&t, "2026-03", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	verify_dir(&t, &v);
	if (v.rc)
		fprintf(stderr, "%s", v.msgs);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.purges, 2);
	assert_true(v.r.first_seq > 1);
	trail_fini(&t);
}

static void test_forged_purge_record_detected(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	for (int m = 0; m < 8; m++) { /* purge of January in August */
		trail_append(&t, 3, "clerk");
		assert_int_equal(audit_tick(t.log), 0);
		t.now += 31 * DAY;
	}
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.purges, 1);
	/* Without the key, the attacker widens the purge to hide February as well. */
	seg_path(&t, "2026-02", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	seg_path(&t, "2026-08", path, sizeof(path));
	n = file_lines(path, &l);
	size_t i = 0;
	while (i < n && strstr(l[i], "\"audit.type\":\"purge\"") == NULL)
		i++;
	assert_true(i < n);
	replace_in(l[i], "purge before 2026-02", "purge before 2026-03");
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "MAC does not verify");
	expect_failure(&v, "purge signature does not verify");
	expect_failure(&v, "no signed purge record accounts for them");
	free_lines(l, n);
	trail_fini(&t);
}

static void test_checkpoint_of_another_trail_rejected(void **state)
{
	struct trail a, b;
	struct vres v;
	char note[2048], pa[256];

	(void)state;
	trail_init(&a, T0);
	trail_init(&b, T0);
	trail_append(&a, 5, "clerk");
	trail_append(&b, 5, "clerk");
	assert_int_equal(audit_checkpoint(b.log), 0);
	assert_int_equal(audit_last_checkpoint(b.log, note, sizeof(note)), 0);
	audit_close(&a.log);
	seg_path(&a, "2026-01", pa, sizeof(pa));
	const char *files[] = {pa};
	verify_files(&a, files, 1, note, &v);
	expect_failure(&v, "checkpoint signature does not verify");
	trail_fini(&a);
	trail_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_edited_byte_detected),
	    cmocka_unit_test(test_deleted_record_detected),
	    cmocka_unit_test(test_reordered_records_detected),
	    cmocka_unit_test(test_truncated_tail_detected_against_held_checkpoint),
	    cmocka_unit_test(test_replaced_segment_detected),
	    cmocka_unit_test(test_rewritten_with_later_key_detected),
	    cmocka_unit_test(test_premature_purge_with_stolen_key_detected),
	    cmocka_unit_test(test_honest_purge_verifies),
	    cmocka_unit_test(test_forged_purge_record_detected),
	    cmocka_unit_test(test_checkpoint_of_another_trail_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
