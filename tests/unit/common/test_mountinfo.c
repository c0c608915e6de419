/*
 * test_mountinfo.c - unit tests of the one mountinfo line parser: fields, escapes,
 * read-write or read-only, and refusal of malformed or oversized lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mountinfo.h"

static int parse(const char *line, struct pcl_mount *m)
{
	return pcl_mountinfo_line(line, strlen(line), m);
}

static void fields_and_escapes(void **state)
{
	struct pcl_mount m;

	(void)state;
	assert_int_equal(parse("40 22 8:17 / /media/Cllr\\040Brown/STICK rw,nosuid shared:3 "
			       "master:1 - vfat /dev/sdb1 rw,fmask=0022\n",
			       &m),
			 0);
	assert_int_equal(m.id, 40);
	assert_int_equal(m.parent, 22);
	assert_int_equal(m.major, 8);
	assert_int_equal(m.minor, 17);
	assert_string_equal(m.mountpoint, "/media/Cllr Brown/STICK");
	assert_string_equal(m.source, "/dev/sdb1");
	assert_true(m.writable);
}

static void read_only_per_mount_or_per_superblock(void **state)
{
	struct pcl_mount m;

	(void)state;
	assert_int_equal(parse("41 22 8:17 / /mnt ro,relatime - ext4 /dev/sdb1 rw", &m), 0);
	assert_false(m.writable);
	assert_int_equal(parse("41 22 8:17 / /mnt rw,relatime - ext4 /dev/sdb1 ro,data=x", &m), 0);
	assert_false(m.writable);
	/* "ro" only as part of another option's name is not read-only. */
	assert_int_equal(parse("41 22 8:17 / /mnt rw - ext4 /dev/sdb1 rw,errors=remount-ro", &m),
			 0);
	assert_true(m.writable);
}

static void malformed_lines_are_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "36 35 7:0 / /mnt rw",			    /* no separator */
	    "36 35 7:0 / /mnt rw - ext4",		    /* no source, no super options */
	    "x 35 7:0 / /mnt rw - ext4 /dev/loop0 rw",	    /* id not a number */
	    "36 35 70 / /mnt rw - ext4 /dev/loop0 rw",	    /* no major:minor */
	    "36 35 7:99999999999 / /mnt rw - ext4 /d rw",   /* minor too large */
	    "36 35 7:0 / /mnt nosuid - ext4 /dev/loop0 rw", /* neither rw nor ro */
	    "36 35 7:0 / /mnt rw,ro - ext4 /dev/loop0 rw",  /* both */
	};
	struct pcl_mount m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &m), -EINVAL);
	/* An embedded NUL or newline is not one line. */
	assert_int_equal(pcl_mountinfo_line("36 35 7:0 / /m\0x rw - e /d rw", 28, &m), -EINVAL);
	assert_int_equal(parse("36 35 7:0 / /m\nx rw - e /d rw", &m), -EINVAL);
}

static void an_oversized_mount_point_is_refused_not_cut(void **state)
{
	static char line[PCL_MOUNT_PATH_MAX + 128];
	struct pcl_mount m;

	(void)state;
	int n = snprintf(line, sizeof(line), "36 35 7:0 / /");
	memset(line + n, 'a', PCL_MOUNT_PATH_MAX);
	snprintf(line + n + PCL_MOUNT_PATH_MAX, sizeof(line) - (size_t)n - PCL_MOUNT_PATH_MAX,
		 " rw - ext4 /dev/loop0 rw");
	assert_int_equal(parse(line, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fields_and_escapes),
	    cmocka_unit_test(read_only_per_mount_or_per_superblock),
	    cmocka_unit_test(malformed_lines_are_refused),
	    cmocka_unit_test(an_oversized_mount_point_is_refused_not_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
