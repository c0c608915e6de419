/*
 * test_usbdev_path.c - cmocka tests of usbdev_from_devpath_at(): a device's identity read
 * from the kernel's own path (no realpath) is the one read through realpath, and a path that
 * is not plain (a "..", ".", empty part, relative, or outside SYSROOT/devices) is refused.
 * The sysfs tree is laid out by the test in a fresh temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hex.h"
#include "usbdev.h"

static const char root_hub[] = "12010002090001406b1d02000106010203010902190001010080320904000001"
			       "090000000705810304000c";
static const char stick[] = "1201000200000040810767550001010203010902200001010080320904000002"
			    "080650000705810200020007050202000200";

static char root[256], hub[PATH_MAX], dev[PATH_MAX + 8];

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_desc(const char *dir, const char *hexs)
{
	uint8_t d[128];
	size_t n = strlen(hexs) / 2;

	assert_int_equal(pcl_hex_decode(d, n, hexs, strlen(hexs)), 0);
	put(dir, "descriptors", d, n);
}

static int tree_up(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%.200s/pcl-usbpath-XXXXXX", getenv("TMPDIR") ?: "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(hub, sizeof(hub), "%s/devices", root);
	assert_int_equal(mkdir(hub, 0700), 0);
	snprintf(hub, sizeof(hub), "%s/devices/pci0000:00", root);
	assert_int_equal(mkdir(hub, 0700), 0);
	snprintf(hub, sizeof(hub), "%s/devices/pci0000:00/usb1", root);
	assert_int_equal(mkdir(hub, 0700), 0);
	snprintf(dev, sizeof(dev), "%s/1-2", hub);
	assert_int_equal(mkdir(dev, 0700), 0);
	put(hub, "product", "xHCI Host Controller\n", 21);
	put(hub, "serial", "0000:00:14.0\n", 13);
	put_desc(hub, root_hub);
	put(dev, "product", "Stick\n", 6);
	put(dev, "serial", "AA01\n", 5);
	put(dev, "manufacturer", "Maker\n", 6);
	put_desc(dev, stick);
	return 0;
}

static int tree_down(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_the_kernels_path_reads_the_same_identity(void **state)
{
	struct usbdev a, b;
	struct pcl_diag diag = {0};

	(void)state;
	assert_int_equal(usbdev_from_sysfs_at(root, dev, &a, &diag), 0);
	assert_int_equal(usbdev_from_devpath_at(root, dev, NULL, &b, &diag), 0);
	assert_string_equal(b.sysname, "1-2");
	assert_string_equal(b.product, "Stick");
	assert_string_equal(b.manufacturer, "Maker");
	assert_int_equal(b.vid, 0x0781);
	assert_string_equal(b.hash, a.hash);
	assert_string_equal(b.parent_hash, a.parent_hash);
	assert_string_equal(b.parent_sysname, "usb1");
	assert_false(b.is_root_hub);
	/* The hub's hash given: taken as it is, the hub's files unread (gone here). */
	char moved[PATH_MAX + 16];
	snprintf(moved, sizeof(moved), "%s/descriptors", hub);
	assert_int_equal(unlink(moved), 0);
	assert_int_equal(usbdev_from_devpath_at(root, dev, NULL, &b, &diag), -ENOENT);
	assert_int_equal(usbdev_from_devpath_at(root, dev, "known-hash", &b, &diag), 0);
	assert_string_equal(b.parent_hash, "known-hash");
	assert_string_equal(b.parent_sysname, "usb1");
	assert_string_equal(b.hash, a.hash);
	put_desc(hub, root_hub);
}

static void test_a_path_that_is_not_plain_is_refused(void **state)
{
	const char *const tails[] = {
	    "/devices/pci0000:00/usb1/../usb1/1-2", "/devices/pci0000:00/usb1/./1-2",
	    "/devices/pci0000:00//usb1/1-2", "/devices/pci0000:00/usb1/1-2/",
	    "/devices/pci0000:00/usb1/1-2/.."};
	char path[PATH_MAX * 2];
	struct usbdev d;
	struct pcl_diag diag = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", root, tails[i]);
		/* realpath makes each of these the device again ... */
		if (i < 4)
			assert_int_equal(usbdev_from_sysfs_at(root, path, &d, &diag), 0);
		/* ... the kernel never gives such a path: refused as it is. */
		assert_int_equal(usbdev_from_devpath_at(root, path, NULL, &d, &diag), -EINVAL);
		assert_non_null(strstr(diag.msg, "plain"));
	}
	assert_int_equal(
	    usbdev_from_devpath_at(root, "devices/pci0000:00/usb1/1-2", NULL, &d, &diag), -EINVAL);
	/* Plain but not under SYSROOT/devices. */
	snprintf(path, sizeof(path), "%s/class/usb1", root);
	assert_int_equal(usbdev_from_devpath_at(root, path, NULL, &d, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "not a device under"));
}

/* A device whose descriptors run past a page (10 KiB of class-specific descriptors), served
 * as the kernel serves a binary attribute: a page at most per read (here a FIFO written a
 * page at a time, atomically). Read whole, it parses; cut at a page, it would not. */
static void test_descriptors_longer_than_a_page_are_read_whole(void **state)
{
	enum { N_CS = 40, TOTAL = 9 + 9 + N_CS * 255 };
	static uint8_t blob[18 + TOTAL];
	char big[PATH_MAX + 16], fifo[PATH_MAX * 2];
	struct usbdev d;
	struct pcl_diag diag = {0};

	(void)state;
	assert_int_equal(pcl_hex_decode(blob, 18, stick, 36), 0); /* its device descriptor */
	uint8_t *c = blob + 18;
	memcpy(c, (const uint8_t[]){9, 2, TOTAL & 0xff, TOTAL >> 8, 1, 1, 0, 0x80, 50}, 9);
	memcpy(c + 9, (const uint8_t[]){9, 4, 0, 0, 0, 0xff, 0, 0, 0}, 9);
	for (int i = 0; i < N_CS; i++) {
		memset(c + 18 + i * 255, 0xa5, 255);
		c[18 + i * 255] = 255;
		c[18 + i * 255 + 1] = 0x24; /* class-specific: carried, not interpreted */
	}
	snprintf(big, sizeof(big), "%s/1-3", hub);
	assert_int_equal(mkdir(big, 0700), 0);
	put(big, "product", "Big\n", 4);
	snprintf(fifo, sizeof(fifo), "%s/descriptors", big);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(fifo, O_WRONLY);
		for (size_t off = 0; fd >= 0 && off < sizeof(blob); off += 4096) {
			size_t n = sizeof(blob) - off < 4096 ? sizeof(blob) - off : 4096;
			if (write(fd, blob + off, n) != (ssize_t)n)
				_exit(1);
			usleep(1000);
		}
		_exit(fd >= 0 ? 0 : 1);
	}
	int rc = usbdev_from_devpath_at(root, big, NULL, &d, &diag);
	int st = -1;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(rc, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(d.n_ifaces, 1);
	assert_int_equal(d.ifaces[0].cls, 0xff);
	assert_string_equal(d.product, "Big");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_kernels_path_reads_the_same_identity),
	    cmocka_unit_test(test_a_path_that_is_not_plain_is_refused),
	    cmocka_unit_test(test_descriptors_longer_than_a_page_are_read_whole),
	};
	return cmocka_run_group_tests(tests, tree_up, tree_down);
}
