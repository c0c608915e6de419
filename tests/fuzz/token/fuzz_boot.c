/*
 * fuzz_boot.c - the token fuzz harnesses' start (see fuzz_boot.h). Linked by the fuzz
 * build only.
 */
#include "fuzz_boot.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_hal.h"

void fuzz_token_boot(const struct token_config *cfg, int auto_touch)
{
	static uint8_t *image;
	size_t n = 4096 * 16;

	if (!image) {
		thal_deterministic = 1;
		thal_reset(4096, 16, 4);
		if (token_init(cfg) != 0)
			abort();
		image = malloc(n);
		if (!image)
			abort();
		memcpy(image, thal_flash.mem, n);
	}
	memcpy(thal_flash.mem, image, n);
	thal_power_cycle();
	thal_auto_touch = auto_touch;
	if (token_init(cfg) != 0)
		abort();
}
