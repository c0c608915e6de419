/*
 * engine_grant.c - a USB device's grant in two steps. The engine asks the parent to
 * prepare (IPC_DEV_PREPARE: check the device, open its authorized file) as soon as the
 * device's "add" uevent arrives, before it reads the device and decides, without waiting
 * for the answer, so that the parent's work runs on the other core during the engine's
 * own reading, deciding and the record's disk sync; once an allow decision is on disk it
 * asks for the commit (IPC_DEV_COMMIT: write 1). A prepare grants nothing: a device left
 * blocked gets no commit, and the parent drops what it holds at the next request. The
 * promise stays: nothing is written to authorized before the decision is durable, and a
 * record that fails means no commit. Linked by the engine (unprivileged); the parent
 * re-checks everything (parent_grant.c).
 */
#include "engine_grant.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"

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
		(void)engine_answer_early(e);
	prep.pending = false;
}

int egrant_commit(struct engine *e, const struct dev_entry *d)
{
	struct ipc_msg req = {.type = IPC_DEV_AUTHORIZE};

	ref_of(d, &req.u.authorize.dev);
	if (prep.pending && memcmp(&prep.dev, &req.u.authorize.dev, sizeof(prep.dev)) == 0) {
		prep.pending = false;
		if (engine_answer_early(e) == 0) {
			struct ipc_msg commit = {.type = IPC_DEV_COMMIT};
			commit.u.grant.dev = req.u.authorize.dev;
			return engine_request(e, &commit);
		}
		/* The prepare was refused: the grant in one step says why again, or succeeds
		 * if what stood in the way has passed. */
	}
	egrant_settle(e);
	req.u.authorize.value = 1;
	return engine_request(e, &req);
}
