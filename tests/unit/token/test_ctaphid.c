/*
 * test_ctaphid.c: the token's CTAPHID transport on the test board layer: channel
 * allocation, fragmentation, busy channels, sequence errors, transaction timeout,
 * invalid channels and lengths, WINK, and KEEPALIVE/CANCEL/timeout while waiting for a
 * touch. Linked by the token unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbor.h"
#include "ctap_status.h"
#include "hal.h"
#include "token.h"
#include "ctapreq.h"
#include "tokentest.h"

static void expect_error(uint32_t want_cid, uint8_t code)
{
	uint8_t r[64];
	uint32_t cid;
	size_t len;

	assert_int_equal(tt_recv(&cid, r, sizeof(r), &len, NULL), CTAPHID_ERROR);
	assert_int_equal(cid, want_cid);
	assert_int_equal(len, 1);
	assert_int_equal(r[0], code);
}

static void init_allocates_distinct_channels(void **state)
{
	uint32_t a, b;

	tt_boot();
	a = tt_channel();
	b = tt_channel();
	assert_true(a != 0 && a != CTAPHID_BROADCAST_CID);
	assert_true(b != a && b != CTAPHID_BROADCAST_CID);
}

static void ping_round_trips_a_fragmented_message(void **state)
{
	uint8_t data[1000], r[1200];
	uint32_t cid, rcid;
	size_t i, len;

	tt_boot();
	cid = tt_channel();
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	tt_send(cid, CTAPHID_PING, data, sizeof(data), 0);
	tt_run();
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_PING);
	assert_int_equal(rcid, cid);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(r, data, sizeof(data));
}

static void unallocated_and_zero_channels_are_refused(void **state)
{
	uint8_t one = 0;

	tt_boot();
	tt_send(0x12345678, CTAPHID_PING, &one, 1, 0);
	tt_send(0, CTAPHID_PING, &one, 1, 0);
	tt_send(CTAPHID_BROADCAST_CID, CTAPHID_PING, &one, 1, 0);
	tt_run();
	expect_error(0x12345678, CTAP1_ERR_INVALID_CHANNEL);
	expect_error(0, CTAP1_ERR_INVALID_CHANNEL);
	expect_error(CTAPHID_BROADCAST_CID, CTAP1_ERR_INVALID_CHANNEL);
}

static void other_channel_is_busy_while_a_message_is_incomplete(void **state)
{
	uint8_t data[100] = {0}, pkt[64], r[128], one = 1;
	uint32_t a, b, rcid;
	size_t len;

	tt_boot();
	a = tt_channel();
	b = tt_channel();
	/* first packet of a 100-byte PING on a; b interrupts; then a finishes */
	tt_packet(pkt, a, CTAPHID_PING);
	pkt[6] = sizeof(data);
	thal_push(pkt);
	tt_send(b, CTAPHID_PING, &one, 1, 0);
	tt_packet(pkt, a, 0);
	thal_push(pkt);
	tt_run();
	expect_error(b, CTAP1_ERR_CHANNEL_BUSY);
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_PING);
	assert_int_equal(rcid, a);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(r, data, sizeof(data));
}

static void wrong_sequence_aborts_the_message(void **state)
{
	uint8_t pkt[64];
	uint32_t cid;

	tt_boot();
	cid = tt_channel();
	tt_packet(pkt, cid, CTAPHID_PING);
	pkt[6] = 100;
	thal_push(pkt);
	tt_packet(pkt, cid, 1); /* seq 0 expected */
	thal_push(pkt);
	tt_packet(pkt, cid, 2); /* spurious continuation afterwards: ignored */
	thal_push(pkt);
	tt_run();
	expect_error(cid, CTAP1_ERR_INVALID_SEQ);
	assert_int_equal(thal_sent(), 0);
}

static void new_request_on_same_channel_mid_message_is_a_sequence_error(void **state)
{
	uint8_t pkt[64];
	uint32_t cid;

	tt_boot();
	cid = tt_channel();
	tt_packet(pkt, cid, CTAPHID_PING);
	pkt[6] = 100;
	thal_push(pkt);
	thal_push(pkt);
	tt_run();
	expect_error(cid, CTAP1_ERR_INVALID_SEQ);
}

static void missing_continuation_times_out(void **state)
{
	uint8_t pkt[64];
	uint32_t cid;

	tt_boot();
	cid = tt_channel();
	tt_packet(pkt, cid, CTAPHID_PING);
	pkt[6] = 100;
	thal_push(pkt);
	tt_run(); /* 200 polls of 10 ms: well past the 500 ms limit */
	expect_error(cid, CTAP1_ERR_TIMEOUT);
	/* the channel works again afterwards */
	tt_send(cid, CTAPHID_PING, pkt, 3, thal_now);
	tt_run();
	assert_int_equal(thal_sent() > 0, 1);
}

/* Poll as a board's main loop does: the simulator waits up to 1 s per call, the RP2350
 * 100 ms. */
static void run_polls(uint32_t timeout_ms, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(token_poll(timeout_ms), 0);
}

/* The first packet of a 100-byte PING on cid at at_ms; its continuation is tt_packet(cid, 0). */
static void push_ping_start(uint32_t cid, uint64_t at_ms)
{
	uint8_t pkt[64];

	tt_packet(pkt, cid, CTAPHID_PING);
	pkt[6] = 100;
	thal_push_at(pkt, at_ms);
}

static void push_ping_continuation(uint32_t cid, uint64_t at_ms)
{
	uint8_t pkt[64];

	tt_packet(pkt, cid, 0);
	thal_push_at(pkt, at_ms);
}

static void late_continuation_does_not_complete_the_message(void **state)
{
	uint8_t one = 1, r[128];
	uint32_t a, c, rcid;
	uint64_t t0;
	size_t len;

	tt_boot();
	a = tt_channel();
	c = tt_channel();
	t0 = thal_now;
	push_ping_start(a, t0);
	/* another client asks at 600 ms: the stale message must be gone by then, not busy */
	tt_send(c, CTAPHID_PING, &one, 1, t0 + 600);
	push_ping_continuation(a, t0 + 900);
	run_polls(1000, 6);
	expect_error(a, CTAP1_ERR_TIMEOUT);
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_PING);
	assert_int_equal(rcid, c);
	assert_int_equal(len, 1);
	assert_int_equal(thal_sent(), 0); /* the late continuation is ignored, no PING for a */
}

static void late_continuation_after_another_channel_is_still_late(void **state)
{
	uint8_t one = 1;
	uint32_t a, b;
	uint64_t t0;

	tt_boot();
	a = tt_channel();
	b = tt_channel();
	t0 = thal_now;
	push_ping_start(a, t0);
	tt_send(b, CTAPHID_PING, &one, 1, t0 + 450); /* answered busy; a's clock runs on */
	push_ping_continuation(a, t0 + 900);
	run_polls(1000, 6);
	expect_error(b, CTAP1_ERR_CHANNEL_BUSY);
	expect_error(a, CTAP1_ERR_TIMEOUT);
	assert_int_equal(thal_sent(), 0);
}

static void continuation_limit_is_500_ms_from_the_last_packet(void **state)
{
	uint8_t r[128];
	uint32_t a, rcid;
	uint64_t t0;
	size_t len;

	/* exactly 500 ms after the previous packet: in time, on either board's poll period */
	for (uint32_t period = 100; period <= 1000; period += 900) {
		tt_boot();
		a = tt_channel();
		t0 = thal_now;
		push_ping_start(a, t0);
		push_ping_continuation(a, t0 + 500);
		run_polls(period, 6);
		assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_PING);
		assert_int_equal(rcid, a);
		assert_int_equal(len, 100);
	}
	/* 501 ms: too late, whatever the poll period */
	for (uint32_t period = 100; period <= 1000; period += 900) {
		tt_boot();
		a = tt_channel();
		t0 = thal_now;
		push_ping_start(a, t0);
		push_ping_continuation(a, t0 + 501);
		run_polls(period, 12);
		expect_error(a, CTAP1_ERR_TIMEOUT);
		assert_int_equal(thal_sent(), 0);
	}
}

static void oversized_and_empty_messages_are_refused(void **state)
{
	uint8_t pkt[64];
	uint32_t cid;

	tt_boot();
	cid = tt_channel();
	tt_packet(pkt, cid, CTAPHID_PING);
	pkt[5] = 0xff; /* 65535 bytes */
	pkt[6] = 0xff;
	thal_push(pkt);
	tt_send(cid, CTAPHID_CBOR, NULL, 0, 0);
	tt_send(cid, CTAPHID_WINK, pkt, 1, 0);
	tt_send(CTAPHID_BROADCAST_CID, CTAPHID_INIT, pkt, 7, 0);
	tt_run();
	expect_error(cid, CTAP1_ERR_INVALID_LENGTH);
	expect_error(cid, CTAP1_ERR_INVALID_LENGTH);
	expect_error(cid, CTAP1_ERR_INVALID_LENGTH);
	expect_error(CTAPHID_BROADCAST_CID, CTAP1_ERR_INVALID_LENGTH);
}

static void unknown_and_lock_commands_are_invalid(void **state)
{
	uint32_t cid;

	tt_boot();
	cid = tt_channel();
	tt_send(cid, 0xa5, NULL, 0, 0);
	tt_send(cid, CTAPHID_LOCK, (const uint8_t *)"\x05", 1, 0);
	tt_run();
	expect_error(cid, CTAP1_ERR_INVALID_COMMAND);
	expect_error(cid, CTAP1_ERR_INVALID_COMMAND);
}

static void wink_answers_and_winks(void **state)
{
	uint8_t r[8];
	uint32_t cid, rcid;
	size_t len;

	tt_boot();
	cid = tt_channel();
	tt_send(cid, CTAPHID_WINK, NULL, 0, 0);
	tt_run();
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_WINK);
	assert_int_equal(len, 0);
	assert_int_equal(thal_led, HAL_LED_WINK);
}

/* A minimal makeCredential request: cdh, rp, user, ES256. */
static size_t mc_request(uint8_t *buf, size_t cap)
{
	static const uint8_t cdh[32] = {1};
	size_t n = ctapreq_make_credential(buf, cap, cdh, "rp.test");

	assert_true(n > 0);
	return n;
}

static void touch_wait_sends_keepalives_and_times_out(void **state)
{
	uint8_t req[256], r[1200];
	uint32_t cid, rcid;
	size_t n, len;
	int ka = 0;

	tt_boot();
	cid = tt_channel();
	n = mc_request(req, sizeof(req));
	tt_send(cid, CTAPHID_CBOR, req, n, 0);
	tt_run();
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, &ka), CTAPHID_CBOR);
	assert_int_equal(len, 1);
	assert_int_equal(r[0], CTAP2_ERR_USER_ACTION_TIMEOUT);
	assert_true(ka >= 10); /* every 100 ms over the 2 s timeout */
}

static void cancel_ends_the_touch_wait(void **state)
{
	uint8_t req[256], r[1200], pkt[64];
	uint32_t cid, other, rcid;
	size_t n, len;
	int ka = 0;

	uint64_t t0;

	tt_boot();
	cid = tt_channel();
	other = tt_channel();
	n = mc_request(req, sizeof(req));
	t0 = thal_now;
	tt_send(cid, CTAPHID_CBOR, req, n, t0);
	tt_packet(pkt, other, CTAPHID_PING); /* another client meanwhile: busy */
	pkt[6] = 1;
	thal_push_at(pkt, t0 + 200);
	tt_packet(pkt, cid, CTAPHID_CANCEL);
	thal_push_at(pkt, t0 + 300);
	assert_int_equal(token_poll(10), 0); /* first packet */
	assert_int_equal(token_poll(10), 0); /* second: the request runs and waits */
	assert_true(thal_now - t0 < 1000);   /* ended by the cancel, not the 2 s timeout */
	{
		uint8_t e[64];

		assert_int_equal(tt_recv(&rcid, e, sizeof(e), &len, &ka), CTAPHID_ERROR);
		assert_int_equal(rcid, other);
		assert_int_equal(e[0], CTAP1_ERR_CHANNEL_BUSY);
	}
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, &ka), CTAPHID_CBOR);
	assert_int_equal(rcid, cid);
	assert_int_equal(len, 1);
	assert_int_equal(r[0], CTAP2_ERR_KEEPALIVE_CANCEL);
	assert_true(ka >= 3);
}

static void touch_before_the_request_does_not_count(void **state)
{
	uint8_t req[256], r[1200];
	uint32_t cid, rcid;
	size_t n, len;

	tt_boot();
	cid = tt_channel();
	n = mc_request(req, sizeof(req));
	thal_touch_at = thal_now; /* touched before the request arrives */
	tt_send(cid, CTAPHID_CBOR, req, n, thal_now + 100);
	tt_run();
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, NULL), CTAPHID_CBOR);
	assert_int_equal(r[0], CTAP2_ERR_USER_ACTION_TIMEOUT);
}

static void touch_completes_the_request(void **state)
{
	uint8_t req[256], r[1200];
	uint32_t cid, rcid;
	size_t n, len;
	int ka = 0;

	tt_boot();
	cid = tt_channel();
	n = mc_request(req, sizeof(req));
	thal_touch_at = thal_now + 450;
	tt_send(cid, CTAPHID_CBOR, req, n, thal_now);
	tt_run();
	assert_int_equal(tt_recv(&rcid, r, sizeof(r), &len, &ka), CTAPHID_CBOR);
	assert_int_equal(r[0], CTAP2_OK);
	assert_true(len > 200);
	assert_int_equal(cbor_validate(r + 1, len - 1, CBOR_MAX_DEPTH), 0);
	assert_true(ka >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(init_allocates_distinct_channels),
	    cmocka_unit_test(ping_round_trips_a_fragmented_message),
	    cmocka_unit_test(unallocated_and_zero_channels_are_refused),
	    cmocka_unit_test(other_channel_is_busy_while_a_message_is_incomplete),
	    cmocka_unit_test(wrong_sequence_aborts_the_message),
	    cmocka_unit_test(new_request_on_same_channel_mid_message_is_a_sequence_error),
	    cmocka_unit_test(missing_continuation_times_out),
	    cmocka_unit_test(late_continuation_does_not_complete_the_message),
	    cmocka_unit_test(late_continuation_after_another_channel_is_still_late),
	    cmocka_unit_test(continuation_limit_is_500_ms_from_the_last_packet),
	    cmocka_unit_test(oversized_and_empty_messages_are_refused),
	    cmocka_unit_test(unknown_and_lock_commands_are_invalid),
	    cmocka_unit_test(wink_answers_and_winks),
	    cmocka_unit_test(touch_wait_sends_keepalives_and_times_out),
	    cmocka_unit_test(cancel_ends_the_touch_wait),
	    cmocka_unit_test(touch_before_the_request_does_not_count),
	    cmocka_unit_test(touch_completes_the_request),
	};
	int rc = cmocka_run_group_tests_name("token_ctaphid", tests, NULL, NULL);

	thal_free();
	return rc;
}
