/*
 * token_board.c: the token HAL (firmware/hal/hal.h) for the mps2-an505 QEMU board, so the
 * real core and BearSSL run on an emulated Cortex-M33 and a host test drives them with a
 * FIDO2 client. Linked only into the an505-token QEMU image (a test board, never a token).
 *
 * Host link on UART0 (QEMU -serial), one frame per message; host bytes are untrusted:
 *   host -> board  'R' + 64 bytes   CTAPHID OUT report
 *                  'T'              the user touched the button (the test's "finger")
 *                  'S' + 32 bytes   entropy for the DRBG (this board has no TRNG)
 *                  'Q'              report and reset the work counter
 *   board -> host  'R' + 64 bytes   CTAPHID IN report
 *                  'C' + 8 bytes    instructions executed outside HAL waits since the
 *                                   previous 'Q' (little endian; needs -icount shift=0)
 * Unknown frame bytes are dropped. Flash is a RAM array with NOR semantics (erase to 0xff,
 * program only clears bits), so state lasts for one run of the emulator.
 */
#include <bearssl.h>
#include <string.h>

#include "an505.h"
#include "hal.h"

#define FLASH_PAGE_SIZE	 4096u
#define FLASH_PAGE_COUNT 16u
#define FLASH_ALIGN	 4u
#define TICKS_PER_MS	 20000u /* 20 MHz timer: 50 instructions per tick under icount */

static uint8_t flash[FLASH_PAGE_COUNT][FLASH_PAGE_SIZE];
static br_hmac_drbg_context drbg;
static int seeded, touched;
static uint64_t ticks_hi; /* 64-bit extension of the 32-bit timer */
static uint32_t ticks_last;
static uint64_t wait_ticks, q_start, q_wait; /* for the work counter */
static uint32_t insn_per_tick;

/* Under QEMU every device register access is slow, while plain instructions are fast:
 * between two polls of an idle UART, spin this many iterations (2 instructions each) so
 * that virtual time, which counts instructions, advances at a useful rate. */
#define IDLE_SPIN 5000u

static void idle_spin(uint32_t n)
{
	__asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
}

static uint64_t now_ticks(void)
{
	uint32_t t = an505_ticks();
	if (t < ticks_last)
		ticks_hi += 1ull << 32;
	ticks_last = t;
	return ticks_hi | t;
}

void an505_board_init(void)
{
	an505_timer_start();
	insn_per_tick = an505_insn_per_tick();
	an505_uart_init();
	memset(flash, 0xff, sizeof flash);
	q_start = now_ticks();
}

static void send_frame(uint8_t type, const uint8_t *p, size_t n)
{
	an505_uart_putc(type);
	for (size_t i = 0; i < n; i++)
		an505_uart_putc(p[i]);
}

/* Read exactly n bytes, waiting without limit (frames are sent whole by the host). */
static void read_exact(uint8_t *p, size_t n)
{
	uint64_t t0 = now_ticks();
	for (size_t i = 0; i < n;) {
		int c = an505_uart_getc_nb();
		if (c >= 0)
			p[i++] = (uint8_t)c;
		else
			idle_spin(IDLE_SPIN / 10);
	}
	wait_ticks += now_ticks() - t0;
}

static void report_work(void)
{
	uint64_t now = now_ticks();
	uint64_t insn = (now - q_start - (wait_ticks - q_wait)) * insn_per_tick;
	uint8_t le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(insn >> (8 * i));
	send_frame('C', le, sizeof le);
	q_start = now_ticks();
	q_wait = wait_ticks;
}

/* Handle one frame whose type byte is c; returns 1 when it filled report. */
static int handle_frame(int c, uint8_t report[HAL_REPORT_LEN])
{
	uint8_t seed[32];

	switch (c) {
	case 'R':
		read_exact(report, HAL_REPORT_LEN);
		return 1;
	case 'T':
		touched = 1;
		return 0;
	case 'S':
		read_exact(seed, sizeof seed);
		if (!seeded)
			br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, sizeof seed);
		else
			br_hmac_drbg_update(&drbg, seed, sizeof seed);
		seeded = 1;
		memset(seed, 0, sizeof seed);
		return 0;
	case 'Q':
		report_work();
		return 0;
	default:
		return 0;
	}
}

void an505_board_wait_seed(void)
{
	uint8_t scratch[HAL_REPORT_LEN];

	/* The host sends 'S' first; anything before it is a protocol error and dropped. */
	while (!seeded) {
		int c = an505_uart_getc_nb();
		if (c >= 0)
			(void)handle_frame(c, scratch);
	}
}

int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms)
{
	uint64_t t0 = now_ticks(), limit = (uint64_t)timeout_ms * TICKS_PER_MS;

	for (;;) {
		int c = an505_uart_getc_nb();
		if (c >= 0) {
			wait_ticks += now_ticks() - t0;
			if (handle_frame(c, report))
				return 1;
			t0 = now_ticks();
			continue;
		}
		uint64_t now = now_ticks();
		if (now - t0 >= limit) {
			wait_ticks += now - t0;
			return 0;
		}
		idle_spin(IDLE_SPIN);
	}
}

int hal_usb_send(const uint8_t report[HAL_REPORT_LEN])
{
	send_frame('R', report, HAL_REPORT_LEN);
	return 0;
}

int hal_button_poll(void)
{
	/* Touch frames are taken off the link by hal_usb_recv, which the core calls between
	 * polls while it waits for presence. */
	int t = touched;
	touched = 0;
	return t;
}

void hal_led(enum hal_led_mode mode)
{
	(void)mode; /* no LED on the emulated board */
}

int hal_rng(void *buf, size_t len)
{
	if (!seeded)
		return -1; /* fail closed: never invent randomness */
	br_hmac_drbg_generate(&drbg, buf, len);
	return 0;
}

uint64_t hal_time_ms(void)
{
	return now_ticks() / TICKS_PER_MS;
}

void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN])
{
	static const uint8_t qemu_id[HAL_UNIQUE_ID_LEN] = {'Q', 'E', 'M', 'U', 'a', '5', '0', '5'};
	memcpy(id, qemu_id, HAL_UNIQUE_ID_LEN);
}

void hal_flash_geometry(struct hal_flash_geometry *geo)
{
	geo->page_size = FLASH_PAGE_SIZE;
	geo->page_count = FLASH_PAGE_COUNT;
	geo->write_align = FLASH_ALIGN;
}

static int in_range(uint32_t page, uint32_t off, size_t len)
{
	return page < FLASH_PAGE_COUNT && off <= FLASH_PAGE_SIZE && len <= FLASH_PAGE_SIZE - off;
}

int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len)
{
	if (!in_range(page, off, len))
		return -1;
	memcpy(buf, &flash[page][off], len);
	return 0;
}

int hal_flash_erase(uint32_t page)
{
	if (page >= FLASH_PAGE_COUNT)
		return -1;
	memset(flash[page], 0xff, FLASH_PAGE_SIZE);
	return 0;
}

int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len)
{
	const uint8_t *src = buf;

	if (!in_range(page, off, len) || off % FLASH_ALIGN || len % FLASH_ALIGN)
		return -1;
	for (size_t i = 0; i < len; i++)
		flash[page][off + i] &= src[i]; /* NOR: programming only clears bits */
	return 0;
}
