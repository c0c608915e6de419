/*
 * uevent.h - one of the kernel's own uevent messages (netlink NETLINK_KOBJECT_UEVENT,
 * group 1): "ACTION@DEVPATH\0KEY=VALUE\0...\0". Linked by the engine (unprivileged),
 * which checks the sender (the kernel) before parsing; uevent_parse() trusts none of
 * the bytes: it refuses what the kernel would not send rather than guess.
 */
#ifndef PCL_UEVENT_H
#define PCL_UEVENT_H

#include <stddef.h>
#include <stdint.h>

/* Largest message taken: the kernel's own buffer is 2048 bytes (UEVENT_BUFFER_SIZE). */
#define UEVENT_MSG_MAX	8192
#define UEVENT_PATH_MAX 512

struct uevent {
	char action[16];
	char devpath[UEVENT_PATH_MAX]; /* "/devices/...", without "/sys" */
	char subsystem[32];
	char devtype[32];	   /* "" when the message has none */
	char busnum[8], devnum[8]; /* decimal, "" when the message has none */
	uint64_t seqnum;
};

/*
 * Parse one message of len bytes into *ev. 0, or:
 *   -EPROTO  libudev's format ("libudev\0" and its header): not the kernel's;
 *   -E2BIG   longer than UEVENT_MSG_MAX, or a field longer than its place in *ev;
 *   -EINVAL  anything else the kernel does not send: no "@" header, no final NUL, a key
 *            read here missing, given twice or not matching the header, a path with an
 *            empty, "." or ".." part, a SEQNUM or BUSNUM/DEVNUM that is not decimal.
 * *ev is zeroed on error.
 */
int uevent_parse(const void *buf, size_t len, struct uevent *ev);

/* The last part of ev->devpath (the kernel's name, "1-2.3"). */
const char *uevent_sysname(const struct uevent *ev);

#endif
