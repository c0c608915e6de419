/*
 * engine_council.h - the council's own sticks must be LUKS2 containers when the profile
 * says `council-sticks = luks2` (daemon/engine_council.c). Engine only.
 */
#ifndef PCL_DAEMON_ENGINE_COUNCIL_H
#define PCL_DAEMON_ENGINE_COUNCIL_H

#include <stdbool.h>

struct engine;
struct dev_entry;
struct engine_hooks;

/* The feature's hooks: on_disk, a disk appeared or changed under a USB device: a council
 * stick's disk that is not a LUKS2 container is set read-only and recorded
 * (device-read-only); a "change" event (probed again) is ignored for a disk already
 * read-only. on_removed: d's mark ends. */
extern const struct engine_hooks engine_council_hooks;
/* Whether d's disk was set read-only here (it must never be mounted read-write). */
bool engine_council_read_only(const struct dev_entry *d);

#endif
