/*
 * uf2.c: reads the loadable segments of an ARM ELF executable and writes them as UF2
 * blocks (Microsoft's USB Flashing Format, as the RP2350 boot ROM's mass-storage drive
 * accepts them). Linked by the portcullis-uf2 host tool and its tests. The ELF file is
 * untrusted input: every header field is bounds-checked before use.
 */
#include "uf2.h"

#include <errno.h>
#include <string.h>

#define ELF_HDR_SIZE  52u
#define ELF_PHDR_SIZE 32u
#define EM_ARM_ID     40u
#define ET_EXEC_ID    2u
#define PT_LOAD_ID    1u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Fill the diagnostic and evaluate to -EINVAL. */
#define BAD(diag, name, ...) (pcl_diag_set((diag), (name), 0, __VA_ARGS__), -EINVAL)

int uf2_elf_segments(const uint8_t *elf, size_t len, const char *name, struct uf2_segment *segs,
		     size_t max, struct pcl_diag *diag)
{
	static const uint8_t ident[6] = {0x7f, 'E', 'L', 'F', 1 /* 32-bit */, 1 /* LE */};
	uint64_t phoff, phentsize, phnum;
	size_t n = 0;

	if (len < ELF_HDR_SIZE)
		return BAD(diag, name, "ELF header: file too short (%u bytes)", (unsigned)len);
	if (memcmp(elf, ident, sizeof ident) != 0)
		return BAD(diag, name, "e_ident: not a 32-bit little-endian ELF file");
	if (rd16(elf + 16) != ET_EXEC_ID)
		return BAD(diag, name, "e_type: %u is not an executable (ET_EXEC)", rd16(elf + 16));
	if (rd16(elf + 18) != EM_ARM_ID)
		return BAD(diag, name, "e_machine: %u is not ARM (40)", rd16(elf + 18));
	phoff = rd32(elf + 28);
	phentsize = rd16(elf + 42);
	phnum = rd16(elf + 44);
	if (phnum == 0)
		return BAD(diag, name, "e_phnum: no program headers");
	if (phentsize < ELF_PHDR_SIZE)
		return BAD(diag, name, "e_phentsize: %u is smaller than 32", (unsigned)phentsize);
	if (phoff > len || phnum * phentsize > len - phoff)
		return BAD(diag, name, "e_phoff: program headers run past the end of the file");

	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = elf + phoff + i * phentsize;
		uint32_t type = rd32(ph), off = rd32(ph + 4), paddr = rd32(ph + 12);
		uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);

		if (type != PT_LOAD_ID || filesz == 0)
			continue;
		if (off > len || filesz > len - off)
			return BAD(diag, name,
				   "program header %u: p_offset/p_filesz past end of file",
				   (unsigned)i);
		if (filesz > memsz)
			return BAD(diag, name, "program header %u: p_filesz larger than p_memsz",
				   (unsigned)i);
		if ((uint64_t)paddr + filesz > 0x100000000ull)
			return BAD(diag, name, "program header %u: p_paddr + p_filesz wraps 4 GiB",
				   (unsigned)i);
		if (n == max) {
			pcl_diag_set(diag, name, 0, "more than %u loadable segments",
				     (unsigned)max);
			return -E2BIG;
		}
		/* insertion sort by address */
		size_t j = n++;
		while (j > 0 && segs[j - 1].addr > paddr) {
			segs[j] = segs[j - 1];
			j--;
		}
		segs[j].addr = paddr;
		segs[j].size = filesz;
		segs[j].data = elf + off;
	}
	if (n == 0)
		return BAD(diag, name, "no PT_LOAD segment with file data");
	return (int)n;
}

static int sorted_disjoint(const struct uf2_segment *segs, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((uint64_t)segs[i - 1].addr + segs[i - 1].size > segs[i].addr)
			return 0;
	return 1;
}

int uf2_check_range(const struct uf2_segment *segs, size_t n, uint32_t base, uint32_t size,
		    const char *name, struct pcl_diag *diag)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t end = (uint64_t)segs[i].addr + segs[i].size;
		if (segs[i].addr < base || end > (uint64_t)base + size) {
			pcl_diag_set(diag, name, 0,
				     "segment at 0x%08x (%u bytes) is outside flash 0x%08x-0x%08x",
				     segs[i].addr, segs[i].size, base, (unsigned)(base + size - 1));
			return -ERANGE;
		}
	}
	if (!sorted_disjoint(segs, n)) {
		pcl_diag_set(diag, name, 0, "loadable segments overlap");
		return -EINVAL;
	}
	return 0;
}

size_t uf2_block_count(const struct uf2_segment *segs, size_t n)
{
	size_t count = 0;
	uint64_t last = UINT64_MAX;

	for (size_t i = 0; i < n; i++) {
		if (segs[i].size == 0)
			continue;
		uint64_t first = segs[i].addr / UF2_PAYLOAD_SIZE;
		uint64_t end = ((uint64_t)segs[i].addr + segs[i].size - 1) / UF2_PAYLOAD_SIZE;
		count += (size_t)(end - first + 1);
		if (first == last)
			count--; /* shares its first page with the previous segment */
		last = end;
	}
	return count;
}

int uf2_encode(const struct uf2_segment *segs, size_t n, uint32_t family_id, uint8_t *out,
	       size_t out_len)
{
	size_t total = uf2_block_count(segs, n), blk = 0;
	uint64_t cur = UINT64_MAX;
	uint8_t *b = NULL;

	if (!sorted_disjoint(segs, n) || total == 0 || out_len < total * UF2_BLOCK_SIZE)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		uint64_t a = segs[i].addr, end = (uint64_t)segs[i].addr + segs[i].size;
		while (a < end) {
			uint64_t page = a / UF2_PAYLOAD_SIZE;
			uint64_t page_end = (page + 1) * UF2_PAYLOAD_SIZE;
			uint64_t chunk_end = end < page_end ? end : page_end;
			if (page != cur) {
				b = out + blk * UF2_BLOCK_SIZE;
				memset(b, 0, UF2_BLOCK_SIZE);
				wr32(b + 0, UF2_MAGIC_START0);
				wr32(b + 4, UF2_MAGIC_START1);
				wr32(b + 8, UF2_FLAG_FAMILY_ID);
				wr32(b + 12, (uint32_t)(page * UF2_PAYLOAD_SIZE));
				wr32(b + 16, UF2_PAYLOAD_SIZE);
				wr32(b + 20, (uint32_t)blk);
				wr32(b + 24, (uint32_t)total);
				wr32(b + 28, family_id);
				wr32(b + 508, UF2_MAGIC_END);
				cur = page;
				blk++;
			}
			memcpy(b + 32 + (a - page * UF2_PAYLOAD_SIZE),
			       segs[i].data + (a - segs[i].addr), (size_t)(chunk_end - a));
			a = chunk_end;
		}
	}
	return (int)blk;
}

int uf2_decode_block(const uint8_t *blk, struct uf2_block *b, const char *name,
		     struct pcl_diag *diag)
{
	if (rd32(blk) != UF2_MAGIC_START0 || rd32(blk + 4) != UF2_MAGIC_START1)
		return BAD(diag, name, "block: bad start magic");
	if (rd32(blk + 508) != UF2_MAGIC_END)
		return BAD(diag, name, "block: bad end magic");
	b->flags = rd32(blk + 8);
	b->target_addr = rd32(blk + 12);
	b->payload_size = rd32(blk + 16);
	b->block_no = rd32(blk + 20);
	b->num_blocks = rd32(blk + 24);
	b->family_id = rd32(blk + 28);
	if (b->payload_size > UF2_DATA_SIZE)
		return BAD(diag, name, "payloadSize: %u exceeds 476", b->payload_size);
	if (b->num_blocks == 0 || b->block_no >= b->num_blocks)
		return BAD(diag, name, "blockNo: %u not below numBlocks", b->block_no);
	memcpy(b->data, blk + 32, UF2_DATA_SIZE);
	return 0;
}
