/*
 * test_audit_time.c - time in the audit trail: records dated before their predecessor or
 * outside their segment's month are refused, the writer keeps time moving forward after
 * a clock step back, a clock jump holds the retention purge (data kept, jump recorded),
 * and purge records name the last erased record; a record's @timestamp and month are
 * the calendar's, whatever the order of the times asked for (the writer keeps the last
 * second's). Test-only code (cmocka).
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
#include "writer_int.h"

static char *find_line(char **l, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(l[i], what))
			return l[i];
	return NULL;
}

static void test_backdated_record_refused(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 3, "clerk");
	t.now += 3 * 3600;
	trail_append(&t, 1, "clerk");
	audit_close(&t.log);
	verify_dir(&t, &v);
	expect_clean(&v);
	/* The last record, dated two hours before its predecessor, sealed with the key. */
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &l);
	replace_in(l[n - 1], "2026-01-15T03:00:00.000Z", "2026-01-14T22:00:00.000Z");
	reseal(l[n - 1], t.key.mac_key);
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "seq 4: dated 2026-01-14T22:00:00Z, before an earlier record's "
			   "2026-01-15T00:00:00Z: time goes backwards");
	assert_null(strstr(v.msgs, "MAC"));
	free_lines(l, n);
	trail_fini(&t);
}

static void test_record_outside_its_month_segment_refused(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 3, "clerk");
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	n = file_lines(path, &l);
	replace_in(l[n - 1], "2026-01-15T00:00:00.000Z", "2026-02-15T00:00:00.000Z");
	reseal(l[n - 1], t.key.mac_key);
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "seq 3: dated 2026-02 but stored in the segment of 2026-01");
	free_lines(l, n);
	trail_fini(&t);
}

static void test_writer_keeps_time_forward_after_step_back(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l;
	size_t n;

	(void)state;
	trail_init(&t, 1820000000); /* 2027-09-03 */
	trail_append(&t, 3, "clerk");
	t.now = 1801000000; /* 2027-01-26: the clock stepped back seven months */
	trail_append(&t, 3, "clerk");
	audit_close(&t.log);
	seg_path(&t, "2027-01", path, sizeof(path));
	assert_int_not_equal(access(path, F_OK), 0);
	seg_path(&t, "2027-09", path, sizeof(path));
	n = file_lines(path, &l);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_non_null(strstr(l[i], "\"@timestamp\":\"2027-09-03T"));
	verify_dir(&t, &v);
	expect_clean(&v);
	free_lines(l, n);
	trail_fini(&t);
}

/* January to March, then the wall clock moves seven months while the boot clock moves ten
 * seconds (date -s), a tick: nothing is purged, the jump is recorded, and it stays so
 * after the clock returns and the writer is reopened in the same boot. */
static void test_clock_jump_holds_the_purge(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], **l, *st;
	size_t n, len;

	(void)state;
	trail_init(&t, T0);
	audit_close(&t.log);
	t.boot = 1000;
	trail_boot_clock(&t);
	trail_open(&t);
	for (int m = 0; m < 3; m++) {
		trail_append(&t, 3, "clerk");
		assert_int_equal(audit_tick(t.log), 0);
		t.now += 31 * DAY;
		t.boot += 31 * DAY;
	}
	t.now += 7 * 31 * DAY;
	t.boot += 10;
	assert_int_equal(audit_tick(t.log), 0);
	seg_path(&t, "2026-01", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	t.now -= 7 * 31 * DAY;
	t.boot += 10;
	trail_append(&t, 2, "clerk");
	assert_int_equal(audit_tick(t.log), 0);
	audit_close(&t.log);
	t.now += 7 * 31 * DAY;
	t.boot += 10;
	trail_open(&t);
	assert_int_equal(audit_tick(t.log), 0);
	audit_close(&t.log);
	assert_int_equal(access(path, F_OK), 0);

	snprintf(path, sizeof(path), "%s/state", t.dir);
	st = slurp_file(path, &len);
	assert_non_null(strstr(st, "\npurge-hold 00000000-0000-4000-8000-000000000001\n"));
	free(st);
	seg_path(&t, "2026-11", path, sizeof(path));
	n = file_lines(path, &l);
	char *jump = find_line(l, n, "\"event.action\":\"audit-clock-jump\"");
	assert_non_null(jump);
	assert_non_null(strstr(jump, "\"audit.clock_expected\":\"2026-04-18T00:00:10.000Z\""));
	assert_non_null(strstr(jump, "\"audit.clock_found\":\"2026-11-21T00:00:00.000Z\""));
	assert_null(find_line(l, n, "\"audit.type\":\"purge\""));
	free_lines(l, n);
	verify_dir(&t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.first_seq, 1);
	assert_int_equal(v.r.purges, 0);
	trail_fini(&t);
}

/* Nine months: the purge record names the last erased record (seq, hash, time). */
static void nine_months(struct trail *t, char *jan_copy, size_t len)
{
	char path[256];

	trail_init(t, T0);
	for (int m = 0; m < 8; m++) { /* the purge of January comes in August */
		trail_append(t, 3, "clerk");
		assert_int_equal(audit_tick(t->log), 0);
		if (m == 0) {
			size_t l;
			char *data;
			seg_path(t, "2026-01", path, sizeof(path));
			data = slurp_file(path, &l);
			snprintf(jan_copy, len, "%s/jan.log", t->dir);
			write_file(jan_copy, data, l);
			free(data);
		}
		t->now += 31 * DAY;
	}
	audit_close(&t->log);
}

static void test_purge_names_the_last_erased_record(void **state)
{
	struct trail t;
	struct vres v;
	char path[256], jan[300], **l, **j, *p, want[200];
	size_t n, nj;

	(void)state;
	nine_months(&t, jan, sizeof(jan));
	j = NULL;
	nj = file_lines(jan, &j);
	seg_path(&t, "2026-08", path, sizeof(path));
	n = file_lines(path, &l);
	p = find_line(l, n, "\"audit.type\":\"purge\"");
	assert_non_null(p);
	snprintf(want, sizeof(want), "\"audit.purge_last_seq\":%zu,", nj);
	assert_non_null(strstr(p, want));
	assert_non_null(strstr(p, "\"audit.purge_last_time\":\"2026-01-15T00:00:00.000Z\""));
	{
		struct audit_hasher *h = audit_hasher_new();
		uint8_t hash[32];
		char hex[65];
		assert_int_equal(audit_hasher_record(h, j[nj - 1], strlen(j[nj - 1]), hash), 0);
		audit_hex(hex, hash);
		snprintf(want, sizeof(want), "\"audit.purge_last_hash\":\"%s\"", hex);
		assert_non_null(strstr(p, want));
		audit_hasher_free(h);
	}
	verify_dir(&t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.purges, 1);

	/* The collector's copy still holds January: the purge must describe it truly. */
	char coll[300];
	snprintf(coll, sizeof(coll), "%s/collected.log", t.dir);
	{
		char cmd[1200];
		snprintf(cmd, sizeof(cmd), "cat '%s' $(ls %s/trail-*.jsonl | sort) > '%s'", jan,
			 t.dir, coll);
		assert_int_equal(system(cmd), 0);
	}
	const char *files[] = {coll};
	verify_collected(&t, files, 1, &v);
	expect_clean(&v);
	char *orig = strdup(p);
	replace_in(p, "\"audit.purge_last_time\":\"2026-01-15T00:00:00.000Z\"",
		   "\"audit.purge_last_time\":\"2026-01-14T00:00:00.000Z\"");
	write_lines(path, l, n);
	{
		char cmd[1200];
		snprintf(cmd, sizeof(cmd), "cat '%s' $(ls %s/trail-*.jsonl | sort) > '%s'", jan,
			 t.dir, coll);
		assert_int_equal(system(cmd), 0);
	}
	verify_collected(&t, files, 1, &v);
	expect_failure(&v, "otherwise than the trail's record (hash or time differ)");

	/* A last erased record dated after `before`, or no description at all: refused. */
	strcpy(p, orig);
	replace_in(p, "\"audit.purge_last_time\":\"2026-01-15T00:00:00.000Z\"",
		   "\"audit.purge_last_time\":\"2026-02-15T00:00:00.000Z\"");
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "purge before 2026-02 erases seq");
	expect_failure(&v, "which is not before it");
	strcpy(p, orig);
	replace_in(p, "\"audit.purge_last_seq\"", "\"audit.purge_last_sex\"");
	write_lines(path, l, n);
	verify_dir(&t, &v);
	expect_failure(&v, "purge record lacks audit.purge_last_seq");
	expect_failure(&v, "no signed purge record accounts for them");
	free(orig);
	free_lines(j, nj);
	free_lines(l, n);
	trail_fini(&t);
}

/* @timestamp and the segment's month of times in any order, the same second again, the
 * turn of a month and a year, against the C library's calendar. */
static void test_timestamps_are_the_calendars(void **state)
{
	static const int64_t ms[] = {0,
				     999,
				     1764547199999, /* 2025-11-30T23:59:59.999Z */
				     1764547200000, /* 2025-12-01T00:00:00.000Z */
				     1764547200001,
				     1764547199000,
				     1767225599123, /* 2025-12-31T23:59:59.123Z */
				     1767225600050,
				     1767225600050,
				     T0 * 1000LL + 7,
				     253402300799999}; /* 9999-12-31T23:59:59.999Z */

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		time_t t = (time_t)(ms[i] / 1000);
		struct tm tm;
		char want[64], got[64], month[8], want_month[8];
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (int)(ms[i] % 1000));
		strftime(want_month, sizeof(want_month), "%Y-%m", &tm);
		audit_timestamp(got, ms[i]);
		assert_string_equal(got, want);
		audit_month_of(month, t);
		assert_string_equal(month, want_month);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timestamps_are_the_calendars),
	    cmocka_unit_test(test_backdated_record_refused),
	    cmocka_unit_test(test_record_outside_its_month_segment_refused),
	    cmocka_unit_test(test_writer_keeps_time_forward_after_step_back),
	    cmocka_unit_test(test_clock_jump_holds_the_purge),
	    cmocka_unit_test(test_purge_names_the_last_erased_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
