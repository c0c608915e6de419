/*
 * parent_grant.c - a device's grant in two steps: IPC_DEV_PREPARE checks the device as
 * IPC_DEV_AUTHORIZE does (its bus and device number, not a root hub or an interface),
 * opens its `authorized` file for writing, without writing, and hands the engine a copy
 * of that descriptor with its answer (SCM_RIGHTS); IPC_DEV_COMMIT adds the device to the
 * table (its interfaces and disk jobs need it) and writes 1 to the file it holds. The
 * engine sends the prepare on the device's uevent, before it reads and decides the
 * device; once an allow record is durable it writes 1 through its copy itself (no wake-up
 * of this process on the grant's path) and then sends the commit, whose write is a no-op
 * for the kernel when the engine's has granted (authorized_store calls
 * usb_authorize_device, which returns 0 at once for a device already authorised) and the
 * grant when it has not. A prepare of a device then left blocked is dropped at the next
 * request. Linked by portcullisd (parent). Requests come from the unprivileged engine and
 * are not trusted: a commit is honoured only as the very next request after the prepare
 * of the same device (name, bus and device number); any other request, or a failed
 * prepare, drops what a prepare holds, and a refused prepare passes no descriptor.
 *
 * Why the descriptor gives a compromised engine nothing it has not already: it can
 * already have any device that passes these checks authorised, or deauthorised, at any
 * time (IPC_DEV_AUTHORIZE), and this is one such device's file, opened only after the
 * checks, O_WRONLY | O_CLOEXEC | O_NOFOLLOW (no read, and mmap needs a readable file).
 * The open file is bound to the kernel's device object, not to its path: once that
 * device is unplugged, sysfs (kernfs) answers a write to the removed attribute with
 * -ENODEV, so a descriptor kept, or a device whose name and numbers are then taken by a
 * newcomer, reaches nothing new. Its other operations give nothing either: fstat tells
 * what sysfs tells anyone; lseek moves the offset this process's copy shares, which
 * sysfs ignores for an attribute's write (the engine writes at offset 0 with pwrite, so
 * a test bed's regular file keeps its offset too); ftruncate and fsync change nothing of
 * an attribute; fchmod and fchown are outside the engine's seccomp filter (and the file
 * is root's); ioctl is filtered to TCGETS (which sysfs answers ENOTTY). Passed on over a
 * socket (sendmsg is allowed, for control clients), it lets the receiver do what the
 * engine could have done through this process anyway. The parent's own checks, its
 * table and the commit's write are unchanged.
 */
#include "parent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void parent_grant_drop(struct parent_table *t)
{
	if (t->held)
		close(t->held_fd);
	t->held = false;
	t->held_fd = -1;
}

static bool same_device(const struct ipc_device_ref *a, const struct ipc_device_ref *b)
{
	return strcmp(a->name, b->name) == 0 && a->busnum == b->busnum && a->devnum == b->devnum;
}

int parent_grant_prepare(struct parent_table *t, const struct ipc_device_ref *d, int *passfd)
{
	char dir[256], path[300];
	int rc;

	*passfd = -1;
	parent_grant_drop(t);
	if ((rc = parent_check_device(t, d, dir, sizeof(dir))) != 0)
		return rc;
	if ((size_t)snprintf(path, sizeof(path), "%s/authorized", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	t->held = true;
	t->held_fd = fd;
	t->held_dev = *d;
	/* The engine's copy: the same open file (without it, the commit grants alone). */
	*passfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return 0;
}

int parent_grant_commit(struct parent_table *t, const struct ipc_device_ref *d)
{
	ssize_t n;
	int rc;

	if (!t->held || !same_device(&t->held_dev, d)) {
		parent_grant_drop(t);
		return -EPERM; /* no prepare of this device right before */
	}
	if ((rc = parent_table_add(t, d)) != 0) {
		parent_grant_drop(t);
		return rc;
	}
	do {
		n = write(t->held_fd, "1", 1);
	} while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : (n == 1 ? 0 : -EIO);
	if (close(t->held_fd) != 0 && rc == 0)
		rc = -errno;
	t->held = false;
	t->held_fd = -1;
	if (rc != 0)
		parent_table_forget(t, d->name);
	return rc;
}
