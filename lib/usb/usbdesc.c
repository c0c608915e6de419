/*
 * usbdesc.c - parser of the sysfs `descriptors` blob of a USB device.
 * Linked by the engine, the CLI and tests. Input is fully untrusted: the
 * device itself wrote these bytes. Every length is checked against the
 * bytes that remain; nothing is read past len; on error dev is untouched.
 */
#include "usbdev.h"

#include <errno.h>
#include <string.h>

#define DESC_NAME "<descriptors>"

enum {
	DT_DEVICE = 1,
	DT_CONFIG = 2,
	DT_INTERFACE = 4,
	DT_ENDPOINT = 5,
};

#define DEVICE_LEN    18
#define CONFIG_LEN    9
#define INTERFACE_LEN 9
#define MAX_CONFIGS   8

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

/* Walk the descriptors inside one configuration: [start, end) after its header. */
static int parse_config_body(const uint8_t *buf, size_t cfg_off, size_t end,
			     struct usbdev_iface *ifaces, size_t *n, struct pcl_diag *diag)
{
	size_t p = cfg_off + CONFIG_LEN;
	uint8_t cfg_value = buf[cfg_off + 5];
	uint16_t total = le16(buf + cfg_off + 2);
	bool have_iface = false;

	while (p < end) {
		uint8_t bl, type;

		if (end - p < 2) {
			pcl_diag_set(diag, DESC_NAME, 0,
				     "offset %zu: descriptor header truncated: 1 byte left in the "
				     "configuration at offset %zu (wTotalLength %u)",
				     p, cfg_off, total);
			return -EINVAL;
		}
		bl = buf[p];
		type = buf[p + 1];
		if (bl < 2) {
			pcl_diag_set(diag, DESC_NAME, 0,
				     "offset %zu: bLength %u is shorter than a descriptor header",
				     p, bl);
			return -EINVAL;
		}
		if (bl > end - p) {
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: bLength %u runs past the end of the configuration at "
			    "offset %zu (wTotalLength %u)",
			    p, bl, cfg_off, total);
			return -EINVAL;
		}
		switch (type) {
		case DT_DEVICE:
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: bDescriptorType 0x01 (device) inside a configuration", p);
			return -EINVAL;
		case DT_CONFIG:
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: configuration descriptor nested in the configuration "
			    "at offset %zu: wTotalLength %u is too large",
			    p, cfg_off, total);
			return -EINVAL;
		case DT_INTERFACE:
			if (bl != INTERFACE_LEN) {
				pcl_diag_set(
				    diag, DESC_NAME, 0,
				    "offset %zu: bLength %u of interface descriptor, expected 9", p,
				    bl);
				return -EINVAL;
			}
			if (*n >= USBDEV_MAX_IFACES) {
				pcl_diag_set(diag, DESC_NAME, 0,
					     "offset %zu: too many interfaces (more than %d)", p,
					     USBDEV_MAX_IFACES);
				return -EINVAL;
			}
			ifaces[*n] = (struct usbdev_iface){
			    .config_value = cfg_value,
			    .number = buf[p + 2],
			    .alt = buf[p + 3],
			    .cls = buf[p + 5],
			    .subclass = buf[p + 6],
			    .protocol = buf[p + 7],
			};
			(*n)++;
			have_iface = true;
			break;
		case DT_ENDPOINT:
			if (bl != 7 && bl != 9) {
				pcl_diag_set(
				    diag, DESC_NAME, 0,
				    "offset %zu: bLength %u of endpoint descriptor, expected 7 "
				    "or 9",
				    p, bl);
				return -EINVAL;
			}
			if (!have_iface) {
				pcl_diag_set(diag, DESC_NAME, 0,
					     "offset %zu: endpoint descriptor before any interface",
					     p);
				return -EINVAL;
			}
			break;
		default:
			/* class-specific, HID, IAD, OTG, vendor: carried, not interpreted */
			break;
		}
		p += bl;
	}
	return 0;
}

int usbdesc_parse(const uint8_t *buf, size_t len, struct usbdev *dev, struct pcl_diag *diag)
{
	struct usbdev_iface ifaces[USBDEV_MAX_IFACES];
	size_t n = 0, off, cfgs = 0;
	int rc;

	if (buf == NULL || dev == NULL || len < DEVICE_LEN) {
		pcl_diag_set(diag, DESC_NAME, 0,
			     "offset 0: device descriptor truncated: %zu bytes, need 18",
			     buf ? len : 0);
		return -EINVAL;
	}
	if (len > USBDEV_DESC_MAX) {
		pcl_diag_set(diag, DESC_NAME, 0, "blob of %zu bytes exceeds the %d-byte maximum",
			     len, USBDEV_DESC_MAX);
		return -EINVAL;
	}
	if (buf[0] != DEVICE_LEN) {
		pcl_diag_set(diag, DESC_NAME, 0,
			     "offset 0: bLength %u of device descriptor, expected 18", buf[0]);
		return -EINVAL;
	}
	if (buf[1] != DT_DEVICE) {
		pcl_diag_set(diag, DESC_NAME, 0,
			     "offset 1: bDescriptorType 0x%02x, expected 0x01 (device)", buf[1]);
		return -EINVAL;
	}

	for (off = DEVICE_LEN; off < len;) {
		uint16_t total;

		if (len - off < CONFIG_LEN) {
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: configuration descriptor truncated: %zu bytes left, "
			    "need 9",
			    off, len - off);
			return -EINVAL;
		}
		if (buf[off + 1] != DT_CONFIG) {
			pcl_diag_set(diag, DESC_NAME, 0,
				     "offset %zu: bDescriptorType 0x%02x where a configuration "
				     "descriptor (0x02) was expected",
				     off + 1, buf[off + 1]);
			return -EINVAL;
		}
		if (buf[off] != CONFIG_LEN) {
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: bLength %u of configuration descriptor, expected 9", off,
			    buf[off]);
			return -EINVAL;
		}
		total = le16(buf + off + 2);
		if (total < CONFIG_LEN) {
			pcl_diag_set(
			    diag, DESC_NAME, 0,
			    "offset %zu: wTotalLength %u is shorter than the configuration "
			    "descriptor",
			    off + 2, total);
			return -EINVAL;
		}
		if (total > len - off) {
			pcl_diag_set(diag, DESC_NAME, 0,
				     "offset %zu: wTotalLength %u exceeds the %zu bytes left",
				     off + 2, total, len - off);
			return -EINVAL;
		}
		if (++cfgs > MAX_CONFIGS) {
			pcl_diag_set(diag, DESC_NAME, 0, "offset %zu: more than %d configurations",
				     off, MAX_CONFIGS);
			return -EINVAL;
		}
		rc = parse_config_body(buf, off, off + total, ifaces, &n, diag);
		if (rc != 0)
			return rc;
		off += total;
	}

	dev->bcd_device = le16(buf + 12);
	dev->vid = le16(buf + 8);
	dev->pid = le16(buf + 10);
	dev->dev_class = buf[4];
	dev->dev_subclass = buf[5];
	dev->dev_protocol = buf[6];
	dev->n_ifaces = n;
	memcpy(dev->ifaces, ifaces, n * sizeof(ifaces[0]));
	return 0;
}
