/*
 * precheck.c - refuse media that must never be wiped: partitions (wipe whole disks
 * only), the system disk, anything mounted or used as swap, directly or through a
 * partition or a stacked dm/md holder. Pure functions over sysfs and mount-table roots
 * given by the caller (the seam tests use). Linked by the CLI and the daemon parent;
 * sysfs is trusted kernel output, mountinfo contents (mount points) are user-influenced
 * and parsed defensively, by the one mountinfo parser (lib/common/mountinfo.c).
 */
#include "fileio.h"
#include "mountinfo.h"
#include "wipe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

const struct wipe_sysroot wipe_sysroot_default = {
    .sysfs = "/sys",
    .mountinfo = "/proc/self/mountinfo",
    .swaps = "/proc/swaps",
};

/* Read a small sysfs/proc file into buf (NUL-terminated, trailing newline cut). */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

static int parse_devnum(const char *s, dev_t *out)
{
	unsigned ma, mi;
	char tail;

	if (sscanf(s, "%u:%u%c", &ma, &mi, &tail) != 2)
		return -EINVAL;
	*out = makedev(ma, mi);
	return 0;
}

static int set_add(struct wipe_devset *set, dev_t dev, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->devs[i] == dev)
			return 0;
	if (set->n >= WIPE_MAX_DEVS)
		return -E2BIG;
	set->devs[set->n] = dev;
	snprintf(set->names[set->n], sizeof(set->names[0]), "%s", name);
	set->n++;
	return 1;
}

static int add_holders(const struct wipe_sysroot *root, const char *dir, struct wipe_devset *set,
		       int depth);

/* Add the block device whose sysfs directory is dir (and its holders). */
static int add_dir(const struct wipe_sysroot *root, const char *dir, const char *name,
		   struct wipe_devset *set, int depth)
{
	char path[512], val[32];
	dev_t dev;
	int r;

	snprintf(path, sizeof(path), "%s/dev", dir);
	if (read_small(path, val, sizeof(val)) < 0 || parse_devnum(val, &dev) != 0)
		return -ENOENT;
	r = set_add(set, dev, name);
	if (r <= 0)
		return r;
	return add_holders(root, dir, set, depth);
}

static int add_holders(const struct wipe_sysroot *root, const char *dir, struct wipe_devset *set,
		       int depth)
{
	char path[512], hdir[512];
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > 8)
		return -ELOOP;
	snprintf(path, sizeof(path), "%s/holders", dir);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while (r >= 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(hdir, sizeof(hdir), "%s/class/block/%s", root->sysfs, de->d_name);
		r = add_dir(root, hdir, de->d_name, set, depth + 1);
		if (r == -ENOENT)
			r = 0;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int wipe_devset_collect(const struct wipe_sysroot *root, dev_t disk, struct wipe_devset *set)
{
	char dir[512], path[800], name[32];
	struct dirent *de;
	DIR *d;
	int r;

	memset(set, 0, sizeof(*set));
	snprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", root->sysfs, major(disk), minor(disk));
	{
		char real[PATH_MAX];
		const char *base;

		if (realpath(dir, real) == NULL)
			return -ENODEV;
		base = strrchr(real, '/');
		snprintf(name, sizeof(name), "%.31s", base ? base + 1 : real);
	}
	r = add_dir(root, dir, name, set, 0);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while (r >= 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/partition", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = add_dir(root, path, de->d_name, set, 0);
		if (r == -ENOENT)
			r = 0;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

int wipe_mountinfo_find(const char *text, size_t len, const struct wipe_devset *set,
			struct wipe_mount_hit *hit, struct pcl_diag *d)
{
	static struct pcl_mount m; /* one mount point: too large for the stack */
	unsigned line = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;

		line++;
		pos += ll + (nl ? 1 : 0);
		if (ll == 0)
			continue;
		/* The one mountinfo parser (lib/common/mountinfo.c). */
		if (pcl_mountinfo_line(l, ll, &m) != 0) {
			pcl_diag_set(d, "mountinfo", line, "malformed mount entry");
			return -EINVAL;
		}
		dev_t dev = makedev(m.major, m.minor);
		for (size_t i = 0; i < set->n; i++) {
			char node[48];

			snprintf(node, sizeof(node), "/dev/%s", set->names[i]);
			/* Match the device number, or the source for filesystems (btrfs) that
			 * report an anonymous device number. */
			if (set->devs[i] != dev && strcmp(m.source, node) != 0)
				continue;
			hit->dev = set->devs[i];
			/* Shown to the user: a longer mount point is cut, not refused. */
			size_t n = strnlen(m.mountpoint, sizeof(hit->mountpoint) - 1);
			memcpy(hit->mountpoint, m.mountpoint, n);
			hit->mountpoint[n] = '\0';
			hit->is_root = strcmp(m.mountpoint, "/") == 0;
			return 1;
		}
	}
	return 0;
}

#define TABLE_MAX (16u << 20) /* mountinfo, swaps */

int wipe_precheck(const struct wipe_sysroot *root, dev_t disk, struct pcl_diag *d)
{
	struct wipe_devset set;
	struct wipe_mount_hit hit;
	char path[512];
	struct stat st;
	size_t len;
	char *text;
	int r;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/partition", root->sysfs, major(disk),
		 minor(disk));
	if (stat(path, &st) == 0) {
		pcl_diag_set(d, "", 0, "is a partition: wipe the whole disk");
		return -EINVAL;
	}
	r = wipe_devset_collect(root, disk, &set);
	if (r < 0) {
		pcl_diag_set(d, "", 0, "cannot read its sysfs entry: %s", strerror(-r));
		return r;
	}
	if (pcl_read_file(root->mountinfo, TABLE_MAX, 0, &text, &len) != 0) {
		pcl_diag_set(d, "", 0, "cannot read %s", root->mountinfo);
		return -EIO;
	}
	r = wipe_mountinfo_find(text, len, &set, &hit, d); /* names mountinfo and the line */
	free(text);
	if (r < 0)
		return -EINVAL;
	if (r == 1) {
		if (hit.is_root)
			pcl_diag_set(d, "", 0, "is the system disk (holds /)");
		else
			pcl_diag_set(d, "", 0, "is mounted on %s", hit.mountpoint);
		return hit.is_root ? -EPERM : -EBUSY;
	}
	if (pcl_read_file(root->swaps, TABLE_MAX, 0, &text, &len) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			char node[48];
			size_t nl;

			nl = (size_t)snprintf(node, sizeof(node), "\n/dev/%s", set.names[i]);
			for (const char *p = strstr(text, node); p; p = strstr(p + 1, node))
				if (p[nl] == ' ' || p[nl] == '\t') {
					pcl_diag_set(d, "", 0, "is in use as swap (%s)", node + 1);
					free(text);
					return -EBUSY;
				}
		}
		free(text);
	}
	return 0;
}
