/*
 * test_usb_desc.c: cmocka tests of the RP2350 token's USB descriptors
 * (firmware/targets/rp2350/usb_desc.c, compiled for the host): the configuration walks
 * cleanly to its declared total length, the HID report descriptor declares the FIDO usage
 * page with 64-byte input and output reports, and every descriptor fits the one 64-byte
 * EP0 packet the driver sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "board.h"

static const char serial[17] = "E6614C311B2A6C2F";

static size_t get(uint8_t type, uint8_t idx, uint16_t windex, const uint8_t **d, uint8_t *scratch)
{
	return rp_usb_descriptor((uint16_t)(type << 8 | idx), windex, d, scratch, 64, serial);
}

static void device_descriptor_is_full_speed_with_64_byte_ep0(void **state)
{
	uint8_t scratch[64];
	const uint8_t *d;
	size_t n = get(1, 0, 0, &d, scratch);

	(void)state;
	assert_int_equal(n, 18);
	assert_int_equal(d[0], 18);
	assert_int_equal(d[1], 1);
	assert_int_equal(d[2] | d[3] << 8, 0x0200);
	assert_int_equal(d[7], 64);
	assert_int_equal(d[17], 1);
}

static void configuration_walks_to_its_total_length(void **state)
{
	uint8_t scratch[64], report_len = 0;
	const uint8_t *d, *r;
	size_t n = get(2, 0, 0, &d, scratch), off = 0;
	int interfaces = 0, in_ep = 0, out_ep = 0, hid = 0;

	(void)state;
	assert_true(n <= 64);
	assert_int_equal(d[2] | d[3] << 8, n);
	while (off < n) {
		uint8_t len = d[off], type = d[off + 1];
		assert_true(len >= 2 && off + len <= n);
		if (type == 4) {
			interfaces++;
			assert_int_equal(d[off + 4], 2); /* two endpoints */
			assert_int_equal(d[off + 5], 3); /* HID class */
		} else if (type == 0x21) {
			hid++;
			assert_int_equal(d[off + 6], 0x22);
			report_len = d[off + 7];
		} else if (type == 5) {
			assert_int_equal(d[off + 3] & 3, 3); /* interrupt */
			assert_int_equal(d[off + 4] | d[off + 5] << 8, 64);
			if (d[off + 2] == 0x81)
				in_ep++;
			else if (d[off + 2] == 0x01)
				out_ep++;
		}
		off += len;
	}
	assert_int_equal(off, n);
	assert_int_equal(interfaces, 1);
	assert_int_equal(hid, 1);
	assert_int_equal(in_ep, 1);
	assert_int_equal(out_ep, 1);
	assert_int_equal(get(0x22, 0, 0, &r, scratch), report_len);
}

static void report_descriptor_is_fido_with_64_byte_reports(void **state)
{
	uint8_t scratch[64];
	const uint8_t *d;
	size_t n = get(0x22, 0, 0, &d, scratch), off = 0;
	unsigned usage_page = 0, report_size = 0, report_count = 0, in_bytes = 0, out_bytes = 0;
	int usage_ctaphid = 0;

	(void)state;
	assert_true(n > 0 && n <= 64);
	/* Walk the short items of the HID report descriptor. */
	while (off < n) {
		uint8_t prefix = d[off], size = prefix & 3;
		unsigned v = 0;
		if (size == 3)
			size = 4;
		assert_true(off + 1 + size <= n);
		for (unsigned i = 0; i < size; i++)
			v |= (unsigned)d[off + 1 + i] << (8 * i);
		switch (prefix & 0xfc) {
		case 0x04:
			usage_page = v;
			break;
		case 0x08:
			if (usage_page == 0xf1d0 && v == 0x01)
				usage_ctaphid = 1;
			break;
		case 0x74:
			report_size = v;
			break;
		case 0x94:
			report_count = v;
			break;
		case 0x80:
			in_bytes += report_size * report_count / 8;
			break;
		case 0x90:
			out_bytes += report_size * report_count / 8;
			break;
		default:
			break;
		}
		off += 1 + size;
	}
	assert_int_equal(usage_page, 0xf1d0);
	assert_true(usage_ctaphid);
	assert_int_equal(in_bytes, 64);
	assert_int_equal(out_bytes, 64);
}

static void strings_are_utf16_and_fit_one_packet(void **state)
{
	uint8_t scratch[64];
	const uint8_t *d;
	size_t n;

	(void)state;
	n = get(3, 0, 0, &d, scratch);
	assert_int_equal(n, 4);
	assert_int_equal(d[2] | d[3] << 8, 0x0409);
	for (uint8_t i = 1; i <= 3; i++) {
		n = get(3, i, 0x0409, &d, scratch);
		assert_true(n > 2 && n <= 64);
		assert_int_equal(d[0], n);
		assert_int_equal(d[1], 3);
	}
	n = get(3, 3, 0x0409, &d, scratch);
	assert_int_equal(n, 2 + 2 * 16);
	for (size_t i = 0; i < 16; i++) {
		assert_int_equal(d[2 + 2 * i], (uint8_t)serial[i]);
		assert_int_equal(d[3 + 2 * i], 0);
	}
}

static void unknown_requests_have_no_descriptor(void **state)
{
	uint8_t scratch[64];
	const uint8_t *d;

	(void)state;
	assert_int_equal(get(7, 0, 0, &d, scratch), 0);	     /* other speed config */
	assert_int_equal(get(6, 0, 0, &d, scratch), 0);	     /* device qualifier */
	assert_int_equal(get(3, 9, 0x0409, &d, scratch), 0); /* no such string */
	assert_int_equal(get(0x22, 0, 1, &d, scratch), 0);   /* no interface 1 */
	assert_int_equal(get(0x21, 0, 5, &d, scratch), 0);
	/* a long string is cut to what fits the caller's buffer, never past it */
	uint8_t small[10];
	assert_int_equal(rp_usb_descriptor(0x0302, 0, &d, small, sizeof small, serial), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(device_descriptor_is_full_speed_with_64_byte_ep0),
	    cmocka_unit_test(configuration_walks_to_its_total_length),
	    cmocka_unit_test(report_descriptor_is_fido_with_64_byte_reports),
	    cmocka_unit_test(strings_are_utf16_and_fit_one_packet),
	    cmocka_unit_test(unknown_requests_have_no_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
