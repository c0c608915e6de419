/*
 * fuzz_b64_decode.c - libFuzzer harness for the base64 decoder: any bytes are either
 * refused or decode to bytes whose encoding is exactly the input (one spelling a value),
 * and a too small output is refused without a write past it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[768];
	char again[1025];
	int n;

	if (size > 1024)
		return 0;
	n = pcl_b64_decode((const char *)data, size, out, sizeof(out));
	if (n < 0)
		return 0;
	if (n == 0 || pcl_b64_encode(out, (size_t)n, again, sizeof(again)) != (int)size ||
	    memcmp(again, data, size) != 0)
		abort();
	if (n > 1) {
		uint8_t *small = malloc((size_t)n - 1); /* ASan sees a write past it */

		if (small == NULL ||
		    pcl_b64_decode((const char *)data, size, small, (size_t)n - 1) != -ENOSPC)
			abort();
		free(small);
	}
	return 0;
}
