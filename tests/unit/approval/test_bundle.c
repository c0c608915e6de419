/*
 * test_bundle.c - the council bundle's text form: byte-exact round trips, every
 * malformed or non-canonical spelling refused with the line and field named, truncation
 * at every byte refused, and the signed body hash committing to every body byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "edit_cases.h"

static struct appr_bundle b, back;
static char text[APPR_BUNDLE_MAX], again[APPR_BUNDLE_MAX];

/* A format 1 bundle (still read): no owed wipes. */
static void sample(struct appr_bundle *x)
{
	memset(x, 0, sizeof(*x));
	x->format = 1;
	strcpy(x->council, "watton");
	x->version = 3;
	x->issued = 1763900000;
	x->profile_len = (size_t)sprintf(x->profile, "council = watton\nname = Watton\n");
	x->rules_len = (size_t)sprintf(x->rules, "allow with-interface match-all { 09:00:* }\n");
	x->n_approvers = 2;
	strcpy(x->approvers[0].name, "Jane Clerk");
	strcpy(x->approvers[0].role, "Clerk");
	x->approvers[0].cred_len = 3;
	memset(x->approvers[0].cred, 0x01, 3); /* AQEB */
	memset(x->approvers[0].pk, 0x02, 64);
	strcpy(x->approvers[1].name, "IT provider");
	strcpy(x->approvers[1].role, "Recovery ");
	x->approvers[1].recovery = true;
	x->approvers[1].cred_len = 6;
	memset(x->approvers[1].cred, 0xff, 6); /* //////// */
	memset(x->approvers[1].pk, 0x03, 64);
	x->signer_len = 3;
	memset(x->signer, 0x01, 3);
	x->authdata_len = 37;
	memset(x->authdata, 0x05, 37);
	x->sig_len = 70;
	memset(x->sig, 0x30, 70);
}

static void round_trip_is_byte_exact(void **state)
{
	(void)state;
	struct pcl_diag d = {0};

	sample(&b);
	int n = appr_bundle_encode(&b, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "portcullis-council-bundle 1\ncouncil: watton\nversion: 3\n"));
	assert_non_null(strstr(text, "approver: recovery //////// AwMD"));
	assert_non_null(strstr(text, "approver.role: Recovery%20\n"));
	assert_int_equal(appr_bundle_parse(text, (size_t)n, "b", &back, &d), 0);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.n_approvers, 2);
	assert_true(back.approvers[1].recovery);
	assert_false(back.approvers[0].recovery);
	assert_string_equal(back.approvers[1].role, "Recovery ");
	assert_int_equal(back.profile_len, b.profile_len);
	assert_memory_equal(back.rules, b.rules, b.rules_len);
	assert_non_null(appr_bundle_find(&back, b.approvers[1].cred, 6));
	assert_null(appr_bundle_find(&back, b.approvers[1].cred, 5));
	assert_int_equal(appr_bundle_encode(&back, again, sizeof(again)), n);
	assert_string_equal(text, again);
	/* The body ends where the signature starts. */
	assert_int_equal(appr_bundle_encode_body(&b, again, sizeof(again)), back.body_len);
	assert_memory_equal(again, text, back.body_len);
	assert_int_equal(strncmp(text + back.body_len, "signed-by: ", 11), 0);
}

static void encode_refuses_what_cannot_be_read_back(void **state)
{
	(void)state;
	sample(&b);
	b.version = 0;
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	b.n_approvers = 0;
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	strcpy(b.council, "Watton");
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	b.rules_len = 0;
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	b.approvers[0].name[0] = '\0';
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	b.authdata_len = 36;
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample(&b);
	assert_int_equal(appr_bundle_encode(&b, text, 100), -ENOSPC);
}

/* The bundle parser as the refusal checks call it. */
static int parse_bundle(const char *t, size_t len, const char *file, struct pcl_diag *d)
{
	return appr_bundle_parse(t, len, file, &back, d);
}

static void parser_refuses_and_names_the_line(void **state)
{
	(void)state;
	static const struct edit_case cases[] = {
	    {"bundle 1\n", "bundle 3\n", 1, "version"},
	    {"council: watton", "council: Watton", 2, "council"},
	    {"version: 3", "version: 03", 3, "version"},
	    {"version: 3", "version: 0", 3, "numbered from 1"},
	    {"issued: 1763900000", "issued: 0", 4, "issued"},
	    {"profile: ", "profile: *", 5, "profile"},
	    {"approvers: 2", "approvers: 3", 14, "approver"},
	    {"approvers: 2", "approvers: 0", 7, "at least one"},
	    {"approvers: 2", "approvers: 33", 7, "approvers"},
	    {"approver: approver", "approver: clerk", 8, "recovery"},
	    {"approver: approver AQEB ", "approver: approver AQEB  ", 8, "approver"},
	    {"approver: recovery ////////", "approver: recovery AQEB", 11, "same credential"},
	    {"approver: approver AQEB AgIC", "approver: approver AQEB AgI", 8, "public key"},
	    {"approver.name: Jane Clerk", "approver.name:", 9, "empty"},
	    {"approver.role: Recovery%20", "approver.role: Recovery ", 13, "trailing space"},
	    {"signed-by: ", "signed-by: =", 14, "signed-by"},
	    {"signature: ", "signatures: ", 16, "signature"},
	};
	sample(&b);
	assert_true(appr_bundle_encode(&b, text, sizeof(text)) > 0);
	assert_int_equal(edit_cases_refused(text, "council.bundle", cases,
					    sizeof(cases) / sizeof(cases[0]), parse_bundle),
			 0);
	/* Trailing text. */
	struct pcl_diag d = {0};
	sample(&b);
	int n = appr_bundle_encode(&b, text, sizeof(text));
	strcpy(text + n, "x\n");
	assert_int_equal(appr_bundle_parse(text, (size_t)n + 2, "b", &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "after the signature"));
}

/* Format 2: the council's open owed wipes, signed with the rest. */
static void sample2(struct appr_bundle *x)
{
	sample(x);
	x->format = 0; /* the newest */
	x->n_owed = 2;
	strcpy(x->owed[0].ref, "A-0123456789abcdef");
	strcpy(x->owed[0].hash, "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=");
	x->owed[0].vid = 0x090c;
	x->owed[0].pid = 0x1000;
	x->owed[0].capacity = 33554432;
	strcpy(x->owed[0].serial, "AA00 011%");
	strcpy(x->owed[1].ref, "A-fedcba9876543210");
	strcpy(x->owed[1].hash, "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyMTI=");
	x->owed[1].vid = 0x0951;
	x->owed[1].pid = 0x1666;
}

static void owed_wipes_round_trip_and_are_found_by_identity(void **state)
{
	(void)state;
	struct pcl_diag d = {0};

	sample2(&b);
	int n = appr_bundle_encode(&b, text, sizeof(text));
	assert_true(n > 0);
	assert_true(strncmp(text, "portcullis-council-bundle 2\n", 28) == 0);
	assert_non_null(strstr(text, "\nowed: 2\nowed.wipe: A-0123456789abcdef Zm9vYmFy"));
	assert_non_null(strstr(text, "MTI= 090c:1000 33554432\nowed.serial: AA00 011%25\n"));
	assert_non_null(strstr(text, "MTI= 0951:1666 0\nowed.serial:\nsigned-by: "));
	assert_int_equal(appr_bundle_parse(text, (size_t)n, "b", &back, &d), 0);
	assert_int_equal(back.format, 2);
	assert_int_equal(back.n_owed, 2);
	assert_int_equal(appr_bundle_encode(&back, again, sizeof(again)), n);
	assert_string_equal(text, again);
	/* Recognised by hash, ids and serial, every one of them. */
	const char *h = b.owed[0].hash;
	assert_ptr_equal(appr_bundle_owed_find(&back, h, 0x090c, 0x1000, "AA00 011%"),
			 &back.owed[0]);
	assert_null(appr_bundle_owed_find(&back, h, 0x090c, 0x1000, "AA00 011"));
	assert_null(appr_bundle_owed_find(&back, h, 0x090c, 0x1001, "AA00 011%"));
	assert_null(appr_bundle_owed_find(&back, "x", 0x090c, 0x1000, "AA00 011%"));
	/* The owed wipes are part of the signed body. */
	assert_true(back.body_len > (size_t)(strstr(text, "owed.serial:\n") - text));
	/* Format 1 cannot carry them; a reference twice is refused. */
	sample2(&b);
	b.format = 1;
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample2(&b);
	strcpy(b.owed[1].ref, b.owed[0].ref);
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
	sample2(&b);
	strcpy(b.owed[1].ref, "A-FEDCBA9876543210");
	assert_int_equal(appr_bundle_encode(&b, text, sizeof(text)), -EINVAL);
}

static void owed_wipes_parser_refuses_and_names_the_line(void **state)
{
	(void)state;
	static const struct edit_case cases[] = {
	    {"owed: 2", "owed: 257", 14, "owed"},
	    {"owed: 2", "owed: 3", 19, "owed.wipe"},
	    {"A-0123456789abcdef Zm9v", "A-0123456789ABCDEF Zm9v", 15, "approval reference"},
	    {"A-0123456789abcdef Zm9v", "A-0123456789abcdef  Zm9v", 15, "approval reference"},
	    {"090c:1000 33554432", "090c:1000 033554432", 15, "capacity"},
	    {"090c:1000 33554432", "090C:1000 33554432", 15, "capacity"},
	    {"090c:1000 33554432", "090c:1000 33554432 x", 15, "capacity"},
	    {"A-fedcba9876543210", "A-0123456789abcdef", 17, "same reference"},
	    {"owed.serial: AA00 011%25", "owed.serial: AA00 011%", 16, "hex"},
	};
	sample2(&b);
	assert_true(appr_bundle_encode(&b, text, sizeof(text)) > 0);
	assert_int_equal(edit_cases_refused(text, "council.bundle", cases,
					    sizeof(cases) / sizeof(cases[0]), parse_bundle),
			 0);
}

static void truncation_at_every_byte_is_refused(void **state)
{
	(void)state;
	struct pcl_diag d;

	sample(&b);
	int n = appr_bundle_encode(&b, text, sizeof(text));
	for (int cut = 0; cut < n; cut++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(appr_bundle_parse(text, (size_t)cut, "b", &back, &d), -EINVAL);
		assert_true(d.msg[0] != '\0');
	}
}

static void body_hash_commits_to_every_byte(void **state)
{
	(void)state;
	uint8_t h0[32], h1[32];

	sample(&b);
	int n = appr_bundle_encode_body(&b, text, sizeof(text));
	assert_int_equal(appr_bundle_cdh(text, (size_t)n, h0), 0);
	for (int i = 0; i < n; i += 7) {
		text[i] ^= 1;
		assert_int_equal(appr_bundle_cdh(text, (size_t)n, h1), 0);
		assert_memory_not_equal(h0, h1, 32);
		text[i] ^= 1;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip_is_byte_exact),
	    cmocka_unit_test(encode_refuses_what_cannot_be_read_back),
	    cmocka_unit_test(parser_refuses_and_names_the_line),
	    cmocka_unit_test(owed_wipes_round_trip_and_are_found_by_identity),
	    cmocka_unit_test(owed_wipes_parser_refuses_and_names_the_line),
	    cmocka_unit_test(truncation_at_every_byte_is_refused),
	    cmocka_unit_test(body_hash_commits_to_every_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
