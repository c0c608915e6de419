/*
 * test_audit_trail.c - audit writer and verifier on real files: encoding, chain, MAC key
 * evolution, checkpoints, crash recovery, group commit, fail-closed writes.
 * Test-only code (cmocka).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "audit_int.h"
#include "helpers.h"
#include "writer_int.h"

static void test_clean_trail_verifies(void **state)
{
	struct trail t;
	struct vres v;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 20, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	trail_append(&t, 20, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	trail_append(&t, 5, "clerk");
	assert_int_equal(audit_last_seq(t.log), 47);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 47);
	assert_int_equal(v.r.checkpoints, 2);
	assert_int_equal(v.r.unsealed, 5);
	assert_int_equal(v.r.epoch, 2);
	trail_fini(&t);
}

static void test_reserved_fields_refused(void **state)
{
	static const char *const bad[] = {"seq",     "prev",	   "mac",
					  "salt",    "@timestamp", "host.name",
					  "boot_id", "audit.type", "audit"};
	struct trail t;

	(void)state;
	trail_init(&t, T0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, bad[i], json_object_new_string("x"));
		assert_int_equal(audit_append(t.log, ev), -EINVAL);
		json_object_put(ev);
	}
	struct json_object *arr = json_object_new_array();
	assert_int_equal(audit_append(t.log, arr), -EINVAL);
	json_object_put(arr);
	assert_int_equal(audit_last_seq(t.log), 0);
	trail_fini(&t);
}

static void test_record_fields_and_salts(void **state)
{
	static const char *const fields[] = {"seq",	     "epoch",	  "prev",      "audit.type",
					     "@timestamp",   "host.name", "boot_id",   "salt",
					     "event.action", "user.name", "file.path", "mac"};
	struct trail t;
	char path[256], **lines;
	struct json_object *o, *s;
	char salt0[64] = "";
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 2, "cllr.\"quote\"\n");
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &lines);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(audit_record_parse(lines[i], strlen(lines[i]), &o, NULL), 0);
		size_t k = 0;
		json_object_object_foreach(o, key, val)
		{
			(void)val;
			assert_true(k < 12);
			assert_string_equal(key, fields[k]);
			k++;
		}
		assert_int_equal(k, 12);
		assert_true(json_object_object_get_ex(o, "@timestamp", &s));
		assert_string_equal(json_object_get_string(s), "2026-01-15T00:00:00.000Z");
		assert_true(json_object_object_get_ex(o, "user.name", &s));
		assert_string_equal(json_object_get_string(s), "cllr.\"quote\"\n");
		assert_true(json_object_object_get_ex(o, "salt", &s));
		assert_int_equal(strlen(json_object_get_string(s)), 32);
		assert_string_not_equal(json_object_get_string(s), salt0);
		snprintf(salt0, sizeof(salt0), "%s", json_object_get_string(s));
		json_object_put(o);
	}
	free_lines(lines, n);
	trail_fini(&t);
}

static void test_mac_key_evolves_and_old_keys_erased(void **state)
{
	struct trail t;
	struct audit_state s0, s1;
	uint8_t k1[32];
	char path[256], hex[65], *st;
	size_t len;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 3, "clerk");
	assert_int_equal(audit_state_load(t.dir, &s0), 0);
	assert_int_equal(memcmp(s0.mac_key, t.key.mac_key, 32), 0);
	assert_int_equal(memcmp(s0.sign_pub, t.key.pub, 32), 0);
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_state_load(t.dir, &s1), 0);
	assert_int_equal(s1.epoch, 1);
	assert_int_equal(audit_kdf_next(k1, s0.mac_key, 0), 0);
	assert_int_equal(memcmp(s1.mac_key, k1, 32), 0);
	assert_int_equal(memcmp(s1.sign_pub, s0.next_pub, 32), 0);
	assert_int_equal(s1.ckpt_seq, 4);
	/* Neither the old MAC key nor the old signing key is left in the state file. */
	snprintf(path, sizeof(path), "%s/state", t.dir);
	st = slurp_file(path, &len);
	audit_hex(hex, s0.mac_key);
	assert_null(strstr(st, hex));
	audit_hex(hex, s0.sign_priv);
	assert_null(strstr(st, hex));
	free(st);
	/* No checkpoint without new records. */
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_last_seq(t.log), 4);
	audit_state_wipe(&s0);
	audit_state_wipe(&s1);
	trail_fini(&t);
}

static void test_checkpoint_is_c2sp_signed_note(void **state)
{
	struct trail t;
	char note[2048], b64[64];
	struct audit_ckpt c;
	size_t tl;

	(void)state;
	trail_init(&t, T0);
	assert_int_equal(audit_last_checkpoint(t.log, note, sizeof(note)), -ENOENT);
	trail_append(&t, 7, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_last_checkpoint(t.log, note, sizeof(note)), 0);
	assert_int_equal(strncmp(note, "portcullis/unit-host\n7\n", 23), 0);
	assert_non_null(strstr(note, "\n\n\xe2\x80\x94 portcullis/unit-host "));
	assert_int_equal(
	    audit_note_verify(note, strlen(note), "portcullis/unit-host", t.key.pub, &tl), 0);
	assert_int_equal(audit_ckpt_parse(&c, note, tl), 0);
	assert_int_equal(c.size, 7);
	assert_int_equal(c.epoch, 0);
	assert_int_equal(c.time, T0);
	assert_true(c.has_next);
	/* A changed byte in the signed text fails. */
	note[21] = '8';
	assert_int_not_equal(
	    audit_note_verify(note, strlen(note), "portcullis/unit-host", t.key.pub, &tl), 0);
	pcl_b64_encode(c.next, 32, b64, sizeof(b64));
	assert_non_null(strstr(note, b64));
	trail_fini(&t);
}

static void test_tick_checkpoints_when_due(void **state)
{
	struct trail t;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 2, "clerk");
	t.now += 100;
	assert_int_equal(audit_tick(t.log), 0);
	assert_int_equal(audit_last_seq(t.log), 2);
	t.now += 201;
	assert_int_equal(audit_tick(t.log), 0);
	assert_int_equal(audit_last_seq(t.log), 3); /* checkpoint record */
	t.now += 400;
	assert_int_equal(audit_tick(t.log), 0);
	assert_int_equal(audit_last_seq(t.log), 3); /* idle: nothing to seal */
	trail_fini(&t);
}

static void test_half_record_rejected_then_dropped_on_open(void **state)
{
	struct trail t;
	struct vres v;
	char path[256];
	FILE *f;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 5, "clerk");
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	f = fopen(path, "a");
	fputs("{\"seq\":6,\"epoch\":0,\"prev\":\"ab", f);
	fclose(f);
	verify_dir(&t, &v);
	assert_int_not_equal(v.rc, 0);
	assert_non_null(strstr(v.msgs, "incomplete record"));
	assert_int_equal(v.r.records, 5);
	trail_open(&t);
	assert_int_equal(audit_last_seq(t.log), 5);
	trail_append(&t, 2, "clerk");
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 7);
	trail_fini(&t);
}

static void test_crash_between_checkpoint_and_state(void **state)
{
	struct trail t;
	struct vres v;
	struct audit_state before, after;
	char path[256], *st;
	size_t len;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 4, "clerk");
	snprintf(path, sizeof(path), "%s/state", t.dir);
	st = slurp_file(path, &len);
	assert_int_equal(audit_state_load(t.dir, &before), 0);
	assert_int_equal(audit_checkpoint(t.log), 0);
	audit_close(&t.log);
	write_file(path, st, len); /* as if killed before the state was replaced */
	free(st);
	trail_open(&t);
	assert_int_equal(audit_state_load(t.dir, &after), 0);
	assert_int_equal(after.epoch, 1);
	assert_int_equal(memcmp(after.sign_pub, before.next_pub, 32), 0);
	trail_append(&t, 3, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.checkpoints, 2);
	audit_state_wipe(&before);
	audit_state_wipe(&after);
	trail_fini(&t);
}

static void test_open_refuses_trail_shorter_than_checkpoint(void **state)
{
	struct trail t;
	struct pcl_diag d = {0};
	char path[256], **lines;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 6, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	trail_append(&t, 2, "clerk");
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &lines);
	write_lines(path, lines, 5);
	free_lines(lines, n);
	assert_int_equal(audit_open(&t.log, &t.cfg, &d), -EUCLEAN);
	assert_non_null(strstr(d.msg, "truncated or replaced"));
	assert_null(t.log);
	trail_fini(&t);
}

static void *appender(void *arg)
{
	struct trail *t = arg;

	for (int i = 0; i < 250; i++) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, "event.action", json_object_new_string("file-read"));
		pthread_mutex_lock(&t->log->lock);
		uint64_t before = t->log->seq; /* this record's seq is higher */
		pthread_mutex_unlock(&t->log->lock);
		if (audit_append(t->log, ev) != 0 ||
		    (i % 100 == 99 && audit_checkpoint(t->log) != 0))
			return (void *)1;
		json_object_put(ev);
		/* Durable before it returned: a sync (of the segment, or an intent entry)
		 * covered at least up to this record. */
		struct audit_stats st;
		audit_get_stats(t->log, &st);
		bool synced = st.durable_seq > before;
		if (!synced)
			return (void *)2;
	}
	return NULL;
}

static void test_group_commit_from_threads(void **state)
{
	struct trail t;
	struct vres v;
	pthread_t th[8];
	void *ret;

	(void)state;
	trail_init(&t, 0);
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, appender, &t);
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	verify_dir(&t, &v);
	if (v.rc != 0)
		fprintf(stderr, "%s", v.msgs);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records - v.r.checkpoints, 2000);
	assert_true(v.r.checkpoints >= 1);
	trail_fini(&t);
}

/* A full filesystem: the append fails, every later append fails, nothing half-written. */
static void test_write_failure_fails_closed(void **state)
{
	struct trail t;
	struct vres v;
	char mnt[] = "/tmp/audit-full-XXXXXX", cmd[256];
	int rc = 0;
	unsigned ok = 0;

	(void)state;
	assert_non_null(mkdtemp(mnt));
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), 0);
	memset(&t, 0, sizeof(t));
	snprintf(t.dir, sizeof(t.dir), "%s/trail", mnt);
	t.cfg.dir = t.dir;
	t.cfg.origin = "portcullis/full";
	t.cfg.host_name = "full";
	struct pcl_diag d = {0};
	assert_int_equal(audit_enrol(&t.cfg, &t.key_text, &d), 0);
	assert_int_equal(audit_key_parse(&t.key, t.key_text, strlen(t.key_text), "k", &d), 0);
	trail_open(&t);
	while (rc == 0 && ok < 10000) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(
		    ev, "file.path",
		    json_object_new_string("/media/stick/a-rather-long-file-name.docx"));
		rc = audit_append(t.log, ev);
		json_object_put(ev);
		ok += rc == 0;
	}
	assert_int_equal(rc, -ENOSPC);
	assert_true(ok > 10);
	struct json_object *ev = json_object_new_object();
	assert_int_not_equal(audit_append(t.log, ev), 0); /* still closed */
	json_object_put(ev);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, ok);
	audit_close(&t.log);
	free(t.key_text);
	assert_int_equal(umount(mnt), 0);
	snprintf(cmd, sizeof(cmd), "rmdir '%s'", mnt);
	assert_int_equal(system(cmd), 0);
}

/* Every record up to this seq is on disk (in the segment or the intent file). */
static uint64_t durable_seq(struct audit_log *log)
{
	struct audit_stats st;

	audit_get_stats(log, &st);
	return st.durable_seq;
}

/* A deferred record is written and chained at once but synced only with the next durable
 * record, checkpoint or tick; the trail verifies the same either way. */
static void test_deferred_record_synced_with_the_next(void **state)
{
	struct trail t;
	struct vres v;
	struct json_object *ev;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 1, "clerk");
	assert_int_equal(durable_seq(t.log), 1);
	ev = json_object_new_object();
	json_object_object_add(ev, "event.action", json_object_new_string("device-inserted"));
	assert_int_equal(audit_append_deferred(t.log, ev), 0);
	assert_int_equal(audit_last_seq(t.log), 2);
	assert_int_equal(durable_seq(t.log), 1); /* written, not yet synced */
	trail_append(&t, 1, "clerk");		 /* the decision: one sync covers both */
	assert_int_equal(durable_seq(t.log), 3);
	assert_int_equal(audit_append_deferred(t.log, ev), 0);
	assert_int_equal(durable_seq(t.log), 3);
	assert_int_equal(audit_tick(t.log), 0); /* the periodic tick syncs a lone one */
	assert_int_equal(durable_seq(t.log), 4);
	json_object_put(ev);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 4);
	trail_fini(&t);
}

static void test_collector_resend_duplicates_skipped(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], copy[300], **lines, **dup;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 10, "clerk");
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &lines);
	dup = calloc(n + 4, sizeof(char *));
	for (size_t i = 0; i < 7; i++)
		dup[i] = lines[i];
	for (size_t i = 4; i < n; i++) /* RELP resends 5..7 after a reconnect */
		dup[i + 3] = lines[i];
	snprintf(copy, sizeof(copy), "%s/collected.log", t.dir);
	write_lines(copy, dup, n + 3);
	const char *files[] = {copy};
	verify_collected(&t, files, 1, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.duplicates, 3);
	assert_int_equal(v.r.records, 10);
	/* Outside a collector's copy a repeat is a failure naming both seq numbers. */
	verify_files(&t, files, 1, NULL, &v);
	assert_int_not_equal(v.rc, 0);
	assert_int_equal(v.r.duplicates, 0);
	assert_non_null(strstr(v.msgs, "seq 5: seq 5 repeated after seq 7"));
	assert_non_null(strstr(v.msgs, "seq 7: seq 7 repeated after seq 7"));
	free(dup);
	free_lines(lines, n);
	trail_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_trail_verifies),
	    cmocka_unit_test(test_reserved_fields_refused),
	    cmocka_unit_test(test_record_fields_and_salts),
	    cmocka_unit_test(test_mac_key_evolves_and_old_keys_erased),
	    cmocka_unit_test(test_checkpoint_is_c2sp_signed_note),
	    cmocka_unit_test(test_tick_checkpoints_when_due),
	    cmocka_unit_test(test_half_record_rejected_then_dropped_on_open),
	    cmocka_unit_test(test_crash_between_checkpoint_and_state),
	    cmocka_unit_test(test_open_refuses_trail_shorter_than_checkpoint),
	    cmocka_unit_test(test_group_commit_from_threads),
	    cmocka_unit_test(test_write_failure_fails_closed),
	    cmocka_unit_test(test_deferred_record_synced_with_the_next),
	    cmocka_unit_test(test_collector_resend_duplicates_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
