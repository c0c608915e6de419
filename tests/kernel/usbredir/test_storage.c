/*
 * test_storage.c: cmocka tests of pcl-usbredir-dev's bulk-only mass storage
 * (dev_storage.c): a command's data and status wrapper, a write read back, a block range
 * past the disk failing with its sense, an unknown command, and an invalid command block
 * wrapper stalling until the bulk-only reset. Linked by the unit test only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "urdev_storage.h"

static void cbw(uint8_t *w, uint32_t tag, uint32_t dlen, int in, const uint8_t *cdb, int n)
{
	memset(w, 0, 31);
	memcpy(w, "USBC", 4);
	memcpy(w + 4, &tag, 4); /* little-endian host */
	memcpy(w + 8, &dlen, 4);
	w[12] = in ? 0x80 : 0;
	w[14] = (uint8_t)n;
	memcpy(w + 15, cdb, (size_t)n);
}

/* Reads the status wrapper; returns its status byte and checks tag and residue. */
static int csw(uint32_t tag, uint32_t residue)
{
	uint8_t s[64];
	uint32_t v;

	assert_int_equal(storage_in(s, sizeof s), 13);
	assert_memory_equal(s, "USBS", 4);
	memcpy(&v, s + 4, 4);
	assert_int_equal(v, tag);
	memcpy(&v, s + 8, 4);
	assert_int_equal(v, residue);
	return s[12];
}

static void command_in(uint32_t tag, const uint8_t *cdb, int n, uint32_t dlen, uint8_t *buf,
		       int want)
{
	uint8_t w[31];

	cbw(w, tag, dlen, 1, cdb, n);
	assert_int_equal(storage_out(w, sizeof w), 0);
	assert_int_equal(storage_in(buf, dlen), want);
}

static void inquiry_capacity_and_sense(void **state)
{
	static const uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0}, cap[10] = {0x25};
	static const uint8_t bad[10] = {0x28, 0, 0, 0, 0x40, 0, 0, 0, 1, 0}; /* LBA 16384 */
	static const uint8_t sense[6] = {0x03, 0, 0, 0, 18, 0}, odd[6] = {0xee};
	uint8_t d[64];

	(void)state;
	assert_int_equal(storage_init(16384, "Kingston", "DataTraveler 3.0"), 0);
	command_in(1, inq, 6, 36, d, 36);
	assert_int_equal(d[1], 0x80); /* removable */
	assert_memory_equal(d + 8, "Kingston", 8);
	assert_int_equal(csw(1, 0), 0);
	command_in(2, cap, 10, 8, d, 8);
	assert_int_equal(d[2] << 8 | d[3], 16383); /* last block */
	assert_int_equal(d[6] << 8 | d[7], 512);
	assert_int_equal(csw(2, 0), 0);
	/* one block past the end: no data, failed, ILLEGAL REQUEST / LBA out of range */
	command_in(3, bad, 10, 512, d, 0);
	assert_int_equal(csw(3, 512), 1);
	command_in(4, sense, 6, 18, d, 18);
	assert_int_equal(d[2], 0x05);
	assert_int_equal(d[12], 0x21);
	assert_int_equal(csw(4, 0), 0);
	/* an unknown command without a data stage: the next IN is the failed status */
	cbw(d, 5, 0, 0, odd, 6);
	assert_int_equal(storage_out(d, 31), 0);
	assert_int_equal(csw(5, 0), 1);
}

static void write_then_read_back(void **state)
{
	static const uint8_t wr[10] = {0x2a, 0, 0, 0, 0, 7, 0, 0, 2, 0};
	static const uint8_t rd[10] = {0x28, 0, 0, 0, 0, 7, 0, 0, 2, 0};
	uint8_t w[31], data[1024], back[1024];

	(void)state;
	assert_int_equal(storage_init(64, "v", "p"), 0);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13);
	cbw(w, 9, sizeof data, 0, wr, 10);
	assert_int_equal(storage_out(w, sizeof w), 0);
	assert_int_equal(storage_out(data, 600), 0);
	assert_int_equal(storage_out(data + 600, sizeof data - 600), 0);
	assert_int_equal(csw(9, 0), 0);
	command_in(10, rd, 10, sizeof back, back, sizeof back);
	assert_memory_equal(back, data, sizeof data);
	assert_int_equal(csw(10, 0), 0);
}

static void invalid_wrapper_stalls_until_reset(void **state)
{
	static const uint8_t tur[6] = {0};
	uint8_t w[31], s[64];

	(void)state;
	assert_int_equal(storage_init(64, "v", "p"), 0);
	cbw(w, 1, 0, 0, tur, 6);
	w[0] = 'X';
	assert_int_equal(storage_out(w, sizeof w), -1);
	assert_int_equal(storage_in(s, sizeof s), -1);
	cbw(w, 2, 0, 0, tur, 6);
	assert_int_equal(storage_out(w, sizeof w), -1); /* still stalled */
	storage_reset();
	assert_int_equal(storage_out(w, sizeof w), 0);
	assert_int_equal(csw(2, 0), 0);
	cbw(w, 3, 0, 0, tur, 6);
	assert_int_equal(storage_out(w, 30), -1); /* short wrapper */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inquiry_capacity_and_sense),
	    cmocka_unit_test(write_then_read_back),
	    cmocka_unit_test(invalid_wrapper_stalls_until_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
