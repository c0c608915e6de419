/*
 * test_usbdesc.c - cmocka tests of usbdesc_parse(): real blobs from the
 * fixtures, interfaces of every configuration and alternate setting, and
 * truncated or lying blobs that must fail with a diagnostic naming the
 * offset and field while leaving the device untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbdev.h"

static size_t put(uint8_t *b, size_t off, const uint8_t *d, size_t n)
{
	memcpy(b + off, d, n);
	return off + n;
}

static const uint8_t dev_desc[18] = {18,   1,	 0x00, 0x02, 0,	   0, 0, 64, 0x81,
				     0x07, 0x81, 0x55, 0x00, 0x01, 1, 2, 3,  1};

/* Build device + one config holding ifaces: mass storage + HID keyboard (alt 0, alt 1). */
static size_t build_composite(uint8_t *b)
{
	static const uint8_t body[] = {
	    9, 4,    0,	   0, 2,    8,	  6,	0x50, 0, /* iface 0 alt 0: mass storage */
	    7, 5,    0x81, 2, 0x00, 0x02, 0,		 /* ep */
	    7, 5,    0x02, 2, 0x00, 0x02, 0,		 /* ep */
	    9, 4,    1,	   0, 1,    3,	  1,	1,    0, /* iface 1 alt 0: keyboard */
	    9, 0x21, 0x11, 1, 0,    1,	  0x22, 63,   0, /* HID class descriptor */
	    7, 5,    0x83, 3, 8,    0,	  10,		 /* ep */
	    9, 4,    1,	   1, 0,    3,	  0,	0,    0, /* iface 1 alt 1 */
	};
	uint8_t cfg[9] = {9, 2, 0, 0, 2, 1, 0, 0x80, 50};
	size_t off;

	cfg[2] = (uint8_t)((9 + sizeof(body)) & 0xff);
	cfg[3] = (uint8_t)((9 + sizeof(body)) >> 8);
	off = put(b, 0, dev_desc, sizeof(dev_desc));
	off = put(b, off, cfg, sizeof(cfg));
	return put(b, off, body, sizeof(body));
}

static void test_composite_lists_every_interface_and_alt(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);
	struct usbdev d;
	struct pcl_diag diag;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(usbdesc_parse(b, n, &d, &diag), 0);
	assert_int_equal(d.vid, 0x0781);
	assert_int_equal(d.pid, 0x5581);
	assert_int_equal(d.bcd_device, 0x0100);
	assert_int_equal(d.n_ifaces, 3);
	assert_int_equal(d.ifaces[0].cls, 8);
	assert_int_equal(d.ifaces[0].protocol, 0x50);
	assert_int_equal(d.ifaces[1].number, 1);
	assert_int_equal(d.ifaces[1].cls, 3);
	assert_int_equal(d.ifaces[2].alt, 1);
	assert_int_equal(d.ifaces[2].config_value, 1);
}

static void test_second_configuration_is_parsed(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);
	static const uint8_t cfg2[] = {9, 2, 18, 0, 1, 2,    0,	   0x80, 50,
				       9, 4, 0,	 0, 0, 0xff, 0xff, 0,	 0};
	struct usbdev d = {0};

	(void)state;
	b[17] = 2; /* bNumConfigurations */
	n = put(b, n, cfg2, sizeof(cfg2));
	assert_int_equal(usbdesc_parse(b, n, &d, NULL), 0);
	assert_int_equal(d.n_ifaces, 4);
	assert_int_equal(d.ifaces[3].config_value, 2);
	assert_int_equal(d.ifaces[3].cls, 0xff);
}

/* Expect failure, dev untouched, and every needle in the diagnostic. */
static void expect_bad(const uint8_t *b, size_t n, const char *needle1, const char *needle2)
{
	struct usbdev d, before;
	struct pcl_diag diag;

	memset(&d, 0xa5, sizeof(d));
	memcpy(&before, &d, sizeof(d));
	memset(&diag, 0, sizeof(diag));
	assert_int_equal(usbdesc_parse(b, n, &d, &diag), -EINVAL);
	assert_memory_equal(&d, &before, sizeof(d));
	if (strstr(diag.msg, needle1) == NULL || (needle2 && strstr(diag.msg, needle2) == NULL))
		fail_msg("diag \"%s\" lacks \"%s\" / \"%s\"", diag.msg, needle1,
			 needle2 ? needle2 : "");
	assert_string_equal(diag.file, "<descriptors>");
}

static void test_truncated_device_descriptor(void **state)
{
	uint8_t b[256];

	(void)state;
	build_composite(b);
	for (size_t n = 0; n < 18; n++)
		expect_bad(b, n, "offset 0", "device descriptor truncated");
	expect_bad(NULL, 0, "offset 0", "truncated");
}

static void test_every_truncation_of_the_config_fails(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);

	(void)state;
	for (size_t cut = 19; cut < n; cut++)
		expect_bad(b, cut, "offset ", NULL);
}

static void test_zero_blength_in_config(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);

	(void)state;
	b[18 + 9 + 9] = 0; /* first endpoint */
	expect_bad(b, n, "offset 36", "bLength 0");
}

static void test_blength_past_the_end(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);

	(void)state;
	b[n - 9] = 200; /* last interface descriptor claims 200 bytes */
	expect_bad(b, n, "bLength 200 runs past the end", "wTotalLength");
}

static void test_wtotallength_lies(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);

	(void)state;
	b[20] = (uint8_t)(b[20] + 1); /* one byte more than there is */
	expect_bad(b, n, "offset 20", "wTotalLength");
	n = build_composite(b);
	b[20] = 9 + 9; /* too short: the rest looks like a second config */
	b[21] = 0;
	expect_bad(b, n, "offset 37", "where a configuration descriptor (0x02) was expected");
	n = build_composite(b);
	b[20] = 5;
	expect_bad(b, n, "offset 20", "wTotalLength 5");
}

static void test_device_descriptor_fields(void **state)
{
	uint8_t b[256];
	size_t n = build_composite(b);

	(void)state;
	b[0] = 17;
	expect_bad(b, n, "offset 0", "bLength 17 of device descriptor");
	n = build_composite(b);
	b[1] = 2;
	expect_bad(b, n, "offset 1", "bDescriptorType 0x02");
	n = build_composite(b);
	b[18] = 10;
	expect_bad(b, n, "offset 18", "bLength 10 of configuration descriptor");
}

static void test_too_many_interfaces(void **state)
{
	size_t total = 9 + 9 * (USBDEV_MAX_IFACES + 1);
	uint8_t *b = calloc(1, 18 + total);
	size_t off;

	(void)state;
	off = put(b, 0, dev_desc, sizeof(dev_desc));
	b[off] = 9;
	b[off + 1] = 2;
	b[off + 2] = (uint8_t)(total & 0xff);
	b[off + 3] = (uint8_t)(total >> 8);
	b[off + 4] = 65;
	off += 9;
	for (int i = 0; i <= USBDEV_MAX_IFACES; i++, off += 9) {
		b[off] = 9;
		b[off + 1] = 4;
		b[off + 2] = (uint8_t)i;
		b[off + 5] = 3;
	}
	expect_bad(b, off, "too many interfaces", "offset 603");
	/* exactly the maximum is fine */
	b[20] = (uint8_t)((total - 9) & 0xff);
	b[21] = (uint8_t)((total - 9) >> 8);
	{
		struct usbdev d = {0};

		assert_int_equal(usbdesc_parse(b, off - 9, &d, NULL), 0);
		assert_int_equal(d.n_ifaces, USBDEV_MAX_IFACES);
	}
	free(b);
}

static void test_structure_errors(void **state)
{
	uint8_t b[256];
	size_t n;

	(void)state;
	n = build_composite(b);
	b[27] = 7; /* interface descriptor of 7 bytes */
	b[28] = 5; /* ... turned into an endpoint before any interface */
	expect_bad(b, n, "offset 27", "endpoint descriptor before any interface");
	n = build_composite(b);
	b[28] = 1; /* device descriptor type inside the config (bLength 9) */
	expect_bad(b, n, "offset 27", "(device) inside a configuration");
	n = build_composite(b);
	b[28] = 2;
	expect_bad(b, n, "offset 27", "nested");
	n = build_composite(b);
	b[36] = 8; /* endpoint of 8 bytes */
	expect_bad(b, n, "offset 36", "endpoint descriptor, expected 7 or 9");
	n = build_composite(b);
	b[n] = 0x42; /* one trailing byte */
	expect_bad(b, n + 1, "configuration descriptor truncated", "1 bytes left");
	n = build_composite(b);
	for (int i = 0; i < 9; i++) /* nine more configs than allowed (8) */
		n = put(b, n, (const uint8_t[]){9, 2, 9, 0, 0, 1, 0, 0x80, 0}, 9);
	expect_bad(b, n, "more than 8 configurations", NULL);
}

/* Every H: descriptors blob of the umockdev fixtures must parse. */
static void test_fixture_blobs_parse(void **state)
{
	DIR *d = opendir(PCL_FIXTURE_DIR);
	struct dirent *e;
	int blobs = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[1024], line[8192];
		FILE *f;

		if (strstr(e->d_name, ".umockdev") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", PCL_FIXTURE_DIR, e->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			uint8_t blob[4096];
			size_t n = 0;
			struct usbdev dev = {0};
			struct pcl_diag diag = {0};
			const char *h;

			if (strncmp(line, "H: descriptors=", 15) != 0)
				continue;
			for (h = line + 15; h[0] && h[1] && h[0] != '\n'; h += 2) {
				unsigned v;

				assert_int_equal(sscanf(h, "%2x", &v), 1);
				blob[n++] = (uint8_t)v;
			}
			if (usbdesc_parse(blob, n, &dev, &diag) != 0)
				fail_msg("%s: %s", e->d_name, diag.msg);
			assert_true(dev.n_ifaces >= 1);
			blobs++;
		}
		fclose(f);
	}
	closedir(d);
	assert_true(blobs >= 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_composite_lists_every_interface_and_alt),
	    cmocka_unit_test(test_second_configuration_is_parsed),
	    cmocka_unit_test(test_truncated_device_descriptor),
	    cmocka_unit_test(test_every_truncation_of_the_config_fails),
	    cmocka_unit_test(test_zero_blength_in_config),
	    cmocka_unit_test(test_blength_past_the_end),
	    cmocka_unit_test(test_wtotallength_lies),
	    cmocka_unit_test(test_device_descriptor_fields),
	    cmocka_unit_test(test_too_many_interfaces),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_fixture_blobs_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
