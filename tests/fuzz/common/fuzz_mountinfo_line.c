/*
 * fuzz_mountinfo_line.c - libFuzzer harness for the one mountinfo line parser: any
 * bytes either parse into bounded, NUL-terminated fields or are refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcl_mount m;

	if (pcl_mountinfo_line((const char *)data, size, &m) != 0)
		return 0;
	if (strnlen(m.mountpoint, sizeof(m.mountpoint)) == sizeof(m.mountpoint) ||
	    strnlen(m.source, sizeof(m.source)) == sizeof(m.source))
		abort();
	return 0;
}
