/*
 * test_device.c - the engine's device table and its state machine
 * (daemon/engine_device.c): every defined move is made, every other one is refused and
 * leaves the device as it was, a deny always takes the interfaces away, and the table is
 * walked to its end without a sentinel pointer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine_device.h"
#include "jsonx.h"

static struct dev_entry *fresh(const char *name, enum dev_state s)
{
	struct dev_entry *d = engine_add(NULL, name);

	assert_non_null(d);
	assert_int_equal(d->state, DEV_PENDING);
	d->state = s; /* the state under test, set directly: this test is the table's */
	d->iface_allow = 0x5;
	snprintf(d->rule, sizeof(d->rule), "before");
	return d;
}

static void defined_moves_are_made(void **state)
{
	static const struct {
		enum dev_state from;
		enum dev_event ev;
		enum dev_state to;
	} ok[] = {
	    {DEV_PENDING, DEV_EV_ALLOW, DEV_ALLOWED},	{DEV_PENDING, DEV_EV_DENY, DEV_BLOCKED},
	    {DEV_PENDING, DEV_EV_REJECT, DEV_REJECTED}, {DEV_ALLOWED, DEV_EV_ALLOW, DEV_ALLOWED},
	    {DEV_ALLOWED, DEV_EV_DENY, DEV_BLOCKED},	{DEV_BLOCKED, DEV_EV_ALLOW, DEV_ALLOWED},
	    {DEV_BLOCKED, DEV_EV_DENY, DEV_BLOCKED},	{DEV_REJECTED, DEV_EV_DENY, DEV_BLOCKED},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct dev_entry *d = fresh("1-1", ok[i].from);
		assert_int_equal(device_move(d, ok[i].ev), 0);
		assert_int_equal(d->state, ok[i].to);
		engine_forget(NULL, d);
	}
}

static void undefined_moves_are_refused_and_change_nothing(void **state)
{
	static const struct {
		enum dev_state from;
		enum dev_event ev;
	} bad[] = {
	    {DEV_REJECTED, DEV_EV_ALLOW},
	    {DEV_REJECTED, DEV_EV_REJECT},
	    {DEV_ALLOWED, DEV_EV_REJECT},
	    {DEV_BLOCKED, DEV_EV_REJECT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dev_entry *d = fresh("1-2", bad[i].from);
		assert_int_equal(device_move(d, bad[i].ev), -EPERM);
		assert_int_equal(d->state, bad[i].from);
		engine_forget(NULL, d);
	}
	/* The wrappers: a refused allow or reject leaves interfaces and rule text alone. */
	struct dev_entry *d = fresh("1-3", DEV_REJECTED);
	assert_int_equal(device_allow(d, ~UINT64_C(0), "let in"), -EPERM);
	assert_int_equal(d->state, DEV_REJECTED);
	assert_int_equal(d->iface_allow, 0x5);
	assert_string_equal(d->rule, "before");
	d->state = DEV_ALLOWED;
	assert_int_equal(device_reject(d, "off"), -EPERM);
	assert_int_equal(d->state, DEV_ALLOWED);
	assert_int_equal(d->iface_allow, 0x5);
	assert_string_equal(d->rule, "before");
	engine_forget(NULL, d);
}

static void wrappers_set_interfaces_and_rule(void **state)
{
	(void)state;
	struct dev_entry *d = fresh("1-4", DEV_PENDING);
	assert_int_equal(device_allow(d, 0x3, "file:1: allow"), 0);
	assert_int_equal(d->state, DEV_ALLOWED);
	assert_int_equal(d->iface_allow, 0x3);
	assert_string_equal(d->rule, "file:1: allow");
	assert_int_equal(device_allow(d, 0x1, NULL), 0); /* narrowed, rule kept */
	assert_int_equal(d->iface_allow, 0x1);
	assert_string_equal(d->rule, "file:1: allow");
	assert_int_equal(device_deny(d, "exception ended"), 0);
	assert_int_equal(d->state, DEV_BLOCKED);
	assert_int_equal(d->iface_allow, 0);
	assert_string_equal(d->rule, "exception ended");
	engine_forget(NULL, d);
	for (enum dev_state s = DEV_PENDING; s <= DEV_REJECTED; s++) {
		d = fresh("1-5", s);
		assert_int_equal(device_deny(d, NULL), 0); /* defined from every state */
		assert_int_equal(d->state, DEV_BLOCKED);
		assert_int_equal(d->iface_allow, 0);
		assert_string_equal(d->rule, "before");
		engine_forget(NULL, d);
	}
}

static void the_table_is_walked_to_its_end(void **state)
{
	(void)state;
	struct dev_entry *a = engine_add(NULL, "2-1");
	struct dev_entry *b = engine_add(NULL, "2-2");
	struct dev_entry *c = engine_add(NULL, "2-3");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	engine_forget(NULL, b);
	size_t i = 0, n = 0;
	const struct dev_entry *d;
	while ((d = engine_device_next(NULL, &i)) != NULL) {
		assert_true(d == a || d == c);
		n++;
	}
	assert_int_equal(n, 2);
	assert_null(engine_device_next(NULL, &i)); /* and stays at the end */
	assert_ptr_equal(engine_find(NULL, "2-3"), c);
	assert_null(engine_find(NULL, "2-2"));
	struct json_object *o = engine_device_json(c);
	assert_string_equal(jsonx_get_str(o, "portcullis.state"), "deciding");
	json_object_put(o);
	engine_forget(NULL, a);
	engine_forget(NULL, c);
	/* A full table refuses a new device. */
	char name[16];
	for (int k = 0; k < ENGINE_MAX_DEVICES; k++) {
		snprintf(name, sizeof(name), "3-%d", k);
		assert_non_null(engine_add(NULL, name));
	}
	assert_null(engine_add(NULL, "3-x"));
}

/* What a feature keeps about a device it finds through the record's slot: one slot per
 * record, the same record back from it, none once the record is forgotten. */
static void a_record_is_found_by_its_slot(void **state)
{
	(void)state;
	struct dev_entry *a = engine_add(NULL, "4-1");
	struct dev_entry *b = engine_add(NULL, "4-2");
	assert_non_null(a);
	assert_non_null(b);
	size_t sa = engine_device_slot(a), sb = engine_device_slot(b);
	assert_true(sa < ENGINE_MAX_DEVICES && sb < ENGINE_MAX_DEVICES && sa != sb);
	assert_ptr_equal(engine_device_in_slot(NULL, sa), a);
	assert_ptr_equal(engine_device_in_slot(NULL, sb), b);
	engine_forget(NULL, a);
	assert_null(engine_device_in_slot(NULL, sa));
	assert_null(engine_device_in_slot(NULL, ENGINE_MAX_DEVICES));
	/* The same name added again is the same record, in the same slot. */
	assert_ptr_equal(engine_add(NULL, "4-2"), b);
	assert_int_equal(engine_device_slot(b), sb);
	engine_forget(NULL, b);
}

/* A reference that outlives its device (a helper still stopping) finds it while it is
 * there, and nothing once it is gone, even when another device takes its slot. */
static void a_reference_does_not_outlive_its_device(void **state)
{
	(void)state;
	struct dev_entry *a = engine_add(NULL, "5-1");
	assert_non_null(a);
	a->busnum = 5; /* set as the gate sets them, before any decision */
	a->devnum = 7;
	struct dev_slot r = engine_device_ref(a);
	assert_true(engine_device_is(a, r));
	assert_ptr_equal(engine_device_of(NULL, r), a);
	engine_forget(NULL, a);
	assert_null(engine_device_of(NULL, r));
	struct dev_entry *b = engine_add(NULL, "5-1"); /* plugged again: a new devnum */
	assert_ptr_equal(b, a);
	b->busnum = 5;
	b->devnum = 8;
	assert_false(engine_device_is(b, r));
	assert_null(engine_device_of(NULL, r));
	assert_false(engine_device_is(NULL, r));
	engine_forget(NULL, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defined_moves_are_made),
	    cmocka_unit_test(undefined_moves_are_refused_and_change_nothing),
	    cmocka_unit_test(wrappers_set_interfaces_and_rule),
	    cmocka_unit_test(a_record_is_found_by_its_slot),
	    cmocka_unit_test(a_reference_does_not_outlive_its_device),
	    cmocka_unit_test(the_table_is_walked_to_its_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
