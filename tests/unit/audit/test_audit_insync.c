/*
 * test_audit_insync.c - what the audit writer does while a disk sync of its segment is in
 * flight: records appended meanwhile (a transfer log's group, a decision) are in the
 * segment for its readers as soon as their call returns, not when the sync ends; the sync
 * counts as durable only what was written before it started; a decision is durable
 * through the intent file without waiting for it. The sync is held open by this test's
 * own fdatasync (an executable's definition precedes libc's, so the writer's calls come
 * here), for as long as the test needs: no timing is asserted. Test-only code (cmocka).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "helpers.h"

/* The gate: while closed, a sync of a trail segment waits in it; each permit lets one
 * through. A sync left waiting 60 s passes on its own and says so (the test then fails
 * instead of hanging). */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_closed, gate_timed_out;
static unsigned gate_permits, gate_entered, gate_inside;

static bool is_segment(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	return strstr(path, "/trail-") != NULL && strstr(path, ".jsonl") != NULL;
}

int fdatasync(int fd)
{
	if (is_segment(fd)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 60;
		pthread_mutex_lock(&gate_lock);
		gate_entered++;
		gate_inside++;
		pthread_cond_broadcast(&gate_cond);
		while (gate_closed && gate_permits == 0 && !gate_timed_out)
			if (pthread_cond_timedwait(&gate_cond, &gate_lock, &until) == ETIMEDOUT)
				gate_timed_out = true;
		if (gate_closed && gate_permits > 0)
			gate_permits--;
		gate_inside--;
		pthread_mutex_unlock(&gate_lock);
	}
	return (int)syscall(SYS_fdatasync, fd);
}

static void gate_close(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_closed = true;
	gate_permits = 0;
	gate_entered = 0;
	gate_timed_out = false;
	pthread_mutex_unlock(&gate_lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_closed = false;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_permit(void)
{
	pthread_mutex_lock(&gate_lock);
	gate_permits++;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

/* Wait until n syncs have entered the gate since it closed and one waits in it (a
 * liveness bound only). */
static void gate_wait_entered(unsigned n)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&gate_lock);
	while ((gate_entered < n || gate_inside == 0) &&
	       pthread_cond_timedwait(&gate_cond, &gate_lock, &until) != ETIMEDOUT)
		;
	bool ok = gate_entered >= n && gate_inside > 0;
	pthread_mutex_unlock(&gate_lock);
	if (!ok)
		fail_msg("no sync of the segment reached the gate (%u of %u)", gate_entered, n);
}

/* A sync is still held in the gate, none passed it on its own. */
static void assert_sync_in_flight(void)
{
	pthread_mutex_lock(&gate_lock);
	bool inside = gate_inside > 0, timed_out = gate_timed_out;
	pthread_mutex_unlock(&gate_lock);
	assert_false(timed_out);
	assert_true(inside);
}

static struct json_object *file_event(const char *tag, unsigned i)
{
	struct json_object *ev = json_object_new_object();
	char path[64];

	snprintf(path, sizeof(path), "/media/stick/%s-%u.bin", tag, i);
	json_object_object_add(ev, "event.action", json_object_new_string("file-written"));
	json_object_object_add(ev, "file.path", json_object_new_string(path));
	return ev;
}

/* How many lines of the trail's segments, as a reader sees them now, hold s. */
static unsigned lines_with(const struct trail *t, const char *s)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[512], **lines;
		if (strncmp(e->d_name, "trail-", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->dir, e->d_name);
		size_t k = file_lines(path, &lines);
		for (size_t i = 0; i < k; i++)
			n += strstr(lines[i], s) != NULL;
		free_lines(lines, k);
	}
	closedir(d);
	return n;
}

/* Liveness wait for the flusher (no timing asserted). */
static void wait_durable(struct trail *t, uint64_t seq)
{
	struct audit_stats st;

	for (int i = 0; i < 60000; i++) {
		audit_get_stats(t->log, &st);
		if (st.trail_seq >= seq)
			return;
		usleep(1000);
	}
	fail_msg("records up to seq %llu never reached the disk", (unsigned long long)seq);
}

/* A fresh trail whose flusher is held in its sync of one grouped record (seq returned):
 * the segment exists before, so that its opening sync is not the one held. */
static uint64_t hold_a_group_sync(struct trail *t)
{
	struct json_object *first = file_event("before", 0);

	trail_init(t, 0);
	trail_append(t, 1, "clerk");
	gate_close();
	assert_int_equal(audit_append_group(t->log, &first, 1), 0);
	json_object_put(first);
	gate_wait_entered(1);
	return audit_last_seq(t->log);
}

/* Let every sync through, wait until the segment holds everything up to seq, close and
 * verify the trail: seq records, whole and chained. */
static void release_and_verify(struct trail *t, uint64_t seq)
{
	struct vres v;

	gate_open();
	wait_durable(t, seq);
	audit_close(&t->log);
	verify_dir(t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.records, seq);
	trail_fini(t);
}

/* A transfer log's group appended while the flusher's sync for the group before is in
 * flight: in the segment when the call returns; the sync in flight makes durable only
 * what it started with, the next sync the rest; the trail verifies. */
static void test_group_readable_while_a_sync_is_in_flight(void **state)
{
	struct json_object *ev[8];
	struct audit_stats st;
	struct trail t;

	(void)state;
	uint64_t s1 = hold_a_group_sync(&t);
	for (unsigned i = 0; i < 8; i++)
		ev[i] = file_event("in-flight", i);
	assert_int_equal(audit_append_group(t.log, ev, 8), 0);
	for (unsigned i = 0; i < 8; i++)
		json_object_put(ev[i]);
	uint64_t s2 = audit_last_seq(t.log);
	assert_int_equal(s2, s1 + 8);
	/* Readable now, while the sync is still held. */
	assert_int_equal(lines_with(&t, "/in-flight-"), 8);
	assert_sync_in_flight();
	audit_get_stats(t.log, &st);
	assert_true(st.durable_seq < s1); /* nothing claimed durable before the sync ends */

	/* The held sync ends: it covers what it started with, not the group after it. */
	gate_permit();
	wait_durable(&t, s1);
	audit_get_stats(t.log, &st); /* the next sync, for the group, cannot pass the gate */
	assert_int_equal(st.trail_seq, s1);
	assert_int_equal(st.durable_seq, s1);
	release_and_verify(&t, s2);
}

/* A decision appended while a group's sync is in flight: durable through the intent file,
 * without waiting for that sync, and in the segment when the call returns. */
static void test_decision_not_behind_a_sync_in_flight(void **state)
{
	struct json_object *ev = json_object_new_object();
	struct audit_stats st;
	struct trail t;

	(void)state;
	hold_a_group_sync(&t);
	json_object_object_add(ev, "event.action", json_object_new_string("device-allowed"));
	json_object_object_add(ev, "usb.serial", json_object_new_string("held-sync-0001"));
	assert_int_equal(audit_append(t.log, ev), 0);
	json_object_put(ev);
	uint64_t s = audit_last_seq(t.log);
	assert_sync_in_flight();
	assert_int_equal(lines_with(&t, "held-sync-0001"), 1);
	audit_get_stats(t.log, &st);
	assert_int_equal(st.durable_seq, s);
	assert_true(st.intents >= 1);
	assert_true(st.trail_seq < s);
	release_and_verify(&t, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_readable_while_a_sync_is_in_flight),
	    cmocka_unit_test(test_decision_not_behind_a_sync_in_flight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
