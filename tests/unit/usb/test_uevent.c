/*
 * test_uevent.c - cmocka tests of uevent_parse(): the kernel's own messages are read
 * (action, path, subsystem, type, bus and device numbers, sequence number); libudev's
 * format, truncated messages, a missing final NUL, missing, duplicate or contradicting
 * keys, oversized fields and paths that are not plain are refused, *ev left zeroed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uevent.h"

/* A message from NUL-separated text given with "|" for each NUL. */
static size_t msg(char *out, size_t cap, const char *text)
{
	size_t n = strlen(text);
	assert_true(n < cap);
	for (size_t i = 0; i < n; i++)
		out[i] = text[i] == '|' ? '\0' : text[i];
	out[n] = '\0';
	return n + 1;
}

#define STICK_PATH "/devices/pci0000:00/0000:00:02.0/usb1/1-3"
#define STICK                                                                                      \
	"add@" STICK_PATH "|ACTION=add|DEVPATH=" STICK_PATH "|SUBSYSTEM=usb|MAJOR=189|MINOR=2|"    \
	"DEVNAME=bus/usb/001/003|DEVTYPE=usb_device|PRODUCT=46f4/1/0|TYPE=0/0/0|BUSNUM=001|"       \
	"DEVNUM=003|SEQNUM=1822"

static int parse(const char *text, struct uevent *ev)
{
	char b[UEVENT_MSG_MAX + 64];
	size_t n = msg(b, sizeof(b), text);
	int rc = uevent_parse(b, n, ev);
	if (rc != 0) {
		struct uevent zero;
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(ev, &zero, sizeof(zero));
	}
	return rc;
}

static void test_the_kernels_message_is_read(void **state)
{
	(void)state;
	struct uevent ev;
	assert_int_equal(parse(STICK, &ev), 0);
	assert_string_equal(ev.action, "add");
	assert_string_equal(ev.devpath, STICK_PATH);
	assert_string_equal(ev.subsystem, "usb");
	assert_string_equal(ev.devtype, "usb_device");
	assert_string_equal(ev.busnum, "001");
	assert_string_equal(ev.devnum, "003");
	assert_int_equal(ev.seqnum, 1822);
	assert_string_equal(uevent_sysname(&ev), "1-3");
	/* remove: no DEVTYPE needed, no numbers */
	assert_int_equal(parse("remove@/devices/x/1-1:1.0|ACTION=remove|DEVPATH=/devices/x/1-1:1.0|"
			       "SUBSYSTEM=usb|SEQNUM=18446744073709551|",
			       &ev),
			 -EINVAL); /* an empty field at the end */
	assert_int_equal(parse("remove@/devices/x/1-1:1.0|ACTION=remove|DEVPATH=/devices/x/1-1:1.0|"
			       "SUBSYSTEM=usb|SEQNUM=1844674407370955161",
			       &ev),
			 0);
	assert_string_equal(ev.devtype, "");
	assert_string_equal(uevent_sysname(&ev), "1-1:1.0");
	assert_true(ev.seqnum == 1844674407370955161ULL);
}

static void test_libudevs_format_is_not_the_kernels(void **state)
{
	(void)state;
	struct uevent ev;
	char b[256];
	memset(b, 0, sizeof(b));
	memcpy(b, "libudev", 8);
	assert_int_equal(uevent_parse(b, sizeof(b), &ev), -EPROTO);
	assert_int_equal(uevent_parse(b, 8, &ev), -EPROTO);
}

static void test_truncated_and_unterminated_messages_are_refused(void **state)
{
	(void)state;
	struct uevent ev;
	char b[1024];
	size_t n = msg(b, sizeof(b), STICK);

	for (size_t cut = 0; cut < n; cut++)
		assert_int_not_equal(uevent_parse(b, cut, &ev),
				     0); /* no final NUL, or a key lost */
	assert_int_equal(uevent_parse(b, n, &ev), 0);
	assert_int_equal(uevent_parse(NULL, 0, &ev), -EINVAL);
}

static void test_missing_keys_are_refused(void **state)
{
	(void)state;
	struct uevent ev;
	const char *P = "add@/devices/u/1-1|";
	char t[512];
	const char *without[] = {
	    "DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1",   /* ACTION */
	    "ACTION=add|SUBSYSTEM=usb|SEQNUM=1",	       /* DEVPATH */
	    "ACTION=add|DEVPATH=/devices/u/1-1|SEQNUM=1",      /* SUBSYSTEM */
	    "ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb", /* SEQNUM */
	};
	for (size_t i = 0; i < sizeof(without) / sizeof(without[0]); i++) {
		snprintf(t, sizeof(t), "%s%s", P, without[i]);
		assert_int_equal(parse(t, &ev), -EINVAL);
	}
	assert_int_equal(parse("/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|"
			       "SEQNUM=1",
			       &ev),
			 -EINVAL); /* no header */
	assert_int_equal(parse("add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|"
			       "SEQNUM=1|NOEQUALS",
			       &ev),
			 -EINVAL);
}

static void test_duplicate_and_contradicting_keys_are_refused(void **state)
{
	(void)state;
	struct uevent ev;
	const char *bad[] = {
	    "add@/devices/u/1-1|ACTION=add|ACTION=add|DEVPATH=/devices/u/"
	    "1-1|SUBSYSTEM=usb|SEQNUM=1",
	    "add@/devices/u/1-1|ACTION=remove|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-2|SUBSYSTEM=usb|SEQNUM=1",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SUBSYSTEM=block|"
	    "SEQNUM=1",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1|SEQNUM=2",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1|BUSNUM=1|"
	    "BUSNUM=2",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1|"
	    "DEVTYPE=usb_device|DEVTYPE=usb_interface",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=-1",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1x",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/"
	    "1-1|SUBSYSTEM=usb|SEQNUM=1|BUSNUM=0x1",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1|DEVNUM=",
	    "add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=|SEQNUM=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &ev), -EINVAL);
	/* Keys not read here may repeat (the kernel's drivers add what they like). */
	assert_int_equal(parse("add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|"
			       "SEQNUM=1|X=1|X=2",
			       &ev),
			 0);
}

static void test_paths_that_are_not_plain_are_refused(void **state)
{
	(void)state;
	struct uevent ev;
	const char *paths[] = {"devices/u/1-1",
			       "/devices/../1-1",
			       "/devices/./1-1",
			       "/devices//1-1",
			       "/devices/u/",
			       "/devices/u/1 1",
			       "/",
			       "/devices/u/\x7f"};
	char t[512];
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(t, sizeof(t), "add@%s|ACTION=add|DEVPATH=%s|SUBSYSTEM=usb|SEQNUM=1",
			 paths[i], paths[i]);
		assert_int_equal(parse(t, &ev), -EINVAL);
	}
}

static void test_huge_messages_and_fields_are_refused(void **state)
{
	(void)state;
	struct uevent ev;
	static char b[UEVENT_MSG_MAX * 2];
	static char t[UEVENT_MSG_MAX * 2];
	char path[UEVENT_PATH_MAX + 16] = "/devices/";

	memset(path + 9, 'a', sizeof(path) - 10);
	path[sizeof(path) - 1] = '\0';
	snprintf(t, sizeof(t), "add@%s|ACTION=add|DEVPATH=%s|SUBSYSTEM=usb|SEQNUM=1", path, path);
	assert_int_equal(parse(t, &ev), -E2BIG);
	assert_int_equal(parse("add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|"
			       "SUBSYSTEM=usbusbusbusbusbusbusbusbusbusbusb|SEQNUM=1",
			       &ev),
			 -E2BIG);
	assert_int_equal(parse("addaddaddaddaddadd@/devices/u/1-1|ACTION=add|"
			       "DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|SEQNUM=1",
			       &ev),
			 -E2BIG);
	assert_int_equal(parse("add@/devices/u/1-1|ACTION=add|DEVPATH=/devices/u/1-1|SUBSYSTEM=usb|"
			       "SEQNUM=12345678901234567890",
			       &ev),
			 -EINVAL);
	/* A message over the bound, however well formed, is refused. */
	size_t n = msg(b, sizeof(b), STICK);
	memset(b + n, 'X', sizeof(b) - n - 1);
	for (size_t i = n; i + 8 < sizeof(b); i += 8)
		memcpy(b + i, "|PAD=xx|", 8);
	for (size_t i = 0; i < sizeof(b); i++)
		if (b[i] == '|')
			b[i] = '\0';
	b[UEVENT_MSG_MAX] = '\0';
	assert_int_equal(uevent_parse(b, UEVENT_MSG_MAX + 1, &ev), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_kernels_message_is_read),
	    cmocka_unit_test(test_libudevs_format_is_not_the_kernels),
	    cmocka_unit_test(test_truncated_and_unterminated_messages_are_refused),
	    cmocka_unit_test(test_missing_keys_are_refused),
	    cmocka_unit_test(test_duplicate_and_contradicting_keys_are_refused),
	    cmocka_unit_test(test_paths_that_are_not_plain_are_refused),
	    cmocka_unit_test(test_huge_messages_and_fields_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
