/*
 * test_uf2.c: cmocka tests of the ELF reader and UF2 writer (tools/uf2). Builds ELF files
 * in memory, converts them, then parses the UF2 output block by block and checks that it
 * reproduces the segments byte for byte; malformed ELF input must fail naming the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uf2.h"

#define ELF_MAX 4096

struct test_seg {
	uint32_t addr;
	uint32_t size;
	uint32_t type;
	uint8_t fill;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A little-endian ARM ET_EXEC with the given program headers; data follows them. */
static size_t make_elf(uint8_t *elf, const struct test_seg *s, size_t n)
{
	uint32_t off = 52 + 32 * (uint32_t)n;

	memset(elf, 0, ELF_MAX);
	memcpy(elf,
	       "\x7f"
	       "ELF\x01\x01\x01",
	       7);
	put16(elf + 16, 2);
	put16(elf + 18, 40);
	put32(elf + 20, 1);
	put32(elf + 28, 52);
	put16(elf + 40, 52);
	put16(elf + 42, 32);
	put16(elf + 44, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *ph = elf + 52 + 32 * i;
		put32(ph, s[i].type);
		put32(ph + 4, off);
		put32(ph + 8, s[i].addr);
		put32(ph + 12, s[i].addr);
		put32(ph + 16, s[i].size);
		put32(ph + 20, s[i].size);
		for (uint32_t j = 0; j < s[i].size; j++)
			elf[off + j] = (uint8_t)(s[i].fill + j);
		off += s[i].size;
	}
	return off;
}

static void roundtrip_reproduces_segments(void **state)
{
	/* unaligned start, a segment sharing the last page of the first, one far away */
	static const struct test_seg s[] = {{0x10000000, 0x100, 1, 0x11},
					    {0x10000140, 0x1b0, 1, 0x40},
					    {0x10003010, 3, 1, 0x90},
					    {0x10001000, 0x20, 4 /* PT_NOTE */, 0}};
	static uint8_t elf[ELF_MAX], image[0x4000];
	static uint8_t written[0x4000];
	struct uf2_segment segs[UF2_MAX_SEGMENTS];
	struct pcl_diag diag = {0};
	size_t len = make_elf(elf, s, 4), count;
	uint8_t *out;
	int n;

	(void)state;
	n = uf2_elf_segments(elf, len, "t.elf", segs, UF2_MAX_SEGMENTS, &diag);
	assert_int_equal(n, 3); /* PT_NOTE skipped */
	assert_int_equal(
	    uf2_check_range(segs, 3, UF2_RP2350_FLASH_BASE, UF2_RP2350_FLASH_SIZE, "t.elf", &diag),
	    0);
	count = uf2_block_count(segs, 3);
	assert_int_equal(count, 4); /* pages 0x000, 0x100, 0x200, 0x3000 */
	out = malloc(count * UF2_BLOCK_SIZE);
	assert_non_null(out);
	assert_int_equal(uf2_encode(segs, 3, UF2_FAMILY_RP2350_ARM_S, out, count * UF2_BLOCK_SIZE),
			 (int)count);

	memset(image, 0, sizeof image);
	memset(written, 0, sizeof written);
	for (size_t i = 0; i < count; i++) {
		struct uf2_block b;
		assert_int_equal(uf2_decode_block(out + i * UF2_BLOCK_SIZE, &b, "t.uf2", &diag), 0);
		assert_int_equal(b.flags, UF2_FLAG_FAMILY_ID);
		assert_int_equal(b.family_id, 0xe48bff59);
		assert_int_equal(b.payload_size, 256);
		assert_int_equal(b.block_no, i);
		assert_int_equal(b.num_blocks, count);
		assert_int_equal(b.target_addr % 256, 0);
		assert_true(b.target_addr >= 0x10000000 && b.target_addr < 0x10004000);
		memcpy(image + (b.target_addr - 0x10000000), b.data, 256);
		memset(written + (b.target_addr - 0x10000000), 1, 256);
		/* bytes after the payload are zero */
		for (size_t j = 256; j < UF2_DATA_SIZE; j++)
			assert_int_equal(b.data[j], 0);
	}
	for (size_t i = 0; i < 3; i++)
		for (uint32_t j = 0; j < s[i].size; j++) {
			uint32_t a = s[i].addr - 0x10000000 + j;
			assert_true(written[a]);
			assert_int_equal(image[a], (uint8_t)(s[i].fill + j));
		}
	/* the gap between the first two segments is zero-filled inside its page */
	assert_int_equal(image[0x100], 0);
	assert_int_equal(image[0x13f], 0);
	assert_false(written[0x1000]); /* the PT_NOTE page was not written */
	free(out);
}

static void magic_numbers_match_the_uf2_spec(void **state)
{
	static const struct test_seg s[] = {{0x10000000, 16, 1, 0}};
	static uint8_t elf[ELF_MAX], out[UF2_BLOCK_SIZE];
	struct uf2_segment segs[1];
	size_t len = make_elf(elf, s, 1);

	(void)state;
	assert_int_equal(uf2_elf_segments(elf, len, "t", segs, 1, NULL), 1);
	assert_int_equal(uf2_encode(segs, 1, UF2_FAMILY_RP2350_ARM_S, out, sizeof out), 1);
	assert_int_equal(get32(out), 0x0A324655);
	assert_int_equal(get32(out + 4), 0x9E5D5157);
	assert_int_equal(get32(out + 508), 0x0AB16F30);
	assert_int_equal(get32(out + 28), 0xE48BFF59);
	/* a corrupted end magic is refused */
	out[508] ^= 1;
	struct uf2_block b;
	struct pcl_diag diag = {0};
	assert_int_equal(uf2_decode_block(out, &b, "t.uf2", &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "end magic"));
}

static void expect_error(const uint8_t *elf, size_t len, const char *field)
{
	struct uf2_segment segs[UF2_MAX_SEGMENTS];
	struct pcl_diag diag = {0};
	char msg[600];

	assert_true(uf2_elf_segments(elf, len, "bad.elf", segs, UF2_MAX_SEGMENTS, &diag) < 0);
	pcl_diag_format(&diag, msg, sizeof msg);
	assert_non_null(strstr(msg, "bad.elf"));
	if (!strstr(msg, field))
		fail_msg("diagnostic '%s' does not name '%s'", msg, field);
}

static void malformed_elf_is_refused_naming_the_field(void **state)
{
	static const struct test_seg s[] = {{0x10000000, 64, 1, 0}};
	static uint8_t elf[ELF_MAX];
	size_t len = make_elf(elf, s, 1);

	(void)state;
	expect_error(elf, 40, "too short");
	elf[4] = 2; /* ELFCLASS64 */
	expect_error(elf, len, "e_ident");
	len = make_elf(elf, s, 1);
	put16(elf + 18, 62); /* x86-64 */
	expect_error(elf, len, "e_machine");
	len = make_elf(elf, s, 1);
	put16(elf + 16, 1); /* ET_REL */
	expect_error(elf, len, "e_type");
	len = make_elf(elf, s, 1);
	put16(elf + 44, 0xffff);
	expect_error(elf, len, "e_phoff");
	len = make_elf(elf, s, 1);
	put32(elf + 52 + 16, 0xfffffff0); /* p_filesz huge */
	expect_error(elf, len, "program header 0");
	len = make_elf(elf, s, 1);
	put32(elf + 52 + 20, 1); /* p_memsz < p_filesz */
	expect_error(elf, len, "p_memsz");
	len = make_elf(elf, s, 1);
	put32(elf + 52 + 12, 0xffffffe0); /* wraps */
	expect_error(elf, len, "wraps");
	len = make_elf(elf, s, 1);
	put16(elf + 42, 8);
	expect_error(elf, len, "e_phentsize");
}

static void out_of_flash_and_overlap_are_refused(void **state)
{
	static const struct test_seg ram[] = {{0x20000000, 16, 1, 0}};
	static const struct test_seg overlap[] = {{0x10000000, 64, 1, 0}, {0x10000020, 8, 1, 0}};
	static uint8_t elf[ELF_MAX];
	struct uf2_segment segs[4];
	struct pcl_diag diag = {0};
	size_t len;

	(void)state;
	len = make_elf(elf, ram, 1);
	assert_int_equal(uf2_elf_segments(elf, len, "ram.elf", segs, 4, &diag), 1);
	assert_int_equal(uf2_check_range(segs, 1, UF2_RP2350_FLASH_BASE, UF2_RP2350_FLASH_SIZE,
					 "ram.elf", &diag),
			 -ERANGE);
	assert_non_null(strstr(diag.msg, "0x20000000"));
	len = make_elf(elf, overlap, 2);
	assert_int_equal(uf2_elf_segments(elf, len, "o.elf", segs, 4, &diag), 2);
	assert_int_equal(
	    uf2_check_range(segs, 2, UF2_RP2350_FLASH_BASE, UF2_RP2350_FLASH_SIZE, "o.elf", &diag),
	    -EINVAL);
	assert_non_null(strstr(diag.msg, "overlap"));
	assert_int_equal(uf2_encode(segs, 2, 0, elf, sizeof elf), -EINVAL);
}

static void too_many_segments_is_e2big(void **state)
{
	static struct test_seg s[UF2_MAX_SEGMENTS + 1];
	static uint8_t elf[ELF_MAX];
	struct uf2_segment segs[UF2_MAX_SEGMENTS];
	size_t len;

	(void)state;
	for (size_t i = 0; i <= UF2_MAX_SEGMENTS; i++)
		s[i] = (struct test_seg){0x10000000 + 0x100 * (uint32_t)i, 4, 1, 0};
	len = make_elf(elf, s, UF2_MAX_SEGMENTS + 1);
	assert_int_equal(uf2_elf_segments(elf, len, "m", segs, UF2_MAX_SEGMENTS, NULL), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip_reproduces_segments),
	    cmocka_unit_test(magic_numbers_match_the_uf2_spec),
	    cmocka_unit_test(malformed_elf_is_refused_naming_the_field),
	    cmocka_unit_test(out_of_flash_and_overlap_are_refused),
	    cmocka_unit_test(too_many_segments_is_e2big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
