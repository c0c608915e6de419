/*
 * engine_device.h - the engine's record of a plugged device, its one state machine
 * (docs/architecture.md, "Device state machine"), and its life: the records written
 * about it, the features' hooks run at its events, its removal (engine_device.c,
 * engine_device_life.c). Linked by the engine. Features ask the record to change state
 * (device_allow, device_deny, device_reject); they never write the decision fields
 * themselves. The device strings inside are device-written.
 */
#ifndef PCL_DAEMON_ENGINE_DEVICE_H
#define PCL_DAEMON_ENGINE_DEVICE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "usbdev.h"

#define ENGINE_MAX_DEVICES 256

enum dev_state {
	DEV_PENDING, /* identity read, decision not yet taken */
	DEV_ALLOWED,
	DEV_BLOCKED,
	DEV_REJECTED,
};

/* What moves a device from one state to another (the table in engine_device.c). */
enum dev_event {
	DEV_EV_ALLOW,  /* the rules, an exception, an owed wipe or the owner let it in */
	DEV_EV_DENY,   /* the rules block it, or its access is taken away: always defined */
	DEV_EV_REJECT, /* the rules reject it: removed from the bus */
};

struct dev_entry {
	bool used;
	bool medium;	  /* a non-USB removable medium (block layer) */
	struct usbdev id; /* for a medium: sysname, product, manufacturer, serial */
	uint16_t busnum, devnum;
	char bus[8]; /* "usb", "mmc", "ata" */
	/* The decision: written only through device_move and its wrappers below. */
	enum dev_state state;
	char rule[512]; /* "file:line: text" or "no-match" or a setting */
	uint64_t iface_allow;
};

struct engine;
struct udev_device;

/* The device table. */
struct dev_entry *engine_find(struct engine *e, const char *sysname);
struct dev_entry *engine_add(struct engine *e, const char *sysname);
void engine_forget(struct engine *e, struct dev_entry *d);
/* The next device in use from slot *i on (advancing *i past it), or NULL at the end. */
const struct dev_entry *engine_device_next(const struct engine *e, size_t *i);
/* d's slot in the table, 0 to ENGINE_MAX_DEVICES - 1. What a feature holds about a device
 * (a grant, an owed wipe, a council mark) it keeps in an array of its own indexed by the
 * slot, cleared by its on_removed hook: found through the record, never by name. */
size_t engine_device_slot(const struct dev_entry *d);
/* The device in slot i, or NULL when the slot is free (or i is out of range). */
struct dev_entry *engine_device_in_slot(struct engine *e, size_t i);
/* A reference to a device's record that may outlive it (a helper still stopping after
 * its device went): the record's slot and the device's bus position. */
struct dev_slot {
	size_t slot;
	uint16_t busnum, devnum;
};
struct dev_slot engine_device_ref(const struct dev_entry *d);
/* Whether d is the device r refers to. */
bool engine_device_is(const struct dev_entry *d, struct dev_slot r);
/* The device r refers to, or NULL once it is gone (its slot free, or another device's). */
struct dev_entry *engine_device_of(struct engine *e, struct dev_slot r);

/* Move d by event: 0, or -EPERM for a move the table does not define (logged, d left as
 * it was). */
int device_move(struct dev_entry *d, enum dev_event ev);
/* Let d in with the interfaces of mask ifaces; why (may be NULL: kept) is its rule text. */
int device_allow(struct dev_entry *d, uint64_t ifaces, const char *why);
/* Take d's access away (every state may be denied): no interface allowed. */
int device_deny(struct dev_entry *d, const char *why);
/* Reject d (a device the rules want off the bus). */
int device_reject(struct dev_entry *d, const char *why);
/* The name of a state as records and clients see it ("deciding", "allowed", ...). */
const char *device_state_name(enum dev_state s);

/* JSON description of a device (identity, state, rule), for records and clients. */
struct json_object *engine_device_json(const struct dev_entry *d);

/* Record an event in the audit trail (fills the device fields from d when non-NULL),
 * and tell watching clients. 0 or negative errno: the caller then fails closed. */
int engine_record(struct engine *e, const char *action, const char *outcome,
		  const struct dev_entry *d, const char *reason, bool security);
/* Like engine_record, for an observation that grants nothing by itself (a medium found
 * encrypted, a helper's exit): written now, durable with the next record's disk sync. */
int engine_observe(struct engine *e, const char *action, const struct dev_entry *d,
		   const char *reason);
/* An observation of d as it is now (a device seen), recorded later with the record that
 * follows it (engine_record_observed); NULL when out of memory. */
struct json_object *engine_observation(const char *action, const struct dev_entry *d,
				       const char *reason);
/* engine_record (not security) with the observation seen (taken over; NULL: none) as the
 * record just before it: both reach the trail in one write and one disk sync, so a device's
 * insertion and its decision cost one write before access. */
int engine_record_observed(struct engine *e, struct json_object *seen, const char *action,
			   const char *outcome, const struct dev_entry *d, const char *reason);
/* Like engine_record, for a fact that has already happened and grants nothing (a device
 * removed): written now, made durable by the trail's flusher thread within its group
 * window, so the engine's main thread never waits for the disk on it. */
int engine_record_after(struct engine *e, const char *action, const struct dev_entry *d,
			const char *reason);

/* The dispatch table: what a feature does at a device's events. The loop registers each
 * feature's hooks once at set-up (engine_hooks_add); every event runs them in that
 * order. A member may be NULL. Lower modules (the gate, disks) call the engine_on_*
 * functions below, never a feature: that is what keeps the engine's modules free of
 * cycles (tests/arch/engine_cycles.py). */
struct engine_hooks {
	const char *name; /* the feature, for the log */
	/* d's decision by the rules was recorded and d is not rejected: a feature may let
	 * it in after all (an owed wipe). */
	void (*on_decided)(struct engine *e, struct dev_entry *d);
	/* A disk appeared ("add") or was probed again (changed) under a USB device. */
	void (*on_disk)(struct engine *e, struct udev_device *disk, bool changed);
	/* A device's access changed (let in, set read-only): the mount table is to be looked
	 * at again (a medium mounted before the change). */
	void (*on_access)(struct engine *e);
	/* d is going: before its removal is recorded (its helpers stop), then after it
	 * (its grant, owed wipe and marks end); d is forgotten once all have run. */
	void (*on_leaving)(struct engine *e, const struct dev_entry *d);
	void (*on_removed)(struct engine *e, const struct dev_entry *d);
	/* Periodic (the engine's clock). */
	void (*on_tick)(struct engine *e);
	/* Timed to the second: the wall-clock time (s) at which the feature next has
	 * something due (a grant's end), 0 for nothing; on_due runs once it has come. */
	int64_t (*next_due)(const struct engine *e);
	void (*on_due)(struct engine *e);
};

/* Add a feature's hooks (kept, not copied): 0, or -ENOSPC when the table is full. */
int engine_hooks_add(const struct engine_hooks *h);
/* Run every feature's hook for the event. */
void engine_on_decided(struct engine *e, struct dev_entry *d);
void engine_on_disk(struct engine *e, struct udev_device *disk, bool changed);
void engine_on_access(struct engine *e);
void engine_on_tick(struct engine *e);
/* The earliest next_due of the features (0: none), and on_due for those whose time (now,
 * wall-clock seconds) has come. */
int64_t engine_next_due(const struct engine *e);
void engine_on_due(struct engine *e, int64_t now);

/* d is gone (reason: NULL, or why it is known gone): its features' on_leaving hooks run,
 * the removal is recorded, their on_removed hooks run, and its record is forgotten. The
 * one place a device leaves the table. */
void engine_device_remove(struct engine *e, struct dev_entry *d, const char *reason);

#endif
