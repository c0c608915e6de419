/*
 * fuzz_clamd.c - libFuzzer harness for the clamd reply parser.
 * Fuzzing only. A reported signature must be a terminated printable string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	char sig[32];
	int rc = xfer_clamd_parse_reply(buf, size, sig, sizeof(sig));
	if (rc == 1) {
		size_t n = strnlen(sig, sizeof(sig));
		if (n == sizeof(sig))
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)sig[i] < 0x20)
				abort();
	} else if (rc != 0 && rc >= 0) {
		abort();
	}
	free(buf);
	return 0;
}
