/*
 * hal.h: the whole contract between the token's portable core (firmware/core) and a board.
 * Linked by every token build: the host simulator (firmware/host) and the MCU targets
 * (firmware/targets/<board>). The core never includes a board header; a board provides
 * every function below. There are no weak defaults: a board that forgets one (user
 * presence included) fails to link.
 *
 * C99, freestanding: only <stdint.h> and <stddef.h>.
 * Unless said otherwise, functions return 0 on success and a negative value on failure.
 * All functions are called from one thread of execution (the core's main loop); none is
 * called from an interrupt by the core.
 */
#ifndef PCL_HAL_H
#define PCL_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- randomness ---------------------------------------------------------------- */

/* Fill buf with len bytes from a cryptographically secure source (TRNG or OS CSPRNG,
 * conditioned by the board). Returns 0, or a negative value if the source failed; the
 * core then fails the operation closed (it never falls back to weaker randomness). */
int hal_rng(void *buf, size_t len);

/* ---- flash --------------------------------------------------------------------- */

/* Geometry of the flash region reserved for the token's persistent store. */
struct hal_flash_geometry {
	uint32_t page_size;   /* bytes per erase unit (e.g. 4096), a power of two */
	uint32_t page_count;  /* number of pages reserved for the store (at least 8) */
	uint32_t write_align; /* program granularity in bytes (1, 4, 16 or 256) */
};

/* Describe the store's flash region. Constant for the life of the device. */
void hal_flash_geometry(struct hal_flash_geometry *geo);

/* Read len bytes at byte offset off of page `page` into buf. off + len <= page_size.
 * Returns 0, or a negative value for an out-of-range request or a read error. */
int hal_flash_read(uint32_t page, uint32_t off, void *buf, size_t len);

/* Erase page `page`: afterwards every byte reads 0xff. May be interrupted by power loss,
 * leaving the page in any state; the store detects that with its own checksums. */
int hal_flash_erase(uint32_t page);

/* Program len bytes at byte offset off of page `page`. off and len are multiples of
 * write_align; the target bytes were erased (0xff) since they were last programmed.
 * Programming can only clear bits. May be interrupted by power loss, leaving the bytes
 * in any state. Returns 0, or a negative value on a range or hardware error. */
int hal_flash_program(uint32_t page, uint32_t off, const void *buf, size_t len);

/* ---- user presence ------------------------------------------------------------- */

/* Return 1 if the user touched the button since the previous call (the touch is
 * consumed), 0 otherwise; never blocks. The core calls it once to discard stale touches
 * before it asks for presence, then polls it (with hal_usb_recv timeouts in between, to
 * send KEEPALIVE and honour CANCEL) until a touch arrives or its own timeout expires.
 * A board must only return 1 for a physical action of the user. */
int hal_button_poll(void);

/* ---- indicator ----------------------------------------------------------------- */

enum hal_led_mode {
	HAL_LED_OFF = 0, /* idle */
	HAL_LED_ON,	 /* processing a request */
	HAL_LED_WAIT_UP, /* waiting for a touch: blink so the user sees it */
	HAL_LED_WINK,	 /* CTAPHID_WINK: a short, distinctive pattern */
	HAL_LED_ERROR,	 /* store or self-test failure */
};

/* Set the indicator. The board animates blinking modes itself (timer or in
 * hal_usb_recv); the core only says which mode applies. */
void hal_led(enum hal_led_mode mode);

/* ---- USB HID reports ----------------------------------------------------------- */

#define HAL_REPORT_LEN 64 /* CTAPHID report size (no report ID byte) */

/* Queue one 64-byte IN report to the host. Blocks until the report is accepted by the
 * USB stack (or the host side of the simulator socket). Returns 0, or a negative value
 * if the host is gone; the core then drops the transaction. */
int hal_usb_send(const uint8_t report[HAL_REPORT_LEN]);

/* Wait up to timeout_ms milliseconds for one 64-byte OUT report from the host.
 * Returns 1 and fills report when one arrived, 0 on timeout, a negative value on error.
 * timeout_ms == 0 polls without waiting. */
int hal_usb_recv(uint8_t report[HAL_REPORT_LEN], uint32_t timeout_ms);

/* ---- time ---------------------------------------------------------------------- */

/* Milliseconds since power-up, monotonic, never wraps in the device's life. Used for
 * CTAPHID transaction timeouts, user-presence timeouts, and the 10 s reset window. */
uint64_t hal_time_ms(void);

/* ---- identity ------------------------------------------------------------------ */

#define HAL_UNIQUE_ID_LEN 8

/* The chip's factory unique id (RP2350: the 64-bit board id; simulator: fixed per state
 * file). Not secret: the core uses it only as a public identifier, never as key material. */
void hal_unique_id(uint8_t id[HAL_UNIQUE_ID_LEN]);

#ifdef __cplusplus
}
#endif

#endif /* PCL_HAL_H */
