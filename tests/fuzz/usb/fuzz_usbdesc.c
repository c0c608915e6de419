/*
 * fuzz_usbdesc.c - libFuzzer harness: arbitrary bytes as a sysfs
 * `descriptors` blob. The parser must never read out of bounds, must leave
 * the device untouched on error and must report what it accepted sanely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "usbdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usbdev dev, before;
	struct pcl_diag diag;
	char line[8192];

	memset(&dev, 0x5a, sizeof(dev));
	dev.serial[0] = dev.product[0] = dev.connect_type[0] = '\0';
	dev.hash[0] = dev.parent_hash[0] = dev.sysname[0] = '\0';
	before = dev;
	if (usbdesc_parse(data, size, &dev, &diag) != 0) {
		if (memcmp(&dev, &before, sizeof(dev)) != 0)
			abort();
		if (memchr(diag.msg, '\0', sizeof(diag.msg)) == NULL)
			abort();
		return 0;
	}
	if (dev.n_ifaces > USBDEV_MAX_IFACES)
		abort();
	/* what was accepted must format into a rule line */
	if (rules_format_device(&dev, RULES_ALLOW, line, sizeof(line)) < 0)
		abort();
	return 0;
}
