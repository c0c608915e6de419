/*
 * engine_device_life.c - a device's life in the engine, beyond its state: the records
 * written about it, the dispatch table of the features' hooks run at its events, and its
 * removal, in one place. With engine_device.c one module, the bottom of the engine's
 * device handling: it calls the engine's core, and the features only through their hooks.
 * Linked by the engine (unprivileged); the devices come from the engine's own table.
 */
#include <errno.h>
#include <stddef.h>

#include "engine.h"
#include "engine_device.h"
#include "record.h"

#define MAX_FEATURES 8

static const struct engine_hooks *hooks[MAX_FEATURES];
static size_t n_hooks;

/* Durability of a device's record: its own disk sync (and a checkpoint when security),
 * none of its own (an observation), or the flusher thread's group sync (a fact). */
enum dev_record_mode { DEV_REC_DURABLE, DEV_REC_SECURITY, DEV_REC_DEFERRED, DEV_REC_GROUPED };

/* A record of d (or of no device) as it is now. */
static struct json_object *device_json(const char *action, const char *outcome,
				       const struct dev_entry *d, const char *reason)
{
	struct json_object *rec = d ? engine_device_json(d) : json_object_new_object();

	if (rec != NULL)
		pcl_record_head(rec, PCL_KIND_EVENT, action, outcome, reason);
	return rec;
}

static int device_record(struct engine *e, const char *action, const char *outcome,
			 const struct dev_entry *d, const char *reason, enum dev_record_mode mode)
{
	struct json_object *rec = device_json(action, outcome, d, reason);
	int rc;

	if (rec == NULL)
		return -ENOMEM;
	switch (mode) {
	case DEV_REC_DEFERRED:
		rc = engine_record_deferred(e, rec);
		break;
	case DEV_REC_GROUPED:
		rc = engine_record_grouped(e, rec);
		break;
	default:
		rc = engine_record_json(e, rec, mode == DEV_REC_SECURITY);
		break;
	}
	json_object_put(rec);
	return rc;
}

int engine_record(struct engine *e, const char *action, const char *outcome,
		  const struct dev_entry *d, const char *reason, bool security)
{
	return device_record(e, action, outcome, d, reason,
			     security ? DEV_REC_SECURITY : DEV_REC_DURABLE);
}

int engine_observe(struct engine *e, const char *action, const struct dev_entry *d,
		   const char *reason)
{
	return device_record(e, action, "success", d, reason, DEV_REC_DEFERRED);
}

int engine_record_after(struct engine *e, const char *action, const struct dev_entry *d,
			const char *reason)
{
	return device_record(e, action, "success", d, reason, DEV_REC_GROUPED);
}

struct json_object *engine_observation(const char *action, const struct dev_entry *d,
				       const char *reason)
{
	return device_json(action, "success", d, reason);
}

int engine_record_observed(struct engine *e, struct json_object *seen, const char *action,
			   const char *outcome, const struct dev_entry *d, const char *reason)
{
	struct json_object *rec;
	int rc;

	if (seen == NULL) /* the observation could not be made: the record alone */
		return engine_record(e, action, outcome, d, reason, false);
	if ((rec = device_json(action, outcome, d, reason)) == NULL) {
		json_object_put(seen);
		return -ENOMEM;
	}
	rc = engine_record_pair(e, seen, rec);
	json_object_put(seen);
	json_object_put(rec);
	return rc;
}

int engine_hooks_add(const struct engine_hooks *h)
{
	if (n_hooks == MAX_FEATURES)
		return -ENOSPC;
	hooks[n_hooks++] = h;
	return 0;
}

void engine_on_decided(struct engine *e, struct dev_entry *d)
{
	for (size_t i = 0; i < n_hooks; i++)
		if (hooks[i]->on_decided != NULL)
			hooks[i]->on_decided(e, d);
}

void engine_on_disk(struct engine *e, struct udev_device *disk, bool changed)
{
	for (size_t i = 0; i < n_hooks; i++)
		if (hooks[i]->on_disk != NULL)
			hooks[i]->on_disk(e, disk, changed);
}

void engine_on_access(struct engine *e)
{
	for (size_t i = 0; i < n_hooks; i++)
		if (hooks[i]->on_access != NULL)
			hooks[i]->on_access(e);
}

void engine_on_tick(struct engine *e)
{
	for (size_t i = 0; i < n_hooks; i++)
		if (hooks[i]->on_tick != NULL)
			hooks[i]->on_tick(e);
}

int64_t engine_next_due(const struct engine *e)
{
	int64_t first = 0;

	for (size_t i = 0; i < n_hooks; i++) {
		int64_t due = hooks[i]->next_due != NULL ? hooks[i]->next_due(e) : 0;
		if (due != 0 && (first == 0 || due < first))
			first = due;
	}
	return first;
}

void engine_on_due(struct engine *e, int64_t now)
{
	for (size_t i = 0; i < n_hooks; i++) {
		if (hooks[i]->next_due == NULL || hooks[i]->on_due == NULL)
			continue;
		int64_t due = hooks[i]->next_due(e);
		if (due != 0 && due <= now)
			hooks[i]->on_due(e);
	}
}

void engine_device_remove(struct engine *e, struct dev_entry *d, const char *reason)
{
	/* A medium outside USB has no helpers, grant or council mark: only its record. */
	for (size_t i = 0; !d->medium && i < n_hooks; i++)
		if (hooks[i]->on_leaving != NULL)
			hooks[i]->on_leaving(e, d);
	engine_record_after(e, "device-removed", d, reason);
	for (size_t i = 0; !d->medium && i < n_hooks; i++)
		if (hooks[i]->on_removed != NULL)
			hooks[i]->on_removed(e, d);
	engine_forget(e, d);
}
