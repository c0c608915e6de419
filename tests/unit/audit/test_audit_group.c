/*
 * test_audit_group.c - grouped durability and scheduled checkpoints of the audit writer:
 * a burst of grouped records costs far fewer disk syncs than records, all of them become
 * durable without the caller syncing, a burst of seal requests gets one checkpoint, and an
 * observation and its decision appended as a pair reach the disk with one sync, in order.
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
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "helpers.h"

static int append_grouped(struct trail *t, unsigned i)
{
	struct json_object *ev = json_object_new_object();
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/media/stick/file-%u.bin", i);
	json_object_object_add(ev, "event.action", json_object_new_string("file-written"));
	json_object_object_add(ev, "file.path", json_object_new_string(path));
	rc = audit_append_grouped(t->log, ev);
	json_object_put(ev);
	return rc;
}

/* Liveness wait for the flusher thread (no timing is asserted: the bound only ends a
 * test that would otherwise hang). */
static void wait_durable(struct trail *t, uint64_t seq, struct audit_stats *st)
{
	for (int i = 0; i < 60000; i++) {
		audit_get_stats(t->log, st);
		if (st->durable_seq >= seq)
			return;
		usleep(1000);
	}
	fail_msg("records up to seq %llu never became durable", (unsigned long long)seq);
}

static void test_burst_synced_in_groups(void **state)
{
	struct trail t;
	struct audit_stats st;
	struct vres v;

	(void)state;
	trail_init(&t, 0);
	for (unsigned i = 0; i < 2000; i++)
		assert_int_equal(append_grouped(&t, i), 0);
	wait_durable(&t, 2000, &st);
	/* One sync per group, never one per record. */
	fprintf(stderr, "2000 grouped records: %llu syncs\n", (unsigned long long)st.syncs);
	assert_true(st.syncs >= 1);
	assert_true(st.syncs <= 2000 / 10);
	assert_int_equal(st.checkpoints, 0);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.records, 2000);
	trail_fini(&t);
}

/* A durable append after grouped ones covers them with its own sync. */
static void test_durable_append_covers_the_group(void **state)
{
	struct trail t;
	struct audit_stats st;

	(void)state;
	trail_init(&t, 0);
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(append_grouped(&t, i), 0);
	trail_append(&t, 1, "clerk");
	audit_get_stats(t.log, &st);
	assert_int_equal(st.durable_seq, 51);
	trail_fini(&t);
}

/* Fifty insertions in a burst, each asking for a seal: the flusher writes one checkpoint
 * (two if the burst outlasts the seal delay on a very slow disk), not fifty, and the trail
 * verifies with it. */
static void test_seal_requests_batched(void **state)
{
	struct trail t;
	struct audit_stats st;
	struct vres v;

	(void)state;
	memset(&t, 0, sizeof(t));
	trail_init(&t, 0);
	audit_close(&t.log);
	t.cfg.seal_delay_ms = 1000;
	trail_open(&t);
	for (unsigned i = 0; i < 50; i++) {
		trail_append(&t, 1, "clerk");
		assert_int_equal(audit_seal_soon(t.log), 0);
	}
	wait_durable(&t, 50, &st);
	for (int i = 0; i < 60000 && st.checkpoints == 0; i++) {
		usleep(1000);
		audit_get_stats(t.log, &st);
	}
	fprintf(stderr, "50 seal requests: %llu checkpoints\n", (unsigned long long)st.checkpoints);
	assert_true(st.checkpoints >= 1 && st.checkpoints <= 2);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.checkpoints, st.checkpoints);
	assert_int_equal(v.r.unsealed, 0);
	trail_fini(&t);
}

/* A seal still pending at close is written then, not dropped. */
static void test_pending_seal_written_at_close(void **state)
{
	struct trail t;
	struct vres v;

	(void)state;
	trail_init(&t, 0);
	audit_close(&t.log);
	t.cfg.seal_delay_ms = 3600 * 1000;
	trail_open(&t);
	trail_append(&t, 3, "clerk");
	assert_int_equal(audit_seal_soon(t.log), 0);
	audit_close(&t.log);
	verify_dir(&t, &v);
	assert_int_equal(v.rc, 0);
	assert_int_equal(v.r.checkpoints, 1);
	assert_int_equal(v.r.unsealed, 0);
	trail_fini(&t);
}

static struct json_object *event(const char *action, size_t pad)
{
	struct json_object *ev = json_object_new_object();
	char *text = calloc(1, pad + 1);

	memset(text, 'x', pad);
	json_object_object_add(ev, "event.action", json_object_new_string(action));
	json_object_object_add(ev, "device.name", json_object_new_string(text));
	free(text);
	return ev;
}

/* A device seen and its decision: after one deferred record, the pair is durable (it
 * and the record before it) with one sync, the two in order and chained; a pair with a
 * record too long is refused whole and writes nothing. */
static void test_pair_one_sync_in_order(void **state)
{
	struct trail t;
	struct audit_stats st0, st;
	struct vres v;
	struct json_object *seen = event("device-inserted", 8), *dec = event("device-allowed", 8);
	struct json_object *big = event("device-inserted", AUDIT_RECORD_MAX);
	char path[256], **lines;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 1, "clerk");
	assert_int_equal(audit_append_deferred(t.log, dec), 0);
	audit_get_stats(t.log, &st0);
	assert_int_equal(audit_append_pair(t.log, seen, dec), 0);
	audit_get_stats(t.log, &st);
	assert_int_equal(audit_last_seq(t.log), 4);
	assert_int_equal(st.durable_seq, 4);
	assert_int_equal(st.syncs - st0.syncs, 1);
	assert_int_equal(audit_append_pair(t.log, big, dec), -E2BIG);
	assert_int_equal(audit_append_pair(t.log, dec, big), -E2BIG);
	assert_int_equal(audit_last_seq(t.log), 4);
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &lines);
	assert_int_equal(n, 4);
	assert_non_null(strstr(lines[2], "\"seq\":3,"));
	assert_non_null(strstr(lines[2], "\"event.action\":\"device-inserted\""));
	assert_non_null(strstr(lines[3], "\"seq\":4,"));
	assert_non_null(strstr(lines[3], "\"event.action\":\"device-allowed\""));
	free_lines(lines, n);
	verify_dir(&t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.records, 4);
	json_object_put(seen);
	json_object_put(dec);
	json_object_put(big);
	trail_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_synced_in_groups),
	    cmocka_unit_test(test_durable_append_covers_the_group),
	    cmocka_unit_test(test_seal_requests_batched),
	    cmocka_unit_test(test_pending_seal_written_at_close),
	    cmocka_unit_test(test_pair_one_sync_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
