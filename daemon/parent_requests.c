/*
 * parent_requests.c - the root parent's handling of engine requests.
 * Linked by portcullisd (parent). Requests come from the unprivileged engine and are
 * not trusted: ipc_decode() already validated names; here every request is re-checked
 * against sysfs and the parent's own table before anything is written. Writes that
 * only take access away (authorized=0, remove, detach of a removable medium) are
 * always allowed for a valid device; writes that grant access need the device to
 * be the one the engine saw (bus and device number) and, for interfaces, a device
 * this parent authorised itself. A request that names a disk (read-only, a helper on a
 * medium) is honoured only for a disk under a USB device this parent authorised, its
 * bus and device number re-read at the time of the request. Entries of devices that
 * are gone (unplugged, or their number taken by another) are dropped before each
 * request is looked at. An interface so authorised is then probed by the kernel
 * (drivers_probe), which does not do it by itself. Paths are those of the table's
 * struct parent_sys: the kernel's in portcullisd, a test's tree in tests/unit/parent and
 * tests/fuzz/parent, so the same code is what the tests run.
 */
#include "parent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "sysfs.h"

const struct parent_sys parent_kernel = {"/sys", "/dev", "/proc/self/mountinfo", parent_launch};

const struct parent_sys *parent_sys_of(const struct parent_table *t)
{
	return t->sys != NULL ? t->sys : &parent_kernel;
}

/* sysfs root + "/" + sub (+ "/" + name); 0 or -ENAMETOOLONG. */
int parent_sys_path(const struct parent_table *t, char *out, size_t len, const char *sub,
		    const char *name)
{
	int n = name != NULL ? snprintf(out, len, "%s/%s/%s", parent_sys_of(t)->sysfs, sub, name)
			     : snprintf(out, len, "%s/%s", parent_sys_of(t)->sysfs, sub);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

static int dev_dir(const struct parent_table *t, char *out, size_t len, const char *name)
{
	return parent_sys_path(t, out, len, "bus/usb/devices", name);
}

/* Is this the device the engine decided about, and not a root hub or interface? */
static int check_device(const struct parent_table *t, const struct ipc_device_ref *d, char *dir,
			size_t len)
{
	unsigned long busnum, devnum;
	int rc;

	if (strchr(d->name, ':') != NULL || strncmp(d->name, "usb", 3) == 0)
		return -EINVAL; /* an interface, or a root hub: never through this path */
	if ((rc = dev_dir(t, dir, len, d->name)) != 0)
		return rc;
	if ((rc = sysfs_read_uint(dir, "busnum", &busnum)) != 0 ||
	    (rc = sysfs_read_uint(dir, "devnum", &devnum)) != 0)
		return rc == -ENOENT ? -ENODEV : rc;
	if (busnum != d->busnum || devnum != d->devnum)
		return -ESTALE; /* unplugged and something else took its place */
	return 0;
}

/* The index of d in the table, or -ENOENT. */
static ssize_t table_find(const struct parent_table *t, const struct ipc_device_ref *d)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->dev[i].name, d->name) == 0 && t->dev[i].busnum == d->busnum &&
		    t->dev[i].devnum == d->devnum)
			return (ssize_t)i;
	return -ENOENT;
}

bool parent_table_has(const struct parent_table *t, const struct ipc_device_ref *d)
{
	return table_find(t, d) >= 0;
}

/* Drop the entries whose device is no longer there as it was authorised. */
static void table_prune(struct parent_table *t)
{
	char dir[256];

	for (size_t i = 0; i < t->n;)
		if (check_device(t, &t->dev[i], dir, sizeof(dir)) != 0)
			t->dev[i] = t->dev[--t->n];
		else
			i++;
}

int parent_disk_of_device(const struct parent_table *t, const struct ipc_device_ref *d,
			  const char *block, char **diskdir)
{
	char udir_path[256], path[300], *udir, *bdir;
	int rc;

	*diskdir = NULL;
	if (!parent_table_has(t, d))
		return -EPERM; /* not a device this parent authorised */
	if ((rc = check_device(t, d, udir_path, sizeof(udir_path))) != 0)
		return rc; /* gone, or its bus/device number now another device's */
	if (strchr(block, '/') != NULL || ipc_name_valid(block, IPC_NAME_MAX) != 0)
		return -EINVAL;
	if ((rc = parent_sys_path(t, path, sizeof(path), "class/block", block)) != 0)
		return rc;
	udir = realpath(udir_path, NULL);
	bdir = realpath(path, NULL);
	if (udir == NULL || bdir == NULL)
		rc = -ENODEV;
	else if (strncmp(bdir, udir, strlen(udir)) != 0 || bdir[strlen(udir)] != '/')
		rc = -EPERM; /* not a disk of that device */
	free(udir);
	if (rc == 0)
		*diskdir = bdir;
	else
		free(bdir);
	return rc;
}

static void table_forget_name(struct parent_table *t, const char *name)
{
	for (size_t i = 0; i < t->n;)
		if (strcmp(t->dev[i].name, name) == 0)
			t->dev[i] = t->dev[--t->n];
		else
			i++;
}

static int table_add(struct parent_table *t, const struct ipc_device_ref *d)
{
	table_forget_name(t, d->name);
	if (t->n == PARENT_MAX_AUTHORIZED)
		table_prune(t); /* full: drop the devices gone since the last request */
	if (t->n == PARENT_MAX_AUTHORIZED)
		return -ENOSPC;
	t->dev[t->n++] = *d;
	return 0;
}

static int do_authorize(struct parent_table *t, const struct ipc_device_ref *d, uint8_t value)
{
	char dir[256];
	int rc = check_device(t, d, dir, sizeof(dir));

	if (rc != 0)
		return rc;
	if (value == 1 && (rc = table_add(t, d)) != 0)
		return rc;
	if (value == 0)
		table_forget_name(t, d->name);
	rc = sysfs_write(dir, "authorized", value ? "1" : "0");
	if (rc != 0 && value == 1)
		table_forget_name(t, d->name);
	return rc;
}

static int do_iface(struct parent_table *t, const struct ipc_msg *req)
{
	const char *iface = req->u.iface.iface, *dev = req->u.iface.dev.name;
	size_t n = strlen(dev);
	char dir[256];
	int rc;

	if (strncmp(iface, dev, n) != 0 || iface[n] != ':')
		return -EINVAL; /* interface of another device */
	if (req->u.iface.value == 1 && table_find(t, &req->u.iface.dev) < 0)
		return -EPERM; /* only interfaces of devices this parent authorised */
	if ((rc = check_device(t, &req->u.iface.dev, dir, sizeof(dir))) != 0)
		return rc;
	if ((rc = dev_dir(t, dir, sizeof(dir), iface)) != 0)
		return rc;
	if ((rc = sysfs_write(dir, "authorized", req->u.iface.value ? "1" : "0")) != 0 ||
	    req->u.iface.value == 0)
		return rc;
	/* The kernel does not probe an interface authorised after it was created
	 * (Documentation/usb/authorization.rst): without this no driver ever binds. */
	if ((rc = parent_sys_path(t, dir, sizeof(dir), "bus/usb", NULL)) != 0)
		return rc;
	return sysfs_write(dir, "drivers_probe", iface);
}

static int do_remove(struct parent_table *t, const struct ipc_device_ref *d)
{
	char dir[256];
	int rc = check_device(t, d, dir, sizeof(dir));

	if (rc != 0)
		return rc;
	table_forget_name(t, d->name);
	return sysfs_write(dir, "remove", "1");
}

/* The device a block disk belongs to: realpath of /sys/class/block/NAME is
 * ".../<device>/block/NAME", so the device directory is two levels up. */
static int medium_device_dir(const struct parent_table *t, const char *name, char *out, size_t len)
{
	char link[300], *real;
	int rc = parent_sys_path(t, link, sizeof(link), "class/block", name);

	if (rc != 0)
		return rc;
	if ((real = realpath(link, NULL)) == NULL)
		return errno == ENOENT ? -ENODEV : -errno;
	char *slash = strrchr(real, '/');
	if (slash != NULL)
		*slash = '\0';
	slash = strrchr(real, '/');
	int ok = slash != NULL && strcmp(slash, "/block") == 0;
	if (ok)
		*slash = '\0';
	ok = ok && strlen(real) < len;
	if (ok)
		strcpy(out, real);
	free(real);
	return ok ? 0 : -EINVAL;
}

static int do_detach(const struct parent_table *t, const struct ipc_msg *req)
{
	const char *name = req->u.detach.name;
	char dir[256], devdir[512], unbind[256];
	unsigned long removable = 0;
	int rc;

	if ((rc = parent_sys_path(t, dir, sizeof(dir), "class/block", name)) != 0 ||
	    (rc = medium_device_dir(t, name, devdir, sizeof(devdir))) != 0)
		return rc;
	if (req->u.detach.how == IPC_DETACH_SCSI_DELETE) {
		/* Never the system disk: only media the kernel calls removable. */
		if ((rc = sysfs_read_uint(dir, "removable", &removable)) != 0)
			return rc;
		if (removable != 1)
			return -EPERM;
		return sysfs_write(devdir, "delete", "1");
	}
	/* MMC: only an SD card is detached. An eMMC boot disk is an mmcblk "MMC" card
	 * and is refused, whatever the engine asks. */
	char type[16];
	if (strncmp(name, "mmcblk", 6) != 0)
		return -EINVAL;
	if ((rc = sysfs_read(devdir, "type", type, sizeof(type))) != 0)
		return rc;
	if (strcmp(type, "SD") != 0)
		return -EPERM;
	const char *card = strrchr(devdir, '/') + 1;
	if (ipc_name_valid(card, IPC_NAME_MAX) != 0)
		return -EINVAL;
	if ((rc = parent_sys_path(t, unbind, sizeof(unbind), "bus/mmc/drivers/mmcblk", NULL)) != 0)
		return rc;
	return sysfs_write(unbind, "unbind", card);
}

/* Read-only for a disk of a device this parent authorised, and only that disk: the node
 * opened must be the very device sysfs names (major:minor), so neither the system disk
 * nor any other block device can be reached through this request. */
static int do_readonly(const struct parent_table *t, const struct ipc_msg *req)
{
	const char *name = req->u.readonly.name;
	char dev[300], buf[32], *dir;
	unsigned maj, min;
	int one = 1;
	int rc = parent_disk_of_device(t, &req->u.readonly.dev, name, &dir);

	if (rc != 0)
		return rc;
	if ((rc = sysfs_read(dir, "dev", buf, sizeof(buf))) == 0 &&
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		rc = -EINVAL;
	free(dir);
	if (rc != 0)
		return rc;
	if (snprintf(dev, sizeof(dev), "%s/%s", parent_sys_of(t)->dev, name) >= (int)sizeof(dev))
		return -ENAMETOOLONG;
	int fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct stat st;
	rc = fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
	if (rc == 0 && st.st_rdev != makedev(maj, min))
		rc = -ENODEV; /* the node is not that disk */
	/* The raw system call: no interposed library (an LD_PRELOAD, the umockdev test bed's
	 * included) can fake or swallow the one call this grant's safety rests on. */
	if (rc == 0 && syscall(SYS_ioctl, fd, BLKROSET, &one) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int parent_check_device(const struct parent_table *t, const struct ipc_device_ref *d, char *dir,
			size_t len)
{
	return check_device(t, d, dir, len);
}

int parent_table_add(struct parent_table *t, const struct ipc_device_ref *d)
{
	return table_add(t, d);
}

void parent_table_forget(struct parent_table *t, const char *name)
{
	table_forget_name(t, name);
}

int parent_handle(struct parent_table *t, const struct ipc_msg *req, int *passfd)
{
	int rc;

	*passfd = -1;
	/* A grant in two steps (parent_grant.c): the commit must be the next request after
	 * its prepare; anything else ends what the prepare holds. */
	if (req->type == IPC_DEV_COMMIT) {
		rc = parent_grant_commit(t, &req->u.grant.dev);
		table_prune(t);
		return rc;
	}
	parent_grant_drop(t);
	if (req->type == IPC_DEV_PREPARE)
		return parent_grant_prepare(t, &req->u.grant.dev, passfd);
	/* A device's own authorisation consults no other entry of the table: the devices
	 * gone meanwhile are dropped after its write, not before (off the grant's path).
	 * Every request that relies on the table finds it pruned first. */
	if (req->type == IPC_DEV_AUTHORIZE) {
		rc = do_authorize(t, &req->u.authorize.dev, req->u.authorize.value);
		table_prune(t);
		return rc;
	}
	table_prune(t);
	switch (req->type) {
	case IPC_IFACE_AUTHORIZE:
		return do_iface(t, req);
	case IPC_DEV_REMOVE:
		return do_remove(t, &req->u.remove.dev);
	case IPC_MEDIUM_DETACH:
		return do_detach(t, req);
	case IPC_JOB_START:
		return parent_job_start(t, req, passfd);
	case IPC_JOB_STOP:
		return parent_job_stop(req);
	case IPC_BLOCK_READONLY:
		return do_readonly(t, req);
	default:
		return -EINVAL;
	}
}
