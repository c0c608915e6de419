/*
 * engine_usb.h - decisions for USB devices and their interfaces (engine_usb.c). Linked by
 * the engine.
 */
#ifndef PCL_DAEMON_ENGINE_USB_H
#define PCL_DAEMON_ENGINE_USB_H

#include <stdbool.h>

#include "engine_device.h"

struct engine;

/* An event of the usb subsystem, from udev's monitor or the kernel's own uevent
 * (engine_kuevent.c): the fields the decisions use, borrowed from the event. */
struct eusb_event {
	const char *action, *syspath, *sysname, *devtype;
	const char *busnum, *devnum; /* BUSNUM, DEVNUM as the uevent gives them, or NULL */
};
/* USB devices and interfaces: one event, from either source. */
void engine_usb_event(struct engine *e, const struct eusb_event *ev, bool at_start);
struct udev_device;
void engine_usb_udev_event(struct engine *e, struct udev_device *dev, const char *action,
			   bool at_start);
/* Deny d now (recorded, then de-authorised by the parent). */
void engine_deny_device(struct engine *e, struct dev_entry *d, const char *reason);
/* Full rescan of sysfs (at start, and after a lost uevent). */
void engine_rescan(struct engine *e, bool at_start);
/* Carry out d's decision (authorise or take away the device, decide its interfaces). */
void engine_usb_apply(struct engine *e, struct dev_entry *d);

#endif
