/*
 * test_closeq.c - unit tests of the closed files that wait to be opened for hashing
 * (lib/xfer/closeq.c): first in, first out; never more than its bound (the one past it is
 * refused and left unlinked); and when a file must wait: while opens are held back, while
 * the hash queue is full, behind others, never once failed closed. Test program only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfer_internal.h"

static void test_first_in_first_out(void **state)
{
	(void)state;
	struct xfer_closeq q;
	struct xfer_closeq_item it[5];
	xfer_closeq_init(&q, 8);
	assert_null(xfer_closeq_pop(&q));
	for (int i = 0; i < 3; i++)
		assert_int_equal(xfer_closeq_push(&q, &it[i]), 0);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[0]);
	/* Pushed after a pop: still behind the older ones. */
	assert_int_equal(xfer_closeq_push(&q, &it[3]), 0);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[1]);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[2]);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[3]);
	assert_null(xfer_closeq_pop(&q));
	assert_int_equal(q.len, 0);
	/* Emptied, it works again from its start. */
	assert_int_equal(xfer_closeq_push(&q, &it[4]), 0);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[4]);
	assert_null(q.head);
	assert_null(q.tail);
}

static void test_never_more_than_its_bound(void **state)
{
	(void)state;
	struct xfer_closeq q;
	struct xfer_closeq_item it[3];
	xfer_closeq_init(&q, 2);
	assert_int_equal(xfer_closeq_push(&q, &it[0]), 0);
	assert_int_equal(xfer_closeq_push(&q, &it[1]), 0);
	it[2].next = &it[0];
	assert_int_equal(xfer_closeq_push(&q, &it[2]), -ENOSPC);
	assert_int_equal(q.len, 2);
	assert_ptr_equal(q.tail, &it[1]);
	assert_null(it[1].next);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[0]);
	assert_int_equal(xfer_closeq_push(&q, &it[2]), 0);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[1]);
	assert_ptr_equal(xfer_closeq_pop(&q), &it[2]);
	assert_null(xfer_closeq_pop(&q));
}

static void test_when_a_file_waits(void **state)
{
	(void)state;
	struct xfer_closeq q;
	struct xfer_closeq_item it;
	xfer_closeq_init(&q, 4);
	/* held, busy, failed closed */
	assert_false(xfer_closeq_must_wait(&q, false, false, false));
	assert_true(xfer_closeq_must_wait(&q, true, false, false));
	assert_true(xfer_closeq_must_wait(&q, false, true, false));
	assert_true(xfer_closeq_must_wait(&q, true, true, false));
	assert_false(xfer_closeq_must_wait(&q, true, true, true));
	assert_true(xfer_closeq_may_go(false, false, false));
	assert_false(xfer_closeq_may_go(true, false, false));
	assert_false(xfer_closeq_may_go(false, true, false));
	assert_true(xfer_closeq_may_go(true, true, true));
	/* Behind another that waits, even with room and opens free; not once failed closed. */
	assert_int_equal(xfer_closeq_push(&q, &it), 0);
	assert_true(xfer_closeq_must_wait(&q, false, false, false));
	assert_false(xfer_closeq_must_wait(&q, false, false, true));
	assert_false(xfer_closeq_must_wait(&q, true, true, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_in_first_out),
	    cmocka_unit_test(test_never_more_than_its_bound),
	    cmocka_unit_test(test_when_a_file_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
