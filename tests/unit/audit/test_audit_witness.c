/*
 * test_audit_witness.c - the witness file parser (untrusted bytes: refused with the line
 * named) and round trip, from a real checkpoint of a trail. Test-only code (cmocka).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_int.h"
#include "helpers.h"

static char *real_witness(void)
{
	struct audit_witness w = {0};
	struct trail t;
	char note[4096], *text = NULL, b64[8192];

	trail_init(&t, T0);
	trail_append(&t, 4, "clerk");
	assert_int_equal(audit_checkpoint(t.log), 0);
	assert_int_equal(audit_last_checkpoint(t.log, note, sizeof(note)), 0);
	trail_fini(&t);
	assert_true(pcl_b64_encode((const uint8_t *)note, strlen(note), b64, sizeof(b64)) > 0);
	size_t cap = strlen(b64) + 200;
	text = malloc(cap);
	snprintf(text, cap,
		 "portcullis-witness 1\nseen 1768500000\nchecked 1768600000\nmark 2 1768400000\n"
		 "mark 4 1768500000\nnote %s\n",
		 b64);
	(void)w;
	return text;
}

static int parse(const char *text, struct pcl_diag *d)
{
	struct audit_witness w;
	int rc = audit_witness_parse(&w, text, strlen(text), "pc-7.witness", d);

	audit_witness_free(&w);
	return rc;
}

static void test_parse_and_round_trip(void **state)
{
	struct audit_witness w, w2;
	struct pcl_diag d = {0};
	char *text = real_witness(), *again = NULL;

	(void)state;
	assert_int_equal(audit_witness_parse(&w, text, strlen(text), "pc-7.witness", &d), 0);
	assert_string_equal(w.origin, "portcullis/unit-host");
	assert_int_equal(w.seq, 4);
	assert_int_equal(w.epoch, 0);
	assert_int_equal(w.time, T0);
	assert_int_equal(w.seen, 1768500000);
	assert_int_equal(w.checked, 1768600000);
	assert_int_equal(w.nmarks, 2);
	assert_int_equal(w.marks[1].seq, 4);
	assert_int_equal(audit_witness_format(&w, &again), 0);
	assert_string_equal(again, text);
	assert_int_equal(audit_witness_parse(&w2, again, strlen(again), "x", &d), 0);
	assert_memory_equal(w2.head, w.head, 32);
	audit_witness_free(&w2);
	audit_witness_free(&w);
	free(again);
	free(text);
}

/* One edit of a valid file; expects refusal naming line `line` with `what`. */
static void refuse(const char *text, const char *from, const char *to, unsigned line,
		   const char *what)
{
	struct pcl_diag d = {0};
	char *p = strstr(text, from), *bad;
	size_t fl = strlen(from), tl = strlen(to), len = strlen(text);

	assert_non_null(p);
	bad = malloc(len - fl + tl + 1);
	memcpy(bad, text, (size_t)(p - text));
	memcpy(bad + (p - text), to, tl);
	memcpy(bad + (p - text) + tl, p + fl, len - (size_t)(p - text) - fl + 1);
	if (parse(bad, &d) != -EBADMSG)
		fprintf(stderr, "accepted: %s -> %s\n", from, to);
	assert_int_equal(parse(bad, &d), -EBADMSG);
	if (d.line != line || strstr(d.msg, what) == NULL)
		fprintf(stderr, "line %u: %s\n", d.line, d.msg);
	assert_int_equal(d.line, line);
	assert_non_null(strstr(d.msg, what));
	assert_string_equal(d.file, "pc-7.witness");
	free(bad);
}

static void test_bad_files_refused_with_the_line(void **state)
{
	char *text = real_witness();

	(void)state;
	refuse(text, "portcullis-witness 1", "portcullis-witness 2", 1, "portcullis-witness 1");
	refuse(text, "seen 1768500000", "seen 17685x0000", 2, "field seen");
	refuse(text, "checked 1768600000", "checked 1768400000", 3, "field checked");
	refuse(text, "mark 4 1768500000", "mark 2 1768500000", 5, "field mark");
	refuse(text, "mark 4 1768500000", "mark 4 1768500001", 5, "field mark"); /* > seen */
	refuse(text, "mark 4 1768500000", "mark 9 1768500000", 6, "beyond the held");
	refuse(text, "note ", "note !!", 6, "field note");
	refuse(text, "note cG9y", "note cG9yCg", 6, "field note"); /* not a checkpoint */
	free(text);
}

static void test_structure_refused(void **state)
{
	struct pcl_diag d = {0};
	char *text = real_witness(), buf[16384];
	size_t len = strlen(text);

	(void)state;
	memcpy(buf, text, len - 1); /* no final newline */
	buf[len - 1] = '\0';
	assert_int_equal(parse(buf, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "no newline"));
	snprintf(buf, sizeof(buf), "%sseen 1\n", text); /* a line after the note */
	assert_int_equal(parse(buf, &d), -EBADMSG);
	assert_int_equal(d.line, 7);
	assert_int_equal(parse("portcullis-witness 1\nseen 1\nchecked 2\n", &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "incomplete"));
	assert_int_equal(parse("", &d), -EBADMSG);
	struct audit_witness w;
	assert_int_equal(audit_witness_parse(&w, "a\0b\n", 4, "x", &d), -EBADMSG);
	free(text);
}

/* Feed every segment of the trail to a fresh verifier, then check the witness. */
static int witness_run(struct trail *t, struct audit_witness *w, int64_t now,
		       struct audit_witness_result *res)
{
	struct audit_verify_opts vo = {.key = &t->key, .collected = true};
	struct audit_witness_opts wo = {.now = now};
	struct audit_verifier *v;
	char cmd[300], path[4096];
	FILE *p;
	int rc;

	assert_int_equal(audit_verifier_new(&v, &vo), 0);
	assert_int_equal(audit_witness_attach(w, v, "held"), 0);
	snprintf(cmd, sizeof(cmd), "ls %s/trail-*.jsonl | sort", t->dir);
	p = popen(cmd, "r");
	while (fgets(path, sizeof(path), p)) {
		path[strcspn(path, "\n")] = '\0';
		audit_verifier_feed_file(v, path);
	}
	pclose(p);
	rc = audit_witness_check(w, v, "pc", &wo, res);
	audit_verifier_free(&v);
	return rc;
}

/* Thirty months of checkpoints: one mark per month, at most 24 kept, file stays valid. */
static void test_marks_per_month_and_round_trip(void **state)
{
	struct audit_witness w = {0}, back;
	struct audit_witness_result res;
	struct pcl_diag d = {0};
	struct trail t;
	char *text;

	(void)state;
	trail_init(&t, T0);
	for (int m = 0; m < 30; m++) {
		trail_append(&t, 1, "clerk");
		assert_int_equal(audit_checkpoint(t.log), 0);
		assert_int_equal(witness_run(&t, &w, T0 + (int64_t)m * 31 * 86400 + 60, &res), 0);
		assert_true(res.updated);
		assert_int_equal(res.held_seq, m ? (uint64_t)(2 * m - 1) : 0);
		assert_int_equal(w.seq, 2 * m + 1);
		/* a second check without news: clean, not stale yet, not advanced */
		assert_int_equal(witness_run(&t, &w, T0 + (int64_t)m * 31 * 86400 + 120, &res), 0);
		assert_false(res.updated);
		assert_false(res.stale);
	}
	assert_int_equal(w.nmarks, AUDIT_WITNESS_MARKS);
	for (size_t i = 1; i < w.nmarks; i++)
		assert_true(w.marks[i].seq > w.marks[i - 1].seq);
	assert_int_equal(w.marks[AUDIT_WITNESS_MARKS - 1].seq, 2 * 29 + 1);
	assert_int_equal(audit_witness_format(&w, &text), 0);
	assert_int_equal(audit_witness_parse(&back, text, strlen(text), "w", &d), 0);
	assert_int_equal(back.nmarks, AUDIT_WITNESS_MARKS);
	assert_int_equal(back.checked, T0 + 29LL * 31 * 86400 + 120);
	/* silent past interval + margin: stale, still clean */
	assert_int_equal(witness_run(&t, &w, T0 + 29LL * 31 * 86400 + 60 + 3901, &res), 0);
	assert_true(res.stale);
	audit_witness_free(&back);
	audit_witness_free(&w);
	free(text);
	trail_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_round_trip),
	    cmocka_unit_test(test_bad_files_refused_with_the_line),
	    cmocka_unit_test(test_structure_refused),
	    cmocka_unit_test(test_marks_per_month_and_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
