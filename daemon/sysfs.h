/*
 * sysfs.h - small sysfs attribute reads and writes for the portcullisd parent
 * (writes) and engine (reads). Paths are built from validated kernel names only.
 */
#ifndef PCL_DAEMON_SYSFS_H
#define PCL_DAEMON_SYSFS_H

#include <stddef.h>

#define SYSFS_USB_BUS	  "/sys/bus/usb"
#define SYSFS_USB_DEVICES "/sys/bus/usb/devices"
#define SYSFS_BLOCK	  "/sys/class/block"

/* Read an attribute of dir (trailing newline stripped); 0 or negative errno. */
int sysfs_read(const char *dir, const char *attr, char *buf, size_t len);
/* Read an unsigned decimal attribute; 0 or negative errno. */
int sysfs_read_uint(const char *dir, const char *attr, unsigned long *out);
/* Write value to an attribute of dir; 0 or negative errno. */
int sysfs_write(const char *dir, const char *attr, const char *value);

#endif
