/*
 * test_audit_intent.c - the trail's intent file: created preallocated at open, written by
 * each durable append alone, read back at open as untrusted bytes: a power cut's lost
 * records replayed into their segment and said in the trail, a torn newest entry ignored,
 * an entry for a purged month skipped, a segment shorter than an entry's start refused,
 * bytes already present left alone, an altered entry (checksum recomputed) refused, a
 * grouped record held by a decision's entry not synced on its own, and the slot parser's
 * checks. Test-only code (cmocka).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "helpers.h"
#include "audit_int.h"

static uint8_t file_buf[AUDIT_INTENT_FILE];

static void intent_path(const struct trail *t, char *out, size_t len)
{
	snprintf(out, len, "%s/intent", t->dir);
}

static void read_intent(const struct trail *t)
{
	char path[256];
	size_t len;
	char *data;

	intent_path(t, path, sizeof(path));
	data = slurp_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, AUDIT_INTENT_FILE);
	memcpy(file_buf, data, len);
	free(data);
}

static void write_intent(const struct trail *t)
{
	char path[256];

	intent_path(t, path, sizeof(path));
	write_file(path, (const char *)file_buf, AUDIT_INTENT_FILE);
}

/* The slot of the entry with the highest generation below `below` (UINT64_MAX: any). */
static int newest_below(uint64_t below, struct audit_intent *e)
{
	struct audit_intent x;
	int best = -1;

	for (int i = 0; i < AUDIT_INTENT_SLOTS; i++)
		if (audit_intent_parse(file_buf + (size_t)i * AUDIT_INTENT_SLOT, AUDIT_INTENT_SLOT,
				       &x, NULL) == 0 &&
		    x.gen < below && (best < 0 || x.gen > e->gen)) {
			*e = x;
			best = i;
		}
	assert_true(best >= 0);
	return best;
}

static void cut_segment(const struct trail *t, off_t at)
{
	char path[256];

	seg_path(t, "2026-01", path, sizeof(path));
	assert_int_equal(truncate(path, at), 0);
}

static off_t segment_size(const struct trail *t)
{
	char path[256];
	struct stat sb;

	seg_path(t, "2026-01", path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* The checksum of slot i recomputed over what it now holds (an edit by a root). */
static void reseal_slot(int i)
{
	uint8_t *s = file_buf + (size_t)i * AUDIT_INTENT_SLOT;
	size_t len = (size_t)s[32] | (size_t)s[33] << 8 | (size_t)s[34] << 16;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	assert_non_null(c);
	assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(c, s, AUDIT_INTENT_SUM_OFF), 1);
	assert_int_equal(EVP_DigestUpdate(c, s + AUDIT_INTENT_HDR, len), 1);
	assert_int_equal(EVP_DigestFinal_ex(c, s + AUDIT_INTENT_SUM_OFF, NULL), 1);
	EVP_MD_CTX_free(c);
}

static const char *last_line_of(const struct trail *t, char ***lines, size_t *n)
{
	char path[256];

	seg_path(t, "2026-01", path, sizeof(path));
	*n = file_lines(path, lines);
	assert_true(*n > 0);
	return (*lines)[*n - 1];
}

/* The trail reopened after a cut: `records` records, the last saying it was replayed
 * (and holding in_last, when given), line `line` still record `seq` (line < 0: not looked
 * at), and the whole trail verifies. */
static void expect_replayed(struct trail *t, int records, const char *in_last, int line, int seq)
{
	struct vres v;
	char **lines, want[32];
	size_t n;

	trail_open(t);
	assert_int_equal(audit_last_seq(t->log), records);
	audit_close(&t->log);
	const char *last = last_line_of(t, &lines, &n);
	assert_int_equal(n, records);
	assert_non_null(strstr(last, "\"event.action\":\"audit-intent-replayed\""));
	if (in_last != NULL)
		assert_non_null(strstr(last, in_last));
	if (line >= 0) {
		snprintf(want, sizeof(want), "\"seq\":%d,", seq);
		assert_non_null(strstr(lines[line], want));
	}
	free_lines(lines, n);
	verify_dir(t, &v);
	expect_clean(&v);
	assert_int_equal(v.r.records, records);
}

static void test_created_preallocated_and_used(void **state)
{
	struct trail t;
	struct audit_stats st;
	struct audit_intent e;
	struct stat sb;
	char path[256];

	(void)state;
	trail_init(&t, T0);
	intent_path(&t, path, sizeof(path));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, AUDIT_INTENT_FILE);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true(sb.st_blocks * 512 >= AUDIT_INTENT_FILE); /* written, not a hole */
	trail_append(&t, 3, "clerk");
	audit_get_stats(t.log, &st);
	assert_int_equal(st.intents, 3);
	assert_int_equal(st.durable_seq, 3);
	audit_close(&t.log);
	read_intent(&t);
	newest_below(UINT64_MAX, &e);
	assert_int_equal(e.gen, 3);
	assert_memory_equal(e.month, "2026-01", 8);
	assert_int_equal(e.off + e.len, (uint64_t)segment_size(&t));
	/* Reopened: the file is reused and generations continue above the highest seen. */
	trail_open(&t);
	trail_append(&t, 1, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	newest_below(UINT64_MAX, &e);
	assert_int_equal(e.gen, 4);
	assert_int_equal(e.off + e.len, (uint64_t)segment_size(&t));
	trail_fini(&t);
}

/* A power cut took the segment's bytes after the newest entry's start: they come back,
 * a record says so, the chain goes on and the trail verifies. */
static void test_power_cut_replayed(void **state)
{
	struct trail t;
	struct audit_intent e;
	char want[64];

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 5, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	newest_below(UINT64_MAX, &e);
	assert_true(e.off < (uint64_t)segment_size(&t));
	cut_segment(&t, (off_t)e.off);
	snprintf(want, sizeof(want), "\"audit.replay_offset\":%llu,", (unsigned long long)e.off);
	expect_replayed(&t, 6, want, 4, 5);
	trail_fini(&t);
}

/* The newest entry torn (its record was never reported durable): the one before it is
 * the newest, and what it holds comes back. */
static void test_torn_newest_ignored(void **state)
{
	struct trail t;
	struct audit_intent e, prev;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 5, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	int slot = newest_below(UINT64_MAX, &e);
	newest_below(e.gen, &prev);
	file_buf[(size_t)slot * AUDIT_INTENT_SLOT + AUDIT_INTENT_HDR + e.len - 3] ^= 1;
	write_intent(&t);
	cut_segment(&t, (off_t)prev.off);
	expect_replayed(&t, 5, NULL, 3, 4); /* records 1-4 and the replay record */
	trail_fini(&t);
}

/* The newest entry names a month whose segment is gone (purged): nothing is written. */
static void test_purged_month_skipped(void **state)
{
	struct trail t;
	struct json_object *ev = json_object_new_object();
	char path[256];

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 2, "clerk");
	t.now = T0 + 40 * DAY; /* February */
	json_object_object_add(ev, "event.action", json_object_new_string("device-inserted"));
	assert_int_equal(audit_append_deferred(t.log, ev), 0);
	json_object_put(ev);
	audit_close(&t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	trail_open(&t);
	assert_int_equal(audit_last_seq(t.log), 3);
	assert_int_equal(access(path, F_OK), -1);
	trail_fini(&t);
}

/* Shorter than the entry's start: a replay would leave a hole; refused, visibly. */
static void test_segment_shorter_than_entry_refused(void **state)
{
	struct trail t;
	struct audit_intent e;
	struct pcl_diag d = {0};
	char path[256];

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 1, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0); /* the segment synced: entries start later */
	trail_append(&t, 2, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	newest_below(UINT64_MAX, &e);
	assert_true(e.off > 0);
	cut_segment(&t, (off_t)e.off - 1);
	assert_int_equal(audit_open(&t.log, &t.cfg, &d), -EUCLEAN);
	assert_null(t.log);
	seg_path(&t, "2026-01", path, sizeof(path));
	assert_string_equal(d.file, path);
	assert_non_null(strstr(d.msg, "offset"));
	assert_int_equal(segment_size(&t), (off_t)e.off - 1); /* nothing written */
	trail_fini(&t);
}

/* Bytes already there: nothing written, no record; bytes there but different (a power
 * cut's garbage): written back, said in the trail. */
static void test_present_and_different(void **state)
{
	struct trail t;
	struct audit_intent e;
	char path[256];
	size_t len;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 3, "clerk");
	audit_close(&t.log);
	trail_open(&t);
	assert_int_equal(audit_last_seq(t.log), 3);
	audit_close(&t.log);
	read_intent(&t);
	newest_below(UINT64_MAX, &e);
	seg_path(&t, "2026-01", path, sizeof(path));
	char *seg = slurp_file(path, &len);
	assert_non_null(seg);
	memset(seg + e.off + e.len - 20, 0, 10); /* zeros where the newest record ended */
	write_file(path, seg, len);
	free(seg);
	expect_replayed(&t, 4, NULL, 2, 3);
	trail_fini(&t);
}

/* A grouped record (a device's removal) and a decision alone right after it, within the
 * group's window: the decision's intent entry holds the grouped record too, so the
 * flusher does not sync the segment for the group (which would put a sync of the segment
 * beside the next decision's durable write) but once the intent window ends. The waits
 * only bound the test; what is asserted is which sync happened. */
static void test_group_covered_by_intent_entry(void **state)
{
	struct json_object *ev = json_object_new_object();
	struct audit_stats st0, st;
	struct trail t;

	(void)state;
	trail_init(&t, T0);
	audit_close(&t.log);
	t.cfg.group_ms = 100;
	trail_open(&t);
	audit_get_stats(t.log, &st0);
	json_object_object_add(ev, "event.action", json_object_new_string("device-removed"));
	assert_int_equal(audit_append_grouped(t.log, ev), 0);
	json_object_put(ev);
	trail_append(&t, 1, "clerk");
	uint64_t seq = audit_last_seq(t.log);
	usleep(300 * 1000); /* three group windows, a third of the intent window */
	audit_get_stats(t.log, &st);
	assert_int_equal(st.intents, st0.intents + 1);
	assert_int_equal(st.durable_seq, seq);
	assert_int_equal(st.syncs, st0.syncs); /* no sync of the segment for the group */
	assert_true(st.trail_seq < seq);
	for (int i = 0; i < 100 && st.trail_seq < seq; i++) { /* the intent window: 1 s */
		usleep(50 * 1000);
		audit_get_stats(t.log, &st);
	}
	assert_int_equal(st.trail_seq, seq);
	assert_int_equal(st.syncs, st0.syncs + 1);
	trail_fini(&t);
}

/* An entry altered with its checksum made good again (a root after the fact): its
 * records do not carry the trail's MACs, nothing is written, the trail refuses to open. */
static void test_altered_entry_refused(void **state)
{
	struct trail t;
	struct audit_intent e;
	struct pcl_diag d = {0};

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 3, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	int slot = newest_below(UINT64_MAX, &e);
	char *p = (char *)file_buf + (size_t)slot * AUDIT_INTENT_SLOT + AUDIT_INTENT_HDR;
	char *who = memmem(p, e.len, "clerk", 5);
	assert_non_null(who);
	memcpy(who, "admin", 5);
	reseal_slot(slot);
	write_intent(&t);
	cut_segment(&t, (off_t)e.off);
	assert_int_equal(audit_open(&t.log, &t.cfg, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "MAC"));
	assert_non_null(strstr(d.msg, "trail-2026-01.jsonl"));
	char ipath[256];
	intent_path(&t, ipath, sizeof(ipath));
	assert_string_equal(d.file, ipath);
	assert_int_equal(segment_size(&t), (off_t)e.off);
	trail_fini(&t);
}

static int parse_edited(const uint8_t *orig, size_t at, uint8_t val, bool reseal)
{
	static uint8_t s[AUDIT_INTENT_SLOT];
	struct audit_intent e;
	struct pcl_diag d = {0};

	memcpy(s, orig, AUDIT_INTENT_SLOT);
	s[at] = val;
	if (reseal) {
		memcpy(file_buf, s, AUDIT_INTENT_SLOT);
		reseal_slot(0);
		memcpy(s, file_buf, AUDIT_INTENT_SLOT);
	}
	int rc = audit_intent_parse(s, AUDIT_INTENT_SLOT, &e, &d);
	assert_true(rc == 0 || d.msg[0] != '\0' || rc == -ENOENT);
	return rc;
}

static void test_parse_checks(void **state)
{
	static uint8_t orig[AUDIT_INTENT_SLOT], zero[AUDIT_INTENT_SLOT];
	struct trail t;
	struct audit_intent e;

	(void)state;
	trail_init(&t, T0);
	trail_append(&t, 1, "clerk");
	audit_close(&t.log);
	read_intent(&t);
	int slot = newest_below(UINT64_MAX, &e);
	const size_t len = e.len;
	memcpy(orig, file_buf + (size_t)slot * AUDIT_INTENT_SLOT, AUDIT_INTENT_SLOT);
	assert_int_equal(audit_intent_parse(orig, AUDIT_INTENT_SLOT, &e, NULL), 0);
	assert_int_equal(audit_intent_parse(zero, AUDIT_INTENT_SLOT, &e, NULL), -ENOENT);
	assert_int_equal(audit_intent_parse(orig, AUDIT_INTENT_HDR - 1, &e, NULL), -EBADMSG);
	/* Short of its own length: the parser never reads past what it is given. */
	assert_int_equal(audit_intent_parse(orig, AUDIT_INTENT_HDR + len - 1, &e, NULL), -EBADMSG);
	assert_int_equal(parse_edited(orig, 0, 'X', true), -EBADMSG);	/* magic */
	assert_int_equal(parse_edited(orig, 8, 0x55, false), -EBADMSG); /* gen, unsealed */
	assert_int_equal(parse_edited(orig, 15, 0x80, true), -EBADMSG); /* gen range */
	assert_int_equal(parse_edited(orig, 21, '3', true), -EBADMSG);	/* month 31 */
	assert_int_equal(parse_edited(orig, 31, 0x01, true), -EBADMSG); /* offset range */
	assert_int_equal(parse_edited(orig, 34, 0x01, true), -EBADMSG); /* length */
	assert_int_equal(parse_edited(orig, 37, 0x01, true), -EBADMSG); /* reserved */
	assert_int_equal(parse_edited(orig, AUDIT_INTENT_HDR + len - 1, 'x', true),
			 -EBADMSG); /* not a whole line */
	assert_int_equal(parse_edited(orig, AUDIT_INTENT_HDR + 2, 'x', false), -EBADMSG);
	assert_int_equal(parse_edited(orig, AUDIT_INTENT_HDR + 2, 'x', true), 0);
	trail_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_created_preallocated_and_used),
	    cmocka_unit_test(test_power_cut_replayed),
	    cmocka_unit_test(test_torn_newest_ignored),
	    cmocka_unit_test(test_purged_month_skipped),
	    cmocka_unit_test(test_segment_shorter_than_entry_refused),
	    cmocka_unit_test(test_present_and_different),
	    cmocka_unit_test(test_altered_entry_refused),
	    cmocka_unit_test(test_group_covered_by_intent_entry),
	    cmocka_unit_test(test_parse_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
