/*
 * engine_grant.c - a USB device's grant in two steps. The engine asks the parent to
 * prepare (IPC_DEV_PREPARE: check the device, open its authorized file) as soon as the
 * device's "add" uevent arrives, before it reads the device and decides, without
 * waiting for the answer, so that the parent's work runs on the other core during the
 * engine's own reading, deciding and the record's disk sync. An accepted prepare's
 * answer carries a copy of the descriptor the parent opened (write only, that very
 * device's file): once an allow decision is on disk the engine writes 1 through it
 * itself, with no wake-up of the parent on the way, and then asks for the commit
 * (IPC_DEV_COMMIT: the parent checks again, remembers the device for its interfaces and
 * disk jobs, and writes 1, which the kernel takes as a no-op for a device already
 * authorised, or as the grant if the engine's write failed); it closes the descriptor
 * once the commit is answered, after writing 0 through it when the parent refuses both
 * the commit and the grant in one step (the device stays out, and the caller records
 * why). A prepare grants nothing: a device left blocked gets no commit, its descriptor
 * is closed at once, and the parent drops what it holds at the next request. The
 * promise stays: nothing is written to authorized before the decision is durable, and a
 * record that fails means no write and no commit. Linked by the engine (unprivileged);
 * the parent re-checks everything (parent_grant.c, which also says why the descriptor
 * gives the engine no power it does not already have).
 */
#include "engine_grant.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"

/* The device whose prepare awaits its commit (one at a time: the engine decides one
 * device after another). */
static struct {
	bool pending;
	struct ipc_device_ref dev;
} prep;

static void ref_of(const struct dev_entry *d, struct ipc_device_ref *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", d->id.sysname);
	r->busnum = d->busnum;
	r->devnum = d->devnum;
}

void egrant_prepare(struct engine *e, const char *name, unsigned busnum, unsigned devnum)
{
	struct ipc_msg req = {.type = IPC_DEV_PREPARE};

	egrant_settle(e);
	snprintf(req.u.grant.dev.name, sizeof(req.u.grant.dev.name), "%s", name);
	req.u.grant.dev.busnum = (uint16_t)busnum;
	req.u.grant.dev.devnum = (uint16_t)devnum;
	engine_request_early(e, &req);
	prep.pending = true;
	prep.dev = req.u.grant.dev;
}

void egrant_settle(struct engine *e)
{
	if (prep.pending)
		(void)engine_answer_early(e, NULL); /* its descriptor, if any, closed */
	prep.pending = false;
}

/* value written through the descriptor the prepare passed: 0 or a negative errno. At
 * offset 0, leaving the file offset the parent's copy shares where it was: sysfs ignores
 * the offset of an attribute's write, a test bed's regular file does not. */
static int write_authorized(int fd, char value)
{
	ssize_t n;

	do {
		n = pwrite(fd, &value, 1, 0);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (n == 1 ? 0 : -EIO);
}

int egrant_commit(struct engine *e, const struct dev_entry *d)
{
	struct ipc_msg req = {.type = IPC_DEV_AUTHORIZE};
	int fd = -1;

	ref_of(d, &req.u.authorize.dev);
	req.u.authorize.value = 1;
	if (prep.pending && memcmp(&prep.dev, &req.u.authorize.dev, sizeof(prep.dev)) == 0) {
		prep.pending = false;
		if (engine_answer_early(e, &fd) == 0) {
			struct ipc_msg commit = {.type = IPC_DEV_COMMIT};
			int wrc = fd >= 0 ? write_authorized(fd, '1') : -EBADF;
			if (wrc != 0 && fd >= 0)
				log_warn("%s: write to authorized failed (%s): the parent's commit "
					 "decides",
					 d->id.sysname, strerror(-wrc));
			commit.u.grant.dev = req.u.authorize.dev;
			int rc = engine_request(e, &commit);
			/* Granted by the engine's write, refused by the parent: the grant in one
			 * step, or else taken back through the same descriptor (bound to this
			 * device, so it needs nothing of the parent), so that no device is in
			 * without the parent's knowing of it (its interfaces and disk jobs need
			 * that); the parent is asked for 0 only if that write fails. */
			if (rc != 0 && wrc == 0 && (rc = engine_request(e, &req)) != 0 &&
			    write_authorized(fd, '0') != 0) {
				struct ipc_msg back = req;
				back.u.authorize.value = 0;
				(void)engine_request(e, &back);
			}
			if (fd >= 0)
				close(fd);
			return rc;
		}
		if (fd >= 0)
			close(fd); /* never passed with a refusal; kept by no one */
		/* The prepare was refused: the grant in one step says why again, or succeeds
		 * if what stood in the way has passed. */
	}
	egrant_settle(e);
	return engine_request(e, &req);
}
