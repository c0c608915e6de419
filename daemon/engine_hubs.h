/*
 * engine_hubs.h - the hashes of hubs the engine already read (engine_hubs.c). Linked by the
 * engine.
 */
#ifndef PCL_DAEMON_ENGINE_HUBS_H
#define PCL_DAEMON_ENGINE_HUBS_H

#include "engine.h"

/* The hash of the hub of the device at syspath (its parent directory), if the engine
 * knows it, else NULL: for usbdev_from_devpath's hub_hash. */
const char *ehubs_hash(struct engine *e, const char *syspath);
/* Keep the hash of id's hub if it is a root hub (never decided, so in no device entry). */
void ehubs_keep(const struct usbdev *id);
/* A USB device removed: forget it if it is a kept root hub; NULL: forget them all (a
 * rescan, after uevents may have been lost). */
void ehubs_forget(const char *sysname);

#endif
