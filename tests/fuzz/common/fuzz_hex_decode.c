/*
 * fuzz_hex_decode.c - libFuzzer harness for the hex decoder: any bytes are either refused
 * (and the output wiped) or decode to a value whose encoding is exactly the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[512];
	char again[1025];
	size_t n = size / 2;

	if (size > 1024)
		return 0;
	if (pcl_hex_decode(out, n, (const char *)data, size) != 0) {
		for (size_t i = 0; i < n; i++)
			if (out[i] != 0)
				abort();
		return 0;
	}
	pcl_hex_encode(again, out, n);
	if (memcmp(again, data, size) != 0)
		abort();
	return 0;
}
