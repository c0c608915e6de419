/*
 * main.c: portcullis-uf2, converts the token firmware ELF into a UF2 file that the RP2350
 * boot ROM accepts by drag and drop onto its RP2350 drive. Run by the firmware build and
 * by IT providers; the input file is untrusted (see uf2.c).
 *
 *   portcullis-uf2 [--family 0xID] [--any-address] IN.elf OUT.uf2
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "uf2.h"

#define MAX_ELF (16u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: portcullis-uf2 [--family 0xID] [--any-address] IN.elf OUT.uf2\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint32_t family = UF2_FAMILY_RP2350_ARM_S;
	int any_address = 0, i = 1, n, rc = 1;
	struct uf2_segment segs[UF2_MAX_SEGMENTS];
	struct pcl_diag diag = {0};
	char msg[600];
	uint8_t *elf, *out = NULL;
	char *text;
	size_t len = 0, blocks;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--family") == 0 && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);
			if (*end || v > 0xffffffffu)
				return usage();
			family = (uint32_t)v;
		} else if (strcmp(argv[i], "--any-address") == 0) {
			any_address = 1;
		} else {
			return usage();
		}
	}
	if (argc - i != 2)
		return usage();
	int r = pcl_read_file(argv[i], MAX_ELF, 0, &text, &len);
	if (r != 0) {
		fprintf(stderr, "portcullis: %s: %s\n", argv[i], pcl_read_strerror(r));
		return 1;
	}
	elf = (uint8_t *)text;
	n = uf2_elf_segments(elf, len, argv[i], segs, UF2_MAX_SEGMENTS, &diag);
	if (n > 0 && !any_address)
		n = uf2_check_range(segs, (size_t)n, UF2_RP2350_FLASH_BASE, UF2_RP2350_FLASH_SIZE,
				    argv[i], &diag) < 0
			? -1
			: n;
	if (n <= 0) {
		pcl_diag_format(&diag, msg, sizeof msg);
		fprintf(stderr, "portcullis: %s\n", msg);
		goto out;
	}
	blocks = uf2_block_count(segs, (size_t)n);
	out = malloc(blocks * UF2_BLOCK_SIZE);
	if (!out || uf2_encode(segs, (size_t)n, family, out, blocks * UF2_BLOCK_SIZE) < 0) {
		fprintf(stderr, "portcullis: %s: cannot encode UF2\n", argv[i]);
		goto out;
	}
	FILE *f = fopen(argv[i + 1], "wb");
	if (!f || fwrite(out, UF2_BLOCK_SIZE, blocks, f) != blocks || fclose(f) != 0) {
		fprintf(stderr, "portcullis: %s: %s\n", argv[i + 1], strerror(errno));
		goto out;
	}
	printf("%s: %zu blocks, %zu bytes of flash, family 0x%08x\n", argv[i + 1], blocks,
	       blocks * UF2_PAYLOAD_SIZE, family);
	rc = 0;
out:
	free(out);
	free(elf);
	return rc;
}
