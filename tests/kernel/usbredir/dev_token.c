/*
 * dev_token.c: the Portcullis token as a usbredir device: the firmware core
 * (pcl_token_core) behind the RP2350 target's own descriptors (rp_usb_descriptor from
 * firmware/targets/rp2350/usb_desc.c, linked, not copied) and its 64-byte CTAPHID reports
 * on interrupt endpoints 0x81 (IN) and 0x01 (OUT). This file is the board layer
 * (firmware/hal/hal.h) of that build over the simulator's own shared part
 * (firmware/host/sim_board.c: file-backed flash, getrandom(), CLOCK_MONOTONIC, the touch
 * by SIGUSR1 or --auto-touch, the unique id). Control requests beyond the descriptors are answered
 * as the RP2350 driver (usb.c) answers them: SET_IDLE accepted, everything else stalled. Linked by
 * pcl-usbredir-dev (a test tool). Reports come from the guest's USB stack and are untrusted: only
 * whole 64-byte reports reach the core, as on the RP2350.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "hal.h"
#include "sim_board.h"
#include "token.h"
#include "urdev.h"
#include "urdev_devices.h"

#define EP_IN	   0x81
#define EP_OUT	   0x01
#define RING	   256	 /* queued OUT reports; the RP2350 holds 4 and NAKs the rest */
#define TX_WAIT_MS 1000u /* as the RP2350 board: the host stopped polling */

/* flash, touch, stop, clock and unique id: struct sim_board (firmware/host/sim_board.c) */
static struct {
	char serial[17];
	uint8_t ring[RING][HAL_REPORT_LEN];
	unsigned head, tail;
} tok;

/* ---- the board layer of the core ---- */

void hal_led(enum hal_led_mode mode)
{
	if (mode == HAL_LED_WAIT_UP && !sim_board.auto_touch)
		fprintf(stderr, "pcl-usbredir-dev: token: waiting for touch (kill -USR1 %ld)\n",
			(long)getpid());
	else if (mode == HAL_LED_ERROR)
		fprintf(stderr, "pcl-usbredir-dev: token: led error\n");
}

int hal_usb_send(const uint8_t report[HAL_REPORT_LEN])
{
	uint64_t t0 = sim_board_now_ms();

	/* like the RP2350: wait until the host polls the IN endpoint, at most TX_WAIT_MS */
	while (!urdev_polling(EP_IN)) {
		uint64_t now = sim_board_now_ms();

		if (sim_board.stop || now - t0 >= TX_WAIT_MS ||
		    urdev_pump((uint32_t)(TX_WAIT_MS - (now - t0))) < 0)
			return -1;
	}
	return urdev_interrupt_in(EP_IN, report, HAL_REPORT_LEN);
}

int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms)
{
	uint64_t deadline = sim_board_now_ms() + timeout_ms;

	for (;;) {
		uint64_t now;

		if (tok.head != tok.tail) {
			memcpy(report, tok.ring[tok.tail % RING], HAL_REPORT_LEN);
			memset(tok.ring[tok.tail % RING], 0, HAL_REPORT_LEN);
			tok.tail++;
			return 1;
		}
		if (sim_board.stop)
			return -1;
		now = sim_board_now_ms();
		if (now >= deadline && timeout_ms != 0)
			return 0;
		if (urdev_pump(now >= deadline ? 0 : (uint32_t)(deadline - now)) < 0)
			return -1;
		if (timeout_ms == 0 && tok.head == tok.tail)
			return 0;
	}
}

/* ---- the USB function ---- */

static size_t token_descriptor(uint16_t value, uint16_t index, const uint8_t **out,
			       uint8_t *scratch, size_t cap)
{
	/* the RP2350 answers within one 64-byte EP0 packet: so does this build */
	return rp_usb_descriptor(value, index, out, scratch, cap < 64 ? cap : 64, tok.serial);
}

static int token_class_request(uint8_t type, uint8_t req, uint16_t value, uint16_t index,
			       const uint8_t *data, size_t len, uint8_t *buf, size_t cap)
{
	(void)value;
	(void)index;
	(void)data;
	(void)len;
	(void)buf;
	(void)cap;
	return type == 0x21 && req == 0x0a ? 0 : -1; /* HID SET_IDLE only, as usb.c */
}

static int token_out(uint8_t ep, const uint8_t *data, size_t len)
{
	if (ep != EP_OUT)
		return -1;
	if (len != HAL_REPORT_LEN)
		return 0; /* a short report is not CTAPHID: dropped, as on the RP2350 */
	if (tok.head - tok.tail >= RING) {
		fprintf(stderr, "pcl-usbredir-dev: token: report queue full, report stalled\n");
		return -1;
	}
	memcpy(tok.ring[tok.head % RING], data, HAL_REPORT_LEN);
	tok.head++;
	return 0;
}

static const struct urdev_function token_fn = {
    .name = "token",
    .speed = URDEV_FULL,
    .descriptor = token_descriptor,
    .class_request = token_class_request,
    .out_packet = token_out,
};

int urdev_run_token(const struct urdev_options *o)
{
	static const char hex[] = "0123456789ABCDEF";
	struct token_config cfg = {.up_timeout_ms = o->up_timeout_ms, .reset_window_ms = 10000};
	int rc;

	if (!o->state) {
		fprintf(stderr, "pcl-usbredir-dev: --device token needs --state FILE\n");
		return 2;
	}
	sim_board.auto_touch = o->auto_touch;
	rc = sim_board_open(o->state, 4096, 16);
	if (rc != 0) {
		fprintf(stderr, "pcl-usbredir-dev: --state %s: %s\n", o->state, strerror(-rc));
		return 1;
	}
	/* the serial string is the unique id's hex, as the RP2350 board makes it from the
	 * chip's id */
	for (int i = 0; i < 8; i++) {
		tok.serial[2 * i] = hex[sim_board.unique_id[i] >> 4];
		tok.serial[2 * i + 1] = hex[sim_board.unique_id[i] & 15];
	}
	rc = token_init(&cfg);
	if (rc != 0) {
		fprintf(stderr, "pcl-usbredir-dev: token store failed (CTAP 0x%02x)\n", rc);
		sim_board_close();
		return 1;
	}
	if (urdev_open(&token_fn, o->listen, o->connect) != 0) {
		sim_board_close();
		return 1;
	}
	fprintf(stderr, "pcl-usbredir-dev: token %s connected (pid %ld)\n", tok.serial,
		(long)getpid());
	while (!sim_board.stop)
		if (token_poll(o->poll_ms) < 0)
			break;
	urdev_close();
	sim_board_close();
	return 0;
}
