/*
 * engine_remove.c - a device's removal, in one place: its helpers stopped, the removal
 * recorded, its grant, owed wipe and council-stick marks dropped, then its record
 * forgotten. Linked by the engine; the device comes from the engine's own table.
 */
#include "engine.h"
#include "engine_approval.h"
#include "engine_council.h"
#include "engine_jobs.h"
#include "engine_remove.h"

void engine_device_remove(struct engine *e, struct dev_entry *d, const char *reason)
{
	/* A medium outside USB has no helpers, grant or council mark: only its record. */
	if (!d->medium)
		engine_jobs_device_gone(e, d->id.sysname);
	engine_record_after(e, "device-removed", d, reason);
	if (!d->medium) {
		eappr_forget(e, d);
		engine_council_forget(d);
	}
	engine_forget(e, d);
}
