/*
 * token_main.c: entry point of the an505-token QEMU image: the real token core on an
 * emulated Cortex-M33, served over the UART host link of token_board.c. Linked only into
 * that image; its input is the host test's frames (handled by the board and the core).
 */
#include <stdio.h>

#include "an505.h"
#include "hal.h"
#include "token.h"

int main(void)
{
	/* 1 s of virtual time (1e9 instructions under -icount shift=0, about 10 s of QEMU) for
	 * a touch instead of the 30 s a real token gives, so the "no touch, no signature"
	 * test stays short. */
	struct token_config cfg = {.up_timeout_ms = 1000, .reset_window_ms = 10000};
	int rc;

	an505_board_init();
	/* The core needs randomness at power-up: wait for the host's entropy frame. */
	an505_board_wait_seed();
	rc = token_init(&cfg);
	printf("token_init: %d\n", rc);
	if (rc != 0)
		return 1;
	for (;;)
		if (token_poll(100) < 0)
			return 1;
}
