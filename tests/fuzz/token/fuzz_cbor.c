/*
 * fuzz_cbor.c: libFuzzer harness for the token's CBOR decoder and CTAP2 request parsers:
 * the input is validated and walked, then handed to ctap2_request() as a command byte
 * plus CBOR, on a token booted on the test board layer (deterministic RNG, auto touch).
 * Linked by the fuzz build only. The input is fully attacker-controlled.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "fuzz_boot.h"
#include "test_hal.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct token_config cfg = {.up_timeout_ms = 200, .reset_window_ms = 10000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[CTAPHID_MAX_MSG];
	struct cbor_dec d;

	if (size > CTAPHID_MAX_MSG)
		return 0;
	if (cbor_validate(data, size, CBOR_MAX_DEPTH) == 0) {
		cbor_dec_init(&d, data, size);
		if (cbor_skip(&d) != 0 || d.p != data + size)
			abort(); /* validated input must walk */
	}
	if (size >= 1) {
		size_t n;

		fuzz_token_boot(&cfg, 1);
		n = ctap2_request(data, size, resp, sizeof(resp));
		if (n < 1 || n > sizeof(resp))
			abort();
		if (resp[0] == 0 && n > 1 && cbor_validate(resp + 1, n - 1, CBOR_MAX_DEPTH) != 0)
			abort(); /* every success response is canonical CBOR */
	}
	return 0;
}
