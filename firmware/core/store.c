/*
 * store.c: power-cut safe persistence for the token core (see store.h).
 * Linked by the token core. Flash is read through the HAL and trusted only after a
 * SHA-256 check of each record.
 *
 * Layout: pages 0 and 1 hold the state record, alternately; each write goes to the page
 * not holding the newest valid record, so a cut write leaves the previous record intact.
 * Pages 2.. hold the counter: a page starts with a checksummed header giving its base
 * value; each increment programs the next slot. The counter is base + used slots of the
 * page with the highest value; a slot whose programming was cut counts as used, so a
 * value handed out is never handed out again. A full page moves to the next page (erased
 * first), spreading erases over all counter pages.
 */
#include <string.h>

#include "ctap_status.h"
#include "hal.h"
#include "store.h"
#include "tcrypto.h"

#define STATE_MAGIC   0x50435354u /* "PCST" */
#define COUNTER_MAGIC 0x50434e54u /* "PCNT" */
#define STATE_VERSION 1u

struct state_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t gen;
	uint32_t len;
};

struct store_state store_st;

static struct hal_flash_geometry geo;
static uint32_t state_gen;
static uint32_t state_page; /* page holding the newest record */
static uint32_t ctr_value;
static uint32_t ctr_page;
static uint32_t ctr_next_slot;
static uint32_t slot_size;
static int failed;

/* Record: header | state | sha256(header | state), padded to the write alignment. */
static uint8_t rec[sizeof(struct state_hdr) + sizeof(struct store_state) + 32 + 256];

void store_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

static size_t rec_len(void)
{
	size_t n = sizeof(struct state_hdr) + sizeof(struct store_state) + 32;
	size_t a = geo.write_align ? geo.write_align : 1;

	return (n + a - 1) / a * a;
}

/* Returns the generation of a valid record on page, or 0 if none. */
static uint32_t read_state_page(uint32_t page, struct store_state *out)
{
	struct state_hdr h;
	uint8_t sum[32];
	size_t body = sizeof(struct state_hdr) + sizeof(struct store_state);
	uint32_t gen = 0;

	if (hal_flash_read(page, 0, rec, body + 32) != 0)
		return 0;
	memcpy(&h, rec, sizeof(h));
	if (h.magic == STATE_MAGIC && h.version == STATE_VERSION &&
	    h.len == sizeof(struct store_state) && h.gen != 0 && h.gen != 0xffffffffu) {
		tcrypto_sha256(rec, body, sum);
		if (tcrypto_ct_equal(sum, rec + body, 32)) {
			memcpy(out, rec + sizeof(h), sizeof(*out));
			gen = h.gen;
		}
	}
	store_wipe(rec, sizeof(rec));
	return gen;
}

int store_commit(void)
{
	struct state_hdr h = {STATE_MAGIC, STATE_VERSION, state_gen + 1,
			      sizeof(struct store_state)};
	size_t body = sizeof(h) + sizeof(store_st);
	uint32_t target = state_page ^ 1u;
	int rc = 0;

	if (failed)
		return CTAP1_ERR_OTHER;
	memset(rec, 0xff, sizeof(rec));
	memcpy(rec, &h, sizeof(h));
	memcpy(rec + sizeof(h), &store_st, sizeof(store_st));
	tcrypto_sha256(rec, body, rec + body);
	if (hal_flash_erase(target) != 0 || hal_flash_program(target, 0, rec, rec_len()) != 0) {
		failed = 1;
		rc = CTAP1_ERR_OTHER;
	} else {
		state_gen = h.gen;
		state_page = target;
	}
	store_wipe(rec, sizeof(rec));
	return rc;
}

static void counter_hdr(uint8_t *slot, uint32_t base)
{
	uint8_t in[8], sum[32];

	memset(slot, 0xff, slot_size);
	memcpy(in, &(uint32_t){COUNTER_MAGIC}, 4);
	memcpy(in + 4, &base, 4);
	tcrypto_sha256(in, sizeof(in), sum);
	memcpy(slot, in, 8);
	memcpy(slot + 8, sum, 8);
}

static int all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xff)
			return 0;
	return 1;
}

static int counter_load(void)
{
	uint8_t slot[256], want[256];
	uint32_t page, s, base, slots = geo.page_size / slot_size;
	int found = 0;

	ctr_value = 0;
	ctr_page = 2;
	ctr_next_slot = slots; /* no valid page: the first increment starts a page */
	for (page = 2; page < geo.page_count; page++) {
		if (hal_flash_read(page, 0, slot, slot_size) != 0)
			return CTAP1_ERR_OTHER;
		memcpy(&base, slot + 4, 4);
		counter_hdr(want, base);
		if (memcmp(slot, want, slot_size) != 0)
			continue;
		for (s = 1; s < slots; s++) {
			if (hal_flash_read(page, s * slot_size, slot, slot_size) != 0)
				return CTAP1_ERR_OTHER;
			if (all_ff(slot, slot_size))
				break;
		}
		if (!found || base + (s - 1) > ctr_value) {
			found = 1;
			ctr_value = base + (s - 1);
			ctr_page = page;
			ctr_next_slot = s;
		}
	}
	return 0;
}

int store_counter_next(uint32_t *value)
{
	uint8_t slot[256];
	uint32_t slots = geo.page_size / slot_size;

	if (failed || ctr_value == 0xffffffffu)
		return CTAP1_ERR_OTHER;
	if (ctr_next_slot < slots) {
		memset(slot, 0, slot_size);
		if (hal_flash_program(ctr_page, ctr_next_slot * slot_size, slot, slot_size) != 0) {
			failed = 1;
			return CTAP1_ERR_OTHER;
		}
		ctr_next_slot++;
	} else {
		uint32_t next = ctr_page + 1 < geo.page_count ? ctr_page + 1 : 2;

		counter_hdr(slot, ctr_value + 1);
		if (hal_flash_erase(next) != 0 ||
		    hal_flash_program(next, 0, slot, slot_size) != 0) {
			failed = 1;
			return CTAP1_ERR_OTHER;
		}
		ctr_page = next;
		ctr_next_slot = 1;
	}
	*value = ++ctr_value;
	return 0;
}

uint32_t store_counter_peek(void)
{
	return ctr_value;
}

static int fresh_state(void)
{
	store_wipe(&store_st, sizeof(store_st));
	if (hal_rng(store_st.master, sizeof(store_st.master)) != 0)
		return CTAP1_ERR_OTHER;
	store_st.pin_retries = STORE_PIN_RETRIES;
	store_st.min_pin_len = 4;
	return 0;
}

int store_reset(void)
{
	int rc = fresh_state();

	return rc ? rc : store_commit();
}

int store_init(void)
{
	static struct store_state other;
	uint32_t g0, g1;

	failed = 0;
	hal_flash_geometry(&geo);
	slot_size = geo.write_align > 16 ? geo.write_align : 16;
	if (geo.page_count < 4 || slot_size > 256 || geo.page_size < 4 * slot_size ||
	    rec_len() > geo.page_size || rec_len() > sizeof(rec)) {
		failed = 1;
		return CTAP1_ERR_OTHER;
	}
	g0 = read_state_page(0, &store_st);
	g1 = read_state_page(1, &other);
	if (g1 > g0) {
		memcpy(&store_st, &other, sizeof(other));
		state_gen = g1;
		state_page = 1;
	} else {
		state_gen = g0;
		state_page = 0;
	}
	store_wipe(&other, sizeof(other));
	if (counter_load() != 0) {
		failed = 1;
		return CTAP1_ERR_OTHER;
	}
	if (state_gen == 0) {
		state_page = 1; /* so the first record goes to page 0 */
		return store_reset();
	}
	return 0;
}
