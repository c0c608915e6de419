/*
 * fuzz_ctaphid.c: libFuzzer harness for the token's CTAPHID transport: the input is cut
 * into 64-byte reports (each preceded by a delay byte) fed to token_poll() on the test
 * board layer; every response report is checked to be well-framed. Linked by the fuzz
 * build only. The input is fully attacker-controlled.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_boot.h"
#include "test_hal.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct token_config cfg = {.up_timeout_ms = 300, .reset_window_ms = 10000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[64];
	uint64_t at = 0;
	size_t i;

	if (size > 65 * 64)
		return 0;
	fuzz_token_boot(&cfg, 0);
	thal_auto_touch = size > 0 && (data[0] & 1);
	for (i = 1; i + 65 <= size; i += 65) {
		at += data[i] * 4u; /* up to ~1 s between reports */
		thal_push_at(data + i + 1, at);
	}
	for (i = 0; i < 4 * 65 && (thal_now <= at + 600); i++)
		if (token_poll(50) != 0)
			abort();
	while (thal_pop(pkt)) {
		/* an init packet from the token never claims more than a message can hold */
		if ((pkt[4] & 0x80) && ((size_t)pkt[5] << 8 | pkt[6]) > CTAPHID_MAX_MSG)
			abort();
	}
	return 0;
}
