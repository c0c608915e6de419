/*
 * main.c: the Portcullis token on the RP2350 (Raspberry Pi Pico 2): bring up clocks, pins,
 * flash and USB, start the token core and serve CTAPHID reports forever. Linked by the
 * rp2350 image; all host input goes through the core.
 */
#include "board.h"
#include "hal.h"
#include "token.h"

int main(void)
{
	static const char hex[] = "0123456789ABCDEF";
	struct token_config cfg = {.up_timeout_ms = 30000, .reset_window_ms = 10000};
	uint8_t id[8];
	static char serial[17];

	rp_clocks_init();
	rp_gpio_init();
	rp_unique_id(id);
	for (int i = 0; i < 8; i++) {
		serial[2 * i] = hex[id[i] >> 4];
		serial[2 * i + 1] = hex[id[i] & 15];
	}
	if (rp_flash_init() != 0 || token_init(&cfg) != 0) {
		/* No store or no randomness: show the error and answer nothing (fail closed). */
		uint8_t none[HAL_REPORT_LEN];
		hal_led(HAL_LED_ERROR);
		for (;;)
			(void)hal_usb_recv(none, 1000); /* USB is off: this only animates the LED */
	}
	rp_usb_init(&rp_usb_hw_rp2350, serial);
	for (;;)
		(void)token_poll(100);
}
