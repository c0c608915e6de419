/*
 * fuzz_rules.c - libFuzzer harness: arbitrary bytes as a rule file. Parsing
 * must not crash or leak; a parsed set is decided against fixed devices and
 * its decisions must be consistent (a match names a line of the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

static void check(const struct rules *r, const struct usbdev *d, size_t size)
{
	struct rules_decision dec;

	rules_decide(r, d, &dec);
	if (!dec.matched && (dec.target != RULES_BLOCK || dec.text != NULL))
		abort();
	if (dec.matched && (dec.line == 0 || dec.line > size + 1 || dec.text == NULL))
		abort();
	if (dec.target != RULES_ALLOW && dec.iface_allow != 0)
		abort();
	if (dec.iface_allow >> d->n_ifaces)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *r = NULL;
	struct pcl_diag diags[4];
	size_t nd = 0;
	struct usbdev d;

	if (rules_parse_buffer("fuzz.rules", (const char *)data, size, &r, diags, 4, &nd) != 0) {
		if (r != NULL || nd == 0)
			abort();
		return 0;
	}
	memset(&d, 0, sizeof(d));
	strcpy(d.sysname, "1-2");
	d.vid = 0x0781;
	d.pid = 0x5581;
	strcpy(d.serial, "4C530001140516116522");
	strcpy(d.product, " SanDisk 3.2Gen1");
	strcpy(d.connect_type, "hotplug");
	strcpy(d.hash, "4CfkBoyPSgKRCplCZbYMjtKTZRHlRlPvuc9k+sBM4Kc=");
	strcpy(d.parent_hash, "lceG1KIkEX7lSwXRAZqQ1rJVcnnTM3xaE1A+wbEtZ4k=");
	d.n_ifaces = 2;
	d.ifaces[0] = (struct usbdev_iface){1, 0, 0, 8, 6, 0x50};
	d.ifaces[1] = (struct usbdev_iface){1, 1, 0, 3, 1, 1};
	check(r, &d, size);
	d.n_ifaces = 0;
	d.serial[0] = '\0';
	check(r, &d, size);
	rules_free(&r);
	return 0;
}
