/*
 * test_profile.c - council profiles: every shipped profile parses and says what its
 * council's policy says; malformed profiles are refused naming the line and key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

static void load(const char *name, struct appr_profile *p)
{
	struct pcl_diag d = {0};
	int rc = appr_profile_load(name, PCL_SOURCE_DIR "/profiles", p, &d);
	if (rc != 0)
		print_error("%s:%u: %s\n", d.file, d.line, d.msg);
	assert_int_equal(rc, 0);
}

static void shipped_profiles_follow_their_policies(void **state)
{
	(void)state;
	struct appr_profile p;

	load("hednesford", &p); /* 1.1.8: no exception route at all */
	assert_string_equal(p.council, "hednesford");
	assert_false(p.exceptions);
	load("watton", &p); /* 5.3: any device, the Clerk */
	assert_true(p.exceptions);
	assert_int_equal(p.classes, APPR_CLASSES_ANY);
	assert_string_equal(p.approver_title, "Clerk");
	load("wellington", &p); /* 4.2.3: the DSFM */
	assert_string_equal(p.approver_title, "DSFM");
	assert_int_equal(p.classes, APPR_CLASSES_STORAGE);
	load("fakenham", &p); /* 3.9 Clerk, 4.2.8 wipe, 4.1.5 MFA, 7.8 six months */
	assert_true(p.wipe);
	assert_true(p.uv);
	assert_int_equal(p.retention_months, 6);
	load("model", &p);
	assert_false(p.uv);
	assert_int_equal(p.wipe_owed_days, 14); /* not given: the default */
	load("watton", &p);
	assert_int_equal(p.wipe_owed_days, 10);
}

static void malformed_profiles_name_line_and_key(void **state)
{
	(void)state;
	struct appr_profile p;
	struct pcl_diag d;
	static const struct {
		const char *text;
		unsigned line;
		const char *words;
	} cases[] = {
	    {"council = x\ncouncil = y\n", 2, "twice"},
	    {"# c\ncouncil = X\n", 2, "council"},
	    {"exceptions = maybe\n", 1, "yes or no"},
	    {"colour = red\n", 1, "unknown key"},
	    {"retention-months = 0\n", 1, "retention-months"},
	    {"max-grant-hours = -1\n", 1, "max-grant-hours"},
	    {"council-sticks = luks\n", 1, "luks2 or any"},
	    {"council-sticks = any\ncouncil-sticks = luks2\n", 2, "twice"},
	    {"wipe-owed-days = 0\n", 1, "days from 1 to 365"},
	    {"wipe-owed-days = 366\n", 1, "days from 1 to 365"},
	    {"just words\n", 1, "key = value"},
	    {"council = x\n", 0, "missing key"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(
		    appr_profile_parse(cases[i].text, strlen(cases[i].text), "p", &p, &d), -EINVAL);
		assert_int_equal(d.line, cases[i].line);
		assert_non_null(strstr(d.msg, cases[i].words));
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(appr_profile_load("no-such-council", "/nonexistent", &p, &d), -ENOENT);
	assert_non_null(strstr(d.file, "no-such-council.profile"));
}

/* council-sticks is the one optional key: absent means "any". */
static void council_sticks_is_optional(void **state)
{
	(void)state;
	static const char base[] = "council = x\nname = X\napprover-title = Clerk\n"
				   "exceptions = yes\napproval-for = storage\nwipe = required\n"
				   "user-verification = required\nretention-months = 6\n"
				   "max-grant-hours = 8\n";
	char text[512];
	struct appr_profile p;
	struct pcl_diag d = {0};

	assert_int_equal(appr_profile_parse(base, strlen(base), "p", &p, &d), 0);
	assert_int_equal(p.council_sticks, APPR_STICKS_ANY);
	snprintf(text, sizeof(text), "%scouncil-sticks = luks2\n", base);
	assert_int_equal(appr_profile_parse(text, strlen(text), "p", &p, &d), 0);
	assert_int_equal(p.council_sticks, APPR_STICKS_LUKS2);
	snprintf(text, sizeof(text), "%scouncil-sticks = any\n", base);
	assert_int_equal(appr_profile_parse(text, strlen(text), "p", &p, &d), 0);
	assert_int_equal(p.council_sticks, APPR_STICKS_ANY);
}

/* Two profiles that differ in any one key, optional ones included, are not the same. */
static void profiles_differing_in_any_key_are_not_the_same(void **state)
{
	(void)state;
	static const char *const lines[][2] = {
	    {"council = watton", "council = watton-b"},
	    {"name = Watton Town Council", "name = Watton Town Council."},
	    {"approver-title = Clerk", "approver-title = Deputy"},
	    {"exceptions = yes", "exceptions = no"},
	    {"approval-for = any-device", "approval-for = storage"},
	    {"wipe = required", "wipe = no"},
	    {"user-verification = preferred", "user-verification = required"},
	    {"retention-months = 6", "retention-months = 7"},
	    {"max-grant-hours = 8", "max-grant-hours = 9"},
	    {"council-sticks = any", "council-sticks = luks2"},
	    {"wipe-owed-days = 10", "wipe-owed-days = 11"},
	};
	size_t n = sizeof(lines) / sizeof(lines[0]);
	char base[1024] = "", other[1024];
	struct appr_profile a, b;
	struct pcl_diag d = {0};

	for (size_t i = 0; i < n; i++)
		snprintf(base + strlen(base), sizeof(base) - strlen(base), "%s\n", lines[i][0]);
	assert_int_equal(appr_profile_parse(base, strlen(base), "a", &a, &d), 0);
	assert_int_equal(appr_profile_parse(base, strlen(base), "b", &b, &d), 0);
	assert_true(appr_profile_same(&a, &b));
	for (size_t k = 0; k < n; k++) {
		other[0] = '\0';
		for (size_t i = 0; i < n; i++)
			snprintf(other + strlen(other), sizeof(other) - strlen(other), "%s\n",
				 lines[i][i == k]);
		assert_int_equal(appr_profile_parse(other, strlen(other), "b", &b, &d), 0);
		if (appr_profile_same(&a, &b))
			fail_msg("profiles differing in '%s' taken as the same", lines[k][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shipped_profiles_follow_their_policies),
	    cmocka_unit_test(malformed_profiles_name_line_and_key),
	    cmocka_unit_test(council_sticks_is_optional),
	    cmocka_unit_test(profiles_differing_in_any_key_are_not_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
