/*
 * test_precheck.c - pre-checks and identity over a fake sysfs tree and mount tables
 * (the seam): a USB stick with a partition and a dm holder is refused when any of them
 * is mounted, is the system disk, or is swap; partitions are refused; the identity is
 * read from the USB ancestor and changes are named.
 */
#include "wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#define SCSI "devices/pci0000:00/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0"
#define SDB  SCSI "/block/sdb"

static char root[PATH_MAX];
static char mountinfo[PATH_MAX + 32], swaps[PATH_MAX + 32];
static struct wipe_sysroot sys;

static void put(const char *rel, const char *content)
{
	char path[PATH_MAX * 2], cmd[PATH_MAX * 3];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[PATH_MAX * 2], cmd[PATH_MAX * 3];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/wipe-sysfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	put(SCSI "/../../../../idVendor", "0781\n");
	put(SCSI "/../../../../idProduct", "5567\n");
	put(SCSI "/../../../../serial", "4C530001\n");
	put(SCSI "/vendor", "SanDisk \n");
	put(SCSI "/model", "Cruzer Blade    \n");
	put(SDB "/dev", "8:16\n");
	put(SDB "/size", "131072\n");
	link_to(SDB "/device", "../..");
	put(SDB "/sdb1/dev", "8:17\n");
	put(SDB "/sdb1/partition", "1\n");
	put(SDB "/sdb1/holders/.keep", "");
	link_to(SDB "/sdb1/holders/dm-0", "../../../../../../../../../../virtual/block/dm-0");
	put("devices/virtual/block/dm-0/dev", "254:3\n");
	link_to("class/block/dm-0", "../../devices/virtual/block/dm-0");
	link_to("dev/block/8:16", "../../" SDB);
	link_to("dev/block/8:17", "../../" SDB "/sdb1");
	snprintf(mountinfo, sizeof(mountinfo), "%s/mountinfo", root);
	snprintf(swaps, sizeof(swaps), "%s/swaps", root);
	sys.sysfs = root;
	sys.mountinfo = mountinfo;
	sys.swaps = swaps;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

#define ROOT_LINE "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
#define SWAPS_HDR "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

/* The pre-checks on dev, their diagnostic formatted into why (300 bytes). */
static int precheck(dev_t dev, char *why)
{
	struct pcl_diag d = {0};
	int r = wipe_precheck(&sys, dev, &d);

	pcl_diag_format(&d, why, 300);
	return r;
}

static int check(const char *mi, const char *sw, char *why)
{
	put("mountinfo", mi);
	put("swaps", sw);
	return precheck(makedev(8, 16), why);
}

/* wipe_identity_compare, its diagnostic formatted into why (200 bytes). */
static int compare(const struct wipe_identity *a, const struct wipe_identity *b, char *why)
{
	struct pcl_diag d = {0};
	int r = wipe_identity_compare(a, b, &d);

	pcl_diag_format(&d, why, 200);
	return r;
}

static void test_devset_has_partitions_and_holders(void **state)
{
	struct wipe_devset set;

	assert_int_equal(wipe_devset_collect(&sys, makedev(8, 16), &set), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.names[0], "sdb");
	assert_true(set.devs[1] == makedev(8, 17) || set.devs[2] == makedev(8, 17));
	assert_true(set.devs[1] == makedev(254, 3) || set.devs[2] == makedev(254, 3));
}

static void test_unmounted_stick_passes(void **state)
{
	char why[300] = "";

	assert_int_equal(check(ROOT_LINE, SWAPS_HDR "/dev/vdb1  partition 1 0 -2\n", why), 0);
}

static void test_mounted_partition_is_refused(void **state)
{
	char why[300];

	assert_int_equal(check(ROOT_LINE
			       "90 26 8:17 / /media/clerk\\040stick rw - vfat /dev/sdb1 rw\n",
			       SWAPS_HDR, why),
			 -EBUSY);
	assert_string_equal(why, "is mounted on /media/clerk stick");
}

static void test_mounted_holder_is_refused(void **state)
{
	char why[300];

	assert_int_equal(
	    check(ROOT_LINE "91 26 254:3 / /srv rw - ext4 /dev/mapper/x rw\n", SWAPS_HDR, why),
	    -EBUSY);
	assert_non_null(strstr(why, "/srv"));
}

static void test_system_disk_is_refused(void **state)
{
	char why[300];

	assert_int_equal(check("26 1 254:3 / / rw - ext4 /dev/mapper/root rw\n", SWAPS_HDR, why),
			 -EPERM);
	assert_string_equal(why, "is the system disk (holds /)");
}

static void test_anonymous_devnum_matched_by_source(void **state)
{
	char why[300];

	/* btrfs reports 0:NN; the source names the partition. */
	assert_int_equal(
	    check(ROOT_LINE "92 26 0:45 / /data rw - btrfs /dev/sdb1 rw\n", SWAPS_HDR, why),
	    -EBUSY);
}

static void test_swap_is_refused(void **state)
{
	char why[300];

	assert_int_equal(check(ROOT_LINE, SWAPS_HDR "/dev/sdb1  partition 1 0 -2\n", why), -EBUSY);
	assert_string_equal(why, "is in use as swap (/dev/sdb1)");
}

static void test_malformed_mountinfo_names_the_line(void **state)
{
	char why[300];

	assert_int_equal(check(ROOT_LINE "garbage line\n", SWAPS_HDR, why), -EINVAL);
	assert_string_equal(why, "mountinfo:2: malformed mount entry");
}

static void test_partition_is_refused(void **state)
{
	char why[300];

	put("mountinfo", ROOT_LINE);
	assert_int_equal(precheck(makedev(8, 17), why), -EINVAL);
	assert_non_null(strstr(why, "partition"));
}

static void test_identity_comes_from_the_usb_ancestor(void **state)
{
	struct wipe_identity id, other, back;
	char why[200], json[1024];
	struct pcl_diag d = {0};

	assert_int_equal(wipe_identity_read(&sys, makedev(8, 16), &id), 0);
	assert_string_equal(id.vendor, "SanDisk");
	assert_string_equal(id.model, "Cruzer Blade");
	assert_string_equal(id.usb_vid, "0781");
	assert_string_equal(id.usb_pid, "5567");
	assert_string_equal(id.usb_serial, "4C530001");
	assert_string_equal(id.usb_path, "1-1");
	assert_true(id.size == 64ull << 20);
	assert_int_equal(compare(&id, &id, why), 0);

	other = id;
	other.size /= 2;
	assert_int_equal(compare(&id, &other, why), -EPERM);
	assert_string_equal(why, "identity changed: size was 67108864 bytes, now 33554432");
	assert_non_null(strstr(why, "size was 67108864 bytes, now 33554432"));
	other = id;
	strcpy(other.usb_serial, "CLONE");
	assert_int_equal(compare(&id, &other, why), -EPERM);
	assert_non_null(strstr(why, "usb_serial was '4C530001', now 'CLONE'"));

	assert_true(wipe_identity_to_json(&id, json, sizeof(json)) > 0);
	assert_int_equal(wipe_identity_from_json(json, strlen(json), &back, &d), 0);
	assert_int_equal(compare(&id, &back, why), 0);
}

static void expect_bad_identity(const char *json, const char *needle)
{
	struct wipe_identity id;
	struct pcl_diag d = {0};

	assert_int_equal(wipe_identity_from_json(json, strlen(json), &id, &d), -EINVAL);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("diag '%s' lacks '%s'", d.msg, needle);
}

static void test_bad_identity_records_are_refused(void **state)
{
	expect_bad_identity("{\"vendor\":1}", "field 'vendor': missing or not a string");
	expect_bad_identity("{\"colour\":\"red\"}", "unknown field 'colour'");
	expect_bad_identity("{\"vendor\":\"a\",\"model\":\"b\",\"serial\":\"c\",\"usb_vid\":\"d\","
			    "\"usb_pid\":\"e\",\"usb_serial\":\"f\",\"usb_path\":\"g\",\"size\":0}",
			    "'size'");
	expect_bad_identity(
	    "{\"vendor\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaa\"}",
	    "'vendor': longer than 63");
	expect_bad_identity("{} x", "not one JSON object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_devset_has_partitions_and_holders),
	    cmocka_unit_test(test_unmounted_stick_passes),
	    cmocka_unit_test(test_mounted_partition_is_refused),
	    cmocka_unit_test(test_mounted_holder_is_refused),
	    cmocka_unit_test(test_system_disk_is_refused),
	    cmocka_unit_test(test_anonymous_devnum_matched_by_source),
	    cmocka_unit_test(test_swap_is_refused),
	    cmocka_unit_test(test_malformed_mountinfo_names_the_line),
	    cmocka_unit_test(test_partition_is_refused),
	    cmocka_unit_test(test_identity_comes_from_the_usb_ancestor),
	    cmocka_unit_test(test_bad_identity_records_are_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
