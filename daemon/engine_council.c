/*
 * engine_council.c - the council's own sticks must be encrypted: with `council-sticks =
 * luks2` in the council profile, a disk of a USB device let in by a rule (a registered
 * council stick, not an exception) is used read-write only when it is a LUKS2
 * container. Anything else is set read-only at the block layer (the parent's
 * IPC_BLOCK_READONLY, as for a read-only exception) and `device-read-only` is recorded
 * with the reason, which `portcullis notify` shows to the user.
 * Linked by the engine. What the disk holds comes from udev's own probe of it (the blkid
 * builtin that udevd runs on every block device: ID_FS_TYPE, ID_FS_VERSION), so no
 * process of ours parses the medium's header; those strings are only compared. A disk
 * udev did not probe counts as not encrypted (fail closed).
 * `device-read-only` is recorded once per arrival of the stick: the sticks marked are
 * kept in state-dir/council-read-only (boot id, bus position and USB hash, engine-owned),
 * so that a restart of the service with the stick still in sets it read-only again
 * without a second record.
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "engine_approval.h"
#include "engine_council.h"
#include "engine_usb.h"
#include "fileio.h"
#include "ipc.h"
#include "log.h"

#define MARKS_FILE "council-read-only"

/* USB devices whose disk was set read-only here, in the slot of the device's record
 * (engine_device_slot), with its bus position and hash; cleared on removal. */
struct mark {
	bool set;
	uint16_t busnum, devnum;
	char hash[64];
};
static struct mark ro[ENGINE_MAX_DEVICES];
/* The marks the last run of the engine kept, read once at the first disk: a stick still
 * in since then (same boot, bus position and hash) is the same arrival. Forgotten at the
 * first tick, once the disks present at the start have been seen: a later arrival is a
 * new one whatever its bus position. */
static struct mark before[ENGINE_MAX_DEVICES];
static bool before_read;
static char boot_id[40];

static void marks_path(struct engine *e, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", engine_conf(e)->state_dir, MARKS_FILE);
}

static void read_marks(struct engine *e)
{
	char path[CONF_PATH_MAX + 32], *buf = NULL, *save = NULL;
	size_t n = 0, k = 0;

	before_read = true;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (f == NULL || fgets(boot_id, sizeof(boot_id), f) == NULL)
		boot_id[0] = '\0';
	if (f != NULL)
		fclose(f);
	boot_id[strcspn(boot_id, "\n")] = '\0';
	marks_path(e, path, sizeof(path));
	int rc = pcl_read_file(path, 64 * 1024, 0, &buf, &n);
	if (rc != 0) {
		if (rc != -ENOENT)
			log_warn("%s: %s: the sticks marked read-only are recorded again", path,
				 strerror(-rc));
		return;
	}
	for (char *l = strtok_r(buf, "\n", &save); l != NULL && k < ENGINE_MAX_DEVICES;
	     l = strtok_r(NULL, "\n", &save)) {
		char boot[40], hash[64];
		unsigned bus, dev;
		if (sscanf(l, "%39s %u %u %63s", boot, &bus, &dev, hash) != 4 ||
		    boot_id[0] == '\0' || strcmp(boot, boot_id) != 0 || bus > UINT16_MAX ||
		    dev > UINT16_MAX)
			continue; /* another boot's, or not ours: not this arrival */
		before[k] =
		    (struct mark){.set = true, .busnum = (uint16_t)bus, .devnum = (uint16_t)dev};
		snprintf(before[k++].hash, sizeof(before[0].hash), "%s", hash);
	}
	free(buf);
}

/* The marks in force, for the next run; a failure only costs a second record. */
static void write_marks(struct engine *e)
{
	static char buf[ENGINE_MAX_DEVICES * 128];
	char path[CONF_PATH_MAX + 32];
	size_t len = 0;

	if (boot_id[0] == '\0')
		return;
	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++)
		if (ro[i].set)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %u %u %s\n",
						boot_id, ro[i].busnum, ro[i].devnum, ro[i].hash);
	marks_path(e, path, sizeof(path));
	int rc = pcl_write_file_atomic(path, buf, len, 0600);
	if (rc != 0)
		log_warn("%s: cannot be written: %s", path, strerror(-rc));
}

/* Whether d was marked by the last run of the engine, in this boot, and is still in. */
static bool marked_before(const struct dev_entry *d)
{
	for (size_t i = 0; i < ENGINE_MAX_DEVICES; i++)
		if (before[i].set && before[i].busnum == d->busnum &&
		    before[i].devnum == d->devnum && strcmp(before[i].hash, d->id.hash) == 0) {
			before[i].set = false;
			return true;
		}
	return false;
}

bool engine_council_read_only(const struct dev_entry *d)
{
	size_t i = d != NULL ? engine_device_slot(d) : 0;

	return d != NULL && ro[i].set && ro[i].busnum == d->busnum && ro[i].devnum == d->devnum;
}

static void council_removed(struct engine *e, const struct dev_entry *d)
{
	if (!engine_council_read_only(d))
		return;
	ro[engine_device_slot(d)].set = false;
	write_marks(e);
}

static bool is_luks2(struct udev_device *disk)
{
	const char *type = udev_device_get_property_value(disk, "ID_FS_TYPE");
	const char *version = udev_device_get_property_value(disk, "ID_FS_VERSION");

	return type != NULL && version != NULL && strcmp(type, "crypto_LUKS") == 0 &&
	       strcmp(version, "2") == 0;
}

static void council_disk(struct engine *e, struct udev_device *disk, bool changed)
{
	struct udev_device *usb =
	    udev_device_get_parent_with_subsystem_devtype(disk, "usb", "usb_device");
	const char *owner = usb ? udev_device_get_sysname(usb) : NULL;
	const char *name = udev_device_get_sysname(disk);
	struct dev_entry *d = owner ? engine_find(e, owner) : NULL;
	struct ipc_msg req = {.type = IPC_BLOCK_READONLY};
	char reason[256];
	int rc;

	if (d == NULL || name == NULL || d->state != DEV_ALLOWED || !eappr_council_luks2() ||
	    eappr_granted(d) || ipc_name_valid(name, IPC_NAME_MAX) != 0 ||
	    (changed && engine_council_read_only(d)))
		return;
	if (is_luks2(disk)) {
		/* Once per disk: opening and closing the container makes "change" events. */
		snprintf(reason, sizeof(reason), "%s is a LUKS2 container: read-write", name);
		if (!changed)
			engine_observe(e, "medium-encrypted", d, reason);
		return;
	}
	snprintf(req.u.readonly.name, sizeof(req.u.readonly.name), "%s", name);
	snprintf(req.u.readonly.dev.name, sizeof(req.u.readonly.dev.name), "%s", owner);
	req.u.readonly.dev.busnum = d->busnum;
	req.u.readonly.dev.devnum = d->devnum;
	rc = engine_request(e, &req);
	if (rc != 0) {
		/* Fail closed: a plain council stick that cannot be made read-only is blocked. */
		snprintf(reason, sizeof(reason),
			 "%s is not an encrypted (LUKS2) council stick and could not be set "
			 "read-only (%s): access withdrawn",
			 name, strerror(-rc));
		log_err("%s: %s", owner, reason);
		engine_record(e, "device-read-only", "failure", d, reason, true);
		engine_deny_device(e, d, "a plain council stick that could not be set read-only");
		return;
	}
	struct mark *m = &ro[engine_device_slot(d)];
	*m = (struct mark){.set = true, .busnum = d->busnum, .devnum = d->devnum};
	snprintf(m->hash, sizeof(m->hash), "%s", d->id.hash);
	if (!before_read)
		read_marks(e);
	if (marked_before(d)) {
		/* The service restarted with the stick in: its arrival was recorded. */
		log_info("%s: %s set read-only again (a plain council stick)", owner, name);
	} else {
		snprintf(reason, sizeof(reason),
			 "the council's own sticks must be encrypted (LUKS2) and %s is not: it is "
			 "read-only",
			 name);
		engine_record(e, "device-read-only", "success", d, reason, true);
	}
	write_marks(e);
	/* BLKROSET does not reach a filesystem already mounted read-write. */
	engine_on_access(e);
}

static void council_tick(struct engine *e)
{
	if (!before_read)
		read_marks(e); /* the boot id, for the marks this run keeps */
	memset(before, 0, sizeof(before));
}

const struct engine_hooks engine_council_hooks = {
    .name = "council",
    .on_disk = council_disk,
    .on_removed = council_removed,
    .on_tick = council_tick,
};
