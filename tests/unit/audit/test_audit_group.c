/*
 * test_audit_group.c - grouped durability and scheduled checkpoints of the audit writer:
 * a burst of grouped records costs far fewer disk syncs than records, all of them become
 * durable without the caller syncing, a burst of seal requests gets one checkpoint, and an
 * observation and its decision appended as a pair reach the disk with one sync, in order;
 * a pair or a group during which the month turns goes to the right months' segments, one
 * chain across them. Test-only code (cmocka).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
 * and the record before it) with one durable write, the two in order and chained; a pair with a
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
	/* One durable write: an entry of the intent file (the flusher syncs the segment
	 * later, maybe already). */
	assert_int_equal(st.intents - st0.intents, 1);
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

/* A wall clock that reads `before` for the next `reads_before` reads, then `after`: the
 * month turns between two records the writer stamps in one call. */
struct flip_clock {
	time_t before, after;
	int reads_before;
};

static void flip_seam(void *ctx, struct timespec *ts)
{
	struct flip_clock *c = ctx;

	ts->tv_sec = c->reads_before > 0 ? c->before : c->after;
	ts->tv_nsec = 0;
	if (c->reads_before > 0)
		c->reads_before--;
}

#define JAN31_LAST (T0 + 17 * DAY - 1) /* 2026-01-31T23:59:59Z */
#define FEB1	   (T0 + 17 * DAY)     /* 2026-02-01T00:00:00Z */

/* A trail on the flip clock with one record of January in it. */
static void flip_trail(struct trail *t, struct flip_clock *c)
{
	*c = (struct flip_clock){.before = JAN31_LAST, .after = FEB1, .reads_before = 1 << 20};
	trail_init(t, JAN31_LAST);
	audit_close(&t->log);
	t->cfg.now = flip_seam;
	t->cfg.now_ctx = c;
	trail_open(t);
	trail_append(t, 1, "clerk");
}

/* The lines of one month's segment that hold seq and action, in the file's order. */
static size_t month_lines(const struct trail *t, const char *month, char ***lines)
{
	char path[256];

	seg_path(t, month, path, sizeof(path));
	return file_lines(path, lines);
}

static bool line_is(const char *line, unsigned seq, const char *action, const char *time)
{
	char want_seq[32], want_action[64], want_time[64];

	snprintf(want_seq, sizeof(want_seq), "\"seq\":%u,", seq);
	snprintf(want_action, sizeof(want_action), "\"event.action\":\"%s\"", action);
	snprintf(want_time, sizeof(want_time), "\"@timestamp\":\"%s", time);
	return strstr(line, want_seq) && strstr(line, want_action) && strstr(line, want_time);
}

/* The month turns between the two records of a pair: the observation, stamped again when
 * it is written on its own, and its decision both go to February's segment, in order and
 * chained to January's last record; the pair is durable when the call returns, and the
 * two segments verify as one trail. */
static void test_pair_across_a_month_boundary(void **state)
{
	struct trail t;
	struct flip_clock c;
	struct audit_stats st;
	struct vres v;
	struct json_object *seen = event("device-inserted", 8), *dec = event("device-allowed", 8);
	char **jan, **feb;

	(void)state;
	flip_trail(&t, &c);
	c.reads_before = 1; /* the pair's first stamp is January's, its second February's */
	assert_int_equal(audit_append_pair(t.log, seen, dec), 0);
	assert_int_equal(c.reads_before, 0);
	audit_get_stats(t.log, &st);
	assert_int_equal(audit_last_seq(t.log), 3);
	assert_int_equal(st.durable_seq, 3);
	audit_close(&t.log);
	size_t nj = month_lines(&t, "2026-01", &jan), nf = month_lines(&t, "2026-02", &feb);
	assert_int_equal(nj, 1);
	assert_true(line_is(jan[0], 1, "file-write", "2026-01-31T23:59:59"));
	assert_int_equal(nf, 2);
	assert_true(line_is(feb[0], 2, "device-inserted", "2026-02-01T00:00:00"));
	assert_true(line_is(feb[1], 3, "device-allowed", "2026-02-01T00:00:00"));
	free_lines(jan, nj);
	free_lines(feb, nf);
	verify_dir(&t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.records, 3);
	json_object_put(seen);
	json_object_put(dec);
	trail_fini(&t);
}

/* The month turns inside a group: its first records end January's segment, the rest
 * open February's, one sequence and one chain across both; all of it becomes durable and
 * the trail verifies, and a record appended after the group follows it in February. */
static void test_group_across_a_month_boundary(void **state)
{
	struct trail t;
	struct flip_clock c;
	struct audit_stats st;
	struct vres v;
	struct json_object *ev[4];
	char **jan, **feb;

	(void)state;
	for (size_t i = 0; i < 4; i++)
		ev[i] = event(i < 2 ? "file-read" : "file-written", 16);
	flip_trail(&t, &c);
	c.reads_before = 2; /* one stamp a record: two in January, two in February */
	assert_int_equal(audit_append_group(t.log, ev, 4), 0);
	assert_int_equal(c.reads_before, 0);
	wait_durable(&t, 5, &st);
	trail_append(&t, 1, "clerk");
	audit_close(&t.log);
	size_t nj = month_lines(&t, "2026-01", &jan), nf = month_lines(&t, "2026-02", &feb);
	assert_int_equal(nj, 3);
	assert_true(line_is(jan[0], 1, "file-write", "2026-01-31T23:59:59"));
	assert_true(line_is(jan[1], 2, "file-read", "2026-01-31T23:59:59"));
	assert_true(line_is(jan[2], 3, "file-read", "2026-01-31T23:59:59"));
	assert_int_equal(nf, 3);
	assert_true(line_is(feb[0], 4, "file-written", "2026-02-01T00:00:00"));
	assert_true(line_is(feb[1], 5, "file-written", "2026-02-01T00:00:00"));
	assert_true(line_is(feb[2], 6, "file-write", "2026-02-01T00:00:00"));
	free_lines(jan, nj);
	free_lines(feb, nf);
	verify_dir(&t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.records, 6);
	for (size_t i = 0; i < 4; i++)
		json_object_put(ev[i]);
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
	    cmocka_unit_test(test_pair_across_a_month_boundary),
	    cmocka_unit_test(test_group_across_a_month_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
