/*
 * test_control.c - the control socket's command parser, command table, caller checks,
 * watch visibility and per-uid rate (daemon/control_cmd.c, daemon/control_rate.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"

static int run_ok(struct ctl_call *c)
{
	(void)c;
	return 0;
}

static const struct ctl_command rows_a[] = {
    {"devices", CTL_ANYONE, false, run_ok},
    {"reload", CTL_ROOT, true, run_ok},
};
static const struct ctl_command rows_b[] = {
    {"wipe", CTL_HANDLER, true, run_ok},
};

static int parse(const char *line, const char **cmd)
{
	struct json_object *req;
	char why[128];
	int rc = ctl_parse(line, strlen(line), &req, cmd, why, sizeof(why));

	if (rc == 0) {
		assert_non_null(req);
		json_object_put(req);
	} else {
		assert_null(req);
		assert_non_null(strstr(why, "\"cmd\""));
	}
	return rc;
}

static void parser_accepts_one_object_with_a_cmd_string(void **state)
{
	const char *cmd;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"devices\"}", &cmd), 0);
	assert_int_equal(parse("  {\"cmd\":\"wipe\",\"device\":\"1-2\"} \r", &cmd), 0);
	/* Rejected: not JSON, not an object, no or empty or non-string cmd, trailing data,
	 * two objects, a NUL inside, an unfinished object. */
	const char *bad[] = {"",
			     "devices",
			     "[\"devices\"]",
			     "{}",
			     "{\"cmd\":\"\"}",
			     "{\"cmd\":7}",
			     "{\"cmd\":null}",
			     "{\"cmd\":\"devices\"} x",
			     "{\"cmd\":\"devices\"}{\"cmd\":\"watch\"}",
			     "{\"cmd\":\"devices\"",
			     "\"cmd\""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &cmd), -EINVAL);
	struct json_object *req;
	char why[128];
	const char nul[] = "{\"cmd\":\"devices\"}\0{}";
	assert_int_equal(ctl_parse(nul, sizeof(nul) - 1, &req, &cmd, why, sizeof(why)), -EINVAL);
	char longname[200] = "{\"cmd\":\"";
	memset(longname + 8, 'a', 100);
	strcpy(longname + 108, "\"}");
	assert_int_equal(parse(longname, &cmd), -EINVAL);
}

static void parser_returns_the_command_name(void **state)
{
	struct json_object *req;
	const char *cmd;
	char why[128];
	const char *line = "{\"device\":\"1-2\",\"cmd\":\"wipe\"}";

	(void)state;
	assert_int_equal(ctl_parse(line, strlen(line), &req, &cmd, why, sizeof(why)), 0);
	assert_string_equal(cmd, "wipe");
	json_object_put(req);
	/* Bytes and a length, not a string: nothing past len is read (found by fuzz_control;
	 * the ASan build catches a read past the end). */
	static const char *text = "{\"cmd\":\"devices\"}";
	char *exact = malloc(strlen(text));
	assert_non_null(exact);
	memcpy(exact, text, strlen(text));
	assert_int_equal(ctl_parse(exact, strlen(text), &req, &cmd, why, sizeof(why)), 0);
	assert_string_equal(cmd, "devices");
	json_object_put(req);
	assert_int_equal(ctl_parse(exact, strlen(text) - 1, &req, &cmd, why, sizeof(why)), -EINVAL);
	free(exact);
}

static void table_finds_registered_rows_and_refuses_doubles(void **state)
{
	struct ctl_table t = {0};

	(void)state;
	assert_int_equal(ctl_table_add(&t, rows_a, 2), 0);
	assert_int_equal(ctl_table_add(&t, rows_b, 1), 0);
	assert_ptr_equal(ctl_table_find(&t, "wipe"), &rows_b[0]);
	assert_ptr_equal(ctl_table_find(&t, "reload"), &rows_a[1]);
	assert_null(ctl_table_find(&t, "feed"));
	assert_null(ctl_table_find(&t, NULL));
	assert_int_equal(ctl_table_add(&t, rows_b, 1), -EEXIST);
	assert_int_equal(t.n, 3);
	struct ctl_command many[CONTROL_MAX_COMMANDS];
	char names[CONTROL_MAX_COMMANDS][8];
	for (size_t i = 0; i < CONTROL_MAX_COMMANDS; i++) {
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		many[i] = (struct ctl_command){names[i], CTL_ANYONE, false, run_ok};
	}
	assert_int_equal(ctl_table_add(&t, many, CONTROL_MAX_COMMANDS), -ENOSPC);
	assert_int_equal(t.n, 3);
}

static void rows_let_in_whom_they_say(void **state)
{
	struct ctl_caller root = {.uid = 0}, user = {.uid = 1000, .gid = 1000};
	char why[128] = "";

	(void)state;
	assert_true(ctl_allowed(&rows_a[0], &user, why, sizeof(why)));
	assert_true(ctl_allowed(&rows_a[1], &root, why, sizeof(why)));
	assert_false(ctl_allowed(&rows_a[1], &user, why, sizeof(why)));
	assert_string_equal(why, "reload: only root may do this");
	/* The handler decides for CTL_HANDLER rows. */
	assert_true(ctl_allowed(&rows_b[0], &user, why, sizeof(why)));
}

static void group_membership_is_primary_or_supplementary(void **state)
{
	struct ctl_caller c = {.uid = 1000, .gid = 1000, .groups = {27, 100}, .n_groups = 2};

	(void)state;
	assert_true(ctl_in_group(&c, 1000));
	assert_true(ctl_in_group(&c, 100));
	assert_false(ctl_in_group(&c, 0));
	c.n_groups = 1;
	assert_false(ctl_in_group(&c, 100));
}

static bool visible(const char *json, uid_t uid)
{
	struct json_object *o = json_tokener_parse(json);
	bool v = ctl_visible(o, uid);

	json_object_put(o);
	return v;
}

static void watchers_see_their_own_records_and_device_decisions(void **state)
{
	(void)state;
	const char *blocked = "{\"event.action\":\"device-blocked\",\"usb.hash\":\"x\"}";
	const char *request = "{\"event.action\":\"exception-requested\",\"user.id\":1001}";
	const char *copy = "{\"event.action\":\"file-written\",\"user.id\":1001,"
			   "\"file.path\":\"/minutes.odt\",\"process.executable\":\"/bin/cp\"}";
	const char *mount = "{\"event.action\":\"xfer-watch-started\",\"file.path\":\"/m\"}";
	const char *logged = "{\"event.action\":\"xfer-watch-started\","
			     "\"file.device.fstype\":\"vfat\",\"device.id\":\"1-2\"}";
	const char *wiped = "{\"event.action\":\"wipe-done\",\"volume.device_name\":\"1-2\"}";
	const char *odd = "{\"event.action\":\"device-blocked\",\"file.path\":\"/secret\"}";

	assert_true(visible(blocked, 1000));
	assert_true(visible(request, 1001));
	assert_false(visible(request, 1000));
	assert_false(visible(copy, 1000));
	assert_true(visible(copy, 1001));
	assert_false(visible(mount, 1000));
	assert_false(visible(odd, 1000));
	/* The transfer log of a medium starting (the notifier tells the person at the PC);
	 * anything else without a uid, such as another user's wipe, is not shown. */
	assert_true(visible(logged, 1000));
	assert_false(visible(wiped, 1000));
	/* The warning before a wipe reaches whoever sits at the PC. */
	assert_true(visible("{\"event.action\":\"wipe-requested\",\"event.reason\":\"the "
			    "exception requires a wipe\",\"volume.device_name\":\"1-2\"}",
			    1000));
	/* So does the notice that a stick back from a take-out will be wiped; its
	 * approval fields never (they name who asked). */
	assert_true(visible("{\"event.action\":\"wipe-owed-found\",\"wipe.owed_ref\":"
			    "\"A-0123456789abcdef\",\"volume.device_name\":\"1-2\"}",
			    1000));
	assert_false(visible("{\"event.action\":\"wipe-owed-found\",\"approval.ref\":"
			     "\"A-0123456789abcdef\"}",
			     1000));
	assert_false(visible("{\"user.id\":\"1000\"}", 1000));
	assert_false(visible("{\"user.id\":-1}", (uid_t)-1));
	assert_false(visible("[]", 1000));
	/* Root sees everything. */
	assert_true(visible(copy, 0));
	assert_true(visible(mount, 0));
}

static void rate_allows_a_burst_then_one_per_refill(void **state)
{
	static struct ctl_rate r;
	uid_t uids[CTL_RATE_UIDS];
	uint64_t counts[CTL_RATE_UIDS];
	int64_t t = 1000000;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < CTL_RATE_BURST; i++)
		assert_true(ctl_rate_take(&r, 1000, t));
	for (int i = 0; i < 980; i++)
		assert_false(ctl_rate_take(&r, 1000, t));
	/* Another user's bucket is their own. */
	assert_true(ctl_rate_take(&r, 1001, t));
	assert_false(ctl_rate_take(&r, 1000, t + CTL_RATE_REFILL_MS - 1));
	assert_true(ctl_rate_take(&r, 1000, t + CTL_RATE_REFILL_MS));
	assert_false(ctl_rate_take(&r, 1000, t + CTL_RATE_REFILL_MS));
	/* A long pause refills up to the burst, never more. */
	t += 1000LL * CTL_RATE_REFILL_MS;
	int n = 0;
	while (ctl_rate_take(&r, 1000, t))
		n++;
	assert_int_equal(n, CTL_RATE_BURST);
	size_t k = ctl_rate_drain(&r, uids, counts, CTL_RATE_UIDS);
	assert_int_equal(k, 1);
	assert_int_equal(uids[0], 1000);
	assert_int_equal(counts[0], 980 + 2 + 1);
	assert_int_equal(ctl_rate_drain(&r, uids, counts, CTL_RATE_UIDS), 0);
	/* A clock that goes back gives nothing. */
	assert_false(ctl_rate_take(&r, 1000, t - 100000));
	/* Refused connections are counted without taking a token. */
	ctl_rate_note(&r, 1002, t);
	ctl_rate_note(&r, 1002, t);
	assert_true(ctl_rate_take(&r, 1002, t));
	assert_int_equal(ctl_rate_drain(&r, uids, counts, CTL_RATE_UIDS), 2);
	assert_int_equal(uids[0] == 1002 ? counts[0] : counts[1], 2);
}

static void rate_table_full_of_busy_uids_fails_closed(void **state)
{
	static struct ctl_rate r;
	int64_t t = 5000;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (uid_t u = 1; u <= CTL_RATE_UIDS; u++) {
		while (ctl_rate_take(&r, u, t))
			;
	}
	assert_false(ctl_rate_take(&r, 9999, t));
	/* Once a bucket is full again and has nothing to report, it is reused. */
	uid_t uids[CTL_RATE_UIDS];
	uint64_t counts[CTL_RATE_UIDS];
	assert_int_equal(ctl_rate_drain(&r, uids, counts, CTL_RATE_UIDS), CTL_RATE_UIDS);
	t += (int64_t)CTL_RATE_BURST * CTL_RATE_REFILL_MS;
	assert_true(ctl_rate_take(&r, 9999, t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parser_accepts_one_object_with_a_cmd_string),
	    cmocka_unit_test(parser_returns_the_command_name),
	    cmocka_unit_test(table_finds_registered_rows_and_refuses_doubles),
	    cmocka_unit_test(rows_let_in_whom_they_say),
	    cmocka_unit_test(group_membership_is_primary_or_supplementary),
	    cmocka_unit_test(watchers_see_their_own_records_and_device_decisions),
	    cmocka_unit_test(rate_allows_a_burst_then_one_per_refill),
	    cmocka_unit_test(rate_table_full_of_busy_uids_fails_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
