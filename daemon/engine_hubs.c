/*
 * engine_hubs.c - the hashes of hubs the engine already read, so that deciding a device
 * does not read its hub's three files again for usb.parent_hash (they are on the gate's
 * path). A hub the engine decided has its hash in its device entry, which its removal drops;
 * a root hub is never decided, so its hash is kept here from the first device read behind
 * it until the root hub's own removal, or until a rescan (after uevents may have been
 * lost). Linked by the engine; names come from the kernel's uevents and sysfs paths.
 */
#include "engine_hubs.h"

#include <stdio.h>
#include <string.h>

#include "usbdev.h"

#define EHUBS_ROOTS 32

static struct {
	char name[64];
	char hash[48];
} roots[EHUBS_ROOTS];

const char *ehubs_hash(struct engine *e, const char *syspath)
{
	const char *end = strrchr(syspath, '/'), *start = end;
	char name[64];

	if (end == NULL || end == syspath)
		return NULL;
	while (start > syspath && start[-1] != '/')
		start--;
	if (end == start || (size_t)(end - start) >= sizeof(name))
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)(end - start), start);
	if (usbdev_is_root_hub_name(name)) {
		for (size_t i = 0; i < EHUBS_ROOTS; i++)
			if (roots[i].hash[0] != '\0' && strcmp(roots[i].name, name) == 0)
				return roots[i].hash;
		return NULL;
	}
	const struct dev_entry *hub = engine_find(e, name);
	return hub != NULL && !hub->medium && hub->id.hash[0] != '\0' ? hub->id.hash : NULL;
}

void ehubs_keep(const struct usbdev *id)
{
	size_t free_slot = EHUBS_ROOTS;

	if (!usbdev_is_root_hub_name(id->parent_sysname) || id->parent_hash[0] == '\0' ||
	    strlen(id->parent_sysname) >= sizeof(roots[0].name))
		return;
	for (size_t i = 0; i < EHUBS_ROOTS; i++) {
		if (roots[i].hash[0] == '\0') {
			if (free_slot == EHUBS_ROOTS)
				free_slot = i;
		} else if (strcmp(roots[i].name, id->parent_sysname) == 0) {
			free_slot = i;
			break;
		}
	}
	if (free_slot == EHUBS_ROOTS)
		return; /* more root hubs than kept: the others are read each time */
	snprintf(roots[free_slot].name, sizeof(roots[free_slot].name), "%s", id->parent_sysname);
	snprintf(roots[free_slot].hash, sizeof(roots[free_slot].hash), "%s", id->parent_hash);
}

void ehubs_forget(const char *sysname)
{
	for (size_t i = 0; i < EHUBS_ROOTS; i++)
		if (sysname == NULL || strcmp(roots[i].name, sysname) == 0)
			roots[i].name[0] = roots[i].hash[0] = '\0';
}
