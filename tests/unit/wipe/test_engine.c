/*
 * test_engine.c - the wipe engine over an in-memory device (the I/O seam): a good
 * device verifies; a wrapping fake-capacity device, dropped writes, corrupted reads,
 * I/O errors, a vanished device and a short device each fail with the right status and
 * the first bad block.
 */
#include "wipe.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MiB (1024 * 1024)

struct memdev {
	uint8_t *data;
	uint64_t backing;    /* real bytes behind the device */
	uint64_t wrap;	     /* nonzero: address modulo wrap (fake capacity) */
	uint64_t drop_from;  /* nonzero: writes at or after this offset are lost */
	uint64_t corrupt_at; /* nonzero: this byte reads back flipped */
	uint64_t fail_at;    /* nonzero: I/O touching this offset fails with fail_err */
	int fail_err, fail_on_read;
	uint64_t end_at; /* nonzero: writes at or past this return 0 (short device) */
	size_t max_io;	 /* nonzero: partial transfers of at most this many bytes */
	int discard_ret, discards, flushes;
};

static ssize_t m_pwrite(void *ctx, const void *buf, size_t len, uint64_t off)
{
	struct memdev *m = ctx;

	if (m->max_io && len > m->max_io)
		len = m->max_io;
	if (m->fail_at && !m->fail_on_read && off <= m->fail_at && m->fail_at < off + len)
		return -m->fail_err;
	if (m->end_at && off >= m->end_at)
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint64_t a = off + i;

		if (m->drop_from && a >= m->drop_from)
			continue;
		if (m->wrap)
			a %= m->wrap;
		m->data[a] = ((const uint8_t *)buf)[i];
	}
	return (ssize_t)len;
}

static ssize_t m_pread(void *ctx, void *buf, size_t len, uint64_t off)
{
	struct memdev *m = ctx;

	if (m->max_io && len > m->max_io)
		len = m->max_io;
	if (m->fail_at && m->fail_on_read && off <= m->fail_at && m->fail_at < off + len)
		return -m->fail_err;
	for (size_t i = 0; i < len; i++) {
		uint64_t a = off + i;

		if (m->wrap)
			a %= m->wrap;
		((uint8_t *)buf)[i] = m->data[a];
		if (m->corrupt_at && off + i == m->corrupt_at)
			((uint8_t *)buf)[i] ^= 0x40;
	}
	return (ssize_t)len;
}

static int m_discard(void *ctx, uint64_t off, uint64_t len)
{
	struct memdev *m = ctx;

	m->discards++;
	return m->discard_ret;
}

static int m_flush(void *ctx)
{
	((struct memdev *)ctx)->flushes++;
	return 0;
}

static const struct wipe_io_ops mem_ops = {m_pwrite, m_pread, m_discard, m_flush};
static const uint8_t key[WIPE_KEY_LEN] = {0x42, 0x17};

struct progress_log {
	int calls, phases_seen;
	uint64_t last_done;
	int went_backwards;
};

static void on_progress(void *ctx, const struct wipe_progress *p)
{
	struct progress_log *l = ctx;

	if (l->calls > 0 && (int)p->phase == l->phases_seen - 1 && p->done < l->last_done)
		l->went_backwards = 1;
	l->phases_seen = (int)p->phase + 1;
	l->last_done = p->done;
	l->calls++;
}

static struct memdev *memdev_new(uint64_t size)
{
	struct memdev *m = calloc(1, sizeof(*m));

	m->data = malloc(size);
	memset(m->data, 0xA5, size); /* old contents */
	m->backing = size;
	return m;
}

static void memdev_free(struct memdev *m)
{
	free(m->data);
	free(m);
}

static struct wipe_params params(uint64_t size)
{
	struct wipe_params p = {
	    .size = size, .chunk = 256 * 1024, .block = 512, .verify = 1, .discard = 1};
	return p;
}

static void test_good_device_is_overwritten_and_verified(void **state)
{
	uint64_t size = 3 * MiB + 512; /* not a multiple of the chunk */
	struct memdev *m = memdev_new(size);
	struct wipe_params p = params(size);
	struct wipe_result r;
	struct wipe_pattern *pat;
	uint8_t *expect = malloc(size);
	struct progress_log log = {0};

	p.progress = on_progress;
	p.progress_ctx = &log;
	p.progress_interval = 1e-9;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_OK);
	assert_true(r.written == size && r.verified == size);
	assert_int_equal(r.discarded, 1);
	assert_int_equal(m->discards, 1);
	assert_int_equal(m->flushes, 1);
	assert_string_equal(r.reason, "");
	/* Every byte now holds the keyed pattern. */
	assert_int_equal(wipe_pattern_new(&pat, key), 0);
	assert_int_equal(wipe_pattern_fill(pat, 0, expect, size), 0);
	assert_memory_equal(m->data, expect, size);
	/* Progress covered both phases, never going backwards. */
	assert_true(log.calls >= 2);
	assert_int_equal(log.phases_seen, WIPE_PHASE_VERIFY + 1);
	assert_int_equal(log.went_backwards, 0);
	assert_true(log.last_done == size);
	wipe_pattern_free(&pat);
	free(expect);
	memdev_free(m);
}

static void test_single_thread_mode_writes_the_same(void **state)
{
	struct memdev *a = memdev_new(MiB), *b = memdev_new(MiB);
	struct wipe_params p = params(MiB);
	struct wipe_result r;

	a->corrupt_at = b->corrupt_at = 700000;
	assert_int_equal(wipe_run(&mem_ops, a, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_MISMATCH);
	p.single_thread = 1;
	assert_int_equal(wipe_run(&mem_ops, b, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_MISMATCH);
	assert_true(r.first_bad == (700000 & ~15ull));
	assert_memory_equal(a->data, b->data, MiB);
	memdev_free(a);
	memdev_free(b);
}

static void test_partial_transfers_are_completed(void **state)
{
	struct memdev *m = memdev_new(MiB);
	struct wipe_params p = params(MiB);
	struct wipe_result r;

	m->max_io = 4096 + 512;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_OK);
	memdev_free(m);
}

static void test_wrapping_fake_capacity_is_caught(void **state)
{
	/* Announces 4 MiB, stores 2 MiB: the upper half lands on the lower half. */
	struct memdev *m = memdev_new(4 * MiB);
	struct wipe_params p = params(4 * MiB);
	struct wipe_result r;

	m->wrap = 2 * MiB;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_WRAPPED);
	assert_true(r.first_bad == 0 && r.first_bad_block == 0);
	assert_true(r.wrapped_to == 2 * MiB);
	assert_true(r.verified == 0);
	assert_int_equal(m->discards, 0); /* never discard a failed medium */
	assert_non_null(strstr(r.reason, "fake capacity"));
	memdev_free(m);
}

static void test_dropped_writes_fail_verification(void **state)
{
	struct memdev *m = memdev_new(2 * MiB);
	struct wipe_params p = params(2 * MiB);
	struct wipe_result r;

	m->drop_from = MiB + 4096;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_MISMATCH);
	assert_true(r.first_bad == MiB + 4096);
	assert_true(r.first_bad_block == (MiB + 4096) / 512);
	assert_true(r.verified == MiB); /* the chunks before the bad one */
	memdev_free(m);
}

static void test_corrupted_read_back_names_the_block(void **state)
{
	struct memdev *m = memdev_new(2 * MiB);
	struct wipe_params p = params(2 * MiB);
	struct wipe_result r;

	m->corrupt_at = 1234567;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_MISMATCH);
	assert_true(r.first_bad == (1234567 & ~15ull));
	assert_true(r.first_bad_block == 1234567 / 512);
	memdev_free(m);
}

static void test_write_error_is_reported(void **state)
{
	struct memdev *m = memdev_new(2 * MiB);
	struct wipe_params p = params(2 * MiB);
	struct wipe_result r;

	m->fail_at = MiB;
	m->fail_err = EIO;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_IO);
	assert_int_equal(r.err, EIO);
	assert_true(r.first_bad == MiB && r.written == MiB);
	memdev_free(m);
}

static void test_device_gone_during_verify(void **state)
{
	struct memdev *m = memdev_new(2 * MiB);
	struct wipe_params p = params(2 * MiB);
	struct wipe_result r;

	m->fail_at = MiB + 512;
	m->fail_err = ENODEV;
	m->fail_on_read = 1;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_GONE);
	assert_true(r.written == 2 * MiB && r.verified == MiB);
	assert_non_null(strstr(r.reason, "device gone"));
	memdev_free(m);
}

static void test_short_device_is_reported(void **state)
{
	struct memdev *m = memdev_new(2 * MiB);
	struct wipe_params p = params(2 * MiB);
	struct wipe_result r;

	m->end_at = MiB + MiB / 2;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_SHORT);
	assert_true(r.first_bad == MiB + MiB / 2);
	memdev_free(m);
	m = memdev_new(2 * MiB);
	m->fail_at = MiB;
	m->fail_err = ENOSPC;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_SHORT);
	memdev_free(m);
}

static void test_unsupported_discard_still_verifies(void **state)
{
	struct memdev *m = memdev_new(MiB);
	struct wipe_params p = params(MiB);
	struct wipe_result r;

	m->discard_ret = -EOPNOTSUPP;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_OK);
	assert_int_equal(r.discarded, 0);
	memdev_free(m);
}

static int cancel_now(void *ctx)
{
	return 1;
}

static void test_cancel_stops_the_job(void **state)
{
	struct memdev *m = memdev_new(MiB);
	struct wipe_params p = params(MiB);
	struct wipe_result r;

	p.cancelled = cancel_now;
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_ERR_CANCELLED);
	assert_true(r.written == 0);
	memdev_free(m);
}

static void test_bad_parameters_are_refused(void **state)
{
	struct memdev *m = memdev_new(MiB);
	struct wipe_params p = params(MiB);
	struct wipe_result r;

	p.chunk = 1000; /* not a multiple of the block */
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), -EINVAL);
	p = params(MiB - 100);
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), -EINVAL);
	p = params(0);
	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), -EINVAL);
	memdev_free(m);
}

static void test_spot_check_catches_a_lying_wiper(void **state)
{
	struct memdev *m = memdev_new(4 * MiB);
	struct wipe_params p = params(4 * MiB);
	struct wipe_result r;
	uint8_t other[WIPE_KEY_LEN] = {9};

	assert_int_equal(wipe_run(&mem_ops, m, key, &p, &r), 0);
	assert_int_equal(r.status, WIPE_OK);
	/* The parent's own check passes on the real pattern... */
	assert_int_equal(wipe_spot_check(&mem_ops, m, key, 4 * MiB, 65536, 16, &r), 0);
	assert_int_equal(r.status, WIPE_OK);
	/* ...fails when the medium holds another key's pattern (block 0 is always read)... */
	assert_int_equal(wipe_spot_check(&mem_ops, m, other, 4 * MiB, 65536, 16, &r), -EBADMSG);
	assert_int_equal(r.status, WIPE_ERR_MISMATCH);
	assert_true(r.first_bad == 0 && r.verified == 0);
	/* ...and when only the last block is wrong (it is always read too). */
	m->data[4 * MiB - 1] ^= 1;
	memset(&r, 0, sizeof(r));
	assert_int_equal(wipe_spot_check(&mem_ops, m, key, 4 * MiB, 65536, 0, &r), -EBADMSG);
	assert_true(r.first_bad == 4 * MiB - 65536);
	m->fail_at = 100;
	m->fail_err = EIO;
	m->fail_on_read = 1;
	assert_int_equal(wipe_spot_check(&mem_ops, m, key, 4 * MiB, 65536, 0, &r), -EIO);
	assert_int_equal(wipe_spot_check(&mem_ops, m, key, 4 * MiB, 1000, 0, &r), -EINVAL);
	memdev_free(m);
}

static void test_status_names_round_trip(void **state)
{
	enum wipe_status s;

	for (int i = WIPE_OK; i <= WIPE_ERR_REFUSED; i++) {
		assert_int_equal(wipe_status_parse(wipe_status_name((enum wipe_status)i), &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_int_equal(wipe_status_parse("fine", &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_device_is_overwritten_and_verified),
	    cmocka_unit_test(test_single_thread_mode_writes_the_same),
	    cmocka_unit_test(test_partial_transfers_are_completed),
	    cmocka_unit_test(test_wrapping_fake_capacity_is_caught),
	    cmocka_unit_test(test_dropped_writes_fail_verification),
	    cmocka_unit_test(test_corrupted_read_back_names_the_block),
	    cmocka_unit_test(test_write_error_is_reported),
	    cmocka_unit_test(test_device_gone_during_verify),
	    cmocka_unit_test(test_short_device_is_reported),
	    cmocka_unit_test(test_unsupported_discard_still_verifies),
	    cmocka_unit_test(test_cancel_stops_the_job),
	    cmocka_unit_test(test_bad_parameters_are_refused),
	    cmocka_unit_test(test_spot_check_catches_a_lying_wiper),
	    cmocka_unit_test(test_status_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
