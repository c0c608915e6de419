/*
 * engine_usb.h - decisions for USB devices and their interfaces (engine_usb.c). Linked by
 * the engine.
 */
#ifndef PCL_DAEMON_ENGINE_USB_H
#define PCL_DAEMON_ENGINE_USB_H

#include <stdbool.h>

#include "engine_device.h"

struct engine;

/* USB devices and interfaces: an event of udev's usb subsystem. */
struct udev_device;
void engine_usb_event(struct engine *e, struct udev_device *dev, const char *action, bool at_start);
/* Deny d now (recorded, then de-authorised by the parent). */
void engine_deny_device(struct engine *e, struct dev_entry *d, const char *reason);
/* Full rescan of sysfs (at start, and after a lost uevent). */
void engine_rescan(struct engine *e, bool at_start);
/* Carry out d's decision (authorise or take away the device, decide its interfaces). */
void engine_usb_apply(struct engine *e, struct dev_entry *d);

#endif
