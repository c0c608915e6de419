/*
 * test_store.c: the token's persistent store: counter wear levelling across pages,
 * power loss injected at every flash write (state stays old-or-new, the counter never
 * goes back), corrupted records, bad geometry and RNG failure failing closed.
 * Linked by the token unit tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbor.h"
#include "ctap_status.h"
#include "ctapreq.h"
#include "store.h"
#include "token.h"
#include "tokentest.h"

static void counter_counts_across_pages_and_reboots(void **state)
{
	uint32_t v, i;
	long erases;

	tt_boot();
	erases = thal_flash.erases;
	for (i = 1; i <= 1000; i++) {
		assert_int_equal(store_counter_next(&v), 0);
		assert_int_equal(v, i);
	}
	/* 4 KiB pages of 16-byte slots: a page erase every 255 increments, not every one */
	assert_true(thal_flash.erases - erases <= 5);
	assert_int_equal(tt_reboot(), 0);
	assert_int_equal(store_counter_peek(), 1000);
	assert_int_equal(store_counter_next(&v), 0);
	assert_int_equal(v, 1001);
	/* all 14 counter pages are used in turn: wear is spread */
	for (i = 0; i < 14 * 255; i++)
		assert_int_equal(store_counter_next(&v), 0);
	assert_int_equal(tt_reboot(), 0);
	assert_int_equal(store_counter_peek(), v);
}

static void state_persists_across_reboot(void **state)
{
	uint8_t master[32];

	tt_boot();
	memcpy(master, store_st.master, 32);
	store_st.pin_set = 1;
	store_st.pin_retries = 3;
	store_st.rk[2].used = 1;
	store_st.rk[2].user_id_len = 4;
	assert_int_equal(store_commit(), 0);
	assert_int_equal(tt_reboot(), 0);
	assert_memory_equal(store_st.master, master, 32);
	assert_int_equal(store_st.pin_retries, 3);
	assert_int_equal(store_st.rk[2].used, 1);
	assert_int_equal(store_st.rk[2].user_id_len, 4);
}

struct outcome {
	uint32_t last_ok; /* highest counter value handed out */
	int commit1, commit2;
};

/* A run of operations that may lose power at any write. */
static void scenario(struct outcome *o)
{
	uint32_t v;
	int i;

	memset(o, 0, sizeof(*o));
	o->last_ok = store_counter_peek();
	for (i = 0; i < 300; i++) {
		if (store_counter_next(&v) != 0)
			return;
		assert_true(v > o->last_ok);
		o->last_ok = v;
	}
	store_st.pin_retries = 5;
	if (store_commit() != 0)
		return;
	o->commit1 = 1;
	for (i = 0; i < 300; i++) {
		if (store_counter_next(&v) != 0)
			return;
		o->last_ok = v;
	}
	store_st.rk_seq = 77;
	if (store_commit() != 0)
		return;
	o->commit2 = 1;
}

static void power_loss_at_every_write_keeps_state_and_counter(void **state)
{
	size_t size = 4096 * 16;
	uint8_t *image = malloc(size), master[32];
	struct outcome o;
	uint32_t v;
	long k;
	int cuts = 0;

	assert_non_null(image);
	tt_boot();
	for (k = 0; k < 400; k++) /* start part-way through a counter page */
		assert_int_equal(store_counter_next(&v), 0);
	memcpy(image, thal_flash.mem, size);
	memcpy(master, store_st.master, 32);
	for (k = 0;; k++) {
		memcpy(thal_flash.mem, image, size);
		assert_int_equal(tt_reboot(), 0);
		thal_flash.writes = 0;
		thal_flash.cut_at = k;
		scenario(&o);
		if (!thal_flash.dead)
			break; /* k is past the last write: every write has been cut once */
		cuts++;
		assert_int_equal(tt_reboot(), 0);
		/* never back: the next value is above everything handed out */
		assert_true(store_counter_peek() >= o.last_ok);
		assert_int_equal(store_counter_next(&v), 0);
		assert_true(v > o.last_ok);
		/* old or new state, never a mix, never lost */
		assert_memory_equal(store_st.master, master, 32);
		assert_true(store_st.pin_retries == 8 || store_st.pin_retries == 5);
		assert_true(store_st.rk_seq == 0 || store_st.rk_seq == 77);
		if (o.commit1)
			assert_int_equal(store_st.pin_retries, 5);
		if (o.commit2)
			assert_int_equal(store_st.rk_seq, 77);
		if (store_st.rk_seq == 77)
			assert_int_equal(store_st.pin_retries, 5);
	}
	assert_true(cuts >= 600); /* each increment and commit was cut once */
	free(image);
}

/* authData signature counter of a MakeCredential (key 2) or GetAssertion (key 2)
 * response; 0 when the response is an error. */
static uint32_t response_counter(const uint8_t *resp, size_t n)
{
	struct cbor_dec d;
	struct cbor_item it;

	if (n < 2 || resp[0] != 0)
		return 0;
	cbor_dec_init(&d, resp + 1, n - 1);
	assert_int_equal(cbor_next(&d, &it), 0); /* map */
	assert_int_equal(cbor_skip(&d), 0);	 /* key 1 */
	assert_int_equal(cbor_skip(&d), 0);	 /* fmt or credential */
	assert_int_equal(cbor_skip(&d), 0);	 /* key 2 */
	assert_int_equal(cbor_next(&d, &it), 0);
	assert_int_equal(it.major, CBOR_BYTES);
	return (uint32_t)it.ptr[33] << 24 | (uint32_t)it.ptr[34] << 16 | (uint32_t)it.ptr[35] << 8 |
	       it.ptr[36];
}

/* A resident credential's MakeCredential (make) or its GetAssertion. */
static size_t rk_request(uint8_t *buf, size_t cap, int make)
{
	static const uint8_t cdh[32] = {5};
	struct cbor_enc e;

	if (make)
		return ctapreq_make_resident(buf, cap, cdh, "rp.test", "clerk");
	buf[0] = 0x02;
	cbor_enc_init(&e, buf + 1, cap - 1);
	cbor_put_map(&e, 2);
	cbor_put_uint(&e, 1);
	cbor_put_text(&e, "rp.test");
	cbor_put_uint(&e, 2);
	cbor_put_bytes(&e, cdh, 32);
	return e.len + 1;
}

static void power_loss_during_make_credential_and_assertions(void **state)
{
	size_t size = 4096 * 16, n;
	uint8_t *image = malloc(size), mc[256], ga[128], resp[1200];
	size_t mclen = rk_request(mc, sizeof(mc), 1), galen = rk_request(ga, sizeof(ga), 0);
	uint32_t high, c;
	long k;
	int i, made, cuts = 0;

	assert_non_null(image);
	tt_boot();
	for (i = 0; i < 250; i++) /* near the end of a counter page */
		assert_int_equal(store_counter_next(&c), 0);
	memcpy(image, thal_flash.mem, size);
	for (k = 0;; k++) {
		memcpy(thal_flash.mem, image, size);
		assert_int_equal(tt_reboot(), 0);
		thal_auto_touch = 1;
		thal_flash.writes = 0;
		thal_flash.cut_at = k;
		high = 250;
		n = ctap2_request(mc, mclen, resp, sizeof(resp));
		made = resp[0] == 0;
		c = response_counter(resp, n);
		high = c > high ? c : high;
		for (i = 0; made && i < 8; i++) {
			n = ctap2_request(ga, galen, resp, sizeof(resp));
			c = response_counter(resp, n);
			if (c == 0)
				break;
			assert_true(c > high);
			high = c;
		}
		if (!thal_flash.dead)
			break;
		cuts++;
		assert_int_equal(tt_reboot(), 0);
		thal_auto_touch = 1;
		n = ctap2_request(ga, galen, resp, sizeof(resp));
		if (made) /* a credential that was reported made survives */
			assert_int_equal(resp[0], 0);
		if (resp[0] == 0)
			assert_true(response_counter(resp, n) > high);
		else
			assert_int_equal(resp[0],
					 0x2e); /* no credentials: the write never landed */
	}
	assert_true(cuts >= 10);
	free(image);
}

static void power_loss_during_first_boot_recovers(void **state)
{
	long k;

	for (k = 0; k < 3; k++) {
		thal_reset(4096, 16, 4);
		thal_flash.cut_at = k;
		(void)token_init(&(struct token_config){2000, 10000});
		assert_int_equal(tt_reboot(), 0);
		assert_int_equal(store_st.pin_retries, STORE_PIN_RETRIES);
		assert_int_equal(tt_reboot(), 0); /* and it stays valid */
	}
}

static void corrupt_newest_record_falls_back_to_previous(void **state)
{
	uint32_t page;

	tt_boot();
	store_st.pin_retries = 6;
	assert_int_equal(store_commit(), 0);
	store_st.pin_retries = 4;
	assert_int_equal(store_commit(), 0);
	assert_int_equal(tt_reboot(), 0);
	assert_int_equal(store_st.pin_retries, 4);
	/* records alternate: first boot on page 0, then 1, then the newest on 0 */
	page = 0;
	thal_flash.mem[page * 4096 + 100] ^= 0x01;
	assert_int_equal(tt_reboot(), 0);
	assert_int_equal(store_st.pin_retries, 6);
}

static void bad_geometry_and_rng_failure_fail_closed(void **state)
{
	thal_reset(4096, 3, 4);
	assert_int_equal(token_init(&(struct token_config){2000, 10000}), CTAP1_ERR_OTHER);
	thal_reset(4096, 16, 4);
	thal_rng_fail = 1;
	assert_int_equal(token_init(&(struct token_config){2000, 10000}), CTAP1_ERR_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counter_counts_across_pages_and_reboots),
	    cmocka_unit_test(state_persists_across_reboot),
	    cmocka_unit_test(power_loss_at_every_write_keeps_state_and_counter),
	    cmocka_unit_test(power_loss_during_make_credential_and_assertions),
	    cmocka_unit_test(power_loss_during_first_boot_recovers),
	    cmocka_unit_test(corrupt_newest_record_falls_back_to_previous),
	    cmocka_unit_test(bad_geometry_and_rng_failure_fail_closed),
	};
	int rc = cmocka_run_group_tests_name("token_store", tests, NULL, NULL);

	thal_free();
	return rc;
}
