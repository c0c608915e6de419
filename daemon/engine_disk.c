/*
 * engine_disk.c - disks: removable media that do not come through USB: an SD card in a
 * PCI card reader, an internal SATA/SCSI optical drive. They fall under the same
 * policy at the block layer: without an approval the parent makes the medium
 * unreachable (mmc card unbound from mmcblk, SCSI device deleted) and it is logged.
 * Linked by the engine; sysfs strings (vendor, model, card name) are device-written
 * and only copied, bounded, into the record.
 */
#include <libudev.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "engine_disk.h"
#include "ipc.h"
#include "log.h"
#include "sysfs.h"

/* Which bus a disk hangs off: "usb" (left to the USB gate), "mmc", "scsi", or NULL. The
 * whole chain of parents is walked: a USB stick's disk hangs off a SCSI host that hangs
 * off the USB interface, and anything under a USB device is the USB gate's. */
static const char *disk_bus(struct udev_device *dev)
{
	const char *bus = NULL;

	for (struct udev_device *p = udev_device_get_parent(dev); p != NULL;
	     p = udev_device_get_parent(p)) {
		const char *s = udev_device_get_subsystem(p);
		if (s == NULL)
			continue;
		if (strcmp(s, "usb") == 0)
			return "usb";
		if (bus == NULL && strcmp(s, "mmc") == 0)
			bus = "mmc";
		if (bus == NULL && strcmp(s, "scsi") == 0)
			bus = "scsi";
	}
	return bus;
}

static void read_identity(struct dev_entry *d, const char *syspath, const char *bus)
{
	char devdir[512];

	snprintf(devdir, sizeof(devdir), "%s/device", syspath);
	if (strcmp(bus, "mmc") == 0) {
		sysfs_read(devdir, "name", d->id.product, sizeof(d->id.product));
		sysfs_read(devdir, "manfid", d->id.manufacturer, sizeof(d->id.manufacturer));
		sysfs_read(devdir, "serial", d->id.serial, sizeof(d->id.serial));
	} else {
		sysfs_read(devdir, "model", d->id.product, sizeof(d->id.product));
		sysfs_read(devdir, "vendor", d->id.manufacturer, sizeof(d->id.manufacturer));
	}
}

void engine_disk_event(struct engine *e, struct udev_device *dev, const char *action)
{
	const char *syspath = udev_device_get_syspath(dev);
	const char *name = udev_device_get_sysname(dev);
	const char *devtype = udev_device_get_devtype(dev);

	if (syspath == NULL || name == NULL || devtype == NULL || strcmp(devtype, "disk") != 0 ||
	    ipc_name_valid(name, IPC_NAME_MAX) != 0)
		return;
	struct dev_entry *d = engine_find(e, name);
	if (strcmp(action, "remove") == 0) {
		if (d != NULL && d->medium)
			engine_device_remove(e, d, NULL);
		return;
	}
	const char *bus = disk_bus(dev);
	/* A council stick reformatted in use (udev probes it again): checked again. */
	if (strcmp(action, "change") == 0 && d == NULL && bus != NULL && strcmp(bus, "usb") == 0)
		engine_on_disk(e, dev, true);
	if (strcmp(action, "add") != 0 || d != NULL)
		return;
	unsigned long removable = 0;
	if (bus != NULL && strcmp(bus, "usb") == 0) {
		/* A read-only grant reaches its disks; a council stick must be encrypted. */
		engine_on_disk(e, dev, false);
	}
	if (bus == NULL || strcmp(bus, "usb") == 0)
		return;
	sysfs_read_uint(syspath, "removable", &removable);
	if (strcmp(bus, "scsi") == 0 && removable != 1)
		return; /* a fixed disk: not removable media */
	if ((d = engine_add(e, name)) == NULL) {
		log_err("%s: device table full", name);
		return;
	}
	d->medium = true;
	snprintf(d->bus, sizeof(d->bus), "%s", bus);
	read_identity(d, syspath, bus);
	device_deny(d, "removable-media: needs an approval");
	engine_record_observed(e, engine_observation("device-inserted", d, NULL), "device-blocked",
			       "success", d, "removable medium outside USB: made unreachable");
	struct ipc_msg req = {.type = IPC_MEDIUM_DETACH};
	snprintf(req.u.detach.name, sizeof(req.u.detach.name), "%s", name);
	req.u.detach.how = strcmp(bus, "mmc") == 0 ? IPC_DETACH_MMC_UNBIND : IPC_DETACH_SCSI_DELETE;
	int rc = engine_request(e, &req);
	if (rc != 0)
		log_warn("%s: could not be made unreachable: %s", name, strerror(-rc));
}
