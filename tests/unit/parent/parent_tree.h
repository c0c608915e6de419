/*
 * parent_tree.h - a small sysfs, /dev and mount table laid out in a temporary directory
 * for the parent's request dispatcher (struct parent_sys): one hub, an authorisable USB
 * stick 1-2 (bus 1, device 5) whose disk sdb (partition sdb1) hangs off its interface as
 * usb-storage makes it, a SATA system disk sda, a loop device loop9 not under USB, an SD
 * card mmcblk0 and an eMMC mmcblk1. Used by tests/unit/parent and tests/fuzz/parent.
 */
#ifndef PCL_TEST_PARENT_TREE_H
#define PCL_TEST_PARENT_TREE_H

#include <stddef.h>

#define PTREE_HUB   "devices/pci0000:00/0000:00:14.0/usb1"
#define PTREE_STICK PTREE_HUB "/1-2"
#define PTREE_IFACE PTREE_STICK "/1-2:1.0"
#define PTREE_SCSI  PTREE_IFACE "/host6/target6:0:0/6:0:0:0"
#define PTREE_SATA  "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0"
#define PTREE_LOOP  "devices/virtual/block/loop9"
#define PTREE_SD    "devices/pci0000:00/0000:00:1a.0/mmc_host/mmc0/mmc0:aaaa"
#define PTREE_EMMC  "devices/pci0000:00/0000:00:1b.0/mmc_host/mmc1/mmc1:0001"

struct ptree {
	char root[128];	     /* the temporary directory (a real path) */
	char sys[160];	     /* ROOT/sys */
	char dev[160];	     /* ROOT/dev: no device nodes until a test makes them */
	char mountinfo[160]; /* ROOT/mountinfo */
};

/* Lay the tree out under a new directory in TMPDIR (or /tmp); the stick's disk sdb has
 * the device number disk_dev ("MAJ:MIN"). 0, or -1 with errno set. */
int ptree_make(struct ptree *t, const char *disk_dev);
/* Write text to ROOT/sys/rel (made with its directories), and read it back (trailing
 * newline stripped; "" when missing). */
int ptree_put(const struct ptree *t, const char *rel, const char *text);
const char *ptree_get(const struct ptree *t, const char *rel, char *buf, size_t len);
/* Remove the whole tree. */
void ptree_remove(struct ptree *t);

#endif
