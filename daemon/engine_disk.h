/*
 * engine_disk.h - disks: removable media outside USB and USB sticks' disks (engine_disk.c).
 * Linked by the engine.
 */
#ifndef PCL_DAEMON_ENGINE_DISK_H
#define PCL_DAEMON_ENGINE_DISK_H

struct engine;

/* Disks (block devices): media outside USB are decided, a USB stick's disk gets its
 * grant's read-only setting and the council-stick check. */
struct udev_device;
void engine_disk_event(struct engine *e, struct udev_device *dev, const char *action);

#endif
