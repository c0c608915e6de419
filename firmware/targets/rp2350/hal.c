/*
 * hal.c: the token HAL (firmware/hal/hal.h) on the RP2350: USB reports through usb.c,
 * flash pages through flash.c, a debounced physical button (GP15, with BOOTSEL as a
 * fallback), LED patterns, randomness from the TRNG conditioned by BearSSL's HMAC-DRBG
 * (reseeded from fresh TRNG output on every request), and time from TIMER0. Linked by
 * the rp2350 image. Button and USB input are physical/host input; the core judges reports.
 */
#include <bearssl.h>
#include <string.h>

#include "board.h"
#include "hal.h"

#define DEBOUNCE_US	  20000u
#define BOOTSEL_PERIOD_US 50000u
#define USB_TX_TIMEOUT_US 1000000u

static br_hmac_drbg_context drbg;
static int drbg_ready;
static enum hal_led_mode led_mode;
static uint64_t led_since;

/* ---- randomness ---- */

static int trng_block(uint8_t out[24])
{
	uint32_t w[6];

	if (rp_trng_read(w) != 0)
		return -1;
	for (int i = 0; i < 6; i++) {
		out[4 * i] = (uint8_t)w[i];
		out[4 * i + 1] = (uint8_t)(w[i] >> 8);
		out[4 * i + 2] = (uint8_t)(w[i] >> 16);
		out[4 * i + 3] = (uint8_t)(w[i] >> 24);
	}
	memset(w, 0, sizeof w);
	return 0;
}

int hal_rng(void *buf, size_t len)
{
	uint8_t e[48];

	/* 2 x 192 TRNG bits seed the DRBG; 192 fresh bits are mixed in before each output. */
	if (!drbg_ready) {
		if (trng_block(e) != 0 || trng_block(e + 24) != 0)
			goto fail;
		br_hmac_drbg_init(&drbg, &br_sha256_vtable, e, sizeof e);
		drbg_ready = 1;
	} else if (trng_block(e) != 0) {
		goto fail;
	} else {
		br_hmac_drbg_update(&drbg, e, 24);
	}
	br_hmac_drbg_generate(&drbg, buf, len);
	memset(e, 0, sizeof e);
	return 0;
fail:
	memset(e, 0, sizeof e);
	return -1;
}

/* ---- time, LED ---- */

uint64_t hal_time_ms(void)
{
	return rp_time_us() / 1000u;
}

void hal_led(enum hal_led_mode mode)
{
	if (mode != led_mode)
		led_since = rp_time_us();
	led_mode = mode;
}

static void led_tick(void)
{
	uint64_t t = (rp_time_us() - led_since) / 1000u;

	if (rp_usb_suspended()) { /* the host suspended the bus: stay dark */
		rp_led_set(0);
		return;
	}
	switch (led_mode) {
	case HAL_LED_OFF:
		rp_led_set(0);
		break;
	case HAL_LED_ON:
		rp_led_set(1);
		break;
	case HAL_LED_WAIT_UP: /* 2 Hz: touch me */
		rp_led_set((t / 250u) % 2u == 0);
		break;
	case HAL_LED_WINK: /* 5 quick flashes, then off */
		rp_led_set(t < 1000u && (t / 100u) % 2u == 0);
		break;
	case HAL_LED_ERROR: /* steady fast flicker */
		rp_led_set((t / 50u) % 2u == 0);
		break;
	}
}

/* ---- button ---- */

static int btn_stable, btn_candidate, btn_pressed_edge, bootsel_stable;
static uint64_t btn_changed, bootsel_checked;

static void button_tick(void)
{
	uint64_t now = rp_time_us();
	int raw = rp_button_down();

	if (raw != btn_candidate) {
		btn_candidate = raw;
		btn_changed = now;
	} else if (raw != btn_stable && now - btn_changed >= DEBOUNCE_US) {
		btn_stable = raw;
		if (raw)
			btn_pressed_edge = 1;
	}
	/* BOOTSEL stalls flash for a few microseconds: sample it only now and then. */
	if (now - bootsel_checked >= BOOTSEL_PERIOD_US) {
		int b = rp_bootsel_pressed();
		bootsel_checked = now;
		if (b && !bootsel_stable)
			btn_pressed_edge = 1;
		bootsel_stable = b;
	}
}

int hal_button_poll(void)
{
	int edge;

	button_tick();
	edge = btn_pressed_edge;
	btn_pressed_edge = 0;
	return edge;
}

/* ---- USB ---- */

static void board_service(void)
{
	rp_usb_task();
	led_tick();
	button_tick();
}

int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms)
{
	uint64_t t0 = rp_time_us();

	for (;;) {
		board_service();
		if (rp_usb_rx(report))
			return 1;
		if (rp_time_us() - t0 >= (uint64_t)timeout_ms * 1000u)
			return 0;
	}
}

int hal_usb_send(const uint8_t report[HAL_REPORT_LEN])
{
	uint64_t t0 = rp_time_us();

	for (;;) {
		board_service();
		if (!rp_usb_configured())
			return -1; /* unplugged or reset: the core drops the transaction */
		if (!rp_usb_tx_busy())
			return rp_usb_tx(report);
		if (rp_time_us() - t0 >= USB_TX_TIMEOUT_US)
			return -1; /* host stopped polling */
	}
}

/* ---- flash ---- */

void hal_flash_geometry(struct hal_flash_geometry *geo)
{
	geo->page_size = RP_STORE_PAGE_SIZE;
	geo->page_count = RP_STORE_PAGE_COUNT;
	geo->write_align = 4;
}

int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len)
{
	if (page >= RP_STORE_PAGE_COUNT || off > RP_STORE_PAGE_SIZE ||
	    len > RP_STORE_PAGE_SIZE - off)
		return -1;
	memcpy(buf, rp_flash_page(page) + off, len);
	return 0;
}

int hal_flash_erase(uint32_t page)
{
	return rp_flash_erase_page(page);
}

int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len)
{
	if (off % 4u || len % 4u)
		return -1;
	return rp_flash_program(page, off, buf, len);
}

/* ---- identity ---- */

void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN])
{
	rp_unique_id(id);
}
