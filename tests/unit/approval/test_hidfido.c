/*
 * test_hidfido.c - the FIDO-token gate's report descriptor check: a FIDO key's CTAPHID
 * interface is recognised, a keyboard (or a keyboard hiding behind a FIDO collection) is
 * not, malformed descriptors fail closed with the byte offset named.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hidfido.h"

/* CTAPHID: usage page 0xF1D0, usage 1, 64-byte input and output reports. */
static const uint8_t fido[] = {0x06, 0xD0, 0xF1, 0x09, 0x01, 0xA1, 0x01, 0x09, 0x20,
			       0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x40,
			       0x81, 0x02, 0x09, 0x21, 0x15, 0x00, 0x26, 0xFF, 0x00,
			       0x75, 0x08, 0x95, 0x40, 0x91, 0x02, 0xC0};
/* A boot keyboard: generic desktop, usage 6. */
static const uint8_t keyboard[] = {0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x05, 0x07, 0x19, 0xE0,
				   0x29, 0xE7, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08,
				   0x81, 0x02, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65,
				   0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xC0};

static void fido_keyboard_and_mixed_are_told_apart(void **state)
{
	(void)state;
	struct appr_hid_summary s;
	uint8_t mixed[sizeof(fido) + sizeof(keyboard)];

	assert_int_equal(appr_hid_parse(fido, sizeof(fido), &s, NULL), 0);
	assert_int_equal(s.kind, APPR_HID_FIDO_ONLY);
	assert_int_equal(s.n_apps, 1);
	assert_int_equal(appr_hid_parse(keyboard, sizeof(keyboard), &s, NULL), 0);
	assert_int_equal(s.kind, APPR_HID_NOT_FIDO);
	assert_int_equal(s.first_other, 0x00010006);
	memcpy(mixed, fido, sizeof(fido));
	memcpy(mixed + sizeof(fido), keyboard, sizeof(keyboard));
	assert_int_equal(appr_hid_parse(mixed, sizeof(mixed), &s, NULL), 0);
	assert_int_equal(s.kind, APPR_HID_MIXED);
	assert_int_equal(s.n_apps, 2);
}

static void a_fido_usage_inside_a_keyboard_collection_is_not_fido(void **state)
{
	(void)state;
	struct appr_hid_summary s;
	/* Keyboard application collection with a nested FIDO-looking collection. */
	static const uint8_t nested[] = {0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x06, 0xD0,
					 0xF1, 0x09, 0x01, 0xA1, 0x01, 0xC0, 0xC0};
	assert_int_equal(appr_hid_parse(nested, sizeof(nested), &s, NULL), 0);
	assert_int_equal(s.kind, APPR_HID_NOT_FIDO);
}

static void malformed_descriptors_fail_with_the_offset(void **state)
{
	(void)state;
	struct appr_hid_summary s;
	struct pcl_diag d = {0};

	for (size_t cut = 1; cut < sizeof(fido); cut++) {
		memset(&d, 0, sizeof(d));
		int rc = appr_hid_parse(fido, cut, &s, &d);
		/* A truncated item or an open collection is an error; a prefix that ends
		 * before the collection parses, and is no FIDO interface. Never FIDO. */
		if (rc == 0)
			assert_int_equal(s.kind, APPR_HID_NOT_FIDO);
		else
			assert_true(rc == -EINVAL && d.msg[0] != '\0');
		assert_true(cut < 6 || rc == -EINVAL);
	}
	static const uint8_t end_first[] = {0xC0};
	assert_int_equal(appr_hid_parse(end_first, 1, &s, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "byte 0"));
	uint8_t deep[80];
	for (size_t i = 0; i < 40; i++)
		deep[2 * i] = 0xA1, deep[2 * i + 1] = 0x00;
	assert_int_equal(appr_hid_parse(deep, sizeof(deep), &s, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "nesting"));
	static const uint8_t pop[] = {0xB4};
	assert_int_equal(appr_hid_parse(pop, 1, &s, &d), -EINVAL);
	static const uint8_t long_item[] = {0xFE, 0x10, 0x00, 0x01};
	assert_int_equal(appr_hid_parse(long_item, sizeof(long_item), &s, &d), -EINVAL);
	assert_int_equal(appr_hid_parse(fido, 0, &s, &d), -EINVAL);
}

struct fixture {
	const uint8_t *desc;
	size_t len;
	int err;
};

static int read_fixture(void *ctx, const char *port, uint8_t iface, uint8_t *buf, size_t cap)
{
	const struct fixture *f = ctx;
	(void)port;
	(void)iface;
	if (f->err)
		return f->err;
	if (f->len > cap)
		return -EMSGSIZE;
	memcpy(buf, f->desc, f->len);
	return (int)f->len;
}

static void the_gate_check_fails_closed_through_its_seam(void **state)
{
	(void)state;
	struct fixture f = {fido, sizeof(fido), 0};
	struct appr_hid_source src = {read_fixture, &f};
	struct pcl_diag d = {0};

	assert_int_equal(appr_hid_is_fido(&src, "1-8", 1, &d), 1);
	f = (struct fixture){keyboard, sizeof(keyboard), 0};
	assert_int_equal(appr_hid_is_fido(&src, "1-8", 0, &d), 0);
	f = (struct fixture){NULL, 0, -EPIPE}; /* the device stalled the request */
	assert_int_equal(appr_hid_is_fido(&src, "1-8", 1, &d), -EPIPE);
	assert_non_null(strstr(d.msg, "unreadable"));
	f = (struct fixture){fido, 7, 0};
	assert_int_equal(appr_hid_is_fido(&src, "1-8", 1, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fido_keyboard_and_mixed_are_told_apart),
	    cmocka_unit_test(a_fido_usage_inside_a_keyboard_collection_is_not_fido),
	    cmocka_unit_test(malformed_descriptors_fail_with_the_offset),
	    cmocka_unit_test(the_gate_check_fails_closed_through_its_seam),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
