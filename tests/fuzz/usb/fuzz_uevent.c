/*
 * fuzz_uevent.c - libFuzzer harness: arbitrary bytes as one netlink uevent message
 * (uevent_parse). The parser must never read out of bounds, must leave *ev zeroed on
 * error, and what it accepts must be bounded, terminated and plain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uevent ev, zero;
	/* A copy of exactly size bytes, so that a read past the end is seen by ASan. */
	uint8_t *b = malloc(size ? size : 1);

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	memset(&zero, 0, sizeof(zero));
	if (uevent_parse(b, size, &ev) != 0) {
		if (memcmp(&ev, &zero, sizeof(ev)) != 0)
			abort();
	} else if (memchr(ev.action, '\0', sizeof(ev.action)) == NULL ||
		   memchr(ev.devpath, '\0', sizeof(ev.devpath)) == NULL ||
		   memchr(ev.subsystem, '\0', sizeof(ev.subsystem)) == NULL ||
		   memchr(ev.devtype, '\0', sizeof(ev.devtype)) == NULL ||
		   memchr(ev.busnum, '\0', sizeof(ev.busnum)) == NULL ||
		   memchr(ev.devnum, '\0', sizeof(ev.devnum)) == NULL || ev.devpath[0] != '/' ||
		   strstr(ev.devpath, "/../") != NULL || ev.action[0] == '\0' ||
		   ev.subsystem[0] == '\0' || *uevent_sysname(&ev) == '\0') {
		abort();
	}
	free(b);
	return 0;
}
