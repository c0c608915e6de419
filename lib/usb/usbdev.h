/*
 * usbdev.h - identity of one USB device: what sysfs and its descriptors say.
 * Linked by the engine, the CLI and tests. usbdesc_parse() takes untrusted
 * bytes (a device writes its own descriptors); usbdev_from_sysfs() reads the
 * kernel's view of a device, whose string attributes the device controls.
 */
#ifndef PCL_USBDEV_H
#define PCL_USBDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define USBDEV_MAX_IFACES 64
#define USBDEV_STR_MAX	  256
/* Largest descriptors blob accepted (the kernel caps each config at 64 KiB, 8 configs). */
#define USBDEV_DESC_MAX (18 + 8 * 65535)

struct usbdev_iface {
	uint8_t config_value, number, alt, cls, subclass, protocol;
};

struct usbdev {
	char sysname[64];	 /* kernel name, e.g. "1-2.3" (USBGuard via-port) */
	char parent_sysname[64]; /* "" for a root hub */
	uint16_t vid, pid, bcd_device;
	uint8_t dev_class, dev_subclass, dev_protocol;
	char serial[USBDEV_STR_MAX], manufacturer[USBDEV_STR_MAX], product[USBDEV_STR_MAX];
	char connect_type[16];		/* "hotplug", "hardwired", "unknown", "" */
	char hash[48], parent_hash[48]; /* USBGuard-compatible base64 */
	bool is_root_hub;
	size_t n_ifaces;
	struct usbdev_iface ifaces[USBDEV_MAX_IFACES]; /* every interface of every config */
};

/*
 * Parse a sysfs `descriptors` blob: the device descriptor followed by each
 * configuration descriptor with its interface, endpoint and class-specific
 * descriptors. Fills vid, pid, bcd_device, the device class triple and
 * ifaces[] (every alternate setting of every configuration, in blob order,
 * as USBGuard lists them). Other fields of dev are left untouched.
 * Returns 0, or -EINVAL with diag naming the byte offset and field.
 */
int usbdesc_parse(const uint8_t *buf, size_t len, struct usbdev *dev, struct pcl_diag *diag);

/*
 * Read a device's identity from sysfs (syspath: "/sys/bus/usb/devices/1-2" or
 * the canonical "/sys/devices/..." path) with plain open/read, and compute
 * hash and parent_hash exactly as USBGuard 1.1.2 does. Ids, classes and
 * interfaces come from the `descriptors` file (idVendor/idProduct are not read);
 * a device named usbN is a root hub, any other's parent is its hub, of which
 * only the hash is computed (parent_sysname and parent_hash). Returns 0 or a
 * negative errno (-ENOENT: no such device, -EINVAL: malformed attribute or
 * descriptors, named in diag).
 */
int usbdev_from_sysfs(const char *syspath, struct usbdev *dev, struct pcl_diag *diag);
/* The same for a sysfs mounted (or laid out by a test) at sysroot rather than /sys: the
 * device must lie under SYSROOT/devices, and hashes name paths relative to sysroot. */
int usbdev_from_sysfs_at(const char *sysroot, const char *syspath, struct usbdev *dev,
			 struct pcl_diag *diag);
/* The same for the kernel's own path of a device (a uevent's DEVPATH under /sys, or under
 * sysroot), used as it is without realpath: one path lookup per file read and none more.
 * Refused (-EINVAL) unless plain: absolute, no empty, "." or ".." part, under
 * SYSROOT/devices. Not for paths from anyone else (a symbolic link is not resolved).
 * hub_hash: the hash of the device's hub when the caller knows it (the hub is still the one
 * it read), taken as parent_hash without reading the hub's files; NULL: read them. */
int usbdev_from_devpath(const char *syspath, const char *hub_hash, struct usbdev *dev,
			struct pcl_diag *diag);
int usbdev_from_devpath_at(const char *sysroot, const char *syspath, const char *hub_hash,
			   struct usbdev *dev, struct pcl_diag *diag);

/*
 * USBGuard's device hash over already-read parts: SHA-256 of name, the
 * 4-digit vid and pid strings, serial and the descriptors blob (root-hub
 * device descriptors with bcdDevice zeroed), base64. out must hold 48 bytes.
 */
int usbdev_hash(const char *name, const char *vid, const char *pid, const char *serial,
		const uint8_t *desc, size_t desc_len, char out[48]);

/* USBGuard's hash of a plain string (used for a root hub's parent-hash). */
int usbdev_hash_string(const char *s, char out[48]);

/* Is kernel name `name` a root hub ("usbN")? Every other USB device is BUS-PORT[.PORT...]. */
bool usbdev_is_root_hub_name(const char *name);

#endif
