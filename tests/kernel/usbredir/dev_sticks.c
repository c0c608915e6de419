/*
 * dev_sticks.c: the hostile sticks pcl-usbredir-dev presents, with the descriptors of the
 * umockdev fixtures (tests/data/devices/gen-fixtures.py):
 *   badusb     Kingston DataTraveler 3.0 (0951:1666): mass storage 08:06:50 plus a HID
 *              boot keyboard 03:01:01;
 *   lookalike  the council stick's VID:PID (0781:5581) and serial with a hidden HID boot
 *              keyboard 03:01:01 next to its mass storage interface;
 *   council    the council-registered stick itself (0781:5581, storage 08:06:50 only), so a
 *              test shows the same descriptors allowed; with --serial, its twin.
 * The keyboard types as soon as a host driver polls it (one key, pressed and released),
 * so a test can see whether it ever reached an input driver. The storage interface serves
 * an 8 MiB RAM disk over bulk-only transport (dev_storage.c), so a stick whose storage
 * the gate allows gets a real disk in the guest.
 * Linked by pcl-usbredir-dev (a test tool); requests come from QEMU (trusted in tests).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "urdev.h"
#include "urdev_devices.h"
#include "urdev_storage.h"

#define KBD_EP	    0x83
#define DISK_IN	    0x81
#define DISK_OUT    0x02
#define DISK_BLOCKS 16384u /* 8 MiB */

struct stick {
	const char *name;
	uint8_t device[18];
	const char *strings[3]; /* manufacturer, product, serial */
	const char *scsi[2];	/* INQUIRY vendor and product */
	const uint8_t *config;
	size_t config_len;
};

/* HID 1.11 appendix B.1: the boot keyboard (modifiers, reserved, 5 LEDs, 6 key codes). */
static const uint8_t kbd_report[63] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00, 0x25, 0x01,
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01, 0x95, 0x05, 0x75, 0x01,
    0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06,
    0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
};

#define KBD_HID 9, 0x21, 0x11, 0x01, 0, 1, 0x22, sizeof kbd_report, 0

/* Configuration 1 (bus powered, 224 mA); interface 0 bulk-only mass storage (SCSI) with
 * bulk endpoints of 512 bytes; interface 1 a boot keyboard on an 8-byte interrupt endpoint
 * polled every 10 ms. */
#define CONFIG(len, nif) 9, 2, (len), 0, (nif), 1, 0, 0x80, 112
#define STORAGE_IF                                                                                 \
	9, 4, 0, 0, 2, 8, 6, 0x50, 0, 7, 5, DISK_IN, 2, 0, 2, 0, 7, 5, DISK_OUT, 2, 0, 2, 0
#define KBD_IF 9, 4, 1, 0, 1, 3, 1, 1, 0, KBD_HID, 7, 5, KBD_EP, 3, 8, 0, 10

static const uint8_t config_kbd[57] = {CONFIG(57, 2), STORAGE_IF, KBD_IF};
static const uint8_t config_storage[32] = {CONFIG(32, 1), STORAGE_IF};

static const uint8_t kbd_hid[9] = {KBD_HID};

static const struct stick sticks[] = {
    {"badusb",
     {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x51, 0x09, 0x66, 0x16, 0x10, 0x01, 1, 2, 3, 1},
     {"Kingston", "DataTraveler 3.0", "E0D55EA574C3F4B0A9850B4E"},
     {"Kingston", "DataTraveler 3.0"},
     config_kbd,
     sizeof config_kbd},
    {"lookalike",
     {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x81, 0x07, 0x81, 0x55, 0x00, 0x01, 1, 2, 3, 1},
     {"USB", " SanDisk 3.2Gen1", "4C530001140516116522"},
     {"SanDisk", " SanDisk 3.2Gen1"},
     config_kbd,
     sizeof config_kbd},
    {"council",
     {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x81, 0x07, 0x81, 0x55, 0x00, 0x01, 1, 2, 3, 1},
     {"USB", " SanDisk 3.2Gen1", "4C530001140516116522"},
     {"SanDisk", " SanDisk 3.2Gen1"},
     config_storage,
     sizeof config_storage},
};

static const struct stick *cur;
static const char *serial; /* --serial: another serial number string */
static volatile sig_atomic_t stop;

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

static size_t stick_descriptor(uint16_t value, uint16_t index, const uint8_t **out,
			       uint8_t *scratch, size_t cap)
{
	uint8_t type = (uint8_t)(value >> 8), idx = (uint8_t)value;

	switch (type) {
	case 1:
		*out = cur->device;
		return sizeof cur->device;
	case 2:
		*out = cur->config;
		return cur->config_len;
	case 0x21:
		*out = kbd_hid;
		return index == 1 && cur->config == config_kbd ? sizeof kbd_hid : 0;
	case 0x22:
		*out = kbd_report;
		return index == 1 && cur->config == config_kbd ? sizeof kbd_report : 0;
	case 3:
		*out = scratch;
		if (idx == 0 && cap >= 4) {
			memcpy(scratch, "\x04\x03\x09\x04", 4);
			return 4;
		}
		if (idx == 3 && serial)
			return string_desc(serial, scratch, cap);
		if (idx >= 1 && idx <= 3)
			return string_desc(cur->strings[idx - 1], scratch, cap);
		return 0;
	default:
		return 0;
	}
}

static int stick_class_request(uint8_t type, uint8_t req, uint16_t value, uint16_t index,
			       const uint8_t *data, size_t len, uint8_t *buf, size_t cap)
{
	(void)value;
	(void)data;
	(void)len;
	switch (type << 8 | req) {
	case 0x21ff: /* mass storage: bulk-only reset */
		if (index != 0)
			return -1;
		storage_reset();
		return 0;
	case 0x210a: /* HID SET_IDLE */
	case 0x210b: /* HID SET_PROTOCOL */
	case 0x2109: /* HID SET_REPORT (the LEDs) */
		return 0;
	case 0xa1fe: /* mass storage: GET_MAX_LUN, one LUN */
		if (index != 0 || cap < 1)
			return -1;
		buf[0] = 0;
		return 1;
	case 0xa101: /* HID GET_REPORT: no key down */
		if (index != 1)
			return -1;
		memset(buf, 0, cap < 8 ? cap : 8);
		return cap < 8 ? (int)cap : 8;
	default:
		return -1;
	}
}

static void stick_in_started(uint8_t ep)
{
	static const uint8_t press[8] = {0, 0, 0x1b}, release[8] = {0};

	if (ep != KBD_EP)
		return;
	/* the attack: keystrokes as soon as a driver listens ('x', pressed and released) */
	fprintf(stderr, "pcl-usbredir-dev: %s: keyboard polled, typing\n", cur->name);
	urdev_interrupt_in(KBD_EP, press, sizeof press);
	urdev_interrupt_in(KBD_EP, release, sizeof release);
}

static int stick_out(uint8_t ep, const uint8_t *data, size_t len)
{
	return ep == DISK_OUT ? storage_out(data, len) : -1;
}

static int stick_bulk_in(uint8_t ep, uint8_t *buf, size_t len)
{
	return ep == DISK_IN ? storage_in(buf, len) : -1;
}

static const struct urdev_function stick_fn = {
    .speed = URDEV_HIGH,
    .descriptor = stick_descriptor,
    .class_request = stick_class_request,
    .out_packet = stick_out,
    .bulk_in = stick_bulk_in,
    .in_started = stick_in_started,
};

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int urdev_run_stick(const struct urdev_options *o)
{
	struct urdev_function fn = stick_fn;
	struct sigaction sa;

	for (size_t i = 0; i < sizeof sticks / sizeof sticks[0]; i++)
		if (strcmp(o->device, sticks[i].name) == 0)
			cur = &sticks[i];
	if (!cur) {
		fprintf(stderr, "pcl-usbredir-dev: --device %s: unknown device\n", o->device);
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fn.name = cur->name;
	serial = o->serial;
	if (storage_init(DISK_BLOCKS, cur->scsi[0], cur->scsi[1]) != 0) {
		fprintf(stderr, "pcl-usbredir-dev: out of memory\n");
		return 1;
	}
	if (urdev_open(&fn, o->listen, o->connect) != 0)
		return 1;
	fprintf(stderr, "pcl-usbredir-dev: %s connected (pid %ld)\n", cur->name, (long)getpid());
	while (!stop && urdev_pump(1000) >= 0)
		;
	urdev_close();
	return 0;
}
