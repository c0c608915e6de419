/*
 * engine_grant.h - a USB device's grant in two steps, overlapping the parent's checks with
 * the engine's reading of the device and its decision record's sync (engine_grant.c).
 * Linked by the engine.
 */
#ifndef PCL_DAEMON_ENGINE_GRANT_H
#define PCL_DAEMON_ENGINE_GRANT_H

#include "engine.h"

/* On a device's "add" uevent, before it is read and decided (name, bus and device number
 * from the uevent): the parent checks the device and opens its authorized file, without
 * writing it, while the engine reads the device, decides and makes its record durable. */
void egrant_prepare(struct engine *e, const char *name, unsigned busnum, unsigned devnum);
/* Once the record is on disk: the parent writes 1 to the file it opened for d; without a
 * prepare of d (or if it failed), the grant in one step (IPC_DEV_AUTHORIZE). 0 or the
 * parent's negative errno. */
int egrant_commit(struct engine *e, const struct dev_entry *d);
/* No grant after all (the record failed, another decision): collect the prepare's answer;
 * the parent drops what it holds at the next request. */
void egrant_settle(struct engine *e);

#endif
