/*
 * engine_kuevent.h - the kernel's own uevents for the engine (engine_kuevent.c): usb
 * devices decided as the kernel announces them, before systemd-udevd has run its rules.
 * Linked by the engine.
 */
#ifndef PCL_DAEMON_ENGINE_KUEVENT_H
#define PCL_DAEMON_ENGINE_KUEVENT_H

#include <stdbool.h>
#include <stdint.h>

struct engine;

struct ekuev {
	int fd;		  /* netlink NETLINK_KOBJECT_UEVENT, group 1; -1 before ekuev_open */
	uint64_t seen;	  /* the highest SEQNUM read from the kernel on it */
	uint64_t foreign; /* messages dropped: not the kernel's, or not its format */
};

/* Open and bind the socket (as root, before the privilege drop: its receive buffer is
 * forced). 0 or negative errno, logged. */
int ekuev_open(struct ekuev *k);
/* Read every message waiting: the kernel's usb events are handled, a lost one (ENOBUFS)
 * means a rescan. */
void ekuev_drain(struct engine *e, struct ekuev *k);
/* Whether udev's usb event with this SEQNUM (0: none) was already read from the kernel
 * (the socket is drained first): then it was handled, and udev's copy is not. */
bool ekuev_seen(struct engine *e, struct ekuev *k, uint64_t seqnum);

#endif
