/*
 * parent_tree.c - the test tree of parent_tree.h, made of plain directories, files and
 * symbolic links the way the kernel lays out sysfs (class and bus directories link into
 * devices/). Test code; its input is its own.
 */
#include "parent_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int ptree_put(const struct ptree *t, const char *rel, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->sys, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdirs(path) != 0)
		return -1;
	*slash = '/';
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

const char *ptree_get(const struct ptree *t, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->sys, rel);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return buf;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* ROOT/sys/link -> ROOT/sys/target (absolute, as realpath sees the kernel's). */
static int link_to(const struct ptree *t, const char *link, const char *target)
{
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", t->sys, link);
	snprintf(to, sizeof(to), "%s/%s", t->sys, target);
	char *slash = strrchr(from, '/');
	*slash = '\0';
	if (mkdirs(from) != 0 || mkdirs(to) != 0)
		return -1;
	*slash = '/';
	return symlink(to, from);
}

/* The stick's identity: a SanDisk-like mass-storage device, one interface 08:06:50. */
static const char stick_descriptors[] = {
    0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x0c, 0x09, 0x00, 0x10, 0x00,
    0x11, 0x01, 0x02, 0x03, 0x01, 0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x00, (char)0x80,
    0x70, 0x09, 0x04, 0x00, 0x00, 0x02, 0x08, 0x06, 0x50, 0x00, 0x07, 0x05, (char)0x81,
    0x02, 0x00, 0x02, 0x00, 0x07, 0x05, 0x02, 0x02, 0x00, 0x02, 0x00};

/* The root hub's: a USB 2.0 hub, one interface 09:00:00 and its interrupt endpoint (the
 * stick's identity names its hub's hash, read from these, its product and serial). */
static const char hub_descriptors[] = {
    0x12, 0x01, 0x00, 0x02,	  0x09, 0x00,	    0x01, 0x40, 0x6b, 0x1d, 0x02,
    0x00, 0x01, 0x06, 0x03,	  0x02, 0x01,	    0x01, 0x09, 0x02, 0x19, 0x00,
    0x01, 0x01, 0x00, (char)0xe0, 0x00, 0x09,	    0x04, 0x00, 0x00, 0x01, 0x09,
    0x00, 0x00, 0x00, 0x07,	  0x05, (char)0x81, 0x03, 0x04, 0x00, 0x0c};

static int put_bytes(const struct ptree *t, const char *rel, const char *bytes, size_t n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", t->sys, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int rc = write(fd, bytes, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return rc;
}

int ptree_make(struct ptree *t, const char *disk_dev)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX], *real;
	char line[64];

	snprintf(tmpl, sizeof(tmpl), "%s/pcl-parent-XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(tmpl) == NULL || (real = realpath(tmpl, NULL)) == NULL)
		return -1;
	if (strlen(real) >= sizeof(t->root)) {
		free(real);
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(t->root, sizeof(t->root), "%s", real);
	free(real);
	snprintf(t->sys, sizeof(t->sys), "%s/sys", t->root);
	snprintf(t->dev, sizeof(t->dev), "%s/dev", t->root);
	snprintf(t->mountinfo, sizeof(t->mountinfo), "%s/mountinfo", t->root);
	if (mkdirs(t->sys) != 0 || mkdirs(t->dev) != 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", disk_dev);
	struct {
		const char *rel, *text;
	} files[] = {
	    {PTREE_HUB "/busnum", "1\n"},
	    {PTREE_HUB "/devnum", "1\n"},
	    {PTREE_HUB "/authorized_default", "0\n"},
	    {PTREE_HUB "/product", "xHCI Host Controller\n"},
	    {PTREE_HUB "/serial", "0000:00:14.0\n"},
	    {PTREE_STICK "/busnum", "1\n"},
	    {PTREE_STICK "/devnum", "5\n"},
	    {PTREE_STICK "/authorized", "0\n"},
	    {PTREE_STICK "/remove", ""},
	    {PTREE_STICK "/uevent", "DEVTYPE=usb_device\n"},
	    {PTREE_STICK "/idVendor", "090c\n"},
	    {PTREE_STICK "/idProduct", "1000\n"},
	    {PTREE_STICK "/manufacturer", "SMI Corporation\n"},
	    {PTREE_STICK "/product", "Flash Disk\n"},
	    {PTREE_STICK "/serial", "AA00000000011111\n"},
	    {PTREE_STICK "/port/connect_type", "hotplug\n"},
	    {PTREE_IFACE "/authorized", "0\n"},
	    {PTREE_SCSI "/delete", ""},
	    {PTREE_SCSI "/block/sdb/dev", line},
	    {PTREE_SCSI "/block/sdb/removable", "1\n"},
	    {PTREE_SCSI "/block/sdb/size", "65536\n"},
	    {PTREE_SCSI "/block/sdb/sdb1/dev", "259:7\n"},
	    {PTREE_SCSI "/block/sdb/sdb1/partition", "1\n"},
	    {PTREE_SATA "/delete", ""},
	    {PTREE_SATA "/block/sda/dev", "8:0\n"},
	    {PTREE_SATA "/block/sda/removable", "0\n"},
	    {PTREE_SATA "/block/sda/size", "1000000\n"},
	    {PTREE_LOOP "/dev", "7:9\n"},
	    {PTREE_LOOP "/removable", "0\n"},
	    {PTREE_SD "/type", "SD\n"},
	    {PTREE_SD "/block/mmcblk0/dev", "179:0\n"},
	    {PTREE_EMMC "/type", "MMC\n"},
	    {PTREE_EMMC "/block/mmcblk1/dev", "179:8\n"},
	    {"bus/usb/drivers_probe", ""},
	    {"bus/mmc/drivers/mmcblk/unbind", ""},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (ptree_put(t, files[i].rel, files[i].text) != 0)
			return -1;
	if (put_bytes(t, PTREE_STICK "/descriptors", stick_descriptors,
		      sizeof(stick_descriptors)) != 0 ||
	    put_bytes(t, PTREE_HUB "/descriptors", hub_descriptors, sizeof(hub_descriptors)) != 0)
		return -1;
	const char *links[][2] = {
	    {"bus/usb/devices/usb1", PTREE_HUB},
	    {"bus/usb/devices/1-2", PTREE_STICK},
	    {"bus/usb/devices/1-2:1.0", PTREE_IFACE},
	    {"class/block/sdb", PTREE_SCSI "/block/sdb"},
	    {"class/block/sdb1", PTREE_SCSI "/block/sdb/sdb1"},
	    {"class/block/sda", PTREE_SATA "/block/sda"},
	    {"class/block/loop9", PTREE_LOOP},
	    {"class/block/mmcblk0", PTREE_SD "/block/mmcblk0"},
	    {"class/block/mmcblk1", PTREE_EMMC "/block/mmcblk1"},
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (link_to(t, links[i][0], links[i][1]) != 0)
			return -1;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ptree_remove(struct ptree *t)
{
	if (t->root[0] != '\0')
		nftw(t->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	t->root[0] = '\0';
}
