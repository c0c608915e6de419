/*
 * engine_council.h - the council's own sticks must be LUKS2 containers when the profile
 * says `council-sticks = luks2` (daemon/engine_council.c). Engine only.
 */
#ifndef PCL_DAEMON_ENGINE_COUNCIL_H
#define PCL_DAEMON_ENGINE_COUNCIL_H

#include <stdbool.h>

struct engine;
struct dev_entry;
struct udev_device;

/* A disk appeared or changed under a USB device: a council stick's disk that is not a
 * LUKS2 container is set read-only and recorded (device-read-only). changed: a "change"
 * event (probed again), ignored for a disk already read-only. */
void engine_council_disk(struct engine *e, struct udev_device *disk, bool changed);
/* Whether d's disk was set read-only here (it must never be mounted read-write). */
bool engine_council_read_only(const struct dev_entry *d);
/* d went away. */
void engine_council_forget(const struct dev_entry *d);

#endif
