/*
 * engine_remove.h - a device's removal, in one place (engine_remove.c). Linked by the engine.
 */
#ifndef PCL_DAEMON_ENGINE_REMOVE_H
#define PCL_DAEMON_ENGINE_REMOVE_H

#include "engine_device.h"

struct engine;

/* d is gone (reason: NULL, or why it is known gone): its helpers, grant and marks end,
 * the removal is recorded, and its record is forgotten. */
void engine_device_remove(struct engine *e, struct dev_entry *d, const char *reason);

#endif
