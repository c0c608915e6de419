/*
 * uf2.h: ELF to UF2 conversion for flashing the token by drag and drop (RP2350 boot ROM).
 * Linked by the portcullis-uf2 host tool and its tests. The ELF input is untrusted: every
 * offset and size is checked, and errors name the field (struct pcl_diag).
 * Functions return 0 (or a count) on success and a negative errno value on failure.
 */
#ifndef PCL_UF2_H
#define PCL_UF2_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define UF2_MAGIC_START0	0x0A324655u
#define UF2_MAGIC_START1	0x9E5D5157u
#define UF2_MAGIC_END		0x0AB16F30u
#define UF2_FLAG_FAMILY_ID	0x00002000u
#define UF2_BLOCK_SIZE		512u
#define UF2_PAYLOAD_SIZE	256u
#define UF2_DATA_SIZE		476u
#define UF2_FAMILY_RP2350_ARM_S 0xE48BFF59u

/* RP2350 flash window (XIP, QSPI chip select 0): where a flash image must lie. */
#define UF2_RP2350_FLASH_BASE 0x10000000u
#define UF2_RP2350_FLASH_SIZE 0x01000000u

#define UF2_MAX_SEGMENTS 16

/* One loadable piece of the ELF: bytes to place at physical (load) address addr. */
struct uf2_segment {
	uint32_t addr;
	uint32_t size;
	const uint8_t *data; /* points into the caller's ELF buffer */
};

/* A decoded UF2 block (fields in host order). */
struct uf2_block {
	uint32_t flags;
	uint32_t target_addr;
	uint32_t payload_size;
	uint32_t block_no;
	uint32_t num_blocks;
	uint32_t family_id;
	uint8_t data[UF2_DATA_SIZE];
};

/* Read the PT_LOAD segments with file data of a 32-bit little-endian ARM ELF executable
 * into segs (at most max), sorted by address. name labels diagnostics. Returns the number
 * of segments, or -EINVAL (malformed or not an ARM executable) / -E2BIG (too many). */
int uf2_elf_segments(const uint8_t *elf, size_t len, const char *name, struct uf2_segment *segs,
		     size_t max, struct pcl_diag *diag);

/* Check that segments lie inside [base, base + size) and do not overlap. */
int uf2_check_range(const struct uf2_segment *segs, size_t n, uint32_t base, uint32_t size,
		    const char *name, struct pcl_diag *diag);

/* Number of 512-byte UF2 blocks the segments need (one per 256-byte flash page touched). */
size_t uf2_block_count(const struct uf2_segment *segs, size_t n);

/* Encode the segments as UF2 into out (uf2_block_count() * 512 bytes): 256-byte payloads
 * aligned to 256-byte target addresses, gaps inside a page filled with zero. */
int uf2_encode(const struct uf2_segment *segs, size_t n, uint32_t family_id, uint8_t *out,
	       size_t out_len);

/* Decode and validate one 512-byte block (magic numbers, payload size, block numbering).
 * Returns 0 or -EINVAL with diag naming the field. */
int uf2_decode_block(const uint8_t *blk, struct uf2_block *b, const char *name,
		     struct pcl_diag *diag);

#endif
