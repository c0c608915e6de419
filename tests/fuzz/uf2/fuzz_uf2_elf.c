/*
 * fuzz_uf2_elf.c: libFuzzer harness for the UF2 converter's ELF reader (untrusted files).
 * Any input that parses is encoded and every block decoded back.
 */
#include <stdint.h>
#include <stdlib.h>

#include "uf2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uf2_segment segs[UF2_MAX_SEGMENTS];
	struct pcl_diag diag;
	int n = uf2_elf_segments(data, size, "fuzz", segs, UF2_MAX_SEGMENTS, &diag);

	if (n <= 0 || uf2_check_range(segs, (size_t)n, UF2_RP2350_FLASH_BASE, UF2_RP2350_FLASH_SIZE,
				      "fuzz", &diag) < 0)
		return 0;
	size_t count = uf2_block_count(segs, (size_t)n);
	if (count > 4096)
		return 0;
	uint8_t *out = malloc(count * UF2_BLOCK_SIZE);
	if (!out)
		return 0;
	if (uf2_encode(segs, (size_t)n, UF2_FAMILY_RP2350_ARM_S, out, count * UF2_BLOCK_SIZE) ==
	    (int)count) {
		struct uf2_block b;
		for (size_t i = 0; i < count; i++)
			if (uf2_decode_block(out + i * UF2_BLOCK_SIZE, &b, "fuzz", &diag) != 0)
				abort();
	}
	free(out);
	return 0;
}
