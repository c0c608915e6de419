/*
 * test_audit_resume.c - incremental verification: a verifier saved after part of a trail
 * and resumed in a new one accepts the rest, still refuses an altered, replaced or
 * missing record after the resume, and refuses a damaged state or a state made with
 * another trail's key. Test-only code (cmocka).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

struct fixture {
	struct trail t;
	char **lines;
	size_t n;
};

static void make(struct fixture *f)
{
	char seg[256];

	trail_init(&f->t, T0);
	trail_append(&f->t, 30, "clerk");
	assert_int_equal(audit_checkpoint(f->t.log), 0);
	f->t.now += 400;
	trail_append(&f->t, 30, "cllr.smith");
	assert_int_equal(audit_checkpoint(f->t.log), 0);
	seg_path(&f->t, "2026-01", seg, sizeof(seg));
	f->n = file_lines(seg, &f->lines);
	assert_true(f->n > 60);
}

static void fini(struct fixture *f)
{
	free_lines(f->lines, f->n);
	trail_fini(&f->t);
}

static unsigned fails;
static void count_fail(void *ctx, uint64_t seq, const char *file, unsigned line, const char *m)
{
	(void)ctx, (void)seq, (void)file, (void)line, (void)m;
	fails++;
}

static struct audit_verifier *verifier(const struct audit_key *key)
{
	struct audit_verify_opts o = {.key = key, .report = count_fail, .collected = true};
	struct audit_verifier *v = NULL;

	assert_int_equal(audit_verifier_new(&v, &o), 0);
	return v;
}

static void feed(struct audit_verifier *v, char **lines, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		audit_verifier_feed_line(v, lines[i], strlen(lines[i]), "seg", (unsigned)i + 1);
}

/* Saved state after the first `cut` lines. */
static char *saved_after(struct fixture *f, size_t cut)
{
	struct audit_verifier *v = verifier(&f->t.key);
	char *text = NULL;

	feed(v, f->lines, 0, cut);
	assert_int_equal(audit_verifier_save(v, &text), 0);
	audit_verifier_free(&v);
	return text;
}

static void test_resume_accepts_the_rest(void **state)
{
	struct fixture f;
	struct audit_verify_result r;
	struct audit_verifier *v;
	char *text;

	(void)state;
	make(&f);
	text = saved_after(&f, 20);
	v = verifier(&f.t.key);
	fails = 0;
	assert_int_equal(audit_verifier_resume(v, text, strlen(text)), 0);
	feed(v, f.lines, 18, f.n); /* two resent records first: repeats, skipped */
	assert_int_equal(audit_verifier_finish(v, &r), 0);
	assert_int_equal(fails, 0);
	assert_int_equal(r.records, f.n);
	assert_int_equal(r.duplicates, 2);
	assert_int_equal(r.first_seq, 1);
	assert_true(r.checkpoints >= 2);
	audit_verifier_free(&v);
	free(text);
	fini(&f);
}

static void test_after_resume_alterations_fail(void **state)
{
	struct fixture f;
	struct audit_verify_result r;
	struct audit_verifier *v;
	char *text, *bad;

	(void)state;
	make(&f);
	text = saved_after(&f, 20);
	/* an altered record after the resume point */
	bad = strdup(f.lines[25]);
	char *u = strstr(bad, "clerk");
	assert_non_null(u);
	u[0] = 'C';
	v = verifier(&f.t.key);
	assert_int_equal(audit_verifier_resume(v, text, strlen(text)), 0);
	feed(v, f.lines, 20, 25);
	audit_verifier_feed_line(v, bad, strlen(bad), "seg", 26);
	assert_int_equal(audit_verifier_finish(v, &r), -EBADMSG);
	audit_verifier_free(&v);
	/* a record before the resume point replaced (a rolled-back PC's rewritten history) */
	v = verifier(&f.t.key);
	assert_int_equal(audit_verifier_resume(v, text, strlen(text)), 0);
	free(bad);
	bad = strdup(f.lines[15]);
	u = strstr(bad, "clerk");
	u[0] = 'C';
	audit_verifier_feed_line(v, bad, strlen(bad), "seg", 16);
	assert_int_equal(audit_verifier_finish(v, &r), -EBADMSG);
	audit_verifier_free(&v);
	/* a gap right after the resume point */
	v = verifier(&f.t.key);
	assert_int_equal(audit_verifier_resume(v, text, strlen(text)), 0);
	feed(v, f.lines, 21, f.n);
	assert_int_equal(audit_verifier_finish(v, &r), -EBADMSG);
	audit_verifier_free(&v);
	free(bad);
	free(text);
	fini(&f);
}

static void test_damaged_or_foreign_state_refused(void **state)
{
	struct fixture f, g;
	struct audit_verifier *v;
	char *text, *copy;
	size_t l;

	(void)state;
	make(&f);
	text = saved_after(&f, 20);
	l = strlen(text);
	/* every truncation of the text is refused, and leaves the verifier fresh */
	for (size_t cut = 0; cut < l; cut += 7) {
		v = verifier(&f.t.key);
		assert_int_equal(audit_verifier_resume(v, text, cut), -EBADMSG);
		audit_verifier_free(&v);
	}
	copy = strdup(text);
	char *last = strstr(copy, "\nlast ");
	last[7] = last[7] == '9' ? '8' : '9'; /* another seq */
	v = verifier(&f.t.key);
	fails = 0;
	if (audit_verifier_resume(v, copy, l) == 0) {
		struct audit_verify_result r;
		feed(v, f.lines, 20, f.n);
		assert_int_equal(audit_verifier_finish(v, &r), -EBADMSG);
	}
	audit_verifier_free(&v);
	free(copy);
	/* the state of one trail with the key of another (same origin) */
	make(&g);
	v = verifier(&g.t.key);
	assert_int_equal(audit_verifier_resume(v, text, l), -EBADMSG);
	audit_verifier_free(&v);
	fini(&g);
	free(text);
	fini(&f);
}

static void test_failed_verifier_not_saved(void **state)
{
	struct fixture f;
	struct audit_verifier *v;
	char *text = NULL;

	(void)state;
	make(&f);
	v = verifier(&f.t.key);
	feed(v, f.lines, 0, 10);
	feed(v, f.lines, 11, 20); /* gap */
	assert_int_equal(audit_verifier_save(v, &text), -EINVAL);
	assert_null(text);
	audit_verifier_free(&v);
	fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resume_accepts_the_rest),
	    cmocka_unit_test(test_after_resume_alterations_fail),
	    cmocka_unit_test(test_damaged_or_foreign_state_refused),
	    cmocka_unit_test(test_failed_verifier_not_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
