/*
 * parent_grant.c - a device's grant in two steps: IPC_DEV_PREPARE checks the device as
 * IPC_DEV_AUTHORIZE does (its bus and device number, not a root hub or an interface) and
 * opens its `authorized` file for writing, without writing; IPC_DEV_COMMIT writes 1 to
 * that file. The engine sends the prepare on the device's uevent, before it reads and
 * decides the device, and the commit once an allow record is durable, so the parent's
 * checks run during the engine's work and nothing is granted before the record is on
 * disk; a prepare of a device then left blocked is dropped at the next request. Linked
 * by portcullisd (parent). Requests come from the unprivileged engine and are not
 * trusted: a commit is honoured only as the very next request after the prepare of the
 * same device (name, bus and device number); any other request, or a failed prepare,
 * drops what a prepare holds. The open file is the device the parent checked: if it is
 * unplugged meanwhile (and its name taken by another), the write fails rather than reach
 * the newcomer.
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

int parent_grant_prepare(struct parent_table *t, const struct ipc_device_ref *d)
{
	char dir[256], path[300];
	int rc;

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
