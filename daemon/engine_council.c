/*
 * engine_council.c - the council's own sticks must be encrypted: with `council-sticks =
 * luks2` in the council profile, a disk of a USB device let in by a rule (a registered
 * council stick, not an exception) is used read-write only when it is a LUKS2
 * container. Anything else is set read-only at the block layer (the parent's
 * IPC_BLOCK_READONLY, as for a read-only exception) and `device-read-only` is recorded
 * with the reason, which `portcullis notify` shows to the user.
 * Linked by the engine. What the disk holds comes from udev's own probe of it (the blkid
 * builtin that udevd runs on every block device: ID_FS_TYPE, ID_FS_VERSION), so no
 * process of ours parses the medium's header; those strings are only compared. A disk
 * udev did not probe counts as not encrypted (fail closed).
 */
#include <libudev.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "engine_approval.h"
#include "engine_council.h"
#include "engine_usb.h"
#include "ipc.h"
#include "log.h"

/* USB devices whose disk was set read-only here, in the slot of the device's record
 * (engine_device_slot), with its bus position; cleared on removal. */
static struct {
	bool set;
	uint16_t busnum, devnum;
} ro[ENGINE_MAX_DEVICES];

bool engine_council_read_only(const struct dev_entry *d)
{
	size_t i = d != NULL ? engine_device_slot(d) : 0;

	return d != NULL && ro[i].set && ro[i].busnum == d->busnum && ro[i].devnum == d->devnum;
}

static void council_removed(struct engine *e, const struct dev_entry *d)
{
	(void)e;
	ro[engine_device_slot(d)].set = false;
}

static bool is_luks2(struct udev_device *disk)
{
	const char *type = udev_device_get_property_value(disk, "ID_FS_TYPE");
	const char *version = udev_device_get_property_value(disk, "ID_FS_VERSION");

	return type != NULL && version != NULL && strcmp(type, "crypto_LUKS") == 0 &&
	       strcmp(version, "2") == 0;
}

static void council_disk(struct engine *e, struct udev_device *disk, bool changed)
{
	struct udev_device *usb =
	    udev_device_get_parent_with_subsystem_devtype(disk, "usb", "usb_device");
	const char *owner = usb ? udev_device_get_sysname(usb) : NULL;
	const char *name = udev_device_get_sysname(disk);
	struct dev_entry *d = owner ? engine_find(e, owner) : NULL;
	struct ipc_msg req = {.type = IPC_BLOCK_READONLY};
	char reason[256];
	int rc;

	if (d == NULL || name == NULL || d->state != DEV_ALLOWED || !eappr_council_luks2() ||
	    eappr_granted(d) || ipc_name_valid(name, IPC_NAME_MAX) != 0 ||
	    (changed && engine_council_read_only(d)))
		return;
	if (is_luks2(disk)) {
		/* Once per disk: opening and closing the container makes "change" events. */
		snprintf(reason, sizeof(reason), "%s is a LUKS2 container: read-write", name);
		if (!changed)
			engine_observe(e, "medium-encrypted", d, reason);
		return;
	}
	snprintf(req.u.readonly.name, sizeof(req.u.readonly.name), "%s", name);
	snprintf(req.u.readonly.dev.name, sizeof(req.u.readonly.dev.name), "%s", owner);
	req.u.readonly.dev.busnum = d->busnum;
	req.u.readonly.dev.devnum = d->devnum;
	rc = engine_request(e, &req);
	if (rc != 0) {
		/* Fail closed: a plain council stick that cannot be made read-only is blocked. */
		snprintf(reason, sizeof(reason),
			 "%s is not an encrypted (LUKS2) council stick and could not be set "
			 "read-only (%s): access withdrawn",
			 name, strerror(-rc));
		log_err("%s: %s", owner, reason);
		engine_record(e, "device-read-only", "failure", d, reason, true);
		engine_deny_device(e, d, "a plain council stick that could not be set read-only");
		return;
	}
	ro[engine_device_slot(d)].set = true;
	ro[engine_device_slot(d)].busnum = d->busnum;
	ro[engine_device_slot(d)].devnum = d->devnum;
	snprintf(reason, sizeof(reason),
		 "the council's own sticks must be encrypted (LUKS2) and %s is not: it is "
		 "read-only",
		 name);
	engine_record(e, "device-read-only", "success", d, reason, true);
	/* BLKROSET does not reach a filesystem already mounted read-write. */
	engine_on_access(e);
}

const struct engine_hooks engine_council_hooks = {
    .name = "council",
    .on_disk = council_disk,
    .on_removed = council_removed,
};
