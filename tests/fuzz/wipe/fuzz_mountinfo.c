/*
 * fuzz_mountinfo.c - libFuzzer harness for wipe_mountinfo_find: /proc/self/mountinfo
 * text, whose mount points and sources users influence.
 */
#include "wipe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wipe_devset set = {.n = 2};
	struct wipe_mount_hit hit;
	struct pcl_diag d;
	int r;

	set.devs[0] = makedev(8, 16);
	set.devs[1] = makedev(8, 17);
	strcpy(set.names[0], "sdb");
	strcpy(set.names[1], "sdb1");
	r = wipe_mountinfo_find((const char *)data, size, &set, &hit, &d);
	if (r == 1 && strnlen(hit.mountpoint, sizeof(hit.mountpoint)) >= sizeof(hit.mountpoint))
		abort();
	return 0;
}
