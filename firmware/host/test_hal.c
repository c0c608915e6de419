/*
 * test_hal.c: the test and fuzz board layer (see test_hal.h). Linked by the token unit
 * tests and fuzz harnesses only. Trusts its caller; reports from the tests are passed to
 * the core unchanged, which is the point.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "hal.h"
#include "test_hal.h"

#define QMAX 8192

struct simflash thal_flash;
uint64_t thal_now;
int thal_auto_touch;
uint64_t thal_touch_at;
int thal_led;
int thal_rng_fail;
int thal_deterministic;

static struct {
	uint8_t r[64];
	uint64_t at;
} inq[QMAX];
static size_t in_head, in_tail;
static uint8_t outq[QMAX][64];
static size_t out_head, out_tail;
static uint64_t prng_state = 0x9e3779b97f4a7c15ull;

static void clear(void)
{
	in_head = in_tail = out_head = out_tail = 0;
	thal_now = 0;
	thal_auto_touch = 0;
	thal_touch_at = 0;
	thal_led = -1;
	thal_rng_fail = 0;
	prng_state = 0x9e3779b97f4a7c15ull;
}

void thal_reset(uint32_t page_size, uint32_t page_count, uint32_t align)
{
	if (thal_flash.mem)
		simflash_close(&thal_flash);
	if (simflash_open(&thal_flash, NULL, page_size, page_count, align) != 0)
		abort();
	clear();
}

void thal_power_cycle(void)
{
	thal_flash.dead = 0;
	thal_flash.cut_at = -1;
	clear();
}

void thal_free(void)
{
	if (thal_flash.mem)
		simflash_close(&thal_flash);
}

void thal_push_at(const uint8_t report[64], uint64_t at_ms)
{
	if (in_tail == QMAX)
		abort();
	memcpy(inq[in_tail].r, report, 64);
	inq[in_tail++].at = at_ms;
}

void thal_push(const uint8_t report[64])
{
	thal_push_at(report, 0);
}

int thal_pop(uint8_t report[64])
{
	if (out_head == out_tail)
		return 0;
	memcpy(report, outq[out_head++], 64);
	return 1;
}

size_t thal_sent(void)
{
	return out_tail - out_head;
}

/* SplitMix64: a reproducible test sequence, not a cryptographic generator. */
static uint64_t prng(void)
{
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int hal_rng(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (thal_rng_fail)
		return -1;
	if (!thal_deterministic)
		return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
	while (len) {
		uint64_t v = prng();
		size_t n = len < 8 ? len : 8;

		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
	return 0;
}

void hal_flash_geometry(struct hal_flash_geometry *geo)
{
	geo->page_size = thal_flash.page_size;
	geo->page_count = thal_flash.page_count;
	geo->write_align = thal_flash.align;
}

int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len)
{
	return simflash_read(&thal_flash, page, off, buf, len);
}

int hal_flash_erase(uint32_t page)
{
	return simflash_erase(&thal_flash, page);
}

int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len)
{
	return simflash_program(&thal_flash, page, off, buf, len);
}

int hal_button_poll(void)
{
	if (thal_auto_touch)
		return 1;
	if (thal_touch_at && thal_now >= thal_touch_at) {
		thal_touch_at = 0;
		return 1;
	}
	return 0;
}

void hal_led(enum hal_led_mode mode)
{
	thal_led = (int)mode;
}

int hal_usb_send(const uint8_t report[HAL_REPORT_LEN])
{
	if (out_tail == QMAX) { /* keep the newest: compact */
		memmove(outq, outq[out_head], (out_tail - out_head) * 64);
		out_tail -= out_head;
		out_head = 0;
		if (out_tail == QMAX)
			return -1;
	}
	memcpy(outq[out_tail++], report, HAL_REPORT_LEN);
	return 0;
}

int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms)
{
	if (in_head < in_tail) {
		uint64_t at = inq[in_head].at;

		if (at <= thal_now || at <= thal_now + timeout_ms) {
			if (at > thal_now)
				thal_now = at;
			memcpy(report, inq[in_head++].r, HAL_REPORT_LEN);
			return 1;
		}
	}
	thal_now += timeout_ms ? timeout_ms : 1;
	return 0;
}

uint64_t hal_time_ms(void)
{
	return thal_now;
}

void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN])
{
	memcpy(id, "TESTHAL0", HAL_UNIQUE_ID_LEN);
}
