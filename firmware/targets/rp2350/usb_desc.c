/*
 * usb_desc.c: USB descriptors of the Portcullis token: one configuration, one HID
 * interface with the FIDO usage page (0xF1D0, usage CTAPHID 0x01) and 64-byte input and
 * output reports on interrupt endpoints 0x81 and 0x01. Linked by the rp2350 image;
 * w_value/w_index come from the USB host and are only used to pick a descriptor.
 */
#include "board.h"

/* pid.codes test VID/PID: a production run needs its own allocated pair. */
#define TOKEN_VID 0x1209u
#define TOKEN_PID 0x0001u

static const uint8_t device_desc[18] = {
    18,
    1,
    0x00,
    0x02,
    0,
    0,
    0,
    64, /* USB 2.0, class per interface, EP0 64 bytes */
    TOKEN_VID & 0xff,
    TOKEN_VID >> 8,
    TOKEN_PID & 0xff,
    TOKEN_PID >> 8,
    0x00,
    0x01,
    1,
    2,
    3,
    1, /* bcdDevice 1.00, strings, 1 configuration */
};

static const uint8_t report_desc[34] = {
    0x06, 0xd0, 0xf1, /* Usage Page (FIDO Alliance, 0xF1D0) */
    0x09, 0x01,	      /* Usage (CTAPHID) */
    0xa1, 0x01,	      /* Collection (Application) */
    0x09, 0x20,	      /*   Usage (Input Report Data) */
    0x15, 0x00,	      /*   Logical Minimum (0) */
    0x26, 0xff, 0x00, /*   Logical Maximum (255) */
    0x75, 0x08,	      /*   Report Size (8) */
    0x95, 0x40,	      /*   Report Count (64) */
    0x81, 0x02,	      /*   Input (Data, Var, Abs) */
    0x09, 0x21,	      /*   Usage (Output Report Data) */
    0x15, 0x00,	      /*   Logical Minimum (0) */
    0x26, 0xff, 0x00, /*   Logical Maximum (255) */
    0x75, 0x08,	      /*   Report Size (8) */
    0x95, 0x40,	      /*   Report Count (64) */
    0x91, 0x02,	      /*   Output (Data, Var, Abs) */
    0xc0,	      /* End Collection */
};

#define HID_DESC 9, 0x21, 0x11, 0x01, 0, 1, 0x22, sizeof report_desc, 0

static const uint8_t hid_desc[9] = {HID_DESC};

static const uint8_t config_desc[41] = {
    9,	      2, 41,   0,    1,	 1,  0, 0x80, 50, /* 1 interface, bus powered, 100 mA */
    9,	      4, 0,    0,    2,	 3,  0, 0,    0,  /* interface 0: HID, no boot protocol, 2 EPs */
    HID_DESC, 7, 5,    0x81, 3,	 64, 0, 5,	  /* EP1 IN, interrupt, 64 bytes, 5 ms */
    7,	      5, 0x01, 3,    64, 0,  5,		  /* EP1 OUT, interrupt, 64 bytes, 5 ms */
};

static size_t string_desc(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (s[n] && 2 + 2 * (n + 1) <= cap)
		n++;
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = 3;
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = (uint8_t)s[i];
		out[3 + 2 * i] = 0;
	}
	return out[0];
}

size_t rp_usb_descriptor(uint16_t w_value, uint16_t w_index, const uint8_t **out, uint8_t *scratch,
			 size_t scratch_len, const char *serial)
{
	uint8_t type = (uint8_t)(w_value >> 8), idx = (uint8_t)w_value;

	switch (type) {
	case 1:
		*out = device_desc;
		return sizeof device_desc;
	case 2:
		*out = config_desc;
		return sizeof config_desc;
	case 0x21:
		*out = hid_desc;
		return w_index == 0 ? sizeof hid_desc : 0;
	case 0x22:
		*out = report_desc;
		return w_index == 0 ? sizeof report_desc : 0;
	case 3:
		*out = scratch;
		if (idx == 0 && scratch_len >= 4) {
			scratch[0] = 4;
			scratch[1] = 3;
			scratch[2] = 0x09; /* LANGID 0x0409, what hosts ask for */
			scratch[3] = 0x04;
			return 4;
		}
		if (idx == 1)
			return string_desc("Portcullis", scratch, scratch_len);
		if (idx == 2)
			return string_desc("Portcullis approval token", scratch, scratch_len);
		if (idx == 3)
			return string_desc(serial, scratch, scratch_len);
		return 0;
	default:
		return 0;
	}
}
